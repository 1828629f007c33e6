/* stdin is a file: libc reads ahead into its own buffer, which a restart
 * loses; the file position must come back to what the program consumed. */
#include <stdio.h>
#include "common.h"
int main(void) {
  char line[64];
  long sum = 0;
  int n = 0;
  while (fgets(line, sizeof line, stdin)) {
    int v;
    if (sscanf(line, "%d", &v) == 1)
      sum += v;
    if (++n == 10)
      CHECKPOINT_AND_DIE();
  }
  printf("lines %d sum %ld\n", n, sum);
  return 0;
}
