/* spin.c - all the time in one leaf loop (no call, no poll): only the stop
 * signal can stop it, at whatever instruction it is. Uses SSE and integer
 * registers in the loop so a restart must bring back every register. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static double spin(long n, unsigned long *h) {
  double x = 0.5;
  unsigned long s = *h;
  for (long i = 0; i < n; i++) {
    s = s * 6364136223846793005ul + (unsigned long)i;
    x = x * 0.999999 + (double)(s >> 40) * 1e-9;
  }
  *h = s;
  return x;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000000L;
  unsigned long h = 1;
  double x = spin(n, &h);
  printf("%016lx %.12f\n", h, x);
  return 0;
}
