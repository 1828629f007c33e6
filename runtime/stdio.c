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
   * duplicate that libc never reads. */
  void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  void **p = libc ? dlsym(libc, "_IO_list_all") : NULL;
  if (libc)
    dlclose(libc);
  return p;
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

int ckpt_stdio_restore(void *saved_head, uintptr_t saved_guard,
                       uintptr_t heap_end, char *msg, size_t msglen) {
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
