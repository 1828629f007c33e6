/* runtime/sync.c - mutexes, condition variables, rwlocks, spinlocks,
 * barriers and unnamed semaphores, implemented by ckpt inside the program's
 * own pthread_*_t / sem_t objects.
 *
 * Why not glibc's: glibc's objects record kernel thread ids (a mutex's
 * owner) and the progress of waiters inside the kernel; neither survives a
 * restart, and a waiter woken during a checkpoint may already have taken
 * what it waited for (a semaphore token, a barrier round) while it still
 * looks blocked. Here every object's state is words that mean the same
 * after a restart -- owners are thread slots, which restarted threads keep --
 * and every change of state is made by a running thread, never inside a
 * blocking call: a thread blocks (marked IN_CALL) only in a futex wait that
 * changes nothing, and acquires only after it is running again, which it
 * only becomes when no checkpoint is in progress. So the objects' bytes in
 * a checkpoint are their logical state, restored as they are, and a thread
 * that was waiting goes on waiting (blocking_wait).
 *
 * The layouts live in the first words of glibc's types and respect their
 * static initialisers (all zeros; the mutex kind of
 * PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP and friends at glibc's __kind;
 * the rwlock preference at __flags). Process-shared and robust mutexes,
 * priority protocols and process-shared condition variables are refused
 * at init (ENOTSUP and an error line); process-shared semaphores and
 * barriers work (shared futexes).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

/* ---- Helpers ----------------------------------------------------------- */

static uint32_t self_id(void) {
  struct ckpt_thread *t = ckpt_self;
  if (t)
    return t->slot + 1;
  /* A thread the runtime does not manage (its own, or one created before
   * main): an id of its own, outside the slot range. */
  static __thread uint32_t foreign_id;
  if (!foreign_id)
    foreign_id = 0x80000000u | ((uint32_t)syscall(SYS_gettid) & 0x7fffffffu);
  return foreign_id;
}

/* Wait while *word == val, until the absolute deadline (NULL: none).
 * Returns 0, ETIMEDOUT, EINTR (a signal handler ran; only semaphores
 * report it, the other waits just wait again), or, at a cancellation point
 * (`cancellable`: condition and semaphore waits), ECANCELED: the caller
 * cleans up and calls ckpt_cancel_act. `shared`: the object may be in memory shared with
 * another process. */
/* A failed try (a trylock, sem_trywait, sched_yield) is where a thread spins
 * waiting for another, which may be stopped for a checkpoint. Such a loop
 * spends nearly all its time in the runtime's code (the locked instruction
 * dominates it), where the stop signal cannot stop it, so it could go on
 * for many seconds. While a checkpoint is pending the thread waits here
 * instead, as in a blocking call, and returns its failure after; restarted
 * here, it returns the failure and the program tries again. Only where
 * the thread's stack can be saved: not when a library calls (libomp's
 * spin-waits yield); a library's own thread is held elsewhere (frames.c). */
static void wait_out_checkpoint(void *callee) {
  struct ckpt_thread *t = ckpt_self;
  if (__atomic_load_n(&CKPT_NAME(pending), __ATOMIC_RELAXED) && t &&
      !t->library_thread && ckpt_call_enter(callee, CKPT_CALL_REISSUE) == 0)
    ckpt_call_leave(); /* holds it only where its stack can be saved */
}

static int futex_wait_abs(uint32_t *word, uint32_t val,
                          const struct timespec *abs, int realtime,
                          int shared, int cancellable) {
  /* The kernel refuses a negative deadline; it is simply in the past. */
  if (abs && abs->tv_sec < 0)
    return ETIMEDOUT;
  int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG) |
           (realtime ? FUTEX_CLOCK_REALTIME : 0);
  long rc = cancellable
                ? ckpt_cp_syscall(SYS_futex, (long)word, op, val, (long)abs, 0,
                                  FUTEX_BITSET_MATCH_ANY)
                : syscall(SYS_futex, word, op, val, abs, NULL,
                          FUTEX_BITSET_MATCH_ANY);
  if (rc != 0 && (errno == ETIMEDOUT || errno == EINTR || errno == ECANCELED))
    return errno;
  return 0;
}

static void futex_wake_n(uint32_t *word, int n, int shared) {
  syscall(SYS_futex, word, FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG), n,
          NULL, NULL, 0);
}

static int bad_timespec(const struct timespec *ts) {
  return ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000);
}

