/* tools/ckpt-inspect.c - print a checkpoint file as text or JSON: header,
 * process, threads (state, identity, TLS, pthread keys) and frames, globals,
 * heap, exclusions, restart hooks, open files, address layout and section
 * table; --verify also checks every checksum and the structure of every
 * section. The section contents are specified in docs/format.md, their
 * records in runtime/sections.h; the output is described in
 * docs/inspect.md. */
#include <elf.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/abi.h"
#include "image.h"
#include "sections.h"
#include "toolutil.h"

static void usage(FILE *f) {
  fputs(
"Usage: ckpt-inspect [--verify] [--json] FILE\n"
"\n"
"Print a ckpt checkpoint file: its header (format version, architecture,\n"
"creation time in UTC, sequence number, build-id of the executable), the\n"
"recorded process (executable, arguments, working directory, pid,\n"
"checkpoint directory, interval, keep count), its threads (state or the\n"
"call each waits in, pthread_t, start routine, TLS, pthread key values)\n"
"with their frames (innermost first), the pthread keys, globals, heap,\n"
"excluded ranges, restart hooks, open files, address layout and the\n"
"section table (type, compression, stored and raw size, XXH64 checksum).\n"
"Section contents are decoded for format version 2; for version 1 files\n"
"only the header, META records and section table are shown.\n"
"\n"
"  --verify   also check every section's checksum, decompression and\n"
"             structure; prints \"verify: ok\" (exit 0) or the error (exit 1)\n"
"  --json     print the same data as one JSON object\n"
"  --help     this text\n"
"\n"
"A missing, foreign or damaged file gives one error line and exit status 1;\n"
"a usage error exit status 2.\n",
      f);
}

/* Values of ckpt_thread_rec.park_kind, state and call_kind and of
 * ckpt_file_rec.kind, as docs/format.md defines them (the runtime's enums
 * live in runtime/rt.h, which a tool cannot include). */
enum { PARK_NONE = 0, PARK_POLL = 1, PARK_CALL = 2 };
enum {
  THREAD_PARKED = 2,
  THREAD_IN_CALL = 3,
  THREAD_NEW = 4,
  THREAD_EXITED = 5
};
enum {
  CALL_NONE = 0,
  CALL_CHECKPOINT = 1,
  CALL_REISSUE = 2,
  CALL_COND_WAIT = 3,
  CALL_SLEEP = 4,
  CALL_IO = 5,
  CALL_COMPLETED = 6,
  CALL_MAX = 6
};
/* pthread keys a THREADS section may hold (glibc's PTHREAD_KEYS_MAX, the
 * runtime's CKPT_MAX_KEYS), and the largest plausible static TLS block. */
#define KEYS_MAX 1024
#define TLS_MAX (1u << 20)
static const char *const file_kind_names[] = {"other", "regular", "device",
                                              "directory"};
#define FILE_KIND_MAX 3

/* abi.h's address constants as uint64_t (they are unsigned long long, which
 * PRIx64 does not print on LP64). */
static const uint64_t heap_base = CKPT_HEAP_BASE, heap_max = CKPT_HEAP_MAX;
static const uint64_t stack_base = CKPT_STACK_BASE;
static const uint64_t stack_stride = CKPT_STACK_SLOT_STRIDE;

/* Longest name or path accepted in a section: far beyond PATH_MAX, small
 * enough that a damaged length cannot make us allocate gigabytes. */
#define STRING_MAX (1u << 20)

/* ---- String pool ----------------------------------------------------------
 * Function and file names repeat in every frame of a deep recursion; each
 * distinct string is stored once. Open addressing, FNV-1a hash. */
struct strpool {
  char **slots;
  size_t cap, used;
};

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

/* Make room for NEED elements of SIZE bytes in *ARR (capacity *CAP). */
static int grow_array(void *arr, size_t *cap, size_t need, size_t size) {
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

struct frame_info {
  const char *name, *file; /* pooled */
  uint64_t desc, addr;
  uint32_t site, size, line, excluded;
};

struct key_value {
  uint32_t key;
  uint64_t value;
};

struct thread_info {
  uint32_t slot, park_kind, nframes, state;
  uint64_t stack_lo, stack_hi;
  uint64_t ptid, start_fn, start_arg, retval, tls_block;
  uint32_t tls_len, nkey_values, call_kind, detached;
  int64_t call_deadline_ns, call_result;
  uint64_t call_counter, call_value;
  int32_t call_errno, call_fd;
  struct key_value *key_values; /* the non-zero ones, by key */
  uint32_t nkey_set;
  char *start_symbol; /* owned; NULL if not resolved */
  uint64_t start_offset;
  struct frame_info *frames; /* outermost first, as in the file */
};

struct key_info {
  uint64_t destructor;
  uint32_t alive;
  char *symbol; /* owned; NULL if not resolved */
  uint64_t symbol_offset;
};

struct global_info {
  const char *name;
  uint64_t addr, size, excluded, saved, extents;
  uint32_t flags;
};

struct lib_info {
  uint64_t base;
  const char *path;
};

struct file_info {
  struct ckpt_file_rec rec;
  const char *path;
};

struct range_info {
  uint64_t addr, len;
};

struct hook_info {
  uint64_t fn, arg;
  char *symbol; /* owned; NULL if not resolved */
  uint64_t symbol_offset;
};

/* Section index of each decoded section type, -1 while none was seen. Only
 * the first section of a type is shown (it is the one a restart reads);
 * later ones are decoded for their structure and then dropped. */
enum { NUM_SECTION_TYPES = 16 };

struct contents {
  struct strpool pool;
  long first[NUM_SECTION_TYPES];
  size_t *repeated; /* indexes of sections whose type came earlier */
  size_t nrepeated, repeated_cap;

  struct tool_meta meta;
  char *meta_buf;

  struct ckpt_layout_rec layout;
  struct lib_info *libs;
  size_t libs_cap;

  struct global_info *globals;
  size_t nglobals, globals_cap;
  uint64_t globals_size, globals_saved, globals_excluded;

  struct ckpt_heap_rec heap;
  uint64_t heap_stored, heap_extents;

  struct thread_info *threads;
  uint32_t nthreads;
  struct key_info *keys;
  uint32_t nkeys;

  struct file_info *files;
  uint32_t nfiles;

  uint64_t rtstate_len;

  struct range_info *excluded;
  uint64_t nexcluded;

  struct hook_info *hooks;
  uint64_t nhooks;
  /* Why the functions of hooks, start routines and key destructors are not
   * named from the executable's symbols, or NULL. */
  const char *symbols_note;
  char symbols_note_buf[600];
};

static void contents_init(struct contents *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < NUM_SECTION_TYPES; i++)
    c->first[i] = -1;
}

