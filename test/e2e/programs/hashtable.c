/* hashtable.c - e2e program: hash tables that grow with realloc.
 *
 * A chained table of strdup'ed string keys whose bucket array grows with
 * realloc and is rehashed in place, and an open-addressing table of integers
 * whose slot array also grows with realloc. Entries are inserted, counted,
 * updated and deleted; every 5% both tables are walked in bucket order and
 * hashed. The bucket arrays move in the heap while pointers to the entries
 * stay valid.
 *
 * Usage: hashtable [scale]   (default 1; ~1.3 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0xDEADBEEFCAFEF00DULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

/* ---- chained table of strings ---- */
struct entry {
  char *key; /* strdup */
  long count;
  uint64_t hash;
  struct entry *next;
};

struct strtab {
  struct entry **buckets;
  size_t nbuckets;
  size_t size;
  size_t grows;
};

static void strtab_grow(struct strtab *t) {
  size_t old = t->nbuckets, nb = old * 2;
  struct entry **b = realloc(t->buckets, nb * sizeof *b);
  if (!b) {
    printf("out of memory\n");
    exit(1);
  }
  memset(b + old, 0, old * sizeof *b);
  /* Split each old chain between bucket i and bucket i + old, in order. */
  for (size_t i = 0; i < old; i++) {
    struct entry *e = b[i], *lo = NULL, *hi = NULL, **lt = &lo, **ht = &hi;
    while (e) {
      struct entry *nx = e->next;
      e->next = NULL;
      if (e->hash & old) {
        *ht = e;
        ht = &e->next;
      } else {
        *lt = e;
        lt = &e->next;
      }
      e = nx;
    }
    b[i] = lo;
    b[i + old] = hi;
  }
  t->buckets = b;
  t->nbuckets = nb;
  t->grows++;
}

