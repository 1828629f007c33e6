/* threads_lu.c - e2e program (threads): blocked LU on a condition-variable
 * task queue.
 *
 * SPLASH-2-style blocked LU decomposition (no pivoting; the matrices are
 * diagonally dominant) of 32 896x896 matrices, block size 56. The main
 * thread drives the factorisation step by step: it pushes the tasks of a
 * phase (factor the diagonal block; update the row and column panels;
 * update the trailing blocks) into a shared queue guarded by a mutex,
 * wakes the workers (pthread_cond_signal for one task,
 * pthread_cond_broadcast for many) and waits in pthread_cond_wait until
 * the phase's pending count drops to zero. NT workers pop tasks in
 * whatever order the scheduler gives them; every block operation reads
 * only blocks final for that phase, so the result is the same bit for bit.
 * After each matrix the main thread checks L*U against the matrix
 * (regenerated from its seed) on a probe vector and prints.
 *
 * Thread states most of the time: workers computing block kernels or
 * blocked in pthread_cond_wait on an empty queue (during the one-task
 * diagonal phase most are); the main thread in pthread_cond_wait.
 *
 * Usage: threads_lu [matrices]   (default 32; ~2 s at -O2; -O0 is ~10x
 * slower, so the -O0 test asks for fewer)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 896
#define B 56
#define NBK (N / B)
#define NT 3

enum { T_DIAG, T_ROW, T_COL, T_UPD };
struct task {
  int kind, i, j, k;
};

static double *A; /* N x N, row-major */
static struct task queue[NBK * NBK];
static int q_head, q_tail, pending, quit;
static long tasks_done[NT]; /* per worker; only their sum is printed */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

#define AT(r, c) A[(size_t)(r) * N + (c)]

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double entry(int m, int r, int c) {
  double v = (double)(mix64(((uint64_t)m << 40) ^ ((uint64_t)r << 20) ^
                            (uint64_t)c) >>
                      11) /
                 9007199254740992.0 -
             0.5;
  return r == c ? v + N * 0.75 : v;
}

static unsigned long long bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return (unsigned long long)b;
}

static void diag(int k) {
  int o = k * B;
  for (int p = 0; p < B; p++) {
    const double *prow = &AT(o + p, o);
    double piv = prow[p];
    for (int i = p + 1; i < B; i++) {
      double *irow = &AT(o + i, o);
      double l = irow[p] / piv;
      irow[p] = l;
      for (int j = p + 1; j < B; j++)
        irow[j] -= l * prow[j];
    }
  }
}

/* A_kj <- L_kk^-1 A_kj */
static void row_panel(int k, int j) {
  int o = k * B, cj = j * B;
  for (int p = 0; p < B; p++) {
    const double *src = &AT(o + p, cj);
    for (int i = p + 1; i < B; i++) {
      double l = AT(o + i, o + p);
      double *dst = &AT(o + i, cj);
      for (int c = 0; c < B; c++)
        dst[c] -= l * src[c];
    }
  }
}

/* A_ik <- A_ik U_kk^-1 */
static void col_panel(int i, int k) {
  int o = k * B, ri = i * B;
  for (int r = 0; r < B; r++) {
    double *row = &AT(ri + r, o);
    for (int p = 0; p < B; p++) {
      const double *u = &AT(o + p, o);
      double v = row[p] / u[p];
      row[p] = v;
      for (int q = p + 1; q < B; q++)
        row[q] -= v * u[q];
    }
  }
}

/* A_ij -= A_ik A_kj */
static void update(int i, int j, int k) {
  int ri = i * B, cj = j * B, o = k * B;
  for (int r = 0; r < B; r++) {
    double *dst = &AT(ri + r, cj);
    const double *aik = &AT(ri + r, o);
    for (int p = 0; p < B; p++) {
      double a = aik[p];
      const double *src = &AT(o + p, cj);
      for (int c = 0; c < B; c++)
        dst[c] -= a * src[c];
    }
  }
}

