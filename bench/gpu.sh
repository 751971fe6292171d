#!/usr/bin/env bash
# bench/gpu.sh: cases 1 (SYNC start+end), 2 (EXPORT_SYNC_FILE + close) and, with node, 7 (a frame handed to another process) of
# `npm run bench` on a real GPU dma-buf: CUDA device memory exported by the
# NVIDIA driver (cuMemGetHandleForAddressRange, exp_name nv_dmabuf), on real
# hardware. Run it as root on an x86_64 Linux machine with the NVIDIA driver,
# from a checkout (or a copy) of this repository that holds the artifacts
# listed in bench/README.md. No network, Rust or npm needed:
#
#   bash bench/gpu.sh            # writes bench/results-cuda.json, prints the table
#
# - The C programs (bench/c/*.c) are compiled here when `cc` exists, else the
#   prebuilt bench/prebuilt/bench-c (static) and bench/prebuilt/cuda_exec
#   (glibc >= 2.34) are used.
# - Rust: target/release/dmabuf-bench{,-peer} when built here, else
#   bench/prebuilt/dmabuf-bench{,-peer} (x86_64, glibc >= 2.34).
# - JavaScript: only when `node` (>= 20) is on PATH, with the binding
#   target/bench/dmabuf.node or bench/prebuilt/dmabuf.node; the Node peers
#   also need bench/node_modules/koffi and bench/node_modules/ioctl (`npm install --prefix bench`). With node the run
#   goes through bench/run.mjs (same rounds, JSON and table as `npm run
#   bench`); without it this script measures C and Rust itself and writes the
#   same JSON shape, with the JS columns marked unavailable.
#
# Environment: DMABUF_BENCH_ROUNDS (3), DMABUF_BENCH_TIME_MS (1500),
# DMABUF_BENCH_OUT (bench/results-cuda.json), DMABUF_BENCH_ONLY (case ids,
# e.g. 1,2,3a,3b), DMABUF_BENCH_NODE22 (a Node 22 binary for goal 3). Exit 0 with a message and no
# results when there is no usable libcuda.so.1 or GPU.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

rounds=${DMABUF_BENCH_ROUNDS:-3}
time_ms=${DMABUF_BENCH_TIME_MS:-1500}
out=${DMABUF_BENCH_OUT:-bench/results-cuda.json}
log() { printf '%s\n' "$*" >&2; }

# --inner BIN: runs under cuda_exec (DMABUF_BENCH_FD is the CUDA dma-buf) and
# prints one line per run: CASE <tab> CONTENDER <tab> EXIT <tab> JSON.
if [ "${1:-}" = --inner ]; then
  bin=$2
  for kase in sync export; do
    for who in C Rust 'Rust peer (dma-buf crate)'; do
      case $who in
        C) exe=$bin/bench-c ;;
        Rust) exe=$bin/dmabuf-bench ;;
        *) exe=$bin/dmabuf-bench-peer ;;
      esac
      rc=0
      line=$("$exe" "$kase" --time-ms $((time_ms * rounds)) --warmup-ms 300 2>"$bin/err") || rc=$?
      [ -n "$line" ] || line=$(tail -n 1 "$bin/err" | tr -d '"\\\t')
      log "  $kase $who: exit $rc"
      printf '%s\t%s\t%s\t%s\n' "$kase" "$who" "$rc" "$line"
    done
  done
  exit 0
fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-gpu.XXXXXX")
trap 'rm -rf "$bin"' EXIT

if command -v cc >/dev/null 2>&1; then
  log "compiling bench/c/bench.c and bench/c/cuda_exec.c with $(command -v cc)"
  cc -O2 -o "$bin/bench-c" bench/c/bench.c
  cc -O2 -o "$bin/cuda_exec" bench/c/cuda_exec.c -ldl
else
  log "no cc: using bench/prebuilt/bench-c and bench/prebuilt/cuda_exec"
  cp bench/prebuilt/bench-c bench/prebuilt/cuda_exec "$bin/"
fi
for b in dmabuf-bench dmabuf-bench-peer; do
  if [ -x "target/release/$b" ]; then cp "target/release/$b" "$bin/"; else cp "bench/prebuilt/$b" "$bin/"; fi
done
chmod +x "$bin"/*

probe=0
"$bin/cuda_exec" --probe 2>"$bin/probe" || probe=$?
if [ "$probe" = 77 ]; then
  log "gpu.sh: skipped: $(cat "$bin/probe")"
  exit 0
elif [ "$probe" != 0 ]; then
  log "gpu.sh: cuda_exec --probe failed (exit $probe): $(cat "$bin/probe")"
  exit 1
fi
log "$(cat "$bin/probe")"

node_ok=''
if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  node_ok=1
fi
binding=''
for f in target/bench/dmabuf.node bench/prebuilt/dmabuf.node; do
  if [ -f "$f" ]; then binding=$PWD/$f; break; fi
done

if [ -n "$node_ok" ] && [ -n "$binding" ]; then
  # With udmabuf (loaded here if the kernel has the module), the cases that
  # need a mappable buffer (3, 4) run on this real kernel too, beside CUDA's 1 and 2.
  [ -e /dev/udmabuf ] || modprobe udmabuf 2>/dev/null || true
  mode=--cuda-only
  [ -e /dev/udmabuf ] && mode=--cuda
  log "node $(node --version): running bench/run.mjs $mode (binding $binding)"
  DMABUF_BENCH_BIN_DIR=$bin DMABUF_BENCH_BINDING=$binding DMABUF_BENCH_OUT=$out \
    node bench/run.mjs --no-build $mode --rounds "$rounds" --time-ms "$time_ms" ${DMABUF_BENCH_ONLY:+--only "$DMABUF_BENCH_ONLY"}
  exit 0
fi

js_why="node >= 20 is not on PATH here"
[ -z "$node_ok" ] || js_why="no binding: neither target/bench/dmabuf.node nor bench/prebuilt/dmabuf.node"
log "$js_why: measuring C and Rust only"
"$bin/cuda_exec" -- bash "$here/gpu.sh" --inner "$bin" >"$bin/lines"

# ---- results.json and the table, in bash --------------------------------
esc() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "${s//$'\t'/ }"; }
field() { sed -nE "s/.*\"$2\":(\"([^\"]*)\"|([-0-9.e+]+)).*/\2\3/p" <<<"$1" | head -n 1; }
exporter=$(sed -nE 's/.*exp_name ([^)]*)\).*/\1/p' "$bin/probe")
declare -A med p10 p90 n cell why
while IFS=$'\t' read -r kase who rc json; do
  k="$kase/$who"
  if [ "$rc" = 0 ]; then
    med[$k]=$(field "$json" median); p10[$k]=$(field "$json" p10); p90[$k]=$(field "$json" p90); n[$k]=$(field "$json" n)
  elif [ "$rc" = 3 ]; then
    why[$k]="unavailable: $(field "$json" unavailable)"
  else
    why[$k]="failed: exit $rc: $json"
  fi
