/* smallallocs.c - e2e program: over a million small live allocations.
 *
 * 1.1 million slots each hold a block from malloc, calloc, realloc or strdup
 * (sizes 1 B to 1 KiB, mostly small), all live at once. Then random churn:
 * free and reallocate, realloc to grow or shrink (the kept prefix must
 * survive), calloc (must come back zeroed), strdup. Every block's contents
 * follow from its slot's seed, so every 25% all 1.1 million blocks are
 * checked byte by byte; every 5% a summary is printed. Exercises the
 * allocator's own state across checkpoints.
 *
 * Usage: smallallocs [scale]   (default 1; ~1.5 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0x5DEECE66DULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

#define NS 1100000
enum { K_MALLOC, K_CALLOC, K_STRDUP };

static unsigned char **slot;
static uint32_t *size, *seed;
static unsigned char *kind;
static long n_malloc, n_calloc, n_realloc, n_strdup, n_free;

static inline unsigned char pat(uint32_t s, uint32_t j) {
  return (unsigned char)((s >> (j & 7)) + j * 13u + 1u);
}

static uint32_t pick_size(void) {
  uint32_t r = rnd() % 100;
  if (r < 70)
    return 1 + rnd() % 32;
  if (r < 99)
    return 33 + rnd() % 224;
  return 257 + rnd() % 768;
}

static void fill(uint32_t i, uint32_t from) {
  unsigned char *p = slot[i];
  for (uint32_t j = from; j < size[i]; j++)
    p[j] = pat(seed[i], j);
}

static void make(uint32_t i) {
  uint32_t sz = pick_size();
  seed[i] = rnd();
  uint32_t k = rnd() % 8;
  if (k < 5) {
    kind[i] = K_MALLOC;
    size[i] = sz;
    slot[i] = malloc(sz);
    n_malloc++;
    if (slot[i])
      fill(i, 0);
  } else if (k < 7) {
    kind[i] = K_CALLOC;
    size[i] = sz;
    slot[i] = calloc(1, sz);
    n_calloc++;
    if (slot[i])
      for (uint32_t j = 0; j < sz; j++)
        if (slot[i][j]) {
          printf("calloc memory not zero\n");
          exit(1);
        }
  } else {
    char buf[1100];
    for (uint32_t j = 0; j + 1 < sz; j++)
      buf[j] = (char)('a' + pat(seed[i], j) % 26);
    buf[sz - 1] = 0;
    kind[i] = K_STRDUP;
    size[i] = sz;
    slot[i] = (unsigned char *)strdup(buf);
    n_strdup++;
  }
  if (!slot[i]) {
    printf("out of memory\n");
    exit(1);
  }
}

static int check(uint32_t i) {
  const unsigned char *p = slot[i];
  uint32_t n = size[i];
  switch (kind[i]) {
  case K_MALLOC:
    for (uint32_t j = 0; j < n; j++)
      if (p[j] != pat(seed[i], j))
        return 0;
    return 1;
  case K_CALLOC:
    for (uint32_t j = 0; j < n; j++)
      if (p[j])
        return 0;
    return 1;
  default:
    for (uint32_t j = 0; j + 1 < n; j++)
      if (p[j] != 'a' + pat(seed[i], j) % 26)
        return 0;
    return p[n - 1] == 0;
  }
}

static uint64_t check_all(void) {
  uint64_t h = 0, bytes = 0;
  for (uint32_t i = 0; i < NS; i++) {
    if (!check(i)) {
      printf("block %u (kind %d, size %u) corrupted\n", i, kind[i], size[i]);
      exit(1);
    }
    bytes += size[i];
    h = h * 31 + size[i] + kind[i];
  }
  printf("  checked %d blocks, %llu bytes\n", NS, (unsigned long long)bytes);
  return h;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const long nops = 1500000L * scale;
  slot = calloc(NS, sizeof *slot);
  size = calloc(NS, sizeof *size);
  seed = calloc(NS, sizeof *seed);
  kind = calloc(NS, 1);
  if (!slot || !size || !seed || !kind)
    return 1;
  printf("smallallocs: %d live blocks, %ld churn ops\n", NS, nops);
  for (uint32_t i = 0; i < NS; i++)
    make(i);
  printf("allocated: %016llx\n", (unsigned long long)check_all());

  uint64_t h = 0;
  for (long op = 0; op < nops; op++) {
    uint32_t i = rnd() % NS;
    uint32_t r = rnd() % 10;
    if (r < 5 || kind[i] == K_STRDUP) {
      free(slot[i]);
      n_free++;
      make(i);
    } else {
      /* realloc: grow or shrink, keep the prefix */
      uint32_t old = size[i], sz = pick_size();
      unsigned char *p = realloc(slot[i], sz);
      if (!p) {
        printf("out of memory\n");
        return 1;
      }
      n_realloc++;
      slot[i] = p;
      size[i] = sz;
      uint32_t keep = old < sz ? old : sz;
      /* the kept prefix must have survived the move */
      for (uint32_t j = 0; j < keep; j++)
        if (p[j] != (kind[i] == K_MALLOC ? pat(seed[i], j) : 0)) {
          printf("realloc lost data in block %u\n", i);
          return 1;
        }
      if (sz > old) {
        if (kind[i] == K_MALLOC)
          fill(i, old);
        else
          memset(p + old, 0, sz - old);
      }
    }
    h = h * 1000003u + size[i];
    if ((op + 1) % (nops / 20) == 0) {
      printf("op %ld malloc %ld calloc %ld realloc %ld strdup %ld free %ld "
             "h %016llx\n",
             op + 1, n_malloc, n_calloc, n_realloc, n_strdup, n_free,
             (unsigned long long)h);
      if ((op + 1) % (nops / 4) == 0)
        h ^= check_all();
    }
  }
  for (uint32_t i = 0; i < NS; i++)
    free(slot[i]);
  printf("done: h %016llx\n", (unsigned long long)h);
  return 0;
}
