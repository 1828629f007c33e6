/* main.c - ckpt_checkpoint() called where the thread's stack holds frames
 * of code ckpt did not instrument between the program's own: a function of
 * lib.c (compiled without ckpt) and libc's qsort calling back into the
 * program. Those checkpoints are refused with a reason; the direct one, and
 * one under a call into uninstrumented code that does not call back, are
 * taken. */
#include <ckpt.h>
#include <stdio.h>
#include <stdlib.h>

int apply(int (*fn)(int), int x);
int take_checkpoint_here(void);

static int callback(int x) {
  printf("under apply: %d\n", ckpt_checkpoint());
  return x;
}

static int compare(const void *a, const void *b) {
  static int once;
  if (!once++)
    printf("under qsort: %d\n", ckpt_checkpoint());
  return *(const int *)a - *(const int *)b;
}

int main(void) {
  printf("direct: %d\n", ckpt_checkpoint());
  printf("apply: %d\n", apply(callback, 41));
  int v[4] = {3, 1, 2, 0};
  qsort(v, 4, sizeof v[0], compare);
  printf("sorted: %d %d %d %d\n", v[0], v[1], v[2], v[3]);
  printf("from lib.c: %d\n", take_checkpoint_here());
  return 0;
}