static void contents_free(struct contents *c) {
  for (uint32_t t = 0; t < c->nthreads; t++) {
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
    if (lib.reserved != 0)
      return bad(in, "library %" PRIu32 ": reserved field is not 0", i);
    c->libs[i].base = lib.base;
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

/* The pass renames the user's main to __ckpt_main; people know it as main. */
static const char *display_function_name(const char *name) {
  return strcmp(name, CKPT_USER_MAIN_STR) == 0 ? "main" : name;
}

static int decode_frame(struct sec_in *in, const struct thread_info *t,
                        uint32_t i, struct frame_info *f) {
  struct ckpt_frame_rec r;
  if (in_read(in, &r, sizeof r) < 0)
    return -1;
  if (in_string(in, r.name_len, "function name", &f->name) < 0 ||
      in_string(in, r.file_len, "source file name", &f->file) < 0)
    return -1;
  f->desc = r.desc;
  f->addr = r.addr;
  f->site = r.site;
  f->size = r.size;
  f->line = r.line;
  f->excluded = r.excluded;
  char owner[200];
  snprintf(owner, sizeof owner, "thread in slot %" PRIu32 ", frame %" PRIu32
           " (%.120s)", t->slot, i, f->name);
  struct ckpt_frame_header head;
  if (r.size < sizeof head)
    return bad(in, "%s: a frame record of %" PRIu32
               " bytes is smaller than its header", owner, r.size);
  if (r.excluded > r.size)
    return bad(in,
               "%s: %" PRIu32 " excluded bytes exceed the record's %" PRIu32,
               owner, r.excluded, r.size);
  if (r.site == 0)
    return bad(in, "%s: site 0 (sites are numbered from 1)", owner);
  if (r.addr < t->stack_lo || r.addr > t->stack_hi ||
      r.size > t->stack_hi - r.addr)
    return bad(in, "%s: record 0x%" PRIx64 "+%" PRIu32
               " is outside the thread's stack", owner, r.addr, r.size);
  /* Outermost first: every callee's record lies below its caller's. */
  if (i > 0 && r.addr + r.size > f[-1].addr)
    return bad(in, "%s: record 0x%" PRIx64 "+%" PRIu32
               " is not below its caller's at 0x%" PRIx64, owner, r.addr,
               r.size, f[-1].addr);
  /* The record's own header must describe the same frame. */
  if (in_read(in, &head, sizeof head) < 0)
    return -1;
  uint64_t head_desc = (uint64_t)(uintptr_t)head.desc;
  uint64_t head_parent = (uint64_t)(uintptr_t)head.parent;
  if (head_desc != r.desc || head.site != r.site ||
      (i > 0 && head_parent != f[-1].addr))
    return bad(in, "%s: the saved record's header (descriptor 0x%" PRIx64
               ", site %" PRIu32 ", parent 0x%" PRIx64
               ") does not match the frame", owner, head_desc, head.site,
               head_parent);
  return in_skip(in, r.size - sizeof head);
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
  /* A thread stops at a poll (PARKED) or inside a wrapped call (IN_CALL). */
  uint32_t want_park = tr->state == THREAD_PARKED    ? PARK_POLL
                       : tr->state == THREAD_IN_CALL ? PARK_CALL
                                                     : PARK_NONE;
  if (tr->park_kind != want_park) {
    if (tr->park_kind > PARK_CALL)
      return bad(in, "thread in slot %" PRIu32 ": unknown park kind %" PRIu32,
                 s, tr->park_kind);
    return bad(in, "thread in slot %" PRIu32 ": park kind %" PRIu32
               " in state %s (PARKED has 1, IN_CALL 2, others 0)", s,
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
    t->call_counter = tr.call_counter;
    t->call_value = tr.call_value;
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
    /* A frame is at least its record and the header of its saved bytes. */
    if (check_count(in, tr.nframes,
                    sizeof(struct ckpt_frame_rec) +
                        sizeof(struct ckpt_frame_header),
                    "frames") < 0)
      return -1;
    t->frames = calloc(tr.nframes ? tr.nframes : 1, sizeof *t->frames);
    if (!t->frames)
      return bad(in, "out of memory for %" PRIu32 " frames", tr.nframes);
    for (uint32_t i = 0; i < tr.nframes; i++) {
      if (decode_frame(in, t, i, &t->frames[i]) < 0)
        return -1;
      t->nframes = i + 1;
    }
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
    if (r->kind > FILE_KIND_MAX || r->reserved != 0)
      return bad(in, "fd %" PRId32 ": unknown kind %" PRIu32
                 " or non-zero reserved field", r->fd, r->kind);
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
  if (in_read(in, &c->nhooks, sizeof c->nhooks) < 0 ||
      check_count(in, c->nhooks, sizeof(struct ckpt_hook_rec), "hooks") < 0)
    return -1;
  c->hooks = calloc(c->nhooks ? c->nhooks : 1, sizeof *c->hooks);
  if (!c->hooks)
    return bad(in, "out of memory");
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

/* Sections a restart of a version 2 file reads; --verify requires each. */
static const uint32_t required_types[] = {
    CKPT_SEC_META,    CKPT_SEC_LAYOUT,  CKPT_SEC_GLOBALS,
    CKPT_SEC_HEAP,    CKPT_SEC_THREADS, CKPT_SEC_FILES,
    CKPT_SEC_RTSTATE, CKPT_SEC_EXCLUDED, CKPT_SEC_HOOKS};

/* The only format whose section contents this build decodes. Older files
 * still have their container (header, table, checksums) and META read. */
#define DECODED_VERSION 2

static int decodes_contents(const struct ckpt_image *img) {
  return ckpt_image_info(img)->version == DECODED_VERSION;
}

/* Decode every section this build knows (META only in older formats) into
 * C; sections repeating an earlier one's type are decoded into a scratch
 * copy, so their structure is checked too. With CHECK_WHOLE, also require
 * every section a restart needs and that sections agree with each other. */
static int load_contents(struct ckpt_image *img, const char *path,
                         int check_whole, struct contents *c, char *err,
                         size_t errlen) {
  int v2 = decodes_contents(img);
  size_t n = ckpt_image_num_sections(img);
  for (size_t i = 0; i < n; i++) {
    uint32_t type = ckpt_image_section(img, i)->type;
    if (!decoder_for(type) || (!v2 && type != CKPT_SEC_META))
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
  if (!check_whole || !v2)
    return 0;
  for (size_t k = 0; k < sizeof required_types / sizeof *required_types; k++)
    if (c->first[required_types[k]] < 0) {
      snprintf(err, errlen, "%s: no %s section (a restart needs one)", path,
               ckpt_section_type_name(required_types[k]));
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
  return 0;
}

/* Name the functions of the restart hooks, the threads' start routines and
 * the pthread keys' destructors from the executable's symbol table, but
 * only if it is the very build that took the checkpoint: another build's
 * addresses would give confident wrong names. */
struct symbol_ref {
  uint64_t addr;
  char **symbol;
  uint64_t *offset;
};

static void resolve_symbols(const struct ckpt_image *img, struct contents *c) {
  size_t n = (size_t)c->nhooks + c->nthreads + c->nkeys;
  if (n == 0)
    return;
  struct symbol_ref *refs = calloc(n, sizeof *refs);
  uint64_t *addrs = calloc(n, sizeof *addrs);
  uint64_t *offsets = calloc(n, sizeof *offsets);
  char **names = calloc(n, sizeof *names);
  if (!refs || !addrs || !offsets || !names) {
    c->symbols_note = "out of memory";
    goto out;
  }
  size_t m = 0;
  for (uint64_t i = 0; i < c->nhooks; i++)
    refs[m++] = (struct symbol_ref){c->hooks[i].fn, &c->hooks[i].symbol,
                                    &c->hooks[i].symbol_offset};
  for (uint32_t i = 0; i < c->nthreads; i++)
    if (c->threads[i].start_fn)
      refs[m++] = (struct symbol_ref){c->threads[i].start_fn,
                                      &c->threads[i].start_symbol,
                                      &c->threads[i].start_offset};
  for (uint32_t i = 0; i < c->nkeys; i++)
    if (c->keys[i].destructor)
      refs[m++] = (struct symbol_ref){c->keys[i].destructor,
                                      &c->keys[i].symbol,
                                      &c->keys[i].symbol_offset};
  if (m == 0)
    goto out;
  const struct ckpt_image_info *info = ckpt_image_info(img);
  const char *exe = c->meta.exe_path;
  char why[400];
  uint8_t id[TOOL_BUILD_ID_MAX];
  size_t idlen = 0;
  if (!exe) {
    c->symbols_note = "the checkpoint names no executable";
    goto out;
  }
  if (tool_elf_build_id(exe, id, sizeof id, &idlen, why, sizeof why) < 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf, "%s %s", exe,
             why);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  if (idlen != info->build_id_len || memcmp(id, info->build_id, idlen) != 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf,
             "%s has changed since the checkpoint (build-id differs)", exe);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  for (size_t i = 0; i < m; i++)
    addrs[i] = refs[i].addr;
  if (tool_elf_function_symbols(exe, addrs, m, names, offsets, why,
                                sizeof why) < 0) {
    snprintf(c->symbols_note_buf, sizeof c->symbols_note_buf, "%s %s", exe,
             why);
    c->symbols_note = c->symbols_note_buf;
    goto out;
  }
  for (size_t i = 0; i < m; i++) {
    *refs[i].symbol = names[i];
    *refs[i].offset = offsets[i];
  }
out:
  free(refs);
  free(addrs);
  free(offsets);
  free(names);
}

/* ---- Formatting helpers -------------------------------------------------- */

static const char *arch_name(uint32_t m) {
  switch (m) {
  case EM_X86_64: return "x86-64";
  case EM_AARCH64: return "aarch64";
  case EM_386: return "i386";
  case EM_RISCV: return "riscv";
  default: return "unknown";
  }
}

static const char *compression_name(uint32_t c) {
  switch (c) {
  case 0: return "none";
  case 1: return "zstd";
  default: return NULL;
  }
}

static const char *park_name(uint32_t kind) {
  return kind == PARK_POLL   ? "poll"
         : kind == PARK_CALL ? "call"
         : kind == PARK_NONE ? "none"
                             : "unknown";
}

/* JSON names of thread states and call kinds. */
static const char *state_name(uint32_t state) {
  switch (state) {
  case THREAD_PARKED: return "parked";
  case THREAD_IN_CALL: return "in_call";
  case THREAD_NEW: return "new";
  case THREAD_EXITED: return "exited";
  default: return "unknown";
  }
}

static const char *call_kind_name(uint32_t kind) {
  switch (kind) {
  case CALL_CHECKPOINT: return "checkpoint";
  case CALL_REISSUE: return "reissue";
  case CALL_COND_WAIT: return "cond_wait";
  case CALL_SLEEP: return "sleep";
  case CALL_IO: return "io";
  case CALL_COMPLETED: return "io_completed";
  default: return NULL;
  }
}

static const char *file_kind_name(uint32_t kind) {
  return kind <= FILE_KIND_MAX ? file_kind_names[kind] : "unknown";
}

/* The kernel reports O_LARGEFILE in F_GETFL for every file a 64-bit
 * process opens (glibc defines the flag as 0 there): it says nothing, so it
 * is left out of the names (it stays in the JSON "flags" number). */
#define KERNEL_O_LARGEFILE 0100000

/* fcntl(F_GETFL) flags (plus O_CLOEXEC, which the writer adds) as
 * "O_WRONLY|O_APPEND|O_CLOEXEC"; bits without a name as hex. */
static void format_open_flags(int32_t flags, char *out, size_t len) {
  static const struct {
    int flag;
    const char *name;
  } names[] = {
      {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},
      {O_NOCTTY, "O_NOCTTY"},     {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
      {O_SYNC, "O_SYNC"},         {O_DSYNC, "O_DSYNC"},
      {O_ASYNC, "O_ASYNC"},       {O_DIRECT, "O_DIRECT"},
      {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
      {O_NOATIME, "O_NOATIME"},   {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"},
  };
  uint32_t rest = (uint32_t)flags & ~(uint32_t)KERNEL_O_LARGEFILE;
  size_t used = 0;
  const char *mode = (rest & O_ACCMODE) == O_RDONLY   ? "O_RDONLY"
                     : (rest & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                     : (rest & O_ACCMODE) == O_RDWR   ? "O_RDWR"
                                                      : "O_ACCMODE";
  rest &= ~(uint32_t)O_ACCMODE;
  used += (size_t)snprintf(out, len, "%s", mode);
  for (size_t i = 0; i < sizeof names / sizeof *names && used < len; i++) {
    uint32_t f = (uint32_t)names[i].flag;
    /* O_SYNC includes O_DSYNC's bit: whichever matches whole first wins. */
    if ((rest & f) != f)
      continue;
    rest &= ~f;
    used += (size_t)snprintf(out + used, len - used, "|%s", names[i].name);
  }
  if (rest && used < len)
    snprintf(out + used, len - used, "|0x%" PRIx32, rest);
}

/* UTC ISO 8601 with milliseconds, or "" if out of range. */
static void format_time(uint64_t ns, char *out, size_t len) {
  time_t secs = (time_t)(ns / 1000000000ULL);
  struct tm tm;
  char base[64];
  if (!gmtime_r(&secs, &tm) ||
      strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    if (len)
      out[0] = '\0';
    return;
  }
  snprintf(out, len, "%s.%03uZ", base,
           (unsigned)((ns / 1000000ULL) % 1000ULL));
}

/* The file's size and its sections' raw size. The reader has checked that
 * the file is laid out exactly as docs/format.md says, so the size follows
 * from the table: each section at the previous one's end rounded up to 8,
 * then the table. */
static void image_sizes(const struct ckpt_image *img, uint64_t *file_size,
                        uint64_t *raw_total) {
  size_t n = ckpt_image_num_sections(img);
  uint64_t end = CKPT_IMAGE_HEADER_SIZE;
  *raw_total = 0;
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    end = s->offset + s->stored_size;
    end = (end + CKPT_IMAGE_SECTION_ALIGN - 1) &
          ~(uint64_t)(CKPT_IMAGE_SECTION_ALIGN - 1);
    *raw_total += s->raw_size;
  }
  *file_size = end + (uint64_t)n * CKPT_IMAGE_TABLE_ENTRY_SIZE;
}

static const char version1_note[] =
    "section contents of format version 1 are not decoded (this ckpt reads "
    "those of version 2); header, META and section table only";

/* ---- Text output --------------------------------------------------------- */

/* A string as is if it is plain printable text, else quoted with escapes. */
static void text_str(const char *s, int always_quote) {
  int plain = !always_quote && *s;
  for (const char *p = s; plain && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
      plain = 0;
  if (plain) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        printf("\\x%02x", *p);
      else
        putchar(*p);
    }
  }
  putchar('"');
}

static void text_field_str(const char *label, const char *s) {
  printf("  %-12s ", label);
  if (s)
    text_str(s, 0);
  else
    fputs("-", stdout);
  putchar('\n');
}

/* "no TYPE section" for a section type that is absent; returns 1 then. */
static int text_absent(const struct contents *c, uint32_t type,
                       const char *label) {
  if (c->first[type] >= 0)
    return 0;
  printf("%-14s (no %s section)\n", label, ckpt_section_type_name(type));
  return 1;
}

static void print_text_header(const char *path, const struct ckpt_image *img,
                              const struct tool_meta *m) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  uint64_t file_size, raw_total;
  image_sizes(img, &file_size, &raw_total);
  format_time(info->created_ns, when, sizeof when);
  fputs("file:          ", stdout);
  text_str(path, 0);
  putchar('\n');
  printf("format:        version %" PRIu32 "\n", info->version);
  printf("arch:          %s (e_machine %" PRIu32 ")\n", arch_name(info->arch),
         info->arch);
  printf("created:       %s (%" PRIu64 " ns)\n", *when ? when : "invalid",
         info->created_ns);
  printf("sequence:      %" PRIu64 "\n", info->sequence);
  printf("build-id:      %s\n",
         tool_hex(info->build_id, idlen, hex, sizeof hex));
  printf("size:          %" PRIu64 " bytes in the file, %" PRIu64
         " bytes of section data uncompressed\n", file_size, raw_total);

  printf("meta:          %zu records\n", m->num_records);
  text_field_str("exe:", m->exe_path);
  printf("  %-12s ", "argv:");
  if (!m->argv)
    fputs("-", stdout);
  for (size_t i = 0; m->argv && i < m->argc; i++) {
    if (i)
      putchar(' ');
    text_str(m->argv[i], 1);
  }
  putchar('\n');
  text_field_str("cwd:", m->cwd);
  if (m->has_pid)
    printf("  %-12s %" PRIu64 "\n", "pid:", m->pid);
  else
    printf("  %-12s -\n", "pid:");
  text_field_str("dir:", m->dir);
  if (!m->has_interval)
    printf("  %-12s -\n", "interval:");
  else if (m->interval_ms == 0)
    printf("  %-12s none\n", "interval:");
  else
    printf("  %-12s %" PRIu64 ".%03" PRIu64 " s\n", "interval:",
           m->interval_ms / 1000, m->interval_ms % 1000);
  if (m->has_keep)
    printf("  %-12s %" PRIu32 "\n", "keep:", m->keep);
  else
    printf("  %-12s -\n", "keep:");
  if (m->has_personality)
    printf("  %-12s 0x%08" PRIx32 "\n", "personality:", m->personality);
  if (m->has_umask)
    printf("  %-12s %04" PRIo32 "\n", "umask:", m->umask);
  if (m->envp)
    printf("  %-12s %zu variables\n", "environment:", m->envc);
}

/* A function named from the symbols: "name" or "name+0xOFF". */
static void text_symbol(const char *symbol, uint64_t offset) {
  text_str(symbol, 0);
  if (offset)
    printf("+0x%" PRIx64, offset);
}

/* The thread's state in words: how it stopped, or what it waits in. */
static void text_thread_state(const struct thread_info *t) {
  char when[96];
  switch (t->state) {
  case THREAD_PARKED:
    fputs("stopped at a safe point", stdout);
    return;
  case THREAD_NEW:
    fputs("not started yet", stdout);
    return;
  case THREAD_EXITED:
    printf("finished (return value 0x%" PRIx64 ", not yet joined)",
           t->retval);
    return;
  }
  fputs("waiting in ", stdout);
  switch (t->call_kind) {
  case CALL_CHECKPOINT: fputs("ckpt_checkpoint", stdout); break;
  case CALL_REISSUE: fputs("a lock/join/barrier/semaphore wait", stdout); break;
  case CALL_COND_WAIT: fputs("a condition wait", stdout); break;
  case CALL_SLEEP:
    format_time((uint64_t)t->call_deadline_ns, when, sizeof when);
    if (t->call_deadline_ns >= 0 && *when)
      printf("sleep until %s", when);
    else
      printf("sleep until %" PRId64 " ns", t->call_deadline_ns);
    break;
  case CALL_IO: printf("I/O on fd %" PRId32, t->call_fd); break;
  case CALL_COMPLETED:
    printf("I/O on fd %" PRId32 ", finished (result %" PRId64, t->call_fd,
           t->call_result);
    if (t->call_result < 0)
      printf(", errno %" PRId32, t->call_errno);
    putchar(')');
    break;
  default: printf("call kind %" PRIu32, t->call_kind); break;
  }
}

/* Are there start routines or key destructors to name? */
static int threads_have_functions(const struct contents *c) {
  for (uint32_t k = 0; k < c->nthreads; k++)
    if (c->threads[k].start_fn)
      return 1;
  for (uint32_t k = 0; k < c->nkeys; k++)
    if (c->keys[k].destructor)
      return 1;
  return 0;
}

static void print_text_thread(const struct contents *c,
                              const struct thread_info *t) {
  printf("  thread in slot %" PRIu32 ": ", t->slot);
  text_thread_state(t);
  printf(", stack 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes)\n",
         t->stack_lo, t->stack_hi, t->stack_hi - t->stack_lo);
  printf("    %-12s 0x%" PRIx64 "\n", "pthread_t:", t->ptid);
  printf("    %-12s ", "start:");
  if (t->slot == 0) {
    fputs("main", stdout);
  } else {
    if (t->start_symbol) {
      text_symbol(t->start_symbol, t->start_offset);
      printf(" (0x%" PRIx64 ")", t->start_fn);
    } else {
      printf("0x%" PRIx64, t->start_fn);
    }
    printf(", argument 0x%" PRIx64, t->start_arg);
  }
  putchar('\n');
  printf("    %-12s %s\n", "detached:", t->detached ? "yes" : "no");
  if (t->tls_len)
    printf("    %-12s %" PRIu32 " bytes at 0x%" PRIx64 "\n", "TLS:",
           t->tls_len, t->tls_block);
  else
    printf("    %-12s none\n", "TLS:");
  for (uint32_t i = 0; i < t->nkey_set; i++) {
    const struct key_value *kv = &t->key_values[i];
    printf("    key %" PRIu32 " = 0x%" PRIx64 "%s\n", kv->key, kv->value,
           kv->key < c->nkeys && !c->keys[kv->key].alive ? " (deleted key)"
                                                         : "");
  }
  if (t->nframes == 0) {
    puts("    no frames");
    return;
  }
  printf("    %" PRIu32 " frame%s, innermost first:\n", t->nframes,
         t->nframes == 1 ? "" : "s");
  for (uint32_t i = t->nframes; i-- > 0;) {
    const struct frame_info *f = &t->frames[i];
    printf("    #%-2" PRIu32 " ", t->nframes - 1 - i);
    text_str(display_function_name(f->name), 0);
    fputs(" at ", stdout);
    text_str(*f->file ? f->file : "??", 0);
    if (f->line)
      printf(":%" PRIu32, f->line);
    printf(" (site %" PRIu32 ", frame 0x%" PRIx64 ", %" PRIu32 " bytes",
           f->site, f->addr, f->size);
    if (f->excluded)
      printf(", %" PRIu32 " excluded", f->excluded);
    puts(")");
  }
}

static void print_text_threads(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_THREADS, "threads:"))
    return;
  printf("threads:       %" PRIu32 "\n", c->nthreads);
  if (c->symbols_note && threads_have_functions(c)) {
    fputs("  (functions not named: ", stdout);
    text_str(c->symbols_note, 0);
    puts(")");
  }
  for (uint32_t k = 0; k < c->nthreads; k++)
    print_text_thread(c, &c->threads[k]);
  printf("keys:          %" PRIu32 " pthread key%s\n", c->nkeys,
         c->nkeys == 1 ? "" : "s");
  for (uint32_t k = 0; k < c->nkeys; k++) {
    const struct key_info *ki = &c->keys[k];
    printf("  key %" PRIu32 ": %s, ", k, ki->alive ? "alive" : "deleted");
    if (!ki->destructor) {
      puts("no destructor");
      continue;
    }
    fputs("destructor ", stdout);
    if (ki->symbol) {
      text_symbol(ki->symbol, ki->symbol_offset);
      printf(" (0x%" PRIx64 ")\n", ki->destructor);
    } else {
      printf("0x%" PRIx64 "\n", ki->destructor);
    }
  }
}

static void print_text_globals(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_GLOBALS, "globals:"))
    return;
  printf("globals:       %zu, %" PRIu64 " bytes, %" PRIu64 " saved, %" PRIu64
         " excluded\n", c->nglobals, c->globals_size, c->globals_saved,
         c->globals_excluded);
  if (c->nglobals)
    printf("  %-18s %12s %12s %12s  %s\n", "address", "size", "saved",
           "excluded", "name");
  for (size_t i = 0; i < c->nglobals; i++) {
    const struct global_info *g = &c->globals[i];
    printf("  0x%016" PRIx64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "  ",
           g->addr, g->size, g->saved, g->excluded);
    text_str(g->name, 0);
    if (g->flags & CKPT_GLOBAL_EXCLUDED)
      fputs("  [excluded]", stdout);
    putchar('\n');
  }
}

static void print_text_heap(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_HEAP, "heap:"))
    return;
  const struct ckpt_heap_rec *h = &c->heap;
  puts("heap:");
  printf("  %-12s 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes)\n", "arena:",
         heap_base, h->heap_end, h->heap_end - heap_base);
  printf("  %-12s %" PRIu64 " (%" PRIu64 " bytes)\n", "live blocks:",
         h->blocks, h->bytes);
  printf("  %-12s %" PRIu64 " bytes\n", "excluded:", h->excluded_bytes);
  printf("  %-12s %" PRIu64 " bytes in %" PRIu64 " extents\n", "stored:",
         c->heap_stored, c->heap_extents);
}

static void print_text_excluded(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_EXCLUDED, "excluded:"))
    return;
  printf("excluded:      %" PRIu64 " range%s\n", c->nexcluded,
         c->nexcluded == 1 ? "" : "s");
  for (uint64_t i = 0; i < c->nexcluded; i++)
    printf("  0x%016" PRIx64 " %12" PRIu64 " bytes\n", c->excluded[i].addr,
           c->excluded[i].len);
}

