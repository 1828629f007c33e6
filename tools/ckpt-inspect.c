/* tools/ckpt-inspect.c - print a checkpoint file as text or JSON: header,
 * process, threads (state, identity, TLS, pthread keys) and frames, globals,
 * heap, exclusions, restart hooks, open files, address layout, the saved
 * pointers into shared libraries (LIBS) and section table; --verify also
 * checks every checksum and the structure of every section. The section
 * contents are specified in docs/format.md, their
 * records in runtime/sections.h, and decoded by inspect_decode.c; this file
 * prints them as docs/inspect.md describes. */
#include <elf.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/abi.h"
#include "image.h"
#include "inspect_decode.h"
#include "inspect_lines.h"
#include "sections.h"
#include "toolutil.h"

static void usage(FILE *f) {
  fputs(
"Usage: ckpt-inspect [--verify] [--json] FILE\n"
"\n"
"Print a ckpt checkpoint file: its header (format version, architecture,\n"
"creation time in UTC, sequence number, build-id of the executable), the\n"
"recorded process (executable, arguments, working directory, pid,\n"
"checkpoint directory, interval, keep count), its threads (state or the\n"
"call each waits in, pthread_t, start routine, TLS, pthread key values)\n"
"with their frames (innermost first; source lines from the executable's\n"
"DWARF when it is the build that took the checkpoint), the pthread keys,\n"
"globals, heap, the program's own mappings, signal state (masks, pending\n"
"signals, sigaltstacks, timers), excluded ranges, restart hooks, open files,\n"
"address layout, the saved pointers into shared libraries (LIBS: each\n"
"library, each value and what names it, the threads' glibc data) and the\n"
"section table (type, compression, stored and raw size, XXH64 checksum).\n"
"Section contents are decoded for format versions 5 and 6 (5 has no\n"
"LIBS section); for older files only the header, META records and\n"
"section table are shown.\n"
"\n"
"  --verify   also check every section's checksum, decompression and\n"
"             structure; prints \"verify: ok\" (exit 0) or the error (exit 1)\n"
"  --json     print the same data as one JSON object\n"
"  --help     this text\n"
"\n"
"A missing, foreign or damaged file gives one error line and exit status 1;\n"
"a usage error exit status 2.\n",
      f);
}

/* ckpt_file_rec.kind as shown, by number (0 to FILE_KIND_MAX). */
static const char *const file_kind_names[] = {"other", "regular", "device",
                                              "directory", "deleted"};

/* Name the functions of the restart hooks, the threads' start routines,
 * the pthread keys' destructors and the frames from the executable's symbol
 * table, and give the frames source lines from its DWARF line table, but
 * only if it is the very build that took the checkpoint: another build's
 * addresses would give confident wrong names and lines. */
struct symbol_ref {
  uint64_t addr;
  char **symbol;
  uint64_t *offset; /* NULL: not kept (frames show the function only) */
};

/* Source lines of every frame of C's threads from EXE's line table; a
 * table that cannot be read leaves the lines 0 and says why in
 * c->lines_note. */
static void resolve_lines(const char *exe, struct contents *c,
                          size_t nframes) {
  uint64_t *addrs = calloc(nframes, sizeof *addrs);
  uint32_t *lines = calloc(nframes, sizeof *lines);
  char **files = calloc(nframes, sizeof *files);
  char why[400];
  if (!addrs || !lines || !files) {
    c->lines_note = "out of memory";
    goto out;
  }
  size_t m = 0;
  for (uint32_t k = 0; k < c->nthreads; k++)
    for (uint32_t i = 0; i < c->threads[k].nframes; i++)
      addrs[m++] = frame_lookup_pc(&c->threads[k].frames[i]);
  if (inspect_source_lines(exe, addrs, m, lines, files, why, sizeof why) <
      0) {
    snprintf(c->lines_note_buf, sizeof c->lines_note_buf, "%s %s", exe, why);
    c->lines_note = c->lines_note_buf;
    goto out;
  }
  m = 0;
  for (uint32_t k = 0; k < c->nthreads; k++)
    for (uint32_t i = 0; i < c->threads[k].nframes; i++, m++) {
      c->threads[k].frames[i].line = lines[m];
      c->threads[k].frames[i].line_file = files[m];
    }
out:
  free(addrs);
  free(lines);
  free(files);
}

static void resolve_symbols(const struct ckpt_image *img, struct contents *c) {
  size_t nframes = 0;
  for (uint32_t k = 0; k < c->nthreads; k++)
    nframes += c->threads[k].nframes;
  size_t n = (size_t)c->nhooks + c->nthreads + c->nkeys + nframes;
  if (n == 0)
    return;
  struct symbol_ref *refs = calloc(n, sizeof *refs);
  uint64_t *addrs = calloc(n, sizeof *addrs);
  uint64_t *offsets = calloc(n, sizeof *offsets);
  char **names = calloc(n, sizeof *names);
  if (!refs || !addrs || !offsets || !names) {
    c->symbols_note = "out of memory";
    goto out;
  }
  size_t m = 0;
  for (uint64_t i = 0; i < c->nhooks; i++)
    refs[m++] = (struct symbol_ref){c->hooks[i].fn, &c->hooks[i].symbol,
                                    &c->hooks[i].symbol_offset};
  for (uint32_t i = 0; i < c->nthreads; i++)
    if (c->threads[i].start_fn)
      refs[m++] = (struct symbol_ref){c->threads[i].start_fn,
                                      &c->threads[i].start_symbol,
                                      &c->threads[i].start_offset};
  for (uint32_t i = 0; i < c->nkeys; i++)
    if (c->keys[i].destructor)
      refs[m++] = (struct symbol_ref){c->keys[i].destructor,
                                      &c->keys[i].symbol,
                                      &c->keys[i].symbol_offset};
  for (uint32_t k = 0; k < c->nthreads; k++)
    for (uint32_t i = 0; i < c->threads[k].nframes; i++) {
      struct frame_info *f = &c->threads[k].frames[i];
      refs[m++] = (struct symbol_ref){frame_lookup_pc(f), &f->symbol, NULL};
    }
  if (m == 0)
    goto out;
  const struct ckpt_image_info *info = ckpt_image_info(img);
  const char *exe = c->meta.exe_path;
  char why[400];
  uint8_t id[TOOL_BUILD_ID_MAX];
  size_t idlen = 0;
  if (!exe) {
    c->symbols_note = "the checkpoint names no executable";
    goto out;
  }
  if (tool_elf_build_id(exe, id, sizeof id, &idlen, why, sizeof why) < 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf, "%s %s", exe,
             why);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  if (idlen != info->build_id_len || memcmp(id, info->build_id, idlen) != 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf,
             "%s has changed since the checkpoint (build-id differs)", exe);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  if (nframes)
    resolve_lines(exe, c, nframes);
  for (size_t i = 0; i < m; i++)
    addrs[i] = refs[i].addr;
  if (tool_elf_function_symbols(exe, addrs, m, names, offsets, why,
                                sizeof why) < 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf, "%s %s", exe,
             why);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  for (size_t i = 0; i < m; i++) {
    *refs[i].symbol = names[i];
    if (refs[i].offset)
      *refs[i].offset = offsets[i];
  }
out:
  free(refs);
  free(addrs);
  free(offsets);
  free(names);
}

/* ---- Formatting helpers -------------------------------------------------- */

/* A function named from the executable's symbol table: the pass renames
 * the user's main to __ckpt_main there; people know it as main. (Names
 * from the checkpoint are shown as recorded: the pass records main.) */
static const char *symbol_function_name(const char *symbol) {
  return strcmp(symbol, CKPT_USER_MAIN_STR) == 0 ? "main" : symbol;
}

/* The function a frame is shown as. A program frame has its descriptor's
 * name; the symbol table is asked only when it has none. A runtime frame is
 * named by the symbol table first: it knows every function of the
 * executable, the runtime only the entry points it records. "??" when
 * neither knows. */
static const char *frame_function_name(const struct frame_info *f) {
  if (f->symbol && *f->symbol && (f->kind == CKPT_FRAME_RUNTIME || !*f->name))
    return symbol_function_name(f->symbol);
  return *f->name ? f->name : "??";
}

/* The source file a frame is shown in: the line table's file of its pc
 * when it has a line, else the recorded file of its function ("" if
 * unknown). */
