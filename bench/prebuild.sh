#!/usr/bin/env bash
# Builds the artifacts bench/gpu.sh uses on a machine without toolchains, into
# bench/prebuilt/ (x86_64 Linux; see bench/README.md):
#   bench-c            the C contender, static
#   cuda_exec          dlopen()s libcuda.so.1, so dynamic (glibc >= 2.34)
#   dmabuf-bench       the Rust contender (release; glibc >= 2.34)
#   dmabuf-bench-peer  the Rust peer (dma-buf/dma-heap crates)
#   dmabuf.node        the release Node binding (loaded through index.js)
#   fake_dmabuf.so     bench/profile/native.sh's shim (a memfd passed off as a dma-buf)
#   bench-c-dynamic    the C contender linked dynamically, so that the shim reaches it
#   vulkan-gpu         bench/vulkan-gpu.sh's checks (release; glibc >= 2.34), and
#   vulkan/            this machine's Vulkan loader and glvnd libraries (libvulkan.so.1,
#                      libGLdispatch.so.0, libGLX.so.0, libEGL.so.1, libGL.so.1,
#                      libOpenGL.so.0: NVIDIA's Vulkan driver failed to load without
#                      them), for a GPU machine without them
# and prints each one's size and newest required GLIBC version.
set -euo pipefail
cd "$(dirname "$0")/.."
p=bench/prebuilt
mkdir -p "$p"
cc -O2 -static -o "$p/bench-c" bench/c/bench.c
cc -O2 -o "$p/cuda_exec" bench/c/cuda_exec.c -ldl
cc -O2 -shared -fPIC -o "$p/fake_dmabuf.so" bench/profile/fake_dmabuf.c -ldl
cc -O2 -o "$p/bench-c-dynamic" bench/c/bench.c  # for native.sh: LD_PRELOAD needs a dynamic binary
cargo build --release -p dmabuf-bench
cp target/release/dmabuf-bench target/release/dmabuf-bench-peer "$p/"
cargo build --release -p dmabuf --features vulkan --example vulkan-gpu
cp target/release/examples/vulkan-gpu "$p/"
mkdir -p "$p/vulkan"
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libGL.so.1 libOpenGL.so.0; do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ { print $NF; exit }')" "$p/vulkan/$lib"
done
npx napi build --platform --release --manifest-path crates/dmabuf-node/Cargo.toml --package-json-path package.json \
  --output-dir target/bench/napi --no-js --dts index.d.ts --no-const-enum
cp target/bench/napi/dmabuf.linux-x64-gnu.node "$p/dmabuf.node"
{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm), $(ldd --version | head -n 1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "rustc: $(rustc --version)"
  echo "cc: $(cc --version | head -n 1)"
} >"$p/BUILD-INFO"
strip "$p/bench-c" "$p/bench-c-dynamic" "$p/cuda_exec" "$p/dmabuf-bench" "$p/dmabuf-bench-peer" "$p/dmabuf.node" "$p/vulkan-gpu"
for f in "$p"/bench-c "$p"/cuda_exec "$p"/dmabuf-bench "$p"/dmabuf-bench-peer "$p"/dmabuf.node "$p"/vulkan-gpu; do
  glibc=$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1 || true)
  printf '%-28s %8s  %s\n' "$f" "$(du -h "$f" | cut -f1)" "${glibc:-static}"
done