static void print_text_hooks(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_HOOKS, "hooks:"))
    return;
  printf("hooks:         %" PRIu64 " restart callback%s\n", c->nhooks,
         c->nhooks == 1 ? "" : "s");
  if (c->nhooks && c->symbols_note) {
    fputs("  (functions not named: ", stdout);
    text_str(c->symbols_note, 0);
    puts(")");
  }
  for (uint64_t i = 0; i < c->nhooks; i++) {
    const struct hook_info *h = &c->hooks[i];
    printf("  #%-2" PRIu64 " 0x%016" PRIx64 " ", i, h->fn);
    if (h->symbol) {
      text_symbol(h->symbol, h->symbol_offset);
    } else {
      fputs("?", stdout);
    }
    printf("(0x%" PRIx64 ")\n", h->arg);
  }
}

static void print_text_files(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_FILES, "files:"))
    return;
  printf("files:         %" PRIu32 "\n", c->nfiles);
  if (c->nfiles)
    printf("  %5s  %-9s %12s %12s  %s\n", "fd", "kind", "offset", "size",
           "flags, path");
  for (uint32_t i = 0; i < c->nfiles; i++) {
    const struct ckpt_file_rec *r = &c->files[i].rec;
    char flags[256];
    format_open_flags(r->flags, flags, sizeof flags);
    printf("  %5" PRId32 "  %-9s %12" PRIu64 " %12" PRIu64 "  %s  ", r->fd,
           file_kind_name(r->kind), r->offset, r->size, flags);
    text_str(c->files[i].path, 1);
    if (r->same_as >= 0)
      printf("  (same as fd %" PRId32 ")", r->same_as);
    putchar('\n');
  }
}

