#!/usr/bin/env bash
# Installs Mesa's lavapipe (software Vulkan) for the Vulkan tests: on Debian
# bookworm from bookworm-backports (bookworm's own Mesa 22.3 predates
# lavapipe's dma-buf export), elsewhere from the host's own apt sources. Idempotent; needs root only when something is missing. The VM
# chroots into the host's root, so what is installed here is what the VM
# runs.
#
# The mirror is the host's own (the first Debian archive in its apt sources,
# found by scripts/vm/setup.sh's functions, read from that file so that there
# is one copy of them), or DMABUF_VM_MIRROR. The backports suite is reached
# through a private sources list; the host's own apt sources stay untouched.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'lavapipe setup: %s\n' "$*" >&2; }
die() { printf 'lavapipe setup: error: %s\n' "$*" >&2; exit 1; }

# Mesa 25 or newer, with lavapipe's ICD: already there, nothing to do.
installed=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$installed" ] && dpkg --compare-versions "$installed" ge 25 &&
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'ok installed'; then
  exit 0
fi
[ "$(id -u)" = 0 ] || die "lavapipe (mesa-vulkan-drivers >= 25 from bookworm-backports) and libvulkan1 are missing; run this script as root"
command -v apt-get >/dev/null || die "apt-get not found (this script installs Debian packages)"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != bookworm ]; then
  # Newer releases (trixie: Mesa 25) carry it in their own suites.
  log "installing mesa-vulkan-drivers and libvulkan1 from this host's apt sources ($codename)"
  apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mesa-vulkan-drivers libvulkan1 >&2 ||
    die "apt-get install mesa-vulkan-drivers libvulkan1 failed"
  installed=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)
  dpkg --compare-versions "$installed" ge 25 || die "mesa-vulkan-drivers $installed is older than 25 (lavapipe's dma-buf export): install a newer Mesa"
  exit 0
fi

# shellcheck source=/dev/null
source <(sed -n '/^apt_source_entries()/,/^}/p;/^host_debian_mirror()/,/^}/p' "$here/vm/setup.sh")
if [ -n "${DMABUF_VM_MIRROR:-}" ]; then
  mirror=${DMABUF_VM_MIRROR%/}
else
  mirror=$(host_debian_mirror) || die "no Debian archive in the host's apt sources; set DMABUF_VM_MIRROR"
fi

cache=${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}/apt-backports
mkdir -p "$cache/lists/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
  echo "deb [signed-by=$keyring] $mirror bookworm main"
  echo "deb [signed-by=$keyring] $mirror bookworm-updates main"
  echo "deb [signed-by=$keyring] $mirror bookworm-backports main"
} >"$cache/sources.list"
opts=(-o "Dir::Etc::sourcelist=$cache/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$cache/lists" -o "APT::Get::List-Cleanup=0")
log "fetching bookworm-backports' package lists from $mirror"
apt-get "${opts[@]}" update -q >&2 || die "apt-get update (bookworm-backports) failed"
log "installing mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y -q --no-install-recommends \
  -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2 || die "apt-get install mesa-vulkan-drivers failed"
installed=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)
dpkg --compare-versions "$installed" ge 25 || die "mesa-vulkan-drivers $installed was installed, not 25 or newer"
log "mesa-vulkan-drivers $installed"
