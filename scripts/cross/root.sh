#!/usr/bin/env bash
# Makes a Debian forky root filesystem that cross-builds the binding for
# aarch64-unknown-linux-gnu and armv7-unknown-linux-gnueabihf from Debian's
# own packages (rustc and cargo 1.97, libstd-rust-dev for arm64 and armhf,
# the two cross gcc's and libc6-dev): no toolchain download. The host's
# rustup toolchain has no ARM standard library.
# Idempotent: once built it prints the root's path and exits at once.
#
#   bash scripts/cross/root.sh     # prints the root's path on stdout
#
# The root lives in ${DMABUF_VM_CACHE:-~/.cache/dmabuf-vm}/cross-forky, made
# with debootstrap from the Debian mirror the host's own apt sources use (or
# DMABUF_VM_MIRROR), as scripts/gst-rootfs.sh makes its own. A stamp records
# the package list and the mirror; a change to either rebuilds;
# DMABUF_VM_REFRESH=1 rebuilds anyway. Needs root (debootstrap, chroot).
# Measured on the 2-core development machine (2026-12-05): 30 s of
# debootstrap and 62 s of apt, 2.2 GB.
#
# forky's Release file may be past its Valid-Until (a mirror that serves a
# snapshot): apt inside is told not to check it; the packages are still
# verified against Debian's keyring.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
root=$cache/cross-forky
packages=(
  rustc cargo gcc libc6-dev ca-certificates
  libstd-rust-dev:arm64 gcc-aarch64-linux-gnu libc6-dev:arm64
  libstd-rust-dev:armhf gcc-arm-linux-gnueabihf libc6-dev:armhf
)

log() { printf 'cross-root: %s\n' "$*" >&2; }
die() { printf 'cross-root: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../vm/debian.sh
. "$here/vm/debian.sh"
mirror=$(debian_mirror)

want_stamp="forky ${packages[*]} $mirror"
is_built() {
  [ -z "${DMABUF_VM_REFRESH:-}" ] && [ -x "$root/usr/bin/cargo" ] &&
    [ "$(cat "$root/.dmabuf-stamp" 2>/dev/null)" = "$want_stamp" ]
}
if is_built; then echo "$root"; exit 0; fi

[ "$(id -u)" = 0 ] || die "building the root filesystem needs root (debootstrap, chroot); run: sudo bash $0"
need_debootstrap

mkdir -p "$cache"
exec 9>"$cache/cross-forky.lock"
flock 9
if is_built; then echo "$root"; exit 0; fi

start=$(date +%s)
tmp=$root.tmp
rm -rf "$tmp"
# Older debootstraps (bookworm's) have no script named forky: sid's fits every newer suite.
log "debootstrap forky (minbase) from $mirror into $tmp"
debootstrap --variant=minbase --keyring="$keyring" forky "$tmp" "$mirror" /usr/share/debootstrap/scripts/sid >&2 ||
  die "debootstrap failed (its log: $tmp/debootstrap/debootstrap.log)"
echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99dmabuf-no-valid-until"

log "installing ${packages[*]}"
unshare --mount --propagation private env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive ROOT="$tmp" PKGS="${packages[*]}" bash -euc '
  mount -t proc proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  chroot "$ROOT" dpkg --add-architecture arm64
  chroot "$ROOT" dpkg --add-architecture armhf
  chroot "$ROOT" apt-get update -q
  chroot "$ROOT" apt-get install -y -q --no-install-recommends $PKGS
  chroot "$ROOT" apt-get clean
' >&2 || die "apt-get install inside the root failed"
rm -rf "$tmp/var/lib/apt/lists/"*
for t in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
  [ -d "$tmp/usr/lib/rustlib/$t" ] || die "the new root has no Rust standard library for $t"
done
echo "$want_stamp" >"$tmp/.dmabuf-stamp"
rm -rf "$root"
mv "$tmp" "$root"
log "built $root: $(du -sh "$root" | cut -f1) in $(($(date +%s) - start)) s, $(chroot "$root" rustc --version)"
echo "$root"
