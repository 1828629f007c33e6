/* fpstencil.c - e2e program: long nested floating-point loops.
 *
 * Phase 1 multiplies dense matrices (dot products, 240x240 doubles) again
 * and again, feeding each result back in; phase 2 runs a 5-point
 * Gauss-Seidel stencil (in place, over-relaxed) on a 512x512 grid with heat
 * sources, then a Jacobi sweep between two buffers. Results are printed both
 * with %.6f and as exact hex bit patterns, so a single flipped bit in any
 * double shows. The inner loops have fixed trip counts and no calls: a
 * checkpoint stops the program only at an outer loop's safe point.
 *
 * Usage: fpstencil [scale]   (default 1; ~1.3 s at -O2)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M 240
#define G 512

static double A[M][M], B[M][M], C[M][M];

static unsigned long long bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return (unsigned long long)u;
}

/* C = A * B with B stored transposed: dot products, a sequential
 * floating-point reduction in the innermost loop. */
static void matmul(void) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < M; j++) {
      double acc = 0.0;
      for (int k = 0; k < M; k++)
        acc += A[i][k] * B[j][k];
      C[i][j] = acc;
    }
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int mm_rounds = 12 * scale;
  const int st_iters = 840 * scale;
  uint64_t s = 0x853C49E6748FEA9BULL;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < M; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      A[i][j] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      B[i][j] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
    }
  printf("fpstencil: %d matmuls %dx%d, %d stencil sweeps %dx%d\n", mm_rounds,
         M, M, st_iters, G, G);

  for (int r = 0; r < mm_rounds; r++) {
    matmul();
    double tr = 0.0, norm = 0.0;
    for (int i = 0; i < M; i++) {
      tr += C[i][i];
      for (int j = 0; j < M; j++)
        norm += C[i][j] * C[i][j];
    }
    norm = sqrt(norm);
    /* A <- C / norm * 16, so values stay bounded */
    for (int i = 0; i < M; i++)
      for (int j = 0; j < M; j++)
        A[i][j] = C[i][j] / norm * 16.0;
    printf("matmul %d trace %.6f norm %.6f c00 %016llx c_last %016llx\n",
           r + 1, tr, norm, bits(C[0][0]), bits(C[M - 1][M - 1]));
  }

  double(*u)[G] = calloc(G, sizeof *u);
  double(*v)[G] = calloc(G, sizeof *v);
  if (!u || !v)
    return 1;
  for (int it = 0; it < st_iters; it++) {
    u[G / 3][G / 4] = 100.0;
    u[2 * G / 3][3 * G / 4] = -50.0;
    if (it % 8 != 7) {
      /* Gauss-Seidel in place: each point uses the new west/north values */
      for (int i = 1; i < G - 1; i++)
        for (int j = 1; j < G - 1; j++)
          u[i][j] += 1.2 * (0.25 * (u[i - 1][j] + u[i + 1][j] + u[i][j - 1] +
                                    u[i][j + 1]) -
                            u[i][j]);
    } else {
      for (int i = 1; i < G - 1; i++)
        for (int j = 1; j < G - 1; j++)
          v[i][j] = 0.2 * (u[i][j] + u[i - 1][j] + u[i + 1][j] +
                           u[i][j - 1] + u[i][j + 1]);
      double(*t)[G] = u;
      u = v;
      v = t;
    }
    if ((it + 1) % (st_iters / 14) == 0) {
      double sum = 0.0, mx = 0.0;
      for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
          sum += u[i][j];
          if (fabs(u[i][j]) > mx)
            mx = fabs(u[i][j]);
        }
      printf("sweep %d sum %.6f max %.6f mid %016llx probe %.9e\n", it + 1,
             sum, mx, bits(u[G / 2][G / 2]), u[G / 3 + 5][G / 4 - 7]);
    }
  }
  double sum = 0.0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++)
      sum += u[i][j] * (double)((i ^ j) & 7);
  printf("done: weighted %.6f bits %016llx\n", sum, bits(sum));
  free(u);
  free(v);
  return 0;
}