/* Waiter counts tell signal/post whether anyone waits. A thread restarted
 * while waiting is back inside blocking_wait, still counted, and waits on. */
static void waiter_add(uint32_t *counter) {
  __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}
static void waiter_remove(uint32_t *counter) {
  __atomic_sub_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

/* Block in a futex wait as a stoppable call. After a restart the thread is
 * back here, right after ckpt_call_enter, and waits on the same word for
 * the same value: if it changed before the checkpoint (a signal, an
 * unlock), the wait returns at once, else the thread keeps waiting -- no
 * spurious wakeup, nothing done twice. */
static int blocking_wait(void *callee, uint32_t kind, uint32_t *word,
                         uint32_t val, const struct timespec *abs,
                         int realtime, int shared, int cancellable) {
  int parked = ckpt_call_enter(callee, kind);
  int rc = futex_wait_abs(word, val, abs, realtime, shared, cancellable);
  if (parked == 0)
    ckpt_call_leave();
  return rc;
}

/* A tiny internal lock for objects whose state spans several words; held
 * only by running threads, for a few instructions. */
static void inner_lock(uint32_t *w) {
  while (__atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(w, __ATOMIC_RELAXED))
      __asm__ volatile("pause");
}
static void inner_unlock(uint32_t *w) {
  __atomic_store_n(w, 0, __ATOMIC_RELEASE);
}

/* ---- Mutexes --------------------------------------------------------------
 * __lock: 0 free, 1 locked, 2 locked and maybe waited for; __owner: slot+1
 * of the holder; __count: recursion depth; __kind: type, from init or the
 * static initialiser. */
#define M_LOCK(m) ((uint32_t *)&(m)->__data.__lock)
#define M_KIND(m) ((m)->__data.__kind & 3)

static int mutex_acquire_clock(pthread_mutex_t *m, const struct timespec *abs,
                               int realtime, void *callee, uint32_t kind) {
  uint32_t me = self_id();
  int type = M_KIND(m);
  if ((uint32_t)m->__data.__owner == me && __atomic_load_n(M_LOCK(m), __ATOMIC_RELAXED)) {
    if (type == PTHREAD_MUTEX_RECURSIVE) {
      if (m->__data.__count == UINT32_MAX)
        return EAGAIN;
      m->__data.__count++;
      return 0;
    }
    if (type == PTHREAD_MUTEX_ERRORCHECK)
      return EDEADLK;
  }
  uint32_t expected = 0;
  if (!__atomic_compare_exchange_n(M_LOCK(m), &expected, 1, 0,
                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    if (bad_timespec(abs))
      return EINVAL;
    while (__atomic_exchange_n(M_LOCK(m), 2, __ATOMIC_ACQUIRE) != 0)
      if (blocking_wait(callee, kind, M_LOCK(m), 2, abs, realtime, 0, 0) ==
              ETIMEDOUT &&
          __atomic_load_n(M_LOCK(m), __ATOMIC_RELAXED) != 0)
        return ETIMEDOUT;
  }
  m->__data.__owner = (int)me;
  m->__data.__count = 1;
  return 0;
}

static int mutex_acquire(pthread_mutex_t *m, const struct timespec *abs,
                         void *callee, uint32_t kind) {
  return mutex_acquire_clock(m, abs, 1, callee, kind);
}

static int mutex_release(pthread_mutex_t *m) {
  int type = M_KIND(m);
  if (type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK) {
    if ((uint32_t)m->__data.__owner != self_id() ||
        !__atomic_load_n(M_LOCK(m), __ATOMIC_RELAXED))
      return EPERM;
    if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count > 0)
      return 0;
  }
  m->__data.__owner = 0;
  m->__data.__count = 0;
  if (__atomic_exchange_n(M_LOCK(m), 0, __ATOMIC_RELEASE) == 2)
    futex_wake_n(M_LOCK(m), 1, 0);
  return 0;
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr) {
  int type = PTHREAD_MUTEX_DEFAULT, pshared = PTHREAD_PROCESS_PRIVATE;
  int robust = PTHREAD_MUTEX_STALLED, protocol = PTHREAD_PRIO_NONE;
  if (attr) {
    pthread_mutexattr_gettype(attr, &type);
    pthread_mutexattr_getpshared(attr, &pshared);
    pthread_mutexattr_getrobust(attr, &robust);
    pthread_mutexattr_getprotocol(attr, &protocol);
  }
  if (pshared != PTHREAD_PROCESS_PRIVATE || robust != PTHREAD_MUTEX_STALLED ||
      protocol != PTHREAD_PRIO_NONE) {
    CKPT_ERROR("pthread_mutex_init: process-shared, robust and priority "
               "mutexes are not supported by ckpt");
    return ENOTSUP;
  }
  __builtin_memset(m, 0, sizeof *m);
  m->__data.__kind = type & 3;
  return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *m) {
  return __atomic_load_n(M_LOCK(m), __ATOMIC_RELAXED) ? EBUSY : 0;
}

int pthread_mutex_lock(pthread_mutex_t *m) {
  return mutex_acquire(m, NULL, (void *)pthread_mutex_lock, CKPT_CALL_REISSUE);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs) {
  return mutex_acquire(m, abs, (void *)pthread_mutex_timedlock,
                       CKPT_CALL_REISSUE);
}

int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                            const struct timespec *abs) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL;
  return mutex_acquire_clock(m, abs, clock == CLOCK_REALTIME,
                             (void *)pthread_mutex_clocklock, CKPT_CALL_REISSUE);
}

