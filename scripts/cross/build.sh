#!/usr/bin/env bash
# Cross-builds the binding (crates/dmabuf-node, release, the same profile as
# `npm run build`) for an ARM Linux target with Debian's toolchain in the
# root filesystem scripts/cross/root.sh makes, and writes the npm platform
# package's binary at the repository's top (ignored by git, as the x86_64
# one is):
#
#   bash scripts/cross/build.sh arm64   # dmabuf.linux-arm64-gnu.node
#   bash scripts/cross/build.sh armv7   # dmabuf.linux-arm-gnueabihf.node
#   bash scripts/cross/build.sh arm64 --tests
#
# --tests also builds what the ARM VM tier runs (scripts/vm-tier.sh under
# DMABUF_VM_ARCH, see scripts/test.sh): every Rust test binary of the
# workspace (`cargo test --no-run`, listed with their host paths in
# target/vm-tests-<arch>.list) and the fdpass_peer example.
#
# Prints the binary's size and the oldest glibc it runs on (its newest
# GLIBC_ symbol version). The repository and the host's cargo registry are
# bind-mounted into the root in a private mount namespace; the build goes to
# target/cross. Needs root (chroot). The typings and native.js are the
# x86_64 build's: the API does not depend on the target.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests=''
case ${2:-} in
  '') ;;
  --tests) tests=1 ;;
  *) echo "usage: scripts/cross/build.sh arm64|armv7 [--tests]" >&2; exit 2 ;;
esac
case ${1:-} in
  arm64) target=aarch64-unknown-linux-gnu; node=dmabuf.linux-arm64-gnu.node; gcc=aarch64-linux-gnu ;;
  armv7) target=armv7-unknown-linux-gnueabihf; node=dmabuf.linux-arm-gnueabihf.node; gcc=arm-linux-gnueabihf ;;
  *) echo "usage: scripts/cross/build.sh arm64|armv7 [--tests]" >&2; exit 2 ;;
esac
root=$(bash scripts/cross/root.sh)
repo=$(pwd)
registry=${CARGO_HOME:-$HOME/.cargo}/registry
mkdir -p "$registry" "$root/repo" "$root/root/.cargo/registry"
linker_var=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_LINKER
# cargo ARGS... inside the root, on the repository mounted at /repo.
cargo_in_root() {
  unshare --mount --propagation private env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    ROOT="$root" REPO="$repo" REGISTRY="$registry" LINKER_VAR="$linker_var" GCC="$gcc" bash -euc '
    mount -t proc proc "$ROOT/proc"
    mount --rbind /dev "$ROOT/dev"
    mount --bind "$REPO" "$ROOT/repo"
    mount --bind "$REGISTRY" "$ROOT/root/.cargo/registry"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    exec chroot "$ROOT" env HOME=/root CARGO_TERM_COLOR=never CARGO_TARGET_DIR=/repo/target/cross "$LINKER_VAR=$GCC-gcc" \
      cargo "$@"
  ' cargo "$@"
}
cargo_in_root build --release --locked -p dmabuf-node --target "$target" --manifest-path /repo/Cargo.toml
cp "target/cross/$target/release/libdmabuf_node.so" "$node"
# readelf reads any architecture's ELF (objdump only its own).
glibc=$(readelf --dyn-syms -W "$node" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "$node ($target): $(stat -c %s "$node") bytes, needs ${glibc/_/ } or newer"

[ -n "$tests" ] || exit 0
list=target/vm-tests-$1.list
cargo_in_root build --locked -p dmabuf --example fdpass_peer --target "$target" --manifest-path /repo/Cargo.toml
cargo_in_root test --workspace --no-run --locked --target "$target" --manifest-path /repo/Cargo.toml --message-format=json |
  node scripts/list-tests.mjs "$list" /repo "$repo"
test -s "$list" || { echo "no $target test binaries were built" >&2; exit 1; }
echo "$list: $(wc -l <"$list") test binaries; fdpass_peer: target/cross/$target/debug/examples/fdpass_peer"
