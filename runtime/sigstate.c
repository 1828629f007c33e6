/* runtime/sigstate.c - the signal state a checkpoint keeps besides the
 * handlers (signals.c): every thread's signal mask and alternate signal
 * stack, the signals pending for the process and for each thread, the
 * three interval timers and the program's POSIX timers (issue 11 item 3;
 * docs/signals.md).
 *
 * At a checkpoint the coordinator captures all of it while the program is
 * stopped (ckpt_sigstate_capture); the writer saves it as section SIGNALS.
 * A restart puts it back in three steps: POSIX timers are created again
 * with their old ids before any thread runs (the program holds the ids),
 * pending signals are raised and timers armed while every thread still
 * blocks every signal (ckpt_sigstate_rearm, at the threads' rendezvous),
 * then each thread takes its own mask and alternate stack
 * (ckpt_sigstate_thread_resume) and whatever it does not block is
 * delivered as it would have been.
 *
 * Pending signals: a signal pending for a thread that does not block it,
 * or for the process while some thread does not block it, is about to be
 * delivered: the checkpoint waits for that (capture returns 1). Only
 * signals every eligible thread blocks are kept. Those pending for the
 * process keep their siginfo when they are realtime signals: they are
 * taken off the kernel's queue with sigtimedwait and queued again at once
 * (rt_sigqueueinfo), instances and values in order. Standard signals are
 * not dequeued (the kernel keeps one instance of each, and queueing one
 * again from here would change its sender for the running program): they
 * come back at a restart as if sent by the program itself with kill.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"
#include "sections.h"

/* Linux 6.15+: timer_create takes the id to use from *timer_id. */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif

uint64_t ckpt_sigset_bits(const sigset_t *set) {
  uint64_t bits = 0;
  for (int sig = 1; sig <= 64; sig++)
    if (sigismember(set, sig) == 1)
      bits |= 1ull << (sig - 1);
  return bits;
}

void ckpt_sigset_from_bits(sigset_t *set, uint64_t bits) {
  sigemptyset(set);
  for (int sig = 1; sig <= 64; sig++)
    if (bits & (1ull << (sig - 1)))
      sigaddset(set, sig);
}

static uint64_t sig_bit(int sig) { return 1ull << (sig - 1); }

/* The interval timers, in ckpt_signals_head.itimers order. */
static const int itimer_which[3] = {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF};

