/* threads_locks.c - e2e program (threads): locks held at checkpoint time.
 *
 * Eight threads, each with its own locking habit, run 20 phases:
 *   holder     holds a PTHREAD_MUTEX_INITIALIZER mutex (never passed to
 *              pthread_mutex_init) and a PTHREAD_RWLOCK_INITIALIZER rwlock
 *              for reading across ~10 ms computations, naps between;
 *   trylocker  pthread_mutex_trylock on that mutex, side work on EBUSY;
 *   timed      pthread_mutex_timedlock (2 ms deadlines, retried on
 *              ETIMEDOUT) on a PTHREAD_MUTEX_NORMAL mutex made with attrs;
 *   normal     holds that mutex across long computations;
 *   recursive  locks a PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP mutex twice
 *              and an attr-made recursive mutex three deep, computes long;
 *   errcheck   holds a PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP mutex long;
 *              relocking it gives EDEADLK, a second unlock EPERM; trylock
 *              of an attr-made errorcheck mutex it holds gives EBUSY;
 *   spin1/2    pthread_spin_lock / pthread_spin_trylock around short
 *              loops on a shared spinlock; spin2 also takes the rwlock for
 *              writing and tries to unlock the errcheck mutex it does not
 *              own (EPERM).
 * All shared updates commute (sums, transfers), so their totals do not
 * depend on the interleaving; EBUSY/ETIMEDOUT counts, which do, are never
 * printed. At the end of a phase the threads print one line each in
 * thread order, taking turns on a PTHREAD_COND_INITIALIZER condition
 * variable; the main thread waits on it too, prints the phase totals
 * while all eight wait on it, and starts the next phase (broadcast).
 *
 * Thread states most of the time: a thread holding each mutex (the
 * recursive ones several levels deep) or the rwlock for reading while it
 * computes, others blocked in pthread_mutex_lock, timedlock, rwlock
 * wrlock, spinning, or in nanosleep; the main thread in pthread_cond_wait.
 *
 * Usage: threads_locks [scale]   (default 1; ~2 s at -O2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NT 8
#define NACC 64

/* static initialisers, never passed to an init call */
static pthread_mutex_t m_static = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m_rec_static = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_err_static = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw_static = PTHREAD_RWLOCK_INITIALIZER;

/* made with attributes */
static pthread_mutex_t m_norm, m_rec, m_err;
static pthread_spinlock_t spin;

/* shared data */
static int64_t accounts[NACC];   /* m_static; transfers keep the total */
static uint64_t norm_sum;        /* m_norm */
static uint64_t rec_sum;         /* m_rec_static (+ m_rec) */
static uint64_t err_sum;         /* m_err_static */
static uint64_t spin_sum;        /* spin */
static int64_t table[NACC];      /* rw_static; writes keep the total */
static long table_violations;    /* by readers, under m_static */

static int phase, turn;          /* turn_lock */
static int nphases;
static const char *const names[NT] = {"holder", "trylocker", "timed",
                                      "normal", "recursive", "errcheck",
                                      "spin1", "spin2"};

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t burn(uint64_t h, long n) {
  for (long i = 0; i < n; i++)
    h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ULL + (uint64_t)i;
  return h;
}

static void nap_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
  nanosleep(&ts, NULL);
}

static void deadline_in(struct timespec *ts, long us) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_nsec += us * 1000L;
  while (ts->tv_nsec >= 1000000000L) {
    ts->tv_nsec -= 1000000000L;
    ts->tv_sec++;
  }
}

static void transfer(uint64_t r) {
  int from = (int)(r % NACC), to = (int)((r >> 8) % NACC);
  int64_t amt = (int64_t)((r >> 16) % 1000);
  accounts[from] -= amt;
  accounts[to] += amt;
}

/* --- per-thread quotas; each returns a deterministic per-phase value --- */

static uint64_t do_holder(int ph, long *aux) {
  uint64_t acc = 0;
  for (int i = 0; i < 6; i++) {
    uint64_t seed = mix64((uint64_t)ph * 100 + (uint64_t)i);
    pthread_mutex_lock(&m_static);
    pthread_rwlock_rdlock(&rw_static);
    uint64_t h = burn(seed, 2500000); /* long, both held */
    int64_t tot = 0;
    for (int k = 0; k < NACC; k++)
      tot += table[k];
    if (tot != 0)
      table_violations++;
    transfer(h);
    pthread_rwlock_unlock(&rw_static);
    pthread_mutex_unlock(&m_static);
    acc += h;
    nap_us(1000);
  }
  *aux = 6;
  return acc;
}

