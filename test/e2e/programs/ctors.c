/* ctors.c - e2e program: what the program's constructors do is part of
 * the job (issue 11 item 5). Two constructors allocate (a table and a
 * message on the heap), print a line, and register exit handlers with
 * atexit and on_exit; main changes the table for a while. After a restart
 * the table and message must be main's, not the constructors' again, their
 * lines must not be printed twice, and every exit handler runs once, in
 * reverse order of registration, with its argument.
 *
 * Usage: ctors [scale]   (default 1; ~1 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096

static uint64_t *table;
static char *message;
static int ctor_runs;

static void on_exit_handler(int status, void *arg) {
  printf("on_exit(%d): %s\n", status, (const char *)arg);
}
static void atexit_handler(void) {
  uint64_t sum = 0;
  for (int i = 0; i < N; i++)
    sum += table[i] * (uint64_t)(i + 1);
  printf("atexit: table %016llx, constructors ran %d time(s)\n",
         (unsigned long long)sum, ctor_runs);
}

__attribute__((constructor(200))) static void make_table(void) {
  table = malloc(N * sizeof *table);
  for (int i = 0; i < N; i++)
    table[i] = (uint64_t)i * 2654435761u;
  ctor_runs++;
  atexit(atexit_handler);
  printf("constructor 200: table ready\n");
}

__attribute__((constructor(300))) static void make_message(void) {
  message = malloc(64);
  strcpy(message, "set by the constructor");
  ctor_runs++;
  on_exit(on_exit_handler, message);
  printf("constructor 300: message ready\n");
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  strcpy(message, "changed by main");
  uint64_t x = 88172645463325252ull;
  for (long step = 0; step < 40; step++) {
    for (long k = 0; k < 10000000 * scale; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      table[x % N] += x >> 40;
    }
    if (step % 4 == 0)
      printf("step %ld: %016llx\n", step, (unsigned long long)table[step]);
  }
  printf("main done; message: %s\n", message);
  return 0;
}
