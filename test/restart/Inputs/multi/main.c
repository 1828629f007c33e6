/* main.c - calls into lib.c; built with -c and linked separately. */
#include <stdio.h>
#include "lib.h"
#ifndef SCALE
#define SCALE 1
#endif
int main(void) {
  long acc = 1, total = 0;
  for (int round = 0; round < 3 * SCALE; round++) {
    total += walk(200 + round, &acc);
    printf("round %d total %ld acc %ld calls %ld\n", round, total, acc, lib_calls);
  }
  return 0;
}
