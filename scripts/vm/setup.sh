#!/usr/bin/env bash
# Prepares what scripts/vm/run.sh boots, idempotently:
#   1. host tools: qemu-system-x86_64 (package qemu-system-x86) to boot, and
#      only while building: depmod/modprobe (kmod), xz (xz-utils) and zstd.
#      As root they are installed with apt; otherwise it names what to
#      install and fails;
#   2. Debian trixie's kernel (the linux-image-6.12.*-amd64 package that
#      linux-image-amd64 depends on) and busybox-static, fetched with apt
#      through a private sources list, so the host's apt setup is untouched;
#   3. the kernel to boot and a small busybox initramfs holding
#      scripts/vm/init and the modules for 9p, vgem and vivid (with all they
#      depend on).
# All of it lives in ${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}, never in the
# repository. When everything is already there it does nothing, quickly.
# DMABUF_VM_REFRESH=1 fetches trixie's current kernel again and rebuilds.
# DMABUF_VM_MIRROR names the Debian mirror to fetch from; without it, the
# mirror is the one the host's own apt sources use for Debian's archive.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# depmod and modprobe live in sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
cache=${DMABUF_VM_CACHE:-${HOME:?HOME is not set; set DMABUF_VM_CACHE}/.cache/dmabuf-vm}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
vm=$cache/vm

log() { printf 'dmabuf-vm setup: %s\n' "$*" >&2; }
die() { printf 'dmabuf-vm setup: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=initramfs.sh
. "$here/initramfs.sh"
# Anything else that fails unexpectedly still says where.
trap 'die "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# ---- the Debian mirror -----------------------------------------------------
# The host's apt sources, in the order apt reads them, as one line per
# (URI, suite) of each enabled "deb" entry: URI, suite, components, tab-separated.
# One-line files (*.list: "deb [options] URI suite component...") and deb822
# files (*.sources: paragraphs with Types:, URIs:, Suites:, Components:).
apt_source_entries() {
  local list=/etc/apt/sources.list parts=/etc/apt/sources.list.d f
  # Where apt itself looks, should its configuration move them.
  if command -v apt-config >/dev/null; then
    eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d)"
    parts=${parts%/}
  fi
  for f in "$list" "$parts"/*; do
    [ -f "$f" ] && [ -r "$f" ] || continue
    case $f in
      */sources.list | *.list)
        awk '{ sub(/#.*/, "") }
          $1 != "deb" { next }
          { line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
            if (line ~ /^\[/) { if (!sub(/^\[[^]]*\][ \t]*/, "", line)) next }
            n = split(line, w, /[ \t]+/)
            if (n < 2) next
            comps = ""
            for (i = 3; i <= n; i++) comps = comps (i > 3 ? " " : "") w[i]
            print w[1] "\t" w[2] "\t" comps }' "$f"
        ;;
      *.sources)
        awk 'function flush(  n, m, i, j, u, s) {
            if ((" " f["types"] " ") ~ / deb / && tolower(f["enabled"]) != "no") {
              n = split(f["uris"], u, " "); m = split(f["suites"], s, " ")
              for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i] "\t" s[j] "\t" f["components"]
            }
            split("", f); key = ""
          }
          /^#/ { next }
          /^[ \t]*$/ { flush(); next }
          { val = $0 }
          /^[ \t]/ { if (key != "") { gsub(/[ \t]+/, " ", val); f[key] = f[key] val } next }
          { key = tolower(substr(val, 1, index(val, ":") - 1))
            val = substr(val, index(val, ":") + 1); gsub(/[ \t]+/, " ", val)
            sub(/^ /, "", val); sub(/ $/, "", val); f[key] = val }
          END { flush() }' "$f"
        ;;
    esac
  done
}

# The URI of the first entry for Debian's main archive: component main and a
# suite that is a Debian release (a codename or stable/testing/unstable...,
# perhaps -updates or -backports), so neither the security archive
# (*-security) nor a third-party repository.
host_debian_mirror() {
  local uri suite comps
  local release='^(oldoldstable|oldstable|stable|testing|unstable|sid|jessie|stretch|buster|bullseye|bookworm|trixie|forky|duke)(-updates|-backports|-proposed-updates)?$'
  while IFS=$'\t' read -r uri suite comps; do
    [[ $suite =~ $release ]] || continue
    [[ " $comps " == *" main "* ]] || continue
    case $uri in cdrom:* | *' '* | '') continue ;; *:*) ;; *) continue ;; esac
    echo "${uri%/}"
    return 0
  done < <(apt_source_entries)
  return 1
}

if [ -n "${DMABUF_VM_MIRROR:-}" ]; then
  mirror=${DMABUF_VM_MIRROR%/} mirror_from=DMABUF_VM_MIRROR
