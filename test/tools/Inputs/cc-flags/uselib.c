#include <stdio.h>

extern int twice_calls;
int twice(int x);

int main(void) {
  int r = twice(21);
  printf("twice 21 = %d (%d call)\n", r, twice_calls);
  return 0;
}
