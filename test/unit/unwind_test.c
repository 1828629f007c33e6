/* test/unit/unwind_test.c - the CFI unwinder (runtime/unwind.c) on real frames:
 * walks recorded chains of functions of different shapes from this thread, from
 * another (blocked) thread, through qsort's callback, and from a switched stack
 * whose bottom frame marks its return address undefined; the cost per frame. */

/*
 * A chain is a recursion of noinline functions ("levels") whose shapes make
 * compilers lay frames out differently: no saved registers, many live values
 * (callee-saved registers), a 6000-byte array, a VLA and alloca (CFA from
 * rbp), a shrink-wrapped early exit, and an inline-asm call with rbx and
 * r12-r15 set to known values. Every level records its return address
 * (__builtin_return_address), its own address, the address of a local
 * (below its CFA, at or above its callee's), and where the frame pointer is
 * known (VLA/alloca, or builds with frame pointers), its exact CFA
 * (__builtin_frame_address + 16). The innermost level captures its registers
 * with ckpt_unwind_capture and the walk must reproduce every record, then
 * end with NOT_EXE (main's or a thread function's return into libc) or
 * BOTTOM (a stack entered with .cfi_undefined rip).
 *
 * Built several ways (test/unit/CMakeLists.txt): gcc and clang-19, -O0,
 * -O2 and -O2 with frame pointers, PIE and not, ld and lld, and gcc with
 * ASan+UBSan. UNWIND_TEST_VARIANT names the build in the output;
 * UNWIND_TEST_FRAME_POINTERS says every function keeps rbp as its frame
 * pointer, so every level's CFA is checked exactly.
 */

#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "unwind.h"

#ifndef UNWIND_TEST_VARIANT
#define UNWIND_TEST_VARIANT "default"
#endif

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNWIND_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNWIND_TEST_ASAN 1
#endif
#ifdef UNWIND_TEST_ASAN
/* Locals must live in their real frames (not ASan's fake stack) for the
 * address-of-a-local bounds to mean anything. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "detect_stack_use_after_return=0";
}
#endif

/* A level must be a real frame of its own, at its own symbol's address
 * (gcc would otherwise clone it as foo.constprop.0 or drop unused
 * arguments), and its call must not become a jump. */
#ifdef __clang__
#define LEVEL __attribute__((noinline, disable_tail_calls, used))
#else
#define LEVEL __attribute__((noipa, used))
#endif

/* ---- Chains -------------------------------------------------------------- */

#define MAX_LEVELS 64

struct level_record {
  uintptr_t ret;   /* return address into the caller */
  uintptr_t fn;    /* the level's own start address */
  uintptr_t local; /* a local's address: below the CFA */
  uintptr_t cfa;   /* exact CFA when the frame pointer is known, else 0 */
  int magic;       /* rbx/r12-r15 hold magic_value() at its call */
};

/* Unsigned: the shapes' arithmetic on pointers may wrap. */
typedef unsigned long word;
typedef word level_fn(int d, word chp, word a2, word a3, word a4, word a5,
                      word a6, word a7);

struct chain {
  int nlevels; /* levels nlevels-1 .. 0; chain_root above */
  level_fn *schedule[MAX_LEVELS];
  struct level_record rec[MAX_LEVELS + 1]; /* [nlevels]: chain_root */
  uintptr_t cfa[MAX_LEVELS + 1];           /* as found by the first walk */
  struct ckpt_unwind_regs captured;
  void (*at_innermost)(struct chain *);
  /* where the walk must end */
  uintptr_t stack_lo, stack_hi;
  int expect_end;
  uintptr_t expect_last_fn;
  const char *what;
  /* the thread case */
  sem_t ready, go;
};

static volatile word opaque = 7; /* defeats constant folding */
static volatile word sink;

#define NEXT(ch, d, x2, x3, x4, x5, x6, x7)                                    \
  ((ch)->schedule[(d)-1]((d)-1, (word)(ch), (x2), (x3), (x4), (x5), (x6), (x7)))

#define RECORD(ch, d, self, anchor, cfa_, magic_)                              \
  ((ch)->rec[d] = (struct level_record){                                       \
       (uintptr_t)__builtin_return_address(0), (uintptr_t)(self),              \
       (uintptr_t) & (anchor), (cfa_), (magic_)})

#define EXACT_CFA() ((uintptr_t)__builtin_frame_address(0) + 16)
#ifdef UNWIND_TEST_FRAME_POINTERS
#define CFA_IF_KNOWN() EXACT_CFA()
#else
#define CFA_IF_KNOWN() ((uintptr_t)0)
#endif