else
  mirror_from="the host's apt sources; DMABUF_VM_MIRROR picks another"
  mirror=$(host_debian_mirror) ||
    die "no Debian archive found in the host's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list, *.sources) to fetch trixie's kernel from:
  set DMABUF_VM_MIRROR to a Debian mirror's URL (the directory holding dists/ and pool/)"
fi

# What the built VM depends on: this script, the initramfs's shared part,
# the guest's init and the mirror. A change to any of them rebuilds (reusing
# the downloaded packages).
want_stamp=$(cat "$here/setup.sh" "$here/initramfs.sh" "$here/init" | sha256sum | cut -d' ' -f1)-$mirror

is_built() {
  [ -z "${DMABUF_VM_REFRESH:-}" ] &&
    [ -s "$vm/kernel" ] && [ -s "$vm/initramfs.cpio.gz" ] &&
    [ "$(cat "$vm/stamp" 2>/dev/null)" = "$want_stamp" ]
}

# ---- host packages ---------------------------------------------------------
missing_packages() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  if ! is_built; then
    { command -v depmod && command -v modprobe; } >/dev/null || need+=(kmod)
    command -v xz >/dev/null || need+=(xz-utils)
    command -v zstd >/dev/null || need+=(zstd)
    command -v dpkg-deb >/dev/null || need+=(dpkg)
    [ -f "$keyring" ] || need+=(debian-archive-keyring)
  fi
  echo "${need[@]}"
}

missing=$(missing_packages)
if [ -z "$missing" ] && is_built; then
  exit 0 # the fast path: everything is cached
fi
command -v apt-get >/dev/null ||
  die "apt-get not found: the VM's kernel is Debian's, fetched with apt (run this on Debian or Ubuntu)"

if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing host packages: $missing
  install them as root:  apt-get update && apt-get install --no-install-recommends $missing"
  fi
  log "installing host packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  # shellcheck disable=SC2086 # $missing is a list of package names
  apt-get install -y -q --no-install-recommends $missing >&2 || die "apt-get install $missing failed"
  missing=$(missing_packages)
  [ -z "$missing" ] || die "still missing after apt-get install: $missing"
fi

# ---- one builder at a time -------------------------------------------------
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if is_built; then exit 0; fi # another setup.sh finished while we waited

# ---- fetch the kernel and busybox-static from trixie with apt --------------
# A private apt tree: its own sources.list, lists, package cache and an empty
# dpkg status, so neither the host's apt state nor its pinning is involved.
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
  # write to: download as the caller instead of warning about it.
  -o "APT::Sandbox::User=$(id -un)"
)

if [ -n "${DMABUF_VM_REFRESH:-}" ] || [ ! -s "$debs/kernel.deb" ] || [ ! -s "$debs/busybox-static.deb" ]; then
  log "fetching trixie's package lists from $mirror ($mirror_from)"
  if ! apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 ||
    grep -q '^E:' "$apt_dir/update.log"; then
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

# ---- unpack ----------------------------------------------------------------
work=$cache/build
rm -rf "$work"
mkdir -p "$work/pkg" "$work/bb" "$work/root"
trap 'rm -rf "$work"' EXIT

log "unpacking $(cat "$debs/kernel.name" 2>/dev/null || echo kernel.deb)"
dpkg-deb -x "$debs/kernel.deb" "$work/pkg"
dpkg-deb -x "$debs/busybox-static.deb" "$work/bb"
# Modules sit in /usr/lib/modules (merged /usr) or /lib/modules; depmod -b
# looks under BASE/lib/modules.
if [ ! -d "$work/pkg/lib/modules" ] && [ -d "$work/pkg/usr/lib/modules" ]; then
  ln -s usr/lib "$work/pkg/lib"