int pthread_mutex_trylock(pthread_mutex_t *m) {
  uint32_t me = self_id();
  if ((uint32_t)m->__data.__owner == me &&
      __atomic_load_n(M_LOCK(m), __ATOMIC_RELAXED) &&
      M_KIND(m) == PTHREAD_MUTEX_RECURSIVE) {
    if (m->__data.__count == UINT32_MAX)
      return EAGAIN;
    m->__data.__count++;
    return 0;
  }
  uint32_t expected = 0;
  if (!__atomic_compare_exchange_n(M_LOCK(m), &expected, 1, 0,
                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    wait_out_checkpoint((void *)pthread_mutex_trylock);
    return EBUSY;
  }
  m->__data.__owner = (int)me;
  m->__data.__count = 1;
  return 0;
}

int pthread_mutex_unlock(pthread_mutex_t *m) { return mutex_release(m); }

int pthread_mutex_consistent(pthread_mutex_t *m) {
  (void)m;
  return EINVAL; /* no robust mutexes */
}

/* ---- Condition variables --------------------------------------------------
 * A queue of waiters, as musl keeps one: each managed thread waits on a
 * node of its own (cond_nodes, by thread slot), and a signal takes the
 * oldest waiter off the queue, marks its node signalled and wakes that node
 * alone. So a signal wakes exactly one thread that was waiting when it was
 * sent, and only one not already woken: no futex wake when every waiter has
 * been signalled (a producer signalling per item while its consumer is
 * still waking up makes none), and no wakeup that no signal caused. The
 * nodes live in the runtime state section: after a restart each is where
 * it was, with the state it had, so a thread that was waiting goes on
 * waiting on it and one that was signalled returns.
 *
 * word 0: inner lock; word 1: 1 if waits use CLOCK_MONOTONIC; word 2: head
 * and word 3: tail of the queue (node index + 1, 0: empty); word 4: a
 * sequence and word 5: a count for threads the runtime does not manage
 * (which have no slot, so no node): they wait on the sequence, as before,
 * and may wake spuriously; word 6: the epoch, bumped by each broadcast,
 * which a node takes when it is queued. */
#define C_LOCK(c) ((uint32_t *)(c))
#define C_CLOCK(c) ((uint32_t *)(c) + 1)
#define C_HEAD(c) ((uint32_t *)(c) + 2)
#define C_TAIL(c) ((uint32_t *)(c) + 3)
#define C_SEQ(c) ((uint32_t *)(c) + 4)
#define C_FOREIGN(c) ((uint32_t *)(c) + 5)
#define C_EPOCH(c) ((uint32_t *)(c) + 6)

enum { NODE_IDLE = 0, NODE_WAITING = 1, NODE_SIGNALLED = 2 };
struct cond_node {
  uint32_t state; /* the futex word */
  uint32_t prev, next; /* node index + 1, 0: none */
  uint32_t epoch;      /* C_EPOCH when queued */
};
static struct cond_node cond_nodes[CKPT_STACK_MAX_SLOTS] CKPT_RTSTATE_VAR;

_Static_assert(sizeof(pthread_cond_t) >= 7 * sizeof(uint32_t),
               "pthread_cond_t holds the queue");

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr) {
  int pshared = PTHREAD_PROCESS_PRIVATE;
  clockid_t clock = CLOCK_REALTIME;
  if (attr) {
    pthread_condattr_getpshared(attr, &pshared);
    pthread_condattr_getclock(attr, &clock);
  }
  if (pshared != PTHREAD_PROCESS_PRIVATE) {
    CKPT_ERROR("pthread_cond_init: process-shared condition variables are "
               "not supported by ckpt");
    return ENOTSUP;
  }
  __builtin_memset(c, 0, sizeof *c);
  *C_CLOCK(c) = clock == CLOCK_MONOTONIC;
  return 0;
}

