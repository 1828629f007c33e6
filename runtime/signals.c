/* runtime/signals.c - the program's signal handlers.
 *
 * signal() and sigaction() are interposed so that every handler runs through
 * a trampoline that marks the thread as "in a signal handler": a handler
 * interrupts code at an arbitrary point, so a poll reached inside it must not
 * stop there (the thread stops once it is back in normal code). The handlers
 * are also recorded in the saved runtime state and installed again when a
 * checkpoint is restored, so the program's signal dispositions come back.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "rt.h"

#define CKPT_NSIG 65

struct saved_action {
  int installed; /* set by the program through signal/sigaction */
  struct sigaction act; /* what the program asked for */
};

static struct saved_action actions[CKPT_NSIG] CKPT_RTSTATE_VAR;

/* What is recorded of the program's action: glibc fills sa_restorer in
 * the actions it reports (its own __restore_rt, a private function) and
 * sets it again at every sigaction, whatever it is given, so it is not
 * kept: a saved copy would be a pointer into libc's code that another
 * build of libc has elsewhere (relocate.c). */
static void record(int sig, const struct sigaction *act) {
  actions[sig].act = *act;
  actions[sig].act.sa_restorer = NULL;
  actions[sig].installed = 1;
}

/* Stack addresses of the trampolines running on this thread, innermost
 * last. A handler left by siglongjmp never returns through the trampoline,
 * so "inside a handler" is decided by where the caller's frame is: below a
 * trampoline's frame (the stack grows down) means inside its handler. */
#define MAX_NESTED_HANDLERS 32
static __thread uintptr_t handler_frames[MAX_NESTED_HANDLERS]
    __attribute__((tls_model("initial-exec")));
static __thread int handler_depth __attribute__((tls_model("initial-exec")));

int ckpt_in_signal_handler(void) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  while (handler_depth > 0 && here > handler_frames[handler_depth - 1])
    handler_depth--; /* left without returning (longjmp) */
  return handler_depth > 0;
}

void ckpt_signals_thread_reset(void) { handler_depth = 0; }

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction(void) {
  static sigaction_fn fn;
  if (!fn)
    fn = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  return fn;
}

int ckpt_real_sigaction(int sig, const struct sigaction *act,
                        struct sigaction *old) {
  sigaction_fn real = real_sigaction();
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  return real(sig, act, old);
}

static void trampoline(int sig, siginfo_t *info, void *uctx) {
  struct sigaction *a = &actions[sig].act;
  int pushed = 0;
  (void)ckpt_in_signal_handler(); /* drop frames left by longjmp */
  if (handler_depth < MAX_NESTED_HANDLERS) {
    handler_frames[handler_depth++] = (uintptr_t)__builtin_frame_address(0);
    pushed = 1;
  }
  /* A handler interrupting a blocking call runs user code: the thread is
   * not stopped while it runs (and waits for a checkpoint in progress to
   * finish before it starts), then counts as waiting in its call again. If
   * the handler leaves by siglongjmp, the thread simply stays running. */
  struct ckpt_thread *t = ckpt_self;
  int was_in_call =
      t && __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == CKPT_THREAD_IN_CALL;
  if (was_in_call)
    ckpt_wait_while_pending(t, CKPT_THREAD_IN_CALL);
  if (a->sa_flags & SA_SIGINFO)
    a->sa_sigaction(sig, info, uctx);
  else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
    a->sa_handler(sig);
  if (was_in_call)
    ckpt_thread_set_state(t, CKPT_THREAD_IN_CALL);
  if (pushed && handler_depth > 0)
    handler_depth--;
}

/* The action handed to the kernel for what the program asked. */
static void kernel_action(int sig, const struct sigaction *user,
                          struct sigaction *out) {
  *out = *user;
  int is_handler = (user->sa_flags & SA_SIGINFO) ||
                   (user->sa_handler != SIG_DFL && user->sa_handler != SIG_IGN);
  if (is_handler) {
    out->sa_sigaction = trampoline;
    out->sa_flags |= SA_SIGINFO;
  }
  (void)sig;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  sigaction_fn real = real_sigaction();
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  if (sig <= 0 || sig >= CKPT_NSIG)
    return real(sig, act, old);
  if (sig == CKPT_STOP_SIGNAL && act) {
    static int warned;
    if (!warned++)
      CKPT_WARN("sigaction(%d): signal %d is reserved by ckpt (it stops "
                "threads for checkpoints); the program's handler is refused",
                sig, sig);
    errno = EINVAL;
    return -1;
  }
  struct sigaction previous;
  int had = actions[sig].installed;
  if (had)
    previous = actions[sig].act;
  if (ckpt_on_signal_owns(sig)) {
    /* ckpt-run --on-signal's: the kernel keeps ckpt's handler; what the
     * program asked is recorded (and comes back after a restart without
     * --on-signal), and it sees it as its own. */
    if (old) {
      memset(old, 0, sizeof *old);
      old->sa_handler = SIG_DFL;
      if (had)
        *old = previous;
    }
    if (act)
      record(sig, act);
    return 0;
  }
  int rc;
  if (act) {
    /* Recorded before the kernel can deliver to the trampoline. */
    struct saved_action before = actions[sig];
    record(sig, act);
    struct sigaction k;
    kernel_action(sig, act, &k);
    rc = real(sig, &k, old);
    if (rc != 0)
      actions[sig] = before;
  } else {
    rc = real(sig, NULL, old);
  }
  /* The program sees its own handler, never the trampoline. */
  if (rc == 0 && old && had)
    *old = previous;
  return rc;
}

sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
  if (sigaction(sig, &act, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
}

void ckpt_signals_give_back(int sig) {
  struct sigaction k;
  if (actions[sig].installed) {
    kernel_action(sig, &actions[sig].act, &k);
  } else {
    memset(&k, 0, sizeof k);
    k.sa_handler = SIG_DFL;
  }
  ckpt_real_sigaction(sig, &k, NULL);
}

int ckpt_signals_restore(char *msg, size_t msglen) {
  sigaction_fn real = real_sigaction();
  for (int sig = 1; sig < CKPT_NSIG; sig++) {
    if (!actions[sig].installed || ckpt_on_signal_owns(sig))
      continue;
    struct sigaction k;
    kernel_action(sig, &actions[sig].act, &k);
    if (!real || real(sig, &k, NULL) != 0) {
      snprintf(msg, msglen, "cannot restore the handler of signal %d: %s",
               sig, strerror(errno));
      return -1;
    }
  }
  return 0;
}
