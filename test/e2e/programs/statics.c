/* statics.c - e2e program: static local variables in several functions.
 *
 *   collatz_len  a static memo array (1 Mi entries) plus hit/miss counters
 *   next_id      a static counter
 *   scratch      a static pointer to a lazily malloc'ed, realloc-grown
 *                buffer (static -> heap) and its static size
 *   fib_mod      a static memo table with a static "initialised" flag
 *   pick_name    a static table of string literals and a static pointer to
 *                the last one returned
 *   digit_sum    a static cache indexed by number, a static call counter
 * The state lives only in the statics, so a restart that loses or mixes up
 * any of them changes the printed counters and sums.
 *
 * Usage: statics [scale]   (default 1; ~1.1 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE (1u << 20)

static uint32_t collatz_len(uint64_t n, long *hits_out, long *misses_out) {
  static uint16_t cache[CACHE];
  static long hits, misses;
  uint32_t steps = 0;
  uint64_t x = n;
  while (x != 1) {
    if (x < CACHE && cache[x]) {
      hits++;
      steps += cache[x];
      break;
    }
    x = (x & 1) ? 3 * x + 1 : x / 2;
    steps++;
  }
  if (x == 1)
    misses++;
  if (n < CACHE)
    cache[n] = (uint16_t)steps;
  *hits_out = hits;
  *misses_out = misses;
  return steps;
}

static long next_id(void) {
  static long id = 1000;
  return id++;
}

/* A scratch buffer that lives in a static pointer and grows. */
static uint32_t *scratch(size_t n, size_t *cap_out) {
  static uint32_t *buf;
  static size_t cap;
  if (n > cap) {
    size_t nc = cap ? cap : 64;
    while (nc < n)
      nc *= 2;
    uint32_t *b = realloc(buf, nc * sizeof *b);
    if (!b) {
      printf("out of memory\n");
      exit(1);
    }
    memset(b + cap, 0, (nc - cap) * sizeof *b);
    buf = b;
    cap = nc;
  }
  *cap_out = cap;
  return buf;
}

static uint32_t fib_mod(unsigned n) {
  static int initialised;
  static uint32_t memo[4096];
  if (!initialised) {
    memo[0] = 0;
    memo[1] = 1;
    for (int i = 2; i < 4096; i++)
      memo[i] = (memo[i - 1] + memo[i - 2]) % 1000000007u;
    initialised = 1;
  }
  return memo[n % 4096];
}

static const char *pick_name(unsigned k) {
  static const char *const names[] = {"ant", "bee", "cat", "dog",
                                      "eel", "fox", "gnu", "hen"};
  static const char *last = "none";
  const char *prev = last;
  last = names[k % 8];
  return prev;
}

static unsigned digit_sum(uint32_t n, long *calls_out) {
  static unsigned char cache[1 << 16];
  static long calls;
  *calls_out = ++calls;
  if (n < (1u << 16) && cache[n])
    return cache[n];
  unsigned s = 0;
  for (uint32_t x = n; x; x /= 10)
    s += x % 10;
  if (n < (1u << 16))
    cache[n] = (unsigned char)s;
  return s;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const uint64_t limit = 20000000ULL * (uint64_t)scale;
  long hits = 0, misses = 0, dcalls = 0;
  uint64_t sum = 0, best_n = 1;
  uint32_t best = 0;
  size_t cap = 0;
  printf("statics: collatz up to %llu\n", (unsigned long long)limit);
  for (uint64_t n = 1; n <= limit; n++) {
    uint32_t len = collatz_len(n, &hits, &misses);
    sum += len;
    if (len > best) {
      best = len;
      best_n = n;
    }
    uint32_t *s = scratch(len + 1, &cap);
    s[len] += 1; /* histogram of lengths */
    sum += fib_mod(len) & 0xff;
    sum += digit_sum((uint32_t)(n % 100003), &dcalls);
    if (n % (limit / 20) == 0)
      printf("n %llu id %ld best %u at %llu sum %llu hits %ld misses %ld "
             "digits %ld cap %zu prev %s\n",
             (unsigned long long)n, next_id(), best,
             (unsigned long long)best_n, (unsigned long long)sum, hits,
             misses, dcalls, cap, pick_name((unsigned)(n / 7)));
  }
  uint32_t *hist = scratch(1, &cap);
  uint64_t hh = 0;
  uint32_t mode = 0;
  for (size_t i = 0; i < cap; i++) {
    hh = hh * 31 + hist[i];
    if (hist[i] > hist[mode])
      mode = (uint32_t)i;
  }
  printf("done: id %ld sum %llu histogram %016llx mode %u last name %s\n",
         next_id(), (unsigned long long)sum, (unsigned long long)hh, mode,
         pick_name(0));
  return 0;
}
