/* runtime/trust.c - ownership and permission checks on checkpoint
 * directories, checkpoint files, binaries and key files; key loading and
 * file hashing (BLAKE2b, libsodium). See trust.h and docs/security.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* libckpt_image is built without -D_GNU_SOURCE */
#endif

#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ckpt/abi.h"
#include "image.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* "uid 1001, not root" / "uid 0, not uid 1001 (you)". */
static void owner_text(char *out, size_t len, uid_t owner, int root_ok) {
  uid_t me = geteuid();
  if (me == 0)
    snprintf(out, len, "uid %u, not root", (unsigned)owner);
  else
    snprintf(out, len, "uid %u, not uid %u (you)%s", (unsigned)owner,
             (unsigned)me, root_ok ? " or root" : "");
}

/* WHAT PATH is owned by ... / writable by ...: the common checks. */
static int check_owner_mode(const struct stat *st, const char *what,
                            const char *path, int root_ok, mode_t forbidden,
                            const char *fix, char *err, size_t errlen) {
  uid_t me = geteuid();
  if (st->st_uid != me && !(root_ok && st->st_uid == 0)) {
    char who[96];
    owner_text(who, sizeof who, st->st_uid, root_ok);
    set_err(err, errlen, "%s %s is owned by %s; refusing to use it", what,
            path, who);
    return -1;
  }
  if (st->st_mode & forbidden) {
    set_err(err, errlen, "%s %s is %s by group or others (mode %04o); %s",
            what, path,
            (st->st_mode & forbidden & 0222) ? "writable" : "readable",
            (unsigned)(st->st_mode & 07777), fix);
    return -1;
  }
  return 0;
}

int ckpt_trust_dir(const struct stat *st, const char *path, char *err,
                   size_t errlen) {
  if (!S_ISDIR(st->st_mode)) {
    set_err(err, errlen, "checkpoint directory %s is not a directory", path);
    return -1;
  }
  return check_owner_mode(st, "checkpoint directory", path, 0, 0022,
                          "make it private (chmod go-w)", err, errlen);
}

int ckpt_trust_open_dir(const char *path, char *err, size_t errlen) {
  /* O_NOFOLLOW only guards the last component, and "LINK/" has none after
   * the link: drop trailing slashes so that the link is the last one. */
  char bare[4096];
  size_t len = strlen(path);
  if (len >= sizeof bare) {
    set_err(err, errlen, "checkpoint directory %s: name too long", path);
    return -1;
  }
  memcpy(bare, path, len + 1);
  while (len > 1 && bare[len - 1] == '/')
    bare[--len] = 0;
  int fd = open(bare, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    struct stat lst;
    if ((e == ELOOP || e == ENOTDIR) && lstat(bare, &lst) == 0 &&
        S_ISLNK(lst.st_mode))
      set_err(err, errlen,
              "checkpoint directory %s is a symbolic link; give the directory "
              "itself",
              path);
    else
      set_err(err, errlen, "checkpoint directory %s: %s", path, strerror(e));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    set_err(err, errlen, "checkpoint directory %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (ckpt_trust_dir(&st, path, err, errlen) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int ckpt_trust_file(const struct stat *st, const char *path, char *err,
                    size_t errlen) {
  if (!S_ISREG(st->st_mode)) {
    set_err(err, errlen, "checkpoint file %s is not a regular file", path);
    return -1;
  }
  return check_owner_mode(st, "checkpoint file", path, 0, 0022,
                          "refusing to restart from it", err, errlen);
}

int ckpt_trust_parent(const char *file_path, char *err, size_t errlen) {
  char *copy = strdup(file_path);
  if (!copy) {
    set_err(err, errlen, "%s: out of memory", file_path);
    return -1;
  }
  char *slash = strrchr(copy, '/');
  const char *dir = ".";
  if (slash == copy)
    dir = "/";
  else if (slash) {
    *slash = 0;
    dir = copy;
  }
  struct stat st;
  int rc = -1;
  if (stat(dir, &st) < 0) {
    set_err(err, errlen, "directory %s of %s: %s", dir, file_path,
            strerror(errno));
  } else if (st.st_uid != geteuid() && st.st_uid != 0) {
    char who[96];
    owner_text(who, sizeof who, st.st_uid, 1);
    set_err(err, errlen,
            "directory %s holding %s is owned by %s; refusing to restart "
            "from it",
            dir, file_path, who);
  } else if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)) {
    set_err(err, errlen,
            "directory %s holding %s is writable by others (mode %04o) "
            "without the sticky bit; refusing to restart from it",
            dir, file_path, (unsigned)(st.st_mode & 07777));
  } else {
    rc = 0;
  }
  free(copy);
  return rc;
}

int ckpt_trust_binary(const struct stat *st, const char *path, char *err,
                      size_t errlen) {
  if (!S_ISREG(st->st_mode)) {
    set_err(err, errlen, "binary %s is not a regular file", path);
    return -1;
  }
  return check_owner_mode(st, "binary", path, 1, 0022, "refusing to run it",
                          err, errlen);
}

#define KEY_FILE_MIN 16
#define KEY_FILE_MAX (64 << 10)

int ckpt_key_load(const char *path, uint8_t *key, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    set_err(err, errlen, "key file %s: %s", path, strerror(errno));
    return -1;
  }
  int rc = -1;
  uint8_t *buf = NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    set_err(err, errlen, "key file %s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    set_err(err, errlen, "key file %s is not a regular file", path);
    goto out;
  }
  if (check_owner_mode(&st, "key file", path, 1, 0077, "chmod 600 it", err,
                       errlen) < 0)
    goto out;
  if (st.st_size < KEY_FILE_MIN || st.st_size > KEY_FILE_MAX) {
    set_err(err, errlen, "key file %s holds %lld bytes (%d to %d needed)",
            path, (long long)st.st_size, KEY_FILE_MIN, KEY_FILE_MAX);
    goto out;
  }
  size_t len = (size_t)st.st_size, got = 0;
  buf = malloc(len);
  if (!buf) {
    set_err(err, errlen, "key file %s: out of memory", path);
    goto out;
  }
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      set_err(err, errlen, "key file %s: %s", path,
              n < 0 ? strerror(errno) : "shorter than its size");
      goto out;
    }
    got += (size_t)n;
  }
  if (sodium_init() < 0 ||
      crypto_generichash(key, CKPT_KEY_LEN, buf, len, NULL, 0) != 0) {
    set_err(err, errlen, "key file %s: cannot derive the key", path);
    goto out;
  }
  rc = 0;
out:
  if (buf) {
    sodium_memzero(buf, st.st_size > 0 ? (size_t)st.st_size : 0);
    free(buf);
  }
  close(fd);
  return rc;
}

int ckpt_hash_fd(int fd, uint8_t *out) {
  size_t chunk = 1u << 20;
  uint8_t *buf = malloc(chunk);
  crypto_generichash_state *st = aligned_alloc(64, sizeof *st);
  int rc = -1;
  if (!buf || !st || sodium_init() < 0) {
    errno = ENOMEM;
    goto out;
  }
  crypto_generichash_init(st, NULL, 0, CKPT_EXE_HASH_LEN);
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, chunk, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      goto out;
    if (n == 0)
      break;
    crypto_generichash_update(st, buf, (size_t)n);
    off += n;
  }
  crypto_generichash_final(st, out, CKPT_EXE_HASH_LEN);
  rc = 0;
out:
  free(st);
  free(buf);
  return rc;
}
