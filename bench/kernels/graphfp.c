/* bench/kernels/graphfp.c - a heap graph with function pointers in its
 * data: nodes of several kinds, each carrying its own update function and a
 * malloc'd edge array; rounds of value propagation call node->update through
 * the node, and a mark-and-sweep style reachability walk follows the edges
 * with an explicit stack.
 *   graphfp [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct gnode;
typedef int64_t (*update_fn)(struct gnode *, int64_t);
struct gnode {
  update_fn update;
  int64_t value, param;
  int nedges, mark;
  struct gnode **edges;
};

static int64_t upd_add(struct gnode *n, int64_t in) { return n->value + in + n->param; }
static int64_t upd_mix(struct gnode *n, int64_t in) { return (n->value ^ in) * 31 + n->param; }
static int64_t upd_max(struct gnode *n, int64_t in) { return (in > n->value ? in : n->value) - 1; }
static int64_t upd_avg(struct gnode *n, int64_t in) { return (n->value + in) / 2 + (n->param & 3); }
static int64_t upd_neg(struct gnode *n, int64_t in) { return n->param - in / 3; }
static const update_fn kinds[] = { upd_add, upd_mix, upd_max, upd_avg, upd_neg };

static uint64_t rng = 0x1234567ULL;
static uint64_t next_rand(void) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return rng >> 17;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  const int n = 100000;
  struct gnode **nodes = malloc(n * sizeof *nodes);
  for (int i = 0; i < n; i++) {
    struct gnode *g = malloc(sizeof *g);
    g->update = kinds[next_rand() % 5];
    g->value = (int64_t)(next_rand() % 1000);
    g->param = (int64_t)(next_rand() % 17);
    g->mark = 0;
    nodes[i] = g;
  }
  for (int i = 0; i < n; i++) {
    struct gnode *g = nodes[i];
    g->nedges = 1 + next_rand() % 6;
    g->edges = malloc(g->nedges * sizeof *g->edges);
    for (int e = 0; e < g->nedges; e++)
      g->edges[e] = nodes[(i + 1 + (int)(next_rand() % (e == 0 ? 8 : n))) % n];
  }
  struct gnode **stack = malloc((size_t)n * 8 * sizeof *stack);
  int64_t check = 0;
  long rounds = 45 * scale / 100, reached = 0;
  if (rounds < 1) rounds = 1;
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < n; i++) {                 /* propagate along edges */
      struct gnode *g = nodes[i];
      for (int e = 0; e < g->nedges; e++) {
        struct gnode *d = g->edges[e];
        d->value = d->update(d, g->value) & 0xfffff;
      }
    }
    int sp = 0;                                   /* reachability from node r */
    stack[sp++] = nodes[(r * 7919) % n];
    while (sp) {
      struct gnode *g = stack[--sp];
      if (g->mark == r + 1) continue;
      g->mark = (int)r + 1;
      reached++;
      check += g->update(g, (int64_t)r) & 0xff;
      for (int e = 0; e < g->nedges; e++)
        if (g->edges[e]->mark != r + 1) stack[sp++] = g->edges[e];
    }
  }
  for (int i = 0; i < n; i++) check += nodes[i]->value;
  printf("graphfp reached=%ld check=%lld\n", reached, (long long)check);
  for (int i = 0; i < n; i++) { free(nodes[i]->edges); free(nodes[i]); }
  free(nodes); free(stack);
  return 0;
}
