/* main.c - calls lib_work through a pointer (the checkpoint is taken under
 * the library's frames), then opens and closes a ckpt-cc -shared plugin
 * many times (each registers and unregisters), then checkpoints again. */
#include <ckpt.h>
#include <dlfcn.h>
#include <stdio.h>

extern int lib_counter;
extern int lib_scratch[1024];
long lib_work(int depth);

int main(int argc, char **argv) {
  long (*work)(int) = lib_work;
  long r = work(50);
  printf("through a pointer: %s, counter %d, scratch %d\n",
         r == 50 + CKPT_RESTARTED ? "restarted" : r == 50 ? "taken" : "failed",
         lib_counter, lib_scratch[7]);
  for (int i = 1; i < argc; i++)
    for (int k = 0; k < 70; k++) {
      void *h = dlopen(argv[i], RTLD_NOW);
      if (!h) {
        printf("dlopen %d: %s\n", k, dlerror());
        return 1;
      }
      dlclose(h);
    }
  int c = ckpt_checkpoint();
  printf("after the plugins: %s\n", c == CKPT_RESTARTED ? "restarted"
                                    : c == CKPT_TAKEN   ? "taken"
                                                        : "failed");
  return 0;
}
