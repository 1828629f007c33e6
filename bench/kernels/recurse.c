/* bench/kernels/recurse.c - recursion: naive Fibonacci, Ackermann(2, n)
 * and recursive construction, checking and freeing of binary trees.
 *   recurse [scale%]   default 100 (~1 s at -O2) */
#include <stdio.h>
#include <stdlib.h>

struct tree { struct tree *l, *r; int v; };

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static long ack(long m, long n) {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

static struct tree *build(int depth, int v) {
  struct tree *t = malloc(sizeof *t);
  t->v = v;
  if (depth > 0) { t->l = build(depth - 1, 2 * v); t->r = build(depth - 1, 2 * v + 1); }
  else t->l = t->r = NULL;
  return t;
}

static long check(const struct tree *t) {
  return t->l ? t->v + check(t->l) - check(t->r) : t->v;
}

static void destroy(struct tree *t) {
  if (t->l) { destroy(t->l); destroy(t->r); }
  free(t);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  long f = 0, a = 0, c = 0;
  long reps = 8 * scale / 100;
  if (reps < 1) reps = 1;
  for (long r = 0; r < reps; r++) f += fib(35 + (int)(r & 1));
  for (long r = 0; r < reps; r++) a += ack(2, 3000 + r);
  for (long r = 0; r < reps; r++) {
    struct tree *t = build(18, (int)r + 1);
    c += check(t);
    destroy(t);
  }
  printf("recurse fib=%ld ack=%ld check=%ld\n", f, a, c);
  return 0;
}
