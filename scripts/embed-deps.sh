#!/bin/bash
# scripts/embed-deps.sh ARCHIVE DEP_ARCHIVE... - put the members of the
# runtime's static dependencies (zstd, xxHash, libsodium) that ARCHIVE (a
# libckpt*.a) uses into ARCHIVE, as one relocatable object in which only the
# functions the runtime calls stay global. Every other symbol of those
# libraries becomes local, so it cannot clash with the program's own names
# (libsodium's argon2 code defines a global `initialize`, and so does mawk),
# and the functions the runtime calls are renamed __ckpt_dep_NAME, in that
# object and in the runtime's members alike: a program may carry its own
# zstd or xxHash (the zstd program does: "multiple definition of
# `ZSTD_isError'").
# Run by CMake after each build of the archive.
set -euo pipefail
archive=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -u --format=posix "$archive" | awk 'NF >= 2 && $2 == "U" {print $1}' |
  sort -u > "$tmp/needed"
for lib in "$@"; do
  nm --defined-only --format=posix "$lib" 2>/dev/null
done | awk 'NF >= 2 && $2 ~ /^[TDBRWVi]$/ {print $1}' | sort -u > "$tmp/defined"
comm -12 "$tmp/needed" "$tmp/defined" > "$tmp/api"
if [ ! -s "$tmp/api" ]; then
  echo "embed-deps.sh: $archive uses nothing from $*" >&2
  exit 1
fi
ld -r -o "$tmp/ckpt_deps.o" $(sed 's/^/-u /' "$tmp/api") \
  --start-group "$@" --end-group
objcopy $(sed 's/^/--keep-global-symbol=/' "$tmp/api") "$tmp/ckpt_deps.o"
sed 's/.*/& __ckpt_dep_&/' "$tmp/api" > "$tmp/renames"
objcopy --redefine-syms="$tmp/renames" "$tmp/ckpt_deps.o"
objcopy --redefine-syms="$tmp/renames" "$archive"
ar rs "$archive" "$tmp/ckpt_deps.o"
