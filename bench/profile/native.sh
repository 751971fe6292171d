#!/usr/bin/env bash
# User-space cost on real hardware, without dma-buf devices: runs the
# contenders natively on a memfd that fake_dmabuf.so passes off as a dma-buf
# (it makes the real system call, then answers DMA_BUF_IOCTL_SYNC and
# EXPORT_SYNC_FILE itself). Kernel costs differ from a real exporter's, so
# these numbers only say how much each language adds; the real-kernel
# numbers are `npm run bench` (VM) and bench/gpu.sh (CUDA).
#
#   bash bench/profile/native.sh        (after `npm run bench` built everything)
#
# koffi and the Rust peer are absent: they reach ioctl without going through
# the dynamic symbol the shim replaces (koffi looks it up in libc itself;
# the dma-buf crate uses rustix's raw system calls).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/bench/profile
mkdir -p "$out"
cc -O2 -Wall -Wextra -shared -fPIC -o "$out/fake_dmabuf.so" bench/profile/fake_dmabuf.c -ldl
export LD_PRELOAD=$PWD/$out/fake_dmabuf.so NAPI_RS_NATIVE_LIBRARY_PATH=$PWD/target/bench/dmabuf.node
node22=${NODE22:-$(command -v node22 || true)}
[ -n "$node22" ] || [ ! -x target/pack/node22 ] || node22=target/pack/node22

run() { # SIZE CASE LABEL CMD...
  local size=$1 kase=$2 label=$3
  shift 3
  local line
  line=$(DMABUF_FAKE_SIZE=$size "$@" "$kase" --time-ms "${TIME_MS:-2000}" 2>&1 | tail -n 1)
  node -e '
    const [label, kase, size, line] = process.argv.slice(1)
    let r; try { r = JSON.parse(line) } catch { console.log(`${kase}\t${size}\t${label}\tFAILED: ${line}`); process.exit(0) }
    if (r.median === undefined) { console.log(`${kase}\t${size}\t${label}\t${JSON.stringify(r)}`); process.exit(0) }
    const f = (v) => r.unit === "ns" ? (v >= 1e3 ? (v / 1e3).toPrecision(3) + " µs" : v.toPrecision(3) + " ns") : v.toFixed(0) + " MiB/s"
    console.log(`${kase}\t${size}\t${label}\t${f(r.median)} [${f(r.p10)} – ${f(r.p90)}]`)' "$label" "$kase" "$size" "$line"
}

for kase in sync export; do
  run 4096 $kase C target/bench/bench-c
  run 4096 $kase Rust target/release/dmabuf-bench
  run 4096 $kase JS node bench/js/dmabuf.js
  run 4096 $kase 'Node peer (ioctl)' node bench/js/ioctl.js
done
for size in 4096 268435456; do
  run $size map C target/bench/bench-c
  run $size map Rust target/release/dmabuf-bench
  run $size map "JS (node $(node --version))" node bench/js/dmabuf.js
  [ -z "$node22" ] || run $size map "JS (node $($node22 --version))" "$node22" bench/js/dmabuf.js
done
run 67108864 read C target/bench/bench-c
run 67108864 read Rust target/release/dmabuf-bench
run 67108864 read JS node bench/js/dmabuf.js
run 1048576 rw C target/bench/bench-c
run 1048576 rw Rust target/release/dmabuf-bench
run 1048576 rw JS node bench/js/dmabuf.js
