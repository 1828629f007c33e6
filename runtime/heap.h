/* runtime/heap.h - the fixed-address allocator: internal API and arena layout.
 *
 * heap.c implements one allocator used for two heaps (see "Heap" in rt.h):
 * the application heap at CKPT_HEAP_BASE, whose bytes are the checkpoint's
 * HEAP section, and the system heap, placed anywhere and never saved.
 * heap_interpose.c gives these functions libc's names inside libckpt; the
 * unit test calls them by the names below.
 *
 * Arena layout (both heaps; the application arena starts at CKPT_HEAP_BASE):
 *   [base, first_chunk)   allocator state, starting with
 *                         struct ckpt_heap_arena_head
 *   [first_chunk, top)    chunks, each starting with a 16-byte header
 *                         { u64 prev_size; u64 size | flags }; the payload
 *                         follows the header, is 16-byte aligned and runs
 *                         over the next chunk's prev_size word (a chunk of
 *                         S bytes holds S - 8). prev_size is the size of
 *                         the chunk below only when that chunk is free (flag
 *                         PINUSE clear); a free chunk keeps two list links
 *                         in its first 16 payload bytes. A chunk in a
 *                         thread's cache is INUSE, with one link and the
 *                         heap's cache key in its first payload words; the
 *                         caches themselves are in-use chunks (application
 *                         heap only).
 *   [top, top + 16)       header of the top chunk (flags TOP | PINUSE, size
 *                         0); the rest of the arena above it is unused.
 * Everything at and above head.clean_from is zero. Tools reading a HEAP
 * section can walk the chunks with these definitions.
 */
#ifndef CKPT_HEAP_H
#define CKPT_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "rt.h"

/* ---- malloc family ------------------------------------------------------
 * New blocks come from the application heap when the calling thread's
 * ckpt_heap_use_app is set and that heap is initialised, else from the
 * system heap. free/realloc/usable_size work on blocks of either heap; an
 * address that is not a live block of either is reported on stderr and the
 * process aborts. Failures return NULL with errno = ENOMEM (EINVAL for an
 * impossible alignment). Blocks are 16-byte aligned. */
void *ckpt_heap_malloc(size_t size);
void ckpt_heap_free(void *ptr);
void *ckpt_heap_calloc(size_t count, size_t size);
/* realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL (as
 * glibc does). The block stays in the heap that owns it. */
void *ckpt_heap_realloc(void *ptr, size_t size);
/* align is rounded up to a power of two (as glibc's memalign does). */
void *ckpt_heap_memalign(size_t align, size_t size);
/* Usable bytes of a live block (>= the size asked for); 0 for NULL. */
size_t ckpt_heap_usable_size(void *ptr);

/* If addr lies in the payload of a live block of the application heap, set
 * *payload and *usable to that block's start and usable size and return 0;
 * else return -1. Walks the chunks: linear in the number of blocks. */
int ckpt_heap_app_find_block(uintptr_t addr, uintptr_t *payload,
                             size_t *usable);

/* ---- Inspection --------------------------------------------------------- */
struct ckpt_heap_stats {
  uint64_t allocated_chunks; /* live blocks */
  uint64_t allocated_bytes;  /* their usable bytes */
  uint64_t free_chunks;      /* free chunks held in the bins or in threads'
                                caches */
  uint64_t free_bytes;       /* their sizes, headers included */
  uint64_t arena_bytes;      /* bytes from the arena base to the end of the
                                top chunk's header */
};

/* Copy a heap's statistics. The threads' caches (allocator state, about
 * 1 KiB each) count neither as allocated nor as free. Exact when no thread
 * is inside the allocator (a thread changes its cache without the lock).
 * Returns 0, or -1 (all zero) if the heap is not initialised. */
int ckpt_heap_app_stats(struct ckpt_heap_stats *out);
int ckpt_heap_sys_stats(struct ckpt_heap_stats *out);

/* Walk a heap and check every chunk header, boundary tag, free list and the
 * statistics against each other. Returns 0 if consistent, -1 otherwise (or
 * if the heap is not initialised). Cost is linear in the number of chunks. */
int ckpt_heap_app_check(void);
int ckpt_heap_sys_check(void);

/* ---- In-arena layout (shared with tools) ------------------------------- */
#define CKPT_HEAP_ARENA_MAGIC 0x3150414548544b43ULL /* "CKTHEAP1" */
#define CKPT_HEAP_ARENA_VERSION 4
#define CKPT_HEAP_CHUNK_HEADER 16 /* bytes of a chunk header */
/* What a live chunk costs beyond its payload: its size word. Its prev_size
 * word is the last 8 payload bytes of the chunk below while that chunk is
 * in use (as in glibc), so a chunk of S bytes holds S - 8. Since arena
 * version 3 (16 before). */
#define CKPT_HEAP_CHUNK_OVERHEAD 8
#define CKPT_HEAP_CHUNK_INUSE 1u  /* size flag: chunk is allocated */
#define CKPT_HEAP_CHUNK_TOP 2u    /* size flag: the top chunk */
/* Size flag: the chunk below is in use (or this is the first chunk), so
 * this chunk's prev_size word is not a size but that chunk's data. Clear
 * only above a free chunk, whose size prev_size then is. Since arena
 * version 3. A chunk in a thread's cache is in use for its neighbours; it
 * is known by its cache list, and holds the list link and the heap's cache
 * key in its first two payload words (version 2 flagged it in the size
 * word instead, which the neighbours' prev-in-use bit now shares). */
#define CKPT_HEAP_CHUNK_PINUSE 4u
/* Size flag of a free chunk of at least 256 KiB: its interior was kept
 * resident for reuse (not returned to the kernel), so it is not known to be
 * zero. Since arena version 2. */
#define CKPT_HEAP_CHUNK_DIRTY 8u
#define CKPT_HEAP_CHUNK_FLAGS 15u /* size & ~this is the chunk size */

/* At offset 0 of each arena. Addresses are absolute. stats here counts
 * cached chunks and the caches themselves as allocated (ckpt_heap_app_stats
 * does not). */
struct ckpt_heap_arena_head {
  uint64_t magic;       /* CKPT_HEAP_ARENA_MAGIC */
  uint32_t version;     /* CKPT_HEAP_ARENA_VERSION */
  uint32_t state_size;  /* bytes of allocator state at the arena base */
  uint64_t first_chunk; /* address of the first chunk */
  uint64_t top;         /* address of the top chunk's header */
  uint64_t clean_from;  /* all bytes at and above this address are zero */
  struct ckpt_heap_stats stats;
};

#ifdef CKPT_UNIT_TEST
/* Unmap the application arena and forget the heap, as if the process had
 * just started, so a test can save, unmap, ckpt_heap_restore_map and copy
 * the extents back within one process. Returns 0, or -1 if there is no
 * application heap. */
int ckpt_heap_app_forget(void);
/* Reset the calling thread's allocator TLS to its initial values, as a
 * restart that does not restore the runtime's TLS would. */
void ckpt_heap_thread_tls_reset(void);
/* Set how many bytes of large free chunks each heap may keep resident
 * (and above its top); returns the previous limit. */
size_t ckpt_heap_set_retain_limit(size_t bytes);
#endif

#endif /* CKPT_HEAP_H */
