/* bench/kernels/churn.c - small-allocation churn: a window of live blocks
 * of 8..256 bytes, each step frees a random block and allocates a new one
 * of a random size, writing into it; from time to time the whole window is
 * freed and refilled.
 *   churn [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

#define WINDOW 4096

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  static unsigned char *blocks[WINDOW];
  static unsigned sizes[WINDOW];
  uint64_t sum = 0;
  for (int i = 0; i < WINDOW; i++) {
    sizes[i] = 8 + next_rand() % 249;
    blocks[i] = malloc(sizes[i]);
    memset(blocks[i], i & 0xff, sizes[i]);
  }
  long steps = 45000000L * scale / 100;
  for (long s = 0; s < steps; s++) {
    uint64_t r = next_rand();
    unsigned i = r % WINDOW;
    sum += blocks[i][sizes[i] - 1] + blocks[i][0];
    free(blocks[i]);
    sizes[i] = 8 + (r >> 20) % 249;
    blocks[i] = malloc(sizes[i]);
    blocks[i][0] = (unsigned char)s;
    blocks[i][sizes[i] - 1] = (unsigned char)(s >> 8);
    if ((s & 0xfffff) == 0xfffff) {             /* free everything, refill */
      for (int k = 0; k < WINDOW; k++) free(blocks[k]);
      for (int k = 0; k < WINDOW; k++) {
        sizes[k] = 8 + next_rand() % 249;
        blocks[k] = malloc(sizes[k]);
        blocks[k][0] = (unsigned char)k;
        blocks[k][sizes[k] - 1] = (unsigned char)(k >> 3);
      }
    }
  }
  for (int i = 0; i < WINDOW; i++) free(blocks[i]);
  printf("churn sum=%llu\n", (unsigned long long)sum);
  return 0;
}
