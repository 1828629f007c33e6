/* runtime/snapshot.c - writes a checkpoint: runs in the forked writer, a
 * frozen copy-on-write image of the program, while the program goes on.
 * Section record layouts: sections.h and docs/format.md. */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "image.h"
#include "rt.h"
#include "sections.h"


struct out {
  struct ckpt_image_writer *w;
};

static int put(struct out *o, const void *buf, size_t len) {
  return ckpt_image_write(o->w, buf, len);
}

static int put_piece(void *o, const void *buf, size_t len) {
  return put(o, buf, len);
}

static int put_meta(struct out *o, uint32_t tag, const void *buf,
                    uint32_t len) {
  uint32_t hdr[2] = {tag, len};
  return put(o, hdr, sizeof hdr) || put(o, buf, len);
}

/* One MODULE record per library built with ckpt-cc -shared: a restart
 * refuses to bring its globals and frames back into another build of it
 * (restore.c, check_modules). */
static int put_module_meta(struct out *o) {
  size_t n = ckpt_module_count();
  for (size_t i = 1; i < n; i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    if (!m)
      continue;
    uint8_t rec[4 + sizeof m->build_id + sizeof m->path];
    uint32_t plen = (uint32_t)strlen(m->path);
    memcpy(rec, &m->build_id_len, 4);
    memcpy(rec + 4, m->build_id, m->build_id_len);
    memcpy(rec + 4 + m->build_id_len, m->path, plen);
    if (put_meta(o, CKPT_META_MODULE, rec, 4 + m->build_id_len + plen))
      return -1;
  }
  return 0;
}

/* The program's dlopen calls in force, and where each object they loaded
 * lies: a restart makes the calls again with the objects there
 * (dlopen.c). */
static int put_dlopen_call(void *ctx, uint64_t handle, int flags,
                           const char *path) {
  uint8_t rec[12 + 256];
  uint32_t f = (uint32_t)flags, plen = (uint32_t)strnlen(path, 256);
  memcpy(rec, &handle, 8);
  memcpy(rec + 8, &f, 4);
  memcpy(rec + 12, path, plen);
  return put_meta(ctx, CKPT_META_DLOPEN, rec, 12 + plen);
}

static int put_dlopen_object(struct dl_phdr_info *info, size_t size,
                             void *ctx) {
  (void)size;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  int flags;
  uint32_t group;
  if (!*name ||
      !ckpt_dlopen_loaded_by_program(info->dlpi_addr, &flags, &group))
    return 0;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uint64_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
    if (a < lo)
      lo = a;
    if (b > hi)
      hi = b;
  }
  uint64_t page = 4096;
  lo &= ~(page - 1);
  hi = (hi + page - 1) & ~(page - 1);
  size_t plen = strlen(name);
  uint8_t rec[24 + 4096];
  uint32_t f = (uint32_t)flags;
  if (lo >= hi || plen > 4096)
    return 1;
  memcpy(rec, &lo, 8);
  memcpy(rec + 8, &hi, 8);
  memcpy(rec + 16, &f, 4);
  memcpy(rec + 20, &group, 4);
  memcpy(rec + 24, name, plen);
  return put_meta(ctx, CKPT_META_DLOPEN_OBJECT, rec, (uint32_t)(24 + plen));
}

static int put_dlopen_meta(struct out *o) {
  return ckpt_dlopen_each_call(put_dlopen_call, o) ||
         dl_iterate_phdr(put_dlopen_object, o);
}

static int put_meta_strings(struct out *o, uint32_t tag, char **v) {
  uint32_t len = 0;
  for (char **p = v; *p; p++)
    len += (uint32_t)strlen(*p) + 1;
  uint32_t hdr[2] = {tag, len};
  if (put(o, hdr, sizeof hdr))
    return -1;
  for (char **p = v; *p; p++)
    if (put(o, *p, strlen(*p) + 1))
      return -1;
  return 0;
}

static const uint8_t *meta_exe_hash; /* the writer's input */