static void *worker(void *arg) {
  int me = (int)(intptr_t)arg;
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (q_head == q_tail && !quit)
      pthread_cond_wait(&q_cv, &q_lock);
    if (q_head == q_tail) {
      pthread_mutex_unlock(&q_lock);
      break;
    }
    struct task t = queue[q_head++];
    pthread_mutex_unlock(&q_lock);
    switch (t.kind) {
    case T_DIAG:
      diag(t.k);
      break;
    case T_ROW:
      row_panel(t.k, t.j);
      break;
    case T_COL:
      col_panel(t.i, t.k);
      break;
    default:
      update(t.i, t.j, t.k);
      break;
    }
    pthread_mutex_lock(&q_lock);
    tasks_done[me]++;
    if (--pending == 0)
      pthread_cond_signal(&done_cv);
    pthread_mutex_unlock(&q_lock);
  }
  return NULL;
}

/* called with q_lock held */
static void push(int kind, int i, int j, int k) {
  queue[q_tail++] = (struct task){kind, i, j, k};
  pending++;
}

static void run_phase(void) {
  /* q_lock held; tasks pushed */
  if (pending == 1)
    pthread_cond_signal(&q_cv);
  else
    pthread_cond_broadcast(&q_cv);
  while (pending > 0)
    pthread_cond_wait(&done_cv, &q_lock);
  q_head = q_tail = 0;
}

static void factor(void) {
  pthread_mutex_lock(&q_lock);
  for (int k = 0; k < NBK; k++) {
    push(T_DIAG, k, k, k);
    run_phase();
    for (int x = k + 1; x < NBK; x++) {
      push(T_ROW, k, x, k);
      push(T_COL, x, k, k);
    }
    if (k + 1 < NBK)
      run_phase();
    for (int i = k + 1; i < NBK; i++)
      for (int j = k + 1; j < NBK; j++)
        push(T_UPD, i, j, k);
    if (k + 1 < NBK)
      run_phase();
    if (k % 4 == 3) {
      pthread_mutex_unlock(&q_lock);
      printf("  step %2d/%d: pivot %.12f tail %016llx\n", k + 1, NBK,
             AT(k * B + B - 1, k * B + B - 1), bits(AT(N - 1, N - 1)));
      pthread_mutex_lock(&q_lock);
    }
  }
  pthread_mutex_unlock(&q_lock);
}

int main(int argc, char **argv) {
  int mats = argc > 1 ? atoi(argv[1]) : 32;
  if (mats < 1)
    mats = 1;
  A = malloc(sizeof(double) * N * N);
  double *x = malloc(sizeof(double) * N), *y = malloc(sizeof(double) * N),
         *z = malloc(sizeof(double) * N);
  if (!A || !x || !y || !z)
    return 1;
  printf("threads_lu: %d matrices %dx%d, blocks %d, %d workers\n", mats, N, N,
         B, NT);
  pthread_t tids[NT];
  for (int t = 0; t < NT; t++)
    if (pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) != 0)
      return 1;

  for (int m = 0; m < mats; m++) {
    for (int r = 0; r < N; r++)
      for (int c = 0; c < N; c++)
        AT(r, c) = entry(m, r, c);
    factor();
    /* y = U x, z = L y (L unit lower) */
    for (int i = 0; i < N; i++)
      x[i] = (double)((i * 37 + m) % 19) - 9.0;
    for (int i = 0; i < N; i++) {
      double s = 0.0;
      for (int j = i; j < N; j++)
        s += AT(i, j) * x[j];
      y[i] = s;
    }
    for (int i = 0; i < N; i++) {
      double s = y[i];
      for (int j = 0; j < i; j++)
        s += AT(i, j) * y[j];
      z[i] = s;
    }
    double err = 0.0, logdet = 0.0;
    uint64_t h = 0;
    for (int i = 0; i < N; i++) {
      double s = 0.0;
      for (int j = 0; j < N; j++)
        s += entry(m, i, j) * x[j];
      err = fmax(err, fabs(s - z[i]));
      logdet += log(fabs(AT(i, i)));
      h = mix64(h ^ bits(AT(i, (i * 5) % N)));
    }
    printf("matrix %d: logdet %.9f max|LUx-Ax| %s hash %016llx\n", m + 1,
           logdet, err < 1e-8 ? "<1e-8" : "LARGE", (unsigned long long)h);
  }

  pthread_mutex_lock(&q_lock);
  quit = 1;
  pthread_cond_broadcast(&q_cv);
  pthread_mutex_unlock(&q_lock);
  long total = 0;
  for (int t = 0; t < NT; t++) {
    pthread_join(tids[t], NULL);
    total += tasks_done[t];
  }
  printf("done: %ld tasks\n", total);
  free(A);
  free(x);
  free(y);
  free(z);
  return 0;
}
