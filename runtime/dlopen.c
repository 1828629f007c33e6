/* runtime/dlopen.c - libraries the program opens with dlopen, opened again
 * at a restart, where they were.
 *
 * The program's calls to dlopen, dlclose, dlsym, dlvsym and dlinfo go to
 * the functions here (the pass redirects them in the executable's code:
 * pass/Redirect.cpp). Each dlopen that succeeds is recorded: the flags, the
 * object the handle names (its path as the loader names it) and the handle,
 * until the matching dlclose; so are the objects it loaded. A checkpoint
 * lists the open calls still in force and where each object loaded by a
 * recorded dlopen lies (snapshot.c); a library loaded by any other dlopen
 * (glibc's own for iconv or NSS, a library's, dlmopen's) still refuses the
 * checkpoint, since a restart could not load it again.
 *
 * A restart (restore.c) makes the same calls, in the same order, with the
 * same flags, after the program's memory is back. Every pointer the program
 * holds into such a library (from dlsym, its data) needs the library where
 * it was, but the system places it: the top-down search for free space
 * picks the highest free range that fits. So every free range above the
 * lowest of the recorded places is filled with an inaccessible reservation
 * first, except the recorded places themselves, and each library lands in
 * its own; the fillers go once all are loaded. Each is checked; one that
 * landed elsewhere fails the restart with a line naming it.
 *
 * The handle the program holds stays the one it got: calls here translate
 * it to the handle of the library opened again. The loader's own memory
 * (link maps) and what an uninstrumented library allocates while loading
 * live in the runtime's heap, not the program's: they are the library's
 * state, which a restart makes anew, as for libraries loaded at start.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt.h"

#define MAX_OPENS 1024
#define MAX_LOADED 1024

struct open_call {
  void *visible; /* the handle the program got */
  void *real;    /* the loader's handle now */
  int flags;
  char path[256]; /* the object the handle names, as the loader names it */
};

/* Static storage: a program's constructor may call dlopen before the
 * runtime is set up. */
static struct open_call opens[MAX_OPENS];
static size_t nopens;
/* The objects a recorded dlopen loaded, with that call's flags. */
static struct loaded_object {
  uintptr_t base;
  int flags;
  uint32_t group; /* objects one call loaded share it */
} loaded[MAX_LOADED];
static size_t nloaded;
static uint32_t next_group = 1;
static int table_lock;

static void lock(void) {
  while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
    ckpt_sched_yield_raw();
}
static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

/* ---- The objects a call loaded -------------------------------------------- */

struct object_set {
  uintptr_t base[256]; /* a thread's stack holds two */
  size_t n;
};

static int collect_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct object_set *s = data;
  if (info->dlpi_name && *info->dlpi_name &&
      s->n < sizeof s->base / sizeof s->base[0])
    s->base[s->n++] = info->dlpi_addr;
  return 0;
}

static int in_set(const struct object_set *s, uintptr_t base) {
  for (size_t i = 0; i < s->n; i++)
    if (s->base[i] == base)
      return 1;
  return 0;
}

static const struct loaded_object *recorded_loaded(uintptr_t base) {
  for (size_t i = 0; i < nloaded; i++)
    if (loaded[i].base == base)
      return &loaded[i];
  return NULL;
}

/* Called with the lock held, after a dlopen with `flags`: every object
 * mapped now that was not before came with it. */
static void note_loaded(const struct object_set *before,
                        const struct object_set *after, int flags) {
  uint32_t group = next_group++;
  for (size_t i = 0; i < after->n; i++)
    if (!in_set(before, after->base[i]) && !recorded_loaded(after->base[i]) &&
        nloaded < MAX_LOADED)
      loaded[nloaded++] = (struct loaded_object){after->base[i], flags, group};
}

static void forget_unloaded(void) {
  static struct object_set now;
  now.n = 0;
  dl_iterate_phdr(collect_object, &now);
  size_t k = 0;
  for (size_t i = 0; i < nloaded; i++)
    if (in_set(&now, loaded[i].base))
      loaded[k++] = loaded[i];
  nloaded = k;
}

static void handle_path(void *handle, char *path, size_t len) {
  struct link_map *lm = NULL;
  path[0] = 0;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name)
    snprintf(path, len, "%s", lm->l_name);
}

