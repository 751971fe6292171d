#!/usr/bin/env bash
# Runs inside the VM (see scripts/vm/run.sh): every Rust test binary with
# the device tests included, then ava, and prints one line
#   vm: N passed, M failed, K skipped
# Exits non-zero if anything failed, was skipped, or did not run.
#
# scripts/vm-tier.sh [debian|custom|all]: the tier (default debian; all:
# every file, for the custom kernel, which can run them all). Tests that
# need the custom kernel (DMABUF_VM_KERNEL=custom: DVB_MMAP, vidtv, vkms,
# vicodec, vim2m) live in files whose names match $custom_only (the Rust test
# targets tests/dvb.rs, tests/kms.rs and tests/codec.rs, __test__/dvb.spec.ts,
# kms.spec.ts, kms-*.spec.ts and codec.spec.ts),
# with the bad-input matrix (its DVB and KMS instance cases need that
# kernel, so its run there is the whole of the Debian kernel's and more):
# the custom tier runs them, the debian tier leaves them out.
# The ARM guests leave out $not_arm (cli-args.spec: the command's argument
# handling, TypeScript that touches no device, two dozen Node starts; and
# gst.spec: GStreamer comes from an x86_64 root, scripts/gst-rootfs.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

[ "${DMABUF_VM:-}" = 1 ] || { echo "vm-tier.sh runs inside the VM: use scripts/vm/run.sh" >&2; exit 2; }
tier=${1:-debian}
custom_only='^(dvb|kms|codec|kms-[a-z0-9-]+|matrix)$'
not_arm='^(cli-args|gst)$'
# Whether a test file belongs to this tier, by its base name (a Rust test
# binary's without its -hash, a spec's without .spec.js).
in_tier() {
  local name=$1
  if [ -n "$arm" ] && [[ $name =~ $not_arm ]]; then return 1; fi
  if [ "$tier" = all ]; then return 0; fi
  if [[ $name =~ $custom_only ]]; then [ "$tier" = custom ]; else [ "$tier" = debian ]; fi
}
case $tier in debian | custom | all) ;; *) echo "vm-tier.sh: unknown tier '$tier' (debian, custom or all)" >&2; exit 2 ;; esac
passed=0 failed=0 skipped=0 broken=0
# The Rust test binaries: the host's (scripts/test.sh lists them), or in an
# ARM guest the cross-built ones (scripts/cross/build.sh ARCH --tests), with
# the matching fdpass peer for __test__/fdpass.spec.ts and the package
# installed for that CPU (scripts/pack/pack.sh ARCH).
tests_list=target/vm-tests.list arm=''
case $(uname -m) in
  aarch64) arm=arm64 rust_target=aarch64-unknown-linux-gnu ;;
  armv7l) arm=armv7 rust_target=armv7-unknown-linux-gnueabihf ;;
esac
# ava's inactivity timeout (package.json: 2 minutes without a result) is
# sized for the host. Every guest waits 20 minutes: an emulated CPU is
# several times slower (one vCPU of TCG on a 2-core host, beside another
# guest). The armv7 guest once went 2 minutes without a result while
# cli.spec's node children started; the custom tier, where the matrix
# runs with few files beside it, went 2 minutes without one while the
# matrix's 4,288 cases ran; and the armv7 guest went 10 minutes without
# one once the codecs brought the matrix to 5,036 cases. A hang still
# fails the tier, and no test asserts a duration through this timer.
ava_timeout=(--timeout=20m)
if [ -n "$arm" ]; then
  tests_list=target/vm-tests-$arm.list
  export DMABUF_RUST_PEER=target/cross/$rust_target/debug/examples/fdpass_peer
fi

# Memory: the guest's OOM killer ends a test worker with SIGKILL (ava then
# reports only "exited due to SIGKILL"), so the tier counts its kills and
# fails on any, and samples MemAvailable every half second while the
# specs run (memory.spec, which fills memory to the guard's line on
# purpose, is left out) to say how much room the heaviest moment left.
oom_kills() { awk '/^oom_kill /{print $2}' /proc/vmstat; }
mem_kib() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
oom0=$(oom_kills)
least=/tmp/vm-tier.least
mem_kib MemAvailable >"$least"
( while sleep 0.5; do a=$(mem_kib MemAvailable); [ "$a" -ge "$(cat "$least")" ] || echo "$a" >"$least"; done ) &
sampler=$!
log=/tmp/vm-tier.log

