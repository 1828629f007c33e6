/* runtime/image.c - the checkpoint file container: atomic zstd+XXH64 writer, distrustful streaming reader. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* libckpt_image is built without -D_GNU_SOURCE */
#endif

#include "image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include "ckpt/abi.h"

#if defined(__x86_64__)
#define CKPT_NATIVE_ARCH EM_X86_64
#elif defined(__aarch64__)
#define CKPT_NATIVE_ARCH EM_AARCH64
#else
#error "ckpt: unknown architecture (add its ELF e_machine here)"
#endif

/* ---- Layout (docs/format.md, "Container") ------------------------------- */

#define MAGIC_LEN 8

/* Byte offsets of the header fields. */
enum {
  HDR_MAGIC = 0,
  HDR_VERSION = 8,
  HDR_HEADER_SIZE = 12,
  HDR_ARCH = 16,
  HDR_FLAGS = 20,
  HDR_CREATED_NS = 24,
  HDR_SEQUENCE = 32,
  HDR_BUILD_ID_LEN = 40,
  HDR_BUILD_ID = 44,
  HDR_SECTION_COUNT = 76,
  HDR_TABLE_OFFSET = 80,
  HDR_TABLE_CHECKSUM = 88,
  HDR_HEADER_CHECKSUM = 96,
  HDR_RUN_ID = 104, /* version 3; reserved (0) before */
  HDR_RESERVED = 120,
  HDR_RESERVED_LEN = 8,
};

/* Byte offsets of the fields of one section table entry. */
enum {
  ENT_TYPE = 0,
  ENT_COMPRESSION = 4,
  ENT_OFFSET = 8,
  ENT_STORED_SIZE = 16,
  ENT_RAW_SIZE = 24,
  ENT_CHECKSUM = 32,
};

_Static_assert(sizeof(CKPT_FILE_MAGIC) - 1 == MAGIC_LEN, "magic is 8 bytes");
_Static_assert(HDR_BUILD_ID + CKPT_BUILD_ID_MAX == HDR_SECTION_COUNT,
               "build_id fills the space up to section_count");
_Static_assert(HDR_RUN_ID + CKPT_RUN_ID_LEN == HDR_RESERVED,
               "run_id fills the space up to the reserved bytes");
_Static_assert(HDR_RESERVED + HDR_RESERVED_LEN == CKPT_IMAGE_HEADER_SIZE,
               "header fields cover the header exactly");
_Static_assert(ENT_CHECKSUM + 8 == CKPT_IMAGE_TABLE_ENTRY_SIZE,
               "entry fields cover the entry exactly");
_Static_assert(CKPT_IMAGE_HEADER_SIZE % CKPT_IMAGE_SECTION_ALIGN == 0,
               "the first section starts aligned right after the header");

/* The writer collects compressed bytes here and hands them to write(2) in
 * big pieces: few system calls, and a crash leaves whole pieces behind. */
#define WRITE_BUF_SIZE ((size_t)4 << 20)
/* The reader preads stored bytes in pieces of this size, whatever the size
 * of the section: memory stays bounded for multi-GB sections. */
#define READ_CHUNK_SIZE ((size_t)4 << 20)
/* ckpt_image_verify decompresses into a scratch buffer of this size. */
#define VERIFY_SCRATCH_SIZE ((size_t)1 << 20)
/* zstd cannot expand data without bound: every block needs a 3-byte header
 * plus at least one byte (RLE) and yields at most 128 KiB, so one stored byte
 * never becomes more than 32768 raw bytes. Twice that is the sanity limit
 * for raw_size, loose enough never to reject a real file. */
#define ZSTD_MAX_EXPANSION 65536

/* ---- Small helpers ------------------------------------------------------ */

/* The format is little-endian whatever the host; these make that explicit. */
static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= (uint32_t)p[i] << (8 * i);
  return v;
}

static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint64_t align_up(uint64_t v) {
  return (v + CKPT_IMAGE_SECTION_ALIGN - 1) &
         ~(uint64_t)(CKPT_IMAGE_SECTION_ALIGN - 1);
}

static int all_zero(const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i])
      return 0;
  return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Read exactly LEN bytes at OFF. Returns 0, or -1 with errno set; errno 0
 * means the file ended first (it shrank after we checked its size). */
static int pread_full(int fd, void *buf, size_t len, uint64_t off) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pread(fd, p, len, (off_t)off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0) {
      errno = 0;
      return -1;
    }
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

static const char *read_error_text(int saved_errno) {
  return saved_errno ? strerror(saved_errno)
                     : "unexpected end of file (the file shrank while being "
                       "read)";
}

/* The header's checksum is XXH64 of the header with the checksum field
 * itself zeroed. */
static uint64_t header_checksum(const uint8_t *hdr) {
  uint8_t copy[CKPT_IMAGE_HEADER_SIZE];
  memcpy(copy, hdr, sizeof copy);
  memset(copy + HDR_HEADER_CHECKSUM, 0, 8);
  return XXH64(copy, sizeof copy, 0);
}

const char *ckpt_section_type_name(uint32_t type) {
  switch (type) {
#define CKPT_TYPE_NAME_CASE(name, num)                                         \
  case num:                                                                    \
    return #name;
    CKPT_SECTION_TYPES(CKPT_TYPE_NAME_CASE)
#undef CKPT_TYPE_NAME_CASE
  }
  return "unknown";
}

void ckpt_image_name(char *buf, size_t len, uint64_t seq) {
  snprintf(buf, len, CKPT_IMAGE_NAME_PREFIX "%06" PRIu64 CKPT_FILE_SUFFIX,
           seq);
}

int ckpt_image_parse_name(const char *name, uint64_t *seq) {
  size_t prefix_len = strlen(CKPT_IMAGE_NAME_PREFIX);
  if (strncmp(name, CKPT_IMAGE_NAME_PREFIX, prefix_len) != 0)
    return 0;
  const char *p = name + prefix_len;
  uint64_t value = 0;
  if (*p < '0' || *p > '9')
    return 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, (uint64_t)(*p - '0'), &value))
      return 0;
  }
  /* Only the canonical spelling counts, so that one number has one name. */
  char canonical[CKPT_IMAGE_NAME_MAX];
  ckpt_image_name(canonical, sizeof canonical, value);
  if (strcmp(canonical, name) != 0)
    return 0;
  *seq = value;
  return 1;
}

