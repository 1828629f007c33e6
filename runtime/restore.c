/* runtime/restore.c - resumes a checkpoint: runs in main() of the restarted
 * program before any user code. Checks that this is the same binary and the
 * same address layout, puts heap, globals, runtime state and stdout/stderr
 * back, and re-creates every thread, which puts its saved stack back at the
 * same addresses and continues where it stopped (frames.c). Any problem is
 * one error line and exit status 70: a restore never half-runs the
 * program. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"
#include "image.h"
#include "rt.h"
#include "sections.h"

extern char **environ;
extern char __executable_start[], etext[];

static const char *restore_path;
static struct ckpt_image *image;

#define FAIL(...)                                                              \
  do {                                                                         \
    char fail_buf_[768];                                                       \
    snprintf(fail_buf_, sizeof fail_buf_, __VA_ARGS__);                        \
    ckpt_fatal("restore from %s: %s", restore_path, fail_buf_);                \
  } while (0)

static struct ckpt_section_reader *open_section(uint32_t type) {
  long idx = ckpt_image_find(image, type, 0);
  if (idx < 0)
    FAIL("the file has no %s section", ckpt_section_type_name(type));
  char err[CKPT_IMAGE_ERRLEN];
  struct ckpt_section_reader *r = ckpt_section_open(image, (size_t)idx, err,
                                                    sizeof err);
  if (!r)
    ckpt_fatal("%s", err);
  return r;
}

static void get(struct ckpt_section_reader *r, void *buf, size_t len) {
  if (ckpt_section_read(r, buf, len) != 0)
    ckpt_fatal("%s", ckpt_section_error(r));
}

static void finish(struct ckpt_section_reader *r) {
  if (ckpt_section_finish(r) != 0)
    ckpt_fatal("%s", ckpt_section_error(r));
  ckpt_section_close(r);
}

/* The checkpoint's libraries (LAYOUT). */
struct lib_check {
  struct ckpt_lib_rec *recs;
  char **paths;
  uint32_t n;
};

/* Restored bytes that may hold pointers into libraries (relocate.c). */
static void note_flags(void *dst, size_t len, uint64_t where,
                       const char *what, int flags) {
  char msg[600];
  if (ckpt_reloc_note(dst, len, where, what, flags, msg, sizeof msg) != 0)
    FAIL("%s", msg);
}

static void note(void *dst, size_t len, uint64_t where, const char *what) {
  note_flags(dst, len, where, what, 0);
}

/* get() into memory the program gets back, looked at as it arrives: in
 * pieces, each while it is still in the cache (a second pass over a large
 * heap would read it all from memory again). */
static void get_noted(struct ckpt_section_reader *r, void *dst, size_t len,
                      uint64_t where, const char *what) {
  const size_t piece = 256 * 1024; /* a multiple of 8: alignment holds */
  for (size_t at = 0; at < len; at += piece) {
    size_t n = len - at < piece ? len - at : piece;
    get(r, (char *)dst + at, n);
    note((char *)dst + at, n, where + at, what);
  }
}

/* The libraries built with ckpt-cc -shared must be the builds the
 * checkpoint was taken with: their globals and frames come back by their
 * layout. They may be elsewhere (relocate.c moves the pointers). */
static void check_modules(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_META);
  char matched[CKPT_MAX_MODULES] = {0};
  while (ckpt_section_remaining(r) > 0) {
    uint32_t hdr[2];
    get(r, hdr, sizeof hdr);
    if (hdr[1] > ckpt_section_remaining(r))
      FAIL("the meta section is damaged");
    if (hdr[0] != CKPT_META_MODULE) {
      uint8_t skip[256];
      for (uint32_t left = hdr[1]; left;) {
        uint32_t k = left < sizeof skip ? left : (uint32_t)sizeof skip;
        get(r, skip, k);
        left -= k;
      }
      continue;
    }
    uint8_t rec[4 + 32 + 4096 + 1];
    uint32_t bid_len;
    if (hdr[1] < 4 || hdr[1] >= sizeof rec)
      FAIL("the meta section is damaged");
    get(r, rec, hdr[1]);
    memcpy(&bid_len, rec, 4);
    if (bid_len > 32 || 4 + bid_len > hdr[1])
      FAIL("the meta section is damaged");
    char *path = (char *)rec + 4 + bid_len;
    rec[hdr[1]] = 0;
    const struct ckpt_module *now = NULL;
    for (size_t i = 1; i < ckpt_module_count(); i++) {
      const struct ckpt_module *m = ckpt_module_at(i);
      if (m && strcmp(m->path, path) == 0) {
        now = m;
        matched[i] = 1;
      }
    }
    if (!now)
      FAIL("%s was a library built with ckpt-cc -shared at the checkpoint "
           "and is not one now: restart with the library the checkpoint was "
           "taken with",
           path);
    if (now->build_id_len != bid_len ||
        memcmp(now->build_id, rec + 4, bid_len) != 0)
      FAIL("%s is not the build the checkpoint was taken with (its build-id "
           "differs): restart with the library the checkpoint was taken with",
           path);
  }
  finish(r);
  for (size_t i = 1; i < ckpt_module_count(); i++) {
    const struct ckpt_module *m = ckpt_module_at(i);
    if (m && !matched[i])
      FAIL("%s is built with ckpt-cc -shared now but was not at the "
           "checkpoint: restart with the library the checkpoint was taken "
           "with",
           m->path);
  }
}

