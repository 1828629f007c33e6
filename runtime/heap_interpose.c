/* runtime/heap_interpose.c - libc's malloc names, forwarding to heap.c, so ckpt's allocator serves the whole process. */

/*
 * Defined with default visibility in the executable, these interpose
 * glibc's definitions for every caller: the program, libc's own internal
 * calls (strdup, getline, fopen, ...) and ld.so once it has relocated. This
 * is the set glibc's manual lists for replacing malloc. Kept apart from
 * heap.c so the sanitizer-built unit test can link the allocator without
 * replacing the sanitizer's malloc.
 */

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "heap.h"

/* An exclusion (ckpt_exclude) ends with its block and moves with it; with
 * none registered the cost is one load. */
static inline int exclusions_exist(void) {
  return __atomic_load_n(&ckpt_excl_count, __ATOMIC_RELAXED) != 0;
}

#define CKPT_EXPORT __attribute__((visibility("default")))
#define PAGE_SIZE_BYTES 4096u /* x86-64 only */

CKPT_EXPORT void *malloc(size_t size) { return ckpt_heap_malloc(size); }

CKPT_EXPORT void free(void *ptr) {
  if (__builtin_expect(exclusions_exist(), 0))
    ckpt_exclude_block_freed(ptr);
  ckpt_heap_free(ptr);
}

CKPT_EXPORT void *calloc(size_t count, size_t size) {
  return ckpt_heap_calloc(count, size);
}

CKPT_EXPORT void *realloc(void *ptr, size_t size) {
  if (__builtin_expect(exclusions_exist(), 0) && ptr)
    return ckpt_exclude_realloc(ptr, size);
  return ckpt_heap_realloc(ptr, size);
}

CKPT_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(ptr, bytes);
}

CKPT_EXPORT void *memalign(size_t align, size_t size) {
  return ckpt_heap_memalign(align, size);
}

CKPT_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  /* POSIX: the error is the return value and errno is left alone. */
  if (align < sizeof(void *) || (align & (align - 1)))
    return EINVAL;
  int saved_errno = errno;
  void *p = ckpt_heap_memalign(align, size);
  int err = p ? 0 : errno;
  errno = saved_errno;
  if (!p)
    return err;
  *out = p;
  return 0;
}

CKPT_EXPORT void *aligned_alloc(size_t align, size_t size) {
  if (align == 0 || (align & (align - 1))) {
    errno = EINVAL;
    return NULL;
  }
  return ckpt_heap_memalign(align, size);
}

CKPT_EXPORT void *valloc(size_t size) {
  return ckpt_heap_memalign(PAGE_SIZE_BYTES, size);
}

CKPT_EXPORT void *pvalloc(size_t size) {
  size_t rounded;
  if (__builtin_add_overflow(size, PAGE_SIZE_BYTES - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(size_t)(PAGE_SIZE_BYTES - 1);
  return ckpt_heap_memalign(PAGE_SIZE_BYTES,
                            rounded ? rounded : PAGE_SIZE_BYTES);
}

CKPT_EXPORT size_t malloc_usable_size(void *ptr) {
  return ckpt_heap_usable_size(ptr);
}
