/* tools/toolutil.c - messages, self location, ELF build-id and META parsing for the ckpt tools. */
#include "toolutil.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/abi.h"
#include "image.h"

/* ---- Messages ------------------------------------------------------------ */

static const char *g_tool_name = "ckpt";

void tool_set_name(const char *name) { g_tool_name = name; }
const char *tool_name(void) { return g_tool_name; }

static void tool_vmsg(const char *level, const char *fmt, va_list ap) {
  char text[4096];
  vsnprintf(text, sizeof text, fmt, ap);
  /* One line, whatever the strings in it contain. */
  for (char *p = text; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '\n' || c == '\r' || c == '\t')
      *p = ' ';
    else if (c < 0x20 || c == 0x7f)
      *p = '?';
  }
  char line[4096 + 128];
  int n = snprintf(line, sizeof line, "%s: %s: %s\n", g_tool_name, level, text);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof line) {
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
  fflush(stdout);
  /* One write, so concurrent output never splits the line. */
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = write(STDERR_FILENO, line + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += w;
  }
}

void tool_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tool_vmsg("error", fmt, ap);
  va_end(ap);
}

void tool_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tool_vmsg("warning", fmt, ap);
  va_end(ap);
}

void tool_die(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tool_vmsg("error", fmt, ap);
  va_end(ap);
  exit(status);
}

/* ---- Where the tool lives ------------------------------------------------ */

int tool_self_prefix(char *buf, size_t len) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0)
    return -1;
  if ((size_t)n >= sizeof exe - 1) {
    errno = ENAMETOOLONG;
    return -1;
  }
  exe[n] = '\0';
  /* Strip "/NAME" and then "/bin" (whatever the directory is called). */
  for (int i = 0; i < 2; i++) {
    char *slash = strrchr(exe, '/');
    if (!slash) {
      errno = ENOENT;
      return -1;
    }
    if (slash == exe) {
      slash[1] = '\0'; /* keep the root */
      break;
    }
    *slash = '\0';
  }
  if (strlen(exe) + 1 > len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, exe, strlen(exe) + 1);
  return 0;
}

/* ---- Formatting ---------------------------------------------------------- */

char *tool_hex(const uint8_t *bytes, size_t n, char *out, size_t outlen) {
  static const char digits[] = "0123456789abcdef";
  if (outlen == 0)
    return out;
  if (n == 0) {
    snprintf(out, outlen, "(none)");
    return out;
  }
  size_t o = 0;
  for (size_t i = 0; i < n && o + 2 < outlen; i++) {
    out[o++] = digits[bytes[i] >> 4];
    out[o++] = digits[bytes[i] & 15];
  }
  out[o] = '\0';
  return out;
}

int tool_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  if (!s || !*s)
    return -1;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  if (v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int tool_parse_seconds(const char *s, uint64_t *ms) {
  if (!s || !*s)
    return -1;
  uint64_t whole = 0, frac_ms = 0;
  int ndigits = 0, nfrac = 0, round_up = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
    whole = whole * 10 + (uint64_t)(*p - '0');
    if (whole > 1000000000ULL) /* over 31 years: surely a mistake */
      return -1;
  }
  if (*p == '.') {
    p++;
    for (; *p >= '0' && *p <= '9'; p++, nfrac++) {
      if (nfrac < 3)
        frac_ms = frac_ms * 10 + (uint64_t)(*p - '0');
      else if (nfrac == 3)
        round_up = *p >= '5';
    }
    for (int i = nfrac; i < 3; i++)
      frac_ms *= 10;
  }
  if (*p != '\0' || ndigits + nfrac == 0)
    return -1;
  uint64_t v = whole * 1000 + frac_ms + (uint64_t)round_up;
  if (v == 0)
    return -1;
  *ms = v;
  return 0;
}

/* ---- ELF build-id -------------------------------------------------------- */

#define NOTE_SEGMENT_MAX (16u << 20)

static int pread_full(int fd, void *buf, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0) {
      errno = 0;
      return -1;
    }
    done += (size_t)n;
  }
  return 0;
}

/* Does [off, off+len) lie inside a file of FSIZE bytes? */
static int in_file(uint64_t off, uint64_t len, uint64_t fsize) {
  return off <= fsize && len <= fsize - off;
}

