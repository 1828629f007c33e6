/* mappings.c - e2e program: memory the program maps itself.
 *
 * Regions, all updated on every step from one random sequence:
 *   anon     64 MiB MAP_PRIVATE|MAP_ANONYMOUS, touched sparsely (most pages
 *            never touched: they must stay free in checkpoints)
 *   shared   1 MiB MAP_SHARED|MAP_ANONYMOUS
 *   fpriv    a file mapped MAP_PRIVATE and written: the changed pages are the
 *            process's own (one is set to all zeros, which the file's page
 *            is not); the file itself never changes
 *   fshared  another file mapped MAP_SHARED: the program's writes go to the
 *            file; each step writes a value derived from the step number only
 *            (a restart replays steps, so the file must not accumulate)
 *   ro       filled, then mprotect(PROT_READ): after a restart still
 *            read-only (checked in /proc/self/maps at the end)
 *   guard    holds data but is PROT_NONE between uses
 *   holed    2 MiB with a page in the middle unmapped (must stay unmapped)
 *   grown    grown with mremap (MREMAP_MAYMOVE) every few steps
 *   fixed    a MAP_FIXED mapping placed inside anon's range
 *   brk      memory from sbrk (3 pages and a bit), grown once more midway
 *   early    mapped by a constructor (which runs again at a restart: its new
 *            mapping must give way to the checkpoint's)
 * Every 10% of the steps a checksum of everything is printed; the end checks
 * protections and the hole.
 *
 * Usage: mappings [scale]   (default 1; ~1.5 s at -O2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define PAGE 4096u

static uint64_t lcg = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t sum_bytes(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ULL;
  }
  return h;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static char fpriv_path[4096], fshared_path[4096];

static void make_file(char *path, const char *name, size_t size, unsigned seed) {
  if (!getcwd(path, 4000))
    die("getcwd");
  strcat(path, "/");
  strcat(path, name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    die(path);
  unsigned char *buf = malloc(size);
  for (size_t i = 0; i < size; i++)
    buf[i] = (unsigned char)(i * seed + (i >> 12));
  if (write(fd, buf, size) != (ssize_t)size)
    die("write");
  free(buf);
  close(fd);
}

static void *map_file(const char *path, size_t size, int flags) {
  int fd = open(path, O_RDWR);
  if (fd < 0)
    die(path);
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (p == MAP_FAILED)
    die("mmap file");
  close(fd); /* the mapping keeps the file */
  return p;
}

static unsigned char *anon, *shared, *fpriv, *fshared, *ro, *guard, *holed,
    *grown, *fixed;
static size_t grown_size = MIB;
static unsigned char *brk_mem, *early;

