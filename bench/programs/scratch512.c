/* bench/programs/scratch512.c - a 512 MB scratch array next to 8 MB of real
 * state: the case exclusion is for. Built four ways by bench.py:
 *   (none)               scratch is a global, saved
 *   -DEXCLUDE_GLOBAL     the global is marked CKPT_EXCLUDE
 *   -DHEAP               scratch is a heap block, saved
 *   -DHEAP -DEXCLUDE_HEAP  the block is passed to ckpt_exclude()
 * The program fills the scratch with pseudo-random bytes (what a solver's
 * work array looks like to a compressor), takes one checkpoint itself and
 * prints how long ckpt_checkpoint() took (until the file is durable). */
#include <ckpt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SCRATCH_BYTES (512u << 20)

#ifdef EXCLUDE_GLOBAL
CKPT_EXCLUDE
#endif
static uint64_t global_scratch[SCRATCH_BYTES / 8];
static double state[1 << 20];

int main(void) {
  uint64_t *scratch = global_scratch;
#ifdef HEAP
  scratch = malloc(SCRATCH_BYTES);
  if (!scratch)
    return 1;
#ifdef EXCLUDE_HEAP
  if (ckpt_exclude(scratch, SCRATCH_BYTES) != 0)
    return 1;
#endif
#endif
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < SCRATCH_BYTES / 8; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    scratch[i] = x;
  }
  /* The real state is as incompressible as the scratch: the comparison is
   * then about bytes saved, not about what zstd makes of them. */
  for (size_t i = 0; i < sizeof state / sizeof state[0]; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state[i] = (double)(x >> 11) * 0x1p-53;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int r = ckpt_checkpoint();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  double sum = 0;
  for (size_t i = 0; i < sizeof state / sizeof state[0]; i++)
    sum += state[i];
  printf("checkpoint=%d ms=%.1f sum=%.6f scratch=%llu\n", r, ms, sum,
         (unsigned long long)(scratch[12345] & 0xff));
  return 0;
}