static void hex_encode(char *out, const uint8_t *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

static int hex_decode(uint8_t *out, const char *in, size_t n) {
  for (size_t i = 0; i < 2 * n; i++) {
    char c = in[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0)
      return -1;
    if (i % 2 == 0)
      out[i / 2] = (uint8_t)(v << 4);
    else
      out[i / 2] |= (uint8_t)v;
  }
  return 0;
}

#define TMP_RANDOM_LEN 8

int ckpt_image_tmp_name(char *buf, size_t len, const char *name,
                        const uint8_t run_id[CKPT_RUN_ID_LEN]) {
  uint8_t rnd[TMP_RANDOM_LEN];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    return -1;
  char run_hex[2 * CKPT_RUN_ID_LEN + 1], rnd_hex[2 * TMP_RANDOM_LEN + 1];
  hex_encode(run_hex, run_id, CKPT_RUN_ID_LEN);
  hex_encode(rnd_hex, rnd, TMP_RANDOM_LEN);
  snprintf(buf, len, "%s.%s-%s%s", name, run_hex, rnd_hex,
           CKPT_IMAGE_TMP_SUFFIX);
  return 0;
}

int ckpt_image_parse_tmp_name(const char *name,
                              uint8_t run_id[CKPT_RUN_ID_LEN]) {
  size_t len = strlen(name), suffix_len = strlen(CKPT_IMAGE_TMP_SUFFIX);
  if (len <= suffix_len ||
      strcmp(name + len - suffix_len, CKPT_IMAGE_TMP_SUFFIX) != 0)
    return -1;
  /* NAME.RUNID-RANDOM.tmp, NAME not empty */
  size_t tail = 1 + 2 * CKPT_RUN_ID_LEN + 1 + 2 * TMP_RANDOM_LEN + suffix_len;
  uint8_t rnd[TMP_RANDOM_LEN];
  if (len > tail) {
    const char *t = name + len - tail;
    if (t[0] == '.' && t[1 + 2 * CKPT_RUN_ID_LEN] == '-' &&
        hex_decode(run_id, t + 1, CKPT_RUN_ID_LEN) == 0 &&
        hex_decode(rnd, t + 2 + 2 * CKPT_RUN_ID_LEN, TMP_RANDOM_LEN) == 0)
      return 1;
  }
  /* Version 2 writers: NAME.tmp of a checkpoint NAME, no run. */
  char base[CKPT_IMAGE_NAME_MAX];
  uint64_t seq;
  if (len - suffix_len >= sizeof base)
    return -1;
  memcpy(base, name, len - suffix_len);
  base[len - suffix_len] = 0;
  if (!ckpt_image_parse_name(base, &seq))
    return -1;
  memset(run_id, 0, CKPT_RUN_ID_LEN);
  return 0;
}

/* ---- Writing ------------------------------------------------------------ */

struct ckpt_image_writer {
  int dir_fd;          /* DIR (a dup), for openat/renameat/unlinkat, fsync */
  int fd;              /* DIR/NAME.tmp; -1 once closed */
  int tmp_exists;      /* DIR/NAME.tmp is ours to remove on failure */
  int failed;          /* an error happened; err holds the first one */
  char *dir;           /* for messages */
  char *name;          /* NAME */
  char *tmp_name;      /* NAME.RUNID-RANDOM.tmp */
  char *tmp_path;      /* DIR/tmp_name, for messages */
  crypto_generichash_state *mac; /* over the file as written; NULL: no MAC */
  ZSTD_CCtx *cctx;
  XXH64_state_t *xxh;  /* over the current section's stored bytes */
  uint8_t *buf;        /* compressed bytes not yet written */
  size_t buf_len;
  size_t min_room;     /* flush when less than this is free in buf */
  uint64_t file_size;  /* bytes of the file so far, written or in buf */
#ifdef CKPT_TEST_HOOKS
  unsigned delay_ms;   /* CKPT_TEST_WRITE_DELAY_MS test hook */
#endif
  struct ckpt_image_info info;
  int in_section;
  struct ckpt_section_info cur;       /* the section being written */
  struct ckpt_section_info *sections; /* finished sections */
  size_t num_sections;
  size_t cap_sections;
  char err[CKPT_IMAGE_ERRLEN];
};

/* Close and remove the temporary file. Returns 0, or the errno of a failed
 * unlink (a directory made read-only keeps the file and we must say so). */
static int writer_discard_tmp(struct ckpt_image_writer *w) {
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  if (!w->tmp_exists)
    return 0;
  w->tmp_exists = 0;
  if (unlinkat(w->dir_fd, w->tmp_name, 0) < 0 && errno != ENOENT)
    return errno;
  return 0;
}

/* Record the first error and remove the temporary file right away, so a full
 * disk gets its space back even if the caller is slow to commit or abort. */
static void writer_fail(struct ckpt_image_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void writer_fail(struct ckpt_image_writer *w, const char *fmt, ...) {
  if (w->failed)
    return;
  w->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->err, sizeof w->err, fmt, ap);
  va_end(ap);
  int unlink_errno = writer_discard_tmp(w);
  if (unlink_errno) {
    size_t used = strlen(w->err);
    snprintf(w->err + used, sizeof w->err - used,
             " (and the temporary file could not be removed: %s)",
             strerror(unlink_errno));
  }
}

static void writer_fail_errno(struct ckpt_image_writer *w, const char *what) {
  int saved_errno = errno;
  writer_fail(w, "%s: %s: %s", w->tmp_path, what, strerror(saved_errno));
}

static void test_write_delay(const struct ckpt_image_writer *w) {
#ifdef CKPT_TEST_HOOKS
  if (w->delay_ms == 0)
    return;
  struct timespec ts = {.tv_sec = w->delay_ms / 1000,
                        .tv_nsec = (long)(w->delay_ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
#else
  (void)w;
#endif
}

/* The MAC covers the file from the end of the header on, in file order, and
 * then the final header (docs/format.md, "MAC"): the header is known last. */
static void writer_mac_buffer(struct ckpt_image_writer *w) {
  if (!w->mac)
    return;
  uint64_t start = w->file_size - w->buf_len;
  size_t skip = 0;
  if (start < CKPT_IMAGE_HEADER_SIZE)
    skip = (size_t)(CKPT_IMAGE_HEADER_SIZE - start);
  if (skip < w->buf_len)
    crypto_generichash_update(w->mac, w->buf + skip, w->buf_len - skip);
}

static int writer_flush(struct ckpt_image_writer *w) {
  writer_mac_buffer(w);
  size_t done = 0;
  while (done < w->buf_len) {
    ssize_t n = write(w->fd, w->buf + done, w->buf_len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      writer_fail_errno(w, "write failed");
      return -1;
    }
    if (n == 0) {
      /* POSIX allows this for a regular file only when nothing fits. */
      errno = ENOSPC;
      writer_fail_errno(w, "write failed");
      return -1;
    }
    done += (size_t)n;
  }
  w->buf_len = 0;
  test_write_delay(w);
  return 0;
}

/* Append bytes that are not compressed: the header placeholder, padding and
 * the section table. */
static int writer_append(struct ckpt_image_writer *w, const void *data,
                         size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    if (w->buf_len == WRITE_BUF_SIZE && writer_flush(w) < 0)
      return -1;
    size_t n = WRITE_BUF_SIZE - w->buf_len;
    if (n > len)
      n = len;
    memcpy(w->buf + w->buf_len, p, n);
    w->buf_len += n;
    w->file_size += n;
    p += n;
    len -= n;
  }
  return 0;
}

/* One ZSTD_compressStream2 call straight into the output buffer. Returns
 * zstd's "bytes left to flush" hint, or (size_t)-1 after an error. */
static size_t writer_compress(struct ckpt_image_writer *w, ZSTD_inBuffer *in,
                              ZSTD_EndDirective mode) {
  if (WRITE_BUF_SIZE - w->buf_len < w->min_room && writer_flush(w) < 0)
    return (size_t)-1;
  ZSTD_outBuffer out = {w->buf + w->buf_len, WRITE_BUF_SIZE - w->buf_len, 0};
  size_t hint = ZSTD_compressStream2(w->cctx, &out, in, mode);
  if (ZSTD_isError(hint)) {
    writer_fail(w, "%s: zstd compression failed: %s", w->tmp_path,
                ZSTD_getErrorName(hint));
    return (size_t)-1;
  }
  XXH64_update(w->xxh, out.dst, out.pos);
  w->buf_len += out.pos;
  w->file_size += out.pos;
  w->cur.stored_size += out.pos;
  return hint;
}

static void writer_destroy(struct ckpt_image_writer *w) {
  writer_discard_tmp(w);
  if (w->dir_fd >= 0)
    close(w->dir_fd);
  ZSTD_freeCCtx(w->cctx);
  if (w->xxh)
    XXH64_freeState(w->xxh);
  free(w->buf);
  free(w->sections);
  free(w->dir);
  free(w->name);
  free(w->tmp_name);
  free(w->tmp_path);
  if (w->mac) {
    sodium_memzero(w->mac, sizeof *w->mac);
    free(w->mac);
  }
  free(w);
}

/* A + B + C in fresh memory, or NULL. */
static char *concat(const char *a, const char *b, const char *c) {
  size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
  char *s = malloc(len);
  if (s)
    snprintf(s, len, "%s%s%s", a, b, c);
  return s;
}

/* A non-negative integer from the environment, or -1 if unset or malformed.
 * secure_getenv: a set-user-ID program never takes settings from its caller. */
static long env_number(const char *var) {
  const char *s = secure_getenv(var);
  if (!s || !*s)
    return -1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0)
    return -1;
  return v;
}

struct ckpt_image_writer *
ckpt_image_create_at(int dir_fd, const char *dir, const char *name,
                     const struct ckpt_image_info *info,
                     const struct ckpt_image_options *opts, char *err,
                     size_t errlen) {
  if (!dir || !*dir || !name || !*name || strchr(name, '/') ||
      (opts && opts->tmp_name &&
       (!*opts->tmp_name || strchr(opts->tmp_name, '/')))) {
    set_err(err, errlen, "%s/%s: invalid checkpoint file name",
            dir ? dir : "(null)", name ? name : "(null)");
    return NULL;
  }
  if (info && info->build_id_len > CKPT_BUILD_ID_MAX) {
    set_err(err, errlen, "%s/%s: build-id of %" PRIu32 " bytes (at most %d)",
            dir, name, info->build_id_len, CKPT_BUILD_ID_MAX);
    return NULL;
  }
  struct ckpt_image_writer *w = calloc(1, sizeof *w);
  if (!w) {
    set_err(err, errlen, "%s/%s: out of memory", dir, name);
    return NULL;
  }
  w->dir_fd = -1;
  w->fd = -1;
  if (info)
    w->info = *info;
  if (w->info.arch == 0)
    w->info.arch = CKPT_NATIVE_ARCH;
  w->info.version = CKPT_FILE_VERSION;
  w->info.flags = 0;

  char tmp[CKPT_IMAGE_TMP_NAME_MAX];
  if (opts && opts->tmp_name) {
    snprintf(tmp, sizeof tmp, "%s", opts->tmp_name);
  } else if (strlen(name) + 2 * CKPT_RUN_ID_LEN + 22 > sizeof tmp ||
             ckpt_image_tmp_name(tmp, sizeof tmp, name, w->info.run_id) < 0) {
    set_err(err, errlen, "%s/%s: no random bytes for a temporary name: %s",
            dir, name, strerror(errno));
    goto err_early;
  }
  w->dir = strdup(dir);
  w->name = strdup(name);
  w->tmp_name = strdup(tmp);
  w->tmp_path = concat(dir, "/", tmp);
  if (!w->dir || !w->name || !w->tmp_name || !w->tmp_path) {
    set_err(err, errlen, "%s/%s: out of memory", dir, name);
    goto err_early;
  }

  w->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (w->dir_fd < 0) {
    set_err(err, errlen, "%s: cannot use the directory: %s", dir,
            strerror(errno));
    goto err_early;
  }
  /* Exclusive and never through a link: a name planted in the directory
   * can neither redirect the write nor hand the file to someone else. */
  w->fd = openat(w->dir_fd, w->tmp_name,
                 O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
  if (w->fd < 0) {
    set_err(err, errlen, "%s: cannot create: %s", w->tmp_path,
            strerror(errno));
    goto err_early;
  }
  w->tmp_exists = 1;

  w->cctx = ZSTD_createCCtx();
  w->xxh = XXH64_createState();
  w->buf = malloc(WRITE_BUF_SIZE);
  if (!w->cctx || !w->xxh || !w->buf) {
    writer_fail(w, "%s: out of memory", w->tmp_path);
    goto err;
  }
  if (opts && opts->mac_key) {
    if (sodium_init() < 0 ||
        !(w->mac = aligned_alloc(64, sizeof *w->mac)) ||
        crypto_generichash_init(w->mac, opts->mac_key, CKPT_KEY_LEN,
                                CKPT_MAC_LEN) != 0) {
      writer_fail(w, "%s: cannot set up the MAC", w->tmp_path);
      goto err;
    }
    w->info.flags |= CKPT_IMAGE_FLAG_MAC;
  }
  /* Leave zstd room for a whole block so every call makes real progress. */
  w->min_room = ZSTD_CStreamOutSize();

  int zstd_level = opts ? opts->zstd_level : 1;
  if (zstd_level <= 0)
    zstd_level = 1;
  if (zstd_level > ZSTD_maxCLevel())
    zstd_level = ZSTD_maxCLevel();
  size_t rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
                                     zstd_level);
  if (!ZSTD_isError(rc))
    rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(rc)) {
    writer_fail(w, "%s: zstd setup failed: %s", w->tmp_path,
                ZSTD_getErrorName(rc));
    goto err;
  }
  /* Compression threads: by default two, so a large checkpoint is written
   * near disk speed (measured: 200 MB, level 1, 1.18 s with none, 0.90 s
   * with two; docs/performance.md). CKPT_ZSTD_WORKERS=0 turns them off. */
  long workers = env_number("CKPT_ZSTD_WORKERS");
  if (workers < 0)
    workers = 2;
  if (workers > 0) {
    /* Fails harmlessly if libzstd was built without threads. */
    (void)ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers,
                                 workers > 256 ? 256 : (int)workers);
  }
