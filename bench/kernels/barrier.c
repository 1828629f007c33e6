/* bench/kernels/barrier.c - barrier-phased threads: T threads (default 2)
 * relax strips of a 1-D rod in phases separated by pthread_barrier_wait;
 * after each phase one thread folds the per-thread partial sums.
 *   barrier [scale%] [threads]   default 100 (~1 s CPU at -O2), 2 threads */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N 65536
#define MAXT 16

static double rod[2][N];
static double partial[MAXT];
static double total;
static int nthreads;
static long phases;
static pthread_barrier_t bar;

static void *worker(void *arg) {
  int id = (int)(long)arg;
  int lo = 1 + id * (N - 2) / nthreads, hi = 1 + (id + 1) * (N - 2) / nthreads;
  for (long p = 0; p < phases; p++) {
    const double *src = rod[p & 1];
    double *dst = rod[(p + 1) & 1];
    double s = 0;
    for (int rep = 0; rep < 4; rep++)
      for (int i = lo; i < hi; i++) {
        double v = (src[i - 1] + src[i] + src[i + 1]) * (1.0 / 3.0);
        dst[i] = v;
        s += v * (rep + 1);
      }
    partial[id] = s;
    if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
      for (int t = 0; t < nthreads; t++) total += partial[t] * 1e-9;
      rod[(p + 1) & 1][0] = (double)(p % 100);
    }
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  nthreads = argc > 2 ? atoi(argv[2]) : 2;
  if (nthreads < 1 || nthreads > MAXT) nthreads = 2;
  phases = 3500 * scale / 100;
  if (phases < 2) phases = 2;
  for (int i = 0; i < N; i++) rod[0][i] = rod[1][i] = (i % 97) * 0.5;
  rod[0][N - 1] = rod[1][N - 1] = 50.0;
  pthread_barrier_init(&bar, NULL, nthreads);
  pthread_t th[MAXT];
  for (int t = 0; t < nthreads; t++) pthread_create(&th[t], NULL, worker, (void *)(long)t);
  for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&bar);
  double sum = 0;
  for (int i = 0; i < N; i++) sum += rod[phases & 1][i];
  printf("barrier total=%.6e sum=%.6e\n", total, sum);
  return 0;
}
