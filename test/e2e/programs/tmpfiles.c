/* tmpfiles.c - e2e program: files the program unlinked but keeps open
 * (issue 11 item 4), as database engines and sorters spill: a tmpfile()
 * stream appended to and read back, and a mkstemp()+unlink() file
 * rewritten in place with pwrite at pseudo-random offsets. Every step
 * checks what it reads back against what it wrote; checksums of both files
 * are printed every 10% of the steps and at the end.
 *
 * Usage: tmpfiles [scale]   (default 1; ~1 s at -O2)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEPS 200
#define SPILL_BLOCKS 256
#define BLOCK 4096

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  state ^= state << 13, state ^= state >> 7, state ^= state << 17;
  return state;
}

static uint64_t checksum_fd(int fd) {
  uint64_t h = 1469598103934665603ull;
  char buf[BLOCK];
  ssize_t n;
  off_t at = 0;
  while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
    for (ssize_t i = 0; i < n; i++)
      h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    at += n;
  }
  return h;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  FILE *log = tmpfile();
  char spill_name[] = "/tmp/ckpt-e2e-spill-XXXXXX";
  int spill = mkstemp(spill_name);
  if (!log || spill < 0 || unlink(spill_name) != 0) {
    perror("tmpfiles");
    return 2;
  }
  static char block[BLOCK], back[BLOCK];
  uint64_t written[SPILL_BLOCKS] = {0};
  int bad = 0;
  for (int step = 0; step < STEPS; step++) {
    for (long k = 0; k < 40 * scale; k++) {
      /* Spill: rewrite a block in place, read it back. */
      uint64_t v = next();
      int b = (int)(v % SPILL_BLOCKS);
      memset(block, (int)(v >> 8), sizeof block);
      memcpy(block, &v, sizeof v);
      pwrite(spill, block, sizeof block, (off_t)b * BLOCK);
      written[b] = v;
      if (pread(spill, back, sizeof back, (off_t)b * BLOCK) != BLOCK ||
          memcmp(back, block, BLOCK) != 0)
        bad++;
    }
    /* Log: append a line, and read back the one from 10 steps ago. */
    fseek(log, 0, SEEK_END);
    fprintf(log, "step %06d value %016llx\n", step, (unsigned long long)next());
    fflush(log);
    if (step >= 10) {
      char line[64];
      fseek(log, (long)(step - 10) * 35, SEEK_SET);
      if (!fgets(line, sizeof line, log) || atoi(line + 5) != step - 10)
        bad++;
    }
    for (volatile long spin = 0; spin < 25000000 * scale; spin++)
      ;
    if (step % (STEPS / 10) == 0)
      printf("step %d: spill %016llx log %016llx\n", step,
             (unsigned long long)checksum_fd(spill),
             (unsigned long long)checksum_fd(fileno(log)));
  }
  for (int b = 0; b < SPILL_BLOCKS; b++) {
    uint64_t v = 0;
    if (written[b] && (pread(spill, &v, sizeof v, (off_t)b * BLOCK) != 8 ||
                       v != written[b]))
      bad++;
  }
  printf("end: spill %016llx log %016llx, %d bad reads\n",
         (unsigned long long)checksum_fd(spill),
         (unsigned long long)checksum_fd(fileno(log)), bad);
  return bad != 0;
}
