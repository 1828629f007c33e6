/* stderrout.c - e2e program: heavy output on stdout and stderr; exit(3).
 *
 * Two elementary cellular automata (rules 110 and 30) on 8192 cells. Every
 * generation prints a 100-cell window to stdout (fully buffered when it is
 * a file) and a status line to stderr (unbuffered: one write per line),
 * through printf, fputs, fwrite, putchar and fputc. After a restart both
 * files must be cut back to their length at the checkpoint and continue
 * from there. The last stdout line has no newline, and the program ends by
 * calling exit(3) from a nested function: the status must pass through.
 *
 * Usage: stderrout [scale]   (default 1; ~0.9 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELLS 8192
#define WINDOW 100

static unsigned char a[CELLS], b[CELLS], c[CELLS], d[CELLS];

static void evolve(const unsigned char *in, unsigned char *out, int rule) {
  out[0] = (unsigned char)((rule >> (in[CELLS - 1] << 2 | in[0] << 1 | in[1])) & 1);
  for (int i = 1; i < CELLS - 1; i++)
    out[i] = (unsigned char)((rule >> (in[i - 1] << 2 | in[i] << 1 | in[i + 1])) & 1);
  out[CELLS - 1] =
      (unsigned char)((rule >> (in[CELLS - 2] << 2 | in[CELLS - 1] << 1 | in[0])) & 1);
}

static void finish(long gens, long ones, uint64_t h) {
  fprintf(stderr, "finishing after %ld generations\n", gens);
  printf("summary: generations %ld ones %ld hash %016llx", gens, ones,
         (unsigned long long)h); /* no newline at the end */
  exit(3);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const long gens = 48000L * scale;
  unsigned char *x = a, *y = b, *p = c, *q = d;
  x[CELLS / 2] = 1;
  for (int i = 0; i < CELLS; i += 97)
    p[i] = 1;
  fputs("stderrout: rule 110 and rule 30\n", stdout);
  fprintf(stderr, "stderrout: %ld generations of %d cells\n", gens, CELLS);
  char line[WINDOW + 2];
  uint64_t h = 0;
  long ones = 0;
  for (long g = 0; g < gens; g++) {
    evolve(x, y, 110);
    evolve(p, q, 30);
    unsigned char *t = x;
    x = y;
    y = t;
    t = p;
    p = q;
    q = t;
    int cnt = 0;
    for (int i = 0; i < CELLS; i++)
      cnt += x[i] + 2 * p[i];
    h = h * 31 + (uint64_t)cnt;
    ones += cnt;
    int off = (int)(g % (CELLS - WINDOW));
    for (int i = 0; i < WINDOW; i++)
      line[i] = x[off + i] ? (p[off + i] ? '#' : '+') : (p[off + i] ? '.' : ' ');
    line[WINDOW] = '|';
    line[WINDOW + 1] = '\n';
    if (g % 3 == 0) {
      fwrite(line, 1, sizeof line, stdout);
    } else if (g % 3 == 1) {
      printf("%.*s\n", WINDOW + 1, line);
    } else {
      for (int i = 0; i < WINDOW + 1; i++)
        putchar(line[i]);
      putchar('\n');
    }
    fprintf(stderr, "gen %ld ones %d hash %016llx\n", g + 1, cnt,
            (unsigned long long)h);
    if ((g + 1) % 1000 == 0) {
      fputs("-- milestone ", stderr);
      fputc('0' + (int)((g + 1) / 1000 % 10), stderr);
      fputc('\n', stderr);
      printf("== %ld generations, %ld ones so far ==\n", g + 1, ones);
    }
  }
  finish(gens, ones, h);
  return 0; /* not reached */
}