static const char *frame_file(const struct frame_info *f) {
  return f->line && f->line_file ? f->line_file : f->file;
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

static const char *park_name(uint32_t kind) {
  return kind == PARK_POLL     ? "poll"
         : kind == PARK_CALL   ? "call"
         : kind == PARK_SIGNAL ? "signal"
         : kind == PARK_NONE ? "none"
                             : "unknown";
}

/* JSON names of thread states and call kinds. */
static const char *state_name(uint32_t state) {
  switch (state) {
  case THREAD_PARKED: return "parked";
  case THREAD_IN_CALL: return "in_call";
  case THREAD_NEW: return "new";
  case THREAD_EXITED: return "exited";
  default: return "unknown";
  }
}

static const char *call_kind_name(uint32_t kind) {
  switch (kind) {
  case CALL_CHECKPOINT: return "checkpoint";
  case CALL_REISSUE: return "reissue";
  case CALL_COND_WAIT: return "cond_wait";
  case CALL_SLEEP: return "sleep";
  case CALL_IO: return "io";
  case CALL_COMPLETED: return "io_completed";
  default: return NULL;
  }
}

static const char *file_kind_name(uint32_t kind) {
  return kind <= FILE_KIND_MAX ? file_kind_names[kind] : "unknown";
}

/* The kernel reports O_LARGEFILE in F_GETFL for every file a 64-bit
 * process opens (glibc defines the flag as 0 there): it says nothing, so it
 * is left out of the names (it stays in the JSON "flags" number). */
#define KERNEL_O_LARGEFILE 0100000

/* fcntl(F_GETFL) flags (plus O_CLOEXEC, which the writer adds) as
 * "O_WRONLY|O_APPEND|O_CLOEXEC"; bits without a name as hex. */
static void format_open_flags(int32_t flags, char *out, size_t len) {
  static const struct {
    int flag;
    const char *name;
  } names[] = {
      {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},
      {O_NOCTTY, "O_NOCTTY"},     {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
      {O_SYNC, "O_SYNC"},         {O_DSYNC, "O_DSYNC"},
      {O_ASYNC, "O_ASYNC"},       {O_DIRECT, "O_DIRECT"},
      {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
      {O_NOATIME, "O_NOATIME"},   {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"},
  };
  uint32_t rest = (uint32_t)flags & ~(uint32_t)KERNEL_O_LARGEFILE;
  size_t used = 0;
  const char *mode = (rest & O_ACCMODE) == O_RDONLY   ? "O_RDONLY"
                     : (rest & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                     : (rest & O_ACCMODE) == O_RDWR   ? "O_RDWR"
                                                      : "O_ACCMODE";
  rest &= ~(uint32_t)O_ACCMODE;
  used += (size_t)snprintf(out, len, "%s", mode);
  for (size_t i = 0; i < sizeof names / sizeof *names && used < len; i++) {
    uint32_t f = (uint32_t)names[i].flag;
    /* O_SYNC includes O_DSYNC's bit: whichever matches whole first wins. */
    if ((rest & f) != f)
      continue;
    rest &= ~f;
    used += (size_t)snprintf(out + used, len - used, "|%s", names[i].name);
  }
  if (rest && used < len)
    snprintf(out + used, len - used, "|0x%" PRIx32, rest);
}

/* ---- Signals ---------------------------------------------------------------
 * Signal numbers as x86-64 Linux and glibc name them. glibc keeps the
 * kernel's first two realtime signals (32 and 33) for itself, so a
 * program's SIGRTMIN is 34; those two have no name and are shown by
 * number. */
#define GLIBC_SIGRTMIN 34

static const char *const signal_names[GLIBC_SIGRTMIN] = {
    NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
    "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
    "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
    "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
    "SIGPWR",  "SIGSYS",  NULL,        NULL};

/* Signal SIGNO (1 to 64) as "SIGUSR1", as "SIGRTMIN+3" or "SIGRTMAX-2"
 * (the nearer end, as bash's kill -l writes them), or as "32". */
static void format_signal(uint32_t signo, char *out, size_t len) {
  if (signo < GLIBC_SIGRTMIN && signal_names[signo])
    snprintf(out, len, "%s", signal_names[signo]);
  else if (signo < GLIBC_SIGRTMIN || signo > SIGNAL_MAX)
    snprintf(out, len, "%" PRIu32, signo);
  else if (signo == GLIBC_SIGRTMIN)
    snprintf(out, len, "SIGRTMIN");
  else if (signo == SIGNAL_MAX)
    snprintf(out, len, "SIGRTMAX");
  else if (signo - GLIBC_SIGRTMIN <= (SIGNAL_MAX - GLIBC_SIGRTMIN) / 2)
    snprintf(out, len, "SIGRTMIN+%" PRIu32, signo - GLIBC_SIGRTMIN);
  else
    snprintf(out, len, "SIGRTMAX-%" PRIu32, SIGNAL_MAX - signo);
}

/* The signals of SET (bit n-1: signal n) by name, separated by commas;
 * realtime signals in a run of three or more as the run
 * ("SIGRTMIN+2..SIGRTMIN+6"). */
static void format_signal_list(uint64_t set, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (uint32_t s = 1; s <= SIGNAL_MAX && used < len; s++) {
    if (!((set >> (s - 1)) & 1))
      continue;
    uint32_t last = s; /* the run's last signal: bit `last` is signal last+1 */
    if (s >= GLIBC_SIGRTMIN)
      while (last < SIGNAL_MAX && ((set >> last) & 1))
        last++;
    char first[16], end[16];
    format_signal(s, first, sizeof first);
    used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
                             first);
    if (last - s >= 2 && used < len) {
      format_signal(last, end, sizeof end);
      used += (size_t)snprintf(out + used, len - used, "..%s", end);
      s = last;
    }
  }
}

/* A signal set for the text output: "none", the list, or, for a set of
 * more than half the signals, what it leaves out ("all but SIGKILL,
 * SIGSTOP"): a thread that blocks everything is common, and 60 names
 * would fill the screen. */
static void format_signal_set(uint64_t set, char *out, size_t len) {
  if (set == 0) {
    snprintf(out, len, "none");
  } else if (set == ~(uint64_t)0) {
    snprintf(out, len, "all");
  } else if (__builtin_popcountll(set) > SIGNAL_MAX / 2) {
    int used = snprintf(out, len, "all but ");
    if (used > 0 && (size_t)used < len)
      format_signal_list(~set, out + used, len - (size_t)used);
  } else {
    format_signal_list(set, out, len);
  }
}

/* si_code values the kernel gives every signal (positive ones other than
 * SI_KERNEL depend on the signal and are shown as numbers). */
static const char *si_code_name(int32_t code) {
  switch (code) {
  case SI_USER: return "SI_USER";
  case SI_KERNEL: return "SI_KERNEL";
  case SI_QUEUE: return "SI_QUEUE";
  case SI_TIMER: return "SI_TIMER";
  case SI_MESGQ: return "SI_MESGQ";
  case SI_ASYNCIO: return "SI_ASYNCIO";
  case SI_SIGIO: return "SI_SIGIO";
  case SI_TKILL: return "SI_TKILL";
  default: return NULL;
  }
}

/* Did a process send the signal (kill, sigqueue, tgkill)? Only then do
 * si_pid and si_uid name a sender. */
static int sent_by_process(const struct pending_info *p) {
  return p->code == SI_USER || p->code == SI_QUEUE || p->code == SI_TKILL;
}

static const char *clock_name(int32_t clock) {
  switch (clock) {
  case CLOCK_REALTIME: return "CLOCK_REALTIME";
  case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
  case CLOCK_PROCESS_CPUTIME_ID: return "CLOCK_PROCESS_CPUTIME_ID";
  case CLOCK_THREAD_CPUTIME_ID: return "CLOCK_THREAD_CPUTIME_ID";
  case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
  case CLOCK_REALTIME_ALARM: return "CLOCK_REALTIME_ALARM";
  case CLOCK_BOOTTIME_ALARM: return "CLOCK_BOOTTIME_ALARM";
  case CLOCK_TAI: return "CLOCK_TAI";
  default: return NULL; /* negative: a process's or thread's CPU clock */
  }
}

static const char *notify_name(int32_t notify) {
  switch (notify) {
  case SIGEV_NONE: return "SIGEV_NONE";
  case SIGEV_SIGNAL: return "SIGEV_SIGNAL";
  case SIGEV_THREAD_ID: return "SIGEV_THREAD_ID";
  default: return "unknown";
  }
}

/* ckpt_signals_head.itimers, in order. */
static const char *const itimer_names[3] = {"ITIMER_REAL", "ITIMER_VIRTUAL",
                                            "ITIMER_PROF"};
static const char *const itimer_json_keys[3] = {"real", "virtual", "prof"};

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

/* The file's size and its sections' raw size. The reader has checked that
 * the file is laid out exactly as docs/format.md says, so the size follows
 * from the table: each section at the previous one's end rounded up to 8,
 * then the table. */
static void image_sizes(const struct ckpt_image *img, uint64_t *file_size,
                        uint64_t *raw_total) {
  size_t n = ckpt_image_num_sections(img);
  uint64_t end = CKPT_IMAGE_HEADER_SIZE;
  *raw_total = 0;
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    end = s->offset + s->stored_size;
    end = (end + CKPT_IMAGE_SECTION_ALIGN - 1) &
          ~(uint64_t)(CKPT_IMAGE_SECTION_ALIGN - 1);
    *raw_total += s->raw_size;
  }
  *file_size = end + (uint64_t)n * CKPT_IMAGE_TABLE_ENTRY_SIZE;
  if (ckpt_image_info(img)->flags & CKPT_IMAGE_FLAG_MAC)
    *file_size += CKPT_MAC_LEN;
}

/* Why an older file's sections are not shown. */
static const char *old_format_note(const struct ckpt_image *img) {
  static char note[160];
  snprintf(note, sizeof note,
           "section contents of format version %" PRIu32
           " are not decoded (this ckpt reads those of versions %d to %d); "
           "header, META and section table only",
           ckpt_image_info(img)->version, DECODED_VERSION_MIN,
           DECODED_VERSION_MAX);
  return note;
}

/* ---- Text output --------------------------------------------------------- */

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

/* "no TYPE section" for a section type that is absent; returns 1 then. */
static int text_absent(const struct contents *c, uint32_t type,
                       const char *label) {
  if (c->first[type] >= 0)
    return 0;
  printf("%-14s (no %s section)\n", label, ckpt_section_type_name(type));
  return 1;
}

static void print_text_header(const char *path, const struct ckpt_image *img,
                              const struct tool_meta *m) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  uint64_t file_size, raw_total;
  image_sizes(img, &file_size, &raw_total);
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
  printf("build-id:      %s\n",
         tool_hex(info->build_id, idlen, hex, sizeof hex));
  if (info->version >= 3) {
    printf("run:           %s\n",
           tool_hex(info->run_id, CKPT_RUN_ID_LEN, hex, sizeof hex));
    printf("mac:           %s\n",
           (info->flags & CKPT_IMAGE_FLAG_MAC)
               ? "yes (keyed BLAKE2b-256; ckpt-run --restart --key-file "
                 "checks it)"
               : "no");
  }
  printf("size:          %" PRIu64 " bytes in the file, %" PRIu64
         " bytes of section data uncompressed\n", file_size, raw_total);

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
  if (m->exe_hash)
    printf("  %-12s %s\n", "exe-hash:",
           tool_hex(m->exe_hash, CKPT_EXE_HASH_LEN, hex, sizeof hex));
  for (size_t i = 0; i < m->nmodules; i++)
    printf("  %-12s %s (ckpt-cc -shared, build-id %s)\n", "library:",
           m->modules[i].path,
           tool_hex(m->modules[i].build_id, m->modules[i].build_id_len, hex,
                    sizeof hex));
  for (size_t i = 0; i < m->ndlopens; i++)
    printf("  %-12s %s (flags 0x%" PRIx32 ", handle 0x%" PRIx64 ")\n",
           "dlopen:", *m->dlopens[i].path ? m->dlopens[i].path
                                          : "the program (NULL)",
           m->dlopens[i].flags, m->dlopens[i].handle);
  if (m->ndlopens_total > m->ndlopens)
    printf("  %-12s %zu more\n", "dlopen:", m->ndlopens_total - m->ndlopens);
}

/* A function named from the symbols: "name" or "name+0xOFF". */
static void text_symbol(const char *symbol, uint64_t offset) {
  text_str(symbol_function_name(symbol), 0);
  if (offset)
    printf("+0x%" PRIx64, offset);
}

/* The thread's state in words: how it stopped, or what it waits in. */
static void text_thread_state(const struct thread_info *t) {
  char when[96];
  switch (t->state) {
  case THREAD_PARKED:
    fputs(t->park_kind == PARK_SIGNAL ? "stopped by signal" :
                                        "stopped at a safe point", stdout);
    return;
  case THREAD_NEW:
    fputs("not started yet", stdout);
    return;
  case THREAD_EXITED:
    printf("finished (return value 0x%" PRIx64 ", not yet joined)",
           t->retval);
    return;
  }
  fputs("waiting in ", stdout);
  switch (t->call_kind) {
  case CALL_CHECKPOINT: fputs("ckpt_checkpoint", stdout); break;
  case CALL_REISSUE: fputs("a lock/join/barrier/semaphore wait", stdout); break;
  case CALL_COND_WAIT: fputs("a condition wait", stdout); break;
  case CALL_SLEEP:
    format_time((uint64_t)t->call_deadline_ns, when, sizeof when);
    if (t->call_deadline_ns >= 0 && *when)
      printf("sleep until %s", when);
    else
      printf("sleep until %" PRId64 " ns", t->call_deadline_ns);
    break;
  case CALL_IO: printf("I/O on fd %" PRId32, t->call_fd); break;
  case CALL_COMPLETED:
    printf("I/O on fd %" PRId32 ", finished (result %" PRId64, t->call_fd,
           t->call_result);
    if (t->call_result < 0)
      printf(", errno %" PRId32, t->call_errno);
    putchar(')');
    break;
  default: printf("call kind %" PRIu32, t->call_kind); break;
  }
}

/* Are there start routines, key destructors or frames to name? */
static int threads_have_functions(const struct contents *c) {
  for (uint32_t k = 0; k < c->nthreads; k++)
    if (c->threads[k].start_fn || c->threads[k].nframes)
      return 1;
  for (uint32_t k = 0; k < c->nkeys; k++)
    if (c->keys[k].destructor)
      return 1;
  return 0;
}

/* One frame, gdb style: "#N  NAME at FILE:LINE (pc 0x..., cfa 0x...)";
 * a runtime frame is only named, its place in ckpt's own code is of no use
 * to the program's author. */
static void print_text_frame(uint32_t number, const struct frame_info *f) {
  const char *pc_label =
      (f->flags & CKPT_FRAME_EXACT_PC) ? "exact pc" : "pc";
  printf("    #%-2" PRIu32 " ", number);
  text_str(frame_function_name(f), 0);
  if (f->kind == CKPT_FRAME_RUNTIME) {
    printf(" (ckpt runtime) %s 0x%" PRIx64 "\n", pc_label, f->pc);
    return;
  }
  const char *file = frame_file(f);
  fputs(" at ", stdout);
  text_str(*file ? file : "??", 0);
  if (f->line)
    printf(":%" PRIu32, f->line);
  printf(" (%s 0x%" PRIx64 ", cfa 0x%" PRIx64, pc_label, f->pc, f->cfa);
  if (f->excluded)
    printf(", %" PRIu32 " excluded", f->excluded);
  puts(")");
}

static void print_text_thread(const struct contents *c,
                              const struct thread_info *t) {
  printf("  thread in slot %" PRIu32 ": ", t->slot);
  text_thread_state(t);
  printf(", stack 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes)\n",
         t->stack_lo, t->stack_hi, t->stack_hi - t->stack_lo);
  printf("    %-12s 0x%" PRIx64 "\n", "pthread_t:", t->ptid);
  printf("    %-12s ", "start:");
  if (t->slot == 0) {
    fputs("main", stdout);
  } else {
    if (t->start_symbol) {
      text_symbol(t->start_symbol, t->start_offset);
      printf(" (0x%" PRIx64 ")", t->start_fn);
    } else {
      printf("0x%" PRIx64, t->start_fn);
    }
    printf(", argument 0x%" PRIx64, t->start_arg);
  }
  putchar('\n');
  printf("    %-12s %s\n", "detached:", t->detached ? "yes" : "no");
  if (t->tls_len)
    printf("    %-12s %" PRIu32 " bytes at 0x%" PRIx64 "\n", "TLS:",
           t->tls_len, t->tls_block);
  else
    printf("    %-12s none\n", "TLS:");
  for (uint32_t i = 0; i < t->nkey_set; i++) {
    const struct key_value *kv = &t->key_values[i];
    printf("    key %" PRIu32 " = 0x%" PRIx64 "%s\n", kv->key, kv->value,
           kv->key < c->nkeys && !c->keys[kv->key].alive ? " (deleted key)"
                                                         : "");
  }
  if (t->nframes == 0) {
    puts("    no frames");
    return;
  }
  printf("    %-12s 0x%" PRIx64 "-0x%" PRIx64 ", %" PRIu64
         " bytes saved; resumes at 0x%" PRIx64 "\n",
         "stack:", t->stack_save_lo, t->user_top, t->stack_saved_bytes,
         t->resume_rip);
  printf("    %" PRIu32 " frame%s, innermost first:\n", t->nframes,
         t->nframes == 1 ? "" : "s");
  for (uint32_t i = t->nframes; i-- > 0;)
    print_text_frame(t->nframes - 1 - i, &t->frames[i]);
}

static void print_text_threads(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_THREADS, "threads:"))
    return;
  printf("threads:       %" PRIu32 "\n", c->nthreads);
  if (c->symbols_note && threads_have_functions(c)) {
    fputs("  (functions not named: ", stdout);
    text_str(c->symbols_note, 0);
    puts(")");
  }
  if (c->lines_note) {
    fputs("  (no source lines: ", stdout);
    text_str(c->lines_note, 0);
    puts(")");
  }
  for (uint32_t k = 0; k < c->nthreads; k++)
    print_text_thread(c, &c->threads[k]);
  printf("keys:          %" PRIu32 " pthread key%s\n", c->nkeys,
         c->nkeys == 1 ? "" : "s");
  for (uint32_t k = 0; k < c->nkeys; k++) {
    const struct key_info *ki = &c->keys[k];
    printf("  key %" PRIu32 ": %s, ", k, ki->alive ? "alive" : "deleted");
    if (!ki->destructor) {
      puts("no destructor");
      continue;
    }
    fputs("destructor ", stdout);
    if (ki->symbol) {
      text_symbol(ki->symbol, ki->symbol_offset);
      printf(" (0x%" PRIx64 ")\n", ki->destructor);
    } else {
      printf("0x%" PRIx64 "\n", ki->destructor);
    }
  }
}

