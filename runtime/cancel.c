/* runtime/cancel.c - thread cancellation and cleanup handlers that survive
 * a restart (issue 12, item 2).
 *
 * glibc keeps a thread's cleanup buffers (pthread_cleanup_push) and its
 * cancellation state in its own thread descriptor, which a restart does not
 * bring back, and unwinds a cancelled thread with jmp_bufs mangled by its
 * per-process guard. So the program's cleanup interface is the runtime's:
 * __pthread_register_cancel and friends (what the pthread_cleanup_push and
 * pthread_cleanup_pop macros call) chain the buffers in the thread's record,
 * which a checkpoint saves; the buffers themselves are on the thread's stack
 * and their jmp_bufs are filled by the runtime's __sigsetjmp (setjmp.c),
 * whose guard survives a restart. pthread_exit and an acted-on cancellation
 * run the handlers innermost first by longjmp into each buffer (the macro
 * then calls the handler and __pthread_unwind_next), then end the thread.
 *
 * Deferred cancellation acts at pthread_testcancel and at the blocking
 * calls the runtime wraps (sleeps, I/O on pipes, sockets and terminals,
 * poll/select/epoll_wait, wait/waitpid, pause, condition waits, joins,
 * semaphore waits). Those make their system call through
 * ckpt_cancellable_syscall: a check of the thread's "armed" word and the
 * syscall instruction between two labels. pthread_cancel arms the target
 * and, if the target is inside such a call, sends it the runtime's signal;
 * the handler moves a thread whose pc is between the labels (the call not
 * yet made, or interrupted and about to be restarted) to a return of
 * -ECANCELED, and the wrapper, back in normal context, acts. Asynchronous
 * cancellation acts in the signal handler when the thread is in the
 * program's own code (the same stack walk a checkpoint stop needs), else at
 * the next cancellation point.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "rt.h"

/* The running thread's state. It lives in the executable's TLS block,
 * which a checkpoint saves and a restart puts back at the same address,
 * with the thread's stack that the cleanup buffers are on. */
static __thread struct ckpt_cancel_state self_state
    __attribute__((tls_model("initial-exec")));
/* Its "armed" word, read by the system-call stub; NULL for threads the
 * runtime does not manage. */
__thread int *ckpt_cancel_word __attribute__((tls_model("initial-exec")));

/* long ckpt_cancellable_syscall(long nr, long a1, ..., long a6): the raw
 * system call (-errno on failure), or -ECANCELED without making it if the
 * thread is armed. */
__asm__(".text\n"
        ".globl ckpt_cancellable_syscall\n"
        ".type ckpt_cancellable_syscall,@function\n"
        "ckpt_cancellable_syscall:\n"
        ".cfi_startproc\n"
        "  movq %rdi, %rax\n"
        "  movq %rsi, %rdi\n"
        "  movq %rdx, %rsi\n"
        "  movq %rcx, %rdx\n"
        "  movq %r8, %r10\n"
        "  movq %r9, %r8\n"
        "  movq 8(%rsp), %r9\n"
        ".globl ckpt_cancel_window_begin\n"
        "ckpt_cancel_window_begin:\n"
        "  movq %fs:ckpt_cancel_word@tpoff, %r11\n"
        "  testq %r11, %r11\n"
        "  jz 1f\n"
        "  cmpl $0, (%r11)\n"
        "  jne ckpt_cancel_window_cancel\n"
        "1:\n"
        "  syscall\n"
        ".globl ckpt_cancel_window_end\n"
        "ckpt_cancel_window_end:\n"
        "  ret\n"
        ".globl ckpt_cancel_window_cancel\n"
        "ckpt_cancel_window_cancel:\n"
        "  movq $-125, %rax\n" /* -ECANCELED */
        "  ret\n"
        ".cfi_endproc\n"
        ".size ckpt_cancellable_syscall, .-ckpt_cancellable_syscall\n");
_Static_assert(ECANCELED == 125, "the stub returns -125");
extern const char ckpt_cancel_window_begin[], ckpt_cancel_window_end[],
    ckpt_cancel_window_cancel[];

/* glibc's __pthread_unwind_buf_t: the jmp_buf part (as struct __jmp_buf_tag
 * without the saved mask, which savemask 0 never reads), then four private
 * words: the runtime keeps the next outer buffer in the first and, for the
 * _defer variants, the saved cancellation type in the third. */
