#!/usr/bin/env bash
# Prepares what scripts/vm/run.sh boots, idempotently:
#   1. host tools: qemu-system-x86_64 (qemu-system-x86), and while building,
#      depmod/modprobe (kmod) and xz (xz-utils); installed with apt when run
#      as root, otherwise it names what to install and fails;
#   2. Debian trixie's kernel (the linux-image-6.12.*-amd64 package that
#      linux-image-amd64 depends on) and busybox-static, fetched with apt
#      through a private sources list, so the host's apt setup is untouched;
#   3. a small busybox initramfs holding scripts/vm/init and the modules for
#      9p, vgem and vivid (with everything they depend on).
# All of it lives in ${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}, never in the
# repository. When everything is already there it does nothing, quickly.
# DMABUF_VM_REFRESH=1 fetches trixie's current kernel again and rebuilds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
mirror=${DMABUF_VM_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
vm=$cache/vm

log() { printf 'dmabuf-vm setup: %s\n' "$*" >&2; }
die() { printf 'dmabuf-vm setup: error: %s\n' "$*" >&2; exit 1; }
# Anything else that fails unexpectedly still says where.
trap 'die "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# What the built VM depends on: this script, the guest's init and the mirror.
# A change to any of them rebuilds the initramfs (but reuses downloaded .debs).
want_stamp=$(cat "$here/setup.sh" "$here/init" | sha256sum | cut -d' ' -f1)-$mirror

is_built() {
  [ -z "${DMABUF_VM_REFRESH:-}" ] &&
    [ -s "$vm/vmlinuz" ] && [ -s "$vm/initramfs.cpio.gz" ] &&
    [ "$(cat "$vm/stamp" 2>/dev/null)" = "$want_stamp" ]
}

# ---- host packages ---------------------------------------------------------
# Only qemu is needed to boot; kmod and xz-utils only to build the initramfs.
missing_packages() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  if ! is_built; then
    { command -v depmod && command -v modprobe; } >/dev/null || need+=(kmod)
    command -v xz >/dev/null || need+=(xz-utils)
    command -v apt-get >/dev/null || die "apt-get not found: this script fetches Debian's kernel with apt (Debian or Ubuntu host needed)"
    command -v dpkg-deb >/dev/null || need+=(dpkg)
    [ -f "$keyring" ] || need+=(debian-archive-keyring)
  fi
  echo "${need[@]}"
}

need=$(missing_packages)
if [ -z "$need" ] && is_built; then
  exit 0 # the fast path: everything is cached
fi

if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing host packages: $need
  install them as root:  apt-get update && apt-get install --no-install-recommends $need"
  fi
  log "installing host packages: $need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  # shellcheck disable=SC2086 # $need is a list of package names
  apt-get install -y -q --no-install-recommends $need >&2 || die "apt-get install $need failed"
  need=$(missing_packages)
  [ -z "$need" ] || die "still missing after apt-get install: $need"
fi

# ---- one builder at a time -------------------------------------------------
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if is_built; then exit 0; fi # another setup.sh finished while we waited

# ---- fetch the kernel and busybox-static from trixie with apt --------------
# A private apt tree: its own sources.list, lists, package cache and an empty
# dpkg status, so neither the host's apt state nor its pinning is touched.
apt_dir=$cache/apt
debs=$cache/debs
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/cache" "$apt_dir/empty.d" "$debs"
: >>"$apt_dir/status"
echo "deb [signed-by=$keyring] $mirror trixie main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=$apt_dir/empty.d"
  -o "Dir::Etc::preferences=$apt_dir/empty.d/preferences"
  -o "Dir::Etc::preferencesparts=$apt_dir/empty.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::State::extended_states=$apt_dir/extended_states"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::archives=$apt_dir/archives"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures=amd64"
  -o "Acquire::Languages=none"
  # The cache is usually under a private $HOME that apt's _apt user cannot
  # write to; download as the caller instead of warning about it.
  -o "APT::Sandbox::User=$(id -un)"
)

if [ -n "${DMABUF_VM_REFRESH:-}" ] || [ ! -s "$debs/kernel.deb" ] || [ ! -s "$debs/busybox-static.deb" ]; then
  log "fetching trixie's package lists from $mirror"
  if ! apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1; then
    cat "$apt_dir/update.log" >&2
    die "apt-get update for trixie failed (see above; is $mirror reachable, and does $keyring hold Debian's archive keys?)"
  fi
  # linux-image-amd64 is a metapackage; its Depends names the real kernel.
  kpkg=$(apt-cache "${apt_opts[@]}" show --no-all-versions linux-image-amd64 |
    sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -n1)
  [ -n "$kpkg" ] || die "could not find the kernel package that trixie's linux-image-amd64 depends on"
  log "downloading $kpkg and busybox-static"
  rm -rf "$debs/new" && mkdir "$debs/new"
  (cd "$debs/new" && apt-get "${apt_opts[@]}" -q download "$kpkg" busybox-static) >"$apt_dir/download.log" 2>&1 || {
    cat "$apt_dir/download.log" >&2
    die "apt-get download $kpkg busybox-static failed"
  }
  mv "$debs/new/${kpkg}_"*.deb "$debs/kernel.deb"
  mv "$debs/new/busybox-static_"*.deb "$debs/busybox-static.deb"
  echo "$kpkg" >"$debs/kernel.name"
  rm -rf "$debs/new"