/* Scan a block of ELF notes for NT_GNU_BUILD_ID. Returns 1 if found (ID
 * filled), 0 if not, -1 if the build-id note is unusable (ERR filled). */
static int scan_notes(const uint8_t *buf, uint64_t len, uint64_t align,
                      uint8_t *id, size_t idmax, size_t *idlen, char *err,
                      size_t errlen) {
  if (align != 8)
    align = 4;
  uint64_t off = 0;
  while (len - off >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr nh;
    memcpy(&nh, buf + off, sizeof nh);
    off += sizeof nh;
    uint64_t namesz = nh.n_namesz, descsz = nh.n_descsz;
    uint64_t name_padded = (namesz + align - 1) & ~(align - 1);
    if (name_padded > len - off)
      return 0; /* malformed: stop looking in this block */
    const uint8_t *name = buf + off;
    off += name_padded;
    if (descsz > len - off)
      return 0;
    const uint8_t *desc = buf + off;
    if (nh.n_type == NT_GNU_BUILD_ID && namesz == 4 &&
        memcmp(name, "GNU", 4) == 0) {
      if (descsz == 0 || descsz > idmax) {
        snprintf(err, errlen, "has a GNU build-id note of %llu bytes",
                 (unsigned long long)descsz);
        return -1;
      }
      memcpy(id, desc, descsz);
      *idlen = descsz;
      return 1;
    }
    uint64_t desc_padded = (descsz + align - 1) & ~(align - 1);
    if (desc_padded > len - off)
      return 0;
    off += desc_padded;
  }
  return 0;
}

/* Read one note block at [off, off+size) of the file and scan it. */
static int scan_note_block(int fd, uint64_t fsize, uint64_t off, uint64_t size,
                           uint64_t align, uint8_t *id, size_t idmax,
                           size_t *idlen, char *err, size_t errlen) {
  if (size == 0)
    return 0;
  if (!in_file(off, size, fsize)) {
    snprintf(err, errlen, "is truncated (a note block lies past the end)");
    return -1;
  }
  if (size > NOTE_SEGMENT_MAX)
    return 0; /* not a build-id block: no real one is that large */
  uint8_t *buf = malloc(size);
  if (!buf) {
    snprintf(err, errlen, "cannot be read (out of memory)");
    return -1;
  }
  if (pread_full(fd, buf, size, off) < 0) {
    snprintf(err, errlen, "cannot be read: %s",
             errno ? strerror(errno) : "unexpected end of file");
    free(buf);
    return -1;
  }
  int r = scan_notes(buf, size, align, id, idmax, idlen, err, errlen);
  free(buf);
  return r;
}