int pthread_cond_destroy(pthread_cond_t *c) {
  (void)c;
  return 0;
}

/* Queue operations; the caller holds C_LOCK. */
static void cond_enqueue(pthread_cond_t *c, uint32_t idx) {
  struct cond_node *n = &cond_nodes[idx];
  n->next = 0;
  n->epoch = *C_EPOCH(c);
  n->prev = *C_TAIL(c);
  if (n->prev)
    cond_nodes[n->prev - 1].next = idx + 1;
  else
    *C_HEAD(c) = idx + 1;
  *C_TAIL(c) = idx + 1;
}

static void cond_unlink(pthread_cond_t *c, uint32_t idx) {
  struct cond_node *n = &cond_nodes[idx];
  if (n->prev)
    cond_nodes[n->prev - 1].next = n->next;
  else
    *C_HEAD(c) = n->next;
  if (n->next)
    cond_nodes[n->next - 1].prev = n->prev;
  else
    *C_TAIL(c) = n->prev;
  n->prev = n->next = 0;
}

/* Take the oldest waiter off the queue, with C_LOCK held, and mark it
 * signalled -- under the lock, so that a waiter whose time runs out knows
 * whether it is still queued. Returns its index + 1, or 0. */
static uint32_t cond_pop(pthread_cond_t *c) {
  uint32_t head = *C_HEAD(c);
  if (head) {
    cond_unlink(c, head - 1);
    __atomic_store_n(&cond_nodes[head - 1].state, NODE_SIGNALLED,
                     __ATOMIC_RELEASE);
  }
  return head;
}

/* Wake a popped node's thread, after C_LOCK is released. The thread may
 * already have returned and be waiting on the same node again: it finds
 * its state still waiting and sleeps on (a wasted wake, never a lost or a
 * spurious one). */
static void cond_wake_node(uint32_t idx) {
  futex_wake_n(&cond_nodes[idx].state, 1, 0);
}

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
                     const struct timespec *abs, int clock, void *callee) {
  if (bad_timespec(abs))
    return EINVAL;
  if (M_KIND(m) != PTHREAD_MUTEX_NORMAL &&
      (uint32_t)m->__data.__owner != self_id())
    return EPERM;
  struct ckpt_thread *self = ckpt_self;
  if (self && self->slot >= CKPT_STACK_MAX_SLOTS)
    self = NULL; /* no node (cannot happen for the runtime's records) */
  uint32_t idx = self ? self->slot : 0;
  int realtime = clock < 0 ? !*C_CLOCK(c) : clock == CLOCK_REALTIME;
  int rc;
  /* Queued before the mutex is released: a signal sent by whoever takes
   * the mutex next finds this thread. */
  if (self) {
    cond_nodes[idx].state = NODE_WAITING;
    inner_lock(C_LOCK(c));
    cond_enqueue(c, idx);
    inner_unlock(C_LOCK(c));
  }
  /* A recursive mutex is released whole and taken back at the same depth. */
  uint32_t depth = m->__data.__count;
  if (M_KIND(m) == PTHREAD_MUTEX_RECURSIVE)
    m->__data.__count = 1;
  if (!self) {
    /* Counted before the release, for the same reason. */
    uint32_t seq = __atomic_load_n(C_SEQ(c), __ATOMIC_SEQ_CST);
    waiter_add(C_FOREIGN(c));
    mutex_release(m);
    rc = blocking_wait(callee, CKPT_CALL_COND_WAIT, C_SEQ(c), seq, abs,
                       realtime, 0, 1);
    waiter_remove(C_FOREIGN(c));
    if (rc == EINTR)
      rc = 0; /* condition waits never fail with EINTR */
  } else {
    mutex_release(m);
    do
      rc = blocking_wait(callee, CKPT_CALL_COND_WAIT, &cond_nodes[idx].state,
                         NODE_WAITING, abs, realtime, 0, 1);
    while (rc != ETIMEDOUT && rc != ECANCELED &&
           __atomic_load_n(&cond_nodes[idx].state, __ATOMIC_ACQUIRE) ==
               NODE_WAITING);
    int forward = 0;
    if (rc == ETIMEDOUT || rc == ECANCELED) {
      inner_lock(C_LOCK(c));
      if (__atomic_load_n(&cond_nodes[idx].state, __ATOMIC_ACQUIRE) ==
          NODE_WAITING)
        cond_unlink(c, idx);
      else if (rc == ETIMEDOUT)
        rc = 0; /* signalled as the time ran out: the signal is taken */
      else
        forward = 1; /* cancelled after a signal: it goes to another */
      inner_unlock(C_LOCK(c));
    } else {
      rc = 0;
    }
    cond_nodes[idx].state = NODE_IDLE;
    if (forward)
      pthread_cond_signal(c);
  }
  mutex_acquire(m, NULL, callee, CKPT_CALL_COND_WAIT);
  if (M_KIND(m) == PTHREAD_MUTEX_RECURSIVE && depth > 1)
    m->__data.__count = depth;
  /* Cancelled in the wait: the mutex is held again when the cleanup
   * handlers run, as POSIX wants. */
  if (rc == ECANCELED)
    ckpt_cancel_act();
  return rc;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  return cond_wait(c, m, NULL, -1, (void *)pthread_cond_wait);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abs) {
  return cond_wait(c, m, abs, -1, (void *)pthread_cond_timedwait);
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                           clockid_t clock, const struct timespec *abs) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL;
  return cond_wait(c, m, abs, (int)clock, (void *)pthread_cond_clockwait);
}

