/* tools/toolutil.h - helpers shared by ckpt-cc, ckpt-run and ckpt-inspect. */
#ifndef CKPT_TOOLUTIL_H
#define CKPT_TOOLUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct ckpt_image;

/* ---- Messages -------------------------------------------------------------
 * Every message is one line on stderr: "TOOL: error: ..." or
 * "TOOL: warning: ...". Line breaks inside the formatted text are replaced,
 * so a message built from untrusted strings stays on one line. */
void tool_set_name(const char *name);
const char *tool_name(void);
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the error and exit with STATUS (2: usage error, 1: anything else). */
void tool_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) __attribute__((noreturn));

/* ---- Where the tool lives -------------------------------------------------
 * The prefix the running executable is installed under: /proc/self/exe with
 * its last two components (bin/NAME) removed. The build tree has the same
 * shape, so PREFIX/lib/ckpt and PREFIX/include work from either. Returns 0,
 * or -1 with errno set. */
int tool_self_prefix(char *buf, size_t len);

/* ---- Formatting ------------------------------------------------------------ */
/* Lower-case hex of N bytes into OUT (needs 2*N+1 bytes); "(none)" if N is 0.
 * Returns OUT. */
char *tool_hex(const uint8_t *bytes, size_t n, char *out, size_t outlen);
/* Parse a decimal number of seconds ("30", "0.5", ".25"; no sign, exponent
 * or hex) of at least 0.001 and at most 10^9. Returns 0 and stores it in
 * milliseconds (rounded), or -1. */
int tool_parse_seconds(const char *s, uint64_t *ms);
/* Parse a decimal unsigned integer in [MIN, MAX]. Returns 0 or -1. */
int tool_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* ---- ELF build-id ---------------------------------------------------------
 * Read the GNU build-id (NT_GNU_BUILD_ID note) of the ELF file PATH, from its
 * PT_NOTE segments or, failing that, its SHT_NOTE sections. Every offset and
 * length is checked against the file: a non-ELF, foreign or truncated file
 * is an error, never a crash. Returns 0 with ID[0..*IDLEN) filled, or -1 with
 * ERR describing the problem (without the path; errno is set when the file
 * could not be opened or read; ENODATA when a sound ELF file has no
 * build-id note). */
#define TOOL_BUILD_ID_MAX 64
int tool_elf_build_id(const char *path, uint8_t *id, size_t idmax,
                      size_t *idlen, char *err, size_t errlen);

/* ---- ELF function symbols --------------------------------------------------
 * For each of the N addresses ADDRS[i], find the function symbol (STT_FUNC or
 * STT_GNU_IFUNC, from .symtab, or .dynsym if the file has no .symtab) of the
 * ELF file PATH whose range [value, value + size) holds it, or whose value
 * equals it for symbols of size 0. NAMES[i] is set to a malloc'ed copy of the
 * name and OFFSETS[i] to ADDRS[i] - value, or NAMES[i] to NULL if no symbol
 * matches; the caller frees the names. Every offset and length is checked
 * against the file. Returns 0, or -1 with ERR describing the problem (without
 * the path) and every NAMES[i] NULL. */
int tool_elf_function_symbols(const char *path, const uint64_t *addrs,
                              size_t n, char **names, uint64_t *offsets,
                              char *err, size_t errlen);

/* ---- META section ---------------------------------------------------------
 * The META section is a sequence of records {u32 tag, u32 length,
 * bytes[length]} (include/ckpt/abi.h). tool_meta_load reads the first META
 * section of an image into one buffer and parses it: the list fields point
 * into that buffer, the single strings into a second buffer holding them
 * NUL-terminated. Absent records leave their field NULL / has_* zero. */
struct tool_meta {
  char *buf;    /* the section's raw bytes (owned) */
  size_t len;
  char *strbuf; /* NUL-terminated copies of EXE_PATH, CWD, DIR (owned) */

  const char *exe_path; /* EXE_PATH */
  const char *cwd;      /* CWD */
  const char *dir;      /* DIR */
  char **argv;          /* ARGV: argc strings + NULL (owned array) */
  size_t argc;
  char **envp;          /* ENVP: envc strings + NULL (owned array) */
  size_t envc;
  int has_personality, has_pid, has_interval, has_keep, has_umask;
  uint32_t personality;
  uint64_t pid;
  uint64_t interval_ms; /* 0 = no interval */
  uint32_t keep;
  uint32_t umask;
  const uint8_t *exe_hash; /* EXE_HASH: CKPT_EXE_HASH_LEN bytes, or NULL */
  /* MODULE records: the libraries built with ckpt-cc -shared. */
  struct tool_meta_module {
    const char *path;
    const uint8_t *build_id;
    uint32_t build_id_len;
  } modules[64];
  size_t nmodules;
  /* DLOPEN records: the program's dlopen calls in force, oldest first. */
  struct tool_meta_dlopen {
    const char *path; /* "" for the program itself */
    uint64_t handle;
    uint32_t flags;
  } dlopens[64];
  size_t ndlopens, ndlopens_total; /* shown, and recorded */
  size_t num_records;
};

/* Parse LEN bytes at BUF, which must outlive M; M does not own BUF (m->buf
 * stays NULL). WHAT names the file in messages.
 * Returns 0, or -1 with ERR = "WHAT: malformed META section: ...". */
int tool_meta_parse(char *buf, size_t len, const char *what,
                    struct tool_meta *m, char *err, size_t errlen);
/* Read and parse the first META section of IMG (opened from PATH). Returns 0,
 * or -1 with ERR naming the file. */
int tool_meta_load(struct ckpt_image *img, const char *path,
                   struct tool_meta *m, char *err, size_t errlen);
void tool_meta_free(struct tool_meta *m);

#endif /* CKPT_TOOLUTIL_H */
