/* runtime/util.c - error reporting, fd and memory helpers shared by libckpt. */
#include <elf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"

const char *ckpt_msg_prefix = "ckpt";

/* While a restart restores the program, the stderr `ckpt-run --restart` was
 * given: the program's own stderr comes back as the file it was when
 * checkpointed, and whoever ran the restart must see why it failed. */
static int launcher_stderr = -1;

void ckpt_launcher_stderr_keep(void) {
  int fd = fcntl(2, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0)
    launcher_stderr = ckpt_hide_fd(fd);
}

void ckpt_launcher_stderr_release(void) {
  int fd = __atomic_exchange_n(&launcher_stderr, -1, __ATOMIC_SEQ_CST);
  if (fd >= 0) {
    ckpt_unregister_runtime_fd(fd);
    close(fd);
  }
}

static int same_file(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

static void vmsg(const char *level, const char *fmt, va_list ap) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s: %s: ", ckpt_msg_prefix, level);
  if (n < 0)
    return;
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  if (m < 0)
    return;
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  ckpt_write_all(2, line, len);
  int launcher = launcher_stderr;
  if (launcher >= 0 && !same_file(2, launcher))
    ckpt_write_all(launcher, line, len);
}

void ckpt_msg(const char *level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg(level, fmt, ap);
  va_end(ap);
}

void ckpt_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("error", fmt, ap);
  va_end(ap);
  _exit(70);
}

int ckpt_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int ckpt_hide_fd(int fd) {
  /* The program must see the same descriptor numbers as in a plain run, so
   * the runtime's own descriptors live far above the usual range. */
  struct rlimit rl;
  long floor = 1000;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (long)rl.rlim_cur <= floor + 16)
    floor = (long)rl.rlim_cur / 2;
  int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)floor);
  if (hi < 0) {
    ckpt_register_runtime_fd(fd);
    return fd;
  }
  close(fd);
  ckpt_register_runtime_fd(hi);
  return hi;
}

struct build_id_search {
  uint8_t *out;
  size_t max, len;
  uintptr_t within; /* an address in the object; 0: the executable */
};

size_t ckpt_phdr_build_id(const struct dl_phdr_info *info, uint8_t *out,
                          size_t max) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE)
      continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    const char *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const char *name = p + sizeof *nh;
      const char *desc = name + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
          memcmp(name, "GNU", 4) == 0) {
        size_t len = nh->n_descsz < max ? nh->n_descsz : max;
        memcpy(out, desc, len);
        return len;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return 0;
}

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct build_id_search *s = data;
  if (s->within && !ckpt_object_holds(info, s->within))
    return 0;
  /* Otherwise the first object, which is the executable. */
  s->len = ckpt_phdr_build_id(info, s->out, s->max);
  return 1;
}

size_t ckpt_self_build_id(uint8_t *out, size_t max) {
  struct build_id_search s = {out, max, 0, 0};
  dl_iterate_phdr(find_build_id, &s);
  return s.len;
}

size_t ckpt_object_build_id(uintptr_t within, uint8_t *out, size_t max) {
  struct build_id_search s = {out, max, 0, within};
  dl_iterate_phdr(find_build_id, &s);
  return s.len;
}

/* Pages never touched are absent from /proc/self/pagemap (bit 63 present,
 * bit 62 swapped); they hold zeros and need neither saving nor reading. */
#define PAGEMAP_BATCH 512

/* /proc/self/pagemap of the process that opened it: a descriptor inherited
 * across fork() would show the parent's pages, not the writer's frozen copy,
 * so it is closed (ckpt_pagemap_close) before any fork and in the child. */
static int pagemap_fd = -2;

void ckpt_pagemap_close(void) {
  if (pagemap_fd >= 0) {
    ckpt_unregister_runtime_fd(pagemap_fd);
    close(pagemap_fd);
  }
  pagemap_fd = -2;
}

int ckpt_for_each_data_range(uintptr_t addr, size_t len, int trust_absent,
                             int (*emit)(void *ctx, uintptr_t a, size_t n),
                             void *ctx) {
  const uintptr_t page = 4096;
  if (pagemap_fd == -2) {
    pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap_fd >= 0)
      pagemap_fd = ckpt_hide_fd(pagemap_fd);
  }
  uintptr_t end = addr + len, run_start = 0;
  int in_run = 0;
  uint64_t entries[PAGEMAP_BATCH];
  uintptr_t batch_first = 0;
  size_t batch_n = 0;
  for (uintptr_t p = addr; p < end;) {
    uintptr_t pg = p & ~(page - 1);
    uintptr_t next = pg + page < end ? pg + page : end;
    int present = 1;
    if (trust_absent && pagemap_fd >= 0) {
      uintptr_t idx = pg / page;
      if (batch_n == 0 || idx < batch_first || idx >= batch_first + batch_n) {
        ssize_t got = pread(pagemap_fd, entries, sizeof entries,
                            (off_t)(idx * sizeof(uint64_t)));
        batch_first = idx;
        batch_n = got > 0 ? (size_t)got / sizeof(uint64_t) : 0;
      }
      if (batch_n > 0) {
        uint64_t e = entries[idx - batch_first];
        present = (e >> 63) & 1 || (e >> 62) & 1;
        if (trust_absent == CKPT_PAGES_CHANGED)
          present = present && !((e >> 61) & 1); /* not the file's page */
      }
    }
    int data = 0;
    if (trust_absent == CKPT_PAGES_CHANGED) {
      /* A changed page of a file mapping is data even if zero: the file's
       * page under it need not be. */
      data = present;
    } else if (present) {
      uintptr_t b = p;
      for (; b < next && (b & 7); b++)
        if (*(const unsigned char *)b) {
          data = 1;
          break;
        }
      for (; !data && b + 8 <= next; b += 8)
        if (*(const uint64_t *)b) {
          data = 1;
          break;
        }
      for (; !data && b < next; b++)
        if (*(const unsigned char *)b)
          data = 1;
    }
    if (data && !in_run) {
      run_start = p;
      in_run = 1;
    } else if (!data && in_run) {
      int rc = emit(ctx, run_start, p - run_start);
      if (rc)
        return rc;
      in_run = 0;
    }
    p = next;
  }
  if (in_run)
    return emit(ctx, run_start, end - run_start);
  return 0;
}

void *ckpt_libc_function(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p)
    ckpt_fatal("cannot find libc's %s", name);
  return p;
}

/* Grow an mmap'ed array to hold `need` elements of `elem` bytes. */
int ckpt_grow_mapped_array(void **array, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 256;
  while (ncap < need)
    ncap *= 2;
  void *p = mmap(NULL, ncap * elem, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return -1;
  if (*array) {
    memcpy(p, *array, *cap * elem);
    munmap(*array, *cap * elem);
  }
  *array = p;
  *cap = ncap;
  return 0;
}
