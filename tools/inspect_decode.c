/* tools/inspect_decode.c - the section decoding of ckpt-inspect: reads
 * every section of a checkpoint through image.h's streaming reader and
 * checks it against docs/format.md (records in runtime/sections.h) into a
 * struct contents, without printing anything. Used by ckpt-inspect and by
 * the reader's fuzz target (test/fuzz/reader_fuzz.c). */
#include "inspect_decode.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pthread keys a THREADS section may hold (glibc's PTHREAD_KEYS_MAX, the
 * runtime's CKPT_MAX_KEYS), and the largest plausible static TLS block. */
#define KEYS_MAX 1024
#define TLS_MAX (1u << 20)
/* Longest name or path accepted in a section: far beyond PATH_MAX, small
 * enough that a damaged length cannot make us allocate gigabytes. */
#define STRING_MAX (1u << 20)
/* LIBS limits, the restart's (restore.c read_libs): objects, values,
 * threads, and the length of a name, soname or symbol. */
#define LIBS_LIBS_MAX 4096
#define LIBS_TARGETS_MAX (1u << 26)
#define LIBS_NAME_MAX 4096

/* ---- String pool (struct strpool is in inspect_decode.h) ----------------- */

static uint64_t fnv1a(const char *s, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h;
}

static int strpool_grow(struct strpool *p) {
  size_t cap = p->cap ? p->cap * 2 : 256;
  char **slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < p->cap; i++) {
    if (!p->slots[i])
      continue;
    size_t j = fnv1a(p->slots[i], strlen(p->slots[i])) & (cap - 1);
    while (slots[j])
      j = (j + 1) & (cap - 1);
    slots[j] = p->slots[i];
  }
  free(p->slots);
  p->slots = slots;
  p->cap = cap;
  return 0;
}

/* The pooled copy of S[0..len) (which has no NUL), or NULL without memory. */
static const char *strpool_intern(struct strpool *p, const char *s,
                                  size_t len) {
  if (2 * (p->used + 1) > p->cap && strpool_grow(p) < 0)
    return NULL;
  size_t j = fnv1a(s, len) & (p->cap - 1);
  for (; p->slots[j]; j = (j + 1) & (p->cap - 1))
    if (strncmp(p->slots[j], s, len) == 0 && p->slots[j][len] == '\0')
      return p->slots[j];
  char *copy = malloc(len + 1);
  if (!copy)
    return NULL;
  memcpy(copy, s, len);
  copy[len] = '\0';
  p->slots[j] = copy;
  p->used++;
  return copy;
}

static void strpool_free(struct strpool *p) {
  for (size_t i = 0; i < p->cap; i++)
    free(p->slots[i]);
  free(p->slots);
  memset(p, 0, sizeof *p);
}

int grow_array(void *arr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t n = *cap ? *cap : 8;
  while (n < need)
    n *= 2;
  void *p = realloc(*(void **)arr, n * size);
  if (!p)
    return -1;
  *(void **)arr = p;
  *cap = n;
  return 0;
}

/* ---- Decoded contents ---------------------------------------------------- */

void contents_init(struct contents *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < NUM_SECTION_TYPES; i++)
    c->first[i] = -1;
}

void contents_free(struct contents *c) {
  for (uint32_t t = 0; t < c->nthreads; t++) {
    for (uint32_t i = 0; i < c->threads[t].nframes; i++) {
      free(c->threads[t].frames[i].line_file);
      free(c->threads[t].frames[i].symbol);
    }
    free(c->threads[t].frames);
    free(c->threads[t].key_values);
    free(c->threads[t].start_symbol);
  }
  for (uint32_t k = 0; k < c->nkeys; k++)
    free(c->keys[k].symbol);
  for (uint64_t h = 0; h < c->nhooks; h++)
    free(c->hooks[h].symbol);
  free(c->threads);
  free(c->keys);
  free(c->libs);
  free(c->globals);
  free(c->files);
  free(c->excluded);
  free(c->hooks);
  free(c->signal_threads);
  free(c->pending);
  free(c->timers);
  free(c->libs_libs);
  free(c->libs_targets);
  free(c->libs_threads);
  free(c->repeated);
  tool_meta_free(&c->meta);
  free(c->meta_buf);
  strpool_free(&c->pool);
  contents_init(c);
}

/* ---- Reading a section ------------------------------------------------------
 * One section is read front to back through image.h's streaming reader;
 * payload bytes (extents, frame records) are read into a scratch buffer and
 * dropped, so memory does not grow with the section. Every problem becomes
 * one line in ERR: the reader's own ("PATH: section N (TYPE) is damaged:
 * ...") or a structural one ("PATH: section N (TYPE): ..."). */
struct sec_in {
  struct ckpt_section_reader *r;
  const char *path;
  size_t index;
  uint32_t type;
  uint64_t raw_size;
  struct strpool *pool;
  char *err;
  size_t errlen;
};

static uint64_t in_offset(const struct sec_in *in) {
  return in->raw_size - ckpt_section_remaining(in->r);
}

static uint64_t in_left(const struct sec_in *in) {
  return ckpt_section_remaining(in->r);
}

