/* ckpt.h - the user API of ckpt, the checkpoint/restart system.
 *
 * Programs need none of this to be checkpointed: compile with ckpt-cc and run
 * under ckpt-run. These calls let a program ask for a checkpoint at a point
 * of its choosing. A program that includes this header still builds with a
 * plain C compiler (without ckpt-cc, -D__CKPT__ is not set): the calls then
 * become no-ops that report checkpointing as unavailable.
 */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CKPT_EXCLUDE before a variable's declaration (a global, a static or
 * automatic local, an array, a struct) leaves the variable out of every
 * checkpoint; after a restart it reads as zeros. Same effect as
 * `#pragma ckpt exclude`, without needing ckpt-cc's frontend plugin. */
#if defined(__clang__)
#define CKPT_EXCLUDE __attribute__((annotate("ckpt.exclude")))
#else
#define CKPT_EXCLUDE
#endif

/* Return values of ckpt_checkpoint(). */
#define CKPT_TAKEN 0     /* the checkpoint is written, synced and renamed */
#define CKPT_RESTARTED 1 /* returning in a process restarted from it */
#define CKPT_FAILED (-1) /* not taken; the reason went to stderr */
#define CKPT_DISABLED (-2) /* not running under ckpt-run: nothing written */

#ifdef __CKPT__
/* Take a checkpoint now, with this thread stopped at this call. Returns when
 * the file is durable (CKPT_TAKEN), or, after `ckpt-run --restart`, returns
 * CKPT_RESTARTED in the restarted process. */
int ckpt_checkpoint(void);

/* Leave [ptr, ptr+len) out of checkpoints from now on; after a restart it
 * reads as zeros (in a private file mapping: as the file's bytes). The
 * range must lie inside one heap block (malloc & co.), inside the program's
 * global variables, or inside memory the program mapped itself (mmap). A
 * heap exclusion ends when the block is freed, and follows the block when
 * realloc moves it (clipped to the new size); one in mapped memory ends when
 * that memory is unmapped or moved by mremap. Returns 0, or -1 with errno =
 * EINVAL and one error line on stderr naming the range. */
int ckpt_exclude(const void *ptr, size_t len);
/* Save [ptr, ptr+len) again (the part of it that was excluded). Returns 0,
 * or -1 (EINVAL) for a range ckpt_exclude would refuse. */
int ckpt_include(const void *ptr, size_t len);
/* Call fn(arg) after a restart, once memory, files and handlers are back and
 * before the program resumes; callbacks run in the order they were
 * registered, on the main thread, and may rebuild what was excluded. They
 * run again after every later restart. Returns 0, or -1 (ENOMEM). */
int ckpt_on_restart(void (*fn)(void *arg), void *arg);
#else
static inline int ckpt_checkpoint(void) { return CKPT_DISABLED; }
static inline int ckpt_exclude(const void *ptr, size_t len) {
  (void)ptr;
  (void)len;
  return 0;
}
static inline int ckpt_include(const void *ptr, size_t len) {
  (void)ptr;
  (void)len;
  return 0;
}
static inline int ckpt_on_restart(void (*fn)(void *arg), void *arg) {
  (void)fn;
  (void)arg;
  return 0;
}
#endif

#ifdef __cplusplus
}
#endif
#endif /* CKPT_H */