int tool_elf_build_id(const char *path, uint8_t *id, size_t idmax,
                      size_t *idlen, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot be opened: %s", strerror(e));
    errno = e;
    return -1;
  }
  int ret = -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    snprintf(err, errlen, "cannot be examined: %s", strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "is not a regular file");
    goto out;
  }
  uint64_t fsize = (uint64_t)st.st_size;
  Elf64_Ehdr eh;
  if (fsize < EI_NIDENT || pread_full(fd, eh.e_ident, EI_NIDENT, 0) < 0 ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    snprintf(err, errlen, "is not an ELF file");
    goto out;
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    snprintf(err, errlen, "is not a 64-bit little-endian ELF file");
    goto out;
  }
  if (fsize < sizeof eh || pread_full(fd, &eh, sizeof eh, 0) < 0) {
    snprintf(err, errlen, "is truncated (incomplete ELF header)");
    goto out;
  }

  /* Both header tables and every loadable segment must lie in the file: a
   * truncated copy is refused here rather than crashing once executed. */
  if (eh.e_phnum > 0 && eh.e_phnum != PN_XNUM &&
      (eh.e_phentsize < sizeof(Elf64_Phdr) ||
       !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize, fsize))) {
    snprintf(err, errlen, "is truncated or damaged (program headers)");
    goto out;
  }
  if (eh.e_shnum > 0 &&
      (eh.e_shentsize < sizeof(Elf64_Shdr) ||
       !in_file(eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize, fsize))) {
    snprintf(err, errlen, "is truncated or damaged (section headers)");
    goto out;
  }

  /* Program headers: PT_NOTE segments. */
  if (eh.e_phnum > 0 && eh.e_phnum != PN_XNUM) {
    for (unsigned i = 0; i < eh.e_phnum; i++) {
      Elf64_Phdr ph;
      if (pread_full(fd, &ph, sizeof ph,
                     eh.e_phoff + (uint64_t)i * eh.e_phentsize) < 0) {
        snprintf(err, errlen, "cannot be read (program header %u)", i);
        goto out;
      }
      if (ph.p_type == PT_LOAD && !in_file(ph.p_offset, ph.p_filesz, fsize)) {
        snprintf(err, errlen, "is truncated (segment %u lies past the end)",
                 i);
        goto out;
      }
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
      Elf64_Phdr ph;
      if (pread_full(fd, &ph, sizeof ph,
                     eh.e_phoff + (uint64_t)i * eh.e_phentsize) < 0) {
        snprintf(err, errlen, "cannot be read (program header %u)", i);
        goto out;
      }
      if (ph.p_type != PT_NOTE)
        continue;
      int r = scan_note_block(fd, fsize, ph.p_offset, ph.p_filesz, ph.p_align,
                              id, idmax, idlen, err, errlen);
      if (r != 0) {
        ret = r > 0 ? 0 : -1;
        goto out;
      }
    }
  }

  /* Section headers: SHT_NOTE sections (objects without program headers). */
  if (eh.e_shnum > 0) {
    for (unsigned i = 0; i < eh.e_shnum; i++) {
      Elf64_Shdr sh;
      if (pread_full(fd, &sh, sizeof sh,
                     eh.e_shoff + (uint64_t)i * eh.e_shentsize) < 0) {
        snprintf(err, errlen, "cannot be read (section header %u)", i);
        goto out;
      }
      if (sh.sh_type != SHT_NOTE)
        continue;
      int r = scan_note_block(fd, fsize, sh.sh_offset, sh.sh_size,
                              sh.sh_addralign, id, idmax, idlen, err, errlen);
      if (r != 0) {
        ret = r > 0 ? 0 : -1;
        goto out;
      }
    }
  }
  snprintf(err, errlen, "has no GNU build-id");
  close(fd);
  errno = ENODATA; /* a well-formed ELF file without the note */
  return -1;
out:
  close(fd);
  if (ret < 0)
    errno = 0;
  return ret;
}

/* ---- ELF function symbols ------------------------------------------------ */

/* .symtab and its string table are read whole; no real executable has
 * tables anywhere near this large. */
#define SYMBOL_TABLE_MAX (256u << 20)

/* Read [off, off+size) of the file into a new buffer with a NUL after it. */
static char *read_file_block(int fd, uint64_t fsize, uint64_t off,
                             uint64_t size, const char *what, char *err,
                             size_t errlen) {
  if (!in_file(off, size, fsize)) {
    snprintf(err, errlen, "is truncated (its %s lies past the end)", what);
    return NULL;
  }
  if (size > SYMBOL_TABLE_MAX) {
    snprintf(err, errlen, "has an implausibly large %s (%llu bytes)", what,
             (unsigned long long)size);
    return NULL;
  }
  char *buf = malloc((size_t)size + 1);
  if (!buf) {
    snprintf(err, errlen, "cannot be read (out of memory for its %s)", what);
    return NULL;
  }
  if (pread_full(fd, buf, (size_t)size, off) < 0) {
    snprintf(err, errlen, "cannot be read: %s",
             errno ? strerror(errno) : "unexpected end of file");
    free(buf);
    return NULL;
  }
  buf[size] = '\0';
  return buf;
}

/* The first section header of TYPE. Returns 1 (OUT filled), 0 if there is
 * none, -1 with ERR filled if a header cannot be read. */
static int find_section_of_type(int fd, const Elf64_Ehdr *eh, uint32_t type,
                                Elf64_Shdr *out, char *err, size_t errlen) {
  for (unsigned i = 0; i < eh->e_shnum; i++) {
    if (pread_full(fd, out, sizeof *out,
                   eh->e_shoff + (uint64_t)i * eh->e_shentsize) < 0) {
      snprintf(err, errlen, "cannot be read (section header %u)", i);
      return -1;
    }
    if (out->sh_type == type)
      return 1;
  }
  return 0;
}