static int64_t ts_ns(const struct timespec *ts) {
  return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static struct timespec ns_ts(uint64_t ns) {
  return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

static int64_t tv_ns(const struct timeval *tv) {
  return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

static struct timeval ns_tv(uint64_t ns) {
  /* Rounded up: a timer never fires earlier than it had to. */
  uint64_t us = (ns + 999) / 1000;
  return (struct timeval){(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
}

/* ---- The program's POSIX timers ------------------------------------------
 * timer_create and timer_delete are interposed to know which timers exist
 * and how each notifies. SIGEV_THREAD timers are not recorded: glibc runs
 * them on a helper thread of its own, and a process that has one cannot be
 * checkpointed (coordinator.c refuses it by name). */

static struct ckpt_timer_rec *timers;
static size_t ntimers, cap_timers;
static pthread_mutex_t timers_lock = PTHREAD_MUTEX_INITIALIZER;

typedef int (*timer_create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*timer_delete_fn)(timer_t);

static uint32_t slot_of_tid(int tid) {
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (t && t->tid == tid)
      return i;
  }
  return UINT32_MAX;
}

int timer_create(clockid_t clock, struct sigevent *sev, timer_t *timer_id) {
  static timer_create_fn real;
  if (!real)
    real = (timer_create_fn)ckpt_libc_function("timer_create");
  int rc = real(clock, sev, timer_id);
  if (rc != 0 || (sev && sev->sigev_notify == SIGEV_THREAD))
    return rc;
  int id = (int)(intptr_t)*timer_id;
  /* No sigevent: SIGALRM with the timer's id as its value. */
  struct ckpt_timer_rec rec = {id, (int32_t)clock, SIGEV_SIGNAL, SIGALRM,
                               (uint64_t)id, UINT32_MAX, 0, {0, 0}};
  if (sev) {
    rec.notify = sev->sigev_notify;
    rec.signo = sev->sigev_signo;
    rec.value = (uint64_t)(uintptr_t)sev->sigev_value.sival_ptr;
    if (sev->sigev_notify == SIGEV_THREAD_ID)
      rec.thread_slot = slot_of_tid(sev->_sigev_un._tid);
  }
  pthread_mutex_lock(&timers_lock);
  if (ckpt_grow_mapped_array((void **)&timers, &cap_timers, ntimers + 1,
                             sizeof *timers) == 0)
    timers[ntimers++] = rec;
  else
    CKPT_WARN("timer_create: out of memory to record timer %d; a restart "
              "will not have it",
              id);
  pthread_mutex_unlock(&timers_lock);
  return 0;
}

static int timer_id_order(const void *a, const void *b) {
  const struct ckpt_timer_rec *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

static void forget_timer(int id) {
  for (size_t i = 0; i < ntimers; i++)
    if (timers[i].id == id) {
      timers[i] = timers[--ntimers];
      return;
    }
}

int timer_delete(timer_t timer_id) {
  static timer_delete_fn real;
  if (!real)
    real = (timer_delete_fn)ckpt_libc_function("timer_delete");
  int rc = real(timer_id);
  if (rc == 0 && (intptr_t)timer_id >= 0) {
    pthread_mutex_lock(&timers_lock);
    forget_timer((int)(intptr_t)timer_id);
    pthread_mutex_unlock(&timers_lock);
  }
  return rc;
}

/* ---- Alternate signal stacks ----------------------------------------------
 * Recorded as the program sets them: a thread blocked in a system call
 * cannot be asked for its own. */
int sigaltstack(const stack_t *ss, stack_t *old) {
  int rc = (int)syscall(SYS_sigaltstack, ss, old);
  struct ckpt_thread *t = ckpt_self;
  if (rc == 0 && ss && t) {
    t->altstack = *ss;
    t->altstack_set = 1;
  }
  return rc;
}

/* ---- Capture ------------------------------------------------------------- */

static struct ckpt_signals_head captured_head;
static struct ckpt_thread_signals_rec *captured_threads;
static size_t cap_captured_threads;
static struct ckpt_pending_rec *captured_pending;
static size_t cap_captured_pending;
static struct ckpt_timer_rec *captured_timers;
static size_t cap_captured_timers;

/* SigPnd, SigBlk and ShdPnd of thread tid; -1 if it has gone. */
static int task_signals(int tid, uint64_t *pending, uint64_t *blocked,
                        uint64_t *shared) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    uint64_t *to = !strncmp(line, "SigPnd:", 7)   ? pending
                   : !strncmp(line, "SigBlk:", 7) ? blocked
                   : !strncmp(line, "ShdPnd:", 7) ? shared
                                                  : NULL;
    if (to) {
      *to = strtoull(line + 7, NULL, 16);
      found++;
    }
  }
  fclose(f);
  return found == 3 ? 0 : -1;
}

/* The mask the program has in thread t, which the checkpoint stopped. */
static uint64_t program_mask(const struct ckpt_thread *t, uint64_t blocked) {
  if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == CKPT_THREAD_PARKED &&
      t->park_kind == CKPT_PARK_SIGNAL)
    return ckpt_sigset_bits(&t->stop_mask); /* its handler blocks all */
  if (__atomic_load_n(&t->wait_mask_known, __ATOMIC_SEQ_CST))
    return ckpt_sigset_bits(&t->wait_mask);
  return blocked; /* asleep in a wrapped call, with its own mask */
}

const char *ckpt_signal_name(int sig, char *buf, size_t len) {
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(buf, len, "SIG%s", abbrev);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, len, "signal %d", sig);
  return buf;
}

/* A zeroed record for one more process-pending signal, or NULL (msg set)
 * if out of memory. */
static struct ckpt_pending_rec *add_pending(size_t *npending, int sig,
                                            char *msg, size_t msglen) {
  if (ckpt_grow_mapped_array((void **)&captured_pending, &cap_captured_pending,
                             *npending + 1, sizeof *captured_pending) != 0) {
    snprintf(msg, msglen, "out of memory for the pending signals");
    return NULL;
  }
  struct ckpt_pending_rec *p = &captured_pending[(*npending)++];
  memset(p, 0, sizeof *p);
  p->signo = (uint32_t)sig;
  return p;
}

/* Queue a signal taken off the process's queue again, with its siginfo.
 * The kernel lets only the process's main thread queue a siginfo that
 * claims to come from kill() or the kernel: from here such a signal goes
 * back as kill() from the program itself. */
static int requeue(pid_t pid, const siginfo_t *info, char *msg,
                   size_t msglen) {
  int sig = info->si_signo;
  if (syscall(SYS_rt_sigqueueinfo, pid, sig, info) == 0 ||
      (errno == EPERM && kill(pid, sig) == 0))
    return 0;
  char name[32];
  snprintf(msg, msglen, "cannot queue pending signal %s again: %s",
           ckpt_signal_name(sig, name, sizeof name), strerror(errno));
  return -1;
}

/* Process-pending realtime signals in `held`: off the queue with their
 * siginfo, recorded, and queued again in the same order. */
static int take_realtime_signals(uint64_t held, size_t *npending, char *msg,
                                 size_t msglen) {
  sigset_t set;
  ckpt_sigset_from_bits(&set, held);
  size_t first = *npending;
  struct timespec zero = {0, 0};
  pid_t pid = getpid();
  int rc = 0;
  siginfo_t unrecorded; /* taken, but out of memory to record it */
  int have_unrecorded = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigtimedwait(&set, &info, &zero);
    if (sig < 0)
      break;
    struct ckpt_pending_rec *p = add_pending(npending, sig, msg, msglen);
    if (!p) {
      unrecorded = info;
      have_unrecorded = 1;
      rc = -1;
      break;
    }
    p->has_info = 1;
    _Static_assert(sizeof info == sizeof p->info, "siginfo_t is 128 bytes");
    memcpy(p->info, &info, sizeof info);
  }
  /* Everything taken goes back, in order, whatever happens. */
  char err[200];
  for (size_t i = first; i < *npending; i++) {
    siginfo_t info;
    memcpy(&info, captured_pending[i].info, sizeof info);
    if (requeue(pid, &info, err, sizeof err) != 0 && rc == 0) {
      snprintf(msg, msglen, "%s", err);
      rc = -1;
    }
  }
  if (have_unrecorded)
    requeue(pid, &unrecorded, err, sizeof err);
  return rc;
}

