/* atfork.c - a program whose pthread_atfork prepare handler takes a mutex
 * that another thread holds while a checkpoint is taken: the checkpoint's
 * writer is not the program's fork, so the handler must not run for it
 * (it used to, and waited forever). */
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <ckpt.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int done;
static int prepared;
static void prep(void) { pthread_mutex_lock(&m); prepared++; }
static void unl(void) { pthread_mutex_unlock(&m); }
static void *holder(void *arg) {
  (void)arg;
  uint64_t x = 1;
  pthread_mutex_lock(&m);
  for (long i = 0; i < 400000000; i++) x = x * 6364136223846793005ULL + 1;
  pthread_mutex_unlock(&m);
  done = 1;
  return (void *)(uintptr_t)(x & 1);
}
int main(void) {
  pthread_atfork(prep, unl, unl);
  pthread_t t;
  pthread_create(&t, NULL, holder, NULL);
  for (volatile long i = 0; i < 10000000; i++);
  int rc = ckpt_checkpoint();
  printf("checkpoint -> %d, atfork prepare ran %d times\n", rc, prepared);
  pthread_join(t, NULL);
  return 0;
}
