/* examples/heat_threads.c - the demo program: 2-D heat diffusion on a heap
 * grid, computed by worker threads (rows split between them, a barrier per
 * step), with a list of probes (pointers into the grid) that the main thread
 * prints as it goes, and a checksum at the end. The result does not depend
 * on the number of threads or on scheduling. Any C compiler builds it;
 * ckpt-cc makes it restartable. Usage: heat_threads [steps] [threads] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N 512

struct probe {
  const char *label;  /* string literal in the binary */
  double *cell;       /* points into the heap grid */
  struct probe *next; /* heap -> heap */
};

static double *a, *b; /* current grid, next grid */
static int steps, nthreads;
static pthread_barrier_t step_done, swapped;

static void *worker(void *arg) {
  long id = (long)arg;
  int lo = 1 + (int)((N - 2) * id / nthreads);
  int hi = 1 + (int)((N - 2) * (id + 1) / nthreads);
  for (int step = 1; step <= steps; step++) {
    for (int i = lo; i < hi; i++)
      for (int j = 1; j < N - 1; j++)
        b[i * N + j] = a[i * N + j] + 0.2 * (a[(i - 1) * N + j] +
                       a[(i + 1) * N + j] + a[i * N + j - 1] +
                       a[i * N + j + 1] - 4 * a[i * N + j]);
    pthread_barrier_wait(&step_done); /* main swaps the grids */
    pthread_barrier_wait(&swapped);
  }
  return NULL;
}

static double checksum(const double *g) {
  double s = 0;
  for (int i = 0; i < N * N; i++)
    s += g[i] * (double)(i % 7 + 1);
  return s;
}

int main(int argc, char **argv) {
  steps = argc > 1 ? atoi(argv[1]) : 4000;
  nthreads = argc > 2 ? atoi(argv[2]) : 4;
  if (nthreads < 1 || nthreads > 64)
    nthreads = 4;
  a = calloc(N * N, sizeof *a);
  b = calloc(N * N, sizeof *b);
  struct probe *probes = NULL;
  static const char *labels[] = {"center", "near", "far"};
  int where[] = {N / 2 * N + N / 2, (N / 2 + 10) * N + N / 2 + 10,
                 (N / 2 + 40) * N + N / 2 + 40};
  for (int i = 0; i < 3; i++) {
    struct probe *p = malloc(sizeof *p);
    p->label = labels[i];
    p->cell = &a[where[i]];
    p->next = probes;
    probes = p;
  }
  pthread_barrier_init(&step_done, NULL, (unsigned)nthreads + 1);
  pthread_barrier_init(&swapped, NULL, (unsigned)nthreads + 1);
  pthread_t *tids = malloc(sizeof *tids * (size_t)nthreads);
  for (int i = N / 2 - 8; i < N / 2 + 8; i++)
    a[i * N + N / 2] = 100.0; /* a hot rod in the middle */
  for (long t = 0; t < nthreads; t++)
    pthread_create(&tids[t], NULL, worker, (void *)t);
  for (int step = 1; step <= steps; step++) {
    pthread_barrier_wait(&step_done);
    double *t = a; a = b; b = t;
    for (int i = N / 2 - 8; i < N / 2 + 8; i++)
      a[i * N + N / 2] = 100.0;
    for (struct probe *p = probes; p; p = p->next)
      p->cell = a + (p->cell - b); /* follow the swap */
    if (step % 250 == 0) {
      printf("step %4d:", step);
      for (struct probe *p = probes; p; p = p->next)
        printf(" %s=%.6f", p->label, *p->cell);
      printf("\n");
      fflush(stdout);
    }
    pthread_barrier_wait(&swapped);
  }
  for (int t = 0; t < nthreads; t++)
    pthread_join(tids[t], NULL);
  printf("checksum %.6f\n", checksum(a));
  return 0;
}
