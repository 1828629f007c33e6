/* test/unit/libcstate_test.c - runtime/libcstate.c must reproduce glibc's rand/random/drand48/strtok exactly. */

/* This program links libcstate.c, so rand() etc. below are ckpt's versions;
 * glibc's own are fetched with dlsym(RTLD_NEXT). Both are driven with the
 * same calls and every result (and every byte of caller-visible state) is
 * compared. A mismatch between the two would mean a restarted program
 * silently produces different output, so the runs are long and the inputs
 * include edge cases (seeds 0 and >= 2^31, every state size, reseeding and
 * switching states mid-run). A last test saves and restores the
 * CKPT_SECTION_RTSTATE bytes the way a checkpoint does and checks that the
 * sequences continue where they left off. The first mismatch is printed and
 * the test exits 1. */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/abi.h"

/* Linker-provided bounds of the saved section (its name is a C identifier). */
extern char __start_ckpt_rtstate[], __stop_ckpt_rtstate[];

static struct {
  int (*rand)(void);
  void (*srand)(unsigned int);
  int (*rand_r)(unsigned int *);
  long (*random)(void);
  void (*srandom)(unsigned int);
  char *(*initstate)(unsigned int, char *, size_t);
  char *(*setstate)(char *);
  double (*drand48)(void);
  double (*erand48)(unsigned short *);
  long (*lrand48)(void);
  long (*nrand48)(unsigned short *);
  long (*mrand48)(void);
  long (*jrand48)(unsigned short *);
  void (*srand48)(long);
  unsigned short *(*seed48)(unsigned short *);
  void (*lcong48)(unsigned short *);
  char *(*strtok)(char *, const char *);
} libc;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("libcstate_test: FAIL: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  exit(1);
}

