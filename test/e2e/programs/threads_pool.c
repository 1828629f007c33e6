/* threads_pool.c - e2e program (threads): waves of short-lived workers.
 *
 * The main thread runs waves. In each wave it creates, while holding the
 * table lock, five joinable workers whose pthread_t it stores in a heap
 * table (default attributes; 256 KiB and 1 MiB stacks set with
 * pthread_attr_setstacksize; one with a 128 KiB stack that is a straggler,
 * sleeping in nanosleep between bursts of work and joined only two waves
 * later, through the table) and two detached workers (one created with
 * PTHREAD_CREATE_DETACHED, one detached by pthread_detach after creation)
 * that report through a completion counter and a condition variable.
 * Every worker calls pthread_once (the shared lookup table is built
 * exactly once), checks pthread_equal(pthread_self(), its table entry) and
 * that it differs from the main thread's id saved at start. Results come
 * back through pthread_join: as an integer cast to void *, or a heap
 * struct passed to pthread_exit from the bottom of a recursion 12 to 40
 * frames deep. The main thread does its own share of work, then waits for
 * the detached workers and joins the joinable ones via the table, and
 * prints per-wave sums. At the end it checks that its id saved at start
 * still equals pthread_self().
 *
 * Thread states most of the time: workers computing, straggler in
 * nanosleep, the main thread computing, in pthread_cond_wait or in
 * pthread_join; threads being created and exiting all the time.
 *
 * Usage: threads_pool [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NJ 5   /* joinable per wave: kinds 0..4 (4 = straggler) */
#define NDET 2 /* detached per wave */
#define PER_WAVE (NJ + NDET)
#define LUT 4096

struct slot {
  pthread_t tid;
  int wave, kind;
  int self_ok; /* set by the worker */
  int joined;
};

struct result {
  uint64_t value;
  int depth;
};

static int waves;
static struct slot *table; /* waves * PER_WAVE entries, heap */
static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t main_tid;

static pthread_once_t lut_once = PTHREAD_ONCE_INIT;
static uint64_t *lut;
static int lut_builds;

static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t det_cv = PTHREAD_COND_INITIALIZER;
static int det_pending;
static uint64_t *det_results; /* waves * NDET */

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void build_lut(void) {
  lut = malloc(LUT * sizeof *lut);
  if (!lut)
    abort();
  for (int i = 0; i < LUT; i++)
    lut[i] = mix64((uint64_t)i * 7919u);
  lut_builds++;
}

static uint64_t work(uint64_t seed, long n) {
  uint64_t h = seed;
  for (long i = 0; i < n; i++)
    h = (h ^ lut[h & (LUT - 1)]) * 0x100000001B3ULL + (uint64_t)i;
  return h;
}

static void nap_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Check in: the creator stored our id under tbl_lock before releasing it. */
static void check_in(int k) {
  pthread_once(&lut_once, build_lut);
  pthread_mutex_lock(&tbl_lock);
  pthread_t me = pthread_self();
  table[k].self_ok = pthread_equal(me, table[k].tid) &&
                     !pthread_equal(me, main_tid);
  pthread_mutex_unlock(&tbl_lock);
}

/* pthread_exit from the bottom of a recursion, with frames to unwind */
static uint64_t descend(int depth, uint64_t acc, struct result *r) {
  volatile uint64_t local[8];
  for (int i = 0; i < 8; i++)
    local[i] = acc + (uint64_t)i * (uint64_t)depth;
  if (depth == 0) {
    r->value = acc;
    pthread_exit(r);
  }
  uint64_t below = descend(depth - 1, work(acc ^ local[depth & 7], 30000), r);
  return below + local[3]; /* not reached */
}

/* a 128 KiB frame: only for the worker with the 1 MiB stack */
__attribute__((noinline)) static uint64_t big_frame(uint64_t seed) {
  uint64_t buf[16384];
  buf[0] = seed;
  for (int i = 1; i < 16384; i++)
    buf[i] = mix64(buf[i - 1]);
  return work(buf[16383] ^ buf[977], 1350000);
}

static void *joinable_worker(void *arg) {
  int k = (int)(intptr_t)arg;
  check_in(k);
  int w = table[k].wave, kind = table[k].kind; /* written before creation */
  uint64_t seed = mix64((uint64_t)w * 131 + (uint64_t)kind);
  switch (kind) {
  case 0: /* plain return of an integer */
    return (void *)(uintptr_t)work(seed, 1800000);
  case 1:
  case 2: { /* pthread_exit deep in a recursion */
    struct result *r = malloc(sizeof *r);
    if (!r)
      abort();
    r->depth = 12 + (int)(seed % 29);
    descend(r->depth, work(seed, 900000), r);
    return NULL; /* not reached */
  }
  case 3: /* 1 MiB stack: use some of it */
    return (void *)(uintptr_t)big_frame(seed);
  default: { /* straggler: sleeps between bursts */
    uint64_t h = seed;
    for (int b = 0; b < 6; b++) {
      nap_ms(15);
      h = work(h, 200000);
    }
    return (void *)(uintptr_t)h;
  }
  }
}

static void *detached_worker(void *arg) {
  int k = (int)(intptr_t)arg;
  check_in(k);
  int w = table[k].wave, kind = table[k].kind;
  uint64_t h = work(mix64((uint64_t)w * 977 + (uint64_t)kind), 1000000);
  pthread_mutex_lock(&det_lock);
  det_results[w * NDET + (kind - NJ)] = h;
  if (--det_pending == 0)
    pthread_cond_signal(&det_cv);
  pthread_mutex_unlock(&det_lock);
  return NULL;
}

