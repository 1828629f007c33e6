/* inspect_prog.c - a program that checkpoints itself with known state, for
 * test/tools/inspect-program.test to read back with ckpt-inspect: four
 * frames of recursion (each with an excluded local) under ckpt_checkpoint(),
 * globals (one CKPT_EXCLUDE, one partly ckpt_exclude()d), heap blocks with
 * an excluded range, a restart hook, and a file open three ways.
 *
 * Usage: inspect_prog OUTFILE
 *
 * The FRAMES lines below are FileCheck patterns for ckpt-inspect's frame
 * list: they sit next to the calls they describe, so [[@LINE]] is always
 * right. The innermost frame is the runtime's ckpt_checkpoint.
 */
#include <ckpt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long counter = 42;
CKPT_EXCLUDE char scratch[4096];
int table[256];
static volatile long sink;

/* Registered with ckpt_on_restart: fills the excluded part of the cache
 * again (the inspect test only checks that it is named). */
static void rebuild_cache(void *arg) { memset((char *)arg + 1024, 7, 2048); }

/* parent: the caller's local, so no call can become a loop or a tail call. */
__attribute__((noinline)) static long descend(int depth, const long *parent) {
  CKPT_EXCLUDE char note[64];
  long local = *parent * 31 + depth;
  snprintf(note, sizeof note, "depth %d", depth);
  if (depth == 0) {
    // FRAMES: #0 ckpt_checkpoint (ckpt runtime) pc 0x{{[0-9a-f]+}}{{$}}
    // FRAMES-NEXT: #1 descend at {{.*}}inspect_prog.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}, 64 excluded){{$}}
    int rc = ckpt_checkpoint();
    printf("checkpoint %s\n", rc == CKPT_TAKEN ? "taken" : "not taken");
    return local + rc + (long)strlen(note);
  }
  // FRAMES-NEXT: #2 descend at {{.*}}inspect_prog.c:[[@LINE+3]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}, 64 excluded){{$}}
  // FRAMES-NEXT: #3 descend at {{.*}}inspect_prog.c:[[@LINE+2]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}, 64 excluded){{$}}
  // FRAMES-NEXT: #4 descend at {{.*}}inspect_prog.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}, 64 excluded){{$}}
  long below = descend(depth - 1, &local);
  return below * 3 + local + (long)strlen(note);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: inspect_prog OUTFILE\n");
    return 2;
  }
  /* One open file (offset 6), a dup of it, and a second open of it. */
  FILE *out = fopen(argv[1], "w");
  if (!out || fputs("hello\n", out) < 0 || fflush(out) != 0)
    return 1;
  int copy = dup(fileno(out));
  int reader = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (copy < 0 || reader < 0)
    return 1;

  for (int i = 0; i < 256; i++)
    table[i] = i + 1;
  memset(scratch, 1, sizeof scratch);
  char *blocks[3];
  for (int i = 0; i < 3; i++) {
    blocks[i] = malloc(1000 * (size_t)(i + 1));
    memset(blocks[i], i + 1, 1000 * (size_t)(i + 1));
  }
  char *cache = malloc(4096);
  memset(cache, 7, 4096);
  if (ckpt_exclude(cache + 1024, 2048) != 0 ||
      ckpt_exclude(&table[128], 128 * sizeof table[0]) != 0 ||
      ckpt_on_restart(rebuild_cache, cache) != 0)
    return 1;

  long seed = 5;
  // FRAMES-NEXT: #5 main at {{.*}}inspect_prog.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}){{$}}
  sink = descend(3, &seed);
  for (int i = 0; i < 3; i++)
    free(blocks[i]);
  free(cache);
  fclose(out);
  close(copy);
  close(reader);
  return (int)(sink & 0);
}
