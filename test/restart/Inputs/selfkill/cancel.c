/* Deferred cancellation and cleanup handlers, before and after a restart.
 * Before the checkpoint: a thread cancelled in a condition wait (its two
 * handlers run innermost first, with the mutex held again), one in read()
 * on an empty pipe, one in nanosleep, one with cancellation disabled that
 * acts at pthread_testcancel once it enables it, an asynchronous one in a
 * loop without cancellation points, pthread_exit running the
 * handlers, pthread_cleanup_pop(1) and (0). Then threads park with handlers
 * registered (in a condition wait, in a sleep, one with a pending request
 * while disabled), the checkpoint is taken, and after the restart they are
 * cancelled: the handlers registered before the checkpoint run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, go;
static char log_buf[4096];

static void note(const char *s) {
  strcat(log_buf, s);
  strcat(log_buf, " ");
}

static void unlock_handler(void *arg) {
  note("unlock");
  pthread_mutex_unlock(arg);
}
static void say(void *arg) { note(arg); }

static void mark_ready(void) {
  pthread_mutex_lock(&mu);
  ready++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void wait_ready(int n) {
  pthread_mutex_lock(&mu);
  while (ready < n)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

static void *in_cond_wait(void *tag) {
  pthread_cleanup_push(say, tag);
  pthread_mutex_lock(&mu);
  pthread_cleanup_push(unlock_handler, &mu);
  ready++;
  pthread_cond_broadcast(&cv);
  while (!go)
    pthread_cond_wait(&cv, &mu);
  pthread_cleanup_pop(1);
  pthread_cleanup_pop(0);
  return NULL;
}

static int pipefd[2];
static void *in_read(void *arg) {
  (void)arg;
  char c;
  pthread_cleanup_push(say, "read-handler");
  mark_ready();
  (void)!read(pipefd[0], &c, 1);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_sleep(void *tag) {
  pthread_cleanup_push(say, tag);
  mark_ready();
  for (;;) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
  }
  pthread_cleanup_pop(0);
  return NULL;
}

static volatile int cancel_sent;
static void *disabled_then_enabled(void *tag) {
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  pthread_cleanup_push(say, tag);
  mark_ready();
  while (!cancel_sent) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL); /* not acted on: disabled */
  }
  note("still-running");
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
  pthread_testcancel();
  note("NOT-REACHED");
  pthread_cleanup_pop(0);
  return NULL;
}

static volatile unsigned long spins;
static void *async_spin(void *tag) {
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  pthread_cleanup_push(say, tag);
  mark_ready();
  for (;;)
    spins++; /* no cancellation point: acted on asynchronously */
  pthread_cleanup_pop(0);
  return NULL;
}

static void *exits(void *arg) {
  (void)arg;
  pthread_cleanup_push(say, "exit-outer");
  pthread_cleanup_push(say, "exit-inner");
  pthread_exit((void *)42);
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *pops(void *arg) {
  (void)arg;
  pthread_cleanup_push(say, "popped-1");
  pthread_cleanup_push(say, "popped-0");
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(1);
  return (void *)7;
}

static void cancel_join(pthread_t t, const char *what) {
  void *rv;
  pthread_cancel(t);
  pthread_join(t, &rv);
  printf("%s: %s; log: %s\n", what,
         rv == PTHREAD_CANCELED ? "cancelled" : "returned", log_buf);
  log_buf[0] = 0;
}

int main(void) {
  pthread_t t;
  void *rv;
  /* Before any checkpoint. */
  ready = 0;
  pthread_create(&t, NULL, in_cond_wait, "cond-outer");
  wait_ready(1);
  pthread_mutex_lock(&mu); /* the waiter is in pthread_cond_wait */
  pthread_mutex_unlock(&mu);
  cancel_join(t, "cond wait");
  if (pthread_mutex_trylock(&mu) == 0) {
    printf("mutex released by the handler\n");
    pthread_mutex_unlock(&mu);
  }
  if (pipe(pipefd) != 0)
    return 1;
  ready = 0;
  pthread_create(&t, NULL, in_read, NULL);
  wait_ready(1);
  usleep(20000);
  cancel_join(t, "read");
  close(pipefd[0]); /* a pipe cannot come back: not open at the checkpoint */
  close(pipefd[1]);
  ready = 0;
  pthread_create(&t, NULL, in_sleep, "sleep-handler");
  wait_ready(1);
  cancel_join(t, "nanosleep");
  ready = 0;
  cancel_sent = 0;
  pthread_create(&t, NULL, disabled_then_enabled, "disabled-handler");
  wait_ready(1);
  pthread_cancel(t);
  usleep(20000);
  cancel_sent = 1;
  pthread_join(t, &rv);
  printf("disabled: %s; log: %s\n",
         rv == PTHREAD_CANCELED ? "cancelled" : "returned", log_buf);
  log_buf[0] = 0;
  ready = 0;
  pthread_create(&t, NULL, async_spin, "async-handler");
  wait_ready(1);
  usleep(20000);
  cancel_join(t, "asynchronous");
  pthread_create(&t, NULL, exits, NULL);
  pthread_join(t, &rv);
  printf("pthread_exit: %ld; log: %s\n", (long)rv, log_buf);
  log_buf[0] = 0;
  pthread_create(&t, NULL, pops, NULL);
  pthread_join(t, &rv);
  printf("pops: %ld; log: %s\n", (long)rv, log_buf);
  log_buf[0] = 0;
  fflush(stdout);

  /* Across a checkpoint: threads park with handlers registered. */
  pthread_t a, b, c;
  ready = 0;
  go = 0;
  cancel_sent = 0;
  pthread_create(&a, NULL, in_cond_wait, "restart-cond-outer");
  pthread_create(&b, NULL, in_sleep, "restart-sleep-handler");
  pthread_create(&c, NULL, disabled_then_enabled, "restart-disabled-handler");
  wait_ready(3);
  pthread_cancel(c); /* pending across the checkpoint */
  pthread_mutex_lock(&mu);
  pthread_mutex_unlock(&mu);
  usleep(20000);
  CHECKPOINT_AND_DIE();
  cancel_join(a, "after restart, cond wait");
  cancel_join(b, "after restart, nanosleep");
  cancel_sent = 1;
  pthread_join(c, &rv);
  printf("after restart, disabled: %s; log: %s\n",
         rv == PTHREAD_CANCELED ? "cancelled" : "returned", log_buf);
  return 0;
}
