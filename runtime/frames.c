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
__thread void *CKPT_NAME(top) __attribute__((tls_model("initial-exec")));

__thread struct ckpt_thread *ckpt_self
    __attribute__((tls_model("initial-exec")));
struct ckpt_thread ckpt_thread_records[CKPT_STACK_MAX_SLOTS];
struct ckpt_thread *ckpt_threads[CKPT_STACK_MAX_SLOTS];
uint32_t ckpt_thread_slots_used;

static uint32_t release_epoch; /* bumped when a checkpoint releases threads */
static uint32_t park_events;   /* bumped when a thread stops */

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

/* The function a parent frame is calling at its current site. */
static void *site_callee(const struct ckpt_frame_header *fr) {
  const struct ckpt_func_desc *d = fr->desc;
  if (fr->site == 0 || fr->site > d->num_sites)
    return NULL;
  const struct ckpt_site_desc *s =
      &((const struct ckpt_site_desc *)d->sites)[fr->site - 1];
  switch (s->kind) {
  case CKPT_SITE_CALL_DIRECT:
    return s->callee;
  case CKPT_SITE_CALL_INDIRECT:
    if (s->callee_slot == 0 || s->callee_slot + sizeof(void *) > d->frame_size)
      return NULL;
    return *(void *const *)((const char *)fr + s->callee_slot);
  default:
    return NULL;
  }
}

extern int CKPT_NAME(main)(int, char **, char **);

int ckpt_frames_valid(const struct ckpt_thread *t,
                      const struct ckpt_frame_header *top,
                      void *innermost_callee) {
  /* A frame entered from uninstrumented code (a qsort comparator, an atexit
   * handler, a key destructor) has a parent whose current site calls
   * something else: stopping there could not be replayed, so the thread
   * must run on. */
  if (!top || !t)
    return 0;
  if (innermost_callee) {
    void *called = site_callee(top);
    if (called != innermost_callee &&
        (!called || called != ckpt_c11_caller_of(innermost_callee)))
      return 0;
  }
  const struct ckpt_frame_header *fr = top;
  while (fr->parent) {
    const struct ckpt_frame_header *parent = fr->parent;
    if (site_callee(parent) != ((const struct ckpt_func_desc *)fr->desc)->fn)
      return 0;
    fr = parent;
  }
  void *bottom = t->start_fn ? (void *)t->start_fn : (void *)CKPT_NAME(main);
  return ((const struct ckpt_func_desc *)fr->desc)->fn == bottom;
}

/* Blocks every signal while stopped: no handler may change the program's
 * memory while the snapshot is taken; they run once the thread goes on. */
static void block_signals(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, old);
}

void ckpt_wait_while_pending(struct ckpt_thread *t, int state) {
  for (;;) {
    uint32_t epoch = __atomic_load_n(&release_epoch, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->state, CKPT_THREAD_RUNNING, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&CKPT_NAME(pending), __ATOMIC_SEQ_CST))
      return;
    /* A checkpoint is in progress: stay stopped until it releases us. */
    __atomic_store_n(&t->state, state, __ATOMIC_SEQ_CST);
    note_park_event();
    sigset_t old;
    block_signals(&old);
    while (__atomic_load_n(&release_epoch, __ATOMIC_SEQ_CST) == epoch &&
           __atomic_load_n(&CKPT_NAME(pending), __ATOMIC_SEQ_CST))
      ckpt_futex_wait(&release_epoch, epoch, NULL, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
}

/* __ckpt_poll and ckpt_call_enter save their caller's call point on entry
 * (callpoint.h): a thread stopped in them resumes, after a restart, as if
 * the call had just returned. */
void CKPT_NAME(poll)(void *frame);
/* Global: the stubs' assembly calls them by name. */
void ckpt_poll_impl(void *frame, void *unused, struct ckpt_call_point *p);
CKPT_CALL_POINT_STUB(__ckpt_poll, ckpt_poll_impl);

void ckpt_poll_impl(void *frame, void *unused, struct ckpt_call_point *p) {
  (void)unused;
  struct ckpt_thread *t = ckpt_self;
  if (!t || !CKPT_NAME(pending) || ckpt_in_signal_handler())
    return;
  if (__atomic_load_n(&t->state, __ATOMIC_RELAXED) != CKPT_THREAD_RUNNING)
    return;
  if (!ckpt_frames_valid(t, frame, NULL))
    return; /* inside a callback: stop at a later poll */
  t->parked_top = frame;
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
  /* The chain is checked by the coordinator, only when it needs to stop
   * the thread: a blocking call costs a few stores here. */
  t->parked_top = CKPT_NAME(top);
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
    return "running (not at a safe point yet)";
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
    if (!ckpt_frames_valid(t, t->parked_top, t->call_callee))
      return "blocked in a call made from a callback of uninstrumented code";
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
  for (;;) {
    uint32_t events = __atomic_load_n(&park_events, __ATOMIC_SEQ_CST);
    struct ckpt_thread *waiting = NULL;
    const char *why = NULL;
    uint32_t n = __atomic_load_n(&ckpt_thread_slots_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && !waiting; i++) {
      struct ckpt_thread *t = __atomic_load_n(&ckpt_threads[i], __ATOMIC_ACQUIRE);
      if (t && (why = not_stopped(t)))
        waiting = t;
    }
    if (!waiting)
      break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited = now.tv_sec - start.tv_sec;
    if (!warned && waited >= 10) {
      CKPT_WARN("checkpoint delayed: thread %u has not reached a safe point "
                "for 10 s: %s (busy in uninstrumented code?)",
                waiting->slot, why);
      warned = 1;
    }
    if (waited >= stop_timeout_s()) {
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
  if (__atomic_sub_fetch(&ckpt_restore_threads_left, 1, __ATOMIC_SEQ_CST) == 0) {
    __atomic_store_n(&restore_done, 1, __ATOMIC_SEQ_CST);
    ckpt_futex_wake(&restore_done, INT_MAX);
    ckpt_launcher_stderr_release();
    return;
  }
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
  if (t->state == CKPT_THREAD_IN_CALL) {
    t->restore_call_kind = t->call_kind; /* the wrapper learns it once back */
  } else {
    t->state = CKPT_THREAD_RUNNING;
    t->call_kind = CKPT_CALL_NONE;
  }
  ckpt_restore_rendezvous();
  if (t == &ckpt_main_thread && ckpt_config.dir[0] &&
      ckpt_coordinator_start() != 0)
    ckpt_fatal("cannot start the checkpoint coordinator");
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
