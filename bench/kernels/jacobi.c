/* bench/kernels/jacobi.c - dense stencil: 2-D Jacobi relaxation (5 points)
 * on a 1024x1024 grid of doubles with fixed boundary values.
 *   jacobi [scale%]   default 100 (~1 s at -O2) */
#include <stdio.h>
#include <stdlib.h>

#define N 1024

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  double *a = calloc((size_t)N * N, sizeof *a), *b = calloc((size_t)N * N, sizeof *b);
  for (int i = 0; i < N; i++) {
    a[i] = b[i] = 100.0;                                  /* top edge hot */
    a[(size_t)(N - 1) * N + i] = b[(size_t)(N - 1) * N + i] = -20.0;
    a[(size_t)i * N] = b[(size_t)i * N] = 10.0 * (i % 7);
  }
  long iters = 700 * scale / 100;
  if (iters < 2) iters = 2;
  double delta = 0;
  for (long it = 0; it < iters; it++) {
    delta = 0;
    for (int i = 1; i < N - 1; i++)
      for (int j = 1; j < N - 1; j++) {
        double v = 0.25 * (a[(size_t)(i - 1) * N + j] + a[(size_t)(i + 1) * N + j] +
                           a[(size_t)i * N + j - 1] + a[(size_t)i * N + j + 1]);
        double d = v - a[(size_t)i * N + j];
        delta += d * d;
        b[(size_t)i * N + j] = v;
      }
    double *t = a; a = b; b = t;
  }
  double sum = 0;
  for (size_t k = 0; k < (size_t)N * N; k++) sum += a[k];
  printf("jacobi sum=%.6e delta=%.6e\n", sum, delta);
  free(a); free(b);
  return 0;
}
