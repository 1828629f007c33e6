/* runtime/libcstate.c - rand/random/drand48/strtok whose hidden state lives in the checkpoint. */

/* A restart restores the program's memory but not libc's, so a program that
 * draws random numbers or tokenises with strtok() across a checkpoint would
 * silently continue from libc's freshly initialised state. libckpt therefore
 * defines these functions itself; being defined in the executable, they
 * interpose glibc's for every caller that binds through the symbol table.
 * They produce exactly glibc's sequences (written from the published
 * algorithms, checked against glibc by test/unit/libcstate_test.c), and keep
 * all their state in CKPT_SECTION_RTSTATE, which the runtime saves and
 * restores byte for byte. Functions whose state is passed in by the caller
 * (rand_r, *rand48_r, random_r, strtok_r) need nothing and are left to libc.
 * See docs/libc-state.md for what is and is not carried across a restart. */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/abi.h"

/* Saved with the checkpoint. `used` because the runtime reaches these
 * variables only through the section bounds, never by name. */
#define RTSTATE __attribute__((section(CKPT_SECTION_RTSTATE), used))

/* ---- random(), rand(), initstate(), setstate() --------------------------
 * The BSD additive feedback generator: w[f] += w[r]; output w[f] >> 1; both
 * taps advance cyclically, f staying `sep` words ahead of r. Type 0 is the
 * plain ANSI C LCG on one word. Seeding fills the words with the Park-Miller
 * minimal standard generator (x * 16807 mod 2^31-1) and discards 10 * deg
 * outputs to spread the seed.
 *
 * The caller's state buffer is one header word (RND_TYPES * r + type, or 0
 * for type 0) followed by the words. The header is only written when the
 * generator switches away from a buffer (initstate/setstate) and after
 * initstate seeds one, as glibc does; a program may copy such buffers and
 * hand them back to setstate(), so the layout must be the same. */

enum { RND_TYPES = 5, RND_DEFAULT_TYPE = 3, RND_DEFAULT_DEG = 31 };

static const struct {
  int deg;          /* words of state */
  int sep;          /* distance between the taps */
  size_t min_bytes; /* smallest initstate() buffer selecting this type */
} rnd_kind[RND_TYPES] = {
    {0, 0, 8}, {7, 3, 32}, {15, 1, 64}, {31, 3, 128}, {63, 1, 256}};

static struct {
  /* The state words (words[-1] is the header word). NULL until first use:
   * then the default buffer below, or user memory from initstate/setstate.
   * A pointer into user memory stays valid across a restart because ckpt
   * restores user memory at the same addresses. */
  int32_t *words;
  int type, deg, sep;
  int front, rear; /* tap indices into words[] */
} rnd RTSTATE;

/* The buffer random() uses before the program installs its own: header and
 * the 31 words of type 3, seeded with 1 on first use (the state glibc's
 * static table holds). Computed rather than tabulated to keep the constants
 * down to the algorithm's own. */
static int32_t rnd_default[1 + RND_DEFAULT_DEG] RTSTATE;

/* glibc serialises random() and friends, so threaded programs get each value
 * once. The lock is not saved: no thread can be parked inside these
 * functions at a checkpoint (they are not instrumented and never call back
 * into the program), so it is always free when the state is saved, and a
 * restarted process must start with it free. */
static pthread_mutex_t rnd_lock = PTHREAD_MUTEX_INITIALIZER;

static void rnd_install(int32_t *words, int type, int rear) {
  rnd.words = words;
  rnd.type = type;
  rnd.deg = rnd_kind[type].deg;
  rnd.sep = rnd_kind[type].sep;
  rnd.rear = type == 0 ? 0 : rear;
  rnd.front = type == 0 ? 0 : (rear + rnd.sep) % rnd.deg;
}

static int32_t rnd_header(void) {
  return rnd.type == 0 ? 0 : RND_TYPES * rnd.rear + rnd.type;
}

