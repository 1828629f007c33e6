/* runtime/modules.c - the program's objects: the executable and every shared
 * library built with ckpt-cc -shared.
 *
 * Such a library carries the same descriptors as the executable (sections
 * ckpt_funcs and ckpt_globals, with its own __start_/__stop_ bounds) and a
 * constructor (runtime/dso/ckpt_dso.c) that hands them to
 * CKPT_NAME(register_module). From then on its code is the program's code
 * (threads stop in it, stack walks go through its frames: unwind.c), its
 * globals are saved and restored with the executable's, and its static TLS
 * block is saved with each thread's. Libraries named on the link line
 * (DT_NEEDED) register before main, while nothing else of the runtime is
 * set up: they are queued and taken in by ckpt_modules_init. Libraries
 * opened with dlopen register as they load, and leave with dlclose.
 *
 * The dynamic loader holds its lock around constructors and destructors,
 * so registrations never run concurrently; a checkpoint never sees one half
 * done either, since a thread inside dlopen is under the loader's frames
 * and cannot stop there. Slots are filled before the count that publishes
 * them is raised.
 */
#include "rt.h"

#include <link.h>
#include <pthread.h>
#include <string.h>

static struct ckpt_module modules[CKPT_MAX_MODULES];
/* Held by a program thread reading modules' descriptors (ckpt_exclude) and
 * by a library's unregistration: dlclose unmaps the descriptors only once
 * such a reader is done. */
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;

void ckpt_modules_read_lock(void) { pthread_mutex_lock(&readers_lock); }
void ckpt_modules_read_unlock(void) { pthread_mutex_unlock(&readers_lock); }
static size_t nmodules; /* published slots, atomic */

static const struct ckpt_module_info *queued[CKPT_MAX_MODULES];
static size_t nqueued;
static int modules_ready;

size_t ckpt_module_count(void) {
  return __atomic_load_n(&nmodules, __ATOMIC_ACQUIRE);
}

const struct ckpt_module *ckpt_module_at(size_t i) {
  return i < ckpt_module_count() &&
                 __atomic_load_n(&modules[i].live, __ATOMIC_ACQUIRE)
             ? &modules[i]
             : NULL;
}

const struct ckpt_module *ckpt_module_of(uintptr_t addr) {
  size_t n = ckpt_module_count();
  for (size_t i = 1; i < n; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    if (m && addr >= m->lo && addr < m->hi)
      return m;
  }
  return ckpt_module_at(0);
}

struct find_object {
  uintptr_t want;
  struct ckpt_module *m;
  int found;
};

/* The loaded object holding `want`: its name, bounds and TLS block. */
static int visit_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct find_object *f = data;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  const ElfW(Phdr) *tls = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      if (start < lo)
        lo = start;
      if (start + ph->p_memsz > hi)
        hi = start + ph->p_memsz;
    } else if (ph->p_type == PT_TLS) {
      tls = ph;
    }
  }
  if (f->want < lo || f->want >= hi)
    return 0;
  struct ckpt_module *m = f->m;
  snprintf(m->path, sizeof m->path, "%s",
           info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "?");
  m->base = info->dlpi_addr;
  m->lo = lo;
  m->hi = hi;
  if (tls && tls->p_memsz) {
    m->tls_size = tls->p_memsz;
    /* A library loaded with the program has its block in the static TLS
     * area, at the same distance from every thread's pointer; one loaded by
     * dlopen gets blocks allocated on first use, per thread. */
    m->tls_block = (uintptr_t)info->dlpi_tls_data;
  }
  f->found = 1;
  return 1;
}

static void take_in(const struct ckpt_module_info *info, int at_start) {
  size_t n = ckpt_module_count(), slot = n;
  for (size_t i = 1; i < n; i++)
    if (!modules[i].live) {
      slot = i; /* a library closed with dlclose left it */
      break;
    }
  if (slot == CKPT_MAX_MODULES)
    ckpt_fatal("more than %d shared libraries built with ckpt-cc -shared "
               "are loaded",
               CKPT_MAX_MODULES - 1);
  struct ckpt_module *m = &modules[slot];
  *m = (struct ckpt_module){0};
  m->info = info;
  m->funcs = info->funcs;
  m->funcs_end = info->funcs_end;
  m->globals = info->globals;
  m->globals_end = info->globals_end;
  struct find_object f = {(uintptr_t)info, m, 0};
  dl_iterate_phdr(visit_object, &f);
  if (!f.found)
    ckpt_fatal("a shared library built with ckpt-cc registered from %p, "
               "which no loaded object holds",
               (const void *)info);
  m->build_id_len = (uint32_t)ckpt_object_build_id(
      (uintptr_t)info, m->build_id, sizeof m->build_id);
  if (ckpt_unwind_add_object((uintptr_t)info) != 0)
    ckpt_fatal("%s: its unwind tables (.eh_frame_hdr) cannot be read, so "
               "its frames could not be found on a stopped thread's stack",
               m->path);
  /* Registered before main is not loaded at start: a library constructor
   * may have opened it with dlopen (its TLS is then not static). */
  m->loaded_at_start = at_start && ckpt_object_loaded_at_start(m->base);
  if (m->loaded_at_start && m->tls_size &&
      !ckpt_tls_add_static_block(m->tls_block, m->tls_size))
    m->tls_saved = 1;
  __atomic_store_n(&m->live, 1, __ATOMIC_RELEASE);
  if (slot == n)
    __atomic_store_n(&nmodules, n + 1, __ATOMIC_RELEASE);
  if (modules_ready && ckpt_funcs_init() != 0)
    ckpt_fatal("out of memory for the function descriptors of %s", m->path);
}

