/* getoptargs.c - e2e program: the C library's own variables, kept by a
 * restart.
 *
 * Options are parsed with getopt (-p PREFIX, -r ROUNDS, -q); then, as gzip
 * and friends do, the operands are walked with the library's optind:
 * `while (optind < argc) work(argv[optind++])`, each operand a seed for
 * about 0.15 s of hashing, and optarg's pointer to the prefix is kept and
 * printed with every result. optind, optarg and opterr live in the C
 * library but are copied into a non-PIE executable (R_X86_64_COPY): a
 * restart that brought them back at their initial values would start the
 * operands over (output longer than a plain run's, and "work" on "-p").
 *
 * Usage: getoptargs [-q] [-p PREFIX] [-r ROUNDS] SEED...   (~1.5 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t work(const char *seed, long rounds) {
  uint64_t h = 1469598103934665603ull;
  for (const char *c = seed; *c; c++)
    h = (h ^ (uint8_t)*c) * 1099511628211ull;
  for (long i = 0; i < rounds; i++)
    h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull + (uint64_t)i;
  return h;
}

int main(int argc, char **argv) {
  const char *prefix = "item";
  long rounds = 60000000;
  int quiet = 0, c;
  opterr = 0; /* unknown options are reported below, not by getopt */
  while ((c = getopt(argc, argv, "p:r:q")) != -1) {
    switch (c) {
    case 'p':
      prefix = optarg;
      break;
    case 'r':
      rounds = atol(optarg);
      break;
    case 'q':
      quiet = 1;
      break;
    default:
      fprintf(stderr, "getoptargs: unknown option -%c\n", optopt);
      return 2;
    }
  }
  /* Read and written in memory every time, as in a program whose per-operand
   * work calls code the compiler cannot see (gzip's treat_file): here work()
   * is visible, and optind would otherwise stay in a register, which a
   * restart brings back anyway. */
  volatile int *next = &optind;
  int n = 0;
  while (*next < argc) {
    const char *seed = argv[(*next)++];
    uint64_t h = work(seed, rounds);
    n++;
    if (!quiet)
      printf("%s %d (optind %d): %s -> %016llx\n", prefix, n, *next, seed,
             (unsigned long long)h);
    fflush(stdout);
  }
  printf("done: %d operands\n", n);
  return 0;
}