/* ---- The program's calls -------------------------------------------------- */

static void *real_handle(void *visible) {
  void *real = visible;
  lock();
  for (size_t i = nopens; i-- > 0;)
    if (opens[i].visible == visible) {
      real = opens[i].real;
      break;
    }
  unlock();
  return real;
}

/* Runs the loader with the runtime's heap: its link maps and what an
 * uninstrumented library allocates while loading are the library's state. */
static void *open_now(const char *file, int flags) {
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  void *h = dlopen(file, flags);
  ckpt_heap_use_app = saved;
  return h;
}

/* Handles the program gets when the loader's handle equals one it holds
 * from before a restart (the loader's memory is new at a restart, so its
 * handles may repeat old ones): unique, never a link map. */
static char handle_tokens[MAX_OPENS];

static int visible_in_use(const void *v) {
  for (size_t i = 0; i < nopens; i++)
    if (opens[i].visible == v)
      return 1;
  return 0;
}

static void *unique_visible(void *h) {
  int clash = 0;
  for (size_t i = 0; i < nopens; i++)
    if (opens[i].visible == h && opens[i].real != h)
      clash = 1;
  if (!clash)
    return h;
  for (size_t k = 0; k < MAX_OPENS; k++)
    if (!visible_in_use(&handle_tokens[k]))
      return &handle_tokens[k];
  return h; /* not reached: there are fewer records than tokens */
}

void *CKPT_NAME(program_dlopen)(const char *file, int flags) {
  struct object_set before, after;
  lock();
  before.n = 0;
  dl_iterate_phdr(collect_object, &before);
  unlock();
  void *h = open_now(file, flags);
  if (!h)
    return NULL;
  lock();
  after.n = 0;
  dl_iterate_phdr(collect_object, &after);
  note_loaded(&before, &after, flags);
  if (nopens < MAX_OPENS) {
    struct open_call *c = &opens[nopens];
    c->visible = unique_visible(h);
    c->real = h;
    c->flags = flags;
    handle_path(c->real, c->path, sizeof c->path);
    h = c->visible;
    nopens++;
  } else {
    /* Not recorded: its objects are not either, so a checkpoint names the
     * library and refuses. */
    CKPT_WARN("more than %d libraries opened with dlopen at once: checkpoints "
              "are refused while %s is open",
              MAX_OPENS, file ? file : "the program");
  }
  unlock();
  return h;
}

int CKPT_NAME(program_dlclose)(void *visible) {
  lock();
  ssize_t at = -1;
  for (size_t i = nopens; i-- > 0;)
    if (opens[i].visible == visible) {
      at = (ssize_t)i;
      break;
    }
  void *real = at >= 0 ? opens[at].real : visible;
  unlock();
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 0;
  int rc = dlclose(real);
  ckpt_heap_use_app = saved;
  if (rc != 0 || at < 0)
    return rc;
  lock();
  /* The newest record of this handle: calls may have moved it since. */
  for (size_t i = nopens; i-- > 0;)
    if (opens[i].visible == visible) {
      memmove(&opens[i], &opens[i + 1], (nopens - i - 1) * sizeof opens[0]);
      nopens--;
      break;
    }
  forget_unloaded();
  unlock();
  return 0;
}

/* The names the program's dlsym calls asked for, by the value they gave:
 * an IFUNC's resolution is shared by several names (memcpy and memmove on
 * one CPU, not on another), so a checkpoint names it by the name asked
 * for (relocate.c). A small table, never saved: a restart fills it again
 * from the checkpoint's names. */
#define DLSYM_NAMES 1024
static struct dlsym_name {
  uint64_t value;
  char name[56];
} dlsym_names[DLSYM_NAMES];
static int dlsym_names_lock;

void ckpt_dlsym_remember(uint64_t value, const char *name) {
  if (!value || strlen(name) >= sizeof dlsym_names[0].name)
    return;
  size_t slot = (size_t)((value >> 4) * 0x9e3779b97f4a7c15ull) % DLSYM_NAMES;
  while (__atomic_exchange_n(&dlsym_names_lock, 1, __ATOMIC_ACQUIRE))
    ckpt_sched_yield_raw();
  /* One value asked for by two names (memcpy and memmove share an
   * implementation on this CPU) can keep one name: the first, unless the
   * later one is a memmove, which serves memcpy's callers too (never the
   * reverse). */
  struct dlsym_name *e = &dlsym_names[slot];
  if (e->value != value || strstr(name, "memmove"))
    snprintf(e->name, sizeof e->name, "%s", name);
  e->value = value;
  __atomic_store_n(&dlsym_names_lock, 0, __ATOMIC_RELEASE);
}