fi
kver=$(find "$work/pkg/lib/modules/" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
if [ -z "$kver" ] || [ ! -f "$work/pkg/boot/vmlinuz-$kver" ]; then
  die "no kernel image or modules in $debs/kernel.deb"
fi
config=$work/pkg/boot/config-$kver
# What the tests need must be built in; say so early if Debian ever changes
# that, rather than letting the tests fail obscurely.
for opt in UDMABUF DMABUF_HEAPS DMABUF_HEAPS_SYSTEM SYNC_FILE DEVTMPFS; do
  grep -q "^CONFIG_$opt=y" "$config" || log "warning: kernel $kver lacks CONFIG_$opt=y"
done
depmod -b "$work/pkg" "$kver"

# ---- the kernel to boot ----------------------------------------------------
# Under TCG the kernel takes about a second to decompress itself. Debian's
# kernel has a PVH entry point (CONFIG_PVH), so qemu can load the
# uncompressed ELF instead: take the payload out of the bzImage (its setup
# header gives where it starts and how long it is, boot protocol 2.08+) and
# decompress it here, once. Any surprise: boot the bzImage as it is.
bzimage=$work/pkg/boot/vmlinuz-$kver
extract_vmlinux() {
  local setup_sects offset length size
  u8() { od -An -tu1 -j "$1" -N1 "$bzimage" | tr -d ' '; }
  u32() { od -An -tu4 -j "$1" -N4 "$bzimage" | tr -d ' '; } # x86 hosts: little-endian, like the header
  setup_sects=$(u8 $((0x1f1)))
  [ "$setup_sects" != 0 ] || setup_sects=4
  offset=$(((setup_sects + 1) * 512 + $(u32 $((0x248))) ))
  length=$(u32 $((0x24c)))
  # The payload ends with its decompressed size (le32).
  size=$(u32 $((offset + length - 4)))
  payload() { dd if="$bzimage" iflag=skip_bytes,count_bytes skip="$offset" count=$((length - 4)) status=none; }
  case $(od -An -tx1 -j "$offset" -N4 "$bzimage" | tr -d ' ') in
    28b52ffd) payload | zstd -dcq ;;
    fd377a58) payload | xz -dcq ;;
    1f8b*) payload | gzip -dcq ;;
    *) return 1 ;;
  esac >"$work/vmlinux" || return 1
  [ "$(stat -c %s "$work/vmlinux")" = "$size" ] && [ "$(head -c 4 "$work/vmlinux")" = $'\x7fELF' ]
}
rm -rf "$cache/vm.new" "$cache/vm.old"
mkdir "$cache/vm.new"
if grep -q '^CONFIG_PVH=y' "$config" && extract_vmlinux; then
  mv "$work/vmlinux" "$cache/vm.new/kernel"
else
  log "note: booting the compressed kernel (no PVH entry point, or it could not be unpacked)"
  cp "$bzimage" "$cache/vm.new/kernel"
fi

# ---- modules ---------------------------------------------------------------
# Debian signs its modules. Checking a signature costs the guest about half
# a second under TCG for these modules, so the copies in the initramfs go
# without: the kernel loads unsigned modules (CONFIG_MODULE_SIG_FORCE is off,
# the guest has no secure boot) and only marks itself tainted (E).
# The signature's layout (the kernel's scripts/sign-file.c): module,
# signature, struct module_signature (12 bytes, big-endian sig_len last),
# then the marker "~Module signature appended~\n".
strip_signature() {
  local f=$1 size siglen
  [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
  size=$(stat -c %s "$f")
  siglen=$(od -An -tu1 -j $((size - 32)) -N4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
  truncate -s $((size - 28 - 12 - siglen)) "$f"
}

# The guest loads /lib/modules/load in order: each module after what it
# depends on (modprobe --show-depends; -C /dev/null ignores the host's
# modprobe.d, -d/-S pick the unpacked tree). The module parameters are in init.
mods=(virtio_pci 9pnet_virtio 9p vgem vivid)
load=$work/root/lib/modules/load
mkdir -p "$work/root/lib/modules"
: >"$load"
for m in "${mods[@]}"; do
  modprobe -C /dev/null -d "$work/pkg" -S "$kver" --show-depends "$m" >"$work/deps" ||
    die "kernel $kver has no module $m"
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue # "builtin NAME": nothing to load
    name=$(basename "$path")
    name=${name%%.ko*}
    grep -qx "$name" "$load" && continue
    # busybox's insmod may not read compressed modules: store them plain
    # (the initramfs is compressed as a whole anyway).
    case $path in
      *.ko.xz) xz -dc "$path" ;;
      *.ko.zst) zstd -dc "$path" ;;
      *.ko.gz) gzip -dc "$path" ;;
      *.ko) cat "$path" ;;
      *) die "unexpected module file $path" ;;
    esac >"$work/root/lib/modules/$name.ko"
    strip_signature "$work/root/lib/modules/$name.ko"
    echo "$name" >>"$load"
  done <"$work/deps"
done

# ---- initramfs -------------------------------------------------------------
echo "$kver" >"$work/root/kernel-version"
pack_initramfs "$work/bb" "$work/root" "$cache/vm.new/initramfs.cpio.gz"

echo "$kver" >"$cache/vm.new/kernel-version"
echo "$want_stamp" >"$cache/vm.new/stamp"
# Swap in the new build whole (a run starting meanwhile sees the old or the new).
[ ! -d "$vm" ] || mv "$vm" "$cache/vm.old"
mv "$cache/vm.new" "$vm"
rm -rf "$cache/vm.old"
log "ready: kernel $kver; modules: $(tr '\n' ' ' <"$load")"
