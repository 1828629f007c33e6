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
#include <string.h>
#include <sys/types.h>

#include "rt.h"

/* glibc x86-64: sizeof(FILE) == 216; the vtable pointer follows, then for
 * cookie streams the cookie and the four callbacks. */
#define GLIBC_FILE_VTABLE_OFFSET 216
#define GLIBC_COOKIE_FUNCS_OFFSET 232
#define GLIBC_FILE_CHAIN_OFFSET 104
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
      uintptr_t *fns = (uintptr_t *)(fp + GLIBC_COOKIE_FUNCS_OFFSET);
      for (int i = 0; i < 4; i++)
        fns[i] = mangle(demangle(fns[i], saved_guard), guard);
    }
    fp = *(char **)(fp + GLIBC_FILE_CHAIN_OFFSET);
  }
  if (saved_head)
    *head = saved_head;
  return 0;
}
