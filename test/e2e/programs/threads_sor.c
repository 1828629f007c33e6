/* threads_sor.c - e2e program (threads): barrier-phased red-black SOR.
 *
 * A Poisson grid solver in the style of SPLASH-2 "ocean": the interior rows
 * of a 640x640 grid are split among NT threads (the main thread is thread
 * 0, the others are pthread_create'd and joined at the end). Every
 * iteration is a red half-sweep, pthread_barrier_wait, a black half-sweep,
 * pthread_barrier_wait. Every 100 iterations each thread stores its partial
 * residual in a shared array; after a barrier, thread 0 sums the partials
 * in thread order and prints. Every 800 iterations thread 0 alone moves
 * the heat sources while the others wait at a barrier. Red-black ordering
 * makes each update depend only on points of the other colour, so the
 * result is bit for bit the same whatever the interleaving.
 *
 * Thread states most of the time: computing in the sweep loops or blocked
 * in pthread_barrier_wait (NT = 4 threads on fewer cores); now and then a
 * thread sleeps (nanosleep) before a barrier.
 *
 * Usage: threads_sor [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define G 640
#define NT 4
#define CHECK_EVERY 100
#define MOVE_EVERY 800

static double (*u)[G];   /* the grid, heap */
static double (*f)[G];   /* sources, heap */
static double partial[NT]; /* per-thread residuals */
static double probe;       /* u[G/2][G/2], stored by the thread owning that row */
static pthread_barrier_t bar;
static int iters;
static uint64_t src_state = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

static unsigned long long bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return (unsigned long long)b;
}

static void place_sources(int round) {
  memset(f, 0, sizeof(double) * G * G);
  for (int k = 0; k < 6; k++) {
    int i = 1 + (int)(rnd(&src_state) % (G - 2));
    int j = 1 + (int)(rnd(&src_state) % (G - 2));
    f[i][j] = (k & 1 ? -1.0 : 1.0) * (40.0 + round + k);
  }
}

/* one half-sweep over rows [r0, r1) of colour c */
static void half_sweep(int r0, int r1, int c) {
  const double w = 1.6;
  for (int i = r0; i < r1; i++) {
    int j0 = 1 + ((i + c) & 1);
    for (int j = j0; j < G - 1; j += 2) {
      double gs = 0.25 * (u[i - 1][j] + u[i + 1][j] + u[i][j - 1] +
                          u[i][j + 1] + f[i][j]);
      u[i][j] += w * (gs - u[i][j]);
    }
  }
}

static double residual(int r0, int r1) {
  double s = 0.0;
  for (int i = r0; i < r1; i++)
    for (int j = 1; j < G - 1; j++) {
      double r = u[i - 1][j] + u[i + 1][j] + u[i][j - 1] + u[i][j + 1] +
                 f[i][j] - 4.0 * u[i][j];
      s += r * r;
    }
  return s;
}

static void nap(long us) {
  struct timespec ts = {0, us * 1000L};
  nanosleep(&ts, NULL);
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  int rows = G - 2;
  int r0 = 1 + rows * t / NT, r1 = 1 + rows * (t + 1) / NT;
  int moves = 0; /* thread 0 only */
  for (int it = 1; it <= iters; it++) {
    half_sweep(r0, r1, 0);
    pthread_barrier_wait(&bar);
    half_sweep(r0, r1, 1);
    if (it % 97 == t * 13)
      nap(300);
    pthread_barrier_wait(&bar);
    if (it % CHECK_EVERY == 0) {
      partial[t] = residual(r0, r1);
      if (r0 <= G / 2 && G / 2 < r1)
        probe = u[G / 2][G / 2];
      pthread_barrier_wait(&bar);
      if (t == 0) {
        double s = 0.0;
        for (int k = 0; k < NT; k++)
          s += partial[k];
        printf("iter %5d residual %.9e mid %016llx\n", it, s,
               bits(probe));
      }
    }
    if (it % MOVE_EVERY == 0) {
      /* everyone must be done reading f before thread 0 rewrites it */
      pthread_barrier_wait(&bar);
      if (t == 0) {
        place_sources(++moves);
        printf("iter %5d sources moved (round %d)\n", it, moves);
      }
      pthread_barrier_wait(&bar);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  iters = 4800 * scale;
  u = calloc(G, sizeof *u);
  f = calloc(G, sizeof *f);
  if (!u || !f)
    return 1;
  for (int j = 0; j < G; j++)
    u[0][j] = 1.0; /* hot top edge */
  place_sources(0);
  printf("threads_sor: %dx%d grid, %d threads, %d iterations\n", G, G, NT,
         iters);
  if (pthread_barrier_init(&bar, NULL, NT) != 0)
    return 1;
  pthread_t tids[NT];
  for (int t = 1; t < NT; t++)
    if (pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) != 0)
      return 1;
  worker((void *)(intptr_t)0);
  for (int t = 1; t < NT; t++)
    pthread_join(tids[t], NULL);
  pthread_barrier_destroy(&bar);

  double sum = 0.0, wsum = 0.0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      sum += u[i][j];
      wsum += u[i][j] * (double)((i * 7 + j * 3) % 11);
    }
  printf("done: sum %.9f weighted %.9f bits %016llx\n", sum, wsum, bits(wsum));
  free(u);
  free(f);
  return 0;
}
