#!/usr/bin/env bash
# scripts/demo.sh - the main job: install dependencies, build ckpt, then
# build examples/heat_threads.c (5 threads: main and 4 workers on barriers)
# with ckpt-cc, run it under ckpt-run, take a checkpoint, kill it with SIGKILL, restart it with ckpt-run --restart and
# show that it finishes with exactly the output of an uninterrupted run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
echo "== building ckpt"
build=$("$root/scripts/build.sh")
bin=$build/bin
work=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
cd "$work"
steps=8000

echo "== compiling examples/heat_threads.c with plain clang-19 and with ckpt-cc"
clang-19 -O2 "$root/examples/heat_threads.c" -o heat-plain
"$bin/ckpt-cc" -O2 "$root/examples/heat_threads.c" -o heat
./heat-plain $steps > reference.txt
echo "   reference run: $(tail -n 1 reference.txt)"

echo "== running: ckpt-run --dir ckpts -- ./heat $steps > output.txt"
"$bin/ckpt-run" --dir ckpts -- ./heat $steps > output.txt &
pid=$!
sleep 0.6
echo "== ckpt-run --checkpoint $pid"
"$bin/ckpt-run" --checkpoint $pid
sleep 0.3
echo "== kill -9 $pid"
kill -9 $pid
wait $pid 2>/dev/null || true
echo "   output when killed: $(tail -n 1 output.txt)  ($(wc -l < output.txt) lines)"
echo "   checkpoint ($(stat -c %s ckpts/ckpt-000001.ckpt) bytes), as ckpt-inspect shows its threads:"
"$bin/ckpt-inspect" ckpts/ckpt-000001.ckpt | grep -E '^  thread in slot|^    #0 ' | sed 's/^/     /'
"$bin/ckpt-inspect" --verify ckpts/ckpt-000001.ckpt | tail -n 1 | sed 's/^/   /'

echo "== ckpt-run --restart ckpts"
"$bin/ckpt-run" --restart ckpts
echo "   restarted run finished: $(tail -n 1 output.txt)"

if cmp -s reference.txt output.txt; then
  echo "== OK: output after kill -9 and restart is byte-identical to the uninterrupted run ($(wc -l < output.txt) lines)"
  rm -rf "$work"
else
  echo "== FAILED: output differs from the uninterrupted run (kept in $work)"
  diff reference.txt output.txt | head
  exit 1
fi