static int write_meta(struct out *o) {
  char exe[4096], cwd[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return -1;
  exe[n] = 0;
  if (!getcwd(cwd, sizeof cwd))
    cwd[0] = 0;
  uint32_t pers = (uint32_t)personality(0xffffffff);
  uint64_t pid = (uint64_t)getppid(); /* the program, not this writer */
  uint64_t interval = ckpt_config.interval_ms;
  uint32_t keep = ckpt_config.keep;
  mode_t mask = umask(0);
  umask(mask);
  uint32_t um = (uint32_t)mask;
  return put_meta(o, CKPT_META_EXE_PATH, exe, (uint32_t)n) ||
         put_meta_strings(o, CKPT_META_ARGV, ckpt_start.pristine_argv) ||
         put_meta_strings(o, CKPT_META_ENVP, ckpt_start.pristine_envp) ||
         put_meta(o, CKPT_META_CWD, cwd, (uint32_t)strlen(cwd)) ||
         put_meta(o, CKPT_META_PERSONALITY, &pers, sizeof pers) ||
         put_meta(o, CKPT_META_PID, &pid, sizeof pid) ||
         put_meta(o, CKPT_META_DIR, ckpt_config.dir,
                  (uint32_t)strlen(ckpt_config.dir)) ||
         put_meta(o, CKPT_META_INTERVAL_MS, &interval, sizeof interval) ||
         put_meta(o, CKPT_META_KEEP, &keep, sizeof keep) ||
         put_meta(o, CKPT_META_UMASK, &um, sizeof um) ||
         put_meta(o, CKPT_META_EXE_HASH, meta_exe_hash, CKPT_EXE_HASH_LEN) ||
         put_module_meta(o) || put_dlopen_meta(o);
}

struct lib_list {
  struct out *o;
  int count, err, writing;
  const char *opened_later; /* the first library a restart cannot open */
  const char *why;          /* why not */
};

/* Why the layout section could not be written, for the checkpoint's error. */
static char layout_error[512];

static int visit_lib(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct lib_list *l = data;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  if (!*name)
    return 0; /* the executable and the vdso: fixed by the layout itself */
  int at_start = ckpt_object_loaded_at_start(info->dlpi_addr);
  if (!at_start && !l->opened_later) {
    if (!ckpt_dlopen_loaded_by_program(info->dlpi_addr, NULL, NULL)) {
      l->opened_later = name;
      l->why = "was opened with dlopen by a library or by libc (iconv, NSS) "
               "or with dlmopen, not by the program's code: a restart could "
               "not open it again (docs/limitations.md)";
    } else {
      const struct ckpt_module *m = ckpt_module_of(info->dlpi_addr);
      if (m && m->info && m->base == info->dlpi_addr && m->tls_size) {
        l->opened_later = name;
        l->why = "was opened with dlopen and has thread-local variables: "
                 "ckpt saves those only for libraries loaded with the "
                 "program (docs/limitations.md)";
      }
    }
  }
  if (l->writing) {
    struct ckpt_lib_rec r = {info->dlpi_addr, (uint32_t)strlen(name),
                             at_start ? 0 : CKPT_LIB_DLOPEN};
    if (put(l->o, &r, sizeof r) || put(l->o, name, r.path_len))
      l->err = 1;
  }
  l->count++;
  return 0;
}

static int write_layout(struct out *o) {
  struct lib_list l = {o, 0, 0, 0, NULL, NULL};
  dl_iterate_phdr(visit_lib, &l);
  /* A restart loads the program's libraries as the loader does at start,
   * opens those the program opened with dlopen again (dlopen.c), and checks
   * that each is where it was (restore.c); one it could not open would be
   * missing, and the restart refused. Refusing the checkpoint now keeps
   * the good ones taken before it. */
  if (l.opened_later) {
    snprintf(layout_error, sizeof layout_error, "%s %s", l.opened_later,
             l.why);
    return -1;
  }
  struct ckpt_layout_rec r = {CKPT_HEAP_BASE, ckpt_heap_app_end(),
                              CKPT_STACK_BASE, CKPT_STACK_SLOT_STRIDE,
                              (uint64_t)(uintptr_t)__bss_start,
                              (uint32_t)l.count, 0};
  if (put(o, &r, sizeof r))
    return -1;
  l.writing = 1;
  l.count = 0;
  dl_iterate_phdr(visit_lib, &l);
  return l.err ? -1 : 0;
}

struct extent_ctx {
  struct out *o;
  uintptr_t base; /* extents relative to this (0 = absolute) */
  uintptr_t copy_shift; /* the bytes are read this far from their place */
  unsigned scan_kind;   /* CKPT_RELOC_OWNED or CKPT_RELOC_SHARED */
};

/* Saved program memory: also looked at for pointers into libraries
 * (relocate.c), by the address the bytes had. */
static int emit_extent(void *ctx, uintptr_t addr, size_t len) {
  struct extent_ctx *e = ctx;
  struct ckpt_extent_rec r = {addr - e->base, len};
  ckpt_reloc_scan((const void *)addr, len, addr - e->copy_shift, e->scan_kind);
  return put(e->o, &r, sizeof r) || put(e->o, (const void *)addr, len);
}

/* A saved value the restart gives back to the program (not memory). */
static int put_value(struct out *o, const void *buf, size_t len) {
  ckpt_reloc_scan(buf, len, 0, CKPT_RELOC_OWNED);
  return put(o, buf, len);
}

/* Bytes of [lo, hi) inside excluded ranges. */
static uint64_t excluded_in(uintptr_t lo, uintptr_t hi) {
  const struct ckpt_range *r;
  size_t n = ckpt_exclusions(&r);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    uintptr_t a = r[i].lo > lo ? r[i].lo : lo;
    uintptr_t b = r[i].hi < hi ? r[i].hi : hi;
    if (a < b)
      sum += b - a;
  }
  return sum;
}

