/* bench/kernels/vecgrow.c - realloc growth: thousands of vectors grown one
 * push at a time (capacity x1.5 through realloc), and strings built by
 * appending short pieces with realloc to the exact new length.
 *   vecgrow [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vec { int64_t *data; size_t len, cap; };

static void push(struct vec *v, int64_t x) {
  if (v->len == v->cap) {
    v->cap = v->cap ? v->cap + v->cap / 2 + 1 : 4;
    v->data = realloc(v->data, v->cap * sizeof *v->data);
  }
  v->data[v->len++] = x;
}

#define NVEC 4096
#define NSTR 256

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  static struct vec vecs[NVEC];
  uint64_t rng = 7, sum = 0;
  long rounds = 18 * scale / 100;
  if (rounds < 1) rounds = 1;
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < 2000000; i++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      push(&vecs[(rng >> 40) % NVEC], (int64_t)(rng >> 16));
    }
    for (int i = 0; i < NVEC; i++) {
      for (size_t k = 0; k < vecs[i].len; k += 7) sum += vecs[i].data[k] & 0xff;
      free(vecs[i].data);
      vecs[i].data = NULL; vecs[i].len = vecs[i].cap = 0;
    }
    /* strings: realloc to exactly the new length at each append */
    static char *strs[NSTR];
    static size_t lens[NSTR];
    for (long i = 0; i < 300000; i++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      int s = (rng >> 40) % NSTR;
      size_t piece = 1 + (rng >> 20) % 24;
      strs[s] = realloc(strs[s], lens[s] + piece + 1);
      memset(strs[s] + lens[s], 'a' + (int)(rng % 26), piece);
      lens[s] += piece;
      strs[s][lens[s]] = 0;
    }
    for (int s = 0; s < NSTR; s++) {
      if (strs[s]) sum += strlen(strs[s]) + (unsigned char)strs[s][lens[s] / 2];
      free(strs[s]);
      strs[s] = NULL; lens[s] = 0;
    }
  }
  printf("vecgrow sum=%llu\n", (unsigned long long)sum);
  return 0;
}
