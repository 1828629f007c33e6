#!/usr/bin/env bash
# scripts/fuzz.sh [MINUTES [LIBFUZZER_OPTION...]] - fuzz the checkpoint
# reader (test/fuzz/reader_fuzz.c: the container, the restart's META parsing
# and ckpt-inspect's section decoding) for MINUTES minutes (default 10);
# further options go to libFuzzer as they are. docs/fuzzing.md.
#
# Builds (scripts/build.sh, honouring CKPT_BUILD_DIR), makes the seed corpus
# from real checkpoints of test programs if the corpus is empty
# (test/fuzz/make_seeds.sh), then runs one libFuzzer process (the machine
# has 2 cores; the other one keeps the system responsive). The corpus grows
# in BUILD/fuzz/corpus across runs; crashes are written to BUILD/fuzz/ and
# the full log is BUILD/fuzz/last.log. The last line is a summary; the exit
# status is non-zero if the fuzzer found a crash, a leak or a hang.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
case $minutes in
'' | *[!0-9]*)
  echo "usage: scripts/fuzz.sh [MINUTES [LIBFUZZER_OPTION...]]" >&2
  exit 2 ;;
esac
shift $(($# > 0 ? 1 : 0))
build=$("$root/scripts/build.sh")
fuzzer=$build/test/fuzz/reader_fuzz
if [ ! -x "$fuzzer" ]; then
  echo "fuzz: $fuzzer was not built (clang-19 without libFuzzer?" \
       "Debian: apt-get install libclang-rt-19-dev)" >&2
  exit 1
fi
dir=$build/fuzz
mkdir -p "$dir/corpus"
if [ -z "$(ls -A "$dir/corpus")" ]; then
  rm -rf "$dir/seeds"
  "$root/test/fuzz/make_seeds.sh" "$build" "$dir/seeds" >&2
  cp "$dir/seeds"/* "$dir/corpus/"
fi

log=$dir/last.log
echo "fuzz: $minutes min, corpus $dir/corpus ($(ls "$dir/corpus" | wc -l)" \
     "inputs), log $log" >&2
status=0
# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a reader that
# lets a file make it allocate gigabytes is a bug too. The dictionary holds
# the magic numbers and markers of the format.
"$fuzzer" -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/test/fuzz/reader.dict" -artifact_prefix="$dir/" \
  -print_final_stats=1 "$@" "$dir/corpus" > "$log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
if [ "$status" -ne 0 ]; then
  artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
  grep -E 'ERROR: |SUMMARY: |runtime error|reader_fuzz: ' "$log" | head -n 5 >&2 || true
  echo "fuzz: FAILED after ${execs:-?} executions: crash input" \
       "${artifact:-(none written, see $log)}; cov ${cov:-?}"
  exit 1
fi
echo "fuzz: ${execs:-?} executions in $minutes min, cov ${cov:-?}," \
     "ft ${ft:-?}, corpus ${corp:-?} inputs, 0 crashes"
