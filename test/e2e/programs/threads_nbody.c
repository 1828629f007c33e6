/* threads_nbody.c - e2e program (threads): n-body with lock-protected sums.
 *
 * SPLASH-2-style direct n-body (softened gravity, leapfrog) over NB bodies.
 * The main thread is a coordinator: for every step it bumps a generation
 * number and broadcasts a condition variable; NT workers wake, each
 * computes the accelerations of its block of bodies (a fixed-order sum
 * over all bodies), meets the others at a pthread_barrier, updates its
 * bodies' velocities and positions, then adds its kinetic and potential
 * energy (as 2^-24 fixed-point integers, so the order of addition does not
 * matter) and its bounding box (min/max) into globals under a normal
 * mutex (PTHREAD_MUTEX_NORMAL, set with pthread_mutexattr_settype), counts
 * itself done and signals the coordinator, which waits in
 * pthread_cond_wait. Every 50 steps the coordinator prints the sums.
 *
 * Thread states most of the time: the main thread blocked in
 * pthread_cond_wait, workers computing or blocked in pthread_barrier_wait,
 * pthread_cond_wait (for the next step) or pthread_mutex_lock.
 *
 * Usage: threads_nbody [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 640
#define NT 3
#define FIX 16777216.0 /* 2^24 */

struct body {
  double x, y, z, vx, vy, vz, ax, ay, az, m;
};

static struct body *bodies;
static int steps;

/* coordinator <-> workers */
static pthread_mutex_t ctl_lock;
static pthread_cond_t go_cv, done_cv;
static int generation; /* bumped per step; -1 = quit */
static int done_count;

/* lock-protected global accumulation */
static pthread_mutex_t acc_lock;
static long long ke_fix, pe_fix;
static long long bb_min[3], bb_max[3];

static pthread_barrier_t bar;

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static double urand(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}

static unsigned long long bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return (unsigned long long)b;
}

