/* threads_tls.c - e2e program (threads): thread-local storage and keys.
 *
 * Waves of six threads (and the main thread between waves) run a
 * computation whose whole state is thread-local: __thread and
 * _Thread_local scalars, arrays and a struct, zero-initialised (.tbss) and
 * with initial values (.tdata), a __thread pointer to a heap block, and a
 * scratch array reached through a pointer to TLS kept in a local. Three
 * pthread keys, created once (pthread_once, called by every thread):
 *   key_buf    a heap accumulator; its destructor folds it into global
 *              totals under a mutex and frees it;
 *   key_again  a countdown whose destructor sets the value again twice,
 *              so it runs three times per thread;
 *   key_plain  no destructor; holds a pointer to the thread's own TLS
 *              struct, checked with pthread_getspecific.
 * Half the threads leave through pthread_exit from a nested call, the
 * others return; either way the destructors run before pthread_join
 * returns, so the main thread can print their counts per wave. Each
 * thread's results (summarised from its TLS) are printed by the main
 * thread in thread order.
 *
 * Thread states most of the time: computing in loops over TLS; the main
 * thread in pthread_join or computing with its own TLS.
 *
 * Usage: threads_tls [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_WAVE 6
#define SCR 512

struct tl_state {
  int id;
  char name[20];
  uint64_t acc[4];
};

static __thread uint64_t tl_counter;                 /* .tbss */
static _Thread_local uint32_t tl_hist[64];           /* .tbss */
static __thread uint64_t tl_seed = 0x243F6A8885A308D3ULL; /* .tdata */
static __thread struct tl_state tl_self = {-1, "unset", {1, 2, 3, 4}};
static __thread uint64_t tl_scratch[SCR];
static __thread uint64_t *tl_heap; /* TLS -> heap */

struct accum {
  uint64_t sum, xor_, n;
};

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static pthread_key_t key_buf, key_again, key_plain;
static int once_runs;

static pthread_mutex_t dtor_lock = PTHREAD_MUTEX_INITIALIZER;
static long dtor_buf_calls, dtor_again_calls;
static uint64_t dtor_sum, dtor_xor;

static void buf_dtor(void *p) {
  struct accum *a = p;
  pthread_mutex_lock(&dtor_lock);
  dtor_buf_calls++;
  dtor_sum += a->sum + a->n;
  dtor_xor ^= a->xor_;
  pthread_mutex_unlock(&dtor_lock);
  free(a);
}

static void again_dtor(void *p) {
  int *left = p;
  pthread_mutex_lock(&dtor_lock);
  dtor_again_calls++;
  pthread_mutex_unlock(&dtor_lock);
  if (*left > 0) {
    (*left)--;
    pthread_setspecific(key_again, left); /* run me again */
  } else {
    free(left);
  }
}

static void make_keys(void) {
  if (pthread_key_create(&key_buf, buf_dtor) ||
      pthread_key_create(&key_again, again_dtor) ||
      pthread_key_create(&key_plain, NULL))
    abort();
  once_runs++;
}

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t tl_next(void) {
  tl_seed ^= tl_seed << 13;
  tl_seed ^= tl_seed >> 7;
  tl_seed ^= tl_seed << 17;
  tl_counter++;
  return tl_seed;
}

struct summary {
  int id;
  uint64_t counter, seed, hist_hash, acc_hash, heap_val;
  int plain_ok;
};

static void setup_thread(int id) {
  pthread_once(&keys_once, make_keys);
  tl_self.id = id;
  snprintf(tl_self.name, sizeof tl_self.name, "thread-%d", id);
  tl_seed ^= mix64((uint64_t)id);
  struct accum *a = calloc(1, sizeof *a);
  int *left = malloc(sizeof *left);
  tl_heap = calloc(8, sizeof *tl_heap);
  if (!a || !left || !tl_heap)
    abort();
  *left = 2;
  pthread_setspecific(key_buf, a);
  pthread_setspecific(key_again, left);
  pthread_setspecific(key_plain, &tl_self);
}

