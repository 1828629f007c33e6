/* main.c - opens each library named on its command line with dlopen, calls
 * its plugin_twice, which asks for a checkpoint from inside the library's
 * code, asks again while the library is open, closes it, and asks once
 * more. */
#include <ckpt.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int checkpoint_from_plugin(void) { return ckpt_checkpoint(); }

int main(int argc, char **argv) {
  printf("before: %d\n", ckpt_checkpoint());
  for (int i = 1; i < argc; i++) {
    void *h = dlopen(argv[i], RTLD_NOW);
    if (!h) {
      printf("dlopen: %s\n", dlerror());
      return 1;
    }
    int (*twice)(int, int (*)(void)) =
        (int (*)(int, int (*)(void)))dlsym(h, "plugin_twice");
    const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1
                                             : argv[i];
    printf("%s: %d\n", name, twice(21, checkpoint_from_plugin));
    printf("%s open: %d\n", name, ckpt_checkpoint());
    dlclose(h);
  }
  fflush(stdout);
  int r = ckpt_checkpoint();
  printf("closed: %s\n", r == CKPT_RESTARTED ? "restarted"
                         : r == CKPT_TAKEN   ? "taken"
                                             : "failed");
  return 0;
}
