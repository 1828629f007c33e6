/* runtime/files.c - the program's open descriptors across a restart.
 *
 * At a checkpoint every descriptor of the program is recorded by what it
 * refers to. On restart:
 *  - regular files are reopened by path at the same descriptor number and
 *    offset; files the program writes are cut back to their length at the
 *    checkpoint, so nothing written after it appears twice (stdout > file);
 *  - character devices (/dev/null, a terminal) and directories are reopened;
 *  - stdin, stdout and stderr that were a terminal or a pipe are left as the
 *    restarted process inherited them (ckpt-run's own);
 *  - other descriptors (pipes, sockets, eventfds...) cannot come back: they
 *    are named in a warning at the checkpoint and at the restart, and stay
 *    closed (docs/limitations.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

static int runtime_fds[64];
static int num_runtime_fds;

void ckpt_register_runtime_fd(int fd) {
  if (num_runtime_fds < (int)(sizeof runtime_fds / sizeof runtime_fds[0]))
    runtime_fds[num_runtime_fds++] = fd;
}

void ckpt_unregister_runtime_fd(int fd) {
  for (int i = 0; i < num_runtime_fds; i++)
    if (runtime_fds[i] == fd) {
      runtime_fds[i] = runtime_fds[--num_runtime_fds];
      return;
    }
}

int ckpt_is_runtime_fd(int fd) {
  for (int i = 0; i < num_runtime_fds; i++)
    if (runtime_fds[i] == fd)
      return 1;
  return 0;
}

/* Whether two descriptors are one open file (dup(), or `> out 2>&1`): they
 * share an offset, and must again after a restart. */
static int same_open_file(int a, int b) {
  pid_t pid = getpid();
  long rc = syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
  if (rc >= 0)
    return rc == 0;
  /* Without kcmp (seccomp): same file, and moving one offset moves the
   * other. The program is stopped, so borrowing the offset is safe. */
  struct stat sa, sb;
  if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0 || sa.st_dev != sb.st_dev ||
      sa.st_ino != sb.st_ino)
    return 0;
  off_t oa = lseek(a, 0, SEEK_CUR), ob = lseek(b, 0, SEEK_CUR);
  if (oa < 0 || ob < 0 || oa != ob)
    return 0;
  off_t probe = oa + 1;
  if (lseek(a, probe, SEEK_SET) != probe)
    return 0;
  int shared = lseek(b, 0, SEEK_CUR) == probe;
  lseek(a, oa, SEEK_SET);
  return shared;
}

static int record_fd(struct ckpt_file_state *f, int fd) {
  memset(f, 0, sizeof *f);
  f->fd = fd;
  f->same_as = -1;
  char link[64];
  snprintf(link, sizeof link, "/proc/thread-self/fd/%d", fd);
  ssize_t n = readlink(link, f->path, sizeof f->path - 1);
  if (n < 0)
    return -1;
  f->path[n] = 0;
  struct stat st;
  if (fstat(fd, &st) != 0)
    return -1;
  f->flags = fcntl(fd, F_GETFL);
  if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
    f->flags |= O_CLOEXEC;
  if (f->path[0] != '/')
    f->kind = CKPT_FILE_OTHER;
  else if (S_ISREG(st.st_mode))
    f->kind = CKPT_FILE_REGULAR;
  else if (S_ISCHR(st.st_mode))
    f->kind = CKPT_FILE_DEVICE;
  else if (S_ISDIR(st.st_mode))
    f->kind = CKPT_FILE_DIR;
  else
    f->kind = CKPT_FILE_OTHER;
  off_t off = lseek(fd, 0, SEEK_CUR);
  f->offset = off < 0 ? 0 : (uint64_t)off;
  f->size = (uint64_t)st.st_size;
  return 0;
}

int ckpt_files_capture(struct ckpt_file_state **files, int *count) {
  static int warned;
  /* Called with every application thread stopped; stdout's and stderr's
   * pending bytes were saved by the threads as they parked (stdio.c). */
  *files = NULL;
  *count = 0;
  DIR *d = opendir("/proc/thread-self/fd");
  if (!d)
    return -1;
  int own = dirfd(d), cap = 16;
  struct ckpt_file_state *v = malloc(sizeof *v * (size_t)cap);
  struct dirent *e;
  while (v && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    int fd = atoi(e->d_name);
    if (fd == own || ckpt_is_runtime_fd(fd))
      continue;
    if (*count == CKPT_MAX_SAVED_FILES)
      break;
    if (*count == cap) {
      cap *= 2;
      struct ckpt_file_state *nv = realloc(v, sizeof *v * (size_t)cap);
      if (!nv)
        break;
      v = nv;
    }
    if (record_fd(&v[*count], fd) != 0)
      continue;
    struct ckpt_file_state *f = &v[*count];
    if (fd == 0 && f->kind == CKPT_FILE_REGULAR && stdin) {
      /* stdin's buffer is libc's memory, lost at a restart: put the file
       * position back to what the program has consumed, not what libc read
       * ahead. (Streams the program opened keep their buffers: heap.) */
      size_t ahead = (size_t)(stdin->_IO_read_end - stdin->_IO_read_ptr);
      if (stdin->_IO_read_ptr && ahead <= f->offset)
        f->offset -= ahead;
    }
    for (int j = 0; j < *count; j++)
      if (v[j].same_as < 0 && v[j].fd < fd && same_open_file(v[j].fd, fd)) {
        f->same_as = v[j].fd;
        break;
      }
    if (!warned && fd > 2 && f->kind == CKPT_FILE_OTHER)
      CKPT_WARN("fd %d (%s) cannot be restored after a restart", fd, f->path);
    if (!warned && f->kind == CKPT_FILE_REGULAR && strstr(f->path, " (deleted)"))
      CKPT_WARN("fd %d refers to a deleted file (%s): a restart from this "
                "checkpoint will fail", fd, f->path);
    (*count)++;
  }
  closedir(d);
  warned = 1;
  if (!v)
    return -1;
  *files = v;
  return 0;
}

