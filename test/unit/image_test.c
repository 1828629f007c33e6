/* test/unit/image_test.c - the checkpoint container (runtime/image.c): round trips, damaged files, atomic commit. */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "ckpt/abi.h"

/* ---- Test plumbing ------------------------------------------------------ */

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,         \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static char test_root[256]; /* private directory for all files of the test */

/* TEST_ROOT/NAME in a rotating static buffer (several may be live at once). */
static const char *tpath(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static const char *tpath(const char *fmt, ...) {
  static char bufs[8][512];
  static int next;
  char *buf = bufs[next++ % 8];
  int n = snprintf(buf, sizeof bufs[0], "%s/", test_root);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + n, sizeof bufs[0] - (size_t)n, fmt, ap);
  va_end(ap);
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void write_file(const char *path, const void *data, size_t len) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  CHECK(fd >= 0, "%s: %s", path, strerror(errno));
  CHECK(write(fd, data, len) == (ssize_t)len, "%s: short write", path);
  close(fd);
}

static uint8_t *read_whole(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0, "%s: %s", path, strerror(errno));
  struct stat st;
  CHECK(fstat(fd, &st) == 0, "%s", path);
  uint8_t *buf = malloc((size_t)st.st_size + 1);
  CHECK(buf, "out of memory");
  CHECK(read(fd, buf, (size_t)st.st_size) == st.st_size, "%s: short read",
        path);
  close(fd);
  *len = (size_t)st.st_size;
  return buf;
}

/* Names in DIR other than . and .., joined by spaces ("" if none). */
static const char *dir_listing(const char *dir) {
  static char out[4096];
  out[0] = 0;
  DIR *d = opendir(dir);
  CHECK(d, "%s: %s", dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    size_t used = strlen(out);
    snprintf(out + used, sizeof out - used, "%s%s", used ? " " : "",
             e->d_name);
  }
  closedir(d);
  return out;
}

/* DIR/NAME of the one temporary file in DIR (a writer's, unfinished). */
static const char *tmp_in(const char *dir) {
  static char out[1024];
  out[0] = 0;
  DIR *d = opendir(dir);
  CHECK(d, "%s: %s", dir, strerror(errno));
  struct dirent *e;
  uint8_t run[CKPT_RUN_ID_LEN];
  while ((e = readdir(d)))
    if (ckpt_image_parse_tmp_name(e->d_name, run) >= 0) {
      CHECK(!out[0], "two temporary files in %s", dir);
      snprintf(out, sizeof out, "%s/%s", dir, e->d_name);
    }
  closedir(d);
  CHECK(out[0], "no temporary file in %s", dir);
  return out;
}

static const char *make_dir(const char *name) {
  const char *dir = tpath("%s", name);
  CHECK(mkdir(dir, 0755) == 0, "%s: %s", dir, strerror(errno));
  return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* An error must be one line "PATH: problem" containing FRAGMENT. */
static void check_error(const char *err, const char *path,
                        const char *fragment) {
  size_t plen = strlen(path);
  CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':' &&
            err[plen + 1] == ' ',
        "error does not start with \"%s: \": %s", path, err);
  CHECK(!strchr(err, '\n'), "error is not one line: %s", err);
  CHECK(strstr(err, fragment), "error lacks \"%s\": %s", fragment, err);
}

/* The same for an error about the temporary file of DIR/NAME, whose name
 * has a random part: "DIR/NAME.RUNID-RANDOM.tmp: problem". */
static void check_tmp_error(const char *err, const char *path,
                            const char *fragment) {
  size_t plen = strlen(path);
  const char *colon = strstr(err, ": ");
  uint8_t run[CKPT_RUN_ID_LEN];
  char name[600];
  CHECK(colon && strncmp(err, path, plen) == 0 && err[plen] == '.' &&
            (size_t)(colon - err) < sizeof name,
        "error does not name a temporary file of %s: %s", path, err);
  memcpy(name, err, (size_t)(colon - err));
  name[colon - err] = 0;
  CHECK(ckpt_image_parse_tmp_name(strrchr(name, '/') + 1, run) == 1,
        "not a temporary name: %s", name);
  CHECK(!strchr(err, '\n'), "error is not one line: %s", err);
  CHECK(strstr(err, fragment), "error lacks \"%s\": %s", fragment, err);
}

static void expect_open_fails(const char *path, const char *fragment) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = ckpt_image_open(path, err, sizeof err);
  CHECK(!img, "%s opened, expected \"%s\"", path, fragment);
  check_error(err, path, fragment);
}

/* ---- Pattern data ------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Word W of stream SEED: pages (512 words) cycle through zeros, noise,
 * a repeated value and noise, like a heap: about half compresses away. */
static uint64_t pattern_word(uint64_t seed, uint64_t w) {
  uint64_t page = w / 512;
  switch (page % 4) {
  case 0:
    return 0;
  case 2:
    return page * 0x0101010101010101ULL;
  default:
    return splitmix64(seed ^ w);
  }
}

/* Bytes [off, off+len) of stream SEED, at any alignment. */
static void fill_pattern(uint8_t *dst, uint64_t seed, uint64_t off,
                         size_t len) {
  while (len > 0) {
    uint64_t v = pattern_word(seed, off / 8);
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
      bytes[i] = (uint8_t)(v >> (8 * i));
    size_t skip = off % 8;
    size_t n = 8 - skip < len ? 8 - skip : len;
    memcpy(dst, bytes + skip, n);
    dst += n;
    off += n;
    len -= n;
  }
}

static void fill_noise(uint8_t *dst, uint64_t seed, size_t len) {
  for (size_t i = 0; i < len; i++)
    dst[i] = (uint8_t)(splitmix64(seed + i / 8) >> (8 * (i % 8)));
}

/* ---- Writing helpers ---------------------------------------------------- */

static struct ckpt_image_writer *create_or_die(const char *dir,
                                               const char *name,
                                               uint64_t seq, int level) {
  struct ckpt_image_info info = {0};
  info.sequence = seq;
  info.created_ns = 1700000000123456789ULL;
  info.build_id_len = 20;
  for (int i = 0; i < 20; i++)
    info.build_id[i] = (uint8_t)(0xa0 + i);
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image_writer *w =
      ckpt_image_create(dir, name, &info, level, err, sizeof err);
  CHECK(w, "create: %s", err);
  return w;
}

static void put_section(struct ckpt_image_writer *w, uint32_t type,
                        const void *data, size_t len) {
  CHECK(ckpt_image_begin_section(w, type) == 0, "%s", ckpt_image_error(w));
  CHECK(ckpt_image_write(w, data, len) == 0, "%s", ckpt_image_error(w));
  CHECK(ckpt_image_end_section(w) == 0, "%s", ckpt_image_error(w));
}

static void commit_or_die(struct ckpt_image_writer *w) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  CHECK(ckpt_image_commit(w, err, sizeof err) == 0, "commit: %s", err);
}

static struct ckpt_image *open_or_die(const char *path) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = ckpt_image_open(path, err, sizeof err);
  CHECK(img, "open: %s", err);
  return img;
}

static void verify_or_die(struct ckpt_image *img) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  CHECK(ckpt_image_verify(img, err, sizeof err) == 0, "verify: %s", err);
}

