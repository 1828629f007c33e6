/* test/unit/heap_test.c - unit test of the fixed-address allocator (runtime/heap.c): both heaps, stress, threads, and save/unmap/restore of the application arena. */

/*
 * The test's own bookkeeping uses the sanitizer's malloc; the allocator under
 * test is called only by its ckpt_heap_* names. Every block carries a pattern
 * derived from a tag so that any overlap or lost byte shows up when it is
 * checked. The seed can be set with HEAP_TEST_SEED to replay a failure.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "heap_test:%d: check failed: %s: ", __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define MIB ((size_t)1 << 20)
#define PAGE 4096u
/* A large free chunk is released in aligned 512 KiB granules, so up to one
 * partial granule at each end stays resident. */
#define RELEASE_SLACK_PAGES (2 * 128 + 2)

static const struct ckpt_heap_arena_head *const app_head =
    (const struct ckpt_heap_arena_head *)(uintptr_t)CKPT_HEAP_BASE;

/* The runtime's record of the calling thread (frames.c defines it in
 * libckpt). A thread with one has a slot, and the allocator gives it a
 * cache; tests that check block placement run before the main thread gets
 * one. */
__thread struct ckpt_thread *ckpt_self;
static struct ckpt_thread slot_records[16];

static void become_slot(uint32_t slot) {
  slot_records[slot].slot = slot;
  ckpt_self = &slot_records[slot];
}

/* ---- Helpers ------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *state) { /* xorshift64* */
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static size_t rng_below(uint64_t *state, size_t n) {
  return (size_t)(rng_next(state) % n);
}

static bool in_app(const void *p) {
  return (uintptr_t)p - CKPT_HEAP_BASE < CKPT_HEAP_MAX;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline uint8_t pattern_byte(uint64_t tag, size_t i) {
  uint64_t x = (tag + i) * 0x9E3779B97F4A7C15ULL;
  return (uint8_t)(x >> 56);
}

/* Large blocks get the pattern on their first and last 4 KiB and one byte
 * per page in between: enough to catch overlaps, cheap for 1 MiB blocks. */
static bool pattern_index_used(size_t i, size_t n) {
  return i < 4096 || n - i <= 4096 || i % PAGE == 123;
}

static void pattern_fill(void *p, size_t n, uint64_t tag) {
  uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    if (!pattern_index_used(i, n)) {
      i += PAGE - 1 - i % PAGE + 123;
      if (i >= n)
        break;
    }
    b[i] = pattern_byte(tag, i);
  }
}

/* Index of the first byte of [0, limit) that differs from the pattern
 * written by pattern_fill(p, n, tag), or limit. */
static size_t pattern_check_prefix(const void *p, size_t limit, size_t n,
                                   uint64_t tag) {
  const uint8_t *b = p;
  for (size_t i = 0; i < limit; i++) {
    if (!pattern_index_used(i, n)) {
      i += PAGE - 1 - i % PAGE + 123;
      if (i >= limit)
        break;
      if (!pattern_index_used(i, n))
        continue;
    }
    if (b[i] != pattern_byte(tag, i))
      return i;
  }
  return limit;
}

static size_t pattern_check(const void *p, size_t n, uint64_t tag) {
  return pattern_check_prefix(p, n, n, tag);
}

static bool all_zero(const void *p, size_t n) {
  static const uint8_t zeros[PAGE];
  const uint8_t *b = p;
  for (size_t off = 0; off < n; off += PAGE) {
    size_t len = n - off < PAGE ? n - off : PAGE;
    if (memcmp(b + off, zeros, len) != 0)
      return false;
  }
  return true;
}

