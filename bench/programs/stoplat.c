/* bench/programs/stoplat.c - N threads (argv[1]) for S seconds (argv[2]):
 * half compute in instrumented loops, half wait on condition variables and
 * a mutex, the mix a checkpoint has to stop. bench.py takes checkpoints
 * while it runs and reads how long each took to stop every thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int done;
static long ticks;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *compute(void *arg) {
  unsigned long x = (unsigned long)arg + 1, sum = 0;
  while (!done)
    for (int i = 0; i < 1000; i++) {
      x = x * 6364136223846793005ul + 1442695040888963407ul;
      sum += x >> 60;
    }
  return (void *)sum;
}

static void *waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  while (!done) {
    pthread_cond_wait(&cv, &m);
    ticks++;
  }
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  double secs = argc > 2 ? atof(argv[2]) : 5;
  pthread_t *t = calloc((size_t)n, sizeof *t);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (int i = 0; i < n; i++)
    pthread_create(&t[i], &attr, i % 2 ? waiter : compute, (void *)(long)i);
  double end = now() + secs;
  while (now() < end) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
    pthread_mutex_lock(&m);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
  }
  done = 1;
  pthread_mutex_lock(&m);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  printf("%d threads, %ld wakeups\n", n, ticks);
  return 0;
}