/* The checkpoint's libraries (LAYOUT): those loaded with the program come
 * first, then those its dlopen calls loaded, in the loader's order. */
static struct lib_check layout_libs;
static uint32_t layout_start_libs;

static uint64_t restore_layout(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_LAYOUT);
  struct ckpt_layout_rec lay;
  get(r, &lay, sizeof lay);
  if (lay.heap_base != CKPT_HEAP_BASE || lay.stack_base != CKPT_STACK_BASE ||
      lay.stack_stride != CKPT_STACK_SLOT_STRIDE ||
      lay.bss_start != (uint64_t)(uintptr_t)__bss_start)
    FAIL("the checkpoint's address layout differs from this build's");
  if (lay.heap_end < lay.heap_base ||
      lay.heap_end - lay.heap_base > CKPT_HEAP_MAX || lay.nlibs > 4096)
    FAIL("the layout section is damaged");
  struct lib_check c = {calloc(lay.nlibs + 1, sizeof(struct ckpt_lib_rec)),
                        calloc(lay.nlibs + 1, sizeof(char *)), lay.nlibs};
  layout_start_libs = 0;
  for (uint32_t i = 0; i < lay.nlibs; i++) {
    get(r, &c.recs[i], sizeof c.recs[i]);
    if (c.recs[i].path_len > 4096 || (c.recs[i].flags & ~CKPT_LIB_DLOPEN) ||
        (!(c.recs[i].flags & CKPT_LIB_DLOPEN) && layout_start_libs != i))
      FAIL("the layout section is damaged");
    if (!(c.recs[i].flags & CKPT_LIB_DLOPEN))
      layout_start_libs = i + 1;
    c.paths[i] = calloc(1, c.recs[i].path_len + 1);
    get(r, c.paths[i], c.recs[i].path_len);
  }
  finish(r);
  layout_libs = c;
  return lay.heap_end;
}

/* The libraries at the checkpoint and the saved values pointing into them
 * (LIBS): libraries may be elsewhere now, so such values are changed as
 * they are read back (relocate.c). */
static void read_libs(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_LIBS);
  struct ckpt_libs_head head;
  get(r, &head, sizeof head);
  if (head.nlibs > 4096 || head.ntargets > (1u << 26) ||
      head.nthreads > CKPT_STACK_MAX_SLOTS || head.reserved)
    FAIL("the libraries section is damaged");
  struct ckpt_reloc_lib *libs = calloc(head.nlibs + 1, sizeof *libs);
  struct ckpt_reloc_target *targets =
      calloc(head.ntargets + 1, sizeof *targets);
  if (!libs || !targets)
    FAIL("out of memory for the libraries section");
  for (uint32_t i = 0; i < head.nlibs; i++) {
    struct ckpt_libs_lib_rec l;
    get(r, &l, sizeof l);
    if (l.name_len > 4096 || l.soname_len > 4096 || l.build_id_len > 32 ||
        l.lo >= l.hi || (l.flags & ~CKPT_LIB_DLOPEN))
      FAIL("the libraries section is damaged");
    libs[i] = (struct ckpt_reloc_lib){l.base, l.lo, l.hi, l.flags,
                                      calloc(1, l.name_len + 1),
                                      calloc(1, l.soname_len + 1), {0},
                                      l.build_id_len};
    if (!libs[i].name || !libs[i].soname)
      FAIL("out of memory for the libraries section");
    get(r, libs[i].name, l.name_len);
    get(r, libs[i].soname, l.soname_len);
    get(r, libs[i].build_id, l.build_id_len);
  }
  for (uint32_t i = 0; i < head.ntargets; i++) {
    struct ckpt_libs_target_rec t;
    get(r, &t, sizeof t);
    if (t.lib >= head.nlibs || t.sym_len > 4096 ||
        (i > 0 && t.value <= targets[i - 1].value) ||
        t.value < libs[t.lib].lo || t.value >= libs[t.lib].hi)
      FAIL("the libraries section is damaged");
    targets[i] = (struct ckpt_reloc_target){t.value, t.where, t.sym_offset,
                                            t.lib, t.count, t.flags,
                                            calloc(1, t.sym_len + 1)};
    if (!targets[i].symbol)
      FAIL("out of memory for the libraries section");
    get(r, targets[i].symbol, t.sym_len);
  }
  struct ckpt_reloc_thread *threads =
      calloc(head.nthreads + 1, sizeof *threads);
  if (!threads)
    FAIL("out of memory for the libraries section");
  for (uint32_t i = 0; i < head.nthreads; i++) {
    struct ckpt_libs_thread_rec t;
    get(r, &t, sizeof t);
    if (t.slot >= CKPT_STACK_MAX_SLOTS || t.reserved ||
        (t.tls_block && (t.tls_block > t.ptid || t.tls_size > t.ptid - t.tls_block)))
      FAIL("the libraries section is damaged");
    threads[i] = (struct ckpt_reloc_thread){t.ptid, t.tls_block, t.tls_size,
                                            t.slot, t.ptid};
  }
  finish(r);
  ckpt_reloc_restore_begin(libs, head.nlibs, targets, head.ntargets, threads,
                           head.nthreads);
}

