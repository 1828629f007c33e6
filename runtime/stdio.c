/* runtime/stdio.c - the program's stdio streams across a restart.
 *
 * FILE objects the program opened (fopen, fmemopen, open_memstream...) live
 * in the application heap and come back with it, but two things about them
 * belong to the C library of the old process:
 *  - libc's list of open streams (_IO_list_all), which exit() and
 *    fflush(NULL) walk: the restarted libc starts with only stdin, stdout and
 *    stderr, so the restored streams are linked back in;
 *  - function pointers that glibc stores mangled with the per-process
 *    pointer guard (the callbacks of fopencookie/fmemopen streams): they are
 *    re-mangled with the new process's guard.
 * The layouts used here are glibc's x86-64 ABI (struct _IO_FILE_plus and
 * _IO_cookie_file), stable since glibc 2.1; docs/libc-state.md.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "rt.h"

/* glibc x86-64: sizeof(FILE) == 216; the vtable pointer follows, then for
 * cookie streams the cookie and the four callbacks. */
#define GLIBC_FILE_VTABLE_OFFSET 216
#define GLIBC_COOKIE_FUNCS_OFFSET 232
#define GLIBC_FILE_CHAIN_OFFSET 104
#define GLIBC_FILE_PREVCHAIN_OFFSET 184
#define GLIBC_PTR_GUARD_TLS_OFFSET 0x30

uintptr_t ckpt_pointer_guard(void) {
  uintptr_t guard;
  __asm__("mov %%fs:%c1, %0" : "=r"(guard) : "i"(GLIBC_PTR_GUARD_TLS_OFFSET));
  return guard;
}

static void **io_list_all(void) {
  /* libc's own definition: the executable may hold a copy-relocated
   * duplicate that libc never reads. Looked up once. */
  static void **list;
  if (!list) {
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (libc) {
      list = dlsym(libc, "_IO_list_all");
      dlclose(libc);
    }
  }
  return list;
}

void *ckpt_stdio_list_head(void) {
  void **head = io_list_all();
  return head ? *head : NULL;
}

static uintptr_t mangle(uintptr_t v, uintptr_t guard) {
  v ^= guard;
  return (v << 0x11) | (v >> (64 - 0x11));
}

static uintptr_t demangle(uintptr_t v, uintptr_t guard) {
  v = (v >> 0x11) | (v << (64 - 0x11));
  return v ^ guard;
}

static ssize_t no_read(void *c, char *b, size_t n) {
  (void)c, (void)b, (void)n;
  return 0;
}

/* Address of glibc's (hidden) vtable of cookie streams. */
static const void *cookie_vtable(void) {
  cookie_io_functions_t fns = {no_read, NULL, NULL, NULL};
  FILE *f = fopencookie(NULL, "r", fns);
  if (!f)
    return NULL;
  const void *vt = *(const void **)((char *)f + GLIBC_FILE_VTABLE_OFFSET);
  fclose(f);
  return vt;
}

static int in_app_heap(const void *p, uintptr_t heap_end) {
  return (uintptr_t)p >= CKPT_HEAP_BASE && (uintptr_t)p + 256 <= heap_end;
}

/* stdout and stderr are glibc's own objects, not restored. Flushing them at
 * a checkpoint would change the program's output (the order of stdout's
 * buffered bytes against stderr's in `2>&1`), so their buffering mode and
 * the bytes waiting in their buffers are saved instead and put back into
 * the new process's streams, which then flush exactly when the old ones
 * would have. */
#define PENDING_MAX 65536
struct std_stream_state {
  int captured;
  int mode;        /* _IOFBF, _IOLBF or _IONBF */
  size_t bufsize;  /* 0: no buffer allocated yet */
  size_t pending;  /* bytes waiting in the buffer */
  char bytes[PENDING_MAX];
};
static struct std_stream_state std_streams[2] CKPT_RTSTATE_VAR;

/* glibc's _flags bits (libio.h). */
#define GLIBC_IO_UNBUFFERED 0x0002
#define GLIBC_IO_LINE_BUF 0x0200

static void capture_stream(FILE *f, struct std_stream_state *st) {
  st->captured = 1;
  st->mode = (f->_flags & GLIBC_IO_UNBUFFERED) ? _IONBF
             : (f->_flags & GLIBC_IO_LINE_BUF) ? _IOLBF
                                                : _IOFBF;
  st->bufsize = f->_IO_buf_base ? (size_t)(f->_IO_buf_end - f->_IO_buf_base) : 0;
  st->pending = 0;
  if (f->_IO_write_base && f->_IO_write_ptr > f->_IO_write_base) {
    size_t n = (size_t)(f->_IO_write_ptr - f->_IO_write_base);
    if (n <= PENDING_MAX) {
      memcpy(st->bytes, f->_IO_write_base, n);
      st->pending = n;
    } else {
      /* A huge setvbuf buffer: exactness gives way. Only if no stopped
       * thread holds the stream (this runs on the coordinator). */
      if (ftrylockfile(f) == 0) {
        fflush_unlocked(f);
        funlockfile(f);
      }
    }
  }
}

