/* threads_rwtable.c - e2e program (threads): a reader/writer table.
 *
 * A table of 8192 records (key, a, b, version, tag) with the invariants
 * a + b == constant and tag == hash(key, version). Records live in slots;
 * slot s belongs to stripe s % 16, each stripe guarded by a rwlock made
 * with pthread_rwlock_init (writer-preferring kind), and the whole layout
 * by a rwlock set up with PTHREAD_RWLOCK_INITIALIZER. Per phase:
 *   - 4 readers scan the table (global read lock held across a whole scan,
 *     stripe read locks, via tryrdlock first and rdlock if busy) checking
 *     the invariants, and nap now and then;
 *   - 2 writers update records chosen by key (global read lock, stripe
 *     write lock; one writer uses pthread_rwlock_timedwrlock with a long
 *     timeout, the other trywrlock then wrlock), moving value between a
 *     and b and bumping the version;
 *   - the main thread twice takes the global write lock and moves every
 *     record to another slot (a rotation of the layout).
 * Updates commute, so the per-key contents at the end of each phase do
 * not depend on the interleaving. All meet at a pthread_barrier; the main
 * thread hashes the table in key order and prints it and the number of
 * invariant violations seen by the readers (always 0), then a second
 * barrier starts the next phase.
 *
 * Thread states most of the time: readers holding read locks while they
 * compute, writers blocked in wrlock or holding it, the main thread in
 * pthread_rwlock_wrlock or nanosleep, everyone meeting at barriers.
 *
 * Usage: threads_rwtable [scale]   (default 1; ~2 s at -O2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NREC 8192
#define NSTRIPE 16
#define NR 4
#define NW 2
#define INV 1000000007LL
#define SCANS 24      /* per reader per phase */
#define UPDATES 40000 /* per writer per phase */

struct rec {
  uint64_t key;
  int64_t a, b;
  uint64_t version, tag;
};

static struct rec *slots; /* NREC, heap */
static int *pos;          /* key -> slot, heap */
static pthread_rwlock_t layout = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t stripe[NSTRIPE];
static pthread_barrier_t bar;
static int phases;
static long violations[NR]; /* per reader */

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t tag_of(uint64_t key, uint64_t version) {
  return mix64(key * 31 + version);
}

static void nap_us(long us) {
  struct timespec ts = {0, us * 1000L};
  nanosleep(&ts, NULL);
}

static void *reader(void *arg) {
  int me = (int)(intptr_t)arg;
  volatile uint64_t sink = 0;
  for (int ph = 0; ph < phases; ph++) {
    for (int sc = 0; sc < SCANS; sc++) {
      pthread_rwlock_rdlock(&layout);
      uint64_t h = (uint64_t)me;
      for (int s0 = 0; s0 < NSTRIPE; s0++) {
        int s = (s0 + me * 4) % NSTRIPE;
        if (pthread_rwlock_tryrdlock(&stripe[s]) != 0)
          pthread_rwlock_rdlock(&stripe[s]);
        for (int i = s; i < NREC; i += NSTRIPE) {
          const struct rec *r = &slots[i];
          if (r->a + r->b != INV || r->tag != tag_of(r->key, r->version))
            violations[me]++;
          uint64_t x = r->tag ^ h;
          for (int k = 0; k < 30; k++)
            x = mix64(x);
          h += x;
        }
        pthread_rwlock_unlock(&stripe[s]);
      }
      pthread_rwlock_unlock(&layout);
      sink = h;
      if (sc % 4 == me % 4)
        nap_us(300);
    }
    pthread_barrier_wait(&bar); /* phase done */
    pthread_barrier_wait(&bar); /* main has printed */
  }
  (void)sink;
  return NULL;
}

