/* bench/kernels/dispatch.c - indirect-call dispatch: a small stack bytecode
 * VM whose every instruction is a tiny function called through a table of
 * function pointers.
 *   dispatch [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, DUP, DROP, JNZ, DEC, HALT, NOPS };
struct vm { int64_t stack[64]; int sp; int pc; int64_t locals[8]; const int32_t *code; int running; };
typedef void (*op_fn)(struct vm *);

static void op_push(struct vm *v) { v->stack[v->sp++] = v->code[v->pc + 1]; v->pc += 2; }
static void op_load(struct vm *v) { v->stack[v->sp++] = v->locals[v->code[v->pc + 1]]; v->pc += 2; }
static void op_store(struct vm *v) { v->locals[v->code[v->pc + 1]] = v->stack[--v->sp]; v->pc += 2; }
static void op_add(struct vm *v) { v->sp--; v->stack[v->sp - 1] += v->stack[v->sp]; v->pc++; }
static void op_sub(struct vm *v) { v->sp--; v->stack[v->sp - 1] -= v->stack[v->sp]; v->pc++; }
static void op_mul(struct vm *v) { v->sp--; v->stack[v->sp - 1] *= v->stack[v->sp]; v->pc++; }
static void op_xor(struct vm *v) { v->sp--; v->stack[v->sp - 1] ^= v->stack[v->sp]; v->pc++; }
static void op_shr(struct vm *v) { v->stack[v->sp - 1] = (uint64_t)v->stack[v->sp - 1] >> v->code[v->pc + 1]; v->pc += 2; }
static void op_dup(struct vm *v) { v->stack[v->sp] = v->stack[v->sp - 1]; v->sp++; v->pc++; }
static void op_drop(struct vm *v) { v->sp--; v->pc++; }
static void op_jnz(struct vm *v) { v->pc = v->stack[--v->sp] ? v->code[v->pc + 1] : v->pc + 2; }
static void op_dec(struct vm *v) { v->locals[v->code[v->pc + 1]]--; v->pc += 2; }
static void op_halt(struct vm *v) { v->running = 0; }

static op_fn ops[NOPS] = { op_push, op_load, op_store, op_add, op_sub, op_mul, op_xor,
                           op_shr, op_dup, op_drop, op_jnz, op_dec, op_halt };

static int64_t run(const int32_t *code, int64_t n, int64_t seed) {
  struct vm v = { .sp = 0, .pc = 0, .code = code, .running = 1 };
  v.locals[0] = n;
  v.locals[1] = seed;
  v.locals[2] = 0;
  while (v.running) ops[code[v.pc]](&v);
  return v.locals[2];
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  /* loop: x = x * 6364136223846793005 + 1442695040888963407 (low 32 bits of
   * the multiplier here); acc += x >> 17 ^ acc; n--; while n */
  static const int32_t prog[] = {
    /* 0 */ LOAD, 1, PUSH, 1103515245, MUL, PUSH, 12345, ADD, DUP, STORE, 1,
    /* 11 */ SHR, 17, LOAD, 2, XOR, LOAD, 2, PUSH, 3, MUL, ADD, STORE, 2,
    /* 24 */ DEC, 0, LOAD, 0, DUP, DROP, JNZ, 0,
    /* 32 */ HALT };
  int64_t total = 0;
  long rounds = 65 * scale / 100;
  if (rounds < 1) rounds = 1;
  for (long r = 0; r < rounds; r++) total += run(prog, 200000, r + 1);
  printf("dispatch total=%lld\n", (long long)total);
  return 0;
}
