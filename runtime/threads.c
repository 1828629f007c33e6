/* runtime/threads.c - the program's threads: pthread_create and friends are
 * interposed so that every thread runs on a stack at a fixed address (its
 * slot, like the main thread's), is known to the stop protocol, and can be
 * created again on restore with the same stack -- glibc keeps a thread's
 * descriptor and static TLS at the top of the stack it is given, so the
 * pthread_t and the addresses of __thread variables come back unchanged.
 *
 * Every thread is created joinable underneath; pthread_detach is emulated
 * (a detached thread that has finished is joined by the runtime and its
 * slot reused), so a slot is never reused while glibc still runs on it.
 * pthread keys: key numbers and destructors are recorded, and each thread's
 * values are shadowed on pthread_setspecific, so a restart can create the
 * same keys and put the values back. Destructors run from our side of the
 * thread's exit, while the thread is still known to be running user code. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heap.h"
#include "rt.h"
#include "unwind.h"

struct ckpt_key ckpt_keys[CKPT_MAX_KEYS];
uint32_t ckpt_keys_used;
size_t ckpt_tls_size;
static uintptr_t tls_offset; /* thread pointer - TLS block, same in every thread */

/* The static TLS blocks saved with each thread: the executable's (piece 0),
 * then those of the libraries built with ckpt-cc -shared that were loaded
 * with the program. Static blocks sit at fixed distances from the thread
 * pointer, the same in every thread, so a piece is its distance from the
 * executable's block. */
struct tls_piece {
  intptr_t delta; /* block - the executable's block */
  size_t size;
};
static struct tls_piece tls_pieces[CKPT_MAX_MODULES];
static size_t tls_npieces;
size_t ckpt_tls_saved_size;

/* Application threads not yet finished. glibc ends the process when its
 * last thread exits, but the coordinator is a thread too: the runtime does
 * glibc's part, exit(0), when the program's last thread finishes. */
static uint32_t live_threads;

/* Changes to the thread table (slots taken and freed). */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *,
                         void *(*)(void *), void *);
typedef int (*join_fn)(pthread_t, void **);
typedef void (*exit_fn)(void *) __attribute__((noreturn));
typedef int (*key_create_fn)(pthread_key_t *, void (*)(void *));
typedef int (*key_delete_fn)(pthread_key_t);
typedef int (*setspecific_fn)(pthread_key_t, const void *);

#define REAL(type, name)                                                       \
  static type real_##name(void) {                                              \
    static type fn;                                                            \
    if (!fn)                                                                   \
      fn = (type)ckpt_libc_function(#name);                                                  \
    return fn;                                                                 \
  }
REAL(create_fn, pthread_create)
REAL(join_fn, pthread_join)
REAL(exit_fn, pthread_exit)
REAL(key_create_fn, pthread_key_create)
REAL(key_delete_fn, pthread_key_delete)
REAL(setspecific_fn, pthread_setspecific)

int ckpt_real_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                             void *(*fn)(void *), void *arg) {
  return real_pthread_create()(t, attr, fn, arg);
}

static uintptr_t thread_pointer(void) {
  uintptr_t tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

uintptr_t ckpt_tls_block(void) {
  return ckpt_tls_size ? thread_pointer() - tls_offset : 0;
}

static int find_exe_tls(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_tls_modid != 1)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_TLS) {
      ckpt_tls_size = info->dlpi_phdr[i].p_memsz;
      if (info->dlpi_tls_data)
        tls_offset = thread_pointer() - (uintptr_t)info->dlpi_tls_data;
    }
  return 1;
}

/* Runtime records live in the system heap, never in the program's. */
static void *sys_calloc(size_t n, size_t size) {
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  void *p = calloc(n, size);
  ckpt_heap_use_app = saved;
  return p;
}
static void sys_free(void *p) {
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  free(p);
  ckpt_heap_use_app = saved;
}

void ckpt_tls_init(void) {
  dl_iterate_phdr(find_exe_tls, NULL);
  tls_pieces[0] = (struct tls_piece){0, ckpt_tls_size};
  tls_npieces = 1;
  ckpt_tls_saved_size = ckpt_tls_size;
}

