/* threads_pipeline.c - e2e program (threads): a 4-stage producer/consumer
 * pipeline on condition variables.
 *
 *   source (1 thread) -> Q1 -> stage A (3 threads, integer hashing)
 *                     -> Q2 -> stage B (2 threads, floating point)
 *                     -> Q3 -> sink (1 thread) -> reorder buffer
 *
 * Each queue is a bounded ring (8 items) with a mutex and two condition
 * variables: push waits on not_full, pop on not_empty, each side wakes the
 * other with pthread_cond_signal; the last producer of a queue closes it
 * with pthread_cond_broadcast. The sink pops with pthread_cond_timedwait
 * (30 s timeout, looping on ETIMEDOUT, which never matters for the
 * output). Items overtake each other in the multi-thread stages; the sink
 * puts results back in sequence order, hashes the in-order prefix and at
 * every 5% publishes the hash and wakes the main thread (broadcast), which
 * prints it. The source sleeps (nanosleep) every 200 items, so the queues
 * run empty and full in turn.
 *
 * Thread states most of the time: stage threads computing or blocked in
 * pthread_cond_wait (queue full or empty) with the queue mutex released,
 * the sink in pthread_cond_timedwait, the source in nanosleep or
 * pthread_cond_wait, the main thread in pthread_cond_wait.
 *
 * Usage: threads_pipeline [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CAP 8
#define NA 3
#define NBS 2
#define MILESTONES 20

struct item {
  uint32_t seq;
  uint64_t v;
};

struct queue {
  struct item buf[CAP];
  int head, count, producers, closed;
  pthread_mutex_t lock;
  pthread_cond_t not_full, not_empty;
};

static struct queue q1, q2, q3;
static int nitems;
static uint64_t *results;
static unsigned char *have;

static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prog_cv = PTHREAD_COND_INITIALIZER;
static int milestones_reached;
static uint64_t milestone_hash[MILESTONES + 1];
static long timeouts; /* sink's timedwait timeouts: never printed */

static void q_init(struct queue *q, int producers) {
  memset(q, 0, sizeof *q);
  q->producers = producers;
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->not_full, NULL);
  pthread_cond_init(&q->not_empty, NULL);
}

static void q_push(struct queue *q, struct item it) {
  pthread_mutex_lock(&q->lock);
  while (q->count == CAP)
    pthread_cond_wait(&q->not_full, &q->lock);
  q->buf[(q->head + q->count) % CAP] = it;
  q->count++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
}

/* returns 0 when the queue is closed and empty */
static int q_pop(struct queue *q, struct item *it, int timed) {
  pthread_mutex_lock(&q->lock);
  while (q->count == 0 && !q->closed) {
    if (timed) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 30;
      if (pthread_cond_timedwait(&q->not_empty, &q->lock, &ts) == ETIMEDOUT)
        timeouts++;
    } else {
      pthread_cond_wait(&q->not_empty, &q->lock);
    }
  }
  if (q->count == 0) {
    pthread_mutex_unlock(&q->lock);
    return 0;
  }
  *it = q->buf[q->head];
  q->head = (q->head + 1) % CAP;
  q->count--;
  pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->lock);
  return 1;
}

static void q_producer_done(struct queue *q) {
  pthread_mutex_lock(&q->lock);
  if (--q->producers == 0) {
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
  }
  pthread_mutex_unlock(&q->lock);
}

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void *source(void *arg) {
  (void)arg;
  for (int s = 0; s < nitems; s++) {
    if (s % 200 == 199) {
      struct timespec ts = {0, 400000};
      nanosleep(&ts, NULL);
    }
    q_push(&q1, (struct item){(uint32_t)s, mix64((uint64_t)s)});
  }
  q_producer_done(&q1);
  return NULL;
}

static void *stage_a(void *arg) {
  (void)arg;
  struct item it;
  while (q_pop(&q1, &it, 0)) {
    uint64_t v = it.v;
    int rounds = 5000 + (int)(v & 4095);
    for (int r = 0; r < rounds; r++)
      v = mix64(v ^ (uint64_t)r);
    it.v = v;
    q_push(&q2, it);
  }
  q_producer_done(&q2);
  return NULL;
}

static void *stage_b(void *arg) {
  (void)arg;
  struct item it;
  while (q_pop(&q2, &it, 0)) {
    double x = (double)(it.v >> 11) / 9007199254740992.0;
    double acc = 0.0;
    for (int r = 0; r < 6000; r++) {
      x = 3.9 * x * (1.0 - x); /* logistic map */
      acc += sqrt(x + 1.0);
    }
    uint64_t b;
    memcpy(&b, &acc, sizeof b);
    it.v ^= b;
    q_push(&q3, it);
  }
  q_producer_done(&q3);
  return NULL;
}

static void *sink(void *arg) {
  (void)arg;
  struct item it;
  int next = 0, reached = 0;
  uint64_t h = 0;
  while (q_pop(&q3, &it, 1)) {
    results[it.seq] = it.v;
    have[it.seq] = 1;
    while (next < nitems && have[next]) {
      h = mix64(h ^ results[next]);
      next++;
      if (next == (long)nitems * (reached + 1) / MILESTONES) {
        reached++;
        pthread_mutex_lock(&prog_lock);
        milestone_hash[reached] = h;
        milestones_reached = reached;
        pthread_cond_broadcast(&prog_cv);
        pthread_mutex_unlock(&prog_lock);
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  nitems = 48000 * scale;
  results = calloc((size_t)nitems, sizeof *results);
  have = calloc((size_t)nitems, 1);
  if (!results || !have)
    return 1;
  q_init(&q1, 1);
  q_init(&q2, NA);
  q_init(&q3, NBS);
  printf("threads_pipeline: %d items, stages 1 -> %d -> %d -> 1, queues of "
         "%d\n",
         nitems, NA, NBS, CAP);
  pthread_t src, sk, ta[NA], tb[NBS];
  if (pthread_create(&src, NULL, source, NULL) ||
      pthread_create(&sk, NULL, sink, NULL))
    return 1;
  for (int i = 0; i < NA; i++)
    if (pthread_create(&ta[i], NULL, stage_a, NULL))
      return 1;
  for (int i = 0; i < NBS; i++)
    if (pthread_create(&tb[i], NULL, stage_b, NULL))
      return 1;

  for (int m = 1; m <= MILESTONES; m++) {
    pthread_mutex_lock(&prog_lock);
    while (milestones_reached < m)
      pthread_cond_wait(&prog_cv, &prog_lock);
    uint64_t h = milestone_hash[m];
    pthread_mutex_unlock(&prog_lock);
    printf("progress %3d%%: %d items in order, prefix hash %016llx\n",
           m * 100 / MILESTONES, (int)((long)nitems * m / MILESTONES),
           (unsigned long long)h);
  }
  pthread_join(src, NULL);
  for (int i = 0; i < NA; i++)
    pthread_join(ta[i], NULL);
  for (int i = 0; i < NBS; i++)
    pthread_join(tb[i], NULL);
  pthread_join(sk, NULL);

  uint64_t x = 0, s = 0;
  for (int i = 0; i < nitems; i++) {
    x ^= results[i];
    s += results[i] * (uint64_t)(i | 1);
  }
  printf("done: xor %016llx weighted %016llx\n", (unsigned long long)x,
         (unsigned long long)s);
  free(results);
  free(have);
  return 0;
}
