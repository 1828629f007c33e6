/* examples/heat.c - the demo program: 2-D heat diffusion on a heap grid with
 * a list of probes (pointers into the grid), printing progress as it goes
 * and a checksum at the end. Any C compiler builds it; ckpt-cc makes it
 * restartable. Usage: heat [steps] */
#include <stdio.h>
#include <stdlib.h>

#define N 512

struct probe {
  const char *label;  /* string literal in the binary */
  double *cell;       /* points into the heap grid */
  struct probe *next; /* heap -> heap */
};

static double checksum(const double *g) {
  double s = 0;
  for (int i = 0; i < N * N; i++)
    s += g[i] * (double)(i % 7 + 1);
  return s;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 4000;
  double *a = calloc(N * N, sizeof *a), *b = calloc(N * N, sizeof *b);
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
  for (int step = 1; step <= steps; step++) {
    for (int i = N / 2 - 8; i < N / 2 + 8; i++)
      a[i * N + N / 2] = 100.0; /* a hot rod in the middle */
    for (int i = 1; i < N - 1; i++)
      for (int j = 1; j < N - 1; j++)
        b[i * N + j] = a[i * N + j] + 0.2 * (a[(i - 1) * N + j] +
                       a[(i + 1) * N + j] + a[i * N + j - 1] +
                       a[i * N + j + 1] - 4 * a[i * N + j]);
    double *t = a; a = b; b = t;
    for (struct probe *p = probes; p; p = p->next)
      p->cell = a + (p->cell - b); /* follow the swap */
    if (step % 250 == 0) {
      printf("step %4d:", step);
      for (struct probe *p = probes; p; p = p->next)
        printf(" %s=%.6f", p->label, *p->cell);
      printf("\n");
      fflush(stdout);
    }
  }
  printf("checksum %.6f\n", checksum(a));
  return 0;
}