int ckpt_tls_add_static_block(uintptr_t block, size_t size) {
  uintptr_t exe_block = ckpt_tls_block();
  if (!exe_block || !block || tls_npieces == CKPT_MAX_MODULES)
    return -1;
  tls_pieces[tls_npieces++] =
      (struct tls_piece){(intptr_t)(block - exe_block), size};
  ckpt_tls_saved_size += size;
  return 0;
}

int ckpt_tls_save(uintptr_t exe_block,
                  int (*put)(void *ctx, const void *p, size_t n), void *ctx) {
  for (size_t i = 0; i < tls_npieces; i++)
    if (put(ctx, (const void *)(exe_block + (uintptr_t)tls_pieces[i].delta),
            tls_pieces[i].size))
      return -1;
  return 0;
}

size_t ckpt_tls_piece_count(void) { return tls_npieces; }
size_t ckpt_tls_piece_size(size_t i) { return tls_pieces[i].size; }

static void tls_load(uintptr_t exe_block, const unsigned char *saved) {
  for (size_t i = 0; i < tls_npieces; i++) {
    memcpy((void *)(exe_block + (uintptr_t)tls_pieces[i].delta), saved,
           tls_pieces[i].size);
    saved += tls_pieces[i].size;
  }
}

void ckpt_threads_init(void) {
  struct ckpt_thread *t = &ckpt_main_thread;
  t->slot = 0;
  t->ptid = (uint64_t)pthread_self();
  t->tls_block = ckpt_tls_block();
  __atomic_store_n(&ckpt_threads[0], t, __ATOMIC_RELEASE);
  if (ckpt_thread_slots_used < 1)
    ckpt_thread_slots_used = 1;
  live_threads = 1;
}

static struct ckpt_thread *thread_by_ptid(pthread_t id) {
  uint32_t n = __atomic_load_n(&ckpt_thread_slots_used, __ATOMIC_ACQUIRE);
  for (uint32_t i = 0; i < n; i++) {
    struct ckpt_thread *t = __atomic_load_n(&ckpt_threads[i], __ATOMIC_ACQUIRE);
    if (t && t->ptid == (uint64_t)id)
      return t;
  }
  return NULL;
}

/* Default stack of a new thread: what glibc would give (RLIMIT_STACK, or 8
 * MiB when unlimited), within a slot's half. */
static size_t default_stack_size(void) {
  struct rlimit rl;
  size_t size = 8u << 20;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur >= 64 * 1024)
    size = rl.rlim_cur;
  return size;
}

/* Room between the stack top and user_top: glibc's thread descriptor, the
 * static TLS of every loaded module and start_thread's frame. */
#define TCB_RESERVE (64u * 1024)

static size_t slot_stack_size(size_t requested) {
  size_t size = requested + TCB_RESERVE;
  size = (size + 4095) & ~(size_t)4095;
  if (size > CKPT_STACK_SLOT_STRIDE / 2)
    size = CKPT_STACK_SLOT_STRIDE / 2;
  return size;
}

static void free_slot(struct ckpt_thread *t) {
  if (t->slot == 0)
    return; /* the main thread, joined after its pthread_exit: it keeps its
               record (a later checkpoint restores it as finished) */
  pthread_mutex_lock(&table_lock);
  __atomic_store_n(&ckpt_threads[t->slot], NULL, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&table_lock);
  uintptr_t base = CKPT_STACK_BASE + (uintptr_t)t->slot * CKPT_STACK_SLOT_STRIDE;
  munmap((void *)base, CKPT_STACK_SLOT_STRIDE);
  sys_free(t->key_values);
  t->key_values = NULL;
  t->key_cap = 0;
}

/* Join detached threads that have finished, so their slots can be reused. */
static void reap_detached(void) {
  uint32_t n = __atomic_load_n(&ckpt_thread_slots_used, __ATOMIC_ACQUIRE);
  for (uint32_t i = 1; i < n; i++) {
    struct ckpt_thread *t = __atomic_load_n(&ckpt_threads[i], __ATOMIC_ACQUIRE);
    if (t && t->detached &&
        __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == CKPT_THREAD_EXITED &&
        !__atomic_exchange_n(&t->join_claimed, 1, __ATOMIC_ACQ_REL)) {
      real_pthread_join()((pthread_t)t->ptid, NULL);
      free_slot(t);
    }
  }
}

