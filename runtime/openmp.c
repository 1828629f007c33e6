/* runtime/openmp.c - what ckpt keeps of an OpenMP program's runtime state
 * (docs/openmp.md).
 *
 * libomp is a shared library ckpt does not instrument: its data and its
 * worker threads are not saved. A checkpoint is taken between parallel
 * regions (a thread inside a region's body is inside a callback of libomp
 * and does not stop there; the workers, library threads, are held still
 * wherever they are in libomp). After a restart libomp starts afresh, in
 * the restored program, and starts its workers again at the next region.
 *
 * What the program set through the API would be lost with libomp's data:
 * the number of threads, the schedule, dynamic adjustment, the number of
 * active levels. These calls are recorded here, in the runtime state that
 * every checkpoint saves, and made again on the main thread after a
 * restart, before the program goes on. The definitions are weak: a
 * program that defines them itself (a stub for builds without OpenMP)
 * keeps its own. Calls made inside a parallel region set the ICVs of that
 * region's task only, which ends before any checkpoint: they are passed on
 * and not recorded.
 *
 * omp_lock_t and omp_nest_lock_t hold libomp's handle of a lock (an index
 * into its lock tables), which means nothing to a fresh libomp. The locks
 * the program initialised and has not destroyed are recorded (a table in
 * the program's heap, so saved) and initialised again after a restart,
 * unlocked: no thread holds one between regions, unless the program holds
 * it across a region (docs/openmp.md).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "rt.h"

/* omp.h's omp_sched_t, without the header (the runtime does not need
 * libomp to build). */
typedef int ckpt_omp_sched_t;

/* The int-valued ICVs, in the order a restart sets them again. */
enum int_icv {
  ICV_NESTED,
  ICV_MAX_ACTIVE_LEVELS,
  ICV_DYNAMIC,
  ICV_NUM_THREADS,
  NUM_INT_ICVS
};
static const char *const int_icv_setter[NUM_INT_ICVS] = {
    "omp_set_nested", "omp_set_max_active_levels", "omp_set_dynamic",
    "omp_set_num_threads"};

static struct {
  uint32_t set; /* bit i: int ICV i was set by the program */
  int value[NUM_INT_ICVS];
  int schedule_set;
  ckpt_omp_sched_t sched_kind;
  int sched_chunk;
} icvs CKPT_RTSTATE_VAR;

static void *real(const char *name) { return dlsym(RTLD_NEXT, name); }

/* The level of nesting of the calling task: 0 outside every region. */
static int in_region(void) {
  int (*level)(void) = (int (*)(void))real("omp_get_level");
  return level && level() > 0;
}

static void call_int_setter(enum int_icv i, int value) {
  void (*fn)(int) = (void (*)(int))real(int_icv_setter[i]);
  if (fn)
    fn(value);
}

static void set_int_icv(enum int_icv i, int value) {
  if (!in_region()) {
    icvs.value[i] = value;
    icvs.set |= 1u << i;
  }
  call_int_setter(i, value);
}

__attribute__((weak)) void omp_set_num_threads(int value) {
  set_int_icv(ICV_NUM_THREADS, value);
}
__attribute__((weak)) void omp_set_dynamic(int value) {
  set_int_icv(ICV_DYNAMIC, value);
}
__attribute__((weak)) void omp_set_max_active_levels(int value) {
  set_int_icv(ICV_MAX_ACTIVE_LEVELS, value);
}
__attribute__((weak)) void omp_set_nested(int value) {
  set_int_icv(ICV_NESTED, value);
}

static void call_schedule_setter(ckpt_omp_sched_t kind, int chunk) {
  void (*fn)(ckpt_omp_sched_t, int) =
      (void (*)(ckpt_omp_sched_t, int))real("omp_set_schedule");
  if (fn)
    fn(kind, chunk);
}

__attribute__((weak)) void omp_set_schedule(ckpt_omp_sched_t kind,
                                            int chunk) {
  if (!in_region()) {
    icvs.sched_kind = kind;
    icvs.sched_chunk = chunk;
    icvs.schedule_set = 1;
  }
  call_schedule_setter(kind, chunk);
}

/* ---- Locks --------------------------------------------------------------- */