/* Read section INDEX whole into fresh memory (small sections only). */
static uint8_t *read_section(struct ckpt_image *img, size_t index,
                             size_t *len) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_section_reader *r = ckpt_section_open(img, index, err, sizeof err);
  CHECK(r, "section open: %s", err);
  *len = (size_t)ckpt_section_remaining(r);
  uint8_t *buf = malloc(*len + 1);
  CHECK(buf, "out of memory");
  CHECK(ckpt_section_read(r, buf, *len) == 0, "%s", ckpt_section_error(r));
  CHECK(ckpt_section_finish(r) == 0, "%s", ckpt_section_error(r));
  ckpt_section_close(r);
  return buf;
}

/* ---- Names -------------------------------------------------------------- */

static void test_names(void) {
  char name[CKPT_IMAGE_NAME_MAX];
  uint64_t seq = 0;
  ckpt_image_name(name, sizeof name, 7);
  CHECK(!strcmp(name, "ckpt-000007.ckpt"), "%s", name);
  CHECK(ckpt_image_parse_name(name, &seq) && seq == 7, "%s", name);
  ckpt_image_name(name, sizeof name, 1234567);
  CHECK(!strcmp(name, "ckpt-1234567.ckpt"), "%s", name);
  CHECK(ckpt_image_parse_name(name, &seq) && seq == 1234567, "%s", name);
  ckpt_image_name(name, sizeof name, UINT64_MAX);
  CHECK(strlen(name) < CKPT_IMAGE_NAME_MAX, "%s", name);
  CHECK(ckpt_image_parse_name(name, &seq) && seq == UINT64_MAX, "%s", name);
  static const char *const bad[] = {
      "ckpt-7.ckpt",          "ckpt-000007.ckpt.tmp", "ckpt-0000007.ckpt",
      "ckpt-000007",          "ckpt-.ckpt",           "xckpt-000007.ckpt",
      "ckpt-00000a.ckpt",     "ckpt-000007.ckptx",    "",
      "ckpt-99999999999999999999.ckpt",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(!ckpt_image_parse_name(bad[i], &seq), "parsed \"%s\"", bad[i]);

  /* Temporary names: the run's id and a random part, never the same. */
  uint8_t run[CKPT_RUN_ID_LEN], back[CKPT_RUN_ID_LEN];
  for (int i = 0; i < CKPT_RUN_ID_LEN; i++)
    run[i] = (uint8_t)(0xf0 + i);
  char t1[CKPT_IMAGE_TMP_NAME_MAX], t2[CKPT_IMAGE_TMP_NAME_MAX];
  CHECK(ckpt_image_tmp_name(t1, sizeof t1, "ckpt-000042.ckpt", run) == 0,
        "tmp name");
  CHECK(ckpt_image_tmp_name(t2, sizeof t2, "ckpt-000042.ckpt", run) == 0,
        "tmp name");
  CHECK(strcmp(t1, t2) != 0, "same temporary name twice: %s", t1);
  CHECK(!strncmp(t1, "ckpt-000042.ckpt.f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff-",
                 50) &&
            strlen(t1) == 50 + 16 + 4 && !strcmp(t1 + 66, ".tmp"),
        "%s", t1);
  CHECK(ckpt_image_parse_tmp_name(t1, back) == 1 &&
            !memcmp(back, run, sizeof run),
        "%s", t1);
  CHECK(!ckpt_image_parse_name(t1, &seq), "%s parsed as a checkpoint", t1);
  CHECK(ckpt_image_parse_tmp_name("ckpt-000042.ckpt.tmp", back) == 0,
        "version 2 temporary");
  static const char *const bad_tmp[] = {
      "ckpt-000042.ckpt", "ckpt-000042.ckpt.x.tmp",
      "ckpt-000042.ckpt.f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff-0123456789abcdeg.tmp",
      "ckpt-000042.ckpt.f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff_0123456789abcdef.tmp",
      ".f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff-0123456789abcdef.tmp",
      "other.tmp"};
  for (size_t i = 0; i < sizeof bad_tmp / sizeof bad_tmp[0]; i++)
    CHECK(ckpt_image_parse_tmp_name(bad_tmp[i], back) < 0, "parsed \"%s\"",
          bad_tmp[i]);

  CHECK(!strcmp(ckpt_section_type_name(CKPT_SEC_HEAP), "HEAP"), "HEAP");
  CHECK(!strcmp(ckpt_section_type_name(CKPT_SEC_RTSTATE), "RTSTATE"), "RT");
  CHECK(!strcmp(ckpt_section_type_name(0), "unknown"), "0");
  CHECK(!strcmp(ckpt_section_type_name(999), "unknown"), "999");
}

/* ---- Round trip --------------------------------------------------------- */

#define BIG_SIZE ((uint64_t)300 << 20)
#define BIG_SEED 0x1234
#define SMALL_SEED 0x5678

/* Odd piece sizes, so no boundary lines up with a buffer or a block. */
static const size_t write_pieces[] = {1,       7,       4095, 65537,
                                      1000003, 3145733, 17,   2097143};
static const size_t read_pieces[] = {13,  999983, 2097153, 1,
                                     4097, 7654321, 65535,   3};
#define PIECE_MAX 7654321

static void test_round_trip(void) {
  const char *dir = make_dir("roundtrip");
  struct ckpt_image_writer *w = create_or_die(dir, "ckpt-000042.ckpt", 42, 1);
  uint8_t *piece = malloc(PIECE_MAX);
  uint8_t *expect = malloc(PIECE_MAX);
  CHECK(piece && expect, "out of memory");

  /* 0: a few bytes in one write. */
  static const char meta[] = "argv\0ckpt\0--flag\0cwd\0/tmp";
  put_section(w, CKPT_SEC_META, meta, sizeof meta);
  /* 1: empty. */
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_FILES) == 0, "begin");
  CHECK(ckpt_image_end_section(w) == 0, "end");
  /* 2: 200000 tiny writes of 0..12 bytes. */
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_GLOBALS) == 0, "begin");
  uint64_t small_size = 0;
  for (int i = 0; i < 200000; i++) {
    size_t n = (size_t)(i % 13);
    fill_pattern(piece, SMALL_SEED, small_size, n);
    CHECK(ckpt_image_write(w, piece, n) == 0, "%s", ckpt_image_error(w));
    small_size += n;
  }
  CHECK(ckpt_image_end_section(w) == 0, "%s", ckpt_image_error(w));
  /* 3: 300 MB in odd pieces; only the library calls are timed. */
  double write_time = 0;
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_HEAP) == 0, "begin");
  for (uint64_t off = 0, i = 0; off < BIG_SIZE; i++) {
    size_t n = write_pieces[i % (sizeof write_pieces / sizeof write_pieces[0])];
    if (n > BIG_SIZE - off)
      n = (size_t)(BIG_SIZE - off);
    fill_pattern(piece, BIG_SEED, off, n);
    double t0 = now_s();
    CHECK(ckpt_image_write(w, piece, n) == 0, "%s", ckpt_image_error(w));
    write_time += now_s() - t0;
    off += n;
  }
  double t0 = now_s();
  CHECK(ckpt_image_end_section(w) == 0, "%s", ckpt_image_error(w));
  write_time += now_s() - t0;
  /* 4: one byte; 5: 5 MB of noise (stored size above one read chunk). */
  put_section(w, CKPT_SEC_RTSTATE, "x", 1);
  size_t noise_len = 5 << 20;
  uint8_t *noise = malloc(noise_len);
  CHECK(noise, "out of memory");
  fill_noise(noise, 99, noise_len);
  put_section(w, CKPT_SEC_THREADS, noise, noise_len);
  t0 = now_s();
  commit_or_die(w);
  double commit_time = now_s() - t0;
  CHECK(!strcmp(dir_listing(dir), "ckpt-000042.ckpt"), "left: %s",
        dir_listing(dir));

  const char *path = tpath("roundtrip/ckpt-000042.ckpt");
  struct ckpt_image *img = open_or_die(path);
  const struct ckpt_image_info *info = ckpt_image_info(img);
  CHECK(info->version == CKPT_FILE_VERSION && info->arch == 62 &&
            info->sequence == 42 &&
            info->created_ns == 1700000000123456789ULL &&
            info->build_id_len == 20 && info->build_id[19] == 0xa0 + 19,
        "info does not round-trip");
  CHECK(ckpt_image_num_sections(img) == 6, "%zu sections",
        ckpt_image_num_sections(img));
  static const uint32_t types[] = {CKPT_SEC_META,    CKPT_SEC_FILES,
                                   CKPT_SEC_GLOBALS, CKPT_SEC_HEAP,
                                   CKPT_SEC_RTSTATE, CKPT_SEC_THREADS};
  const uint64_t raw_sizes[] = {sizeof meta, 0, small_size, BIG_SIZE, 1,
                                noise_len};
  for (size_t i = 0; i < 6; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    CHECK(s->type == types[i] && s->raw_size == raw_sizes[i] &&
              s->compression == CKPT_COMPRESSION_ZSTD && s->offset % 8 == 0,
          "section %zu: type %u raw %" PRIu64, i, s->type, s->raw_size);
  }
  CHECK(ckpt_image_section(img, 6) == NULL, "section 6 exists");
  CHECK(ckpt_image_find(img, CKPT_SEC_HEAP, 0) == 3, "find HEAP");
  CHECK(ckpt_image_find(img, CKPT_SEC_META, 1) == -1, "find META from 1");
  CHECK(ckpt_image_find(img, CKPT_SEC_LAYOUT, 0) == -1, "find LAYOUT");
  double verify_t0 = now_s();
  verify_or_die(img);
  double verify_time = now_s() - verify_t0;

  char err[CKPT_IMAGE_ERRLEN] = "";
  size_t len;
  uint8_t *got = read_section(img, 0, &len);
  CHECK(len == sizeof meta && !memcmp(got, meta, len), "META differs");
  free(got);
  got = read_section(img, 1, &len);
  CHECK(len == 0, "empty section has %zu bytes", len);
  free(got);
  got = read_section(img, 4, &len);
  CHECK(len == 1 && got[0] == 'x', "RTSTATE differs");
  free(got);
  got = read_section(img, 5, &len);
  CHECK(len == noise_len && !memcmp(got, noise, len), "THREADS differs");
  free(got);

  /* The small-write section, read back in other odd pieces. */
  struct ckpt_section_reader *r = ckpt_section_open(img, 2, err, sizeof err);
  CHECK(r, "%s", err);
  for (uint64_t off = 0, i = 0; off < small_size; i++) {
    size_t n = (size_t)(i % 31);
    if (n > small_size - off)
      n = (size_t)(small_size - off);
    CHECK(ckpt_section_read(r, piece, n) == 0, "%s", ckpt_section_error(r));
    fill_pattern(expect, SMALL_SEED, off, n);
    CHECK(!memcmp(piece, expect, n), "GLOBALS differs at %" PRIu64, off);
    off += n;
  }
  CHECK(ckpt_section_finish(r) == 0, "%s", ckpt_section_error(r));
  ckpt_section_close(r);

  /* The big section, interleaved with a second reader on another section
   * (readers share the file descriptor: pread only). */
  double read_time = 0;
  r = ckpt_section_open(img, 3, err, sizeof err);
  struct ckpt_section_reader *r2 = ckpt_section_open(img, 5, err, sizeof err);
  CHECK(r && r2, "%s", err);
  for (uint64_t off = 0, i = 0; off < BIG_SIZE; i++) {
    size_t n = read_pieces[i % (sizeof read_pieces / sizeof read_pieces[0])];
    if (n > BIG_SIZE - off)
      n = (size_t)(BIG_SIZE - off);
    double t1 = now_s();
    CHECK(ckpt_section_read(r, piece, n) == 0, "%s", ckpt_section_error(r));
    read_time += now_s() - t1;
    fill_pattern(expect, BIG_SEED, off, n);
    CHECK(!memcmp(piece, expect, n), "HEAP differs in [%" PRIu64 ", +%zu)",
          off, n);
    off += n;
    CHECK(ckpt_section_remaining(r) == BIG_SIZE - off, "remaining");
    if (i == 5) {
      CHECK(ckpt_section_read(r2, expect, 1000) == 0, "%s",
            ckpt_section_error(r2));
      CHECK(!memcmp(expect, noise, 1000), "THREADS differs");
    }
  }
  CHECK(ckpt_section_finish(r) == 0, "%s", ckpt_section_error(r));
  /* Past the end: "ends early", and the reader stays failed. */
  CHECK(ckpt_section_read(r, piece, 1) == -1, "read past the end");
  check_error(ckpt_section_error(r), path,
              "section 3 (HEAP) ends early: 1 bytes wanted at offset "
              "314572800, only 0 left");
  CHECK(ckpt_section_finish(r) == -1, "finish after a failed read");
  ckpt_section_close(r);
  /* Closing a reader half-way is fine; finishing one is not. */
  CHECK(ckpt_section_finish(r2) == -1, "finish with unread bytes");
  check_error(ckpt_section_error(r2), path,
              "section 5 (THREADS) has 5241880 more bytes than were read");
  ckpt_section_close(r2);
  CHECK(!ckpt_section_open(img, 6, err, sizeof err), "section 6 opened");
  check_error(err, path, "there is no section 6 (the file has 6)");

  const struct ckpt_section_info *big = ckpt_image_section(img, 3);
  fprintf(stderr,
          "image_test: 300 MiB section at zstd level 1: stored %.1f MiB; "
          "write %.0f MB/s, read %.0f MB/s, verify of the whole file %.0f "
          "MB/s; commit (table, fsync, rename) %.2f s\n",
          (double)big->stored_size / (1 << 20),
          (double)BIG_SIZE / 1e6 / write_time,
          (double)BIG_SIZE / 1e6 / read_time,
          (double)BIG_SIZE / 1e6 / verify_time, commit_time);
  ckpt_image_close(img);
  remove_tree(dir);
  free(noise);
  free(piece);
  free(expect);
}

