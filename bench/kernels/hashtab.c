/* bench/kernels/hashtab.c - hash table with chaining: string keys in
 * malloc'd nodes, inserts, lookups (hits and misses), deletes, and a
 * rehash when the load factor passes 1.
 *   hashtab [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { struct entry *next; uint64_t hash; long value; char key[24]; };
struct table { struct entry **buckets; size_t nbuckets, count; };

static uint64_t hash_str(const char *s) {          /* FNV-1a */
  uint64_t h = 1469598103934665603ULL;
  while (*s) { h ^= (unsigned char)*s++; h *= 1099511628211ULL; }
  return h;
}

static void rehash(struct table *t) {
  size_t nb = t->nbuckets * 2;
  struct entry **b = calloc(nb, sizeof *b);
  for (size_t i = 0; i < t->nbuckets; i++) {
    struct entry *e = t->buckets[i];
    while (e) {
      struct entry *next = e->next;
      e->next = b[e->hash & (nb - 1)];
      b[e->hash & (nb - 1)] = e;
      e = next;
    }
  }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = nb;
}

static struct entry *find(struct table *t, const char *key, uint64_t h) {
  for (struct entry *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) return e;
  return NULL;
}

static void put(struct table *t, const char *key, long value) {
  uint64_t h = hash_str(key);
  struct entry *e = find(t, key, h);
  if (e) { e->value += value; return; }
  e = malloc(sizeof *e);
  e->hash = h; e->value = value;
  strcpy(e->key, key);
  e->next = t->buckets[h & (t->nbuckets - 1)];
  t->buckets[h & (t->nbuckets - 1)] = e;
  if (++t->count > t->nbuckets) rehash(t);
}

static int del(struct table *t, const char *key) {
  uint64_t h = hash_str(key);
  struct entry **p = &t->buckets[h & (t->nbuckets - 1)];
  for (; *p; p = &(*p)->next)
    if ((*p)->hash == h && strcmp((*p)->key, key) == 0) {
      struct entry *e = *p;
      *p = e->next;
      free(e);
      t->count--;
      return 1;
    }
  return 0;
}

static void key_of(char *buf, unsigned long k) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
  char *p = buf;
  *p++ = 'k'; *p++ = '-';
  do { *p++ = digits[k & 31]; k >>= 5; } while (k);
  *p = 0;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  struct table t = { calloc(1024, sizeof(struct entry *)), 1024, 0 };
  uint64_t rng = 12345, sum = 0;
  long hits = 0, deleted = 0;
  char key[24];
  long ops = 5500000L * scale / 100;
  for (long i = 0; i < ops; i++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned long k = (rng >> 33) % 400000;
    key_of(key, k);
    switch ((rng >> 20) & 7) {
    case 0: case 1: case 2: put(&t, key, (long)k); break;
    case 3: deleted += del(&t, key); break;
    default: {
      struct entry *e = find(&t, key, hash_str(key));
      if (e) { hits++; sum += e->value; }
    }
    }
  }
  printf("hashtab count=%zu hits=%ld deleted=%ld sum=%llu\n", t.count, hits, deleted,
         (unsigned long long)sum);
  for (size_t i = 0; i < t.nbuckets; i++)
    for (struct entry *e = t.buckets[i], *n; e; e = n) { n = e->next; free(e); }
  free(t.buckets);
  return 0;
}