static void print_text_globals(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_GLOBALS, "globals:"))
    return;
  printf("globals:       %zu, %" PRIu64 " bytes, %" PRIu64 " saved, %" PRIu64
         " excluded\n", c->nglobals, c->globals_size, c->globals_saved,
         c->globals_excluded);
  if (c->nglobals)
    printf("  %-18s %12s %12s %12s  %s\n", "address", "size", "saved",
           "excluded", "name");
  for (size_t i = 0; i < c->nglobals; i++) {
    const struct global_info *g = &c->globals[i];
    printf("  0x%016" PRIx64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "  ",
           g->addr, g->size, g->saved, g->excluded);
    text_str(g->name, 0);
    if (g->flags & CKPT_GLOBAL_EXCLUDED)
      fputs("  [excluded]", stdout);
    putchar('\n');
  }
}

static void print_text_heap(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_HEAP, "heap:"))
    return;
  const struct ckpt_heap_rec *h = &c->heap;
  puts("heap:");
  printf("  %-12s 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes)\n", "arena:",
         heap_base, h->heap_end, h->heap_end - heap_base);
  printf("  %-12s %" PRIu64 " (%" PRIu64 " bytes)\n", "live blocks:",
         h->blocks, h->bytes);
  printf("  %-12s %" PRIu64 " bytes\n", "excluded:", h->excluded_bytes);
  printf("  %-12s %" PRIu64 " bytes in %" PRIu64 " extents\n", "stored:",
         c->heap_stored, c->heap_extents);
}