/* Number of pages of [p, p+n) (page-aligned inward) that are resident. */
static size_t resident_pages(const void *p, size_t n) {
  uintptr_t lo = ((uintptr_t)p + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
  uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(PAGE - 1);
  if (hi <= lo)
    return 0;
  size_t pages = (hi - lo) / PAGE;
  unsigned char *vec = malloc(pages);
  CHECK(vec, "out of memory");
  CHECK(mincore((void *)lo, hi - lo, vec) == 0, "mincore: %s", strerror(errno));
  size_t resident = 0;
  for (size_t i = 0; i < pages; i++)
    resident += vec[i] & 1;
  free(vec);
  return resident;
}

static void check_heaps(const char *where) {
  CHECK(ckpt_heap_app_check() == 0, "application heap inconsistent %s", where);
  CHECK(ckpt_heap_sys_check() == 0, "system heap inconsistent %s", where);
}

static struct ckpt_heap_stats app_stats(void) {
  struct ckpt_heap_stats st;
  CHECK(ckpt_heap_app_stats(&st) == 0, "no application heap");
  return st;
}

/* Caches in the application heap: the arena's own count has each cache
 * and each cached chunk as allocated, the statistics have neither (and the
 * cached chunks as free). */
static uint64_t cached_chunks(void) {
  return app_stats().free_chunks - app_head->stats.free_chunks;
}
static uint64_t cache_count(void) {
  return app_head->stats.allocated_chunks - app_stats().allocated_chunks -
         cached_chunks();
}

static struct ckpt_heap_stats sys_stats(void) {
  struct ckpt_heap_stats st;
  CHECK(ckpt_heap_sys_stats(&st) == 0, "no system heap");
  return st;
}

/* ---- Shadow model ---------------------------------------------------------
 * A set of live blocks with their sizes and pattern tags. */

struct block {
  void *p;
  size_t n;
  uint64_t tag;
};

static void block_verify(const struct block *b, const char *where) {
  size_t bad = pattern_check(b->p, b->n, b->tag);
  CHECK(bad == b->n, "%s: block %p (%zu bytes) differs at byte %zu", where,
        b->p, b->n, bad);
}

static size_t random_size(uint64_t *rng) {
  unsigned r = (unsigned)rng_below(rng, 1000);
  if (r < 700)
    return rng_below(rng, 129);
  if (r < 900)
    return 129 + rng_below(rng, 4096);
  if (r < 990)
    return 4096 + rng_below(rng, 64 * 1024);
  return 64 * 1024 + rng_below(rng, MIB);
}

static void expect_heap(const void *p, bool app, const char *what) {
  CHECK(in_app(p) == app, "%s: %p is in the %s heap", what, p,
        in_app(p) ? "application" : "system");
  CHECK(((uintptr_t)p & 15) == 0, "%s: %p is not 16-byte aligned", what, p);
}

/* Random mix of malloc, calloc, memalign, realloc and free over `slots`
 * slots, checking every block's contents whenever it is touched. */
static void stress(bool app, size_t slots, size_t ops, uint64_t seed) {
  ckpt_heap_use_app = app;
  struct block *set = calloc(slots, sizeof(*set));
  CHECK(set, "out of memory");
  uint64_t rng = seed;
  for (size_t op = 0; op < ops; op++) {
    struct block *b = &set[rng_below(&rng, slots)];
    if (!b->p) {
      size_t n = random_size(&rng);
      unsigned how = (unsigned)rng_below(&rng, 10);
      if (how < 6) {
        b->p = ckpt_heap_malloc(n);
      } else if (how < 9) {
        b->p = ckpt_heap_calloc(1, n);
        CHECK(b->p && all_zero(b->p, n), "calloc(%zu) not zeroed", n);
      } else {
        size_t align = (size_t)16 << rng_below(&rng, 9);
        b->p = ckpt_heap_memalign(align, n);
        CHECK(((uintptr_t)b->p & (align - 1)) == 0, "memalign(%zu) gave %p",
              align, b->p);
      }
      CHECK(b->p, "allocation of %zu bytes failed", n);
      expect_heap(b->p, app, "stress");
      CHECK(ckpt_heap_usable_size(b->p) >= n, "usable size too small");
      b->n = n;
      b->tag = rng_next(&rng);
      pattern_fill(b->p, n, b->tag);
    } else if (rng_below(&rng, 10) < 6) {
      block_verify(b, "before free");
      ckpt_heap_free(b->p);
      b->p = NULL;
    } else {
      block_verify(b, "before realloc");
      size_t n = random_size(&rng) + 1;
      void *q = ckpt_heap_realloc(b->p, n);
      CHECK(q, "realloc to %zu failed", n);
      expect_heap(q, app, "realloc");
      b->p = q;
      size_t kept = b->n < n ? b->n : n;
      size_t bad = pattern_check_prefix(q, kept, b->n, b->tag);
      CHECK(bad == kept, "realloc %zu -> %zu lost byte %zu", b->n, n, bad);
      b->n = n;
      b->tag = rng_next(&rng);
      pattern_fill(b->p, n, b->tag);
    }
    if (op % 50000 == 0)
      check_heaps("during stress");
  }
  for (size_t i = 0; i < slots; i++)
    if (set[i].p) {
      block_verify(&set[i], "at the end");
      ckpt_heap_free(set[i].p);
    }
  free(set);
  check_heaps("after stress");
  ckpt_heap_use_app = 0;
}

/* ---- Individual tests ---------------------------------------------------- */

static void test_before_init(void) {
  /* The flag alone does not send allocations to a heap that is not there. */
  ckpt_heap_use_app = 1;
  void *p = ckpt_heap_malloc(100);
  CHECK(p && !in_app(p), "malloc before init gave %p", p);
  ckpt_heap_free(p);
  ckpt_heap_use_app = 0;
  CHECK(ckpt_heap_app_end() == CKPT_HEAP_BASE, "app end before init");
  struct ckpt_heap_stats st;
  CHECK(ckpt_heap_app_stats(&st) == -1, "stats before init");
  CHECK(ckpt_heap_init_app() == 0, "ckpt_heap_init_app: %s", strerror(errno));
  CHECK(ckpt_heap_init_app() == 0, "second ckpt_heap_init_app");
  CHECK(ckpt_heap_app_end() > CKPT_HEAP_BASE, "app end after init");
  CHECK(app_head->magic == CKPT_HEAP_ARENA_MAGIC, "no arena head at the base");
}

static void test_basics(bool app) {
  ckpt_heap_use_app = app;
  void *zero1 = ckpt_heap_malloc(0), *zero2 = ckpt_heap_malloc(0);
  CHECK(zero1 && zero2 && zero1 != zero2, "malloc(0) blocks not unique");
  expect_heap(zero1, app, "malloc(0)");
  ckpt_heap_free(zero1);
  ckpt_heap_free(zero2);
  ckpt_heap_free(NULL);
  CHECK(ckpt_heap_usable_size(NULL) == 0, "usable_size(NULL)");
  for (size_t n = 0; n < 5000; n += 7) {
    void *p = ckpt_heap_malloc(n);
    size_t usable = ckpt_heap_usable_size(p);
    CHECK(p && usable >= n && usable < n + 48, "malloc(%zu): usable %zu", n,
          usable);
    memset(p, 0x5a, usable);
    ckpt_heap_free(p);
  }
  errno = 0;
  CHECK(ckpt_heap_malloc(SIZE_MAX) == NULL && errno == ENOMEM,
        "malloc(SIZE_MAX)");
  errno = 0;
  CHECK(ckpt_heap_malloc((size_t)1 << 60) == NULL && errno == ENOMEM,
        "malloc(2^60)");
  errno = 0;
  CHECK(ckpt_heap_calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM,
        "calloc overflow");
  /* Below the request limit but beyond what either arena can hold. */
  size_t too_big = (size_t)1 << 43;
  errno = 0;
  CHECK(ckpt_heap_malloc(too_big) == NULL && errno == ENOMEM,
        "malloc(8 TiB)");
  errno = 0;
  CHECK(ckpt_heap_memalign(64, too_big) == NULL && errno == ENOMEM,
        "memalign(64, 8 TiB)");
  void *p = ckpt_heap_realloc(NULL, 40);
  CHECK(p, "realloc(NULL, 40)");
  expect_heap(p, app, "realloc(NULL)");
  memset(p, 0x31, 40);
  errno = 0;
  CHECK(ckpt_heap_realloc(p, too_big) == NULL && errno == ENOMEM,
        "realloc to 8 TiB");
  CHECK(((char *)p)[39] == 0x31, "failed realloc damaged the block");
  errno = 0;
  CHECK(ckpt_heap_realloc(p, SIZE_MAX - 8) == NULL && errno == ENOMEM,
        "realloc to SIZE_MAX");
  CHECK(ckpt_heap_realloc(p, 0) == NULL, "realloc(p, 0) frees");
  ckpt_heap_use_app = 0;
  check_heaps("after basics");
}

/* Needs a heap with nothing in its bins (run right after test_calloc): it
 * checks that consecutive blocks are adjacent. */
static void test_realloc(bool app) {
  ckpt_heap_use_app = app;
  /* Growth into a free neighbour stays in place. */
  char *a = ckpt_heap_malloc(100), *b = ckpt_heap_malloc(100);
  void *guard = ckpt_heap_malloc(16);
  /* 100 bytes and the 8-byte size word, rounded up to 16. */
  CHECK(b == a + 112, "expected adjacent blocks, got %p %p", (void *)a,
        (void *)b);
  pattern_fill(a, 100, 1);
  ckpt_heap_free(b);
  char *a2 = ckpt_heap_realloc(a, 200);
  CHECK(a2 == a, "realloc into a free neighbour moved %p -> %p", (void *)a,
        (void *)a2);
  CHECK(pattern_check(a2, 100, 1) == 100, "content lost growing in place");
  /* Shrinking stays in place and returns the tail. */
  a2 = ckpt_heap_realloc(a, 20);
  CHECK(a2 == a && ckpt_heap_usable_size(a) < 48, "shrink moved or kept tail");
  CHECK(pattern_check(a2, 20, 1) == 20, "content lost shrinking");
  /* Growth with an in-use neighbour moves, keeping contents. */
  char *c = ckpt_heap_malloc(64), *d = ckpt_heap_malloc(64);
  pattern_fill(c, 64, 2);
  pattern_fill(d, 64, 3);
  char *c2 = ckpt_heap_realloc(c, 10000);
  CHECK(c2 && c2 != c, "realloc past an in-use neighbour did not move");
  expect_heap(c2, app, "moved realloc");
  CHECK(pattern_check(c2, 64, 2) == 64, "content lost moving");
  CHECK(pattern_check(d, 64, 3) == 64, "neighbour damaged");
  /* A block at the top grows in place, to several granules. Bigger than all
   * free memory, so it must come from the top. */
  struct ckpt_heap_stats st;
  CHECK((app ? ckpt_heap_app_stats(&st) : ckpt_heap_sys_stats(&st)) == 0,
        "stats");
  size_t n = st.free_bytes + 4096;
  char *t = ckpt_heap_malloc(n);
  CHECK(t, "malloc(%zu)", n);
  pattern_fill(t, n, 4);
  char *t2 = ckpt_heap_realloc(t, n + 100 * MIB);
  CHECK(t2 == t, "realloc at the top moved");
  CHECK(pattern_check(t2, n, 4) == n, "content lost growing at the top");
  t2[n + 100 * MIB - 1] = 1;
  if (app)
    CHECK(ckpt_heap_app_end() >= (uintptr_t)t2 + n + 100 * MIB,
          "app end below the block");
  t2 = ckpt_heap_realloc(t, 1000);
  CHECK(t2 == t, "shrinking the top block moved it");
  ckpt_heap_free(t2);
  ckpt_heap_free(guard);
  ckpt_heap_free(a);
  ckpt_heap_free(c2);
  ckpt_heap_free(d);
  ckpt_heap_use_app = 0;
  check_heaps("after realloc");
}

static void test_memalign(bool app) {
  ckpt_heap_use_app = app;
  enum { N = 40 };
  void *blocks[N * 2];
  size_t count = 0;
  for (size_t align = 1; align <= 2 * MIB; align *= 2) {
    size_t sizes[] = {1, 100, 5000};
    for (size_t s = 0; s < 3; s++) {
      void *p = ckpt_heap_memalign(align, sizes[s]);
      CHECK(p && ((uintptr_t)p & (align - 1)) == 0 &&
                ((uintptr_t)p & 15) == 0,
            "memalign(%zu, %zu) gave %p", align, sizes[s], p);
      expect_heap(p, app, "memalign");
      CHECK(ckpt_heap_usable_size(p) >= sizes[s], "memalign usable size");
      memset(p, 0x77, sizes[s]);
      if (s == 1) {
        blocks[count++] = p; /* kept, so neighbours interleave */
        blocks[count++] = ckpt_heap_malloc(24);
      } else {
        ckpt_heap_free(p);
      }
    }
  }
  void *odd = ckpt_heap_memalign(48, 10); /* rounded up to 64 */
  CHECK(odd && ((uintptr_t)odd & 63) == 0, "memalign(48) gave %p", odd);
  ckpt_heap_free(odd);
  errno = 0;
  CHECK(ckpt_heap_memalign((size_t)1 << 62, 1) == NULL && errno == EINVAL,
        "absurd alignment accepted");
  check_heaps("with aligned blocks");
  for (size_t i = 0; i < count; i++)
    ckpt_heap_free(blocks[i]);
  ckpt_heap_use_app = 0;
  check_heaps("after memalign");
}

/* Needs a heap with nothing in its bins (run first): it checks that a block
 * freed between two neighbours is the one calloc hands back. */
static void test_calloc(bool app) {
  ckpt_heap_use_app = app;
  size_t sizes[] = {1, 16, 100, 1000, 5000, 100000, 300000, 2 * MIB + 5};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t n = sizes[i];
    void *before = ckpt_heap_malloc(16);
    void *p = ckpt_heap_malloc(n);
    void *after = ckpt_heap_malloc(16); /* keeps p off the top */
    memset(p, 0xab, ckpt_heap_usable_size(p));
    ckpt_heap_free(p);
    void *q = ckpt_heap_calloc(n, 1);
    CHECK(q == p, "calloc(%zu) did not reuse the block (%p, %p)", n, p, q);
    CHECK(all_zero(q, ckpt_heap_usable_size(q)), "calloc(%zu) not zero", n);
    ckpt_heap_free(q);
    ckpt_heap_free(before);
    ckpt_heap_free(after);
  }
  /* A large free chunk gives its pages back and stays zero inside (when
   * the heap keeps none resident: see test_retain). */
  size_t retain = ckpt_heap_set_retain_limit(0);
  void *lo = ckpt_heap_malloc(16);
  char *big = ckpt_heap_malloc(8 * MIB);
  void *hi = ckpt_heap_malloc(16);
  memset(big, 0xcd, 8 * MIB);
  CHECK(resident_pages(big, 8 * MIB) > 2000, "pages of a written block");
  ckpt_heap_free(big);
  CHECK(resident_pages(big, 8 * MIB) <= RELEASE_SLACK_PAGES,
        "free 8 MiB chunk still has %zu resident pages",
        resident_pages(big, 8 * MIB));
  /* Reuses it, zero for free. (Reading the zero pages would map them, so
   * residency is checked first.) */
  char *part = ckpt_heap_calloc(1, 3 * MIB);
  CHECK(part == big, "calloc did not reuse the released chunk");
  CHECK(resident_pages(part, 3 * MIB) <= RELEASE_SLACK_PAGES,
        "calloc touched %zu zero pages", resident_pages(part, 3 * MIB));
  CHECK(all_zero(part, 3 * MIB), "calloc from released chunk not zero");
  ckpt_heap_free(part);
  ckpt_heap_free(lo);
  ckpt_heap_free(hi);
  /* The same at the top of the arena. */
  char *top = ckpt_heap_malloc(16 * MIB);
  memset(top, 0xef, 16 * MIB);
  ckpt_heap_free(top);
  CHECK(resident_pages(top, 16 * MIB) <= 2, "trimmed top still resident");
  char *again = ckpt_heap_calloc(16, MIB);
  CHECK(again == top && all_zero(again, 16 * MIB), "calloc from trimmed top");
  ckpt_heap_free(again);
  ckpt_heap_set_retain_limit(retain);
  ckpt_heap_use_app = 0;
  check_heaps("after calloc");
}