static void print_text_layout(const struct contents *c) {
  if (text_absent(c, CKPT_SEC_LAYOUT, "layout:"))
    return;
  const struct ckpt_layout_rec *l = &c->layout;
  puts("layout:");
  printf("  %-12s 0x%" PRIx64 "-0x%" PRIx64 "\n", "heap:", l->heap_base,
         l->heap_end);
  printf("  %-12s 0x%" PRIx64 ", 0x%" PRIx64 " bytes per slot\n", "stacks:",
         l->stack_base, l->stack_stride);
  printf("  %-12s 0x%" PRIx64 "\n", "bss start:", l->bss_start);
  printf("  %-12s %" PRIu32 "\n", "libraries:", l->nlibs);
  for (uint32_t i = 0; i < l->nlibs; i++) {
    printf("    0x%016" PRIx64 "  ", c->libs[i].base);
    text_str(c->libs[i].path, 0);
    putchar('\n');
  }
}

static void print_text_rtstate(const struct contents *c) {
  if (!text_absent(c, CKPT_SEC_RTSTATE, "rtstate:"))
    printf("rtstate:       %" PRIu64 " bytes of runtime state\n",
           c->rtstate_len);
}

static void print_text_sections(const struct ckpt_image *img) {
  size_t n = ckpt_image_num_sections(img);
  printf("sections:      %zu\n", n);
  printf("  %5s  %-8s %-11s %14s %14s  %s\n", "index", "type", "compression",
         "stored", "raw", "checksum");
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    char type[32], comp[32];
    const char *tn = ckpt_section_type_name(s->type);
    const char *cn = compression_name(s->compression);
    if (strcmp(tn, "unknown") != 0)
      snprintf(type, sizeof type, "%s", tn);
    else
      snprintf(type, sizeof type, "type-%" PRIu32, s->type);
    if (cn)
      snprintf(comp, sizeof comp, "%s", cn);
    else
      snprintf(comp, sizeof comp, "unknown-%" PRIu32, s->compression);
    printf("  %5zu  %-8s %-11s %14" PRIu64 " %14" PRIu64 "  %016" PRIx64 "\n",
           i, type, comp, s->stored_size, s->raw_size, s->checksum);
  }
}