void ckpt_stdio_capture(void) {
  /* With every application thread stopped (none is inside stdio: stdio
   * calls are never safe points), so the buffers are quiescent. */
  capture_stream(stdout, &std_streams[0]);
  capture_stream(stderr, &std_streams[1]);
}

static void restore_stream(FILE *f, const struct std_stream_state *st) {
  if (!st->captured)
    return;
  if (st->bufsize || st->mode == _IONBF)
    setvbuf(f, NULL, st->mode, st->bufsize ? st->bufsize : BUFSIZ);
  if (st->pending)
    fwrite(st->bytes, 1, st->pending, f);
}

int ckpt_stdio_restore(void *saved_head, uintptr_t saved_guard,
                       uintptr_t heap_end, char *msg, size_t msglen) {
  restore_stream(stdout, &std_streams[0]);
  restore_stream(stderr, &std_streams[1]);
  void **head = io_list_all();
  if (!head) {
    snprintf(msg, msglen, "cannot find glibc's list of streams");
    return -1;
  }
  const void *cookie_vt = cookie_vtable();
  uintptr_t guard = ckpt_pointer_guard();
  const char *stdfiles[] = {(const char *)stdin, (const char *)stdout,
                            (const char *)stderr};
  unsigned long n = 0;
  for (char *fp = saved_head; fp; n++) {
    if (fp == stdfiles[0] || fp == stdfiles[1] || fp == stdfiles[2])
      break; /* the rest of the chain is the new libc's own */
    if (!in_app_heap(fp, heap_end) || n > 1000000) {
      snprintf(msg, msglen, "stream list of the checkpoint is damaged at %p",
               (void *)fp);
      return -1;
    }
    if (cookie_vt &&
        *(const void **)(fp + GLIBC_FILE_VTABLE_OFFSET) == cookie_vt) {
      /* fmemopen's callbacks are libc's own functions, which may be
       * elsewhere now (the writer looked at them: ckpt_stdio_cookie_funcs). */
      uintptr_t *fns = (uintptr_t *)(fp + GLIBC_COOKIE_FUNCS_OFFSET);
      for (int i = 0; i < 4; i++) {
        uint64_t fn = demangle(fns[i], saved_guard);
        if (fn && ckpt_reloc_value(&fn, "a stdio cookie stream's callback",
                                   msg, msglen) != 0)
          return -1;
        fns[i] = mangle((uintptr_t)fn, guard);
      }
    }
    fp = *(char **)(fp + GLIBC_FILE_CHAIN_OFFSET);
  }
  if (!saved_head)
    return 0;
  /* glibc 2.41 and later also link each stream back to the pointer that
   * points at it (_prevchain, where older glibc has padding), and check it
   * when a stream leaves the list. The streams saved by another glibc have
   * none, and the new libc's first stream is now behind them. */
  int uses_prevchain =
      *head && *(void **)((char *)*head + GLIBC_FILE_PREVCHAIN_OFFSET) ==
                   (void *)head;
  *head = saved_head;
  if (uses_prevchain) {
    void **link = head;
    for (char *fp = saved_head; fp; fp = *(char **)(fp + GLIBC_FILE_CHAIN_OFFSET)) {
      *(void ***)(fp + GLIBC_FILE_PREVCHAIN_OFFSET) = link;
      if (fp == stdfiles[0] || fp == stdfiles[1] || fp == stdfiles[2])
        break; /* the new libc's own: linked among themselves */
      link = (void **)(fp + GLIBC_FILE_CHAIN_OFFSET);
    }
  }
  return 0;
}

/* ---- Anchors: libc's private objects a restart can find again ------------
 * The FILEs of fopencookie, fmemopen, open_memstream, open_wmemstream and
 * fopen's "m" mode point at vtables (and wide-character state) glibc does
 * not export, so relocate.c cannot name them by symbol in another build of
 * libc. Each is named instead by a stream of the same kind made here and
 * the field that holds it: "stdio:memstream+216" is the vtable of an
 * open_memstream FILE, in this process's libc. */
#define GLIBC_FILE_WIDE_DATA_OFFSET 160
#define GLIBC_FILE_SCANNED 224       /* struct _IO_FILE and the vtable */
#define GLIBC_WIDE_DATA_SCANNED 232  /* sizeof (struct _IO_wide_data) */

