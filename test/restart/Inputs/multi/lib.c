/* lib.c - recursion in another translation unit, compiled separately and
 * at another optimisation level; it takes the checkpoint deep inside. */
#include "lib.h"
#include "../selfkill/common.h"
long lib_calls;
long walk(long depth, long *acc) {
  long local[4] = {depth, depth * 2, depth * 3, *acc};
  lib_calls++;
  if (depth == 0) {
    CHECKPOINT_AND_DIE();
    return local[3];
  }
  *acc += local[depth % 4];
  return walk(depth - 1, acc) + local[1];
}