static uint64_t do_trylocker(int ph, long *aux) {
  uint64_t acc = 0;
  volatile uint64_t side = 0;
  for (int i = 0; i < 60; i++) {
    uint64_t seed = mix64((uint64_t)ph * 1000 + 17 + (uint64_t)i);
    while (pthread_mutex_trylock(&m_static) == EBUSY)
      side = burn(side, 20000);
    uint64_t h = burn(seed, 20000);
    transfer(h);
    pthread_mutex_unlock(&m_static);
    acc += h;
  }
  *aux = 60;
  return acc;
}

static uint64_t do_timed(int ph, long *aux) {
  uint64_t acc = 0;
  for (int i = 0; i < 40; i++) {
    uint64_t seed = mix64((uint64_t)ph * 1000 + 29 + (uint64_t)i);
    struct timespec ts;
    deadline_in(&ts, 2000);
    while (pthread_mutex_timedlock(&m_norm, &ts) == ETIMEDOUT)
      deadline_in(&ts, 2000);
    uint64_t h = burn(seed, 100000);
    norm_sum += h;
    pthread_mutex_unlock(&m_norm);
    acc += h;
  }
  *aux = 40;
  return acc;
}

static uint64_t do_normal(int ph, long *aux) {
  uint64_t acc = 0;
  for (int i = 0; i < 5; i++) {
    uint64_t seed = mix64((uint64_t)ph * 1000 + 41 + (uint64_t)i);
    pthread_mutex_lock(&m_norm);
    uint64_t h = burn(seed, 2500000);
    norm_sum += h;
    pthread_mutex_unlock(&m_norm);
    acc += h;
    nap_us(500);
  }
  *aux = 5;
  return acc;
}

static uint64_t rec_inner(uint64_t seed, int depth) {
  pthread_mutex_lock(&m_rec);
  uint64_t h;
  if (depth > 1)
    h = rec_inner(seed ^ (uint64_t)depth, depth - 1);
  else
    h = burn(seed, 1500000); /* m_rec held 3 deep, m_rec_static twice */
  rec_sum += h >> 4;
  pthread_mutex_unlock(&m_rec);
  return h;
}

static uint64_t do_recursive(int ph, long *aux) {
  uint64_t acc = 0;
  for (int i = 0; i < 6; i++) {
    uint64_t seed = mix64((uint64_t)ph * 1000 + 53 + (uint64_t)i);
    pthread_mutex_lock(&m_rec_static);
    pthread_mutex_lock(&m_rec_static);
    uint64_t h = burn(seed, 500000);
    h = rec_inner(h, 3);
    rec_sum += h;
    pthread_mutex_unlock(&m_rec_static);
    pthread_mutex_unlock(&m_rec_static);
    acc += h;
  }
  *aux = 6;
  return acc;
}

static uint64_t do_errcheck(int ph, long *aux) {
  uint64_t acc = 0;
  long expected_errors = 0;
  for (int i = 0; i < 6; i++) {
    uint64_t seed = mix64((uint64_t)ph * 1000 + 67 + (uint64_t)i);
    pthread_mutex_lock(&m_err_static);
    if (pthread_mutex_lock(&m_err_static) == EDEADLK)
      expected_errors++;
    pthread_mutex_lock(&m_err);
    if (pthread_mutex_trylock(&m_err) == EBUSY)
      expected_errors++;
    uint64_t h = burn(seed, 2000000);
    err_sum += h;
    pthread_mutex_unlock(&m_err);
    pthread_mutex_unlock(&m_err_static);
    if (pthread_mutex_unlock(&m_err_static) == EPERM)
      expected_errors++;
    acc += h;
    nap_us(700);
  }
  *aux = expected_errors; /* 18 */
  return acc;
}

static uint64_t do_spin(int me, int ph, long *aux) {
  uint64_t acc = 0;
  long eperm = 0;
  for (int i = 0; i < 300; i++) {
    uint64_t seed = mix64((uint64_t)ph * 100000 + (uint64_t)me * 1000 +
                          (uint64_t)i);
    if (i & 1) {
      while (pthread_spin_trylock(&spin) == EBUSY)
        ;
    } else {
      pthread_spin_lock(&spin);
    }
    uint64_t h = burn(seed, 12000);
    spin_sum += h;
    pthread_spin_unlock(&spin);
    acc += h;
    if (me == 7 && i % 6 == 0) {
      pthread_rwlock_wrlock(&rw_static);
      int a = (int)(h % NACC), b = (int)((h >> 8) % NACC);
      table[a] += 5;
      table[b] -= 5;
      pthread_rwlock_unlock(&rw_static);
      if (pthread_mutex_unlock(&m_err_static) == EPERM)
        eperm++;
    }
  }
  *aux = eperm; /* spin2: 50; spin1: 0 */
  return acc;
}