/* Run the program's key destructors for this thread, as glibc would at
 * exit, but while the thread still counts as running user code. */
static void run_key_destructors(struct ckpt_thread *t) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
    int any = 0;
    for (uint32_t k = 0; k < ckpt_keys_used && k < t->key_cap; k++) {
      void *v = t->key_values[k];
      if (!v || !ckpt_keys[k].alive)
        continue;
      t->key_values[k] = NULL;
      real_pthread_setspecific()((pthread_key_t)k, NULL);
      if (ckpt_keys[k].destructor) {
        ckpt_keys[k].destructor(v);
        any = 1;
      }
    }
    if (!any)
      break;
  }
}


static void thread_finished(struct ckpt_thread *t, void *retval) {
  run_key_destructors(t);
  ckpt_heap_thread_exit();
  t->retval = retval;
  ckpt_thread_set_state(t, CKPT_THREAD_EXITED);
  __atomic_store_n(&t->exit_futex, 1, __ATOMIC_SEQ_CST);
  ckpt_futex_wake(&t->exit_futex, 1 << 30);
  if (__atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST) == 0)
    exit(0);
}

/* Set up a thread's runtime TLS (and, on restore, its saved TLS first). */
static void thread_tls_setup(struct ckpt_thread *t) {
  /* The runtime's own TLS variables sit in the same block: __ckpt_records comes
   * back with it, pointing into the stack that comes back. */
  if (!t->restore_tls) {
    CKPT_NAME(records) = NULL;
  } else {
    if (ckpt_tls_block() != t->tls_block)
      ckpt_fatal("restore: thread %u's TLS is at %#lx, the checkpoint has it "
                 "at %#lx",
                 t->slot, (unsigned long)ckpt_tls_block(),
                 (unsigned long)t->tls_block);
    tls_load(t->tls_block, t->restore_tls);
    sys_free(t->restore_tls);
    t->restore_tls = NULL;
    for (uint32_t k = 0; k < t->key_cap && k < ckpt_keys_used; k++)
      if (t->key_values[k])
        real_pthread_setspecific()((pthread_key_t)k, t->key_values[k]);
  }
  ckpt_self = t;
  ckpt_cancel_thread_init(t);
  if (ckpt_sigstop_thread_init(t) != 0)
    ckpt_fatal("out of memory for the stop context of thread %u", t->slot);
  ckpt_heap_use_app = 1;
  ckpt_signals_thread_reset();
  t->tls_block = ckpt_tls_block();
}

/* The bottom of a thread's user stack (entered at user_top, whatever glibc
 * keeps above): runs the start routine and comes back to thread_start
 * through its exit point (or ends in pthread_exit, whose unwinding stops at
 * ckpt_enter_stack and returns to glibc's start_thread). */
void ckpt_run_thread(void *arg) {
  struct ckpt_thread *t = arg;
  void *rv = t->start_fn(t->start_arg);
  thread_finished(t, rv);
  ckpt_call_point_resume(&t->exit_point, 1);
}

/* Open once every saved thread exists again and the pointers to the
 * threads' glibc data have their new values (ckpt_reloc_threads_settle):
 * until then a re-created thread must not take its TLS or its stack. */
static uint32_t threads_relocated;