#ifdef CKPT_TEST_HOOKS
  long delay = env_number("CKPT_TEST_WRITE_DELAY_MS");
  if (delay > 0)
    w->delay_ms = delay > 600000 ? 600000 : (unsigned)delay;
#endif

  /* Zeros until commit: an interrupted file has no magic, so nothing ever
   * mistakes it for a checkpoint, whatever its name. */
  uint8_t placeholder[CKPT_IMAGE_HEADER_SIZE] = {0};
  if (writer_append(w, placeholder, sizeof placeholder) < 0)
    goto err;
  return w;

err:
  set_err(err, errlen, "%s", w->err);
err_early:
  writer_destroy(w);
  return NULL;
}

struct ckpt_image_writer *ckpt_image_create(const char *dir, const char *name,
                                            const struct ckpt_image_info *info,
                                            int zstd_level, char *err,
                                            size_t errlen) {
  int dir_fd = open(dir && *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir && *dir && dir_fd < 0) {
    set_err(err, errlen, "%s: cannot open directory: %s", dir,
            strerror(errno));
    return NULL;
  }
  struct ckpt_image_options opts = {.zstd_level = zstd_level};
  struct ckpt_image_writer *w =
      ckpt_image_create_at(dir_fd, dir, name, info, &opts, err, errlen);
  if (dir_fd >= 0)
    close(dir_fd);
  return w;
}

