/* runtime/heap.c - malloc over self-describing arenas: the checkpointed application heap at a fixed address, and the system heap. */

/*
 * Design. One allocator, two instances (struct heap). Each arena is a large
 * PROT_NONE reservation made read-write in steps as its top grows. All
 * allocator state (bins, top, statistics) lives at the start of the arena,
 * so restoring the application arena's bytes at the same address restores
 * the allocator with them. Outside the arena each heap keeps only its lock,
 * the pointer that says it is initialised, its reserved range and how much
 * of it is mapped read-write; those describe this process's mappings, which
 * ckpt_heap_restore_map recreates, not allocator state.
 *
 * Chunks: 16-byte header {prev_size, size|flags}, payload 16-byte aligned,
 * 8 bytes of overhead per live chunk: as in glibc, a chunk's prev_size word
 * holds the size of the chunk below only when that one is free (flag
 * PINUSE clear: the boundary tag of a free chunk); while it is in use the
 * word is the end of its payload. Free chunks are fully coalesced, so a free chunk never borders
 * another free chunk or the top chunk. Bins: exact sizes in 16-byte steps up
 * to 1 KiB, then 8 log-spaced bins per power of two; a bitmap finds the next
 * non-empty bin. Free chunks of at least RELEASE_THRESHOLD bytes have their
 * interior returned with MADV_DONTNEED (in 512 KiB granules), as is written
 * memory above a top chunk that moved down, so calloc knows they are zero
 * and the process does not keep them -- except that up to retain_limit
 * bytes of such chunks (flagged DIRTY), and as much above the top, stay
 * resident, as glibc keeps its heap: a program that frees and allocates
 * large blocks in turn would otherwise fault every page in again each time.
 * (Checkpoints save no free chunk's interior either way.)
 *
 * Thread caches (application heap only; see "Thread caches" below) take
 * most small mallocs and frees off the lock: a thread keeps lists of small
 * chunks it freed or took in a batch, in a cache that is itself a chunk of
 * the arena, so it is saved and restored with everything else.
 *
 * Nothing in here may call a function that could allocate: the allocator
 * serves ld.so and libc themselves. Only mmap/mprotect/madvise/futex,
 * memset/memcpy, write(2) and abort.
 */

#include "heap.h" /* and rt.h, whose heap part this implements */

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int ckpt_heap_use_app __attribute__((tls_model("initial-exec")));

#ifndef CKPT_UNIT_TEST
/* libckpt is a static archive: a program that calls malloc only through libc
 * (strdup, fopen) would not pull heap_interpose.o out of it, and libc's
 * malloc would serve it. This reference makes the linker take
 * heap_interpose.o whenever it takes heap.o. */
__attribute__((used)) static void *(*const heap_interpose_anchor)(size_t) =
    malloc;
#endif

/* ---- Sizes and constants ------------------------------------------------ */

#define PAGE_SIZE_BYTES 4096u /* x86-64 only */
#define CHUNK_HDR ((size_t)CKPT_HEAP_CHUNK_HEADER)
#define CHUNK_ALIGN 16u
#define MIN_CHUNK 32u /* header + the two free-list links */
#define CHUNK_OVERHEAD ((size_t)CKPT_HEAP_CHUNK_OVERHEAD)
#define INUSE CKPT_HEAP_CHUNK_INUSE
#define TOP CKPT_HEAP_CHUNK_TOP
#define PINUSE CKPT_HEAP_CHUNK_PINUSE
#define DIRTY CKPT_HEAP_CHUNK_DIRTY
#define FLAGS CKPT_HEAP_CHUNK_FLAGS

/* Larger requests cannot fit in any arena; refusing them early also keeps
 * every size computation far from overflow. */
#define MAX_REQUEST ((size_t)1 << 46)

/* Free chunks at least this large give their interior pages back, in
 * aligned granules of RELEASE_GRANULE bytes (see release_free_interior). */
#define RELEASE_THRESHOLD ((size_t)256 * 1024)
#define RELEASE_GRANULE ((size_t)512 * 1024)
/* How much of that memory a heap keeps resident instead, in DIRTY free
 * chunks and, separately, above its top. A tunable of the process, not
 * allocator state (the unit test changes it). */
#define RETAIN_LIMIT_DEFAULT ((size_t)32 << 20)
static size_t retain_limit = RETAIN_LIMIT_DEFAULT;

#define SMALL_MAX 1024u                     /* largest exact-size bin */
#define NUM_SMALL_BINS (SMALL_MAX / 16 + 1) /* index = size / 16 */
#define LARGE_SUBBINS_LOG2 3                /* 8 bins per power of two */
#define NUM_BINS 384
#define BITMAP_WORDS (NUM_BINS / 64)
/* A large bin is searched for the best fit among at most this many chunks;
 * past that the next non-empty bin (where everything fits) is used, so a
 * long list of near-misses cannot make malloc linear. */
#define LARGE_BIN_SCAN_LIMIT 64

/* The read-write part of an arena grows in steps of this many bytes. */
#define APP_GROW_STEP ((size_t)64 << 20)
#define SYS_GROW_STEP ((size_t)8 << 20)

#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

struct chunk {
  size_t prev_size;    /* size of the chunk below if PINUSE is clear, else
                          the last word of its payload */
  size_t head;         /* size | INUSE | TOP | PINUSE | DIRTY */
  struct chunk *fd;    /* free chunks only: next in the bin */
  struct chunk *bk;    /* free chunks only: previous in the bin, or NULL */
};

/* Thread caches and the depot (see "Thread caches" below) hold chunks of
 * these sizes, one list per size class. */
#define CACHE_MAX_CHUNK 1024u /* largest chunk size cached */
#define CACHE_MAX_REQUEST (CACHE_MAX_CHUNK - CHUNK_OVERHEAD)
#define CACHE_CLASSES (CACHE_MAX_CHUNK / CHUNK_ALIGN - 1) /* 32, 48, ..1024 */
/* A list holds up to CACHE_LIST_BYTES of chunks, but no fewer than
 * CACHE_LIST_MIN and no more than CACHE_LIST_MAX of them: a thread keeps at
 * most about 63 * 8 KiB, and usually far less, in its cache. */
#define CACHE_LIST_BYTES 8192u
#define CACHE_LIST_MIN 8u
#define CACHE_LIST_MAX 64u
struct cache_list {
  struct chunk *first; /* linked through fd, NULL-terminated */
  uint32_t count;
  uint16_t limit; /* thread caches only: the depot has none */
  uint16_t unused;
};

struct heap_cache;

/* The allocator state at the start of an arena. */
struct heap_state {
  struct ckpt_heap_arena_head head;
  uint64_t bitmap[BITMAP_WORDS]; /* bit i: bins[i] is non-empty */
  struct chunk *bins[NUM_BINS];  /* heads of NULL-terminated lists */
  struct heap_cache *caches;     /* the threads' caches (application heap) */
  uint64_t retained_bytes;       /* sizes of the DIRTY free chunks */
  uint64_t cache_key;            /* marks chunks in a thread cache */
  /* Chunks full thread caches gave back, for caches that run empty: cached
   * chunks (INUSE, keyed) shared under the lock. Since arena version 4. */
  struct cache_list depot[CACHE_CLASSES];
  uint64_t depot_bytes; /* the sizes of the depot's chunks */
};

#define STATE_SPACE ((sizeof(struct heap_state) + 63) & ~(size_t)63)
/* The application heap's first chunk: a constant, for the lock-free path. */
#define APP_FIRST_CHUNK ((uintptr_t)CKPT_HEAP_BASE + STATE_SPACE)

struct heap {
  int lock;                 /* futex word: 0 free, 1 held, 2 held + waiters */
  struct heap_state *state; /* NULL until initialised; set with release */
  uintptr_t base;           /* reserved arena [base, limit) */
  uintptr_t limit;
  uintptr_t mapped_end;     /* [base, mapped_end) is read-write */
  size_t grow_step;         /* mprotect step when the top grows */
};

static struct heap app_heap = {
    .base = CKPT_HEAP_BASE,
    .limit = CKPT_HEAP_BASE + CKPT_HEAP_MAX,
    .grow_step = APP_GROW_STEP,
};
static struct heap sys_heap = {.grow_step = SYS_GROW_STEP};

/* ---- Small helpers ------------------------------------------------------ */

static inline uintptr_t page_up(uintptr_t a) {
  return (a + PAGE_SIZE_BYTES - 1) & ~(uintptr_t)(PAGE_SIZE_BYTES - 1);
}
static inline uintptr_t granule_up(uintptr_t a) {
  return (a + RELEASE_GRANULE - 1) & ~(uintptr_t)(RELEASE_GRANULE - 1);
}
static inline uintptr_t granule_down(uintptr_t a) {
  return a & ~(uintptr_t)(RELEASE_GRANULE - 1);
}
static inline size_t chunk_size(const struct chunk *c) {
  return c->head & ~(size_t)FLAGS;
}
static inline struct chunk *chunk_at(uintptr_t a) { return (struct chunk *)a; }
static inline struct chunk *chunk_next(struct chunk *c) {
  return chunk_at((uintptr_t)c + chunk_size(c));
}
static inline void *chunk_payload(struct chunk *c) {
  return (char *)c + CHUNK_HDR;
}
/* Bytes the program may use in a chunk of `size` bytes. */
static inline size_t chunk_usable(size_t size) { return size - CHUNK_OVERHEAD; }
/* Mark the chunk above an in-use (or free) chunk. */
static inline void set_pinuse(struct chunk *c) { c->head |= PINUSE; }
static inline void clear_pinuse(struct chunk *c) { c->head &= ~(size_t)PINUSE; }
static inline struct chunk *payload_chunk(void *p) {
  return chunk_at((uintptr_t)p - CHUNK_HDR);
}

