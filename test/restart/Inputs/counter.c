/* counter.c - restart test program: counts to argv[1] slowly, printing each
 * step, keeping some state in the heap and in globals. With argv[2] == "self"
 * it takes a checkpoint itself at step 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __CKPT__
#include <ckpt.h>
#endif

static long total;
static char *blob;

static long work(long i) {
  unsigned long s = (unsigned long)i;
  for (long k = 0; k < 200000000; k++) /* ~30 ms at -O2 */
    s = s * 6364136223846793005ul + (unsigned long)k;
  return (long)(s >> 40);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  size_t blob_size = argc > 3 ? (size_t)atol(argv[3]) << 20 : 1 << 20;
  blob = malloc(blob_size);
  for (size_t i = 0; i < blob_size; i++)
    blob[i] = (char)(i * 131 + (i >> 12));
  for (int i = 1; i <= n; i++) {
    total += work(i) + blob[(size_t)i * 4099 % blob_size];
    printf("step %d total %ld\n", i, total);
    fflush(stdout);
    fprintf(stderr, "progress %d\n", i); /* unbuffered: interleaves */
#ifdef __CKPT__
    if (i == 3 && argc > 2 && strcmp(argv[2], "self") == 0)
      ckpt_checkpoint();
#endif
  }
  printf("done %ld\n", total);
  return 0;
}