__attribute__((constructor)) static void map_early(void) {
  early = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (early == MAP_FAILED)
    die("mmap early");
  memset(early, 0x42, 2 * PAGE);
}
static size_t brk_size = 3 * PAGE + 100;

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  const size_t anon_size = 64 * MIB, file_size = 1 * MIB;
  make_file(fpriv_path, "mappings-priv.dat", file_size, 7);
  make_file(fshared_path, "mappings-shared.dat", file_size, 11);

  anon = mmap(NULL, anon_size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  shared = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                -1, 0);
  ro = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  guard = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  holed = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  grown = mmap(NULL, grown_size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED || shared == MAP_FAILED || ro == MAP_FAILED ||
      guard == MAP_FAILED || holed == MAP_FAILED || grown == MAP_FAILED)
    die("mmap");
  fpriv = map_file(fpriv_path, file_size, MAP_PRIVATE);
  fshared = map_file(fshared_path, file_size, MAP_SHARED);
  /* A fixed mapping over part of anon (pages 100..107). */
  fixed = mmap(anon + 100 * PAGE, 8 * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (fixed != anon + 100 * PAGE)
    die("mmap MAP_FIXED");

  brk_mem = sbrk((intptr_t)brk_size);
  if (brk_mem == (void *)-1)
    die("sbrk");
  memset(brk_mem, 0x77, brk_size);

  for (size_t i = 0; i < 16 * PAGE; i++)
    ro[i] = (unsigned char)(i * 31 + 5);
  if (mprotect(ro, 16 * PAGE, PROT_READ))
    die("mprotect ro");
  memset(guard, 0x5a, 4 * PAGE);
  if (mprotect(guard, 4 * PAGE, PROT_NONE))
    die("mprotect guard");
  memset(holed, 0x11, 2 * MIB);
  if (munmap(holed + MIB, PAGE))
    die("munmap");
  memset(fpriv + 5 * PAGE, 0, PAGE); /* a changed page that is all zeros */

  long steps = 40000 * scale;
  uint64_t acc = 0;
  for (long s = 1; s <= steps; s++) {
    uint32_t r = rnd();
    /* anon: sparse pages (one in 64 of them), random words */
    size_t page = (r % (anon_size / PAGE / 64)) * 64;
    uint64_t *w = (uint64_t *)(anon + page * PAGE) + (rnd() % 512);
    *w += s;
    acc += *w;
    shared[rnd() % MIB] += (unsigned char)s;
    size_t fp = rnd() % file_size;
    if (fp / PAGE != 5)
      fpriv[fp] ^= (unsigned char)(s * 3);
    acc += fpriv[rnd() % file_size];
    fshared[(size_t)(s * 7919) % file_size] = (unsigned char)(s & 0xff);
    acc += ro[rnd() % (16 * PAGE)];
    fixed[rnd() % (8 * PAGE)] += 1;
    size_t hp = rnd() % (2 * MIB);
    if (hp / PAGE != MIB / PAGE)
      holed[hp] += 3;
    grown[rnd() % grown_size] += 1;
    brk_mem[rnd() % brk_size] += 1;
    early[rnd() % (2 * PAGE)] += 1;
    if (s == steps / 2) { /* the break moves on: the new bytes follow */
      unsigned char *more = sbrk(2 * PAGE);
      if (more == (void *)-1)
        die("sbrk more");
      if (more == brk_mem + brk_size) { /* contiguous (no one else moved it) */
        memset(more, 0x66, 2 * PAGE);
        brk_size += 2 * PAGE;
      }
    }
    if (s % 997 == 0) {
      if (mprotect(guard, 4 * PAGE, PROT_READ | PROT_WRITE))
        die("mprotect guard rw");
      guard[rnd() % (4 * PAGE)] += 1;
      acc += sum_bytes(guard, 4 * PAGE);
      if (mprotect(guard, 4 * PAGE, PROT_NONE))
        die("mprotect guard none");
    }
    if (s % 4001 == 0 && grown_size < 32 * MIB) {
      unsigned char *g = mremap(grown, grown_size, grown_size + MIB,
                                MREMAP_MAYMOVE);
      if (g == MAP_FAILED)
        die("mremap");
      memset(g + grown_size, (int)(grown_size / MIB), MIB);
      grown = g;
      grown_size += MIB;
    }
    if (s % (steps / 10) == 0) {
      if (mprotect(guard, 4 * PAGE, PROT_READ))
        die("mprotect guard r");
      /* One checksum per region, so a failure names the region. */
      printf("step %ld: acc %016llx anon %016llx shared %016llx fpriv %016llx "
             "ro %016llx guard %016llx holed %016llx %016llx grown %zu MiB "
             "%016llx\n",
             s, (unsigned long long)acc,
             (unsigned long long)sum_bytes(anon, anon_size),
             (unsigned long long)sum_bytes(shared, MIB),
             (unsigned long long)sum_bytes(fpriv, file_size),
             (unsigned long long)sum_bytes(ro, 16 * PAGE),
             (unsigned long long)sum_bytes(guard, 4 * PAGE),
             (unsigned long long)sum_bytes(holed, MIB),
             (unsigned long long)sum_bytes(holed + MIB + PAGE, MIB - PAGE),
             grown_size / MIB, (unsigned long long)sum_bytes(grown, grown_size));
      printf("step %ld: brk %zu bytes %016llx early %016llx\n", s, brk_size,
             (unsigned long long)sum_bytes(brk_mem, brk_size & ~(size_t)7),
             (unsigned long long)sum_bytes(early, 2 * PAGE));
      if (mprotect(guard, 4 * PAGE, PROT_NONE))
        die("mprotect guard none");
      fflush(stdout);
    }
  }

  /* The hole is still a hole, and the protections are as set. */
  errno = 0;
  int hole = msync(holed + MIB, PAGE, MS_ASYNC) == -1 && errno == ENOMEM;
  printf("hole unmapped: %s\n", hole ? "yes" : "NO");
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[4096];
  const char *ro_perm = "?", *guard_perm = "?";
  static char ro_buf[8], guard_buf[8];
  while (maps && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
      continue;
    if (lo <= (unsigned long)ro && (unsigned long)ro < hi)
      ro_perm = strcpy(ro_buf, perms);
    if (lo <= (unsigned long)guard && (unsigned long)guard < hi)
      guard_perm = strcpy(guard_buf, perms);
  }
  if (maps)
    fclose(maps);
  printf("ro: %s, guard: %s\n", ro_perm, guard_perm);
  /* The shared file holds what the last steps wrote. */
  printf("shared file checksum %016llx\n",
         (unsigned long long)sum_bytes(fshared, file_size));
  return 0;
}