const char *ckpt_dlsym_name(uint64_t value) {
  size_t slot = (size_t)((value >> 4) * 0x9e3779b97f4a7c15ull) % DLSYM_NAMES;
  return dlsym_names[slot].value == value ? dlsym_names[slot].name : NULL;
}

void *CKPT_NAME(program_dlsym)(void *handle, const char *symbol) {
  void *p = dlsym(real_handle(handle), symbol);
  if (p)
    ckpt_dlsym_remember((uint64_t)(uintptr_t)p, symbol);
  return p;
}

void *CKPT_NAME(program_dlvsym)(void *handle, const char *symbol,
                               const char *version) {
  return dlvsym(real_handle(handle), symbol, version);
}

int CKPT_NAME(program_dlinfo)(void *handle, int request, void *arg) {
  return dlinfo(real_handle(handle), request, arg);
}

/* ---- Checkpoint ------------------------------------------------------------ */

int ckpt_dlopen_loaded_by_program(uintptr_t base, int *flags,
                                  uint32_t *group) {
  const struct loaded_object *o = recorded_loaded(base);
  if (o && flags)
    *flags = o->flags;
  if (o && group)
    *group = o->group;
  return o != NULL;
}

int ckpt_dlopen_each_call(int (*visit)(void *ctx, uint64_t handle, int flags,
                                       const char *path),
                          void *ctx) {
  for (size_t i = 0; i < nopens; i++) {
    int r = visit(ctx, (uint64_t)(uintptr_t)opens[i].visible, opens[i].flags,
                  opens[i].path);
    if (r)
      return r;
  }
  return 0;
}

/* ---- Restart ---------------------------------------------------------------- */

#define MAX_FILLERS 4096
struct range {
  uintptr_t lo, hi;
};

/* The mappings of this process, sorted, from /proc/self/maps; the main
 * thread's stack flagged (the free range below it is its to grow into). */
static size_t read_maps(struct range *out, size_t cap, uintptr_t *stack_lo) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  static char buf[1 << 20];
  size_t len = 0;
  for (;;) {
    ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
    if (k <= 0)
      break;
    len += (size_t)k;
  }
  close(fd);
  buf[len] = 0;
  size_t n = 0;
  *stack_lo = 0;
  for (char *line = buf; *line && n < cap;) {
    char *end = strchr(line, '\n');
    if (end)
      *end = 0;
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
      out[n++] = (struct range){lo, hi};
      if (strstr(line, "[stack]"))
        *stack_lo = lo;
    }
    if (!end)
      break;
    line = end + 1;
  }
  return n;
}

static struct range fillers[MAX_FILLERS];
static size_t nfillers;

static void fill(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi || nfillers >= MAX_FILLERS)
    return;
  void *p = mmap((void *)lo, hi - lo, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                     MAP_FIXED_NOREPLACE,
                 -1, 0);
  if (p == (void *)lo)
    fillers[nfillers++] = (struct range){lo, hi};
  else if (p != MAP_FAILED)
    munmap(p, hi - lo);
}

