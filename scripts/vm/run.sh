#!/usr/bin/env bash
# scripts/vm/run.sh CMD [ARGS...]
# Runs CMD inside a qemu VM booted with Debian trixie's kernel, so tests reach
# real dma-buf devices: /dev/udmabuf, /dev/dma_heap/system, vgem's /dev/dri/*
# and vivid's /dev/video* (two instances: single- and multi-planar).
#
# The guest sees the host's / read-only (9p) and chroots into it, so host
# binaries (node, cargo test executables) run unchanged; it has its own /dev,
# /proc, /sys and tmpfs /tmp and /run. CMD runs as root in the caller's
# working directory with PATH from the caller, HOME=/tmp, DMABUF_VM=1 and the
# variables named in DMABUF_VM_ENV; its stdin is /dev/null. Its stdout and
# stderr stream back to ours, and we exit with its status.
#
# Environment:
#   DMABUF_VM_ENV      space-separated names of more variables to pass in
#   DMABUF_VM_TIMEOUT  seconds before the VM is killed (exit 124); default 900
#   DMABUF_VM_CPUS     vCPUs (default 2, or 1 on a host with 2 cores or fewer)
#   DMABUF_VM_MEM      guest RAM (default 2G)
#   DMABUF_VM_ACCEL    qemu accelerator (default tcg; kvm where it works)
#   DMABUF_VM_KERNEL_ARGS  more kernel command line (e.g. loglevel=7)
#   DMABUF_VM_CONSOLE  a file to save the guest's console log in
#   DMABUF_VM_CACHE    where setup.sh keeps the kernel and initramfs
#                      (default ~/.cache/dmabuf-vm)
#   DMABUF_VM_KERNEL   debian (default): Debian trixie's kernel and modules;
#                      custom: the kernel kernel.sh builds from Debian's
#                      linux-source with kernel.config (DVB_MMAP, vidtv,
#                      SW_SYNC; everything built in), built on first use
#   DMABUF_VM_ARCH     x86_64 (default), or arm64 / armv7: an ARM guest
#                      (qemu-system-aarch64 / qemu-system-arm -M virt) on the
#                      custom kernel built for it, whose root is not the
#                      host's but Debian forky for that architecture
#                      (scripts/vm/arm.sh prepares both); the working
#                      directory is shared at its own path, read-only
# Exit status: CMD's; 124 on timeout; 125 when the VM failed before CMD
# finished (kernel panic, bad setup, ...), with the end of its console log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf 'dmabuf-vm: %s\n' "$*" >&2; exit 125; }

[ $# -ge 1 ] || die "usage: scripts/vm/run.sh CMD [ARGS...]"
timeout_s=${DMABUF_VM_TIMEOUT:-900}
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "DMABUF_VM_TIMEOUT must be a whole number of seconds, not '$timeout_s'"
# TCG runs a host thread per vCPU, and qemu serves 9p from another. On a
# two-core host one vCPU boots as fast as two (measured: both ~3.4 s), and
# stays fast when the host is busy (two: up to twice as slow), so take two
# vCPUs only where a core is left over for qemu and the host.
cpus=${DMABUF_VM_CPUS:-$(($(nproc) > 2 ? 2 : 1))}
mem=${DMABUF_VM_MEM:-2G}
accel=${DMABUF_VM_ACCEL:-tcg}

# setup.sh (and kernel.sh) print only on stderr, and nothing at all once
# everything is cached.
# vivid's parameters: two instances, single- and multi-planar. As modules
# (Debian's kernel) init passes them to insmod; built in, they go on the
# kernel command line, with vkms's writeback connector (the custom and ARM
# kernels have vkms built in; Debian's has no vkms).
builtin_args=''
arch=${DMABUF_VM_ARCH:-x86_64}
root_share=/
case $arch in
  x86_64) ;;
  arm64 | armv7)
    vm=$(bash "$here/arm.sh" "$arch") || die "scripts/vm/arm.sh $arch failed"
    root_share=${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}/rootfs-$([ "$arch" = arm64 ] && echo arm64 || echo armhf)
    builtin_args='vivid.n_devs=2 vivid.multiplanar=1,2 vkms.enable_writeback=1'
    ;;
  *) die "DMABUF_VM_ARCH must be x86_64, arm64 or armv7, not '$arch'" ;;
