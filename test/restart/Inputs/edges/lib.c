/* lib.c - a ckpt-cc -shared library the program uses in the ways that
 * bind its symbols across objects: the program takes lib_work's address
 * (a non-PIE executable then gives it a PLT entry as its canonical
 * address), reads lib_counter and lib_scratch directly (copied into the
 * executable), and lib_scratch is excluded from checkpoints. With
 * -DOPEN_IN_CONSTRUCTOR its constructor opens a plugin with dlopen before
 * main. */
#include <ckpt.h>
#include <dlfcn.h>
#include <stdio.h>

int lib_counter;
CKPT_EXCLUDE int lib_scratch[1024];

long lib_work(int depth) {
  lib_counter++;
  lib_scratch[depth % 1024] = depth;
  if (depth == 0)
    return ckpt_checkpoint();
  return lib_work(depth - 1) + 1;
}

#ifdef OPEN_IN_CONSTRUCTOR
__attribute__((constructor)) static void open_plugin(void) {
  if (!dlopen(PLUGIN, RTLD_NOW))
    fprintf(stderr, "dlopen: %s\n", dlerror());
}
#endif
