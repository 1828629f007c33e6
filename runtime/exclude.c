/* runtime/exclude.c - memory left out of checkpoints (ckpt_exclude,
 * ckpt_include) and callbacks run after a restart (ckpt_on_restart).
 *
 * The exclusion table is a sorted array of disjoint ranges. It lives in
 * memory mapped with mmap, not malloc: free() and realloc() consult and
 * update it (an exclusion ends with its block and follows it when realloc
 * moves it), so the table must never call back into the allocator. It is
 * saved in the EXCLUDED section and reloaded by a restart, so a range stays
 * excluded across any chain of restarts. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ckpt.h"
#include "heap.h"
#include "rt.h"

static struct ckpt_range *excl_ranges;
static size_t excl_cap;
size_t ckpt_excl_count; /* read without the lock by the free() fast path */
static pthread_mutex_t excl_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ckpt_hook *hooks;
static size_t hooks_count, hooks_cap;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
int ckpt_in_restart_hooks;

/* Remove [lo, hi) from the table (lock held). May split one range in two,
 * so it needs one free slot. */
static int table_remove(uintptr_t lo, uintptr_t hi) {
  if (ckpt_grow_mapped_array((void **)&excl_ranges, &excl_cap, ckpt_excl_count + 1,
           sizeof *excl_ranges))
    return -1;
  size_t out = 0, n = ckpt_excl_count;
  struct ckpt_range split = {0, 0};
  for (size_t i = 0; i < n; i++) {
    struct ckpt_range r = excl_ranges[i];
    if (r.hi <= lo || r.lo >= hi) {
      excl_ranges[out++] = r;
      continue;
    }
    if (r.lo < lo)
      excl_ranges[out++] = (struct ckpt_range){r.lo, lo};
    if (r.hi > hi)
      split = (struct ckpt_range){hi, r.hi};
  }
  if (split.hi) {
    /* Only the range straddling hi leaves a right part; it belongs right
     * after everything below hi. */
    size_t at = out;
    while (at > 0 && excl_ranges[at - 1].lo >= split.hi)
      at--;
    memmove(&excl_ranges[at + 1], &excl_ranges[at],
            (out - at) * sizeof *excl_ranges);
    excl_ranges[at] = split;
    out++;
  }
  __atomic_store_n(&ckpt_excl_count, out, __ATOMIC_RELAXED);
  return 0;
}

/* Add [lo, hi), merging with overlapping or touching ranges (lock held). */
static int table_add(uintptr_t lo, uintptr_t hi) {
  if (ckpt_grow_mapped_array((void **)&excl_ranges, &excl_cap, ckpt_excl_count + 1,
           sizeof *excl_ranges))
    return -1;
  size_t n = ckpt_excl_count, i = 0;
  while (i < n && excl_ranges[i].hi < lo)
    i++;
  size_t j = i;
  while (j < n && excl_ranges[j].lo <= hi) {
    if (excl_ranges[j].lo < lo)
      lo = excl_ranges[j].lo;
    if (excl_ranges[j].hi > hi)
      hi = excl_ranges[j].hi;
    j++;
  }
  /* Ranges i..j-1 are replaced by the one merged range. */
  if (j == i) {
    memmove(&excl_ranges[i + 1], &excl_ranges[i], (n - i) * sizeof *excl_ranges);
    n++;
  } else {
    memmove(&excl_ranges[i + 1], &excl_ranges[j], (n - j) * sizeof *excl_ranges);
    n -= j - i - 1;
  }
  excl_ranges[i] = (struct ckpt_range){lo, hi};
  __atomic_store_n(&ckpt_excl_count, n, __ATOMIC_RELAXED);
  return 0;
}

struct global_holding {
  uintptr_t addr;
  const struct ckpt_global_desc *g;
};

static int holds(void *ctx, const struct ckpt_global_desc *g) {
  struct global_holding *in = ctx;
  uintptr_t a = (uintptr_t)g->addr;
  if (in->addr < a || in->addr >= a + g->size)
    return 0;
  in->g = g;
  return 1;
}

/* Where a range the program names may be excluded: inside one live heap
 * block, one global variable the checkpoint saves, or one range of memory
 * the program mapped. Anything else (a stack, libc's data) is refused: an
 * exclusion there could outlive the object and hide something else. (A
 * mapping's exclusions end when it is unmapped or moved:
 * ckpt_exclude_range_gone.) */
