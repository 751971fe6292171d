#!/usr/bin/env bash
# Where the CPU of a streaming case goes (issue 18): `perf record` of the
# whole machine (cpu-clock, self time) while bench/streaming.mjs runs one
# case natively, then bench/profile/perfsplit.py sorts every sample of each
# contender's processes into: the kernel, the binding (our Rust), Node-API,
# libuv, V8 and Node's other C++, JavaScript (JIT code and the interpreter),
# libc, and the rest.
#
#   bash bench/profile/streaming.sh [CASE] [ROUNDS]   (CASE: 8-native, 9a, 9b, 9c, 8-vm, 10; default 9b)
#
# Needs perf (Debian: linux-perf) and root or perf_event_paranoid <= 1 for
# system-wide sampling. Node runs with --perf-basic-prof so that JIT frames
# have names; the native counts are 10 times the bench's
# (DMABUF_BENCH_SCALE), so that start-up is a small share of the samples.
# The case's own numbers go to target/bench/profile/CASE.json (natively) or
# the log, not bench/results-streaming.json.
#
# The VM cases (8-vm, 10) are sampled inside the guest (the host's perf,
# which the guest sees through its 9p root). Under TCG the guest's
# cpu-clock advances with the emulated work, so the shares are those of
# guest instructions as TCG runs them, a proxy for a real CPU's and the
# only one on a machine without dma-buf devices. GStreamer's own libraries
# live in its chroot, where perf does not look: its samples show as the
# kernel or "other", which is all the comparison needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
kase=${1:-9b}
rounds=${2:-1}
out=target/bench/profile
mkdir -p "$out"
command -v perf >/dev/null || { echo "streaming.sh: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 2; }
binding=${NAPI_RS_NATIVE_LIBRARY_PATH:-$PWD/target/bench/dmabuf.node}
[ -f "$binding" ] || binding=$PWD/dmabuf.linux-x64-gnu.node
export NAPI_RS_NATIVE_LIBRARY_PATH=$binding
echo "profiling case $kase ($rounds round(s)) with $binding" >&2
split() { python3 bench/profile/perfsplit.py "$binding"; }
report() { perf report -i "$1" --stdio --no-children -g none --percent-limit 0 --sort pid,dso,sym 2>/dev/null; }
case $kase in
  8-vm | 10)
    root=$(bash scripts/gst-rootfs.sh | tail -n 1)
    # Inside the guest: record, then print the report between markers (the
    # guest's /tmp is its own tmpfs; only stdout comes back).
    DMABUF_VM_TIMEOUT=3600 bash scripts/vm/run.sh bash -c '
      set -e
      DMABUF_BENCH_SCALE=$4 NODE_OPTIONS=--perf-basic-prof perf record -q -F 999 -a -o /tmp/p.data -- \
        node bench/streaming.mjs --inner-vm --gst-root "$1" --only "$2" --rounds "$3" >/tmp/p.out 2>/tmp/p.log || { cat /tmp/p.log >&2; exit 1; }
      grep -E "round" /tmp/p.log >&2 || true
      echo @@PERF-REPORT-BEGIN@@
      perf report -i /tmp/p.data --stdio --no-children -g none --percent-limit 0 --sort pid,dso,sym 2>/dev/null
      echo @@PERF-REPORT-END@@' _ "$root" "$kase" "$rounds" "${DMABUF_BENCH_SCALE:-5}" >"$out/$kase.vm.txt"
    sed -n '/@@PERF-REPORT-BEGIN@@/,/@@PERF-REPORT-END@@/p' "$out/$kase.vm.txt" | split | tee "$out/$kase.split.txt"
    ;;
  *)
    DMABUF_BENCH_STREAMING_OUT=$out/$kase.json DMABUF_BENCH_SCALE=${DMABUF_BENCH_SCALE:-10} NODE_OPTIONS=--perf-basic-prof \
      perf record -q -F 4999 -a -o "$out/$kase.perf.data" -- \
      node bench/streaming.mjs --only "$kase" --no-vm --rounds "$rounds" >"$out/$kase.log" 2>&1 ||
      { cat "$out/$kase.log" >&2; exit 1; }
    grep -E 'round' "$out/$kase.log" >&2 || true
    report "$out/$kase.perf.data" | split | tee "$out/$kase.split.txt"
    # --perf-basic-prof also makes V8 write isolate-*-v8.log into the working directory.
    rm -f /tmp/perf-*.map isolate-*-v8.log
    ;;
esac