static void *thread_start(void *arg) {
  struct ckpt_thread *t = arg;
  /* Not "has saved TLS": a thread saved before it first ran has none. */
  int restoring = t->restored;
  t->restored = 0;
  while (restoring && !__atomic_load_n(&threads_relocated, __ATOMIC_ACQUIRE))
    ckpt_futex_wait(&threads_relocated, 0, NULL, 0);
  thread_tls_setup(t);
  t->ptid = (uint64_t)pthread_self();
  if ((uintptr_t)__builtin_frame_address(0) < t->user_top + 4096)
    ckpt_fatal("thread %u: glibc's thread data does not fit in the %u KiB "
               "above its stack (static TLS too large?)",
               t->slot, TCB_RESERVE / 1024);
  if (ckpt_call_point_save(&t->exit_point) != 0)
    return t->retval; /* the start routine returned */
  if (restoring) {
    if (t->state == CKPT_THREAD_EXITED)
      return t->retval; /* a zombie: only its join is still to come */
    if (t->state != CKPT_THREAD_NEW)
      ckpt_resume_saved_thread(t);
    /* Saved before its start routine ran: it starts now, after all. */
    ckpt_restore_rendezvous();
    ckpt_sigstate_thread_resume(t);
  }
  ckpt_wait_while_pending(t, CKPT_THREAD_NEW);
  ckpt_enter_stack(t->user_top, ckpt_run_thread, t);
}

/* Create the glibc thread of record t on its slot's stack. */
static int start_on_slot(struct ckpt_thread *t, size_t stack_size) {
  uintptr_t lo, hi;
  if (ckpt_map_stack(t->slot, stack_size, &lo, &hi) != 0)
    return EAGAIN;
  t->stack_lo = lo;
  t->stack_hi = hi;
  t->user_top = hi - TCB_RESERVE;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, (void *)lo, hi - lo);
  pthread_t id;
  int rc = real_pthread_create()(&id, &attr, thread_start, t);
  pthread_attr_destroy(&attr);
  if (rc == 0)
    t->ptid = (uint64_t)id;
  return rc;
}

int pthread_create(pthread_t *out, const pthread_attr_t *attr,
                   void *(*fn)(void *), void *arg) {
  struct ckpt_thread *self = ckpt_self;
  if (!self)
    return real_pthread_create()(out, attr, fn, arg);
  reap_detached();
  size_t requested = default_stack_size();
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr) {
    void *addr = NULL;
    size_t size = 0;
    /* glibc's getstack gives (stack top - size), so with no stack set
     * (top 0) the result plus the size wraps to 0. */
    int has_stack = pthread_attr_getstack(attr, &addr, &size) == 0 && addr &&
                    (uintptr_t)addr + size != 0;
    if (has_stack) {
      CKPT_ERROR("pthread_create: a thread on a stack of the program's own "
                 "(pthread_attr_setstack) cannot be checkpointed");
      return ENOTSUP;
    }
    if (pthread_attr_getstacksize(attr, &size) == 0 && size)
      requested = size;
    pthread_attr_getdetachstate(attr, &detach);
  }
  pthread_mutex_lock(&table_lock);
  uint32_t slot = 1;
  while (slot < CKPT_STACK_MAX_SLOTS && ckpt_threads[slot])
    slot++;
  if (slot == CKPT_STACK_MAX_SLOTS) {
    pthread_mutex_unlock(&table_lock);
    CKPT_ERROR("pthread_create: more than %d threads at once",
               CKPT_STACK_MAX_SLOTS - 1);
    return EAGAIN;
  }
  struct ckpt_thread *t = &ckpt_thread_records[slot];
  memset(t, 0, sizeof *t);
  t->start_fn = fn;
  t->start_arg = arg;
  t->detached = detach == PTHREAD_CREATE_DETACHED;
  if (!ckpt_unwind_in_program((uintptr_t)fn)) {
    Dl_info info;
    t->library_thread = 1;
    t->library_name = dladdr((void *)fn, &info) && info.dli_fname
                          ? info.dli_fname
                          : "a shared library";
  }
  t->state = CKPT_THREAD_NEW;
  t->slot = slot;
  __atomic_add_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&ckpt_threads[slot], t, __ATOMIC_RELEASE);
  if (slot + 1 > ckpt_thread_slots_used)
    __atomic_store_n(&ckpt_thread_slots_used, slot + 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&table_lock);
  int rc = start_on_slot(t, slot_stack_size(requested));
  if (rc != 0) {
    __atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
    free_slot(t);
    return rc;
  }
  *out = (pthread_t)t->ptid;
  return 0;
}

