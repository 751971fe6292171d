#!/usr/bin/env bash
# scripts/stress.sh CMD...: runs CMD with a CPU hog on every host core (one
# busy shell loop per core, at normal priority), the way a busy machine would
# run the suite, then kills every hog it started, whatever CMD's end (exit,
# failure, Ctrl-C). Exits with CMD's status. `DMABUF_TEST_STRESS=1 npm test`
# runs the whole suite this way (scripts/test.sh).
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/stress.sh CMD..." >&2; exit 2; }

hogs=()
stop_hogs() {
  local pid
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
  hogs=()
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cores=$(nproc)
for _ in $(seq "$cores"); do
  # Spins, and ends by itself should this script be SIGKILLed (no trap runs then).
  bash -c 'while kill -0 "$1" 2>/dev/null; do for ((i = 0; i < 200000; i++)); do :; done; done' hog $$ &
  hogs+=("$!")
done
echo "stress: $cores CPU hogs (pids ${hogs[*]}) while running: $*"
start=$SECONDS
"$@"
rc=$?
echo "stress: '$*' exited $rc after $((SECONDS - start)) s under $cores CPU hogs"
exit "$rc"
