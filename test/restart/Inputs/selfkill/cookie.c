/* A fopencookie stream whose write callback allocates: flushed at the
 * checkpoint on the program's thread, so the allocation is program memory
 * and comes back; the callbacks work again after the restart. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
struct chunk {
  struct chunk *next;
  char text[64];
};
static struct chunk *head;
static ssize_t write_chunk(void *c, const char *buf, size_t n) {
  (void)c;
  struct chunk *k = calloc(1, sizeof *k);
  memcpy(k->text, buf, n < 63 ? n : 63);
  k->next = head;
  head = k;
  return (ssize_t)n;
}
int main(void) {
  cookie_io_functions_t io = {NULL, write_chunk, NULL, NULL};
  FILE *f = fopencookie(NULL, "w", io);
  fputs("before-checkpoint", f);
  CHECKPOINT_AND_DIE();
  fflush(f);
  fputs("after-restart", f);
  fclose(f);
  for (struct chunk *k = head; k; k = k->next)
    printf("[%s]\n", k->text);
  return 0;
}