static void accelerations(int b0, int b1, double *pe) {
  const double eps2 = 0.01;
  double p = 0.0;
  for (int i = b0; i < b1; i++) {
    double ax = 0.0, ay = 0.0, az = 0.0;
    double xi = bodies[i].x, yi = bodies[i].y, zi = bodies[i].z;
    for (int j = 0; j < NB; j++) {
      double dx = bodies[j].x - xi, dy = bodies[j].y - yi,
             dz = bodies[j].z - zi;
      double r2 = dx * dx + dy * dy + dz * dz + eps2;
      double inv = 1.0 / sqrt(r2);
      double s = bodies[j].m * inv * inv * inv;
      ax += s * dx;
      ay += s * dy;
      az += s * dz;
      if (j != i)
        p -= 0.5 * bodies[i].m * bodies[j].m * inv;
    }
    bodies[i].ax = ax;
    bodies[i].ay = ay;
    bodies[i].az = az;
  }
  *pe = p;
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  int b0 = NB * t / NT, b1 = NB * (t + 1) / NT;
  int seen = 0;
  const double dt = 0.002;
  for (;;) {
    pthread_mutex_lock(&ctl_lock);
    while (generation == seen)
      pthread_cond_wait(&go_cv, &ctl_lock);
    seen = generation;
    pthread_mutex_unlock(&ctl_lock);
    if (seen < 0)
      break;

    double pe;
    accelerations(b0, b1, &pe);
    pthread_barrier_wait(&bar); /* everyone has read the old positions */
    double ke = 0.0;
    long long mn[3] = {LLONG_MAX, LLONG_MAX, LLONG_MAX};
    long long mx[3] = {LLONG_MIN, LLONG_MIN, LLONG_MIN};
    for (int i = b0; i < b1; i++) {
      struct body *b = &bodies[i];
      b->vx += dt * b->ax;
      b->vy += dt * b->ay;
      b->vz += dt * b->az;
      b->x += dt * b->vx;
      b->y += dt * b->vy;
      b->z += dt * b->vz;
      ke += 0.5 * b->m * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
      double c[3] = {b->x, b->y, b->z};
      for (int k = 0; k < 3; k++) {
        long long q = llround(c[k] * 65536.0);
        if (q < mn[k])
          mn[k] = q;
        if (q > mx[k])
          mx[k] = q;
      }
    }
    pthread_mutex_lock(&acc_lock);
    ke_fix += llround(ke * FIX);
    pe_fix += llround(pe * FIX);
    for (int k = 0; k < 3; k++) {
      if (mn[k] < bb_min[k])
        bb_min[k] = mn[k];
      if (mx[k] > bb_max[k])
        bb_max[k] = mx[k];
    }
    pthread_mutex_unlock(&acc_lock);

    pthread_mutex_lock(&ctl_lock);
    if (++done_count == NT)
      pthread_cond_signal(&done_cv);
    pthread_mutex_unlock(&ctl_lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  steps = 1400 * scale;
  bodies = calloc(NB, sizeof *bodies);
  if (!bodies)
    return 1;
  for (int i = 0; i < NB; i++) {
    double r = 0.2 + urand(), th = 6.283185307179586 * urand();
    bodies[i].x = r * cos(th);
    bodies[i].y = r * sin(th);
    bodies[i].z = 0.1 * (urand() - 0.5);
    bodies[i].vx = -0.6 * sin(th) * sqrt(r);
    bodies[i].vy = 0.6 * cos(th) * sqrt(r);
    bodies[i].vz = 0.0;
    bodies[i].m = (0.5 + urand()) / NB;
  }

  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_NORMAL);
  pthread_mutex_init(&acc_lock, &ma);
  pthread_mutexattr_destroy(&ma);
  pthread_mutex_init(&ctl_lock, NULL);
  pthread_cond_init(&go_cv, NULL);
  pthread_cond_init(&done_cv, NULL);
  pthread_barrier_init(&bar, NULL, NT);

  printf("threads_nbody: %d bodies, %d workers, %d steps\n", NB, NT, steps);
  pthread_t tids[NT];
  for (int t = 0; t < NT; t++)
    if (pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) != 0)
      return 1;

  for (int s = 1; s <= steps; s++) {
    pthread_mutex_lock(&acc_lock);
    ke_fix = pe_fix = 0;
    for (int k = 0; k < 3; k++) {
      bb_min[k] = LLONG_MAX;
      bb_max[k] = LLONG_MIN;
    }
    pthread_mutex_unlock(&acc_lock);

    pthread_mutex_lock(&ctl_lock);
    done_count = 0;
    generation = s;
    pthread_cond_broadcast(&go_cv);
    while (done_count < NT)
      pthread_cond_wait(&done_cv, &ctl_lock);
    pthread_mutex_unlock(&ctl_lock);

    if (s % 50 == 0 || s == 1) {
      pthread_mutex_lock(&acc_lock);
      printf("step %4d ke %lld pe %lld e %lld box x[%lld,%lld] y[%lld,%lld] "
             "z[%lld,%lld]\n",
             s, ke_fix, pe_fix, ke_fix + pe_fix, bb_min[0], bb_max[0],
             bb_min[1], bb_max[1], bb_min[2], bb_max[2]);
      pthread_mutex_unlock(&acc_lock);
    }
  }
  pthread_mutex_lock(&ctl_lock);
  generation = -1;
  pthread_cond_broadcast(&go_cv);
  pthread_mutex_unlock(&ctl_lock);
  for (int t = 0; t < NT; t++)
    pthread_join(tids[t], NULL);

  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < NB; i++) {
    h = (h ^ bits(bodies[i].x)) * 1099511628211ULL;
    h = (h ^ bits(bodies[i].vy)) * 1099511628211ULL;
  }
  printf("done: state hash %016llx x0 %.12f\n", (unsigned long long)h,
         bodies[0].x);
  free(bodies);
  return 0;
}
