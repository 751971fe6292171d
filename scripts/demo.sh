#!/usr/bin/env bash
# `npm run demo`: the repository's way to run `dmabuf demo` anywhere. It runs
# the command here first; when the command exits 3 (this host lacks what the
# demo needs: a dma-buf exporter, or with --source v4l2 a capture node), it
# runs it again inside the project's VM (scripts/vm/run.sh), which has
# udmabuf, the system heap and vivid; with --sink kms (no KMS display here)
# inside the custom-kernel VM (DMABUF_VM_KERNEL=custom), which has vkms.
# The command decides what is missing, so this script and the command
# cannot disagree about it. The installed
# command never starts a VM: without an exporter it says what is missing and
# exits 3.
set -uo pipefail
cd "$(dirname "$0")/.."
# The command's stderr waits in a file until it exits: on exit 3 its line
# ("in a checkout, npm run demo runs it inside the project VM") would only
# confuse, so this script's own line replaces it.
err=$(mktemp)
node cli.js demo "$@" 2>"$err"
rc=$?
if [ "$rc" = 3 ] && [ "${DMABUF_VM:-}" != 1 ]; then
  what='dma-buf devices'
  grep -q 'V4L2 capture node' "$err" && what='V4L2 capture node'
  if grep -q 'no KMS display' "$err"; then
    what='KMS display'
    export DMABUF_VM_KERNEL=custom
  fi
  rm -f "$err"
  echo "no $what here: running the demo inside the project's ${DMABUF_VM_KERNEL:+$DMABUF_VM_KERNEL-kernel }VM (scripts/vm/run.sh)"
  exec bash scripts/vm/run.sh node cli.js demo "$@"
fi
cat "$err" >&2
rm -f "$err"
exit "$rc"
