/* threads_mallocchurn.c - e2e program (threads): the allocator's per-thread
 * caches across checkpoints.
 *
 * 10 waves of 4 workers; each wave's threads take the stack slots (and so
 * any caches) the previous wave's left. A worker churns a window of 256
 * blocks: mostly 16..512 bytes, some of 1..3 KiB and a few of 64 KiB;
 * malloc, calloc (checked zero), realloc growth (prefix checked) and free,
 * and hands blocks to other threads through a mailbox table under a mutex,
 * so that most frees of a small block go into the freeing thread's cache
 * and many of those blocks were allocated by another thread. Every block
 * carries its size and a tag and a pattern derived from them, checked
 * whenever the block is touched, freed or taken from a mailbox. A
 * checkpoint lands with blocks live, cached and in mailboxes.
 *
 * Printed: per wave, the sum over the workers (in thread order) of a hash
 * of their own blocks (independent of the interleaving), and at the end the
 * number of damaged blocks seen (0) and the blocks left in the mailboxes.
 *
 * Usage: threads_mallocchurn [scale]   (default 1; ~1.9 s at -O2)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NW 4
#define WAVES 10
#define WINDOW 256
#define MAILBOXES 64
#define OPS_PER_WAVE 320000L

struct block {
  size_t n; /* bytes of data */
  uint64_t tag;
  unsigned char data[];
};

static pthread_mutex_t mailbox_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *mailbox[MAILBOXES];
static long damaged; /* main thread only */
static long scale = 1;

static uint64_t rng_next(uint64_t *state) { /* xorshift64* */
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static unsigned char pattern(uint64_t tag, size_t i) {
  return (unsigned char)(tag + i * 31 + (i >> 7));
}

/* The pattern covers the first and last EDGE bytes of a block (all of a
 * small one): the time goes to the allocator, not to checking 64 KiB. */
#define EDGE 256

static void fill(struct block *b) {
  for (size_t i = 0; i < b->n; i++) {
    if (i == EDGE && b->n > 2 * EDGE)
      i = b->n - EDGE;
    b->data[i] = pattern(b->tag, i);
  }
}

static int intact(const struct block *b) {
  for (size_t i = 0; i < b->n; i++) {
    if (i == EDGE && b->n > 2 * EDGE)
      i = b->n - EDGE;
    if (b->data[i] != pattern(b->tag, i))
      return 0;
  }
  return 1;
}

static size_t pick_size(uint64_t *rng) {
  uint64_t r = rng_next(rng);
  unsigned kind = (unsigned)(r % 64);
  if (kind == 0)
    return 65536 + (size_t)((r >> 8) % 4096);
  if (kind < 6)
    return 1024 + (size_t)((r >> 8) % 2048);
  return (size_t)((r >> 8) % 497);
}

static struct block *new_block(uint64_t *rng, long *errors) {
  size_t n = pick_size(rng);
  int zeroed = rng_next(rng) % 8 == 0;
  struct block *b = zeroed ? calloc(1, sizeof(*b) + n) : malloc(sizeof(*b) + n);
  if (!b) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  /* All zero: the first byte is, and every byte equals the next. */
  if (zeroed && n && (b->data[0] || memcmp(b->data, b->data + 1, n - 1)))
    ++*errors;
  b->n = n;
  b->tag = rng_next(rng);
  fill(b);
  return b;
}

struct worker {
  int wave, id;
  uint64_t hash;
  long errors;
};

static void *work(void *arg) {
  struct worker *w = arg;
  uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->wave * NW + w->id + 1);
  struct block *live[WINDOW] = {0};
  uint64_t hash = 0;
  long errors = 0;
  long ops = OPS_PER_WAVE / NW * scale;
  for (long op = 0; op < ops; op++) {
    unsigned k = (unsigned)(rng_next(&rng) % WINDOW);
    unsigned what = (unsigned)(rng_next(&rng) % 16);
    struct block *b = live[k];
    if (!b) {
      live[k] = new_block(&rng, &errors);
      continue;
    }
    if (!intact(b))
      errors++;
    hash = hash * 1099511628211ULL + (b->tag ^ b->n);
    if (what == 0 && b->n < 100000) {
      /* Grow it, keeping the contents. */
      size_t n = b->n + 1 + (size_t)(rng_next(&rng) % 700);
      b = realloc(b, sizeof(*b) + n);
      if (!b) {
        fprintf(stderr, "out of memory\n");
        exit(1);
      }
      if (!intact(b)) /* the old size's edges */
        errors++;
      b->n = n;
      fill(b);
      live[k] = b;
    } else if (what < 4) {
      /* Hand it to whichever thread comes next to this mailbox. */
      unsigned m = (unsigned)(rng_next(&rng) % MAILBOXES);
      pthread_mutex_lock(&mailbox_lock);
      struct block *theirs = mailbox[m];
      mailbox[m] = b;
      pthread_mutex_unlock(&mailbox_lock);
      live[k] = NULL;
      if (theirs) {
        if (!intact(theirs))
          errors++;
        free(theirs);
      }
    } else {
      free(b);
      live[k] = NULL;
    }
  }
  for (unsigned k = 0; k < WINDOW; k++)
    if (live[k]) {
      if (!intact(live[k]))
        errors++;
      hash = hash * 1099511628211ULL + (live[k]->tag ^ live[k]->n);
      free(live[k]);
    }
  w->hash = hash;
  w->errors = errors;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1)
    scale = atol(argv[1]);
  if (scale < 1)
    scale = 1;
  for (int wave = 0; wave < WAVES; wave++) {
    pthread_t threads[NW];
    struct worker workers[NW];
    for (int i = 0; i < NW; i++) {
      workers[i] = (struct worker){wave, i, 0, 0};
      if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
      }
    }
    uint64_t sum = 0;
    for (int i = 0; i < NW; i++) {
      pthread_join(threads[i], NULL);
      sum = sum * 31 + workers[i].hash;
      damaged += workers[i].errors;
    }
    printf("wave %d: hash %016llx\n", wave, (unsigned long long)sum);
    fflush(stdout);
  }
  int left = 0;
  for (int m = 0; m < MAILBOXES; m++)
    if (mailbox[m]) {
      if (!intact(mailbox[m]))
        damaged++;
      free(mailbox[m]);
      left++;
    }
  printf("damaged blocks: %ld\nblocks left in mailboxes: %d\n", damaged, left);
  return damaged != 0;
}