int tool_elf_function_symbols(const char *path, const uint64_t *addrs,
                              size_t n, char **names, uint64_t *offsets,
                              char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    names[i] = NULL;
    offsets[i] = 0;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot be opened: %s", strerror(errno));
    return -1;
  }
  int ret = -1;
  char *symtab = NULL, *strtab = NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    snprintf(err, errlen, "cannot be examined: %s", strerror(errno));
    goto out;
  }
  uint64_t fsize = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
  Elf64_Ehdr eh;
  if (fsize < sizeof eh || pread_full(fd, &eh, sizeof eh, 0) < 0 ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    snprintf(err, errlen, "is not a 64-bit little-endian ELF file");
    goto out;
  }
  if (eh.e_shnum == 0 || eh.e_shentsize < sizeof(Elf64_Shdr) ||
      !in_file(eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize, fsize)) {
    snprintf(err, errlen, "has no usable section headers");
    goto out;
  }
  /* .symtab has the static functions too; .dynsym only what is exported. */
  Elf64_Shdr table, strings;
  int found = find_section_of_type(fd, &eh, SHT_SYMTAB, &table, err, errlen);
  if (found == 0)
    found = find_section_of_type(fd, &eh, SHT_DYNSYM, &table, err, errlen);
  if (found < 0)
    goto out;
  if (found == 0) {
    snprintf(err, errlen, "has no symbol table");
    goto out;
  }
  if (table.sh_link >= eh.e_shnum ||
      pread_full(fd, &strings, sizeof strings,
                 eh.e_shoff + (uint64_t)table.sh_link * eh.e_shentsize) < 0 ||
      strings.sh_type != SHT_STRTAB) {
    snprintf(err, errlen, "has a symbol table without a string table");
    goto out;
  }
  symtab = read_file_block(fd, fsize, table.sh_offset, table.sh_size,
                           "symbol table", err, errlen);
  strtab = symtab ? read_file_block(fd, fsize, strings.sh_offset,
                                    strings.sh_size, "string table", err,
                                    errlen)
                  : NULL;
  if (!symtab || !strtab)
    goto out;
  size_t nsyms = (size_t)(table.sh_size / sizeof(Elf64_Sym));
  for (size_t s = 0; s < nsyms; s++) {
    Elf64_Sym sym;
    memcpy(&sym, symtab + s * sizeof sym, sizeof sym);
    unsigned type = ELF64_ST_TYPE(sym.st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
        sym.st_shndx == SHN_UNDEF || sym.st_name >= strings.sh_size)
      continue;
    for (size_t i = 0; i < n; i++) {
      uint64_t a = addrs[i];
      int hit = sym.st_size
                    ? a >= sym.st_value && a - sym.st_value < sym.st_size
                    : a == sym.st_value;
      /* An exact start beats a symbol that merely contains the address. */
      if (!hit || (names[i] && (offsets[i] == 0 || a != sym.st_value)))
        continue;
      char *copy = strdup(strtab + sym.st_name);
      if (!copy) {
        snprintf(err, errlen, "cannot be read (out of memory)");
        goto out;
      }
      free(names[i]);
      names[i] = copy;
      offsets[i] = a - sym.st_value;
    }
  }
  ret = 0;
out:
  if (ret < 0)
    for (size_t i = 0; i < n; i++) {
      free(names[i]);
      names[i] = NULL;
    }
  free(symtab);
  free(strtab);
  close(fd);
  return ret;
}

/* ---- META section -------------------------------------------------------- */

#define META_SECTION_MAX (256u << 20)

static const char *meta_tag_name(uint32_t tag) {
  switch (tag) {
#define CASE(name, num)                                                        \
  case num:                                                                    \
    return #name;
    CKPT_META_TAGS(CASE)
#undef CASE
  }
  return "unknown";
}

/* Split a list of NUL-terminated strings into a NULL-terminated array. */
static int split_list(char *p, size_t len, char ***out, size_t *count) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += p[i] == '\0';
  char **v = calloc(n + 1, sizeof *v);
  if (!v)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < len; k++) {
    v[k] = p + i;
    i += strlen(p + i) + 1;
  }
  v[n] = NULL;
  *out = v;
  *count = n;
  return 0;
}

