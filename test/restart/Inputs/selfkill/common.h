/* common.h - for the self-kill restart programs: take a checkpoint here and,
 * in the run that took it, die at once as if killed; after a restart (or in
 * a plain build, where checkpoints are disabled) carry on. */
#include <signal.h>
#ifdef __CKPT__
#include <ckpt.h>
#define CHECKPOINT_AND_DIE()                                                   \
  do {                                                                         \
    if (ckpt_checkpoint() == CKPT_TAKEN)                                       \
      raise(SIGKILL);                                                          \
  } while (0)
#else
#define CHECKPOINT_AND_DIE() ((void)0)
#endif