/* Large free chunks stay resident up to the limit, in the bins and above
 * the top; past it they are released as before. */
static void test_retain(bool app) {
  ckpt_heap_use_app = app;
  size_t retain = ckpt_heap_set_retain_limit(5 * MIB);
  void *guards[4];
  char *blocks[3];
  for (int i = 0; i < 3; i++) {
    guards[i] = ckpt_heap_malloc(16);
    blocks[i] = ckpt_heap_malloc(2 * MIB);
    CHECK(blocks[i], "malloc(2 MiB)");
    memset(blocks[i], 0xa5, 2 * MIB);
  }
  guards[3] = ckpt_heap_malloc(16); /* keeps the last block off the top */
  for (int i = 0; i < 3; i++)
    ckpt_heap_free(blocks[i]);
  /* Two fit in 5 MiB; the third is released. */
  CHECK(resident_pages(blocks[0], 2 * MIB) > 500 &&
            resident_pages(blocks[1], 2 * MIB) > 500,
        "freed 2 MiB chunks within the limit were released");
  CHECK(resident_pages(blocks[2], 2 * MIB) <= RELEASE_SLACK_PAGES,
        "a freed chunk past the limit still has %zu resident pages",
        resident_pages(blocks[2], 2 * MIB));
  check_heaps("with resident free chunks");
  /* A resident chunk is reused, and calloc clears it. (The released one is
   * the latest freed, first in its bin: taken first.) */
  char *released = ckpt_heap_malloc(2 * MIB);
  CHECK(released == blocks[2], "malloc did not take the latest freed chunk");
  char *again = ckpt_heap_calloc(1, 2 * MIB);
  CHECK(again == blocks[0] || again == blocks[1],
        "calloc did not reuse a resident chunk");
  CHECK(all_zero(again, 2 * MIB), "calloc from a resident chunk not zero");
  char *part = ckpt_heap_malloc(MIB); /* splits the other one */
  CHECK(part == blocks[0] || part == blocks[1], "malloc did not reuse");
  check_heaps("after reusing resident chunks");
  ckpt_heap_free(again);
  ckpt_heap_free(part);
  ckpt_heap_free(released);
  for (int i = 0; i < 4; i++)
    ckpt_heap_free(guards[i]);
  check_heaps("after freeing around resident chunks");
  /* Above the top: kept within the limit, released past it. */
  char *top = ckpt_heap_malloc(3 * MIB);
  memset(top, 0x5a, 3 * MIB);
  ckpt_heap_free(top);
  CHECK(resident_pages(top, 3 * MIB) > 700, "3 MiB above the top released");
  top = ckpt_heap_malloc(8 * MIB);
  memset(top, 0x5a, 8 * MIB);
  ckpt_heap_free(top);
  CHECK(resident_pages(top, 8 * MIB) <= 2, "8 MiB above the top kept");
  ckpt_heap_set_retain_limit(retain);
  ckpt_heap_use_app = 0;
  check_heaps("after retain");
}

