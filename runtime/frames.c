/* runtime/frames.c - safe points: stopping every application thread for a
 * checkpoint (at polls, or inside wrapped blocking calls), checking their
 * frame chains, and, on restore, putting each thread's saved stack back and
 * resuming it at the call point where it stopped.
 *
 * The stop protocol is a handshake on two sequentially consistent variables:
 * the coordinator stores __ckpt_pending = 1 and then reads each thread's
 * state; a thread leaving a blocking call stores RUNNING and then reads
 * __ckpt_pending. Whatever the interleaving, either the coordinator sees
 * RUNNING (and waits for that thread to reach a poll) or the thread sees the
 * flag (and goes back to waiting without running user code). Threads wait on
 * `release_epoch` with a futex; the coordinator waits on `park_events`. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "rt.h"

/* Read by every poll (one relaxed load) and every instrumented entry. */
volatile uint32_t CKPT_NAME(pending);
__thread void *CKPT_NAME(records) __attribute__((tls_model("initial-exec")));

__thread struct ckpt_thread *ckpt_self
    __attribute__((tls_model("initial-exec")));
struct ckpt_thread ckpt_thread_records[CKPT_STACK_MAX_SLOTS];
struct ckpt_thread *ckpt_threads[CKPT_STACK_MAX_SLOTS];
uint32_t ckpt_thread_slots_used;

static uint32_t release_epoch; /* bumped when a checkpoint releases threads */
static uint32_t park_events;   /* bumped when a thread stops */
/* Set once every thread of the program has stopped: only then are the
 * threads a library started held too. Before, one of them may be needed
 * for a program thread to get anywhere (an OpenMP worker that the master,
 * still in its parallel region, waits for at the region's barrier). */
uint32_t ckpt_library_stop;

long ckpt_futex_wait(uint32_t *word, uint32_t val, const struct timespec *abs,
                     int clock_realtime) {
  /* FUTEX_WAIT_BITSET takes an absolute deadline; private to the process
   * (program objects are never shared with another process here: pshared
   * objects are refused at init). */
  int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG |
           (clock_realtime ? FUTEX_CLOCK_REALTIME : 0);
  return syscall(SYS_futex, word, op, val, abs, NULL, FUTEX_BITSET_MATCH_ANY);
}

void ckpt_futex_wake(uint32_t *word, int n) {
  syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

static void note_park_event(void) {
  __atomic_add_fetch(&park_events, 1, __ATOMIC_SEQ_CST);
  ckpt_futex_wake(&park_events, INT_MAX);
}

/* ---- Descriptors and stack walks ---------------------------------------- */

extern int CKPT_NAME(main)(int, char **, char **);

/* The descriptors of every loaded module by function address, for lookups
 * during stack walks. A library opened or closed with dlopen/dlclose makes
 * a new table; the table and its count are published as one pointer, and
 * an old table is never freed, since a stack walk on another thread may
 * still be reading it (a few bytes per function, per dlopen). The table
 * holds each function's address itself: a search never reads a descriptor
 * of a library dlclose has unmapped since the table was made. */
int ckpt_unwind_usable;
struct func_entry {
  uintptr_t fn;
  const struct ckpt_func_desc *desc;
};
struct func_table {
  size_t n;
  struct func_entry by_addr[];
};
static struct func_table *funcs_table;

static int cmp_entry_fn(const void *a, const void *b) {
  uintptr_t x = ((const struct func_entry *)a)->fn;
  uintptr_t y = ((const struct func_entry *)b)->fn;
  return x < y ? -1 : x > y;
}

int ckpt_funcs_init(void) {
  size_t n = 0, count = ckpt_module_count();
  for (size_t i = 0; i < count; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    if (m && m->funcs)
      n += (size_t)(m->funcs_end - m->funcs);
  }
  /* Runtime records live in the system heap, never in the program's. */
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  struct func_table *t = malloc(sizeof *t + n * sizeof t->by_addr[0]);
  ckpt_heap_use_app = saved;
  if (!t)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    for (const struct ckpt_func_desc *d = m ? m->funcs : NULL;
         d && d < m->funcs_end && k < n; d++)
      t->by_addr[k++] = (struct func_entry){(uintptr_t)d->fn, d};
  }
  t->n = k;
  qsort(t->by_addr, k, sizeof t->by_addr[0], cmp_entry_fn);
  __atomic_store_n(&funcs_table, t, __ATOMIC_RELEASE);
  return 0;
}

