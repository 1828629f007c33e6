/* runtime/image.h - the checkpoint file container: writing and reading.
 *
 * A checkpoint file is a header, a sequence of sections and a section table
 * (docs/format.md). This module knows nothing of what sections mean: it
 * stores byte streams, zstd-compressed, with an XXH64 checksum each, and
 * writes the file atomically (temporary name, fsync, rename, fsync of the
 * directory). The reader never trusts the file: every length and offset is
 * checked, and every failure is reported as one line in the caller's buffer.
 *
 * Used by libckpt (snapshot/restore) and by the tools (ckpt-run,
 * ckpt-inspect); it depends only on libc, zstd and xxhash.
 */
#ifndef CKPT_IMAGE_H
#define CKPT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_IMAGE_ERRLEN 512
#define CKPT_BUILD_ID_MAX 32
/* A run: one program started by ckpt-run, through all its restarts. Its
 * checkpoints carry the same random id, so pruning never touches another
 * run's files in a shared directory. */
#define CKPT_RUN_ID_LEN 16
/* Keyed BLAKE2b (libsodium's crypto_generichash) over the whole file, when a
 * key file is in use (docs/security.md). */
#define CKPT_KEY_LEN 32
#define CKPT_MAC_LEN 32
/* Header flags (format version 3). */
#define CKPT_IMAGE_FLAG_MAC 0x1u /* a CKPT_MAC_LEN-byte MAC follows the table */

/* File names in a checkpoint directory: ckpt-NNNNNN.ckpt, the sequence number
 * in decimal with at least 6 digits (more once it passes 999999, so compare
 * parsed numbers, not names). While a file is incomplete it is named
 * NAME.RUNID-RANDOM.tmp (32 + 16 hex digits: the run it belongs to and an
 * unpredictable part); readers ignore such names. */
#define CKPT_IMAGE_NAME_PREFIX "ckpt-"
#define CKPT_IMAGE_TMP_SUFFIX ".tmp"
/* Largest name ckpt_image_name produces, NUL included ("ckpt-" + 20 digits +
 * ".ckpt"). */
#define CKPT_IMAGE_NAME_MAX 32
/* Largest temporary name, NUL included. */
#define CKPT_IMAGE_TMP_NAME_MAX (CKPT_IMAGE_NAME_MAX + 2 * CKPT_RUN_ID_LEN + 22)

/* Fixed sizes of format version 1 (docs/format.md). */
#define CKPT_IMAGE_HEADER_SIZE 128
#define CKPT_IMAGE_TABLE_ENTRY_SIZE 40
#define CKPT_IMAGE_SECTION_ALIGN 8

/* struct ckpt_section_info.compression */
#define CKPT_COMPRESSION_NONE 0
#define CKPT_COMPRESSION_ZSTD 1

/* Header fields a writer fills and a reader gets back. The writer ignores
 * version (it always writes CKPT_FILE_VERSION) and writes arch 0 as the
 * architecture it was built for. */
struct ckpt_image_info {
  uint32_t version;      /* CKPT_FILE_VERSION of the file */
  uint32_t arch;         /* ELF e_machine of the process (EM_X86_64) */
  uint32_t flags;        /* CKPT_IMAGE_FLAG_*; the writer sets them itself */
  uint8_t run_id[CKPT_RUN_ID_LEN]; /* 0 in files before version 3 */
  uint64_t created_ns;   /* CLOCK_REALTIME at the checkpoint */
  uint64_t sequence;     /* checkpoint number within its directory, from 1 */
  uint32_t build_id_len; /* bytes used in build_id */
  uint8_t build_id[CKPT_BUILD_ID_MAX]; /* GNU build-id of the executable */
};

struct ckpt_section_info {
  uint32_t type;        /* enum ckpt_section_type */
  uint32_t compression; /* 0 = none, 1 = zstd */
  uint64_t offset;      /* of the stored bytes in the file */
  uint64_t stored_size; /* bytes in the file */
  uint64_t raw_size;    /* bytes after decompression */
  uint64_t checksum;    /* XXH64 (seed 0) of the stored bytes */
};

/* Section type names for messages ("HEAP"), from CKPT_SECTION_TYPES;
 * "unknown" for numbers this build does not know. */
const char *ckpt_section_type_name(uint32_t type);

/* Write the file name of checkpoint number SEQ ("ckpt-000042.ckpt") into buf
 * (at least CKPT_IMAGE_NAME_MAX bytes). */
void ckpt_image_name(char *buf, size_t len, uint64_t seq);
/* If NAME is a complete checkpoint's name (not a .tmp), store its sequence
 * number and return 1; otherwise return 0. */
int ckpt_image_parse_name(const char *name, uint64_t *seq);
/* A fresh temporary name for the file NAME of run RUN_ID (buf of at least
 * CKPT_IMAGE_TMP_NAME_MAX bytes for a checkpoint name). Returns 0, or -1 if
 * no random bytes. */
int ckpt_image_tmp_name(char *buf, size_t len, const char *name,
                        const uint8_t run_id[CKPT_RUN_ID_LEN]);
/* If NAME is a temporary name (NAME.RUNID-RANDOM.tmp), store the run it
 * belongs to and return 1; for the run-less ckpt-N.ckpt.tmp of versions
 * before 3 return 0; else -1. */
int ckpt_image_parse_tmp_name(const char *name,
                              uint8_t run_id[CKPT_RUN_ID_LEN]);