/* Levels out of range, zstd worker threads, the write-delay test hook. */
static void test_levels_and_env(void) {
  const char *dir = make_dir("levels");
  size_t len = 9 << 20;
  uint8_t *data = malloc(len);
  CHECK(data, "out of memory");
  fill_pattern(data, 77, 0, len);
  static const int levels[] = {-5, 0, 3, 19, 1000};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    struct ckpt_image_writer *w = create_or_die(dir, "lv.ckpt", 1, levels[i]);
    /* The slow levels get less data. */
    size_t n = levels[i] >= 19 ? len / 64 : len;
    put_section(w, CKPT_SEC_HEAP, data, n);
    commit_or_die(w);
    struct ckpt_image *img = open_or_die(tpath("levels/lv.ckpt"));
    verify_or_die(img);
    size_t got_len;
    uint8_t *got = read_section(img, 0, &got_len);
    CHECK(got_len == n && !memcmp(got, data, got_len),
          "level %d differs", levels[i]);
    free(got);
    ckpt_image_close(img);
  }

  setenv("CKPT_ZSTD_WORKERS", "2", 1);
  struct ckpt_image_writer *w = create_or_die(dir, "mt.ckpt", 1, 1);
  unsetenv("CKPT_ZSTD_WORKERS");
  put_section(w, CKPT_SEC_HEAP, data, len);
  put_section(w, CKPT_SEC_META, "m", 1);
  commit_or_die(w);
  struct ckpt_image *img = open_or_die(tpath("levels/mt.ckpt"));
  verify_or_die(img);
  size_t got_len;
  uint8_t *got = read_section(img, 0, &got_len);
  CHECK(got_len == len && !memcmp(got, data, len), "threaded zstd differs");
  free(got);
  ckpt_image_close(img);

  /* 9 MiB of mostly noise fills the 4 MiB output buffer at least once. */
  setenv("CKPT_TEST_WRITE_DELAY_MS", "60", 1);
  double t0 = now_s();
  w = create_or_die(dir, "slow.ckpt", 1, 1);
  unsetenv("CKPT_TEST_WRITE_DELAY_MS");
  fill_noise(data, 5, len);
  put_section(w, CKPT_SEC_HEAP, data, len);
  commit_or_die(w);
  double elapsed = now_s() - t0;
  CHECK(elapsed >= 0.12, "write delay hook: only %.3f s", elapsed);
  img = open_or_die(tpath("levels/slow.ckpt"));
  verify_or_die(img);
  ckpt_image_close(img);
  free(data);
  remove_tree(dir);
}