static void anchor_words(const char *kind, const void *obj, size_t len,
                         uintptr_t lo, uintptr_t hi, struct ckpt_anchor *out,
                         size_t cap, size_t *n) {
  for (size_t off = 0; off + 8 <= len && *n < cap; off += 8) {
    uintptr_t v;
    memcpy(&v, (const char *)obj + off, 8);
    if (v < lo || v >= hi)
      continue;
    struct ckpt_anchor *a = &out[(*n)++];
    snprintf(a->name, sizeof a->name, "stdio:%s+%zu", kind, off);
    a->value = v;
  }
}

/* The cookie streams' vtable (fopencookie's, fmemopen's), in this libc. */
static const void *anchored_cookie_vtable;

static void anchor_stream(const char *kind, FILE *f, uintptr_t lo,
                          uintptr_t hi, struct ckpt_anchor *out, size_t cap,
                          size_t *n) {
  if (!f)
    return;
  anchor_words(kind, f, GLIBC_FILE_SCANNED, lo, hi, out, cap, n);
  const void *vt = *(const void **)((const char *)f + GLIBC_FILE_VTABLE_OFFSET);
  if (vt == anchored_cookie_vtable) {
    /* Its callbacks, mangled in the FILE: fmemopen's are libc's. */
    uint64_t fns[4];
    const uintptr_t *mangled =
        (const uintptr_t *)((const char *)f + GLIBC_COOKIE_FUNCS_OFFSET);
    for (int i = 0; i < 4; i++)
      fns[i] = demangle(mangled[i], ckpt_pointer_guard());
    char fkind[32];
    snprintf(fkind, sizeof fkind, "%s.funcs", kind);
    anchor_words(fkind, fns, sizeof fns, lo, hi, out, cap, n);
  }
  const char *wide;
  memcpy(&wide, (const char *)f + GLIBC_FILE_WIDE_DATA_OFFSET, sizeof wide);
  /* Streams without wide data hold -1 there (cookie streams). */
  if (wide && (uintptr_t)wide + 1 > 4096) {
    char wkind[32];
    snprintf(wkind, sizeof wkind, "%s.wide", kind);
    anchor_words(wkind, wide, GLIBC_WIDE_DATA_SCANNED, lo, hi, out, cap, n);
  }
  fclose(f);
}

size_t ckpt_stdio_anchors(uintptr_t libc_lo, uintptr_t libc_hi,
                          struct ckpt_anchor *out, size_t cap) {
  /* The runtime's heap: these streams are never the program's. */
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  size_t n = 0;
  cookie_io_functions_t fns = {no_read, NULL, NULL, NULL};
  char *buf = NULL;
  wchar_t *wbuf = NULL;
  size_t len = 0;
  char mem[16];
  anchored_cookie_vtable = cookie_vtable();
  anchor_stream("cookie", fopencookie(NULL, "r", fns), libc_lo, libc_hi, out,
                cap, &n);
  anchor_stream("fmemopen", fmemopen(mem, sizeof mem, "r"), libc_lo, libc_hi,
                out, cap, &n);
  anchor_stream("memstream", open_memstream(&buf, &len), libc_lo, libc_hi,
                out, cap, &n);
  free(buf);
  anchor_stream("wmemstream", open_wmemstream(&wbuf, &len), libc_lo, libc_hi,
                out, cap, &n);
  free(wbuf);
  anchor_stream("fopen-m", fopen("/dev/null", "rm"), libc_lo, libc_hi, out,
                cap, &n);
  /* An "m" stream that has read switches to another vtable: a regular
   * file can be mapped (the executable itself). */
  FILE *m = fopen("/proc/self/exe", "rm");
  if (m && fgetc(m) != EOF)
    anchor_stream("fopen-m-read", m, libc_lo, libc_hi, out, cap, &n);
  else if (m)
    fclose(m);
  ckpt_heap_use_app = saved;
  return n;
}

size_t ckpt_stdio_cookie_funcs(void *head, uintptr_t heap_end, uint64_t *out,
                               size_t cap) {
  size_t n = 0;
  if (!anchored_cookie_vtable)
    return 0;
  unsigned long seen = 0;
  for (char *fp = head; fp && in_app_heap(fp, heap_end) && seen < 1000000;
       seen++) {
    if (*(const void **)(fp + GLIBC_FILE_VTABLE_OFFSET) ==
        anchored_cookie_vtable) {
      const uintptr_t *fns = (const uintptr_t *)(fp + GLIBC_COOKIE_FUNCS_OFFSET);
      for (int i = 0; i < 4 && n < cap; i++)
        out[n++] = demangle(fns[i], ckpt_pointer_guard());
    }
    fp = *(char **)(fp + GLIBC_FILE_CHAIN_OFFSET);
  }
  return n;
}
