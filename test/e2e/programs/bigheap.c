/* bigheap.c - e2e program: more than 200 MB of heap live at once.
 *
 * 56 blocks of 4 MiB (224 MiB) are allocated up front and all stay live to
 * the end. Passes run over them (within a block, and between neighbouring
 * blocks); after each pass the checksum of every block is recorded in a small
 * table. At the end every block is checksummed again and compared with the
 * table, so any byte of the 224 MiB lost or altered across a restart shows.
 * Values are kept below 2^16 so the data is partly compressible, like real
 * data, not random.
 *
 * Usage: bigheap [scale]   (default 1; ~1.2 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t lcg = 0x1234567887654321ULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

#define NBLOCKS 56
#define BLOCK_WORDS (1u << 20) /* 4 MiB of uint32_t */

static uint64_t block_sum(const uint32_t *b) {
  uint64_t s = 0, t = 0;
  for (uint32_t i = 0; i < BLOCK_WORDS; i++) {
    s += b[i];
    t += s;
  }
  return s ^ (t << 17) ^ (t >> 13);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int passes = 9 * scale;
  uint32_t **blocks = malloc(NBLOCKS * sizeof *blocks);
  uint64_t *sums = calloc(NBLOCKS, sizeof *sums);
  if (!blocks || !sums)
    return 1;
  printf("bigheap: %d blocks of %u KiB, %d passes\n", NBLOCKS,
         BLOCK_WORDS * 4 / 1024, passes);
  for (int b = 0; b < NBLOCKS; b++) {
    blocks[b] = malloc(BLOCK_WORDS * sizeof(uint32_t));
    if (!blocks[b]) {
      printf("out of memory at block %d\n", b);
      return 1;
    }
    uint32_t *x = blocks[b];
    uint32_t v = rnd();
    for (uint32_t i = 0; i < BLOCK_WORDS; i++) {
      if ((i & 63) == 0)
        v = rnd();
      x[i] = (v + i * 7u) & 0xFFFFu;
    }
    sums[b] = block_sum(x);
    if ((b + 1) % 14 == 0)
      printf("filled %d blocks, last sum %016llx\n", b + 1,
             (unsigned long long)sums[b]);
  }

  for (int p = 0; p < passes; p++) {
    uint32_t k = 3 + (uint32_t)p * 2;
    for (int b = 0; b < NBLOCKS; b++) {
      uint32_t *x = blocks[b];
      const uint32_t *y = blocks[(b + 1 + p) % NBLOCKS];
      if (p % 3 == 2) {
        /* between blocks: fold in the neighbour, reversed */
        for (uint32_t i = 0; i < BLOCK_WORDS; i++)
          x[i] = (x[i] + y[BLOCK_WORDS - 1 - i] * k) & 0xFFFFu;
      } else {
        /* within a block: a running recurrence */
        uint32_t prev = (uint32_t)b;
        for (uint32_t i = 0; i < BLOCK_WORDS; i++) {
          prev = (x[i] * k + (prev >> 3) + i) & 0xFFFFu;
          x[i] = prev;
        }
      }
      sums[b] = block_sum(x);
      if (b % 14 == 13)
        printf("pass %d block %d sum %016llx\n", p + 1, b + 1,
               (unsigned long long)sums[b]);
    }
  }

  int bad = 0;
  uint64_t total = 0;
  for (int b = 0; b < NBLOCKS; b++) {
    uint64_t s = block_sum(blocks[b]);
    if (s != sums[b]) {
      printf("verify: block %d changed: %016llx != %016llx\n", b,
             (unsigned long long)s, (unsigned long long)sums[b]);
      bad++;
    }
    total = total * 1000003u + s;
  }
  printf("verify: %s, %d of %d blocks bad\n", bad ? "FAILED" : "ok", bad,
         NBLOCKS);
  printf("done: %d MiB live, total %016llx\n",
         (int)((uint64_t)NBLOCKS * BLOCK_WORDS * 4 >> 20),
         (unsigned long long)total);
  for (int b = 0; b < NBLOCKS; b++)
    free(blocks[b]);
  free(blocks);
  free(sums);
  return bad ? 1 : 0;
}
