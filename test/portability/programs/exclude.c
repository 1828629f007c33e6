/* exclude.c - portability program (scripts/portability.sh): exclusion.
 *
 * Two tables the program can recompute are left out of its checkpoints:
 * `powers`, a global marked CKPT_EXCLUDE, and `sieve`, a heap block passed
 * to ckpt_exclude. They come back as zeros after a restart, and the
 * callback registered with ckpt_on_restart rebuilds them before the program
 * resumes; every step reads both, so a missing or wrong rebuild changes the
 * output. The program asks for a checkpoint itself, with ckpt_checkpoint(),
 * at step CKPT_STEP, so the driver knows a checkpoint exists. The callback
 * prints nothing (the output must equal an uninterrupted run's); a plain
 * compiler gets ckpt.h's do-nothing definitions of the API.
 *
 * Usage: exclude [scale]   (default 1; ~5 s at -O2, in 60 steps)
 */
#include <ckpt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTEPS 60
#define CKPT_STEP 24
#define NPOW 65536
#define SIEVE_N (1u << 22)

CKPT_EXCLUDE static uint64_t powers[NPOW]; /* 3^i mod 2^64: 512 KiB */
static unsigned char *sieve;                /* sieve[i]: i is prime */

static void build_powers(void) {
  uint64_t p = 1;
  for (int i = 0; i < NPOW; i++) {
    powers[i] = p;
    p *= 3;
  }
}

static void build_sieve(void) {
  memset(sieve, 1, SIEVE_N);
  sieve[0] = sieve[1] = 0;
  for (uint32_t i = 2; (uint64_t)i * i < SIEVE_N; i++)
    if (sieve[i])
      for (uint32_t j = i * i; j < SIEVE_N; j += i)
        sieve[j] = 0;
}

static void rebuild(void *arg) {
  (void)arg;
  build_powers();
  build_sieve();
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  sieve = malloc(SIEVE_N);
  if (!sieve) {
    perror("exclude: malloc");
    return 1;
  }
  build_powers();
  build_sieve();
  if (ckpt_exclude(sieve, SIEVE_N) != 0 ||
      ckpt_on_restart(rebuild, NULL) != 0) {
    fprintf(stderr, "exclude: ckpt_exclude or ckpt_on_restart failed\n");
    return 1;
  }
  printf("exclude: %d steps, checkpoint at step %d\n", NSTEPS, CKPT_STEP);
  fflush(stdout);

  uint64_t h = 0, s = 7;
  for (int step = 1; step <= NSTEPS; step++) {
    if (step == CKPT_STEP && ckpt_checkpoint() == CKPT_FAILED) {
      fprintf(stderr, "exclude: ckpt_checkpoint failed at step %d\n", step);
      return 1;
    }
    unsigned primes = 0;
    for (long k = 0; k < 50000000L * scale; k++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      uint32_t i = (uint32_t)(s >> 42); /* 22 bits: an index into sieve */
      primes += sieve[i];
      h = (h ^ powers[i & (NPOW - 1)]) * 0x100000001b3ULL + sieve[i];
    }
    printf("step %2d/%d: primes %u h %016llx\n", step, NSTEPS, primes,
           (unsigned long long)h);
    fflush(stdout); /* progress is visible to the driver line by line */
  }
  free(sieve);
  printf("exclude: final %016llx\n", (unsigned long long)h);
  return 0;
}