int ckpt_image_begin_section(struct ckpt_image_writer *w, uint32_t type) {
  if (w->failed)
    return -1;
  if (w->in_section) {
    writer_fail(w, "%s: section %zu (%s) begun while section %zu is open",
                w->tmp_path, w->num_sections + 1, ckpt_section_type_name(type),
                w->num_sections);
    return -1;
  }
  /* ZSTD_e_end already left the context ready for a new frame; the reset
   * costs nothing and makes each section's frame independent by design. */
  size_t rc = ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
  if (ZSTD_isError(rc)) {
    writer_fail(w, "%s: zstd reset failed: %s", w->tmp_path,
                ZSTD_getErrorName(rc));
    return -1;
  }
  XXH64_reset(w->xxh, 0);
  memset(&w->cur, 0, sizeof w->cur);
  w->cur.type = type;
  w->cur.compression = CKPT_COMPRESSION_ZSTD;
  w->cur.offset = w->file_size;
  w->in_section = 1;
  return 0;
}

int ckpt_image_write(struct ckpt_image_writer *w, const void *buf, size_t len) {
  if (w->failed)
    return -1;
  if (!w->in_section) {
    writer_fail(w, "%s: write outside a section", w->tmp_path);
    return -1;
  }
  if (len == 0)
    return 0;
  ZSTD_inBuffer in = {buf, len, 0};
  while (in.pos < in.size) {
    if (writer_compress(w, &in, ZSTD_e_continue) == (size_t)-1)
      return -1;
  }
  w->cur.raw_size += len;
  return 0;
}

int ckpt_image_end_section(struct ckpt_image_writer *w) {
  if (w->failed)
    return -1;
  if (!w->in_section) {
    writer_fail(w, "%s: end of a section that was not begun", w->tmp_path);
    return -1;
  }
  ZSTD_inBuffer none = {NULL, 0, 0};
  size_t left;
  do {
    left = writer_compress(w, &none, ZSTD_e_end);
    if (left == (size_t)-1)
      return -1;
  } while (left != 0);
  w->cur.checksum = XXH64_digest(w->xxh);

  static const uint8_t zeros[CKPT_IMAGE_SECTION_ALIGN];
  size_t pad = (size_t)(align_up(w->file_size) - w->file_size);
  if (writer_append(w, zeros, pad) < 0)
    return -1;

  if (w->num_sections == w->cap_sections) {
    size_t cap = w->cap_sections ? 2 * w->cap_sections : 16;
    struct ckpt_section_info *s = realloc(w->sections, cap * sizeof *s);
    if (!s) {
      writer_fail(w, "%s: out of memory", w->tmp_path);
      return -1;
    }
    w->sections = s;
    w->cap_sections = cap;
  }
  if (w->num_sections >= UINT32_MAX) {
    writer_fail(w, "%s: too many sections", w->tmp_path);
    return -1;
  }
  w->sections[w->num_sections++] = w->cur;
  w->in_section = 0;
  return 0;
}

static void encode_header(uint8_t *hdr, const struct ckpt_image_info *info,
                          uint32_t section_count, uint64_t table_offset,
                          uint64_t table_checksum) {
  memset(hdr, 0, CKPT_IMAGE_HEADER_SIZE);
  memcpy(hdr + HDR_MAGIC, CKPT_FILE_MAGIC, MAGIC_LEN);
  put_u32(hdr + HDR_VERSION, CKPT_FILE_VERSION);
  put_u32(hdr + HDR_HEADER_SIZE, CKPT_IMAGE_HEADER_SIZE);
  put_u32(hdr + HDR_ARCH, info->arch);
  put_u32(hdr + HDR_FLAGS, info->flags);
  put_u64(hdr + HDR_CREATED_NS, info->created_ns);
  put_u64(hdr + HDR_SEQUENCE, info->sequence);
  put_u32(hdr + HDR_BUILD_ID_LEN, info->build_id_len);
  memcpy(hdr + HDR_BUILD_ID, info->build_id, info->build_id_len);
  put_u32(hdr + HDR_SECTION_COUNT, section_count);
  put_u64(hdr + HDR_TABLE_OFFSET, table_offset);
  put_u64(hdr + HDR_TABLE_CHECKSUM, table_checksum);
  memcpy(hdr + HDR_RUN_ID, info->run_id, CKPT_RUN_ID_LEN);
  put_u64(hdr + HDR_HEADER_CHECKSUM, header_checksum(hdr));
}

static void encode_entry(uint8_t *ent, const struct ckpt_section_info *s) {
  put_u32(ent + ENT_TYPE, s->type);
  put_u32(ent + ENT_COMPRESSION, s->compression);
  put_u64(ent + ENT_OFFSET, s->offset);
  put_u64(ent + ENT_STORED_SIZE, s->stored_size);
  put_u64(ent + ENT_RAW_SIZE, s->raw_size);
  put_u64(ent + ENT_CHECKSUM, s->checksum);
}

/* Write all of LEN bytes at OFF. Returns 0, or -1 with errno set. */
static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off) {
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = ENOSPC;
      return -1;
    }
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

/* Table, MAC, header, fsync, close, rename, fsync(dir). */
static int writer_finish_file(struct ckpt_image_writer *w) {
  if (w->in_section) {
    writer_fail(w, "%s: commit while section %zu is still open", w->tmp_path,
                w->num_sections);
    return -1;
  }
  uint64_t table_offset = w->file_size;
  XXH64_reset(w->xxh, 0);
  for (size_t i = 0; i < w->num_sections; i++) {
    uint8_t ent[CKPT_IMAGE_TABLE_ENTRY_SIZE];
    encode_entry(ent, &w->sections[i]);
    XXH64_update(w->xxh, ent, sizeof ent);
    if (writer_append(w, ent, sizeof ent) < 0)
      return -1;
  }
  uint64_t table_checksum = XXH64_digest(w->xxh);
  if (writer_flush(w) < 0)
    return -1;

  uint8_t hdr[CKPT_IMAGE_HEADER_SIZE];
  encode_header(hdr, &w->info, (uint32_t)w->num_sections, table_offset,
                table_checksum);
  if (w->mac) {
    uint8_t mac[CKPT_MAC_LEN];
    crypto_generichash_update(w->mac, hdr, sizeof hdr);
    crypto_generichash_final(w->mac, mac, sizeof mac);
    if (pwrite_full(w->fd, mac, sizeof mac, w->file_size) < 0) {
      writer_fail_errno(w, "write failed");
      return -1;
    }
  }
  if (pwrite_full(w->fd, hdr, sizeof hdr, 0) < 0) {
    writer_fail_errno(w, "write failed");
    return -1;
  }

  if (fsync(w->fd) < 0) {
    writer_fail_errno(w, "fsync failed");
    return -1;
  }
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) < 0) {
    writer_fail_errno(w, "close failed");
    return -1;
  }
  if (renameat(w->dir_fd, w->tmp_name, w->dir_fd, w->name) < 0) {
    int saved_errno = errno;
    writer_fail(w, "%s: cannot rename to %s: %s", w->tmp_path, w->name,
                strerror(saved_errno));
    return -1;
  }
  w->tmp_exists = 0;
  /* The rename is durable only once the directory is. EINVAL: this
   * filesystem cannot sync directories, and there is nothing better to do. */
  if (fsync(w->dir_fd) < 0 && errno != EINVAL) {
    int saved_errno = errno;
    writer_fail(w, "%s: fsync of the directory failed (%s/%s is in place but "
                "may not survive a crash): %s",
                w->dir, w->dir, w->name, strerror(saved_errno));
    return -1;
  }
  return 0;
}

