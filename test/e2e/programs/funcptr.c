/* funcptr.c - e2e program: function pointers and string literals in data.
 *
 * A constant global table of {name literal, function pointer}, a writable
 * global table of function pointers that is permuted as the program runs, a
 * heap-allocated dispatch table built from both, a heap list of callbacks,
 * a static function-pointer variable, and global/heap pointers to string
 * literals. A small bytecode interpreter dispatches through the heap table;
 * the names reached through the pointers are folded into the checksums, so
 * every code and rodata pointer must still be valid after a restart.
 *
 * Usage: funcptr [scale]   (default 1; ~1.3 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 0x0123456789ABCDEFULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

typedef uint64_t (*binop)(uint64_t, uint64_t);

static uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t op_sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ b; }
static uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static uint64_t op_rotl(uint64_t a, uint64_t b) {
  unsigned s = (unsigned)(b & 63);
  return s ? (a << s) | (a >> (64 - s)) : a;
}
static uint64_t op_mix(uint64_t a, uint64_t b) {
  a ^= b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2);
  return a;
}
static uint64_t op_min(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t op_div(uint64_t a, uint64_t b) { return a / (b % 97 + 1); }

struct op {
  const char *name; /* string literal */
  binop fn;
};

static const struct op g_ops[8] = {
    {"add", op_add}, {"sub", op_sub}, {"xor", op_xor}, {"mul", op_mul},
    {"rotl", op_rotl}, {"mix", op_mix}, {"min", op_min}, {"div", op_div}};

/* Writable global table, permuted at run time. */
static binop g_perm[8] = {op_add, op_sub, op_xor, op_mul,
                          op_rotl, op_mix, op_min, op_div};
/* Writable global pointers to string literals. */
static const char *g_phase = "warmup";
static const char *g_words[] = {"alpha", "bravo", "charlie", "delta",
                                "echo", "foxtrot", "golf", "hotel"};

/* A list of callbacks in the heap. */
struct callback {
  uint64_t (*fn)(uint64_t, uint64_t);
  const char *label;
  struct callback *next;
};

static uint64_t fold_name(uint64_t h, const char *s) {
  while (*s)
    h = h * 131 + (unsigned char)*s++;
  return h;
}

static const char *name_of(binop f) {
  for (int i = 0; i < 8; i++)
    if (g_ops[i].fn == f)
      return g_ops[i].name;
  return "?";
}

/* Bytecode: opcode in low 3 bits, operand in the rest. */
static uint64_t run_vm(const struct op *table, const uint32_t *code, int n,
                       uint64_t acc) {
  for (int pc = 0; pc < n; pc++) {
    const struct op *o = &table[code[pc] & 7];
    acc = o->fn(acc, code[pc] >> 3);
    acc += (unsigned char)o->name[0];
  }
  return acc;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  const int rounds = 30000 * scale;
  enum { CODE = 4096 };
  static binop s_last; /* static local function pointer */
  uint32_t *code = malloc(CODE * sizeof *code);
  struct op *heap_ops = malloc(8 * sizeof *heap_ops); /* heap -> code, rodata */
  struct callback *cbs = NULL;
  if (!code || !heap_ops)
    return 1;
  for (int i = 0; i < CODE; i++)
    code[i] = rnd();
  for (int i = 0; i < 8; i++)
    heap_ops[i] = g_ops[i];
  for (int i = 0; i < 24; i++) {
    struct callback *c = malloc(sizeof *c);
    if (!c)
      return 1;
    c->fn = g_ops[rnd() % 8].fn;
    c->label = g_words[rnd() % 8];
    c->next = cbs;
    cbs = c;
  }

  printf("funcptr: %d rounds, phase %s\n", rounds, g_phase);
  uint64_t acc = 1, names = 0;
  for (int r = 0; r < rounds; r++) {
    if (r == rounds / 3)
      g_phase = "middle";
    else if (r == 2 * rounds / 3)
      g_phase = "final";
    /* shuffle the heap table's entries and the global permutation */
    int a = (int)(rnd() % 8), b = (int)(rnd() % 8);
    struct op t = heap_ops[a];
    heap_ops[a] = heap_ops[b];
    heap_ops[b] = t;
    binop f = g_perm[a];
    g_perm[a] = g_perm[b];
    g_perm[b] = f;
    /* mutate some code */
    code[rnd() % CODE] = rnd();

    acc = run_vm(heap_ops, code, CODE, acc);
    for (int i = 0; i < 8; i++) {
      acc = g_perm[i](acc, (uint64_t)i + 1);
      s_last = g_perm[i];
    }
    for (struct callback *c = cbs; c; c = c->next)
      acc = c->fn(acc, (uint64_t)strlen(c->label));
    /* rotate a callback's function and label */
    struct callback *c = cbs;
    for (int k = (int)(rnd() % 24); k > 0; k--)
      c = c->next;
    c->fn = heap_ops[r & 7].fn;
    c->label = g_words[(r + 3) & 7];

    if ((r + 1) % (rounds / 20) == 0) {
      names = 0;
      for (int i = 0; i < 8; i++)
        names = fold_name(names, heap_ops[i].name);
      for (int i = 0; i < 8; i++)
        names = fold_name(names, name_of(g_perm[i]));
      for (struct callback *p = cbs; p; p = p->next)
        names = fold_name(fold_name(names, p->label), name_of(p->fn));
      printf("round %d phase %s acc %016llx names %016llx table %s,%s,%s "
             "last %s\n",
             r + 1, g_phase, (unsigned long long)acc,
             (unsigned long long)names, heap_ops[0].name, heap_ops[1].name,
             name_of(g_perm[7]), name_of(s_last));
    }
  }
  printf("callbacks:");
  for (struct callback *p = cbs; p; p = p->next)
    printf(" %s/%s", p->label, name_of(p->fn));
  printf("\ndone: acc %016llx names %016llx\n", (unsigned long long)acc,
         (unsigned long long)names);
  return 0;
}
