/* runtime/mappings.c - memory the program maps itself (mmap, munmap,
 * mremap): where it goes, which ranges are the program's, and what a
 * checkpoint saves of them and a restart maps again.
 *
 * The pass sends the program's own uses of mmap, mmap64, munmap and mremap
 * here (CKPT_REDIRECTED_FUNCTIONS in abi.h); the runtime's and the
 * libraries' calls are not redirected, and their mappings are not saved
 * (a library's state comes back by its own initialisation, as its globals
 * do). What is kept is only the set of address ranges the program mapped;
 * everything else about them (protection, shared or private, the file and
 * offset behind them, whether it was deleted) is read from /proc/self/maps
 * when a checkpoint is written, so an mprotect or a partial munmap made by
 * any means is seen as it is.
 *
 * Placement. A program's mapping must come back at the same address, and in
 * a restarted process the kernel's usual place for new mappings (below the
 * shared libraries) is where the restart's own buffers and libraries' data
 * went. So a mapping the program lets the kernel place (no address, or a hint
 * that is not free) goes into the map area instead: CKPT_MMAP_MAX bytes of
 * address space at CKPT_MMAP_BASE, far below where the kernel places
 * mappings itself, in which this file picks the address (first fit, large
 * mappings 2 MiB-aligned so that transparent huge pages still apply) and
 * maps with MAP_FIXED_NOREPLACE, so nothing else is ever clobbered. The area
 * is not reserved: munmap and mremap behave exactly as without ckpt (a hole
 * is unmapped, msync says so), and a restart maps the pieces back with
 * MAP_FIXED_NOREPLACE too. Mappings at addresses the program chose
 * (MAP_FIXED) stay where they are and are tracked as well; a restart fails
 * with one line naming the range if something else holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt.h"
#include "sections.h"

#define PAGE 4096u
#define HUGE_ALIGN ((uintptr_t)2 << 20)
#define AREA_LO ((uintptr_t)CKPT_MMAP_BASE)
#define AREA_HI ((uintptr_t)(CKPT_MMAP_BASE + CKPT_MMAP_MAX))

/* The program's ranges: sorted, disjoint, page-aligned. In memory of the
 * runtime's own (not a heap: it is rebuilt at a restart from the checkpoint,
 * not restored). */
struct range {
  uintptr_t lo, hi;
};
static struct range *ranges;
static size_t nranges, cap_ranges;
static int table_lock; /* 0 free, 1 held: a spin-and-yield lock; rarely contended */

static void lock(void) {
  while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
    ckpt_sched_yield_raw();
}
static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

/* A fork while another thread changes the table would leave the child a
 * table half changed and a lock nobody releases: hold it across fork. */
__attribute__((constructor)) static void register_fork_handlers(void) {
  pthread_atfork(lock, unlock, unlock);
}

static uintptr_t page_up(uintptr_t a) { return (a + PAGE - 1) & ~(uintptr_t)(PAGE - 1); }
static int in_area(uintptr_t lo, uintptr_t hi) { return lo >= AREA_LO && hi <= AREA_HI; }

/* Claim [lo, hi) of the map area for a mapping about to be moved there
 * (mremap with MREMAP_FIXED replaces what it lands on: make sure that is
 * nothing but this claim). */
static int claim(uintptr_t lo, uintptr_t hi) {
  void *p = mmap((void *)lo, hi - lo, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                     MAP_FIXED_NOREPLACE,
                 -1, 0);
  if (p == (void *)lo)
    return 0;
  if (p != MAP_FAILED) /* a kernel without MAP_FIXED_NOREPLACE */
    munmap(p, hi - lo);
  return -1;
}

static int grow_table(size_t need) {
  return ckpt_grow_mapped_array((void **)&ranges, &cap_ranges, need,
                                sizeof *ranges);
}

/* Forget [lo, hi): cut it out of every range it overlaps. */
static int remove_range(uintptr_t lo, uintptr_t hi) {
  if (grow_table(nranges + 1))
    return -1;
  for (size_t i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (r->hi <= lo || r->lo >= hi)
      continue;
    if (r->lo < lo && r->hi > hi) { /* a hole in the middle: split */
      memmove(&ranges[i + 2], &ranges[i + 1],
              (nranges - i - 1) * sizeof *ranges);
      ranges[i + 1] = (struct range){hi, r->hi};
      r->hi = lo;
      nranges++;
      return 0;
    }
    if (r->lo < lo) {
      r->hi = lo;
    } else if (r->hi > hi) {
      r->lo = hi;
    } else { /* wholly inside: drop it */
      memmove(r, r + 1, (nranges - i - 1) * sizeof *ranges);
      nranges--;
      i--;
    }
  }
  return 0;
}

