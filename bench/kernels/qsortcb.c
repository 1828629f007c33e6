/* bench/kernels/qsortcb.c - libc qsort with comparator callbacks: records
 * sorted by several keys (the comparator picked at run time from a table)
 * and strings sorted through a strcmp wrapper; bsearch lookups after.
 *   qsortcb [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec { double score; int id; int group; char name[16]; };

static int by_score(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  return (x->score > y->score) - (x->score < y->score);
}
static int by_group_id(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  if (x->group != y->group) return x->group < y->group ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}
static int by_name(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->id > y->id) - (x->id < y->id);
}
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef int (*cmp_fn)(const void *, const void *);
cmp_fn comparators[] = { by_score, by_group_id, by_name };

static uint64_t rng = 42;
static uint64_t next_rand(void) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return rng >> 11;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  const int n = 200000;
  struct rec *recs = malloc(n * sizeof *recs);
  char **strs = malloc(n * sizeof *strs);
  for (int i = 0; i < n; i++) {
    recs[i].score = (double)(next_rand() % 1000000) / 7.0;
    recs[i].id = i;
    recs[i].group = next_rand() % 97;
    snprintf(recs[i].name, sizeof recs[i].name, "n%07llu", (unsigned long long)(next_rand() % 5000000));
    strs[i] = malloc(20);
    snprintf(strs[i], 20, "s%llx", (unsigned long long)next_rand());
  }
  uint64_t sum = 0;
  long rounds = 15 * scale / 100;
  if (rounds < 1) rounds = 1;
  for (long r = 0; r < rounds; r++) {
    cmp_fn cmp = comparators[r % 3];
    qsort(recs, n, sizeof *recs, cmp);
    sum += recs[n / 2].id + recs[0].id;
    for (int i = 0; i < 2000; i++) {
      struct rec *hit = bsearch(&recs[next_rand() % n], recs, n, sizeof *recs, cmp);
      sum += hit ? hit->id & 7 : 1000;
    }
    for (int i = n - 1; i > 0; i--) {                     /* reshuffle */
      int j = next_rand() % (i + 1);
      struct rec t = recs[i]; recs[i] = recs[j]; recs[j] = t;
    }
    if (r % 3 == 0) {
      qsort(strs, n, sizeof *strs, cmp_str);
      sum += (unsigned char)strs[n / 3][3];
      for (int i = n - 1; i > 0; i--) {
        int j = next_rand() % (i + 1);
        char *t = strs[i]; strs[i] = strs[j]; strs[j] = t;
      }
    }
  }
  printf("qsortcb sum=%llu\n", (unsigned long long)sum);
  for (int i = 0; i < n; i++) free(strs[i]);
  free(strs);
  free(recs);
  return 0;
}