/* Join t, waiting until abs (NULL: for ever; a past time: not at all). */
static int join_until(struct ckpt_thread *t, void **retval,
                      const struct timespec *abs, void *callee) {
  struct ckpt_thread *self = ckpt_self;
  if (t == self)
    return EDEADLK;
  if (t->detached || __atomic_exchange_n(&t->join_claimed, 1, __ATOMIC_ACQ_REL))
    return EINVAL;
  while (!__atomic_load_n(&t->exit_futex, __ATOMIC_SEQ_CST)) {
    int parked = ckpt_call_enter(callee, CKPT_CALL_REISSUE);
    /* A cancellation point (but for pthread_tryjoin_np, which never
     * waits). */
    int try_only = abs && abs->tv_sec == 0 && abs->tv_nsec == 0;
    long rc = try_only ? ckpt_futex_wait(&t->exit_futex, 0, abs, 1)
                       : ckpt_cp_syscall(SYS_futex, (long)&t->exit_futex,
                                         FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG |
                                             FUTEX_CLOCK_REALTIME,
                                         0, (long)abs, 0,
                                         (long)FUTEX_BITSET_MATCH_ANY);
    int err = errno;
    if (parked == 0)
      ckpt_call_leave();
    if (rc != 0 && err == ECANCELED) {
      /* The target stays joinable (POSIX). */
      __atomic_store_n(&t->join_claimed, 0, __ATOMIC_RELEASE);
      ckpt_cancel_act();
    }
    if (rc != 0 && err == ETIMEDOUT &&
        !__atomic_load_n(&t->exit_futex, __ATOMIC_SEQ_CST)) {
      __atomic_store_n(&t->join_claimed, 0, __ATOMIC_RELEASE);
      return abs && abs->tv_sec == 0 && abs->tv_nsec == 0 ? EBUSY : ETIMEDOUT;
    }
  }
  /* The thread runs no more user code; glibc finishes its exit. */
  int parked = ckpt_call_enter(callee, CKPT_CALL_REISSUE);
  real_pthread_join()((pthread_t)t->ptid, NULL);
  if (parked == 0)
    ckpt_call_leave();
  if (retval)
    *retval = t->retval;
  free_slot(t);
  return 0;
}

int pthread_join(pthread_t id, void **retval) {
  struct ckpt_thread *t = thread_by_ptid(id);
  if (!t || !ckpt_self)
    return real_pthread_join()(id, retval);
  return join_until(t, retval, NULL, (void *)pthread_join);
}

int pthread_tryjoin_np(pthread_t id, void **retval) {
  struct ckpt_thread *t = thread_by_ptid(id);
  if (!t || !ckpt_self)
    return ENOTSUP;
  static const struct timespec now = {0, 0};
  return join_until(t, retval, &now, (void *)pthread_tryjoin_np);
}

int pthread_timedjoin_np(pthread_t id, void **retval,
                         const struct timespec *abs) {
  struct ckpt_thread *t = thread_by_ptid(id);
  if (!t || !ckpt_self)
    return ENOTSUP;
  if (abs && (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000))
    return EINVAL;
  return join_until(t, retval, abs, (void *)pthread_timedjoin_np);
}

int pthread_detach(pthread_t id) {
  struct ckpt_thread *t = thread_by_ptid(id);
  if (!t || !ckpt_self) {
    int (*real_detach)(pthread_t) = (int (*)(pthread_t))ckpt_libc_function("pthread_detach");
    return real_detach(id);
  }
  if (t->detached || t->join_claimed)
    return EINVAL;
  t->detached = 1;
  reap_detached();
  return 0;
}

/* pthread_exit (cancel.c) ends here, after the cleanup handlers. */
void ckpt_thread_exit(void *retval) {
  struct ckpt_thread *t = ckpt_self;
  if (t && t->state == CKPT_THREAD_RUNNING)
    thread_finished(t, retval);
  real_pthread_exit()(retval);
}

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) {
  int rc = real_pthread_key_create()(key, destructor);
  if (rc == 0 && *key < CKPT_MAX_KEYS) {
    ckpt_keys[*key].destructor = destructor;
    __atomic_store_n(&ckpt_keys[*key].alive, 1, __ATOMIC_RELEASE);
    if (*key + 1 > ckpt_keys_used)
      ckpt_keys_used = *key + 1;
  }
  return rc;
}