static void cond_wake_foreign(pthread_cond_t *c, int n) {
  if (__atomic_load_n(C_FOREIGN(c), __ATOMIC_SEQ_CST)) {
    __atomic_add_fetch(C_SEQ(c), 1, __ATOMIC_SEQ_CST);
    futex_wake_n(C_SEQ(c), n, 0);
  }
}

int pthread_cond_signal(pthread_cond_t *c) {
  if (__atomic_load_n(C_HEAD(c), __ATOMIC_SEQ_CST)) {
    inner_lock(C_LOCK(c));
    uint32_t head = cond_pop(c);
    inner_unlock(C_LOCK(c));
    if (head) {
      cond_wake_node(head - 1);
      return 0;
    }
  }
  cond_wake_foreign(c, 1);
  return 0;
}

/* Wakes the waiters queued before it began, a batch at a time so that the
 * lock is not held across system calls: waiters queued since (a later
 * epoch) stay queued, as a broadcast made at once would leave them. */
int pthread_cond_broadcast(pthread_cond_t *c) {
  if (__atomic_load_n(C_HEAD(c), __ATOMIC_SEQ_CST)) {
    enum { BATCH = 16 };
    uint32_t woken[BATCH], n, epoch = 0;
    int first = 1;
    do {
      n = 0;
      inner_lock(C_LOCK(c));
      if (first)
        epoch = (*C_EPOCH(c))++;
      first = 0;
      while (n < BATCH && *C_HEAD(c) &&
             (int32_t)(cond_nodes[*C_HEAD(c) - 1].epoch - epoch) <= 0)
        woken[n++] = cond_pop(c);
      inner_unlock(C_LOCK(c));
      for (uint32_t i = 0; i < n; i++)
        cond_wake_node(woken[i] - 1);
    } while (n == BATCH);
  }
  cond_wake_foreign(c, INT_MAX);
  return 0;
}

/* ---- Read-write locks -----------------------------------------------------
 * word 0: inner lock; 1: readers holding; 2: writer holding (slot+1);
 * 3: sequence (the futex); 4: waiters; 5: writers waiting. The preference
 * for writers is glibc's __flags, from init or the static initialiser. */
#define RW_WORD(rw, i) ((uint32_t *)(rw) + (i))

