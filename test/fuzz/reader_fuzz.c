/* test/fuzz/reader_fuzz.c - libFuzzer target over the checkpoint reader:
 * the container (runtime/image.c: open, the checksum, full and MAC
 * verifications, streaming section reads), the META parser a restart uses
 * (tools/toolutil.c: tool_meta_load) and ckpt-inspect's decoding of every
 * section (tools/inspect_decode.c: load_contents, as --verify runs it).
 *
 * Random mutations of a checkpoint mostly break a checksum or a zstd frame,
 * and the decoders behind them would rarely see a mutated record. So:
 * - a custom mutator mutates, most of the time, the raw bytes of one
 *   section (decompressed and compressed again for a zstd section) and
 *   reassembles a well-formed container around them: layout, sizes and
 *   checksums right, so the mutation reaches the section's decoder;
 *   otherwise it mutates the file as a whole (header, table, padding);
 * - each input is run as it is and, if its checksums are wrong, again with
 *   them recomputed (header, table, sections, and the MAC with the key
 *   below): the first run covers the rejection of damaged files, the second
 *   what lies behind the checksums.
 *
 * Any error result is fine; a crash, a leak, undefined behaviour or a hang
 * is a bug. So are answers that contradict each other: a file that
 * ckpt_image_verify accepts must read the same in chunks of any size and
 * pass ckpt_image_verify_checksums, a MAC just recomputed must verify, and
 * every failure must come with a message. Built by test/fuzz/CMakeLists.txt, run by scripts/fuzz.sh and
 * test/fuzz/reader-fuzz.test; docs/fuzzing.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include "ckpt/abi.h"
#include "image.h"
#include "inspect_decode.h"
#include "toolutil.h"

/* Offsets in the header and a table entry (docs/format.md, "Container"). */
enum {
  HDR_FLAGS = 20,
  HDR_SECTION_COUNT = 76,
  HDR_TABLE_OFFSET = 80,
  HDR_TABLE_CHECKSUM = 88,
  HDR_HEADER_CHECKSUM = 96,
  ENT_COMPRESSION = 4,
  ENT_OFFSET = 8,
  ENT_STORED_SIZE = 16,
  ENT_RAW_SIZE = 24,
  ENT_CHECKSUM = 32,
};

/* The reader opens a path, as ckpt-inspect and ckpt-run do; the input is
 * written to one memory file, reused for every run, and opened again by
 * its /proc path. */
static int g_fd = -1;
static char g_path[64];

/* Sizes of successive ckpt_section_read calls: single bytes, sizes that
 * straddle zstd's blocks (128 KiB) and the reader's 4 MiB chunks. */
static const size_t read_sizes[] = {1, 7, 512, 4093, 131073, 1u << 20};
static uint8_t g_scratch[1u << 20];

/* The MAC key, as a restart with --key-file derives it from a key file
 * holding this text; test/fuzz/make_seeds.sh writes the same text for its
 * seed with a MAC. */
#define FUZZ_KEY_TEXT "ckpt reader fuzz key, not a secret\n"
static uint8_t g_key[CKPT_KEY_LEN];

