/* linked.c - e2e program: linked structures with every kind of pointer.
 *
 *   heap -> heap    treap children, doubly linked list, free list
 *   heap -> stack   list nodes link to a sentinel that is a local of main,
 *                   and half the nodes count into an array local to main
 *   heap -> global  the other half count into a global array
 *   global -> heap  the treap root, a ring of recent nodes, the free list
 *   stack -> heap   main's cursor walking the list
 *   heap -> rodata  every node carries a string-literal tag
 * Random inserts and deletes (a treap keeps the tree shallow); every 5% the
 * tree, the list and the counters are cross-checked and hashed.
 *
 * Usage: linked [scale]   (default 1; ~1.5 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

struct node {
  long key;
  uint32_t prio;
  struct node *left, *right; /* treap */
  struct node *next, *prev;  /* insertion-order list, sentinel on main's stack */
  long *counter;             /* into g_counts (global) or main's local array */
  const char *tag;           /* string literal */
  uint64_t payload;
};

static const char *const tags[] = {"red", "green", "blue", "cyan", "magenta",
                                   "yellow", "black", "white"};

static struct node *g_root;       /* global -> heap */
static struct node *g_recent[16]; /* global -> heap, may be NULL */
static struct node *g_freelist;   /* global -> heap, linked through ->right */
static long g_counts[8];          /* heap -> global */
static long g_size, g_reused, g_freed;

static struct node *rot_right(struct node *n) {
  struct node *l = n->left;
  n->left = l->right;
  l->right = n;
  return l;
}
static struct node *rot_left(struct node *n) {
  struct node *r = n->right;
  n->right = r->left;
  r->left = n;
  return r;
}

static struct node *treap_insert(struct node *t, struct node *n) {
  if (!t)
    return n;
  if (n->key < t->key) {
    t->left = treap_insert(t->left, n);
    if (t->left->prio > t->prio)
      t = rot_right(t);
  } else {
    t->right = treap_insert(t->right, n);
    if (t->right->prio > t->prio)
      t = rot_left(t);
  }
  return t;
}

/* Removes key from t; *out gets the removed node. */
static struct node *treap_delete(struct node *t, long key, struct node **out) {
  if (!t)
    return NULL;
  if (key < t->key) {
    t->left = treap_delete(t->left, key, out);
  } else if (key > t->key) {
    t->right = treap_delete(t->right, key, out);
  } else if (!t->left || !t->right) {
    *out = t;
    return t->left ? t->left : t->right;
  } else if (t->left->prio > t->right->prio) {
    t = rot_right(t);
    t->right = treap_delete(t->right, key, out);
  } else {
    t = rot_left(t);
    t->left = treap_delete(t->left, key, out);
  }
  return t;
}

static struct node *treap_find(struct node *t, long key) {
  while (t && t->key != key)
    t = key < t->key ? t->left : t->right;
  return t;
}

struct walk {
  long count;
  long prev_key;
  int maxdepth;
  uint64_t hash;
};

static void inorder(const struct node *t, int depth, struct walk *w) {
  if (!t)
    return;
  if (depth > w->maxdepth)
    w->maxdepth = depth;
  inorder(t->left, depth + 1, w);
  if (t->key <= w->prev_key) {
    printf("treap order broken at key %ld\n", t->key);
    exit(1);
  }
  w->prev_key = t->key;
  w->count++;
  w->hash = mix(w->hash, (uint64_t)t->key * 31 + t->payload + t->tag[0] +
                             (uint64_t)strlen(t->tag));
  inorder(t->right, depth + 1, w);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const long nops = 1600000L * scale;
  const long keyspace = 240000;
  long local_counts[8] = {0};     /* heap -> stack */
  struct node sentinel;           /* heap -> stack */
  struct node *cursor = &sentinel; /* stack -> heap (mostly) */
  memset(&sentinel, 0, sizeof sentinel);
  sentinel.next = sentinel.prev = &sentinel;
  sentinel.key = -1;
  sentinel.tag = "sentinel";

  printf("linked: %ld ops over %ld keys\n", nops, keyspace);
  uint64_t ophash = 0;
  for (long op = 0; op < nops; op++) {
    long key = (long)(rnd() % (uint32_t)keyspace);
    struct node *n = treap_find(g_root, key);
    if (n) {
      struct node *got = NULL;
      g_root = treap_delete(g_root, key, &got);
      if (got != n) {
        printf("delete returned the wrong node\n");
        exit(1);
      }
      if (cursor == n)
        cursor = n->next;
      n->prev->next = n->next;
      n->next->prev = n->prev;
      (*n->counter)--;
      for (int i = 0; i < 16; i++)
        if (g_recent[i] == n)
          g_recent[i] = NULL;
      ophash = mix(ophash, n->payload ^ (uint64_t)key);
      g_size--;
      if (rnd() & 1) {
        n->right = g_freelist;
        g_freelist = n;
      } else {
        free(n);
        g_freed++;
      }
    } else {
      if (g_freelist) {
        n = g_freelist;
        g_freelist = n->right;
        g_reused++;
      } else {
        n = malloc(sizeof *n);
        if (!n) {
          printf("out of memory\n");
          return 1;
        }
      }
      n->key = key;
      n->prio = rnd();
      n->left = n->right = NULL;
      n->payload = (uint64_t)key * 0x9E3779B1u;
      n->tag = tags[key & 7];
      n->counter = (key & 8) ? &g_counts[key & 7] : &local_counts[key & 7];
      (*n->counter)++;
      n->prev = sentinel.prev;
      n->next = &sentinel;
      sentinel.prev->next = n;
      sentinel.prev = n;
      g_root = treap_insert(g_root, n);
      g_recent[op & 15] = n;
      g_size++;
    }
    /* move the cursor a few steps and touch what it passes */
    int steps = (int)(rnd() & 3);
    for (int s = 0; s < steps; s++) {
      cursor = cursor->next;
      if (cursor != &sentinel)
        cursor->payload = mix(cursor->payload, (uint64_t)op);
    }
    struct node *rec = g_recent[rnd() & 15];
    if (rec)
      rec->payload += 1;

    if ((op + 1) % (nops / 20) == 0) {
      struct walk w = {0, -1, 0, 0};
      inorder(g_root, 0, &w);
      long listed = 0;
      uint64_t lh = 0;
      for (struct node *p = sentinel.next; p != &sentinel; p = p->next) {
        if (p->next->prev != p) {
          printf("list links broken\n");
          exit(1);
        }
        listed++;
        lh = mix(lh, (uint64_t)p->key ^ p->payload);
      }
      long counted = 0;
      for (int i = 0; i < 8; i++)
        counted += g_counts[i] + local_counts[i];
      long freelen = 0;
      for (struct node *p = g_freelist; p; p = p->right)
        freelen++;
      if (w.count != g_size || listed != g_size || counted != g_size) {
        printf("size mismatch: tree %ld list %ld counters %ld size %ld\n",
               w.count, listed, counted, g_size);
        exit(1);
      }
      printf("op %ld size %ld depth %d free %ld tree %016llx list %016llx "
             "ops %016llx cursor %s\n",
             op + 1, g_size, w.maxdepth, freelen, (unsigned long long)w.hash,
             (unsigned long long)lh, (unsigned long long)ophash,
             cursor->tag);
    }
  }
  printf("counts:");
  for (int i = 0; i < 8; i++)
    printf(" %s=%ld/%ld", tags[i], g_counts[i], local_counts[i]);
  printf("\ndone: size %ld reused %ld freed %ld\n", g_size, g_reused, g_freed);
  return 0;
}
