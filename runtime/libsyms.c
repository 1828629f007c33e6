/* runtime/libsyms.c - the shared objects loaded in this process, as a
 * portable restart needs them (relocate.c): where each lies, what it is
 * (soname, GNU build-id) and its dynamic symbols, read from the loaded
 * image itself (its .dynsym and .dynstr are mapped; no file is opened, so
 * this also works for the vDSO, which has no file). */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "sections.h"

/* A dynamic-section address: the loader relocates most objects' entries in
 * place, never the vDSO's; an unrelocated one is below the object. */
static uintptr_t dyn_addr(const struct ckpt_lib *l, uintptr_t v) {
  return v < l->lo ? v + l->base : v;
}

/* Number of .dynsym entries: DT_HASH says it; with only DT_GNU_HASH it is
 * one past the highest index any chain reaches. */
static uint32_t count_symbols(const struct ckpt_lib *l, uintptr_t hash,
                              uintptr_t gnu_hash) {
  if (hash)
    return ((const uint32_t *)hash)[1];
  if (!gnu_hash)
    return 0;
  const uint32_t *h = (const uint32_t *)gnu_hash;
  uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
  const uint32_t *buckets =
      (const uint32_t *)(gnu_hash + 16 + (uintptr_t)bloom_size * sizeof(ElfW(Addr)));
  const uint32_t *chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t b = 0; b < nbuckets; b++)
    if (buckets[b] > last)
      last = buckets[b];
  if (last < symoffset)
    return symoffset;
  while (!(chain[last - symoffset] & 1))
    last++;
  (void)l;
  return last + 1;
}

static void read_dynamic(struct ckpt_lib *l, const ElfW(Dyn) *dyn) {
  uintptr_t strtab = 0, symtab = 0, hash = 0, gnu_hash = 0, versym = 0;
  size_t soname = (size_t)-1;
  for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
    case DT_STRTAB: strtab = dyn_addr(l, d->d_un.d_ptr); break;
    case DT_SYMTAB: symtab = dyn_addr(l, d->d_un.d_ptr); break;
    case DT_HASH: hash = dyn_addr(l, d->d_un.d_ptr); break;
    case DT_GNU_HASH: gnu_hash = dyn_addr(l, d->d_un.d_ptr); break;
    case DT_VERSYM: versym = dyn_addr(l, d->d_un.d_ptr); break;
    case DT_STRSZ: l->strsz = d->d_un.d_val; break;
    case DT_SONAME: soname = d->d_un.d_val; break;
    default: break;
    }
  }
  if (!strtab)
    return;
  l->strs = (const char *)strtab;
  if (soname < l->strsz)
    l->soname = l->strs + soname;
  if (symtab) {
    l->syms = (const ElfW(Sym) *)symtab;
    l->nsyms = count_symbols(l, hash, gnu_hash);
    l->versym = (const uint16_t *)versym;
  }
}

struct lib_list {
  struct ckpt_lib *v;
  size_t n, cap;
};

static int collect(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct lib_list *list = data;
  if (!info->dlpi_name || !*info->dlpi_name)
    return 0; /* the executable: it never moves (non-PIE) */
  if (list->n == list->cap) {
    size_t cap = list->cap ? 2 * list->cap : 32;
    struct ckpt_lib *v = realloc(list->v, cap * sizeof *v);
    if (!v)
      return 1;
    list->v = v;
    list->cap = cap;
  }
  struct ckpt_lib *l = &list->v[list->n++];
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "%s", info->dlpi_name);
  l->base = info->dlpi_addr;
  l->lo = UINTPTR_MAX;
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
    if (a < l->lo)
      l->lo = a;
    if (b > l->hi)
      l->hi = b;
    if (!(ph->p_flags & (PF_X | PF_W)) && l->nro < 4) {
      l->ro[l->nro].lo = a;
      l->ro[l->nro].hi = b;
      l->nro++;
    }
    if (ph->p_flags & PF_X) {
      if (!l->code_hi || a < l->code_lo)
        l->code_lo = a;
      if (b > l->code_hi)
        l->code_hi = b;
    }
  }
  l->lo &= ~(uintptr_t)4095;
  l->hi = (l->hi + 4095) & ~(uintptr_t)4095;
  if (l->lo >= l->hi) {
    list->n--;
    return 0;
  }
  l->build_id_len =
      (uint32_t)ckpt_phdr_build_id(info, l->build_id, sizeof l->build_id);
  if (dyn)
    read_dynamic(l, dyn);
  return 0;
}