enum { LOCK_SIMPLE = 0, LOCK_NEST = 1 };
struct live_lock {
  void *lock;
  int kind;     /* LOCK_SIMPLE or LOCK_NEST */
  int has_hint; /* initialised with _with_hint */
  uintptr_t hint;
};

static struct {
  pthread_mutex_t mu;
  struct live_lock *v; /* in the program's heap */
  size_t n, cap;
} locks CKPT_RTSTATE_VAR = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void lock_add(void *lock, int kind, int has_hint, uintptr_t hint) {
  pthread_mutex_lock(&locks.mu);
  if (locks.n == locks.cap) {
    size_t cap = locks.cap ? 2 * locks.cap : 64;
    struct live_lock *v = realloc(locks.v, cap * sizeof *v);
    if (!v) {
      pthread_mutex_unlock(&locks.mu);
      ckpt_fatal("omp_init_lock: out of memory recording lock %p", lock);
    }
    locks.v = v;
    locks.cap = cap;
  }
  locks.v[locks.n++] = (struct live_lock){lock, kind, has_hint, hint};
  pthread_mutex_unlock(&locks.mu);
}

static void lock_remove(void *lock) {
  pthread_mutex_lock(&locks.mu);
  for (size_t i = locks.n; i-- > 0;)
    if (locks.v[i].lock == lock) {
      locks.v[i] = locks.v[--locks.n];
      break;
    }
  pthread_mutex_unlock(&locks.mu);
}

#define LOCK_WRAPPER(name, kind)                                               \
  __attribute__((weak)) void name(void *lock) {                                \
    void (*fn)(void *) = (void (*)(void *))real(#name);                        \
    if (fn)                                                                    \
      fn(lock);                                                                \
    lock_add(lock, kind, 0, 0);                                                \
  }
#define LOCK_HINT_WRAPPER(name, kind)                                          \
  __attribute__((weak)) void name(void *lock, uintptr_t hint) {                \
    void (*fn)(void *, uintptr_t) = (void (*)(void *, uintptr_t))real(#name);  \
    if (fn)                                                                    \
      fn(lock, hint);                                                          \
    lock_add(lock, kind, 1, hint);                                             \
  }
#define UNLOCK_WRAPPER(name)                                                   \
  __attribute__((weak)) void name(void *lock) {                                \
    lock_remove(lock);                                                         \
    void (*fn)(void *) = (void (*)(void *))real(#name);                        \
    if (fn)                                                                    \
      fn(lock);                                                                \
  }

LOCK_WRAPPER(omp_init_lock, LOCK_SIMPLE)
LOCK_WRAPPER(omp_init_nest_lock, LOCK_NEST)
LOCK_HINT_WRAPPER(omp_init_lock_with_hint, LOCK_SIMPLE)
LOCK_HINT_WRAPPER(omp_init_nest_lock_with_hint, LOCK_NEST)
UNLOCK_WRAPPER(omp_destroy_lock)
UNLOCK_WRAPPER(omp_destroy_nest_lock)

static void locks_after_restore(void) {
  static const char *const init[2][2] = {
      {"omp_init_lock", "omp_init_lock_with_hint"},
      {"omp_init_nest_lock", "omp_init_nest_lock_with_hint"}};
  for (size_t i = 0; i < locks.n; i++) {
    struct live_lock *l = &locks.v[i];
    void *fn = real(init[l->kind][l->has_hint]);
    if (!fn)
      ckpt_fatal("restart: the program initialised OpenMP lock %p, but %s "
                 "is not loaded now",
                 l->lock, init[l->kind][l->has_hint]);
    if (l->has_hint)
      ((void (*)(void *, uintptr_t))fn)(l->lock, l->hint);
    else
      ((void (*)(void *))fn)(l->lock);
  }
}

void ckpt_openmp_after_restore(void) {
  locks_after_restore();
  for (int i = 0; i < NUM_INT_ICVS; i++)
    if (icvs.set & (1u << i))
      call_int_setter((enum int_icv)i, icvs.value[i]);
  if (icvs.schedule_set)
    call_schedule_setter(icvs.sched_kind, icvs.sched_chunk);
}