static int cmp_range(const void *a, const void *b) {
  const struct range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Fills every free range above the lowest place of the objects one call
 * loaded (`group`), except those places: the system's top-down search then
 * finds each its own, as it found them then (in one call nothing is
 * unmapped between two of them; between calls, libraries may have been
 * closed, so the places of other calls are filled too). */
static void fill_around(const struct ckpt_dlopen_object *objs, size_t nobjs,
                        uint32_t group) {
  static struct range maps[16384], holes[MAX_LOADED];
  uintptr_t stack_lo;
  size_t n = read_maps(maps, sizeof maps / sizeof maps[0], &stack_lo);
  size_t nholes = 0;
  uintptr_t lowest = UINTPTR_MAX;
  for (size_t i = 0; i < nobjs && nholes < MAX_LOADED; i++) {
    if (objs[i].group != group)
      continue;
    holes[nholes++] = (struct range){objs[i].lo, objs[i].hi};
    if (objs[i].lo < lowest)
      lowest = objs[i].lo;
  }
  qsort(holes, nholes, sizeof holes[0], cmp_range);
  for (size_t i = 0; i + 1 < n; i++) {
    uintptr_t lo = maps[i].hi, hi = maps[i + 1].lo;
    if (hi <= lo || hi <= lowest || maps[i + 1].lo == stack_lo)
      continue;
    if (lo < lowest)
      lo = lowest;
    for (size_t k = 0; k < nholes && lo < hi; k++) {
      if (holes[k].hi <= lo || holes[k].lo >= hi)
        continue;
      fill(lo, holes[k].lo);
      lo = holes[k].hi;
    }
    fill(lo, hi);
  }
}

static void unfill(void) {
  for (size_t i = 0; i < nfillers; i++)
    munmap((void *)fillers[i].lo, fillers[i].hi - fillers[i].lo);
  nfillers = 0;
}

/* ---- Which objects the program's calls hold -------------------------------
 * An object stays loaded after the dlclose of the call that loaded it if
 * the loader keeps it: a lookup bound the executable to it (dlsym with
 * RTLD_DEFAULT does), or it was opened with RTLD_NODELETE. A restart opens
 * every object again, then the calls in force, then closes its own handles;
 * so those not reachable from the calls in force through their DT_NEEDED
 * entries are kept for good first, as the loader had kept them. */

struct dyn_object {
  uintptr_t base;
  const char *path, *soname;
  const ElfW(Dyn) *dyn;
  const char *strtab;
  int reached;
};

#define MAX_OBJECTS 512
static struct dyn_object objects[MAX_OBJECTS];
static size_t nobjects;

static int collect_dyn(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (!info->dlpi_name || !*info->dlpi_name || nobjects >= MAX_OBJECTS)
    return 0;
  struct dyn_object *o = &objects[nobjects++];
  *o = (struct dyn_object){info->dlpi_addr, info->dlpi_name, NULL, NULL, NULL,
                           0};
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      o->dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
                                   info->dlpi_phdr[i].p_vaddr);
  if (!o->dyn)
    return 0;
  for (const ElfW(Dyn) *d = o->dyn; d->d_tag != DT_NULL; d++)
    if (d->d_tag == DT_STRTAB)
      /* The loader has relocated it in place (it does on x86-64). */
      o->strtab = (const char *)(d->d_un.d_ptr < info->dlpi_addr
                                     ? d->d_un.d_ptr + info->dlpi_addr
                                     : d->d_un.d_ptr);
  if (o->strtab)
    for (const ElfW(Dyn) *d = o->dyn; d->d_tag != DT_NULL; d++)
      if (d->d_tag == DT_SONAME)
        o->soname = o->strtab + d->d_un.d_val;
  return 0;
}

static struct dyn_object *object_named(const char *needed) {
  for (size_t i = 0; i < nobjects; i++) {
    const char *slash = strrchr(objects[i].path, '/');
    const char *base = slash ? slash + 1 : objects[i].path;
    if ((objects[i].soname && strcmp(objects[i].soname, needed) == 0) ||
        strcmp(base, needed) == 0 || strcmp(objects[i].path, needed) == 0)
      return &objects[i];
  }
  return NULL;
}

static void reach(struct dyn_object *o) {
  if (!o || o->reached)
    return;
  o->reached = 1;
  if (!o->dyn || !o->strtab)
    return;
  for (const ElfW(Dyn) *d = o->dyn; d->d_tag != DT_NULL; d++)
    if (d->d_tag == DT_NEEDED)
      reach(object_named(o->strtab + d->d_un.d_val));
}

static struct dyn_object *object_at(uintptr_t base) {
  for (size_t i = 0; i < nobjects; i++)
    if (objects[i].base == base)
      return &objects[i];
  return NULL;
}

static int loaded_now(const char *path) {
  nobjects = 0;
  dl_iterate_phdr(collect_dyn, NULL);
  for (size_t i = 0; i < nobjects; i++)
    if (strcmp(objects[i].path, path) == 0)
      return 1;
  return 0;
}