void tool_meta_free(struct tool_meta *m) {
  free(m->buf);
  free(m->strbuf);
  free(m->argv);
  free(m->envp);
  memset(m, 0, sizeof *m);
}

int tool_meta_parse(char *buf, size_t len, const char *what,
                    struct tool_meta *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  m->len = len;
  /* Room for every string record plus its terminator. */
  m->strbuf = malloc(len + 3);
  if (!m->strbuf) {
    snprintf(err, errlen, "%s: out of memory reading the META section", what);
    return -1;
  }
  size_t strpos = 0;
  uint32_t seen = 0; /* bit per known tag, to refuse duplicates */
  size_t off = 0, index = 0;
  const char *why = NULL;
  uint32_t tag = 0, rlen = 0;
  while (off < len) {
    if (len - off < 8) {
      why = "truncated record header";
      goto bad;
    }
    memcpy(&tag, buf + off, 4);
    memcpy(&rlen, buf + off + 4, 4);
    if (rlen > len - off - 8) {
      snprintf(err, errlen,
               "%s: malformed META section: record %zu (%s, tag %u) at offset "
               "%zu has length %u but only %zu bytes follow",
               what, index, meta_tag_name(tag), tag, off, rlen, len - off - 8);
      goto fail;
    }
    char *data = buf + off + 8;
    const char **str = NULL;
    char ***list = NULL;
    size_t *count = NULL;
    uint32_t *u32 = NULL;
    uint64_t *u64 = NULL;
    int *has = NULL;
    switch (tag) {
    case CKPT_META_EXE_PATH: str = &m->exe_path; break;
    case CKPT_META_CWD: str = &m->cwd; break;
    case CKPT_META_DIR: str = &m->dir; break;
    case CKPT_META_ARGV: list = &m->argv; count = &m->argc; break;
    case CKPT_META_ENVP: list = &m->envp; count = &m->envc; break;
    case CKPT_META_PERSONALITY:
      u32 = &m->personality; has = &m->has_personality; break;
    case CKPT_META_PID: u64 = &m->pid; has = &m->has_pid; break;
    case CKPT_META_INTERVAL_MS:
      u64 = &m->interval_ms; has = &m->has_interval; break;
    case CKPT_META_KEEP: u32 = &m->keep; has = &m->has_keep; break;
    case CKPT_META_UMASK: u32 = &m->umask; has = &m->has_umask; break;
    case CKPT_META_EXE_HASH:
      if (rlen != CKPT_EXE_HASH_LEN) {
        why = "wrong length for a hash record";
        goto bad;
      }
      if (m->exe_hash) {
        why = "duplicate record";
        goto bad;
      }
      m->exe_hash = (const uint8_t *)data;
      break;
    case CKPT_META_MODULE: {
      uint32_t bid_len = 0;
      if (rlen >= 4)
        memcpy(&bid_len, data, 4);
      if (rlen < 4 || bid_len > 32 || bid_len > rlen - 4) {
        why = "wrong length for a module record";
        goto bad;
      }
      if (m->nmodules == sizeof m->modules / sizeof m->modules[0]) {
        why = "more than 64 module records";
        goto bad;
      }
      const char *path = data + 4 + bid_len;
      size_t plen = rlen - 4 - bid_len;
      if (memchr(path, '\0', plen)) {
        why = "string contains a NUL byte";
        goto bad;
      }
      struct tool_meta_module *mod = &m->modules[m->nmodules++];
      mod->build_id = (const uint8_t *)data + 4;
      mod->build_id_len = bid_len;
      memcpy(m->strbuf + strpos, path, plen);
      m->strbuf[strpos + plen] = '\0';
      mod->path = m->strbuf + strpos;
      strpos += plen + 1;
      break;
    }
    case CKPT_META_DLOPEN: {
      if (rlen < 12) {
        why = "wrong length for a dlopen record";
        goto bad;
      }
      const char *path = data + 12;
      size_t plen = rlen - 12;
      if (memchr(path, '\0', plen)) {
        why = "string contains a NUL byte";
        goto bad;
      }
      m->ndlopens_total++;
      if (m->ndlopens == sizeof m->dlopens / sizeof m->dlopens[0])
        break; /* the count says how many more */
      struct tool_meta_dlopen *d = &m->dlopens[m->ndlopens++];
      memcpy(&d->handle, data, 8);
      memcpy(&d->flags, data + 8, 4);
      memcpy(m->strbuf + strpos, path, plen);
      m->strbuf[strpos + plen] = '\0';
      d->path = m->strbuf + strpos;
      strpos += plen + 1;
      break;
    }
    default: break; /* unknown tags are skipped */
    }
    if (str || list || u32 || u64) {
      if (seen & (1u << tag)) {
        why = "duplicate record";
        goto bad;
      }
      seen |= 1u << tag;
    }
    if (str) {
      if (memchr(data, '\0', rlen)) {
        why = "string contains a NUL byte";
        goto bad;
      }
      memcpy(m->strbuf + strpos, data, rlen);
      m->strbuf[strpos + rlen] = '\0';
      *str = m->strbuf + strpos;
      strpos += rlen + 1;
    } else if (list) {
      if (rlen > 0 && data[rlen - 1] != '\0') {
        why = "string list does not end with a NUL byte";
        goto bad;
      }
      if (split_list(data, rlen, list, count) < 0) {
        snprintf(err, errlen, "%s: out of memory reading the META section",
                 what);
        goto fail;
      }
    } else if (u32) {
      if (rlen != 4) {
        why = "wrong length for a u32 record";
        goto bad;
      }
      memcpy(u32, data, 4);
      *has = 1;
    } else if (u64) {
      if (rlen != 8) {
        why = "wrong length for a u64 record";
        goto bad;
      }
      memcpy(u64, data, 8);
      *has = 1;
    }
    off += 8 + (size_t)rlen;
    index++;
  }
  m->num_records = index;
  return 0;
bad:
  snprintf(err, errlen,
           "%s: malformed META section: record %zu (%s, tag %u) at offset "
           "%zu: %s",
           what, index, meta_tag_name(tag), tag, off, why);
fail:
  tool_meta_free(m);
  return -1;
}

