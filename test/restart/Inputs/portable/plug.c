/* plug.c - a plain (not ckpt-cc) shared library the portable-restart test
 * rebuilds between a checkpoint and its restart. -DPLUG_V2 makes another
 * build: other code and data in front of everything, so every symbol is at
 * another offset, but the same names. */
#include <stddef.h>

#ifdef PLUG_V2
char plug_padding[12345] = {1};
int plug_padding_fn(int x) { return x * 3 + plug_padding[x & 7]; }
#endif

int plug_table[8] = {1, 2, 3, 5, 8, 13, 21, 34};
static int plug_hidden[4] = {7, 7, 7, 7};

int plug_scale(int x) { return 3 * x + 1; }

/* A pointer into data no exported symbol names. */
int *plug_hidden_ptr(void) { return &plug_hidden[1]; }

/* A function no exported symbol names: only a build's own code can call
 * it through a pointer. */
static int plug_private_scale(int x) { return 5 * x + plug_hidden[0]; }
int (*plug_private_fn(void))(int) { return plug_private_scale; }