/* The program's dlopen calls (META DLOPEN, DLOPEN_OBJECT), made again with
 * each library where it was (dlopen.c); then every library must be. */
static void reopen_libraries(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_META);
  struct ckpt_dlopen_call *calls = NULL;
  struct ckpt_dlopen_object *objs = NULL;
  size_t ncalls = 0, nobjs = 0;
  while (ckpt_section_remaining(r) > 0) {
    uint32_t hdr[2];
    get(r, hdr, sizeof hdr);
    if (hdr[1] > ckpt_section_remaining(r) || hdr[1] > 24 + 4096)
      FAIL("the meta section is damaged");
    uint8_t *rec = calloc(1, hdr[1] + 1);
    get(r, rec, hdr[1]);
    if (hdr[0] == CKPT_META_DLOPEN) {
      if (hdr[1] < 12)
        FAIL("the meta section is damaged");
      calls = realloc(calls, (ncalls + 1) * sizeof *calls);
      uint32_t flags;
      memcpy(&calls[ncalls].handle, rec, 8);
      memcpy(&flags, rec + 8, 4);
      calls[ncalls].flags = (int)flags;
      calls[ncalls].path = (const char *)rec + 12;
      ncalls++;
    } else if (hdr[0] == CKPT_META_DLOPEN_OBJECT) {
      if (hdr[1] < 25)
        FAIL("the meta section is damaged");
      objs = realloc(objs, (nobjs + 1) * sizeof *objs);
      uint32_t flags;
      memcpy(&objs[nobjs].lo, rec, 8);
      memcpy(&objs[nobjs].hi, rec + 8, 8);
      memcpy(&flags, rec + 16, 4);
      memcpy(&objs[nobjs].group, rec + 20, 4);
      objs[nobjs].flags = (int)flags;
      objs[nobjs].path = (const char *)rec + 24;
      if (objs[nobjs].lo >= objs[nobjs].hi || ((objs[nobjs].lo |
                                                objs[nobjs].hi) & 4095))
        FAIL("the meta section is damaged");
      nobjs++;
    } else {
      free(rec);
    }
  }
  finish(r);
  if (nobjs != layout_libs.n - layout_start_libs)
    FAIL("the meta and layout sections disagree about the libraries opened "
         "with dlopen");
  char msg[600];
  if ((ncalls || nobjs) &&
      ckpt_dlopen_replay(calls, ncalls, objs, nobjs, msg,
                                   sizeof msg) != 0)
    FAIL("%s", msg);
  /* Every library is loaded now: the pointers into them read so far get
   * their values, later ones as they are read. */
  if (ckpt_reloc_settle(msg, sizeof msg) != 0)
    FAIL("%s", msg);
  /* Each path points into its record, 12 or 24 bytes in. */
  for (size_t i = 0; i < ncalls; i++)
    free((void *)(calls[i].path - 12));
  for (size_t i = 0; i < nobjs; i++)
    free((void *)(objs[i].path - 24));
  free(calls);
  free(objs);
  for (uint32_t i = 0; i < layout_libs.n; i++)
    free(layout_libs.paths[i]);
  free(layout_libs.paths);
  free(layout_libs.recs);
}

static void restore_heap(uint64_t layout_end) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_HEAP);
  struct ckpt_heap_rec h;
  get(r, &h, sizeof h);
  uint64_t end = h.heap_end;
  if (end != layout_end)
    FAIL("heap and layout sections disagree");
  if (ckpt_heap_restore_map((uintptr_t)end) != 0)
    FAIL("cannot map the application heap at %#llx",
         (unsigned long long)CKPT_HEAP_BASE);
  for (;;) {
    struct ckpt_extent_rec e;
    get(r, &e, sizeof e);
    if (e.len == 0)
      break;
    if (e.addr < CKPT_HEAP_BASE || e.addr > end || e.len > end - e.addr)
      FAIL("heap extent %#llx+%llu is outside the heap",
           (unsigned long long)e.addr, (unsigned long long)e.len);
    get_noted(r, (void *)(uintptr_t)e.addr, e.len, e.addr, "the heap");
  }
  finish(r);
}

