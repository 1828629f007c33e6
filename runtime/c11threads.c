/* runtime/c11threads.c - C11 <threads.h> on top of ckpt's pthreads.
 *
 * glibc implements thrd_create, mtx_lock, cnd_wait... with its internal
 * pthread functions, which ckpt's interposed ones do not replace: a C11
 * thread would be a thread ckpt does not know (no checkpoint possible) and
 * a C11 mutex would be glibc's. So the C11 functions are defined here too,
 * as glibc defines them -- thrd_t is a pthread_t, mtx_t a pthread_mutex_t,
 * cnd_t a pthread_cond_t, tss_t a pthread_key_t -- over ckpt's versions. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <threads.h>
#include <time.h>

static int thrd_result(int err) {
  switch (err) {
  case 0:
    return thrd_success;
  case ENOMEM:
  case EAGAIN:
    return thrd_nomem;
  case ETIMEDOUT:
    return thrd_timedout;
  case EBUSY:
    return thrd_busy;
  default:
    return thrd_error;
  }
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
  /* As glibc does: the int result travels as the pointer result. */
  return thrd_result(pthread_create((pthread_t *)thr, NULL,
                                    (void *(*)(void *))(uintptr_t)func, arg));
}

int thrd_join(thrd_t thr, int *res) {
  void *r;
  int rc = pthread_join((pthread_t)thr, &r);
  if (rc == 0 && res)
    *res = (int)(intptr_t)r;
  return thrd_result(rc);
}

int thrd_detach(thrd_t thr) { return thrd_result(pthread_detach((pthread_t)thr)); }

_Noreturn void thrd_exit(int res) { pthread_exit((void *)(intptr_t)res); }

/* glibc's calls its internal sched_yield; ckpt's waits out a checkpoint
 * (sync.c). */
void thrd_yield(void) { sched_yield(); }

int thrd_sleep(const struct timespec *duration, struct timespec *remaining) {
  if (nanosleep(duration, remaining) == 0)
    return 0;
  return errno == EINTR ? -1 : -2;
}

int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, (type & mtx_recursive)
                                       ? PTHREAD_MUTEX_RECURSIVE
                                       : PTHREAD_MUTEX_NORMAL);
  int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return thrd_result(rc);
}
int mtx_lock(mtx_t *m) { return thrd_result(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) {
  return thrd_result(pthread_mutex_trylock((pthread_mutex_t *)m));
}
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abs) {
  return thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)m, abs));
}
int mtx_unlock(mtx_t *m) {
  return thrd_result(pthread_mutex_unlock((pthread_mutex_t *)m));
}
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int cnd_init(cnd_t *c) { return thrd_result(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return thrd_result(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) {
  return thrd_result(pthread_cond_broadcast((pthread_cond_t *)c));
}
int cnd_wait(cnd_t *c, mtx_t *m) {
  return thrd_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                  const struct timespec *restrict abs) {
  return thrd_result(pthread_cond_timedwait((pthread_cond_t *)c,
                                            (pthread_mutex_t *)m, abs));
}
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

int tss_create(tss_t *key, tss_dtor_t dtor) {
  return thrd_result(pthread_key_create((pthread_key_t *)key, dtor));
}
void tss_delete(tss_t key) { pthread_key_delete((pthread_key_t)key); }
int tss_set(tss_t key, void *value) {
  return thrd_result(pthread_setspecific((pthread_key_t)key, value));
}

/* The C11 function a program calls, for the pthread function that blocks
 * inside it: a thread waiting in cnd_wait sits at a call site of cnd_wait,
 * while the wrapper it waits in is pthread_cond_wait's (frames.c checks the
 * site against both). NULL if there is none. */
void *ckpt_c11_caller_of(void *callee) {
  static const struct {
    void *pthread_fn, *c11_fn;
  } pairs[] = {
      {(void *)pthread_cond_wait, (void *)cnd_wait},
      {(void *)pthread_cond_timedwait, (void *)cnd_timedwait},
      {(void *)pthread_mutex_lock, (void *)mtx_lock},
      {(void *)pthread_mutex_timedlock, (void *)mtx_timedlock},
      {(void *)pthread_join, (void *)thrd_join},
      {(void *)nanosleep, (void *)thrd_sleep},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
    if (pairs[i].pthread_fn == callee)
      return pairs[i].c11_fn;
  return NULL;
}
