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
# On a machine without cc, cargo or npm (the GPU machine), it takes
# bench/prebuilt/ instead (`bash bench/prebuild.sh` makes it, with
# fake_dmabuf.so); NODE22=/path/to/node runs the Node 22 rows.
#
# koffi and the Rust peer are absent: they reach ioctl without going through
# the dynamic symbol the shim replaces (koffi looks it up in libc itself;
# the dma-buf crate uses rustix's raw system calls).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/bench/profile
mkdir -p "$out"
if [ -f target/bench/dmabuf.node ] && command -v cc >/dev/null &&
  cc -O2 -Wall -Wextra -shared -fPIC -o "$out/fake_dmabuf.so" bench/profile/fake_dmabuf.c -ldl; then
  shim=$PWD/$out/fake_dmabuf.so binding=$PWD/target/bench/dmabuf.node
  c=target/bench/bench-c rust=target/release/dmabuf-bench
else
  shim=$PWD/bench/prebuilt/fake_dmabuf.so binding=$PWD/bench/prebuilt/dmabuf.node
  c=bench/prebuilt/bench-c-dynamic rust=bench/prebuilt/dmabuf-bench
fi
export LD_PRELOAD=$shim NAPI_RS_NATIVE_LIBRARY_PATH=$binding
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
  run 4096 $kase C $c
  run 4096 $kase Rust $rust
  run 4096 $kase JS node bench/js/dmabuf.js
  run 4096 $kase 'Node peer (ioctl)' node bench/js/ioctl.js
done
for size in 4096 268435456; do
  run $size map C $c
  run $size map Rust $rust
  for kase in map mapbuf; do
    run $size $kase "JS (node $(node --version))" node bench/js/dmabuf.js
    [ -z "$node22" ] || run $size $kase "JS (node $($node22 --version))" "$node22" bench/js/dmabuf.js
  done
done
run 67108864 read C $c
run 67108864 read Rust $rust
run 67108864 read JS node bench/js/dmabuf.js
run 67108864 readheap JS node bench/js/dmabuf.js
run 67108864 copy C $c
run 67108864 copy JS node bench/js/dmabuf.js
run 1048576 rw C $c
run 1048576 rw Rust $rust
run 1048576 rw JS node bench/js/dmabuf.js