/* The program's own mappings, at their addresses, with the bytes saved. */
static void restore_maps(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_MAPS);
  char path[4097], msg[600];
  ckpt_mappings_forget_all();
  for (;;) {
    struct ckpt_map_rec m;
    get(r, &m, sizeof m);
    if (m.hi == 0)
      break;
    if (m.lo >= m.hi || (m.lo | m.hi) & 4095 || m.path_len >= sizeof path ||
        m.kind < CKPT_MAP_ANON_PRIVATE || m.kind > CKPT_MAP_BRK ||
        ((m.kind == CKPT_MAP_FILE_PRIVATE || m.kind == CKPT_MAP_FILE_SHARED) !=
         (m.path_len > 0)))
      FAIL("the mappings section is damaged");
    get(r, path, m.path_len);
    path[m.path_len] = 0;
    struct ckpt_mapping_piece piece = {(uintptr_t)m.lo, (uintptr_t)m.hi,
                                       (int)m.prot, 0, (int)m.kind,
                                       m.offset, path};
    if (ckpt_mappings_restore_piece(&piece, msg, sizeof msg) != 0)
      FAIL("%s", msg);
    for (;;) {
      struct ckpt_extent_rec e;
      get(r, &e, sizeof e);
      if (e.len == 0)
        break;
      /* Never write into a shared file mapping: that would be the file. */
      if (m.kind == CKPT_MAP_FILE_SHARED || e.addr < m.lo || e.addr > m.hi ||
          e.len > m.hi - e.addr)
        FAIL("mapping %#llx-%#llx: saved bytes out of bounds",
             (unsigned long long)m.lo, (unsigned long long)m.hi);
      get_noted(r, (void *)(uintptr_t)e.addr, e.len, e.addr, "mapped memory");
    }
    /* Pointers into libraries in it get their new values later, and those
     * to the threads' glibc data later still: a piece that is not writable
     * gets its protection only then. */
    if (m.kind != CKPT_MAP_FILE_SHARED && !(m.prot & PROT_WRITE)) {
      if (ckpt_reloc_protect_later(piece.lo, piece.hi, piece.prot) != 0)
        FAIL("out of memory");
    } else if (ckpt_mappings_restore_protection(&piece) != 0) {
      FAIL("cannot set the protection of mapping %#llx-%#llx: %s",
           (unsigned long long)m.lo, (unsigned long long)m.hi,
           strerror(errno));
    }
  }
  finish(r);
}

struct global_at {
  uint64_t addr;
  const struct ckpt_global_desc *found;
};

static int match_global(void *ctx, const struct ckpt_global_desc *g) {
  struct global_at *at = ctx;
  if ((uint64_t)(uintptr_t)g->addr != at->addr)
    return 0;
  at->found = g;
  return 1;
}

static const struct ckpt_global_desc *find_global(uint64_t addr) {
  struct global_at at = {addr, NULL};
  if (ckpt_for_each_program_global(match_global, &at))
    return at.found;
  const struct ckpt_global_desc *copies;
  size_t n = ckpt_copy_globals(&copies);
  for (size_t i = 0; i < n; i++)
    if ((uint64_t)(uintptr_t)copies[i].addr == addr)
      return &copies[i];
  return NULL;
}

static const struct ckpt_global_desc *find_copy_global_named(const char *name) {
  const struct ckpt_global_desc *copies;
  size_t n = ckpt_copy_globals(&copies);
  for (size_t i = 0; i < n; i++)
    if (strcmp(copies[i].name, name) == 0)
      return &copies[i];
  return NULL;
}

static int zero_range(void *ctx, uintptr_t addr, size_t len) {
  (void)ctx;
  memset((void *)addr, 0, len);
  return 0;
}

/* Zero what the checkpoint says was zero, touching only pages that hold
 * something now. */
static void zero_gap(uintptr_t addr, size_t len) {
  if (len)
    ckpt_for_each_data_range(addr, len, ckpt_in_exe_bss(addr),
                             zero_range, NULL);
}

static void restore_globals(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_GLOBALS);
  char name[4096];
  for (;;) {
    struct ckpt_global_rec g;
    get(r, &g, sizeof g);
    if (g.addr == 0)
      break;
    if (g.name_len >= sizeof name)
      FAIL("the globals section is damaged");
    get(r, name, g.name_len);
    name[g.name_len] = 0;
    /* A global of a library built with ckpt-cc -shared is where that
     * library is now (the same build: check_modules). */
    const struct ckpt_global_desc *d = find_global(ckpt_reloc_address(g.addr));
    /* A library's variable the program reaches through the GOT (copyrel.c)
     * is saved where it is in the library; in another build of it, that is
     * where the variable of the same name is now. */
    if (!d && ckpt_reloc_in_library(g.addr))
      d = find_copy_global_named(name);
    if (!d || d->size != g.size || strcmp(d->name, name) != 0 ||
        (d->flags & CKPT_GLOBAL_EXCLUDED) != (g.flags & CKPT_GLOBAL_EXCLUDED))
      FAIL("global %s (%llu bytes at %#llx) does not exist in this binary",
           name, (unsigned long long)g.size, (unsigned long long)g.addr);
    /* An excluded global has no extents: it comes back as zeros. */
    uintptr_t base = (uintptr_t)d->addr, done = 0;
    for (;;) {
      struct ckpt_extent_rec e;
      get(r, &e, sizeof e);
      if (e.len == 0)
        break;
      if (e.addr < done || e.addr > g.size || e.len > g.size - e.addr)
        FAIL("global %s: extent out of bounds", name);
      zero_gap(base + done, e.addr - done);
      get_noted(r, (void *)(base + e.addr), e.len, g.addr + e.addr,
                "a global");
      done = e.addr + e.len;
    }
    zero_gap(base + done, g.size - done);
  }
  finish(r);
}