int ckpt_sigstate_capture(char *msg, size_t msglen) {
  uint64_t shared = 0, deliverable = 0;
  size_t nthreads = 0, npending = 0;
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t || __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) ==
                  CKPT_THREAD_EXITED)
      continue;
    uint64_t pending = 0, blocked = 0, shd = shared;
    /* A thread the kernel no longer lists is leaving: it takes no signal
     * any more, and a restart brings it back with the mask it knew. */
    (void)task_signals(t->tid, &pending, &blocked, &shd);
    shared = shd;
    uint64_t mask = program_mask(t, blocked) & ~sig_bit(CKPT_STOP_SIGNAL);
    uint64_t in_flight = pending & ~mask & ~sig_bit(CKPT_STOP_SIGNAL);
    if (in_flight) {
      char name[32];
      snprintf(msg, msglen, "%s is about to be delivered to thread %u",
               ckpt_signal_name(__builtin_ctzll(in_flight) + 1, name, sizeof name),
               t->slot);
      return 1;
    }
    deliverable |= ~mask;
    if (t->library_thread)
      continue; /* started afresh by its library after a restart */
    if (ckpt_grow_mapped_array((void **)&captured_threads,
                               &cap_captured_threads, nthreads + 1,
                               sizeof *captured_threads) != 0) {
      snprintf(msg, msglen, "out of memory for the threads' signal state");
      return -1;
    }
    struct ckpt_thread_signals_rec *r = &captured_threads[nthreads++];
    memset(r, 0, sizeof *r);
    r->slot = t->slot;
    r->mask = mask;
    r->pending = pending & ~sig_bit(CKPT_STOP_SIGNAL);
    r->altstack_flags = SS_DISABLE;
    if (t->altstack_set) {
      r->altstack_flags = t->altstack.ss_flags;
      r->altstack_sp = (uint64_t)(uintptr_t)t->altstack.ss_sp;
      r->altstack_size = t->altstack.ss_size;
    }
    for (int sig = SIGRTMIN; sig <= 64; sig++)
      if (r->pending & sig_bit(sig)) {
        char name[32];
        CKPT_WARN("%s is pending for thread %u: a restart delivers it once "
                  "and without its value (sigqueue data of a signal sent to "
                  "one thread is not kept)",
                  ckpt_signal_name(sig, name, sizeof name), t->slot);
      }
  }
  shared &= ~sig_bit(CKPT_STOP_SIGNAL);
  if (shared & deliverable) {
    char name[32];
    snprintf(msg, msglen, "%s is about to be delivered",
             ckpt_signal_name(__builtin_ctzll(shared & deliverable) + 1, name,
                         sizeof name));
    return 1;
  }
  /* Standard signals: the number only (see the top of this file). */
  for (int sig = 1; sig < SIGRTMIN; sig++) {
    if ((shared & sig_bit(sig)) && !add_pending(&npending, sig, msg, msglen))
      return -1;
  }
  uint64_t realtime = shared & ~(sig_bit(SIGRTMIN) - 1);
  if (realtime && take_realtime_signals(realtime, &npending, msg, msglen))
    return -1;

  for (int i = 0; i < 3; i++) {
    struct itimerval v;
    if (getitimer(itimer_which[i], &v) != 0) {
      snprintf(msg, msglen, "getitimer(%d): %s", itimer_which[i], strerror(errno));
      return -1;
    }
    captured_head.itimers[i] = (struct ckpt_itimer_rec){
        (uint64_t)tv_ns(&v.it_value), (uint64_t)tv_ns(&v.it_interval)};
  }

  pthread_mutex_lock(&timers_lock);
  int rc = ckpt_grow_mapped_array((void **)&captured_timers,
                                  &cap_captured_timers, ntimers,
                                  sizeof *captured_timers);
  size_t n = 0;
  for (size_t i = 0; rc == 0 && i < ntimers; i++) {
    struct itimerspec v;
    if (syscall(SYS_timer_gettime, timers[i].id, &v) != 0) {
      snprintf(msg, msglen, "timer_gettime(timer %d): %s", timers[i].id,
               strerror(errno));
      rc = -1;
      break;
    }
    struct ckpt_timer_rec *r = &captured_timers[n++];
    *r = timers[i];
    r->time = (struct ckpt_itimer_rec){(uint64_t)ts_ns(&v.it_value),
                                       (uint64_t)ts_ns(&v.it_interval)};
    if (r->notify == SIGEV_THREAD_ID && r->thread_slot == UINT32_MAX) {
      snprintf(msg, msglen,
               "POSIX timer %d signals a thread (SIGEV_THREAD_ID) that ckpt "
               "does not know; a restart could not aim it",
               r->id);
      rc = -1;
    }
  }
  pthread_mutex_unlock(&timers_lock);
  if (rc == 0 && n)
    qsort(captured_timers, n, sizeof *captured_timers, timer_id_order);
  if (rc == 0 && !captured_timers && ntimers)
    rc = -1;
  if (rc)
    return -1;
  captured_head.nthreads = (uint32_t)nthreads;
  captured_head.npending = (uint32_t)npending;
  captured_head.ntimers = (uint32_t)n;
  return 0;
}

