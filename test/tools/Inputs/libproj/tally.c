/* tally.c - state of every kind a library keeps: an exported global (the
 * program reads it, so the executable may hold a copy), a static table and
 * a heap block it owns. A restart must bring all three back. */
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long tally_total;
static long lengths[64];
static int words;
static char *longest;

void tally_add(const char *word) {
  size_t n = strlen(word);
  lengths[words++ % 64] = (long)n;
  tally_total += (long)n;
  if (!longest || n > strlen(longest)) {
    free(longest);
    longest = strdup(word);
  }
}

const char *tally_report(void) {
  static char line[128];
  long sum = 0;
  for (int i = 0; i < words && i < 64; i++)
    sum += lengths[i];
  snprintf(line, sizeof line, "%d words, %ld chars (%ld), longest %s", words,
           tally_total, sum, longest ? longest : "-");
  return line;
}