static int32_t rnd_next(void) {
  int32_t *w = rnd.words;
  if (rnd.type == 0) {
    uint32_t v = ((uint32_t)w[0] * 1103515245u + 12345u) & 0x7fffffffu;
    w[0] = (int32_t)v;
    return (int32_t)v;
  }
  /* Unsigned so that the wrap-around glibc relies on is defined. */
  uint32_t sum = (uint32_t)w[rnd.front] + (uint32_t)w[rnd.rear];
  w[rnd.front] = (int32_t)sum;
  /* The taps are `sep` apart, so at most one of them wraps per step. */
  if (++rnd.front == rnd.deg)
    rnd.front = 0;
  if (++rnd.rear == rnd.deg)
    rnd.rear = 0;
  return (int32_t)(sum >> 1);
}

static void rnd_seed(unsigned int seed) {
  int32_t *w = rnd.words;
  /* 0 would make the Park-Miller sequence all zeros. */
  w[0] = (int32_t)(seed != 0 ? seed : 1);
  if (rnd.type == 0)
    return;
  for (int i = 1; i < rnd.deg; i++) {
    /* 16807 * w mod (2^31 - 1) by Schrage's method (127773 = m / a,
     * 2836 = m % a) in 32-bit signed arithmetic. A seed >= 2^31 makes w[0]
     * negative; C's truncating division then gives the same words glibc
     * computes, which is what matters here. No step can overflow. */
    int32_t hi = w[i - 1] / 127773, lo = w[i - 1] % 127773;
    int32_t t = 16807 * lo - 2836 * hi;
    w[i] = t < 0 ? t + 2147483647 : t;
  }
  rnd.front = rnd.sep;
  rnd.rear = 0;
  for (int i = 0; i < 10 * rnd.deg; i++)
    (void)rnd_next();
}

/* Called with rnd_lock held by every entry point: sets up the default
 * generator as if by initstate(1, rnd_default, 128). */
static void rnd_ready(void) {
  if (rnd.words != NULL)
    return;
  rnd_install(rnd_default + 1, RND_DEFAULT_TYPE, 0);
  rnd_seed(1);
  rnd_default[0] = rnd_header();
}

long random(void) {
  pthread_mutex_lock(&rnd_lock);
  rnd_ready();
  int32_t v = rnd_next();
  pthread_mutex_unlock(&rnd_lock);
  return v;
}

void srandom(unsigned int seed) {
  pthread_mutex_lock(&rnd_lock);
  rnd_ready();
  rnd_seed(seed);
  pthread_mutex_unlock(&rnd_lock);
}

/* glibc's rand() is random() and srand() is srandom(): one shared state. */
int rand(void) { return (int)random(); }

void srand(unsigned int seed) { srandom(seed); }

char *initstate(unsigned int seed, char *state, size_t size) {
  pthread_mutex_lock(&rnd_lock);
  rnd_ready();
  char *old = (char *)(rnd.words - 1);
  /* Record where the old generator stopped, so setstate(old) resumes it;
   * glibc does this even when the new buffer is then rejected. */
  rnd.words[-1] = rnd_header();
  if (size < rnd_kind[0].min_bytes) {
    pthread_mutex_unlock(&rnd_lock);
    errno = EINVAL;
    return NULL;
  }
  int type = RND_TYPES - 1;
  while (size < rnd_kind[type].min_bytes)
    type--;
  int32_t *words = (int32_t *)(void *)state + 1;
  rnd_install(words, type, 0);
  rnd_seed(seed);
  words[-1] = rnd_header();
  pthread_mutex_unlock(&rnd_lock);
  return old;
}

char *setstate(char *state) {
  pthread_mutex_lock(&rnd_lock);
  rnd_ready();
  char *old = (char *)(rnd.words - 1);
  /* Written before the new header is read: setstate() of the buffer in use
   * must see the current position, as it does in glibc. */
  rnd.words[-1] = rnd_header();
  int32_t *words = (int32_t *)(void *)state + 1;
  int32_t header = words[-1];
  int type = header % RND_TYPES, rear = header / RND_TYPES;
  /* glibc rejects a negative type only; a rear tap outside the buffer
   * (which glibc would follow out of bounds) is rejected too. */
  if (type < 0 || (type != 0 && rear >= rnd_kind[type].deg)) {
    pthread_mutex_unlock(&rnd_lock);
    errno = EINVAL;
    return NULL;
  }
  rnd_install(words, type, rear);
  pthread_mutex_unlock(&rnd_lock);
  return old;
}