/* Calls ckpt_for_each_data_range on the parts of [addr, addr+len) outside
 * the ranges r[0..n) (sorted, disjoint): excluded bytes are never read, so a
 * 512 MB excluded array costs neither copy-on-write faults nor compression. */
static int emit_outside(const struct ckpt_range *r, size_t n, uintptr_t addr,
                        size_t len, int trust_absent,
                        int (*emit)(void *, uintptr_t, size_t), void *ctx) {
  uintptr_t at = addr, end = addr + len;
  for (size_t i = 0; i < n && at < end; i++) {
    if (r[i].hi <= at)
      continue;
    if (r[i].lo >= end)
      break;
    if (r[i].lo > at &&
        ckpt_for_each_data_range(at, r[i].lo - at, trust_absent, emit, ctx))
      return -1;
    at = r[i].hi;
  }
  if (at < end && ckpt_for_each_data_range(at, end - at, trust_absent, emit, ctx))
    return -1;
  return 0;
}

/* The same, outside every range excluded with ckpt_exclude(). */
static int emit_unexcluded(uintptr_t addr, size_t len, int trust_absent,
                           int (*emit)(void *, uintptr_t, size_t), void *ctx) {
  const struct ckpt_range *r;
  size_t n = ckpt_exclusions(&r);
  return emit_outside(r, n, addr, len, trust_absent, emit, ctx);
}

static int emit_heap_extent(void *ctx, uintptr_t addr, size_t len) {
  /* Within the allocator's data, pages never touched or all zero are still
   * skipped: a calloc'ed 200 MB block of which little was written costs
   * little. Exclusions lie inside live blocks' payloads (ckpt_exclude checks
   * it, free and realloc keep it true), so chunk headers are always kept. */
  return emit_unexcluded(addr, len, 1, emit_extent, ctx);
}

static int write_global(struct out *o, const struct ckpt_global_desc *g) {
  const char *name = g->name;
  uintptr_t base = (uintptr_t)g->addr;
  int whole = (g->flags & CKPT_GLOBAL_EXCLUDED) != 0;
  struct ckpt_global_rec r = {(uint64_t)base, g->size,
                              whole ? g->size
                                    : excluded_in(base, base + g->size),
                              (uint32_t)strlen(name), g->flags};
  if (put(o, &r, sizeof r) || put(o, name, r.name_len))
    return -1;
  struct extent_ctx e = {o, base, 0, CKPT_RELOC_OWNED};
  /* .data pages not yet touched hold the file's initial values, not
   * zeros: only the executable's .bss may be skipped unread (a library's
   * variable may be in its .data). */
  int trust_absent = ckpt_in_exe_bss(base);
  if (!whole && emit_unexcluded(base, g->size, trust_absent, emit_extent, &e))
    return -1;
  struct ckpt_extent_rec end = {0, 0};
  return put(o, &end, sizeof end);
}

/* The program's globals, then the libraries' variables copied into the
 * executable. */
static int write_program_global(void *o, const struct ckpt_global_desc *g) {
  return write_global(o, g);
}

static int write_globals(struct out *o) {
  if (ckpt_for_each_program_global(write_program_global, o))
    return -1;
  const struct ckpt_global_desc *copies;
  size_t n = ckpt_copy_globals(&copies);
  for (size_t i = 0; i < n; i++)
    if (write_global(o, &copies[i]))
      return -1;
  struct ckpt_global_rec end = {0, 0, 0, 0, 0};
  return put(o, &end, sizeof end);
}

