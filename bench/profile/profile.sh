#!/usr/bin/env bash
# Where does JavaScript's time go, over C's, in cases 1 (SYNC start+end) and
# 2 (EXPORT_SYNC_FILE + close)? Counts user-space instructions per operation
# with callgrind, on any Linux machine (no dma-buf device needed):
#
#   bash bench/profile/profile.sh [N]      (after `npm run bench` built everything)
#
# fake_dmabuf.so (LD_PRELOAD) lends a memfd that passes for a dma-buf and
# answers the two ioctls after making the real system call, so the
# user-space work is the real one. Each contender runs the case twice under
# callgrind, N and 2N times (DMABUF_BENCH_ITERS); the difference divided by
# N is the cost of one operation, with start-up and teardown cancelled out.
# Results: target/bench/profile/<case>.<contender>.txt, summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-20000}
out=target/bench/profile
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "profile.sh needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cc -O2 -Wall -Wextra -shared -fPIC -o "$out/fake_dmabuf.so" bench/profile/fake_dmabuf.c -ldl
[ -x target/bench/bench-c ] || cc -O2 -o target/bench/bench-c bench/c/bench.c
[ -x target/release/dmabuf-bench ] || cargo build --release -p dmabuf-bench
binding=$PWD/target/bench/dmabuf.node
[ -f "$binding" ] || { echo "no $binding: run npm run bench first (it builds the release binding)" >&2; exit 1; }

declare -A cmd=(
  [C]="target/bench/bench-c"
  [Rust]="target/release/dmabuf-bench"
  [JS]="node bench/js/dmabuf.js"
  [ioctl-peer]="node bench/js/ioctl.js"
)
for kase in sync export; do
  for who in C Rust JS ioctl-peer; do
    for iters in "$n" $((2 * n)); do
      # shellcheck disable=SC2086 # the command is a word list
      DMABUF_BENCH_ITERS=$iters LD_PRELOAD=$PWD/$out/fake_dmabuf.so NAPI_RS_NATIVE_LIBRARY_PATH=$binding \
        valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$out/cg.$kase.$who.$iters" \
        ${cmd[$who]} "$kase" >/dev/null 2>"$out/valgrind.$kase.$who.$iters.log"
    done
    python3 bench/profile/cgdiff.py --top 40 "$out/cg.$kase.$who.$n" "$n" "$out/cg.$kase.$who.$((2 * n))" $((2 * n)) >"$out/$kase.$who.txt"
    python3 bench/profile/cgdiff.py --inclusive --top 400 "$out/cg.$kase.$who.$n" "$n" "$out/cg.$kase.$who.$((2 * n))" $((2 * n)) \
      | grep -E '^instructions|dmabuf|napi|ioctl|Finaliz|CollectGarbage|Scavenge|uv_run|Immediate|String|alloc|malloc|free|close' \
      >"$out/$kase.$who.inclusive.txt" || true
    printf '%-7s %-11s %s\n' "$kase" "$who" "$(head -1 "$out/$kase.$who.txt")"
  done
done
