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

#ifdef __cplusplus
extern "C" {
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
#else
static inline int ckpt_checkpoint(void) { return CKPT_DISABLED; }
#endif

#ifdef __cplusplus
}
#endif
#endif /* CKPT_H */