static int rw_prefers_writers(pthread_rwlock_t *rw) {
  /* As glibc: PREFER_WRITER_NP still lets readers in (POSIX allows a
   * thread to take a read lock twice); only the NONRECURSIVE kind makes
   * new readers wait for a waiting writer. */
  return rw->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr) {
  int pref = PTHREAD_RWLOCK_PREFER_READER_NP, pshared = PTHREAD_PROCESS_PRIVATE;
  if (attr) {
    pthread_rwlockattr_getkind_np(attr, &pref);
    pthread_rwlockattr_getpshared(attr, &pshared);
  }
  if (pshared != PTHREAD_PROCESS_PRIVATE) {
    CKPT_ERROR("pthread_rwlock_init: process-shared rwlocks are not "
               "supported by ckpt");
    return ENOTSUP;
  }
  __builtin_memset(rw, 0, sizeof *rw);
  rw->__data.__flags = (unsigned char)pref;
  return 0;
}

int pthread_rwlock_destroy(pthread_rwlock_t *rw) {
  return *RW_WORD(rw, 1) || *RW_WORD(rw, 2) ? EBUSY : 0;
}

static int rw_try(pthread_rwlock_t *rw, int write, int waiting_writer,
                  int try_only) {
  uint32_t me = self_id();
  if (*RW_WORD(rw, 2) == me)
    return try_only ? EBUSY : EDEADLK;
  if (write) {
    if (*RW_WORD(rw, 1) == 0 && *RW_WORD(rw, 2) == 0) {
      *RW_WORD(rw, 2) = me;
      return 0;
    }
    return EBUSY;
  }
  if (*RW_WORD(rw, 2) == 0 &&
      (!rw_prefers_writers(rw) || *RW_WORD(rw, 5) == 0 || waiting_writer)) {
    if (*RW_WORD(rw, 1) == UINT32_MAX)
      return EAGAIN;
    (*RW_WORD(rw, 1))++;
    return 0;
  }
  return EBUSY;
}

static int rw_acquire_clock(pthread_rwlock_t *rw, int write,
                            const struct timespec *abs, int realtime,
                            void *callee) {
  if (bad_timespec(abs))
    return EINVAL;
  for (;;) {
    inner_lock(RW_WORD(rw, 0));
    int rc = rw_try(rw, write, 0, 0);
    if (rc != EBUSY) {
      inner_unlock(RW_WORD(rw, 0));
      return rc;
    }
    uint32_t seq = *RW_WORD(rw, 3);
    if (write)
      (*RW_WORD(rw, 5))++;
    (*RW_WORD(rw, 4))++;
    inner_unlock(RW_WORD(rw, 0));
    int timed_out = blocking_wait(callee, CKPT_CALL_REISSUE, RW_WORD(rw, 3),
                                  seq, abs, realtime, 0, 0) == ETIMEDOUT;
    inner_lock(RW_WORD(rw, 0));
    (*RW_WORD(rw, 4))--;
    if (write)
      (*RW_WORD(rw, 5))--;
    if (timed_out) {
      rc = rw_try(rw, write, write, 0);
      inner_unlock(RW_WORD(rw, 0));
      return rc == EBUSY ? ETIMEDOUT : rc;
    }
    inner_unlock(RW_WORD(rw, 0));
  }
}

static int rw_acquire(pthread_rwlock_t *rw, int write,
                      const struct timespec *abs, void *callee) {
  return rw_acquire_clock(rw, write, abs, 1, callee);
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                               const struct timespec *abs) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL;
  return rw_acquire_clock(rw, 0, abs, clock == CLOCK_REALTIME,
                          (void *)pthread_rwlock_clockrdlock);
}
int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                               const struct timespec *abs) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL;
  return rw_acquire_clock(rw, 1, abs, clock == CLOCK_REALTIME,
                          (void *)pthread_rwlock_clockwrlock);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *rw) {
  return rw_acquire(rw, 0, NULL, (void *)pthread_rwlock_rdlock);
}
int pthread_rwlock_wrlock(pthread_rwlock_t *rw) {
  return rw_acquire(rw, 1, NULL, (void *)pthread_rwlock_wrlock);
}
int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abs) {
  return rw_acquire(rw, 0, abs, (void *)pthread_rwlock_timedrdlock);
}
int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abs) {
  return rw_acquire(rw, 1, abs, (void *)pthread_rwlock_timedwrlock);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw);
