#!/usr/bin/env bash
# The project's test command (`npm test`):
#   1. sets up what the build and the VM tier need (as root on Debian, with
#      apt; otherwise it says what to install),
#   2. builds the native module, the Rust tests and the TypeScript tests,
#   3. runs the host tier (cargo test, tsc type checks, ava),
#   4. cross-builds the binding and the Rust tests for each ARM tier, arm64
#      and armv7 (scripts/cross/build.sh, Debian's toolchain in a cached
#      chroot), packs and installs the package for each, and makes each
#      one's kernel and root filesystem (DMABUF_ARM_TIERS picks them:
#      default "arm64 armv7"; empty: none),
#   5. runs the VM tiers in two lanes side by side, each tier in one VM
#      boot running the whole VM suite (every Rust test binary with the
#      device tests, and the ava suite) and ending with its own line
#      `vm: N passed, M failed, K skipped` (cargo and ava together), its
#      lines prefixed with its name:
#        lane 1: [x86] Debian's kernel (qemu, TCG), then [custom] the
#        project's kernel (scripts/vm/kernel.sh builds it once, ~3 min on
#        2 cores, then caches it) with the tests that need it (DVB, KMS)
#        and the bad-input matrix (DMABUF_CUSTOM_TIER=all: every test
#        file, as the other tiers run, ~20 more minutes), then
#        [arm64] the project's kernel for arm64 (scripts/vm/arm.sh) under
#        qemu-system-aarch64;
#        lane 2: [armv7] the same under qemu-system-arm.
# Any failure, and any test skipped inside the VM, makes it exit non-zero.
#
# DMABUF_TEST_STRESS=1: the stress mode, the whole of the above with a CPU
# hog on every host core (scripts/stress.sh starts them and always kills
# them), as on a machine busy with other work.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${DMABUF_TEST_STRESS:-}" = 1 ]; then
  exec env DMABUF_TEST_STRESS=started bash scripts/stress.sh bash scripts/test.sh "$@"
fi

step() { printf '\n== %s (at %ss)\n' "$*" "$SECONDS"; }

step "setup"
bash scripts/setup-host.sh

step "build"
npm run --silent build:debug
cargo test --workspace --no-run --message-format=json 2>/dev/null | node scripts/list-tests.mjs target/vm-tests.list
test -s target/vm-tests.list || { echo "no Rust test binaries were built" >&2; exit 1; }
# The Rust peer of __test__/fdpass.spec.ts.
cargo build -p dmabuf --example fdpass_peer
npx tsc -p __test__
bash scripts/pack/pack.sh

step "host tier"
cargo test --workspace
npx ava
# The packed package loads with no Rust toolchain, on every Node.js line in
# target/pack/nodes (the machine's, 22, 24, 26), as CommonJS and ESM.
while read -r node <&3; do
  for smoke in smoke.cjs smoke.mjs; do "$node" "target/pack/app/$smoke" --load; done
done 3<target/pack/nodes

# Every VM's kernel and root filesystem are made (first run) or checked
# (a 2-4 s boot) before any tier starts, so that no first-run build shares
# the cores with a guest.
step "GStreamer root (gst.spec, x86 tier)"
# GStreamer >= 1.24 (unixfdsink/unixfdsrc) from a Debian trixie root, made
# once and cached (~1.2 GB, a few minutes on a first run).
gst_root=$(bash scripts/gst-rootfs.sh)
echo "GStreamer: $gst_root"