static void print_text_maps(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_MAPS, "mappings:"))
    return;
  if (c->maps_pieces == 0) {
    printf("%-15s none\n", "mappings:");
    return;
  }
  puts("mappings:");
  printf("  %-12s %" PRIu64 " (%" PRIu64 " of files), %" PRIu64 " bytes\n",
         "pieces:", c->maps_pieces, c->maps_file_pieces, c->maps_bytes);
  printf("  %-12s %" PRIu64 " bytes in %" PRIu64 " extents\n", "stored:",
         c->maps_stored, c->maps_extents);
}

/* A duration in seconds, to the millisecond. */
static void text_seconds(uint64_t ns) {
  printf("%" PRIu64 ".%03" PRIu64 " s", ns / 1000000000u,
         ns / 1000000u % 1000u);
}

/* "1.500 s to go, every 0.250 s" or "..., once"; "disarmed". */
static void text_timer_time(const struct ckpt_itimer_rec *t) {
  if (t->value_ns == 0) {
    fputs("disarmed", stdout);
    return;
  }
  text_seconds(t->value_ns);
  fputs(" to go, ", stdout);
  if (t->interval_ns == 0) {
    fputs("once", stdout);
    return;
  }
  fputs("every ", stdout);
  text_seconds(t->interval_ns);
}

static void print_text_signals(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_SIGNALS, "signals:"))
    return;
  const struct ckpt_signals_head *h = &c->signals;
  char set[1024], name[16];
  puts("signals:");
  for (uint32_t i = 0; i < h->nthreads; i++) {
    const struct ckpt_thread_signals_rec *t = &c->signal_threads[i];
    format_signal_set(t->mask, set, sizeof set);
    printf("  thread in slot %" PRIu32 ": blocked %s; ", t->slot, set);
    format_signal_set(t->pending, set, sizeof set);
    printf("pending %s; altstack ", set);
    uint32_t flags = (uint32_t)t->altstack_flags;
    if (flags & SS_DISABLE) {
      puts("none");
      continue;
    }
    printf("0x%" PRIx64 " (%" PRIu64 " bytes%s%s)\n", t->altstack_sp,
           t->altstack_size, (flags & SS_ONSTACK) ? ", in use" : "",
           (flags & KERNEL_SS_AUTODISARM) ? ", SS_AUTODISARM" : "");
  }
  if (h->npending == 0)
    printf("  %-12s none\n", "pending:");
  else
    printf("  %-12s %" PRIu32 " signal%s\n", "pending:", h->npending,
           h->npending == 1 ? "" : "s");
  for (uint32_t i = 0; i < h->npending; i++) {
    const struct pending_info *p = &c->pending[i];
    const char *code = si_code_name(p->code);
    format_signal(p->signo, name, sizeof name);
    printf("    %s (%" PRIu32 "): ", name, p->signo);
    if (!p->has_info) {
      puts("by number (no siginfo kept)");
      continue;
    }
    fputs("si_code ", stdout);
    if (code)
      printf("%s (%" PRId32 ")", code, p->code);
    else
      printf("%" PRId32, p->code);
    if (sent_by_process(p))
      printf(", from pid %" PRId32, p->pid);
    putchar('\n');
  }
  int armed = 0;
  for (int k = 0; k < 3; k++)
    armed += h->itimers[k].value_ns != 0;
  if (armed)
    puts("  itimers:");
  else
    printf("  %-12s none\n", "itimers:");
  for (int k = 0; k < 3; k++) {
    if (h->itimers[k].value_ns == 0)
      continue;
    printf("    %s: ", itimer_names[k]);
    text_timer_time(&h->itimers[k]);
    putchar('\n');
  }
  if (h->ntimers == 0)
    printf("  %-12s none\n", "timers:");
  else
    printf("  %-12s %" PRIu32 "\n", "timers:", h->ntimers);
  for (uint32_t i = 0; i < h->ntimers; i++) {
    const struct ckpt_timer_rec *t = &c->timers[i];
    const char *clock = clock_name(t->clock);
    printf("    timer %" PRId32 ": ", t->id);
    if (clock)
      fputs(clock, stdout);
    else
      printf("clock %" PRId32, t->clock);
    printf(", %s", notify_name(t->notify));
    if (t->notify != SIGEV_NONE) {
      format_signal((uint32_t)t->signo, name, sizeof name);
      printf(" %s", name);
    }
    if (t->notify == SIGEV_THREAD_ID)
      printf(" to the thread in slot %" PRIu32, t->thread_slot);
    fputs(", ", stdout);
    text_timer_time(&t->time);
    putchar('\n');
  }
}

static void print_text_excluded(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_EXCLUDED, "excluded:"))
    return;
  printf("excluded:      %" PRIu64 " range%s\n", c->nexcluded,
         c->nexcluded == 1 ? "" : "s");
  for (uint64_t i = 0; i < c->nexcluded; i++)
    printf("  0x%016" PRIx64 " %12" PRIu64 " bytes\n", c->excluded[i].addr,
           c->excluded[i].len);
}

