/* main.c - prints its arguments, one a line, and takes a checkpoint after
 * the first: a restart goes on with the second. */
#include <ckpt.h>
#include <stdio.h>

#include "words.h"

int main(int argc, char **argv) {
  int n = 0;
  for (const char *w; (w = next_word(argc, argv));) {
    printf("%s\n", w);
    fflush(stdout);
    if (n++ == 0 && ckpt_checkpoint() == CKPT_RESTARTED)
      printf("restarted\n");
  }
  return 0;
}