static void print_text(const char *path, const struct ckpt_image *img,
                       const struct contents *c) {
  print_text_header(path, img, &c->meta);
  if (!decodes_contents(img)) {
    printf("note:          %s\n", version1_note);
  } else {
    print_text_threads(c);
    print_text_globals(c);
    print_text_heap(c);
    print_text_excluded(c);
    print_text_hooks(c);
    print_text_files(c);
    print_text_layout(c);
    print_text_rtstate(c);
  }
  for (size_t i = 0; i < c->nrepeated; i++) {
    size_t s = c->repeated[i];
    const char *tn = ckpt_section_type_name(ckpt_image_section(img, s)->type);
    printf("note:          section %zu repeats type %s; only section %ld "
           "(the one a restart reads) is shown\n", s, tn,
           c->first[ckpt_image_section(img, s)->type]);
  }
  print_text_sections(img);
}

/* ---- JSON output --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at P (1-4), or 0 if invalid. */
static int utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  int n;
  uint32_t cp;
  if ((p[0] & 0xe0) == 0xc0) {
    n = 2;
    cp = p[0] & 0x1f;
  } else if ((p[0] & 0xf0) == 0xe0) {
    n = 3;
    cp = p[0] & 0x0f;
  } else if ((p[0] & 0xf8) == 0xf0) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* A JSON string. Bytes that are not valid UTF-8 are written as \u00XX (their
 * Latin-1 reading), so the output is always valid JSON. */
