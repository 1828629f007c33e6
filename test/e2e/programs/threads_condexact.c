/* threads_condexact.c - e2e program (threads): code that is correct only if
 * a condition wait returns when, and only when, it is signalled.
 *
 * Part A is a barrier written as a counter, a mutex and ONE
 * pthread_cond_wait without a loop, as the macro sets of some benchmark
 * suites write it: 4 threads run rounds of a double-buffered 1-D stencil
 * and meet at that barrier twice per round. A thread that left a barrier
 * early would read a half-written buffer (wrong checksum) and would find
 * another thread's phase counter behind its own (reported at once).
 *
 * Part B hands items one at a time from a producer to 3 consumers that
 * each announce themselves and then wait ONCE, without a loop (one with
 * pthread_cond_timedwait and a deadline an hour away): every signal must
 * release exactly one waiter. A consumer that returned without a signal
 * finds no item for it ("spurious wakeup") and the run fails.
 *
 * Most of the time threads sit in these waits, so random checkpoints catch
 * them there; after a restart each must still be waiting (not returned) or,
 * if it was signalled before the checkpoint, return once.
 *
 * Usage: threads_condexact [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- Part A: the loop-less barrier ------------------------------------- */

#define NA 4
#define CELLS 4096

static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cv = PTHREAD_COND_INITIALIZER;
static int bar_count;

/* The macro's shape: no predicate, no loop. */
static void barrier(void) {
  pthread_mutex_lock(&bar_mu);
  if (++bar_count == NA) {
    bar_count = 0;
    pthread_cond_broadcast(&bar_cv);
  } else {
    pthread_cond_wait(&bar_cv, &bar_mu);
  }
  pthread_mutex_unlock(&bar_mu);
}

static double buf[2][CELLS];
static long phase[NA];
static long rounds_a;
static int early_exit_seen;

static void check_phases(int me, long want) {
  for (int t = 0; t < NA; t++) {
    long p = __atomic_load_n(&phase[t], __ATOMIC_ACQUIRE);
    if (p < want) {
      printf("FAIL: thread %d left the barrier at phase %ld, thread %d at "
             "%ld\n", me, want, t, p);
      __atomic_store_n(&early_exit_seen, 1, __ATOMIC_RELAXED);
    }
  }
}

static void *stencil_worker(void *arg) {
  int me = (int)(intptr_t)arg;
  int lo = me * (CELLS / NA), hi = lo + CELLS / NA;
  for (long r = 0; r < rounds_a; r++) {
    const double *src = buf[r & 1];
    double *dst = buf[(r + 1) & 1];
    for (int sweep = 0; sweep < 6; sweep++)
      for (int i = lo; i < hi; i++) {
        double l = src[i == 0 ? CELLS - 1 : i - 1];
        double rr = src[i == CELLS - 1 ? 0 : i + 1];
        dst[i] = 0.25 * l + 0.5 * src[i] + 0.25 * rr + 1e-9 * sweep;
      }
    __atomic_store_n(&phase[me], 2 * r + 1, __ATOMIC_RELEASE);
    barrier();
    check_phases(me, 2 * r + 1);
    /* A second meeting per round, with nothing between: back-to-back
     * barriers are where a stale wakeup would let a thread through. */
    __atomic_store_n(&phase[me], 2 * r + 2, __ATOMIC_RELEASE);
    barrier();
    check_phases(me, 2 * r + 2);
  }
  return NULL;
}

/* ---- Part B: one signal, one waiter ------------------------------------ */

#define NB 3
#define STOP (-1L)

static pthread_mutex_t hand_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t item_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t waiter_cv = PTHREAD_COND_INITIALIZER;
static int announced;       /* consumers waiting for an item */
static long slots[NB];      /* items handed over, not yet taken */
static int nslots;
static long items_b;
static uint64_t consumed_sum[NB];
static long consumed_n[NB];
static int spurious_seen;

static void *consumer(void *arg) {
  int me = (int)(intptr_t)arg;
  uint64_t acc = 0;
  for (;;) {
    pthread_mutex_lock(&hand_mu);
    announced++;
    pthread_cond_signal(&waiter_cv);
    if (me == 0) {
      struct timespec dl;
      clock_gettime(CLOCK_REALTIME, &dl);
      dl.tv_sec += 3600;
      int rc = pthread_cond_timedwait(&item_cv, &hand_mu, &dl);
      if (rc != 0)
        printf("FAIL: consumer %d: timedwait returned %d\n", me, rc);
    } else {
      pthread_cond_wait(&item_cv, &hand_mu); /* once: no loop */
    }
    if (nslots == 0) {
      printf("FAIL: consumer %d returned from its wait with no item "
             "(spurious wakeup)\n", me);
      spurious_seen = 1;
      announced--;
      pthread_mutex_unlock(&hand_mu);
      continue;
    }
    long item = slots[--nslots];
    pthread_mutex_unlock(&hand_mu);
    if (item == STOP)
      break;
    /* Work on the item outside the lock. */
    uint64_t h = (uint64_t)item * 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < 2000; k++)
      h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull + (uint64_t)k;
    acc += h % 1000003;
    consumed_n[me]++;
  }
  consumed_sum[me] = acc;
  return NULL;
}

static void hand_over(long item) {
  pthread_mutex_lock(&hand_mu);
  while (announced == 0)
    pthread_cond_wait(&waiter_cv, &hand_mu);
  announced--;
  slots[nslots++] = item;
  pthread_cond_signal(&item_cv);
  pthread_mutex_unlock(&hand_mu);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  rounds_a = 1500 * scale;
  items_b = 60000 * scale;
  for (int i = 0; i < CELLS; i++)
    buf[0][i] = (double)((i * 7919) % 1000) / 1000.0;

  pthread_t a[NA], b[NB];
  for (int t = 0; t < NA; t++)
    pthread_create(&a[t], NULL, stencil_worker, (void *)(intptr_t)t);
  for (int t = 0; t < NB; t++)
    pthread_create(&b[t], NULL, consumer, (void *)(intptr_t)t);

  /* The producer: a little work per item, so consumers mostly wait. */
  uint64_t expect = 0;
  for (long i = 0; i < items_b; i++) {
    uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < 2000; k++)
      h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull + (uint64_t)k;
    expect += h % 1000003;
    hand_over(i);
  }
  for (int t = 0; t < NB; t++)
    hand_over(STOP);
  for (int t = 0; t < NB; t++)
    pthread_join(b[t], NULL);
  for (int t = 0; t < NA; t++)
    pthread_join(a[t], NULL);

  double sum = 0;
  for (int i = 0; i < CELLS; i++)
    sum += buf[rounds_a & 1][i] * (double)(i % 17 + 1);
  uint64_t got = 0;
  long n = 0;
  for (int t = 0; t < NB; t++) {
    got += consumed_sum[t];
    n += consumed_n[t];
  }
  printf("barrier: rounds %ld checksum %.9e%s\n", rounds_a, sum,
         early_exit_seen ? " (a thread left a barrier early)" : "");
  printf("handoff: items %ld consumed %ld sum %s%s\n", items_b, n,
         got == expect ? "ok" : "WRONG", spurious_seen ? " (spurious)" : "");
  return early_exit_seen || spurious_seen || got != expect || n != items_b;
}
