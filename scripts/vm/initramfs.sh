# Sourced by setup.sh (Debian's kernel) and kernel.sh (the custom kernel):
# the part of the VM's initramfs both kernels share.
#
# pack_initramfs BUSYBOX_DIR ROOT OUT [CPIO_BUSYBOX]
#   BUSYBOX_DIR  busybox-static.deb unpacked (dpkg-deb -x)
#   ROOT         the initramfs tree so far (modules, kernel-version, ...)
#   OUT          the gzipped cpio archive to write
#   CPIO_BUSYBOX a busybox the host can run, to write the archive with
#                (default: the guest's; an ARM guest's needs the host's)
# Adds busybox with the applets init uses and init itself, then packs ROOT.
# Needs the caller's die().
pack_initramfs() {
  local bbdir=$1 root=$2 out=$3 bb applet packer
  bb=$(find "$bbdir" -path "*bin/busybox" -type f | head -n1)
  [ -n "$bb" ] || die "no busybox binary in busybox-static.deb"
  mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/mnt"
  cp "$bb" "$root/bin/busybox"
  packer=${4:-$bb}
  for applet in sh mount umount mkdir ln cat echo insmod chroot env poweroff ifconfig hostname sleep ls dmesg; do
    ln -s busybox "$root/bin/$applet"
  done
  cp "$here/init" "$root/init"
  chmod 755 "$root/init"
  (cd "$root" && find . | "$packer" cpio -o -H newc 2>"$root.cpio.log") | gzip -9 >"$out" ||
    die "building the initramfs failed: $(cat "$root.cpio.log")"
  rm -f "$root.cpio.log"
}