/* The value shape_asm_call puts in callee-saved register `base` (its
 * displacement in the asm below) at depth d. */
static uint64_t magic_value(int d, uint64_t base) {
  return base + (uint64_t)(d - 1);
}
#define MAGIC_RBX 0x0b000000u
#define MAGIC_R12 0x0c000000u
#define MAGIC_R13 0x0d000000u
#define MAGIC_R14 0x0e000000u
#define MAGIC_R15 0x0f000000u

LEVEL word capture_here(int d, word chp, word a2, word a3, word a4, word a5,
                        word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2 + a3 + a4 + a5 + a6 + a7;
  RECORD(ch, d, capture_here, anchor, CFA_IF_KNOWN(), 0);
  ckpt_unwind_capture(&ch->captured);
  ch->at_innermost(ch);
  return anchor;
}

LEVEL word shape_leafy(int d, word chp, word a2, word a3, word a4, word a5,
                       word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2;
  RECORD(ch, d, shape_leafy, anchor, CFA_IF_KNOWN(), 0);
  word r = NEXT(ch, d, a3, a4, a5, a6, a7, a2);
  sink = r;
  return r + anchor;
}

LEVEL word shape_many_live(int d, word chp, word a2, word a3, word a4, word a5,
                           word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2;
  RECORD(ch, d, shape_many_live, anchor, CFA_IF_KNOWN(), 0);
  word k = opaque;
  word v1 = a2 * k, v2 = a3 ^ k, v3 = a4 + k, v4 = a5 - k, v5 = a6 * 3 + k;
  word v6 = a7 * 5 - k, v7 = a2 ^ a7, v8 = a3 * a6 + k;
  word r = NEXT(ch, d, v1, v2, v3, v4, v5, v6);
  return r + v1 * v2 + v3 * v4 + v5 * v6 + v7 * v8 + (v1 ^ v8) + anchor;
}

LEVEL word shape_big_locals(int d, word chp, word a2, word a3, word a4, word a5,
                            word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile char buf[6000];
  volatile word anchor = a2;
  RECORD(ch, d, shape_big_locals, anchor, CFA_IF_KNOWN(), 0);
  buf[0] = (char)a3;
  buf[5999] = (char)a4;
  word r = NEXT(ch, d, (word)buf, a3, a4, a5, a6, a7);
  return r + buf[0] + buf[5999] + anchor;
}

LEVEL word shape_vla(int d, word chp, word a2, word a3, word a4, word a5,
                     word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2;
  size_t n = 100 + (size_t)(d * 37 + opaque) % 200;
  volatile char vla[n];
  RECORD(ch, d, shape_vla, anchor, EXACT_CFA(), 0);
  vla[0] = (char)a3;
  vla[n - 1] = (char)a4;
  word r = NEXT(ch, d, a2, (word)vla, a4, a5, a6, a7);
  return r + vla[0] + vla[n - 1] + anchor;
}

LEVEL word shape_alloca(int d, word chp, word a2, word a3, word a4, word a5,
                        word a6, word a7) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2;
  size_t n = 64 + (size_t)(d * 53 + opaque) % 300;
  volatile char *mem = __builtin_alloca(n);
  RECORD(ch, d, shape_alloca, anchor, EXACT_CFA(), 0);
  mem[0] = (char)a3;
  word r = NEXT(ch, d, a2, a3, (word)mem, a5, a6, a7);
  return r + mem[0] + anchor + a4;
}

/* A fast path needing no saved registers: gcc moves the prologue past it and
 * describes the early epilogue with remember_state/restore_state. */
LEVEL word shape_shrink_wrapped(int d, word chp, word a2, word a3, word a4,
                                word a5, word a6, word a7) {
  if (a2 == 123456789)
    return a3;
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = a2;
  RECORD(ch, d, shape_shrink_wrapped, anchor, CFA_IF_KNOWN(), 0);
  word v1 = a3 * opaque, v2 = a4 + opaque, v3 = a5 ^ opaque;
  word r = NEXT(ch, d, a2 + 1, a3, a4, a5, a6, a7);
  return r + v1 * v2 + v3 + anchor;
}

/* Called only from shape_asm_call's assembly, with register arguments. */
LEVEL word bridge_level(word d, word chp) {
  struct chain *ch = (struct chain *)chp;
  volatile word anchor = d;
  RECORD(ch, d, bridge_level, anchor, EXACT_CFA(), 0);
  /* The asm's call must have kept the ABI's alignment. */
  CHECK((EXACT_CFA() & 15) == 0, "bridge_level: CFA %#" PRIxPTR, EXACT_CFA());
  word r = NEXT(ch, (int)d, d, d, d, d, d, d);
  sink = r;
  return r + anchor;
}