static int restore_regular(const struct ckpt_file_state *f, char *msg,
                           size_t msglen) {
  int acc = f->flags & O_ACCMODE;
  int oflags = (f->flags & (O_ACCMODE | O_APPEND | O_CLOEXEC | O_NONBLOCK));
  int fd = open(f->path, oflags);
  if (fd < 0) {
    snprintf(msg, msglen, "cannot reopen %s (fd %d): %s", f->path, f->fd,
             strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0)
    goto fail_errno;
  if (acc != O_RDONLY) {
    /* Written by the program: what it wrote after the checkpoint is cut. */
    if ((uint64_t)st.st_size < f->size) {
      snprintf(msg, msglen,
               "%s (fd %d) is shorter than at the checkpoint (%lld < %llu "
               "bytes): it was changed since",
               f->path, f->fd, (long long)st.st_size,
               (unsigned long long)f->size);
      close(fd);
      return -1;
    }
    if (ftruncate(fd, (off_t)f->size) != 0)
      goto fail_errno;
  }
  if (lseek(fd, (off_t)f->offset, SEEK_SET) < 0)
    goto fail_errno;
  if (fd != f->fd) {
    if (dup3(fd, f->fd, f->flags & O_CLOEXEC) < 0)
      goto fail_errno;
    close(fd);
  }
  return 0;
fail_errno:
  snprintf(msg, msglen, "cannot restore %s at fd %d: %s", f->path, f->fd,
           strerror(errno));
  close(fd);
  return -1;
}

int ckpt_files_restore(const struct ckpt_file_state *files, int count,
                       char *msg, size_t msglen) {
  for (int i = 0; i < count; i++) {
    const struct ckpt_file_state *f = &files[i];
    int std = f->fd <= 2;
    if (f->same_as >= 0) {
      /* One open file behind several descriptors: if the first one was put
       * back, this one is a copy of it (shared offset, as before). */
      int first_restored = 0;
      for (int j = 0; j < i; j++)
        if (files[j].fd == f->same_as)
          first_restored = files[j].kind == CKPT_FILE_REGULAR ||
                           (files[j].fd > 2 && files[j].kind != CKPT_FILE_OTHER);
      if (first_restored) {
        if (dup3(f->same_as, f->fd, f->flags & O_CLOEXEC) < 0) {
          snprintf(msg, msglen, "cannot put fd %d back as a copy of fd %d: %s",
                   f->fd, f->same_as, strerror(errno));
          return -1;
        }
        continue;
      }
    }
    switch (f->kind) {
    case CKPT_FILE_REGULAR:
      if (restore_regular(f, msg, msglen) != 0)
        return -1;
      break;
    case CKPT_FILE_DEVICE:
    case CKPT_FILE_DIR: {
      if (std)
        break; /* a terminal on stdio: use the one ckpt-run was given */
      int fd = open(f->path, (f->flags & (O_ACCMODE | O_APPEND | O_CLOEXEC |
                                          O_NONBLOCK)) |
                                 (f->kind == CKPT_FILE_DIR ? O_DIRECTORY : 0));
      if (fd < 0) {
        snprintf(msg, msglen, "cannot reopen %s (fd %d): %s", f->path, f->fd,
                 strerror(errno));
        return -1;
      }
      if (fd != f->fd) {
        if (dup3(fd, f->fd, f->flags & O_CLOEXEC) < 0) {
          snprintf(msg, msglen, "cannot put %s at fd %d: %s", f->path, f->fd,
                   strerror(errno));
          close(fd);
          return -1;
        }
        close(fd);
      }
      lseek(f->fd, (off_t)f->offset, SEEK_SET); /* device or directory */
      break;
    }
    default:
      if (!std)
        CKPT_WARN("fd %d (%s) was not restored: pipes, sockets and similar "
                  "cannot come back after a restart",
                  f->fd, f->path);
      break;
    }
  }
  return 0;
}
