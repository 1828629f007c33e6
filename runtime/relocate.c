/* runtime/relocate.c - pointers into shared objects across a restart where
 * the objects are elsewhere (another host's libc, a kernel with its vDSO at
 * another place, a library preloaded in front of the others).
 *
 * The program's memory comes back at the same addresses (docs/design.md),
 * but libraries are wherever the loader puts them. So:
 *  - the writer (in the forked copy) looks at every saved word: one whose
 *    value lies in a loaded object is a pointer into it (FILE vtables,
 *    stdout, a function from dlsym). Each distinct value is written to the
 *    LIBS section with its object and, if an exported symbol covers it, the
 *    symbol's name and the offset in it;
 *  - a restart looks at the same words again as it reads them back and,
 *    once every library is loaded, gives each its new value: the same
 *    offset from the object's base if it is the same build (GNU build-id),
 *    else the same symbol + offset in the new build. A pointer no symbol
 *    names, into another build, cannot be given one: the restart fails with
 *    one line naming it, and the checkpoint warned about it.
 * A word that merely looks like such a pointer (an integer in
 * 0x7fxx_xxxx_xxxx) would be changed too; nothing but pointers has such
 * values in practice, and when no object moved no word is changed at all.
 * docs/portable-restart.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rt.h"
#include "sections.h"

/* Address ranges sorted by start, disjoint, each naming an entry of
 * another table: libraries (writer), threads' glibc data (restart). */
struct range_ix {
  uint64_t lo, hi;
  uint32_t index;
};

