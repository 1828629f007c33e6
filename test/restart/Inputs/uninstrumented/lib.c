/* lib.c - compiled without ckpt (plain clang): calls back into the program. */
int apply(int (*fn)(int), int x) { return fn(x) + 1; }

/* A plain call from the program into this file, which asks for a
 * checkpoint itself: nothing calls back into the program here. */
int ckpt_checkpoint(void);
int take_checkpoint_here(void) { return ckpt_checkpoint(); }