static void print_text_hooks(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_HOOKS, "hooks:"))
    return;
  printf("hooks:         %" PRIu64 " restart callback%s\n", c->nhooks,
         c->nhooks == 1 ? "" : "s");
  if (c->nhooks && c->symbols_note) {
    fputs("  (functions not named: ", stdout);
    text_str(c->symbols_note, 0);
    puts(")");
  }
  for (uint64_t i = 0; i < c->nhooks; i++) {
    const struct hook_info *h = &c->hooks[i];
    printf("  #%-2" PRIu64 " 0x%016" PRIx64 " ", i, h->fn);
    if (h->symbol) {
      text_symbol(h->symbol, h->symbol_offset);
    } else {
      fputs("?", stdout);
    }
    printf("(0x%" PRIx64 ")\n", h->arg);
  }
}

static void print_text_files(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_FILES, "files:"))
    return;
  printf("files:         %" PRIu32 "\n", c->nfiles);
  if (c->nfiles)
    printf("  %5s  %-9s %12s %12s  %s\n", "fd", "kind", "offset", "size",
           "flags, path");
  for (uint32_t i = 0; i < c->nfiles; i++) {
    const struct ckpt_file_rec *r = &c->files[i].rec;
    char flags[256];
    format_open_flags(r->flags, flags, sizeof flags);
    printf("  %5" PRId32 "  %-9s %12" PRIu64 " %12" PRIu64 "  %s  ", r->fd,
           file_kind_name(r->kind), r->offset, r->size, flags);
    text_str(c->files[i].path, 1);
    if (r->same_as >= 0)
      printf("  (same as fd %" PRId32 ")", r->same_as);
    putchar('\n');
  }
}

static void print_text_layout(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_LAYOUT, "layout:"))
    return;
  const struct ckpt_layout_rec *l = &c->layout;
  puts("layout:");
  printf("  %-12s 0x%" PRIx64 "-0x%" PRIx64 "\n", "heap:", l->heap_base,
         l->heap_end);
  printf("  %-12s 0x%" PRIx64 ", 0x%" PRIx64 " bytes per slot\n", "stacks:",
         l->stack_base, l->stack_stride);
  printf("  %-12s 0x%" PRIx64 "\n", "bss start:", l->bss_start);
  printf("  %-12s %" PRIu32 "\n", "libraries:", l->nlibs);
  for (uint32_t i = 0; i < l->nlibs; i++) {
    printf("    0x%016" PRIx64 "  ", c->libs[i].base);
    text_str(c->libs[i].path, 0);
    if (c->libs[i].dlopen)
      fputs("  (opened with dlopen)", stdout);
    putchar('\n');
  }
}

/* ---- LIBS -------------------------------------------------------------- */

/* What each kind of LIBS target is called in the summary (singular,
 * plural) and in the JSON. */
static const char *const libs_kind_words[LIBS_TARGET_KINDS][2] = {
    [LIBS_TARGET_SYMBOL] = {"named by a symbol", "named by a symbol"},
    [LIBS_TARGET_IFUNC] = {"IFUNC", "IFUNC"},
    [LIBS_TARGET_CODE] = {"dead code address", "dead code addresses"},
    [LIBS_TARGET_PRIVATE] = {"private", "private"},
    [LIBS_TARGET_HANDLE] = {"dlopen handle", "dlopen handles"},
    [LIBS_TARGET_ANCHOR] = {"found by an anchor", "found by an anchor"},
    [LIBS_TARGET_STRING] = {"string", "strings"},
};
static const char *const libs_kind_json[LIBS_TARGET_KINDS] = {
    [LIBS_TARGET_SYMBOL] = "symbol", [LIBS_TARGET_IFUNC] = "ifunc",
    [LIBS_TARGET_CODE] = "code",     [LIBS_TARGET_PRIVATE] = "private",
    [LIBS_TARGET_HANDLE] = "dlopen_handle", [LIBS_TARGET_ANCHOR] = "anchor",
    [LIBS_TARGET_STRING] = "string",
};

/* The bytes of a string a LIBS value points to, quoted, at most 40 of them
 * ("..." after them if there are more). */
#define LIBS_STRING_SHOWN 40
static void text_libs_string(const char *s) {
  char shown[LIBS_STRING_SHOWN + 1];
  size_t len = strlen(s);
  snprintf(shown, sizeof shown, "%s", s);
  text_str(shown, 1);
  if (len > LIBS_STRING_SHOWN)
    fputs("...", stdout);
}

/* The order to show targets in: grouped by library (in the section's
 * order), in increasing value order within each. NULL without memory. */
static uint32_t *libs_target_order(const struct contents *c) {
  uint32_t *order = calloc(c->libs_ntargets ? c->libs_ntargets : 1,
                           sizeof *order);
  uint32_t *next = calloc(c->libs_nlibs ? c->libs_nlibs : 1, sizeof *next);
  if (!order || !next) {
    free(order);
    free(next);
    return NULL;
  }
  uint32_t at = 0;
  for (uint32_t l = 0; l < c->libs_nlibs; l++) {
    next[l] = at;
    at += c->libs_libs[l].nvalues;
  }
  for (uint32_t i = 0; i < c->libs_ntargets; i++)
    order[next[c->libs_targets[i].lib]++] = i;
  free(next);
  return order;
}

/* One value: "0xVALUE  +0xOFFSET  WHAT  N words, one at 0xWHERE". */
static void print_text_libs_target(const struct contents *c,
                                   const struct libs_target_info *t) {
  const struct libs_lib_info *l = &c->libs_libs[t->lib];
  printf("    0x%016" PRIx64 "  +0x%-8" PRIx64 "  ", t->value,
         t->value - l->base);
  switch (libs_target_kind(t)) {
  case LIBS_TARGET_SYMBOL:
    text_str(t->symbol, 0);
    printf("+0x%" PRIx64, t->sym_offset);
    break;
  case LIBS_TARGET_IFUNC:
    text_str(t->symbol, 0);
    if (t->sym_offset)
      printf("+0x%" PRIx64, t->sym_offset);
    fputs(" (IFUNC)", stdout);
    break;
  case LIBS_TARGET_ANCHOR:
    text_str(t->symbol, 0);
    if (t->sym_offset)
      printf("+0x%" PRIx64, t->sym_offset);
    fputs(" (anchor)", stdout);
    break;
  case LIBS_TARGET_STRING:
    fputs("string ", stdout);
    text_libs_string(t->symbol);
    printf(" (%zu bytes)", strlen(t->symbol));
    break;
  case LIBS_TARGET_CODE: fputs("(code, not a function start)", stdout); break;
  case LIBS_TARGET_PRIVATE: fputs("(private data)", stdout); break;
  default: fputs("(dlopen handle)", stdout); break;
  }
  /* The word recorded: one in memory the program owns if there is one,
   * else the first found. */
  if (t->count == 1)
    fputs("  1 word", stdout);
  else
    printf("  %" PRIu32 " words, one", t->count);
  if (t->where)
    printf(" at 0x%" PRIx64, t->where);
  else
    printf("%s in a saved field, not in memory", t->count == 1 ? "," : "");
  /* Only the heap, mappings, stacks and registers hold it: likely a
   * library's own state or left from an earlier call. */
  if (t->flags & CKPT_TARGET_READ_ONLY)
    fputs(" (read-only)", stdout);
  if (t->flags & CKPT_TARGET_STACK_ONLY)
    fputs(" (stacks and registers only)", stdout);
  else if (t->flags & CKPT_TARGET_UNOWNED)
    fputs(" (heap, mappings and stacks only)", stdout);
  putchar('\n');
}

