/* bench/kernels/listchase.c - pointer chasing: a singly linked list whose
 * nodes are malloc'd one by one and linked in a shuffled order, walked many
 * times (a load-to-load dependency per step), then an iterative walk of a
 * binary search tree (descents to random keys).
 *   listchase [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node { struct node *next; uint64_t val; uint64_t pad[2]; };
struct tnode { struct tnode *l, *r; uint64_t key; };

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void) {
  rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1DULL;
}

static struct tnode *tree_insert(struct tnode *root, uint64_t key) {
  struct tnode *n = malloc(sizeof *n);
  n->l = n->r = NULL; n->key = key;
  if (!root) return n;
  struct tnode *t = root;
  for (;;) {
    struct tnode **slot = key < t->key ? &t->l : &t->r;
    if (!*slot) { *slot = n; return root; }
    t = *slot;
  }
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  const int n = 1 << 16;
  struct node **nodes = malloc(n * sizeof *nodes);
  for (int i = 0; i < n; i++) {
    nodes[i] = malloc(sizeof(struct node));
    nodes[i]->val = next_rand() & 0xffff;
  }
  for (int i = n - 1; i > 0; i--) {            /* shuffle the link order */
    int j = next_rand() % (i + 1);
    struct node *t = nodes[i]; nodes[i] = nodes[j]; nodes[j] = t;
  }
  for (int i = 0; i < n; i++) nodes[i]->next = i + 1 < n ? nodes[i + 1] : NULL;
  struct node *head = nodes[0];

  uint64_t sum = 0;
  long walks = 300 * scale / 100;
  for (long w = 0; w < walks; w++) {
    for (struct node *p = head; p; p = p->next) {
      sum += p->val;
      if (p->val & 1) p->val += w & 3;
    }
  }

  struct tnode *root = NULL;
  for (int i = 0; i < 200000; i++) root = tree_insert(root, next_rand() % 10000000);
  uint64_t found = 0, depth = 0;
  long lookups = 2000000L * scale / 100;
  for (long i = 0; i < lookups; i++) {
    uint64_t key = next_rand() % 10000000;
    struct tnode *t = root;
    while (t && t->key != key) { t = key < t->key ? t->l : t->r; depth++; }
    found += t != NULL;
  }
  printf("listchase sum=%llu found=%llu depth=%llu\n", (unsigned long long)sum,
         (unsigned long long)found, (unsigned long long)depth);
  return 0;
}
