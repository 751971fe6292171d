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
# headers), git for dts.spec, Mesa's lavapipe for the Vulkan tests, util-linux
# and mount for the fault and inspection tests, busybox-static for the
# initramfs. The mirror is the host's own apt sources' (or
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
  mesa-vulkan-drivers libvulkan1
)
# armv7's Node.js is Debian's own (scripts/vm/arm.sh says why); arm64's
# comes from the npm registry.
[ "$debarch" != armhf ] || packages+=(nodejs)
root=$cache/rootfs-$debarch

mirror=$(debian_mirror)
want_stamp="forky $debarch ${packages[*]} $mirror"
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