static void test_many_small(bool app) {
  enum { COUNT = 1000000 };
  ckpt_heap_use_app = app;
  void **ptrs = malloc(COUNT * sizeof(*ptrs));
  CHECK(ptrs, "out of memory");
  uint64_t rng = 7;
  size_t sizes[64];
  for (size_t i = 0; i < 64; i++)
    sizes[i] = 8 + rng_below(&rng, 120);
  double t0 = now_ms();
  for (size_t i = 0; i < COUNT; i++) {
    ptrs[i] = ckpt_heap_malloc(sizes[i & 63]);
    *(volatile char *)ptrs[i] = 1;
  }
  double t1 = now_ms();
  for (size_t i = 0; i < COUNT; i += 2)
    ckpt_heap_free(ptrs[i]);
  for (size_t i = 1; i < COUNT; i += 2)
    ckpt_heap_free(ptrs[i]);
  double t2 = now_ms();
  /* Alternating malloc/free over a window of 1024 live blocks, the common
   * steady state. */
  for (size_t i = 0; i < 1024; i++)
    ptrs[i] = NULL;
  for (size_t i = 0; i < COUNT; i++) {
    void *p = ckpt_heap_malloc(sizes[i & 63]);
    ckpt_heap_free(ptrs[i & 1023]);
    ptrs[i & 1023] = p;
  }
  double t3 = now_ms();
  for (size_t i = 0; i < 1024; i++)
    ckpt_heap_free(ptrs[i]);
  free(ptrs);
  printf("heap_test: %s: 1M small mallocs %.0f ms, 1M frees %.0f ms, "
         "1M malloc+free pairs %.0f ms (sanitized build)\n",
         !app       ? "system heap"
         : ckpt_self ? "application heap, thread cache"
                     : "application heap, no cache",
         t1 - t0, t2 - t1, t3 - t2);
  ckpt_heap_use_app = 0;
  check_heaps("after 1M small");
}