/* ckpt_exclude() ranges and ckpt_on_restart() callbacks: they stay in force
 * in the restarted process. */
static void restore_exclusions_and_hooks(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_EXCLUDED);
  uint64_t n;
  get(r, &n, sizeof n);
  if (n > (1ull << 32))
    FAIL("the excluded-ranges section is damaged");
  struct ckpt_range *ranges = calloc(n + 1, sizeof *ranges);
  if (!ranges)
    FAIL("out of memory for %llu excluded ranges", (unsigned long long)n);
  for (uint64_t i = 0; i < n; i++) {
    struct ckpt_extent_rec e;
    get(r, &e, sizeof e);
    if (e.len == 0 || e.addr + e.len < e.addr ||
        (i > 0 && e.addr < ranges[i - 1].hi))
      FAIL("the excluded-ranges section is damaged");
    ranges[i] = (struct ckpt_range){(uintptr_t)e.addr, (uintptr_t)(e.addr + e.len)};
  }
  finish(r);
  if (ckpt_exclusions_restore(ranges, n) != 0)
    FAIL("out of memory for %llu excluded ranges", (unsigned long long)n);
  free(ranges);

  r = open_section(CKPT_SEC_HOOKS);
  get(r, &n, sizeof n);
  if (n > (1ull << 32))
    FAIL("the restart-callbacks section is damaged");
  struct ckpt_hook *hooks = calloc(n + 1, sizeof *hooks);
  if (!hooks)
    FAIL("out of memory for %llu restart callbacks", (unsigned long long)n);
  for (uint64_t i = 0; i < n; i++) {
    struct ckpt_hook_rec h;
    get(r, &h, sizeof h);
    note_flags(&h, sizeof h, 0, "a restart callback's argument",
               CKPT_RELOC_NO_DEFER);
    /* Same binary (build-id checked), no PIE: the function is where it was.
     * It must at least be code of the executable. */
    if (h.fn < (uint64_t)(uintptr_t)__executable_start ||
        h.fn >= (uint64_t)(uintptr_t)etext)
      FAIL("restart callback %#llx is not a function of this program",
           (unsigned long long)h.fn);
    hooks[i].fn = (void (*)(void *))(uintptr_t)h.fn;
    hooks[i].arg = (void *)(uintptr_t)h.arg;
  }
  finish(r);
  if (ckpt_restart_hooks_restore(hooks, n) != 0)
    FAIL("out of memory for %llu restart callbacks", (unsigned long long)n);
  free(hooks);
}

static void restore_rtstate(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_RTSTATE);
  uint64_t len;
  get(r, &len, sizeof len);
  if (len != (uint64_t)(__stop_ckpt_rtstate - __start_ckpt_rtstate))
    FAIL("the runtime state section has the wrong size");
  get(r, __start_ckpt_rtstate, len);
  note(__start_ckpt_rtstate, len, (uint64_t)(uintptr_t)__start_ckpt_rtstate,
       "ckpt's runtime state");
  finish(r);
}

/* A file the program had unlinked: made again unlinked (O_TMPFILE) in its
 * directory, else in $TMPDIR or /tmp, and filled with its saved content;
 * returns the descriptor, moved out of the program's range. */
static int make_deleted_file(struct ckpt_section_reader *r,
                             const struct ckpt_file_state *f) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", f->path);
  char *suffix = strstr(dir, " (deleted)");
  if (suffix && suffix[10] == 0)
    *suffix = 0;
  char *slash = strrchr(dir, '/');
  if (slash)
    *(slash == dir ? slash + 1 : slash) = 0;
  const char *tmpdir = secure_getenv("TMPDIR");
  const char *dirs[] = {dir, tmpdir && *tmpdir ? tmpdir : "/tmp", "/tmp"};
  int fd = -1, err = 0;
  for (size_t i = 0; i < 3 && fd < 0; i++) {
    fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && !err)
      err = errno;
  }
  if (fd < 0)
    FAIL("cannot make the deleted file %s (fd %d) again in %s: %s", f->path,
         f->fd, dir, strerror(err));
  fd = ckpt_hide_fd(fd);
  static char buf[1 << 16];
  for (uint64_t at = 0; at < f->size;) {
    size_t n = f->size - at < sizeof buf ? (size_t)(f->size - at) : sizeof buf;
    get(r, buf, n);
    if (pwrite(fd, buf, n, (off_t)at) != (ssize_t)n)
      FAIL("cannot write the deleted file %s (fd %d) again: %s", f->path,
           f->fd, strerror(errno));
    at += n;
  }
  return fd;
}

/* Read the FILES section; applied only once the image is closed, since the
 * image's own descriptor may have a number the program used. */
