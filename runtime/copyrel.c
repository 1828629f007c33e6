/* runtime/copyrel.c - the C library's variables that live in the executable.
 *
 * A non-PIE executable that uses a variable of a shared library (getopt's
 * optind and optarg, environ, stdout...) gets a copy of it in its own .bss:
 * the linker emits an R_X86_64_COPY relocation, ld.so copies the initial
 * value there, and the library itself uses that copy from then on. The pass
 * never sees these variables (they are declared, not defined, in the
 * program), yet they are the program's state: a restart that left optind at
 * its initial value would make a program that walks its arguments with
 * getopt start over. So they are saved and restored like the program's own
 * globals, under their symbol names. */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "rt.h"

#define MAX_COPY_GLOBALS 256

static struct ckpt_global_desc copies[MAX_COPY_GLOBALS];
static size_t ncopies;

static int find_copies(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (!dyn)
    return 1; /* a static executable: no copies */
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
    if (ELF64_R_TYPE(rela[i].r_info) != R_X86_64_COPY)
      continue;
    const ElfW(Sym) *sym = &symtab[ELF64_R_SYM(rela[i].r_info)];
    if (sym->st_size == 0)
      continue;
    if (ncopies == MAX_COPY_GLOBALS)
      ckpt_fatal("the executable copies more than %d variables of shared "
                 "libraries; ckpt cannot save them all",
                 MAX_COPY_GLOBALS);
    copies[ncopies++] = (struct ckpt_global_desc){
        .addr = (void *)(info->dlpi_addr + rela[i].r_offset),
        .size = sym->st_size,
        .name = (void *)(strtab + sym->st_name),
    };
  }
  return 1; /* the executable is the first object: stop */
}

void ckpt_copy_globals_init(void) { dl_iterate_phdr(find_copies, NULL); }

size_t ckpt_copy_globals(const struct ckpt_global_desc **descs) {
  *descs = copies;
  return ncopies;
}
