/* bench/kernels/prodcons.c - producer/consumer threads: 2 producers and 2
 * consumers over a bounded queue (mutex + two condition variables); each
 * item is a small work unit (a string hashed by the consumer).
 *   prodcons [scale%]   default 100 (~1 s CPU at -O2) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCAP 64
#define NPROD 2
#define NCONS 2

struct item { uint64_t seq; char text[56]; };
static struct item queue[QCAP];
static int head, tail, count, producers_left = NPROD;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long per_producer;
static uint64_t results[NCONS];

static void *producer(void *arg) {
  uint64_t rng = 1000 + (uint64_t)(long)arg;
  for (long i = 0; i < per_producer; i++) {
    struct item it;
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    it.seq = rng >> 20;
    for (int k = 0; k < 55; k++) it.text[k] = 'a' + (char)((rng >> (k % 50)) % 26);
    it.text[55] = 0;
    pthread_mutex_lock(&mu);
    while (count == QCAP) pthread_cond_wait(&not_full, &mu);
    queue[tail] = it;
    tail = (tail + 1) % QCAP;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  producers_left--;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void *consumer(void *arg) {
  int id = (int)(long)arg;
  uint64_t acc = 0;
  for (;;) {
    struct item it;
    pthread_mutex_lock(&mu);
    while (count == 0 && producers_left > 0) pthread_cond_wait(&not_empty, &mu);
    if (count == 0) { pthread_mutex_unlock(&mu); break; }
    it = queue[head];
    head = (head + 1) % QCAP;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mu);
    uint64_t h = it.seq;
    for (int r = 0; r < 8; r++)
      for (const char *p = it.text; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    acc += h % 1000003;       /* sum: independent of which consumer got it */
  }
  results[id] = acc;
  return NULL;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  per_producer = 200000L * scale / 100;
  pthread_t p[NPROD], c[NCONS];
  for (long i = 0; i < NCONS; i++) pthread_create(&c[i], NULL, consumer, (void *)i);
  for (long i = 0; i < NPROD; i++) pthread_create(&p[i], NULL, producer, (void *)i);
  for (int i = 0; i < NPROD; i++) pthread_join(p[i], NULL);
  for (int i = 0; i < NCONS; i++) pthread_join(c[i], NULL);
  uint64_t total = 0;
  for (int i = 0; i < NCONS; i++) total += results[i];
  printf("prodcons items=%ld total=%llu\n", NPROD * per_producer, (unsigned long long)total);
  return 0;
}
