/* bench/kernels/wordfreq.c - text processing: a generated text is split
 * into words (ctype), lower-cased, counted in an open-addressing table of
 * strdup'd keys, and the 20 most frequent words are reported.
 *   wordfreq [scale%]   default 100 (~1 s at -O2) */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot { char *word; long count; };
static struct slot *table;
static size_t cap = 1 << 16, used;

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 5381;
  for (size_t i = 0; i < n; i++) h = h * 33 + (unsigned char)s[i];
  return h;
}

static void grow(void);

static void count_word(const char *w, size_t n) {
  uint64_t h = hash(w, n);
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    if (!table[i].word) {
      table[i].word = strndup(w, n);
      table[i].count = 1;
      if (++used * 2 > cap) grow();
      return;
    }
    if (strncmp(table[i].word, w, n) == 0 && table[i].word[n] == 0) { table[i].count++; return; }
  }
}

static void grow(void) {
  struct slot *old = table;
  size_t oldcap = cap;
  cap *= 2;
  table = calloc(cap, sizeof *table);
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].word) {
      size_t j = hash(old[i].word, strlen(old[i].word)) & (cap - 1);
      while (table[j].word) j = (j + 1) & (cap - 1);
      table[j] = old[i];
    }
  free(old);
}

static int by_count(const void *a, const void *b) {
  const struct slot *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  static const char *syll[] = { "ka", "Lo", "mi", "ne", "TU", "ra", "shi", "ven", "do", "Qua",
                                "ix", "or", "pe", "lum", "ar", "be" };
  size_t len = (size_t)(72000000L * scale / 100) + 64;
  char *text = malloc(len + 64);
  uint64_t rng = 17;
  size_t pos = 0;
  while (pos < len) {                              /* Zipf-ish word lengths */
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    int nsyl = 1 + (int)((rng >> 60) % 3) + ((rng >> 50) % 8 == 0);
    uint64_t r = rng >> 8;
    for (int k = 0; k < nsyl; k++) {
      const char *s = syll[(r & 15) & ((r >> 4) & 1 ? 15 : 3)];
      r >>= 5;
      while (*s) text[pos++] = *s++;
    }
    text[pos++] = (rng >> 40) % 11 == 0 ? ',' : (rng >> 44) % 29 == 0 ? '\n' : ' ';
  }
  text[pos] = 0;
  table = calloc(cap, sizeof *table);
  long words = 0;
  for (char *p = text; *p;) {
    while (*p && !isalpha((unsigned char)*p)) p++;
    char *w = p;
    while (*p && isalpha((unsigned char)*p)) { *p = (char)tolower((unsigned char)*p); p++; }
    if (p > w) { count_word(w, (size_t)(p - w)); words++; }
  }
  struct slot *all = malloc(used * sizeof *all);
  size_t k = 0;
  for (size_t i = 0; i < cap; i++) if (table[i].word) all[k++] = table[i];
  qsort(all, k, sizeof *all, by_count);
  uint64_t h = 0;
  for (size_t i = 0; i < k; i++) h = h * 1000003 + (uint64_t)all[i].count;
  printf("wordfreq words=%ld distinct=%zu hash=%llu top=", words, k, (unsigned long long)h);
  for (size_t i = 0; i < 5 && i < k; i++) printf("%s:%ld ", all[i].word, all[i].count);
  printf("\n");
  for (size_t i = 0; i < cap; i++) free(table[i].word);
  free(table); free(all); free(text);
  return 0;
}