LEVEL void escape(volatile word *p) { *p += 1; }

/* rbx and r12-r15 get known values right before the call, so the walk can
 * check that every frame below restored them. The call is hidden in asm, so
 * the real call to escape() keeps the function from being a leaf (which
 * could leave rsp misaligned or use the red zone). */
LEVEL word shape_asm_call(int d, word chp, word a2, word a3, word a4, word a5,
                          word a6, word a7) {
  volatile word anchor = a2 + a3 + a4 + a5 + a6 + a7;
  RECORD((struct chain *)chp, d, shape_asm_call, anchor, CFA_IF_KNOWN(), 1);
  escape(&anchor);
  word next_d = d - 1, ch = chp, ret;
  __asm__ volatile("lea 0x0b000000(%%rdi), %%rbx\n\t"
                   "lea 0x0c000000(%%rdi), %%r12\n\t"
                   "lea 0x0d000000(%%rdi), %%r13\n\t"
                   "lea 0x0e000000(%%rdi), %%r14\n\t"
                   "lea 0x0f000000(%%rdi), %%r15\n\t"
                   "call bridge_level\n\t"
                   : "+D"(next_d), "+S"(ch), "=a"(ret)
                   :
                   : "rbx", "r12", "r13", "r14", "r15", "rcx", "rdx", "r8",
                     "r9", "r10", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
  return ret + anchor;
}

LEVEL word chain_root(struct chain *ch) {
  volatile word anchor = ch->nlevels;
  RECORD(ch, ch->nlevels, chain_root, anchor, CFA_IF_KNOWN(), 0);
  word r = NEXT(ch, ch->nlevels, 11, 22, 33, 44, 55, 66);
  sink = r;
  return r + anchor;
}

/* Level 0 captures; above it the shapes repeat, a bridge (depth d) always
 * under its asm caller (d + 1); the schedule entry of a bridge is never
 * called through. */
static void make_chain(struct chain *ch, int nlevels,
                       void (*at_innermost)(struct chain *)) {
  static level_fn *const pattern[] = {
      shape_leafy,  shape_many_live,      shape_big_locals,  shape_vla,
      shape_alloca, shape_shrink_wrapped, NULL /* bridge */, shape_asm_call};
  const int npattern = (int)(sizeof pattern / sizeof pattern[0]);
  CHECK(nlevels <= MAX_LEVELS && (nlevels - 2) % npattern != 6, "chain of %d",
        nlevels);
  memset(ch, 0, sizeof *ch);
  ch->nlevels = nlevels;
  ch->schedule[0] = capture_here;
  for (int d = 1; d < nlevels; d++)
    ch->schedule[d] = pattern[(d - 1) % npattern];
  ch->at_innermost = at_innermost;
}

static void check_regs_of(const struct chain *ch, int level,
                          const struct ckpt_unwind_regs *r) {
  const struct level_record *l = &ch->rec[level];
  if (l->cfa)
    CHECK(r->rbp == l->cfa - 16,
          "%s: level %d: rbp %#" PRIx64 ", want %#" PRIxPTR, ch->what, level,
          r->rbp, l->cfa - 16);
  if (l->magic) {
    CHECK(r->rbx == magic_value(level, MAGIC_RBX) &&
              r->r12 == magic_value(level, MAGIC_R12) &&
              r->r13 == magic_value(level, MAGIC_R13) &&
              r->r14 == magic_value(level, MAGIC_R14) &&
              r->r15 == magic_value(level, MAGIC_R15),
          "%s: level %d: rbx %#" PRIx64 " r12 %#" PRIx64 " r13 %#" PRIx64
          " r14 %#" PRIx64 " r15 %#" PRIx64,
          ch->what, level, r->rbx, r->r12, r->r13, r->r14, r->r15);
  }
}

/* From the capture up through every level and chain_root, then on to where
 * the chain says the walk ends. */
static void check_walk(struct chain *ch) {
  struct ckpt_unwind_regs r = ch->captured;
  uintptr_t fn;
  int exact = 1;
  for (int i = 0; i <= ch->nlevels; i++) {
    const struct level_record *l = &ch->rec[i];
    int res = ckpt_unwind_step(&r, exact, ch->stack_lo, ch->stack_hi, &fn);
    exact = 0;
    CHECK(res == CKPT_UNWIND_OK, "%s: leaving level %d: %s", ch->what, i,
          ckpt_unwind_result_name(res));
    CHECK(fn == l->fn, "%s: level %d: function %#" PRIxPTR ", want %#" PRIxPTR,
          ch->what, i, fn, l->fn);
    CHECK(r.rip == l->ret, "%s: level %d: rip %#" PRIx64 ", want %#" PRIxPTR,
          ch->what, i, r.rip, l->ret);
    CHECK(r.rsp > l->local,
          "%s: level %d: CFA %#" PRIx64 " not above local %#" PRIxPTR, ch->what,
          i, r.rsp, l->local);
    if (l->cfa)
      CHECK(r.rsp == l->cfa, "%s: level %d: CFA %#" PRIx64 ", want %#" PRIxPTR,
            ch->what, i, r.rsp, l->cfa);
    if (i < ch->nlevels) {
      CHECK(r.rsp <= ch->rec[i + 1].local,
            "%s: level %d: CFA %#" PRIx64 " above caller's local %#" PRIxPTR,
            ch->what, i, r.rsp, ch->rec[i + 1].local);
      check_regs_of(ch, i + 1, &r);
    }
    ch->cfa[i] = r.rsp;
  }
  uintptr_t last_fn = ch->rec[ch->nlevels].fn;
  int res, extra = 0;
  while ((res = ckpt_unwind_step(&r, 0, ch->stack_lo, ch->stack_hi, &fn)) ==
             CKPT_UNWIND_OK &&
         extra < 100) {
    last_fn = fn;
    extra++;
  }
  CHECK(res == ch->expect_end, "%s: walk ended with %s", ch->what,
        ckpt_unwind_result_name(res));
  if (res == CKPT_UNWIND_BOTTOM)
    last_fn = fn;
  else
    CHECK(!ckpt_unwind_in_program(r.rip - 1), "%s: ended at %#" PRIx64, ch->what,
          r.rip);
  CHECK(last_fn == ch->expect_last_fn,
        "%s: outermost function %#" PRIxPTR ", want %#" PRIxPTR, ch->what,
        last_fn, ch->expect_last_fn);
}

/* The same walk through each way of finding FDEs; then stack bounds and
 * alignment that must stop it. */
static void check_walks(struct chain *ch) {
  for (int lookup = CKPT_UNWIND_TEST_TABLE;
       lookup <= CKPT_UNWIND_TEST_LINEAR_SCAN; lookup++) {
    ckpt_unwind_test_lookup = lookup;
    check_walk(ch);
  }
  ckpt_unwind_test_lookup = CKPT_UNWIND_TEST_TABLE;

  /* hi just below level k's CFA: its return address slot is out of bounds,
   * so k steps succeed and the next answers NO_INFO, leaving r alone. */
  int k = ch->nlevels / 2;
  struct ckpt_unwind_regs r = ch->captured, before;
  uintptr_t fn;
  for (int i = 0; i < k; i++)
    CHECK(ckpt_unwind_step(&r, i == 0, ch->stack_lo, ch->cfa[k] - 1, &fn) ==
              CKPT_UNWIND_OK,
          "%s: bounded walk, step %d", ch->what, i);
  before = r;
  int res = ckpt_unwind_step(&r, k == 0, ch->stack_lo, ch->cfa[k] - 1, &fn);
  CHECK(res == CKPT_UNWIND_NO_INFO && fn == 0 &&
            memcmp(&r, &before, sizeof r) == 0,
        "%s: bounded walk at level %d: %s", ch->what, k,
        ckpt_unwind_result_name(res));

  /* A CFA 4 bytes off, whichever register it comes from. */
  r = ch->captured;
  r.rsp += 4;
  r.rbp += 4;
  res = ckpt_unwind_step(&r, 1, ch->stack_lo, ch->stack_hi, &fn);
  CHECK(res == CKPT_UNWIND_NO_INFO, "%s: misaligned CFA: %s", ch->what,
        ckpt_unwind_result_name(res));
}

static void stack_bounds(pthread_t thread, uintptr_t *lo, uintptr_t *hi) {
  pthread_attr_t attr;
  void *addr;
  size_t size;
  CHECK(pthread_getattr_np(thread, &attr) == 0, "pthread_getattr_np");
  CHECK(pthread_attr_getstack(&attr, &addr, &size) == 0, "getstack");
  pthread_attr_destroy(&attr);
  *lo = (uintptr_t)addr;
  *hi = (uintptr_t)addr + size;
}

/* ---- This thread --------------------------------------------------------- */

LEVEL void run_here(struct chain *ch) {
  volatile word anchor = chain_root(ch);
  sink = anchor;
}

static void test_this_thread(void) {
  static struct chain ch;
  make_chain(&ch, 42, check_walks);
  ch.what = "this thread";
  stack_bounds(pthread_self(), &ch.stack_lo, &ch.stack_hi);
  ch.expect_end = CKPT_UNWIND_NOT_PROGRAM;
  extern int main(void);
  ch.expect_last_fn = (uintptr_t)main;
  run_here(&ch);
}

/* ---- Another thread, blocked --------------------------------------------- */

static void block_until_walked(struct chain *ch) {
  sem_post(&ch->ready);
  while (sem_wait(&ch->go) != 0)
    ;
}

LEVEL void *blocked_thread(void *arg) {
  struct chain *ch = arg;
  volatile word anchor = chain_root(ch);
  sink = anchor;
  return NULL;
}

static void test_other_thread(void) {
  static struct chain ch;
  make_chain(&ch, 34, block_until_walked);
  ch.what = "blocked thread";
  ch.expect_end = CKPT_UNWIND_NOT_PROGRAM;
  ch.expect_last_fn = (uintptr_t)blocked_thread;
  sem_init(&ch.ready, 0, 0);
  sem_init(&ch.go, 0, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, blocked_thread, &ch) == 0, "pthread_create");
  while (sem_wait(&ch.ready) != 0)
    ;
  stack_bounds(t, &ch.stack_lo, &ch.stack_hi);
  check_walks(&ch);
  sem_post(&ch.go);
  pthread_join(t, NULL);
}

