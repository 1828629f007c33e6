/* selfckpt.c - e2e program: the program asks for checkpoints itself.
 *
 * Conway's Life on a 384x384 torus with a history in the heap. At six points
 * of the run it calls ckpt_checkpoint(): twice from a call chain a few
 * frames deep and once from the bottom of a 64-deep recursion with locals
 * in every frame. Built with ckpt-cc (__CKPT__ defined) the calls take
 * checkpoints; built with plain clang they do nothing. Nothing printed
 * depends on what the calls return, so the output equals the plain build's.
 *
 * Usage: selfckpt [scale]   (default 1; ~0.9 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __CKPT__
#include <ckpt.h>
#else
static int ckpt_checkpoint(void) { return -2; }
#endif

#define W 384
#define H 384

static unsigned char grid[2][H + 2][W + 2]; /* with a border */
static volatile int g_sink; /* ckpt_checkpoint() results go nowhere else */
static int g_requests;

static void request_checkpoint(void) {
  g_requests++;
  g_sink += ckpt_checkpoint();
}

static uint64_t deep(int depth, const uint64_t *parent) {
  uint64_t local[3];
  local[0] = parent[0] * 31 + (uint64_t)depth;
  local[1] = parent[1] ^ local[0];
  local[2] = parent[2] + local[1];
  if (depth == 0) {
    request_checkpoint();
    return local[0] ^ local[1] ^ local[2];
  }
  uint64_t r = deep(depth - 1, local);
  return r * 3 + local[depth % 3];
}

static void checkpoint_here(int which) {
  if (which == 2) {
    uint64_t seed[3] = {1, 2, 3};
    g_sink += (int)(deep(64, seed) & 1);
  } else {
    request_checkpoint();
  }
}

/* One generation; the torus wraps through a one-cell border copied in. */
static int step(int cur) {
  int nxt = cur ^ 1;
  unsigned char(*a)[W + 2] = grid[cur];
  for (int y = 1; y <= H; y++) {
    a[y][0] = a[y][W];
    a[y][W + 1] = a[y][1];
  }
  memcpy(a[0], a[H], W + 2);
  memcpy(a[H + 1], a[1], W + 2);
  for (int y = 1; y <= H; y++) {
    const unsigned char *up = a[y - 1], *mid = a[y], *dn = a[y + 1];
    unsigned char *out = grid[nxt][y];
    for (int x = 1; x <= W; x++) {
      int n = up[x - 1] + up[x] + up[x + 1] + mid[x - 1] + mid[x + 1] +
              dn[x - 1] + dn[x] + dn[x + 1];
      out[x] = (unsigned char)(n == 3 || (n == 2 && mid[x]));
    }
  }
  return nxt;
}

static uint64_t grid_hash(int cur) {
  uint64_t h = 1469598103934665603ULL;
  for (int y = 1; y <= H; y++)
    for (int x = 1; x <= W; x++)
      h = (h ^ grid[cur][y][x]) * 1099511628211ULL;
  return h;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int gens = 2000 * scale;
  static const int at_percent[] = {8, 22, 38, 55, 70, 85};
  int next_ckpt = 0;
  uint64_t s = 42;
  for (int y = 1; y <= H; y++)
    for (int x = 1; x <= W; x++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      grid[0][y][x] = (s >> 60) < 5;
    }
  int *history = calloc((size_t)gens, sizeof *history);
  if (!history)
    return 1;
  printf("selfckpt: %d generations of %dx%d\n", gens, W, H);
  int cur = 0;
  for (int g = 0; g < gens; g++) {
    if (next_ckpt < 6 && g == gens * at_percent[next_ckpt] / 100) {
      checkpoint_here(next_ckpt);
      next_ckpt++;
    }
    /* re-seed a glider gun's worth of cells now and then, to keep it alive */
    if (g % 50 == 49)
      for (int k = 0; k < 400; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        grid[cur][1 + (s >> 20) % H][1 + (s >> 40) % W] = 1;
      }
    cur = step(cur);
    int alive = 0;
    for (int y = 1; y <= H; y++)
      for (int x = 1; x <= W; x++)
        alive += grid[cur][y][x];
    history[g] = alive;
    if ((g + 1) % (gens / 20) == 0)
      printf("generation %d alive %d hash %016llx requests %d\n", g + 1, alive,
             (unsigned long long)grid_hash(cur), g_requests);
  }
  long total = 0;
  int maxa = 0;
  for (int g = 0; g < gens; g++) {
    total += history[g];
    if (history[g] > maxa)
      maxa = history[g];
  }
  printf("done: total %ld max %d requests %d\n", total, maxa, g_requests);
  free(history);
  return 0;
}
