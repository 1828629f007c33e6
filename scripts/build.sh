#!/usr/bin/env bash
# scripts/build.sh - configure and build ckpt into build/ (or $CKPT_BUILD_DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${CKPT_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCKPT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" -- --no-print-directory >/dev/null
echo "$build"
