/* counted.c - a plugin built with ckpt-cc -shared: its global, its heap
 * block and what its constructor did are saved, and the constructor runs
 * once per job (not again when a restart opens it). */
#include <stdio.h>
#include <stdlib.h>

static long total;
static long *history;
static int steps;

__attribute__((constructor)) static void counted_init(void) {
  printf("counted: constructor\n");
  history = calloc(64, sizeof *history);
}

long counted_step(long x) {
  total += x * x;
  history[steps++ % 64] = total;
  return total;
}

long counted_history(int i) { return history[i]; }