static void fail(const char *what) {
  fprintf(stderr, "reader_fuzz: %s\n", what);
  abort();
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p) {
  return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute every checksum the header and table locate, innermost first
 * (sections, table, header), then the MAC if the header announces one and
 * the file has room for it right after the table (docs/format.md, "MAC").
 * Fields that point outside the file are left alone: the reader must reject
 * them on its own. Returns 1 if a MAC was written. */
static int fix_checksums(uint8_t *p, size_t n) {
  if (n < CKPT_IMAGE_HEADER_SIZE ||
      memcmp(p, CKPT_FILE_MAGIC, sizeof CKPT_FILE_MAGIC - 1) != 0)
    return 0;
  uint64_t count = get_u32(p + HDR_SECTION_COUNT);
  uint64_t table = get_u64(p + HDR_TABLE_OFFSET);
  uint64_t table_end = 0;
  if (table >= CKPT_IMAGE_HEADER_SIZE && table <= n &&
      count <= (n - table) / CKPT_IMAGE_TABLE_ENTRY_SIZE) {
    table_end = table + count * CKPT_IMAGE_TABLE_ENTRY_SIZE;
    for (uint64_t i = 0; i < count; i++) {
      uint8_t *ent = p + table + i * CKPT_IMAGE_TABLE_ENTRY_SIZE;
      uint64_t off = get_u64(ent + ENT_OFFSET);
      uint64_t stored = get_u64(ent + ENT_STORED_SIZE);
      if (off <= n && stored <= n - off)
        put_u64(ent + ENT_CHECKSUM, XXH64(p + off, (size_t)stored, 0));
    }
    put_u64(p + HDR_TABLE_CHECKSUM,
            XXH64(p + table, (size_t)count * CKPT_IMAGE_TABLE_ENTRY_SIZE, 0));
  }
  put_u64(p + HDR_HEADER_CHECKSUM, 0);
  put_u64(p + HDR_HEADER_CHECKSUM, XXH64(p, CKPT_IMAGE_HEADER_SIZE, 0));
  if (!(get_u32(p + HDR_FLAGS) & CKPT_IMAGE_FLAG_MAC) || table_end == 0 ||
      n - table_end != CKPT_MAC_LEN)
    return 0;
  /* As the writer: everything after the header, then the header. */
  crypto_generichash_state st;
  crypto_generichash_init(&st, g_key, sizeof g_key, CKPT_MAC_LEN);
  crypto_generichash_update(&st, p + CKPT_IMAGE_HEADER_SIZE,
                            table_end - CKPT_IMAGE_HEADER_SIZE);
  crypto_generichash_update(&st, p, CKPT_IMAGE_HEADER_SIZE);
  crypto_generichash_final(&st, p + table_end, CKPT_MAC_LEN);
  return 1;
}

/* Read section I in chunks of varying size, as a restart or ckpt-inspect
 * would. Returns 0 if it read and finished cleanly. */
static int read_section(struct ckpt_image *img, size_t i, size_t *turn) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_section_reader *r = ckpt_section_open(img, i, err, sizeof err);
  if (!r) {
    if (!*err)
      fail("ckpt_section_open failed without a message");
    return -1;
  }
  int rc = 0;
  while (rc == 0 && ckpt_section_remaining(r) > 0) {
    size_t want = read_sizes[(*turn)++ % (sizeof read_sizes /
                                          sizeof *read_sizes)];
    uint64_t left = ckpt_section_remaining(r);
    size_t n = left < want ? (size_t)left : want;
    rc = ckpt_section_read(r, g_scratch, n);
  }
  if (rc == 0)
    rc = ckpt_section_finish(r);
  if (rc == 0) {
    /* Past the end: must fail, and leave the reader failed. */
    if (ckpt_section_read(r, g_scratch, 1) == 0)
      fail("ckpt_section_read returned a byte past the end of a section");
    if (ckpt_section_finish(r) == 0)
      fail("ckpt_section_finish succeeded after a failed read");
  } else if (!*ckpt_section_error(r)) {
    fail("a section read failed without a message");
  }
  ckpt_section_close(r);
  return rc;
}

/* Finishing a section before its last byte was read must fail. */
static void finish_early(struct ckpt_image *img, size_t i) {
  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_section_reader *r = ckpt_section_open(img, i, err, sizeof err);
  if (!r)
    return;
  uint64_t left = ckpt_section_remaining(r);
  if (left > 1 && ckpt_section_read(r, g_scratch, 1) == 0 &&
      ckpt_section_finish(r) == 0)
    fail("ckpt_section_finish succeeded with bytes left to read");
  ckpt_section_close(r);
}