/* Remember [lo, hi) as the program's (merging with neighbours). */
static int add_range(uintptr_t lo, uintptr_t hi) {
  if (remove_range(lo, hi) || grow_table(nranges + 1))
    return -1;
  size_t i = 0;
  while (i < nranges && ranges[i].lo < lo)
    i++;
  memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof *ranges);
  ranges[i] = (struct range){lo, hi};
  nranges++;
  /* Merge with the neighbours it touches. */
  if (i + 1 < nranges && ranges[i + 1].lo == hi) {
    ranges[i].hi = ranges[i + 1].hi;
    memmove(&ranges[i + 1], &ranges[i + 2], (nranges - i - 2) * sizeof *ranges);
    nranges--;
  }
  if (i > 0 && ranges[i - 1].hi == lo) {
    ranges[i - 1].hi = ranges[i].hi;
    memmove(&ranges[i], &ranges[i + 1], (nranges - i - 1) * sizeof *ranges);
    nranges--;
  }
  return 0;
}

/* Whether [lo, hi) overlaps no range of the program. */
static int range_free(uintptr_t lo, uintptr_t hi) {
  for (size_t i = 0; i < nranges; i++)
    if (ranges[i].lo < hi && ranges[i].hi > lo)
      return 0;
  return 1;
}

/* A free place for len bytes in the map area (first fit), or 0. */
static uintptr_t area_place(size_t len) {
  uintptr_t align = len >= HUGE_ALIGN ? HUGE_ALIGN : PAGE;
  uintptr_t at = AREA_LO; /* the start of the current gap */
  for (size_t i = 0; i <= nranges; i++) {
    uintptr_t gap_end = i < nranges ? ranges[i].lo : AREA_HI;
    if (gap_end > AREA_HI)
      gap_end = AREA_HI;
    uintptr_t cand = (at + align - 1) & ~(align - 1);
    if (cand < gap_end && gap_end - cand >= len)
      return cand;
    if (i < nranges && ranges[i].hi > at)
      at = ranges[i].hi;
    if (at >= AREA_HI)
      break;
  }
  return 0;
}

void *CKPT_NAME(program_mmap)(void *addr, size_t len, int prot, int flags,
                              int fd, off_t off) {
  if (len == 0 || len > AREA_HI - AREA_LO)
    return mmap(addr, len, prot, flags, fd, off); /* the kernel's answer */
  size_t plen = page_up(len);
  uintptr_t want = (uintptr_t)addr;
  lock();
  void *p = MAP_FAILED;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    p = mmap(addr, len, prot, flags, fd, off);
  } else {
    uintptr_t at;
    if (want && !(want & (PAGE - 1)) && in_area(want, want + plen) &&
        range_free(want, want + plen))
      at = want; /* a hint inside the area that is free: honour it */
    else
      at = area_place(plen);
    if (at) {
      p = mmap((void *)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
      if (p != MAP_FAILED && p != (void *)at) { /* kernel before 4.17 */
        munmap(p, len);
        p = MAP_FAILED;
      }
    }
    /* Area full, or something foreign there: where the kernel likes (a
     * restart may then find the place taken, and say so). */
    if (p == MAP_FAILED)
      p = mmap(addr, len, prot, flags, fd, off);
  }
  if (p != MAP_FAILED && add_range((uintptr_t)p, (uintptr_t)p + plen) != 0)
    CKPT_WARN("out of memory to track the program's mapping at %p: it will "
              "not be in checkpoints",
              p);
  unlock();
  return p;
}

int CKPT_NAME(program_munmap)(void *addr, size_t len) {
  uintptr_t lo = (uintptr_t)addr, hi = page_up(lo + len);
  if (len == 0 || (lo & (PAGE - 1)) || hi < lo)
    return munmap(addr, len); /* EINVAL, as the kernel says it */
  lock();
  int rc = munmap(addr, len);
  if (rc == 0)
    remove_range(lo, hi);
  unlock();
  if (rc == 0)
    ckpt_exclude_range_gone(lo, hi);
  return rc;
}