esac
if [ "$arch" = x86_64 ]; then case ${DMABUF_VM_KERNEL:-debian} in
  debian)
    bash "$here/setup.sh" || die "scripts/vm/setup.sh failed"
    vm=${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}/vm
    ;;
  custom)
    vm=$(bash "$here/kernel.sh") || die "scripts/vm/kernel.sh failed"
    builtin_args='vivid.n_devs=2 vivid.multiplanar=1,2 vkms.enable_writeback=1'
    ;;
  *) die "DMABUF_VM_KERNEL must be debian or custom, not '${DMABUF_VM_KERNEL}'" ;;
esac; fi

# The exchange directory, shared writable with the guest as 9p tag dmabufvm:
# job.sh (what to run), stdout and stderr (CMD's output), status (its exit
# status), and the console log. Outside the repository; removed on exit.
run=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-vm.XXXXXX")
qemu_pid='' out_pid='' err_pid=''
# shellcheck disable=SC2317 # called from the traps
cleanup() {
  local pid
  for pid in $qemu_pid $out_pid $err_pid; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Quote for the guest's /bin/sh: 'it'\''s'.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
  echo '# written by scripts/vm/run.sh; the guest runs it with /bin/sh, chrooted into the host root'
  printf 'export PATH='; q "$PATH"; echo
  echo 'export HOME=/tmp DMABUF_VM=1'
  for name in ${DMABUF_VM_ENV:-}; do
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "DMABUF_VM_ENV: '$name' is not a variable name"
    [ -n "${!name+set}" ] || continue
    printf 'export %s=' "$name"; q "${!name}"; echo
  done
  printf 'cd '; q "$PWD"
  printf ' || { echo "dmabuf-vm: cannot cd to %s in the VM (it sees the host root read-only, with its own /tmp and /run)" >&2; exit 125; }\n' "${PWD//[\'\"\\\$\`]/?}"
  echo 'unset OLDPWD'
  printf 'exec'; for arg in "$@"; do printf ' '; q "$arg"; done; echo
} >"$run/job.sh"
: >"$run/stdout"
: >"$run/stderr"