/* ---- Damaged files ------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Header offsets, as docs/format.md specifies them. */
enum {
  H_VERSION = 8,
  H_HEADER_SIZE = 12,
  H_ARCH = 16,
  H_FLAGS = 20,
  H_BUILD_ID_LEN = 40,
  H_COUNT = 76,
  H_TABLE_OFFSET = 80,
  H_TABLE_SUM = 88,
  H_HEADER_SUM = 96,
  H_RUN_ID = 104,
  H_RESERVED = 120,
};

/* Recompute the checksums of a file image after editing it, so that the
 * structural checks behind them get exercised. */
static void reseal(uint8_t *file, size_t len) {
  uint64_t table_offset = get64(file + H_TABLE_OFFSET);
  uint64_t table_size = (uint64_t)get32(file + H_COUNT) * 40;
  if (table_offset <= len && table_size <= len - table_offset)
    put64(file + H_TABLE_SUM, XXH64(file + table_offset, table_size, 0));
  put64(file + H_HEADER_SUM, 0);
  put64(file + H_HEADER_SUM, XXH64(file, 128, 0));
}

struct craft_section {
  uint32_t type, compression;
  const void *stored;
  size_t stored_len;
  uint64_t raw_size;
};

/* A well-formed file image made by hand, bypassing the writer. */
static uint8_t *craft(const struct craft_section *secs, size_t n,
                      size_t *len) {
  size_t size = 128;
  for (size_t i = 0; i < n; i++)
    size = (size + secs[i].stored_len + 7) & ~(size_t)7;
  size_t table_offset = size;
  size += n * 40;
  uint8_t *file = calloc(1, size + 64); /* slack for tests that append */
  CHECK(file, "out of memory");
  memcpy(file, CKPT_FILE_MAGIC, 8);
  put32(file + H_VERSION, CKPT_FILE_VERSION);
  put32(file + H_HEADER_SIZE, 128);
  put32(file + H_ARCH, 62);
  put32(file + H_COUNT, (uint32_t)n);
  put64(file + H_TABLE_OFFSET, table_offset);
  size_t off = 128;
  for (size_t i = 0; i < n; i++) {
    uint8_t *ent = file + table_offset + i * 40;
    memcpy(file + off, secs[i].stored, secs[i].stored_len);
    put32(ent, secs[i].type);
    put32(ent + 4, secs[i].compression);
    put64(ent + 8, off);
    put64(ent + 16, secs[i].stored_len);
    put64(ent + 24, secs[i].raw_size);
    put64(ent + 32, XXH64(secs[i].stored, secs[i].stored_len, 0));
    off = (off + secs[i].stored_len + 7) & ~(size_t)7;
  }
  reseal(file, size);
  *len = size;
  return file;
}

/* Open must pass and verify fail with FRAGMENT. */
static void expect_verify_fails(const char *path, const char *fragment) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = open_or_die(path);
  CHECK(ckpt_image_verify(img, err, sizeof err) == -1,
        "%s verified, expected \"%s\"", path, fragment);
  check_error(err, path, fragment);
  ckpt_image_close(img);
}

static uint8_t *zstd_frame(const void *data, size_t len, size_t *out_len) {
  size_t cap = ZSTD_compressBound(len);
  uint8_t *out = malloc(cap);
  CHECK(out, "out of memory");
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  *out_len = ZSTD_compress2(cctx, out, cap, data, len);
  CHECK(!ZSTD_isError(*out_len), "zstd");
  ZSTD_freeCCtx(cctx);
  return out;
}