const struct ckpt_func_desc *ckpt_func_desc_at(uintptr_t fn) {
  const struct func_table *t = __atomic_load_n(&funcs_table, __ATOMIC_ACQUIRE);
  size_t lo = 0, hi = t ? t->n : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uintptr_t at = t->by_addr[mid].fn;
    if (at == fn)
      return t->by_addr[mid].desc;
    if (at < fn)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void ckpt_call_point_unwind_regs(const struct ckpt_call_point *p,
                                 struct ckpt_unwind_regs *r) {
  *r = (struct ckpt_unwind_regs){p->rip, p->rsp, p->rbp, p->rbx,
                                 p->r12, p->r13, p->r14, p->r15};
}

static const char *unwind_refusal(int result) {
  switch (result) {
  case CKPT_UNWIND_NOT_PROGRAM:
    return "inside a call from a shared library (a callback of qsort, a "
           "signal handler...)";
  case CKPT_UNWIND_BOTTOM:
    return "its stack ends in an unexpected place";
  default:
    return "in code without usable unwind information";
  }
}

int ckpt_walk_stack(const struct ckpt_thread *t,
                    const struct ckpt_unwind_regs *from, int exact,
                    int runtime_prefix,
                    int (*visit)(void *ctx, const struct ckpt_walked_frame *f),
                    void *ctx, const char **why) {
  struct ckpt_unwind_regs r = *from;
  uintptr_t lo = from->rsp, hi = t->user_top;
  if (lo < t->stack_lo || lo >= hi) {
    *why = "running on a stack that is not its own (sigaltstack, a "
           "coroutine?)";
    return -1;
  }
  uintptr_t base = t->start_fn ? (uintptr_t)t->start_fn
                               : (uintptr_t)CKPT_NAME(main);
  uintptr_t entry = t->start_fn ? (uintptr_t)ckpt_run_thread
                                : (uintptr_t)ckpt_run_user_main;
  int in_program = 0;
  for (int first = 1;; first = 0) {
    struct ckpt_walked_frame f = {r.rip, r.rsp, 0, 0, NULL};
    int step = ckpt_unwind_step(&r, first && exact, lo, hi, &f.func);
    if (step != CKPT_UNWIND_OK) {
      *why = unwind_refusal(step);
      return -1;
    }
    f.cfa = r.rsp;
    f.desc = ckpt_func_desc_at(f.func);
    if (!f.desc) {
      /* The runtime's code: the wrapper the thread blocks in, before any
       * program frame; nothing between program frames. */
      if (in_program || !runtime_prefix) {
        *why = in_program
                   ? "inside a callback of code ckpt did not instrument"
                   : "running code ckpt did not instrument (libc, a "
                     "library, a file not built by ckpt-cc)";
        return -1;
      }
    } else if (f.desc->flags & CKPT_FUNC_RETURNS_TWICE) {
      *why = "inside a function that calls vfork, getcontext or another "
             "function that returns twice (its second return could not be "
             "reproduced after a restart)";
      return -1;
    } else {
      in_program = 1;
    }
    if (visit) {
      int v = visit(ctx, &f);
      if (v)
        return v;
    }
    if (f.desc && f.func == base) {
      /* The thread's first program frame if its caller is the runtime's
       * entry code, called from the stack's bottom trampoline. */
      uintptr_t caller = 0;
      struct ckpt_unwind_regs up = r;
      if (ckpt_unwind_step(&up, 0, lo, hi, &caller) == CKPT_UNWIND_OK &&
          caller == entry &&
          ckpt_unwind_step(&up, 0, lo, hi, NULL) == CKPT_UNWIND_BOTTOM)
        return 0;
    }
  }
}

void ckpt_block_signals_while_stopped(struct ckpt_thread *t, sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, old);
  t->wait_mask = *old;
  __atomic_store_n(&t->wait_mask_known, 1, __ATOMIC_SEQ_CST);
}

