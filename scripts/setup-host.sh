#!/usr/bin/env bash
# Installs what the build and the tests need on a Debian host, idempotently:
# a C compiler and libdrm's headers (the ioctl-number check), node modules,
# and the VM tier's qemu, busybox and kernel (scripts/vm/setup.sh).
# Not root, or not Debian: prints what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
[ -f /usr/include/libdrm/drm.h ] || need+=(libdrm-dev)
[ -f /usr/include/linux/dma-buf.h ] || need+=(linux-libc-dev)
# vgem_drm.h is in no libdrm package: the ioctl-number check reads it from
# the kernel's uapi headers.
compgen -G '/usr/src/linux-headers-*/include/uapi/drm/vgem_drm.h' >/dev/null || need+=(linux-headers-amd64)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing packages: ${need[*]} (install them, e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }
command -v node >/dev/null || { echo "node not found: install Node.js 20 or newer" >&2; exit 1; }
[ -x node_modules/.bin/napi ] || npm install --no-audit --no-fund   # not npm ci: see .ci/run
bash scripts/vm/setup.sh
# Mesa 25's lavapipe (software Vulkan) for the Vulkan tests, from bookworm-backports.
bash scripts/lavapipe.sh