static struct entry *strtab_find(struct strtab *t, const char *key,
                                 uint64_t h) {
  for (struct entry *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

static struct entry *strtab_add(struct strtab *t, const char *key) {
  uint64_t h = fnv(key);
  struct entry *e = strtab_find(t, key, h);
  if (e) {
    e->count++;
    return e;
  }
  if (t->size + 1 > t->nbuckets * 3 / 4)
    strtab_grow(t);
  e = malloc(sizeof *e);
  if (!e || !(e->key = strdup(key))) {
    printf("out of memory\n");
    exit(1);
  }
  e->count = 1;
  e->hash = h;
  struct entry **b = &t->buckets[h & (t->nbuckets - 1)];
  e->next = *b;
  *b = e;
  t->size++;
  return e;
}

static int strtab_del(struct strtab *t, const char *key) {
  uint64_t h = fnv(key);
  for (struct entry **p = &t->buckets[h & (t->nbuckets - 1)]; *p;
       p = &(*p)->next) {
    struct entry *e = *p;
    if (e->hash == h && strcmp(e->key, key) == 0) {
      *p = e->next;
      free(e->key);
      free(e);
      t->size--;
      return 1;
    }
  }
  return 0;
}

static uint64_t strtab_hash(const struct strtab *t) {
  uint64_t h = 0;
  size_t n = 0;
  for (size_t i = 0; i < t->nbuckets; i++)
    for (const struct entry *e = t->buckets[i]; e; e = e->next) {
      h = mix(h, e->hash ^ (uint64_t)e->count);
      n++;
    }
  if (n != t->size) {
    printf("string table size mismatch %zu != %zu\n", n, t->size);
    exit(1);
  }
  return h;
}

/* ---- open addressing table of integers ---- */
struct inttab {
  uint64_t *keys; /* 0 = empty */
  uint32_t *vals;
  size_t cap, size, grows;
};

static void inttab_put(struct inttab *t, uint64_t k, uint32_t v);

static void inttab_grow(struct inttab *t) {
  size_t oldcap = t->cap;
  /* Copy the old contents out, grow both arrays with realloc, reinsert. */
  uint64_t *ok = malloc(oldcap * sizeof *ok);
  uint32_t *ov = malloc(oldcap * sizeof *ov);
  if (!ok || !ov) {
    printf("out of memory\n");
    exit(1);
  }
  memcpy(ok, t->keys, oldcap * sizeof *ok);
  memcpy(ov, t->vals, oldcap * sizeof *ov);
  t->cap = oldcap * 2;
  t->keys = realloc(t->keys, t->cap * sizeof *t->keys);
  t->vals = realloc(t->vals, t->cap * sizeof *t->vals);
  if (!t->keys || !t->vals) {
    printf("out of memory\n");
    exit(1);
  }
  memset(t->keys, 0, t->cap * sizeof *t->keys);
  t->size = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (ok[i])
      inttab_put(t, ok[i], ov[i]);
  free(ok);
  free(ov);
  t->grows++;
}

static void inttab_put(struct inttab *t, uint64_t k, uint32_t v) {
  if ((t->size + 1) * 10 > t->cap * 7)
    inttab_grow(t);
  size_t i = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 20) & (t->cap - 1);
  while (t->keys[i] && t->keys[i] != k)
    i = (i + 1) & (t->cap - 1);
  if (!t->keys[i])
    t->size++;
  t->keys[i] = k;
  t->vals[i] = v;
}

static uint32_t inttab_get(const struct inttab *t, uint64_t k) {
  size_t i = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 20) & (t->cap - 1);
  while (t->keys[i]) {
    if (t->keys[i] == k)
      return t->vals[i];
    i = (i + 1) & (t->cap - 1);
  }
  return 0;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const long nops = 2000000L * scale;
  struct strtab st = {NULL, 8, 0, 0};
  struct inttab it = {NULL, NULL, 16, 0, 0};
  st.buckets = calloc(st.nbuckets, sizeof *st.buckets);
  it.keys = calloc(it.cap, sizeof *it.keys);
  it.vals = calloc(it.cap, sizeof *it.vals);
  if (!st.buckets || !it.keys || !it.vals)
    return 1;

  static const char *const syll[] = {"ka", "lo", "mi", "nu", "re",
                                     "sa", "to", "vi", "xe", "zu"};
  char key[64];
  long deleted = 0;
  uint64_t look = 0;
  printf("hashtable: %ld ops\n", nops);
  for (long op = 0; op < nops; op++) {
    /* Keys come from a space that widens over time, so the tables grow. */
    uint32_t space = 1000 + (uint32_t)(op / 3);
    uint32_t id = rnd() % space;
    int len = 0;
    for (uint32_t x = id, k = 0; k < 2 || x; k++, x /= 10)
      len += snprintf(key + len, sizeof key - (size_t)len, "%s",
                      syll[x % 10]);
    key[len++] = '-';
    key[len++] = (char)('a' + id % 26);
    key[len] = 0;
    uint32_t r = rnd() % 16;
    if (r < 12) {
      struct entry *e = strtab_add(&st, key);
      inttab_put(&it, (uint64_t)id + 1, (uint32_t)e->count);
    } else if (r < 14) {
      deleted += strtab_del(&st, key);
    } else {
      look = mix(look, inttab_get(&it, (uint64_t)id + 1));
    }
    if ((op + 1) % (nops / 20) == 0)
      printf("op %ld strings %zu/%zu (grown %zu) ints %zu/%zu (grown %zu) "
             "deleted %ld str %016llx look %016llx\n",
             op + 1, st.size, st.nbuckets, st.grows, it.size, it.cap, it.grows,
             deleted, (unsigned long long)strtab_hash(&st),
             (unsigned long long)look);
  }
  uint64_t ih = 0;
  for (size_t i = 0; i < it.cap; i++)
    if (it.keys[i])
      ih = mix(ih, it.keys[i] * 131 + it.vals[i]);
  printf("done: strings %zu ints %zu int hash %016llx\n", st.size, it.size,
         (unsigned long long)ih);
  return 0;
}