void *CKPT_NAME(program_mremap)(void *old, size_t old_len, size_t new_len,
                                int flags, ...) {
  void *new_addr = NULL;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_addr = va_arg(ap, void *);
    va_end(ap);
  }
  uintptr_t lo = (uintptr_t)old;
  size_t old_p = page_up(old_len), new_p = page_up(new_len);
  lock();
  int tracked = !range_free(lo, lo + (old_p ? old_p : PAGE));
  void *p = MAP_FAILED;
  if (!tracked || !in_area(lo, lo + old_p) || old_len == 0 ||
      (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) || new_p <= old_p) {
    /* Outside the area, the program says where, or no move needed: the
     * kernel decides. */
    p = (flags & MREMAP_FIXED) ? mremap(old, old_len, new_len, flags, new_addr)
                               : mremap(old, old_len, new_len, flags);
  } else {
    /* Growth in the area: in place if the kernel can, else moved to a
     * place in the area (claimed first: MREMAP_FIXED replaces mappings). */
    p = mremap(old, old_len, new_len, 0);
    if (p == MAP_FAILED && (flags & MREMAP_MAYMOVE)) {
      uintptr_t at = area_place(new_p);
      if (at && claim(at, at + new_p) == 0) {
        p = mremap(old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED,
                   (void *)at);
        if (p == MAP_FAILED)
          munmap((void *)at, new_p);
      } else {
        p = mremap(old, old_len, new_len, flags);
      }
    }
  }
  int moved = p != MAP_FAILED && tracked && p != old;
  if (p != MAP_FAILED && tracked) {
    if (!(flags & MREMAP_DONTUNMAP))
      remove_range(lo, lo + old_p);
    if (add_range((uintptr_t)p, (uintptr_t)p + new_p) != 0)
      CKPT_WARN("out of memory to track the program's mapping at %p: it "
                "will not be in checkpoints",
                p);
  }
  unlock();
  if (moved) /* an exclusion stays with its address, not the data */
    ckpt_exclude_range_gone(lo, lo + old_p);
  else if (p != MAP_FAILED && tracked && new_p < old_p)
    ckpt_exclude_range_gone(lo + new_p, lo + old_p);
  return p;
}

/* The program's break: memory from sbrk and brk is the pages from the
 * first break (brk_start, 0 until the program moves it) to the current one,
 * tracked as one of its ranges. (malloc is ckpt's own, so nothing but the
 * program moves the break.) */
static uintptr_t brk_start, brk_tracked_hi;

static void track_break(uintptr_t old_break) {
  if (!brk_start)
    brk_start = old_break;
  uintptr_t lo = page_up(brk_start), hi = page_up((uintptr_t)sbrk(0));
  if (brk_tracked_hi > lo)
    remove_range(lo, brk_tracked_hi);
  brk_tracked_hi = 0;
  if (hi > lo && add_range(lo, hi) == 0)
    brk_tracked_hi = hi;
}

void *CKPT_NAME(program_sbrk)(intptr_t increment) {
  lock();
  void *old = sbrk(increment);
  if (old != (void *)-1 && increment != 0)
    track_break((uintptr_t)old);
  unlock();
  return old;
}

int CKPT_NAME(program_brk)(void *addr) {
  lock();
  uintptr_t old = (uintptr_t)sbrk(0);
  int rc = brk(addr);
  if (rc == 0)
    track_break(old);
  unlock();
  return rc;
}

int ckpt_mappings_find(uintptr_t lo, uintptr_t hi) {
  int found = 0;
  lock();
  for (size_t i = 0; i < nranges && !found; i++)
    if (ranges[i].lo <= lo && lo < ranges[i].hi)
      found = hi <= ranges[i].hi ? 1 : -1;
  unlock();
  return found;
}

/* ---- Checkpoint --------------------------------------------------------- */

/* One line of /proc/self/maps. */
struct maps_line {
  uintptr_t lo, hi;
  char perms[5];
  uint64_t offset;
  const char *path; /* "" for anonymous memory */
};

static int parse_maps_line(char *line, struct maps_line *m) {
  unsigned long lo, hi;
  unsigned long long off;
  int pos = 0;
  if (sscanf(line, "%lx-%lx %4s %llx %*s %*s%n", &lo, &hi, m->perms, &off,
             &pos) != 4)
    return -1;
  char *path = line + pos;
  while (*path == ' ')
    path++;
  size_t n = strlen(path);
  if (n && path[n - 1] == '\n')
    path[n - 1] = 0;
  m->lo = lo;
  m->hi = hi;
  m->offset = off;
  m->path = path;
  return 0;
}

