/* A program whose SIGCHLD handler reaps every child (waitpid(-1)): it may
 * reap the checkpoint writer too, and the checkpoint must still succeed. */
#include <stdio.h>
#include <sys/wait.h>
#include "common.h"
static volatile int reaped;
static void on_chld(int s) {
  (void)s;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    reaped++;
}
int main(void) {
  signal(SIGCHLD, on_chld);
#ifdef __CKPT__
  for (int i = 0; i < 3; i++)
    if (ckpt_checkpoint() != CKPT_TAKEN)
      printf("checkpoint %d failed\n", i);
#endif
  CHECKPOINT_AND_DIE();
  printf("done\n");
  return 0;
}
