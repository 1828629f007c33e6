/* runtime/files.c - the program's open descriptors across a restart.
 *
 * At a checkpoint every descriptor of the program is recorded by what it
 * refers to. On restart:
 *  - regular files are reopened by path at the same descriptor number and
 *    offset; files the program writes are cut back to their length at the
 *    checkpoint, so nothing written after it appears twice (stdout > file);
 *    a file whose bytes before that length changed since (rewritten in
 *    place, or an input replaced) is named in a warning: a hash of its
 *    first and last 64 KiB is kept at the checkpoint;
 *  - a regular file the program unlinked but keeps open (tmpfile(), a
 *    spill file) is saved whole: copied while the program is stopped, then
 *    written into the checkpoint; a restart makes it again with O_TMPFILE,
 *    unlinked, in the same directory (else $TMPDIR or /tmp);
 *  - character devices (/dev/null, a terminal) and directories are reopened;
 *  - stdin, stdout and stderr that were a terminal or a pipe are left as the
 *    restarted process inherited them (ckpt-run's own);
 *  - other descriptors (pipes, sockets, eventfds...) cannot come back: they
 *    are named in a warning at the checkpoint and at the restart, and stay
 *    closed (docs/limitations.md); so is a stdin that is a pipe or a
 *    socket, whose input read before the checkpoint a restart cannot have.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>

#include "rt.h"

#define HASH_SPAN (64 * 1024)

/* Opened again read-only: the program's descriptor may be write-only, and
 * reading through its own would be no better (pread leaves the offset, but
 * O_WRONLY cannot read). */
uint64_t ckpt_file_content_hash(const char *path, uint64_t size) {
  static unsigned char buf[2 * HASH_SPAN];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return 0;
  size_t head = size < HASH_SPAN ? (size_t)size : HASH_SPAN;
  size_t tail = size - head < HASH_SPAN ? (size_t)(size - head) : HASH_SPAN;
  int ok = pread(fd, buf, head, 0) == (ssize_t)head &&
           pread(fd, buf + head, tail, (off_t)(size - tail)) == (ssize_t)tail;
  close(fd);
  if (!ok)
    return 0;
  uint64_t h = XXH64(buf, head + tail, size);
  return h ? h : 1;
}

/* A copy of the deleted file at fd (its first `size` bytes) in an unnamed
 * file of the checkpoint directory, made while the program is stopped: the
 * writer saves the copy, never bytes the program changed after the
 * checkpoint. -1 (errno set) if it cannot be made. */
static int copy_deleted(int fd, uint64_t size) {
  int copy = openat(ckpt_dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (copy < 0)
    return -1;
  copy = ckpt_hide_fd(copy);
  loff_t in = 0, out = 0;
  while ((uint64_t)in < size) {
    ssize_t n = copy_file_range(fd, &in, copy, &out, size - (uint64_t)in, 0);
    if (n > 0)
      continue;
    if (n == 0) {
      errno = EIO; /* shorter than fstat said */
      break;
    }
    if (errno == EINTR)
      continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
        errno != EOPNOTSUPP)
      break;
    /* Another file system (or an old kernel): by hand. */
    static char buf[1 << 16];
    ssize_t r = pread(fd, buf, sizeof buf, in);
    if (r <= 0 || pwrite(copy, buf, (size_t)r, out) != r) {
      errno = r == 0 ? EIO : errno;
      break;
    }
    in += r;
    out += r;
  }
  if ((uint64_t)in < size) {
    int saved = errno;
    close(copy);
    errno = saved;
    return -1;
  }
  ckpt_register_runtime_fd(copy);
  return copy;
}

void ckpt_files_release(struct ckpt_file_state *files, int count) {
  for (int i = 0; files && i < count; i++)
    if (files[i].copy_fd >= 0) {
      ckpt_unregister_runtime_fd(files[i].copy_fd);
      close(files[i].copy_fd);
    }
  free(files);
}

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

int ckpt_runtime_fd_is_file(unsigned maj, unsigned min, unsigned long ino) {
  for (int i = 0; i < num_runtime_fds; i++) {
    struct stat st;
    if (fstat(runtime_fds[i], &st) == 0 && st.st_ino == ino &&
        major(st.st_dev) == maj && minor(st.st_dev) == min)
      return 1;
  }
  return 0;
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
  f->copy_fd = -1;
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
    f->kind = st.st_nlink == 0 ? CKPT_FILE_DELETED : CKPT_FILE_REGULAR;
  else if (S_ISCHR(st.st_mode))
    f->kind = CKPT_FILE_DEVICE;
  else if (S_ISDIR(st.st_mode))
    f->kind = CKPT_FILE_DIR;
  else
    f->kind = CKPT_FILE_OTHER;
  off_t off = lseek(fd, 0, SEEK_CUR);
  f->offset = off < 0 ? 0 : (uint64_t)off;
  f->size = (uint64_t)st.st_size;
  f->mode = (uint32_t)(st.st_mode & 07777);
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
    /* Once the program has read it: a pipe nobody reads loses nothing. */
    static int warned_stdin;
    if (!warned_stdin && fd == 0 && f->kind == CKPT_FILE_OTHER &&
        (ckpt_stdin_read || (stdin && stdin->_IO_read_base))) {
      warned_stdin = 1;
      CKPT_WARN("stdin is %s: what the program read from it before a "
                "checkpoint is not saved; a restart reads the stdin "
                "ckpt-run --restart is given",
                f->path);
    }
    if (f->kind == CKPT_FILE_REGULAR) {
      char self[64];
      snprintf(self, sizeof self, "/proc/thread-self/fd/%d", fd);
      f->content_hash = ckpt_file_content_hash(self, f->size);
    }
    if (f->kind == CKPT_FILE_DELETED && f->same_as < 0) {
      f->copy_fd = copy_deleted(fd, f->size);
      if (f->copy_fd < 0) {
        /* Kept by path, so the restart fails naming it. */
        CKPT_WARN("fd %d: cannot copy the deleted file %s (%s); a restart "
                  "from this checkpoint will fail",
                  fd, f->path, strerror(errno));
        f->kind = CKPT_FILE_REGULAR;
      } else if (f->size >= (64u << 20) && !warned) {
        CKPT_WARN("fd %d: the deleted file %s is saved whole in every "
                  "checkpoint (%llu MiB)",
                  fd, f->path, (unsigned long long)(f->size >> 20));
      }
    }
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
  }
  if (f->content_hash &&
      ckpt_file_content_hash(f->path, f->size) != f->content_hash)
    CKPT_WARN("%s (fd %d) changed since the checkpoint: its first %llu "
              "bytes are not the same (rewritten in place, or replaced); "
              "the program goes on with the file as it is now",
              f->path, f->fd, (unsigned long long)f->size);
  if (acc != O_RDONLY && ftruncate(fd, (off_t)f->size) != 0)
    goto fail_errno;
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
                           files[j].kind == CKPT_FILE_DELETED ||
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
    case CKPT_FILE_DELETED:
      /* Made again unlinked, with its content, by the reader (restore.c). */
      if (fchmod(f->copy_fd, f->mode) != 0 ||
          fcntl(f->copy_fd, F_SETFL, f->flags & (O_APPEND | O_NONBLOCK)) != 0 ||
          lseek(f->copy_fd, (off_t)f->offset, SEEK_SET) < 0 ||
          dup3(f->copy_fd, f->fd, f->flags & O_CLOEXEC) < 0) {
        snprintf(msg, msglen, "cannot put the deleted file %s back at fd %d: "
                 "%s", f->path, f->fd, strerror(errno));
        return -1;
      }
      close(f->copy_fd);
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
