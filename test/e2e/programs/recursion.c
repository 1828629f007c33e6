/* recursion.c - e2e program: deep recursion (5000-9000 frames), repeatedly.
 *
 * Every frame holds an address-taken local, a local array and a `struct link`
 * that points to the caller's link: the frames form a linked list on the
 * stack (stack -> stack pointers thousands of frames long). The child reads
 * its parent's array through a pointer and writes into its parent's local.
 * At the bottom the whole chain is walked. A second, binary recursion
 * (depth ~20, many calls) passes a buffer down by pointer.
 * After a restart every frame must be back at its address with its data.
 *
 * Usage: recursion [scale]   (default 1; ~1.3 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t lcg = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

struct link {
  const struct link *up;
  const uint32_t *arr; /* the owner frame's local array */
  uint64_t *acc;       /* the owner frame's address-taken local */
  int depth;
};

struct stats {
  long calls;
  int maxdepth;
  uint64_t walks;
};

#define NARR 6

static uint64_t walk_chain(const struct link *l) {
  uint64_t h = 0;
  int expect = l->depth;
  for (; l; l = l->up) {
    if (l->depth != expect) {
      printf("chain broken at depth %d (expected %d)\n", l->depth, expect);
      exit(1);
    }
    h = mix(h, l->arr[l->depth % NARR] ^ *l->acc);
    expect--;
  }
  if (expect != -1) {
    printf("chain too short\n");
    exit(1);
  }
  return h;
}

static uint64_t descend(const struct link *up, int target, int work,
                        struct stats *st) {
  uint32_t arr[NARR];
  uint64_t acc = 0;
  struct link me;
  me.up = up;
  me.arr = arr;
  me.acc = &acc;
  me.depth = up ? up->depth + 1 : 0;
  for (int i = 0; i < NARR; i++)
    arr[i] = (up ? up->arr[(i + me.depth) % NARR] : 7u) * 2654435761u +
             (uint32_t)me.depth + (uint32_t)i;
  st->calls++;
  if (me.depth > st->maxdepth)
    st->maxdepth = me.depth;

  uint64_t w = acc;
  for (int k = 0; k < work; k++)
    w = mix(w, arr[k % NARR] ^ (uint32_t)k);
  acc = w;

  uint64_t r;
  if (me.depth < target) {
    r = descend(&me, target, work, st);
    /* the child wrote into acc through me.acc */
  } else {
    r = walk_chain(&me);
    st->walks++;
  }
  for (int k = 0; k < work; k++)
    r = mix(r, arr[(k + 1) % NARR] + acc);
  if (up)
    *up->acc ^= r + arr[me.depth % NARR];
  return mix(acc, r);
}

/* Binary recursion with a buffer passed down by pointer and a local array. */
static uint64_t tree(int depth, uint32_t *buf, int pos) {
  uint32_t local[4];
  for (int i = 0; i < 4; i++)
    local[i] = buf[(pos + i) & 63] ^ (uint32_t)(depth * 31 + i);
  if (depth == 0) {
    buf[pos & 63] += local[0] * 3u + local[3];
    return local[1] ^ local[2];
  }
  uint64_t a = tree(depth - 1, buf, pos * 2 + 1);
  buf[(pos + depth) & 63] ^= (uint32_t)a;
  uint64_t b = tree(depth - 1, buf, pos * 2 + 2);
  return mix(mix(a, b), local[depth & 3]);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int rounds = 240 * scale;
  struct stats st = {0, 0, 0};
  uint64_t total = 0;
  uint32_t buf[64];
  for (int i = 0; i < 64; i++)
    buf[i] = (uint32_t)i * 0x01000193u;

  printf("recursion: %d rounds\n", rounds);
  for (int r = 0; r < rounds; r++) {
    int target = 5000 + (int)(rnd() % 4000);
    int work = 140 + (int)(rnd() % 120);
    uint64_t v = descend(NULL, target, work, &st);
    total = mix(total, v);
    if (r % 4 == 0)
      total = mix(total, tree(13, buf, r));
    if ((r + 1) % (rounds / 24) == 0)
      printf("round %d depth %d work %d calls %ld v %016llx total %016llx\n",
             r + 1, target, work, st.calls, (unsigned long long)v,
             (unsigned long long)total);
  }
  uint64_t bh = 0;
  for (int i = 0; i < 64; i++)
    bh = mix(bh, buf[i]);
  printf("done: calls %ld maxdepth %d walks %llu buf %016llx total %016llx\n",
         st.calls, st.maxdepth, (unsigned long long)st.walks,
         (unsigned long long)bh, (unsigned long long)total);
  return 0;
}