/* Two threads in turn in slot 8: the first leaves without returning its
 * cache, the second must adopt it (and return it). */
struct slot8_run {
  void *block;
  bool finish;
};

static void *slot8_main(void *arg) {
  struct slot8_run *run = arg;
  become_slot(8);
  ckpt_heap_use_app = 1;
  run->block = ckpt_heap_malloc(300);
  CHECK(run->block, "malloc in slot 8");
  ckpt_heap_free(run->block);
  if (run->finish)
    ckpt_heap_thread_exit();
  return NULL;
}

static void expect_free_aborts(void *p, bool free_first, const char *what);

static void test_caches(void) {
  CHECK(ckpt_self, "the main thread has no slot");
  ckpt_heap_use_app = 1;
  /* A small block freed goes to the thread's cache: free in the
   * statistics, not a live block, and the next block of its size. */
  ckpt_heap_free(ckpt_heap_malloc(100));
  struct ckpt_heap_stats s0 = app_stats();
  void *p = ckpt_heap_malloc(100);
  struct ckpt_heap_stats s1 = app_stats();
  CHECK(s1.allocated_chunks == s0.allocated_chunks + 1 &&
            s1.allocated_bytes == s0.allocated_bytes + 104 &&
            s1.free_chunks == s0.free_chunks - 1,
        "statistics of a block taken from the cache");
  ckpt_heap_free(p);
  struct ckpt_heap_stats s2 = app_stats();
  CHECK(memcmp(&s0, &s2, sizeof(s0)) == 0, "statistics after a cached free");
  CHECK(app_head->stats.allocated_chunks > s2.allocated_chunks,
        "the arena's own count lost the cached chunk");
  uintptr_t payload;
  size_t usable;
  CHECK(ckpt_heap_app_find_block((uintptr_t)p, &payload, &usable) == -1,
        "a cached chunk is found as a live block");
  CHECK(ckpt_heap_malloc(100) == p, "the cache is not last in, first out");
  ckpt_heap_free(p);
  check_heaps("with cached chunks");

  /* A list past its limit (64 48-byte chunks) gives half to the depot,
   * which keeps them cached until the heap would grow or a request larger
   * than any cached size comes: that empties the depot. */
  enum { MANY = 300 };
  void *blocks[MANY];
  ckpt_heap_free(ckpt_heap_malloc(4000));
  uint64_t cached0 = cached_chunks(); /* thread lists only */
  for (size_t i = 0; i < MANY; i++)
    CHECK((blocks[i] = ckpt_heap_malloc(40)), "malloc(40)");
  for (size_t i = 0; i < MANY; i++)
    ckpt_heap_free(blocks[i]);
  /* All 300 are cached, less what the thread's list held before (up to
   * 64), plus what it kept of its last refill (up to 31). */
  CHECK(cached_chunks() >= cached0 + MANY - 64 &&
            cached_chunks() <= cached0 + MANY + 31,
        "the thread's list and the depot hold %" PRIu64 " more chunks",
        cached_chunks() - cached0);
  check_heaps("after overfilling a cache list");
  /* Freeing a block in the depot again is a double free: in the order
   * above, all but the last 64 or fewer went to the depot. */
  for (size_t i = 40; i < 160; i += 50)
    expect_free_aborts(blocks[i], false, "double free of a depot chunk");
  void *stay = ckpt_heap_malloc(40);
  ckpt_heap_free(ckpt_heap_malloc(1500));
  CHECK(cached_chunks() <= cached0 + 64,
        "a large malloc left %" PRIu64 " more chunks cached",
        cached_chunks() - cached0);
  ckpt_heap_free(stay);
  check_heaps("after emptying the depot");

  /* Small reallocs move through the cache; the contents come along. */
  char *r = ckpt_heap_malloc(20);
  pattern_fill(r, 20, 5);
  r = ckpt_heap_realloc(r, 500);
  CHECK(r && pattern_check(r, 20, 5) == 20, "small realloc lost data");
  CHECK(ckpt_heap_realloc(r, 495) == r, "a realloc within the chunk moved");
  r = ckpt_heap_realloc(r, 5000);
  CHECK(r && pattern_check(r, 20, 5) == 20, "realloc out of the caches");
  ckpt_heap_free(r);

  /* A restart that resets the runtime's TLS: the thread finds its cache
   * again by its slot. */
  void *t = ckpt_heap_malloc(200);
  ckpt_heap_free(t);
  ckpt_heap_thread_tls_reset();
  CHECK(ckpt_heap_malloc(200) == t,
        "after a TLS reset the thread did not find its cache");
  ckpt_heap_free(t);

  /* A cache left behind by a thread is adopted by the next in its slot. */
  uint64_t caches = cache_count();
  struct slot8_run first = {NULL, false}, second = {NULL, true};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, slot8_main, &first) == 0, "pthread_create");
  pthread_join(th, NULL);
  CHECK(cache_count() == caches + 1, "the first thread left no cache");
  CHECK(pthread_create(&th, NULL, slot8_main, &second) == 0, "pthread_create");
  pthread_join(th, NULL);
  CHECK(second.block == first.block, "slot 8's cache was not adopted");
  CHECK(cache_count() == caches, "a finished thread kept its cache");
  check_heaps("after threads in slot 8");
  ckpt_heap_use_app = 0;
}

