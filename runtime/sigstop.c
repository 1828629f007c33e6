/* runtime/sigstop.c - stopping a running thread with a signal (issue 10,
 * frames redesign step 3; docs/design.md).
 *
 * A thread that runs program code stops for a checkpoint wherever the
 * coordinator's signal finds it, if its whole stack can be saved there: the
 * handler walks the native frames from the exact interrupted pc
 * (ckpt_walk_stack: the innermost frame must be an instrumented function of
 * the program, and every frame below it too, down to the thread's entry).
 * Then it keeps the interrupted register context (general registers, flags,
 * the FP/vector state the kernel wrote; runtime/context.h) and the signal
 * mask, and waits in the handler until the checkpoint releases it; the
 * thread's stack is saved from the interrupted rsp - 128 (the red zone) up,
 * and a restart resumes the context at the very instruction. Anywhere else
 * (libc, the runtime, a callback under library code) the handler returns at
 * once and the coordinator asks again a little later; the thread may also
 * stop at a poll meanwhile.
 *
 * The signal is reserved: the program cannot install a handler for it
 * (sigaction fails with EINVAL), block it (sigprocmask and pthread_sigmask
 * leave it out of the mask) or wait for it. Only threads the kernel shows
 * running are signalled, never one asleep in a system call, so no call
 * fails with EINTR because of a checkpoint (handlers have SA_RESTART).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "context.h"
#include "rt.h"
#include "unwind.h"

void ckpt_signal_unwind_regs(const void *ucontext, struct ckpt_unwind_regs *r) {
  const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
  *r = (struct ckpt_unwind_regs){
      (uint64_t)g[REG_RIP], (uint64_t)g[REG_RSP], (uint64_t)g[REG_RBP],
      (uint64_t)g[REG_RBX], (uint64_t)g[REG_R12], (uint64_t)g[REG_R13],
      (uint64_t)g[REG_R14], (uint64_t)g[REG_R15]};
}

static void stop_handler(int sig, siginfo_t *info, void *uctx) {
  (void)sig;
  int saved_errno = errno;
  struct ckpt_thread *t = ckpt_self;
  /* Only requests from this process, by tgkill: the coordinator's, or a
   * pthread_cancel's (cancel.c), which goes first. */
  if (info->si_code != SI_TKILL || info->si_pid != getpid())
    goto out;
  if (ckpt_cancel_on_signal(uctx))
    goto out;
  if (!t ||
      !t->stop_context ||
      !__atomic_load_n(&CKPT_NAME(pending), __ATOMIC_SEQ_CST) ||
      __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) != CKPT_THREAD_RUNNING ||
      ckpt_in_signal_handler())
    goto out;
  const ucontext_t *uc = uctx;
  struct ckpt_unwind_regs regs;
  ckpt_signal_unwind_regs(uctx, &regs);
  if (t->library_thread) {
    /* Not saved, only held still: anywhere in library code (libomp
     * spinning or asleep in a futex), never in the executable, where it
     * may be inside the allocator or running the program's code; and only
     * once the program's threads have stopped (frames.c). */
    if (!__atomic_load_n(&ckpt_library_stop, __ATOMIC_SEQ_CST))
      goto out;
    if (ckpt_unwind_in_program(regs.rip)) {
      t->stop_refusal = "a library's thread running code of the executable "
                        "(a parallel region, or the runtime)";
      goto out;
    }
    t->park_kind = CKPT_PARK_SIGNAL;
    t->call_kind = CKPT_CALL_NONE;
    ckpt_wait_while_pending(t, CKPT_THREAD_PARKED);
    goto out;
  }
  const char *why;
  if (ckpt_walk_stack(t, &regs, 1, 0, NULL, NULL, &why) != 0) {
    t->stop_refusal = why;
    goto out;
  }
  if (regs.rsp - 128 < t->stack_lo ||
      ckpt_context_from_signal(t->stop_context, uctx) != 0) {
    t->stop_refusal = "its register state does not fit a context";
    goto out;
  }
  t->stop_mask = uc->uc_sigmask;
  t->park_sp = regs.rsp - 128;
  t->parked_records = CKPT_NAME(records);
  t->park_kind = CKPT_PARK_SIGNAL;
  t->call_kind = CKPT_CALL_NONE;
  ckpt_wait_while_pending(t, CKPT_THREAD_PARKED);
out:
  errno = saved_errno;
}

int ckpt_sigstop_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = stop_handler;
  /* Nothing interrupts a stopped thread; interrupted calls restart. */
  sigfillset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  return ckpt_real_sigaction(CKPT_STOP_SIGNAL, &sa, NULL);
}

int ckpt_sigstop_thread_init(struct ckpt_thread *t) {
  t->tid = (int)syscall(SYS_gettid);
  if (!t->stop_context) {
    /* Allocated once per record (records are reused by later threads of
     * the slot), from the system heap: the handler cannot allocate. */
    int saved = ckpt_heap_use_app;
    ckpt_heap_use_app = 0;
    t->stop_context = aligned_alloc(64, sizeof *t->stop_context);
    ckpt_heap_use_app = saved;
    if (!t->stop_context)
      return -1;
  }
  return 0;
}

/* 1 if the kernel shows thread tid running (or runnable), 0 if it sleeps
 * or is stopped: a signal would interrupt its system call. */
static int kernel_says_running(int tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  /* "tid (comm) S ...": comm may hold spaces and parentheses. */
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] == 'R';
}

void ckpt_sigstop_request(struct ckpt_thread *t) {
  /* A library's thread asleep in the kernel (libomp's futex waits) is
   * signalled too: its wait restarts after the checkpoint (SA_RESTART, and
   * the library's waits loop anyway). */
  if (t->tid <= 0 || !t->stop_context ||
      (!t->library_thread && !kernel_says_running(t->tid)))
    return;
  syscall(SYS_tgkill, getpid(), t->tid, CKPT_STOP_SIGNAL);
}

void ckpt_sigstop_strip(sigset_t *set) {
  if (!set)
    return;
  sigdelset(set, CKPT_STOP_SIGNAL);
  for (int sig = 1; sig <= 64; sig++)
    if (ckpt_on_signal_owns(sig))
      sigdelset(set, sig);
}

/* ---- The program may not block the signal --------------------------------- */

typedef int (*sigmask_fn)(int, const sigset_t *, sigset_t *);

static sigmask_fn real_fn(const char *name) {
  return (sigmask_fn)dlsym(RTLD_NEXT, name);
}

static int masked_call(const char *name, sigmask_fn *cache, int how,
                       const sigset_t *set, sigset_t *old) {
  if (!*cache)
    *cache = real_fn(name);
  if (!*cache) {
    errno = ENOSYS;
    return -1;
  }
  if (!set || how == SIG_UNBLOCK)
    return (*cache)(how, set, old);
  sigset_t copy = *set;
  ckpt_sigstop_strip(&copy);
  return (*cache)(how, &copy, old);
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  static sigmask_fn fn;
  return masked_call("sigprocmask", &fn, how, set, old);
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  static sigmask_fn fn;
  int rc = masked_call("pthread_sigmask", &fn, how, set, old);
  return rc < 0 ? errno : rc;
}
