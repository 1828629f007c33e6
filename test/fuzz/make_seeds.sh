#!/usr/bin/env bash
# test/fuzz/make_seeds.sh - the seed corpus of the reader fuzzer: real
# checkpoints of test programs, uncompressed copies of them, and the
# synthetic files of ckpt-inspect's tests. Used by scripts/fuzz.sh and
# test/fuzz/reader-fuzz.test; takes a few seconds.
#
#   make_seeds.sh BUILD_DIR OUT_DIR
#
# Real checkpoints (each also uncompressed by ckpt_fuzz_uncompress, so that
# mutations reach the records instead of breaking zstd frames):
#   prog      test/tools/Inputs/inspect_prog.c: checkpoints itself in deep
#             frames, with exclusions, a restart hook and files
#   threads   test/tools/Inputs/inspect_threads.c: threads in a condition
#             wait, a lock wait and finished, pthread keys and TLS
#   pipeline  test/e2e/programs/threads_pipeline.c: 8 threads, taken from
#             outside with ckpt-run --checkpoint PID while they run
#   mac       inspect_prog again, with a MAC (--key-file; the key text is
#             reader_fuzz.c's FUZZ_KEY_TEXT, so the fuzzer can recompute it)
# Synthetic (test/tools/Inputs/mkckpt.py): one file per structural rule of
# docs/format.md, every thread state and call kind.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
bin=$build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The programs' output and warnings (descriptors of this script that a
# restart could not reopen) go to a log, shown only if a step fails.
trap 'echo "make_seeds: failed; what the programs said:" >&2; cat "$work/log" >&2' ERR
cd "$work"
: > log

"$bin/ckpt-cc" -O2 "$root/test/tools/Inputs/inspect_prog.c" -o prog
"$bin/ckpt-cc" -O2 "$root/test/tools/Inputs/inspect_threads.c" -o threads
"$bin/ckpt-cc" -O2 "$root/test/e2e/programs/threads_pipeline.c" -o pipeline -lm
"$bin/ckpt-run" --dir ck-prog -- ./prog out.txt >> log 2>&1
"$bin/ckpt-run" --dir ck-threads -- ./threads >> log 2>&1
printf 'ckpt reader fuzz key, not a secret\n' > key
chmod 600 key
"$bin/ckpt-run" --dir ck-mac --key-file key -- ./prog out2.txt >> log 2>&1

# From outside, while the threads run; then the run is killed.
"$bin/ckpt-run" --dir ck-pipeline -- ./pipeline 50 >> log 2>&1 &
pid=$!
sleep 0.5
"$bin/ckpt-run" --checkpoint "$pid" >> log 2>&1 || true
# Both in one redirection, so bash's "Killed" notice goes too.
{ kill -9 "$pid"; wait "$pid"; } 2> /dev/null || true

n=0
for name in prog threads pipeline mac; do
  for f in ck-"$name"/*.ckpt; do
    [ -f "$f" ] || continue
    base=real-$name-$(basename "$f" .ckpt)
    cp "$f" "$out/$base.ckpt"
    "$build/test/fuzz/ckpt_fuzz_uncompress" "$f" "$out/$base-raw.ckpt"
    n=$((n + 2))
  done
done
[ "$n" -ge 8 ] || { echo "make_seeds: only $n real checkpoints" >&2; exit 1; }

python3 "$root/test/tools/Inputs/mkckpt.py" synthetic > /dev/null
for f in synthetic/*.ckpt; do
  cp "$f" "$out/synthetic-$(basename "$f")"
done
echo "make_seeds: $(ls "$out" | wc -l) seeds in $out"