int ckpt_mappings_for_each(int (*fn)(void *ctx,
                                     const struct ckpt_mapping_piece *piece),
                           void *ctx) {
  if (nranges == 0)
    return 0;
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f)
    return -1;
  char line[4096 + 256];
  int rc = 0;
  size_t i = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    struct maps_line m;
    if (parse_maps_line(line, &m) != 0)
      continue;
    for (; i < nranges && ranges[i].hi <= m.lo; i++)
      ;
    for (size_t j = i; rc == 0 && j < nranges && ranges[j].lo < m.hi; j++) {
      uintptr_t lo = ranges[j].lo > m.lo ? ranges[j].lo : m.lo;
      uintptr_t hi = ranges[j].hi < m.hi ? ranges[j].hi : m.hi;
      struct ckpt_mapping_piece piece = {
          .lo = lo,
          .hi = hi,
          .prot = (m.perms[0] == 'r' ? PROT_READ : 0) |
                  (m.perms[1] == 'w' ? PROT_WRITE : 0) |
                  (m.perms[2] == 'x' ? PROT_EXEC : 0),
          .shared = m.perms[3] == 's',
          .offset = m.offset + (lo - m.lo),
          .path = m.path,
      };
      const char *deleted = strstr(m.path, " (deleted)");
      if (strcmp(m.path, "[heap]") == 0) {
        piece.kind = CKPT_MAP_BRK;
        piece.offset = (uintptr_t)sbrk(0);
      } else if (m.path[0] != '/' || strncmp(m.path, "/dev/zero", 9) == 0 ||
          strncmp(m.path, "/SYSV", 5) == 0 || strncmp(m.path, "/memfd:", 7) == 0)
        piece.kind = piece.shared ? CKPT_MAP_ANON_SHARED : CKPT_MAP_ANON_PRIVATE;
      else if (deleted && deleted[10] == 0)
        piece.kind = CKPT_MAP_DELETED_FILE;
      else
        piece.kind = piece.shared ? CKPT_MAP_FILE_SHARED : CKPT_MAP_FILE_PRIVATE;
      rc = fn(ctx, &piece);
    }
  }
  fclose(f);
  return rc;
}

/* ---- Restart ------------------------------------------------------------ */

void ckpt_mappings_forget_all(void) {
  lock();
  for (size_t i = 0; i < nranges; i++)
    if (ranges[i].hi != brk_tracked_hi || ranges[i].lo != page_up(brk_start))
      munmap((void *)ranges[i].lo, ranges[i].hi - ranges[i].lo);
  if (brk_start)
    brk((void *)brk_start);
  nranges = 0;
  brk_start = brk_tracked_hi = 0;
  unlock();
}

