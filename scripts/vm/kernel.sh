#!/usr/bin/env bash
# Builds the custom test kernel that scripts/vm/run.sh boots with
# DMABUF_VM_KERNEL=custom, idempotently. Debian's kernel lacks what the DVB
# tests need (CONFIG_DVB_MMAP, the vidtv test driver) and SW_SYNC, so:
#   1. build tools (flex bison bc libelf-dev libssl-dev make gcc) are
#      installed with apt when missing (as root; otherwise it names them and
#      fails);
#   2. Debian trixie's linux-source-6.12 is fetched with apt through the
#      private sources list that scripts/vm/setup.sh keeps (same mirror:
#      the host's apt sources, or DMABUF_VM_MIRROR);
#   3. the kernel is configured with `make tinyconfig` plus
#      scripts/vm/kernel.config, `make olddefconfig`, checked (every line of
#      the fragment must have survived), and built (vmlinux, booted through
#      its PVH entry point) with all cores;
#   4. an initramfs with busybox and scripts/vm/init (no modules: everything
#      is built in) goes beside it.
# DMABUF_VM_ARCH=arm64 or armv7 cross-builds the same kernel for the ARM
# tiers (scripts/vm/arm.sh) with Debian's cross gcc: kernel.config with its
# machine section replaced by kernel.<arch>.config, an Image (arm64) or
# zImage (armv7) instead of vmlinux, and the busybox named by
# DMABUF_VM_BUSYBOX (the ARM root filesystem's) in the initramfs.
# The result lives in ${DMABUF_VM_CACHE:-~/.cache/dmabuf-vm}/kernel/<source
# version>-<fragment hash>/, so a new source version or a changed fragment
# builds again (reusing the configured build tree, so only what changed is
# compiled) and nothing else does. It prints that directory on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
srcpkg=linux-source-6.12
arch=${DMABUF_VM_ARCH:-x86_64}
# Per architecture: the kernel's ARCH, the cross compiler's prefix, the make
# target and the file qemu boots. The x86 build keeps the cache directory it
# always had; every architecture shares the unpacked source.
case $arch in
  x86_64) karch=x86_64 cross='' image=vmlinux image_file=vmlinux kroot=$cache/kernel ;;
  arm64) karch=arm64 cross=aarch64-linux-gnu- image=Image image_file=arch/arm64/boot/Image kroot=$cache/kernel-arm64 ;;
  armv7) karch=arm cross=arm-linux-gnueabihf- image=zImage image_file=arch/arm/boot/zImage kroot=$cache/kernel-armv7 ;;
  *) printf 'dmabuf-vm kernel: error: DMABUF_VM_ARCH must be x86_64, arm64 or armv7, not %s\n' "$arch" >&2; exit 1 ;;
esac
src=$cache/kernel/src