static void test_big(void) {
  ckpt_heap_use_app = 1;
  size_t n = 256 * MIB;
  struct ckpt_heap_stats before = app_stats();
  char *p = ckpt_heap_malloc(n);
  CHECK(p, "malloc(256 MiB) failed: %s", strerror(errno));
  expect_heap(p, true, "256 MiB");
  CHECK(ckpt_heap_app_end() >= (uintptr_t)p + n, "arena not mapped that far");
  for (size_t i = 0; i < n; i += PAGE)
    p[i] = (char)(i >> 12);
  p[n - 1] = 9;
  for (size_t i = 0; i < n; i += PAGE)
    CHECK(p[i] == (char)(i >> 12), "256 MiB block byte %zu", i);
  struct ckpt_heap_stats during = app_stats();
  CHECK(during.allocated_chunks == before.allocated_chunks + 1 &&
            during.allocated_bytes >= before.allocated_bytes + n,
        "stats do not show the block");
  ckpt_heap_free(p);
  CHECK(resident_pages(p, n) <= RELEASE_SLACK_PAGES,
        "256 MiB still resident after free");
  struct ckpt_heap_stats after = app_stats();
  CHECK(after.allocated_chunks == before.allocated_chunks &&
            after.allocated_bytes == before.allocated_bytes,
        "stats after freeing 256 MiB");
  ckpt_heap_use_app = 0;
  check_heaps("after 256 MiB");
}

/* ---- Threads -------------------------------------------------------------
 * Each block starts with a header naming its size and tag, so a block
 * passed to another thread through a mailbox can be checked and freed
 * there. */

struct tagged {
  size_t n;
  uint64_t tag;
};

#define MAILBOXES 256
static void *mailbox[MAILBOXES];

static void *tagged_new(uint64_t *rng) {
  size_t n = sizeof(struct tagged) + random_size(rng) % 8192;
  struct tagged *t = ckpt_heap_malloc(n);
  CHECK(t, "thread malloc");
  t->n = n - sizeof(*t);
  t->tag = rng_next(rng);
  pattern_fill(t + 1, t->n, t->tag);
  return t;
}

static void tagged_free(void *p) {
  if (!p)
    return;
  struct tagged *t = p;
  CHECK(pattern_check(t + 1, t->n, t->tag) == t->n, "thread block damaged");
  ckpt_heap_free(p);
}

/* Workers 1 and 3 have slots (and so caches), 2 and 4 use the lock: blocks
 * pass between both kinds through the mailboxes. */
static void *thread_main(void *arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg * 0x1234567 + 99;
  bool has_slot = (uintptr_t)arg % 2 == 1;
  if (has_slot)
    become_slot((uint32_t)(uintptr_t)arg);
  enum { SLOTS = 512, OPS = 150000 };
  void *own[SLOTS] = {0};
  bool own_app[SLOTS] = {0};
  for (size_t op = 0; op < OPS; op++) {
    size_t i = rng_below(&rng, SLOTS);
    unsigned what = (unsigned)rng_below(&rng, 10);
    if (what == 0) {
      /* Hand a block to whichever thread finds it. */
      ckpt_heap_use_app = (int)rng_below(&rng, 2);
      void *mine = tagged_new(&rng);
      void *theirs = __atomic_exchange_n(&mailbox[rng_below(&rng, MAILBOXES)],
                                         mine, __ATOMIC_ACQ_REL);
      tagged_free(theirs);
    } else if (own[i]) {
      CHECK(in_app(own[i]) == own_app[i], "block changed heaps");
      if (what < 6) {
        tagged_free(own[i]);
        own[i] = NULL;
      } else {
        struct tagged *t = own[i];
        CHECK(pattern_check(t + 1, t->n, t->tag) == t->n, "block damaged");
        size_t n = sizeof(*t) + random_size(&rng) % 8192;
        t = ckpt_heap_realloc(t, n);
        CHECK(t && in_app(t) == own_app[i], "thread realloc");
        t->n = n - sizeof(*t);
        pattern_fill(t + 1, t->n, t->tag);
        own[i] = t;
      }
    } else {
      ckpt_heap_use_app = (int)rng_below(&rng, 2);
      own[i] = tagged_new(&rng);
      own_app[i] = ckpt_heap_use_app;
      CHECK(in_app(own[i]) == own_app[i], "thread block in the wrong heap");
    }
  }
  for (size_t i = 0; i < SLOTS; i++)
    tagged_free(own[i]);
  if (has_slot)
    ckpt_heap_thread_exit();
  return NULL;
}

static void test_threads(void) {
  struct ckpt_heap_stats app0 = app_stats(), sys0 = sys_stats();
  pthread_t threads[4];
  double t0 = now_ms();
  for (uintptr_t i = 0; i < 4; i++)
    CHECK(pthread_create(&threads[i], NULL, thread_main, (void *)(i + 1)) == 0,
          "pthread_create");
  for (int i = 0; i < 4; i++)
    pthread_join(threads[i], NULL);
  for (size_t i = 0; i < MAILBOXES; i++) {
    tagged_free(mailbox[i]);
    mailbox[i] = NULL;
  }
  printf("heap_test: 4 threads x 150000 ops: %.0f ms\n", now_ms() - t0);
  check_heaps("after threads");
  struct ckpt_heap_stats app1 = app_stats(), sys1 = sys_stats();
  CHECK(app1.allocated_chunks == app0.allocated_chunks &&
            sys1.allocated_chunks == sys0.allocated_chunks,
        "threads leaked blocks: app %" PRIu64 "->%" PRIu64 ", sys %" PRIu64
        "->%" PRIu64,
        app0.allocated_chunks, app1.allocated_chunks, sys0.allocated_chunks,
        sys1.allocated_chunks);
  CHECK(cache_count() == 1,
        "%" PRIu64 " caches after the threads finished; "
        "only the main thread's should be left",
        cache_count());
}