int ckpt_libs_load(struct ckpt_lib **out, size_t *n) {
  struct lib_list list = {NULL, 0, 0};
  if (dl_iterate_phdr(collect, &list) != 0) {
    free(list.v);
    return -1;
  }
  /* Without DT_SONAME, the name's last part; set only now, as the array
   * may have moved while it grew. */
  for (size_t i = 0; i < list.n; i++)
    if (!list.v[i].soname) {
      const char *slash = strrchr(list.v[i].name, '/');
      list.v[i].soname = slash ? slash + 1 : list.v[i].name;
    }
  *out = list.v;
  *n = list.n;
  return 0;
}

/* A symbol a pointer can be named by: defined, data or code, and the
 * default version of its name (a hidden version, memcpy@GLIBC_2.2.5 next to
 * memcpy@@GLIBC_2.14, could not be asked for by name in another build). */
static int nameable(const struct ckpt_lib *l, uint32_t i) {
  const ElfW(Sym) *s = (const ElfW(Sym) *)l->syms + i;
  int type = ELF64_ST_TYPE(s->st_info);
  if (s->st_shndx == SHN_UNDEF || s->st_name == 0 || s->st_name >= l->strsz)
    return 0;
  if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE &&
      type != STT_GNU_IFUNC && type != STT_COMMON)
    return 0;
  if (ELF64_ST_BIND(s->st_info) == STB_LOCAL)
    return 0;
  if (l->versym && (l->versym[i] & 0x8000))
    return 0;
  return 1;
}

static const char *symbol_covering(const struct ckpt_lib *l, uintptr_t off,
                                   uint64_t *offset) {
  const ElfW(Sym) *best = NULL;
  for (uint32_t i = 0; i < l->nsyms; i++) {
    const ElfW(Sym) *s = (const ElfW(Sym) *)l->syms + i;
    if (!nameable(l, i) || s->st_value > off ||
        ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
      continue;
    int covers = s->st_size ? off - s->st_value < s->st_size
                            : off == s->st_value;
    if (!covers)
      continue;
    /* Of aliases (tzname and __tzname), the global one, then the
     * smallest, then the first: the same choice at every checkpoint. */
    if (!best ||
        (ELF64_ST_BIND(s->st_info) == STB_GLOBAL &&
         ELF64_ST_BIND(best->st_info) != STB_GLOBAL) ||
        (ELF64_ST_BIND(s->st_info) == ELF64_ST_BIND(best->st_info) &&
         s->st_size < best->st_size))
      best = s;
  }
  if (!best)
    return NULL;
  *offset = off - best->st_value;
  return l->strs + best->st_name;
}

/* What an IFUNC resolves to here: its resolver run again (x86-64 glibc
 * calls resolvers with no arguments; they only read the CPU's features). */
static uintptr_t resolve_ifunc(const struct ckpt_lib *l, const ElfW(Sym) *s) {
  uintptr_t (*resolver)(void) =
      (uintptr_t(*)(void))(l->base + s->st_value);
  return resolver();
}

/* Text: printable ASCII, tabs, newlines, or bytes of UTF-8 sequences. */
static int is_text(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')
      return 0;
  return n > 0;
}

/* A string in read-only data at addr (text, starting after a NUL, as
 * strings are laid out): any copy of its bytes will do, in any build.
 * *offset is its length. Binary tables (zlib's CRC table) are not strings
 * however they happen to end: they stay private data. */
static const char *read_only_string(const struct ckpt_lib *l, uintptr_t addr,
                                    uint64_t *offset, uint32_t *flags) {
  for (uint32_t i = 0; i < l->nro; i++) {
    if (addr <= l->ro[i].lo || addr >= l->ro[i].hi)
      continue;
    size_t room = l->ro[i].hi - addr;
    const char *s = (const char *)addr;
    const char *nul = memchr(s, 0, room < CKPT_TARGET_STRING_MAX
                                       ? room
                                       : CKPT_TARGET_STRING_MAX);
    if (!nul || s[-1] != 0 || !is_text((const unsigned char *)s, (size_t)(nul - s)))
      return NULL;
    *flags = CKPT_TARGET_STRING;
    *offset = (uint64_t)(nul - s);
    return s;
  }
  return NULL;
}

const char *ckpt_lib_classify(const struct ckpt_lib *l, uintptr_t addr,
                              uint64_t *offset, uint32_t *flags) {
  uintptr_t off = addr - l->base;
  *flags = 0;
  *offset = 0;
  if (addr < l->code_lo || addr >= l->code_hi) {
    const char *name = symbol_covering(l, off, offset);
    return name ? name : read_only_string(l, addr, offset, flags);
  }
  /* Code: only a function's start can be a pointer the program uses. */
  uint64_t in = 0;
  const char *name = symbol_covering(l, off, &in);
  if (name && in == 0)
    return name;
  for (uint32_t i = 0; i < l->nsyms; i++) {
    const ElfW(Sym) *s = (const ElfW(Sym) *)l->syms + i;
    if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC && nameable(l, i) &&
        resolve_ifunc(l, s) == addr) {
      *flags = CKPT_TARGET_IFUNC;
      return l->strs + s->st_name;
    }
  }
  *flags = CKPT_TARGET_CODE;
  return NULL;
}