int pthread_rwlock_trywrlock(pthread_rwlock_t *rw);
static int rw_trylock(pthread_rwlock_t *rw, int write) {
  inner_lock(RW_WORD(rw, 0));
  int rc = rw_try(rw, write, 0, 1);
  inner_unlock(RW_WORD(rw, 0));
  if (rc == EBUSY)
    wait_out_checkpoint(write ? (void *)pthread_rwlock_trywrlock
                              : (void *)pthread_rwlock_tryrdlock);
  return rc;
}
int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw) { return rw_trylock(rw, 0); }
int pthread_rwlock_trywrlock(pthread_rwlock_t *rw) { return rw_trylock(rw, 1); }

int pthread_rwlock_unlock(pthread_rwlock_t *rw) {
  inner_lock(RW_WORD(rw, 0));
  if (*RW_WORD(rw, 2) == self_id()) {
    *RW_WORD(rw, 2) = 0;
  } else if (*RW_WORD(rw, 1) > 0) {
    (*RW_WORD(rw, 1))--;
  } else {
    inner_unlock(RW_WORD(rw, 0));
    return EPERM;
  }
  int wake = *RW_WORD(rw, 4) != 0;
  if (wake)
    (*RW_WORD(rw, 3))++;
  inner_unlock(RW_WORD(rw, 0));
  if (wake)
    futex_wake_n(RW_WORD(rw, 3), INT_MAX, 0);
  return 0;
}

/* ---- Spinlocks ------------------------------------------------------------
 * 0 free, 1 held. A spinning thread cannot reach a poll, and the holder may
 * be stopped at one: while a checkpoint is pending the spinner counts as
 * waiting in a call. */
int pthread_spin_init(pthread_spinlock_t *s, int pshared) {
  (void)pshared;
  __atomic_store_n(s, 0, __ATOMIC_RELEASE);
  return 0;
}
int pthread_spin_destroy(pthread_spinlock_t *s) {
  (void)s;
  return 0;
}
static int spin_try(pthread_spinlock_t *s) {
  int expected = 0;
  return __atomic_compare_exchange_n(s, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED)
             ? 0
             : EBUSY;
}
int pthread_spin_trylock(pthread_spinlock_t *s) {
  if (spin_try(s) == 0)
    return 0;
  wait_out_checkpoint((void *)pthread_spin_trylock);
  return EBUSY;
}
int pthread_spin_lock(pthread_spinlock_t *s) {
  for (unsigned spins = 0;; spins++) {
    if (spin_try(s) == 0)
      return 0;
    while (__atomic_load_n(s, __ATOMIC_RELAXED)) {
      __asm__ volatile("pause");
      if (CKPT_NAME(pending) &&
          ckpt_call_enter((void *)pthread_spin_lock, CKPT_CALL_REISSUE) == 0)
        ckpt_call_leave(); /* waits until the checkpoint is over */
      if ((++spins & 1023) == 0)
        ckpt_sched_yield_raw();
    }
  }
}
int pthread_spin_unlock(pthread_spinlock_t *s) {
  __atomic_store_n(s, 0, __ATOMIC_RELEASE);
  return 0;
}

/* ---- Barriers -------------------------------------------------------------
 * word 0: inner lock; 1: count; 2: arrived; 3: round (the futex); 4: 1 if
 * process-shared. A thread restarted while waiting is back in its wait loop
 * with its round: if the round is over it returns, else it waits on. */
#define B_WORD(b, i) ((uint32_t *)(b) + (i))

int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
                         unsigned count) {
  int pshared = PTHREAD_PROCESS_PRIVATE;
  if (count == 0)
    return EINVAL;
  if (attr)
    pthread_barrierattr_getpshared(attr, &pshared);
  __builtin_memset(b, 0, sizeof *b);
  *B_WORD(b, 1) = count;
  *B_WORD(b, 4) = pshared == PTHREAD_PROCESS_SHARED;
  return 0;
}

int pthread_barrier_destroy(pthread_barrier_t *b) {
  return *B_WORD(b, 2) ? EBUSY : 0;
}

