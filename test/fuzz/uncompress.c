/* test/fuzz/uncompress.c - seed helper for the reader fuzzer: copies a
 * checkpoint with every section stored uncompressed (compression 0, which
 * readers accept; docs/format.md). In a zstd section almost every mutated
 * byte only breaks the frame; in an uncompressed one it lands in a record,
 * so real checkpoints become seeds that reach the section decoders.
 *
 * Usage: ckpt_fuzz_uncompress IN OUT
 * The header is copied (flags cleared: a MAC would not survive the copy)
 * with a new table offset and new checksums. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "image.h"

enum {
  HDR_FLAGS = 20,
  HDR_TABLE_OFFSET = 80,
  HDR_TABLE_CHECKSUM = 88,
  HDR_HEADER_CHECKSUM = 96,
};

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static int die(const char *msg) {
  fprintf(stderr, "ckpt_fuzz_uncompress: %s\n", msg);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return die("usage: ckpt_fuzz_uncompress IN OUT");
  char err[CKPT_IMAGE_ERRLEN];
  struct ckpt_image *img = ckpt_image_open(argv[1], err, sizeof err);
  if (!img || ckpt_image_verify(img, err, sizeof err) < 0)
    return die(err);
  uint8_t hdr[CKPT_IMAGE_HEADER_SIZE];
  int in = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (in < 0 || pread(in, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
    return die("cannot read the header");
  close(in);
  FILE *out = fopen(argv[2], "wb");
  if (!out)
    return die("cannot create the output");

  size_t n = ckpt_image_num_sections(img);
  uint8_t *table = calloc(n ? n : 1, CKPT_IMAGE_TABLE_ENTRY_SIZE);
  if (!table)
    return die("out of memory");
  fwrite(hdr, 1, sizeof hdr, out); /* rewritten below */
  uint64_t off = CKPT_IMAGE_HEADER_SIZE;
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    uint8_t *raw = malloc(s->raw_size ? (size_t)s->raw_size : 1);
    struct ckpt_section_reader *r = ckpt_section_open(img, i, err, sizeof err);
    if (!raw || !r)
      return die(raw ? err : "out of memory");
    if (ckpt_section_read(r, raw, (size_t)s->raw_size) < 0 ||
        ckpt_section_finish(r) < 0)
      return die(ckpt_section_error(r));
    ckpt_section_close(r);
    uint8_t *ent = table + i * CKPT_IMAGE_TABLE_ENTRY_SIZE;
    put_u32(ent, s->type);
    put_u32(ent + 4, CKPT_COMPRESSION_NONE);
    put_u64(ent + 8, off);
    put_u64(ent + 16, s->raw_size);
    put_u64(ent + 24, s->raw_size);
    put_u64(ent + 32, XXH64(raw, (size_t)s->raw_size, 0));
    static const uint8_t zeros[CKPT_IMAGE_SECTION_ALIGN];
    size_t pad = (size_t)(-s->raw_size & (CKPT_IMAGE_SECTION_ALIGN - 1));
    fwrite(raw, 1, (size_t)s->raw_size, out);
    fwrite(zeros, 1, pad, out);
    off += s->raw_size + pad;
    free(raw);
  }
  fwrite(table, 1, n * CKPT_IMAGE_TABLE_ENTRY_SIZE, out);
  put_u32(hdr + HDR_FLAGS, 0);
  put_u64(hdr + HDR_TABLE_OFFSET, off);
  put_u64(hdr + HDR_TABLE_CHECKSUM,
          XXH64(table, n * CKPT_IMAGE_TABLE_ENTRY_SIZE, 0));
  put_u64(hdr + HDR_HEADER_CHECKSUM, 0);
  put_u64(hdr + HDR_HEADER_CHECKSUM, XXH64(hdr, sizeof hdr, 0));
  if (fseek(out, 0, SEEK_SET) != 0 || fwrite(hdr, 1, sizeof hdr, out) !=
      sizeof hdr || fclose(out) != 0)
    return die("cannot write the output");
  free(table);
  ckpt_image_close(img);
  return 0;
}