/* The image module's messages usually start with the path already. */
static void err_with_path(char *err, size_t errlen, const char *path,
                          const char *what, const char *msg) {
  if (msg && strncmp(msg, path, strlen(path)) == 0)
    snprintf(err, errlen, "%s", msg);
  else
    snprintf(err, errlen, "%s: %s%s", path, what,
             msg && *msg ? msg : "unknown error");
}

int tool_meta_load(struct ckpt_image *img, const char *path,
                   struct tool_meta *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  long idx = ckpt_image_find(img, CKPT_SEC_META, 0);
  if (idx < 0) {
    snprintf(err, errlen, "%s: no META section", path);
    return -1;
  }
  const struct ckpt_section_info *si = ckpt_image_section(img, (size_t)idx);
  if (!si) {
    snprintf(err, errlen, "%s: cannot read the section table", path);
    return -1;
  }
  if (si->raw_size > META_SECTION_MAX) {
    snprintf(err, errlen, "%s: META section is implausibly large (%llu bytes)",
             path, (unsigned long long)si->raw_size);
    return -1;
  }
  size_t len = (size_t)si->raw_size;
  char *buf = malloc(len ? len : 1);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory reading the META section", path);
    return -1;
  }
  char serr[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_section_reader *r =
      ckpt_section_open(img, (size_t)idx, serr, sizeof serr);
  if (!r) {
    err_with_path(err, errlen, path, "cannot read the META section: ", serr);
    free(buf);
    return -1;
  }
  if (len > 0 && ckpt_section_read(r, buf, len) < 0) {
    err_with_path(err, errlen, path, "cannot read the META section: ",
                  ckpt_section_error(r));
    ckpt_section_close(r);
    free(buf);
    return -1;
  }
  /* Nothing read may be trusted before the checksum is checked. */
  if (ckpt_section_finish(r) < 0) {
    err_with_path(err, errlen, path, "cannot read the META section: ",
                  ckpt_section_error(r));
    ckpt_section_close(r);
    free(buf);
    return -1;
  }
  ckpt_section_close(r);
  if (tool_meta_parse(buf, len, path, m, err, errlen) < 0) {
    free(buf);
    return -1;
  }
  m->buf = buf;
  return 0;
}