# The guest has its own /tmp and /run, which hide the host's. When the
# working directory is under one of them (a checkout in /tmp, as CI may
# make), share its top folder there too, read-only like the rest: init
# mounts it over the guest's tmpfs at the same path (9p tag hostcwd).
cwd_share=()
here_dir=$(pwd -P)
if [ "$arch" != x86_64 ] && [ "$here_dir" != / ]; then
  # An ARM guest's root is its own: share the working directory at its own
  # path, over a mount point made in that root when the path is not under
  # the guest's tmpfs /tmp or /run.
  case "$here_dir/" in /tmp/* | /run/*) ;; *) mkdir -p "$root_share$here_dir" ;; esac
  printf '%s\n' "$here_dir" >"$run/cwd"
  # shellcheck disable=SC2054 # the commas are qemu's
  cwd_share=(-virtfs "local,path=$(printf '%s' "${here_dir//,/,,}"),mount_tag=hostcwd,security_model=none,readonly=on,multidevs=remap")
else case "$here_dir/" in
  /tmp/?*/* | /run/?*/*)
    top=$(pwd -P | cut -d/ -f1-3)
    printf '%s\n' "$top" >"$run/cwd"
    # shellcheck disable=SC2054 # the commas are qemu's
    cwd_share=(-virtfs "local,path=$(printf '%s' "${top//,/,,}"),mount_tag=hostcwd,security_model=none,readonly=on,multidevs=remap")
    ;;
esac; fi

# The machine: x86-64 (q35; setup.sh's kernel is the uncompressed one,
# booted through its PVH entry), or ARM's virt board with the PL011 console.
# cortex-a72 rather than max on arm64: no pointer authentication or SVE to
# emulate, which TCG makes slow. armv7: highmem=off keeps PCI below 4 GiB.
case $arch in
  x86_64) qemu_bin=qemu-system-x86_64 qemu_pkg=qemu-system-x86 machine=(-machine q35 -cpu max) console=ttyS0 ;;
  arm64) qemu_bin=qemu-system-aarch64 qemu_pkg=qemu-system-arm machine=(-machine virt -cpu cortex-a72) console=ttyAMA0 ;;
  armv7) qemu_bin=qemu-system-arm qemu_pkg=qemu-system-arm machine=(-machine virt,highmem=off -cpu cortex-a15) console=ttyAMA0 ;;
esac
command -v "$qemu_bin" >/dev/null || die "$qemu_bin not found (apt-get install $qemu_pkg)"
# qemu's -virtfs and -serial take comma-separated options: commas in paths double.
c() { printf '%s' "${1//,/,,}"; }
# shellcheck disable=SC2054 # the commas are qemu's
qemu=(
  "$qemu_bin"
  -nodefaults -no-user-config -display none -monitor none
  "${machine[@]}" -accel "$accel" -smp "$cpus" -m "$mem"
  -kernel "$vm/kernel" -initrd "$vm/initramfs.cpio.gz"
  # quiet: the console log keeps errors and panics only. panic=-1 with
  # -no-reboot: a panic ends qemu at once. cryptomgr.notests skips the
  # kernel's crypto self-tests, a good part of the boot under TCG.
  -append "console=$console quiet panic=-1 rdinit=/init cryptomgr.notests mitigations=off $builtin_args ${DMABUF_VM_KERNEL_ARGS:-}"
  -no-reboot
  -serial "file:$(c "$run/console.log")"
  -virtfs "local,path=$(c "$root_share"),mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$(c "$run"),mount_tag=dmabufvm,security_model=none"
  "${cwd_share[@]}"
)

# timeout puts qemu in a process group of its own, so a Ctrl-C reaches only
# us, and the traps above end qemu.
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1 &
qemu_pid=$!
# Stream CMD's output while it runs. The guest writes it through 9p with no
# caching, so it is in these files before the guest goes on; tail --pid
# prints what is left once qemu is gone, then stops (-s: check every 0.1 s).
tail -c +1 -q -f -s 0.1 --pid="$qemu_pid" "$run/stdout" &
out_pid=$!
tail -c +1 -q -f -s 0.1 --pid="$qemu_pid" "$run/stderr" >&2 &
err_pid=$!

qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=''
wait "$out_pid" "$err_pid" || true
out_pid='' err_pid=''
[ -z "${DMABUF_VM_CONSOLE:-}" ] || cp "$run/console.log" "$DMABUF_VM_CONSOLE" || true

console_tail() {
  local at
  # A panic: from its first line; otherwise the last lines.
  at=$(grep -n -m1 -E 'Kernel panic|BUG:|Oops' "$run/console.log" 2>/dev/null | cut -d: -f1 || true)
  echo "---- the VM's console (kernel $(cat "$vm/kernel-version" 2>/dev/null)):"
  if [ -n "$at" ]; then
    tail -n +"$at" "$run/console.log" | head -n 60
  else
    tail -n 40 "$run/console.log" 2>/dev/null || true
  fi
  if [ -s "$run/qemu.log" ]; then
    echo "---- qemu:"
    cat "$run/qemu.log"
  fi
} >&2

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  printf 'dmabuf-vm: timed out after %s s (DMABUF_VM_TIMEOUT); qemu was killed\n' "$timeout_s" >&2
  console_tail
  exit 124
fi
status=$(cat "$run/status" 2>/dev/null || true)
if [[ $status =~ ^[0-9]+$ ]]; then
  exit "$status"
fi
if grep -q 'Kernel panic' "$run/console.log" 2>/dev/null; then
  echo "dmabuf-vm: the guest kernel panicked; the command did not finish" >&2
elif [ "$qemu_rc" != 0 ]; then
  echo "dmabuf-vm: qemu failed (exit $qemu_rc); the command did not run" >&2
else
  echo "dmabuf-vm: the VM stopped without the command's exit status; it did not run, or did not finish" >&2
fi
console_tail
exit 125