static int bad(struct sec_in *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(struct sec_in *in, const char *fmt, ...) {
  int used = snprintf(in->err, in->errlen, "%s: section %zu (%s): ", in->path,
                      in->index, ckpt_section_type_name(in->type));
  if (used >= 0 && (size_t)used < in->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->err + used, in->errlen - (size_t)used, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int in_read(struct sec_in *in, void *buf, size_t len) {
  if (ckpt_section_read(in->r, buf, len) == 0)
    return 0;
  snprintf(in->err, in->errlen, "%s", ckpt_section_error(in->r));
  return -1;
}

static int in_skip(struct sec_in *in, uint64_t len) {
  static unsigned char scratch[256 * 1024];
  while (len > 0) {
    size_t n = len < sizeof scratch ? (size_t)len : sizeof scratch;
    if (in_read(in, scratch, n) < 0)
      return -1;
    len -= n;
  }
  return 0;
}

/* Read a string of LEN bytes (WHAT names it in messages) into the pool. */
static int in_string(struct sec_in *in, uint32_t len, const char *what,
                     const char **out) {
  if (len > in_left(in))
    return bad(in, "%s of %" PRIu32 " bytes at offset %" PRIu64
               " runs past the end of the section (%" PRIu64 " bytes left)",
               what, len, in_offset(in), in_left(in));
  if (len > STRING_MAX)
    return bad(in, "%s at offset %" PRIu64 " is implausibly long (%" PRIu32
               " bytes)", what, in_offset(in), len);
  char *buf = malloc(len ? len : 1);
  if (!buf)
    return bad(in, "out of memory");
  if (in_read(in, buf, len) < 0) {
    free(buf);
    return -1;
  }
  if (memchr(buf, '\0', len)) {
    free(buf);
    return bad(in, "%s ending at offset %" PRIu64 " contains a NUL byte",
               what, in_offset(in));
  }
  *out = strpool_intern(in->pool, buf, len);
  free(buf);
  return *out ? 0 : bad(in, "out of memory");
}

/* A count read from the section must fit in the bytes that follow, each
 * record taking at least MIN_SIZE: checked before anything is allocated. */
static int check_count(struct sec_in *in, uint64_t count, uint64_t min_size,
                       const char *what) {
  if (count > in_left(in) / min_size)
    return bad(in, "%" PRIu64 " %s cannot fit in the %" PRIu64
               " bytes that follow (at least %" PRIu64 " bytes each)",
               count, what, in_left(in), min_size);
  return 0;
}

/* ---- Section decoders ---------------------------------------------------- */

static int decode_layout(struct sec_in *in, struct contents *c) {
  struct ckpt_layout_rec *l = &c->layout;
  if (in_read(in, l, sizeof *l) < 0)
    return -1;
  if (l->reserved != 0)
    return bad(in, "reserved field is %" PRIu32 ", not 0", l->reserved);
  if (l->heap_end < l->heap_base || l->heap_end - l->heap_base > heap_max)
    return bad(in,
               "heap end 0x%" PRIx64 " is not within %" PRIu64
               " bytes above its base 0x%" PRIx64, l->heap_end, heap_max,
               l->heap_base);
  if (check_count(in, l->nlibs, sizeof(struct ckpt_lib_rec), "libraries") < 0)
    return -1;
  if (grow_array(&c->libs, &c->libs_cap, l->nlibs, sizeof *c->libs) < 0)
    return bad(in, "out of memory");
  for (uint32_t i = 0; i < l->nlibs; i++) {
    struct ckpt_lib_rec lib;
    if (in_read(in, &lib, sizeof lib) < 0)
      return -1;
    if (lib.flags & ~CKPT_LIB_DLOPEN)
      return bad(in, "library %" PRIu32 ": unknown flags 0x%" PRIx32, i,
                 lib.flags);
    if (i > 0 && c->libs[i - 1].dlopen && !(lib.flags & CKPT_LIB_DLOPEN))
      return bad(in, "library %" PRIu32 ": loaded with the program, listed "
                 "after one opened with dlopen", i);
    c->libs[i].base = lib.base;
    c->libs[i].dlopen = (lib.flags & CKPT_LIB_DLOPEN) != 0;
    if (in_string(in, lib.path_len, "library path", &c->libs[i].path) < 0)
      return -1;
  }
  return 0;
}

/* Extents of one object: ckpt_extent_rec + bytes, ended by len 0. Offsets
 * (relative to the object, or absolute when LO is the object's start) must
 * increase, not overlap and stay inside [LO, HI). */
static int decode_extents(struct sec_in *in, uint64_t lo, uint64_t hi,
                          const char *owner, const char *end_name,
                          uint64_t *saved, uint64_t *count) {
  uint64_t next = lo; /* the lowest address the next extent may start at */
  for (;;) {
    struct ckpt_extent_rec e;
    if (in_read(in, &e, sizeof e) < 0)
      return -1;
    if (e.len == 0)
      return 0;
    if (e.addr < next)
      return bad(in, "%s: extent 0x%" PRIx64 "+%" PRIu64 " %s", owner,
                 e.addr, e.len,
                 e.addr < lo ? "starts below the start"
                             : "overlaps or precedes the extent before it");
    if (e.addr > hi || e.len > hi - e.addr)
      return bad(in, "%s: extent 0x%" PRIx64 "+%" PRIu64
                 " ends past %s 0x%" PRIx64, owner, e.addr, e.len, end_name,
                 hi);
    if (in_skip(in, e.len) < 0)
      return -1;
    next = e.addr + e.len;
    *saved += e.len;
    (*count)++;
  }
}

static int decode_globals(struct sec_in *in, struct contents *c) {
  for (;;) {
    struct ckpt_global_rec g;
    if (in_read(in, &g, sizeof g) < 0)
      return -1;
    if (g.addr == 0)
      return 0;
    if (grow_array(&c->globals, &c->globals_cap, c->nglobals + 1,
                   sizeof *c->globals) < 0)
      return bad(in, "out of memory");
    struct global_info *gi = &c->globals[c->nglobals];
    memset(gi, 0, sizeof *gi);
    if (in_string(in, g.name_len, "global name", &gi->name) < 0)
      return -1;
    gi->addr = g.addr;
    gi->size = g.size;
    gi->excluded = g.excluded;
    gi->flags = g.flags;
    char owner[160];
    snprintf(owner, sizeof owner, "global %.120s", gi->name);
    if (g.flags & ~(uint32_t)CKPT_GLOBAL_EXCLUDED)
      return bad(in, "%s: unknown flags 0x%" PRIx32, owner, g.flags);
    if (g.addr + g.size < g.addr)
      return bad(in, "%s: 0x%" PRIx64 "+%" PRIu64 " wraps around", owner,
                 g.addr, g.size);
    if (decode_extents(in, 0, g.size, owner, "its size", &gi->saved,
                       &gi->extents) < 0)
      return -1;
    if ((g.flags & CKPT_GLOBAL_EXCLUDED) &&
        (g.excluded != g.size || gi->extents != 0))
      return bad(in, "%s is marked excluded but has %" PRIu64
                 " excluded bytes of %" PRIu64 " and %" PRIu64 " extents",
                 owner, g.excluded, g.size, gi->extents);
    if (g.excluded > g.size - gi->saved)
      return bad(in, "%s: %" PRIu64 " saved and %" PRIu64
                 " excluded bytes exceed its size of %" PRIu64, owner,
                 gi->saved, g.excluded, g.size);
    c->globals_size += g.size;
    c->globals_saved += gi->saved;
    c->globals_excluded += g.excluded;
    c->nglobals++;
  }
}

static int decode_heap(struct sec_in *in, struct contents *c) {
  struct ckpt_heap_rec *h = &c->heap;
  if (in_read(in, h, sizeof *h) < 0)
    return -1;
  if (h->heap_end < heap_base || h->heap_end - heap_base > heap_max)
    return bad(in,
               "heap end 0x%" PRIx64 " is outside the arena 0x%" PRIx64
               "+%" PRIu64,
               h->heap_end, heap_base, heap_max);
  if (h->excluded_bytes > h->bytes)
    return bad(in, "%" PRIu64 " excluded bytes exceed the %" PRIu64
               " bytes of live blocks", h->excluded_bytes, h->bytes);
  return decode_extents(in, heap_base, h->heap_end, "heap", "the heap end",
                        &c->heap_stored, &c->heap_extents);
}

/* The program's own mappings (MAPS): each piece and the bytes saved in it. */
static int decode_maps(struct sec_in *in, struct contents *c) {
  for (;;) {
    struct ckpt_map_rec m;
    if (in_read(in, &m, sizeof m) < 0)
      return -1;
    if (m.hi == 0)
      return 0;
    int file = m.kind == CKPT_MAP_FILE_PRIVATE || m.kind == CKPT_MAP_FILE_SHARED;
    if (m.lo >= m.hi || ((m.lo | m.hi) & 4095))
      return bad(in, "mapping 0x%" PRIx64 "-0x%" PRIx64
                 " is empty or not page-aligned", m.lo, m.hi);
    if (m.kind < CKPT_MAP_ANON_PRIVATE || m.kind > CKPT_MAP_BRK)
      return bad(in, "mapping 0x%" PRIx64 ": unknown kind %" PRIu32, m.lo,
                 m.kind);
    if (file != (m.path_len > 0) || m.path_len > 4096 || m.reserved)
      return bad(in, "mapping 0x%" PRIx64 ": path length %" PRIu32
                 " does not fit its kind", m.lo, m.path_len);
    if (in_skip(in, m.path_len) < 0)
      return -1;
    uint64_t extents_before = c->maps_extents;
    if (decode_extents(in, m.lo, m.hi, "mapping", "the mapping's end",
                       &c->maps_stored, &c->maps_extents) < 0)
      return -1;
    if (m.kind == CKPT_MAP_FILE_SHARED && c->maps_extents != extents_before)
      return bad(in, "mapping 0x%" PRIx64 ": a shared file mapping has "
                 "saved bytes", m.lo);
    c->maps_pieces++;
    c->maps_file_pieces += file;
    c->maps_bytes += m.hi - m.lo;
  }
}

/* SIGNALS: the head, then exactly nthreads thread records, npending
 * pending signals and ntimers timers. The sizes are checked against the
 * section's length before anything is allocated, so a damaged count is
 * named as such instead of as a read past the end. */
static int decode_signals(struct sec_in *in, struct contents *c) {
  struct ckpt_signals_head *h = &c->signals;
  if (in_read(in, h, sizeof *h) < 0)
    return -1;
  if (h->reserved != 0)
    return bad(in, "reserved field is %" PRIu32 ", not 0", h->reserved);
  uint64_t need =
      (uint64_t)h->nthreads * sizeof(struct ckpt_thread_signals_rec) +
      (uint64_t)h->npending * sizeof(struct ckpt_pending_rec) +
      (uint64_t)h->ntimers * sizeof(struct ckpt_timer_rec);
  if (need != in_left(in))
    return bad(in, "nthreads %" PRIu32 ", npending %" PRIu32
               " and ntimers %" PRIu32 " need %" PRIu64
               " bytes of records after the header, but %" PRIu64 " follow",
               h->nthreads, h->npending, h->ntimers, need, in_left(in));
  c->signal_threads = calloc(h->nthreads ? h->nthreads : 1,
                             sizeof *c->signal_threads);
  c->pending = calloc(h->npending ? h->npending : 1, sizeof *c->pending);
  c->timers = calloc(h->ntimers ? h->ntimers : 1, sizeof *c->timers);
  if (!c->signal_threads || !c->pending || !c->timers)
    return bad(in, "out of memory");

  /* Each thread once: a bit per slot. */
  uint64_t seen[CKPT_STACK_MAX_SLOTS / 64] = {0};
  for (uint32_t i = 0; i < h->nthreads; i++) {
    struct ckpt_thread_signals_rec *t = &c->signal_threads[i];
    if (in_read(in, t, sizeof *t) < 0)
      return -1;
    if (t->slot >= CKPT_STACK_MAX_SLOTS)
      return bad(in, "thread record %" PRIu32 ": slot %" PRIu32
                 " (at most %d)", i, t->slot, CKPT_STACK_MAX_SLOTS - 1);
    if (seen[t->slot / 64] & (1ull << (t->slot % 64)))
      return bad(in, "the thread in slot %" PRIu32 " has two records",
                 t->slot);
    seen[t->slot / 64] |= 1ull << (t->slot % 64);
    uint32_t flags = (uint32_t)t->altstack_flags;
    if (flags & ~(uint32_t)(SS_ONSTACK | SS_DISABLE | KERNEL_SS_AUTODISARM))
      return bad(in, "thread in slot %" PRIu32 ": unknown sigaltstack "
                 "flags 0x%" PRIx32, t->slot, flags);
    if (!(flags & SS_DISABLE) &&
        (t->altstack_sp == 0 || t->altstack_size == 0 ||
         t->altstack_sp + t->altstack_size < t->altstack_sp))
      return bad(in, "thread in slot %" PRIu32 ": sigaltstack 0x%" PRIx64
                 "+%" PRIu64 " is empty or wraps around", t->slot,
                 t->altstack_sp, t->altstack_size);
  }

  for (uint32_t i = 0; i < h->npending; i++) {
    struct ckpt_pending_rec p;
    if (in_read(in, &p, sizeof p) < 0)
      return -1;
    if (p.signo < 1 || p.signo > SIGNAL_MAX)
      return bad(in, "pending signal %" PRIu32 ": signal number %" PRIu32
                 " (1 to %d)", i, p.signo, SIGNAL_MAX);
    if (p.has_info > 1)
      return bad(in, "pending signal %" PRIu32 ": has_info is %" PRIu32
                 ", not 0 or 1", i, p.has_info);
    struct pending_info *pi = &c->pending[i];
    int32_t info_signo;
    memcpy(&info_signo, p.info + 0, 4);
    memcpy(&pi->errno_value, p.info + 4, 4);
    memcpy(&pi->code, p.info + 8, 4);
    memcpy(&pi->pid, p.info + 16, 4);
    memcpy(&pi->uid, p.info + 20, 4);
    pi->signo = p.signo;
    pi->has_info = p.has_info;
    /* The kernel fills si_signo in with the signal it queued; a standard
     * signal is kept by number, with no siginfo (all zero). */
    if (p.has_info ? info_signo != (int32_t)p.signo
                   : info_signo || pi->code || pi->pid || pi->uid)
      return bad(in, "pending signal %" PRIu32 ": signal %" PRIu32
                 ", but its siginfo's si_signo is %" PRId32, i, p.signo,
                 info_signo);
  }

  for (uint32_t i = 0; i < h->ntimers; i++) {
    struct ckpt_timer_rec *t = &c->timers[i];
    if (in_read(in, t, sizeof *t) < 0)
      return -1;
    /* By id: the kernel's ids are not negative, and each is listed once. */
    if (t->id < 0)
      return bad(in, "timer %" PRIu32 ": negative id %" PRId32, i, t->id);
    if (i > 0 && t->id <= c->timers[i - 1].id)
      return bad(in, "timer %" PRIu32 ": id %" PRId32 " after id %" PRId32
                 " (timers are in increasing id order)", i, t->id,
                 c->timers[i - 1].id);
    if (t->notify != SIGEV_NONE && t->notify != SIGEV_SIGNAL &&
        t->notify != SIGEV_THREAD_ID)
      return bad(in, "timer %" PRId32 ": notification %" PRId32
                 " (SIGEV_SIGNAL 0, SIGEV_NONE 1 or SIGEV_THREAD_ID 4)",
                 t->id, t->notify);
    /* SIGEV_NONE sends nothing: its signal number is not used. */
    if (t->notify != SIGEV_NONE && (t->signo < 1 || t->signo > SIGNAL_MAX))
      return bad(in, "timer %" PRId32 ": signal number %" PRId32
                 " (1 to %d)", t->id, t->signo, SIGNAL_MAX);
    if (t->notify == SIGEV_THREAD_ID &&
        t->thread_slot >= CKPT_STACK_MAX_SLOTS)
      return bad(in, "timer %" PRId32 ": target thread slot %" PRIu32
                 " (at most %d)", t->id, t->thread_slot,
                 CKPT_STACK_MAX_SLOTS - 1);
    if (t->reserved != 0)
      return bad(in, "timer %" PRId32 ": reserved field is %" PRIu32
                 ", not 0", t->id, t->reserved);
  }
  return 0;
}

/* Bytes of excluded locals a frame may claim: far more than any real frame
 * holds (stacks are at most a slot, 1 GiB), so a larger count is damage. */
#define FRAME_EXCLUDED_MAX (1u << 31)

/* One native frame. F points into the thread's array, so F[-1] is the
 * record before it (its caller, outermost first). Records are checked on
 * their own and against the thread's saved stack; the order of RUNTIME and
 * PROGRAM frames is not: the runtime may put its frames anywhere. */
static int decode_frame(struct sec_in *in, const struct thread_info *t,
                        uint32_t i, uint32_t nframes, struct frame_info *f) {
  struct ckpt_frame_rec r;
  if (in_read(in, &r, sizeof r) < 0)
    return -1;
  if (in_string(in, r.name_len, "function name", &f->name) < 0 ||
      in_string(in, r.file_len, "source file name", &f->file) < 0)
    return -1;
  f->pc = r.pc;
  f->cfa = r.cfa;
  f->func = r.func;
  f->kind = r.kind;
  f->flags = r.flags;
  f->excluded = r.excluded;
  char owner[200];
  snprintf(owner, sizeof owner, "thread in slot %" PRIu32 ", frame %" PRIu32
           " (%.120s)", t->slot, i, *f->name ? f->name : "??");
  if (r.kind != CKPT_FRAME_PROGRAM && r.kind != CKPT_FRAME_RUNTIME)
    return bad(in, "%s: unknown kind %" PRIu32 " (1 program, 2 runtime)",
               owner, r.kind);
  if (r.flags & ~CKPT_FRAME_EXACT_PC)
    return bad(in, "%s: unknown flags 0x%" PRIx32, owner, r.flags);
  /* Only where the thread stopped can be an exact pc: every outer frame is
   * in a call, so its pc is a return address. */
  if ((r.flags & CKPT_FRAME_EXACT_PC) && i + 1 != nframes)
    return bad(in, "%s: an exact pc, but only the innermost frame (%" PRIu32
               ") may have one", owner, nframes - 1);
  if (r.reserved != 0)
    return bad(in, "%s: reserved field is %" PRIu32 ", not 0", owner,
               r.reserved);
  if (r.func == 0)
    return bad(in, "%s: no function start address", owner);
  if (r.func > r.pc)
    return bad(in, "%s: function start 0x%" PRIx64 " is above its pc 0x%"
               PRIx64, owner, r.func, r.pc);
  if (r.excluded >= FRAME_EXCLUDED_MAX)
    return bad(in, "%s: %" PRIu32 " excluded bytes is implausibly many",
               owner, r.excluded);
  /* The cfa is the caller's sp before the call: above the resume point's
   * sp (the innermost frame's own sp is stack_save_lo), and at most
   * user_top, where the outermost frame's caller (the entry trampoline)
   * stands. */
  if (r.cfa <= t->stack_save_lo || r.cfa > t->user_top)
    return bad(in, "%s: cfa 0x%" PRIx64 " is outside the saved stack "
               "(0x%" PRIx64 ", 0x%" PRIx64 "]", owner, r.cfa,
               t->stack_save_lo, t->user_top);
  /* Outermost first: every callee's frame lies below its caller's. */
  if (i > 0 && r.cfa >= f[-1].cfa)
    return bad(in, "%s: cfa 0x%" PRIx64 " is not below its caller's "
               "0x%" PRIx64, owner, r.cfa, f[-1].cfa);
  return 0;
}

/* A stopped thread's stack bytes: extents in address order inside
 * [stack_save_lo, user_top), ended by len == 0. */
static int decode_stack(struct sec_in *in, struct thread_info *t) {
  char owner[64];
  snprintf(owner, sizeof owner, "thread in slot %" PRIu32 ": stack", t->slot);
  uint64_t count = 0;
  return decode_extents(in, t->stack_save_lo, t->user_top, owner,
                        "its user_top", &t->stack_saved_bytes, &count);
}

static const char *state_upper(uint32_t state) {
  switch (state) {
  case THREAD_PARKED: return "PARKED";
  case THREAD_IN_CALL: return "IN_CALL";
  case THREAD_NEW: return "NEW";
  case THREAD_EXITED: return "EXITED";
  default: return "unknown";
  }
}

/* The pthread key table: by key number, alive 0 or 1, reserved 0. */
static int decode_keys(struct sec_in *in, struct contents *c, uint32_t nkeys) {
  if (nkeys > KEYS_MAX)
    return bad(in, "%" PRIu32 " pthread keys (at most %d)", nkeys, KEYS_MAX);
  if (check_count(in, nkeys, sizeof(struct ckpt_key_rec), "pthread keys") < 0)
    return -1;
  c->keys = calloc(nkeys ? nkeys : 1, sizeof *c->keys);
  if (!c->keys)
    return bad(in, "out of memory");
  for (uint32_t k = 0; k < nkeys; k++) {
    struct ckpt_key_rec kr;
    if (in_read(in, &kr, sizeof kr) < 0)
      return -1;
    if (kr.alive > 1)
      return bad(in, "key %" PRIu32 ": alive field is %" PRIu32
                 ", not 0 or 1", k, kr.alive);
    if (kr.reserved != 0)
      return bad(in, "key %" PRIu32 ": reserved field is %" PRIu32 ", not 0",
                 k, kr.reserved);
    c->keys[k].destructor = kr.destructor;
    c->keys[k].alive = kr.alive;
    c->nkeys = k + 1;
  }
  return 0;
}

/* The fields of one thread record that do not depend on what follows it:
 * slot, state, park and call kinds, identity, TLS and key counts. K is the
 * record's index; c->threads[0..K) are the threads before it. */
static int check_thread_rec(struct sec_in *in, const struct contents *c,
                            uint32_t k, const struct ckpt_thread_rec *tr) {
  if (tr->slot >= CKPT_STACK_MAX_SLOTS)
    return bad(in, "thread %" PRIu32 ": slot %" PRIu32 " (at most %d)", k,
               tr->slot, CKPT_STACK_MAX_SLOTS - 1);
  for (uint32_t j = 0; j < k; j++)
    if (c->threads[j].slot == tr->slot)
      return bad(in, "threads %" PRIu32 " and %" PRIu32
                 " are both in slot %" PRIu32, j, k, tr->slot);
  if (k > 0 && tr->slot < c->threads[k - 1].slot)
    return bad(in, "thread %" PRIu32 ": slot %" PRIu32 " comes after slot %"
               PRIu32 " (threads are in slot order)", k, tr->slot,
               c->threads[k - 1].slot);
  uint32_t s = tr->slot;
  if (tr->state < THREAD_PARKED || tr->state > THREAD_EXITED)
    return bad(in, "thread in slot %" PRIu32 ": unknown state %" PRIu32, s,
               tr->state);
  const char *state = state_upper(tr->state);
  int has_frames = tr->state == THREAD_PARKED || tr->state == THREAD_IN_CALL;
  if (has_frames && tr->nframes == 0)
    return bad(in, "thread in slot %" PRIu32 ": %s with no frames", s, state);
  if (!has_frames && tr->nframes != 0)
    return bad(in, "thread in slot %" PRIu32 ": %s with %" PRIu32
               " frames (only PARKED and IN_CALL threads have frames)", s,
               state, tr->nframes);
  /* A thread stops at a poll or by signal (PARKED) or inside a wrapped
   * call (IN_CALL). */
  uint32_t want_park = tr->state == THREAD_PARKED    ? PARK_POLL
                       : tr->state == THREAD_IN_CALL ? PARK_CALL
                                                     : PARK_NONE;
  if (tr->state == THREAD_PARKED && tr->park_kind == PARK_SIGNAL)
    want_park = PARK_SIGNAL;
  if (tr->park_kind != want_park) {
    if (tr->park_kind > PARK_SIGNAL)
      return bad(in, "thread in slot %" PRIu32 ": unknown park kind %" PRIu32,
                 s, tr->park_kind);
    return bad(in, "thread in slot %" PRIu32 ": park kind %" PRIu32
               " in state %s (PARKED has 1 or 3, IN_CALL 2, others 0)", s,
               tr->park_kind, state);
  }
  if (tr->park_kind == PARK_CALL &&
      (tr->call_kind == CALL_NONE || tr->call_kind > CALL_MAX))
    return bad(in, "thread in slot %" PRIu32 ": call kind %" PRIu32
               " (IN_CALL threads have 1 to %d)", s, tr->call_kind, CALL_MAX);
  if (tr->park_kind != PARK_CALL && tr->call_kind != CALL_NONE)
    return bad(in, "thread in slot %" PRIu32 ": call kind %" PRIu32
               " in state %s (only IN_CALL threads have one)", s,
               tr->call_kind, state);
  if (s == 0 && tr->start_fn != 0)
    return bad(in, "thread in slot 0 (the main thread) has a start routine "
               "0x%" PRIx64, tr->start_fn);
  if (s != 0 && tr->start_fn == 0)
    return bad(in, "thread in slot %" PRIu32 " has no start routine", s);
  if (s == 0 && tr->state == THREAD_NEW)
    return bad(in, "thread in slot 0 (the main thread) is NEW");
  if (tr->detached > 1)
    return bad(in, "thread in slot %" PRIu32 ": detached field is %" PRIu32
               ", not 0 or 1", s, tr->detached);
  if (tr->tls_len >= TLS_MAX)
    return bad(in, "thread in slot %" PRIu32 ": a TLS block of %" PRIu32
               " bytes is implausibly large (1 MiB or more)", s, tr->tls_len);
  if (tr->tls_len != 0 && tr->tls_block == 0)
    return bad(in, "thread in slot %" PRIu32 ": %" PRIu32
               " TLS bytes but no TLS block address", s, tr->tls_len);
  /* Every thread has a block of the same executable's TLS. */
  for (uint32_t j = 0; j < k; j++)
    if (c->threads[j].tls_len != 0 && tr->tls_len != 0 &&
        c->threads[j].tls_len != tr->tls_len)
      return bad(in, "thread in slot %" PRIu32 ": %" PRIu32
                 " TLS bytes, but the thread in slot %" PRIu32 " has %" PRIu32,
                 s, tr->tls_len, c->threads[j].slot, c->threads[j].tls_len);
  if (tr->nkey_values > c->nkeys)
    return bad(in, "thread in slot %" PRIu32 ": %" PRIu32
               " key values for %" PRIu32 " pthread keys", s,
               tr->nkey_values, c->nkeys);
  uint64_t slot_lo = stack_base + s * stack_stride;
  if (tr->stack_lo >= tr->stack_hi || tr->stack_lo < slot_lo ||
      tr->stack_hi > slot_lo + stack_stride)
    return bad(in, "thread in slot %" PRIu32 ": stack 0x%" PRIx64
               "-0x%" PRIx64 " is not inside its slot 0x%" PRIx64
               "-0x%" PRIx64, s, tr->stack_lo, tr->stack_hi, slot_lo,
               slot_lo + (uint64_t)stack_stride);
  if (tr->user_top < tr->stack_lo || tr->user_top > tr->stack_hi)
    return bad(in, "thread in slot %" PRIu32 ": user stack top 0x%" PRIx64
               " is outside its stack", s, tr->user_top);
  if (has_frames ? tr->stack_save_lo < tr->stack_lo ||
                       tr->stack_save_lo > tr->user_top ||
                       (tr->park_kind != PARK_SIGNAL &&
                        tr->resume.rsp != tr->stack_save_lo)
                 : tr->stack_save_lo != 0)
    return bad(in, "thread in slot %" PRIu32 ": saved stack from 0x%" PRIx64
               " (resuming with sp 0x%" PRIx64 ") does not fit its state",
               s, tr->stack_save_lo, tr->resume.rsp);
  return 0;
}

/* A thread stopped by signal: its register context (runtime/context.h:
 * 192 bytes, then fp_len bytes of FP image) and its signal mask. Only the
 * pc, the stack pointer and the sizes are checked and kept. */
#define CONTEXT_HEAD 192
#define CONTEXT_FP_MAX 8192
static int decode_context(struct sec_in *in, struct thread_info *t) {
  unsigned char head[CONTEXT_HEAD];
  if (in_read(in, head, sizeof head) < 0)
    return -1;
  uint64_t rsp, rip;
  uint32_t fp_kind, fp_len;
  memcpy(&rsp, head + 15 * 8, 8); /* gregs in glibc's REG_* order */
  memcpy(&rip, head + 16 * 8, 8);
  memcpy(&fp_kind, head + 144, 4);
  memcpy(&fp_len, head + 148, 4);
  if (fp_kind < 1 || fp_kind > 2 || fp_len < 512 || fp_len > CONTEXT_FP_MAX)
    return bad(in, "thread in slot %" PRIu32 ": a register context with FP "
               "image kind %" PRIu32 " of %" PRIu32 " bytes", t->slot,
               fp_kind, fp_len);
  if (rsp - 128 != t->stack_save_lo)
    return bad(in, "thread in slot %" PRIu32 ": its saved stack starts at "
               "0x%" PRIx64 ", not 128 bytes below its stack pointer 0x%"
               PRIx64, t->slot, t->stack_save_lo, rsp);
  if (in_skip(in, fp_len) < 0 ||
      in_read(in, &t->signal_mask, sizeof t->signal_mask) < 0)
    return -1;
  t->resume_rip = rip;
  t->fp_len = fp_len;
  return 0;
}

/* The thread's pthread_getspecific values; the non-zero ones are kept. */
static int decode_key_values(struct sec_in *in, struct thread_info *t) {
  if (check_count(in, t->nkey_values, sizeof(uint64_t), "key values") < 0)
    return -1;
  uint64_t vals[KEYS_MAX];
  if (in_read(in, vals, t->nkey_values * sizeof *vals) < 0)
    return -1;
  uint32_t n = 0;
  for (uint32_t k = 0; k < t->nkey_values; k++)
    n += vals[k] != 0;
  t->key_values = calloc(n ? n : 1, sizeof *t->key_values);
  if (!t->key_values)
    return bad(in, "out of memory");
  for (uint32_t k = 0; k < t->nkey_values; k++)
    if (vals[k])
      t->key_values[t->nkey_set++] = (struct key_value){k, vals[k]};
  return 0;
}

static int decode_threads(struct sec_in *in, struct contents *c) {
  uint32_t head[2];
  if (in_read(in, head, sizeof head) < 0 || decode_keys(in, c, head[1]) < 0)
    return -1;
  if (check_count(in, head[0], sizeof(struct ckpt_thread_rec), "threads") < 0)
    return -1;
  c->threads = calloc(head[0] ? head[0] : 1, sizeof *c->threads);
  if (!c->threads)
    return bad(in, "out of memory");
  for (uint32_t k = 0; k < head[0]; k++) {
    struct ckpt_thread_rec tr;
    if (in_read(in, &tr, sizeof tr) < 0 || check_thread_rec(in, c, k, &tr) < 0)
      return -1;
    struct thread_info *t = &c->threads[k];
    t->slot = tr.slot;
    t->park_kind = tr.park_kind;
    t->state = tr.state;
    t->stack_lo = tr.stack_lo;
    t->stack_hi = tr.stack_hi;
    t->ptid = tr.ptid;
    t->start_fn = tr.start_fn;
    t->start_arg = tr.start_arg;
    t->retval = tr.retval;
    t->tls_block = tr.tls_block;
    t->tls_len = tr.tls_len;
    t->nkey_values = tr.nkey_values;
    t->call_kind = tr.call_kind;
    t->detached = tr.detached;
    t->call_deadline_ns = tr.call_deadline_ns;
    t->call_result = tr.call_result;
    t->user_top = tr.user_top;
    t->stack_save_lo = tr.stack_save_lo;
    t->resume_rip = tr.resume.rip;
    t->call_errno = tr.call_errno;
    t->call_fd = tr.call_fd;
    c->nthreads = k + 1;
    /* The TLS bytes and key values come first, then the frames. */
    if (tr.tls_len > in_left(in))
      return bad(in, "thread in slot %" PRIu32 ": %" PRIu32
                 " TLS bytes cannot fit in the %" PRIu64 " bytes that follow",
                 tr.slot, tr.tls_len, in_left(in));
    if (in_skip(in, tr.tls_len) < 0 || decode_key_values(in, t) < 0)
      return -1;
    if (tr.park_kind == PARK_SIGNAL && decode_context(in, t) < 0)
      return -1;
    if (check_count(in, tr.nframes, sizeof(struct ckpt_frame_rec),
                    "frames") < 0)
      return -1;
    t->frames = calloc(tr.nframes ? tr.nframes : 1, sizeof *t->frames);
    if (!t->frames)
      return bad(in, "out of memory for %" PRIu32 " frames", tr.nframes);
    for (uint32_t i = 0; i < tr.nframes; i++) {
      if (decode_frame(in, t, i, tr.nframes, &t->frames[i]) < 0)
        return -1;
      t->nframes = i + 1;
    }
    if (tr.nframes && decode_stack(in, t) < 0)
      return -1;
  }
  /* Threads are in slot order: the main thread, if any, is the first. */
  if (c->nthreads == 0 || c->threads[0].slot != 0)
    return bad(in, "no thread in slot 0 (the main thread)");
  return 0;
}

static int decode_files(struct sec_in *in, struct contents *c) {
  uint32_t head[2];
  if (in_read(in, head, sizeof head) < 0)
    return -1;
  if (head[1] != 0)
    return bad(in, "reserved field is %" PRIu32 ", not 0", head[1]);
  if (check_count(in, head[0], sizeof(struct ckpt_file_rec), "files") < 0)
    return -1;
  c->files = calloc(head[0] ? head[0] : 1, sizeof *c->files);
  if (!c->files)
    return bad(in, "out of memory");
  for (uint32_t i = 0; i < head[0]; i++) {
    struct file_info *f = &c->files[i];
    if (in_read(in, &f->rec, sizeof f->rec) < 0 ||
        in_string(in, f->rec.path_len, "file path", &f->path) < 0)
      return -1;
    c->nfiles = i + 1;
    const struct ckpt_file_rec *r = &f->rec;
    if (r->fd < 0)
      return bad(in, "file %" PRIu32 ": descriptor %" PRId32, i, r->fd);
    if (r->kind > FILE_KIND_MAX)
      return bad(in, "fd %" PRId32 ": unknown kind %" PRIu32, r->fd, r->kind);
    /* Permission bits only for a deleted file (made again with them), a
     * content hash only for a regular one (checked at a restart). */
    if (r->kind == CKPT_FILE_KIND_DELETED ? r->mode > 07777 : r->mode != 0)
      return bad(in, "fd %" PRId32 ": mode %#" PRIo32 " for a file of kind %"
                 PRIu32, r->fd, r->mode, r->kind);
    if (r->content_hash && r->kind != CKPT_FILE_KIND_REGULAR)
      return bad(in, "fd %" PRId32 ": a content hash for a file of kind %"
                 PRIu32, r->fd, r->kind);
    /* A deleted file's content follows its path. */
    if (r->kind == CKPT_FILE_KIND_DELETED) {
      if (r->size > in_left(in))
        return bad(in, "fd %" PRId32 ": a deleted file of %" PRIu64
                   " bytes, %" PRIu64 " left in the section", r->fd, r->size,
                   in_left(in));
      if (in_skip(in, r->size) < 0)
        return -1;
    }
    int same_found = r->same_as == -1;
    for (uint32_t j = 0; j < i; j++) {
      if (c->files[j].rec.fd == r->fd)
        return bad(in, "fd %" PRId32 " is listed twice", r->fd);
      same_found |= c->files[j].rec.fd == r->same_as;
    }
    /* A copy names a lower descriptor the restart has already opened. */
    if (!same_found || r->same_as >= r->fd)
      return bad(in, "fd %" PRId32 " is a copy of fd %" PRId32
                 ", which is not a lower descriptor listed before it",
                 r->fd, r->same_as);
  }
  return 0;
}

static int decode_rtstate(struct sec_in *in, struct contents *c) {
  if (in_read(in, &c->rtstate_len, sizeof c->rtstate_len) < 0)
    return -1;
  if (c->rtstate_len != in_left(in))
    return bad(in, "says %" PRIu64 " bytes of state, %" PRIu64 " follow",
               c->rtstate_len, in_left(in));
  return in_skip(in, c->rtstate_len);
}

static int decode_excluded(struct sec_in *in, struct contents *c) {
  if (in_read(in, &c->nexcluded, sizeof c->nexcluded) < 0 ||
      check_count(in, c->nexcluded, sizeof(struct ckpt_extent_rec),
                  "ranges") < 0)
    return -1;
  c->excluded = calloc(c->nexcluded ? c->nexcluded : 1, sizeof *c->excluded);
  if (!c->excluded)
    return bad(in, "out of memory");
  uint64_t next = 0;
  for (uint64_t i = 0; i < c->nexcluded; i++) {
    struct ckpt_extent_rec e;
    if (in_read(in, &e, sizeof e) < 0)
      return -1;
    if (e.len == 0 || e.addr + e.len < e.addr)
      return bad(in, "range %" PRIu64 " (0x%" PRIx64 "+%" PRIu64
                 ") is empty or wraps around", i, e.addr, e.len);
    if (i > 0 && e.addr < next)
      return bad(in, "range %" PRIu64 " (0x%" PRIx64 "+%" PRIu64
                 ") overlaps or precedes the range before it", i, e.addr,
                 e.len);
    c->excluded[i] = (struct range_info){e.addr, e.len};
    next = e.addr + e.len;
  }
  return 0;
}

static int decode_hooks(struct sec_in *in, struct contents *c) {
  /* c->nhooks only once c->hooks holds that many (zeroed) entries:
   * contents_free walks them, also after a failed decode. */
  uint64_t count;
  if (in_read(in, &count, sizeof count) < 0 ||
      check_count(in, count, sizeof(struct ckpt_hook_rec), "hooks") < 0)
    return -1;
  c->hooks = calloc(count ? count : 1, sizeof *c->hooks);
  if (!c->hooks)
    return bad(in, "out of memory");
  c->nhooks = count;
  for (uint64_t i = 0; i < c->nhooks; i++) {
    struct ckpt_hook_rec h;
    if (in_read(in, &h, sizeof h) < 0)
      return -1;
    if (h.fn == 0)
      return bad(in, "hook %" PRIu64 " has a null function", i);
    c->hooks[i].fn = h.fn;
    c->hooks[i].arg = h.arg;
  }
  return 0;
}

/* LIBS: the head, nlibs objects (record + name + soname + build-id),
 * ntargets values (record + symbol name) in increasing value order, each
 * inside its object's pages, then nthreads thread records in slot order.
 * The counts are checked against the section's length (each record at its
 * smallest) before anything is allocated. */
static int decode_libs_lib(struct sec_in *in, struct contents *c, uint32_t i) {
  struct ckpt_libs_lib_rec r;
  if (in_read(in, &r, sizeof r) < 0)
    return -1;
  struct libs_lib_info *l = &c->libs_libs[i];
  if (r.name_len > LIBS_NAME_MAX || r.soname_len > LIBS_NAME_MAX)
    return bad(in, "library %" PRIu32 ": a name of %" PRIu32
               " bytes or a soname of %" PRIu32 " bytes (at most %d)", i,
               r.name_len, r.soname_len, LIBS_NAME_MAX);
  if (r.build_id_len > LIBS_BUILD_ID_MAX)
    return bad(in, "library %" PRIu32 ": a build-id of %" PRIu32
               " bytes (at most %d)", i, r.build_id_len, LIBS_BUILD_ID_MAX);
  if (in_string(in, r.name_len, "library name", &l->name) < 0 ||
      in_string(in, r.soname_len, "library soname", &l->soname) < 0 ||
      in_read(in, l->build_id, r.build_id_len) < 0)
    return -1;
  l->base = r.base;
  l->lo = r.lo;
  l->hi = r.hi;
  l->build_id_len = r.build_id_len;
  l->flags = r.flags;
  c->libs_nlibs = i + 1;
  char owner[160];
  snprintf(owner, sizeof owner, "library %" PRIu32 " (%.120s)", i, l->name);
  if (r.flags & ~CKPT_LIB_DLOPEN)
    return bad(in, "%s: unknown flags 0x%" PRIx32, owner, r.flags);
  if (r.lo >= r.hi || ((r.lo | r.hi) & 4095))
    return bad(in, "%s: pages 0x%" PRIx64 "-0x%" PRIx64
               " are empty or not page-aligned", owner, r.lo, r.hi);
  for (uint32_t j = 0; j < i; j++) {
    const struct libs_lib_info *o = &c->libs_libs[j];
    if (r.lo < o->hi && o->lo < r.hi)
      return bad(in, "%s: pages 0x%" PRIx64 "-0x%" PRIx64
                 " overlap those of library %" PRIu32 " (0x%" PRIx64
                 "-0x%" PRIx64 ")", owner, r.lo, r.hi, j, o->lo, o->hi);
  }
  return 0;
}

static int decode_libs_target(struct sec_in *in, struct contents *c,
                              uint32_t i) {
  struct ckpt_libs_target_rec r;
  if (in_read(in, &r, sizeof r) < 0)
    return -1;
  struct libs_target_info *t = &c->libs_targets[i];
  if (r.sym_len > LIBS_NAME_MAX)
    return bad(in, "value %" PRIu32 " (0x%" PRIx64 "): a symbol name of %"
               PRIu32 " bytes (at most %d)", i, r.value, r.sym_len,
               LIBS_NAME_MAX);
  if (in_string(in, r.sym_len, "symbol name", &t->symbol) < 0)
    return -1;
  t->value = r.value;
  t->where = r.where;
  t->sym_offset = r.sym_offset;
  t->lib = r.lib;
  t->count = r.count;
  t->flags = r.flags;
  c->libs_ntargets = i + 1;
  char owner[64];
  snprintf(owner, sizeof owner, "value %" PRIu32 " (0x%" PRIx64 ")", i,
           r.value);
  if (i > 0 && r.value <= c->libs_targets[i - 1].value)
    return bad(in, "%s comes after 0x%" PRIx64
               " (values are in increasing order, each once)", owner,
               c->libs_targets[i - 1].value);
  if (r.lib >= c->libs_nlibs)
    return bad(in, "%s: library %" PRIu32 " of %" PRIu32, owner, r.lib,
               c->libs_nlibs);
  const struct libs_lib_info *l = &c->libs_libs[r.lib];
  if (r.value < l->lo || r.value >= l->hi)
    return bad(in, "%s is outside the pages of library %" PRIu32
               " (%.120s, 0x%" PRIx64 "-0x%" PRIx64 ")", owner, r.lib,
               l->name, l->lo, l->hi);
  if (r.count == 0)
    return bad(in, "%s is held by no word", owner);
  if (r.flags & ~(uint32_t)(LIBS_TARGET_KIND_FLAGS | CKPT_TARGET_UNOWNED |
                             CKPT_TARGET_STACK_ONLY | CKPT_TARGET_READ_ONLY))
    return bad(in, "%s: unknown flags 0x%" PRIx32, owner, r.flags);
  if ((r.flags & CKPT_TARGET_STACK_ONLY) && !(r.flags & CKPT_TARGET_UNOWNED))
    return bad(in, "%s: flags 0x%" PRIx32 " (stack-only without unowned)",
               owner, r.flags);
  /* What the value is: one of the kind bits at most (none: a symbol's, or
   * private data); CKPT_TARGET_UNOWNED may go with any. */
  uint32_t kind = r.flags & LIBS_TARGET_KIND_FLAGS;
  if (kind & (kind - 1))
    return bad(in, "%s: flags 0x%" PRIx32 " (at most one of 0x%x)", owner,
               r.flags, (unsigned)LIBS_TARGET_KIND_FLAGS);
  /* An IFUNC and an anchor are named by a symbol, a handle and dead code by
   * none; a string by its bytes (none for "": a pointer at a NUL), with no
   * offset. */
  if (kind & CKPT_TARGET_STRING) {
    if (r.sym_len > CKPT_TARGET_STRING_MAX)
      return bad(in, "%s: a string of %" PRIu32 " bytes (at most %d)", owner,
                 r.sym_len, CKPT_TARGET_STRING_MAX);
    if (r.sym_offset != 0)
      return bad(in, "%s: a string with an offset of 0x%" PRIx64, owner,
                 r.sym_offset);
  } else if ((kind & (CKPT_TARGET_IFUNC | CKPT_TARGET_ANCHOR))
                 ? r.sym_len == 0
                 : r.sym_len != 0 && kind != 0) {
    return bad(in, "%s: %s with%s a symbol name", owner,
               (kind & CKPT_TARGET_IFUNC)    ? "an IFUNC"
               : (kind & CKPT_TARGET_ANCHOR) ? "an anchor"
               : (kind & CKPT_TARGET_CODE)   ? "a code address"
                                             : "a dlopen handle",
               r.sym_len ? "" : "out");
  }
  if (r.sym_len == 0 && r.sym_offset != 0)
    return bad(in, "%s: an offset of 0x%" PRIx64 " from no symbol", owner,
               r.sym_offset);
  c->libs_libs[r.lib].nvalues++;
  c->libs_libs[r.lib].words += r.count;
  c->libs_words += r.count;
  c->libs_kinds[libs_target_kind(t)]++;
  c->libs_unowned += (r.flags & CKPT_TARGET_UNOWNED) != 0;
  return 0;
}

static int decode_libs_thread(struct sec_in *in, struct contents *c,
                              uint32_t i) {
  struct ckpt_libs_thread_rec *t = &c->libs_threads[i];
  if (in_read(in, t, sizeof *t) < 0)
    return -1;
  c->libs_nthreads = i + 1;
  if (t->slot >= CKPT_STACK_MAX_SLOTS)
    return bad(in, "thread record %" PRIu32 ": slot %" PRIu32 " (at most %d)",
               i, t->slot, CKPT_STACK_MAX_SLOTS - 1);
  if (i > 0 && t->slot <= c->libs_threads[i - 1].slot)
    return bad(in, "thread record %" PRIu32 ": slot %" PRIu32
               " comes after slot %" PRIu32 " (threads are in slot order, "
               "each once)", i, t->slot, c->libs_threads[i - 1].slot);
  if (t->reserved != 0)
    return bad(in, "thread in slot %" PRIu32 ": reserved field is %" PRIu32
               ", not 0", t->slot, t->reserved);
  /* The executable's TLS block lies below the thread's descriptor. */
  if (t->tls_block ? t->tls_size >= TLS_MAX || t->tls_block > t->ptid ||
                         t->tls_size > t->ptid - t->tls_block
                   : t->tls_size != 0)
    return bad(in, "thread in slot %" PRIu32 ": a TLS block 0x%" PRIx64
               " of %" PRIu64 " bytes does not end at or below its "
               "pthread_t 0x%" PRIx64, t->slot, t->tls_block, t->tls_size,
               t->ptid);
  return 0;
}

static int decode_libs(struct sec_in *in, struct contents *c) {
  struct ckpt_libs_head *h = &c->libs_head;
  if (in_read(in, h, sizeof *h) < 0)
    return -1;
  if (h->reserved != 0)
    return bad(in, "reserved field is %" PRIu32 ", not 0", h->reserved);
  if (h->nlibs > LIBS_LIBS_MAX || h->ntargets > LIBS_TARGETS_MAX ||
      h->nthreads > CKPT_STACK_MAX_SLOTS)
    return bad(in, "%" PRIu32 " libraries, %" PRIu32 " values and %" PRIu32
               " threads (at most %d, %u and %d)", h->nlibs, h->ntargets,
               h->nthreads, LIBS_LIBS_MAX, LIBS_TARGETS_MAX,
               CKPT_STACK_MAX_SLOTS);
  uint64_t need =
      (uint64_t)h->nlibs * sizeof(struct ckpt_libs_lib_rec) +
      (uint64_t)h->ntargets * sizeof(struct ckpt_libs_target_rec) +
      (uint64_t)h->nthreads * sizeof(struct ckpt_libs_thread_rec);
  if (need > in_left(in))
    return bad(in, "%" PRIu32 " libraries, %" PRIu32 " values and %" PRIu32
               " threads cannot fit in the %" PRIu64 " bytes that follow (at "
               "least %" PRIu64 " bytes)", h->nlibs, h->ntargets, h->nthreads,
               in_left(in), need);
  c->libs_libs = calloc(h->nlibs ? h->nlibs : 1, sizeof *c->libs_libs);
  c->libs_targets = calloc(h->ntargets ? h->ntargets : 1,
                           sizeof *c->libs_targets);
  c->libs_threads = calloc(h->nthreads ? h->nthreads : 1,
                           sizeof *c->libs_threads);
  if (!c->libs_libs || !c->libs_targets || !c->libs_threads)
    return bad(in, "out of memory");
  for (uint32_t i = 0; i < h->nlibs; i++)
    if (decode_libs_lib(in, c, i) < 0)
      return -1;
  for (uint32_t i = 0; i < h->ntargets; i++)
    if (decode_libs_target(in, c, i) < 0)
      return -1;
  for (uint32_t i = 0; i < h->nthreads; i++)
    if (decode_libs_thread(in, c, i) < 0)
      return -1;
  return 0;
}

/* META is small: read whole, parsed by toolutil (shared with ckpt-run). */
#define META_SECTION_MAX (256u << 20)

static int decode_meta(struct sec_in *in, struct contents *c) {
  if (in->raw_size > META_SECTION_MAX)
    return bad(in, "implausibly large (%" PRIu64 " bytes)", in->raw_size);
  char *buf = malloc(in->raw_size ? (size_t)in->raw_size : 1);
  if (!buf)
    return bad(in, "out of memory");
  if (in_read(in, buf, (size_t)in->raw_size) < 0) {
    free(buf);
    return -1;
  }
  c->meta_buf = buf;
  /* The checksum is checked when the section is finished, so a damaged
   * section is reported as damaged, not as malformed. */
  return 0;
}

static int parse_meta(struct sec_in *in, struct contents *c) {
  char what[CKPT_IMAGE_ERRLEN];
  snprintf(what, sizeof what, "%s: section %zu (META)", in->path, in->index);
  return tool_meta_parse(c->meta_buf, (size_t)in->raw_size, what, &c->meta,
                         in->err, in->errlen);
}

typedef int (*decode_fn)(struct sec_in *, struct contents *);

static decode_fn decoder_for(uint32_t type) {
  switch (type) {
  case CKPT_SEC_META: return decode_meta;
  case CKPT_SEC_LAYOUT: return decode_layout;
  case CKPT_SEC_GLOBALS: return decode_globals;
  case CKPT_SEC_HEAP: return decode_heap;
  case CKPT_SEC_THREADS: return decode_threads;
  case CKPT_SEC_FILES: return decode_files;
  case CKPT_SEC_RTSTATE: return decode_rtstate;
  case CKPT_SEC_EXCLUDED: return decode_excluded;
  case CKPT_SEC_HOOKS: return decode_hooks;
  case CKPT_SEC_MAPS: return decode_maps;
  case CKPT_SEC_SIGNALS: return decode_signals;
  case CKPT_SEC_LIBS: return decode_libs;
  default: return NULL;
  }
}

/* Read the rest of a section and drop it. */
static int in_skip_rest(struct sec_in *in) { return in_skip(in, in_left(in)); }

/* Does section INDEX fail its checksum or decompression? Then ERR says so.
 * A flipped byte in an uncompressed section can look like a bad length
 * before its checksum is known; damage is the better explanation. */
static int section_is_damaged(struct ckpt_image *img, const char *path,
                              size_t index, char *err, size_t errlen) {
  const struct ckpt_section_info *si = ckpt_image_section(img, index);
  struct sec_in in = {NULL, path, index, si->type, si->raw_size, NULL,
                      err, errlen};
  in.r = ckpt_section_open(img, index, err, errlen);
  if (!in.r)
    return 1;
  int damaged = in_skip_rest(&in) < 0 || ckpt_section_finish(in.r) < 0;
  if (damaged)
    snprintf(err, errlen, "%s", ckpt_section_error(in.r));
  ckpt_section_close(in.r);
  return damaged;
}

/* Decode section INDEX into C. Every raw byte must be consumed, and nothing
 * counts as decoded before the section's checksum has been checked. */
static int decode_section(struct ckpt_image *img, const char *path,
                          size_t index, struct contents *c, char *err,
                          size_t errlen) {
  const struct ckpt_section_info *si = ckpt_image_section(img, index);
  struct sec_in in = {NULL, path, index, si->type, si->raw_size, &c->pool,
                      err, errlen};
  in.r = ckpt_section_open(img, index, err, errlen);
  if (!in.r)
    return -1;
  int rc = decoder_for(si->type)(&in, c);
  if (rc == 0 && in_left(&in) > 0)
    rc = bad(&in, "%" PRIu64 " bytes are left over after the last record "
             "(at offset %" PRIu64 ")", in_left(&in), in_offset(&in));
  if (rc == 0 && ckpt_section_finish(in.r) < 0) {
    snprintf(err, errlen, "%s", ckpt_section_error(in.r));
    rc = -1;
  }
  ckpt_section_close(in.r);
  if (rc == 0 && si->type == CKPT_SEC_META)
    rc = parse_meta(&in, c);
  if (rc < 0) {
    char damage[CKPT_IMAGE_ERRLEN];
    if (section_is_damaged(img, path, index, damage, sizeof damage))
      snprintf(err, errlen, "%s", damage);
  }
  return rc;
}

/* SIGNALS has a record for every thread of THREADS that has not exited,
 * and for no other. */
static int check_signal_threads(const struct contents *c, const char *path,
                                char *err, size_t errlen) {
  long sig = c->first[CKPT_SEC_SIGNALS], thr = c->first[CKPT_SEC_THREADS];
  for (uint32_t i = 0; i < c->signals.nthreads; i++) {
    uint32_t slot = c->signal_threads[i].slot;
    const struct thread_info *t = NULL;
    for (uint32_t k = 0; k < c->nthreads && !t; k++)
      if (c->threads[k].slot == slot)
        t = &c->threads[k];
    if (t && t->state != THREAD_EXITED)
      continue;
    snprintf(err, errlen,
             "%s: section %ld (SIGNALS): a record for slot %" PRIu32
             ", where section %ld (THREADS) has %s", path, sig, slot, thr,
             t ? "a thread that has exited" : "no thread");
    return -1;
  }
  for (uint32_t k = 0; k < c->nthreads; k++) {
    const struct thread_info *t = &c->threads[k];
    if (t->state == THREAD_EXITED)
      continue;
    uint32_t i = 0;
    while (i < c->signals.nthreads && c->signal_threads[i].slot != t->slot)
      i++;
    if (i < c->signals.nthreads)
      continue;
    snprintf(err, errlen,
             "%s: section %ld (SIGNALS): no record for the thread in slot %"
             PRIu32 " of section %ld (THREADS)", path, sig, t->slot, thr);
    return -1;
  }
  return 0;
}

/* Sections a restart reads; --verify requires each. */
static const uint32_t required_types[] = {
    CKPT_SEC_META,    CKPT_SEC_LAYOUT,  CKPT_SEC_GLOBALS,
    CKPT_SEC_HEAP,    CKPT_SEC_THREADS, CKPT_SEC_FILES,
    CKPT_SEC_RTSTATE, CKPT_SEC_EXCLUDED, CKPT_SEC_HOOKS, CKPT_SEC_MAPS,
    CKPT_SEC_SIGNALS};

/* LIBS has a record for every thread of THREADS, with its pthread_t and
 * TLS block, and for no other. */
static int check_libs_threads(const struct contents *c, const char *path,
                              char *err, size_t errlen) {
  long libs = c->first[CKPT_SEC_LIBS], thr = c->first[CKPT_SEC_THREADS];
  uint32_t i = 0, k = 0;
  /* Both lists are in increasing slot order. */
  while (i < c->libs_nthreads || k < c->nthreads) {
    const struct ckpt_libs_thread_rec *l =
        i < c->libs_nthreads ? &c->libs_threads[i] : NULL;
    const struct thread_info *t = k < c->nthreads ? &c->threads[k] : NULL;
    if (l && t && l->slot == t->slot) {
      if (l->ptid != t->ptid || l->tls_block != t->tls_block) {
        snprintf(err, errlen,
                 "%s: section %ld (LIBS): the thread in slot %" PRIu32
                 " has pthread_t 0x%" PRIx64 " and TLS block 0x%" PRIx64
                 ", section %ld (THREADS) says 0x%" PRIx64 " and 0x%" PRIx64,
                 path, libs, l->slot, l->ptid, l->tls_block, thr, t->ptid,
                 t->tls_block);
        return -1;
      }
      i++, k++;
      continue;
    }
    if (l && (!t || l->slot < t->slot))
      snprintf(err, errlen,
               "%s: section %ld (LIBS): a record for slot %" PRIu32
               ", where section %ld (THREADS) has no thread", path, libs,
               l->slot, thr);
    else
      snprintf(err, errlen,
               "%s: section %ld (LIBS): no record for the thread in slot %"
               PRIu32 " of section %ld (THREADS)", path, libs, t->slot, thr);
    return -1;
  }
  return 0;
}

/* The formats whose section contents this build decodes: version 6
 * (CKPT_FILE_VERSION) and version 5, which is the same without the LIBS
 * section (version 5 itself: the threads section's frame records changed).
 * Older files still have their container (header, table, checksums) and
 * META read. A new format version must be looked at here: which of the
 * versions before it do these decoders still read right? */
_Static_assert(CKPT_FILE_VERSION == DECODED_VERSION_MAX,
               "a new checkpoint format version: update the decoders and "
               "DECODED_VERSION_MIN/MAX (inspect_decode.h)");
int decodes_contents(const struct ckpt_image *img) {
  uint32_t version = ckpt_image_info(img)->version;
  return version >= DECODED_VERSION_MIN && version <= DECODED_VERSION_MAX;
}

/* Decode every section this build knows (META only in older formats) into
 * C; sections repeating an earlier one's type are decoded into a scratch
 * copy, so their structure is checked too. With CHECK_WHOLE, also require
 * every section a restart needs and that sections agree with each other. */
int load_contents(struct ckpt_image *img, const char *path,
                         int check_whole, struct contents *c, char *err,
                         size_t errlen) {
  int decoded = decodes_contents(img);
  size_t n = ckpt_image_num_sections(img);
  for (size_t i = 0; i < n; i++) {
    uint32_t type = ckpt_image_section(img, i)->type;
    if (!decoder_for(type) || (!decoded && type != CKPT_SEC_META))
      continue;
    if (c->first[type] < 0) {
      c->first[type] = (long)i;
      if (decode_section(img, path, i, c, err, errlen) < 0)
        return -1;
      continue;
    }
    if (grow_array(&c->repeated, &c->repeated_cap, c->nrepeated + 1,
                   sizeof *c->repeated) < 0) {
      snprintf(err, errlen, "%s: out of memory", path);
      return -1;
    }
    c->repeated[c->nrepeated++] = i;
    struct contents scratch;
    contents_init(&scratch);
    int rc = decode_section(img, path, i, &scratch, err, errlen);
    contents_free(&scratch);
    if (rc < 0)
      return -1;
  }
  if (c->first[CKPT_SEC_META] < 0) {
    snprintf(err, errlen, "%s: no META section", path);
    return -1;
  }
  if (!check_whole || !decoded)
    return 0;
  for (size_t k = 0; k < sizeof required_types / sizeof *required_types; k++)
    if (c->first[required_types[k]] < 0) {
      snprintf(err, errlen, "%s: no %s section (a restart needs one)", path,
               ckpt_section_type_name(required_types[k]));
      return -1;
    }
  /* Version 6 added LIBS; a version 5 file has none. */
  int has_libs = ckpt_image_info(img)->version >= 6;
  if (has_libs && c->first[CKPT_SEC_LIBS] < 0) {
    snprintf(err, errlen, "%s: no LIBS section (a restart needs one)", path);
    return -1;
  }
  if (c->heap.heap_end != c->layout.heap_end) {
    snprintf(err, errlen,
             "%s: section %ld (HEAP): heap end 0x%" PRIx64
             " differs from section %ld (LAYOUT)'s 0x%" PRIx64,
             path, c->first[CKPT_SEC_HEAP], c->heap.heap_end,
             c->first[CKPT_SEC_LAYOUT], c->layout.heap_end);
    return -1;
  }
  if (check_signal_threads(c, path, err, errlen) < 0)
    return -1;
  if (c->first[CKPT_SEC_LIBS] >= 0 &&
      check_libs_threads(c, path, err, errlen) < 0)
    return -1;
  return 0;
}