/* ---- A callback from libc ------------------------------------------------ */

static int compared;

LEVEL int compare_and_walk(const void *a, const void *b) {
  if (compared++ == 0) {
    struct ckpt_unwind_regs r;
    ckpt_unwind_capture(&r);
    uintptr_t lo, hi, fn;
    stack_bounds(pthread_self(), &lo, &hi);
    int res = ckpt_unwind_step(&r, 1, lo, hi, &fn);
    CHECK(res == CKPT_UNWIND_OK && fn == (uintptr_t)compare_and_walk,
          "qsort: leaving the comparator: %s", ckpt_unwind_result_name(res));
    CHECK(r.rip == (uintptr_t)__builtin_return_address(0) &&
              !ckpt_unwind_in_program(r.rip),
          "qsort: return address %#" PRIx64, r.rip);
    struct ckpt_unwind_regs before = r;
    res = ckpt_unwind_step(&r, 0, lo, hi, &fn);
    CHECK(res == CKPT_UNWIND_NOT_PROGRAM && fn == 0 &&
              memcmp(&r, &before, sizeof r) == 0,
          "qsort: step into libc: %s", ckpt_unwind_result_name(res));
  }
  return (*(const int *)a > *(const int *)b) -
         (*(const int *)a < *(const int *)b);
}