/* MAC_FIXED: the input's MAC was just recomputed with g_key. */
static void run(const uint8_t *data, size_t size, int mac_fixed) {
  if (ftruncate(g_fd, 0) < 0 ||
      (size && pwrite(g_fd, data, size, 0) != (ssize_t)size))
    fail("cannot write the memory file");

  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = ckpt_image_open(g_path, err, sizeof err);
  if (!img) {
    if (!*err)
      fail("ckpt_image_open failed without a message");
    return;
  }

  /* What ckpt-run --restart checks before it starts the program. */
  err[0] = '\0';
  int sums_ok = ckpt_image_verify_checksums(img, err, sizeof err) == 0;
  if (!sums_ok && !*err)
    fail("ckpt_image_verify_checksums failed without a message");
  err[0] = '\0';
  int verify_ok = ckpt_image_verify(img, err, sizeof err) == 0;
  if (!verify_ok && !*err)
    fail("ckpt_image_verify failed without a message");
  if (verify_ok && !sums_ok)
    fail("ckpt_image_verify accepts what ckpt_image_verify_checksums "
         "rejects");
  /* What a restart with --key-file checks next. */
  err[0] = '\0';
  if (ckpt_image_verify_mac(img, g_key, err, sizeof err) < 0) {
    if (!*err)
      fail("ckpt_image_verify_mac failed without a message");
    if (mac_fixed)
      fail("ckpt_image_verify_mac rejects a MAC computed as docs/format.md "
           "says");
  }

  size_t turn = 0;
  int all_read = 1;
  for (size_t i = 0; i < ckpt_image_num_sections(img); i++) {
    all_read &= read_section(img, i, &turn) == 0;
    finish_early(img, i);
  }
  if (verify_ok && !all_read)
    fail("a section ckpt_image_verify accepts fails to read in other "
         "chunk sizes");

  /* The restart's META. */
  struct tool_meta meta;
  err[0] = '\0';
  if (tool_meta_load(img, g_path, &meta, err, sizeof err) == 0)
    tool_meta_free(&meta);
  else if (!*err)
    fail("tool_meta_load failed without a message");

  /* ckpt-inspect --verify, minus printing and symbol names. */
  struct contents c;
  contents_init(&c);
  err[0] = '\0';
  if (load_contents(img, g_path, 1, &c, err, sizeof err) < 0 && !*err)
    fail("load_contents failed without a message");
  contents_free(&c);

  ckpt_image_close(img);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  g_fd = memfd_create("ckpt-reader-fuzz", MFD_CLOEXEC);
  if (g_fd < 0)
    fail("memfd_create failed");
  snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
  if (sodium_init() < 0 ||
      crypto_generichash(g_key, sizeof g_key,
                         (const unsigned char *)FUZZ_KEY_TEXT,
                         sizeof FUZZ_KEY_TEXT - 1, NULL, 0) != 0)
    fail("cannot derive the MAC key");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run(data, size, 0);
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return 0;
  memcpy(copy, data, size);
  int mac_fixed = fix_checksums(copy, size);
  if (memcmp(copy, data, size) != 0)
    run(copy, size, mac_fixed);
  free(copy);
  return 0;
}

/* ---- Structure-aware mutation -------------------------------------------- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* Largest zstd section the mutator decompresses, and how much a mutation
 * may grow a section. */
#define MUTATE_RAW_MAX ((size_t)1 << 20)
#define MUTATE_GROWTH 4096

static uint64_t rng_next(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

/* Can the header and table of P be followed, every section lying between
 * the header and the table? (The layout need not be exact: reassembling
 * makes it so.) */
static int parse_container(const uint8_t *p, size_t n, uint64_t *count,
                           uint64_t *table) {
  if (n < CKPT_IMAGE_HEADER_SIZE ||
      memcmp(p, CKPT_FILE_MAGIC, sizeof CKPT_FILE_MAGIC - 1) != 0)
    return 0;
  *count = get_u32(p + HDR_SECTION_COUNT);
  *table = get_u64(p + HDR_TABLE_OFFSET);
  if (*count == 0 || *table < CKPT_IMAGE_HEADER_SIZE || *table > n ||
      *count > (n - *table) / CKPT_IMAGE_TABLE_ENTRY_SIZE)
    return 0;
  for (uint64_t i = 0; i < *count; i++) {
    const uint8_t *ent = p + *table + i * CKPT_IMAGE_TABLE_ENTRY_SIZE;
    uint64_t off = get_u64(ent + ENT_OFFSET);
    uint64_t stored = get_u64(ent + ENT_STORED_SIZE);
    if (off < CKPT_IMAGE_HEADER_SIZE || off > *table ||
        stored > *table - off)
      return 0;
  }
  return 1;
}

/* Zstd-compress RAW as the writer does (one frame, content checksum, no
 * content size). Returns a malloc'ed buffer and its length, or NULL. */
static uint8_t *compress(const uint8_t *raw, size_t len, size_t *out_len) {
  size_t cap = ZSTD_compressBound(len);
  uint8_t *buf = malloc(cap ? cap : 1);
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  int ok = 0;
  if (buf && cctx &&
      !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) &&
      !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0))) {
    size_t z = ZSTD_compress2(cctx, buf, cap, raw, len);
    ok = !ZSTD_isError(z);
    *out_len = z;
  }
  ZSTD_freeCCtx(cctx);
  if (!ok) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Lay the sections of DATA out again as docs/format.md says, section PICK's
 * stored bytes replaced by NEW_STORED (NEW_RAW_LEN bytes once raw), with
 * every checksum right. Returns the new size, or 0 if it exceeds MAX. */