static void print_text_libs(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_LIBS, "pointers into libraries:"))
    return;
  printf("pointers into libraries: %" PRIu32 " value%s in %" PRIu64 " word%s",
         c->libs_ntargets, c->libs_ntargets == 1 ? "" : "s", c->libs_words,
         c->libs_words == 1 ? "" : "s");
  const char *sep = " (";
  for (int k = 0; k < LIBS_TARGET_KINDS; k++) {
    uint32_t n = c->libs_kinds[k];
    if (!n)
      continue;
    printf("%s%" PRIu32 " %s", sep, n, libs_kind_words[k][n != 1]);
    sep = ", ";
  }
  if (*sep == ',')
    putchar(')');
  if (c->libs_unowned)
    printf(", %" PRIu32 " only in the heap, mappings and stacks",
           c->libs_unowned);
  printf("; %" PRIu32 " librar%s\n", c->libs_nlibs,
         c->libs_nlibs == 1 ? "y" : "ies");
  uint32_t *order = libs_target_order(c);
  if (!order && c->libs_ntargets)
    puts("  (out of memory: values not listed)");
  uint32_t at = 0;
  for (uint32_t i = 0; i < c->libs_nlibs; i++) {
    const struct libs_lib_info *l = &c->libs_libs[i];
    char hex[2 * LIBS_BUILD_ID_MAX + 8];
    fputs("  ", stdout);
    text_str(l->soname, 0);
    fputs("  ", stdout);
    text_str(l->name, 0);
    printf("  base 0x%" PRIx64 "  pages 0x%" PRIx64 "-0x%" PRIx64
           "  build-id %s", l->base, l->lo, l->hi,
           l->build_id_len ? tool_hex(l->build_id, l->build_id_len, hex,
                                      sizeof hex)
                           : "none");
    if (l->flags & CKPT_LIB_DLOPEN)
      fputs("  (opened with dlopen)", stdout);
    if (l->nvalues)
      printf("  %" PRIu32 " value%s in %" PRIu64 " word%s\n", l->nvalues,
             l->nvalues == 1 ? "" : "s", l->words, l->words == 1 ? "" : "s");
    else
      puts("  no values");
    for (uint32_t n = 0; order && n < l->nvalues; n++)
      print_text_libs_target(c, &c->libs_targets[order[at + n]]);
    at += l->nvalues;
  }
  free(order);
  for (uint32_t i = 0; i < c->libs_nthreads; i++) {
    const struct ckpt_libs_thread_rec *t = &c->libs_threads[i];
    printf("  glibc thread data: slot %" PRIu32 " pthread_t 0x%" PRIx64,
           t->slot, t->ptid);
    if (t->tls_block)
      printf(", TLS 0x%" PRIx64 " (%" PRIu64 " bytes)\n", t->tls_block,
             t->tls_size);
    else
      puts(", no TLS block");
  }
}

static void print_text_rtstate(const struct contents *c) {
  if (!text_absent(c, CKPT_SEC_RTSTATE, "rtstate:"))
    printf("rtstate:       %" PRIu64 " bytes of runtime state\n",
           c->rtstate_len);
}

static void print_text_sections(const struct ckpt_image *img) {
  size_t n = ckpt_image_num_sections(img);
  printf("sections:      %zu\n", n);
  printf("  %5s  %-8s %-11s %14s %14s  %s\n", "index", "type", "compression",
         "stored", "raw", "checksum");
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    char type[32], comp[32];
    const char *tn = ckpt_section_type_name(s->type);
    const char *cn = compression_name(s->compression);
    if (strcmp(tn, "unknown") != 0)
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

static void print_text(const char *path, const struct ckpt_image *img,
                       const struct contents *c) {
  print_text_header(path, img, &c->meta);
  if (!decodes_contents(img)) {
    printf("note:          %s\n", old_format_note(img));
  } else {
    print_text_threads(c);
    print_text_globals(c);
    print_text_heap(c);
    print_text_maps(c);
    print_text_signals(c);
    print_text_excluded(c);
    print_text_hooks(c);
    print_text_files(c);
    print_text_layout(c);
    print_text_libs(c);
    print_text_rtstate(c);
  }
  for (size_t i = 0; i < c->nrepeated; i++) {
    size_t s = c->repeated[i];
    const char *tn = ckpt_section_type_name(ckpt_image_section(img, s)->type);
    printf("note:          section %zu repeats type %s; only section %ld "
           "(the one a restart reads) is shown\n", s, tn,
           c->first[ckpt_image_section(img, s)->type]);
  }
  print_text_sections(img);
}

/* ---- JSON output --------------------------------------------------------- */

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

static void print_json_header(const char *path, const struct ckpt_image *img,
                              const struct tool_meta *m) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  uint64_t file_size, raw_total;
  image_sizes(img, &file_size, &raw_total);
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
  if (info->version >= 3)
    printf(",\"run_id\":\"%s\",\"mac\":%s",
           tool_hex(info->run_id, CKPT_RUN_ID_LEN, hex, sizeof hex),
           (info->flags & CKPT_IMAGE_FLAG_MAC) ? "true" : "false");
  printf(",\"file_size\":%" PRIu64 ",\"raw_size\":%" PRIu64, file_size,
         raw_total);

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
  if (m->exe_hash)
    printf(",\"exe_hash\":\"%s\"",
           tool_hex(m->exe_hash, CKPT_EXE_HASH_LEN, hex, sizeof hex));
  fputs(",\"libraries\":[", stdout);
  for (size_t i = 0; i < m->nmodules; i++) {
    printf("%s{\"path\":", i ? "," : "");
    json_str(m->modules[i].path);
    printf(",\"build_id\":\"%s\"}",
           tool_hex(m->modules[i].build_id, m->modules[i].build_id_len, hex,
                    sizeof hex));
  }
  fputs("],\"dlopen\":[", stdout);
  for (size_t i = 0; i < m->ndlopens; i++) {
    printf("%s{\"path\":", i ? "," : "");
    json_str(m->dlopens[i].path);
    printf(",\"flags\":%" PRIu32 ",\"handle\":%" PRIu64 "}",
           m->dlopens[i].flags, m->dlopens[i].handle);
  }
  printf("],\"dlopen_count\":%zu", m->ndlopens_total);
  putchar('}');
}

/* ,"KEY": and 1 if the section is there; ,"KEY":null and 0 if not. */
static int json_key(const struct contents *c, uint32_t type, const char *key) {
  printf(",\"%s\":", key);
  if (c->first[type] >= 0)
    return 1;
  fputs("null", stdout);
  return 0;
}

static void json_symbol(const char *key, const char *symbol) {
  printf(",\"%s\":", key);
  if (symbol)
    json_str(symbol_function_name(symbol));
  else
    fputs("null", stdout);
}

static void print_json_thread(const struct thread_info *t) {
  printf("{\"slot\":%" PRIu32 ",\"state\":%" PRIu32 ",\"state_name\":\"%s\""
         ",\"park_kind\":%" PRIu32 ",\"park\":\"%s\",\"stack_lo\":%" PRIu64
         ",\"stack_hi\":%" PRIu64 ",\"ptid\":%" PRIu64 ",\"start_fn\":%" PRIu64,
         t->slot, t->state, state_name(t->state), t->park_kind,
         park_name(t->park_kind), t->stack_lo, t->stack_hi, t->ptid,
         t->start_fn);
  json_symbol("start_symbol", t->slot == 0 ? "main" : t->start_symbol);
  printf(",\"start_symbol_offset\":%" PRIu64 ",\"start_arg\":%" PRIu64
         ",\"retval\":%" PRIu64 ",\"detached\":%s,\"tls_block\":%" PRIu64
         ",\"tls_len\":%" PRIu32 ",\"call_kind\":%" PRIu32,
         t->start_offset, t->start_arg, t->retval,
         t->detached ? "true" : "false", t->tls_block, t->tls_len,
         t->call_kind);
  const char *ck = call_kind_name(t->call_kind);
  if (ck)
    printf(",\"call_kind_name\":\"%s\"", ck);
  else
    fputs(",\"call_kind_name\":null", stdout);
  printf(",\"call_deadline_ns\":%" PRId64 ",\"call_result\":%" PRId64
         ",\"call_errno\":%" PRId32 ",\"call_fd\":%" PRId32
         ",\"user_top\":%" PRIu64 ",\"stack_save_lo\":%" PRIu64
         ",\"stack_saved_bytes\":%" PRIu64 ",\"resume_rip\":%" PRIu64
         ",\"nkey_values\":%" PRIu32 ",\"key_values\":[",
         t->call_deadline_ns, t->call_result, t->call_errno, t->call_fd,
         t->user_top, t->stack_save_lo, t->stack_saved_bytes, t->resume_rip,
         t->nkey_values);
  for (uint32_t i = 0; i < t->nkey_set; i++)
    printf("%s{\"key\":%" PRIu32 ",\"value\":%" PRIu64 "}", i ? "," : "",
           t->key_values[i].key, t->key_values[i].value);
  fputs("],\"frames\":[", stdout);
  for (uint32_t i = t->nframes; i-- > 0;) {
    const struct frame_info *f = &t->frames[i];
    fputs(i + 1 < t->nframes ? ",{\"function\":" : "{\"function\":", stdout);
    json_str(frame_function_name(f));
    fputs(",\"file\":", stdout);
    json_str(frame_file(f));
    printf(",\"line\":%" PRIu32 ",\"pc\":%" PRIu64 ",\"cfa\":%" PRIu64
           ",\"func\":%" PRIu64 ",\"kind\":\"%s\",\"exact_pc\":%s"
           ",\"excluded\":%" PRIu32 "}",
           f->line, f->pc, f->cfa, f->func,
           f->kind == CKPT_FRAME_RUNTIME ? "runtime" : "program",
           (f->flags & CKPT_FRAME_EXACT_PC) ? "true" : "false", f->excluded);
  }
  fputs("]}", stdout);
}