int ckpt_dlopen_replay(const struct ckpt_dlopen_call *calls, size_t ncalls,
                       const struct ckpt_dlopen_object *objs, size_t nobjs,
                       char *msg, size_t msglen) {
  if (ncalls > MAX_OPENS || nobjs > MAX_LOADED) {
    snprintf(msg, msglen, "the checkpoint lists more libraries opened with "
                          "dlopen than this ckpt takes");
    return -1;
  }
  /* Each object goes back to its place if every place is free: then no
   * pointer into it needs changing. If one is taken (the libraries loaded
   * with the program are larger or elsewhere on this host), they go where
   * the loader puts them, and relocate.c changes the pointers into them. */
  int same_places = 1;
  for (size_t i = 0; i < nobjs && same_places; i++) {
    size_t len = objs[i].hi - objs[i].lo;
    void *p = mmap((void *)objs[i].lo, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                       MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p != (void *)objs[i].lo)
      same_places = 0;
    if (p != MAP_FAILED)
      munmap(p, len);
  }
  static void *own[MAX_LOADED];
  int rc = 0;
  /* 1. Every object, in the loader's order, a call's objects at a time: a
   * call loads an object's dependencies after it, so one that came with
   * another is there now. */
  for (size_t i = 0; i < nobjs; i++)
    own[i] = NULL;
  for (size_t i = 0; i < nobjs && rc == 0; i++) {
    if (loaded_now(objs[i].path))
      continue;
    if (same_places)
      fill_around(objs, nobjs, objs[i].group);
    own[i] = open_now(objs[i].path, objs[i].flags);
    unfill();
    if (!own[i]) {
      const char *e = dlerror();
      snprintf(msg, msglen, "%s, opened with dlopen before the checkpoint, "
                            "cannot be opened again: %s",
               objs[i].path, e ? e : "dlopen failed");
      rc = -1;
    }
  }
  /* 2. The program's calls in force: the handles it holds. */
  for (size_t i = 0; i < ncalls && rc == 0; i++) {
    const struct ckpt_dlopen_call *c = &calls[i];
    void *h = open_now(*c->path ? c->path : NULL, c->flags);
    if (!h) {
      const char *e = dlerror();
      snprintf(msg, msglen, "%s, opened with dlopen before the checkpoint, "
                            "cannot be opened again: %s",
               *c->path ? c->path : "the program", e ? e : "dlopen failed");
      rc = -1;
      break;
    }
    struct open_call *o = &opens[nopens++];
    o->visible = (void *)(uintptr_t)c->handle;
    o->real = h;
    o->flags = c->flags;
    snprintf(o->path, sizeof o->path, "%s", c->path);
  }
  /* 3. What the loader alone kept stays for good; the rest is the calls'. */
  if (rc == 0) {
    nobjects = 0;
    dl_iterate_phdr(collect_dyn, NULL);
    for (size_t i = 0; i < nopens; i++) {
      struct link_map *lm = NULL;
      if (dlinfo(opens[i].real, RTLD_DI_LINKMAP, &lm) == 0 && lm)
        reach(object_at(lm->l_addr));
    }
    for (size_t i = 0; i < nobjs; i++) {
      int reached = 0;
      for (size_t k = 0; k < nobjects; k++)
        if (strcmp(objects[k].path, objs[i].path) == 0)
          reached = objects[k].reached;
      void *keep = reached ? NULL
                           : dlopen(objs[i].path,
                                    RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
      if (keep)
        dlclose(keep);
    }
  }
  for (size_t i = 0; i < nobjs; i++)
    if (own[i])
      dlclose(own[i]);
  /* The objects are the program's again, with the flags that loaded them. */
  nobjects = 0;
  dl_iterate_phdr(collect_dyn, NULL);
  for (size_t i = 0; i < nobjs; i++)
    for (size_t k = 0; k < nobjects; k++)
      if (strcmp(objects[k].path, objs[i].path) == 0 &&
          !recorded_loaded(objects[k].base) && nloaded < MAX_LOADED)
        loaded[nloaded++] = (struct loaded_object){objects[k].base,
                                                   objs[i].flags,
                                                   objs[i].group};
  for (size_t i = 0; i < nobjs; i++)
    if (objs[i].group >= next_group)
      next_group = objs[i].group + 1;
  return rc;
}