int pthread_key_delete(pthread_key_t key) {
  int rc = real_pthread_key_delete()(key);
  if (rc == 0 && key < CKPT_MAX_KEYS)
    __atomic_store_n(&ckpt_keys[key].alive, 0, __ATOMIC_RELEASE);
  return rc;
}

int pthread_setspecific(pthread_key_t key, const void *value) {
  int rc = real_pthread_setspecific()(key, value);
  struct ckpt_thread *t = ckpt_self;
  if (rc != 0 || !t || key >= CKPT_MAX_KEYS)
    return rc;
  if (key >= t->key_cap) {
    uint32_t cap = t->key_cap ? t->key_cap : 16;
    while (cap <= key)
      cap *= 2;
    void **values = sys_calloc(cap, sizeof *values);
    if (!values)
      return ENOMEM;
    if (t->key_values)
      memcpy(values, t->key_values, t->key_cap * sizeof *values);
    sys_free(t->key_values);
    t->key_values = values;
    t->key_cap = cap;
  }
  t->key_values[key] = (void *)value;
  return 0;
}

int pthread_cancel(pthread_t id) {
  struct ckpt_thread *t = thread_by_ptid(id);
  if (!t || !ckpt_self) {
    int (*real_cancel)(pthread_t) =
        (int (*)(pthread_t))ckpt_libc_function("pthread_cancel");
    return real_cancel(id);
  }
  return ckpt_cancel_request(t);
}

/* ---- Restore -------------------------------------------------------------- */

static void recreate_keys(void) {
  for (uint32_t k = 0; k < ckpt_keys_used; k++) {
    pthread_key_t got;
    if (real_pthread_key_create()(&got, ckpt_keys[k].destructor) != 0 ||
        got != k)
      ckpt_fatal("restore: cannot create pthread key %u again (got %u)", k,
                 (unsigned)got);
  }
  for (uint32_t k = 0; k < ckpt_keys_used; k++)
    if (!ckpt_keys[k].alive)
      real_pthread_key_delete()((pthread_key_t)k);
}

void ckpt_threads_restore_and_run(void) {
  /* Until every thread is back and the pending signals are raised again,
   * no signal reaches the program (threads inherit this mask). */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  recreate_keys();
  struct ckpt_thread *main_t = &ckpt_main_thread;
  /* glibc's data of the main thread is where the loader put it now; the
   * program's copies of its pthread_t change with it (relocate.c). */
  main_t->ptid = (uint64_t)pthread_self();
  /* Who takes part in the rendezvous: every thread with a stack to put
   * back or a start routine still to run, the main thread included. */
  uint32_t left = 0;
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (t && t->state != CKPT_THREAD_EXITED)
      left++;
  }
  ckpt_restore_threads_left = left;
  live_threads = left;
  for (uint32_t i = 1; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t)
      continue;
    int rc = start_on_slot(t, t->stack_hi - t->stack_lo);
    if (rc != 0)
      ckpt_fatal("restore: cannot create thread %u again: %s", t->slot,
                 strerror(rc));
  }
  char msg[300];
  if (ckpt_reloc_threads_settle(msg, sizeof msg) != 0)
    ckpt_fatal("restore: %s", msg);
  /* Everything is back but the stacks: the program's callbacks may now
   * rebuild what was excluded. They run on this (the original) stack, with
   * no frame record below them, before any thread resumes (the others wait
   * for threads_relocated). */
  ckpt_self = main_t;
  ckpt_run_restart_hooks();
  ckpt_self = NULL;
  __atomic_store_n(&threads_relocated, 1, __ATOMIC_RELEASE);
  ckpt_futex_wake(&threads_relocated, 1 << 30);
  thread_tls_setup(main_t);
  if (main_t->state == CKPT_THREAD_EXITED) {
    /* The main thread had called pthread_exit: the others run on. */
    if (ckpt_config.dir[0] && ckpt_coordinator_start() != 0)
      ckpt_fatal("cannot start the checkpoint coordinator");
    real_pthread_exit()(main_t->retval);
  }
  /* Still on the process's original stack: the slot's is free to fill. */
  ckpt_resume_saved_thread(main_t);
}