static void json_str(const char *s) {
  putchar('"');
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    int n = utf8_len(p);
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c == '\n') {
      fputs("\\n", stdout);
    } else if (c == '\t') {
      fputs("\\t", stdout);
    } else if (c == '\r') {
      fputs("\\r", stdout);
    } else if (c < 0x20 || c == 0x7f || n == 0) {
      printf("\\u%04x", c);
    } else {
      fwrite(p, 1, (size_t)n, stdout);
      p += n;
      continue;
    }
    p++;
  }
  putchar('"');
}

static void json_opt_str(const char *key, const char *s) {
  printf(",\"%s\":", key);
  if (s)
    json_str(s);
  else
    fputs("null", stdout);
}

static void json_list(const char *key, char **v, size_t n) {
  printf(",\"%s\":", key);
  if (!v) {
    fputs("null", stdout);
    return;
  }
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (i)
      putchar(',');
    json_str(v[i]);
  }
  putchar(']');
}

static void json_opt_u64(const char *key, int has, uint64_t v) {
  if (has)
    printf(",\"%s\":%" PRIu64, key, v);
  else
    printf(",\"%s\":null", key);
}

static void print_json_header(const char *path, const struct ckpt_image *img,
                              const struct tool_meta *m) {
  const struct ckpt_image_info *info = ckpt_image_info(img);
  char hex[2 * CKPT_BUILD_ID_MAX + 8], when[96];
  uint32_t idlen = info->build_id_len > CKPT_BUILD_ID_MAX ? CKPT_BUILD_ID_MAX
                                                           : info->build_id_len;
  uint64_t file_size, raw_total;
  image_sizes(img, &file_size, &raw_total);
  format_time(info->created_ns, when, sizeof when);
  fputs("{\"file\":", stdout);
  json_str(path);
  printf(",\"version\":%" PRIu32 ",\"arch\":%" PRIu32 ",\"arch_name\":\"%s\"",
         info->version, info->arch, arch_name(info->arch));
  json_opt_str("created", *when ? when : NULL);
  printf(",\"created_ns\":%" PRIu64 ",\"sequence\":%" PRIu64, info->created_ns,
         info->sequence);
  printf(",\"build_id\":\"%s\"",
         idlen ? tool_hex(info->build_id, idlen, hex, sizeof hex) : "");
  printf(",\"file_size\":%" PRIu64 ",\"raw_size\":%" PRIu64, file_size,
         raw_total);

  printf(",\"meta\":{\"records\":%zu", m->num_records);
  json_opt_str("exe", m->exe_path);
  json_list("argv", m->argv, m->argc);
  json_opt_str("cwd", m->cwd);
  json_opt_u64("pid", m->has_pid, m->pid);
  json_opt_str("dir", m->dir);
  json_opt_u64("interval_ms", m->has_interval, m->interval_ms);
  json_opt_u64("keep", m->has_keep, m->keep);
  json_opt_u64("personality", m->has_personality, m->personality);
  json_opt_u64("umask", m->has_umask, m->umask);
  json_opt_u64("env_count", m->envp != NULL, m->envc);
  putchar('}');
}