static struct ckpt_file_state *read_files(uint32_t *count) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_FILES);
  uint32_t head[2];
  get(r, head, sizeof head);
  if (head[0] > CKPT_MAX_SAVED_FILES)
    FAIL("the files section is damaged");
  struct ckpt_file_state *files = calloc(head[0] + 1, sizeof *files);
  if (!files)
    FAIL("out of memory");
  for (uint32_t i = 0; i < head[0]; i++) {
    struct ckpt_file_rec f;
    get(r, &f, sizeof f);
    if (f.path_len >= sizeof files[i].path || f.fd < 0 ||
        f.kind > CKPT_FILE_DELETED ||
        (f.mode && f.kind != CKPT_FILE_DELETED) || f.mode > 07777)
      FAIL("the files section is damaged");
    files[i].fd = f.fd;
    files[i].kind = (int)f.kind;
    files[i].flags = f.flags;
    files[i].offset = f.offset;
    files[i].size = f.size;
    files[i].same_as = f.same_as;
    files[i].mode = f.mode;
    files[i].content_hash = f.content_hash;
    files[i].copy_fd = -1;
    if (f.same_as >= f.fd || f.same_as < -1)
      FAIL("the files section is damaged");
    get(r, files[i].path, f.path_len);
    if (f.kind == CKPT_FILE_DELETED)
      files[i].copy_fd = make_deleted_file(r, &files[i]);
  }
  finish(r);
  *count = head[0];
  return files;
}

/* A thread stopped by signal: the register context it resumes (checked
 * against this CPU when it does) and its signal mask. */
static void read_context(struct ckpt_section_reader *r, struct ckpt_thread *t,
                         uint64_t save_lo) {
  struct ckpt_cpu_context *c = aligned_alloc(64, sizeof *c);
  if (!c)
    FAIL("out of memory");
  memset(c, 0, sizeof *c);
  size_t head = offsetof(struct ckpt_cpu_context, fp);
  get(r, c, head);
  if (c->fp_len > CKPT_CONTEXT_FP_MAX || c->rsp - 128 != save_lo)
    FAIL("the threads section is damaged (thread %u's registers)", t->slot);
  get(r, c->fp, c->fp_len);
  note(c->gregs, sizeof c->gregs, 0, "a register of a thread stopped by signal");
  uint64_t mask;
  get(r, &mask, sizeof mask);
  ckpt_sigset_from_bits(&t->stop_mask, mask);
  t->restore_context = c;
}

/* The frame descriptions are for tools: the stack bytes and the resume
 * point are what the thread needs (the binary is checked whole, by hash).
 * They are still checked, as a damaged file is refused, not half used. */
static void read_frames(struct ckpt_section_reader *r, struct ckpt_thread *t,
                        uint32_t nframes, uint64_t save_lo, uint64_t top) {
  char text[4096];
  uint64_t outer_cfa = top + 1;
  for (uint32_t i = 0; i < nframes; i++) {
    struct ckpt_frame_rec f;
    get(r, &f, sizeof f);
    if (f.name_len >= sizeof text || f.file_len >= sizeof text ||
        (f.kind != CKPT_FRAME_PROGRAM && f.kind != CKPT_FRAME_RUNTIME) ||
        f.cfa <= save_lo || f.cfa >= outer_cfa)
      FAIL("the threads section is damaged (thread %u, frame %u)", t->slot, i);
    outer_cfa = f.cfa;
    get(r, text, f.name_len);
    get(r, text, f.file_len);
  }
}

/* The saved part of a stopped thread's stack, into a buffer the thread
 * copies into place once it runs (restore's own frames may be in the way
 * until then). */
static void read_stack(struct ckpt_section_reader *r, struct ckpt_thread *t,
                       uintptr_t lo, uintptr_t top) {
  struct ckpt_saved_stack *s = &t->restore_stack;
  s->lo = lo;
  s->top = top;
  s->bytes = calloc(1, top - lo);
  if (!s->bytes)
    FAIL("out of memory for thread %u's stack (%lu bytes)", t->slot,
         (unsigned long)(top - lo));
  uintptr_t at = lo;
  for (;;) {
    struct ckpt_extent_rec e;
    get(r, &e, sizeof e);
    if (e.len == 0)
      break;
    if (e.addr < at || e.addr > top || e.len > top - e.addr)
      FAIL("the threads section is damaged (thread %u's stack)", t->slot);
    get_noted(r, s->bytes + (e.addr - lo), e.len, e.addr, "a thread's stack");
    at = e.addr + e.len;
  }
}