int ckpt_image_commit(struct ckpt_image_writer *w, char *err, size_t errlen) {
  int rc = -1;
  if (!w->failed && writer_finish_file(w) == 0)
    rc = 0;
  if (rc < 0)
    set_err(err, errlen, "%s", w->err);
  writer_destroy(w);
  return rc;
}

void ckpt_image_abort(struct ckpt_image_writer *w) {
  if (w)
    writer_destroy(w);
}

const char *ckpt_image_error(const struct ckpt_image_writer *w) {
  return w->err;
}

/* ---- Reading ------------------------------------------------------------ */

struct ckpt_image {
  int fd;
  char *path;
  uint64_t file_size;
  uint64_t mac_offset; /* end of the table: where a MAC would be */
  struct ckpt_image_info info;
  size_t num_sections;
  struct ckpt_section_info *sections;
};

void ckpt_image_close(struct ckpt_image *img) {
  if (!img)
    return;
  if (img->fd >= 0)
    close(img->fd);
  free(img->sections);
  free(img->path);
  free(img);
}

/* Check the header (HDR, the first CKPT_IMAGE_HEADER_SIZE bytes of a file of
 * at least that size) and fill img->info. Returns 0 or -1 with err set. */
static int check_header(struct ckpt_image *img, const uint8_t *hdr, char *err,
                        size_t errlen) {
  const char *path = img->path;
  uint32_t version = get_u32(hdr + HDR_VERSION);
  /* Version before checksum: a newer format may checksum differently. */
  if (version > CKPT_FILE_VERSION) {
    set_err(err, errlen,
            "%s: format version %" PRIu32
            " is newer than this ckpt supports (%d)",
            path, version, CKPT_FILE_VERSION);
    return -1;
  }
  if (version == 0) {
    set_err(err, errlen, "%s: invalid format version 0", path);
    return -1;
  }
  uint32_t header_size = get_u32(hdr + HDR_HEADER_SIZE);
  if (header_size != CKPT_IMAGE_HEADER_SIZE) {
    set_err(err, errlen, "%s: header size %" PRIu32 " (expected %d)", path,
            header_size, CKPT_IMAGE_HEADER_SIZE);
    return -1;
  }
  if (get_u64(hdr + HDR_HEADER_CHECKSUM) != header_checksum(hdr)) {
    set_err(err, errlen, "%s: header checksum mismatch (the header is damaged)",
            path);
    return -1;
  }
  uint32_t arch = get_u32(hdr + HDR_ARCH);
  if (arch != CKPT_NATIVE_ARCH) {
    set_err(err, errlen,
            "%s: checkpoint of another architecture (ELF machine %" PRIu32
            ", this is %d)",
            path, arch, CKPT_NATIVE_ARCH);
    return -1;
  }
  uint32_t flags = get_u32(hdr + HDR_FLAGS);
  uint32_t known_flags = version >= 3 ? CKPT_IMAGE_FLAG_MAC : 0;
  if (flags & ~known_flags) {
    set_err(err, errlen, "%s: unknown header flags 0x%" PRIx32, path,
            flags & ~known_flags);
    return -1;
  }
  uint32_t build_id_len = get_u32(hdr + HDR_BUILD_ID_LEN);
  if (build_id_len > CKPT_BUILD_ID_MAX) {
    set_err(err, errlen, "%s: build-id length %" PRIu32 " (at most %d)", path,
            build_id_len, CKPT_BUILD_ID_MAX);
    return -1;
  }
  if (!all_zero(hdr + HDR_BUILD_ID + build_id_len,
                CKPT_BUILD_ID_MAX - build_id_len) ||
      (version < 3 && !all_zero(hdr + HDR_RUN_ID, CKPT_RUN_ID_LEN)) ||
      !all_zero(hdr + HDR_RESERVED, HDR_RESERVED_LEN)) {
    set_err(err, errlen, "%s: reserved header bytes are not zero", path);
    return -1;
  }
  img->info.version = version;
  img->info.arch = arch;
  img->info.flags = flags;
  memcpy(img->info.run_id, hdr + HDR_RUN_ID, CKPT_RUN_ID_LEN);
  img->info.created_ns = get_u64(hdr + HDR_CREATED_NS);
  img->info.sequence = get_u64(hdr + HDR_SEQUENCE);
  img->info.build_id_len = build_id_len;
  memcpy(img->info.build_id, hdr + HDR_BUILD_ID, build_id_len);
  return 0;
}

/* Check the section table against the file: sections follow the header and
 * each other, 8-aligned, and the table follows the last one. Being this
 * strict leaves no byte of the file outside a checksum or a zero check. */
static int check_table(struct ckpt_image *img, const uint8_t *table,
                       uint64_t table_offset, char *err, size_t errlen) {
  const char *path = img->path;
  uint64_t expected = CKPT_IMAGE_HEADER_SIZE;
  for (size_t i = 0; i < img->num_sections; i++) {
    const uint8_t *ent = table + i * CKPT_IMAGE_TABLE_ENTRY_SIZE;
    struct ckpt_section_info *s = &img->sections[i];
    s->type = get_u32(ent + ENT_TYPE);
    s->compression = get_u32(ent + ENT_COMPRESSION);
    s->offset = get_u64(ent + ENT_OFFSET);
    s->stored_size = get_u64(ent + ENT_STORED_SIZE);
    s->raw_size = get_u64(ent + ENT_RAW_SIZE);
    s->checksum = get_u64(ent + ENT_CHECKSUM);
    const char *tname = ckpt_section_type_name(s->type);

    if (s->compression != CKPT_COMPRESSION_NONE &&
        s->compression != CKPT_COMPRESSION_ZSTD) {
      set_err(err, errlen,
              "%s: section %zu (%s) has unknown compression %" PRIu32, path, i,
              tname, s->compression);
      return -1;
    }
    if (s->offset != expected) {
      set_err(err, errlen,
              "%s: section %zu (%s) is at offset %" PRIu64
              ", expected %" PRIu64 " (right after the previous one)",
              path, i, tname, s->offset, expected);
      return -1;
    }
    uint64_t end;
    if (__builtin_add_overflow(s->offset, s->stored_size, &end) ||
        end > table_offset) {
      set_err(err, errlen,
              "%s: section %zu (%s) of %" PRIu64 " bytes at offset %" PRIu64
              " runs into the section table at %" PRIu64,
              path, i, tname, s->stored_size, s->offset, table_offset);
      return -1;
    }
    if (s->compression == CKPT_COMPRESSION_NONE &&
        s->raw_size != s->stored_size) {
      set_err(err, errlen,
              "%s: section %zu (%s) is uncompressed but its raw size %" PRIu64
              " differs from its stored size %" PRIu64,
              path, i, tname, s->raw_size, s->stored_size);
      return -1;
    }
    if (s->compression == CKPT_COMPRESSION_ZSTD &&
        s->raw_size / ZSTD_MAX_EXPANSION > s->stored_size) {
      set_err(err, errlen,
              "%s: section %zu (%s) claims %" PRIu64
              " raw bytes from only %" PRIu64 " compressed bytes",
              path, i, tname, s->raw_size, s->stored_size);
      return -1;
    }
    expected = align_up(end);
  }
  if (table_offset != expected) {
    set_err(err, errlen,
            "%s: section table at offset %" PRIu64
            " does not follow the last section (expected %" PRIu64 ")",
            path, table_offset, expected);
    return -1;
  }
  return 0;
}

