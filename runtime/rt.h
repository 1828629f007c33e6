/* runtime/rt.h - internal interfaces between the files of libckpt.
 *
 * One file per concern: main.c (startup, main takeover), frames.c (safe
 * points, stop/restore of frames), coordinator.c (checkpoint triggers),
 * snapshot.c (writing a checkpoint), restore.c (reading one back), heap.c
 * (the fixed-address allocator), image.c (the file container), files.c
 * (stdout/stderr), libcstate.c (libc state kept in the checkpoint), util.c.
 */
#ifndef CKPT_RT_H
#define CKPT_RT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ckpt/abi.h"

/* ---- Errors -------------------------------------------------------------
 * Every message a user can see is one line starting "ckpt: error: " (or
 * "ckpt: warning: "), so tests can match it. Messages are written with
 * write(2), never stdio, so they never mix with the program's buffers. */
void ckpt_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define CKPT_ERROR(...) ckpt_msg("error", __VA_ARGS__)
#define CKPT_WARN(...) ckpt_msg("warning", __VA_ARGS__)
/* Prints the error and exits with status 70 (EX_SOFTWARE). */
void ckpt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

/* Prefix used by ckpt_msg ("ckpt" in programs, "ckpt-run" in the tool). */
extern const char *ckpt_msg_prefix;

/* ---- Heap (heap.c) ------------------------------------------------------
 * malloc and friends are defined by heap.c and interpose libc's for the whole
 * process. Two heaps:
 *  - the application heap, a fixed-address arena at CKPT_HEAP_BASE whose
 *    memory and allocator state are saved in checkpoints;
 *  - the system heap (anywhere), for the dynamic loader, libc before main,
 *    and the runtime's own threads; never saved, never overwritten by restore.
 * Allocations made by a thread whose ckpt_heap_use_app flag is set go to the
 * application heap; free/realloc find the owning heap from the address. */
extern __thread int ckpt_heap_use_app;

/* Reserve the application arena (PROT_NONE) at CKPT_HEAP_BASE and set up an
 * empty heap in it. Called once, before the user's main. Returns 0 or -1. */
int ckpt_heap_init_app(void);
/* [CKPT_HEAP_BASE, ckpt_heap_app_end()) is the part of the arena that is
 * mapped read-write; everything the application heap holds lies inside. */
uintptr_t ckpt_heap_app_end(void);
/* Calls fn for each range of the application arena that holds data: the
 * allocator's own state and every allocated chunk (headers included), and
 * the bookkeeping words of free chunks. Ranges come in address order, do not
 * overlap, and together are all restore needs besides zero pages. Must be
 * called with no other thread inside the allocator. Stops and returns fn's
 * value if fn returns non-zero; returns 0 otherwise. */
int ckpt_heap_for_each_extent(int (*fn)(void *ctx, uintptr_t addr, size_t len),
                              void *ctx);
/* Restore: map [CKPT_HEAP_BASE, end) read-write and zero-filled (the arena
 * must not be in use yet). The caller then copies the saved extents into
 * place; the allocator state comes back with them. Returns 0 or -1. */
int ckpt_heap_restore_map(uintptr_t end);

#endif /* CKPT_RT_H */