int ckpt_mappings_restore_piece(const struct ckpt_mapping_piece *piece,
                                char *msg, size_t msglen) {
  uintptr_t lo = piece->lo, hi = piece->hi;
  if (piece->kind == CKPT_MAP_BRK) {
    /* The break starts where it did (the same binary, without address
     * randomisation): move it to where the program had it. */
    uintptr_t now = (uintptr_t)sbrk(0);
    if (page_up(now) != lo || piece->offset <= now ||
        page_up(piece->offset) != hi || brk((void *)(uintptr_t)piece->offset)) {
      snprintf(msg, msglen,
               "cannot give the program its memory from sbrk back at "
               "%#llx-%#llx: the break is at %#llx in this process",
               (unsigned long long)lo, (unsigned long long)hi,
               (unsigned long long)now);
      return -1;
    }
    brk_start = now;
    brk_tracked_hi = hi;
    if (add_range(lo, hi) != 0) {
      snprintf(msg, msglen, "out of memory for the table of mappings");
      return -1;
    }
    return 0;
  }
  int prot = PROT_READ | PROT_WRITE, fd = -1, flags;
  switch (piece->kind) {
  case CKPT_MAP_FILE_SHARED:
    prot = piece->prot;
    fd = open(piece->path, (prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
    flags = MAP_SHARED;
    break;
  case CKPT_MAP_FILE_PRIVATE:
    fd = open(piece->path, O_RDONLY);
    flags = MAP_PRIVATE;
    break;
  case CKPT_MAP_ANON_SHARED:
    flags = MAP_SHARED | MAP_ANONYMOUS;
    break;
  default: /* anonymous private, or a deleted file's saved bytes */
    flags = MAP_PRIVATE | MAP_ANONYMOUS;
    break;
  }
  if ((piece->kind == CKPT_MAP_FILE_SHARED ||
       piece->kind == CKPT_MAP_FILE_PRIVATE) &&
      fd < 0) {
    snprintf(msg, msglen, "cannot open %s, mapped at %#llx-%#llx: %s",
             piece->path, (unsigned long long)lo, (unsigned long long)hi,
             strerror(errno));
    return -1;
  }
  void *p = mmap((void *)lo, hi - lo, prot, flags | MAP_FIXED_NOREPLACE, fd,
                     (off_t)(fd >= 0 ? piece->offset : 0));
  int err = errno;
  if (fd >= 0)
    close(fd);
  if (p != (void *)lo) {
    if (p != MAP_FAILED)
      munmap(p, hi - lo);
    snprintf(msg, msglen,
             "cannot map the program's memory at %#llx-%#llx again: %s",
             (unsigned long long)lo, (unsigned long long)hi,
             err == EEXIST ? "something else is there in this process"
                           : strerror(err));
    return -1;
  }
  if (add_range(lo, hi) != 0) {
    snprintf(msg, msglen, "out of memory for the table of mappings");
    return -1;
  }
  return 0;
}

int ckpt_mappings_restore_protection(const struct ckpt_mapping_piece *piece) {
  if (piece->kind == CKPT_MAP_FILE_SHARED)
    return 0; /* mapped with it */
  return mprotect((void *)piece->lo, piece->hi - piece->lo, piece->prot);
}

/* ---- Shared memory at a checkpoint -----------------------------------------
 * The writer is a fork: it sees private memory frozen (copy-on-write), but
 * shared memory goes on changing under it as the program runs again. So the
 * non-zero pages of shared anonymous pieces (and of deleted files, saved
 * whole) are copied to private memory while the program is stopped, and the
 * writer saves the copies. */
struct frozen {
  uintptr_t lo, hi;
  unsigned char *copy;
};
static struct frozen *frozen;
static size_t nfrozen, cap_frozen;

static int copy_pages(void *ctx, uintptr_t a, size_t n) {
  const struct frozen *f = ctx;
  memcpy(f->copy + (a - f->lo), (const void *)a, n);
  return 0;
}

static int freeze_piece(void *ctx, const struct ckpt_mapping_piece *m) {
  (void)ctx;
  if (!m->shared ||
      (m->kind != CKPT_MAP_ANON_SHARED && m->kind != CKPT_MAP_DELETED_FILE))
    return 0;
  if (ckpt_grow_mapped_array((void **)&frozen, &cap_frozen, nfrozen + 1,
                             sizeof *frozen))
    return -1;
  size_t len = m->hi - m->lo;
  struct frozen *f = &frozen[nfrozen];
  f->lo = m->lo;
  f->hi = m->hi;
  f->copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (f->copy == MAP_FAILED)
    return -1;
  /* The program is stopped: its protection can be lifted for the copy. */
  if (!(m->prot & PROT_READ))
    mprotect((void *)m->lo, len, m->prot | PROT_READ);
  /* Excluded ranges stay zero in the copy, so they are not saved. */
  const struct ckpt_range *ex;
  size_t nex = ckpt_exclusions(&ex);
  uintptr_t at = m->lo;
  for (size_t i = 0; i < nex && at < m->hi; i++) {
    if (ex[i].hi <= at || ex[i].lo >= m->hi)
      continue;
    if (ex[i].lo > at)
      ckpt_for_each_data_range(at, ex[i].lo - at, 0, copy_pages, f);
    at = ex[i].hi;
  }
  if (at < m->hi)
    ckpt_for_each_data_range(at, m->hi - at, 0, copy_pages, f);
  if (!(m->prot & PROT_READ))
    mprotect((void *)m->lo, len, m->prot);
  nfrozen++;
  return 0;
}

int ckpt_mappings_freeze_shared(void) {
  if (ckpt_mappings_for_each(freeze_piece, NULL) == 0)
    return 0;
  ckpt_mappings_release_frozen();
  return -1;
}

const void *ckpt_mappings_frozen_copy(uintptr_t lo, uintptr_t hi) {
  for (size_t i = 0; i < nfrozen; i++)
    if (frozen[i].lo == lo && frozen[i].hi == hi)
      return frozen[i].copy;
  return NULL;
}

void ckpt_mappings_release_frozen(void) {
  for (size_t i = 0; i < nfrozen; i++)
    munmap(frozen[i].copy, frozen[i].hi - frozen[i].lo);
  nfrozen = 0;
}
