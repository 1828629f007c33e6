/* runtime/ckptdir.c - the program's checkpoint directory: opened once and
 * checked (ours, private, not a symbolic link), locked for this program,
 * and kept tidy -- this run's stale temporaries removed, this run's
 * checkpoints beyond --keep pruned, other runs' files never touched.
 * Every file operation is relative to the descriptor opened at start, so a
 * directory renamed or replaced later is not followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "rt.h"
#include "trust.h"

int ckpt_dir_fd = -1;
static int lock_fd = -1;

#define LOCK_NAME "ckpt.lock"

/* The process holding the lock, or 0 if it cannot be told. */
static long lock_holder(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
    return fl.l_pid;
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  return strtol(buf, NULL, 10);
}

void ckpt_dir_acquire(void) {
  char err[CKPT_IMAGE_ERRLEN];
  int fd = ckpt_trust_open_dir(ckpt_config.dir, err, sizeof err);
  if (fd < 0)
    ckpt_fatal("%s", err);
  int lfd = openat(fd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                   0600);
  if (lfd < 0)
    ckpt_fatal("checkpoint directory %s: cannot open its lock file %s: %s",
               ckpt_config.dir, LOCK_NAME, strerror(errno));
  /* Moved out of the program's range first: closing any descriptor of the
   * file (as moving it does) would drop the lock. */
  lfd = ckpt_hide_fd(lfd);
  /* A process-associated (POSIX) lock: released by the kernel the moment
   * the program dies, and never inherited by a child -- neither the
   * checkpoint writer, which may outlive a killed program by a moment, nor
   * the program's own children. (An open-file-description lock would live
   * on in those copies of the descriptor and refuse a prompt restart.) Only
   * the runtime opens ckpt.lock, so no other close drops it. */
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(lfd, F_SETLK, &fl) < 0) {
    if (errno != EAGAIN && errno != EACCES)
      ckpt_fatal("checkpoint directory %s: cannot lock %s: %s",
                 ckpt_config.dir, LOCK_NAME, strerror(errno));
    long holder = lock_holder(lfd);
    if (holder > 0)
      ckpt_fatal("checkpoint directory %s is in use by process %ld; give "
                 "each program its own --dir",
                 ckpt_config.dir, holder);
    ckpt_fatal("checkpoint directory %s is in use by another program; give "
               "each program its own --dir",
               ckpt_config.dir);
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(lfd, 0) < 0 || pwrite(lfd, pid, (size_t)n, 0) != n)
    ckpt_fatal("checkpoint directory %s: cannot write %s: %s",
               ckpt_config.dir, LOCK_NAME, strerror(errno));
  ckpt_dir_fd = ckpt_hide_fd(fd);
  lock_fd = lfd;
}

void ckpt_dir_new_run(void) {
  if (getrandom(ckpt_start.run_id, sizeof ckpt_start.run_id, 0) !=
      (ssize_t)sizeof ckpt_start.run_id)
    ckpt_fatal("no random bytes for the run's id: %s", strerror(errno));
}

/* A fresh stream over the directory (the descriptor itself stays put). */
static DIR *open_listing(void) {
  int fd = openat(ckpt_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  DIR *d = fdopendir(fd);
  if (!d)
    close(fd);
  return d;
}

static int ours(const uint8_t run_id[CKPT_RUN_ID_LEN]) {
  return memcmp(run_id, ckpt_start.run_id, CKPT_RUN_ID_LEN) == 0;
}

uint64_t ckpt_dir_start(void) {
  DIR *d = open_listing();
  if (!d)
    ckpt_fatal("checkpoint directory %s: cannot list it: %s", ckpt_config.dir,
               strerror(errno));
  uint64_t highest = 0;
  unsigned others = 0;
  char other_name[256] = "";
  struct dirent *e;
  while ((e = readdir(d))) {
    uint64_t seq;
    uint8_t run[CKPT_RUN_ID_LEN];
    if (ckpt_image_parse_name(e->d_name, &seq)) {
      if (seq > highest)
        highest = seq;
    } else if (ckpt_image_parse_tmp_name(e->d_name, run) >= 0) {
      /* A temporary of this run: its writer died with an earlier process
       * of the run (the directory is locked: nobody is writing it now). */
      if (ours(run)) {
        unlinkat(ckpt_dir_fd, e->d_name, 0);
      } else {
        if (!others++)
          snprintf(other_name, sizeof other_name, "%s", e->d_name);
      }
    }
  }
  closedir(d);
  if (others)
    CKPT_WARN("checkpoint directory %s holds %u unfinished checkpoint "
              "file(s) of another run (%s%s); they are left alone",
              ckpt_config.dir, others, other_name, others > 1 ? ", ..." : "");
  return highest;
}

static int cmp_desc(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

void ckpt_dir_prune(void) {
  DIR *d = open_listing();
  if (!d)
    return;
  uint64_t *seqs = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    uint64_t seq;
    struct ckpt_image_info info;
    if (!ckpt_image_parse_name(e->d_name, &seq) ||
        ckpt_image_peek(ckpt_dir_fd, e->d_name, &info) < 0 ||
        !ours(info.run_id) || info.sequence != seq)
      continue;
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 16;
      uint64_t *s = realloc(seqs, ncap * sizeof *s);
      if (!s)
        break;
      seqs = s;
      cap = ncap;
    }
    seqs[n++] = seq;
  }
  closedir(d);
  if (n > ckpt_config.keep) {
    qsort(seqs, n, sizeof *seqs, cmp_desc);
    for (size_t i = ckpt_config.keep; i < n; i++) {
      char name[CKPT_IMAGE_NAME_MAX];
      ckpt_image_name(name, sizeof name, seqs[i]);
      unlinkat(ckpt_dir_fd, name, 0);
    }
  }
  free(seqs);
}

void ckpt_dir_after_fork_in_child(void) {
  /* A child the program forks is not the program: it does not hold the
   * lock and must not touch the directory. */
  if (lock_fd >= 0)
    close(lock_fd);
  if (ckpt_dir_fd >= 0)
    close(ckpt_dir_fd);
  lock_fd = ckpt_dir_fd = -1;
}

_Static_assert(sizeof ckpt_start.run_id == CKPT_RUN_ID_LEN,
               "the run id in the runtime state is the header's");
