#!/usr/bin/env bash
# Makes a Debian trixie root filesystem holding GStreamer (>= 1.24, for
# unixfdsink/unixfdsrc, which bookworm's 1.22 lacks) and a C compiler with
# GStreamer's headers, for the side-by-side benchmarks in bench/ (cases 8-10).
# Idempotent: once built it prints the root's path and exits at once.
#
#   bash scripts/gst-rootfs.sh          # prints the root's path on stdout
#
# The root lives in ${DMABUF_VM_CACHE:-~/.cache/dmabuf-vm}/gst-trixie (never in
# the repository), made with debootstrap (installed with apt if missing, as
# root) from the Debian mirror the host's own apt sources use, or
# DMABUF_VM_MIRROR; then the packages below are installed with apt inside it.
# A stamp file records the package list and the mirror; a change to either
# rebuilds. DMABUF_VM_REFRESH=1 rebuilds anyway. Needs root (debootstrap and
# chroot). Measured on the 2-core development machine: see bench/README.md.
#
# Programs run inside with `chroot "$root" ...`; in the project's VM (which
# sees the host's / read-only over 9p) the same path is there, and
# bench/run.mjs mounts a tmpfs over its /tmp before chrooting.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
root=$cache/gst-trixie
packages=(
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gcc libc6-dev pkg-config
)

log() { printf 'gst-rootfs: %s\n' "$*" >&2; }
die() { printf 'gst-rootfs: error: %s\n' "$*" >&2; exit 1; }

# ---- the Debian mirror: the same as the VM's (scripts/vm/debian.sh) ---------
# shellcheck source=vm/debian.sh
. "$here/vm/debian.sh"
mirror=$(debian_mirror)

want_stamp="trixie ${packages[*]} $mirror"
is_built() {
  [ -z "${DMABUF_VM_REFRESH:-}" ] && [ -x "$root/usr/bin/gst-launch-1.0" ] &&
    [ "$(cat "$root/.dmabuf-stamp" 2>/dev/null)" = "$want_stamp" ]
}
if is_built; then
  echo "$root"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "building the root filesystem needs root (debootstrap, chroot); run: sudo bash $0"
need_debootstrap

mkdir -p "$cache"
exec 9>"$cache/gst-trixie.lock"
flock 9
if is_built; then echo "$root"; exit 0; fi # another run finished while we waited

start=$(date +%s)
tmp=$root.tmp
rm -rf "$tmp"
log "debootstrap trixie (minbase) from $mirror into $tmp"
debootstrap --variant=minbase --keyring="$keyring" trixie "$tmp" "$mirror" >&2 ||
  die "debootstrap failed (its log: $tmp/debootstrap/debootstrap.log)"

# apt inside the new root, in a private mount namespace so that /proc and
# /dev vanish with it whatever happens.
log "installing ${packages[*]}"
unshare --mount --propagation private env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive ROOT="$tmp" PKGS="${packages[*]}" bash -euc '
  mount -t proc proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  chroot "$ROOT" apt-get update -q
  chroot "$ROOT" apt-get install -y -q --no-install-recommends $PKGS
  chroot "$ROOT" apt-get clean
' >&2 || die "apt-get install inside the root failed"
rm -rf "$tmp/var/lib/apt/lists/"*
chroot "$tmp" gst-inspect-1.0 unixfdsink >/dev/null 2>&1 ||
  die "the new root's GStreamer has no unixfdsink"
echo "$want_stamp" >"$tmp/.dmabuf-stamp"
rm -rf "$root"
mv "$tmp" "$root"
log "built $root: $(du -sh "$root" | cut -f1) in $(($(date +%s) - start)) s, $(chroot "$root" gst-launch-1.0 --version | sed -n 's/^GStreamer //p')"
echo "$root"