static const char *check_range(uintptr_t lo, uintptr_t hi) {
  if (lo >= CKPT_HEAP_BASE && lo < CKPT_HEAP_BASE + CKPT_HEAP_MAX) {
    uintptr_t payload;
    size_t usable;
    if (ckpt_heap_app_find_block(lo, &payload, &usable) != 0)
      return "is not inside a live heap block";
    if (hi > payload + usable)
      return "runs past the end of its heap block";
    return NULL;
  }
  struct global_holding in = {lo, NULL};
  ckpt_modules_read_lock();
  int in_global = ckpt_for_each_program_global(holds, &in);
  uintptr_t global_end = in_global ? (uintptr_t)in.g->addr + in.g->size : 0;
  ckpt_modules_read_unlock();
  if (in_global)
    return hi <= global_end ? NULL : "runs past the end of its global variable";
  if (lo >= CKPT_STACK_BASE &&
      lo < CKPT_STACK_BASE + CKPT_STACK_MAX_SLOTS * CKPT_STACK_SLOT_STRIDE)
    return "is on a thread's stack (use #pragma ckpt exclude or CKPT_EXCLUDE "
           "for local variables)";
  int mapped = ckpt_mappings_find(lo, hi);
  if (mapped > 0)
    return NULL;
  if (mapped < 0)
    return "runs past the end of the memory the program mapped there";
  return "is neither in a heap block, nor in a global variable ckpt saves, "
         "nor in memory the program mapped";
}