step "VM kernels"
bash scripts/vm/run.sh true
DMABUF_VM_KERNEL=custom bash scripts/vm/run.sh true
read -r -a arm_tiers <<<"${DMABUF_ARM_TIERS-arm64 armv7}"
if [ ${#arm_tiers[@]} -gt 0 ]; then
  step "ARM builds: ${arm_tiers[*]}"
  for arch in "${arm_tiers[@]}"; do
    bash scripts/cross/build.sh "$arch" --tests
    bash scripts/pack/pack.sh "$arch"
    DMABUF_VM_ARCH=$arch bash scripts/vm/run.sh true
  done
fi

# The VM tiers, in two lanes side by side: a TCG guest keeps about one host
# core busy (one vCPU: scripts/vm/run.sh), so on a 2-core machine two
# guests take little longer than one. The last ARM tier (armv7, the
# slowest: about as long as the other three together) has a lane of its
# own; the Debian-kernel tier, the custom-kernel tier and the other ARM
# tiers run one after another in the first. Without ARM tiers the two x86
# tiers are the two lanes. Each tier's lines are prefixed with its name
# and each ends with its own `vm: N passed, M failed, K skipped` line.
# A whole tier runs in one VM boot: 15 to 20 minutes for an x86 tier beside
# another guest on this 2-core machine, 35 to 45 for armv7; run.sh's
# default limit of 900 s is for single commands.
# Each tier's output also goes to target/tier-logs/NAME.log, so that the
# end of the command can repeat a failed tier's failures: CI shows only the
# last part of the output, where the other lane's lines would hide them.
tier_logs=target/tier-logs
rm -rf "$tier_logs" && mkdir -p "$tier_logs"
tier() {
  local name=$1 rc=0
  shift
  step "$name tier"
  "$@" 2>&1 | sed -u "s/^/[$name] /" | tee "$tier_logs/$name.log" || rc=$?
  step "$name tier done: $([ "$rc" = 0 ] && echo passed || echo "failed, exit $rc")"
  [ "$rc" = 0 ] || echo "$name" >>"$tier_logs/failed"
  return "$rc"
}
# `digest NAME`: a failed tier's failing tests and what they printed (ava's
# ✘ lines and its closing report, cargo's FAILED lines and panics, tests
# pending at a timeout, vm-tier.sh's !! lines), then its result line.
digest() {
  local log=$tier_logs/$1.log
  step "what failed in the $1 tier (all of it: $log)"
  grep -E -A12 '^\[[a-z0-9]+\] +(✘|◌)|\.\.\. FAILED$|panicked at|^\[[a-z0-9]+\] !! |remained pending|uncaught exception|unhandled rejection' "$log" | head -150 || true
  grep -E '^\[[a-z0-9]+\] vm: ' "$log" || echo "[$1] (no vm: line: the tier did not finish)"
}
# On Node 24 LTS (fetched by scripts/pack/pack.sh), as the ARM tiers; the
# custom-kernel tier runs on the machine's node (20, past its end of life)
# and, by default, only the files the other x86 tier cannot run: running
# all of them there again took 1,618 s against 376 s for these (2026-12-06)
# for no code path the Debian tier had not already run (vm-tier.sh says
# which files).
x86_tier() {
  tier x86 env DMABUF_VM_TIMEOUT="${DMABUF_VM_TIMEOUT:-3000}" DMABUF_TIER_NODE=target/pack/node24 DMABUF_GST_ROOT="$gst_root" \
    DMABUF_VM_ENV="${DMABUF_VM_ENV:-} DMABUF_TIER_NODE DMABUF_GST_ROOT" bash scripts/vm/run.sh bash scripts/vm-tier.sh
}
custom_tier() {
  tier custom env DMABUF_VM_TIMEOUT="${DMABUF_VM_TIMEOUT:-3000}" DMABUF_VM_KERNEL=custom DMABUF_GST_ROOT="$gst_root" \
    DMABUF_VM_ENV="${DMABUF_VM_ENV:-} DMABUF_GST_ROOT" \
    bash scripts/vm/run.sh bash scripts/vm-tier.sh "${DMABUF_CUSTOM_TIER:-custom}"
}
arm_tier() {
  tier "$1" env DMABUF_VM_TIMEOUT="${DMABUF_VM_TIMEOUT:-4200}" DMABUF_VM_ARCH="$1" \
    bash scripts/vm/run.sh bash scripts/vm-tier.sh all
}
# A lane runs every tier in it, even after a failure, and fails if any did.
lane() {
  local rc=0 t
  for t in "$@"; do
    case $t in
      x86) x86_tier || rc=1 ;;
      custom) custom_tier || rc=1 ;;
      *) arm_tier "$t" || rc=1 ;;
    esac
  done
  return "$rc"
}
if [ ${#arm_tiers[@]} -gt 0 ]; then
  lanes=("x86 custom ${arm_tiers[*]:0:${#arm_tiers[@]}-1}" "${arm_tiers[-1]}")
else
  lanes=(x86 custom)
fi
step "VM tiers, two lanes side by side: (${lanes[0]% }) and (${lanes[1]})"
pids=()
for l in "${lanes[@]}"; do
  read -r -a ts <<<"$l"
  lane "${ts[@]}" &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "a tier of the lane (${lanes[$i]% }) failed" >&2; failed=1; }
done
step "VM tiers done"
if [ -f "$tier_logs/failed" ]; then
  while read -r name; do digest "$name"; done <"$tier_logs/failed"
fi
[ "$failed" = 0 ]
