/* threads_mainexit.c - e2e program (threads): the main thread leaves first.
 *
 * The main thread stores its own pthread_t in a global, starts a ping and
 * a pong thread, two grinders and a finisher, does a share of work, and
 * calls pthread_exit (with a heap result) from three calls deep, long
 * before the program ends; from then on the process has no main thread.
 * Ping and pong take strict turns through two unnamed semaphores, each
 * computing a step and printing every 40th exchange, so their lines
 * alternate deterministically. The grinders compute long chains, one of
 * them holding a mutex across each chain while the other waits for it.
 * The finisher joins ping, pong and the grinders, then the main thread
 * through the global pthread_t (getting the value main passed to
 * pthread_exit), prints the totals and returns: the last thread to finish
 * ends the process with status 0 (and flushes stdout).
 *
 * Thread states most of the time: ping or pong computing while the other
 * is blocked in sem_wait; one grinder computing with the mutex held, the
 * other blocked in pthread_mutex_lock or computing; the finisher in
 * pthread_join; the main thread gone.
 *
 * Usage: threads_mainexit [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ThreadSanitizer cannot join the main thread (a CHECK fails in its
 * thread registry), and its background thread keeps the process alive
 * after the last of ours returns: its builds hand main's value over by a
 * semaphore and end with exit(0). */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_BUILD 1
#endif
#endif
#ifndef TSAN_BUILD
#define TSAN_BUILD 0
#endif

static pthread_t main_tid;
#if TSAN_BUILD
static sem_t sem_main_gone;
static void *main_ret;
#endif
static pthread_t tid_ping, tid_pong, tid_grind[2], tid_fin;
static sem_t sem_ping, sem_pong;
static pthread_mutex_t grind_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t shared_chain; /* grind_lock */
static int exchanges;
static uint64_t ball; /* passed between ping and pong; the semaphores order it */

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t chain(uint64_t h, long n) {
  for (long i = 0; i < n; i++)
    h = mix64(h + (uint64_t)i);
  return h;
}

static void *player(void *arg) {
  int pong = (int)(intptr_t)arg;
  sem_t *mine = pong ? &sem_pong : &sem_ping;
  sem_t *other = pong ? &sem_ping : &sem_pong;
  uint64_t local = 0;
  for (int i = 0; i < exchanges; i++) {
    while (sem_wait(mine) != 0)
      ;
    ball = chain(ball ^ (uint64_t)(2 * i + pong), 300000);
    local += ball >> 8;
    if (i % 40 == 39)
      printf("%s %4d: ball %016llx\n", pong ? "pong" : "ping", i + 1,
             (unsigned long long)ball);
    sem_post(other);
  }
  return (void *)(uintptr_t)local;
}

static void *grinder(void *arg) {
  int me = (int)(intptr_t)arg;
  uint64_t h = (uint64_t)me + 1;
  for (int i = 0; i < 100; i++) {
    if (me == 0) {
      pthread_mutex_lock(&grind_lock);
      h = chain(h, 1500000); /* held across the chain */
      shared_chain += h;
      pthread_mutex_unlock(&grind_lock);
    } else {
      h = chain(h, 1000000);
      pthread_mutex_lock(&grind_lock);
      shared_chain += h * 3;
      pthread_mutex_unlock(&grind_lock);
    }
  }
  return (void *)(uintptr_t)h;
}

static void *finisher(void *arg) {
  (void)arg;
  void *r1, *r2, *g0, *g1, *ret;
  pthread_join(tid_ping, &r1);
  pthread_join(tid_pong, &r2);
  pthread_join(tid_grind[0], &g0);
  pthread_join(tid_grind[1], &g1);
  /* the main thread left long ago; join it through the saved id */
#if TSAN_BUILD
  while (sem_wait(&sem_main_gone) != 0)
    ;
  ret = main_ret;
#else
  if (pthread_join(main_tid, &ret) != 0) {
    printf("join of the main thread failed\n");
    return NULL;
  }
#endif
  uint64_t main_val = *(uint64_t *)ret;
  free(ret);
  /* both grinders are done: shared_chain's final value is fixed */
  printf("done: main left %016llx; ping %016llx pong %016llx grind %016llx "
         "%016llx shared %016llx\n",
         (unsigned long long)main_val, (unsigned long long)(uintptr_t)r1,
         (unsigned long long)(uintptr_t)r2, (unsigned long long)(uintptr_t)g0,
         (unsigned long long)(uintptr_t)g1, (unsigned long long)shared_chain);
#if TSAN_BUILD
  /* ThreadSanitizer's own background thread would keep the process alive */
  exit(0);
#endif
  return NULL; /* the last thread: the process exits with status 0 */
}

static void leave(int depth, uint64_t v) {
  if (depth == 0) {
    uint64_t *p = malloc(sizeof *p);
    if (!p)
      abort();
    *p = v;
#if TSAN_BUILD
    main_ret = p;
    sem_post(&sem_main_gone);
#endif
    pthread_exit(p);
  }
  leave(depth - 1, mix64(v));
  printf("not reached\n");
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  exchanges = 720 * scale;
  main_tid = pthread_self();
  if (sem_init(&sem_ping, 0, 1) || sem_init(&sem_pong, 0, 0))
    return 1;
#if TSAN_BUILD
  sem_init(&sem_main_gone, 0, 0);
#endif
  printf("threads_mainexit: %d exchanges; the main thread leaves early\n",
         exchanges);
  fflush(stdout);
  if (pthread_create(&tid_ping, NULL, player, (void *)(intptr_t)0) ||
      pthread_create(&tid_pong, NULL, player, (void *)(intptr_t)1) ||
      pthread_create(&tid_grind[0], NULL, grinder, (void *)(intptr_t)0) ||
      pthread_create(&tid_grind[1], NULL, grinder, (void *)(intptr_t)1) ||
      pthread_create(&tid_fin, NULL, finisher, NULL))
    return 1;
  uint64_t v = chain(12345, 2000000);
  leave(3, v);
  return 1; /* not reached */
}
