/* memstream.c - e2e program: stdio on memory streams kept open for long.
 *
 * Phase 1 writes a text of 120,000 lines through open_memstream(), with
 * computation between the writes, so the stream (and its growing buffer) is
 * open across checkpoints. Phase 2 reads that text back through fmemopen()
 * with getline() (whose line buffer is grown by libc with realloc), works
 * on each line, and writes results to a second open_memstream(). The final
 * buffers are checksummed. Both FILE objects live in the heap the program
 * allocated through libc, and point into libc.
 *
 * Usage: memstream [scale]   (default 1; ~1.2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0xBADC0FFEE0DDF00DULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

/* Some work per line so the phases take time. */
static uint64_t churn(uint64_t x, int n) {
  for (int i = 0; i < n; i++) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x *= 2685821657736338717ULL;
  }
  return x;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const long nlines = 120000L * scale;
  static const char *const words[] = {"lorem", "ipsum", "dolor", "sit",
                                      "amet", "consectetur", "adipiscing",
                                      "elit", "sed", "do"};
  char *text = NULL;
  size_t text_len = 0;
  FILE *w = open_memstream(&text, &text_len);
  if (!w)
    return 1;
  printf("memstream: %ld lines\n", nlines);
  uint64_t x = 1;
  for (long i = 0; i < nlines; i++) {
    x = churn(x + (uint64_t)i, 1300);
    int nw = 1 + (int)(rnd() % 12);
    fprintf(w, "%ld %llu", i, (unsigned long long)(x % 1000000));
    for (int k = 0; k < nw; k++)
      fprintf(w, " %s", words[rnd() % 10]);
    fputc('\n', w);
    if ((i + 1) % (nlines / 10) == 0) {
      fflush(w); /* text and text_len are valid after a flush */
      printf("written %ld lines, %zu bytes, hash %016llx\n", i + 1, text_len,
             (unsigned long long)fnv(text, text_len));
    }
  }
  if (fclose(w) != 0)
    return 1;
  printf("text: %zu bytes, hash %016llx\n", text_len,
         (unsigned long long)fnv(text, text_len));

  FILE *r = fmemopen(text, text_len, "r");
  char *out = NULL;
  size_t out_len = 0;
  FILE *o = open_memstream(&out, &out_len);
  if (!r || !o)
    return 1;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long count = 0, words_seen = 0, longest = 0;
  while ((n = getline(&line, &cap, r)) != -1) {
    long idx = 0;
    unsigned long long val = 0;
    int used = 0;
    if (sscanf(line, "%ld %llu%n", &idx, &val, &used) != 2 || idx != count) {
      printf("bad line %ld: %s", count, line);
      return 1;
    }
    long nw = 0;
    for (char *p = line + used; *p; p++)
      nw += (*p == ' ');
    words_seen += nw;
    if (n > longest)
      longest = n;
    uint64_t y = churn(val ^ fnv(line, (size_t)n), 1400);
    fprintf(o, "%ld:%ld:%llx\n", idx, nw, (unsigned long long)(y & 0xffffff));
    count++;
    if (count % (nlines / 10) == 0) {
      fflush(o);
      printf("read %ld lines, %ld words, out %zu bytes, hash %016llx\n",
             count, words_seen, out_len,
             (unsigned long long)fnv(out, out_len));
    }
  }
  free(line);
  fclose(r);
  if (fclose(o) != 0)
    return 1;
  printf("done: lines %ld words %ld longest %ld out %zu bytes hash %016llx\n",
         count, words_seen, longest, out_len,
         (unsigned long long)fnv(out, out_len));
  free(out);
  free(text);
  return 0;
}