/* Chunk size for a request, or 0 if the request is too large. */
static inline size_t request_to_chunk(size_t n) {
  if (UNLIKELY(n > MAX_REQUEST))
    return 0;
  size_t need =
      (n + CHUNK_OVERHEAD + CHUNK_ALIGN - 1) & ~(size_t)(CHUNK_ALIGN - 1);
  return need < MIN_CHUNK ? MIN_CHUNK : need;
}

static inline unsigned bin_index(size_t size) {
  if (size <= SMALL_MAX)
    return (unsigned)(size >> 4);
  unsigned e = 63u - (unsigned)__builtin_clzll(size); /* >= 10 */
  unsigned sub = (unsigned)(size >> (e - LARGE_SUBBINS_LOG2)) &
                 ((1u << LARGE_SUBBINS_LOG2) - 1);
  unsigned i = NUM_SMALL_BINS + ((e - 10) << LARGE_SUBBINS_LOG2) + sub;
  return i < NUM_BINS ? i : NUM_BINS - 1;
}

/* ---- Errors ------------------------------------------------------------- */

/* One line on stderr, then abort. write(2) only: stdio could allocate. */
__attribute__((noreturn)) static void heap_die(const char *what,
                                                uintptr_t addr) {
  char buf[160];
  size_t n = 0;
  const char *parts[] = {"ckpt: error: ", what, " 0x"};
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
    for (const char *s = parts[i]; *s && n < 100; s++)
      buf[n++] = *s;
  char hex[16];
  int digits = 0;
  do {
    hex[digits++] = "0123456789abcdef"[addr & 15];
    addr >>= 4;
  } while (addr);
  while (digits)
    buf[n++] = hex[--digits];
  buf[n++] = '\n';
  ssize_t unused = write(2, buf, n);
  (void)unused;
  abort();
}

/* ---- Lock ---------------------------------------------------------------
 * A futex lock instead of pthread_mutex_t: it needs nothing from libc that
 * might not be ready when ld.so makes its first calls, and the fork child
 * resets it by storing 0. */

