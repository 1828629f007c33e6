/* runtime/copyrel.c - the shared libraries' variables the program uses.
 *
 * A non-PIE executable that uses a variable of a shared library (getopt's
 * optind and optarg, environ, stdout...) gets a copy of it in its own .bss:
 * the linker emits an R_X86_64_COPY relocation, ld.so copies the initial
 * value there, and the library itself uses that copy from then on. The pass
 * never sees these variables (they are declared, not defined, in the
 * program), yet they are the program's state: a restart that left optind at
 * its initial value would make a program that walks its arguments with
 * getopt start over. So they are saved and restored like the program's own
 * globals, under their symbol names.
 * Code compiled with -fPIC or -fPIE (a static library of a CMake or meson
 * build) reaches such a variable through the GOT instead (R_X86_64_GLOB_DAT):
 * no copy is made and the variable stays in the library's data. It is saved
 * and restored there, at the address ld.so resolved; the libraries are at the
 * same addresses after a restart (restore.c checks it). The GOTs of the
 * libraries built with ckpt-cc -shared that were loaded with the program are
 * read the same way (modules.c). */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "rt.h"

#define MAX_COPY_GLOBALS 256

static struct ckpt_global_desc copies[MAX_COPY_GLOBALS];
static size_t ncopies;

/* Whether [addr, addr+len) is writable data of a loaded object: inside a
 * writable PT_LOAD segment and outside its PT_GNU_RELRO part (read-only once
 * relocated). A library's constant (in6addr_any) is not state, and a
 * restore could not write it. */
struct writable_query {
  uintptr_t addr;
  size_t len;
  int writable;
};

static int find_writable(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct writable_query *q = data;
  int in_load = 0, in_relro = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (q->addr < lo || q->addr + q->len > hi)
      continue;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
      in_load = 1;
    else if (ph->p_type == PT_GNU_RELRO)
      in_relro = 1;
  }
  q->writable = in_load && !in_relro;
  return in_load; /* found its object: stop */
}

static int is_writable(const void *addr, size_t len) {
  struct writable_query q = {(uintptr_t)addr, len, 0};
  dl_iterate_phdr(find_writable, &q);
  return q.writable;
}

extern char __executable_start[], _end[];

/* A global a library built with ckpt-cc describes, wherever it lives: its
 * descriptor's address relocation binds to the executable's copy of it. */
static int described_by_library(const void *addr) {
  size_t n = ckpt_module_count();
  for (size_t i = 1; i < n; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    for (const struct ckpt_global_desc *g = m ? m->globals : NULL;
         g && g < m->globals_end; g++)
      if (g->addr == addr)
        return 1;
  }
  return 0;
}

static int find_copies(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  int *first = data;
  const ElfW(Dyn) *dyn = NULL;
  uintptr_t lo = UINTPTR_MAX;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
    else if (ph->p_type == PT_LOAD && info->dlpi_addr + ph->p_vaddr < lo)
      lo = info->dlpi_addr + ph->p_vaddr;
  }
  /* The executable, then the libraries built with ckpt-cc -shared: their
   * code is the program's too, and reaches other libraries' variables
   * through its own GOT. */
  int is_exe = *first;
  *first = 0;
  if (!is_exe) {
    const struct ckpt_module *m = ckpt_module_of(lo);
    if (!m || !m->info)
      return 0;
  }
  if (!dyn)
    return 0; /* a static executable: no copies */
  const ElfW(Rela) *rela = NULL;
  const ElfW(Sym) *symtab = NULL;
  const char *strtab = NULL;
  size_t relasz = 0;
  /* ld.so has relocated these entries to addresses. */
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_RELA)
      rela = (const ElfW(Rela) *)dyn->d_un.d_ptr;
    else if (dyn->d_tag == DT_RELASZ)
      relasz = dyn->d_un.d_val;
    else if (dyn->d_tag == DT_SYMTAB)
      symtab = (const ElfW(Sym) *)dyn->d_un.d_ptr;
    else if (dyn->d_tag == DT_STRTAB)
      strtab = (const char *)dyn->d_un.d_ptr;
  }
  if (!rela || !symtab || !strtab)
    return 1;
  for (size_t i = 0; i < relasz / sizeof *rela; i++) {
    unsigned type = ELF64_R_TYPE(rela[i].r_info);
    const ElfW(Sym) *sym = &symtab[ELF64_R_SYM(rela[i].r_info)];
    void *addr = (void *)(info->dlpi_addr + rela[i].r_offset);
    size_t size = sym->st_size;
    if (type == R_X86_64_GLOB_DAT) {
      /* Only a library's variable: a function, or a variable of the
       * executable's own (a copy among them), is not one. Its size comes
       * from the library (ckpt_copy_globals_init). */
      if (ELF64_ST_TYPE(sym->st_info) != STT_OBJECT ||
          sym->st_shndx != SHN_UNDEF)
        continue;
      addr = *(void **)addr; /* the GOT entry, filled in by ld.so */
      size = 0;
      if (!addr)
        continue; /* an undefined weak reference */
      const struct ckpt_module *m = ckpt_module_of((uintptr_t)addr);
      if (m && m->info)
        continue; /* a global of a library built with ckpt-cc: saved as such */
      if ((char *)addr >= __executable_start && (char *)addr < _end)
        continue; /* the executable's own, or a copy it holds: found there */
    } else if (type != R_X86_64_COPY || size == 0 || !is_exe) {
      continue;
    } else if (described_by_library(addr)) {
      continue; /* a ckpt-cc library's global, copied: saved by its descriptor */
    }
    if (ncopies == MAX_COPY_GLOBALS)
      ckpt_fatal("the program uses more than %d variables of shared "
                 "libraries; ckpt cannot save them all",
                 MAX_COPY_GLOBALS);
    copies[ncopies++] = (struct ckpt_global_desc){
        .addr = addr,
        .size = size,
        .name = (void *)(strtab + sym->st_name),
    };
  }
  return 0;
}

/* The size of the library variable at addr, reached through the GOT, from
 * the library's symbol table; 0 if it is not one to save: not found, or a
 * constant. */
static size_t got_variable_size(void *addr) {
  Dl_info where;
  const ElfW(Sym) *def = NULL;
  if (!dladdr1(addr, &where, (void **)&def, RTLD_DL_SYMENT) || !def ||
      where.dli_saddr != addr || def->st_size == 0 ||
      !is_writable(addr, def->st_size))
    return 0;
  return def->st_size;
}

/* After the walk (dladdr1 and dl_iterate_phdr take the loader's lock
 * again): sizes for the GOT's variables, each variable once (environ and
 * __environ are one). */
void ckpt_copy_globals_init(void) {
  int first = 1;
  dl_iterate_phdr(find_copies, &first);
  size_t kept = 0;
  for (size_t i = 0; i < ncopies; i++) {
    struct ckpt_global_desc d = copies[i];
    if (d.size == 0 && (d.size = got_variable_size(d.addr)) == 0)
      continue;
    int seen = 0;
    for (size_t j = 0; j < kept && !seen; j++)
      seen = copies[j].addr == d.addr;
    if (!seen)
      copies[kept++] = d;
  }
  ncopies = kept;
}

size_t ckpt_copy_globals(const struct ckpt_global_desc **descs) {
  *descs = copies;
  return ncopies;
}