/* Read and check only the header of DIR_FD/NAME (never following a symbolic
 * link). Returns 0 with INFO filled, or -1. */
int ckpt_image_peek(int dir_fd, const char *name, struct ckpt_image_info *info);

/* ---- Writing ------------------------------------------------------------ */
struct ckpt_image_writer;

struct ckpt_image_options {
  int zstd_level;          /* <= 0: 1 (the fastest regular level) */
  const char *tmp_name;    /* NULL: a fresh ckpt_image_tmp_name */
  const uint8_t *mac_key;  /* CKPT_KEY_LEN bytes: add a MAC; NULL: none */
};

/* Create the temporary file in the directory DIR_FD (not closed, not kept;
 * DIR_LABEL names it in messages), exclusively, mode 0600, never through a
 * symbolic link. Returns NULL and fills err on failure. */
struct ckpt_image_writer *
ckpt_image_create_at(int dir_fd, const char *dir_label, const char *name,
                     const struct ckpt_image_info *info,
                     const struct ckpt_image_options *opts, char *err,
                     size_t errlen);

/* ckpt_image_create_at on the directory DIR, without a MAC. zstd_level:
 * zstd compression level; <= 0 means 1, above ZSTD_maxCLevel() the max.
 * The environment variable CKPT_ZSTD_WORKERS=N asks zstd for N compression
 * threads (ignored if the library lacks them). Returns NULL and fills err on
 * failure. */
struct ckpt_image_writer *ckpt_image_create(const char *dir, const char *name,
                                            const struct ckpt_image_info *info,
                                            int zstd_level, char *err,
                                            size_t errlen);
/* Sections are written one at a time: begin, any number of writes, end.
 * Each returns 0, or -1 with the writer's error set; after an error the
 * temporary file is already removed and every later call fails, so callers
 * may check only ckpt_image_commit's result. */
int ckpt_image_begin_section(struct ckpt_image_writer *w, uint32_t type);
int ckpt_image_write(struct ckpt_image_writer *w, const void *buf, size_t len);
int ckpt_image_end_section(struct ckpt_image_writer *w);
/* Write the table and header, fsync, rename DIR/NAME.tmp to DIR/NAME, fsync
 * DIR. Frees the writer. Returns 0, or -1 with err filled and the temporary
 * file removed. */
int ckpt_image_commit(struct ckpt_image_writer *w, char *err, size_t errlen);
/* Give up: remove the temporary file and free the writer. */
void ckpt_image_abort(struct ckpt_image_writer *w);
/* The writer's last error (valid until commit/abort). */
const char *ckpt_image_error(const struct ckpt_image_writer *w);

/* ---- Reading ------------------------------------------------------------ */
struct ckpt_image;

/* Open and check the header and section table (not the section contents).
 * Returns NULL and fills err ("FILE: what is wrong") on any problem. */
struct ckpt_image *ckpt_image_open(const char *path, char *err, size_t errlen);
void ckpt_image_close(struct ckpt_image *img);
const struct ckpt_image_info *ckpt_image_info(const struct ckpt_image *img);
/* The open file (for fstat: the file checked is the file read). */
int ckpt_image_fd(const struct ckpt_image *img);
size_t ckpt_image_num_sections(const struct ckpt_image *img);
const struct ckpt_section_info *ckpt_image_section(const struct ckpt_image *img,
                                                   size_t index);
/* Index of the first section of TYPE at or after index FROM, or -1. */
long ckpt_image_find(const struct ckpt_image *img, uint32_t type, size_t from);
/* Check every section's checksum and that it decompresses to raw_size.
 * Returns 0, or -1 with err naming the file and section. */
int ckpt_image_verify(struct ckpt_image *img, char *err, size_t errlen);
/* Only the checksums of the stored bytes (and padding), without
 * decompressing: what ckpt-run checks before a restart, at memory speed. */
int ckpt_image_verify_checksums(struct ckpt_image *img, char *err,
                                size_t errlen);
/* Check the file's MAC with KEY (CKPT_KEY_LEN bytes). Returns 0, or -1 with
 * err naming the file: no MAC, or a MAC that does not verify. */
int ckpt_image_verify_mac(struct ckpt_image *img, const uint8_t *key,
                          char *err, size_t errlen);

/* Streaming read of one section, decompressing into caller memory. */
struct ckpt_section_reader;
struct ckpt_section_reader *ckpt_section_open(struct ckpt_image *img,
                                              size_t index, char *err,
                                              size_t errlen);
/* Read exactly LEN bytes; -1 (with the reader's error set) if the section
 * ends first or its data is damaged. Bytes are delivered before the section's
 * checksum can be known: the read that reaches the end of the stored bytes
 * checks it (and fails on a mismatch), and so does ckpt_section_finish. Once a
 * read fails, every later call on the reader fails. */
int ckpt_section_read(struct ckpt_section_reader *r, void *buf, size_t len);
/* Call after the last read: checks that every raw byte was read, that the
 * compressed data ends exactly there, and the checksum of the stored bytes.
 * Returns 0, or -1 with the reader's error set. Until it returns 0 the data
 * read so far must not be trusted. */
int ckpt_section_finish(struct ckpt_section_reader *r);
/* Bytes of raw data not yet read. */
uint64_t ckpt_section_remaining(const struct ckpt_section_reader *r);
const char *ckpt_section_error(const struct ckpt_section_reader *r);
void ckpt_section_close(struct ckpt_section_reader *r);

#endif /* CKPT_IMAGE_H */