static int range_cmp(const void *a, const void *b) {
  const struct range_ix *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The index of the range holding v, or -1. */
static int range_at(const struct range_ix *r, size_t n, uint64_t v) {
  size_t lo = 0, hi = n;
  while (lo < hi) { /* the last range starting at or below v */
    size_t mid = (lo + hi) / 2;
    if (r[mid].lo <= v)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || v >= r[lo - 1].hi)
    return -1;
  return (int)r[lo - 1].index;
}

static int lib_by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* ---- Writer --------------------------------------------------------------- */

struct found {
  uint64_t value, where;
  uint32_t lib, count;
  unsigned kinds; /* bit k: a word holding it was of CKPT_RELOC_* kind k */
};

static struct ckpt_lib *libs;
static size_t nlibs;
static struct range_ix *spans; /* libs by address */
static uint64_t spans_lo, spans_hi;
static struct found *table; /* open addressing by value; value 0 = free */
static size_t table_cap, table_used;
static int scan_failed;
static uint64_t *handles; /* the program's dlopen handles */
static size_t nhandles;

static int add_handle(void *ctx, uint64_t handle, int flags,
                      const char *path) {
  (void)ctx, (void)flags, (void)path;
  uint64_t *v = realloc(handles, (nhandles + 1) * sizeof *v);
  if (!v)
    return -1;
  handles = v;
  handles[nhandles++] = handle;
  return 0;
}

int ckpt_reloc_scan_begin(void) {
  scan_failed = 0;
  if (ckpt_libs_load(&libs, &nlibs) != 0)
    return -1;
  spans = calloc(nlibs + 1, sizeof *spans);
  table_cap = 1024;
  table = calloc(table_cap, sizeof *table);
  if (!spans || !table)
    return -1;
  for (size_t i = 0; i < nlibs; i++)
    spans[i] = (struct range_ix){libs[i].lo, libs[i].hi, (uint32_t)i};
  qsort(spans, nlibs, sizeof *spans, range_cmp);
  spans_lo = nlibs ? spans[0].lo : 0;
  spans_hi = 0;
  for (size_t i = 0; i < nlibs; i++)
    if (spans[i].hi > spans_hi)
      spans_hi = spans[i].hi;
  return ckpt_dlopen_each_call(add_handle, NULL);
}

static size_t slot_of(uint64_t v, size_t cap) {
  return (size_t)((v >> 3) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

static void grow(void) {
  size_t cap = table_cap * 2;
  struct found *t = calloc(cap, sizeof *t);
  if (!t) {
    scan_failed = 1;
    return;
  }
  for (size_t i = 0; i < table_cap; i++) {
    if (!table[i].value)
      continue;
    size_t s = slot_of(table[i].value, cap);
    while (t[s].value)
      s = (s + 1) & (cap - 1);
    t[s] = table[i];
  }
  free(table);
  table = t;
  table_cap = cap;
}

void ckpt_reloc_scan(const void *data, size_t len, uint64_t where,
                     unsigned kind) {
  if (!nlibs || scan_failed)
    return;
  const unsigned char *p = data;
  size_t first = (size_t)((8 - (where & 7)) & 7);
  uint64_t width = spans_hi - spans_lo;
  for (size_t i = first; i + 8 <= len; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    if (v - spans_lo >= width)
      continue;
    int lib = range_at(spans, nlibs, v);
    if (lib < 0)
      continue;
    if (2 * (table_used + 1) > table_cap) {
      grow();
      if (scan_failed)
        return;
    }
    size_t s = slot_of(v, table_cap);
    while (table[s].value && table[s].value != v)
      s = (s + 1) & (table_cap - 1);
    if (!table[s].value) {
      table[s] = (struct found){v, where ? where + i : 0, (uint32_t)lib, 0, 0};
      table_used++;
    }
    table[s].count++;
    if (kind == CKPT_RELOC_OWNED && !(table[s].kinds & 1u << kind))
      table[s].where = where ? where + i : 0; /* named first in warnings */
    table[s].kinds |= 1u << kind;
  }
}

/* libc's private objects the runtime can find again (stdio.c): made once,
 * in the program before its first checkpoint (ckpt_reloc_anchors_init; the
 * writer, a fork, must not take stdio's locks, which a thread of a library
 * may hold) and in a restart when needed. */
#define MAX_ANCHORS 64
static struct ckpt_anchor anchors[MAX_ANCHORS];
static size_t nanchors;
static int anchors_made;

static void make_anchors(const struct ckpt_lib *libc) {
  nanchors = ckpt_stdio_anchors(libc->lo, libc->hi, anchors, MAX_ANCHORS);
  anchors_made = 1;
}

void ckpt_reloc_anchors_init(void) {
  struct ckpt_lib *l;
  size_t n;
  if (anchors_made || ckpt_libs_load(&l, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (strcmp(l[i].soname, "libc.so.6") == 0)
      make_anchors(&l[i]);
  free(l);
}

static const struct ckpt_anchor *anchor_named(const struct ckpt_lib *libc,
                                              const char *name,
                                              uint64_t value) {
  if (strcmp(libc->soname, "libc.so.6") != 0)
    return NULL;
  if (!anchors_made)
    make_anchors(libc);
  for (size_t i = 0; i < nanchors; i++)
    if (name ? strcmp(anchors[i].name, name) == 0 : anchors[i].value == value)
      return &anchors[i];
  return NULL;
}

static int found_cmp(const void *a, const void *b) {
  return lib_by_value(&((const struct found *)a)->value,
                      &((const struct found *)b)->value);
}

static void describe(char *buf, size_t len, uint64_t where, const char *what) {
  if (where)
    snprintf(buf, len, "%s at %#llx", what, (unsigned long long)where);
  else
    snprintf(buf, len, "%s", what);
}

static void warn_private(uint32_t n, const struct found *first) {
  const struct ckpt_lib *l = &libs[first->lib];
  char at[96];
  describe(at, sizeof at, first->where, "the first");
  if (!first->where)
    snprintf(at, sizeof at, "the first in a saved field");
  CKPT_WARN("%u saved pointer(s) into %s point at data no exported symbol "
            "names (%s, at %s+%#llx): a restart needs this build of %s",
            n, l->soname, at, l->soname,
            (unsigned long long)(first->value - l->base), l->soname);
}

/* How a restart finds f's value again: *flags and the name (NULL: none). */
static const char *classify(const struct found *f, uint64_t *off,
                            uint32_t *flags) {
  const struct ckpt_lib *l = &libs[f->lib];
  *off = 0;
  *flags = 0;
  for (size_t h = 0; h < nhandles; h++)
    if (handles[h] == f->value) {
      *flags = CKPT_TARGET_DLOPEN_HANDLE;
      return NULL;
    }
  /* The name the program's dlsym asked for, if it names an IFUNC that
   * resolves to this value: several may (memcpy, memmove). */
  const char *asked = ckpt_dlsym_name(f->value);
  uintptr_t resolved;
  if (asked && ckpt_lib_ifunc_addr(l, asked, &resolved) == 0 &&
      resolved == f->value) {
    *flags = CKPT_TARGET_IFUNC;
    if (!(f->kinds & 1u << CKPT_RELOC_OWNED))
      *flags |= CKPT_TARGET_UNOWNED;
    return asked;
  }
  const char *sym = ckpt_lib_classify(l, (uintptr_t)f->value, off, flags);
  const struct ckpt_anchor *a;
  if (!sym && (!*flags || *flags == CKPT_TARGET_CODE) &&
      (a = anchor_named(l, NULL, f->value))) {
    *flags = CKPT_TARGET_ANCHOR;
    *off = 0;
    return a->name;
  }
  /* Code at no exported function's start, held in memory the program owns:
   * a pointer to a library's static function (zlib's zcalloc), not a dead
   * return address. Private, then. */
  if (*flags == CKPT_TARGET_CODE && (f->kinds & 1u << CKPT_RELOC_OWNED))
    *flags = 0;
  if (!(f->kinds & 1u << CKPT_RELOC_OWNED))
    *flags |= CKPT_TARGET_UNOWNED;
  if (f->kinds == 1u << CKPT_RELOC_STACK)
    *flags |= CKPT_TARGET_STACK_ONLY;
  for (uint32_t i = 0; i < l->nro; i++)
    if (f->value >= l->ro[i].lo && f->value < l->ro[i].hi)
      *flags |= CKPT_TARGET_READ_ONLY;
  return sym;
}

int ckpt_reloc_write_section(int (*put)(void *ctx, const void *buf,
                                        size_t len),
                             void *ctx, char *msg, size_t msglen) {
  if (scan_failed) {
    snprintf(msg, msglen, "out of memory for the pointers into libraries");
    return -1;
  }
  size_t n = 0;
  for (size_t i = 0; i < table_cap; i++)
    if (table[i].value)
      table[n++] = table[i];
  qsort(table, n, sizeof *table, found_cmp);
  uint32_t nthreads = 0;
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++)
    if (ckpt_threads[i] && !ckpt_threads[i]->library_thread)
      nthreads++;
  struct ckpt_libs_head head = {(uint32_t)nlibs, (uint32_t)n, nthreads, 0};
  if (put(ctx, &head, sizeof head))
    return -1;
  for (size_t i = 0; i < nlibs; i++) {
    const struct ckpt_lib *l = &libs[i];
    struct ckpt_libs_lib_rec r = {
        l->base, l->lo, l->hi, (uint32_t)strlen(l->name),
        (uint32_t)strlen(l->soname), l->build_id_len,
        ckpt_object_loaded_at_start(l->base) ? 0 : CKPT_LIB_DLOPEN};
    if (put(ctx, &r, sizeof r) || put(ctx, l->name, r.name_len) ||
        put(ctx, l->soname, r.soname_len) ||
        put(ctx, l->build_id, r.build_id_len))
      return -1;
  }
  /* Private data the program keeps, which a restart with another build
   * could not find: named per object, once per checkpoint. */
  uint32_t unnamed = 0;
  const struct found *first_unnamed = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct found *f = &table[i];
    uint64_t off;
    uint32_t flags;
    const char *sym = classify(f, &off, &flags);
    /* A string is named by its bytes (off is their number). */
    uint32_t sym_len = !sym ? 0
                       : (flags & CKPT_TARGET_STRING) ? (uint32_t)off
                                                      : (uint32_t)strlen(sym);
    if (flags & CKPT_TARGET_STRING)
      off = 0;
    struct ckpt_libs_target_rec r = {f->value, f->where, sym ? off : 0,
                                     f->lib,   f->count, sym_len, flags};
    if (put(ctx, &r, sizeof r) || (sym && put(ctx, sym, r.sym_len)))
      return -1;
    if (!sym && !flags) {
      if (unnamed && f->lib != first_unnamed->lib) {
        warn_private(unnamed, first_unnamed);
        unnamed = 0;
      }
      if (!unnamed)
        first_unnamed = f;
      unnamed += f->count;
    }
  }
  if (unnamed)
    warn_private(unnamed, first_unnamed);
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    const struct ckpt_thread *t = ckpt_threads[i];
    if (!t || t->library_thread)
      continue;
    struct ckpt_libs_thread_rec r = {t->ptid, t->tls_block,
                                     t->tls_block ? ckpt_tls_size : 0,
                                     t->slot, 0};
    if (put(ctx, &r, sizeof r))
      return -1;
  }
  return 0;
}

void ckpt_reloc_scan_end(void) {
  free(libs);
  free(spans);
  free(table);
  free(handles);
  libs = NULL;
  spans = NULL;
  table = NULL;
  handles = NULL;
  nlibs = table_cap = table_used = nhandles = 0;
}

/* ---- Restart -------------------------------------------------------------- */

static struct ckpt_reloc_lib *old;
static size_t nold;
static struct ckpt_reloc_target *targets;
static size_t ntargets;
static uint64_t *new_value; /* per target, once found; 0 = not yet */
static struct ckpt_lib *now;
static size_t nnow;
static int *match;      /* old library -> now, or -1 */
static int *same_build; /* old library: now the same build (moved or not) */
static int settled;
static unsigned left_alone; /* unowned values another build cannot name */
static char left_alone_first[256];
static uint64_t old_lo, old_hi;

struct pending {
  uint64_t *word;
  uint64_t where;
  const char *what;
};
struct pending_list {
  struct pending *v;
  size_t n, cap;
};
static struct pending_list lib_pending, thread_pending;

/* glibc's data of each saved thread: its pthread_t (one address) and the
 * executable's TLS block, by address; index: into old_threads. */
static struct ckpt_reloc_thread *old_threads;
static size_t nold_threads;
static struct range_ix *thread_ranges;
static size_t nthread_ranges;
static uint64_t threads_lo, threads_hi;
static int threads_settled;

/* Mappings to make read-only only once every pointer in them is fixed. */
struct protect_later {
  uintptr_t lo, hi;
  int prot;
};
static struct protect_later *protect_later;
static size_t nprotect_later;

void ckpt_reloc_restore_begin(struct ckpt_reloc_lib *libs_then, size_t n,
                              struct ckpt_reloc_target *t, size_t nt,
                              struct ckpt_reloc_thread *th, size_t nth) {
  old = libs_then;
  nold = n;
  targets = t;
  ntargets = nt;
  new_value = calloc(nt + 1, sizeof *new_value);
  old_lo = UINT64_MAX;
  old_hi = 0;
  for (size_t i = 0; i < n; i++) {
    if (old[i].lo < old_lo)
      old_lo = old[i].lo;
    if (old[i].hi > old_hi)
      old_hi = old[i].hi;
  }
  old_threads = th;
  nold_threads = nth;
  thread_ranges = calloc(2 * nth + 1, sizeof *thread_ranges);
  nthread_ranges = 0;
  for (size_t i = 0; thread_ranges && i < nth; i++) {
    thread_ranges[nthread_ranges++] =
        (struct range_ix){th[i].ptid, th[i].ptid + 1, (uint32_t)i};
    if (th[i].tls_block && th[i].tls_size)
      thread_ranges[nthread_ranges++] = (struct range_ix){
          th[i].tls_block, th[i].tls_block + th[i].tls_size, (uint32_t)i};
  }
  if (thread_ranges)
    qsort(thread_ranges, nthread_ranges, sizeof *thread_ranges, range_cmp);
  threads_lo = nthread_ranges ? thread_ranges[0].lo : 0;
  threads_hi = 0;
  for (size_t i = 0; i < nthread_ranges; i++)
    if (thread_ranges[i].hi > threads_hi)
      threads_hi = thread_ranges[i].hi;
}

static int old_lib_at(uint64_t v) {
  if (v < old_lo || v >= old_hi)
    return -1;
  for (size_t i = 0; i < nold; i++)
    if (v >= old[i].lo && v < old[i].hi)
      return (int)i;
  return -1;
}

static struct ckpt_reloc_target *target_of(uint64_t v) {
  size_t lo = 0, hi = ntargets;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (targets[mid].value < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < ntargets && targets[lo].value == v ? &targets[lo] : NULL;
}

/* Leave v as it is: a value in the heap, mappings or stacks that another
 * build cannot name (a library's own state, a value left by an earlier
 * call); named once, after the threads are back. Values only on stacks and
 * in registers that point into code (dead return addresses) or read-only
 * data (the library's tables, used by the call that left them) are not
 * even counted: a program keeps no such pointer across a checkpoint. */
static int leave(uint64_t v, const struct ckpt_reloc_target *t,
                 const char *at, const struct ckpt_reloc_lib *o,
                 uint64_t *out) {
  *out = v;
  if (t && (t->flags & CKPT_TARGET_STACK_ONLY) &&
      (t->flags & (CKPT_TARGET_CODE | CKPT_TARGET_READ_ONLY)))
    return 0;
  if (!left_alone++)
    snprintf(left_alone_first, sizeof left_alone_first, "%s, at %s+%#llx",
             at, o->soname, (unsigned long long)(v - o->base));
  return 0;
}

/* The value v has now; -1 and msg if it has none. */
static int translate(uint64_t v, uint64_t where, const char *what,
                     uint64_t *out, char *msg, size_t msglen) {
  int i = old_lib_at(v);
  if (i < 0) {
    *out = v;
    return 0;
  }
  struct ckpt_reloc_target *t = target_of(v);
  if (t && (t->flags & CKPT_TARGET_DLOPEN_HANDLE)) {
    *out = v; /* dlopen.c translates the program's handles itself */
    return 0;
  }
  /* Not in the checkpoint's list: the word changed between the writer's
   * look and its write (shared memory). Treated as unowned. */
  int unowned = !t || (t->flags & CKPT_TARGET_UNOWNED);
  char at[160];
  describe(at, sizeof at, where, what);
  const struct ckpt_reloc_lib *o = &old[i];
  if (match[i] < 0) {
    if (unowned)
      return leave(v, t, at, o, out);
    snprintf(msg, msglen,
             "a pointer (%s) points into %s, which is not loaded now", at,
             o->name);
    return -1;
  }
  const struct ckpt_lib *l = &now[match[i]];
  if (t && new_value[t - targets]) {
    *out = new_value[t - targets];
    return 0;
  }
  uintptr_t addr;
  /* Resolved again for this CPU, even in the same build (the CPU or
   * GLIBC_TUNABLES may differ); the function may have stopped being an
   * IFUNC in this build. */
  if (t && (t->flags & CKPT_TARGET_IFUNC)) {
    if (ckpt_lib_ifunc_addr(l, t->symbol, &addr) != 0 &&
        ckpt_lib_symbol_addr(l, t->symbol, 0, &addr) != 0) {
      if (unowned)
        return leave(v, t, at, o, out);
      snprintf(msg, msglen,
               "a pointer (%s) is what %s's IFUNC %s resolved to, and %s "
               "here has no function of that name: restart where %s is the "
               "build the checkpoint was taken with",
               at, o->soname, t->symbol, l->name, o->soname);
      return -1;
    }
    new_value[t - targets] = addr;
    ckpt_dlsym_remember(addr, t->symbol); /* named so again next time */
    *out = addr;
    return 0;
  }
  if (same_build[i]) {
    *out = v - o->base + l->base;
    return 0;
  }
  if (!t)
    return leave(v, t, at, o, out);
  if (t->flags & CKPT_TARGET_CODE)
    return leave(v, t, at, o, out); /* a return address nothing will use */
  int found = 0;
  if (t->flags & CKPT_TARGET_STRING) {
    found = ckpt_lib_string_addr(l, t->symbol, strlen(t->symbol), &addr) == 0;
  } else if (t->flags & CKPT_TARGET_ANCHOR) {
    const struct ckpt_anchor *a = anchor_named(l, t->symbol, 0);
    if (a)
      addr = a->value + t->sym_offset;
    found = a != NULL;
  } else if (t->symbol[0]) {
    found = ckpt_lib_any_symbol_addr(l, t->symbol, t->sym_offset, &addr) == 0;
  }
  if (found) {
    new_value[t - targets] = addr;
    *out = addr;
    return 0;
  }
  if (unowned)
    return leave(v, t, at, o, out);
  if (t->flags & CKPT_TARGET_STRING)
    snprintf(msg, msglen,
             "a pointer (%s) points to the string \"%.40s\" in %s's "
             "read-only data, and %s here has no such string: restart "
             "where %s is the build the checkpoint was taken with",
             at, t->symbol, o->soname, l->name, o->soname);
  else if (t->flags & CKPT_TARGET_ANCHOR)
    snprintf(msg, msglen,
             "a pointer (%s) points at libc's %s, which this libc's streams "
             "do not have: restart where %s is the build the checkpoint "
             "was taken with",
             at, t->symbol, o->soname);
  else if (t->symbol[0])
    snprintf(msg, msglen,
             "a pointer (%s) points to %s+%#llx in %s, and %s here has no "
             "such symbol or a smaller one: restart where %s is the build "
             "the checkpoint was taken with",
             at, t->symbol, (unsigned long long)t->sym_offset, o->soname,
             l->name, o->soname);
  else
    snprintf(msg, msglen,
             "a pointer (%s) points into %s's private data (at %s+%#llx, "
             "no exported symbol), and %s here is another build: restart "
             "where %s is the build the checkpoint was taken with",
             at, o->soname, o->soname, (unsigned long long)(v - o->base),
             l->name, o->soname);
  return -1;
}

static int fix(uint64_t *word, uint64_t where, const char *what, char *msg,
               size_t msglen) {
  uint64_t v, nv;
  memcpy(&v, word, sizeof v);
  if (translate(v, where, what, &nv, msg, msglen) != 0)
    return -1;
  if (nv != v)
    memcpy(word, &nv, sizeof nv);
  return 0;
}

/* The thread whose pthread_t v is or whose TLS block v points into. */
static int old_thread_at(uint64_t v) {
  if (v < threads_lo || v >= threads_hi)
    return -1;
  return range_at(thread_ranges, nthread_ranges, v);
}

static void thread_fix(uint64_t *word) {
  uint64_t v;
  memcpy(&v, word, sizeof v);
  int i = old_thread_at(v);
  if (i >= 0) {
    v = v - old_threads[i].ptid + old_threads[i].new_ptid;
    memcpy(word, &v, sizeof v);
  }
}

static int defer(struct pending_list *l, uint64_t *word, uint64_t where,
                 const char *what, char *msg, size_t msglen) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    struct pending *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      snprintf(msg, msglen, "out of memory for pointers into libraries");
      return -1;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (struct pending){word, where, what};
  return 0;
}

int ckpt_reloc_note(void *dst, size_t len, uint64_t where, const char *what,
                    int flags, char *msg, size_t msglen) {
  unsigned char *p = dst;
  size_t first = (size_t)((8 - (where & 7)) & 7);
  /* One compare rejects almost every word: the span of every library and
   * thread range. */
  uint64_t lo = ntargets ? old_lo : UINT64_MAX, hi = ntargets ? old_hi : 0;
  if (!(flags & CKPT_RELOC_NO_DEFER) && nthread_ranges) {
    if (threads_lo < lo)
      lo = threads_lo;
    if (threads_hi > hi)
      hi = threads_hi;
  }
  if (lo >= hi)
    return 0;
  uint64_t width = hi - lo;
  for (size_t i = first; i + 8 <= len; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    if (v - lo >= width)
      continue;
    uint64_t *word = (uint64_t *)(void *)(p + i);
    uint64_t w = where ? where + i : 0;
    if (ntargets && old_lib_at(v) >= 0) {
      if (settled) {
        if (fix(word, w, what, msg, msglen) != 0)
          return -1;
      } else if (defer(&lib_pending, word, w, what, msg, msglen) != 0) {
        return -1;
      }
    } else if (!(flags & CKPT_RELOC_NO_DEFER) && old_thread_at(v) >= 0) {
      if (threads_settled)
        thread_fix(word);
      else if (defer(&thread_pending, word, w, what, msg, msglen) != 0)
        return -1;
    }
  }
  return 0;
}

int ckpt_reloc_protect_later(uintptr_t lo, uintptr_t hi, int prot) {
  struct protect_later *v =
      realloc(protect_later, (nprotect_later + 1) * sizeof *v);
  if (!v)
    return -1;
  protect_later = v;
  protect_later[nprotect_later++] = (struct protect_later){lo, hi, prot};
  return 0;
}

int ckpt_reloc_value(uint64_t *v, const char *what, char *msg, size_t msglen) {
  return fix(v, 0, what, msg, msglen);
}

static int same_name(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

int ckpt_reloc_settle(char *msg, size_t msglen) {
  if (ckpt_libs_load(&now, &nnow) != 0) {
    snprintf(msg, msglen, "out of memory for the list of libraries");
    return -1;
  }
  match = calloc(nold + 1, sizeof *match);
  same_build = calloc(nold + 1, sizeof *same_build);
  char *used = calloc(nnow + 1, 1);
  if (!match || !same_build || !used || !new_value) {
    snprintf(msg, msglen, "out of memory for the list of libraries");
    return -1;
  }
  /* By the loader's name first (the same path), then by soname (another
   * host's layout: /usr/lib for /lib). */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < nold; i++) {
      if (pass == 0)
        match[i] = -1;
      else if (match[i] >= 0)
        continue;
      for (size_t k = 0; k < nnow; k++)
        if (!used[k] && (pass == 0 ? same_name(old[i].name, now[k].name)
                                   : same_name(old[i].soname, now[k].soname))) {
          match[i] = (int)k;
          used[k] = 1;
          break;
        }
    }
  free(used);
  for (size_t i = 0; i < nold; i++) {
    if (match[i] < 0) {
      /* The vDSO is the kernel's: a pointer into it is refused if it is
       * gone, but the restart is not. Anything else the program was loaded
       * with or opened must be here. */
      if (strcmp(old[i].name, "linux-vdso.so.1") == 0)
        continue;
      snprintf(msg, msglen,
               "%s (%s) was loaded at the checkpoint and is not now: restart "
               "where the program's libraries are installed",
               old[i].soname, old[i].name);
      return -1;
    }
    /* Without a GNU build-id two builds cannot be told apart: such a
     * library is always found again by name. */
    const struct ckpt_lib *l = &now[match[i]];
    same_build[i] = old[i].build_id_len &&
                    old[i].build_id_len == l->build_id_len &&
                    memcmp(old[i].build_id, l->build_id, l->build_id_len) == 0;
  }
  settled = 1;
  for (size_t i = 0; i < lib_pending.n; i++) {
    struct pending *e = &lib_pending.v[i];
    if (fix(e->word, e->where, e->what, msg, msglen) != 0)
      return -1;
  }
  free(lib_pending.v);
  lib_pending = (struct pending_list){NULL, 0, 0};
  return 0;
}

int ckpt_reloc_threads_settle(char *msg, size_t msglen) {
  for (size_t i = 0; i < nold_threads; i++) {
    struct ckpt_reloc_thread *o = &old_threads[i];
    struct ckpt_thread *t =
        o->slot < CKPT_STACK_MAX_SLOTS ? ckpt_threads[o->slot] : NULL;
    if (!t) {
      snprintf(msg, msglen, "the libraries section names thread %u, which "
                            "the threads section does not have", o->slot);
      return -1;
    }
    o->new_ptid = t->ptid;
    /* The executable's TLS block is at a fixed distance below the thread
     * pointer (x86-64 TLS variant II; the distance is the executable's own
     * TLS size), whatever glibc keeps around it. */
    if (o->tls_block)
      t->tls_block = o->tls_block - o->ptid + o->new_ptid;
  }
  threads_settled = 1;
  for (size_t i = 0; i < thread_pending.n; i++)
    thread_fix(thread_pending.v[i].word);
  free(thread_pending.v);
  thread_pending = (struct pending_list){NULL, 0, 0};
  for (size_t i = 0; i < nprotect_later; i++) {
    const struct protect_later *p = &protect_later[i];
    if (mprotect((void *)p->lo, p->hi - p->lo, p->prot) != 0) {
      snprintf(msg, msglen, "cannot set the protection of mapping "
                            "%#lx-%#lx: %s",
               (unsigned long)p->lo, (unsigned long)p->hi, strerror(errno));
      return -1;
    }
  }
  free(protect_later);
  protect_later = NULL;
  nprotect_later = 0;
  if (left_alone)
    CKPT_WARN("%u value(s) in the heap, mappings or stacks pointed into "
              "private data of a library that is another build here (the "
              "first: %s); they were left as they were, as such values are "
              "a library's own state or left from earlier calls; if the "
              "program uses one, restart with the build the checkpoint was "
              "taken with",
              left_alone, left_alone_first);
  return 0;
}

uint64_t ckpt_reloc_address(uint64_t v) {
  if (!settled)
    return v;
  int i = old_lib_at(v);
  if (i < 0 || match[i] < 0 || !same_build[i])
    return v;
  return v - old[i].base + now[match[i]].base;
}

int ckpt_reloc_in_library(uint64_t v) { return old_lib_at(v) >= 0; }
