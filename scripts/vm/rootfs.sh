#!/usr/bin/env bash
# The ARM tiers' guest root filesystem: Debian forky for arm64 or armhf,
# made on the host without running any ARM code. `debootstrap --foreign`
# resolves and downloads the packages and unpacks the essential ones; this
# script unpacks the rest (dpkg-deb -x) and does by hand the little that
# their maintainer scripts would do and the tests need: /etc/passwd and
# /etc/group from base-passwd, and the update-alternatives links the
# packages declare (awk, cc, ...). No package is configured: the guest
# mounts the tree read-only and runs the test suite, nothing else. (The
# configuring second stage, run inside the ARM VM under TCG, took over 20
# minutes for arm64 and was not half done.)
#
#   bash scripts/vm/rootfs.sh arm64|armv7    # prints the root's path
#
# forky, as the cross-build root (scripts/cross/root.sh): the test binaries
# built there link against the same glibc. The packages are what the VM
# suite runs besides node and the test binaries: bash and coreutils for
# scripts/vm-tier.sh, python3 for the hostile peers, gcc for the C-header
# test (with libdrm-dev: it compares the ioctl numbers with the target's C
# headers), git for dts.spec, the Vulkan loader, util-linux and mount for the
# fault and inspection tests, busybox-static for the initramfs.
#
# Mesa's lavapipe (the Vulkan tests' device) comes from trixie, not forky:
# trixie's Mesa 25.0.7 is the release the x86 tiers run (bookworm-backports),
# and forky's Mesa 26.1 crashes on armhf in every command whose entry in its
# command queue is sized too small: vk_cmd_queue_type_sizes adds the size of
# the entry's header struct, 12 bytes there, to the command's own, while
# the union that holds the command starts at offset 16 (it holds 64-bit
# members, 8-byte aligned on 32-bit ARM). Mesa 26's linear allocator then
# puts the next allocation over the command's last field: vkCmdCopyBuffer's
# VkCopyBufferInfo2 copy overwrites its own pointer, a SIGSEGV at once.
# Measured: the Rust Vulkan tests pass 10 of 10 on armhf with trixie's
# Mesa, and crash on the first copy with forky's. Only Mesa and what it
# needs that forky lacks under the same package name (LLVM 19, libxml2's
# old soname) are taken from trixie; the rest of the root is forky's. The mirror is the host's own apt sources' (or
# DMABUF_VM_MIRROR), read the way setup.sh reads it. Needs root.
# Idempotent: prints the path at once when the root is there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
log() { printf 'dmabuf-vm rootfs: %s\n' "$*" >&2; }
die() { printf 'dmabuf-vm rootfs: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=debian.sh
. "$here/debian.sh"

case ${1:-} in
  arm64) debarch=arm64 ;;
  armv7) debarch=armhf ;;
  *) die "usage: scripts/vm/rootfs.sh arm64|armv7" ;;
esac
packages=(
  busybox-static bash coreutils python3 gcc libc6-dev libdrm-dev git mount util-linux procps
  libvulkan1
)
mesa_suite=trixie
# armv7's Node.js is Debian's own (scripts/vm/arm.sh says why); arm64's
# comes from the npm registry.
[ "$debarch" != armhf ] || packages+=(nodejs)
root=$cache/rootfs-$debarch

mirror=$(debian_mirror)
want_stamp="forky $debarch ${packages[*]} mesa-vulkan-drivers/$mesa_suite $mirror"
# Made from these packages and this mirror, by this script.
is_built() {
  [ -z "${DMABUF_VM_REFRESH:-}" ] && [ "$(cat "$root/.dmabuf-stamp" 2>/dev/null)" = "$want_stamp" ]
}
if is_built; then echo "$root"; exit 0; fi

[ "$(id -u)" = 0 ] || die "unpacking the root filesystem needs root (debootstrap); run: sudo bash $0 $1"
need_debootstrap
mkdir -p "$cache"
exec 9>"$root.lock"
flock 9
if is_built; then echo "$root"; exit 0; fi