/* The form dlsym(3) recommends for storing into a function pointer. */
#define RESOLVE(name)                                                          \
  do {                                                                         \
    *(void **)(&libc.name) = dlsym(RTLD_NEXT, #name);                          \
    if (libc.name == NULL)                                                     \
      fail("dlsym(RTLD_NEXT, \"%s\") found nothing", #name);                   \
    if ((void *)libc.name == (void *)name)                                     \
      fail("dlsym(RTLD_NEXT, \"%s\") returned ckpt's own", #name);             \
  } while (0)

static void resolve_all(void) {
  RESOLVE(rand);
  RESOLVE(srand);
  RESOLVE(rand_r);
  RESOLVE(random);
  RESOLVE(srandom);
  RESOLVE(initstate);
  RESOLVE(setstate);
  RESOLVE(drand48);
  RESOLVE(erand48);
  RESOLVE(lrand48);
  RESOLVE(nrand48);
  RESOLVE(mrand48);
  RESOLVE(jrand48);
  RESOLVE(srand48);
  RESOLVE(seed48);
  RESOLVE(lcong48);
  RESOLVE(strtok);
}

/* The test's own choices come from splitmix64, never from the functions
 * under test. */
static uint64_t mix_state = 0x243F6A8885A308D3ULL;
static uint64_t mix(void) {
  uint64_t z = (mix_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return (unsigned)(mix() % n); }

static int in_section(const void *p) {
  return (const char *)p >= __start_ckpt_rtstate &&
         (const char *)p < __stop_ckpt_rtstate;
}

/* ---- random() and rand() ---------------------------------------------- */

/* n calls, alternating randomly between rand() and random(), which share
 * one state. */
static void cmp_random(long n, const char *what, unsigned long long arg) {
  for (long i = 0; i < n; i++) {
    long o, r;
    if (mix() & 1) {
      o = random();
      r = libc.random();
    } else {
      o = rand();
      r = libc.rand();
    }
    if (o != r)
      fail("%s(%llu): call %ld: ckpt %ld, glibc %ld", what, arg, i, o, r);
  }
}

static const unsigned int edge_seeds[] = {
    0, 1, 2, 42, 12345, 16807, 127773, 2147483646u, 2147483647u,
    2147483648u, 4294967294u, 4294967295u};
#define NEDGE (sizeof edge_seeds / sizeof edge_seeds[0])

static void test_srand(void) {
  for (size_t i = 0; i < NEDGE; i++) {
    unsigned int s = edge_seeds[i];
    if (i & 1) {
      srand(s);
      libc.srand(s);
    } else {
      srandom(s);
      libc.srandom(s);
    }
    /* Long runs for the classic seeds, shorter for the rest. */
    cmp_random(s <= 42 || s == 2147483647u ? 1000000 : 20000, "srand", s);
  }
  for (int i = 0; i < 64; i++) {
    unsigned int s = (unsigned int)mix();
    srandom(s);
    libc.srandom(s);
    cmp_random(5000, "srandom", s);
  }
}

/* State buffers: one per initstate() size, ckpt's and glibc's apart. Sizes
 * cover each type exactly and in between, and the upper bounds; the buffers
 * are word-aligned and large enough for the largest. */
static const size_t state_sizes[] = {8,  31, 32,  33,  63,  64,  100, 127,
                                     128, 129, 200, 255, 256, 300, 1024};
#define NSTATES (sizeof state_sizes / sizeof state_sizes[0])
static int32_t ours_buf[NSTATES][1024 / 4], glibc_buf[NSTATES][1024 / 4];
/* Index NSTATES stands for each side's built-in default buffer, learnt from
 * the first initstate() return. */
static char *ours_ptr[NSTATES + 1], *glibc_ptr[NSTATES + 1];

static int which(char *const *ptrs, const char *p) {
  for (size_t k = 0; k <= NSTATES; k++)
    if (ptrs[k] == p)
      return (int)k;
  return -1;
}

/* Every caller-visible state buffer, including the default one, must hold
 * the same bytes on both sides: programs may copy them to setstate later. */
static void cmp_buffers(const char *when, long step) {
  for (size_t k = 0; k < NSTATES; k++)
    if (memcmp(ours_buf[k], glibc_buf[k], state_sizes[k]) != 0)
      fail("%s step %ld: state buffer of %zu bytes differs", when, step,
           state_sizes[k]);
  if (memcmp(ours_ptr[NSTATES], glibc_ptr[NSTATES], 128) != 0)
    fail("%s step %ld: default state buffer differs", when, step);
}

static void cmp_old(const char *what, char *o, char *r, long step) {
  int ko = which(ours_ptr, o), kr = which(glibc_ptr, r);
  if (ko != kr || ko < 0)
    fail("%s step %ld: returned old state %d (ckpt) vs %d (glibc)", what, step,
         ko, kr);
}

static void test_states(void) {
  for (size_t k = 0; k < NSTATES; k++) {
    ours_ptr[k] = (char *)ours_buf[k];
    glibc_ptr[k] = (char *)glibc_buf[k];
  }
  /* First initstate: returns each side's default buffer. */
  srandom(5);
  libc.srandom(5);
  cmp_random(1000, "srandom", 5);
  ours_ptr[NSTATES] = initstate(1, ours_ptr[0], state_sizes[0]);
  glibc_ptr[NSTATES] = libc.initstate(1, glibc_ptr[0], state_sizes[0]);
  if (ours_ptr[NSTATES] == NULL || glibc_ptr[NSTATES] == NULL)
    fail("initstate returned NULL");
  if (!in_section(ours_ptr[NSTATES]))
    fail("default random() state is not in section %s", CKPT_SECTION_RTSTATE);
  cmp_random(1000, "initstate", 8);
  cmp_buffers("initstate", 0);

  /* Each size, several seeds; one long run per exact type size. */
  for (size_t k = 0; k < NSTATES; k++) {
    for (size_t i = 0; i < NEDGE; i += 3) {
      unsigned int s = edge_seeds[i];
      char *o = initstate(s, ours_ptr[k], state_sizes[k]);
      char *r = libc.initstate(s, glibc_ptr[k], state_sizes[k]);
      cmp_old("initstate", o, r, (long)k);
      cmp_buffers("initstate", (long)k);
      cmp_random(3000, "initstate seed", s);
      srandom(s + 1);
      libc.srandom(s + 1);
      cmp_random(3000, "srandom on initstate buffer", s + 1);
    }
    size_t n = state_sizes[k];
    if (n == 8 || n == 32 || n == 64 || n == 128 || n == 256) {
      initstate(42, ours_ptr[k], n);
      libc.initstate(42, glibc_ptr[k], n);
      cmp_random(1000000, "initstate size", n);
    }
  }

  /* Too small a buffer: both refuse with EINVAL; the generator in use
   * carries on unchanged. */
  for (size_t n = 0; n < 8; n++) {
    char small_o[8], small_r[8];
    errno = 0;
    char *o = initstate(3, small_o, n);
    int eo = errno;
    errno = 0;
    char *r = libc.initstate(3, small_r, n);
    int er = errno;
    if (o != NULL || r != NULL || eo != EINVAL || er != EINVAL)
      fail("initstate size %zu: ckpt %p errno %d, glibc %p errno %d", n,
           (void *)o, eo, (void *)r, er);
    cmp_random(100, "after failed initstate", n);
  }

  /* Random walk over all buffers: switch, draw, reseed, re-initialise. The
   * headers written on each switch are compared through the buffers. */
  for (long step = 0; step < 30000; step++) {
    unsigned k = below(NSTATES + 1);
    unsigned op = below(10);
    if (op < 7 || k == NSTATES) {
      char *o = setstate(ours_ptr[k]);
      char *r = libc.setstate(glibc_ptr[k]);
      cmp_old("setstate", o, r, step);
    } else if (op < 9) {
      unsigned int s = (unsigned int)mix();
      char *o = initstate(s, ours_ptr[k], state_sizes[k]);
      char *r = libc.initstate(s, glibc_ptr[k], state_sizes[k]);
      cmp_old("initstate", o, r, step);
    } else {
      unsigned int s = (unsigned int)mix();
      srandom(s);
      libc.srandom(s);
    }
    cmp_buffers("walk", step);
    cmp_random(below(300), "walk step", (unsigned long long)step);
  }

  /* Corrupt headers: a negative type is refused with EINVAL and changes
   * nothing; a negative multiple of 5 is type 0 to both. */
  static const int32_t headers[] = {-1, -3, -7, -5, -10};
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    int32_t bo[16] = {headers[i], 77}, br[16] = {headers[i], 77};
    errno = 0;
    char *o = setstate((char *)bo);
    int eo = errno;
    errno = 0;
    char *r = libc.setstate((char *)br);
    int er = errno;
    if ((o == NULL) != (r == NULL) || (o == NULL && (eo != er)))
      fail("setstate header %d: ckpt %p errno %d, glibc %p errno %d",
           headers[i], (void *)o, eo, (void *)r, er);
    cmp_random(100, "after setstate header", (unsigned long long)i);
    if (memcmp(bo, br, sizeof bo) != 0)
      fail("setstate header %d: buffers differ", headers[i]);
    /* Leave the stack buffers before they go out of scope. */
    setstate(ours_ptr[NSTATES]);
    libc.setstate(glibc_ptr[NSTATES]);
  }

  setstate(ours_ptr[NSTATES]);
  libc.setstate(glibc_ptr[NSTATES]);
  cmp_random(1000, "back to default", 0);
}

/* Concurrent callers: the lock must hand out each value exactly once, so
 * the values drawn by all threads are, as a multiset, glibc's sequence. */
enum { THREADS = 4, PER_THREAD = 50000 };
static long drawn[THREADS][PER_THREAD];

static void *draw(void *arg) {
  long *out = arg;
  for (int i = 0; i < PER_THREAD; i++)
    out[i] = random();
  return NULL;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static void test_threads(void) {
  srandom(777);
  libc.srandom(777);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, draw, drawn[i]) != 0)
      fail("pthread_create");
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  static long expect[THREADS * PER_THREAD];
  for (int i = 0; i < THREADS * PER_THREAD; i++)
    expect[i] = libc.random();
  long *got = &drawn[0][0];
  qsort(got, THREADS * PER_THREAD, sizeof(long), cmp_long);
  qsort(expect, THREADS * PER_THREAD, sizeof(long), cmp_long);
  if (memcmp(got, expect, sizeof expect) != 0)
    fail("threads: values drawn concurrently are not glibc's sequence");
  cmp_random(1000, "after threads", 0);
}

/* ---- rand_r() ----------------------------------------------------------- */

static void test_rand_r(void) {
  for (size_t i = 0; i < NEDGE + 32; i++) {
    unsigned int s0 = i < NEDGE ? edge_seeds[i] : (unsigned int)mix();
    unsigned int so = s0, sr = s0;
    long n = i < 4 ? 1000000 : 20000;
    for (long j = 0; j < n; j++) {
      int o = rand_r(&so), r = libc.rand_r(&sr);
      if (o != r || so != sr)
        fail("rand_r(%u): call %ld: ckpt %d seed %u, glibc %d seed %u", s0, j,
             o, so, r, sr);
    }
  }
}

/* ---- drand48() family --------------------------------------------------- */

/* n calls spread over all seven functions; the caller's xsubi arrays must
 * stay equal too. */
static void cmp_48(long n, const char *what, long long arg) {
  unsigned short xo[3], xr[3];
  for (int i = 0; i < 3; i++)
    xo[i] = xr[i] = (unsigned short)mix();
  for (long i = 0; i < n; i++) {
    unsigned f = below(6);
    long o = 0, r = 0;
    double dox = 0, drx = 0;
    switch (f) {
    case 0:
      dox = drand48();
      drx = libc.drand48();
      break;
    case 1:
      dox = erand48(xo);
      drx = libc.erand48(xr);
      break;
    case 2:
      o = lrand48();
      r = libc.lrand48();
      break;
    case 3:
      o = nrand48(xo);
      r = libc.nrand48(xr);
      break;
    case 4:
      o = mrand48();
      r = libc.mrand48();
      break;
    default:
      o = jrand48(xo);
      r = libc.jrand48(xr);
      break;
    }
    /* Doubles compared by their bits: the construction must be identical. */
    if (o != r || memcmp(&dox, &drx, sizeof dox) != 0)
      fail("%s(%lld): call %ld (function %u): ckpt %ld/%a, glibc %ld/%a", what,
           arg, i, f, o, dox, r, drx);
    if (memcmp(xo, xr, sizeof xo) != 0)
      fail("%s(%lld): call %ld (function %u): xsubi differs", what, arg, i, f);
  }
}

static void cmp_seed48(unsigned short v[3], const char *what) {
  static unsigned short *first;
  unsigned short vo[3], vr[3];
  memcpy(vo, v, sizeof vo);
  memcpy(vr, v, sizeof vr);
  unsigned short *o = seed48(vo);
  unsigned short *r = libc.seed48(vr);
  if (first == NULL)
    first = o;
  if (o != first || !in_section(o))
    fail("%s: seed48 result not the one static buffer in %s", what,
         CKPT_SECTION_RTSTATE);
  if (memcmp(o, r, 3 * sizeof *o) != 0)
    fail("%s: seed48 previous seed %04x%04x%04x, glibc %04x%04x%04x", what,
         o[2], o[1], o[0], r[2], r[1], r[0]);
}

static void test_48(void) {
  static const long seeds[] = {0,
                               1,
                               42,
                               -1,
                               2147483647L,
                               -2147483647L - 1,
                               0x123456789ABCL,
                               0x7FFFFFFFFFFFFFFFL,
                               -0x7FFFFFFFFFFFFFFFL - 1};
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    srand48(seeds[i]);
    libc.srand48(seeds[i]);
    cmp_48(i < 4 ? 1000000 : 50000, "srand48", seeds[i]);
  }
  for (int i = 0; i < 64; i++) {
    long s = (long)mix();
    srand48(s);
    libc.srand48(s);
    cmp_48(3000, "srand48", s);
  }

  /* seed48, including the seed48(seed48(v)) idiom. */
  for (int i = 0; i < 64; i++) {
    unsigned short v[3] = {(unsigned short)mix(), (unsigned short)mix(),
                           (unsigned short)mix()};
    if (i == 0)
      v[0] = v[1] = v[2] = 0;
    cmp_seed48(v, "seed48");
    cmp_48(i == 1 ? 1000000 : 3000, "seed48", i);
  }
  {
    unsigned short v[3] = {1, 2, 3};
    unsigned short *o = seed48(seed48(v));
    unsigned short *r = libc.seed48(libc.seed48(v));
    if (memcmp(o, r, 3 * sizeof *o) != 0)
      fail("seed48(seed48(v)) differs");
    cmp_48(3000, "seed48(seed48)", 0);
  }

  /* lcong48: a and c apply to every function until srand48/seed48 reset
   * them. */
  for (int i = 0; i < 64; i++) {
    unsigned short p[7];
    for (int j = 0; j < 7; j++)
      p[j] = (unsigned short)mix();
    if (i == 0) /* the standard parameters, spelt out */
      memcpy(p, (unsigned short[7]){0x330E, 0, 0, 0xE66D, 0xDEEC, 0x5, 0xB},
             sizeof p);
    if (i == 1) /* degenerate: a = 0 */
      p[3] = p[4] = p[5] = 0;
    unsigned short po[7], pr[7];
    memcpy(po, p, sizeof p);
    memcpy(pr, p, sizeof p);
    lcong48(po);
    libc.lcong48(pr);
    cmp_48(i == 2 ? 1000000 : 3000, "lcong48", i);
    if (i % 3 == 0) {
      unsigned short v[3] = {(unsigned short)i, 7, 9};
      cmp_seed48(v, "seed48 after lcong48");
      cmp_48(3000, "seed48 after lcong48", i);
    } else if (i % 3 == 1) {
      srand48(i);
      libc.srand48(i);
      cmp_48(3000, "srand48 after lcong48", i);
    }
  }
}

/* ---- strtok() ----------------------------------------------------------- */

enum { TOKBUF = 48 };
static char tok_o[TOKBUF], tok_r[TOKBUF];

static void tok_step(char *so, char *sr, const char *delim, long step) {
  char *o = strtok(so, delim), *r = libc.strtok(sr, delim);
  long oo = o ? o - tok_o : -1, or_ = r ? r - tok_r : -1;
  if (oo != or_)
    fail("strtok step %ld (delim \"%s\"): ckpt token at %ld, glibc at %ld",
         step, delim, oo, or_);
  if (memcmp(tok_o, tok_r, TOKBUF) != 0)
    fail("strtok step %ld (delim \"%s\"): strings differ", step, delim);
}

/* Filler after the string shows stray writes; the last byte stays NUL. */
static void tok_start(const char *s) {
  memset(tok_o, 'X', TOKBUF - 1);
  memset(tok_r, 'X', TOKBUF - 1);
  strcpy(tok_o, s);
  strcpy(tok_r, s);
}

static void test_strtok(void) {
  /* Hand-written cases: leading, repeated and trailing delimiters, empty
   * and delimiter-only strings, the delimiter set changing between calls,
   * an empty delimiter set, and calls continuing after the end. */
  static const struct {
    const char *s;
    const char *delims[8]; /* per call; NULL ends */
  } cases[] = {
      {"  hello, world;; foo ,bar  ", {" ", ",", "; ", " ,;", " ,;", " ", " "}},
      {"a,b;c d", {",", ";", " ", ",", ",", ",", NULL}},
      {"", {" ", " ", NULL}},
      {";;;", {";", ";", NULL}},
      {"abc", {"", "", "x", NULL}},
      {"x=1&y=22&&z=", {"&", "=", "&", "=", "&", "=", "&", "="}},
      {"path/to//file.txt", {"/", "/", ".", "/", NULL}},
  };
  long step = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tok_start(cases[i].s);
    for (int j = 0; j < 8 && cases[i].delims[j]; j++, step++)
      tok_step(j == 0 ? tok_o : NULL, j == 0 ? tok_r : NULL,
               cases[i].delims[j], step);
  }

  /* Random strings and delimiter sets; a new string sometimes mid-way. */
  static const char alphabet[] = "ab ,;:";
  static const char delim_chars[] = " ,;:";
  int fresh = 1;
  for (; step < 300000; step++) {
    /* A new string is always passed in: continuing (s == NULL) over a
     * rewritten buffer could run past its end. */
    int start = fresh || below(8) == 0;
    if (start) {
      char s[TOKBUF];
      unsigned len = below(TOKBUF - 1);
      for (unsigned k = 0; k < len; k++)
        s[k] = alphabet[below(sizeof alphabet - 1)];
      s[len] = '\0';
      tok_start(s);
    }
    char delim[8];
    unsigned nd = 0;
    for (unsigned k = 0; k < sizeof delim_chars - 1; k++)
      if (below(2))
        delim[nd++] = delim_chars[k];
    delim[nd] = '\0';
    tok_step(start ? tok_o : NULL, start ? tok_r : NULL, delim, step);
    fresh = 0;
  }
}

