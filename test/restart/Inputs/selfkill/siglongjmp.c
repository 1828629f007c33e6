/* siglongjmp out of a signal handler: the skipped frame records and the
 * "inside a handler" state must not block later checkpoints. */
#include <setjmp.h>
#include <stdio.h>
#include "common.h"
static sigjmp_buf env;
static void on_fpe(int s) {
  (void)s;
  siglongjmp(env, 1);
}
__attribute__((noinline)) static int safe_div(volatile int a, volatile int b) {
  if (sigsetjmp(env, 1))
    return -1;
  return a / b;
}
int main(void) {
  signal(SIGFPE, on_fpe);
  long s = 0;
  for (int i = 0; i < 3; i++)
    s += safe_div(10, i); /* i == 0 traps */
  printf("s=%ld\n", s);
  CHECKPOINT_AND_DIE();
  printf("after checkpoint s=%ld\n", s + safe_div(7, 0));
  return 0;
}