void ckpt_unblock_signals_after_stop(struct ckpt_thread *t,
                                     const sigset_t *old) {
  __atomic_store_n(&t->wait_mask_known, 0, __ATOMIC_SEQ_CST);
  pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* A program thread leaving a call is held for a checkpoint only if its
 * stack can be saved from the call: one made from a library's code
 * (libomp's barrier takes a mutex, from the main thread inside a region)
 * runs on, or the region, and so the checkpoint, would never end. */
static int stack_saveable_from_call(struct ckpt_thread *t) {
  struct ckpt_unwind_regs regs;
  ckpt_call_point_unwind_regs(&t->park_point, &regs);
  const char *why;
  return ckpt_walk_stack(t, &regs, 0, 1, NULL, NULL, &why) == 0;
}

void ckpt_wait_while_pending(struct ckpt_thread *t, int state) {
  for (;;) {
    uint32_t epoch = __atomic_load_n(&release_epoch, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->state, CKPT_THREAD_RUNNING, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&CKPT_NAME(pending), __ATOMIC_SEQ_CST))
      return;
    if (t->library_thread &&
        !__atomic_load_n(&ckpt_library_stop, __ATOMIC_SEQ_CST))
      return; /* not held until the program's threads have stopped */
    if (state == CKPT_THREAD_IN_CALL && !t->library_thread &&
        !stack_saveable_from_call(t))
      return; /* runs on; it stops later, somewhere it can */
    /* A checkpoint is in progress: stay stopped until it releases us. */
    __atomic_store_n(&t->state, state, __ATOMIC_SEQ_CST);
    note_park_event();
    sigset_t old;
    ckpt_block_signals_while_stopped(t, &old);
    while (__atomic_load_n(&release_epoch, __ATOMIC_SEQ_CST) == epoch &&
           __atomic_load_n(&CKPT_NAME(pending), __ATOMIC_SEQ_CST))
      ckpt_futex_wait(&release_epoch, epoch, NULL, 0);
    ckpt_unblock_signals_after_stop(t, &old);
  }
}

/* __ckpt_poll and ckpt_call_enter save their caller's call point on entry
 * (callpoint.h): a thread stopped in them resumes, after a restart, as if
 * the call had just returned. */
void CKPT_NAME(poll)(void);
/* Global: the stubs' assembly calls them by name. */
void ckpt_poll_impl(void *unused_a, void *unused_b, struct ckpt_call_point *p);
CKPT_CALL_POINT_STUB(__ckpt_poll, ckpt_poll_impl);

void ckpt_poll_impl(void *unused_a, void *unused_b, struct ckpt_call_point *p) {
  (void)unused_a;
  (void)unused_b;
  struct ckpt_thread *t = ckpt_self;
  if (!t || !CKPT_NAME(pending) || ckpt_in_signal_handler())
    return;
  /* A library's thread running the program's code (an OpenMP region's
   * body) is always inside a callback; it stops back in the library. */
  if (t->library_thread ||
      __atomic_load_n(&t->state, __ATOMIC_RELAXED) != CKPT_THREAD_RUNNING)
    return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  if (p->rip == t->poll_refused_rip && now_ns < t->poll_walk_after_ns)
    return;
  struct ckpt_unwind_regs regs;
  ckpt_call_point_unwind_regs(p, &regs);
  const char *why;
  if (ckpt_walk_stack(t, &regs, 0, 0, NULL, NULL, &why) != 0) {
    /* Inside a callback: stop at a later poll. This poll (a loop's, run
     * again and again in a parallel region's body) walks again only after
     * the coarse clock's next tick; any other poll walks at once. */
    t->poll_refused_rip = p->rip;
    t->poll_walk_after_ns = now_ns + 1;
    return;
  }
  t->parked_records = CKPT_NAME(records);
  t->park_point = *p;
  t->park_kind = CKPT_PARK_POLL;
  t->call_kind = CKPT_CALL_NONE;
  ckpt_wait_while_pending(t, CKPT_THREAD_PARKED);
}

int ckpt_call_enter_impl(void *callee, uint32_t kind,
                         struct ckpt_call_point *p);
CKPT_CALL_POINT_STUB(ckpt_call_enter, ckpt_call_enter_impl);

int ckpt_call_enter_impl(void *callee, uint32_t kind,
                         struct ckpt_call_point *p) {
  struct ckpt_thread *t = ckpt_self;
  if (!t || __atomic_load_n(&t->state, __ATOMIC_RELAXED) != CKPT_THREAD_RUNNING ||
      ckpt_in_signal_handler())
    return -1;
  /* The stack is checked by the coordinator, only when it needs to stop
   * the thread: a blocking call costs a few stores here. */
  t->parked_records = CKPT_NAME(records);
  t->park_point = *p;
  t->call_callee = callee;
  t->call_kind = kind;
  t->park_kind = CKPT_PARK_CALL;
  __atomic_store_n(&t->state, CKPT_THREAD_IN_CALL, __ATOMIC_SEQ_CST);
  if (CKPT_NAME(pending))
    note_park_event();
  return 0;
}

void ckpt_call_leave(void) {
  struct ckpt_thread *t = ckpt_self;
  ckpt_wait_while_pending(t, CKPT_THREAD_IN_CALL);
  t->call_kind = CKPT_CALL_NONE;
  t->restore_call_kind = CKPT_CALL_NONE;
}

void ckpt_call_leave_result(int64_t result, int err) {
  struct ckpt_thread *t = ckpt_self;
  t->call_result = result;
  t->call_errno = err;
  /* Before the state changes: a coordinator that sees this thread IN_CALL
   * again sees a finished call. */
  __atomic_store_n(&t->call_kind, CKPT_CALL_COMPLETED, __ATOMIC_SEQ_CST);
  ckpt_wait_while_pending(t, CKPT_THREAD_IN_CALL);
  t->call_kind = CKPT_CALL_NONE;
  t->restore_call_kind = CKPT_CALL_NONE;
}

/* Why a thread is not stoppable now, or NULL if it is. */
static const char *not_stopped(struct ckpt_thread *t) {
  switch (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST)) {
  case CKPT_THREAD_RUNNING:
    return t->stop_refusal ? t->stop_refusal
                           : "running (not at a safe point yet)";
  case CKPT_THREAD_IN_CALL: {
    uint32_t kind = __atomic_load_n(&t->call_kind, __ATOMIC_SEQ_CST);
    if (kind == CKPT_CALL_IO) {
      /* A read or write of a file finishes soon and moves its offset: wait
       * for it. Pipes, sockets and terminals may block for ever. */
      struct stat st;
      if (fstat(t->call_fd, &st) == 0 &&
          (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
        return "reading or writing a file";
    }
    /* A library's thread is not saved: blocked in a call, it is still. */
    if (t->library_thread)
      return NULL;
    struct ckpt_unwind_regs regs;
    ckpt_call_point_unwind_regs(&t->park_point, &regs);
    const char *why;
    if (ckpt_walk_stack(t, &regs, 0, 1, NULL, NULL, &why) != 0)
      return why;
    return NULL;
  }
  default:
    return NULL;
  }
}

static int stop_timeout_s(void) {
  static int cached = -1;
  if (cached < 0) {
    const char *v = secure_getenv("CKPT_STOP_TIMEOUT");
    cached = v && *v ? atoi(v) : 120;
    if (cached <= 0)
      cached = 120;
  }
  return cached;
}

int ckpt_stop_world(char *msg, size_t msglen) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  __atomic_store_n(&CKPT_NAME(pending), 1, __ATOMIC_SEQ_CST);
  int warned = 0;
  uint32_t n0 = __atomic_load_n(&ckpt_thread_slots_used, __ATOMIC_ACQUIRE);
  for (uint32_t i = 0; i < n0; i++) {
    struct ckpt_thread *t = __atomic_load_n(&ckpt_threads[i], __ATOMIC_ACQUIRE);
    if (t)
      t->stop_refusal = NULL;
  }
  struct timespec signalled = {0, 0};
  for (;;) {
    uint32_t events = __atomic_load_n(&park_events, __ATOMIC_SEQ_CST);
    struct ckpt_thread *waiting = NULL;
    const char *why = NULL;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Running threads are asked by signal to stop where they are, again
     * every millisecond while they are somewhere they cannot (libc, the
     * runtime, a callback). */
    int signal_now = (now.tv_sec - signalled.tv_sec) * 1000000000L +
                         (now.tv_nsec - signalled.tv_nsec) >=
                     1000000;
    uint32_t n = __atomic_load_n(&ckpt_thread_slots_used, __ATOMIC_ACQUIRE);
    int library_stop = __atomic_load_n(&ckpt_library_stop, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < n; i++) {
      struct ckpt_thread *t = __atomic_load_n(&ckpt_threads[i], __ATOMIC_ACQUIRE);
      const char *w;
      if (!t || (t->library_thread && !library_stop) || !(w = not_stopped(t)))
        continue;
      if (!waiting) {
        waiting = t;
        why = w;
      }
      if (!signal_now)
        break;
      if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == CKPT_THREAD_RUNNING)
        ckpt_sigstop_request(t);
    }
    if (signal_now)
      signalled = now;
    if (!waiting && !library_stop) {
      /* The program's threads have stopped: now the libraries' threads. */
      __atomic_store_n(&ckpt_library_stop, 1, __ATOMIC_SEQ_CST);
      signalled = (struct timespec){0, 0};
      continue;
    }
    if (!waiting)
      break;
    long waited = now.tv_sec - start.tv_sec;
    if (!warned && waited >= 10) {
      CKPT_WARN("checkpoint delayed: thread %u has not reached a safe point "
                "for 10 s: %s (busy in uninstrumented code?)",
                waiting->slot, why);
      warned = 1;
    }
    if (waited >= stop_timeout_s()) {
      __atomic_store_n(&ckpt_library_stop, 0, __ATOMIC_SEQ_CST);
      __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
      __atomic_add_fetch(&release_epoch, 1, __ATOMIC_SEQ_CST);
      ckpt_futex_wake(&release_epoch, INT_MAX);
      snprintf(msg, msglen,
               "thread %u did not stop within %d s (CKPT_STOP_TIMEOUT): %s",
               waiting->slot, stop_timeout_s(), why);
      return -1;
    }
    /* Parking threads bump park_events; a thread that stops without
     * bumping it (it entered a call before the flag) is seen at the next
     * scan, 1 ms later at most. */
    struct timespec ms = {0, 1000000};
    syscall(SYS_futex, &park_events, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, events,
            &ms, NULL, 0);
  }
  if (ckpt_main_thread.state == CKPT_THREAD_OUTSIDE) {
    ckpt_resume_world();
    snprintf(msg, msglen, "the program is not running its main function");
    return -1;
  }
  return 0;
}

