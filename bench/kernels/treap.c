/* bench/kernels/treap.c - randomized search tree (treap): recursive insert
 * and delete with rotations, iterative lookups, an in-order sum; random
 * priorities from a fixed generator.
 *   treap [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct treap { struct treap *l, *r; uint32_t key, prio; long count; };

static uint64_t rng = 2463534242ULL;
static uint32_t next_rand(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static struct treap *rot_right(struct treap *t) { struct treap *l = t->l; t->l = l->r; l->r = t; return l; }
static struct treap *rot_left(struct treap *t) { struct treap *r = t->r; t->r = r->l; r->l = t; return r; }

static struct treap *insert(struct treap *t, uint32_t key) {
  if (!t) {
    t = malloc(sizeof *t);
    t->l = t->r = NULL; t->key = key; t->prio = next_rand(); t->count = 1;
    return t;
  }
  if (key == t->key) { t->count++; return t; }
  if (key < t->key) {
    t->l = insert(t->l, key);
    if (t->l->prio > t->prio) t = rot_right(t);
  } else {
    t->r = insert(t->r, key);
    if (t->r->prio > t->prio) t = rot_left(t);
  }
  return t;
}

static struct treap *erase(struct treap *t, uint32_t key, int *done) {
  if (!t) return NULL;
  if (key < t->key) { t->l = erase(t->l, key, done); return t; }
  if (key > t->key) { t->r = erase(t->r, key, done); return t; }
  if (!t->l || !t->r) {
    struct treap *c = t->l ? t->l : t->r;
    free(t);
    *done = 1;
    return c;
  }
  if (t->l->prio > t->r->prio) { t = rot_right(t); t->r = erase(t->r, key, done); }
  else { t = rot_left(t); t->l = erase(t->l, key, done); }
  return t;
}

static long inorder(const struct treap *t, long acc) {
  while (t) {
    acc = inorder(t->l, acc);
    acc = (acc * 31 + t->key * t->count) % 1000000007;
    t = t->r;
  }
  return acc;
}

static void destroy(struct treap *t) {
  if (!t) return;
  destroy(t->l); destroy(t->r); free(t);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  struct treap *root = NULL;
  long ops = 1500000L * scale / 100, found = 0, erased = 0;
  for (long i = 0; i < ops; i++) {
    uint32_t r = next_rand(), key = r % 300000;
    switch (r >> 29) {
    case 0: case 1: case 2: root = insert(root, key); break;
    case 3: { int done = 0; root = erase(root, key, &done); erased += done; break; }
    default: {
      const struct treap *t = root;
      while (t && t->key != key) t = key < t->key ? t->l : t->r;
      found += t ? t->count : 0;
    }
    }
  }
  printf("treap found=%ld erased=%ld hash=%ld\n", found, erased, inorder(root, 0));
  destroy(root);
  return 0;
}