int pthread_barrier_wait(pthread_barrier_t *b) {
  int shared = *B_WORD(b, 4) != 0;
  inner_lock(B_WORD(b, 0));
  uint32_t round = *B_WORD(b, 3);
  if (++*B_WORD(b, 2) == *B_WORD(b, 1)) {
    *B_WORD(b, 2) = 0;
    __atomic_store_n(B_WORD(b, 3), round + 1, __ATOMIC_SEQ_CST);
    inner_unlock(B_WORD(b, 0));
    futex_wake_n(B_WORD(b, 3), INT_MAX, shared);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  inner_unlock(B_WORD(b, 0));
  while (__atomic_load_n(B_WORD(b, 3), __ATOMIC_SEQ_CST) == round)
    blocking_wait((void *)pthread_barrier_wait, CKPT_CALL_REISSUE, B_WORD(b, 3),
                  round, NULL, 0, shared, 0);
  return 0;
}

/* ---- Semaphores -----------------------------------------------------------
 * glibc's 64-bit layout: value (word 0, the futex), waiters (word 1),
 * `private` (word 2: 0 = process-shared, as sem_open makes them). */
#define S_VALUE(s) ((uint32_t *)(s))
#define S_WAITERS(s) ((uint32_t *)(s) + 1)
#define S_SHARED(s) (((uint32_t *)(s))[2] == 0)

int sem_init(sem_t *s, int pshared, unsigned value) {
  if (value > SEM_VALUE_MAX) {
    errno = EINVAL;
    return -1;
  }
  __builtin_memset(s, 0, sizeof *s);
  *S_VALUE(s) = value;
  ((uint32_t *)s)[2] = pshared ? 0 : FUTEX_PRIVATE_FLAG;
  return 0;
}

int sem_destroy(sem_t *s) {
  (void)s;
  return 0;
}

static int sem_try(sem_t *s) {
  uint32_t v = __atomic_load_n(S_VALUE(s), __ATOMIC_RELAXED);
  while (v > 0)
    if (__atomic_compare_exchange_n(S_VALUE(s), &v, v - 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 0;
  return -1;
}

int sem_trywait(sem_t *s) {
  if (sem_try(s) == 0)
    return 0;
  wait_out_checkpoint((void *)sem_trywait);
  errno = EAGAIN;
  return -1;
}

static int sem_wait_until(sem_t *s, const struct timespec *abs, int realtime,
                          void *callee) {
  if (bad_timespec(abs)) {
    errno = EINVAL;
    return -1;
  }
  for (;;) {
    if (sem_try(s) == 0)
      return 0;
    waiter_add(S_WAITERS(s));
    int rc = blocking_wait(callee, CKPT_CALL_REISSUE, S_VALUE(s), 0, abs,
                           realtime, S_SHARED(s), 1);
    waiter_remove(S_WAITERS(s));
    if (rc == ECANCELED)
      ckpt_cancel_act();
    if (rc == EINTR) {
      errno = EINTR; /* sem_wait is never restarted after a handler */
      return -1;
    }
    if (rc == ETIMEDOUT) {
      if (sem_try(s) == 0)
        return 0;
      errno = ETIMEDOUT;
      return -1;
    }
  }
}

int sem_wait(sem_t *s) { return sem_wait_until(s, NULL, 1, (void *)sem_wait); }

int sem_timedwait(sem_t *s, const struct timespec *abs) {
  return sem_wait_until(s, abs, 1, (void *)sem_timedwait);
}

int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abs) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) {
    errno = EINVAL;
    return -1;
  }
  return sem_wait_until(s, abs, clock == CLOCK_REALTIME,
                        (void *)sem_clockwait);
}

int sem_post(sem_t *s) {
  uint32_t v = __atomic_load_n(S_VALUE(s), __ATOMIC_RELAXED);
  do {
    if (v >= SEM_VALUE_MAX) {
      errno = EOVERFLOW;
      return -1;
    }
  } while (!__atomic_compare_exchange_n(S_VALUE(s), &v, v + 1, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  if (__atomic_load_n(S_WAITERS(s), __ATOMIC_SEQ_CST))
    futex_wake_n(S_VALUE(s), 1, S_SHARED(s));
  return 0;
}

int sem_getvalue(sem_t *s, int *value) {
  *value = (int)__atomic_load_n(S_VALUE(s), __ATOMIC_RELAXED);
  return 0;
}

/* ---- Yielding -------------------------------------------------------------
 * A loop around sched_yield waits for another thread, maybe one stopped for
 * a checkpoint; the stop signal finds it in libc, nearly always (the system
 * call is all of the loop's time). It waits out a pending checkpoint here. */
int ckpt_sched_yield_raw(void) { return (int)syscall(SYS_sched_yield); }

int sched_yield(void) {
  wait_out_checkpoint((void *)sched_yield);
  return ckpt_sched_yield_raw();
}
