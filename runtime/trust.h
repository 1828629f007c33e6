/* runtime/trust.h - who may own and change what ckpt writes, reads and runs:
 * checkpoint directories and files, the recorded binary, key files.
 *
 * Shared by libckpt (the checkpoint directory of a running program) and the
 * tools (ckpt-run checks before it launches or restarts anything). Every
 * refusal is one line in ERR naming the file or directory and the reason
 * (docs/security.md). "Ours" is the effective uid of the caller; root's files
 * are root's only. */
#ifndef CKPT_TRUST_H
#define CKPT_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Open the checkpoint directory PATH (never through a symbolic link as its
 * last component) and check it: a directory owned by us that neither group
 * nor others may write. Returns the descriptor (O_CLOEXEC), or -1 with ERR
 * set. */
int ckpt_trust_open_dir(const char *path, char *err, size_t errlen);
/* The same checks on an open directory (ST from fstat). */
int ckpt_trust_dir(const struct stat *st, const char *path, char *err,
                   size_t errlen);
/* A checkpoint file: a regular file owned by us, not writable by group or
 * others. */
int ckpt_trust_file(const struct stat *st, const char *path, char *err,
                    size_t errlen);
/* The directory holding a checkpoint file given by name: owned by us or by
 * root, and if others may write it, sticky (so they cannot replace files). */
int ckpt_trust_parent(const char *file_path, char *err, size_t errlen);
/* The program a restart executes: owned by us or by root, not writable by
 * group or others. */
int ckpt_trust_binary(const struct stat *st, const char *path, char *err,
                      size_t errlen);

/* Read a key file (--key-file, CKPT_KEY_FILE): a regular file owned by us
 * (or root), neither readable nor writable by group or others, 16 bytes to
 * 64 KiB. The key is the BLAKE2b-256 of its contents. Returns 0 or -1. */
int ckpt_key_load(const char *path, uint8_t *key /* CKPT_KEY_LEN */, char *err,
                  size_t errlen);

/* BLAKE2b-256 of everything readable from FD (from offset 0, by pread).
 * Returns 0, or -1 with errno set. */
int ckpt_hash_fd(int fd, uint8_t *out /* CKPT_EXE_HASH_LEN */);

#endif /* CKPT_TRUST_H */
