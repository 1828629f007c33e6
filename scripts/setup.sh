#!/usr/bin/env bash
# scripts/setup.sh - install what ckpt needs to build and test (Debian 12),
# only when something is missing. Used by demo.sh and test.sh.
set -euo pipefail
packages=(clang-19 llvm-19-dev libclang-19-dev llvm-19-tools libzstd-dev
          libxxhash-dev libsodium-dev libdw-dev libclang-rt-19-dev libomp-19-dev cmake make gcc g++ python3
          autoconf automake libtool meson ninja-build
          python3-psutil)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1
fi