void ckpt_sigstate_captured(struct ckpt_sigstate_view *v) {
  v->head = &captured_head;
  v->threads = captured_threads;
  v->pending = captured_pending;
  v->timers = captured_timers;
}

/* ---- Restart ------------------------------------------------------------- */

static struct ckpt_signals_head restored_head;
static struct ckpt_pending_rec *restored_pending;
static size_t cap_restored_pending;
static uint64_t restored_thread_pending[CKPT_STACK_MAX_SLOTS];

int ckpt_sigstate_restore_thread(const struct ckpt_thread_signals_rec *r,
                                 char *msg, size_t msglen) {
  struct ckpt_thread *t =
      r->slot < ckpt_thread_slots_used ? ckpt_threads[r->slot] : NULL;
  if (!t) {
    snprintf(msg, msglen, "the signals section names thread %u, which the "
             "threads section does not have", r->slot);
    return -1;
  }
  ckpt_sigset_from_bits(&t->restore_mask, r->mask);
  t->restore_mask_known = 1;
  restored_thread_pending[r->slot] = r->pending;
  t->altstack_set = r->altstack_flags != SS_DISABLE;
  t->altstack = (stack_t){(void *)(uintptr_t)r->altstack_sp,
                          r->altstack_flags, r->altstack_size};
  return 0;
}