log() { printf 'dmabuf-vm kernel: %s\n' "$*" >&2; }
die() { printf 'dmabuf-vm kernel: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=initramfs.sh
. "$here/initramfs.sh"
trap 'die "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# setup.sh provides qemu, the private apt tree (its sources.list names the
# mirror) and busybox-static.deb; it does nothing once they are there.
bash "$here/setup.sh" || die "scripts/vm/setup.sh failed"
apt_dir=$cache/apt
debs=$cache/debs
[ -s "$apt_dir/sources.list" ] && [ -s "$debs/busybox-static.deb" ] ||
  die "setup.sh left no private apt tree in $apt_dir"
busybox=$debs/busybox-static.deb
if [ "$arch" != x86_64 ]; then
  busybox=${DMABUF_VM_BUSYBOX:-}
  [ -x "$busybox" ] || die "DMABUF_VM_BUSYBOX must name a $arch busybox binary (scripts/vm/arm.sh passes the root filesystem's)"
fi
# The same private apt tree as setup.sh: its own lists, cache and an empty
# dpkg status, so the host's apt state is untouched. Its options (apt_opts)
# are read from setup.sh, so that there is one copy of them, rather than
# moved to a shared file: setup.sh's own text is the built VM's stamp, and an
# edit there would rebuild every VM cache.
declare -a apt_opts=()
# shellcheck source=/dev/null
source <(sed -n '/^apt_opts=($/,/^)$/p' "$here/setup.sh")
[ "${#apt_opts[@]}" -gt 0 ] || die "found no apt_opts=( ... ) block in $here/setup.sh"

# ---- the source package ----------------------------------------------------
# Its version, from the private lists (refreshed when the package is not
# known there or DMABUF_VM_REFRESH is set).
candidate() {
  apt-cache "${apt_opts[@]}" show --no-all-versions "$srcpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1
}
mkdir -p "$kroot" "$cache/kernel"
exec 8>"$cache/kernel/lock"
flock 8
version=''
[ -n "${DMABUF_VM_REFRESH:-}" ] || version=$(candidate)
if [ -z "$version" ]; then
  log "updating the private apt lists ($(cat "$apt_dir/sources.list"))"
  apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 || {
    cat "$apt_dir/update.log" >&2
    die "apt-get update failed"
  }
  version=$(candidate)
  [ -n "$version" ] || die "no package $srcpkg in $(cat "$apt_dir/sources.list")"
fi
# The fragment: kernel.config itself for x86, or with its machine section
# (from its "# ---- the machine" line to the next "# ----" line) replaced by
# the architecture's.
if [ "$arch" = x86_64 ]; then
  fragment=$here/kernel.config
else
  fragment=$kroot/kernel.config
  awk -v machine="$here/kernel.$arch.config" '
    /^# ---- the machine/ { skip = 1; while ((getline l < machine) > 0) print l; print ""; next }
    skip && /^# ----/ { skip = 0 }
    !skip' "$here/kernel.config" >"$fragment.new"
  mv "$fragment.new" "$fragment"
fi
fhash=$(sha256sum "$fragment" | cut -c1-16)
out=$kroot/$version-$fhash
# The initramfs depends on init, its shared part (initramfs.sh) and busybox
# only: rebuilt cheaply when they change.
ihash=$(cat "$here/init" "$here/initramfs.sh" "$busybox" | sha256sum | cut -c1-16)

if [ -s "$out/kernel" ] && [ "$(cat "$out/initramfs.stamp" 2>/dev/null)" = "$ihash" ]; then
  echo "$out"
  exit 0 # the fast path: built and current
fi

if [ ! -s "$out/kernel" ]; then
# ---- build tools -----------------------------------------------------------
need=()
tools=(flex:flex bison:bison bc:bc make:make gcc:gcc xz:xz-utils)
case $arch in
  arm64) tools+=(aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu) ;;
  armv7) tools+=(arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf) ;;