start=$(date +%s)
tmp=$root.tmp
rm -rf "$tmp"
log "debootstrap --foreign --arch=$debarch forky (minbase) from $mirror into $tmp"
# bookworm's debootstrap has no script named forky: sid's fits every newer suite.
debootstrap --foreign --arch="$debarch" --variant=minbase --keyring="$keyring" \
  --include="$(IFS=,; echo "${packages[*]}")" forky "$tmp" "$mirror" /usr/share/debootstrap/scripts/sid >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  die "debootstrap failed (its output: $root.log; its log: $tmp/debootstrap/debootstrap.log)"
}
log "unpacking the other $(find "$tmp/var/cache/apt/archives" -name '*.deb' | wc -l) packages"
alts=$tmp.alternatives
: >"$alts"
for deb in "$tmp"/var/cache/apt/archives/*.deb; do
  dpkg-deb -x "$deb" "$tmp"
  # "update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...",
  # continued over backslashed lines, in the maintainer scripts.
  dpkg-deb -I "$deb" postinst 2>/dev/null | sed -e ':a' -e '/\\$/{N;s/\\\n//;ba}' |
    grep -oE -- '--(install|slave) +/[^ ]+ +[^ ]+ +/[^ ]+' | awk '{print $2, $4}' >>"$alts" || true
done

# Mesa from $mesa_suite: that suite's debootstrap (download only, into a
# scratch tree) resolves mesa-vulkan-drivers' dependencies; its closure is
# unpacked, stopping at every package forky's root already has by name.
log "adding mesa-vulkan-drivers from $mesa_suite"
mtmp=$root.mesa.tmp
rm -rf "$mtmp"
debootstrap --foreign --arch="$debarch" --variant=minbase --keyring="$keyring" \
  --include=mesa-vulkan-drivers "$mesa_suite" "$mtmp" "$mirror" >>"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  die "debootstrap $mesa_suite (for Mesa) failed (its output: $root.log)"
}
declare -A have=() debs=()
for deb in "$tmp"/var/cache/apt/archives/*.deb; do have[$(dpkg-deb -f "$deb" Package)]=1; done
for deb in "$mtmp"/var/cache/apt/archives/*.deb; do debs[$(dpkg-deb -f "$deb" Package)]=$deb; done
todo=(mesa-vulkan-drivers) taken=()
while [ ${#todo[@]} -gt 0 ]; do
  pkg=${todo[0]}
  todo=("${todo[@]:1}")
  [ -z "${have[$pkg]:-}" ] || continue
  have[$pkg]=1
  deb=${debs[$pkg]:-}
  [ -n "$deb" ] || die "mesa-vulkan-drivers from $mesa_suite needs $pkg, which neither root has"
  dpkg-deb -x "$deb" "$tmp"
  taken+=("$pkg")
  # Depends and Pre-Depends, each alternative's first choice, without versions.
  for dep in $( { dpkg-deb -f "$deb" Depends; dpkg-deb -f "$deb" Pre-Depends; } | tr ',' '\n' |
    sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g'); do
    todo+=("$dep")
  done
done
[ -e "$tmp/usr/share/vulkan/icd.d/lvp_icd.json" ] || die "no lavapipe ICD in the new root"
log "from $mesa_suite: ${taken[*]}"
rm -rf "$mtmp"

# The first package to declare a link wins (debootstrap's order: the
# essential ones first); a link a package ships itself stays.
while read -r link target; do
  [ -e "$tmp$link" ] || [ -L "$tmp$link" ] || [ ! -e "$tmp$target" ] || ln -s "$target" "$tmp$link"
done <"$alts"
rm -f "$alts"
for f in passwd group; do cp "$tmp/usr/share/base-passwd/$f.master" "$tmp/etc/$f"; done
for link in /usr/bin/awk /usr/bin/cc; do [ -e "$tmp$link" ] || die "no $link in the new root: an alternative was not set"; done
rm -rf "$tmp/debootstrap" "$tmp"/var/cache/apt/archives/*.deb
echo "$want_stamp" >"$tmp/.dmabuf-stamp"
rm -rf "$root"
mv "$tmp" "$root"
log "made $root: $(du -sh "$root" | cut -f1) in $(($(date +%s) - start)) s"
echo "$root"
