/* tools/ckpt-inspect.c - print a checkpoint file's header, META records and section table, as text or JSON. */
#include <elf.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/abi.h"
#include "image.h"
#include "toolutil.h"

static void usage(FILE *f) {
  fputs(
"Usage: ckpt-inspect [--verify] [--json] FILE\n"
"\n"
"Print a ckpt checkpoint file: its header (format version, architecture,\n"
"creation time in UTC, sequence number, build-id of the executable), the\n"
"recorded process (executable, arguments, working directory, pid,\n"
"checkpoint directory, interval, keep count) and the section table\n"
"(type, compression, stored and raw size, XXH64 checksum).\n"
"\n"
"  --verify   also check every section's checksum and decompression;\n"
"             prints \"verify: ok\" (exit 0) or the error (exit 1)\n"
"  --json     print the same data as one JSON object\n"
"  --help     this text\n"
"\n"
"Default: text output, sections not verified. A damaged file gives one\n"
"error line and exit status 1; a usage error exit status 2.\n",
      f);
}

static const char *arch_name(uint32_t m) {
  switch (m) {
  case EM_X86_64: return "x86-64";
  case EM_AARCH64: return "aarch64";
  case EM_386: return "i386";
  case EM_RISCV: return "riscv";
  default: return "unknown";
  }
}

static const char *compression_name(uint32_t c) {
  switch (c) {
  case 0: return "none";
  case 1: return "zstd";
  default: return NULL;
  }
}

/* UTC ISO 8601 with milliseconds, or "" if out of range. */
static void format_time(uint64_t ns, char *out, size_t len) {
  time_t secs = (time_t)(ns / 1000000000ULL);
  struct tm tm;
  char base[64];
  if (!gmtime_r(&secs, &tm) ||
      strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    if (len)
      out[0] = '\0';
    return;
  }
  snprintf(out, len, "%s.%03uZ", base,
           (unsigned)((ns / 1000000ULL) % 1000ULL));
}

/* ---- Text output ----------------------------------------------------------- */

/* A string as is if it is plain printable text, else quoted with escapes. */
static void text_str(const char *s, int always_quote) {
  int plain = !always_quote && *s;
  for (const char *p = s; plain && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
      plain = 0;
  if (plain) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        printf("\\x%02x", *p);
      else
        putchar(*p);
    }
  }
  putchar('"');
}

static void text_field_str(const char *label, const char *s) {
  printf("  %-12s ", label);
  if (s)
    text_str(s, 0);
  else
    fputs("-", stdout);
  putchar('\n');
}