static void compute(long rounds) {
  uint64_t *scr = tl_scratch; /* a pointer to TLS, live across the loop */
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < SCR; i++)
      scr[i] = tl_next() ^ scr[(i + 1) & (SCR - 1)];
    struct accum *a = pthread_getspecific(key_buf);
    for (int i = 0; i < SCR; i++) {
      uint64_t x = mix64(scr[i]);
      tl_hist[x & 63]++;
      tl_self.acc[x & 3] += x >> 40;
      a->sum += x;
      a->xor_ ^= x;
    }
    a->n++;
    tl_heap[r & 7] += scr[r & (SCR - 1)];
  }
}

static struct summary *summarise(void) {
  struct summary *s = calloc(1, sizeof *s);
  if (!s)
    abort();
  s->id = tl_self.id;
  s->counter = tl_counter;
  s->seed = tl_seed;
  for (int i = 0; i < 64; i++)
    s->hist_hash = mix64(s->hist_hash ^ tl_hist[i]);
  for (int i = 0; i < 4; i++)
    s->acc_hash = mix64(s->acc_hash ^ tl_self.acc[i]);
  for (int i = 0; i < 8; i++)
    s->heap_val += tl_heap[i];
  char expect[20];
  snprintf(expect, sizeof expect, "thread-%d", tl_self.id);
  s->plain_ok = pthread_getspecific(key_plain) == &tl_self &&
                strcmp(tl_self.name, expect) == 0;
  return s;
}

static void leave_deep(int depth, struct summary *s) {
  if (depth == 0)
    pthread_exit(s);
  leave_deep(depth - 1, s);
  tl_counter++; /* not reached */
}

static void *thread_main(void *arg) {
  int id = (int)(intptr_t)arg;
  setup_thread(id);
  compute(7000 + (id % 5) * 900);
  struct summary *s = summarise();
  free(tl_heap);
  if (id & 1)
    leave_deep(5 + id % 7, s);
  return s;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  int waves = 28 * scale;
  setup_thread(1000);
  printf("threads_tls: %d waves of %d threads\n", waves, PER_WAVE);
  for (int w = 0; w < waves; w++) {
    pthread_t t[PER_WAVE];
    for (int i = 0; i < PER_WAVE; i++)
      if (pthread_create(&t[i], NULL, thread_main,
                         (void *)(intptr_t)(w * PER_WAVE + i)))
        return 1;
    compute(1800); /* main's own TLS while the wave runs */
    uint64_t wh = 0;
    int ok = 0;
    for (int i = 0; i < PER_WAVE; i++) {
      void *ret;
      pthread_join(t[i], &ret);
      struct summary *s = ret;
      if (s->id == w * PER_WAVE + i && s->plain_ok)
        ok++;
      wh = mix64(wh ^ s->counter ^ s->seed ^ s->hist_hash ^ s->acc_hash ^
                 s->heap_val);
      if (i == 0)
        printf("  thread %3d: counter %llu seed %016llx hist %016llx\n",
               s->id, (unsigned long long)s->counter,
               (unsigned long long)s->seed,
               (unsigned long long)s->hist_hash);
      free(s);
    }
    pthread_mutex_lock(&dtor_lock);
    printf("wave %2d: %d/%d ok, hash %016llx; destructors: buf %ld again %ld "
           "sum %016llx xor %016llx\n",
           w + 1, ok, PER_WAVE, (unsigned long long)wh, dtor_buf_calls,
           dtor_again_calls, (unsigned long long)dtor_sum,
           (unsigned long long)dtor_xor);
    pthread_mutex_unlock(&dtor_lock);
  }
  struct summary *m = summarise();
  printf("done: main counter %llu seed %016llx acc %016llx plain %s, keys "
         "made %d time(s)\n",
         (unsigned long long)m->counter, (unsigned long long)m->seed,
         (unsigned long long)m->acc_hash, m->plain_ok ? "ok" : "WRONG",
         once_runs);
  free(m);
  free(tl_heap);
  free(pthread_getspecific(key_buf));
  free(pthread_getspecific(key_again));
  return 0;
}