static uint64_t join_slot(int k) {
  void *ret;
  pthread_t t;
  pthread_mutex_lock(&tbl_lock);
  t = table[k].tid;
  pthread_mutex_unlock(&tbl_lock);
  if (pthread_join(t, &ret) != 0) {
    printf("join of wave %d kind %d failed\n", table[k].wave, table[k].kind);
    return 0;
  }
  table[k].joined = 1;
  if (table[k].kind == 1 || table[k].kind == 2) {
    struct result *r = ret;
    uint64_t v = r->value + (uint64_t)r->depth;
    free(r);
    return v;
  }
  return (uint64_t)(uintptr_t)ret;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  waves = 52 * scale;
  main_tid = pthread_self();
  table = calloc((size_t)waves * PER_WAVE, sizeof *table);
  det_results = calloc((size_t)waves * NDET, sizeof *det_results);
  if (!table || !det_results)
    return 1;
  pthread_once(&lut_once, build_lut);
  printf("threads_pool: %d waves of %d joinable + %d detached workers\n",
         waves, NJ, NDET);

  pthread_attr_t a256, a1m, a128, adet;
  pthread_attr_init(&a256);
  pthread_attr_setstacksize(&a256, 256 * 1024);
  pthread_attr_init(&a1m);
  pthread_attr_setstacksize(&a1m, 1024 * 1024);
  pthread_attr_init(&a128);
  pthread_attr_setstacksize(&a128, 128 * 1024);
  pthread_attr_init(&adet);
  pthread_attr_setdetachstate(&adet, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&adet, 192 * 1024);
  pthread_attr_t *attr_of[NJ] = {NULL, &a256, &a256, &a1m, &a128};

  uint64_t total = 0;
  int ok_count = 0;
  for (int w = 0; w < waves; w++) {
    int base = w * PER_WAVE;
    pthread_mutex_lock(&det_lock);
    det_pending = NDET;
    pthread_mutex_unlock(&det_lock);
    for (int i = 0; i < PER_WAVE; i++) {
      table[base + i].wave = w;
      table[base + i].kind = i;
    }
    pthread_mutex_lock(&tbl_lock);
    for (int i = 0; i < NJ; i++)
      if (pthread_create(&table[base + i].tid, attr_of[i], joinable_worker,
                         (void *)(intptr_t)(base + i)) != 0)
        return 1;
    if (pthread_create(&table[base + NJ].tid, &adet, detached_worker,
                       (void *)(intptr_t)(base + NJ)) != 0)
      return 1;
    if (pthread_create(&table[base + NJ + 1].tid, NULL, detached_worker,
                       (void *)(intptr_t)(base + NJ + 1)) != 0)
      return 1;
    pthread_detach(table[base + NJ + 1].tid);
    pthread_mutex_unlock(&tbl_lock);

    uint64_t mine = work(mix64((uint64_t)w), 700000); /* main's share */

    pthread_mutex_lock(&det_lock);
    while (det_pending > 0)
      pthread_cond_wait(&det_cv, &det_lock);
    uint64_t det = det_results[w * NDET] + det_results[w * NDET + 1];
    pthread_mutex_unlock(&det_lock);

    uint64_t joined = 0;
    for (int i = 0; i < NJ - 1; i++)
      joined += join_slot(base + i);
    uint64_t strag = 0;
    if (w >= 2)
      strag = join_slot((w - 2) * PER_WAVE + NJ - 1);
    /* the threads checked so far have finished (this wave's straggler
     * may not even have started: it is checked when it is joined) */
    int ok = 1;
    pthread_mutex_lock(&tbl_lock);
    for (int i = 0; i < PER_WAVE; i++)
      if (i != NJ - 1)
        ok &= table[base + i].self_ok;
    if (w >= 2)
      ok &= table[(w - 2) * PER_WAVE + NJ - 1].self_ok;
    pthread_mutex_unlock(&tbl_lock);
    ok_count += ok;
    total += mine + det + joined + strag;
    printf("wave %2d: main %016llx joined %016llx detached %016llx straggler "
           "%016llx ids %s\n",
           w + 1, (unsigned long long)mine, (unsigned long long)joined,
           (unsigned long long)det, (unsigned long long)strag,
           ok ? "ok" : "WRONG");
  }
  uint64_t strag = 0;
  int last_ok = 1;
  for (int w = waves - 2; w < waves; w++)
    if (w >= 0) {
      strag += join_slot(w * PER_WAVE + NJ - 1);
      last_ok &= table[w * PER_WAVE + NJ - 1].self_ok;
    }
  int all_joined = 1;
  for (int w = 0; w < waves; w++)
    for (int i = 0; i < NJ; i++)
      all_joined &= table[w * PER_WAVE + i].joined;
  pthread_attr_destroy(&a256);
  pthread_attr_destroy(&a1m);
  pthread_attr_destroy(&a128);
  pthread_attr_destroy(&adet);
  printf("done: total %016llx last stragglers %016llx (ids %s); %d/%d waves "
         "ok, all joined %s, lut built %d time(s), main id %s\n",
         (unsigned long long)total, (unsigned long long)strag,
         last_ok ? "ok" : "WRONG", ok_count, waves, all_joined ? "yes" : "no",
         lut_builds,
         pthread_equal(main_tid, pthread_self()) ? "unchanged" : "CHANGED");
  free(table);
  free(det_results);
  free(lut);
  return 0;
}