static size_t reassemble(uint8_t *data, uint64_t count, uint64_t table,
                         uint64_t pick, const uint8_t *new_stored,
                         size_t new_len, size_t new_raw_len, size_t max) {
  size_t tab_len = (size_t)count * CKPT_IMAGE_TABLE_ENTRY_SIZE;
  uint8_t *out = malloc(max ? max : 1);
  uint8_t *tab = malloc(tab_len);
  size_t pos = CKPT_IMAGE_HEADER_SIZE, rc = 0;
  if (!out || !tab || max < pos)
    goto done;
  memcpy(out, data, pos);
  memcpy(tab, data + table, tab_len);
  for (uint64_t i = 0; i < count; i++) {
    uint8_t *ent = tab + i * CKPT_IMAGE_TABLE_ENTRY_SIZE;
    const uint8_t *src = data + get_u64(ent + ENT_OFFSET);
    size_t len = (size_t)get_u64(ent + ENT_STORED_SIZE);
    if (i == pick) {
      src = new_stored;
      len = new_len;
      put_u64(ent + ENT_RAW_SIZE, new_raw_len);
    }
    size_t pad = -len & (CKPT_IMAGE_SECTION_ALIGN - 1);
    if (len + pad > max - pos)
      goto done;
    memcpy(out + pos, src, len);
    memset(out + pos + len, 0, pad);
    put_u64(ent + ENT_OFFSET, pos);
    put_u64(ent + ENT_STORED_SIZE, len);
    pos += len + pad;
  }
  if (tab_len > max - pos)
    goto done;
  memcpy(out + pos, tab, tab_len);
  put_u64(out + HDR_TABLE_OFFSET, pos);
  pos += tab_len;
  if (get_u32(out + HDR_FLAGS) & CKPT_IMAGE_FLAG_MAC) {
    if (CKPT_MAC_LEN > max - pos)
      goto done;
    memset(out + pos, 0, CKPT_MAC_LEN); /* fix_checksums computes it */
    pos += CKPT_MAC_LEN;
  }
  fix_checksums(out, pos);
  memcpy(data, out, pos);
  rc = pos;
done:
  free(out);
  free(tab);
  return rc;
}

/* Mutate the raw bytes of one section, mostly; see the top of the file. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed) {
  uint64_t rng = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + 1;
  uint64_t count, table;
  if (rng_next(&rng) % 4 == 0 || !parse_container(data, size, &count, &table))
    return LLVMFuzzerMutate(data, size, max_size);
  uint64_t pick = rng_next(&rng) % count;
  const uint8_t *ent = data + table + pick * CKPT_IMAGE_TABLE_ENTRY_SIZE;
  const uint8_t *stored = data + get_u64(ent + ENT_OFFSET);
  size_t stored_len = (size_t)get_u64(ent + ENT_STORED_SIZE);
  uint64_t raw_size = get_u64(ent + ENT_RAW_SIZE);
  int zstd = get_u32(ent + ENT_COMPRESSION) == CKPT_COMPRESSION_ZSTD;

  size_t raw_len = zstd ? (size_t)raw_size : stored_len;
  if (zstd && raw_size > MUTATE_RAW_MAX)
    return LLVMFuzzerMutate(data, size, max_size);
  size_t cap = raw_len + MUTATE_GROWTH;
  uint8_t *raw = malloc(cap);
  if (!raw)
    return LLVMFuzzerMutate(data, size, max_size);
  if (zstd) {
    size_t got = ZSTD_decompress(raw, raw_len, stored, stored_len);
    if (ZSTD_isError(got) || got != raw_len) {
      free(raw);
      return LLVMFuzzerMutate(data, size, max_size);
    }
  } else {
    memcpy(raw, stored, stored_len);
  }
  raw_len = LLVMFuzzerMutate(raw, raw_len, cap);

  size_t new_len = raw_len, out = 0;
  uint8_t *z = zstd ? compress(raw, raw_len, &new_len) : NULL;
  if (!zstd || z)
    out = reassemble(data, count, table, pick, zstd ? z : raw, new_len,
                     raw_len, max_size);
  free(z);
  free(raw);
  return out ? out : LLVMFuzzerMutate(data, size, max_size);
}