static int write_heap(struct out *o) {
  struct ckpt_heap_stats st;
  if (ckpt_heap_app_stats(&st) != 0)
    memset(&st, 0, sizeof st);
  struct ckpt_heap_rec h = {
      ckpt_heap_app_end(), st.allocated_chunks, st.allocated_bytes,
      excluded_in(CKPT_HEAP_BASE, CKPT_HEAP_BASE + CKPT_HEAP_MAX)};
  if (put(o, &h, sizeof h))
    return -1;
  struct extent_ctx e = {o, 0, 0, CKPT_RELOC_SHARED};
  if (ckpt_heap_for_each_extent(emit_heap_extent, &e))
    return -1;
  struct ckpt_extent_rec last = {0, 0};
  return put(o, &last, sizeof last);
}

/* One piece of the program's own mappings: where, what, and the bytes a
 * restart cannot get from the file (sections.h, MAPS). */
static int write_map_piece(void *ctx, const struct ckpt_mapping_piece *m) {
  struct out *o = ctx;
  int file = m->kind == CKPT_MAP_FILE_PRIVATE || m->kind == CKPT_MAP_FILE_SHARED;
  struct ckpt_map_rec r = {m->lo, m->hi,
                           file || m->kind == CKPT_MAP_BRK ? m->offset : 0,
                           (uint32_t)m->prot,
                           (uint32_t)m->kind,
                           file ? (uint32_t)strlen(m->path) : 0, 0};
  if (put(o, &r, sizeof r) || put(o, m->path, r.path_len))
    return -1;
  if (m->kind == CKPT_MAP_DELETED_FILE && m->shared)
    CKPT_WARN("the program's shared mapping of %s at %#lx-%#lx is saved, "
              "but a restart gives it back as memory of its own, no longer "
              "shared with anything",
              m->path, (unsigned long)m->lo, (unsigned long)m->hi);
  if (m->kind != CKPT_MAP_FILE_SHARED) {
    /* This is the writer's copy of the memory: it may make unreadable
     * pieces readable to save them. */
    if (!(m->prot & PROT_READ) &&
        mprotect((void *)m->lo, m->hi - m->lo, m->prot | PROT_READ) != 0)
      return -1;
    int pages = m->kind == CKPT_MAP_ANON_PRIVATE || m->kind == CKPT_MAP_BRK
                    ? 1
                : m->kind == CKPT_MAP_FILE_PRIVATE ? CKPT_PAGES_CHANGED
                                                   : 0;
    const void *copy = ckpt_mappings_frozen_copy(m->lo, m->hi);
    if (copy) {
      /* Shared memory, copied while the program was stopped: save the copy
       * (its untouched pages are zero), under the piece's addresses. */
      struct extent_ctx e = {o, (uintptr_t)copy - m->lo,
                             (uintptr_t)copy - m->lo, CKPT_RELOC_SHARED};
      if (ckpt_for_each_data_range((uintptr_t)copy, m->hi - m->lo, 1,
                                   emit_extent, &e))
        return -1;
    } else {
      if (m->shared)
        CKPT_WARN("the program's shared mapping at %#lx-%#lx was not "
                  "copied at the checkpoint: its bytes may be later ones",
                  (unsigned long)m->lo, (unsigned long)m->hi);
      struct extent_ctx e = {o, 0, 0, CKPT_RELOC_SHARED};
      if (emit_unexcluded(m->lo, m->hi - m->lo, pages, emit_extent, &e))
        return -1;
    }
  }
  struct ckpt_extent_rec end = {0, 0};
  return put(o, &end, sizeof end);
}

static int write_maps(struct out *o) {
  if (ckpt_mappings_for_each(write_map_piece, o))
    return -1;
  struct ckpt_map_rec end;
  memset(&end, 0, sizeof end);
  return put(o, &end, sizeof end);
}

static int write_exclusions(struct out *o) {
  const struct ckpt_range *r;
  uint64_t n = ckpt_exclusions(&r);
  if (put(o, &n, sizeof n))
    return -1;
  for (uint64_t i = 0; i < n; i++) {
    struct ckpt_extent_rec e = {r[i].lo, r[i].hi - r[i].lo};
    if (put(o, &e, sizeof e))
      return -1;
  }
  return 0;
}

static int write_hooks(struct out *o) {
  const struct ckpt_hook *h;
  uint64_t n = ckpt_restart_hooks(&h);
  if (put(o, &n, sizeof n))
    return -1;
  for (uint64_t i = 0; i < n; i++) {
    struct ckpt_hook_rec rec = {(uint64_t)(uintptr_t)h[i].fn,
                                (uint64_t)(uintptr_t)h[i].arg};
    if (put_value(o, &rec, sizeof rec))
      return -1;
  }
  return 0;
}