fi

# ---- unpack and build the initramfs ----------------------------------------
work=$cache/build
rm -rf "$work"
mkdir -p "$work/pkg" "$work/root"
trap 'rm -rf "$work"' EXIT

log "unpacking $(cat "$debs/kernel.name" 2>/dev/null || echo kernel.deb)"
dpkg-deb -x "$debs/kernel.deb" "$work/pkg"
dpkg-deb -x "$debs/busybox-static.deb" "$work/bb"
# Modules sit in /usr/lib/modules (merged /usr) or /lib/modules; depmod -b
# looks under BASE/lib/modules.
if [ ! -d "$work/pkg/lib/modules" ] && [ -d "$work/pkg/usr/lib/modules" ]; then
  ln -s usr/lib "$work/pkg/lib"
fi
kver=$(ls "$work/pkg/lib/modules" | head -n1)
[ -n "$kver" ] && [ -f "$work/pkg/boot/vmlinuz-$kver" ] || die "no kernel image or modules in $debs/kernel.deb"
# The drivers this VM exists for must be built in: warn early if Debian ever
# changes that, rather than letting the tests fail obscurely.
for opt in UDMABUF DMABUF_HEAPS DMABUF_HEAPS_SYSTEM SYNC_FILE DEVTMPFS; do
  grep -q "^CONFIG_$opt=y" "$work/pkg/boot/config-$kver" || log "warning: kernel $kver lacks CONFIG_$opt=y"
done
depmod -b "$work/pkg" "$kver"

# Modules to load in the guest, in order, each after what it depends on.
# modprobe -C /dev/null: ignore the host's modprobe.d; -d/-S: the unpacked tree.
mods=(virtio_pci 9pnet_virtio 9p vgem vivid)
mkdir -p "$work/root/lib/modules"
: >"$work/root/lib/modules/load"
for m in "${mods[@]}"; do
  modprobe -C /dev/null -d "$work/pkg" -S "$kver" --show-depends "$m" >"$work/deps" ||
    die "kernel $kver has no module $m"
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue # "builtin NAME": nothing to load
    name=$(basename "$path")
    name=${name%%.ko*}
    grep -qx "$name" "$work/root/lib/modules/load" && continue
    # busybox's insmod may not read compressed modules: store them plain
    # (the initramfs is compressed as a whole anyway).
    case $path in
      *.ko.xz) xz -dc "$path" ;;
      *.ko.zst) zstd -dc "$path" ;;
      *.ko.gz) gzip -dc "$path" ;;
      *.ko) cat "$path" ;;
      *) die "unexpected module file $path" ;;
    esac >"$work/root/lib/modules/$name.ko"
    echo "$name" >>"$work/root/lib/modules/load"
  done <"$work/deps"
done

mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc" "$work/root/sys" "$work/root/mnt"
bb=$(find "$work/bb" -path "*bin/busybox" -type f | head -n1)
[ -n "$bb" ] || die "no busybox binary in $debs/busybox-static.deb"
cp "$bb" "$work/root/bin/busybox"
for applet in sh mount umount mkdir ln cat echo insmod chroot env poweroff sleep ls dmesg; do
  ln -s busybox "$work/root/bin/$applet"
done
cp "$here/init" "$work/root/init"
chmod 755 "$work/root/init"
echo "$kver" >"$work/root/kernel-version"

rm -rf "$cache/vm.new" "$cache/vm.old"
mkdir "$cache/vm.new"
(cd "$work/root" && find . | "$bb" cpio -o -H newc 2>"$work/cpio.log") | gzip -9 >"$cache/vm.new/initramfs.cpio.gz" ||
  die "building the initramfs failed: $(cat "$work/cpio.log")"
cp "$work/pkg/boot/vmlinuz-$kver" "$cache/vm.new/vmlinuz"
echo "$kver" >"$cache/vm.new/kernel-version"
echo "$want_stamp" >"$cache/vm.new/stamp"
[ ! -d "$vm" ] || mv "$vm" "$cache/vm.old"
mv "$cache/vm.new" "$vm"
rm -rf "$cache/vm.old"
log "ready: kernel $kver, modules: $(tr '\n' ' ' <"$work/root/lib/modules/load")"
