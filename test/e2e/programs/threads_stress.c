/* threads_stress.c - e2e program (threads): everything at once.
 *
 * Six workers, an auditor and the main thread go through epochs:
 *   - the workers meet at a pthread_barrier; worker 0 then produces the
 *     epoch's tasks into a bounded queue (mutex + two condition variables)
 *     and closes it with pthread_cond_broadcast; workers 1-5 consume them;
 *   - a task's result depends on the epoch's configuration, which workers
 *     read under a rwlock (read side) and the main thread changes between
 *     epochs (write side); each worker computes in a scratch buffer found
 *     through pthread_getspecific (a key with a destructor) and counts its
 *     tasks in a __thread counter;
 *   - the workers meet at the barrier again; the serial thread
 *     (PTHREAD_BARRIER_SERIAL_THREAD) hashes the results in task order and
 *     hands the hash to the main thread (condition variable), which prints
 *     it, rewrites the configuration under the write lock, and releases
 *     the workers (broadcast); they wait for it with
 *     pthread_cond_timedwait (long timeout, looped);
 *   - the auditor keeps taking the read lock, checking the configuration's
 *     invariant and napping, until told to stop.
 * At the end the main thread joins everyone and prints the destructor
 * count and the workers' task totals (each __thread count, returned
 * through pthread_join, summed: the split between workers is not printed).
 *
 * Thread states most of the time: consumers computing or blocked in
 * pthread_cond_wait on the queue, the producer blocked on a full queue,
 * the auditor holding the read lock or in nanosleep, everyone now and then
 * in pthread_barrier_wait or pthread_cond_timedwait, the main thread in
 * pthread_cond_wait or holding the write lock.
 *
 * Usage: threads_stress [scale]   (default 1; ~2.5 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NW 6
#define QCAP 16
#define TASKS 240
#define SCRW 1024

struct config {
  uint64_t salt;
  int64_t a, b, sum; /* a + b == sum */
  int rounds;
};

static struct config cfg;
static pthread_rwlock_t cfg_lock;

static pthread_barrier_t bar;

static int queue[QCAP], q_head, q_count, q_closed;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;

static uint64_t results[TASKS];

static pthread_mutex_t ctl = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ctl_cv = PTHREAD_COND_INITIALIZER;
static int epoch_done;    /* epochs finished by the workers */
static uint64_t epoch_hash;
static int cfg_gen;       /* configurations published by main */
static int audit_stop;
static long audit_violations;

static pthread_key_t key_scratch;
static pthread_mutex_t dtor_lock = PTHREAD_MUTEX_INITIALIZER;
static int dtor_calls;

static __thread long tl_tasks;
static int epochs;

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void scratch_dtor(void *p) {
  pthread_mutex_lock(&dtor_lock);
  dtor_calls++;
  pthread_mutex_unlock(&dtor_lock);
  free(p);
}

static uint64_t *scratch(void) {
  uint64_t *s = pthread_getspecific(key_scratch);
  if (!s) {
    s = calloc(SCRW, sizeof *s);
    if (!s)
      abort();
    pthread_setspecific(key_scratch, s);
  }
  return s;
}

static void set_config(int e) {
  pthread_rwlock_wrlock(&cfg_lock);
  cfg.salt = mix64((uint64_t)e * 7 + 1);
  cfg.sum = (int64_t)(cfg.salt % 100000);
  cfg.a = (int64_t)((cfg.salt >> 20) % 1000);
  cfg.b = cfg.sum - cfg.a;
  cfg.rounds = 320 + (e % 7) * 8;
  pthread_rwlock_unlock(&cfg_lock);
}

static uint64_t run_task(int t) {
  pthread_rwlock_rdlock(&cfg_lock);
  uint64_t salt = cfg.salt;
  int rounds = cfg.rounds;
  int64_t a = cfg.a;
  pthread_rwlock_unlock(&cfg_lock);
  uint64_t *s = scratch();
  s[0] = mix64(salt ^ (uint64_t)t);
  for (int i = 1; i < SCRW; i++)
    s[i] = mix64(s[i - 1] + (uint64_t)a);
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < SCRW; i++)
      s[i] ^= s[(i * 13 + (int)(unsigned)r) & (SCRW - 1)] >> 5;
  uint64_t h = 0;
  for (int i = 0; i < SCRW; i += 8)
    h = mix64(h ^ s[i]);
  tl_tasks++;
  return h;
}

static void produce(void) {
  for (int t = 0; t < TASKS; t++) {
    pthread_mutex_lock(&q_lock);
    while (q_count == QCAP)
      pthread_cond_wait(&q_not_full, &q_lock);
    queue[(q_head + q_count) % QCAP] = t;
    q_count++;
    pthread_cond_signal(&q_not_empty);
    pthread_mutex_unlock(&q_lock);
  }
  pthread_mutex_lock(&q_lock);
  q_closed = 1;
  pthread_cond_broadcast(&q_not_empty);
  pthread_mutex_unlock(&q_lock);
}