enum { BUF_PREV = 0, BUF_TYPE = 2 };

static void **buf_words(__pthread_unwind_buf_t *buf) { return buf->__pad; }

static void rearm(struct ckpt_cancel_state *cs) {
  int armed = __atomic_load_n(&cs->pending, __ATOMIC_SEQ_CST) &&
              !cs->disabled && !cs->unwinding;
  __atomic_store_n(&cs->armed, armed, __ATOMIC_SEQ_CST);
}

/* The thread's state is what its TLS block holds: zero for a new thread,
 * the saved one for a restored thread. */
void ckpt_cancel_thread_init(struct ckpt_thread *t) {
  struct ckpt_cancel_state *cs = &self_state;
  ckpt_cancel_word = &cs->armed;
  if (__atomic_exchange_n(&t->cancel_early, 0, __ATOMIC_SEQ_CST))
    __atomic_store_n(&cs->pending, 1, __ATOMIC_SEQ_CST);
  rearm(cs);
  __atomic_store_n(&t->cancel, cs, __ATOMIC_SEQ_CST);
}

/* Run the next cleanup handler, or end the thread when none is left. */
__attribute__((noreturn)) static void unwind_on(struct ckpt_cancel_state *cs) {
  __pthread_unwind_buf_t *top = cs->cleanup_top;
  if (top)
    ckpt_longjmp_nomask(top->__cancel_jmp_buf, 1);
  ckpt_thread_exit(cs->exit_value);
}

__attribute__((noreturn)) static void start_unwinding(void *value) {
  struct ckpt_cancel_state *cs = &self_state;
  cs->exit_value = value;
  cs->unwinding = 1;
  cs->disabled = 1; /* POSIX: no cancellation while handlers run */
  rearm(cs);
  unwind_on(cs);
}

void ckpt_cancel_act(void) {
  struct ckpt_cancel_state *cs = &self_state;
  if (ckpt_self && !cs->unwinding && !cs->disabled &&
      __atomic_load_n(&cs->pending, __ATOMIC_SEQ_CST))
    start_unwinding(PTHREAD_CANCELED);
}

void pthread_testcancel(void) { ckpt_cancel_act(); }

void pthread_exit(void *retval) {
  if (!ckpt_self || self_state.unwinding)
    ckpt_thread_exit(retval); /* exit from a cleanup handler: no more */
  start_unwinding(retval);
}

/* ---- The cleanup-buffer interface of <pthread.h> ------------------------ */

/* (A thread the runtime does not manage keeps a chain too; nothing
 * cancels it through the runtime, but its pthread_exit runs it.) */
void __pthread_register_cancel(__pthread_unwind_buf_t *buf) {
  struct ckpt_cancel_state *cs = &self_state;
  buf_words(buf)[BUF_PREV] = cs->cleanup_top;
  cs->cleanup_top = buf;
}

void __pthread_unregister_cancel(__pthread_unwind_buf_t *buf) {
  struct ckpt_cancel_state *cs = &self_state;
  if (cs->cleanup_top == buf)
    cs->cleanup_top = buf_words(buf)[BUF_PREV];
}

void __pthread_register_cancel_defer(__pthread_unwind_buf_t *buf) {
  __pthread_register_cancel(buf);
  int old = PTHREAD_CANCEL_DEFERRED;
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old);
  buf_words(buf)[BUF_TYPE] = (void *)(uintptr_t)old;
}

void __pthread_unregister_cancel_restore(__pthread_unwind_buf_t *buf) {
  __pthread_unregister_cancel(buf);
  pthread_setcanceltype((int)(uintptr_t)buf_words(buf)[BUF_TYPE], NULL);
}

/* Called by the macro after a handler ran (the thread is unwinding). */
void __pthread_unwind_next(__pthread_unwind_buf_t *buf) {
  struct ckpt_cancel_state *cs = &self_state;
  cs->cleanup_top = buf_words(buf)[BUF_PREV];
  unwind_on(cs);
}

/* ---- State, type, requests ---------------------------------------------- */

int pthread_setcancelstate(int state, int *old) {
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
    return EINVAL;
  struct ckpt_thread *t = ckpt_self;
  if (!t) {
    int (*real)(int, int *) =
        (int (*)(int, int *))ckpt_libc_function("pthread_setcancelstate");
    return real(state, old);
  }
  struct ckpt_cancel_state *cs = &self_state;
  if (old)
    *old = cs->disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
  if (cs->unwinding)
    return 0; /* stays disabled while handlers run */
  cs->disabled = state == PTHREAD_CANCEL_DISABLE;
  rearm(cs);
  if (cs->async)
    ckpt_cancel_act();
  return 0;
}