struct ckpt_image *ckpt_image_open(const char *path, char *err, size_t errlen) {
  uint8_t *table = NULL;
  struct ckpt_image *img = calloc(1, sizeof *img);
  if (!img || !(img->path = strdup(path))) {
    set_err(err, errlen, "%s: out of memory", path);
    goto err;
  }
  img->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (img->fd < 0) {
    set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    goto err;
  }
  struct stat st;
  if (fstat(img->fd, &st) < 0) {
    set_err(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    goto err;
  }
  if (!S_ISREG(st.st_mode)) {
    set_err(err, errlen, "%s: not a regular file", path);
    goto err;
  }
  img->file_size = (uint64_t)st.st_size;
  if (img->file_size == 0) {
    set_err(err, errlen, "%s: empty file", path);
    goto err;
  }

  uint8_t hdr[CKPT_IMAGE_HEADER_SIZE];
  size_t have = img->file_size < sizeof hdr ? (size_t)img->file_size
                                            : sizeof hdr;
  if (pread_full(img->fd, hdr, have, 0) < 0) {
    set_err(err, errlen, "%s: read failed: %s", path, read_error_text(errno));
    goto err;
  }
  /* A foreign file says so even when it is shorter than a header. */
  if (memcmp(hdr, CKPT_FILE_MAGIC, have < MAGIC_LEN ? have : MAGIC_LEN)) {
    set_err(err, errlen, "%s: not a ckpt checkpoint file", path);
    goto err;
  }
  if (have < sizeof hdr) {
    set_err(err, errlen, "%s: truncated (%" PRIu64
            " bytes, expected at least %d)",
            path, img->file_size, CKPT_IMAGE_HEADER_SIZE);
    goto err;
  }
  if (check_header(img, hdr, err, errlen) < 0)
    goto err;

  uint32_t count = get_u32(hdr + HDR_SECTION_COUNT);
  uint64_t table_offset = get_u64(hdr + HDR_TABLE_OFFSET);
  uint64_t table_size = (uint64_t)count * CKPT_IMAGE_TABLE_ENTRY_SIZE;
  uint64_t table_end;
  if (table_offset < CKPT_IMAGE_HEADER_SIZE ||
      __builtin_add_overflow(table_offset, table_size, &table_end)) {
    set_err(err, errlen, "%s: section table offset %" PRIu64 " is invalid",
            path, table_offset);
    goto err;
  }
  /* A MAC, if there is one, is all that may follow the table. */
  uint64_t file_end = table_end;
  if ((img->info.flags & CKPT_IMAGE_FLAG_MAC) &&
      __builtin_add_overflow(table_end, CKPT_MAC_LEN, &file_end)) {
    set_err(err, errlen, "%s: section table offset %" PRIu64 " is invalid",
            path, table_offset);
    goto err;
  }
  if (file_end > img->file_size) {
    set_err(err, errlen, "%s: truncated (%" PRIu64
            " bytes, expected at least %" PRIu64 ")",
            path, img->file_size, file_end);
    goto err;
  }
  if (file_end < img->file_size) {
    set_err(err, errlen, "%s: %" PRIu64 " bytes of unexpected data after the %s",
            path, img->file_size - file_end,
            file_end == table_end ? "section table" : "MAC");
    goto err;
  }
  img->mac_offset = table_end;

  /* The table fits in the file, so its size is bounded by what is on disk. */
  img->num_sections = count;
  if (count > 0) {
    table = malloc((size_t)table_size);
    img->sections = calloc(count, sizeof *img->sections);
    if (!table || !img->sections) {
      set_err(err, errlen, "%s: out of memory for %" PRIu32 " sections", path,
              count);
      goto err;
    }
    if (pread_full(img->fd, table, (size_t)table_size, table_offset) < 0) {
      set_err(err, errlen, "%s: read failed: %s", path,
              read_error_text(errno));
      goto err;
    }
  }
  if (XXH64(table ? (const void *)table : "", (size_t)table_size, 0) !=
      get_u64(hdr + HDR_TABLE_CHECKSUM)) {
    set_err(err, errlen,
            "%s: section table checksum mismatch (the table is damaged)",
            path);
    goto err;
  }
  if (check_table(img, table, table_offset, err, errlen) < 0)
    goto err;
  free(table);
  return img;

err:
  free(table);
  ckpt_image_close(img);
  return NULL;
}

const struct ckpt_image_info *ckpt_image_info(const struct ckpt_image *img) {
  return &img->info;
}

int ckpt_image_fd(const struct ckpt_image *img) { return img->fd; }

size_t ckpt_image_num_sections(const struct ckpt_image *img) {
  return img->num_sections;
}

const struct ckpt_section_info *ckpt_image_section(const struct ckpt_image *img,
                                                   size_t index) {
  return index < img->num_sections ? &img->sections[index] : NULL;
}

long ckpt_image_find(const struct ckpt_image *img, uint32_t type,
                     size_t from) {
  for (size_t i = from; i < img->num_sections; i++)
    if (img->sections[i].type == type)
      return (long)i;
  return -1;
}

/* ---- Section reader ----------------------------------------------------- */

struct ckpt_section_reader {
  struct ckpt_image *img;
  size_t index;
  const struct ckpt_section_info *sec;
  ZSTD_DCtx *dctx;    /* NULL for uncompressed sections */
  XXH64_state_t *xxh; /* over the stored bytes read so far */
  uint8_t *in_buf;    /* a chunk of stored bytes */
  size_t in_cap;
  ZSTD_inBuffer in;   /* what zstd has not consumed of in_buf */
  uint64_t stored_left; /* stored bytes not yet pread */
  uint64_t raw_left;    /* raw bytes not yet handed to the caller */
  int frame_done;       /* zstd reported the end of the frame */
  int end_checked;      /* the end of the section has been verified */
  int failed;
  char err[CKPT_IMAGE_ERRLEN];
};

/* "PATH: section N (TYPE) " + what. The first error sticks. */
static void reader_fail(struct ckpt_section_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reader_fail(struct ckpt_section_reader *r, const char *fmt, ...) {
  if (r->failed)
    return;
  r->failed = 1;
  int used = snprintf(r->err, sizeof r->err, "%s: section %zu (%s) ",
                      r->img->path, r->index,
                      ckpt_section_type_name(r->sec->type));
  if (used < 0 || (size_t)used >= sizeof r->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err + used, sizeof r->err - (size_t)used, fmt, ap);
  va_end(ap);
}

static uint64_t reader_stored_pos(const struct ckpt_section_reader *r) {
  return r->sec->stored_size - r->stored_left;
}

/* Account for stored bytes just read; once the last one is in, compare the
 * checksum, before any of the last chunk reaches the caller. */
static int reader_hash(struct ckpt_section_reader *r, const void *p,
                       size_t n) {
  XXH64_update(r->xxh, p, n);
  r->stored_left -= n;
  if (r->stored_left == 0) {
    uint64_t sum = XXH64_digest(r->xxh);
    if (sum != r->sec->checksum) {
      reader_fail(r,
                  "is damaged: checksum mismatch (stored bytes hash to "
                  "%016" PRIx64 ", the table says %016" PRIx64 ")",
                  sum, r->sec->checksum);
      return -1;
    }
  }
  return 0;
}

static int reader_pread(struct ckpt_section_reader *r, void *buf, size_t n) {
  if (pread_full(r->img->fd, buf, n, r->sec->offset + reader_stored_pos(r)) <
      0) {
    reader_fail(r, "cannot be read: %s", read_error_text(errno));
    return -1;
  }
  return reader_hash(r, buf, n);
}

/* Next chunk of stored bytes into in_buf (zstd has consumed the last). */
static int reader_refill(struct ckpt_section_reader *r) {
  size_t n = r->stored_left < r->in_cap ? (size_t)r->stored_left : r->in_cap;
  if (reader_pread(r, r->in_buf, n) < 0)
    return -1;
  r->in.src = r->in_buf;
  r->in.size = n;
  r->in.pos = 0;
  return 0;
}

/* Feed zstd the next stored bytes and let it fill OUT as far as it can.
 * Returns 0 or -1. Running out of stored bytes with the frame unfinished and
 * nothing left to flush is the one way zstd can fail to progress. */
static int reader_decompress(struct ckpt_section_reader *r,
                             ZSTD_outBuffer *out) {
  if (r->in.pos == r->in.size && r->stored_left > 0 && reader_refill(r) < 0)
    return -1;
  size_t in_before = r->in.pos, out_before = out->pos;
  size_t hint = ZSTD_decompressStream(r->dctx, out, &r->in);
  if (ZSTD_isError(hint)) {
    reader_fail(r, "is damaged: zstd: %s", ZSTD_getErrorName(hint));
    return -1;
  }
  if (hint == 0) {
    r->frame_done = 1;
  } else if (r->in.pos == in_before && out->pos == out_before) {
    reader_fail(r, "is damaged: the compressed data ends early");
    return -1;
  }
  return 0;
}

/* All raw bytes are out: the frame must end here, with no stored bytes left
 * over, and the checksum (checked as the last chunk came in) must match. */
static int reader_check_end(struct ckpt_section_reader *r) {
  if (r->end_checked)
    return 0;
  if (r->dctx) {
    while (!r->frame_done) {
      uint8_t scratch[64];
      ZSTD_outBuffer out = {scratch, sizeof scratch, 0};
      if (reader_decompress(r, &out) < 0)
        return -1;
      if (out.pos > 0) {
        reader_fail(r, "is damaged: it holds more than its raw size of "
                    "%" PRIu64 " bytes",
                    r->sec->raw_size);
        return -1;
      }
    }
    uint64_t trailing = r->stored_left + (r->in.size - r->in.pos);
    if (trailing > 0) {
      reader_fail(r, "is damaged: %" PRIu64
                  " bytes of trailing data after the compressed data",
                  trailing);
      return -1;
    }
  }
  r->end_checked = 1;
  return 0;
}

struct ckpt_section_reader *ckpt_section_open(struct ckpt_image *img,
                                              size_t index, char *err,
                                              size_t errlen) {
  if (index >= img->num_sections) {
    set_err(err, errlen, "%s: there is no section %zu (the file has %zu)",
            img->path, index, img->num_sections);
    return NULL;
  }
  struct ckpt_section_reader *r = calloc(1, sizeof *r);
  if (!r)
    goto err_nomem;
  r->img = img;
  r->index = index;
  r->sec = &img->sections[index];
  r->stored_left = r->sec->stored_size;
  r->raw_left = r->sec->raw_size;
  r->xxh = XXH64_createState();
  if (!r->xxh)
    goto err_nomem;
  XXH64_reset(r->xxh, 0);
  /* With no stored bytes no chunk will ever come in: check the checksum
   * (of nothing) now; a mismatch fails the first read or the finish. */
  if (r->stored_left == 0)
    (void)reader_hash(r, "", 0);
  if (r->sec->compression == CKPT_COMPRESSION_ZSTD) {
    /* The decoder's window is capped by zstd's default windowLogMax (27,
     * 128 MiB) whatever a damaged frame header claims. */
    r->dctx = ZSTD_createDCtx();
    r->in_cap = r->sec->stored_size < READ_CHUNK_SIZE
                    ? (size_t)r->sec->stored_size
                    : READ_CHUNK_SIZE;
    r->in_buf = r->in_cap ? malloc(r->in_cap) : NULL;
    if (!r->dctx || (r->in_cap && !r->in_buf))
      goto err_nomem;
  }
  return r;

err_nomem:
  set_err(err, errlen, "%s: section %zu (%s): out of memory", img->path,
          index, ckpt_section_type_name(img->sections[index].type));
  ckpt_section_close(r);
  return NULL;
}

static int read_uncompressed(struct ckpt_section_reader *r, uint8_t *buf,
                             size_t len) {
  /* Straight from the file into place: raw and stored bytes are the same. */
  while (len > 0) {
    size_t n = len < READ_CHUNK_SIZE ? len : READ_CHUNK_SIZE;
    if (reader_pread(r, buf, n) < 0)
      return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

static int read_zstd(struct ckpt_section_reader *r, uint8_t *buf, size_t len) {
  ZSTD_outBuffer out = {buf, len, 0};
  while (out.pos < out.size) {
    if (r->frame_done) {
      reader_fail(r, "is damaged: its data ends after %" PRIu64
                  " of %" PRIu64 " bytes",
                  r->sec->raw_size - r->raw_left + out.pos, r->sec->raw_size);
      return -1;
    }
    if (reader_decompress(r, &out) < 0)
      return -1;
  }
  return 0;
}

int ckpt_section_read(struct ckpt_section_reader *r, void *buf, size_t len) {
  if (r->failed)
    return -1;
  if (len > r->raw_left) {
    reader_fail(r, "ends early: %zu bytes wanted at offset %" PRIu64
                ", only %" PRIu64 " left",
                len, r->sec->raw_size - r->raw_left, r->raw_left);
    return -1;
  }
  int rc = r->dctx ? read_zstd(r, buf, len) : read_uncompressed(r, buf, len);
  if (rc < 0)
    return -1;
  r->raw_left -= len;
  if (r->raw_left == 0 && reader_check_end(r) < 0)
    return -1;
  return 0;
}

int ckpt_section_finish(struct ckpt_section_reader *r) {
  if (r->failed)
    return -1;
  if (r->raw_left > 0) {
    reader_fail(r, "has %" PRIu64 " more bytes than were read",
                r->raw_left);
    return -1;
  }
  return reader_check_end(r);
}

uint64_t ckpt_section_remaining(const struct ckpt_section_reader *r) {
  return r->raw_left;
}

const char *ckpt_section_error(const struct ckpt_section_reader *r) {
  return r->err;
}

void ckpt_section_close(struct ckpt_section_reader *r) {
  if (!r)
    return;
  ZSTD_freeDCtx(r->dctx);
  if (r->xxh)
    XXH64_freeState(r->xxh);
  free(r->in_buf);
  free(r);
}

/* The padding after section I (up to the next section or the table) is
 * outside every checksum, so it must at least be zero. */
static int check_padding(struct ckpt_image *img, size_t i, char *err,
                         size_t errlen) {
  const struct ckpt_section_info *s = &img->sections[i];
  uint64_t end = s->offset + s->stored_size;
  size_t pad = (size_t)(align_up(end) - end);
  uint8_t bytes[CKPT_IMAGE_SECTION_ALIGN];
  if (pad == 0)
    return 0;
  if (pread_full(img->fd, bytes, pad, end) < 0) {
    set_err(err, errlen, "%s: read failed: %s", img->path,
            read_error_text(errno));
    return -1;
  }
  if (!all_zero(bytes, pad)) {
    set_err(err, errlen, "%s: the padding after section %zu (%s) is not zero",
            img->path, i, ckpt_section_type_name(s->type));
    return -1;
  }
  return 0;
}

int ckpt_image_verify(struct ckpt_image *img, char *err, size_t errlen) {
  int rc = -1;
  struct ckpt_section_reader *r = NULL;
  uint8_t *scratch = malloc(VERIFY_SCRATCH_SIZE);
  if (!scratch) {
    set_err(err, errlen, "%s: out of memory", img->path);
    goto err;
  }
  for (size_t i = 0; i < img->num_sections; i++) {
    r = ckpt_section_open(img, i, err, errlen);
    if (!r)
      goto err;
    while (ckpt_section_remaining(r) > 0) {
      uint64_t left = ckpt_section_remaining(r);
      size_t n = left < VERIFY_SCRATCH_SIZE ? (size_t)left
                                            : VERIFY_SCRATCH_SIZE;
      if (ckpt_section_read(r, scratch, n) < 0)
        goto err_reader;
    }
    if (ckpt_section_finish(r) < 0)
      goto err_reader;
    ckpt_section_close(r);
    r = NULL;
    if (check_padding(img, i, err, errlen) < 0)
      goto err;
  }
  rc = 0;
  goto out;

err_reader:
  set_err(err, errlen, "%s", ckpt_section_error(r));
err:
out:
  ckpt_section_close(r);
  free(scratch);
  return rc;
}

int ckpt_image_verify_checksums(struct ckpt_image *img, char *err,
                                size_t errlen) {
  /* Hashing the stored bytes runs at memory speed; decompression errors are
   * still caught by whoever reads the sections (zstd's own frame checksums). */
  int rc = -1;
  size_t chunk = 4u << 20;
  uint8_t *buf = malloc(chunk);
  XXH64_state_t *st = XXH64_createState();
  if (!buf || !st) {
    set_err(err, errlen, "%s: out of memory", img->path);
    goto out;
  }
  for (size_t i = 0; i < img->num_sections; i++) {
    const struct ckpt_section_info *s = &img->sections[i];
    XXH64_reset(st, 0);
    for (uint64_t done = 0; done < s->stored_size;) {
      size_t n = s->stored_size - done < chunk ? (size_t)(s->stored_size - done)
                                               : chunk;
      if (pread_full(img->fd, buf, n, s->offset + done) < 0) {
        set_err(err, errlen, "%s: section %zu (%s): read failed: %s",
                img->path, i, ckpt_section_type_name(s->type), strerror(errno));
        goto out;
      }
      XXH64_update(st, buf, n);
      done += n;
    }
    uint64_t h = XXH64_digest(st);
    if (h != s->checksum) {
      set_err(err, errlen,
              "%s: section %zu (%s) is damaged: checksum mismatch (stored "
              "bytes hash to %016llx, the table says %016llx)",
              img->path, i, ckpt_section_type_name(s->type),
              (unsigned long long)h, (unsigned long long)s->checksum);
      goto out;
    }
    if (check_padding(img, i, err, errlen) < 0)
      goto out;
  }
  rc = 0;
out:
  if (st)
    XXH64_freeState(st);
  free(buf);
  return rc;
}

int ckpt_image_verify_mac(struct ckpt_image *img, const uint8_t *key,
                          char *err, size_t errlen) {
  if (!(img->info.flags & CKPT_IMAGE_FLAG_MAC)) {
    set_err(err, errlen,
            "%s: has no MAC (it was written without a key file), but a key "
            "file was given",
            img->path);
    return -1;
  }
  int rc = -1;
  size_t chunk = 4u << 20;
  uint8_t *buf = malloc(chunk);
  crypto_generichash_state *st = aligned_alloc(64, sizeof *st);
  if (!buf || !st || sodium_init() < 0) {
    set_err(err, errlen, "%s: out of memory", img->path);
    goto out;
  }
  crypto_generichash_init(st, key, CKPT_KEY_LEN, CKPT_MAC_LEN);
  /* The order the writer uses: everything after the header, then it. */
  for (uint64_t off = CKPT_IMAGE_HEADER_SIZE; off < img->mac_offset;) {
    size_t n = img->mac_offset - off < chunk ? (size_t)(img->mac_offset - off)
                                             : chunk;
    if (pread_full(img->fd, buf, n, off) < 0) {
      set_err(err, errlen, "%s: read failed: %s", img->path,
              read_error_text(errno));
      goto out;
    }
    crypto_generichash_update(st, buf, n);
    off += n;
  }
  uint8_t mac[CKPT_MAC_LEN], stored[CKPT_MAC_LEN];
  if (pread_full(img->fd, buf, CKPT_IMAGE_HEADER_SIZE, 0) < 0 ||
      pread_full(img->fd, stored, sizeof stored, img->mac_offset) < 0) {
    set_err(err, errlen, "%s: read failed: %s", img->path,
            read_error_text(errno));
    goto out;
  }
  crypto_generichash_update(st, buf, CKPT_IMAGE_HEADER_SIZE);
  crypto_generichash_final(st, mac, sizeof mac);
  if (sodium_memcmp(mac, stored, sizeof mac) != 0) {
    set_err(err, errlen,
            "%s: MAC does not verify with the key file (the file was changed, "
            "or written with another key)",
            img->path);
    goto out;
  }
  rc = 0;
out:
  if (st) {
    sodium_memzero(st, sizeof *st);
    free(st);
  }
  free(buf);
  return rc;
}

int ckpt_image_peek(int dir_fd, const char *name,
                    struct ckpt_image_info *info) {
  int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct ckpt_image img = {.fd = fd, .path = (char *)name};
  uint8_t hdr[CKPT_IMAGE_HEADER_SIZE];
  struct stat st;
  int rc = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      pread_full(fd, hdr, sizeof hdr, 0) == 0 &&
      memcmp(hdr, CKPT_FILE_MAGIC, MAGIC_LEN) == 0 &&
      check_header(&img, hdr, NULL, 0) == 0) {
    *info = img.info;
    rc = 0;
  }
  close(fd);
  return rc;
}
