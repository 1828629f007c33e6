/* threads_radix.c - e2e program (threads): parallel LSD radix sort.
 *
 * SPLASH-2-style radix sort of 2^21 (key, index) pairs with NT worker
 * threads, round after round. Per round: every thread fills its chunk
 * (keys from a counter-based hash, so no shared generator), then for each
 * 8-bit digit: per-thread histograms, pthread_barrier_wait, every thread
 * derives its own scatter offsets from all histograms (global prefix sums
 * in thread order), scatters its chunk stably into the other buffer,
 * pthread_barrier_wait. Then each thread checks its chunk is sorted and
 * stable and hashes it; thread 0 combines the hashes in thread order and
 * prints. Some rounds use narrow keys (many duplicates: stability shows in
 * the hash of the indices). The main thread waits in pthread_join.
 *
 * Thread states most of the time: computing (histogram, scatter, verify)
 * or blocked in pthread_barrier_wait; the main thread in pthread_join.
 *
 * Usage: threads_radix [scale]   (default 1; ~2.5 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N (1u << 21)
#define NT 4
#define RADIX 256

static uint32_t *keys[2], *vals[2];
static uint32_t hist[NT][RADIX];
static uint64_t chunk_hash[NT];
static uint32_t chunk_bad[NT];
static pthread_barrier_t bar;
static int rounds;

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint32_t key_for(int round, uint32_t i) {
  uint64_t h = mix64(((uint64_t)round << 32) | i);
  switch (round % 4) {
  case 1:
    return (uint32_t)h & 0xFFFu; /* many duplicates */
  case 2:
    return (uint32_t)(h >> 40) << 8; /* low digit all zero */
  case 3:
    return (uint32_t)(N - i) * 2654435761u ^ (uint32_t)(h & 0xF);
  default:
    return (uint32_t)h;
  }
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  uint32_t c0 = (uint32_t)((uint64_t)N * t / NT);
  uint32_t c1 = (uint32_t)((uint64_t)N * (t + 1) / NT);
  for (int r = 0; r < rounds; r++) {
    for (uint32_t i = c0; i < c1; i++) {
      keys[0][i] = key_for(r, i);
      vals[0][i] = i;
    }
    int src = 0;
    for (int shift = 0; shift < 32; shift += 8) {
      uint32_t *ks = keys[src], *vs = vals[src];
      uint32_t *kd = keys[src ^ 1], *vd = vals[src ^ 1];
      uint32_t h[RADIX] = {0};
      for (uint32_t i = c0; i < c1; i++)
        h[(ks[i] >> shift) & (RADIX - 1)]++;
      for (int d = 0; d < RADIX; d++)
        hist[t][d] = h[d];
      pthread_barrier_wait(&bar);
      uint32_t off[RADIX];
      uint32_t base = 0;
      for (int d = 0; d < RADIX; d++) {
        uint32_t mine = base;
        for (int u = 0; u < NT; u++) {
          if (u < t)
            mine += hist[u][d];
          base += hist[u][d];
        }
        off[d] = mine;
      }
      for (uint32_t i = c0; i < c1; i++) {
        uint32_t k = ks[i];
        uint32_t o = off[(k >> shift) & (RADIX - 1)]++;
        kd[o] = k;
        vd[o] = vs[i];
      }
      src ^= 1;
      pthread_barrier_wait(&bar);
    }
    /* 4 passes: the result is back in buffer 0 */
    uint64_t hh = 1469598103934665603ULL;
    uint32_t bad = 0;
    uint32_t end = c1 < N ? c1 + 1 : c1;
    for (uint32_t i = c0; i < c1; i++) {
      hh = (hh ^ keys[0][i]) * 1099511628211ULL;
      hh = (hh ^ vals[0][i]) * 1099511628211ULL;
      if (i + 1 < end) {
        if (keys[0][i] > keys[0][i + 1])
          bad++;
        else if (keys[0][i] == keys[0][i + 1] && vals[0][i] > vals[0][i + 1])
          bad++;
      }
    }
    chunk_hash[t] = hh;
    chunk_bad[t] = bad;
    pthread_barrier_wait(&bar);
    if (t == 0) {
      uint64_t all = 0;
      uint32_t nbad = 0;
      for (int u = 0; u < NT; u++) {
        all = mix64(all ^ chunk_hash[u]);
        nbad += chunk_bad[u];
      }
      printf("round %2d kind %d: min %08x median %08x max %08x idx@mid %u "
             "unsorted %u hash %016llx\n",
             r + 1, r % 4, keys[0][0], keys[0][N / 2], keys[0][N - 1],
             vals[0][N / 2], nbad, (unsigned long long)all);
    }
    /* thread 0 reads keys[0] above; nobody rewrites it before this */
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  rounds = 64 * scale;
  for (int b = 0; b < 2; b++) {
    keys[b] = malloc(N * sizeof(uint32_t));
    vals[b] = malloc(N * sizeof(uint32_t));
    if (!keys[b] || !vals[b])
      return 1;
  }
  printf("threads_radix: %u keys, %d threads, %d rounds\n", N, NT, rounds);
  fflush(stdout);
  pthread_barrier_init(&bar, NULL, NT);
  pthread_t tids[NT];
  for (int t = 0; t < NT; t++)
    if (pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) != 0)
      return 1;
  for (int t = 0; t < NT; t++)
    pthread_join(tids[t], NULL);
  pthread_barrier_destroy(&bar);
  uint64_t h = 0;
  for (uint32_t i = 0; i < N; i += 4099)
    h = mix64(h ^ keys[0][i] ^ ((uint64_t)vals[0][i] << 32));
  printf("done: sample hash %016llx\n", (unsigned long long)h);
  for (int b = 0; b < 2; b++) {
    free(keys[b]);
    free(vals[b]);
  }
  return 0;
}