static void print_json_threads(const struct contents *c) {
  if (json_key(c, CKPT_SEC_THREADS, "threads")) {
    putchar('[');
    for (uint32_t k = 0; k < c->nthreads; k++) {
      if (k)
        putchar(',');
      print_json_thread(&c->threads[k]);
    }
    putchar(']');
  }
  if (!json_key(c, CKPT_SEC_THREADS, "keys"))
    return;
  putchar('[');
  for (uint32_t k = 0; k < c->nkeys; k++) {
    const struct key_info *ki = &c->keys[k];
    printf("%s{\"key\":%" PRIu32 ",\"alive\":%s,\"destructor\":%" PRIu64,
           k ? "," : "", k, ki->alive ? "true" : "false", ki->destructor);
    json_symbol("destructor_symbol", ki->symbol);
    printf(",\"destructor_symbol_offset\":%" PRIu64 "}", ki->symbol_offset);
  }
  putchar(']');
}

static void print_json_globals(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_GLOBALS, "globals"))
    return;
  printf("{\"count\":%zu,\"size\":%" PRIu64 ",\"saved\":%" PRIu64
         ",\"excluded\":%" PRIu64 ",\"list\":[", c->nglobals, c->globals_size,
         c->globals_saved, c->globals_excluded);
  for (size_t i = 0; i < c->nglobals; i++) {
    const struct global_info *g = &c->globals[i];
    fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
    json_str(g->name);
    printf(",\"addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"saved\":%" PRIu64
           ",\"excluded\":%" PRIu64 ",\"extents\":%" PRIu64
           ",\"flags\":%" PRIu32
           ",\"excluded_global\":%s}", g->addr, g->size, g->saved, g->excluded,
           g->extents, g->flags,
           g->flags & CKPT_GLOBAL_EXCLUDED ? "true" : "false");
  }
  fputs("]}", stdout);
}

static void print_json_heap(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_HEAP, "heap"))
    return;
  const struct ckpt_heap_rec *h = &c->heap;
  printf("{\"base\":%" PRIu64 ",\"end\":%" PRIu64 ",\"arena_bytes\":%" PRIu64
         ",\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64
         ",\"excluded_bytes\":%" PRIu64 ",\"stored_bytes\":%" PRIu64
         ",\"extents\":%" PRIu64 "}", heap_base, h->heap_end,
         h->heap_end - heap_base, h->blocks, h->bytes, h->excluded_bytes,
         c->heap_stored, c->heap_extents);
}

static void print_json_maps(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_MAPS, "mappings"))
    return;
  printf("{\"pieces\":%" PRIu64 ",\"file_pieces\":%" PRIu64
         ",\"bytes\":%" PRIu64 ",\"stored_bytes\":%" PRIu64
         ",\"extents\":%" PRIu64 "}",
         c->maps_pieces, c->maps_file_pieces, c->maps_bytes, c->maps_stored,
         c->maps_extents);
}

/* "KEY":[names] of the signals of SET, each by itself (no runs). */
static void json_signal_names(const char *key, uint64_t set) {
  char name[16];
  printf(",\"%s\":[", key);
  int first = 1;
  for (uint32_t s = 1; s <= SIGNAL_MAX; s++) {
    if (!((set >> (s - 1)) & 1))
      continue;
    format_signal(s, name, sizeof name);
    printf("%s\"%s\"", first ? "" : ",", name);
    first = 0;
  }
  putchar(']');
}

static void json_itimer(const char *key, const struct ckpt_itimer_rec *t) {
  printf("\"%s\":{\"value_ns\":%" PRIu64 ",\"interval_ns\":%" PRIu64 "}",
         key, t->value_ns, t->interval_ns);
}

static void print_json_signals(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_SIGNALS, "signals"))
    return;
  const struct ckpt_signals_head *h = &c->signals;
  char name[16];
  fputs("{\"threads\":[", stdout);
  for (uint32_t i = 0; i < h->nthreads; i++) {
    const struct ckpt_thread_signals_rec *t = &c->signal_threads[i];
    printf("%s{\"slot\":%" PRIu32 ",\"blocked\":%" PRIu64, i ? "," : "",
           t->slot, t->mask);
    json_signal_names("blocked_names", t->mask);
    printf(",\"pending\":%" PRIu64, t->pending);
    json_signal_names("pending_names", t->pending);
    printf(",\"altstack_flags\":%" PRId32 ",\"altstack\":",
           t->altstack_flags);
    if ((uint32_t)t->altstack_flags & SS_DISABLE)
      fputs("null}", stdout);
    else
      printf("{\"sp\":%" PRIu64 ",\"size\":%" PRIu64 "}}", t->altstack_sp,
             t->altstack_size);
  }
  fputs("],\"pending\":[", stdout);
  for (uint32_t i = 0; i < h->npending; i++) {
    const struct pending_info *p = &c->pending[i];
    const char *code = si_code_name(p->code);
    format_signal(p->signo, name, sizeof name);
    printf("%s{\"signo\":%" PRIu32 ",\"name\":\"%s\",\"has_info\":%s",
           i ? "," : "", p->signo, name, p->has_info ? "true" : "false");
    if (!p->has_info) {
      fputs("}", stdout);
      continue;
    }
    printf(",\"code\":%" PRId32 ",\"code_name\":", p->code);
    if (code)
      printf("\"%s\"", code);
    else
      fputs("null", stdout);
    printf(",\"errno\":%" PRId32, p->errno_value);
    if (sent_by_process(p))
      printf(",\"sender_pid\":%" PRId32 ",\"sender_uid\":%" PRIu32 "}",
             p->pid, p->uid);
    else
      fputs(",\"sender_pid\":null,\"sender_uid\":null}", stdout);
  }
  fputs("],\"itimers\":{", stdout);
  for (int k = 0; k < 3; k++) {
    if (k)
      putchar(',');
    json_itimer(itimer_json_keys[k], &h->itimers[k]);
  }
  fputs("},\"timers\":[", stdout);
  for (uint32_t i = 0; i < h->ntimers; i++) {
    const struct ckpt_timer_rec *t = &c->timers[i];
    const char *clock = clock_name(t->clock);
    printf("%s{\"id\":%" PRId32 ",\"clock\":%" PRId32 ",\"clock_name\":",
           i ? "," : "", t->id, t->clock);
    if (clock)
      printf("\"%s\"", clock);
    else
      fputs("null", stdout);
    printf(",\"notify\":%" PRId32 ",\"notify_name\":\"%s\",\"signo\":%"
           PRId32 ",\"signal_name\":", t->notify, notify_name(t->notify),
           t->signo);
    if (t->notify != SIGEV_NONE) {
      format_signal((uint32_t)t->signo, name, sizeof name);
      printf("\"%s\"", name);
    } else {
      fputs("null", stdout);
    }
    printf(",\"value\":%" PRIu64 ",\"thread_slot\":", t->value);
    if (t->notify == SIGEV_THREAD_ID)
      printf("%" PRIu32, t->thread_slot);
    else
      fputs("null", stdout);
    printf(",\"value_ns\":%" PRIu64 ",\"interval_ns\":%" PRIu64 "}",
           t->time.value_ns, t->time.interval_ns);
  }
  fputs("]}", stdout);
}

static void print_json_excluded(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_EXCLUDED, "excluded"))
    return;
  putchar('[');
  for (uint64_t i = 0; i < c->nexcluded; i++)
    printf("%s{\"addr\":%" PRIu64 ",\"len\":%" PRIu64 "}", i ? "," : "",
           c->excluded[i].addr, c->excluded[i].len);
  putchar(']');
}

