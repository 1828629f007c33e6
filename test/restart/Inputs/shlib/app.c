/* app.c - the program using libshape.so: checkpoints taken in its own
 * callback under the library's frames, and in the library's code. */
#include <stdio.h>
#include "shape.h"
#include "../selfkill/common.h"

static long bottoms;

static void at_bottom(long acc) {
  bottoms += acc % 1000;
  if (bottoms % 2)
    CHECKPOINT_AND_DIE();
}

int main(void) {
  long acc = 1, total = 0;
  shape_start_worker();
  for (int round = 0; round < 6; round++) {
    total += shape_walk(150 + round, &acc, at_bottom);
    printf("round %d total %ld acc %ld calls %ld table %ld tls %ld optind %d "
           "note %s bottoms %ld\n",
           round, total, acc, shape_calls, shape_table_sum(),
           shape_tls_calls(), shape_optind(), shape_note(), bottoms);
  }
  printf("worker consistent %ld\n", shape_stop_worker());
  return 0;
}