static int cmp_range(const void *a, const void *b) {
  const struct ckpt_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A stopped thread's frames, innermost first, as its stack walk found
 * them. */
struct frame_list {
  struct ckpt_walked_frame *f;
  uint32_t *excluded; /* bytes of excluded locals in each frame */
  uint32_t n, cap;
};

static int collect_frame(void *ctx, const struct ckpt_walked_frame *f) {
  struct frame_list *l = ctx;
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? 2 * l->cap : 64;
    struct ckpt_walked_frame *nf = realloc(l->f, cap * sizeof *nf);
    if (!nf)
      return -2;
    l->f = nf;
    l->cap = cap;
  }
  l->f[l->n++] = *f;
  return 0;
}

static int walk_thread(const struct ckpt_thread *t, struct frame_list *l,
                       char *msg, size_t msglen) {
  struct ckpt_unwind_regs regs;
  int exact = t->park_kind == CKPT_PARK_SIGNAL;
  if (exact) {
    const struct ckpt_cpu_context *c = t->stop_context;
    regs = (struct ckpt_unwind_regs){c->rip, c->rsp, c->rbp, c->rbx,
                                     c->r12, c->r13, c->r14, c->r15};
  } else {
    ckpt_call_point_unwind_regs(&t->park_point, &regs);
  }
  const char *why = "out of memory for its frames";
  int rc = ckpt_walk_stack(t, &regs, exact, t->park_kind == CKPT_PARK_CALL,
                           collect_frame, l, &why);
  if (rc == 0 && l->n)
    l->excluded = calloc(l->n, sizeof *l->excluded);
  if (rc != 0 || !l->n || !l->excluded) {
    snprintf(msg, msglen, "thread %u: its stack cannot be saved: %s",
             t->slot, rc == 0 ? "out of memory for its frames" : why);
    return -1;
  }
  return 0;
}

/* The excluded locals of a stopped thread: those of the frame records on
 * its chain, each counted in the frame that holds it. */
static int excluded_locals(const struct ckpt_thread *t, struct frame_list *l,
                           struct ckpt_range **out, size_t *nout, char *msg,
                           size_t msglen) {
  size_t n = 0;
  for (const struct ckpt_frame_header *fr = t->parked_records; fr;
       fr = fr->parent)
    n += ((const struct ckpt_func_desc *)fr->desc)->num_excluded;
  struct ckpt_range *r = malloc(sizeof *r * (n + 1));
  if (!r) {
    snprintf(msg, msglen, "out of memory for %zu excluded locals", n);
    return -1;
  }
  size_t k = 0;
  uint32_t frame = 0;
  for (const struct ckpt_frame_header *fr = t->parked_records; fr;
       fr = fr->parent) {
    /* Records are on the chain innermost first, as the frames are. */
    while (frame < l->n && (uintptr_t)fr >= l->f[frame].cfa)
      frame++;
    if (frame == l->n || (uintptr_t)fr < l->f[frame].sp) {
      free(r);
      snprintf(msg, msglen,
               "thread %u: a frame record at %#lx is in none of its frames",
               t->slot, (unsigned long)(uintptr_t)fr);
      return -1;
    }
    const struct ckpt_func_desc *d = fr->desc;
    const struct ckpt_frame_exclude *x = d->excluded;
    for (uint32_t i = 0; i < d->num_excluded; i++) {
      r[k++] = (struct ckpt_range){(uintptr_t)fr + x[i].offset,
                                   (uintptr_t)fr + x[i].offset + x[i].size};
      l->excluded[frame] += (uint32_t)x[i].size;
    }
  }
  *out = r;
  *nout = k;
  return 0;
}

/* The frames, outermost first; then the stack bytes [save_lo, save_hi) with
 * the excluded locals left out (restored as zeros). */