/* Stateless, but defined here so the algorithm is pinned to glibc's no matter
 * which libc the program runs on: three steps of the ANSI C LCG, taking 11,
 * 10 and 10 bits from bits 16 and up of each. */
int rand_r(unsigned int *seed) {
  static const unsigned int bits[3] = {11, 10, 10};
  unsigned int x = *seed, r = 0;
  for (int i = 0; i < 3; i++) {
    x = x * 1103515245u + 12345u;
    r = (r << bits[i]) ^ ((x >> 16) & ((1u << bits[i]) - 1));
  }
  *seed = x;
  return (int)r;
}

/* ---- drand48() family ----------------------------------------------------
 * POSIX's 48-bit LCG x' = (a * x + c) mod 2^48. The multiplier and addend
 * are shared by all callers, also by erand48/nrand48/jrand48 on the caller's
 * own x, so lcong48() affects those too (as in glibc); srand48 and seed48
 * put back the standard a and c. An unseeded generator starts from x = 0. */

#define D48_A 0x5DEECE66DULL
#define D48_C 0xBu
#define D48_MASK 0xFFFFFFFFFFFFULL

static struct {
  unsigned short x[3];    /* x, least significant 16 bits first */
  unsigned short prev[3]; /* seed48's result: x before the last seed48 */
  uint64_t a;
  unsigned short c;
} d48 RTSTATE = {.a = D48_A, .c = D48_C};

/* No lock, as in glibc: these are documented as not thread-safe. */

static uint64_t d48_step(unsigned short xsubi[3]) {
  uint64_t x = (uint64_t)xsubi[2] << 32 | (uint64_t)xsubi[1] << 16 | xsubi[0];
  x = (x * d48.a + d48.c) & D48_MASK;
  xsubi[0] = (unsigned short)x;
  xsubi[1] = (unsigned short)(x >> 16);
  xsubi[2] = (unsigned short)(x >> 32);
  return x;
}

/* The 48 bits become the top of the mantissa of a double in [1, 2), from
 * which 1 is subtracted: glibc's construction, bit for bit. */
double erand48(unsigned short xsubi[3]) {
  uint64_t bits = 0x3FF0000000000000ULL | d48_step(xsubi) << 4;
  double d;
  memcpy(&d, &bits, sizeof d);
  return d - 1.0;
}

double drand48(void) { return erand48(d48.x); }

/* The top 31 bits, non-negative. */
long nrand48(unsigned short xsubi[3]) { return (long)(d48_step(xsubi) >> 17); }

long lrand48(void) { return nrand48(d48.x); }

/* The top 32 bits as a signed 32-bit number. */
long jrand48(unsigned short xsubi[3]) {
  return (int32_t)(uint32_t)(d48_step(xsubi) >> 16);
}

long mrand48(void) { return jrand48(d48.x); }

void srand48(long seed) {
  /* Only the low 32 bits count (POSIX), placed above the constant 0x330E. */
  uint32_t s = (uint32_t)seed;
  d48.x[0] = 0x330E;
  d48.x[1] = (unsigned short)s;
  d48.x[2] = (unsigned short)(s >> 16);
  d48.a = D48_A;
  d48.c = D48_C;
}

unsigned short *seed48(unsigned short seed16v[3]) {
  /* Old x saved first, then the new one read: seed48(seed48(v)) thus leaves
   * x unchanged, as in glibc. */
  memcpy(d48.prev, d48.x, sizeof d48.prev);
  d48.x[0] = seed16v[0];
  d48.x[1] = seed16v[1];
  d48.x[2] = seed16v[2];
  d48.a = D48_A;
  d48.c = D48_C;
  return d48.prev;
}

void lcong48(unsigned short param[7]) {
  d48.x[0] = param[0];
  d48.x[1] = param[1];
  d48.x[2] = param[2];
  d48.a = (uint64_t)param[5] << 32 | (uint64_t)param[4] << 16 | param[3];
  d48.c = param[6];
}

/* ---- strtok() ------------------------------------------------------------
 * strtok_r does the work; only its save pointer (into the program's string,
 * restored at the same address) is hidden state. Like glibc, a first call
 * with s == NULL is undefined (strtok_r dereferences the NULL position). */

static char *strtok_pos RTSTATE;

char *strtok(char *restrict s, const char *restrict delim) {
  return strtok_r(s, delim, &strtok_pos);
}
