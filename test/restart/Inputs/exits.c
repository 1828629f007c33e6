/* exits.c - restart test program: atexit handlers registered before a
 * checkpoint must still run, in the same order, at exit after a restart. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long total;
static void first(void) { printf("first handler, total %lu\n", total); }
static void second(void) { printf("second handler\n"); }

int main(void) {
  atexit(first);
  unsigned long x = 7;
  for (int round = 1; round <= 300; round++) {
    for (long i = 0; i < 3000000; i++)
      x = x * 6364136223846793005ul + (unsigned long)i;
    total += x >> 50;
    if (round == 150)
      atexit(second);
    if (round % 30 == 0)
      printf("round %d total %lu\n", round, total);
  }
  return 0;
}
