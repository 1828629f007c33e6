/* setjmp.c - a checkpoint taken inside a function that called setjmp (its
 * jmp_buf live): the restart from it resumes there, and the longjmp made
 * after the restart, through the jmp_buf filled before the checkpoint,
 * lands in that function. setjmp and longjmp are the runtime's
 * (runtime/setjmp.c), whose mangling guard is kept in the checkpoint. */
#include <ckpt.h>
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;

static void fail_deep(int depth) {
  if (depth == 0)
    longjmp(env, 7);
  fail_deep(depth - 1);
}

static int guarded(void) {
  int rc = setjmp(env);
  if (rc == 0) {
    printf("inside setjmp's caller: %d\n", ckpt_checkpoint());
    fail_deep(3);
  }
  return rc;
}

int main(void) {
  printf("longjmp returned %d\n", guarded());
  printf("outside: %d\n", ckpt_checkpoint());
  return 0;
}