static void test_crafted(void) {
  const char *path = tpath("crafted.ckpt");
  static const char raw[] = "uncompressed section bytes";
  uint8_t text[100];
  for (size_t i = 0; i < sizeof text; i++)
    text[i] = (uint8_t)('a' + i % 26);
  size_t frame_len;
  uint8_t *frame = zstd_frame(text, sizeof text, &frame_len);

  /* The reader accepts compression 0 and sections of unknown types. */
  struct craft_section ok[] = {
      {CKPT_SEC_META, CKPT_COMPRESSION_NONE, raw, sizeof raw, sizeof raw},
      {1000, CKPT_COMPRESSION_ZSTD, frame, frame_len, sizeof text},
      {CKPT_SEC_FILES, CKPT_COMPRESSION_NONE, "", 0, 0},
  };
  size_t len;
  uint8_t *file = craft(ok, 3, &len);
  write_file(path, file, len);
  struct ckpt_image *img = open_or_die(path);
  verify_or_die(img);
  size_t got_len;
  uint8_t *got = read_section(img, 0, &got_len);
  CHECK(got_len == sizeof raw && !memcmp(got, raw, got_len), "raw section");
  free(got);
  got = read_section(img, 1, &got_len);
  CHECK(got_len == sizeof text && !memcmp(got, text, got_len), "type 1000");
  free(got);
  ckpt_image_close(img);
  uint64_t table_offset = get64(file + H_TABLE_OFFSET);
  uint8_t *ent0 = file + table_offset, *ent1 = ent0 + 40;
  free(file);

#define CRAFT_CASE(secs, n, edit, check, fragment)                             \
  do {                                                                         \
    file = craft(secs, n, &len);                                               \
    table_offset = get64(file + H_TABLE_OFFSET);                               \
    ent0 = file + table_offset;                                                \
    ent1 = ent0 + 40;                                                          \
    (void)ent1;                                                                \
    edit;                                                                      \
    reseal(file, len);                                                         \
    write_file(path, file, len);                                               \
    check(path, fragment);                                                     \
    free(file);                                                                \
  } while (0)

  /* Header fields. */
  CRAFT_CASE(ok, 3, put32(file + H_VERSION, 0), expect_open_fails,
             "invalid format version 0");
  CRAFT_CASE(ok, 3, put32(file + H_VERSION, 7), expect_open_fails,
             "format version 7 is newer than this ckpt supports (6)");
  CRAFT_CASE(ok, 3, put32(file + H_HEADER_SIZE, 256), expect_open_fails,
             "header size 256 (expected 128)");
  CRAFT_CASE(ok, 3, put32(file + H_ARCH, 183), expect_open_fails,
             "checkpoint of another architecture (ELF machine 183, this is "
             "62)");
  CRAFT_CASE(ok, 3, put32(file + H_FLAGS, 6), expect_open_fails,
             "unknown header flags 0x6");
  /* A MAC announced but missing, and a version 2 file with a run id. */
  CRAFT_CASE(ok, 3, put32(file + H_FLAGS, 1), expect_open_fails,
             "truncated");
  CRAFT_CASE(ok, 3, (put32(file + H_VERSION, 2), file[H_RUN_ID] = 1),
             expect_open_fails, "reserved header bytes are not zero");
  CRAFT_CASE(ok, 3, (put32(file + H_VERSION, 2), put32(file + H_FLAGS, 1)),
             expect_open_fails, "unknown header flags 0x1");
  CRAFT_CASE(ok, 3, put32(file + H_BUILD_ID_LEN, 33), expect_open_fails,
             "build-id length 33 (at most 32)");
  CRAFT_CASE(ok, 3, file[H_RESERVED + 7] = 1, expect_open_fails,
             "reserved header bytes are not zero");
  CRAFT_CASE(ok, 3, file[44 + 31] = 1, expect_open_fails,
             "reserved header bytes are not zero");
  /* The table's place and size, with overflowing arithmetic. */
  CRAFT_CASE(ok, 3, put64(file + H_TABLE_OFFSET, 64), expect_open_fails,
             "section table offset 64 is invalid");
  CRAFT_CASE(ok, 3, put64(file + H_TABLE_OFFSET, UINT64_MAX - 39),
             expect_open_fails,
             "section table offset 18446744073709551576 is invalid");
  char frag[200];
  snprintf(frag, sizeof frag, "truncated (%zu bytes, expected at least %" PRIu64
           ")", len, table_offset + (uint64_t)0xffffffff * 40);
  CRAFT_CASE(ok, 3, put32(file + H_COUNT, 0xffffffff), expect_open_fails,
             frag);
  CRAFT_CASE(ok, 3, len += 8, expect_open_fails,
             "8 bytes of unexpected data after the section table");
  /* Table entries. */
  CRAFT_CASE(ok, 3, put32(ent0 + 4, 7), expect_open_fails,
             "section 0 (META) has unknown compression 7");
  CRAFT_CASE(ok, 3, put64(ent1 + 8, get64(ent1 + 8) + 8), expect_open_fails,
             "section 1 (unknown) is at offset");
  CRAFT_CASE(ok, 3, put64(ent0 + 16, UINT64_MAX), expect_open_fails,
             "section 0 (META) of 18446744073709551615 bytes at offset 128 "
             "runs into the section table");
  CRAFT_CASE(ok, 3, put64(ent0 + 24, 5), expect_open_fails,
             "section 0 (META) is uncompressed but its raw size 5 differs "
             "from its stored size 27");
  CRAFT_CASE(ok, 3, put64(ent1 + 24, (uint64_t)1 << 60), expect_open_fails,
             "raw bytes from only");
  CRAFT_CASE(ok, 2, put64(file + H_TABLE_OFFSET, table_offset + 8);
             memmove(ent0 + 8, ent0, 80); len += 8, expect_open_fails,
             "does not follow the last section");
  CRAFT_CASE(ok, 3, put64(ent0 + 80 + 32, 1), expect_verify_fails,
             "section 2 (FILES) is damaged: checksum mismatch");
  /* Padding between sections is checked by verify. */
  CRAFT_CASE(ok, 3, file[128 + sizeof raw] = 1, expect_verify_fails,
             "the padding after section 0 (META) is not zero");
  /* Lies about the raw size, caught while decompressing. */
  CRAFT_CASE(ok, 3, put64(ent1 + 24, 150), expect_verify_fails,
             "section 1 (unknown) is damaged: its data ends after 100 of 150 "
             "bytes");
  CRAFT_CASE(ok, 3, put64(ent1 + 24, 50), expect_verify_fails,
             "section 1 (unknown) is damaged: it holds more than its raw "
             "size of 50 bytes");

  /* Two frames where one belongs; a frame cut short; no frame at all. */
  uint8_t two[512];
  memcpy(two, frame, frame_len);
  memcpy(two + frame_len, frame, frame_len);
  struct craft_section twice[] = {
      {CKPT_SEC_HEAP, CKPT_COMPRESSION_ZSTD, two, 2 * frame_len, sizeof text}};
  snprintf(frag, sizeof frag,
           "section 0 (HEAP) is damaged: %zu bytes of trailing data", frame_len);
  CRAFT_CASE(twice, 1, (void)0, expect_verify_fails, frag);
  struct craft_section cut[] = {
      {CKPT_SEC_HEAP, CKPT_COMPRESSION_ZSTD, frame, frame_len - 5, sizeof text}};
  CRAFT_CASE(cut, 1, (void)0, expect_verify_fails,
             "section 0 (HEAP) is damaged: the compressed data ends early");
  struct craft_section empty[] = {
      {CKPT_SEC_HEAP, CKPT_COMPRESSION_ZSTD, "", 0, 0}};
  CRAFT_CASE(empty, 1, (void)0, expect_verify_fails,
             "section 0 (HEAP) is damaged: the compressed data ends early");
  /* Garbage with a correct checksum reaches zstd, which must refuse it. */
  uint8_t junk[64];
  fill_noise(junk, 3, sizeof junk);
  struct craft_section garbage[] = {
      {CKPT_SEC_HEAP, CKPT_COMPRESSION_ZSTD, junk, sizeof junk, 1000}};
  CRAFT_CASE(garbage, 1, (void)0, expect_verify_fails,
             "section 0 (HEAP) is damaged: zstd: ");
#undef CRAFT_CASE
  free(frame);
  unlink(path);
}

/* A small but complete checkpoint for the damage tests. */
static uint8_t *small_checkpoint(const char *dir, const char *name,
                                 size_t *len) {
  struct ckpt_image_writer *w = create_or_die(dir, name, 3, 1);
  static const char meta[] = "a META section of 45 bytes, not 8-aligned";
  put_section(w, CKPT_SEC_META, meta, sizeof meta);
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_FILES) == 0, "begin");
  CHECK(ckpt_image_end_section(w) == 0, "end");
  uint8_t *data = malloc(200000);
  CHECK(data, "out of memory");
  fill_noise(data, 11, 3001);
  put_section(w, CKPT_SEC_GLOBALS, data, 3001);
  fill_pattern(data, 12, 0, 200000);
  put_section(w, CKPT_SEC_HEAP, data, 200000);
  put_section(w, CKPT_SEC_RTSTATE, "state", 5);
  free(data);
  commit_or_die(w);
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return read_whole(path, len);
}

