#!/usr/bin/env bash
# scripts/test.sh - install dependencies, build, run the whole test suite
# (pass IR tests, sanitizer unit tests, tool tests, end-to-end kill/restart
# tests). The last line is the summary "N passed, N failed"; the exit status
# is non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$("$root/scripts/build.sh") || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
lit=$(llvm-config-19 --prefix)/build/utils/lit/lit.py
log=$(mktemp)
# Debian's python3 has psutil, which lit needs for per-test timeouts.
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" "$lit" -v --timeout 600 "$build/test" "$@" 2>&1 | tee "$log"
lit_status=${PIPESTATUS[0]}
passed=$(grep -cE '^(PASS|XFAIL): ' "$log")
failed=$(grep -cE '^(FAIL|XPASS|UNRESOLVED|TIMEOUT): ' "$log")
rm -f "$log"
if [ "$lit_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # lit itself failed (e.g. a configuration error)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
