/* setjmp_interp.c - e2e program: a small stack-machine interpreter whose
 * every function call is a protected call, as Lua's and awk's are: the
 * interpreter loop runs under setjmp, nested calls push handlers, and
 * errors (division by zero, stack overflow, an explicit "throw") longjmp
 * to the innermost handler from deep in the evaluator. Some handlers are
 * sigsetjmp with a saved mask. Almost all of the time is spent under a
 * setjmp caller, so checkpoints land there; after a restart the jmp_bufs
 * set before the checkpoint must still be good.
 *
 * Usage: setjmp_interp [scale]   (default 1; ~1.5 s at -O2)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op { PUSH, ADD, MUL, DIV, DUP, SWAP, CALL, JNZ, DEC, THROW, POP, RND, RET };
struct insn {
  enum op op;
  int64_t arg;
};

struct handler {
  sigjmp_buf env;
  struct handler *prev;
  int level;
};

static struct handler *top_handler;
static uint64_t errors_by_code[8];
static uint64_t lcg = 0x853c49e6748fea9bULL;
static uint32_t rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg >> 33);
}

__attribute__((noinline, noreturn)) static void throw_error(int code) {
  siglongjmp(top_handler->env, code);
}

#define STACK_MAX 64
struct vm {
  int64_t stack[STACK_MAX];
  int sp;
  int depth;
  uint64_t steps;
};

static const struct insn *programs[4];

static int64_t run(struct vm *vm, const struct insn *code, int depth);

/* A protected call: an error inside unwinds to here; the call yields the
 * negated error code. */
__attribute__((noinline)) static int64_t pcall(struct vm *vm, int prog,
                                               int depth) {
  struct handler h;
  volatile int saved_sp = vm->sp;
  h.prev = top_handler;
  h.level = depth;
  top_handler = &h;
  int rc = sigsetjmp(h.env, depth % 4 == 0);
  if (rc) {
    top_handler = h.prev;
    vm->sp = saved_sp;
    errors_by_code[rc & 7]++;
    return -rc;
  }
  int64_t v = run(vm, programs[prog], depth + 1);
  top_handler = h.prev;
  return v;
}

static void push(struct vm *vm, int64_t v) {
  if (vm->sp == STACK_MAX)
    throw_error(3); /* stack overflow */
  vm->stack[vm->sp++] = v;
}
static int64_t pop(struct vm *vm) {
  if (vm->sp == 0)
    throw_error(4);
  return vm->stack[--vm->sp];
}

static int64_t run(struct vm *vm, const struct insn *code, int depth) {
  for (int pc = 0;; pc++) {
    vm->steps++;
    const struct insn *in = &code[pc];
    switch (in->op) {
    case PUSH: push(vm, in->arg); break;
    case ADD: push(vm, pop(vm) + pop(vm)); break;
    case MUL: push(vm, (pop(vm) * pop(vm)) % 1000003); break;
    case DIV: {
      int64_t d = pop(vm), n = pop(vm);
      if (d == 0)
        throw_error(2);
      push(vm, n / d);
      break;
    }
    case DUP: { int64_t v = pop(vm); push(vm, v); push(vm, v); break; }
    case SWAP: { int64_t a = pop(vm), b = pop(vm); push(vm, a); push(vm, b); break; }
    case CALL:
      if (depth < 12)
        push(vm, pcall(vm, (int)in->arg, depth));
      else
        push(vm, depth);
      break;
    case JNZ: if (pop(vm)) pc = (int)in->arg - 1; break;
    case DEC: push(vm, pop(vm) - 1); break;
    case THROW: if (rnd() % 7 == 0) throw_error(5); break;
    case POP: (void)pop(vm); break;
    case RND: push(vm, rnd() % 3); break;
    case RET: return vm->sp ? pop(vm) : 0;
    }
  }
}

/* Program 0: loop 40 times: call 1, call 2, accumulate. */
static const struct insn prog0[] = {
    {PUSH, 0},  {PUSH, 40},        /* acc, counter */
    {CALL, 1},  {CALL, 2},  {ADD, 0}, /* counter + r1 + r2 ... */
    {POP, 0},   {SWAP, 0},  {PUSH, 3}, {ADD, 0}, {SWAP, 0},
    {DEC, 0},   {DUP, 0},   {JNZ, 2},  {POP, 0}, {RET, 0}};
/* Program 1: arithmetic with a division that sometimes divides by zero. */
static const struct insn prog1[] = {
    {PUSH, 7}, {PUSH, 6}, {MUL, 0}, {THROW, 0}, {PUSH, 3}, {CALL, 3},
    {DIV, 0},  {ADD, 0},  {RET, 0}};
/* Program 2: recursion through protected calls, deep enough to overflow
 * the value stack now and then. */
static const struct insn prog2[] = {
    {PUSH, 1}, {PUSH, 2}, {PUSH, 3}, {PUSH, 4}, {PUSH, 5}, {RND, 0},
    {CALL, 2}, {ADD, 0},  {ADD, 0},  {ADD, 0},  {ADD, 0},  {ADD, 0},
    {MUL, 0},  {RET, 0}};
/* Program 3: yields 0, 1 or 2 at random (the divisor of program 1). */
static const struct insn prog3[] = {{RND, 0}, {RET, 0}};

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  programs[0] = prog0;
  programs[1] = prog1;
  programs[2] = prog2;
  programs[3] = prog3;
  struct vm vm = {.sp = 0};
  uint64_t checksum = 0;
  struct handler root;
  root.prev = NULL;
  root.level = -1;
  top_handler = &root;
  if (sigsetjmp(root.env, 1)) {
    printf("error escaped every handler\n");
    return 1;
  }
  for (int round = 0; round < 12000 * scale; round++) {
    int64_t v = pcall(&vm, round % 3 == 2 ? 1 : 0, 0);
    checksum = checksum * 31 + (uint64_t)v;
    if (round % 1000 == 0)
      printf("round %d: value %lld sp %d\n", round, (long long)v, vm.sp);
  }
  printf("steps %llu checksum %016llx\n", (unsigned long long)vm.steps,
         (unsigned long long)checksum);
  for (int i = 0; i < 8; i++)
    printf("errors[%d] = %llu\n", i, (unsigned long long)errors_by_code[i]);
  return 0;
}
