/* setjmp.c - a function that calls setjmp may hold a live jmp_buf, which
 * glibc mangles with a per-process guard: a thread does not stop while
 * such a function is on its stack. ckpt_checkpoint() there is refused with
 * the reason; outside, and after a longjmp back out, it is taken. The
 * program builds although its main loop's helper calls setjmp. */
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