/* ,"KEY": and 1 if the section is there; ,"KEY":null and 0 if not. */
static int json_key(const struct contents *c, uint32_t type, const char *key) {
  printf(",\"%s\":", key);
  if (c->first[type] >= 0)
    return 1;
  fputs("null", stdout);
  return 0;
}

static void json_symbol(const char *key, const char *symbol) {
  printf(",\"%s\":", key);
  if (symbol)
    json_str(symbol);
  else
    fputs("null", stdout);
}

static void print_json_thread(const struct thread_info *t) {
  printf("{\"slot\":%" PRIu32 ",\"state\":%" PRIu32 ",\"state_name\":\"%s\""
         ",\"park_kind\":%" PRIu32 ",\"park\":\"%s\",\"stack_lo\":%" PRIu64
         ",\"stack_hi\":%" PRIu64 ",\"ptid\":%" PRIu64 ",\"start_fn\":%" PRIu64,
         t->slot, t->state, state_name(t->state), t->park_kind,
         park_name(t->park_kind), t->stack_lo, t->stack_hi, t->ptid,
         t->start_fn);
  json_symbol("start_symbol", t->slot == 0 ? "main" : t->start_symbol);
  printf(",\"start_symbol_offset\":%" PRIu64 ",\"start_arg\":%" PRIu64
         ",\"retval\":%" PRIu64 ",\"detached\":%s,\"tls_block\":%" PRIu64
         ",\"tls_len\":%" PRIu32 ",\"call_kind\":%" PRIu32,
         t->start_offset, t->start_arg, t->retval,
         t->detached ? "true" : "false", t->tls_block, t->tls_len,
         t->call_kind);
  const char *ck = call_kind_name(t->call_kind);
  if (ck)
    printf(",\"call_kind_name\":\"%s\"", ck);
  else
    fputs(",\"call_kind_name\":null", stdout);
  printf(",\"call_deadline_ns\":%" PRId64 ",\"call_result\":%" PRId64
         ",\"call_errno\":%" PRId32 ",\"call_fd\":%" PRId32
         ",\"call_counter\":%" PRIu64 ",\"call_value\":%" PRIu64
         ",\"nkey_values\":%" PRIu32 ",\"key_values\":[",
         t->call_deadline_ns, t->call_result, t->call_errno, t->call_fd,
         t->call_counter, t->call_value, t->nkey_values);
  for (uint32_t i = 0; i < t->nkey_set; i++)
    printf("%s{\"key\":%" PRIu32 ",\"value\":%" PRIu64 "}", i ? "," : "",
           t->key_values[i].key, t->key_values[i].value);
  fputs("],\"frames\":[", stdout);
  for (uint32_t i = t->nframes; i-- > 0;) {
    const struct frame_info *f = &t->frames[i];
    fputs(i + 1 < t->nframes ? ",{\"function\":" : "{\"function\":", stdout);
    json_str(display_function_name(f->name));
    fputs(",\"file\":", stdout);
    json_str(f->file);
    printf(",\"line\":%" PRIu32 ",\"site\":%" PRIu32 ",\"desc\":%" PRIu64
           ",\"addr\":%" PRIu64 ",\"size\":%" PRIu32 ",\"excluded\":%" PRIu32
           "}", f->line, f->site, f->desc, f->addr, f->size, f->excluded);
  }
  fputs("]}", stdout);
}

static void print_json_threads(const struct contents *c) {
  if (json_key(c, CKPT_SEC_THREADS, "threads")) {
    putchar('[');
    for (uint32_t k = 0; k < c->nthreads; k++) {
      if (k)
        putchar(',');
      print_json_thread(&c->threads[k]);
    }
    putchar(']');
  }
  if (!json_key(c, CKPT_SEC_THREADS, "keys"))
    return;
  putchar('[');
  for (uint32_t k = 0; k < c->nkeys; k++) {
    const struct key_info *ki = &c->keys[k];
    printf("%s{\"key\":%" PRIu32 ",\"alive\":%s,\"destructor\":%" PRIu64,
           k ? "," : "", k, ki->alive ? "true" : "false", ki->destructor);
    json_symbol("destructor_symbol", ki->symbol);
    printf(",\"destructor_symbol_offset\":%" PRIu64 "}", ki->symbol_offset);
  }
  putchar(']');
}

static void print_json_globals(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_GLOBALS, "globals"))
    return;
  printf("{\"count\":%zu,\"size\":%" PRIu64 ",\"saved\":%" PRIu64
         ",\"excluded\":%" PRIu64 ",\"list\":[", c->nglobals, c->globals_size,
         c->globals_saved, c->globals_excluded);
  for (size_t i = 0; i < c->nglobals; i++) {
    const struct global_info *g = &c->globals[i];
    fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
    json_str(g->name);
    printf(",\"addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"saved\":%" PRIu64
           ",\"excluded\":%" PRIu64 ",\"extents\":%" PRIu64
           ",\"flags\":%" PRIu32
           ",\"excluded_global\":%s}", g->addr, g->size, g->saved, g->excluded,
           g->extents, g->flags,
           g->flags & CKPT_GLOBAL_EXCLUDED ? "true" : "false");
  }
  fputs("]}", stdout);
}

static void print_json_heap(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_HEAP, "heap"))
    return;
  const struct ckpt_heap_rec *h = &c->heap;
  printf("{\"base\":%" PRIu64 ",\"end\":%" PRIu64 ",\"arena_bytes\":%" PRIu64
         ",\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64
         ",\"excluded_bytes\":%" PRIu64 ",\"stored_bytes\":%" PRIu64
         ",\"extents\":%" PRIu64 "}", heap_base, h->heap_end,
         h->heap_end - heap_base, h->blocks, h->bytes, h->excluded_bytes,
         c->heap_stored, c->heap_extents);
}

static void print_json_excluded(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_EXCLUDED, "excluded"))
    return;
  putchar('[');
  for (uint64_t i = 0; i < c->nexcluded; i++)
    printf("%s{\"addr\":%" PRIu64 ",\"len\":%" PRIu64 "}", i ? "," : "",
           c->excluded[i].addr, c->excluded[i].len);
  putchar(']');
}