/* ---- fork and invalid frees ----------------------------------------------- */

static void test_fork(void) {
  ckpt_heap_use_app = 1;
  char *parent_block = ckpt_heap_malloc(100);
  pattern_fill(parent_block, 100, 42);
  pid_t pid = fork();
  CHECK(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    bool ok = pattern_check(parent_block, 100, 42) == 100;
    void *a = ckpt_heap_malloc(1000);
    ckpt_heap_use_app = 0;
    void *s = ckpt_heap_malloc(1000);
    ok = ok && in_app(a) && !in_app(s);
    ckpt_heap_free(a);
    ckpt_heap_free(s);
    ckpt_heap_free(parent_block);
    ok = ok && ckpt_heap_app_check() == 0 && ckpt_heap_sys_check() == 0;
    _exit(ok ? 0 : 1);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "forked child failed (status %d)", status);
  ckpt_heap_free(parent_block);
  ckpt_heap_use_app = 0;
}

/* Runs free(p) in a child; it must die of SIGABRT after printing the
 * invalid-pointer line. */
static void expect_free_aborts(void *p, bool free_first, const char *what) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  pid_t pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0) {
    dup2(fds[1], 2);
    if (free_first)
      ckpt_heap_free(p);
    ckpt_heap_free(p);
    _exit(0);
  }
  close(fds[1]);
  char out[512];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof(out) - 1 &&
         (r = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
  char expected[80];
  snprintf(expected, sizeof(expected),
           "ckpt: error: free(): invalid pointer %p\n", p);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
        "%s: child not aborted (status %d)", what, status);
  CHECK(strstr(out, expected), "%s: stderr was \"%s\"", what, out);
}

static void test_invalid_free(void) {
  for (int app = 0; app < 2; app++) {
    ckpt_heap_use_app = app;
    char *p = ckpt_heap_calloc(1, 256);
    char *q = ckpt_heap_malloc(64);
    expect_free_aborts(p, true, "double free");
    expect_free_aborts(p + 64, false, "pointer into a block");
    expect_free_aborts(p + 8, false, "misaligned pointer");
    ckpt_heap_free(q);
    expect_free_aborts(q, false, "freed block");
    ckpt_heap_free(p);
  }
  int on_stack;
  expect_free_aborts(&on_stack, false, "stack address");
  expect_free_aborts((void *)(uintptr_t)(CKPT_HEAP_BASE + CKPT_HEAP_MAX - 64),
                     false, "unused end of the arena");
  ckpt_heap_use_app = 0;
}

/* ---- Save, unmap, restore ------------------------------------------------ */

struct saved {
  uintptr_t *addr;
  size_t *len;
  size_t count, cap;
  uint8_t *bytes;
  size_t total, bytes_cap;
  uintptr_t end;
};

static int save_extent(void *ctx, uintptr_t addr, size_t len) {
  struct saved *s = ctx;
  CHECK(len > 0, "empty extent at %#" PRIxPTR, addr);
  CHECK(addr >= CKPT_HEAP_BASE && addr + len <= s->end,
        "extent [%#" PRIxPTR ", +%zu) outside the mapped arena", addr, len);
  if (s->count) {
    uintptr_t prev_end = s->addr[s->count - 1] + s->len[s->count - 1];
    CHECK(addr > prev_end, "extent at %#" PRIxPTR " not after (or touching) "
          "the previous one ending at %#" PRIxPTR, addr, prev_end);
  } else {
    CHECK(addr == CKPT_HEAP_BASE, "first extent is not the arena head");
  }
  if (s->count == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 1024;
    s->addr = realloc(s->addr, s->cap * sizeof(*s->addr));
    s->len = realloc(s->len, s->cap * sizeof(*s->len));
    CHECK(s->addr && s->len, "out of memory");
  }
  while (s->total + len > s->bytes_cap) {
    s->bytes_cap = s->bytes_cap ? 2 * s->bytes_cap : MIB;
    s->bytes = realloc(s->bytes, s->bytes_cap);
    CHECK(s->bytes, "out of memory");
  }
  s->addr[s->count] = addr;
  s->len[s->count++] = len;
  memcpy(s->bytes + s->total, (void *)addr, len);
  s->total += len;
  return 0;
}

static int stop_at_third(void *ctx, uintptr_t addr, size_t len) {
  (void)addr;
  (void)len;
  return ++*(int *)ctx == 3 ? 77 : 0;
}