static void print_json_hooks(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_HOOKS, "hooks"))
    return;
  fputs("{\"symbols_note\":", stdout);
  if (c->nhooks && c->symbols_note)
    json_str(c->symbols_note);
  else
    fputs("null", stdout);
  fputs(",\"list\":[", stdout);
  for (uint64_t i = 0; i < c->nhooks; i++) {
    const struct hook_info *h = &c->hooks[i];
    printf("%s{\"fn\":%" PRIu64 ",\"arg\":%" PRIu64 ",\"symbol\":",
           i ? "," : "", h->fn, h->arg);
    if (h->symbol)
      json_str(h->symbol);
    else
      fputs("null", stdout);
    printf(",\"symbol_offset\":%" PRIu64 "}", h->symbol_offset);
  }
  fputs("]}", stdout);
}

static void print_json_files(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_FILES, "files"))
    return;
  putchar('[');
  for (uint32_t i = 0; i < c->nfiles; i++) {
    const struct ckpt_file_rec *r = &c->files[i].rec;
    char flags[256];
    format_open_flags(r->flags, flags, sizeof flags);
    printf("%s{\"fd\":%" PRId32 ",\"kind\":%" PRIu32
           ",\"kind_name\":\"%s\",\"flags\":%" PRId32 ",\"flags_names\":",
           i ? "," : "", r->fd, r->kind, file_kind_name(r->kind), r->flags);
    json_str(flags);
    printf(",\"offset\":%" PRIu64 ",\"size\":%" PRIu64 ",\"path\":",
           r->offset, r->size);
    json_str(c->files[i].path);
    if (r->same_as >= 0)
      printf(",\"same_as\":%" PRId32 "}", r->same_as);
    else
      fputs(",\"same_as\":null}", stdout);
  }
  putchar(']');
}

static void print_json_layout(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_LAYOUT, "layout"))
    return;
  const struct ckpt_layout_rec *l = &c->layout;
  printf("{\"heap_base\":%" PRIu64 ",\"heap_end\":%" PRIu64
         ",\"stack_base\":%" PRIu64 ",\"stack_stride\":%" PRIu64
         ",\"bss_start\":%" PRIu64 ",\"libraries\":[", l->heap_base,
         l->heap_end, l->stack_base, l->stack_stride, l->bss_start);
  for (uint32_t i = 0; i < l->nlibs; i++) {
    printf("%s{\"base\":%" PRIu64 ",\"path\":", i ? "," : "", c->libs[i].base);
    json_str(c->libs[i].path);
    printf(",\"dlopen\":%s}", c->libs[i].dlopen ? "true" : "false");
  }
  fputs("]}", stdout);
}

static void print_json_libs(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_LIBS, "libs"))
    return;
  printf("{\"values\":%" PRIu32 ",\"words\":%" PRIu64
         ",\"unowned\":%" PRIu32 ",\"kinds\":{",
         c->libs_ntargets, c->libs_words, c->libs_unowned);
  for (int k = 0; k < LIBS_TARGET_KINDS; k++)
    printf("%s\"%s\":%" PRIu32, k ? "," : "", libs_kind_json[k],
           c->libs_kinds[k]);
  fputs("},\"libraries\":[", stdout);
  for (uint32_t i = 0; i < c->libs_nlibs; i++) {
    const struct libs_lib_info *l = &c->libs_libs[i];
    char hex[2 * LIBS_BUILD_ID_MAX + 8];
    printf("%s{\"index\":%" PRIu32 ",\"name\":", i ? "," : "", i);
    json_str(l->name);
    fputs(",\"soname\":", stdout);
    json_str(l->soname);
    printf(",\"build_id\":\"%s\",\"base\":%" PRIu64 ",\"lo\":%" PRIu64
           ",\"hi\":%" PRIu64 ",\"flags\":%" PRIu32 ",\"dlopen\":%s"
           ",\"values\":%" PRIu32 ",\"words\":%" PRIu64 "}",
           l->build_id_len
               ? tool_hex(l->build_id, l->build_id_len, hex, sizeof hex)
               : "",
           l->base, l->lo, l->hi, l->flags,
           (l->flags & CKPT_LIB_DLOPEN) ? "true" : "false", l->nvalues,
           l->words);
  }
  fputs("],\"pointers\":[", stdout);
  for (uint32_t i = 0; i < c->libs_ntargets; i++) {
    const struct libs_target_info *t = &c->libs_targets[i];
    const struct libs_lib_info *l = &c->libs_libs[t->lib];
    printf("%s{\"value\":%" PRIu64 ",\"lib\":%" PRIu32 ",\"soname\":",
           i ? "," : "", t->value, t->lib);
    json_str(l->soname);
    printf(",\"offset\":%" PRIu64 ",\"kind\":\"%s\",\"flags\":%" PRIu32
           ",\"symbol\":", t->value - l->base,
           libs_kind_json[libs_target_kind(t)], t->flags);
    /* A string's bytes are its "symbol", even none. */
    if (*t->symbol || (t->flags & CKPT_TARGET_STRING))
      json_str(t->symbol);
    else
      fputs("null", stdout);
    printf(",\"symbol_offset\":%" PRIu64 ",\"count\":%" PRIu32
           ",\"unowned\":%s,\"where\":", t->sym_offset, t->count,
           (t->flags & CKPT_TARGET_UNOWNED) ? "true" : "false");
    if (t->where)
      printf("%" PRIu64 "}", t->where);
    else
      fputs("null}", stdout);
  }
  fputs("],\"threads\":[", stdout);
  for (uint32_t i = 0; i < c->libs_nthreads; i++) {
    const struct ckpt_libs_thread_rec *t = &c->libs_threads[i];
    printf("%s{\"slot\":%" PRIu32 ",\"ptid\":%" PRIu64
           ",\"tls_block\":%" PRIu64 ",\"tls_size\":%" PRIu64 "}",
           i ? "," : "", t->slot, t->ptid, t->tls_block, t->tls_size);
  }
  fputs("]}", stdout);
}

static void print_json_sections(const struct ckpt_image *img) {
  fputs(",\"sections\":[", stdout);
  size_t n = ckpt_image_num_sections(img);
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
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
    printf(",\"compression\":%" PRIu32 ",\"compression_name\":",
           s->compression);
    if (cn)
      printf("\"%s\"", cn);
    else
      fputs("null", stdout);
    printf(",\"offset\":%" PRIu64 ",\"stored_size\":%" PRIu64
           ",\"raw_size\":%" PRIu64 ",\"checksum\":\"%016" PRIx64 "\"}",
           s->offset, s->stored_size, s->raw_size, s->checksum);
  }
  putchar(']');
}

static void print_json(const char *path, const struct ckpt_image *img,
                       const struct contents *c, int verified) {
  print_json_header(path, img, &c->meta);
  int decoded = decodes_contents(img);
  printf(",\"contents_decoded\":%s", decoded ? "true" : "false");
  json_opt_str("note", decoded ? NULL : old_format_note(img));
  /* In an older file nothing is decoded: every key is null. */
  struct contents none;
  contents_init(&none);
  const struct contents *d = decoded ? c : &none;
  print_json_threads(d);
  print_json_globals(d);
  print_json_heap(d);
  print_json_maps(d);
  print_json_signals(d);
  print_json_excluded(d);
  print_json_hooks(d);
  print_json_files(d);
  print_json_layout(d);
  print_json_libs(d);
  if (decoded && d->first[CKPT_SEC_RTSTATE] >= 0)
    printf(",\"rtstate_bytes\":%" PRIu64, d->rtstate_len);
  else
    fputs(",\"rtstate_bytes\":null", stdout);
  fputs(",\"repeated_sections\":[", stdout);
  for (size_t i = 0; i < c->nrepeated; i++)
    printf("%s%zu", i ? "," : "", c->repeated[i]);
  putchar(']');
  print_json_sections(img);
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
   * one error line and no partial output. --verify first checks the whole
   * container (sections of unknown types and padding included). */
  if (verify && ckpt_image_verify(img, err, sizeof err) < 0)
    tool_die(1, "%s", *err ? err : "verification failed");
  struct contents contents;
  contents_init(&contents);
  if (load_contents(img, path, verify, &contents, err, sizeof err) < 0)
    tool_die(1, "%s", *err ? err : "cannot read the checkpoint");
  resolve_symbols(img, &contents);

  if (json)
    print_json(path, img, &contents, verify);
  else {
    print_text(path, img, &contents);
    if (verify)
      puts("verify: ok");
  }
  contents_free(&contents);
  ckpt_image_close(img);
  if (fflush(stdout) != 0)
    tool_die(1, "cannot write the output");
  return 0;
}