/* ---- a simulated restart ------------------------------------------------
 * A checkpoint saves CKPT_SECTION_RTSTATE and the program's memory; a
 * restart writes both back. Do the same in-process: snapshot, record what
 * comes next, disturb every generator, write the snapshot back, and expect
 * the same continuation. The random() state is in a user buffer and strtok
 * is mid-string, so pointers into user memory are covered too. */

enum { AFTER = 2000 };
struct continuation {
  long r[AFTER], l[AFTER];
  double d[AFTER];
  long tok[AFTER / 100];
};

static void continue_all(struct continuation *c, char *text) {
  memset(c, 0, sizeof *c);
  for (int i = 0; i < AFTER; i++) {
    c->r[i] = random();
    c->l[i] = i & 1 ? lrand48() : mrand48();
    c->d[i] = drand48();
  }
  for (int i = 0; i < AFTER / 100; i++) {
    char *t = strtok(NULL, " ");
    c->tok[i] = t ? t - text : -1;
  }
}

static void test_restart(void) {
  size_t len = (size_t)(__stop_ckpt_rtstate - __start_ckpt_rtstate);
  if (len == 0)
    fail("section %s is empty", CKPT_SECTION_RTSTATE);
  static int32_t user_state[64];
  static char text[] = "the quick brown fox jumps over the lazy dog again";
  static char text_copy[sizeof text];
  static int32_t state_copy[64];

  initstate(99, (char *)user_state, sizeof user_state);
  for (int i = 0; i < 500; i++)
    random();
  unsigned short p[7] = {1, 2, 3, 0x1234, 0x5678, 0x9, 0x77};
  lcong48(p);
  for (int i = 0; i < 500; i++)
    drand48();
  strtok(text, " ");
  strtok(NULL, " ");

  char *saved = malloc(len);
  if (saved == NULL)
    fail("malloc");
  memcpy(saved, __start_ckpt_rtstate, len);
  memcpy(state_copy, user_state, sizeof user_state);
  memcpy(text_copy, text, sizeof text);

  static struct continuation before, after;
  continue_all(&before, text);

  /* Disturb everything, as a fresh process would have it (and worse). */
  char *old = setstate(ours_ptr[NSTATES]);
  if (old != (char *)user_state)
    fail("setstate did not return the user state buffer");
  srandom(1);
  srand48(5);
  static char other[] = "x y z";
  strtok(other, " ");
  memset(user_state, 0x5A, sizeof user_state);
  memset(text, 'Q', sizeof text - 1);

  /* "Restart": user memory and the section come back. */
  memcpy(user_state, state_copy, sizeof user_state);
  memcpy(text, text_copy, sizeof text);
  memcpy(__start_ckpt_rtstate, saved, len);
  free(saved);

  continue_all(&after, text);
  if (memcmp(&before, &after, sizeof before) != 0)
    fail("restored %s does not continue the sequences", CKPT_SECTION_RTSTATE);
  setstate(ours_ptr[NSTATES]);
}

/* ---- defaults ----------------------------------------------------------- */

/* Must run first: the generators' state before any seeding call. */
static void test_defaults(void) {
  cmp_random(1000000, "unseeded random", 0);
  cmp_48(1000000, "unseeded drand48", 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  resolve_all();
  test_defaults();
  test_srand();
  test_states();
  test_threads();
  test_rand_r();
  test_48();
  test_strtok();
  test_restart();
  printf("libcstate_test: ok\n");
  return 0;
}