esac
for t in "${tools[@]}"; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ -f /usr/include/libelf.h ] || [ -f /usr/include/gelf.h ] || need+=(libelf-dev)
[ -f /usr/include/openssl/opensslv.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing build tools: ${need[*]}
  install them as root:  apt-get update && apt-get install --no-install-recommends ${need[*]}"
  log "installing build tools: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
fi

# ---- fetch and unpack the source (once per version) -----------------------
if [ "$(cat "$src/version" 2>/dev/null)" != "$version" ]; then
  log "downloading $srcpkg $version"
  rm -rf "$kroot/dl" && mkdir -p "$kroot/dl"
  (cd "$kroot/dl" && apt-get "${apt_opts[@]}" -q download "$srcpkg=$version") >"$kroot/download.log" 2>&1 || {
    cat "$kroot/download.log" >&2
    die "apt-get download $srcpkg=$version failed (DMABUF_VM_REFRESH=1 refreshes the package lists)"
  }
  log "unpacking $srcpkg $version"
  rm -rf "$src" "$cache"/kernel*/build
  mkdir -p "$src"
  dpkg-deb --fsys-tarfile "$kroot/dl/${srcpkg}_"*.deb | tar -x -C "$kroot/dl" --wildcards '*/linux-source-*.tar.*'
  tarball=$(find "$kroot/dl" -name 'linux-source-*.tar.*' | head -n1)
  [ -n "$tarball" ] || die "no source tarball in the $srcpkg package"
  tar -xf "$tarball" -C "$src" --strip-components=1
  rm -rf "$kroot/dl"
  echo "$version" >"$src/version"
fi

# ---- configure and check ---------------------------------------------------
build=$kroot/build
mkdir -p "$build"
jobs=$(nproc)
mk() { make -C "$src" O="$build" ARCH="$karch" CROSS_COMPILE="$cross" -j"$jobs" "$@"; }
start=$(date +%s)
log "configuring (tinyconfig + $(basename "$fragment"))"
mk -s tinyconfig >"$kroot/config.log" 2>&1 || { cat "$kroot/config.log" >&2; die "make tinyconfig failed"; }
# Kconfig reads later assignments over earlier ones.
cat "$fragment" >>"$build/.config"
mk -s olddefconfig >>"$kroot/config.log" 2>&1 || { cat "$kroot/config.log" >&2; die "make olddefconfig failed"; }
dropped=()
while IFS= read -r line; do
  case $line in
    CONFIG_*=*) grep -qxF "$line" "$build/.config" || dropped+=("$line (now: $(grep -E "^(# )?${line%%=*}[= ]" "$build/.config" || echo absent))") ;;
    '# CONFIG_'*' is not set')
      name=${line#\# }
      name=${name%% *}
      ! grep -q "^$name=" "$build/.config" || dropped+=("$line (now: $(grep "^$name=" "$build/.config"))")
      ;;
  esac
done <"$fragment"
if [ ${#dropped[@]} -gt 0 ]; then
  printf '  %s\n' "${dropped[@]}" >&2
  die "make olddefconfig did not keep these lines of $fragment (a dependency is missing)"
fi

# ---- build -----------------------------------------------------------------
log "building $image for $arch with $jobs jobs (log: $kroot/build.log)"
mk "$image" >"$kroot/build.log" 2>&1 || { tail -n 40 "$kroot/build.log" >&2; die "the kernel build failed"; }
[ "$arch" != x86_64 ] || grep -q '^CONFIG_PVH=y' "$build/.config" || die "no PVH entry point"
log "built in $(($(date +%s) - start)) s"
rm -rf "$out.new" && mkdir -p "$out.new"
cp "$build/$image_file" "$out.new/kernel"
cp "$build/.config" "$out.new/config"
echo "$srcpkg $version $arch (tinyconfig + kernel.config $fhash)" >"$out.new/kernel-version"
rm -rf "$out"
mv "$out.new" "$out"
# Older builds of other versions or fragments are stale.
find "$kroot" -mindepth 1 -maxdepth 1 -type d -name '*-*' ! -path "$out" -exec rm -rf {} +
fi

# ---- the initramfs: busybox and init, no modules ---------------------------
work=$kroot/initramfs
rm -rf "$work" && mkdir -p "$work/bb" "$work/root/lib/modules"
packer=()
if [ "$arch" = x86_64 ]; then
  dpkg-deb -x "$busybox" "$work/bb"
else
  mkdir -p "$work/bb/bin" "$work/host-bb" && cp "$busybox" "$work/bb/bin/busybox"
  dpkg-deb -x "$debs/busybox-static.deb" "$work/host-bb"
  packer=("$(find "$work/host-bb" -path "*bin/busybox" -type f | head -n1)")
fi
: >"$work/root/lib/modules/load" # everything is built in
echo "$version custom" >"$work/root/kernel-version"
pack_initramfs "$work/bb" "$work/root" "$out/initramfs.cpio.gz.new" "${packer[@]}"
mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
echo "$ihash" >"$out/initramfs.stamp"
rm -rf "$work"
echo "$out"
