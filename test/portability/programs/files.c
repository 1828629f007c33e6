/* files.c - portability program (scripts/portability.sh): file descriptors.
 *
 * open/read/write/lseek on regular files, with the descriptors and their
 * offsets live across the checkpoint:
 *  - data.bin (O_RDWR): a record is appended every step (lseek to the end,
 *    write), and earlier records are read back (lseek to them, read); the
 *    offset is left in the middle of the file between steps, so a restart
 *    must put it back where it was, not at the end;
 *  - seed.bin (O_RDONLY): written once at the start, then read sequentially
 *    a chunk per step;
 *  - journal.txt (O_WRONLY|O_APPEND): a text line per step.
 * Files are only ever appended to after they are written, as ckpt requires
 * (a restart cuts outputs back to their length at the checkpoint, and does
 * not undo writes in place).
 *
 * Usage: files [scale]   (default 1; ~5 s at -O2, in 64 steps)
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSTEPS 64
#define REC 64 /* bytes per record of data.bin */
#define CHUNK 48 /* bytes of seed.bin read per step */

static int data_fd = -1, seed_fd = -1, journal_fd = -1;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const void *buf, size_t len, const char *what) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n <= 0)
      die(what);
    p += n;
    len -= (size_t)n;
  }
}

static void read_all(int fd, void *buf, size_t len, const char *what) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n <= 0) {
      if (n == 0)
        fprintf(stderr, "files: %s: unexpected end of file\n", what);
      die(what);
    }
    p += n;
    len -= (size_t)n;
  }
}

static uint64_t churn(uint64_t h, const unsigned char *b, size_t n,
                      long rounds) {
  for (long r = 0; r < rounds; r++)
    for (size_t i = 0; i < n; i++)
      h = (h ^ b[i]) * 0x100000001b3ULL + (uint64_t)r;
  return h;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;

  /* The input: NSTEPS chunks of pseudo-random bytes. */
  seed_fd = open("seed.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (seed_fd < 0)
    die("files: seed.bin");
  uint64_t s = 99;
  for (int i = 0; i < NSTEPS; i++) {
    unsigned char chunk[CHUNK];
    for (int k = 0; k < CHUNK; k++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      chunk[k] = (unsigned char)(s >> 56);
    }
    write_all(seed_fd, chunk, sizeof chunk, "files: write seed.bin");
  }
  if (close(seed_fd) != 0)
    die("files: close seed.bin");
  seed_fd = open("seed.bin", O_RDONLY);
  data_fd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  journal_fd = open("journal.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                    0644);
  if (seed_fd < 0 || data_fd < 0 || journal_fd < 0)
    die("files: open");
  printf("files: %d steps of %d-byte records\n", NSTEPS, REC);
  fflush(stdout);

  uint64_t h = 0xcbf29ce484222325ULL;
  for (int step = 1; step <= NSTEPS; step++) {
    unsigned char chunk[CHUNK], rec[REC], old[REC];
    read_all(seed_fd, chunk, sizeof chunk, "files: read seed.bin");

    /* Read back an earlier record: the offset stays after it. */
    uint64_t back = 0;
    if (step > 1) {
      off_t which = (off_t)(h % (uint64_t)(step - 1));
      if (lseek(data_fd, which * REC, SEEK_SET) != which * REC)
        die("files: lseek data.bin");
      read_all(data_fd, old, sizeof old, "files: read data.bin");
      back = churn(0, old, sizeof old, 1);
    }

    h = churn(h ^ back, chunk, sizeof chunk, 1100000L * scale);

    /* Append this step's record; then go back to the middle of the file,
     * where the offset stays until the next step. */
    for (int k = 0; k < REC; k++)
      rec[k] = (unsigned char)(h >> (8 * (k % 8))) ^ (unsigned char)(k * step);
    off_t end = lseek(data_fd, 0, SEEK_END);
    if (end != (off_t)(step - 1) * REC)
      die("files: lseek end of data.bin");
    write_all(data_fd, rec, sizeof rec, "files: write data.bin");
    if (lseek(data_fd, end / 2, SEEK_SET) != end / 2)
      die("files: lseek middle of data.bin");

    char text[128];
    int len = snprintf(text, sizeof text, "step %d back %016llx h %016llx\n",
                       step, (unsigned long long)back, (unsigned long long)h);
    write_all(journal_fd, text, (size_t)len, "files: write journal.txt");
    printf("step %2d/%d: offset %lld h %016llx\n", step, NSTEPS,
           (long long)lseek(data_fd, 0, SEEK_CUR), (unsigned long long)h);
    fflush(stdout); /* progress is visible to the driver line by line */
  }

  /* Read the whole data file back through the descriptor and sum it. */
  if (lseek(data_fd, 0, SEEK_SET) != 0)
    die("files: rewind data.bin");
  uint64_t sum = 0;
  for (int i = 0; i < NSTEPS; i++) {
    unsigned char rec[REC];
    read_all(data_fd, rec, sizeof rec, "files: reread data.bin");
    sum = churn(sum, rec, sizeof rec, 1);
  }
  if (close(data_fd) != 0 || close(seed_fd) != 0 || close(journal_fd) != 0)
    die("files: close");
  printf("files: data.bin sum %016llx\n", (unsigned long long)sum);
  return 0;
}