void CKPT_NAME(register_module)(const struct ckpt_module_info *info) {
  if (info->abi_version != CKPT_ABI_VERSION) {
    struct ckpt_module m = {0};
    struct find_object f = {(uintptr_t)info, &m, 0};
    dl_iterate_phdr(visit_object, &f);
    ckpt_fatal("%s was built by another version of ckpt-cc (ABI %u, this "
               "program's runtime has %u): rebuild it",
               f.found ? m.path : "a shared library", info->abi_version,
               CKPT_ABI_VERSION);
  }
  if (!modules_ready) {
    if (nqueued == CKPT_MAX_MODULES)
      ckpt_fatal("more than %d shared libraries built with ckpt-cc -shared "
                 "are loaded",
                 CKPT_MAX_MODULES - 1);
    queued[nqueued++] = info;
    return;
  }
  take_in(info, 0);
}

void CKPT_NAME(unregister_module)(const struct ckpt_module_info *info) {
  size_t n = ckpt_module_count();
  for (size_t i = 1; i < n; i++)
    if (modules[i].live && modules[i].info == info) {
      ckpt_modules_read_lock();
      __atomic_store_n(&modules[i].live, 0, __ATOMIC_RELEASE);
      ckpt_modules_read_unlock();
      ckpt_unwind_remove_object((uintptr_t)info);
      /* A table without its functions, before dlclose unmaps them. */
      if (modules_ready && ckpt_funcs_init() != 0)
        ckpt_fatal("out of memory for the function descriptors after %s was "
                   "closed",
                   modules[i].path);
      return;
    }
}

#define MAX_START_OBJECTS 1024
static uintptr_t start_objects[MAX_START_OBJECTS];
static size_t nstart_objects;
static int start_objects_recorded;

static int record_start_object(struct dl_phdr_info *info, size_t size,
                               void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_name && *info->dlpi_name &&
      nstart_objects < MAX_START_OBJECTS)
    start_objects[nstart_objects++] = info->dlpi_addr;
  return 0;
}

/* Before any constructor, the libraries' included (a constructor may open
 * a library with dlopen): every object mapped now came with the program. */
static void record_start_objects(void) {
  if (start_objects_recorded)
    return;
  dl_iterate_phdr(record_start_object, NULL);
  start_objects_recorded = 1;
}
__attribute__((section(".preinit_array"), used)) static void (
    *const record_start_objects_early)(void) = record_start_objects;

int ckpt_object_loaded_at_start(uintptr_t base) {
  for (size_t i = 0; i < nstart_objects; i++)
    if (start_objects[i] == base)
      return 1;
  return 0;
}

void ckpt_modules_init(void) {
  record_start_objects(); /* if .preinit_array did not run it */
  struct ckpt_module *exe = &modules[0];
  *exe = (struct ckpt_module){0};
  exe->funcs = __start_ckpt_funcs;
  exe->funcs_end = __stop_ckpt_funcs;
  exe->globals = __start_ckpt_globals;
  exe->globals_end = __stop_ckpt_globals;
  exe->loaded_at_start = 1;
  exe->tls_saved = 1;
  exe->live = 1;
  __atomic_store_n(&nmodules, 1, __ATOMIC_RELEASE);
  for (size_t i = 0; i < nqueued; i++)
    take_in(queued[i], 1);
  modules_ready = 1;
}

int ckpt_for_each_program_global(
    int (*visit)(void *ctx, const struct ckpt_global_desc *g), void *ctx) {
  size_t n = ckpt_module_count();
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    if (!m)
      continue;
    for (const struct ckpt_global_desc *g = m->globals;
         g && g < m->globals_end; g++) {
      int r = visit(ctx, g);
      if (r)
        return r;
    }
  }
  return 0;
}
