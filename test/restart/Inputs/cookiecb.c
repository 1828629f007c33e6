/* cookiecb.c - restart test program: most of the run is spent inside a
 * fopencookie write callback that libc calls from fflush (uninstrumented),
 * right after main called the same function directly. A checkpoint must
 * never stop inside the callback (its caller's last site named the same
 * function, but that call had returned): the thread stops back in main. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

static unsigned long digest;

__attribute__((noinline)) static ssize_t mix(void *cookie, const char *buf,
                                              size_t n) {
  (void)cookie;
  for (int round = 0; round < 6000; round++) /* polled: long enough to hit */
    for (size_t i = 0; i < n; i++)
      digest = digest * 1099511628211ul + (unsigned char)buf[i] + (unsigned)round;
  return (ssize_t)n;
}

int main(void) {
  cookie_io_functions_t io = {NULL, mix, NULL, NULL};
  FILE *f = fopencookie(NULL, "w", io);
  setvbuf(f, NULL, _IOFBF, 4096);
  char line[128];
  for (int i = 0; i < 1500; i++) {
    int n = snprintf(line, sizeof line, "line %d of the cookie stream\n", i);
    mix(NULL, line, (size_t)n); /* a direct call: site names mix */
    fputs(line, f);
    if (i % 10 == 0)
      fflush(f); /* mix runs under fflush, called back by libc */
    if (i % 150 == 0)
      printf("line %d digest %016lx\n", i, digest);
  }
  fclose(f);
  printf("final digest %016lx\n", digest);
  return 0;
}
