#!/usr/bin/env bash
# The project's test command (`npm test`):
#   1. sets up what the build and the VM tier need (as root on Debian, with
#      apt; otherwise it says what to install),
#   2. builds the native module, the Rust tests and the TypeScript tests,
#   3. runs the host tier (cargo test, tsc type checks, ava),
#   4. runs the real-kernel tier in a qemu VM and ends with the line
#      `vm: N passed, M failed, K skipped` (cargo and ava together),
#   5. runs the custom-kernel tier (scripts/vm/kernel.sh builds the kernel
#      once, ~3 min on 2 cores, then caches it): the whole VM suite again on
#      that kernel, the DVB tests included, with a line of its own
#      (DMABUF_CUSTOM_TIER=custom: only the DVB tests and the matrix),
#   6. runs the ARM tiers, arm64 and armv7: the binding and the Rust tests
#      cross-built for each (scripts/cross/build.sh, Debian's toolchain in a
#      cached chroot), the package installed for each, then the whole VM
#      suite on the project's kernel built for each (scripts/vm/arm.sh)
#      under qemu-system-aarch64 and qemu-system-arm, the two VMs side by
#      side (their lines prefixed [arm64] and [armv7]), each with a line of
#      its own. DMABUF_ARM_TIERS picks them (default "arm64 armv7"; empty:
#      none).
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

step "vm tier"
# A whole tier runs in one VM boot: 10 to 12 minutes under TCG on a quiet
# 2-core machine (2026-12-05), more under load; run.sh's default limit of
# 900 s is for single commands.
export DMABUF_VM_TIMEOUT=${DMABUF_VM_TIMEOUT:-2400}
# On Node 24 LTS (fetched by scripts/pack/pack.sh); the custom-kernel tier
# runs on the machine's node (20), so both lines run the whole VM suite.
DMABUF_TIER_NODE=target/pack/node24 DMABUF_VM_ENV="${DMABUF_VM_ENV:-} DMABUF_TIER_NODE" bash scripts/vm/run.sh bash scripts/vm-tier.sh

step "custom-kernel tier"
DMABUF_VM_KERNEL=custom bash scripts/vm/run.sh bash scripts/vm-tier.sh "${DMABUF_CUSTOM_TIER:-all}"

read -r -a arm_tiers <<<"${DMABUF_ARM_TIERS-arm64 armv7}"
if [ ${#arm_tiers[@]} -gt 0 ]; then
  step "ARM tiers: ${arm_tiers[*]}"
  for arch in "${arm_tiers[@]}"; do
    bash scripts/cross/build.sh "$arch" --tests
    bash scripts/pack/pack.sh "$arch"
    # The kernel and the root filesystem, made before the VMs start so that
    # two first-run builds do not share the cores.
    DMABUF_VM_ARCH=$arch bash scripts/vm/run.sh true
  done
  # Side by side: a TCG guest keeps about one host core busy (one vCPU on
  # a 2-core host: scripts/vm/run.sh), so two guests take little longer
  # than one.
  pids=()
  for arch in "${arm_tiers[@]}"; do
    (DMABUF_VM_ARCH=$arch bash scripts/vm/run.sh bash scripts/vm-tier.sh all 2>&1 | sed -u "s/^/[$arch] /") &
    pids+=($!)
  done
  failed=0
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { echo "the ${arm_tiers[$i]} tier failed" >&2; failed=1; }
  done
  step "ARM tiers done"
  [ "$failed" = 0 ]
fi