static void restore_threads(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_THREADS);
  uint32_t head[2];
  get(r, head, sizeof head);
  if (head[0] == 0 || head[0] > CKPT_STACK_MAX_SLOTS || head[1] > CKPT_MAX_KEYS)
    FAIL("the threads section is damaged");
  ckpt_keys_used = head[1];
  for (uint32_t k = 0; k < head[1]; k++) {
    struct ckpt_key_rec kr;
    get(r, &kr, sizeof kr);
    note_flags(&kr.destructor, sizeof kr.destructor, 0,
               "a pthread key's destructor", CKPT_RELOC_NO_DEFER);
    ckpt_keys[k].destructor = (void (*)(void *))(uintptr_t)kr.destructor;
    ckpt_keys[k].alive = kr.alive;
  }
  for (uint32_t n = 0; n < head[0]; n++) {
    struct ckpt_thread_rec tr;
    get(r, &tr, sizeof tr);
    int has_frames = tr.state == CKPT_THREAD_PARKED ||
                     tr.state == CKPT_THREAD_IN_CALL;
    if (tr.slot >= CKPT_STACK_MAX_SLOTS || ckpt_threads[tr.slot] ||
        tr.nframes > 10000000 || (has_frames && tr.nframes == 0) ||
        (!has_frames && tr.nframes != 0) ||
        (tr.state != CKPT_THREAD_NEW && tr.state != CKPT_THREAD_EXITED &&
         !has_frames) ||
        (has_frames && tr.park_kind != CKPT_PARK_POLL &&
         tr.park_kind != CKPT_PARK_CALL && tr.park_kind != CKPT_PARK_SIGNAL) ||
        (tr.slot == 0) != (tr.start_fn == 0) ||
        tr.tls_len != (tr.tls_block ? ckpt_tls_saved_size : 0) ||
        tr.nkey_values > head[1])
      FAIL("the threads section is damaged (thread in slot %u)", tr.slot);
    uintptr_t slot_top =
        CKPT_STACK_BASE + ((uintptr_t)tr.slot + 1) * CKPT_STACK_SLOT_STRIDE;
    uint64_t size = tr.stack_hi - tr.stack_lo;
    if (tr.stack_hi != slot_top || size == 0 ||
        size > CKPT_STACK_SLOT_STRIDE / 2 || tr.user_top > tr.stack_hi ||
        tr.user_top < tr.stack_lo ||
        (has_frames &&
         (tr.stack_save_lo < tr.stack_lo || tr.stack_save_lo > tr.user_top ||
          (tr.park_kind != CKPT_PARK_SIGNAL &&
           tr.resume.rsp != tr.stack_save_lo))) ||
        (!has_frames && tr.stack_save_lo != 0))
      FAIL("thread %u's stack is not where this runtime puts it", tr.slot);
    struct ckpt_thread *t = &ckpt_thread_records[tr.slot];
    memset(t, 0, sizeof *t);
    t->slot = tr.slot;
    t->restored = 1;
    t->state = (int)tr.state;
    t->stack_lo = tr.stack_lo;
    t->stack_hi = tr.stack_hi;
    t->user_top = tr.user_top;
    t->stack_guard = tr.stack_guard;
    t->park_point = tr.resume;
    t->park_kind = (int)tr.park_kind;
    t->call_kind = tr.call_kind;
    t->call_callee = (void *)(uintptr_t)tr.call_callee;
    t->ptid = tr.ptid;
    t->start_fn = (void *(*)(void *))(uintptr_t)tr.start_fn;
    t->start_arg = (void *)(uintptr_t)tr.start_arg;
    t->retval = (void *)(uintptr_t)tr.retval;
    t->detached = (int)tr.detached;
    t->join_claimed = 0; /* a join in progress is made again */
    t->exit_futex = tr.state == CKPT_THREAD_EXITED;
    t->tls_block = tr.tls_block;
    /* The values the program gets back (the fields are the record's). */
    note(&t->start_fn, sizeof t->start_fn, 0, "a thread's start function");
    note(&t->start_arg, sizeof t->start_arg, 0, "a thread's start argument");
    note(&t->retval, sizeof t->retval, 0, "a thread's result");
    note(&t->park_point, offsetof(struct ckpt_call_point, mxcsr), 0,
         "a thread's resume point");
    t->call_deadline_ns = tr.call_deadline_ns;
    t->call_result = tr.call_result;
    t->call_errno = tr.call_errno;
    t->call_fd = tr.call_fd;
    if (tr.tls_len) {
      t->restore_tls = malloc(tr.tls_len);
      if (!t->restore_tls)
        FAIL("out of memory");
      get(r, t->restore_tls, tr.tls_len);
      /* Piece by piece, as the writer looked at them (snapshot.c). */
      unsigned char *piece = t->restore_tls;
      for (size_t i = 0; i < ckpt_tls_piece_count(); i++) {
        note(piece, ckpt_tls_piece_size(i), 0,
             "a thread's thread-local variables");
        piece += ckpt_tls_piece_size(i);
      }
    }
    if (tr.nkey_values) {
      t->key_values = calloc(tr.nkey_values, sizeof *t->key_values);
      if (!t->key_values)
        FAIL("out of memory");
      t->key_cap = tr.nkey_values;
      for (uint32_t k = 0; k < tr.nkey_values; k++) {
        uint64_t v;
        get(r, &v, sizeof v);
        t->key_values[k] = (void *)(uintptr_t)v;
        note(&t->key_values[k], sizeof v, 0, "a pthread_setspecific value");
      }
    }
    if (has_frames && tr.park_kind == CKPT_PARK_SIGNAL)
      read_context(r, t, tr.stack_save_lo);
    if (tr.nframes)
      read_frames(r, t, tr.nframes, tr.stack_save_lo, tr.user_top);
    if (has_frames)
      read_stack(r, t, tr.stack_save_lo, tr.user_top);
    ckpt_threads[tr.slot] = t;
    if (tr.slot + 1 > ckpt_thread_slots_used)
      ckpt_thread_slots_used = tr.slot + 1;
    if (tr.slot == 0) {
      ckpt_start.stack_size = size;
      if (ckpt_map_stack(0, size, &t->stack_lo, &t->stack_hi))
        FAIL("cannot map the main thread's stack");
    }
  }
  finish(r);
  if (!ckpt_threads[0])
    FAIL("the threads section has no main thread");
  if (ckpt_main_thread.state != CKPT_THREAD_EXITED &&
      !ckpt_main_thread.restore_stack.bytes)
    FAIL("the main thread has no frames");
}

