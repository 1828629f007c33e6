/* job.c - the program the security tests run, as a victim's job and as an
 * attacker's. Usage:
 *   job STEPS MARKER STOP LOG MODE
 * Runs up to STEPS steps of 10 ms. Every step appends "uid=U step=N" to
 * MARKER (so a test can tell whether, and as whom, the program ran), writes
 * 100 bytes to LOG (kept open: a restart must find it as long as it was),
 * and ends early once the file STOP exists. "-" turns MARKER, STOP or LOG
 * off. MODE "self" calls ckpt_checkpoint() at step 1 and prints its result.
 * The message printed at the end lives in .rodata: a test patches it in the
 * binary (same build-id, other contents). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __CKPT__
#include <ckpt.h>
#endif

static const char message[] = "JOB-MESSAGE-ORIGINAL";
static char *heap_secret;

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: job STEPS MARKER STOP LOG MODE\n");
    return 2;
  }
  int steps = atoi(argv[1]);
  const char *marker = strcmp(argv[2], "-") ? argv[2] : NULL;
  const char *stop = strcmp(argv[3], "-") ? argv[3] : NULL;
  int log = strcmp(argv[4], "-") ? open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
  heap_secret = malloc(4096);
  snprintf(heap_secret, 4096, "HEAP-SECRET-%d", (int)getpid());
  printf("start uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
  fflush(stdout);
  int step;
  for (step = 1; step <= steps; step++) {
    if (marker) {
      int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dprintf(fd, "uid=%d step=%d\n", (int)geteuid(), step);
        close(fd);
      }
    }
    if (log >= 0) {
      char buf[100];
      memset(buf, 'x', sizeof buf);
      if (write(log, buf, sizeof buf) != (ssize_t)sizeof buf)
        return 3;
    }
#ifdef __CKPT__
    if (step == 1 && strcmp(argv[5], "self") == 0) {
      printf("self-checkpoint %d\n", ckpt_checkpoint());
      fflush(stdout);
    }
#endif
    if (stop && access(stop, F_OK) == 0)
      break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  printf("done step=%d %s %.12s\n", step > steps ? steps : step, message, heap_secret);
  return 0;
}
