/* bigglobal.c - e2e program: a 256 MiB global array, ~10 MiB of it used.
 *
 * 2560 pages (10 MiB) scattered over a 256 MiB zero-initialised global
 * array are written and rewritten; now and then some of them are cleared
 * back to all zeros and later written again. Untouched pages are read
 * sometimes and must stay zero. At the end the whole array is scanned:
 * exactly the pages in use must be non-zero, with the expected contents.
 * A checkpoint should cost about the 10 MiB in use, not 256 MiB.
 * An initialised global table (.data) is updated as well.
 *
 * Usage: bigglobal [scale]   (default 1; ~1.0 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (256u << 20)
#define PAGE 4096u
#define NPAGES (BIG / PAGE)
#define USED 2560

static uint64_t big[BIG / 8];
static uint64_t table[16] = {1, 2, 3, 5, 8, 13, 21, 34,
                             55, 89, 144, 233, 377, 610, 987, 1597};

static uint64_t lcg = 0x7FB5D329728EA185ULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t *page_ptr(uint32_t p) { return big + (size_t)p * (PAGE / 8); }

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int rounds = 500 * scale;
  /* choose USED distinct pages: a partial Fisher-Yates shuffle */
  uint32_t *perm = malloc(NPAGES * sizeof *perm);
  unsigned char *cleared = calloc(USED, 1);
  if (!perm || !cleared)
    return 1;
  for (uint32_t i = 0; i < NPAGES; i++)
    perm[i] = i;
  for (uint32_t i = 0; i < USED; i++) {
    uint32_t j = i + rnd() % (NPAGES - i);
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  printf("bigglobal: %u MiB array, %d pages in use, %d rounds\n", BIG >> 20,
         USED, rounds);
  for (uint32_t u = 0; u < USED; u++) {
    uint64_t *pg = page_ptr(perm[u]);
    for (uint32_t w = 0; w < PAGE / 8; w++)
      pg[w] = ((uint64_t)perm[u] << 32) | (w + 1);
  }

  uint64_t h = 0;
  for (int r = 0; r < rounds; r++) {
    uint64_t k = table[r & 15] | 1;
    for (uint32_t u = 0; u < USED; u++) {
      if (cleared[u])
        continue;
      uint64_t *pg = page_ptr(perm[u]);
      uint64_t acc = (uint64_t)r;
      for (uint32_t w = 0; w < PAGE / 8; w++) {
        acc = acc * k + pg[w];
        pg[w] = acc | 1; /* never zero */
      }
      h ^= acc + u;
    }
    table[(r + 7) & 15] += h & 0xff;
    if (r % 10 == 9) {
      /* clear some pages to zero, bring back others */
      for (int c = 0; c < 24; c++) {
        uint32_t u = rnd() % USED;
        if (cleared[u]) {
          uint64_t *pg = page_ptr(perm[u]);
          for (uint32_t w = 0; w < PAGE / 8; w++)
            pg[w] = ((uint64_t)r << 32) | (w * 3 + 1);
          cleared[u] = 0;
        } else {
          memset(page_ptr(perm[u]), 0, PAGE);
          cleared[u] = 1;
        }
      }
      /* an untouched page must read as zero */
      uint32_t p = perm[USED + rnd() % (NPAGES - USED)];
      const uint64_t *pg = page_ptr(p);
      for (uint32_t w = 0; w < PAGE / 8; w++)
        if (pg[w]) {
          printf("untouched page %u is not zero\n", p);
          return 1;
        }
    }
    if ((r + 1) % (rounds / 20) == 0) {
      int ncleared = 0;
      for (uint32_t u = 0; u < USED; u++)
        ncleared += cleared[u];
      printf("round %d cleared %d h %016llx table %llu\n", r + 1, ncleared,
             (unsigned long long)h, (unsigned long long)table[r & 15]);
    }
  }

  /* scan all of it: only pages in use and not cleared may be non-zero */
  uint32_t nonzero = 0, expected = 0;
  uint64_t sum = 0;
  for (uint32_t p = 0; p < NPAGES; p++) {
    const uint64_t *pg = page_ptr(p);
    uint64_t any = 0;
    for (uint32_t w = 0; w < PAGE / 8; w++) {
      any |= pg[w];
      sum = sum * 31 + pg[w];
    }
    nonzero += any != 0;
  }
  for (uint32_t u = 0; u < USED; u++)
    expected += !cleared[u];
  printf("scan: %u non-zero pages, expected %u: %s\n", nonzero, expected,
         nonzero == expected ? "ok" : "FAILED");
  printf("done: sum %016llx h %016llx\n", (unsigned long long)sum,
         (unsigned long long)h);
  return nonzero == expected ? 0 : 1;
}