int pthread_setcanceltype(int type, int *old) {
  if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS)
    return EINVAL;
  struct ckpt_thread *t = ckpt_self;
  if (!t) {
    int (*real)(int, int *) =
        (int (*)(int, int *))ckpt_libc_function("pthread_setcanceltype");
    return real(type, old);
  }
  struct ckpt_cancel_state *cs = &self_state;
  if (old)
    *old = cs->async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
  cs->async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
  if (cs->async)
    ckpt_cancel_act();
  return 0;
}

int ckpt_cancel_request(struct ckpt_thread *t) {
  if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == CKPT_THREAD_EXITED)
    return 0;
  struct ckpt_cancel_state *cs = __atomic_load_n(&t->cancel, __ATOMIC_SEQ_CST);
  if (!cs) {
    /* Not started yet: it takes the request over when it starts. */
    __atomic_store_n(&t->cancel_early, 1, __ATOMIC_SEQ_CST);
    cs = __atomic_load_n(&t->cancel, __ATOMIC_SEQ_CST);
    if (!cs)
      return 0;
  }
  __atomic_store_n(&cs->pending, 1, __ATOMIC_SEQ_CST);
  /* Only the thread itself writes disabled/unwinding; a change it makes
   * after this reads pending and re-arms. */
  if (!cs->disabled && !cs->unwinding)
    __atomic_store_n(&cs->armed, 1, __ATOMIC_SEQ_CST);
  if (t == ckpt_self) {
    if (cs->async)
      ckpt_cancel_act();
    return 0;
  }
  /* Dekker with the target: it publishes in_call, then (in the stub) reads
   * its armed word; we published armed, then read in_call. */
  if ((__atomic_load_n(&cs->in_call, __ATOMIC_SEQ_CST) || cs->async) &&
      t->tid > 0)
    syscall(SYS_tgkill, getpid(), t->tid, CKPT_STOP_SIGNAL);
  return 0;
}

/* In the runtime's signal handler, before anything else: 1 if the signal
 * was for a cancellation and has been dealt with. */
int ckpt_cancel_on_signal(void *uctx) {
  struct ckpt_thread *t = ckpt_self;
  struct ckpt_cancel_state *cs = &self_state;
  if (!t || !__atomic_load_n(&cs->armed, __ATOMIC_SEQ_CST))
    return 0;
  ucontext_t *uc = uctx;
  greg_t *g = uc->uc_mcontext.gregs;
  uintptr_t pc = (uintptr_t)g[REG_RIP];
  /* In the stub before its system call was made or completed: the kernel
   * restarts an interrupted call by moving the pc back onto the syscall
   * instruction; a call that does not restart (nanosleep, poll) returns
   * -EINTR at the window's end. */
  if ((pc >= (uintptr_t)ckpt_cancel_window_begin &&
       pc < (uintptr_t)ckpt_cancel_window_end) ||
      (pc == (uintptr_t)ckpt_cancel_window_end && g[REG_RAX] == -EINTR)) {
    g[REG_RIP] = (greg_t)(uintptr_t)ckpt_cancel_window_cancel;
    return 1;
  }
  if (!cs->async || ckpt_in_signal_handler())
    return 0;
  struct ckpt_unwind_regs regs;
  ckpt_signal_unwind_regs(uctx, &regs);
  const char *why;
  if (ckpt_walk_stack(t, &regs, 1, 0, NULL, NULL, &why) != 0)
    return 0; /* not in the program's code: at the next cancellation point */
  /* Leave the handler for good: the mask the thread had, then unwind. */
  sigprocmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
  start_unwinding(PTHREAD_CANCELED);
}

long ckpt_cancellable_syscall(long nr, long a1, long a2, long a3, long a4,
                              long a5, long a6);

long ckpt_cp_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
                     long a6) {
  struct ckpt_cancel_state *cs = &self_state;
  __atomic_store_n(&cs->in_call, 1, __ATOMIC_SEQ_CST);
  long r = ckpt_cancellable_syscall(nr, a1, a2, a3, a4, a5, a6);
  __atomic_store_n(&cs->in_call, 0, __ATOMIC_SEQ_CST);
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}
