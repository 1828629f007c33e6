/* threads_many.c - e2e program (threads): 256 threads at once.
 *
 * The main thread creates 256 threads with 64 KiB stacks
 * (pthread_attr_setstacksize), storing their pthread_t in a heap table
 * while holding a mutex; each thread checks that pthread_self() equals its
 * table entry. All 256 then run rounds in lock step with the main thread:
 * each computes a little (a 2 KiB array on its small stack), stores its
 * round result in its own cell and waits, on even rounds at a
 * pthread_barrier of 257, on odd rounds at a gate (a counter and a
 * condition variable: the last to arrive signals the main thread, which
 * sleeps a few milliseconds with all 256 blocked in pthread_cond_wait,
 * then opens the gate with pthread_cond_broadcast). The main thread sums
 * each round's cells in thread order and prints. At the end every thread
 * returns its total, and the main thread joins them all through the table.
 *
 * Thread states most of the time: 257 threads; most blocked in
 * pthread_barrier_wait or pthread_cond_wait, some computing, the main
 * thread in nanosleep, pthread_cond_wait or pthread_barrier_wait.
 *
 * Usage: threads_many [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NTH 256
#define STACK (64 * 1024)

static pthread_t *tids; /* heap table */
static int *id_ok;
static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static int rounds;
static uint64_t (*cell)[NTH]; /* [rounds][NTH] */
static pthread_barrier_t bar;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t main_cv = PTHREAD_COND_INITIALIZER;
static int arrived, gate_gen;

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t small_work(int t, int r) {
  uint64_t a[256];
  a[0] = mix64(((uint64_t)r << 16) | (uint64_t)t);
  for (int i = 1; i < 256; i++)
    a[i] = mix64(a[i - 1]);
  int reps = 200 + (t * 7 + r) % 97;
  for (int k = 0; k < reps; k++)
    for (int i = 0; i < 256; i++)
      a[i] ^= mix64(a[(i + k) & 255]) >> (k & 7);
  uint64_t h = 0;
  for (int i = 0; i < 256; i++)
    h += a[i] * (uint64_t)(i + 1);
  return h;
}

static void *thread_main(void *arg) {
  int t = (int)(intptr_t)arg;
  pthread_mutex_lock(&tbl_lock);
  id_ok[t] = pthread_equal(pthread_self(), tids[t]);
  pthread_mutex_unlock(&tbl_lock);
  uint64_t total = 0;
  for (int r = 0; r < rounds; r++) {
    uint64_t v = small_work(t, r);
    cell[r][t] = v;
    total += v;
    if (r % 2 == 0) {
      pthread_barrier_wait(&bar);
    } else {
      pthread_mutex_lock(&gate_lock);
      int my_gen = gate_gen;
      if (++arrived == NTH)
        pthread_cond_signal(&main_cv);
      while (gate_gen == my_gen)
        pthread_cond_wait(&gate_cv, &gate_lock);
      pthread_mutex_unlock(&gate_lock);
    }
  }
  return (void *)(uintptr_t)total;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  rounds = 96 * scale;
  tids = calloc(NTH, sizeof *tids);
  id_ok = calloc(NTH, sizeof *id_ok);
  cell = calloc((size_t)rounds, sizeof *cell);
  if (!tids || !id_ok || !cell)
    return 1;
  pthread_barrier_init(&bar, NULL, NTH + 1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (pthread_attr_setstacksize(&attr, STACK) != 0)
    return 1;
  printf("threads_many: %d threads with %d KiB stacks, %d rounds\n", NTH,
         STACK / 1024, rounds);
  fflush(stdout);
  pthread_mutex_lock(&tbl_lock);
  for (int t = 0; t < NTH; t++)
    if (pthread_create(&tids[t], &attr, thread_main, (void *)(intptr_t)t)) {
      printf("pthread_create %d failed\n", t);
      return 1;
    }
  pthread_mutex_unlock(&tbl_lock);
  pthread_attr_destroy(&attr);

  for (int r = 0; r < rounds; r++) {
    if (r % 2 == 0) {
      pthread_barrier_wait(&bar);
    } else {
      pthread_mutex_lock(&gate_lock);
      while (arrived < NTH)
        pthread_cond_wait(&main_cv, &gate_lock);
      pthread_mutex_unlock(&gate_lock);
    }
    uint64_t s = 0, x = 0;
    for (int t = 0; t < NTH; t++) {
      s += cell[r][t];
      x = mix64(x ^ cell[r][t]);
    }
    printf("round %2d (%s): sum %016llx chain %016llx\n", r + 1,
           r % 2 == 0 ? "barrier" : "gate   ", (unsigned long long)s,
           (unsigned long long)x);
    if (r % 2 == 1) {
      struct timespec ts = {0, 8000000}; /* all 256 wait in the gate */
      nanosleep(&ts, NULL);
      pthread_mutex_lock(&gate_lock);
      arrived = 0;
      gate_gen++;
      pthread_cond_broadcast(&gate_cv);
      pthread_mutex_unlock(&gate_lock);
    }
  }
  uint64_t grand = 0;
  int ok = 0;
  for (int t = 0; t < NTH; t++) {
    void *ret;
    if (pthread_join(tids[t], &ret) != 0) {
      printf("join %d failed\n", t);
      return 1;
    }
    grand = mix64(grand ^ (uint64_t)(uintptr_t)ret);
    ok += id_ok[t];
  }
  pthread_barrier_destroy(&bar);
  printf("done: %d threads joined, %d ids ok, grand %016llx\n", NTH, ok,
         (unsigned long long)grand);
  free(tids);
  free(id_ok);
  free(cell);
  return 0;
}
