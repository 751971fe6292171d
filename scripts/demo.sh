#!/usr/bin/env bash
# `npm run demo`: the repository's way to run `dmabuf demo` anywhere. On a
# host with a dma-buf exporter (/dev/udmabuf or a dma-heap) it runs the
# command directly; otherwise inside the project's VM (scripts/vm/run.sh),
# which has udmabuf, the system heap and vivid. The installed command never
# starts a VM: without an exporter it says what is missing and exits 3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e /dev/udmabuf ] || compgen -G '/dev/dma_heap/*' >/dev/null; then
  exec node cli.js demo "$@"
fi
echo "no dma-buf devices here: running the demo inside the project's VM (scripts/vm/run.sh)"
exec bash scripts/vm/run.sh node cli.js demo "$@"
