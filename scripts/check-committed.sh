#!/usr/bin/env bash
# Fails when the working tree differs from the commit: .ci/run calls it after
# `npm install` and again after the test and a fresh `npm run build:debug`.
# Generated and compiled files are committed (the napi loader native.js and
# native.d.ts, the compiled TypeScript index.js, index.d.ts, cli.js and the
# rest of lib/'s output, package-lock.json); a build or an install that
# rewrites one of them means the commit holds a stale or hand-edited copy.
# Untracked files count too: an output that is neither committed nor named in
# .gitignore is a generated file nobody decided about.
#
#   bash scripts/check-committed.sh [WHEN]   # WHEN: words for the message
set -euo pipefail
cd "$(dirname "$0")/.."
when=${1:-}

if ! git rev-parse --is-inside-work-tree >/dev/null; then
  echo "check-committed: $PWD is not a git work tree: nothing to compare generated files with" >&2
  exit 1
fi
status=$(git status --porcelain --untracked-files=all)
if [ -z "$status" ]; then
  echo "check-committed: the working tree matches the commit${when:+ $when}"
  exit 0
fi
{
  echo
  echo "check-committed: FAILED: the working tree differs from the commit${when:+ $when}:"
  echo "$status"
  echo
  echo "These files are generated or compiled and committed. The commit holds a"
  echo "stale or hand-edited copy: run 'npm install' and 'npm run build:debug',"
  echo "commit what they change (or name a new output in .gitignore), and never"
  echo "edit native.*, index.*, cli.js or package-lock.json by hand."
  echo
  git --no-pager diff --stat
  echo "--- first lines of the difference:"
  git --no-pager diff | head -n 40 || true
} >&2
exit 1
