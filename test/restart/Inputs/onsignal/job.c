/* job.c - a batch job: STEPS steps of computation, one line each. It
 * installs its own SIGUSR1 handler (counting), and at the steps listed
 * after STEPS raises SIGUSR1 itself, as a scheduler would send it. Exits
 * with status 3, which ckpt-run must pass on.
 * Usage: job STEPS [RAISE_AT...] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 10;
  signal(SIGUSR1, on_usr1);
  unsigned long long h = 1;
  for (int i = 1; i <= steps; i++) {
    for (long k = 0; k < 2000000; k++)
      h = h * 6364136223846793005ULL + (unsigned long long)k;
    printf("step %d %016llx\n", i, h);
    fflush(stdout);
    for (int a = 2; a < argc; a++)
      if (atoi(argv[a]) == i)
        raise(SIGUSR1);
  }
  fprintf(stderr, "the program's SIGUSR1 handler ran %d time(s)\n",
          (int)handled);
  return 3;
}