void ckpt_resume_world(void) {
  __atomic_store_n(&ckpt_library_stop, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&release_epoch, 1, __ATOMIC_SEQ_CST);
  ckpt_futex_wake(&release_epoch, INT_MAX);
}

/* ---- Restore --------------------------------------------------------------
 * Every restored thread puts its stack back and waits at the rendezvous
 * until all have, so no thread runs user code while another's stack (which
 * it may point into) is still being copied. */
uint32_t ckpt_restore_threads_left;
static uint32_t restore_done;

void ckpt_restore_rendezvous(void) {
  uint32_t left =
      __atomic_sub_fetch(&ckpt_restore_threads_left, 1, __ATOMIC_SEQ_CST);
  /* Every thread blocks every signal until it leaves. Once all are here,
   * one raises the pending signals and arms the timers (sigstate.c): the
   * main thread if it runs (only it may queue a signal as sent by kill or
   * the kernel), else the last to arrive. */
  int main_runs = ckpt_main_thread.state != CKPT_THREAD_EXITED;
  if (main_runs ? ckpt_self == &ckpt_main_thread : left == 0) {
    while ((left = __atomic_load_n(&ckpt_restore_threads_left,
                                   __ATOMIC_SEQ_CST)) != 0)
      ckpt_futex_wait(&ckpt_restore_threads_left, left, NULL, 0);
    ckpt_sigstate_rearm();
    __atomic_store_n(&restore_done, 1, __ATOMIC_SEQ_CST);
    ckpt_futex_wake(&restore_done, INT_MAX);
    ckpt_launcher_stderr_release();
    return;
  }
  if (left == 0)
    ckpt_futex_wake(&ckpt_restore_threads_left, INT_MAX);
  while (!__atomic_load_n(&restore_done, __ATOMIC_SEQ_CST))
    ckpt_futex_wait(&restore_done, 0, NULL, 0);
}