static int write_frames_and_stack(struct out *o, const struct frame_list *l,
                                  int exact_pc, const struct ckpt_range *excl,
                                  size_t nexcl, uintptr_t save_lo,
                                  uintptr_t save_hi) {
  for (uint32_t i = l->n; i-- > 0;) {
    const struct ckpt_walked_frame *f = &l->f[i];
    uint32_t flags = i == 0 && exact_pc ? CKPT_FRAME_EXACT_PC : 0;
    const char *name = f->desc ? f->desc->name : "";
    const char *file = f->desc && f->desc->file ? f->desc->file : "";
    struct ckpt_frame_rec r = {f->pc,
                               f->cfa,
                               f->func,
                               f->desc ? CKPT_FRAME_PROGRAM : CKPT_FRAME_RUNTIME,
                               flags,
                               (uint32_t)strlen(name),
                               (uint32_t)strlen(file),
                               l->excluded[i],
                               0};
    if (put(o, &r, sizeof r) || put(o, name, r.name_len) ||
        put(o, file, r.file_len))
      return -1;
  }
  /* Stack pages never touched are absent from the pagemap and skipped. */
  struct extent_ctx e = {o, 0, 0, CKPT_RELOC_STACK};
  if (emit_outside(excl, nexcl, save_lo, save_hi - save_lo, 1, emit_extent,
                   &e))
    return -1;
  struct ckpt_extent_rec end = {0, 0};
  return put(o, &end, sizeof end);
}

/* A thread's TLS, saved piece by piece (the executable's block, then each
 * ckpt-cc library's): each piece is looked at on its own, its start taken
 * as aligned (a restart has the pieces in one buffer: threads.c
 * ckpt_tls_note). */
static int put_tls_piece(void *ctx, const void *buf, size_t len) {
  ckpt_reloc_scan(buf, len, 0, CKPT_RELOC_OWNED);
  return put(ctx, buf, len);
}

static int write_threads(struct out *o, char *msg, size_t msglen) {
  /* Threads a shared library started are not saved (rt.h, library_thread):
   * the library starts them again. Named once per checkpoint unless the
   * library is libomp, whose workers are expected to go this way. */
  uint32_t nthreads = 0;
  const char *unsaved_lib = NULL;
  uint32_t unsaved = 0;
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t)
      continue;
    if (!t->library_thread) {
      nthreads++;
    } else if (!strstr(t->library_name, "libomp")) {
      unsaved_lib = t->library_name;
      unsaved++;
    }
  }
  if (unsaved)
    CKPT_WARN("%u thread(s) started by %s (not by the program) are not "
              "saved; after a restart only what the library starts again "
              "runs",
              unsaved, unsaved_lib);
  uint32_t head[2] = {nthreads, ckpt_keys_used};
  uint64_t guard; /* one canary for the process: every thread copies it */
  __asm__("mov %%fs:0x28, %0" : "=r"(guard));
  if (put(o, head, sizeof head))
    return -1;
  for (uint32_t k = 0; k < ckpt_keys_used; k++) {
    struct ckpt_key_rec kr = {(uint64_t)(uintptr_t)ckpt_keys[k].destructor,
                              ckpt_keys[k].alive, 0};
    /* Libraries make keys too (libomp's destructor is a static function
     * of it): not memory the program owns. */
    ckpt_reloc_scan(&kr.destructor, sizeof kr.destructor, 0,
                    CKPT_RELOC_SHARED);
    if (put(o, &kr, sizeof kr))
      return -1;
  }
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t || t->library_thread)
      continue;
    /* Frames and a stack exist for a thread stopped at a poll or in a
     * call; a thread not yet started or already finished has none. */
    int has_frames = t->state == CKPT_THREAD_PARKED ||
                     t->state == CKPT_THREAD_IN_CALL;
    struct frame_list frames = {0};
    struct ckpt_range *excl = NULL;
    size_t nexcl = 0;
    if (has_frames &&
        (walk_thread(t, &frames, msg, msglen) != 0 ||
         excluded_locals(t, &frames, &excl, &nexcl, msg, msglen) != 0)) {
      free(frames.f);
      free(frames.excluded);
      return -1;
    }
    uint32_t n = frames.n;
    uint32_t nkeys = t->key_cap < ckpt_keys_used ? t->key_cap : ckpt_keys_used;
    struct ckpt_thread_rec tr;
    memset(&tr, 0, sizeof tr);
    tr.slot = t->slot;
    tr.park_kind = has_frames ? (uint32_t)t->park_kind : 0;
    tr.nframes = n;
    tr.state = (uint32_t)t->state;
    tr.stack_lo = t->stack_lo;
    tr.stack_hi = t->stack_hi;
    tr.user_top = t->user_top;
    int by_signal = has_frames && t->park_kind == CKPT_PARK_SIGNAL;
    if (by_signal) {
      tr.stack_save_lo = t->park_sp;
    } else if (has_frames) {
      tr.stack_save_lo = t->park_point.rsp;
      tr.resume = t->park_point;
    }
    tr.stack_guard = guard;
    tr.ptid = t->ptid;
    tr.start_fn = (uint64_t)(uintptr_t)t->start_fn;
    tr.start_arg = (uint64_t)(uintptr_t)t->start_arg;
    tr.retval = (uint64_t)(uintptr_t)t->retval;
    tr.tls_block = t->tls_block;
    tr.tls_len = t->tls_block ? (uint32_t)ckpt_tls_saved_size : 0;
    tr.nkey_values = nkeys;
    tr.call_kind = t->state == CKPT_THREAD_IN_CALL ? t->call_kind : 0;
    if (t->state == CKPT_THREAD_IN_CALL)
      tr.call_callee = (uint64_t)(uintptr_t)t->call_callee;
    tr.detached = (uint32_t)t->detached;
    /* Only what the call kind uses; the rest may be left from earlier
     * calls. */
    tr.call_fd = -1;
    switch (tr.call_kind) {
    case CKPT_CALL_SLEEP:
      tr.call_deadline_ns = t->call_deadline_ns;
      break;
    case CKPT_CALL_IO:
      tr.call_fd = t->call_fd;
      break;
    case CKPT_CALL_COMPLETED:
      tr.call_fd = t->call_fd;
      tr.call_result = t->call_result;
      tr.call_errno = t->call_errno;
      break;
    default:
      break;
    }
    /* The fields a restart gives back to the program. */
    ckpt_reloc_scan(&tr.start_fn, 3 * sizeof tr.start_fn, 0,
                    CKPT_RELOC_OWNED);
    ckpt_reloc_scan(&tr.resume, offsetof(struct ckpt_call_point, mxcsr), 0,
                    CKPT_RELOC_STACK);
    int rc = put(o, &tr, sizeof tr) ||
             (tr.tls_len && ckpt_tls_save(t->tls_block, put_tls_piece, o));
    for (uint32_t k = 0; k < nkeys && !rc; k++) {
      uint64_t v = (uint64_t)(uintptr_t)t->key_values[k];
      rc = put_value(o, &v, sizeof v);
    }
    /* Stopped by signal: the register context it resumes, its first 192
     * bytes and the FP image in use. */
    if (!rc && by_signal) {
      uint64_t mask = ckpt_sigset_bits(&t->stop_mask);
      ckpt_reloc_scan(t->stop_context->gregs,
                      sizeof t->stop_context->gregs, 0, CKPT_RELOC_STACK);
      rc = put(o, t->stop_context,
               offsetof(struct ckpt_cpu_context, fp) +
                   t->stop_context->fp_len) ||
           put(o, &mask, sizeof mask);
    }
    if (!rc && has_frames) {
      qsort(excl, nexcl, sizeof *excl, cmp_range);
      rc = write_frames_and_stack(o, &frames, by_signal, excl, nexcl,
                                  tr.stack_save_lo, t->user_top);
    }
    free(frames.f);
    free(frames.excluded);
    free(excl);
    if (rc)
      return -1;
  }
  return 0;
}