int ckpt_sigstate_restore_process(const struct ckpt_signals_head *head,
                                  const struct ckpt_pending_rec *pending,
                                  char *msg, size_t msglen) {
  restored_head = *head;
  if (ckpt_grow_mapped_array((void **)&restored_pending,
                             &cap_restored_pending, head->npending,
                             sizeof *restored_pending) != 0) {
    snprintf(msg, msglen, "out of memory for the pending signals");
    return -1;
  }
  if (head->npending)
    memcpy(restored_pending, pending, head->npending * sizeof *pending);
  return 0;
}

/* The program's constructors ran again in this process: timers they made
 * go, as the checkpoint's replace them. */
static void delete_all_timers(void) {
  for (size_t i = 0; i < ntimers; i++)
    syscall(SYS_timer_delete, timers[i].id);
  ntimers = 0;
}

/* Create a timer with id rec->id: by asking (Linux 6.15+), else by
 * creating timers until the kernel hands out that id (it counts up). */
static int create_timer_with_id(const struct ckpt_timer_rec *rec,
                                struct sigevent *sev, char *msg,
                                size_t msglen) {
  int id = rec->id;
  int restore_ids = prctl(PR_TIMER_CREATE_RESTORE_IDS,
                          PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == 0;
  int got = id;
  int rc = (int)syscall(SYS_timer_create, rec->clock, sev, &got);
  if (restore_ids)
    prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0,
          0);
  if (rc == 0 && got == id)
    return 0;
  /* Counting up: every id below the one wanted is taken and let go. */
  for (int tries = 0; rc == 0 && got != id && tries < 1 << 20; tries++) {
    syscall(SYS_timer_delete, got);
    rc = (int)syscall(SYS_timer_create, rec->clock, sev, &got);
  }
  if (rc == 0 && got == id)
    return 0;
  if (rc == 0)
    syscall(SYS_timer_delete, got);
  snprintf(msg, msglen, "cannot create POSIX timer %d again%s%s", id,
           rc ? ": " : " (the kernel gives out other ids)",
           rc ? strerror(errno) : "");
  return -1;
}

int ckpt_sigstate_restore_timers(const struct ckpt_timer_rec *recs, size_t n,
                                 char *msg, size_t msglen) {
  delete_all_timers();
  if (ckpt_grow_mapped_array((void **)&timers, &cap_timers, n,
                             sizeof *timers) != 0) {
    snprintf(msg, msglen, "out of memory for the POSIX timers");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_timer_rec *r = &recs[i];
    if (r->notify == SIGEV_THREAD_ID &&
        (r->thread_slot >= ckpt_thread_slots_used ||
         !ckpt_threads[r->thread_slot])) {
      snprintf(msg, msglen, "POSIX timer %d signals thread %u, which the "
               "checkpoint does not have", r->id, r->thread_slot);
      return -1;
    }
  }
  memcpy(timers, recs, n * sizeof *recs);
  ntimers = n;
  /* Created in id order: without the kernel's help, ids come counting up. */
  qsort(timers, ntimers, sizeof *timers, timer_id_order);
  return 0;
}

