/* qsortstr.c - e2e program: qsort with comparators that loop, repeatedly.
 *
 * Strings over a small alphabet (long common prefixes) are sorted again and
 * again with qsort: once as an array of char pointers, once as records
 * ordered by (string, id). The comparators compare the strings with a loop
 * written by hand. Between sorts some strings are rewritten. The comparators
 * are callbacks from libc: a checkpoint cannot stop inside them, it has to
 * wait until qsort returns. Every sort is checked and its order hashed.
 *
 * Usage: qsortstr [scale]   (default 1; ~1.1 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0xA5A5A5A55A5A5A5AULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

static long ncmp; /* comparisons made, over all sorts */

static int strcmp_loop(const char *a, const char *b) {
  size_t i = 0;
  while (a[i] && a[i] == b[i])
    i++;
  return (unsigned char)a[i] - (unsigned char)b[i];
}

static int cmp_ptr(const void *pa, const void *pb) {
  ncmp++;
  return strcmp_loop(*(const char *const *)pa, *(const char *const *)pb);
}

struct rec {
  const char *s;
  int id;
  int len;
};

static int cmp_rec(const void *pa, const void *pb) {
  const struct rec *a = pa, *b = pb;
  ncmp++;
  int c = strcmp_loop(a->s, b->s);
  if (c)
    return c;
  return (a->id > b->id) - (a->id < b->id);
}

static int cmp_rec_desc_len(const void *pa, const void *pb) {
  const struct rec *a = pa, *b = pb;
  ncmp++;
  if (a->len != b->len)
    return b->len - a->len;
  /* reverse string order, hand-written */
  const char *x = a->s, *y = b->s;
  while (*x && *x == *y) {
    x++;
    y++;
  }
  int c = (unsigned char)*y - (unsigned char)*x;
  if (c)
    return c;
  return (a->id > b->id) - (a->id < b->id);
}

#define N 24000
#define MAXLEN 28

static void make_string(char *s) {
  /* A shared prefix chosen from few options, then a random tail. */
  static const char *const prefixes[] = {"aaaa", "aaab", "abab", "b", "baaa",
                                         ""};
  int p = (int)(rnd() % 6);
  size_t n = strlen(prefixes[p]);
  memcpy(s, prefixes[p], n);
  int tail = 1 + (int)(rnd() % (MAXLEN - 6));
  for (int i = 0; i < tail; i++)
    s[n + (size_t)i] = (char)('a' + rnd() % 3);
  s[n + (size_t)tail] = 0;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int rounds = 100 * scale;
  char *pool = malloc((size_t)N * MAXLEN);
  char **ptrs = malloc(N * sizeof *ptrs);
  struct rec *recs = malloc(N * sizeof *recs);
  if (!pool || !ptrs || !recs)
    return 1;
  for (int i = 0; i < N; i++) {
    make_string(pool + (size_t)i * MAXLEN);
    ptrs[i] = pool + (size_t)i * MAXLEN;
  }

  printf("qsortstr: %d rounds of %d strings\n", rounds, N);
  uint64_t total = 0;
  for (int r = 0; r < rounds; r++) {
    /* rewrite some strings in place */
    for (int k = 0; k < N / 8; k++)
      make_string(pool + (size_t)(rnd() % N) * MAXLEN);

    qsort(ptrs, N, sizeof *ptrs, cmp_ptr);
    uint64_t h1 = 0;
    for (int i = 0; i < N; i++) {
      if (i && strcmp(ptrs[i - 1], ptrs[i]) > 0) {
        printf("pointer sort wrong at %d\n", i);
        return 1;
      }
      h1 = mix(h1, (uint64_t)strlen(ptrs[i]) * 131 + (unsigned char)ptrs[i][0]);
    }

    for (int i = 0; i < N; i++) {
      recs[i].s = pool + (size_t)i * MAXLEN;
      recs[i].id = i;
      recs[i].len = (int)strlen(recs[i].s);
    }
    qsort(recs, N, sizeof *recs, (r & 1) ? cmp_rec_desc_len : cmp_rec);
    uint64_t h2 = 0;
    for (int i = 0; i < N; i++) {
      if (i && ((r & 1) ? cmp_rec_desc_len : cmp_rec)(&recs[i - 1], &recs[i]) >= 0) {
        printf("record sort wrong at %d\n", i);
        return 1;
      }
      h2 = mix(h2, (uint64_t)recs[i].id);
    }
    /* median string, first and last */
    total = mix(mix(total, h1), h2);
    if ((r + 1) % (rounds / 20) == 0)
      printf("round %d first %s median %s last %s ptrs %016llx recs %016llx\n",
             r + 1, ptrs[0], ptrs[N / 2], ptrs[N - 1],
             (unsigned long long)h1, (unsigned long long)h2);
  }
  /* The number of comparisons is not printed: it depends on the qsort
   * implementation (sanitizers, for one, add calls of their own). */
  printf("done: comparator %s, total %016llx\n", ncmp > 0 ? "called" : "unused",
         (unsigned long long)total);
  return 0;
}