static void print_json_hooks(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_HOOKS, "hooks"))
    return;
  fputs("{\"symbols_note\":", stdout);
  if (c->nhooks && c->symbols_note)
    json_str(c->symbols_note);
  else
    fputs("null", stdout);
  fputs(",\"list\":[", stdout);
  for (uint64_t i = 0; i < c->nhooks; i++) {
    const struct hook_info *h = &c->hooks[i];
    printf("%s{\"fn\":%" PRIu64 ",\"arg\":%" PRIu64 ",\"symbol\":",
           i ? "," : "", h->fn, h->arg);
    if (h->symbol)
      json_str(h->symbol);
    else
      fputs("null", stdout);
    printf(",\"symbol_offset\":%" PRIu64 "}", h->symbol_offset);
  }
  fputs("]}", stdout);
}

static void print_json_files(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_FILES, "files"))
    return;
  putchar('[');
  for (uint32_t i = 0; i < c->nfiles; i++) {
    const struct ckpt_file_rec *r = &c->files[i].rec;
    char flags[256];
    format_open_flags(r->flags, flags, sizeof flags);
    printf("%s{\"fd\":%" PRId32 ",\"kind\":%" PRIu32
           ",\"kind_name\":\"%s\",\"flags\":%" PRId32 ",\"flags_names\":",
           i ? "," : "", r->fd, r->kind, file_kind_name(r->kind), r->flags);
    json_str(flags);
    printf(",\"offset\":%" PRIu64 ",\"size\":%" PRIu64 ",\"path\":",
           r->offset, r->size);
    json_str(c->files[i].path);
    if (r->same_as >= 0)
      printf(",\"same_as\":%" PRId32 "}", r->same_as);
    else
      fputs(",\"same_as\":null}", stdout);
  }
  putchar(']');
}

static void print_json_layout(const struct contents *c) {
  if (!json_key(c, CKPT_SEC_LAYOUT, "layout"))
    return;
  const struct ckpt_layout_rec *l = &c->layout;
  printf("{\"heap_base\":%" PRIu64 ",\"heap_end\":%" PRIu64
         ",\"stack_base\":%" PRIu64 ",\"stack_stride\":%" PRIu64
         ",\"bss_start\":%" PRIu64 ",\"libraries\":[", l->heap_base,
         l->heap_end, l->stack_base, l->stack_stride, l->bss_start);
  for (uint32_t i = 0; i < l->nlibs; i++) {
    printf("%s{\"base\":%" PRIu64 ",\"path\":", i ? "," : "", c->libs[i].base);
    json_str(c->libs[i].path);
    putchar('}');
  }
  fputs("]}", stdout);
}

static void print_json_sections(const struct ckpt_image *img) {
  fputs(",\"sections\":[", stdout);
  size_t n = ckpt_image_num_sections(img);
  for (size_t i = 0; i < n; i++) {
    const struct ckpt_section_info *s = ckpt_image_section(img, i);
    const char *tn = ckpt_section_type_name(s->type);
    if (strcmp(tn, "unknown") == 0)
      tn = NULL;
    const char *cn = compression_name(s->compression);
    printf("%s{\"index\":%zu,\"type\":%" PRIu32 ",\"type_name\":", i ? "," : "",
           i, s->type);
    if (tn)
      printf("\"%s\"", tn);
    else
      fputs("null", stdout);
    printf(",\"compression\":%" PRIu32 ",\"compression_name\":",
           s->compression);
    if (cn)
      printf("\"%s\"", cn);
    else
      fputs("null", stdout);
    printf(",\"offset\":%" PRIu64 ",\"stored_size\":%" PRIu64
           ",\"raw_size\":%" PRIu64 ",\"checksum\":\"%016" PRIx64 "\"}",
           s->offset, s->stored_size, s->raw_size, s->checksum);
  }
  putchar(']');
}

static void print_json(const char *path, const struct ckpt_image *img,
                       const struct contents *c, int verified) {
  print_json_header(path, img, &c->meta);
  int decoded = decodes_contents(img);
  printf(",\"contents_decoded\":%s", decoded ? "true" : "false");
  json_opt_str("note", decoded ? NULL : version1_note);
  /* In a version 1 file nothing is decoded: every key is null. */
  struct contents none;
  contents_init(&none);
  const struct contents *d = decoded ? c : &none;
  print_json_threads(d);
  print_json_globals(d);
  print_json_heap(d);
  print_json_excluded(d);
  print_json_hooks(d);
  print_json_files(d);
  print_json_layout(d);
  if (decoded && d->first[CKPT_SEC_RTSTATE] >= 0)
    printf(",\"rtstate_bytes\":%" PRIu64, d->rtstate_len);
  else
    fputs(",\"rtstate_bytes\":null", stdout);
  fputs(",\"repeated_sections\":[", stdout);
  for (size_t i = 0; i < c->nrepeated; i++)
    printf("%s%zu", i ? "," : "", c->repeated[i]);
  putchar(']');
  print_json_sections(img);
  if (verified)
    fputs(",\"verify\":\"ok\"", stdout);
  fputs("}\n", stdout);
}

int main(int argc, char **argv) {
  tool_set_name("ckpt-inspect");
  static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int verify = 0, json = 0, c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'v': verify = 1; break;
    case 'j': json = 1; break;
    case 'h': usage(stdout); return 0;
    default:
      if (optopt)
        tool_die(2, "unknown option '-%c' (see ckpt-inspect --help)", optopt);
      tool_die(2, "unknown option '%s' (see ckpt-inspect --help)",
               argv[optind - 1]);
    }
  }
  if (optind >= argc)
    tool_die(2, "missing checkpoint FILE (see ckpt-inspect --help)");
  if (argc - optind > 1)
    tool_die(2, "unexpected argument '%s': one FILE at a time",
             argv[optind + 1]);
  const char *path = argv[optind];

  char err[CKPT_IMAGE_ERRLEN] = "";
  struct ckpt_image *img = ckpt_image_open(path, err, sizeof err);
  if (!img)
    tool_die(1, "%s", *err ? err : "cannot open checkpoint");
  /* Everything is read before anything is printed: a damaged file gives
   * one error line and no partial output. --verify first checks the whole
   * container (sections of unknown types and padding included). */
  if (verify && ckpt_image_verify(img, err, sizeof err) < 0)
    tool_die(1, "%s", *err ? err : "verification failed");
  struct contents contents;
  contents_init(&contents);
  if (load_contents(img, path, verify, &contents, err, sizeof err) < 0)
    tool_die(1, "%s", *err ? err : "cannot read the checkpoint");
  resolve_symbols(img, &contents);

  if (json)
    print_json(path, img, &contents, verify);
  else {
    print_text(path, img, &contents);
    if (verify)
      puts("verify: ok");
  }
  contents_free(&contents);
  ckpt_image_close(img);
  if (fflush(stdout) != 0)
    tool_die(1, "cannot write the output");
  return 0;
}