static int write_files(struct out *o, const struct ckpt_snapshot_input *in) {
  uint32_t head[2] = {(uint32_t)in->nfiles, 0};
  if (put(o, head, sizeof head))
    return -1;
  for (int i = 0; i < in->nfiles; i++) {
    const struct ckpt_file_state *f = &in->files[i];
    struct ckpt_file_rec r = {f->fd,           (uint32_t)f->kind,
                              f->flags,        (uint32_t)strlen(f->path),
                              f->offset,       f->size,
                              f->same_as,      0,
                              f->content_hash};
    if (f->kind == CKPT_FILE_DELETED)
      r.mode = f->mode;
    if (put(o, &r, sizeof r) || put(o, f->path, r.path_len))
      return -1;
    /* A deleted file's content, from the copy made while the program was
     * stopped. */
    static char buf[1 << 16];
    for (uint64_t at = 0; f->kind == CKPT_FILE_DELETED && at < f->size;) {
      size_t want = f->size - at < sizeof buf ? (size_t)(f->size - at)
                                              : sizeof buf;
      ssize_t n = pread(f->copy_fd, buf, want, (off_t)at);
      if (n <= 0 || put(o, buf, (size_t)n))
        return -1;
      at += (uint64_t)n;
    }
  }
  return 0;
}

/* Captured by the coordinator while the program was stopped (sigstate.c). */
static int write_signals(struct out *o) {
  struct ckpt_sigstate_view v;
  ckpt_sigstate_captured(&v);
  return put(o, v.head, sizeof *v.head) ||
         (v.head->nthreads &&
          put(o, v.threads, v.head->nthreads * sizeof *v.threads)) ||
         (v.head->npending &&
          put(o, v.pending, v.head->npending * sizeof *v.pending)) ||
         (v.head->ntimers &&
          put(o, v.timers, v.head->ntimers * sizeof *v.timers));
}