static int range_of(const void *ptr, size_t len, uintptr_t *lo, uintptr_t *hi,
                    const char *fn) {
  *lo = (uintptr_t)ptr;
  if (!ptr || __builtin_add_overflow(*lo, len, hi)) {
    CKPT_ERROR("%s(%p, %zu): invalid range", fn, ptr, len);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

int ckpt_exclude(const void *ptr, size_t len) {
  if (len == 0)
    return 0;
  uintptr_t lo, hi;
  if (range_of(ptr, len, &lo, &hi, "ckpt_exclude"))
    return -1;
  const char *why = check_range(lo, hi);
  if (why) {
    CKPT_ERROR("ckpt_exclude(%p, %zu): the range %s", ptr, len, why);
    errno = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&excl_lock);
  int rc = table_add(lo, hi);
  pthread_mutex_unlock(&excl_lock);
  if (rc) {
    CKPT_ERROR("ckpt_exclude(%p, %zu): out of memory for the exclusion table",
               ptr, len);
    errno = ENOMEM;
  }
  return rc;
}

int ckpt_include(const void *ptr, size_t len) {
  if (len == 0)
    return 0;
  uintptr_t lo, hi;
  if (range_of(ptr, len, &lo, &hi, "ckpt_include"))
    return -1;
  pthread_mutex_lock(&excl_lock);
  int rc = table_remove(lo, hi);
  pthread_mutex_unlock(&excl_lock);
  if (rc) {
    CKPT_ERROR("ckpt_include(%p, %zu): out of memory for the exclusion table",
               ptr, len);
    errno = ENOMEM;
  }
  return rc;
}

/* The allocator's hooks (heap_interpose.c). They cannot return an error:
 * if the table cannot grow to record a split, the process stops with an
 * error line rather than keep an exclusion that could hide a later block. */
static int in_app_heap(const void *p) {
  uintptr_t a = (uintptr_t)p;
  return a >= CKPT_HEAP_BASE && a < CKPT_HEAP_BASE + CKPT_HEAP_MAX;
}

void ckpt_exclude_block_freed(void *block) {
  if (!block || !in_app_heap(block))
    return;
  uintptr_t lo = (uintptr_t)block, hi = lo + ckpt_heap_usable_size(block);
  pthread_mutex_lock(&excl_lock);
  if (table_remove(lo, hi) != 0)
    ckpt_fatal("free(%p): out of memory for the exclusion table", block);
  pthread_mutex_unlock(&excl_lock);
}

void ckpt_exclude_range_gone(uintptr_t lo, uintptr_t hi) {
  if (__atomic_load_n(&ckpt_excl_count, __ATOMIC_RELAXED) == 0)
    return;
  pthread_mutex_lock(&excl_lock);
  if (table_remove(lo, hi) != 0)
    ckpt_fatal("munmap(%#lx): out of memory for the exclusion table",
               (unsigned long)lo);
  pthread_mutex_unlock(&excl_lock);
}

void *ckpt_exclude_realloc(void *block, size_t size) {
  if (!in_app_heap(block))
    return ckpt_heap_realloc(block, size);
  /* The lock is held across the move so no other thread can exclude a range
   * of the new block before the old block's ranges arrive there. */
  pthread_mutex_lock(&excl_lock);
  uintptr_t old_lo = (uintptr_t)block;
  size_t old_size = ckpt_heap_usable_size(block);
  void *moved = ckpt_heap_realloc(block, size);
  if (!moved && size != 0) {
    pthread_mutex_unlock(&excl_lock);
    return NULL; /* the block is unchanged */
  }
  size_t keep = 0;
  if (moved) {
    size_t new_size = ckpt_heap_usable_size(moved);
    keep = old_size < new_size ? old_size : new_size;
  }
  if (moved == block) {
    /* Resized in place: only a part past the new end goes. */
    if (table_remove(old_lo + keep, old_lo + old_size) != 0)
      ckpt_fatal("realloc(%p): out of memory for the exclusion table", block);
  } else {
    /* Moved (or freed): the old block's ranges are a run of the sorted
     * table; the part below the surviving size moves with the block. The
     * two blocks are disjoint, so removing then adding is safe. */
    size_t first = 0, n = ckpt_excl_count;
    while (first < n && excl_ranges[first].hi <= old_lo)
      first++;
    size_t last = first;
    while (last < n && excl_ranges[last].lo < old_lo + old_size)
      last++;
    size_t ncarried = last - first;
    struct ckpt_range *carried = NULL;
    if (ncarried) {
      carried = mmap(NULL, ncarried * sizeof *carried, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (carried == MAP_FAILED)
        ckpt_fatal("realloc(%p): out of memory for the exclusion table",
                   block);
      memcpy(carried, &excl_ranges[first], ncarried * sizeof *carried);
    }
    if (table_remove(old_lo, old_lo + old_size) != 0)
      ckpt_fatal("realloc(%p): out of memory for the exclusion table", block);
    for (size_t i = 0; i < ncarried; i++) {
      uintptr_t lo = carried[i].lo > old_lo ? carried[i].lo : old_lo;
      uintptr_t hi = carried[i].hi < old_lo + keep ? carried[i].hi
                                                   : old_lo + keep;
      if (lo < hi && table_add((uintptr_t)moved + (lo - old_lo),
                               (uintptr_t)moved + (hi - old_lo)) != 0)
        ckpt_fatal("realloc(%p): out of memory for the exclusion table",
                   block);
    }
    if (carried)
      munmap(carried, ncarried * sizeof *carried);
  }
  pthread_mutex_unlock(&excl_lock);
  return moved;
}

size_t ckpt_exclusions(const struct ckpt_range **ranges) {
  *ranges = excl_ranges;
  return ckpt_excl_count;
}

int ckpt_exclusions_restore(const struct ckpt_range *ranges, size_t n) {
  pthread_mutex_lock(&excl_lock);
  __atomic_store_n(&ckpt_excl_count, 0, __ATOMIC_RELAXED);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = table_add(ranges[i].lo, ranges[i].hi);
  pthread_mutex_unlock(&excl_lock);
  return rc;
}

/* ---- Restart callbacks --------------------------------------------------- */

int ckpt_on_restart(void (*fn)(void *arg), void *arg) {
  if (!fn) {
    CKPT_ERROR("ckpt_on_restart(NULL, %p): no function", arg);
    errno = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&hooks_lock);
  int rc = ckpt_grow_mapped_array((void **)&hooks, &hooks_cap, hooks_count + 1, sizeof *hooks);
  if (rc == 0)
    hooks[hooks_count++] = (struct ckpt_hook){fn, arg};
  pthread_mutex_unlock(&hooks_lock);
  if (rc) {
    CKPT_ERROR("ckpt_on_restart(%p, %p): out of memory", (void *)fn, arg);
    errno = ENOMEM;
  }
  return rc;
}

size_t ckpt_restart_hooks(const struct ckpt_hook **out) {
  *out = hooks;
  return hooks_count;
}

int ckpt_restart_hooks_restore(const struct ckpt_hook *saved, size_t n) {
  hooks_count = 0;
  if (ckpt_grow_mapped_array((void **)&hooks, &hooks_cap, n, sizeof *hooks))
    return -1;
  memcpy(hooks, saved, n * sizeof *hooks);
  hooks_count = n;
  return 0;
}

void ckpt_run_restart_hooks(void) {
  /* Callbacks are program code: they allocate from the application heap.
   * A callback may register more callbacks; those run from the next restart
   * on, so the count is taken first. */
  size_t n = hooks_count;
  ckpt_in_restart_hooks = 1;
  ckpt_heap_use_app = 1;
  for (size_t i = 0; i < n; i++)
    hooks[i].fn(hooks[i].arg);
  ckpt_heap_use_app = 0;
  ckpt_in_restart_hooks = 0;
}
