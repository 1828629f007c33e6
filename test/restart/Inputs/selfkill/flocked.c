/* A checkpoint while the program holds stdout's lock (flockfile): streams
 * are flushed by the program's own thread, which owns the lock. */
#include <stdio.h>
#include "common.h"
int main(void) {
  flockfile(stdout);
  for (int i = 0; i < 20; i++)
    putchar_unlocked('a' + i);
  CHECKPOINT_AND_DIE();
  for (int i = 0; i < 6; i++)
    putchar_unlocked('A' + i);
  funlockfile(stdout);
  printf("\ndone\n");
  return 0;
}