static void test_save_restore(uint64_t seed) {
  enum { BLOCKS = 30000 };
  ckpt_heap_use_app = 1;
  struct ckpt_heap_stats empty = app_stats();
  struct block *set = calloc(BLOCKS, sizeof(*set));
  CHECK(set, "out of memory");
  uint64_t rng = seed * 2654435761u + 2024;
  for (size_t i = 0; i < BLOCKS; i++) {
    size_t n = i % 1000 == 0 ? 300000 + rng_below(&rng, 2 * MIB)
                             : random_size(&rng) % 20000;
    set[i].p = ckpt_heap_malloc(n);
    CHECK(set[i].p, "malloc(%zu)", n);
    set[i].n = n;
    set[i].tag = rng_next(&rng);
    pattern_fill(set[i].p, n, set[i].tag);
  }
  for (size_t i = 0; i < BLOCKS; i++) /* holes of every size */
    if (rng_below(&rng, 2)) {
      ckpt_heap_free(set[i].p);
      set[i].p = NULL;
    }
  for (size_t i = 0; i < BLOCKS; i += 7)
    if (set[i].p) {
      size_t n = set[i].n / 2 + 1;
      set[i].p = ckpt_heap_realloc(set[i].p, n);
      CHECK(set[i].p, "realloc");
      set[i].n = n;
      pattern_fill(set[i].p, n, set[i].tag);
    }
  check_heaps("before save");
  struct ckpt_heap_stats before = app_stats();

  /* Save. */
  struct saved s = {.end = ckpt_heap_app_end()};
  CHECK(ckpt_heap_for_each_extent(save_extent, &s) == 0, "extent walk");
  int calls = 0;
  CHECK(ckpt_heap_for_each_extent(stop_at_third, &calls) == 77 && calls == 3,
        "extent walk did not stop at fn's non-zero value");
  CHECK(s.total == before.arena_bytes - before.free_bytes +
                       (uint64_t)CKPT_HEAP_CHUNK_HEADER * 2 * before.free_chunks,
        "saved %zu bytes; expected arena minus free interiors", s.total);
  printf("heap_test: save: %zu extents, %zu of %" PRIu64 " arena bytes "
         "(%" PRIu64 " free chunks)\n",
         s.count, s.total, before.arena_bytes, before.free_chunks);
  errno = 0;
  CHECK(ckpt_heap_restore_map(s.end) == -1 && errno == EBUSY,
        "restore_map over a heap in use");

  /* Unmap and restore. */
  CHECK(ckpt_heap_app_forget() == 0, "forget");
  unsigned char vec;
  CHECK(mincore((void *)(uintptr_t)CKPT_HEAP_BASE, PAGE, &vec) == -1 &&
            errno == ENOMEM,
        "arena still mapped after forget");
  CHECK(ckpt_heap_app_end() == CKPT_HEAP_BASE, "app end after forget");
  CHECK(ckpt_heap_restore_map(CKPT_HEAP_BASE) == -1 && errno == EINVAL,
        "restore_map of an empty arena accepted");
  /* A fresh application heap with nothing allocated may be replaced. */
  CHECK(ckpt_heap_init_app() == 0, "init after forget");
  CHECK(ckpt_heap_restore_map(s.end) == 0, "restore_map: %s", strerror(errno));
  CHECK(ckpt_heap_app_end() == s.end, "app end after restore_map");
  CHECK(resident_pages((void *)(uintptr_t)CKPT_HEAP_BASE,
                       s.end - CKPT_HEAP_BASE) == 0,
        "restored arena not fresh");
  size_t off = 0;
  for (size_t i = 0; i < s.count; i++) {
    memcpy((void *)s.addr[i], s.bytes + off, s.len[i]);
    off += s.len[i];
  }
  free(s.addr);
  free(s.len);
  free(s.bytes);

  /* The heap is back: same state, same contents, and it keeps working. */
  check_heaps("after restore");
  struct ckpt_heap_stats after = app_stats();
  CHECK(memcmp(&before, &after, sizeof(before)) == 0, "stats changed");
  for (size_t i = 0; i < BLOCKS; i++)
    if (set[i].p) {
      block_verify(&set[i], "after restore");
      CHECK(ckpt_heap_usable_size(set[i].p) >= set[i].n, "usable size");
    }
  for (size_t round = 0; round < 100000; round++) {
    struct block *b = &set[rng_below(&rng, BLOCKS)];
    if (b->p) {
      block_verify(b, "after restore, before reuse");
      if (rng_below(&rng, 2)) {
        ckpt_heap_free(b->p);
        b->p = NULL;
        continue;
      }
      size_t n = random_size(&rng) + 1;
      b->p = ckpt_heap_realloc(b->p, n);
      CHECK(b->p, "realloc after restore");
      size_t kept = b->n < n ? b->n : n;
      CHECK(pattern_check_prefix(b->p, kept, b->n, b->tag) == kept,
            "realloc after restore lost data");
      b->n = n;
    } else {
      b->n = random_size(&rng);
      b->p = ckpt_heap_calloc(1, b->n);
      CHECK(b->p && all_zero(b->p, b->n), "calloc after restore");
    }
    expect_heap(b->p, true, "after restore");
    b->tag = rng_next(&rng);
    pattern_fill(b->p, b->n, b->tag);
  }
  check_heaps("after reuse of the restored heap");
  for (size_t i = 0; i < BLOCKS; i++)
    if (set[i].p) {
      block_verify(&set[i], "at the end");
      ckpt_heap_free(set[i].p);
    }
  free(set);
  struct ckpt_heap_stats final = app_stats();
  CHECK(final.allocated_chunks == empty.allocated_chunks &&
            final.allocated_bytes == empty.allocated_bytes,
        "blocks leaked across restore");
  check_heaps("at the end");
  ckpt_heap_use_app = 0;
}

int main(void) {
  uint64_t seed = 12345;
  const char *env = getenv("HEAP_TEST_SEED");
  if (env)
    seed = strtoull(env, NULL, 0);
  printf("heap_test: seed %" PRIu64 "\n", seed);

  test_before_init();
  for (int app = 0; app < 2; app++) {
    test_calloc(app);
    test_realloc(app);
    test_basics(app);
    test_memalign(app);
    test_retain(app);
    stress(app, 2000, 300000, seed + (uint64_t)app);
    test_many_small(app);
  }
  /* From here on the main thread has a slot, and a cache. test_realloc
   * expects a freed block to be free for its neighbour at once, which a
   * cached block is not. */
  become_slot(0);
  test_calloc(true);
  test_basics(true);
  test_memalign(true);
  stress(true, 2000, 300000, seed + 2);
  test_many_small(true);
  test_caches();
  test_big();
  test_threads();
  test_fork();
  test_invalid_free();
  test_save_restore(seed);
  fflush(stdout);
  printf("heap_test: ok\n");
  return 0;
}