static int write_rtstate(struct out *o) {
  uint64_t len = (uint64_t)(__stop_ckpt_rtstate - __start_ckpt_rtstate);
  ckpt_reloc_scan(__start_ckpt_rtstate, len,
                  (uint64_t)(uintptr_t)__start_ckpt_rtstate, CKPT_RELOC_OWNED);
  return put(o, &len, sizeof len) || put(o, __start_ckpt_rtstate, len);
}

int ckpt_snapshot_write(const struct ckpt_snapshot_input *in, char *path,
                        size_t pathlen, char *msg, size_t msglen) {
  struct ckpt_image_info info;
  memset(&info, 0, sizeof info);
  info.version = CKPT_FILE_VERSION;
  info.arch = EM_X86_64;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  info.created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  info.sequence = in->sequence;
  info.build_id_len = (uint32_t)ckpt_self_build_id(info.build_id,
                                                   sizeof info.build_id);
  memcpy(info.run_id, ckpt_start.run_id, CKPT_RUN_ID_LEN);
  meta_exe_hash = in->exe_hash;
  char name[CKPT_IMAGE_NAME_MAX];
  ckpt_image_name(name, sizeof name, in->sequence);
  snprintf(path, pathlen, "%s/%s", ckpt_config.dir, name);
  struct ckpt_image_options opts = {.zstd_level = 1,
                                    .tmp_name = in->tmp_name,
                                    .mac_key = in->mac_key};
  const char *lv = secure_getenv("CKPT_ZSTD_LEVEL");
  if (lv && *lv)
    opts.zstd_level = atoi(lv);
  struct ckpt_image_writer *w = ckpt_image_create_at(
      ckpt_dir_fd, ckpt_config.dir, name, &info, &opts, msg, msglen);
  if (!w)
    return -1;
  struct out o = {w};
  if (ckpt_reloc_scan_begin() != 0) {
    snprintf(msg, msglen, "out of memory for the list of libraries");
    ckpt_reloc_scan_end();
    ckpt_image_abort(w);
    return -1;
  }
  struct {
    uint32_t type;
    int (*fn)(struct out *);
  } simple[] = {{CKPT_SEC_META, write_meta},
                {CKPT_SEC_LAYOUT, write_layout},
                {CKPT_SEC_RTSTATE, write_rtstate},
                {CKPT_SEC_GLOBALS, write_globals},
                {CKPT_SEC_HEAP, write_heap},
                {CKPT_SEC_MAPS, write_maps},
                {CKPT_SEC_SIGNALS, write_signals},
                {CKPT_SEC_EXCLUDED, write_exclusions},
                {CKPT_SEC_HOOKS, write_hooks}};
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
    if (ckpt_image_begin_section(w, simple[i].type) || simple[i].fn(&o) ||
        ckpt_image_end_section(w))
      goto fail;
  }
  if (ckpt_image_begin_section(w, CKPT_SEC_FILES) || write_files(&o, in) ||
      ckpt_image_end_section(w))
    goto fail;
  msg[0] = 0;
  if (ckpt_image_begin_section(w, CKPT_SEC_THREADS) ||
      write_threads(&o, msg, msglen) || ckpt_image_end_section(w))
    goto fail;
  /* The callbacks of cookie streams are stored mangled: looked at apart
   * (fmemopen's are libc's own functions). */
  static uint64_t cookie_funcs[4096];
  size_t ncookie = ckpt_stdio_cookie_funcs(ckpt_start.stdio_list,
                                           ckpt_heap_app_end(), cookie_funcs,
                                           sizeof cookie_funcs / 8);
  ckpt_reloc_scan(cookie_funcs, ncookie * 8, 0, CKPT_RELOC_SHARED);
  /* Last: every section above has been looked at for pointers. */
  if (ckpt_image_begin_section(w, CKPT_SEC_LIBS) ||
      ckpt_reloc_write_section(put_piece, &o, msg, msglen) ||
      ckpt_image_end_section(w))
    goto fail;
  ckpt_reloc_scan_end();
  return ckpt_image_commit(w, msg, msglen);
fail:
  ckpt_reloc_scan_end();
  if (!msg[0])
    snprintf(msg, msglen, "%s",
             layout_error[0] ? layout_error : ckpt_image_error(w));
  ckpt_image_abort(w);
  return -1;
}
