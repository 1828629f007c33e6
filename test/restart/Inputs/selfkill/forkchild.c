/* A child the program forks takes no checkpoints (and never waits for one);
 * the parent's checkpointing goes on. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"
int main(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
#ifdef __CKPT__
    int r = ckpt_checkpoint();
    _exit(r == CKPT_DISABLED ? 0 : 1);
#else
    _exit(0);
#endif
  }
  int st = 0;
  waitpid(p, &st, 0);
  printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  CHECKPOINT_AND_DIE();
  printf("parent done\n");
  return 0;
}
