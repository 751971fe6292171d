# Sourced by the scripts that make Debian root filesystems with debootstrap
# (scripts/vm/rootfs.sh, scripts/cross/root.sh, scripts/gst-rootfs.sh):
# where they fetch from and what they fetch with. Needs the caller's log()
# and die().
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Prints the Debian mirror: DMABUF_VM_MIRROR, else the Debian archive the
# host's own apt sources use, found by setup.sh's own functions (taken from
# it rather than copied, so that every root and the VM's kernel come from
# the same mirror; setup.sh stays unchanged, as its text is the VM's cache
# stamp).
debian_mirror() {
  if [ -n "${DMABUF_VM_MIRROR:-}" ]; then
    echo "${DMABUF_VM_MIRROR%/}"
    return
  fi
  eval "$(sed -n -e '/^apt_source_entries() {$/,/^}$/p' -e '/^host_debian_mirror() {$/,/^}$/p' "$(dirname "${BASH_SOURCE[0]}")/setup.sh")"
  declare -F host_debian_mirror >/dev/null && declare -F apt_source_entries >/dev/null ||
    die "could not read the mirror lookup from scripts/vm/setup.sh"
  host_debian_mirror ||
    die "no Debian archive found in the host's apt sources: set DMABUF_VM_MIRROR to a Debian mirror's URL (the directory holding dists/ and pool/)"
}

# debootstrap and Debian's archive keyring, installed with apt when missing.
need_debootstrap() {
  command -v debootstrap >/dev/null && [ -f "$keyring" ] && return
  log "installing debootstrap and debian-archive-keyring with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends debootstrap debian-archive-keyring >&2 ||
    die "apt-get install debootstrap failed"
}