/* Masks, pending signals, alternate stacks and timers (sigstate.c), after
 * the threads they belong to. */
static void restore_signals(void) {
  struct ckpt_section_reader *r = open_section(CKPT_SEC_SIGNALS);
  struct ckpt_signals_head head;
  char msg[300];
  get(r, &head, sizeof head);
  if (head.nthreads > CKPT_STACK_MAX_SLOTS || head.npending > 1u << 20 ||
      head.ntimers > 1u << 20 || head.reserved)
    FAIL("the signals section is damaged");
  for (uint32_t i = 0; i < head.nthreads; i++) {
    struct ckpt_thread_signals_rec t;
    get(r, &t, sizeof t);
    if (ckpt_sigstate_restore_thread(&t, msg, sizeof msg) != 0)
      FAIL("%s", msg);
  }
  struct ckpt_pending_rec *pending =
      malloc((head.npending + 1) * sizeof *pending);
  struct ckpt_timer_rec *timers = malloc((head.ntimers + 1) * sizeof *timers);
  if (!pending || !timers)
    FAIL("out of memory for the signals section");
  get(r, pending, head.npending * sizeof *pending);
  for (uint32_t i = 0; i < head.npending; i++)
    if (pending[i].signo < 1 || pending[i].signo > 64 || pending[i].has_info > 1)
      FAIL("the signals section is damaged (pending signal %u)", i);
  get(r, timers, head.ntimers * sizeof *timers);
  finish(r);
  if (ckpt_sigstate_restore_process(&head, pending, msg, sizeof msg) != 0 ||
      ckpt_sigstate_restore_timers(timers, head.ntimers, msg, sizeof msg) != 0)
    FAIL("%s", msg);
  free(pending);
  free(timers);
}

void ckpt_restore_and_run(void) {
  ckpt_launcher_stderr_keep();
  restore_path = ckpt_config.restore_path;
  char err[CKPT_IMAGE_ERRLEN];
  image = ckpt_image_open(restore_path, err, sizeof err);
  if (!image)
    ckpt_fatal("%s", err);
  const struct ckpt_image_info *info = ckpt_image_info(image);
  if (info->version != CKPT_FILE_VERSION)
    FAIL("the file has format version %u; this ckpt restarts version %u only "
         "(restart it with the ckpt that wrote it)",
         info->version, CKPT_FILE_VERSION);
  uint8_t bid[CKPT_BUILD_ID_MAX];
  size_t bid_len = ckpt_self_build_id(bid, sizeof bid);
  if (bid_len != info->build_id_len || memcmp(bid, info->build_id, bid_len))
    FAIL("the checkpoint was taken by a different build of this program");
  uint64_t heap_end = restore_layout();
  read_libs();
  restore_heap(heap_end);
  restore_maps();
  reopen_libraries();
  check_modules();
  restore_globals();
  ckpt_pagemap_close(); /* never inherited by a later checkpoint's writer */
  restore_rtstate();
  ckpt_procstate_restore();
  restore_exclusions_and_hooks();
  uint32_t nfiles;
  struct ckpt_file_state *files = read_files(&nfiles);
  restore_threads();
  restore_signals();
  ckpt_image_close(image);
  char msg[600];
  if (ckpt_files_restore(files, (int)nfiles, msg, sizeof msg) != 0)
    FAIL("%s", msg);
  free(files);
  ckpt_reloc_anchors_init(); /* before the restored streams are linked in */
  if (ckpt_stdio_restore(ckpt_start.stdio_list, ckpt_start.pointer_guard,
                         heap_end, msg, sizeof msg) != 0)
    FAIL("%s", msg);
  if (ckpt_signals_restore(msg, sizeof msg) != 0 ||
      ckpt_exit_handlers_restore(msg, sizeof msg) != 0)
    FAIL("%s", msg);
  environ = ckpt_start.environ_value;
  /* The threads are made again, then the program's restart callbacks run
   * (threads.c), once pthread_t values and TLS pointers are fixed. */
  ckpt_threads_restore_and_run();
}