static __attribute__((noinline)) void lock_acquire_slow(int *word) {
  for (int spin = 0; spin < 100; spin++) {
    __asm__ volatile("pause");
    int expected = 0;
    if (__atomic_load_n(word, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(word, &expected, 1, false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return;
  }
  int saved_errno = errno;
  while (__atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE) != 0)
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
  errno = saved_errno;
}

static __attribute__((noinline)) void lock_wake(int *word) {
  int saved_errno = errno;
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  errno = saved_errno;
}

static inline void lock_acquire(int *word) {
  int expected = 0;
  if (UNLIKELY(!__atomic_compare_exchange_n(
          word, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
    lock_acquire_slow(word);
}

static inline void lock_release(int *word) {
  if (UNLIKELY(__atomic_exchange_n(word, 0, __ATOMIC_RELEASE) == 2))
    lock_wake(word);
}

static inline struct heap_state *heap_state_acquire(struct heap *h) {
  return __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
}

/* ---- Bins --------------------------------------------------------------- */

static void bin_insert(struct heap_state *st, struct chunk *c, size_t size) {
  unsigned i = bin_index(size);
  struct chunk *first = st->bins[i];
  c->fd = first;
  c->bk = NULL;
  if (first)
    first->bk = c;
  st->bins[i] = c;
  st->bitmap[i >> 6] |= (uint64_t)1 << (i & 63);
  st->head.stats.free_chunks++;
  st->head.stats.free_bytes += size;
  if (c->head & DIRTY)
    st->retained_bytes += size;
}

static void bin_remove(struct heap_state *st, struct chunk *c, size_t size) {
  unsigned i = bin_index(size);
  struct chunk *fd = c->fd, *bk = c->bk;
  /* Links that do not point back mean a write through a dangling pointer
   * hit this free chunk: stop before the damage spreads. */
  if (UNLIKELY((bk ? bk->fd != c : st->bins[i] != c) || (fd && fd->bk != c)))
    heap_die("malloc(): corrupted free list at", (uintptr_t)c);
  if (bk)
    bk->fd = fd;
  else
    st->bins[i] = fd;
  if (fd)
    fd->bk = bk;
  if (!st->bins[i])
    st->bitmap[i >> 6] &= ~((uint64_t)1 << (i & 63));
  st->head.stats.free_chunks--;
  st->head.stats.free_bytes -= size;
  if (c->head & DIRTY)
    st->retained_bytes -= size;
}

/* Index of the first non-empty bin at or after `from`, or -1. */
static int bin_next_nonempty(const struct heap_state *st, unsigned from) {
  if (from >= NUM_BINS)
    return -1;
  unsigned w = from >> 6;
  uint64_t bits = st->bitmap[w] & (~(uint64_t)0 << (from & 63));
  while (!bits) {
    if (++w == BITMAP_WORDS)
      return -1;
    bits = st->bitmap[w];
  }
  return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
}

/* ---- Arena growth and page release -------------------------------------- */

/* Make [base, end) read-write. Called with the lock held. */
static int heap_ensure_mapped(struct heap *h, uintptr_t end) {
  if (LIKELY(end <= h->mapped_end))
    return 0;
  if (end > h->limit)
    return -1;
  uintptr_t new_end = (end + h->grow_step - 1) & ~(uintptr_t)(h->grow_step - 1);
  if (new_end > h->limit || new_end < end)
    new_end = h->limit;
  if (mprotect((void *)h->mapped_end, new_end - h->mapped_end,
               PROT_READ | PROT_WRITE) != 0)
    return -1;
  __atomic_store_n(&h->mapped_end, new_end, __ATOMIC_RELAXED);
  return 0;
}

/* Make [lo, hi) (page-aligned) zero and unbacked. If the kernel refuses
 * (e.g. mlocked pages), zero it by hand: callers rely on it being zero. */
static void release_pages(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi)
    return;
  int saved_errno = errno;
  if (madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
    memset((void *)lo, 0, hi - lo);
  errno = saved_errno;
}

/* A free chunk [start, end) of at least RELEASE_THRESHOLD bytes was formed;
 * [dirty_lo, dirty_hi) is the part that may hold data. Invariant: in every
 * such free chunk, each RELEASE_GRANULE-aligned granule lying wholly in its
 * interior (all but header and links) is released. Working in granules
 * rather than pages means a free chunk growing a few bytes at a time (a
 * run of frees in address order) costs one madvise per granule, not per
 * page. Releases the interior granules the dirty part touches; the others
 * are inside a former free neighbour and were released already. */
static void release_free_interior(uintptr_t start, uintptr_t end,
                                  uintptr_t dirty_lo, uintptr_t dirty_hi) {
  uintptr_t lo = granule_down(dirty_lo), hi = granule_up(dirty_hi);
  uintptr_t interior_lo = granule_up(start + MIN_CHUNK),
            interior_hi = granule_down(end);
  if (lo < interior_lo)
    lo = interior_lo;
  if (hi > interior_hi)
    hi = interior_hi;
  release_pages(lo, hi);
}

static void set_top(struct heap *h, struct heap_state *st, uintptr_t top) {
  st->head.top = top;
  st->head.stats.arena_bytes = top + CHUNK_HDR - h->base;
}

/* The top chunk just moved down to st->head.top: if a lot of written memory
 * now lies above it, give those pages back so that they are zero again. */
static void trim_top(struct heap_state *st) {
  uintptr_t keep = page_up(st->head.top + CHUNK_HDR);
  uintptr_t clean = st->head.clean_from;
  if (clean > keep && clean - keep >= RELEASE_THRESHOLD &&
      clean - keep > retain_limit) {
    release_pages(keep, page_up(clean));
    st->head.clean_from = keep;
  }
}

/* ---- Heap setup --------------------------------------------------------- */

/* The word that marks a chunk in a thread's cache: random, odd (so never an
 * aligned pointer a program keeps in its blocks' second word), made once
 * per arena and saved with it. getrandom is a bare system call; rdtsc and
 * the arena's address stand in if it fails. */
static uint64_t new_cache_key(const struct heap_state *st) {
  uint64_t key = 0;
  if (syscall(SYS_getrandom, &key, sizeof key, 1 /* GRND_NONBLOCK */) !=
      (long)sizeof key) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    key = (((uint64_t)hi << 32) | lo) * 0x9E3779B97F4A7C15ull ^
          (uintptr_t)st;
  }
  return key | 1;
}

/* Write an empty allocator state at h->base; [base, mapped_end) must be
 * read-write and zero. */
static struct heap_state *heap_format(struct heap *h) {
  struct heap_state *st = (struct heap_state *)h->base;
  uintptr_t first = h->base + STATE_SPACE;
  st->head.magic = CKPT_HEAP_ARENA_MAGIC;
  st->head.version = CKPT_HEAP_ARENA_VERSION;
  st->head.state_size = (uint32_t)STATE_SPACE;
  st->head.first_chunk = first;
  struct chunk *top = chunk_at(first);
  top->prev_size = 0;
  top->head = TOP | PINUSE; /* nothing below the first chunk to merge */
  st->head.clean_from = first + CHUNK_HDR;
  set_top(h, st, first);
  st->cache_key = new_cache_key(st);
  return st;
}

static void fork_prepare(void) {
  lock_acquire(&app_heap.lock);
  lock_acquire(&sys_heap.lock);
}
static void fork_parent(void) {
  lock_release(&sys_heap.lock);
  lock_release(&app_heap.lock);
}
static void fork_child(void) {
  /* The child has one thread, so no waiter can be lost by a plain reset. */
  __atomic_store_n(&sys_heap.lock, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&app_heap.lock, 0, __ATOMIC_RELAXED);
}

/* pthread_atfork allocates, so it is called with no heap lock held, and only
 * once the process is far enough along to have an application heap. */
static int register_fork_handlers(void) {
  static int registered;
  if (__atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL))
    return 0;
  if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
    __atomic_store_n(&registered, 0, __ATOMIC_RELEASE);
    return -1;
  }
  return 0;
}

/* Reserve the application arena PROT_NONE at its fixed address and make
 * [base, rw_end) read-write. */
static int app_arena_map(uintptr_t rw_end) {
  void *want = (void *)(uintptr_t)CKPT_HEAP_BASE;
  void *got = mmap(want, CKPT_HEAP_MAX, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                       MAP_FIXED_NOREPLACE,
                   -1, 0);
  if (got == MAP_FAILED)
    return -1;
  if (got != want) { /* a kernel older than 4.17 treats the flag as a hint */
    munmap(got, CKPT_HEAP_MAX);
    errno = EEXIST;
    return -1;
  }
  if (mprotect(want, rw_end - CKPT_HEAP_BASE, PROT_READ | PROT_WRITE) != 0) {
    int saved_errno = errno;
    munmap(want, CKPT_HEAP_MAX);
    errno = saved_errno;
    return -1;
  }
  return 0;
}

int ckpt_heap_init_app(void) {
  struct heap *h = &app_heap;
  lock_acquire(&h->lock);
  if (h->state) {
    lock_release(&h->lock);
    return 0;
  }
  uintptr_t rw_end = h->base + h->grow_step;
  if (app_arena_map(rw_end) != 0) {
    lock_release(&h->lock);
    return -1;
  }
  h->mapped_end = rw_end;
  struct heap_state *st = heap_format(h);
  __atomic_store_n(&h->state, st, __ATOMIC_RELEASE);
  lock_release(&h->lock);
  return register_fork_handlers();
}

/* The system heap is set up on its first use, which may be ld.so's first
 * malloc, before any constructor: raw mmap only. */
static __attribute__((noinline)) int sys_heap_init(void) {
  struct heap *h = &sys_heap;
  static const size_t reserve_sizes[] = {64 * GIB, 4 * GIB, 256 * MIB};
  lock_acquire(&h->lock);
  if (h->state) {
    lock_release(&h->lock);
    return 0;
  }
  void *arena = MAP_FAILED;
  size_t size = 0;
  for (size_t i = 0; i < sizeof(reserve_sizes) / sizeof(reserve_sizes[0]) &&
                     arena == MAP_FAILED;
       i++) {
    size = reserve_sizes[i];
    arena = mmap(NULL, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  if (arena == MAP_FAILED ||
      mprotect(arena, h->grow_step, PROT_READ | PROT_WRITE) != 0) {
    if (arena != MAP_FAILED)
      munmap(arena, size);
    lock_release(&h->lock);
    return -1;
  }
  /* heap_owning reads base and limit without the lock. */
  __atomic_store_n(&h->base, (uintptr_t)arena, __ATOMIC_RELAXED);
  __atomic_store_n(&h->limit, (uintptr_t)arena + size, __ATOMIC_RELAXED);
  h->mapped_end = h->base + h->grow_step;
  struct heap_state *st = heap_format(h);
  __atomic_store_n(&h->state, st, __ATOMIC_RELEASE);
  lock_release(&h->lock);
  return 0;
}

/* The heap a new block comes from, initialising the system heap if needed;
 * NULL if it cannot be set up. */
static inline struct heap *heap_for_new(void) {
  if (ckpt_heap_use_app && heap_state_acquire(&app_heap))
    return &app_heap;
  if (LIKELY(heap_state_acquire(&sys_heap) != NULL))
    return &sys_heap;
  return sys_heap_init() == 0 ? &sys_heap : NULL;
}

/* The heap whose arena holds `a`, or NULL. */
static inline struct heap *heap_owning(uintptr_t a) {
  if (a - (uintptr_t)CKPT_HEAP_BASE < (uintptr_t)CKPT_HEAP_MAX)
    return &app_heap;
  uintptr_t base = __atomic_load_n(&sys_heap.base, __ATOMIC_RELAXED);
  uintptr_t limit = __atomic_load_n(&sys_heap.limit, __ATOMIC_RELAXED);
  if (a - base < limit - base)
    return &sys_heap;
  return NULL;
}

/* ---- Core allocation (lock held) ---------------------------------------- */

/* Where calloc can skip zeroing: [clean_lo, clean_hi) of the payload is
 * known to be zero. */
struct clean_range {
  uintptr_t lo, hi;
};

/* Split free chunk c of `total` bytes (already out of its bin) into an
 * in-use chunk of `need` bytes and, if big enough, a free remainder, which
 * is DIRTY if `dirty` (the free memory it comes from was) and large. The
 * chunk above c is in use (free chunks never touch), so the remainder needs
 * no coalescing. Returns c's final size. */
static size_t take_free_chunk(struct heap_state *st, struct chunk *c,
                              size_t total, size_t need, bool dirty) {
  size_t size = total;
  struct chunk *above = chunk_at((uintptr_t)c + total);
  if (total - need >= MIN_CHUNK) {
    struct chunk *rest = chunk_at((uintptr_t)c + need);
    size_t rest_size = total - need;
    rest->head = rest_size | PINUSE;
    if (dirty && rest_size >= RELEASE_THRESHOLD)
      rest->head |= DIRTY;
    above->prev_size = rest_size; /* its PINUSE stays clear */
    bin_insert(st, rest, rest_size);
    size = need;
  } else {
    set_pinuse(above); /* in use: free chunks never touch the top */
  }
  c->head = size | INUSE | (c->head & PINUSE);
  return size;
}

/* Best fit among the first chunks of large bin i, or NULL. */
static struct chunk *large_bin_fit(struct heap_state *st, unsigned i,
                                   size_t need) {
  struct chunk *best = NULL;
  size_t best_size = SIZE_MAX;
  int scanned = 0;
  for (struct chunk *c = st->bins[i]; c && scanned < LARGE_BIN_SCAN_LIMIT;
       c = c->fd, scanned++) {
    size_t size = chunk_size(c);
    if (size >= need && size < best_size) {
      best = c;
      best_size = size;
      if (size == need)
        break;
    }
  }
  return best;
}

static void depot_drain_locked(struct heap *h);

static struct chunk *alloc_chunk(struct heap *h, size_t need,
                                 struct clean_range *clean) {
  struct heap_state *st = h->state;
  /* A request no cache serves first gives the depot's chunks back to the
   * bins, where they can coalesce into what it needs (glibc consolidates
   * its fastbins for a large request alike). */
  if (need > CACHE_MAX_CHUNK && UNLIKELY(st->depot_bytes != 0))
    depot_drain_locked(h);
  unsigned i = bin_index(need);
  struct chunk *c = need <= SMALL_MAX ? st->bins[i] : large_bin_fit(st, i, need);
  if (!c) {
    int j = bin_next_nonempty(st, i + 1);
    if (j >= 0)
      c = st->bins[j];
  }
  if (c) {
    size_t total = chunk_size(c);
    bool dirty = c->head & DIRTY;
    bin_remove(st, c, total);
    size_t size = take_free_chunk(st, c, total, need, dirty);
    st->head.stats.allocated_chunks++;
    st->head.stats.allocated_bytes += chunk_usable(size);
    clean->lo = clean->hi = 0;
    if (total >= RELEASE_THRESHOLD && !dirty) {
      /* Its interior granules were released when it became free. */
      clean->lo = granule_up((uintptr_t)c + MIN_CHUNK);
      clean->hi = granule_down((uintptr_t)c + total);
      if (clean->hi > (uintptr_t)c + size)
        clean->hi = (uintptr_t)c + size;
    }
    return c;
  }

  /* Carve from the top chunk. A zero state (restore_map done, extents not
   * copied back yet) has empty bins and always gets here. */
  if (UNLIKELY(st->head.magic != CKPT_HEAP_ARENA_MAGIC))
    heap_die("malloc(): no allocator state in the arena at", h->base);
  /* Nor does the heap grow while the depot holds chunks that may coalesce
   * into what is needed (glibc's fastbins, alike). */
  if (UNLIKELY(st->depot_bytes != 0)) {
    depot_drain_locked(h);
    return alloc_chunk(h, need, clean); /* once: the depot is empty now */
  }
  uintptr_t t = st->head.top;
  if (need > h->limit - t - CHUNK_HDR ||
      heap_ensure_mapped(h, t + need + CHUNK_HDR) != 0)
    return NULL;
  c = chunk_at(t);
  c->head = need | INUSE | PINUSE; /* the chunk below a top is in use */
  /* The new top's prev_size word is c's last payload word: left alone, it
   * is zero if it lies in the clean part. */
  struct chunk *new_top = chunk_at(t + need);
  new_top->head = TOP | PINUSE;
  clean->lo = st->head.clean_from;
  clean->hi = t + need + CHUNK_OVERHEAD;
  if (st->head.clean_from < t + need + CHUNK_HDR)
    st->head.clean_from = t + need + CHUNK_HDR;
  set_top(h, st, t + need);
  st->head.stats.allocated_chunks++;
  st->head.stats.allocated_bytes += chunk_usable(need);
  return c;
}

/* Return in-use chunk c to the heap, coalescing with free neighbours. */
static void free_chunk(struct heap *h, struct chunk *c) {
  struct heap_state *st = h->state;
  size_t size = chunk_size(c);
  st->head.stats.allocated_chunks--;
  st->head.stats.allocated_bytes -= chunk_usable(size);

  uintptr_t start = (uintptr_t)c, end = start + size;
  /* The part of the merged chunk that may hold data: a large free
   * neighbour's interior is already released, unless it is DIRTY. */
  uintptr_t dirty_lo = start, dirty_hi = end;
  if (!(c->head & PINUSE)) {
    struct chunk *prev = chunk_at(start - c->prev_size);
    size_t prev_size = chunk_size(prev);
    bin_remove(st, prev, prev_size);
    start = (uintptr_t)prev;
    if (prev_size < RELEASE_THRESHOLD || (prev->head & DIRTY))
      dirty_lo = start;
  }
  struct chunk *next = chunk_at(end);
  if (next->head & TOP) {
    /* The merged chunk's own chunk below is in use (or it is the first). */
    struct chunk *top = chunk_at(start);
    top->head = TOP | PINUSE;
    set_top(h, st, start);
    trim_top(st);
    return;
  }
  if (!(next->head & INUSE)) {
    size_t next_size = chunk_size(next);
    bin_remove(st, next, next_size);
    end += next_size;
    dirty_hi = next_size < RELEASE_THRESHOLD || (next->head & DIRTY)
                   ? end
                   : (uintptr_t)next + MIN_CHUNK;
  }
  struct chunk *merged = chunk_at(start);
  size_t merged_size = end - start;
  /* A large free chunk is kept resident while the budget allows. */
  bool release = false;
  size_t flags = 0;
  if (merged_size >= RELEASE_THRESHOLD) {
    if (st->retained_bytes + merged_size <= retain_limit)
      flags = DIRTY;
    else
      release = true;
  }
  merged->head = merged_size | flags | PINUSE;
  struct chunk *above = chunk_at(end); /* in use: free chunks never touch */
  above->prev_size = merged_size;
  clear_pinuse(above);
  bin_insert(st, merged, merged_size);
  if (release)
    release_free_interior(start, end, dirty_lo, dirty_hi);
}

/* Split in-use chunk c into two in-use chunks, the first of `first_size`
 * bytes; returns the second. Used to cut off parts that are then freed. */
static struct chunk *split_in_use(struct heap_state *st, struct chunk *c,
                                  size_t first_size) {
  size_t size = chunk_size(c);
  struct chunk *second = chunk_at((uintptr_t)c + first_size);
  second->head = (size - first_size) | INUSE | PINUSE;
  c->head = first_size | INUSE | (c->head & PINUSE);
  st->head.stats.allocated_chunks++;
  st->head.stats.allocated_bytes -= CHUNK_OVERHEAD;
  return second;
}

static bool chunk_in_a_cache(const struct heap_state *st,
                             const struct chunk *c, size_t size);

/* For a chunk c whose PINUSE bit is clear: whether its boundary tag names
 * a free chunk below, at or above `first`, whose header agrees. Relaxed
 * loads: the lock-free free path calls it too, while a neighbour may be
 * merging under the lock (then the reads disagree and the lock decides). */
static inline bool free_chunk_below_ok(const struct chunk *c,
                                       uintptr_t first) {
  size_t below = __atomic_load_n(&c->prev_size, __ATOMIC_RELAXED);
  if (below < MIN_CHUNK || (below & FLAGS) || below > (uintptr_t)c - first)
    return false;
  size_t below_head =
      __atomic_load_n(&chunk_at((uintptr_t)c - below)->head, __ATOMIC_RELAXED);
  return (below_head & ~(size_t)DIRTY) == (below | PINUSE);
}

/* Check that p is a live block of h and return its chunk; report and abort
 * otherwise. Only touches memory inside [first_chunk, top], which is mapped,
 * so any pointer value is safe to check. Checked: the chunk's flags and
 * size, the prev-in-use flag and size of the chunk above, the boundary tag
 * and header of a free chunk below, and that it is not in a thread's cache
 * (a second free). A pointer into a block whose bytes happen to look like
 * two consistent chunk headers is not caught (nor is it by glibc). */
static struct chunk *checked_chunk(struct heap *h, void *p, const char *op) {
  struct heap_state *st = h->state;
  uintptr_t a = (uintptr_t)p;
  if (UNLIKELY(!st || (a & (CHUNK_ALIGN - 1)) ||
               a < st->head.first_chunk + CHUNK_HDR ||
               a >= st->head.top + CHUNK_HDR))
    goto invalid;
  uintptr_t first = st->head.first_chunk, top = st->head.top;
  struct chunk *c = payload_chunk(p);
  size_t head = c->head, size = head & ~(size_t)FLAGS;
  if (UNLIKELY((head & (INUSE | TOP | DIRTY)) != INUSE || size < MIN_CHUNK ||
               size > top - (uintptr_t)c))
    goto invalid;
  struct chunk *next = chunk_next(c);
  size_t next_head = next->head, next_size = next_head & ~(size_t)FLAGS;
  if (UNLIKELY(!(next_head & PINUSE)))
    goto invalid;
  if ((uintptr_t)next == top) {
    if (UNLIKELY(next_head != (TOP | PINUSE)))
      goto invalid;
  } else if (UNLIKELY((next_head & TOP) || next_size < MIN_CHUNK ||
                      next_size > top - (uintptr_t)next)) {
    goto invalid;
  }
  if (!(head & PINUSE)) {
    if (UNLIKELY(!free_chunk_below_ok(c, first)))
      goto invalid;
  } else if (UNLIKELY((uintptr_t)c < first + MIN_CHUNK &&
                      (uintptr_t)c != first)) {
    goto invalid;
  }
  if (UNLIKELY(c->bk == (struct chunk *)(uintptr_t)st->cache_key &&
               chunk_in_a_cache(st, c, size)))
    goto invalid;
  return c;
invalid:
  lock_release(&h->lock);
  heap_die(op, a);
}

/* ---- Thread caches --------------------------------------------------------
 * Each application thread that allocates from the application heap gets a
 * cache: for every chunk size from MIN_CHUNK to CACHE_MAX_CHUNK a list of
 * chunks of exactly that size that it freed or took in a batch. malloc and
 * free of small blocks use the calling thread's cache with no lock and no
 * atomic instruction; the lock is taken once per batch, to refill an empty
 * list or to give back half of a full one. Half lists given back go to the
 * heap's depot, a list of cached chunks per size, shared under the lock; a
 * refill takes from it first. So a program whose frees and mallocs of one
 * size come in long runs (building and tearing down a structure) moves
 * chunks through the depot for a few stores each, instead of coalescing
 * every one into the bins and splitting it off again (as before arena
 * version 4: 1.3x glibc's instructions in malloc-heavy kernels). Depot
 * chunks do not coalesce until the depot is drained, as glibc's fastbins:
 * before the heap would grow its top, and for a request larger than any
 * cached size. So the depot never makes the heap larger; it can keep memory
 * a program freed resident (and 32 bytes of each chunk in checkpoints)
 * until the program next allocates something the depot cannot serve.
 * (glibc also consolidates after a free of 64 KiB or more; here that would
 * undo the depot's saving whenever a program frees a buffer.) A chunk in a
 * cache stays INUSE
 * for its neighbours (it must not coalesce), with its header untouched (a
 * neighbour's free or allocation writes the PINUSE bit into it under the
 * lock, while its owner takes and puts it without); its list link is in
 * fd and the heap's cache key in bk, as glibc's tcache keeps a key. A free
 * of a chunk whose bk holds the key looks it up in the caches (under the
 * lock) and refuses it if it is there.
 *
 * Where the state lives: a cache is a chunk of the arena, on a list headed
 * in the arena's state, and it records its thread's slot. So a checkpoint
 * saves the caches with the heap, and they are consistent then (threads
 * stop only at safe points, never inside malloc). The thread finds its
 * cache through thread_cache, a TLS pointer that is only a hint: NULL in a
 * new thread, or after a restart that resets the runtime's TLS, means "look
 * the cache up again by ckpt_self->slot", and slots survive restarts. A
 * restart that restores TLS byte for byte gives the thread back a pointer
 * to its own slot's cache, restored at the same address, so both are fine.
 * A finishing thread returns its cache (ckpt_heap_thread_exit); a cache
 * left behind anyway is adopted by the next thread given its slot. Threads
 * without a slot (the runtime's own, or main before the program's main)
 * use the lock. The system heap has no caches.
 */

#define CACHE_MAGIC 0x48434b43u /* "CKCH" */

struct heap_cache {
  struct cache_list lists[CACHE_CLASSES]; /* by cache_class(chunk size) */
  struct heap_cache *next;                /* the heap's next cache */
  uint32_t slot;                          /* of the thread that owns it */
  uint32_t magic;                         /* CACHE_MAGIC */
  uint64_t key;                           /* the heap's cache_key */
};

static __thread struct heap_cache *thread_cache
    __attribute__((tls_model("initial-exec")));
/* Set by ckpt_heap_thread_exit: the thread is finishing, it takes no new
 * cache (glibc's exit path may still free, through the lock). */
static __thread bool thread_cache_off
    __attribute__((tls_model("initial-exec")));

static inline unsigned cache_class(size_t size) {
  return (unsigned)(size / CHUNK_ALIGN) - 2;
}
static inline size_t cache_class_size(unsigned i) {
  return (size_t)(i + 2) * CHUNK_ALIGN;
}
static uint16_t cache_list_limit(unsigned i) {
  size_t limit = CACHE_LIST_BYTES / cache_class_size(i);
  if (limit < CACHE_LIST_MIN)
    limit = CACHE_LIST_MIN;
  if (limit > CACHE_LIST_MAX)
    limit = CACHE_LIST_MAX;
  return (uint16_t)limit;
}
/* request_to_chunk for n <= CACHE_MAX_REQUEST. */
static inline size_t small_request_to_chunk(size_t n) {
  size_t need =
      (n + CHUNK_OVERHEAD + CHUNK_ALIGN - 1) & ~(size_t)(CHUNK_ALIGN - 1);
  return need < MIN_CHUNK ? MIN_CHUNK : need;
}

static inline struct chunk *key_link(uint64_t key) {
  return (struct chunk *)(uintptr_t)key;
}

/* The chunk of p if p looks like a live application-heap block of a size
 * the caches take, by the checks checked_chunk makes (alignment, flags,
 * the chunk above, the free chunk below) except the bound by the top, which
 * would read the shared state; else NULL (then checked_chunk decides, under
 * the lock). A chunk holding the cache key goes to checked_chunk too, which
 * looks for it in the caches. Needs the application heap to be initialised.
 * Reads only [APP_FIRST_CHUNK, mapped_end), which is mapped and only
 * grows. */
static inline struct chunk *cacheable_chunk(const void *p) {
  uintptr_t a = (uintptr_t)p, lo = APP_FIRST_CHUNK + CHUNK_HDR;
  uintptr_t end = __atomic_load_n(&app_heap.mapped_end, __ATOMIC_RELAXED);
  if (UNLIKELY(a - lo >= end - CACHE_MAX_CHUNK - lo || (a & (CHUNK_ALIGN - 1))))
    return NULL;
  struct chunk *c = payload_chunk((void *)a);
  /* Another thread may flip this header's PINUSE bit (freeing or taking
   * the chunk below, under the lock): only the size and INUSE matter. */
  size_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
  size_t size = head & ~(size_t)FLAGS;
  if (UNLIKELY((head & (INUSE | TOP | DIRTY)) != INUSE ||
               size - MIN_CHUNK > CACHE_MAX_CHUNK - MIN_CHUNK))
    return NULL;
  size_t next_head =
      __atomic_load_n(&chunk_next(c)->head, __ATOMIC_RELAXED);
  if (UNLIKELY(!(next_head & PINUSE)))
    return NULL;
  const struct heap_state *st = (const struct heap_state *)CKPT_HEAP_BASE;
  if (UNLIKELY(c->bk == key_link(st->cache_key)))
    return NULL;
  if (head & PINUSE || LIKELY(free_chunk_below_ok(c, APP_FIRST_CHUNK)))
    return c;
  return NULL;
}

/* Take a chunk of `size` bytes from tc, or NULL if its list is empty. */
static inline struct chunk *cache_take(struct heap_cache *tc, size_t size) {
  struct cache_list *l = &tc->lists[cache_class(size)];
  struct chunk *c = l->first;
  if (UNLIKELY(!c))
    return NULL;
  /* A write through a dangling pointer may have hit the link that led
   * here: stop before handing out whatever it points to. */
  if (UNLIKELY((c->head & ~(size_t)PINUSE) != (size | INUSE) ||
               c->bk != key_link(tc->key)))
    heap_die("malloc(): corrupted thread cache at", (uintptr_t)c);
  l->first = c->fd;
  l->count--;
  c->bk = NULL; /* a live block that kept the key would look cached */
  return c;
}

/* Put in-use chunk c of `size` bytes into tc; false if its list is full. */
static inline bool cache_put(struct heap_cache *tc, struct chunk *c,
                             size_t size) {
  struct cache_list *l = &tc->lists[cache_class(size)];
  if (UNLIKELY(l->count >= l->limit))
    return false;
  c->bk = key_link(tc->key);
  c->fd = l->first;
  l->first = c;
  l->count++;
  return true;
}

/* Take the first chunk off cached list l of `size`-byte chunks (nonempty),
 * checking that it still looks cached: a write through a dangling pointer
 * may have hit a link. */
static inline struct chunk *cached_list_pop(struct cache_list *l, size_t size,
                                            uint64_t key, const char *op) {
  struct chunk *c = l->first;
  if (UNLIKELY(!c || (c->head & ~(size_t)PINUSE) != (size | INUSE) ||
               c->bk != key_link(key)))
    heap_die(op, (uintptr_t)c);
  l->first = c->fd;
  l->count--;
  return c;
}

/* Move chunks of list l to the depot until `keep` are left (lock held). The
 * first ones go, the most recently freed. They stay cached chunks, so this
 * costs a few stores each where a free would coalesce them and the next
 * refill split them again. */
static void cache_flush_locked(struct heap *h, struct cache_list *l,
                               size_t size, unsigned keep) {
  struct heap_state *st = h->state;
  struct cache_list *d = &st->depot[cache_class(size)];
  while (l->count > keep) {
    struct chunk *c = cached_list_pop(l, size, st->cache_key,
                                      "free(): corrupted thread cache at");
    if (LIKELY(d->count < UINT32_MAX)) {
      c->fd = d->first;
      d->first = c;
      d->count++;
      st->depot_bytes += size;
    } else {
      c->bk = NULL;
      free_chunk(h, c);
    }
  }
}

/* Give every chunk in the depot back to the heap (lock held). */
static void depot_drain_locked(struct heap *h) {
  struct heap_state *st = h->state;
  for (unsigned i = 0; i < CACHE_CLASSES && st->depot_bytes; i++) {
    struct cache_list *d = &st->depot[i];
    size_t size = cache_class_size(i);
    while (d->count) {
      struct chunk *c = cached_list_pop(d, size, st->cache_key,
                                        "malloc(): corrupted chunk depot at");
      st->depot_bytes -= size;
      c->bk = NULL;
      free_chunk(h, c);
    }
  }
}

/* tc's list for `size` is empty: take a batch of chunks of that size from
 * the heap under one lock, keep all but one and return that one (its size
 * may be a little larger, as alloc_chunk gives); NULL if out of memory. */
static __attribute__((noinline)) struct chunk *
cache_refill(struct heap_cache *tc, size_t size) {
  struct heap *h = &app_heap;
  struct cache_list *l = &tc->lists[cache_class(size)];
  struct clean_range clean;
  lock_acquire(&h->lock);
  struct heap_state *st = h->state;
  struct cache_list *d = &st->depot[cache_class(size)];
  if (d->count) {
    /* From the depot: the whole batch is already cached chunks. */
    struct chunk *first = cached_list_pop(
        d, size, tc->key, "malloc(): corrupted chunk depot at");
    unsigned moved = 1;
    for (; d->count && moved < l->limit / 2u; moved++) {
      struct chunk *c = cached_list_pop(
          d, size, tc->key, "malloc(): corrupted chunk depot at");
      c->fd = l->first;
      l->first = c;
      l->count++;
    }
    st->depot_bytes -= moved * size;
    lock_release(&h->lock);
    first->bk = NULL; /* a live block that kept the key would look cached */
    return first;
  }
  struct chunk *first = alloc_chunk(h, size, &clean);
  /* Listed in the order they came, so that a run carved from the top is
   * handed out in address order. */
  struct chunk **link = &l->first;
  for (unsigned i = 1; first && i < l->limit / 2u; i++) {
    struct chunk *c = alloc_chunk(h, size, &clean);
    if (!c)
      break;
    size_t got = chunk_size(c);
    if (got != size) {
      /* A free chunk too small to split: file it under its own size. */
      if (got > CACHE_MAX_CHUNK || !cache_put(tc, c, got))
        free_chunk(h, c);
      break;
    }
    c->bk = key_link(tc->key);
    *link = c;
    link = &c->fd;
    l->count++;
  }
  *link = NULL;
  lock_release(&h->lock);
  return first;
}

/* Whether chunk c (of `size` bytes) is in some thread's cache (lock held):
 * the rare check behind a chunk that holds the cache key. */
static bool chunk_in_a_cache(const struct heap_state *st,
                             const struct chunk *c, size_t size) {
  if (size > CACHE_MAX_CHUNK ||
      c->bk != key_link(st->cache_key))
    return false;
  /* The depot changes only under the lock. */
  for (const struct chunk *x = st->depot[cache_class(size)].first; x;
       x = x->fd)
    if (x == c)
      return true;
  /* Other threads change their lists without the lock: follow only links
   * that stay inside the chunks, so a list changing under the walk can give
   * a wrong answer (for a program that frees a block twice at once) but
   * never a read outside the arena. */
  uintptr_t first = st->head.first_chunk, top = st->head.top;
  for (const struct heap_cache *tc = st->caches; tc; tc = tc->next) {
    const struct cache_list *l = &tc->lists[cache_class(size)];
    unsigned n = 0;
    for (const struct chunk *x = l->first; x && n <= l->count;
         x = x->fd, n++) {
      if (x == c)
        return true;
      if ((uintptr_t)x < first || (uintptr_t)x >= top ||
          ((uintptr_t)x & (CHUNK_ALIGN - 1)))
        break;
    }
  }
  return false;
}

static struct heap_cache *cache_find(struct heap_state *st, uint32_t slot) {
  for (struct heap_cache *tc = st->caches; tc; tc = tc->next)
    if (tc->slot == slot)
      return tc;
  return NULL;
}

/* Set thread_cache for the calling thread: its slot's cache in the
 * application heap, made now if there is none. NULL if the thread has no
 * slot, is finishing, there is no application heap, or no memory. */
static __attribute__((noinline)) struct heap_cache *cache_attach(void) {
  struct ckpt_thread *self = ckpt_self;
  struct heap *h = &app_heap;
  if (thread_cache_off || !self || !heap_state_acquire(h))
    return NULL;
  lock_acquire(&h->lock);
  struct heap_state *st = h->state;
  struct heap_cache *tc = cache_find(st, self->slot);
  if (!tc) {
    struct clean_range clean;
    struct chunk *c =
        alloc_chunk(h, request_to_chunk(sizeof(struct heap_cache)), &clean);
    if (c) {
      tc = chunk_payload(c);
      memset(tc, 0, sizeof(*tc));
      for (unsigned i = 0; i < CACHE_CLASSES; i++)
        tc->lists[i].limit = cache_list_limit(i);
      tc->slot = self->slot;
      tc->magic = CACHE_MAGIC;
      tc->key = st->cache_key;
      tc->next = st->caches;
      st->caches = tc;
    }
  }
  lock_release(&h->lock);
  thread_cache = tc;
  return tc;
}

/* Empty tc into the heap, unlink it and free it (lock held). */
static void cache_release_locked(struct heap *h, struct heap_cache *tc) {
  struct heap_state *st = h->state;
  for (unsigned i = 0; i < CACHE_CLASSES; i++)
    cache_flush_locked(h, &tc->lists[i], cache_class_size(i), 0);
  for (struct heap_cache **link = &st->caches; *link; link = &(*link)->next)
    if (*link == tc) {
      *link = tc->next;
      break;
    }
  free_chunk(h, payload_chunk(tc));
}

void ckpt_heap_thread_exit(void) {
  thread_cache_off = true;
  struct heap_cache *tc = thread_cache;
  thread_cache = NULL;
  struct ckpt_thread *self = ckpt_self;
  struct heap *h = &app_heap;
  if (!heap_state_acquire(h))
    return;
  lock_acquire(&h->lock);
  if (!tc && self) /* TLS reset by a restart: the cache may still be there */
    tc = cache_find(h->state, self->slot);
  if (tc)
    cache_release_locked(h, tc);
  lock_release(&h->lock);
}

/* What the caches and the depot hold: cached chunks (free for the program,
 * INUSE in the heap's own count) and the caches themselves (allocator
 * state). Exact when no thread is inside the allocator; the owners change
 * their caches unlocked. */
struct cache_totals {
  uint64_t caches, cache_usable; /* the cache chunks */
  uint64_t chunks, bytes;        /* cached chunks and their sizes */
};

static void cache_totals(const struct heap_state *st, struct cache_totals *t) {
  memset(t, 0, sizeof(*t));
  for (unsigned i = 0; i < CACHE_CLASSES; i++)
    t->chunks += st->depot[i].count;
  t->bytes = st->depot_bytes;
  for (const struct heap_cache *tc = st->caches; tc; tc = tc->next) {
    t->caches++;
    t->cache_usable += chunk_usable(chunk_size(payload_chunk((void *)tc)));
    for (unsigned i = 0; i < CACHE_CLASSES; i++) {
      t->chunks += tc->lists[i].count;
      t->bytes += tc->lists[i].count * cache_class_size(i);
    }
  }
}

/* ---- Public allocation API ---------------------------------------------- */

static void *heap_alloc(size_t n, bool zero) {
  size_t need = request_to_chunk(n);
  if (need && need <= CACHE_MAX_CHUNK && ckpt_heap_use_app) {
    struct heap_cache *tc = thread_cache ? thread_cache : cache_attach();
    if (tc) {
      struct chunk *c = cache_take(tc, need);
      if (!c && !(c = cache_refill(tc, need))) {
        errno = ENOMEM;
        return NULL;
      }
      if (zero)
        memset(chunk_payload(c), 0, chunk_usable(chunk_size(c)));
      return chunk_payload(c);
    }
  }
  struct heap *h = heap_for_new();
  if (UNLIKELY(!need || !h)) {
    errno = ENOMEM;
    return NULL;
  }
  struct clean_range clean;
  lock_acquire(&h->lock);
  struct chunk *c = alloc_chunk(h, need, &clean);
  lock_release(&h->lock);
  if (UNLIKELY(!c)) {
    errno = ENOMEM;
    return NULL;
  }
  if (zero) {
    uintptr_t lo = (uintptr_t)chunk_payload(c);
    uintptr_t hi = (uintptr_t)c + chunk_size(c) + CHUNK_OVERHEAD;
    if (clean.lo < lo)
      clean.lo = lo;
    if (clean.hi > hi)
      clean.hi = hi;
    if (clean.lo >= clean.hi) {
      memset((void *)lo, 0, hi - lo);
    } else {
      memset((void *)lo, 0, clean.lo - lo);
      memset((void *)clean.hi, 0, hi - clean.hi);
    }
  }
  return chunk_payload(c);
}

void *ckpt_heap_malloc(size_t size) {
  struct heap_cache *tc = thread_cache;
  if (LIKELY(tc != NULL) && LIKELY(ckpt_heap_use_app) &&
      LIKELY(size <= CACHE_MAX_REQUEST)) {
    struct chunk *c = cache_take(tc, small_request_to_chunk(size));
    if (LIKELY(c != NULL))
      return chunk_payload(c);
  }
  return heap_alloc(size, false);
}

void *ckpt_heap_calloc(size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  return heap_alloc(bytes, true);
}

/* free() when the lock-free path did not take the block: NULL, the system
 * heap, a large block, a full cache list, a thread without a cache yet, or
 * an invalid pointer (checked here, under the lock). */
static __attribute__((noinline)) void heap_free_slow(void *p) {
  if (!p)
    return;
  struct heap *h = heap_owning((uintptr_t)p);
  if (UNLIKELY(!h))
    heap_die("free(): invalid pointer", (uintptr_t)p);
  struct heap_cache *tc = NULL;
  if (h == &app_heap)
    tc = thread_cache ? thread_cache : cache_attach();
  lock_acquire(&h->lock);
  struct chunk *c = checked_chunk(h, p, "free(): invalid pointer");
  size_t size = chunk_size(c);
  if (tc && size <= CACHE_MAX_CHUNK) {
    struct cache_list *l = &tc->lists[cache_class(size)];
    if (l->count >= l->limit)
      cache_flush_locked(h, l, size, l->limit / 2u);
    cache_put(tc, c, size);
  } else {
    free_chunk(h, c);
  }
  lock_release(&h->lock);
}

void ckpt_heap_free(void *p) {
  struct heap_cache *tc = thread_cache;
  if (LIKELY(tc != NULL)) {
    struct chunk *c = cacheable_chunk(p);
    if (LIKELY(c != NULL) && LIKELY(cache_put(tc, c, chunk_size(c))))
      return;
  }
  heap_free_slow(p);
}

size_t ckpt_heap_usable_size(void *p) {
  if (!p)
    return 0;
  if (thread_cache) { /* the application heap is initialised */
    struct chunk *c = cacheable_chunk(p);
    if (c)
      return chunk_usable(chunk_size(c));
  }
  struct heap *h = heap_owning((uintptr_t)p);
  if (UNLIKELY(!h))
    heap_die("malloc_usable_size(): invalid pointer", (uintptr_t)p);
  lock_acquire(&h->lock);
  struct chunk *c = checked_chunk(h, p, "malloc_usable_size(): invalid pointer");
  size_t usable = chunk_usable(chunk_size(c));
  lock_release(&h->lock);
  return usable;
}

/* A block at least this large that realloc has to move for a growth of less
 * than half its size gets headroom: half its new size again. A program
 * growing a buffer a little at a time then copies it O(log n) times rather
 * than at every step. (glibc moves such blocks with mremap, which copies
 * nothing; inside one arena every move would leave a mapping of its own
 * behind.) Headroom never written costs no memory if it was released, and
 * checkpoints skip zero pages. A shrinking realloc keeps it. */
#define REALLOC_HEADROOM_MIN ((size_t)128 * 1024)
/* A moving realloc maps the destination of a copy this large in advance. */
#define POPULATE_MIN ((size_t)256 * 1024)

/* Resize c to `need` bytes without moving it, if possible (lock held). */
static bool resize_in_place(struct heap *h, struct chunk *c, size_t need) {
  struct heap_state *st = h->state;
  size_t size = chunk_size(c);
  if (need <= size) {
    /* Headroom (up to half of need) stays for the next growth. */
    size_t keep = need >= REALLOC_HEADROOM_MIN ? need / 2 : 0;
    if (size - need >= MIN_CHUNK && size - need > keep)
      free_chunk(h, split_in_use(st, c, need));
    return true;
  }
  struct chunk *next = chunk_next(c);
  if (next->head & TOP) {
    uintptr_t t = (uintptr_t)next, new_top = (uintptr_t)c + need;
    if (need > h->limit - (uintptr_t)c - CHUNK_HDR ||
        heap_ensure_mapped(h, new_top + CHUNK_HDR) != 0)
      return false;
    c->head = need | INUSE | (c->head & PINUSE);
    chunk_at(new_top)->head = TOP | PINUSE;
    if (st->head.clean_from < new_top + CHUNK_HDR)
      st->head.clean_from = new_top + CHUNK_HDR;
    set_top(h, st, new_top);
    st->head.stats.allocated_bytes += new_top - t;
    return true;
  }
  if (!(next->head & INUSE) && size + chunk_size(next) >= need) {
    size_t next_size = chunk_size(next);
    bool dirty = next->head & DIRTY;
    bin_remove(st, next, next_size);
    size_t new_size = take_free_chunk(st, c, size + next_size, need, dirty);
    st->head.stats.allocated_bytes += new_size - size;
    return true;
  }
  return false;
}

void *ckpt_heap_realloc(void *p, size_t n) {
  if (!p)
    return ckpt_heap_malloc(n);
  if (n == 0) {
    ckpt_heap_free(p);
    return NULL;
  }
  struct heap_cache *tc = thread_cache;
  if (tc && n <= CACHE_MAX_REQUEST) {
    /* Small to small: through the thread's cache, without the lock. */
    struct chunk *c = cacheable_chunk(p);
    if (c) {
      size_t size = chunk_size(c), need = small_request_to_chunk(n);
      if (need <= size && size - need < MIN_CHUNK)
        return p; /* nothing worth splitting off */
      struct chunk *moved = need > size ? cache_take(tc, need) : NULL;
      if (moved) {
        memcpy(chunk_payload(moved), p, chunk_usable(size));
        ckpt_heap_free(p);
        return chunk_payload(moved);
      }
    }
  }
  struct heap *h = heap_owning((uintptr_t)p);
  if (UNLIKELY(!h))
    heap_die("realloc(): invalid pointer", (uintptr_t)p);
  size_t need = request_to_chunk(n);
  lock_acquire(&h->lock);
  struct chunk *c = checked_chunk(h, p, "realloc(): invalid pointer");
  if (UNLIKELY(!need)) {
    lock_release(&h->lock);
    errno = ENOMEM;
    return NULL;
  }
  if (resize_in_place(h, c, need)) {
    lock_release(&h->lock);
    return p;
  }
  struct clean_range clean;
  struct chunk *moved = NULL;
  size_t old_size = chunk_size(c);
  if (need >= REALLOC_HEADROOM_MIN && need - old_size < old_size / 2)
    moved = alloc_chunk(
        h, (need + need / 2 + CHUNK_ALIGN - 1) & ~(size_t)(CHUNK_ALIGN - 1),
        &clean);
  if (!moved)
    moved = alloc_chunk(h, need, &clean);
  lock_release(&h->lock);
  if (!moved) {
    errno = ENOMEM;
    return NULL;
  }
  /* Only growth gets here, so the whole old payload is copied; both blocks
   * are the caller's, so without the lock. Pages about to be written
   * anyway are mapped in one call rather than one fault each (best
   * effort: kernels before 5.14 refuse, then memcpy faults them in). */
  if (old_size >= POPULATE_MIN) {
    int saved_errno = errno;
    uintptr_t lo = page_up((uintptr_t)chunk_payload(moved));
    uintptr_t hi =
        ((uintptr_t)moved + old_size) & ~(uintptr_t)(PAGE_SIZE_BYTES - 1);
    if (hi > lo)
      madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
    errno = saved_errno;
  }
  memcpy(chunk_payload(moved), p, chunk_usable(old_size));
  lock_acquire(&h->lock);
  free_chunk(h, c);
  lock_release(&h->lock);
  return chunk_payload(moved);
}

void *ckpt_heap_memalign(size_t align, size_t n) {
  if (align <= CHUNK_ALIGN)
    return ckpt_heap_malloc(n);
  if (align > ((size_t)1 << 40)) {
    errno = EINVAL;
    return NULL;
  }
  if (align & (align - 1))
    align = (size_t)1 << (64 - __builtin_clzll(align));
  size_t need = request_to_chunk(n);
  struct heap *h = heap_for_new();
  if (!need || !h) {
    errno = ENOMEM;
    return NULL;
  }
  /* Room for the block at any alignment offset, plus a lead chunk of at
   * least MIN_CHUNK in front of it to free. */
  struct clean_range clean;
  lock_acquire(&h->lock);
  struct chunk *c = alloc_chunk(h, need + align + MIN_CHUNK, &clean);
  if (!c) {
    lock_release(&h->lock);
    errno = ENOMEM;
    return NULL;
  }
  struct heap_state *st = h->state;
  uintptr_t p = (uintptr_t)chunk_payload(c);
  uintptr_t aligned = (p + align - 1) & ~(uintptr_t)(align - 1);
  if (aligned != p) {
    if (aligned - p < MIN_CHUNK)
      aligned += align;
    struct chunk *lead = c;
    c = split_in_use(st, lead, aligned - p);
    free_chunk(h, lead);
  }
  if (chunk_size(c) - need >= MIN_CHUNK)
    free_chunk(h, split_in_use(st, c, need));
  lock_release(&h->lock);
  return chunk_payload(c);
}

/* ---- Inspection ---------------------------------------------------------- */

/* The arena's own counts take every chunk the heap handed out as
 * allocated; what the program sees excludes the caches and counts the
 * chunks in them as free. */
static int heap_stats(struct heap *h, struct ckpt_heap_stats *out) {
  lock_acquire(&h->lock);
  struct heap_state *st = h->state;
  if (st) {
    *out = st->head.stats;
    struct cache_totals t;
    cache_totals(st, &t);
    out->allocated_chunks -= t.caches + t.chunks;
    out->allocated_bytes -=
        t.cache_usable + t.bytes - t.chunks * CHUNK_OVERHEAD;
    out->free_chunks += t.chunks;
    out->free_bytes += t.bytes;
  } else {
    memset(out, 0, sizeof(*out));
  }
  lock_release(&h->lock);
  return st ? 0 : -1;
}

int ckpt_heap_app_stats(struct ckpt_heap_stats *out) {
  return heap_stats(&app_heap, out);
}
int ckpt_heap_sys_stats(struct ckpt_heap_stats *out) {
  return heap_stats(&sys_heap, out);
}

/* Whether cached list l holds `count` live chunks of `size` bytes that
 * hold the heap's key. */
static bool cached_list_ok(const struct heap_state *st,
                           const struct cache_list *l, size_t size) {
  uintptr_t first = st->head.first_chunk, top = st->head.top;
  uint32_t n = 0;
  for (struct chunk *c = l->first; c; c = c->fd) {
    uintptr_t ca = (uintptr_t)c;
    if (++n > l->count || ca < first || ca >= top ||
        (ca & (CHUNK_ALIGN - 1)) ||
        (c->head & ~(size_t)PINUSE) != (size | INUSE) ||
        c->bk != key_link(st->cache_key))
      return false;
  }
  return n == l->count;
}

/* Every cache is a live chunk with its magic, the heap's key and a slot of
 * its own; every list, and the depot's, holds live chunks of its size that
 * hold the key, as many as it says; no more chunks are listed than the heap
 * has live. */
static int check_caches_locked(struct heap *h) {
  struct heap_state *st = h->state;
  uintptr_t first = st->head.first_chunk, top = st->head.top;
  uint64_t listed_chunks = 0, caches = 0, depot_bytes = 0;
  for (unsigned i = 0; i < CACHE_CLASSES; i++) {
    const struct cache_list *d = &st->depot[i];
    if ((d->count && h != &app_heap) || d->limit ||
        !cached_list_ok(st, d, cache_class_size(i)))
      return -1;
    listed_chunks += d->count;
    depot_bytes += d->count * cache_class_size(i);
  }
  if (depot_bytes != st->depot_bytes)
    return -1;
  for (struct heap_cache *tc = st->caches; tc; tc = tc->next) {
    uintptr_t ta = (uintptr_t)tc;
    if (h != &app_heap || ta < first + CHUNK_HDR || ta >= top ||
        (ta & (CHUNK_ALIGN - 1)) || ++caches > st->head.stats.allocated_chunks)
      return -1;
    struct chunk *tchunk = payload_chunk(tc);
    if ((tchunk->head & (FLAGS & ~PINUSE)) != INUSE ||
        chunk_size(tchunk) < request_to_chunk(sizeof(*tc)) ||
        chunk_size(tchunk) > top - (uintptr_t)tchunk ||
        tc->magic != CACHE_MAGIC || tc->key != st->cache_key)
      return -1;
    for (struct heap_cache *other = st->caches; other != tc;
         other = other->next)
      if (other->slot == tc->slot)
        return -1;
    for (unsigned i = 0; i < CACHE_CLASSES; i++) {
      const struct cache_list *l = &tc->lists[i];
      if (l->limit != cache_list_limit(i) || l->count > l->limit ||
          !cached_list_ok(st, l, cache_class_size(i)))
        return -1;
      listed_chunks += l->count;
    }
  }
  return listed_chunks + caches > st->head.stats.allocated_chunks ? -1 : 0;
}

static int heap_check_locked(struct heap *h) {
  struct heap_state *st = h->state;
  if (!st || st->head.magic != CKPT_HEAP_ARENA_MAGIC ||
      st->head.first_chunk != h->base + STATE_SPACE ||
      st->head.top < st->head.first_chunk ||
      st->head.top + CHUNK_HDR > h->mapped_end ||
      st->head.clean_from < st->head.top + CHUNK_HDR ||
      st->head.clean_from > h->mapped_end)
    return -1;
  struct ckpt_heap_stats seen = {0};
  uint64_t retained = 0;
  size_t prev_size = 0;
  bool prev_free = false;
  uintptr_t top = st->head.top;
  uintptr_t a = st->head.first_chunk;
  while (a < top) {
    struct chunk *c = chunk_at(a);
    size_t size = chunk_size(c), flags = c->head & FLAGS;
    /* PINUSE says whether the chunk below is in use (the first chunk has
     * it); only above a free chunk is prev_size its boundary tag. */
    if (!(flags & PINUSE) != prev_free ||
        (prev_free && c->prev_size != prev_size) ||
        ((flags & ~PINUSE) != 0 && (flags & ~PINUSE) != INUSE &&
         (flags & ~PINUSE) != DIRTY) ||
        ((flags & DIRTY) && size < RELEASE_THRESHOLD) || size < MIN_CHUNK ||
        size > top - a)
      return -1;
    if (flags & DIRTY)
      retained += size;
    if (flags & INUSE) {
      seen.allocated_chunks++;
      seen.allocated_bytes += chunk_usable(size);
      prev_free = false;
    } else {
      if (prev_free) /* coalescing missed */
        return -1;
      seen.free_chunks++;
      seen.free_bytes += size;
      prev_free = true;
    }
    prev_size = size;
    a += size;
  }
  struct chunk *t = chunk_at(top);
  if (a != top || t->head != (TOP | PINUSE) || prev_free)
    return -1;
  uint64_t listed_chunks = 0, listed_bytes = 0;
  for (unsigned i = 0; i < NUM_BINS; i++) {
    bool bit = (st->bitmap[i / 64] >> (i % 64)) & 1;
    if (bit != (st->bins[i] != NULL))
      return -1;
    struct chunk *back = NULL;
    for (struct chunk *c = st->bins[i]; c; back = c, c = c->fd) {
      uintptr_t ca = (uintptr_t)c;
      if (ca < st->head.first_chunk || ca >= top || (ca & (CHUNK_ALIGN - 1)) ||
          (c->head & (INUSE | TOP)) || bin_index(chunk_size(c)) != i ||
          c->bk != back || ++listed_chunks > seen.free_chunks)
        return -1;
      listed_bytes += chunk_size(c);
    }
  }
  seen.arena_bytes = top + CHUNK_HDR - h->base;
  if (listed_chunks != seen.free_chunks || listed_bytes != seen.free_bytes ||
      retained != st->retained_bytes ||
      memcmp(&seen, &st->head.stats, sizeof(seen)) != 0)
    return -1;
  return check_caches_locked(h);
}

static int heap_check(struct heap *h) {
  lock_acquire(&h->lock);
  int rc = heap_check_locked(h);
  lock_release(&h->lock);
  return rc;
}

int ckpt_heap_app_check(void) { return heap_check(&app_heap); }
int ckpt_heap_sys_check(void) { return heap_check(&sys_heap); }

/* ---- Checkpoint support -------------------------------------------------- */

uintptr_t ckpt_heap_app_end(void) {
  if (!heap_state_acquire(&app_heap))
    return CKPT_HEAP_BASE;
  return __atomic_load_n(&app_heap.mapped_end, __ATOMIC_RELAXED);
}

/* Reports ranges to fn, merging ranges that touch. */
struct extent_run {
  int (*fn)(void *ctx, uintptr_t addr, size_t len);
  void *ctx;
  uintptr_t start, end;
};

static int extent_add(struct extent_run *run, uintptr_t lo, uintptr_t hi) {
  if (lo == run->end) {
    run->end = hi;
    return 0;
  }
  int rc = 0;
  if (run->end > run->start)
    rc = run->fn(run->ctx, run->start, run->end - run->start);
  run->start = lo;
  run->end = hi;
  return rc;
}

static void sift_down(uintptr_t *a, size_t r, size_t n) {
  for (size_t c; (c = 2 * r + 1) < n; r = c) {
    if (c + 1 < n && a[c + 1] > a[c])
      c++;
    if (a[r] >= a[c])
      return;
    uintptr_t t = a[r];
    a[r] = a[c];
    a[c] = t;
  }
}

/* Sort a[0..n) ascending (heapsort: no allocation, no recursion). */
static void sort_addresses(uintptr_t *a, size_t n) {
  for (size_t i = n / 2; i-- > 0;)
    sift_down(a, i, n);
  for (size_t end = n; end > 1;) {
    end--;
    uintptr_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

/* The addresses of the chunks in threads' caches and the depot, sorted, in
 * a private mapping (*len bytes) the caller unmaps; NULL if there are none
 * or no memory (then they are saved whole, which is only larger). */
static uintptr_t *cached_chunk_addresses(const struct heap_state *st,
                                         size_t *count, size_t *len) {
  size_t n = 0;
  for (unsigned i = 0; i < CACHE_CLASSES; i++)
    n += st->depot[i].count;
  for (const struct heap_cache *tc = st->caches; tc; tc = tc->next)
    for (unsigned i = 0; i < CACHE_CLASSES; i++)
      n += tc->lists[i].count;
  *count = 0;
  if (n == 0)
    return NULL;
  *len = page_up(n * sizeof(uintptr_t));
  uintptr_t *a = mmap(NULL, *len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED)
    return NULL;
  size_t k = 0;
  for (unsigned i = 0; i < CACHE_CLASSES; i++)
    for (const struct chunk *c = st->depot[i].first; c && k < n; c = c->fd)
      a[k++] = (uintptr_t)c;
  for (const struct heap_cache *tc = st->caches; tc; tc = tc->next)
    for (unsigned i = 0; i < CACHE_CLASSES; i++)
      for (const struct chunk *c = tc->lists[i].first; c && k < n; c = c->fd)
        a[k++] = (uintptr_t)c;
  sort_addresses(a, k);
  *count = k;
  return a;
}

/* As rt.h describes; also returns -1 (errno EFAULT) if it meets a chunk
 * header that cannot be right, rather than walk off into the arena. fn must
 * not allocate from the application heap. */
int ckpt_heap_for_each_extent(int (*fn)(void *ctx, uintptr_t addr, size_t len),
                              void *ctx) {
  /* No lock: the caller guarantees no other thread is in the allocator, and
   * fn may then allocate from the system heap. */
  struct heap_state *st = heap_state_acquire(&app_heap);
  if (!st)
    return 0;
  struct extent_run run = {fn, ctx, app_heap.base, st->head.first_chunk};
  uintptr_t top = st->head.top;
  size_t ncached = 0, cached_len = 0, next_cached = 0;
  uintptr_t *cached = cached_chunk_addresses(st, &ncached, &cached_len);
  int rc = 0;
  for (uintptr_t a = st->head.first_chunk; a < top;) {
    struct chunk *c = chunk_at(a);
    size_t size = chunk_size(c);
    if (size < MIN_CHUNK || size > top - a) {
      errno = EFAULT;
      rc = -1;
      goto out;
    }
    /* A free chunk's boundary tag is the next header's prev_size, which is
     * reported with that header, as is the last payload word of a chunk in
     * use. A chunk in a cache is free but for its header, link and key. */
    while (next_cached < ncached && cached[next_cached] < a)
      next_cached++;
    bool in_cache = next_cached < ncached && cached[next_cached] == a;
    uintptr_t hi = a + ((c->head & INUSE) && !in_cache ? size : MIN_CHUNK);
    if ((rc = extent_add(&run, a, hi)) != 0)
      goto out;
    a += size;
  }
  if ((rc = extent_add(&run, top, top + CHUNK_HDR)) == 0)
    rc = run.fn(run.ctx, run.start, run.end - run.start);
out:
  if (cached)
    munmap(cached, cached_len);
  return rc;
}

int ckpt_heap_app_find_block(uintptr_t addr, uintptr_t *payload,
                             size_t *usable) {
  /* A linear walk: an interior pointer cannot be mapped to its chunk any
   * other way, and certainty matters more than speed here (an exclusion
   * outside a live block would hide whatever is allocated there later). */
  struct heap *h = &app_heap;
  if (addr < h->base || addr >= h->limit)
    return -1;
  lock_acquire(&h->lock);
  struct heap_state *st = heap_state_acquire(h);
  int rc = -1;
  if (st) {
    uintptr_t top = st->head.top;
    for (uintptr_t a = st->head.first_chunk; a < top && a <= addr;) {
      struct chunk *c = chunk_at(a);
      size_t size = chunk_size(c);
      if (size < MIN_CHUNK || size > top - a)
        break;
      if ((c->head & INUSE) && addr >= a + CHUNK_HDR &&
          addr < a + size + CHUNK_OVERHEAD && !chunk_in_a_cache(st, c, size)) {
        *payload = a + CHUNK_HDR;
        *usable = chunk_usable(size);
        rc = 0;
        break;
      }
      a += size;
    }
  }
  lock_release(&h->lock);
  return rc;
}

int ckpt_heap_restore_map(uintptr_t end) {
  struct heap *h = &app_heap;
  end = page_up(end);
  if (end <= h->base + STATE_SPACE || end > h->limit) {
    errno = EINVAL;
    return -1;
  }
  thread_cache = NULL; /* the caller's hint may point into the old arena */
  lock_acquire(&h->lock);
  if (h->state) {
    /* An application heap that was set up but never used can give way; one
     * holding blocks cannot. */
    if (h->state->head.stats.allocated_chunks != 0) {
      lock_release(&h->lock);
      errno = EBUSY;
      return -1;
    }
    __atomic_store_n(&h->state, NULL, __ATOMIC_RELEASE);
    munmap((void *)h->base, h->limit - h->base);
  }
  if (app_arena_map(end) != 0) {
    lock_release(&h->lock);
    return -1;
  }
  __atomic_store_n(&h->mapped_end, end, __ATOMIC_RELAXED);
  __atomic_store_n(&h->state, (struct heap_state *)h->base, __ATOMIC_RELEASE);
  lock_release(&h->lock);
  return register_fork_handlers();
}

#ifdef CKPT_UNIT_TEST
int ckpt_heap_app_forget(void) {
  struct heap *h = &app_heap;
  thread_cache = NULL;
  lock_acquire(&h->lock);
  if (!h->state) {
    lock_release(&h->lock);
    return -1;
  }
  __atomic_store_n(&h->state, NULL, __ATOMIC_RELEASE);
  __atomic_store_n(&h->mapped_end, 0, __ATOMIC_RELAXED);
  int rc = munmap((void *)h->base, h->limit - h->base);
  lock_release(&h->lock);
  return rc;
}

void ckpt_heap_thread_tls_reset(void) {
  thread_cache = NULL;
  thread_cache_off = false;
}

size_t ckpt_heap_set_retain_limit(size_t bytes) {
  size_t old = retain_limit;
  retain_limit = bytes;
  return old;
}
#endif
