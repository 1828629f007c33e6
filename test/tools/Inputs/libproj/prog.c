/* prog.c - counts its arguments with the tally library and checkpoints
 * after the first: a restart goes on with the second, and the library's
 * counts must come back with it. */
#include <ckpt.h>
#include <stdio.h>

#include "tally.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    tally_add(argv[i]);
    printf("%s: %s, total %ld\n", argv[i], tally_report(), tally_total);
    fflush(stdout);
    if (i == 1 && ckpt_checkpoint() == CKPT_RESTARTED)
      printf("restarted\n");
  }
  return 0;
}