static void consume(void) {
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (q_count == 0 && !q_closed)
      pthread_cond_wait(&q_not_empty, &q_lock);
    if (q_count == 0) {
      pthread_mutex_unlock(&q_lock);
      return;
    }
    int t = queue[q_head];
    q_head = (q_head + 1) % QCAP;
    q_count--;
    pthread_cond_signal(&q_not_full);
    pthread_mutex_unlock(&q_lock);
    results[t] = run_task(t);
  }
}

static void *worker(void *arg) {
  int me = (int)(intptr_t)arg;
  scratch(); /* every worker has a scratch buffer: one destructor each */
  for (int e = 0; e < epochs; e++) {
    pthread_barrier_wait(&bar); /* the configuration for e is published */
    if (me == 0)
      produce();
    else
      consume();
    /* the queue is closed and drained: all results are in */
    if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
      uint64_t h = 0;
      for (int t = 0; t < TASKS; t++)
        h = mix64(h ^ results[t]);
      /* reopen the queue for the next epoch: nobody uses it now */
      pthread_mutex_lock(&q_lock);
      q_head = q_count = q_closed = 0;
      pthread_mutex_unlock(&q_lock);
      pthread_mutex_lock(&ctl);
      epoch_hash = h;
      epoch_done = e + 1;
      pthread_cond_broadcast(&ctl_cv);
      pthread_mutex_unlock(&ctl);
    }
    pthread_mutex_lock(&ctl);
    while (cfg_gen < e + 2 && e + 1 < epochs) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 60;
      pthread_cond_timedwait(&ctl_cv, &ctl, &ts); /* ETIMEDOUT: look again */
    }
    pthread_mutex_unlock(&ctl);
  }
  return (void *)(intptr_t)tl_tasks;
}

static void *auditor(void *arg) {
  (void)arg;
  scratch();
  for (;;) {
    pthread_mutex_lock(&ctl);
    int stop = audit_stop;
    pthread_mutex_unlock(&ctl);
    if (stop)
      break;
    pthread_rwlock_rdlock(&cfg_lock);
    uint64_t *s = scratch();
    s[0] = cfg.salt;
    for (int i = 1; i < 2000; i++) /* hold the read lock a while */
      s[i & (SCRW - 1)] = mix64(s[(i - 1) & (SCRW - 1)]);
    if (cfg.a + cfg.b != cfg.sum)
      audit_violations++;
    pthread_rwlock_unlock(&cfg_lock);
    struct timespec ts = {0, 1500000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  epochs = 72 * scale;
  pthread_rwlock_init(&cfg_lock, NULL);
  pthread_barrier_init(&bar, NULL, NW);
  if (pthread_key_create(&key_scratch, scratch_dtor))
    return 1;
  set_config(0);
  cfg_gen = 1;
  printf("threads_stress: %d workers + auditor, %d epochs of %d tasks\n", NW,
         epochs, TASKS);
  pthread_t tw[NW], ta;
  for (int i = 0; i < NW; i++)
    if (pthread_create(&tw[i], NULL, worker, (void *)(intptr_t)i))
      return 1;
  if (pthread_create(&ta, NULL, auditor, NULL))
    return 1;

  for (int e = 0; e < epochs; e++) {
    pthread_mutex_lock(&ctl);
    while (epoch_done < e + 1)
      pthread_cond_wait(&ctl_cv, &ctl);
    uint64_t h = epoch_hash;
    pthread_mutex_unlock(&ctl);
    pthread_rwlock_rdlock(&cfg_lock);
    int rounds = cfg.rounds;
    pthread_rwlock_unlock(&cfg_lock);
    printf("epoch %2d: rounds %d results %016llx\n", e + 1, rounds,
           (unsigned long long)h);
    if (e + 1 < epochs) {
      set_config(e + 1);
      pthread_mutex_lock(&ctl);
      cfg_gen = e + 2;
      pthread_cond_broadcast(&ctl_cv);
      pthread_mutex_unlock(&ctl);
    }
  }
  long total = 0;
  for (int i = 0; i < NW; i++) {
    void *ret;
    pthread_join(tw[i], &ret);
    total += (long)(intptr_t)ret;
  }
  pthread_mutex_lock(&ctl);
  audit_stop = 1;
  pthread_mutex_unlock(&ctl);
  pthread_join(ta, NULL);
  printf("done: %ld tasks, %d scratch destructors, %ld audit violations\n",
         total, dtor_calls, audit_violations);
  pthread_key_delete(key_scratch);
  pthread_rwlock_destroy(&cfg_lock);
  pthread_barrier_destroy(&bar);
  return 0;
}