static void test_damage(void) {
  const char *dir = make_dir("damage");
  size_t size;
  uint8_t *orig = small_checkpoint(dir, "good.ckpt", &size);
  const char *path = tpath("damage/bad.ckpt");
  uint64_t table_offset = get64(orig + H_TABLE_OFFSET);
  uint32_t count = get32(orig + H_COUNT);
  CHECK(count == 5 && table_offset + count * 40 == size, "layout");
  char frag[200];

  /* Empty and truncated files. */
  write_file(path, "", 0);
  expect_open_fails(path, "empty file");
  uint64_t seed = 1;
  for (size_t cut = 1; cut < size; cut++) {
    int in_data = cut > 128 && cut < table_offset;
    if (in_data && (seed = splitmix64(seed)) % 64 != 0)
      continue; /* every byte of header and table, 1/64 of the data */
    write_file(path, orig, cut);
    if (cut < 128)
      snprintf(frag, sizeof frag,
               "truncated (%zu bytes, expected at least 128)", cut);
    else
      snprintf(frag, sizeof frag,
               "truncated (%zu bytes, expected at least %zu)", cut, size);
    expect_open_fails(path, frag);
  }

  /* Single flipped bits: every bit of header, table and padding, random
   * bits of the data. Each must fail open or verify, with the right kind of
   * message. */
  write_file(path, orig, size);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  CHECK(fd >= 0, "%s", path);
  const uint8_t *table = orig + table_offset;
  int flips = 0;
  for (uint64_t bit = 0; bit < (uint64_t)size * 8; bit++) {
    size_t at = (size_t)(bit / 8);
    const char *want = NULL; /* expected fragment, NULL: any open failure */
    int must_fail_open = 0;
    if (at < 128) {
      must_fail_open = 1;
    } else if (at >= table_offset) {
      must_fail_open = 1;
      want = "section table checksum mismatch";
    } else {
      /* Which section's stored bytes or padding is this? */
      for (uint32_t i = 0; i < count; i++) {
        uint64_t off = get64(table + i * 40 + 8);
        uint64_t end = off + get64(table + i * 40 + 16);
        uint64_t next = i + 1 < count ? get64(table + (i + 1) * 40 + 8)
                                      : table_offset;
        if (at >= off && at < end) {
          /* Small sections: the checksum is checked before zstd runs. */
          want = "is damaged: checksum mismatch";
          if ((seed = splitmix64(seed)) % 512 != 0)
            want = NULL; /* a sample of the data bits: ~1500 */
        } else if (at >= end && at < next) {
          want = "is not zero";
        }
      }
      if (!want)
        continue;
    }
    uint8_t byte = orig[at] ^ (uint8_t)(1u << (bit % 8));
    CHECK(pwrite(fd, &byte, 1, (off_t)at) == 1, "pwrite");
    char err[CKPT_IMAGE_ERRLEN] = "";
    struct ckpt_image *img = ckpt_image_open(path, err, sizeof err);
    if (img) {
      CHECK(!must_fail_open, "bit %" PRIu64 " flipped: open passed", bit);
      CHECK(ckpt_image_verify(img, err, sizeof err) == -1,
            "bit %" PRIu64 " flipped: verify passed", bit);
      ckpt_image_close(img);
    }
    check_error(err, path, want ? want : "");
    if (at < 128 && (at < 8 || at >= 16))
      check_error(err, path,
                  at < 8 ? "not a ckpt checkpoint file"
                         : "header checksum mismatch");
    CHECK(pwrite(fd, &orig[at], 1, (off_t)at) == 1, "pwrite");
    flips++;
  }
  close(fd);
  CHECK(flips > 3500, "only %d flips", flips);

  /* Foreign files. */
  expect_open_fails("/proc/self/exe", "not a ckpt checkpoint file");
  write_file(path, "hi\n", 3);
  expect_open_fails(path, "not a ckpt checkpoint file");
  write_file(path, "CKP", 3);
  expect_open_fails(path, "truncated (3 bytes, expected at least 128)");
  expect_open_fails(dir, "not a regular file");
  expect_open_fails(tpath("damage/missing.ckpt"),
                    "cannot open: No such file or directory");

  /* Newer version, checksum intact or not. */
  uint8_t *copy = malloc(size);
  CHECK(copy, "out of memory");
  memcpy(copy, orig, size);
  put32(copy + H_VERSION, 7);
  write_file(path, copy, size);
  expect_open_fails(path,
                    "format version 7 is newer than this ckpt supports (6)");
  reseal(copy, size);
  write_file(path, copy, size);
  expect_open_fails(path,
                    "format version 7 is newer than this ckpt supports (6)");
  free(copy);
  free(orig);
  remove_tree(dir);
}

/* Bit flips in a section bigger than one read chunk reach zstd before the
 * checksum can be compared: zstd's own checks or the final XXH64 catch them. */
static void test_damage_big_section(void) {
  const char *dir = make_dir("damage-big");
  struct ckpt_image_writer *w = create_or_die(dir, "big.ckpt", 1, 1);
  size_t len = 12 << 20;
  uint8_t *data = malloc(len);
  CHECK(data, "out of memory");
  fill_noise(data, 21, len);
  put_section(w, CKPT_SEC_HEAP, data, len);
  free(data);
  commit_or_die(w);
  const char *path = tpath("damage-big/big.ckpt");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  CHECK(fd >= 0, "%s", path);
  uint64_t seed = 7;
  for (int i = 0; i < 12; i++) {
    seed = splitmix64(seed);
    /* Spread over the section, including its first chunk. */
    off_t at = 128 + (off_t)(seed % (len - 64));
    uint8_t byte, flipped;
    CHECK(pread(fd, &byte, 1, at) == 1, "pread");
    flipped = byte ^ (uint8_t)(1u << (seed >> 60 & 7));
    CHECK(pwrite(fd, &flipped, 1, at) == 1, "pwrite");
    expect_verify_fails(path, "section 0 (HEAP) is damaged: ");
    CHECK(pwrite(fd, &byte, 1, at) == 1, "pwrite");
  }
  close(fd);
  struct ckpt_image *img = open_or_die(path);
  verify_or_die(img);
  ckpt_image_close(img);
  remove_tree(dir);
}

/* ---- Writer failures and atomicity -------------------------------------- */

static void test_abort(void) {
  const char *dir = make_dir("abort");
  struct ckpt_image_writer *w = create_or_die(dir, "a.ckpt", 1, 1);
  CHECK(!strncmp(tmp_in(dir), tpath("abort/a.ckpt."), strlen(tpath("abort/a.ckpt."))),
        "%s", dir_listing(dir));
  ckpt_image_abort(w);
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));

  w = create_or_die(dir, "a.ckpt", 1, 1);
  uint8_t data[100000];
  fill_noise(data, 1, sizeof data);
  put_section(w, CKPT_SEC_META, data, sizeof data);
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_HEAP) == 0, "begin");
  CHECK(ckpt_image_write(w, data, sizeof data) == 0, "write");
  ckpt_image_abort(w); /* with a section open */
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));
  ckpt_image_abort(NULL);

  /* Misuse is an error like any other: reported, nothing left behind. */
  char err[CKPT_IMAGE_ERRLEN] = "", tmp[1024];
  w = create_or_die(dir, "a.ckpt", 1, 1);
  snprintf(tmp, sizeof tmp, "%s", tmp_in(dir));
  CHECK(ckpt_image_write(w, "x", 1) == -1, "write outside a section");
  check_error(ckpt_image_error(w), tmp, "write outside a section");
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_META) == -1, "sticky failure");
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit after misuse");
  check_error(err, tmp, "write outside a section");
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));
  w = create_or_die(dir, "a.ckpt", 1, 1);
  snprintf(tmp, sizeof tmp, "%s", tmp_in(dir));
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_META) == 0, "begin");
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit, section open");
  check_error(err, tmp, "commit while section 0 is still open");
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));
  w = create_or_die(dir, "a.ckpt", 1, 1);
  CHECK(ckpt_image_end_section(w) == -1, "end without begin");
  ckpt_image_abort(w);

  CHECK(!ckpt_image_create(dir, "a/b", NULL, 1, err, sizeof err), "a/b");
  CHECK(strstr(err, "invalid checkpoint file name"), "%s", err);
  CHECK(!ckpt_image_create(tpath("nonexistent"), "a.ckpt", NULL, 1, err,
                           sizeof err),
        "no directory");
  check_error(err, tpath("nonexistent"),
              "cannot open directory: No such file or directory");
  remove_tree(dir);
}