static void print_text(const char *path, const struct ckpt_image *img,
                       const struct tool_meta *m) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  format_time(info->created_ns, when, sizeof when);
  fputs("file:          ", stdout);
  text_str(path, 0);
  putchar('\n');
  printf("format:        version %" PRIu32 "\n", info->version);
  printf("arch:          %s (e_machine %" PRIu32 ")\n", arch_name(info->arch),
         info->arch);
  printf("created:       %s (%" PRIu64 " ns)\n", *when ? when : "invalid",
         info->created_ns);
  printf("sequence:      %" PRIu64 "\n", info->sequence);
  printf("build-id:      %s\n", tool_hex(info->build_id, idlen, hex, sizeof hex));

  printf("meta:          %zu records\n", m->num_records);
  text_field_str("exe:", m->exe_path);
  printf("  %-12s ", "argv:");
  if (!m->argv)
    fputs("-", stdout);
  for (size_t i = 0; m->argv && i < m->argc; i++) {
    if (i)
      putchar(' ');
    text_str(m->argv[i], 1);
  }
  putchar('\n');
  text_field_str("cwd:", m->cwd);
  if (m->has_pid)
    printf("  %-12s %" PRIu64 "\n", "pid:", m->pid);
  else
    printf("  %-12s -\n", "pid:");
  text_field_str("dir:", m->dir);
  if (!m->has_interval)
    printf("  %-12s -\n", "interval:");
  else if (m->interval_ms == 0)
    printf("  %-12s none\n", "interval:");
  else
    printf("  %-12s %" PRIu64 ".%03" PRIu64 " s\n", "interval:",
           m->interval_ms / 1000, m->interval_ms % 1000);
  if (m->has_keep)
    printf("  %-12s %" PRIu32 "\n", "keep:", m->keep);
  else
    printf("  %-12s -\n", "keep:");
  if (m->has_personality)
    printf("  %-12s 0x%08" PRIx32 "\n", "personality:", m->personality);
  if (m->has_umask)
    printf("  %-12s %04" PRIo32 "\n", "umask:", m->umask);
  if (m->envp)
    printf("  %-12s %zu variables\n", "environment:", m->envc);

  size_t n = ckpt_image_num_sections(img);
  printf("sections:      %zu\n", n);
  printf("  %5s  %-8s %-11s %14s %14s  %s\n", "index", "type", "compression",
         "stored", "raw", "checksum");
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    if (!s)
      continue;
    char type[32], comp[32];
    const char *tn = ckpt_section_type_name(s->type);
    if (strcmp(tn, "unknown") == 0)
      tn = NULL;
    const char *cn = compression_name(s->compression);
    if (tn)
      snprintf(type, sizeof type, "%s", tn);
    else
      snprintf(type, sizeof type, "type-%" PRIu32, s->type);
    if (cn)
      snprintf(comp, sizeof comp, "%s", cn);
    else
      snprintf(comp, sizeof comp, "unknown-%" PRIu32, s->compression);
    printf("  %5zu  %-8s %-11s %14" PRIu64 " %14" PRIu64 "  %016" PRIx64 "\n",
           i, type, comp, s->stored_size, s->raw_size, s->checksum);
  }
}

/* ---- JSON output ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at P (1-4), or 0 if invalid. */
static int utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  int n;
  uint32_t cp;
  if ((p[0] & 0xe0) == 0xc0) {
    n = 2;
    cp = p[0] & 0x1f;
  } else if ((p[0] & 0xf0) == 0xe0) {
    n = 3;
    cp = p[0] & 0x0f;
  } else if ((p[0] & 0xf8) == 0xf0) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* A JSON string. Bytes that are not valid UTF-8 are written as \u00XX (their
 * Latin-1 reading), so the output is always valid JSON. */
static void json_str(const char *s) {
  putchar('"');
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    int n = utf8_len(p);
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c == '\n') {
      fputs("\\n", stdout);
    } else if (c == '\t') {
      fputs("\\t", stdout);
    } else if (c == '\r') {
      fputs("\\r", stdout);
    } else if (c < 0x20 || c == 0x7f || n == 0) {
      printf("\\u%04x", c);
    } else {
      fwrite(p, 1, (size_t)n, stdout);
      p += n;
      continue;
    }
    p++;
  }
  putchar('"');
}

static void json_opt_str(const char *key, const char *s) {
  printf(",\"%s\":", key);
  if (s)
    json_str(s);
  else
    fputs("null", stdout);
}

static void json_list(const char *key, char **v, size_t n) {
  printf(",\"%s\":", key);
  if (!v) {
    fputs("null", stdout);
    return;
  }
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (i)
      putchar(',');
    json_str(v[i]);
  }
  putchar(']');
}

static void json_opt_u64(const char *key, int has, uint64_t v) {
  if (has)
    printf(",\"%s\":%" PRIu64, key, v);
  else
    printf(",\"%s\":null", key);
}

