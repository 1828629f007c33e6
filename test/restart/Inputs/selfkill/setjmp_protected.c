/* An interpreter's protected calls: every call runs under setjmp, errors
 * longjmp to the innermost handler from deep in the callee. The checkpoint
 * is taken inside a protected call, two handlers deep (a setjmp and a
 * sigsetjmp that saved a mask without SIGUSR1 blocked); after the restart
 * the error raised there must land in the handlers set before the
 * checkpoint, in the right frames, with their locals, and the siglongjmp
 * must bring back the mask it saved. -D_FORTIFY_SOURCE turns longjmp into
 * __longjmp_chk: both are exercised. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "common.h"

struct handler {
  jmp_buf env;
  struct handler *prev;
  const char *name;
};
static struct handler *top;
static int depth_reached;

__attribute__((noinline)) static void raise_error(int code) {
  longjmp(top->env, code);
}

__attribute__((noinline)) static long deep(int n, int code, int checkpoint) {
  volatile long local[4] = {n, n * 2, n * 3, n * 4};
  if (n == 0) {
    depth_reached++;
    if (checkpoint)
      CHECKPOINT_AND_DIE();
    if (code)
      raise_error(code);
    return local[3];
  }
  return deep(n - 1, code, checkpoint) + local[1];
}

/* Runs fn under a handler: returns its value, or minus the error code. */
__attribute__((noinline)) static long pcall(const char *name, int n, int code,
                                            int checkpoint) {
  struct handler h;
  volatile long canary = 0x5eed0000 + n;
  h.prev = top;
  h.name = name;
  top = &h;
  int rc = setjmp(h.env);
  if (rc == 0) {
    long v = deep(n, code, checkpoint);
    top = h.prev;
    return v;
  }
  top = h.prev;
  printf("  caught %d in %s (canary %s)\n", rc, h.name,
         canary == 0x5eed0000 + n ? "intact" : "CLOBBERED");
  return -rc;
}

static sigjmp_buf masked_env;

static int usr1_blocked(void) {
  sigset_t s;
  sigprocmask(SIG_BLOCK, NULL, &s);
  return sigismember(&s, SIGUSR1);
}

__attribute__((noinline)) static long outer(int checkpoint) {
  if (sigsetjmp(masked_env, 1)) {
    printf("  siglongjmp back: SIGUSR1 blocked=%d\n", usr1_blocked());
    return -100;
  }
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigprocmask(SIG_BLOCK, &s, NULL);
  printf("  inside: SIGUSR1 blocked=%d\n", usr1_blocked());
  long v = pcall("inner", 200, 7, checkpoint); /* error 7, caught inside */
  printf("  inner returned %ld\n", v);
  siglongjmp(masked_env, 1);
}

int main(void) {
  long sum = 0;
  for (int i = 0; i < 6; i++)
    sum += pcall("round", 50 + i, i % 3 == 0 ? 0 : i, 0);
  printf("before: sum=%ld depth_reached=%d\n", sum, depth_reached);
  printf("outer: %ld\n", outer(1));
  for (int i = 0; i < 6; i++)
    sum += pcall("round", 50 + i, i % 2 ? 3 : 0, 0);
  printf("after: sum=%ld depth_reached=%d blocked=%d\n", sum, depth_reached,
         usr1_blocked());
  return 0;
}
