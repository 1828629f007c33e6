/* runtime/files.c - stdout and stderr across a restart: regular files are
 * reopened and cut back to their length at the checkpoint, so nothing the
 * program wrote after it appears twice; terminals and pipes are left as the
 * restarted process inherited them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"

int ckpt_files_capture(struct ckpt_file_state *files, int *count) {
  /* Called with every application thread stopped outside stdio. */
  fflush(NULL);
  *count = 0;
  for (int fd = 1; fd <= 2; fd++) {
    struct ckpt_file_state *f = &files[(*count)++];
    memset(f, 0, sizeof *f);
    f->fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, f->path, sizeof f->path - 1);
    if (n <= 0 || f->path[0] != '/')
      continue;
    f->path[n] = 0;
    off_t off = lseek(fd, 0, SEEK_CUR);
    f->regular = 1;
    f->flags = fcntl(fd, F_GETFL);
    f->offset = off < 0 ? (uint64_t)st.st_size : (uint64_t)off;
    f->size = (uint64_t)st.st_size;
  }
  return 0;
}

int ckpt_files_restore(const struct ckpt_file_state *files, int count,
                       char *msg, size_t msglen) {
  for (int i = 0; i < count; i++) {
    const struct ckpt_file_state *f = &files[i];
    if (!f->regular)
      continue;
    int fd = open(f->path, O_WRONLY | O_CLOEXEC | (f->flags & O_APPEND));
    if (fd < 0) {
      snprintf(msg, msglen, "cannot reopen %s (fd %d): %s", f->path, f->fd,
               strerror(errno));
      return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < f->size) {
      snprintf(msg, msglen,
               "%s (fd %d) is shorter than at the checkpoint (%lld < %llu "
               "bytes): it was changed since",
               f->path, f->fd, (long long)st.st_size,
               (unsigned long long)f->size);
      close(fd);
      return -1;
    }
    if (ftruncate(fd, (off_t)f->size) != 0 ||
        lseek(fd, (off_t)f->offset, SEEK_SET) < 0) {
      snprintf(msg, msglen, "cannot cut %s back to %llu bytes: %s", f->path,
               (unsigned long long)f->size, strerror(errno));
      close(fd);
      return -1;
    }
    if (dup2(fd, f->fd) < 0) {
      snprintf(msg, msglen, "cannot put %s back at fd %d: %s", f->path, f->fd,
               strerror(errno));
      close(fd);
      return -1;
    }
    close(fd);
  }
  return 0;
}
