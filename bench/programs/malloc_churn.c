/* bench/programs/malloc_churn.c - allocator micro-benchmark, the same source
 * built with clang-19 -O2 (glibc's malloc) and ckpt-cc -O2 (ckpt's heap).
 *
 *   malloc_churn small    1M malloc+free pairs of 16..256-byte blocks over a
 *                         window of 64 live blocks, one thread
 *   malloc_churn threads  the same, in each of 8 threads at once
 *   malloc_churn realloc  64 buffers grown by realloc in steps of 1..4 KiB,
 *                         round robin, up to 2 MiB each (as a program
 *                         appending to many buffers does); 2 rounds
 *   malloc_churn double   the same, each step doubling the size (as a
 *                         growable array does), up to 4 MiB
 *   malloc_churn large    4000 blocks of 64 KiB .. 4 MiB: malloc, write one
 *                         byte per page, free (a window of 4 live blocks)
 *
 * Prints a checksum so the work cannot be optimised away, and the mode's
 * own wall and CPU time in ms (process start-up excluded). The sizes come
 * from a fixed pseudo-random sequence, so both builds do the same calls. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_next(uint64_t *state) { /* xorshift64* */
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* Request sizes as programs make them: mostly small, some up to 256. */
static size_t small_size(uint64_t *rng) {
  uint64_t r = rng_next(rng);
  unsigned pick = (unsigned)(r & 7);
  size_t n = 16 + (size_t)((r >> 8) % 49); /* 16..64 */
  if (pick >= 5)
    n = 16 + (size_t)((r >> 8) % 113); /* 16..128 */
  if (pick == 7)
    n = 16 + (size_t)((r >> 8) % 241); /* 16..256 */
  return n;
}

#define WINDOW 64
#define PAIRS 1000000

static void *churn(void *arg) {
  uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (uintptr_t)arg;
  unsigned char *live[WINDOW] = {0};
  uint64_t sum = 0;
  for (long i = 0; i < PAIRS; i++) {
    unsigned k = (unsigned)(rng_next(&rng) % WINDOW);
    if (live[k]) {
      sum += live[k][0];
      free(live[k]);
    }
    size_t n = small_size(&rng);
    live[k] = malloc(n);
    if (!live[k])
      abort();
    live[k][0] = (unsigned char)n;
    live[k][n - 1] = 1;
  }
  for (unsigned k = 0; k < WINDOW; k++)
    free(live[k]);
  return (void *)(uintptr_t)sum;
}

static uint64_t run_threads(int count) {
  pthread_t threads[64];
  uint64_t sum = 0;
  for (int i = 0; i < count; i++)
    if (pthread_create(&threads[i], NULL, churn, (void *)(uintptr_t)(i + 1)))
      abort();
  for (int i = 0; i < count; i++) {
    void *rv;
    pthread_join(threads[i], &rv);
    sum += (uintptr_t)rv;
  }
  return sum;
}

#define BUFFERS 64
#define GROW_TO (2u << 20)
#define ROUNDS 2

static uint64_t realloc_growth(int doubling) {
  uint64_t rng = 42, sum = 0;
  for (int round = 0; round < ROUNDS; round++) {
    unsigned char *buf[BUFFERS] = {0};
    size_t len[BUFFERS] = {0};
    int growing = BUFFERS;
    while (growing) {
      growing = 0;
      for (int b = 0; b < BUFFERS; b++) {
        if (len[b] >= GROW_TO)
          continue;
        size_t step = 1024 + (size_t)(rng_next(&rng) % 3072);
        size_t n = doubling && len[b] ? 2 * len[b] : len[b] + step;
        buf[b] = realloc(buf[b], n);
        if (!buf[b])
          abort();
        memset(buf[b] + len[b], (int)b, n - len[b]);
        len[b] = n;
        growing++;
      }
    }
    for (int b = 0; b < BUFFERS; b++) {
      sum += buf[b][len[b] / 2];
      free(buf[b]);
    }
  }
  return sum;
}

#define LARGE_WINDOW 4
#define LARGE_COUNT 4000

static uint64_t large_blocks(void) {
  uint64_t rng = 7, sum = 0;
  unsigned char *live[LARGE_WINDOW] = {0};
  size_t len[LARGE_WINDOW] = {0};
  for (int i = 0; i < LARGE_COUNT; i++) {
    unsigned k = (unsigned)(rng_next(&rng) % LARGE_WINDOW);
    if (live[k]) {
      sum += live[k][len[k] - 1];
      free(live[k]);
    }
    /* Log-uniform between 64 KiB and 4 MiB. */
    unsigned shift = 16 + (unsigned)(rng_next(&rng) % 6);
    size_t n =
        ((size_t)1 << shift) + (size_t)(rng_next(&rng) % ((size_t)1 << shift));
    if (n > (4u << 20))
      n = 4u << 20;
    live[k] = malloc(n);
    if (!live[k])
      abort();
    for (size_t off = 0; off < n; off += 4096)
      live[k][off] = (unsigned char)off;
    live[k][n - 1] = (unsigned char)i;
    len[k] = n;
  }
  for (unsigned k = 0; k < LARGE_WINDOW; k++)
    free(live[k]);
  return sum;
}

static double ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "small";
  uint64_t sum;
  double wall0 = ms(CLOCK_MONOTONIC), cpu0 = ms(CLOCK_PROCESS_CPUTIME_ID);
  if (!strcmp(mode, "small"))
    sum = (uint64_t)(uintptr_t)churn((void *)1);
  else if (!strcmp(mode, "threads"))
    sum = run_threads(8);
  else if (!strcmp(mode, "realloc"))
    sum = realloc_growth(0);
  else if (!strcmp(mode, "double"))
    sum = realloc_growth(1);
  else if (!strcmp(mode, "large"))
    sum = large_blocks();
  else {
    fprintf(stderr, "usage: malloc_churn small|threads|realloc|double|large\n");
    return 2;
  }
  double wall = ms(CLOCK_MONOTONIC) - wall0;
  double cpu = ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  printf("%s sum %llu wall_ms %.2f cpu_ms %.2f\n", mode,
         (unsigned long long)sum, wall, cpu);
  return 0;
}