static void take_turn(int me, int ph, uint64_t v, long aux) {
  pthread_mutex_lock(&turn_lock);
  while (!(phase == ph && turn == me))
    pthread_cond_wait(&turn_cv, &turn_lock);
  printf("  phase %d %-9s %016llx aux %ld\n", ph + 1, names[me],
         (unsigned long long)v, aux);
  turn++;
  pthread_cond_broadcast(&turn_cv);
  /* the main thread reads the shared totals now: wait until it has */
  while (phase == ph)
    pthread_cond_wait(&turn_cv, &turn_lock);
  pthread_mutex_unlock(&turn_lock);
}

static void *thread_main(void *arg) {
  int me = (int)(intptr_t)arg;
  uint64_t total = 0;
  for (int ph = 0; ph < nphases; ph++) {
    long aux = 0;
    uint64_t v;
    switch (me) {
    case 0: v = do_holder(ph, &aux); break;
    case 1: v = do_trylocker(ph, &aux); break;
    case 2: v = do_timed(ph, &aux); break;
    case 3: v = do_normal(ph, &aux); break;
    case 4: v = do_recursive(ph, &aux); break;
    case 5: v = do_errcheck(ph, &aux); break;
    default: v = do_spin(me, ph, &aux); break;
    }
    total += v;
    take_turn(me, ph, v, aux);
  }
  return (void *)(uintptr_t)total;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  nphases = 20 * scale;
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_NORMAL);
  pthread_mutex_init(&m_norm, &ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m_rec, &ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&m_err, &ma);
  pthread_mutexattr_destroy(&ma);
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  for (int k = 0; k < NACC; k++)
    accounts[k] = 1000000;

  printf("threads_locks: %d threads, %d phases\n", NT, nphases);
  pthread_t tids[NT];
  for (int t = 0; t < NT; t++)
    if (pthread_create(&tids[t], NULL, thread_main, (void *)(intptr_t)t))
      return 1;

  for (int ph = 0; ph < nphases; ph++) {
    pthread_mutex_lock(&turn_lock);
    while (turn < NT)
      pthread_cond_wait(&turn_cv, &turn_lock);
    /* every thread has finished the phase's quota: totals are final */
    pthread_mutex_lock(&m_static);
    int64_t tot = 0;
    uint64_t ah = 0;
    for (int k = 0; k < NACC; k++) {
      tot += accounts[k];
      ah = mix64(ah ^ (uint64_t)accounts[k]);
    }
    long viol = table_violations;
    pthread_mutex_unlock(&m_static);
    pthread_mutex_lock(&m_norm);
    uint64_t ns = norm_sum;
    pthread_mutex_unlock(&m_norm);
    pthread_mutex_lock(&m_rec_static);
    uint64_t rs = rec_sum;
    pthread_mutex_unlock(&m_rec_static);
    pthread_mutex_lock(&m_err_static);
    uint64_t es = err_sum;
    pthread_mutex_unlock(&m_err_static);
    pthread_spin_lock(&spin);
    uint64_t ss = spin_sum;
    pthread_spin_unlock(&spin);
    printf("phase %d: accounts total %lld hash %016llx; norm %016llx rec "
           "%016llx err %016llx spin %016llx; violations %ld\n",
           ph + 1, (long long)tot, (unsigned long long)ah,
           (unsigned long long)ns, (unsigned long long)rs,
           (unsigned long long)es, (unsigned long long)ss, viol);
    turn = 0;
    phase++;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_lock);
  }
  uint64_t g = 0;
  for (int t = 0; t < NT; t++) {
    void *ret;
    pthread_join(tids[t], &ret);
    g = mix64(g ^ (uint64_t)(uintptr_t)ret);
  }
  int64_t tt = 0;
  for (int k = 0; k < NACC; k++)
    tt += table[k];
  printf("done: threads %016llx table total %lld\n", (unsigned long long)g,
         (long long)tt);
  pthread_spin_destroy(&spin);
  pthread_mutex_destroy(&m_norm);
  pthread_mutex_destroy(&m_rec);
  pthread_mutex_destroy(&m_err);
  return 0;
}