int ckpt_lib_ifunc_addr(const struct ckpt_lib *l, const char *name,
                        uintptr_t *addr) {
  for (uint32_t i = 0; i < l->nsyms; i++) {
    const ElfW(Sym) *s = (const ElfW(Sym) *)l->syms + i;
    if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC && nameable(l, i) &&
        strcmp(l->strs + s->st_name, name) == 0) {
      *addr = resolve_ifunc(l, s);
      return 0;
    }
  }
  return -1;
}

int ckpt_lib_symbol_addr(const struct ckpt_lib *l, const char *name,
                         uint64_t offset, uintptr_t *addr) {
  for (uint32_t i = 0; i < l->nsyms; i++) {
    const ElfW(Sym) *s = (const ElfW(Sym) *)l->syms + i;
    if (!nameable(l, i) || ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC ||
        strcmp(l->strs + s->st_name, name) != 0)
      continue;
    /* The offset must still be inside it: a smaller object is another
     * layout, and a pointer past its end would point at something else. */
    if (s->st_size ? offset >= s->st_size : offset != 0)
      return -1;
    *addr = l->base + s->st_value + offset;
    return 0;
  }
  return -1;
}

int ckpt_lib_string_addr(const struct ckpt_lib *l, const char *bytes,
                         size_t len, uintptr_t *addr) {
  for (uint32_t i = 0; i < l->nro; i++) {
    const char *lo = (const char *)l->ro[i].lo;
    size_t size = l->ro[i].hi - l->ro[i].lo;
    for (const char *at = lo; size > 0;) {
      const char *hit = memmem(at, size, bytes, len);
      if (!hit)
        break;
      size_t after = (size_t)(lo + (l->ro[i].hi - l->ro[i].lo) - hit);
      if (after > len && hit[len] == 0) {
        *addr = (uintptr_t)hit;
        return 0;
      }
      size -= (size_t)(hit + 1 - at);
      at = hit + 1;
    }
  }
  return -1;
}

int ckpt_lib_any_symbol_addr(const struct ckpt_lib *l, const char *name,
                             uint64_t offset, uintptr_t *addr) {
  /* The symbol may have become an IFUNC in this build, or stopped being
   * one: the function of that name either way. */
  if (ckpt_lib_symbol_addr(l, name, offset, addr) == 0)
    return 0;
  return offset == 0 ? ckpt_lib_ifunc_addr(l, name, addr) : -1;
}