done <"$bin/lines"

fmt() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.3g ms", v / 1e6; else if (v >= 1e3) printf "%.3g µs", v / 1e3; else printf "%.3g ns", v }'; }
contenders=(C Rust JS 'Rust peer (dma-buf crate)' 'Node peer (koffi)' 'Node peer (ioctl)')
js_json="{\"unavailable\":\"$(esc "$js_why")\"}"
cases_json='' table=''
for kase in sync export; do
  if [ $kase = sync ]; then id=1-cuda name="1 (CUDA nv_dmabuf)"; else id=2-cuda name="2 (CUDA nv_dmabuf)"; fi
  cj='' row="| $name | ns/op (lower is better) |"
  for who in "${contenders[@]}"; do
    k="$kase/$who"
    if [ -n "${med[$k]:-}" ]; then
      v="{\"median\":${med[$k]},\"p10\":${p10[$k]},\"p90\":${p90[$k]},\"n\":${n[$k]}}"
      row+=" $(fmt "${med[$k]}") [$(fmt "${p10[$k]}") – $(fmt "${p90[$k]}")] |"
    elif [ -n "${why[$k]:-}" ]; then
      v="{\"${why[$k]%%:*}\":\"$(esc "${why[$k]#*: }")\"}"
      row+=" n/a (${why[$k]}) |"
    else
      v=$js_json
      row+=" n/a ($js_why) |"
    fi
    cj+="${cj:+,}\"$(esc "$who")\":$v"
  done
  cases_json+="${cases_json:+,}{\"id\":\"$id\",\"name\":\"$name\",\"unit\":\"ns/op (lower is better)\",\"kernelEmulated\":false,\"exporter\":\"$(esc "$exporter")\",\"contenders\":{$cj}}"
  table+="$row"$'\n'
done

goals_json='' goals_table=''
goal() { # GOAL NUM DEN LIMIT
  local r met
  if [ -n "${med[$2]:-}" ] && [ -n "${med[$3]:-}" ]; then
    r=$(awk -v a="${med[$2]}" -v b="${med[$3]}" 'BEGIN { printf "%.3f", a / b }')
    met=$(awk -v r="$r" -v l="$4" 'BEGIN { print (r <= l) ? "true" : "false" }')
    goals_json+="${goals_json:+,}{\"goal\":\"$1\",\"ratio\":$r,\"limit\":$4,\"met\":$met}"
    goals_table+="| $1 | $r | $4 | $([ "$met" = true ] && echo met || echo '**MISSED**') |"$'\n'
  else
    goals_json+="${goals_json:+,}{\"goal\":\"$1\",\"ratio\":null,\"limit\":$4,\"met\":null,\"note\":\"not measurable: $(esc "$js_why")\"}"
    goals_table+="| $1 | - | $4 | not measured ($js_why) |"$'\n'
  fi
}
goal '1 (CUDA): JS ÷ C ≤ 1.5' sync/JS sync/C 1.5
goal '1 (CUDA): Rust ÷ C ≤ 1.1' sync/Rust sync/C 1.1
goal '2 (CUDA): JS ÷ C ≤ 1.5' export/JS export/C 1.5

uname_a=$(uname -a)
cpu=$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n 1)
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1 || true)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rustc=$(rustc --version 2>/dev/null || sed -n 's/^rustc: //p' bench/prebuilt/BUILD-INFO 2>/dev/null || true)
printf '{\n  "date": "%s",\n  "machine": {"uname": "%s", "cpu": "%s", "node": null, "rustc": "%s", "gpu": "%s"},\n  "kernelEmulated": false,\n  "cases": [%s],\n  "goals": [%s]\n}\n' \
  "$date" "$(esc "$uname_a")" "$(esc "$cpu")" "$(esc "$rustc")" "$(esc "$gpu")" "$cases_json" "$goals_json" >"$out"

cat <<EOF

dmabuf benchmarks (CUDA), $date
machine: $uname_a; CPU $cpu; GPU $gpu
kernel emulated (qemu TCG): no

| case | unit | $(IFS='|'; echo "${contenders[*]}" | sed 's/|/ | /g') |
|---|---|---|---|---|---|---|---|
${table}
Cells: median [p10 – p90]; one run of $((time_ms * rounds)) ms per contender.

| goal | ratio | limit | result |
|---|---|---|---|
${goals_table}
EOF
log "wrote $out"
