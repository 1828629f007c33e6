/* stdio.c - portability program (scripts/portability.sh): stdio streams.
 *
 * What a restart in another C library has to get right about stdio:
 *  - `out`, a global holding stdout: a pointer into libc's data
 *    (_IO_2_1_stdout_) kept in memory the checkpoint saves;
 *  - two streams opened with fopen and written with fprintf, fully buffered,
 *    so that bytes are pending in their buffers at the checkpoint (each FILE
 *    is in the program's heap and points at libc's vtables);
 *  - an input stream read with getline, whose position and libc-allocated
 *    line buffer must survive.
 * The program writes its input file itself (words.txt) before it starts
 * working, so it needs nothing from the driver. Output files are only ever
 * appended to, as ckpt requires (a restart cuts them back to their length at
 * the checkpoint).
 *
 * Usage: stdio [scale]   (default 1; ~5 s at -O2, in 60 steps)
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTEPS 60

/* Assigned stdout in main: stdout is not a constant expression in C, so it
 * cannot be the initializer of a file-scope variable. */
FILE *out;
static FILE *log_file, *csv_file, *words;
static char *line; /* getline's buffer: allocated by libc, in ckpt's heap */
static size_t line_cap;

static uint64_t mix(uint64_t h, const char *s, long rounds) {
  for (long r = 0; r < rounds; r++)
    for (const char *p = s; *p; p++)
      h = (h ^ (unsigned char)*p) * 0x100000001b3ULL + (uint64_t)r;
  return h;
}

static int write_words(void) {
  FILE *f = fopen("words.txt", "w");
  if (!f)
    return -1;
  uint64_t s = 12345;
  for (int i = 0; i < NSTEPS; i++) {
    int len = 3 + (int)(s % 17);
    for (int k = 0; k < len; k++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      fputc('a' + (int)((s >> 33) % 26), f);
    }
    fputc('\n', f);
  }
  return fclose(f);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  out = stdout;
  if (write_words() != 0) {
    perror("stdio: words.txt");
    return 1;
  }
  log_file = fopen("log.txt", "w");
  csv_file = fopen("table.csv", "w");
  words = fopen("words.txt", "r");
  if (!log_file || !csv_file || !words) {
    perror("stdio: fopen");
    return 1;
  }
  fprintf(out, "stdio: %d steps\n", NSTEPS);
  fflush(out);
  fprintf(csv_file, "step,word,length,hash\n");

  uint64_t h = 0xcbf29ce484222325ULL;
  for (int step = 1; step <= NSTEPS; step++) {
    ssize_t n = getline(&line, &line_cap, words);
    if (n <= 0) {
      fprintf(stderr, "stdio: words.txt ended early at step %d\n", step);
      return 1;
    }
    line[strcspn(line, "\n")] = '\0';
    h = mix(h, line, 50000000L * scale / (long)strlen(line));
    /* Several small writes per step: the 4 KiB buffers fill and drain at
     * places unrelated to the steps, so a checkpoint finds bytes pending. */
    for (int k = 0; k < 12; k++)
      fprintf(log_file, "step %d part %d: %s %016llx\n", step, k, line,
              (unsigned long long)(h >> k));
    fprintf(csv_file, "%d,%s,%zu,%016llx\n", step, line, strlen(line),
            (unsigned long long)h);
    fprintf(out, "step %2d/%d: %-20s %016llx\n", step, NSTEPS, line,
            (unsigned long long)h);
    fflush(out); /* progress is visible to the driver line by line */
  }
  free(line);
  if (fclose(words) != 0 || fclose(csv_file) != 0 || fclose(log_file) != 0) {
    perror("stdio: fclose");
    return 1;
  }
  fprintf(out, "stdio: final %016llx\n", (unsigned long long)h);
  return 0;
}
