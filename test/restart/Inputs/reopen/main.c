/* main.c - opens plugins with dlopen, keeps their handles and the function
 * pointers dlsym gave in globals, and asks for checkpoints while they are
 * open; a file kill-at-N in the working directory makes checkpoint N kill
 * the process (SIGKILL) once it is taken, so a restart resumes there.
 * Usage: main PLAIN.so COUNTED.so LATE.so */
#define _GNU_SOURCE
#include <ckpt.h>
#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *plain_handle, *counted_handle;
static int (*plain_mul)(int, int);
static long (*counted_step)(long);

static void *must_open(const char *path, int flags) {
  void *h = dlopen(path, flags);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    _exit(1);
  }
  return h;
}

static void checkpoint(int n) {
  fflush(stdout);
  int r = ckpt_checkpoint();
  printf("checkpoint %d: %s\n", n,
         r == CKPT_RESTARTED ? "restarted" : r == CKPT_TAKEN ? "taken"
                                                             : "failed");
  char kill_file[32];
  snprintf(kill_file, sizeof kill_file, "kill-at-%d", n);
  if (r == CKPT_TAKEN && unlink(kill_file) == 0) {
    fflush(stdout);
    raise(SIGKILL);
  }
}

static const char *base_name(void *handle) {
  struct link_map *lm = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
    return dlerror();
  const char *slash = strrchr(lm->l_name, '/');
  return slash ? slash + 1 : lm->l_name;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return 2;
  plain_handle = must_open(argv[1], RTLD_NOW | RTLD_LOCAL);
  void (*reserve)(void) = (void (*)(void))dlsym(plain_handle, "plain_reserve");
  reserve();
  counted_handle = must_open(argv[2], RTLD_LAZY | RTLD_GLOBAL);
  plain_mul = (int (*)(int, int))dlsym(plain_handle, "plain_mul");
  counted_step = (long (*)(long))dlsym(counted_handle, "counted_step");
  for (int round = 1; round <= 6; round++) {
    printf("round %d: plain %d, counted %ld\n", round, plain_mul(round, 7),
           counted_step(round));
    if (round == 3)
      checkpoint(1);
  }
  /* The handles and pointers from before the restart still work. */
  printf("dlsym with the old handle: %s\n",
         dlsym(plain_handle, "plain_mul") == (void *)plain_mul ? "same"
                                                               : "differs");
  printf("RTLD_DEFAULT finds counted_step: %s\n",
         dlsym(RTLD_DEFAULT, "counted_step") == (void *)counted_step ? "yes"
                                                                     : "no");
  printf("dlinfo: %s, %s\n", base_name(plain_handle),
         base_name(counted_handle));
  long (*history)(int) = (long (*)(int))dlsym(counted_handle,
                                              "counted_history");
  printf("counted history: %ld %ld %ld\n", history(0), history(2),
         history(5));
  printf("dlclose: %d %d\n", dlclose(plain_handle), dlclose(counted_handle));
  void *late = must_open(argv[3], RTLD_NOW);
  int (*late_value)(void) = (int (*)(void))dlsym(late, "late_value");
  printf("late: %d\n", late_value());
  checkpoint(2);
  printf("late: %d\n", late_value());
  printf("dlclose: %d\n", dlclose(late));
  checkpoint(3);
  printf("done\n");
  return 0;
}