static void print_json(const char *path, const struct ckpt_image *img,
                       const struct tool_meta *m, int verified) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  format_time(info->created_ns, when, sizeof when);
  fputs("{\"file\":", stdout);
  json_str(path);
  printf(",\"version\":%" PRIu32 ",\"arch\":%" PRIu32 ",\"arch_name\":\"%s\"",
         info->version, info->arch, arch_name(info->arch));
  json_opt_str("created", *when ? when : NULL);
  printf(",\"created_ns\":%" PRIu64 ",\"sequence\":%" PRIu64, info->created_ns,
         info->sequence);
  printf(",\"build_id\":\"%s\"",
         idlen ? tool_hex(info->build_id, idlen, hex, sizeof hex) : "");

  printf(",\"meta\":{\"records\":%zu", m->num_records);
  json_opt_str("exe", m->exe_path);
  json_list("argv", m->argv, m->argc);
  json_opt_str("cwd", m->cwd);
  json_opt_u64("pid", m->has_pid, m->pid);
  json_opt_str("dir", m->dir);
  json_opt_u64("interval_ms", m->has_interval, m->interval_ms);
  json_opt_u64("keep", m->has_keep, m->keep);
  json_opt_u64("personality", m->has_personality, m->personality);
  json_opt_u64("umask", m->has_umask, m->umask);
  json_opt_u64("env_count", m->envp != NULL, m->envc);
  putchar('}');

  fputs(",\"sections\":[", stdout);
  size_t n = ckpt_image_num_sections(img);
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    if (!s)
      continue;
    const char *tn = ckpt_section_type_name(s->type);
    if (strcmp(tn, "unknown") == 0)
      tn = NULL;
    const char *cn = compression_name(s->compression);
    printf("%s{\"index\":%zu,\"type\":%" PRIu32 ",\"type_name\":", i ? "," : "",
           i, s->type);
    if (tn)
      printf("\"%s\"", tn);
    else
      fputs("null", stdout);
    printf(",\"compression\":%" PRIu32 ",\"compression_name\":", s->compression);
    if (cn)
      printf("\"%s\"", cn);
    else
      fputs("null", stdout);
    printf(",\"offset\":%" PRIu64 ",\"stored_size\":%" PRIu64
           ",\"raw_size\":%" PRIu64 ",\"checksum\":\"%016" PRIx64 "\"}",
           s->offset, s->stored_size, s->raw_size, s->checksum);
  }
  putchar(']');
  if (verified)
    fputs(",\"verify\":\"ok\"", stdout);
  fputs("}\n", stdout);
}

int main(int argc, char **argv) {
  tool_set_name("ckpt-inspect");
  static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int verify = 0, json = 0, c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'v': verify = 1; break;
    case 'j': json = 1; break;
    case 'h': usage(stdout); return 0;
    default:
      if (optopt)
        tool_die(2, "unknown option '-%c' (see ckpt-inspect --help)", optopt);
      tool_die(2, "unknown option '%s' (see ckpt-inspect --help)",
               argv[optind - 1]);
    }
  }
  if (optind >= argc)
    tool_die(2, "missing checkpoint FILE (see ckpt-inspect --help)");
  if (argc - optind > 1)
    tool_die(2, "unexpected argument '%s': one FILE at a time",
             argv[optind + 1]);
  const char *path = argv[optind];

  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = ckpt_image_open(path, err, sizeof err);
  if (!img)
    tool_die(1, "%s", *err ? err : "cannot open checkpoint");
  /* Everything is read before anything is printed: a damaged file gives
   * one error line and no partial output. */
  if (verify && ckpt_image_verify(img, err, sizeof err) < 0)
    tool_die(1, "%s", *err ? err : "verification failed");
  struct tool_meta meta;
  char merr[1024];
  if (tool_meta_load(img, path, &meta, merr, sizeof merr) < 0)
    tool_die(1, "%s", merr);

  if (json)
    print_json(path, img, &meta, verify);
  else {
    print_text(path, img, &meta);
    if (verify)
      puts("verify: ok");
  }
  tool_meta_free(&meta);
  ckpt_image_close(img);
  if (fflush(stdout) != 0)
    tool_die(1, "cannot write the output");
  return 0;
}