/* Committing over an existing checkpoint: until the rename the old file is
 * whole under its name; afterwards the new one is, and readers of the old
 * one keep reading it. */
static void test_replace(void) {
  const char *dir = make_dir("replace");
  const char *path = tpath("replace/ckpt-000001.ckpt");
  struct ckpt_image_writer *w = create_or_die(dir, "ckpt-000001.ckpt", 1, 1);
  put_section(w, CKPT_SEC_META, "old", 3);
  commit_or_die(w);
  struct ckpt_image *old_img = open_or_die(path);

  w = create_or_die(dir, "ckpt-000001.ckpt", 2, 1);
  size_t len = 6 << 20;
  uint8_t *data = malloc(len);
  CHECK(data, "out of memory");
  fill_noise(data, 2, len);
  put_section(w, CKPT_SEC_META, "new", 3);
  put_section(w, CKPT_SEC_HEAP, data, len); /* partly on disk by now */
  struct ckpt_image *mid = open_or_die(path);
  CHECK(ckpt_image_info(mid)->sequence == 1, "replaced before commit");
  verify_or_die(mid);
  ckpt_image_close(mid);
  /* The unfinished file is not mistaken for a checkpoint. */
  expect_open_fails(tmp_in(dir), "not a ckpt checkpoint file");
  commit_or_die(w);
  CHECK(!strcmp(dir_listing(dir), "ckpt-000001.ckpt"), "left: %s",
        dir_listing(dir));

  struct ckpt_image *new_img = open_or_die(path);
  CHECK(ckpt_image_info(new_img)->sequence == 2, "not replaced");
  verify_or_die(new_img);
  size_t got_len;
  uint8_t *got = read_section(new_img, 0, &got_len);
  CHECK(got_len == 3 && !memcmp(got, "new", 3), "new META");
  free(got);
  got = read_section(old_img, 0, &got_len);
  CHECK(got_len == 3 && !memcmp(got, "old", 3), "old META");
  free(got);
  verify_or_die(old_img);
  ckpt_image_close(old_img);
  ckpt_image_close(new_img);

  /* A rename that fails (the name is a non-empty directory) is reported,
   * and the temporary file goes. */
  const char *blocker = make_dir("replace/blocked.ckpt");
  write_file(tpath("replace/blocked.ckpt/file"), "x", 1);
  w = create_or_die(dir, "blocked.ckpt", 1, 1);
  put_section(w, CKPT_SEC_META, "m", 1);
  char err[CKPT_IMAGE_ERRLEN] = "", tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", tmp_in(dir));
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit over a dir");
  check_error(err, tmp, "cannot rename to blocked.ckpt: ");
  CHECK(!strcmp(dir_listing(dir), "ckpt-000001.ckpt blocked.ckpt") ||
            !strcmp(dir_listing(dir), "blocked.ckpt ckpt-000001.ckpt"),
        "left: %s", dir_listing(dir));
  (void)blocker;
  free(data);
  remove_tree(dir);
}

/* Keyed MAC: verifies with its key only; any changed byte, even with every
 * checksum fixed up, fails; a file without one is named as such. */
static void test_mac(void) {
  const char *dir = make_dir("mac");
  uint8_t key[CKPT_KEY_LEN], other[CKPT_KEY_LEN];
  for (int i = 0; i < CKPT_KEY_LEN; i++) {
    key[i] = (uint8_t)i;
    other[i] = (uint8_t)(i + 1);
  }
  struct ckpt_image_info info = {0};
  info.sequence = 5;
  for (int i = 0; i < CKPT_RUN_ID_LEN; i++)
    info.run_id[i] = (uint8_t)(0x30 + i);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  CHECK(dfd >= 0, "%s", dir);
  struct ckpt_image_options opts = {.zstd_level = 1, .mac_key = key};
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image_writer *w = ckpt_image_create_at(
      dfd, dir, "ckpt-000005.ckpt", &info, &opts, err, sizeof err);
  CHECK(w, "create: %s", err);
  uint8_t *data = malloc(5 << 20);
  CHECK(data, "out of memory");
  fill_noise(data, 9, 5 << 20); /* more than one write buffer */
  put_section(w, CKPT_SEC_META, "meta", 4);
  put_section(w, CKPT_SEC_HEAP, data, 5 << 20);
  commit_or_die(w);
  const char *path = tpath("mac/ckpt-000005.ckpt");
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o",
        (unsigned)st.st_mode);

  struct ckpt_image *img = open_or_die(path);
  const struct ckpt_image_info *got = ckpt_image_info(img);
  CHECK(got->flags == CKPT_IMAGE_FLAG_MAC && got->version == CKPT_FILE_VERSION &&
            !memcmp(got->run_id, info.run_id, CKPT_RUN_ID_LEN),
        "header fields");
  CHECK(ckpt_image_verify_mac(img, key, err, sizeof err) == 0, "%s", err);
  CHECK(ckpt_image_verify_mac(img, other, err, sizeof err) == -1,
        "another key verified");
  check_error(err, path, "MAC does not verify");
  verify_or_die(img);
  ckpt_image_close(img);
  struct ckpt_image_info peek;
  CHECK(ckpt_image_peek(dfd, "ckpt-000005.ckpt", &peek) == 0 &&
            peek.sequence == 5 &&
            !memcmp(peek.run_id, info.run_id, CKPT_RUN_ID_LEN),
        "peek");

  /* One changed byte anywhere: in a section (checksums resealed), in the
   * header's creation time (header checksum resealed), in the MAC. */
  size_t size;
  uint8_t *orig = read_whole(path, &size);
  const size_t spots[] = {130, 200000, 24, size - 1};
  for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
    uint8_t *copy = malloc(size);
    CHECK(copy, "out of memory");
    memcpy(copy, orig, size);
    copy[spots[k]] ^= 0x40;
    if (spots[k] >= 128 && spots[k] < size - CKPT_MAC_LEN) {
      /* Fix the section's checksum in the table too. */
      uint64_t toff = get64(copy + H_TABLE_OFFSET);
      for (uint32_t i = 0; i < get32(copy + H_COUNT); i++) {
        uint8_t *ent = copy + toff + i * 40;
        uint64_t off = get64(ent + 8), len = get64(ent + 16);
        if (spots[k] >= off && spots[k] < off + len)
          put64(ent + 32, XXH64(copy + off, len, 0));
      }
    }
    reseal(copy, size);
    const char *bad = tpath("mac/bad.ckpt");
    write_file(bad, copy, size);
    img = open_or_die(bad);
    CHECK(ckpt_image_verify_checksums(img, err, sizeof err) == 0 ||
              spots[k] == 200000,
          "checksums of spot %zu: %s", spots[k], err);
    CHECK(ckpt_image_verify_mac(img, key, err, sizeof err) == -1,
          "a file changed at %zu verified", spots[k]);
    check_error(err, bad, "MAC does not verify");
    ckpt_image_close(img);
    free(copy);
  }
  free(orig);

  /* Without a MAC. */
  w = create_or_die(dir, "plain.ckpt", 1, 1);
  put_section(w, CKPT_SEC_META, "m", 1);
  commit_or_die(w);
  img = open_or_die(tpath("mac/plain.ckpt"));
  CHECK(ckpt_image_info(img)->flags == 0, "flags");
  CHECK(ckpt_image_verify_mac(img, key, err, sizeof err) == -1, "no MAC");
  check_error(err, tpath("mac/plain.ckpt"), "has no MAC");
  ckpt_image_close(img);

  /* A name planted where the temporary file goes is never followed or
   * reused: a symbolic link, or a file someone else created. */
  char tmp[CKPT_IMAGE_TMP_NAME_MAX];
  CHECK(ckpt_image_tmp_name(tmp, sizeof tmp, "ckpt-000009.ckpt",
                            info.run_id) == 0,
        "tmp");
  write_file(tpath("mac/target"), "precious", 8);
  CHECK(symlink("target", tpath("mac/%s", tmp)) == 0, "symlink");
  opts = (struct ckpt_image_options){.zstd_level = 1, .tmp_name = tmp};
  w = ckpt_image_create_at(dfd, dir, "ckpt-000009.ckpt", &info, &opts, err,
                           sizeof err);
  CHECK(!w, "created through a planted symbolic link");
  CHECK(strstr(err, "cannot create: File exists"), "%s", err);
  size_t tlen;
  uint8_t *target = read_whole(tpath("mac/target"), &tlen);
  CHECK(tlen == 8 && !memcmp(target, "precious", 8), "target changed");
  free(target);
  unlink(tpath("mac/%s", tmp));
  write_file(tpath("mac/%s", tmp), "", 0);
  w = ckpt_image_create_at(dfd, dir, "ckpt-000009.ckpt", &info, &opts, err,
                           sizeof err);
  CHECK(!w, "reused a planted file");
  close(dfd);
  free(data);
  remove_tree(dir);
}

