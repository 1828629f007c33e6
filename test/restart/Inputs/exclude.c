/* Exclusion and restart callbacks, end to end. The program takes a
 * checkpoint and dies (SIGKILL) twice; each restart prints what it finds, so
 * the test sees which bytes came back and which read as zeros. */
#include <ckpt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

CKPT_EXCLUDE static unsigned char scratch[1 << 20]; /* rebuilt by a callback */
CKPT_EXCLUDE int excluded_counter = 41;               /* .data, not .bss */
static unsigned char partial[8192]; /* a part excluded with ckpt_exclude */
static int hook_runs[2];
static int rebuilt_sum;

static void rebuild_scratch(void *arg) {
  /* Runs before the program resumes: scratch must already read as zeros. */
  int nonzero = 0;
  for (size_t i = 0; i < sizeof scratch; i++)
    nonzero += scratch[i] != 0;
  memset(scratch, *(int *)arg, sizeof scratch);
  hook_runs[0]++;
  printf("hook1 nonzero-before=%d fill=%d\n", nonzero, *(int *)arg);
}

static int fill_value = 5;

static void second_hook(void *arg) {
  hook_runs[1]++;
  /* Order: registered after rebuild_scratch, so it sees its work. */
  rebuilt_sum = scratch[0] + scratch[sizeof scratch - 1];
  printf("hook2 %s scratch=%d ckpt=%d\n", (const char *)arg, rebuilt_sum,
         ckpt_checkpoint());
}

static int count_value(const unsigned char *p, size_t n, unsigned char v) {
  int c = 0;
  for (size_t i = 0; i < n; i++)
    c += p[i] == v;
  return c;
}

/* A checkpoint with this frame (and its excluded local) on the stack. */
static int deep(int depth, int round) {
  CKPT_EXCLUDE unsigned char local_scratch[3000];
  unsigned char local_kept[100];
  /* A scalar: without care the optimiser would keep it in a register across
   * the checkpoint, and the register would come back with the frame. */
  CKPT_EXCLUDE int excluded_scalar = 77 + depth;
  memset(local_scratch, 0x33, sizeof local_scratch);
  memset(local_kept, 0x44, sizeof local_kept);
  int r;
  if (depth > 0) {
    r = deep(depth - 1, round);
  } else {
    r = ckpt_checkpoint();
    if (r == CKPT_TAKEN) {
      fflush(stdout);
      raise(SIGKILL);
    }
  }
  printf("round %d depth %d: local_scratch 0x33=%d zero=%d local_kept 0x44=%d "
         "scalar=%d\n",
         round, depth, count_value(local_scratch, sizeof local_scratch, 0x33),
         count_value(local_scratch, sizeof local_scratch, 0),
         count_value(local_kept, sizeof local_kept, 0x44), excluded_scalar);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  memset(scratch, 1, sizeof scratch);
  memset(partial, 2, sizeof partial);
  excluded_counter++;

  unsigned char *block = malloc(10000);
  memset(block, 9, 10000);
  unsigned char *moving = malloc(200);
  memset(moving, 7, 200);
  unsigned char *shrinking = malloc(4096);
  memset(shrinking, 6, 4096);
  unsigned char *freed = malloc(512);
  memset(freed, 8, 512);

  /* Errors: one line each on stderr, -1, nothing registered. */
  int on_stack = 0;
  printf("err stack=%d null=%d past-end=%d outside=%d hook-null=%d\n",
         ckpt_exclude(&on_stack, sizeof on_stack), ckpt_exclude(NULL, 10),
         ckpt_exclude(block + 9000, 100000),
         ckpt_exclude((void *)(uintptr_t)0x1000, 16),
         ckpt_on_restart(NULL, NULL));

  printf("ok %d %d %d %d %d %d %d\n", ckpt_exclude(block + 1000, 5000),
         ckpt_include(block + 2000, 1000), ckpt_exclude(partial + 4096, 4096),
         ckpt_exclude(moving, 100), ckpt_exclude(shrinking, 4096),
         ckpt_exclude(freed, 512), ckpt_exclude(block, 0));
  /* A freed block takes its exclusion with it: the block allocated in its
   * place is saved whole. */
  free(freed);
  unsigned char *reused = malloc(512);
  memset(reused, 3, 512);
  /* realloc moves the exclusion of the first 100 bytes with the block. */
  unsigned char *old_moving = moving;
  moving = realloc(moving, 1 << 20);
  memset(moving + 200, 7, (1 << 20) - 200);
  unsigned char *at_old = malloc(150);
  memset(at_old, 4, 150);
  /* Shrinking cuts the exclusion to the new size. */
  shrinking = realloc(shrinking, 1024);
  printf("moved=%d\n", moving != old_moving);

  /* Memory the program maps: an exclusion inside one mapping holds (in a
   * private and in a shared one); one on a mapping that is unmapped goes
   * with it, so the mapping made at its place is saved whole; one running
   * past the end of the program's mapped memory (gone is mapped last) is
   * refused. */
  const size_t page = 4096;
  unsigned char *mapped = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *shared = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  unsigned char *gone = mmap(NULL, page, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(mapped, 5, 16 * page);
  memset(shared, 5, 4 * page);
  printf("mapped %d %d %d %d\n", ckpt_exclude(mapped + page, 2 * page),
         ckpt_exclude(shared + page, page), ckpt_exclude(gone, page),
         ckpt_exclude(gone + page / 2, page));
  munmap(gone, page);
  if (mmap(gone, page, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != gone)
    return 1;
  memset(gone, 6, page);

  ckpt_on_restart(rebuild_scratch, &fill_value);
  ckpt_on_restart(second_hook, "two");

  for (int round = 1; round <= 2; round++) {
    int r = deep(2, round);
    printf("round %d: checkpoint=%d hooks=%d,%d rebuilt=%d\n", round, r,
           hook_runs[0], hook_runs[1], rebuilt_sum);
    printf("round %d: scratch fill=%d counter=%d partial 2=%d zero=%d\n", round,
           count_value(scratch, sizeof scratch, (unsigned char)fill_value),
           excluded_counter, count_value(partial, sizeof partial, 2),
           count_value(partial, sizeof partial, 0));
    printf("round %d: block 9=%d zero=%d [999]=%d [1000]=%d [2000]=%d "
           "[3000]=%d [5999]=%d [6000]=%d\n",
           round, count_value(block, 10000, 9), count_value(block, 10000, 0),
           block[999], block[1000], block[2000], block[3000], block[5999],
           block[6000]);
    printf("round %d: moving zero=%d 7=%d at_old 4=%d reused 3=%d "
           "shrinking zero=%d\n",
           round, count_value(moving, 1 << 20, 0),
           count_value(moving, 1 << 20, 7), count_value(at_old, 150, 4),
           count_value(reused, 512, 3), count_value(shrinking, 1024, 0));
    printf("round %d: mapped 5=%d zero=%d shared 5=%d zero=%d gone 6=%d\n",
           round, count_value(mapped, 16 * page, 5),
           count_value(mapped, 16 * page, 0), count_value(shared, 4 * page, 5),
           count_value(shared, 4 * page, 0), count_value(gone, page, 6));
    memset(mapped, 5, 16 * page);
    memset(shared, 5, 4 * page);
    /* Put everything back for the next round. */
    memset(scratch, 1, sizeof scratch);
    memset(partial, 2, sizeof partial);
    memset(block, 9, 10000);
    memset(moving, 7, 200);
    memset(shrinking, 6, 1024);
    excluded_counter = 42;
  }
  return 0;
}