while read -r bin; do
  [ -n "$bin" ] || continue
  base=$(basename "$bin")
  in_tier "${base%-*}" || continue
  echo "-- $base"
  "$bin" --include-ignored --test-threads=1 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^test result:' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "!! $(basename "$bin") printed no result (exit $rc)"; broken=$((broken + 1)); continue
  fi
  p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  i=$(sed -E 's/.* ([0-9]+) ignored.*/\1/' <<<"$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + i))
  [ "$rc" = 0 ] || [ "$f" -gt 0 ] || broken=$((broken + 1))
done <"$tests_list"

echo "-- ava"
# Host-tier files stay out: types.spec (tsc, minutes under TCG) and dts.spec
# (runs napi build, which needs a writable tree).
mapfile -t specs < <(ls __test__/build/*.spec.js | grep -vE '/(types|dts)\.spec\.js$')
mine=()
for spec in "${specs[@]}"; do
  base=$(basename "$spec" .spec.js)
  if in_tier "$base"; then mine+=("$spec"); fi
done
# memory.spec fills the machine's memory up to the memory guard's line: it
# runs alone, after the others, so that no test beside it finds none left.
specs=() alone=()
for spec in "${mine[@]}"; do
  case $(basename "$spec") in memory.spec.js) alone+=("$spec") ;; *) specs+=("$spec") ;; esac
done
# The default reporter, not --tap: ava 7's TAP reporter (and ava 8's, the
# same code) crashes on an inactivity timeout (writeTimeout hands a raw Error
# to dumpError: "Cannot set properties of undefined (setting 'name')") and
# prints no summary. The default one lists the pending tests by name
# ("◌ file › title") and counts them in "N tests remained pending after a
# timeout"; passes are counted from its "✔" lines, since its summary leaves
# the pass count out when anything failed.
# ava and its workers run on $DMABUF_TIER_NODE (default: the machine's
# node); scripts/test.sh gives the Debian tier Node 24 LTS. Tests run a
# child of process.execPath as nobody, who may not reach a binary cached
# under root's home: a copy in the guest's /tmp (tmpfs) is everyone's.
tier_node=node
if [ -n "${DMABUF_TIER_NODE:-}" ]; then
  mkdir -p /tmp/tier-node && chmod 755 /tmp/tier-node
  install -m 755 "$(readlink -f "$DMABUF_TIER_NODE")" /tmp/tier-node/node
  tier_node=/tmp/tier-node/node
fi
echo "ava runs on Node $("$tier_node" --version) ($tier_node)"
run_ava() {
  [ "$#" -gt 0 ] || return 0
  FORCE_COLOR=0 "$tier_node" node_modules/ava/entrypoints/cli.mjs "${ava_timeout[@]}" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} p f s pending
  p=$(grep -cE '^ *✔ ' "$log")
  f=$(($(summary 'tests? failed') + $(summary 'remained pending') + $(summary 'uncaught exceptions?$') + $(summary 'unhandled rejections?$')))
  s=$(($(summary 'tests? skipped') + $(summary 'tests? todo')))
  pending=$(grep -E '^ *◌ ' "$log" || true)
  [ -z "$pending" ] || printf '!! timed out, pending:\n%s\n' "$pending"
  if ! grep -qE '^ *[0-9]+ tests? (passed|failed|remained pending)' "$log"; then
    echo "!! ava printed no summary (exit $rc)"; broken=$((broken + 1))
  else
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    [ "$rc" = 0 ] || [ "$f" -gt 0 ] || broken=$((broken + 1))
  fi
}
# `summary WORDS`: the N of ava's closing "N WORDS" line (0 if absent).
summary() { local n; n=$(grep -E "^ *[0-9]+ [a-z ]*$1" "$log" | tail -1 | awk '{print $1}'); echo "${n:-0}"; }
run_ava "${specs[@]}"
kill "$sampler" 2>/dev/null || true
run_ava "${alone[@]}"

# Whole-program checks, one test each: the packed package (installed with no
# Rust toolchain) on every line of target/pack/nodes (scripts/pack/pack.sh) as
# CommonJS and ESM (an ARM guest: the package installed for its CPU, on its
# Node), and the demo.
check() {
  local name=$1; shift
  echo "-- check: $name"
  if "$@"; then passed=$((passed + 1)); else echo "!! check failed: $name"; failed=$((failed + 1)); fi
}
if [ -n "$arm" ]; then
  for smoke in smoke.cjs smoke.mjs; do
    check "installed package for $arm, $smoke on $(node --version)" node "target/pack/app-$arm/$smoke"
  done
elif [ "$tier" = debian ]; then
while read -r node <&3; do
  for smoke in smoke.cjs smoke.mjs; do
    check "installed package, $smoke on $("$node" --version)" "$node" "target/pack/app/$smoke"
  done
done 3<target/pack/nodes
fi
if [ -n "$arm" ] || [ "$tier" = debian ]; then
  check "npm run demo (dmabuf demo --frames 200)" node cli.js demo --frames 200
fi

total=$(mem_kib MemTotal)
echo "memory: at least $(($(cat "$least") / 1024)) MiB of $((total / 1024)) MiB available throughout the specs (memory.spec aside); OOM kills: $(($(oom_kills) - oom0))"
if [ "$(oom_kills)" != "$oom0" ]; then
  echo "!! the OOM killer killed $(($(oom_kills) - oom0)) processes (dmesg):"; dmesg | grep -iE 'out of memory|oom-kill|killed process' | tail -n 5
  broken=$((broken + 1))
fi
failed=$((failed + broken))
echo "vm: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$skipped" = 0 ] && [ "$passed" -gt 0 ]