/* A write error in the middle (here EFBIG from RLIMIT_FSIZE, as ENOSPC would
 * be on a full disk) names the file and the reason and removes the file. */
static void test_write_error(void) {
  const char *dir = make_dir("fsize");
  struct rlimit old_limit, limit;
  CHECK(getrlimit(RLIMIT_FSIZE, &old_limit) == 0, "getrlimit");
  signal(SIGXFSZ, SIG_IGN);
  limit = old_limit;
  limit.rlim_cur = 1 << 20;
  CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0, "setrlimit");

  struct ckpt_image_writer *w = create_or_die(dir, "x.ckpt", 1, 1);
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", tmp_in(dir));
  size_t len = 16 << 20;
  uint8_t *data = malloc(len);
  CHECK(data, "out of memory");
  fill_noise(data, 4, len);
  CHECK(ckpt_image_begin_section(w, CKPT_SEC_HEAP) == 0, "begin");
  int rc = 0;
  for (size_t off = 0; off < len && rc == 0; off += 1 << 20)
    rc = ckpt_image_write(w, data + off, 1 << 20);
  CHECK(rc == -1, "16 MiB written under a 1 MiB limit");
  check_error(ckpt_image_error(w), tmp, "write failed: File too large");
  /* Already gone, before commit. */
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));
  CHECK(ckpt_image_end_section(w) == -1, "sticky failure");
  char err[CKPT_IMAGE_ERRLEN] = "";
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit");
  check_error(err, tmp, "write failed: File too large");
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));

  /* Failing in commit: 2 MiB still sit in the output buffer. */
  w = create_or_die(dir, "y.ckpt", 1, 1);
  snprintf(tmp, sizeof tmp, "%s", tmp_in(dir));
  put_section(w, CKPT_SEC_HEAP, data, 2 << 20);
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit");
  check_error(err, tmp, "write failed: File too large");
  CHECK(!strcmp(dir_listing(dir), ""), "left: %s", dir_listing(dir));

  CHECK(setrlimit(RLIMIT_FSIZE, &old_limit) == 0, "setrlimit");
  signal(SIGXFSZ, SIG_DFL);
  free(data);
  remove_tree(dir);
}

/* Run FN in a child that cannot override permissions (root drops to
 * nobody), so read-only directories mean something. */
static void run_unprivileged(void (*fn)(void)) {
  pid_t pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0) {
    /* Relative paths from inside the test root: the directories above it
     * (lit's private TMPDIR, say) need not be searchable by nobody. */
    if (chdir(test_root) < 0) {
      fprintf(stderr, "image_test: %s: %s\n", test_root, strerror(errno));
      _exit(1);
    }
    if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0)) {
      fprintf(stderr, "image_test: cannot drop privileges: %s\n",
              strerror(errno));
      _exit(1);
    }
    fn();
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "unprivileged test failed (status %d)", status);
}

/* Runs in the test root (relative paths), without privileges. */
static void readonly_child(void) {
  /* Created read-only: no checkpoint can be started, nothing is left. */
  char err[CKPT_IMAGE_ERRLEN] = "";
  CHECK(!ckpt_image_create("ro", "ckpt-000001.ckpt", NULL, 1, err, sizeof err),
        "created in a read-only directory");
  check_tmp_error(err, "ro/ckpt-000001.ckpt",
                  "cannot create: Permission denied");
  CHECK(!strcmp(dir_listing("ro"), ""), "left: %s", dir_listing("ro"));

  /* Made read-only while a checkpoint is written: the commit fails and says
   * that the temporary file could not be removed either. */
  struct ckpt_image_writer *w = create_or_die("rw", "ckpt-000001.ckpt", 1, 1);
  put_section(w, CKPT_SEC_META, "m", 1);
  CHECK(chmod("rw", 0555) == 0, "chmod: %s", strerror(errno));
  CHECK(ckpt_image_commit(w, err, sizeof err) == -1, "commit read-only");
  check_tmp_error(err, "rw/ckpt-000001.ckpt",
              "cannot rename to ckpt-000001.ckpt: Permission denied (and the "
              "temporary file could not be removed: Permission denied)");
}

static void test_readonly_dir(void) {
  CHECK(chmod(test_root, 0755) == 0, "chmod");
  const char *ro = make_dir("ro");
  CHECK(chmod(ro, 0555) == 0, "chmod");
  const char *rw = make_dir("rw");
  if (geteuid() == 0)
    CHECK(chown(rw, 65534, 65534) == 0, "chown: %s", strerror(errno));
  run_unprivileged(readonly_child);
  CHECK(chmod(rw, 0755) == 0, "chmod");
  CHECK(!strncmp(tmp_in(rw), rw, strlen(rw)) &&
            !strchr(dir_listing(rw), ' '),
        "left: %s", dir_listing(rw));
  remove_tree(ro);
  remove_tree(rw);
  CHECK(chmod(test_root, 0700) == 0, "chmod");
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(test_root, sizeof test_root, "%s/ckpt-image-test.XXXXXX",
           tmpdir && *tmpdir ? tmpdir : "/tmp");
  CHECK(mkdtemp(test_root), "mkdtemp: %s", strerror(errno));

  test_names();
  test_crafted();
  test_damage();
  test_damage_big_section();
  test_abort();
  test_replace();
  test_mac();
  test_write_error();
  test_readonly_dir();
  test_levels_and_env();
  test_round_trip();

  remove_tree(test_root);
  printf("image_test: ok\n");
  return 0;
}
