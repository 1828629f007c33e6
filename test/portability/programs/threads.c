/* threads.c - portability program (scripts/portability.sh): POSIX threads.
 *
 * The main thread hands NITEMS work items to NWORKERS workers through a
 * bounded queue guarded by a mutex and two condition variables; a collector
 * thread waits on a third condition variable for the results and prints them
 * in item order. At a checkpoint threads are therefore blocked in
 * pthread_cond_wait, in the queue's critical sections or computing, and a
 * restart has to bring back all of it. Every result depends on its item
 * alone and the total is a sum, so the output does not depend on which
 * worker took which item, nor on the scheduling.
 *
 * Usage: threads [scale]   (default 1; ~5 s of CPU at -O2, in 48 items)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NITEMS 48
#define NWORKERS 3
#define QCAP 4

struct result {
  uint64_t hash;
  uint32_t words[8]; /* in the heap, so restarts must bring the heap back */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t result_ready = PTHREAD_COND_INITIALIZER;
static int queue[QCAP];
static int q_head, q_len;
static int closed; /* no more items will be queued */
static struct result *results[NITEMS];
static uint64_t total; /* sum of all hashes, under lock */
static long rounds_per_item;

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static struct result *compute(int item) {
  struct result *r = malloc(sizeof *r);
  if (!r) {
    perror("malloc");
    exit(1);
  }
  uint64_t s = (uint64_t)item * 1000003u + 17, h = 0;
  for (long k = 0; k < rounds_per_item; k++)
    h ^= splitmix(&s) + (h << 7);
  r->hash = h;
  for (int i = 0; i < 8; i++)
    r->words[i] = (uint32_t)splitmix(&s);
  return r;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (q_len == 0 && !closed)
      pthread_cond_wait(&not_empty, &lock);
    if (q_len == 0) { /* closed and drained */
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    int item = queue[q_head];
    q_head = (q_head + 1) % QCAP;
    q_len--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);

    struct result *r = compute(item);

    pthread_mutex_lock(&lock);
    results[item] = r;
    total += r->hash;
    pthread_cond_broadcast(&result_ready);
    pthread_mutex_unlock(&lock);
  }
}

static void *collector(void *arg) {
  FILE *out = arg;
  for (int i = 0; i < NITEMS; i++) {
    pthread_mutex_lock(&lock);
    while (!results[i])
      pthread_cond_wait(&result_ready, &lock);
    struct result *r = results[i];
    pthread_mutex_unlock(&lock);
    uint32_t x = 0;
    for (int k = 0; k < 8; k++)
      x ^= r->words[k] >> (k & 3);
    fprintf(out, "item %2d/%d: hash %016llx words %08lx\n", i + 1, NITEMS,
            (unsigned long long)r->hash, (unsigned long)x);
    fflush(out); /* progress is visible to the driver line by line */
  }
  return NULL;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  rounds_per_item = 125000000L * scale;
  printf("threads: %d items, %d workers, queue of %d\n", NITEMS, NWORKERS,
         QCAP);
  fflush(stdout);

  pthread_t workers[NWORKERS], coll;
  for (int i = 0; i < NWORKERS; i++)
    if (pthread_create(&workers[i], NULL, worker, NULL) != 0) {
      fprintf(stderr, "threads: pthread_create failed\n");
      return 1;
    }
  if (pthread_create(&coll, NULL, collector, stdout) != 0) {
    fprintf(stderr, "threads: pthread_create failed\n");
    return 1;
  }

  for (int item = 0; item < NITEMS; item++) {
    pthread_mutex_lock(&lock);
    while (q_len == QCAP)
      pthread_cond_wait(&not_full, &lock);
    queue[(q_head + q_len) % QCAP] = item;
    q_len++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  closed = 1;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&lock);

  for (int i = 0; i < NWORKERS; i++)
    pthread_join(workers[i], NULL);
  pthread_join(coll, NULL);
  for (int i = 0; i < NITEMS; i++)
    free(results[i]);
  printf("threads: total %016llx\n", (unsigned long long)total);
  return 0;
}