static void test_qsort_callback(void) {
  int v[] = {5, 3, 9, 1};
  qsort(v, 4, sizeof v[0], compare_and_walk);
  CHECK(compared > 0 && v[0] == 1 && v[3] == 9, "qsort");
}

/* ---- The bottom of a stack --------------------------------------------------
 * Two ways onto a fresh stack, both marking the return address undefined
 * once rsp has moved, as the runtime's enter_stack does: a C function with
 * inline asm (the proposed CFI for runtime/main.c), and an assembly
 * function that also remembers and restores its CFI state around the
 * switch so that it can return. */

LEVEL word bottom_entry(struct chain *ch) {
  volatile word anchor = chain_root(ch);
  return anchor;
}

LEVEL void enter_stack_like(uintptr_t top, struct chain *ch) {
  __asm__ volatile("mov %%rsp, %%rbx\n\t"
                   ".cfi_remember_state\n\t"
                   "mov %0, %%rsp\n\t"
                   ".cfi_undefined %%rip\n\t"
                   "mov %1, %%rdi\n\t"
                   "call bottom_entry\n\t"
                   "mov %%rbx, %%rsp\n\t"
                   ".cfi_restore_state\n\t"
                   :
                   : "r"(top), "r"(ch)
                   : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
                     "r10", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

/* run_on_stack(fn, arg, top): fn(arg) on the stack below top. */
void run_on_stack(word (*fn)(struct chain *), struct chain *arg, uintptr_t top);
__asm__(".pushsection .text\n"
        ".globl run_on_stack\n"
        ".type run_on_stack, @function\n"
        "run_on_stack:\n"
        ".cfi_startproc\n"
        "push %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "mov %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        ".cfi_remember_state\n"
        "mov %rdx, %rsp\n"
        ".cfi_undefined %rip\n"
        "mov %rdi, %rax\n"
        "mov %rsi, %rdi\n"
        "call *%rax\n"
        "mov %rbp, %rsp\n"
        ".cfi_restore_state\n"
        "pop %rbp\n"
        ".cfi_def_cfa %rsp, 8\n"
        "ret\n"
        ".cfi_endproc\n"
        ".size run_on_stack, .-run_on_stack\n"
        ".popsection\n");

static void test_stack_bottom(void) {
  const size_t size = 1 << 20;
  char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(stack != MAP_FAILED, "mmap");
  static struct chain ch;
  for (int how = 0; how < 2; how++) {
    make_chain(&ch, 26, check_walks);
    ch.what = how ? "asm stack switch" : "inline-asm stack switch";
    ch.stack_lo = (uintptr_t)stack;
    ch.stack_hi = (uintptr_t)stack + size;
    ch.expect_end = CKPT_UNWIND_BOTTOM;
    uintptr_t top = ch.stack_hi - 64;
    if (how) {
      ch.expect_last_fn = (uintptr_t)run_on_stack;
      run_on_stack(bottom_entry, &ch, top);
    } else {
      ch.expect_last_fn = (uintptr_t)enter_stack_like;
      enter_stack_like(top, &ch);
    }
  }
  munmap(stack, size);
}

/* ---- Hand-written CFI ----------------------------------------------------
 * Operators and forms compilers seldom emit, in a function that is never
 * run: each label starts a CFI row, and a step from an exact pc at the label
 * over a made-up stack must give the caller that row describes. The CIE has
 * a personality (indirect pcrel), an LSDA and the signal-frame flag
 * ("zPLRS"); the skips force advance_loc2 and advance_loc4. */
extern const char cfi_probe[], cfi_probe_big_offset[], cfi_probe_sf[],
    cfi_probe_registers[], cfi_probe_expression[], cfi_probe_restored[],
    cfi_probe_cfa_expression[], cfi_probe_redefined[], cfi_probe_bottom[],
    cfi_probe_unknown_op[];
__asm__(".pushsection .data\n"
        ".p2align 3\n"
        "cfi_probe_personality_ref: .quad 0\n"
        "cfi_probe_lsda: .quad 0\n"
        ".popsection\n"
        ".pushsection .text\n"
        ".globl cfi_probe, cfi_probe_big_offset, cfi_probe_sf\n"
        ".globl cfi_probe_registers, cfi_probe_expression, cfi_probe_restored\n"
        ".globl cfi_probe_cfa_expression, cfi_probe_redefined\n"
        ".globl cfi_probe_bottom, cfi_probe_unknown_op\n"
        "cfi_probe:\n"
        ".cfi_startproc\n"
        ".cfi_personality 0x9b, cfi_probe_personality_ref\n"
        ".cfi_lsda 0x1b, cfi_probe_lsda\n"
        ".cfi_signal_frame\n"
        "nop\n"
        ".cfi_def_cfa_offset 6016\n"
        "cfi_probe_big_offset: nop\n"
        ".skip 300, 0x90\n"
        ".cfi_escape 0x12, 0x07, 0x7d\n" /* def_cfa_sf rsp, -3 * -8 */
        ".cfi_escape 0x11, 0x03, 0x02\n" /* offset_extended_sf rbx, 2 * -8 */
        ".cfi_offset %rbp, -24\n"
        ".cfi_escape 0x2e, 0x10\n" /* GNU_args_size 16 */
        "cfi_probe_sf: nop\n"
        ".skip 70000, 0x90\n"
        ".cfi_register %r12, %rbx\n"
        ".cfi_same_value %rbx\n"
        ".cfi_undefined %r13\n"
        ".cfi_escape 0x14, 0x0f, 0x01\n" /* val_offset r15, 1 * -8 */
        ".cfi_escape 0x13, 0x7c\n"       /* def_cfa_offset_sf -4 * -8 */
        ".cfi_escape 0x06, 0x06\n"       /* restore_extended rbp */
        "cfi_probe_registers: nop\n"
        ".cfi_remember_state\n"
        ".cfi_escape 0x10, 0x00, 0x01, 0x30\n" /* expression rax: dropped */
        ".cfi_escape 0x10, 0x03, 0x01, 0x30\n" /* expression rbx */
        "cfi_probe_expression: nop\n"
        ".cfi_restore_state\n"
        ".cfi_escape 0x2f, 0x0e, 0x03\n" /* GNU_negative_offset_ext r14, 3 */
        ".cfi_offset %rbp, -16\n"
        ".cfi_restore %rbp\n"
        "cfi_probe_restored: nop\n"
        ".cfi_escape 0x0f, 0x02, 0x77, 0x08\n" /* def_cfa_expression rsp+8 */
        "cfi_probe_cfa_expression: nop\n"
        ".cfi_def_cfa %rsp, 16\n"
        ".cfi_offset %rip, -16\n"
        "cfi_probe_redefined: nop\n"
        ".cfi_undefined %rip\n"
        "cfi_probe_bottom: nop\n"
        ".cfi_escape 0x2d\n" /* GNU_window_save: SPARC's */
        "cfi_probe_unknown_op: nop\n"
        "ret\n"
        ".cfi_endproc\n"
        ".popsection\n");

static _Alignas(16) uint64_t probe_stack[1024];

/* One step from `at` over probe_stack with known registers; *out is the
 * result, or the input registers when the step failed. */
static int probe_step(const char *at, int exact, struct ckpt_unwind_regs *out) {
  for (int i = 0; i < 1024; i++)
    probe_stack[i] = 0xabc000 + (uint64_t)i;
  struct ckpt_unwind_regs in = {(uintptr_t)at, (uintptr_t)probe_stack,
                                0x2222,        0x1111,
                                0x3333,        0x4444,
                                0x5555,        0x6666};
  *out = in;
  uintptr_t fn;
  int res = ckpt_unwind_step(out, exact, (uintptr_t)probe_stack,
                             (uintptr_t)(probe_stack + 1024), &fn);
  CHECK(res == CKPT_UNWIND_NO_INFO ? fn == 0 && memcmp(out, &in, sizeof in) == 0
                                   : fn == (uintptr_t)cfi_probe,
        "probe at +%td: %s, function %#" PRIxPTR, at - cfi_probe,
        ckpt_unwind_result_name(res), fn);
  return res;
}

static void expect_regs(const char *what, const struct ckpt_unwind_regs *got,
                        const struct ckpt_unwind_regs *want) {
  CHECK(memcmp(got, want, sizeof *got) == 0,
        "probe %s: rip %#" PRIx64 " rsp +%" PRId64 " rbp %#" PRIx64
        " rbx %#" PRIx64 " r12 %#" PRIx64 " r13 %#" PRIx64 " r14 %#" PRIx64
        " r15 %#" PRIx64,
        what, got->rip, (int64_t)(got->rsp - (uintptr_t)probe_stack), got->rbp,
        got->rbx, got->r12, got->r13, got->r14, got->r15);
}

static void test_hand_written_cfi(void) {
  const uint64_t s = (uintptr_t)probe_stack;
#define SLOT(i) (0xabc000 + (uint64_t)(i))
  struct ckpt_unwind_regs r;
  CHECK(probe_step(cfi_probe, 1, &r) == CKPT_UNWIND_OK, "entry");
  expect_regs("entry", &r,
              &(struct ckpt_unwind_regs){SLOT(0), s + 8, 0x2222, 0x1111, 0x3333,
                                         0x4444, 0x5555, 0x6666});
  CHECK(probe_step(cfi_probe_big_offset, 1, &r) == CKPT_UNWIND_OK, "big");
  expect_regs("big offset", &r,
              &(struct ckpt_unwind_regs){SLOT(751), s + 6016, 0x2222, 0x1111,
                                         0x3333, 0x4444, 0x5555, 0x6666});
  const struct ckpt_unwind_regs sf = {SLOT(2), s + 24, SLOT(0), SLOT(1),
                                      0x3333,  0x4444, 0x5555,  0x6666};
  CHECK(probe_step(cfi_probe_sf, 1, &r) == CKPT_UNWIND_OK, "sf");
  expect_regs("sf", &r, &sf);
  /* A return address one past the row's start looks the row up at rip-1. */
  CHECK(probe_step(cfi_probe_sf + 1, 0, &r) == CKPT_UNWIND_OK, "sf + 1");
  expect_regs("sf + 1", &r, &sf);
  CHECK(probe_step(cfi_probe_registers, 1, &r) == CKPT_UNWIND_OK, "regs");
  expect_regs("registers", &r,
              &(struct ckpt_unwind_regs){SLOT(3), s + 32, 0x2222, 0x1111,
                                         0x1111, 0, 0x5555, s + 24});
  CHECK(probe_step(cfi_probe_expression, 1, &r) == CKPT_UNWIND_NO_INFO,
        "expression");
  CHECK(probe_step(cfi_probe_restored, 1, &r) == CKPT_UNWIND_OK, "restored");
  expect_regs("restored", &r,
              &(struct ckpt_unwind_regs){SLOT(3), s + 32, 0x2222, 0x1111,
                                         0x1111, 0, SLOT(7), s + 24});
  CHECK(probe_step(cfi_probe_cfa_expression, 1, &r) == CKPT_UNWIND_NO_INFO,
        "CFA expression");
  CHECK(probe_step(cfi_probe_redefined, 1, &r) == CKPT_UNWIND_OK, "def_cfa");
  expect_regs("redefined", &r,
              &(struct ckpt_unwind_regs){SLOT(0), s + 16, 0x2222, 0x1111,
                                         0x1111, 0, SLOT(5), s + 8});
  CHECK(probe_step(cfi_probe_bottom, 1, &r) == CKPT_UNWIND_BOTTOM, "bottom");
  CHECK(probe_step(cfi_probe_unknown_op, 1, &r) == CKPT_UNWIND_NO_INFO,
        "unknown op");
#undef SLOT
}

/* ---- Odd input ----------------------------------------------------------- */

static void test_not_exe(void) {
  volatile long local = 0;
  struct ckpt_unwind_regs r = {0};
  uintptr_t fn = 1;
  CHECK(ckpt_unwind_in_program((uintptr_t)capture_here) &&
            ckpt_unwind_in_program((uintptr_t)ckpt_unwind_step) &&
            !ckpt_unwind_in_program((uintptr_t)&local) && !ckpt_unwind_in_program(0) &&
            !ckpt_unwind_in_program((uintptr_t)&opaque),
        "ckpt_unwind_in_program");
  CHECK(ckpt_unwind_step(&r, 0, 0, UINTPTR_MAX, &fn) == CKPT_UNWIND_NOT_PROGRAM &&
            fn == 0,
        "rip 0");
  r.rip = (uintptr_t)&local;
  r.rsp = (uintptr_t)&local;
  CHECK(ckpt_unwind_step(&r, 1, 0, UINTPTR_MAX, &fn) == CKPT_UNWIND_NOT_PROGRAM,
        "rip on the stack");
  /* A function's address outside the executable is libc's; inside it, a
   * canonical PLT entry (non-PIE), whose CFI is a DWARF expression (ld) or
   * absent (lld). */
  uintptr_t plt_or_libc = (uintptr_t)&qsort;
  r.rip = plt_or_libc + 6;
  int res = ckpt_unwind_step(&r, 1, 0, UINTPTR_MAX, &fn);
  CHECK(res == (ckpt_unwind_in_program(plt_or_libc) ? CKPT_UNWIND_NO_INFO
                                                : CKPT_UNWIND_NOT_PROGRAM),
        "qsort at %#" PRIxPTR ": %s", plt_or_libc,
        ckpt_unwind_result_name(res));
}

/* ---- Cost ---------------------------------------------------------------- */

#define DEEP 100000

struct timing {
  struct ckpt_unwind_regs regs;
  uintptr_t lo, hi;
  long steps;
  double best_ns_per_frame;
};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

LEVEL void time_walks(struct timing *t) {
  t->best_ns_per_frame = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    struct ckpt_unwind_regs r = t->regs;
    long steps = 0;
    int res;
    double t0 = now_ns();
    while ((res = ckpt_unwind_step(&r, steps == 0, t->lo, t->hi, NULL)) ==
           CKPT_UNWIND_OK)
      steps++;
    double ns = (now_ns() - t0) / (double)steps;
    CHECK(res == CKPT_UNWIND_NOT_PROGRAM && steps > DEEP,
          "deep walk: %ld steps, %s", steps, ckpt_unwind_result_name(res));
    t->steps = steps;
    if (ns < t->best_ns_per_frame)
      t->best_ns_per_frame = ns;
  }
}

LEVEL word deep(word n, struct timing *t) {
  volatile word anchor = n;
  word r = 0;
  if (n == 0) {
    ckpt_unwind_capture(&t->regs);
    time_walks(t);
  } else {
    r = deep(n - 1, t);
  }
  return r + anchor;
}

LEVEL void *deep_thread(void *arg) {
  struct timing *t = arg;
  stack_bounds(pthread_self(), &t->lo, &t->hi);
  sink = deep(DEEP, t);
  return NULL;
}

static void test_cost(void) {
  static struct timing t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, (size_t)256 << 20);
  pthread_t th;
  CHECK(pthread_create(&th, &attr, deep_thread, &t) == 0, "pthread_create");
  pthread_join(th, NULL);
  pthread_attr_destroy(&attr);
  printf("unwind_test: %s: %ld frames, %.1f ns/frame\n", UNWIND_TEST_VARIANT,
         t.steps, t.best_ns_per_frame);
}

int main(void) {
  CHECK(ckpt_unwind_init() == 0, "ckpt_unwind_init");
  CHECK(ckpt_unwind_init() == 0, "ckpt_unwind_init again");
  test_not_exe();
  test_hand_written_cfi();
  test_this_thread();
  test_other_thread();
  test_qsort_callback();
  test_stack_bottom();
  test_cost();
  printf("unwind_test: ok\n");
  return 0;
}