/* Created once every thread runs (a SIGEV_THREAD_ID timer is aimed at one
 * by its new kernel id), before any runs the program. */
static void create_and_arm_timers(void) {
  for (size_t i = 0; i < ntimers; i++) {
    struct ckpt_timer_rec *r = &timers[i];
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = r->notify;
    sev.sigev_signo = r->signo;
    sev.sigev_value.sival_ptr = (void *)(uintptr_t)r->value;
    if (r->notify == SIGEV_THREAD_ID)
      sev._sigev_un._tid = ckpt_threads[r->thread_slot]->tid;
    char msg[200];
    if (create_timer_with_id(r, &sev, msg, sizeof msg) != 0)
      ckpt_fatal("restore: %s", msg);
    if (!r->time.value_ns)
      continue;
    struct itimerspec v = {ns_ts(r->time.interval_ns), ns_ts(r->time.value_ns)};
    if (syscall(SYS_timer_settime, r->id, 0, &v, NULL) != 0)
      ckpt_fatal("restore: cannot arm POSIX timer %d again: %s", r->id,
                 strerror(errno));
  }
}

void ckpt_sigstate_rearm(void) {
  pid_t pid = getpid();
  pid_t self = (pid_t)syscall(SYS_gettid);
  for (uint32_t i = 0; i < restored_head.npending; i++) {
    const struct ckpt_pending_rec *p = &restored_pending[i];
    int sig = (int)p->signo;
    int rc;
    if (p->has_info) {
      siginfo_t info;
      memcpy(&info, p->info, sizeof info);
      rc = (int)syscall(SYS_rt_sigqueueinfo, pid, sig, &info);
      if (rc != 0 && errno == EPERM && self != pid)
        rc = kill(pid, sig); /* see take_realtime_signals */
    } else {
      rc = kill(pid, sig);
    }
    if (rc != 0)
      ckpt_fatal("restore: cannot raise pending signal %d again: %s", sig,
                 strerror(errno));
  }
  for (uint32_t slot = 0; slot < ckpt_thread_slots_used; slot++) {
    struct ckpt_thread *t = ckpt_threads[slot];
    uint64_t bits = restored_thread_pending[slot];
    for (int sig = 1; t && bits && sig <= 64; sig++)
      if ((bits & sig_bit(sig)) && syscall(SYS_tgkill, pid, t->tid, sig) != 0)
        ckpt_fatal("restore: cannot raise signal %d pending for thread %u "
                   "again: %s",
                   sig, slot, strerror(errno));
  }
  for (int i = 0; i < 3; i++) {
    const struct ckpt_itimer_rec *r = &restored_head.itimers[i];
    if (!r->value_ns)
      continue;
    struct itimerval v = {ns_tv(r->interval_ns), ns_tv(r->value_ns)};
    if (setitimer(itimer_which[i], &v, NULL) != 0)
      ckpt_fatal("restore: cannot set interval timer %d again: %s", itimer_which[i],
                 strerror(errno));
  }
  create_and_arm_timers();
}

void ckpt_sigstate_thread_resume(struct ckpt_thread *t) {
  if (t->altstack_set && !(t->altstack.ss_flags & SS_DISABLE) &&
      syscall(SYS_sigaltstack, &t->altstack, NULL) != 0)
    ckpt_fatal("restore: cannot set thread %u's alternate signal stack "
               "(%p, %zu bytes) again: %s",
               t->slot, t->altstack.ss_sp, t->altstack.ss_size,
               strerror(errno));
  if (t->restore_mask_known)
    pthread_sigmask(SIG_SETMASK, &t->restore_mask, NULL);
  else if (t->restore_context)
    pthread_sigmask(SIG_SETMASK, &t->stop_mask, NULL);
}