static void *writer(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int ph = 0; ph < phases; ph++) {
    for (int u = 0; u < UPDATES; u++) {
      uint64_t r = mix64(((uint64_t)ph << 40) ^ ((uint64_t)me << 32) ^
                         (uint64_t)u);
      int key = (int)(r % NREC);
      int64_t d = (int64_t)((r >> 20) % 2001) - 1000;
      pthread_rwlock_rdlock(&layout);
      int s = pos[key];
      pthread_rwlock_t *l = &stripe[s % NSTRIPE];
      if (me == 0) {
        struct timespec ts;
        do {
          clock_gettime(CLOCK_REALTIME, &ts);
          ts.tv_sec += 30;
        } while (pthread_rwlock_timedwrlock(l, &ts) == ETIMEDOUT);
      } else if (pthread_rwlock_trywrlock(l) != 0) {
        pthread_rwlock_wrlock(l);
      }
      struct rec *rc = &slots[s];
      rc->a += d;
      rc->b -= d;
      rc->version++;
      rc->tag = tag_of(rc->key, rc->version);
      pthread_rwlock_unlock(l);
      pthread_rwlock_unlock(&layout);
    }
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

/* move every record `by` slots on, under the global write lock */
static void relayout(int by) {
  static struct rec tmp[NREC];
  pthread_rwlock_wrlock(&layout);
  for (int i = 0; i < NREC; i++)
    tmp[(i + by) % NREC] = slots[i];
  for (int i = 0; i < NREC; i++) {
    slots[i] = tmp[i];
    pos[slots[i].key] = i;
  }
  pthread_rwlock_unlock(&layout);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  phases = 22 * scale;
  slots = calloc(NREC, sizeof *slots);
  pos = calloc(NREC, sizeof *pos);
  if (!slots || !pos)
    return 1;
  for (int i = 0; i < NREC; i++) {
    int k = (int)((i * 5 + 3) % NREC); /* keys scattered over the slots */
    slots[i].key = (uint64_t)k;
    slots[i].a = (int64_t)(mix64((uint64_t)k) % 1000000);
    slots[i].b = INV - slots[i].a;
    slots[i].version = 0;
    slots[i].tag = tag_of((uint64_t)k, 0);
    pos[k] = i;
  }
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setkind_np(&ra,
                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  for (int s = 0; s < NSTRIPE; s++)
    pthread_rwlock_init(&stripe[s], &ra);
  pthread_rwlockattr_destroy(&ra);
  pthread_barrier_init(&bar, NULL, NR + NW + 1);
  printf("threads_rwtable: %d records, %d stripes, %d readers, %d writers, "
         "%d phases\n",
         NREC, NSTRIPE, NR, NW, phases);

  pthread_t tr[NR], tw[NW];
  for (int i = 0; i < NR; i++)
    if (pthread_create(&tr[i], NULL, reader, (void *)(intptr_t)i))
      return 1;
  for (int i = 0; i < NW; i++)
    if (pthread_create(&tw[i], NULL, writer, (void *)(intptr_t)i))
      return 1;

  for (int ph = 0; ph < phases; ph++) {
    nap_us(20000);
    relayout(ph * 37 + 1);
    nap_us(30000);
    relayout(NREC - 17);
    pthread_barrier_wait(&bar);
    /* everyone else waits at the second barrier: read freely */
    uint64_t h = 0, vsum = 0;
    int64_t asum = 0;
    long bad = 0;
    for (int k = 0; k < NREC; k++) {
      const struct rec *r = &slots[pos[k]];
      h = mix64(h ^ (uint64_t)r->a ^ (r->version << 40));
      vsum += r->version;
      asum += r->a;
    }
    for (int i = 0; i < NR; i++)
      bad += violations[i];
    printf("phase %2d: updates %llu sum(a) %lld hash %016llx violations %ld "
           "slot0 key %llu\n",
           ph + 1, (unsigned long long)vsum, (long long)asum,
           (unsigned long long)h, bad, (unsigned long long)slots[0].key);
    pthread_barrier_wait(&bar);
  }
  for (int i = 0; i < NR; i++)
    pthread_join(tr[i], NULL);
  for (int i = 0; i < NW; i++)
    pthread_join(tw[i], NULL);
  uint64_t h = 0;
  for (int k = 0; k < NREC; k++)
    h = mix64(h ^ slots[pos[k]].tag);
  printf("done: tag hash %016llx\n", (unsigned long long)h);
  for (int s = 0; s < NSTRIPE; s++)
    pthread_rwlock_destroy(&stripe[s]);
  free(slots);
  free(pos);
  return 0;
}