/* The instrumented code's frames keep the canary they were entered with. */
static void set_stack_guard(uint64_t guard) {
  __asm__ volatile("mov %0, %%fs:0x28" : : "r"(guard) : "memory");
}

void ckpt_resume_saved_thread(struct ckpt_thread *t) {
  struct ckpt_saved_stack *s = &t->restore_stack;
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  if (sp >= s->lo && sp < s->top + 4096)
    ckpt_fatal("restore: thread %u is running inside the stack it restores",
               t->slot);
  memcpy((void *)s->lo, s->bytes, s->top - s->lo);
  free(s->bytes);
  s->bytes = NULL;
  set_stack_guard(t->stack_guard);
  struct ckpt_cpu_context *c = t->restore_context;
  if (c) {
    char why[200];
    if (ckpt_context_fit_cpu(c, why, sizeof why) != 0)
      ckpt_fatal("restore: thread %u cannot go on on this CPU: %s", t->slot,
                 why);
  }
  if (t->state == CKPT_THREAD_IN_CALL) {
    t->restore_call_kind = t->call_kind; /* the wrapper learns it once back */
  } else {
    t->state = CKPT_THREAD_RUNNING;
    t->call_kind = CKPT_CALL_NONE;
  }
  ckpt_restore_rendezvous();
  if (t == &ckpt_main_thread) {
    /* libomp starts afresh: give it back what the program set. */
    ckpt_openmp_after_restore();
    if (ckpt_config.dir[0] && ckpt_coordinator_start() != 0)
      ckpt_fatal("cannot start the checkpoint coordinator");
  }
  ckpt_sigstate_thread_resume(t);
  if (c) {
    /* Stopped by signal: every register as it was, at the very
     * instruction, with the signal mask set just above (the context is in the
     * system heap, far from the stack it resumes on; it is not freed, as
     * nothing runs here after the resume). */
    t->restore_context = NULL;
    ckpt_context_resume(c);
  }
  ckpt_call_point_resume(&t->park_point, 0);
}

uint32_t ckpt_take_restore_call(void) {
  struct ckpt_thread *t = ckpt_self;
  if (!t || t->restore_call_kind == CKPT_CALL_NONE)
    return CKPT_CALL_NONE;
  uint32_t kind = t->restore_call_kind;
  t->restore_call_kind = CKPT_CALL_NONE;
  return kind;
}

void ckpt_thread_set_state(struct ckpt_thread *t, int state) {
  __atomic_store_n(&t->state, state, __ATOMIC_SEQ_CST);
  note_park_event();
}

void ckpt_frames_after_fork(void) {
  /* Only the forking thread exists in the child: no checkpoint is pending
   * for it. */
  __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
}
