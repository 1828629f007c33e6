/* test/unit/context_test.c - register contexts (runtime/context.c): a
 * computation interrupted by signals at random moments and resumed from
 * the captured context over a clobbered and restored stack must end with
 * exactly the result of an uninterrupted run; walks from interrupted
 * contexts; fitting FP images to the CPU; captures from made-up signal
 * frames; and the cost of a capture, a walk and a resume. */

/*
 * The computation ("compute", assembly below) runs on a stack of its own,
 * U, entered from C by start_compute. It keeps live values in 13 general
 * registers, three red-zone slots, the flags (CF from an add at the top of
 * the loop is consumed by an adc at the bottom), the x87 stack with a
 * truncating control word, MXCSR set to round toward zero, and vector
 * registers: XMM0-15 (mode SSE), YMM0-15 (AVX2) or ZMM0-31 and k1-k7
 * (AVX-512). Every 32 iterations it saves everything on U (XSAVE) and
 * calls two C functions with locals, so interruptions also land in
 * compiled frames above it. Its CFI marks it as a stack's bottom.
 *
 * The handler of SIGUSR1 (sent by a signaller thread at random moments)
 * captures the context, walks it (frame_ok accepts the C helpers and
 * takes compute as the bottom; anything else -- start_compute, the resume
 * itself, C code of the runner -- is refused and the signal ignored),
 * saves U from rsp - 128 to its top, and redirects the thread into
 * compute_epilogue, which returns 0 ("parked") from start_compute /
 * resume_compute. The runner then fills U with garbage, copies the saved
 * bytes back, and resumes the context with resume_compute -- from the same
 * thread or from a new one, from an aligned or a misaligned copy, through
 * XRSTOR or (for SSE runs) through an FXSAVE image converted either way.
 * The final registers, red-zone slots and FP state are compared with the
 * uninterrupted run's byte for byte.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "context.h"
#include "unwind.h"

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
#define CONTEXT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CONTEXT_TEST_ASAN 1
#endif
#ifdef CONTEXT_TEST_ASAN
#include <sanitizer/asan_interface.h>
/* Frames abandoned on U (a helper interrupted and parked) leave their
 * redzones poisoned; U is rewritten wholesale before every resume. */
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
/* Locals must live on U, not on ASan's fake stack, for U's bytes to be
 * the computation's whole state. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "detect_stack_use_after_return=0";
}
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#ifdef __clang__
#define LEVEL __attribute__((noinline, disable_tail_calls, used))
#else
#define LEVEL __attribute__((noipa, used))
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

/* Copies that neither ASan nor the compiler looks into: U's bytes include
 * redzones of frames that are live on U but unknown to ASan. */
static void raw_copy(void *dst, const void *src, size_t n) {
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- The computation's state (offsets used by the assembly) ------------- */

#define S_VEC_INIT 0
#define S_VEC_STEP 8
#define S_VEC_STORE 16
#define S_ITER 24
#define S_HAS_XSAVE 32
#define S_MXCSR 40
#define S_FCW 48
#define S_X87 56
#define S_GIN 72
#define S_KIN 200
#define S_VIN 320
#define S_GOUT 2368
#define S_FLAGS 2496
#define S_KOUT 2504
#define S_X87OUT 2568
#define S_MXCSROUT 2576
#define S_FCWOUT 2584
#define S_VOUT 2624
#define S_SIZE 4672

struct compute_state {
  uint64_t vec_init, vec_step, vec_store; /* the mode's blocks */
  uint64_t iterations, has_xsave, mxcsr, fcw;
  double x87[2]; /* accumulator, multiplier */
  uint64_t gin[16]; /* rax rbx rcx rdx rsi rbp r8-r14, 3 red-zone slots */
  uint64_t kin[8];
  uint64_t pad0[7];
  _Alignas(64) unsigned char vin[32][64];
  /* Output, compared byte for byte from gout to the end. */
  uint64_t gout[16];
  uint64_t flags;
  uint64_t kout[8];
  double x87out;
  uint64_t mxcsrout, fcwout;
  uint64_t pad1[4];
  _Alignas(64) unsigned char vout[32][64];
};
_Static_assert(offsetof(struct compute_state, iterations) == S_ITER &&
                   offsetof(struct compute_state, has_xsave) == S_HAS_XSAVE &&
                   offsetof(struct compute_state, mxcsr) == S_MXCSR &&
                   offsetof(struct compute_state, fcw) == S_FCW &&
                   offsetof(struct compute_state, x87) == S_X87 &&
                   offsetof(struct compute_state, gin) == S_GIN &&
                   offsetof(struct compute_state, kin) == S_KIN &&
                   offsetof(struct compute_state, vin) == S_VIN &&
                   offsetof(struct compute_state, gout) == S_GOUT &&
                   offsetof(struct compute_state, flags) == S_FLAGS &&
                   offsetof(struct compute_state, kout) == S_KOUT &&
                   offsetof(struct compute_state, x87out) == S_X87OUT &&
                   offsetof(struct compute_state, mxcsrout) == S_MXCSROUT &&
                   offsetof(struct compute_state, fcwout) == S_FCWOUT &&
                   offsetof(struct compute_state, vout) == S_VOUT &&
                   sizeof(struct compute_state) == S_SIZE,
               "the assembly's offsets");

/* The runner's rsp inside start_compute/resume_compute, for the way back. */
uint64_t ctx_w_rsp;

/* The C functions the computation calls: frames with locals on U. */
LEVEL uint64_t ctx_helper2(uint64_t x) {
  volatile uint64_t a[16];
  for (int i = 0; i < 16; i++)
    a[i] = x ^ ((uint64_t)i * UINT64_C(0x9e3779b97f4a7c15));
  uint64_t r = 0;
  for (int i = 0; i < 16; i++)
    r = ((r << 5) | (r >> 59)) + a[i];
  return r;
}

LEVEL uint64_t ctx_helper(uint64_t x) {
  volatile uint64_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = x + (uint64_t)i;
  uint64_t r = ctx_helper2(x * 3 + 1);
  return r ^ b[x & 7];
}

/* start_compute(s, top): runs compute(s) on the stack below top. 1 when it
 * finished, 0 when a signal parked it. resume_compute(s, c): resumes c
 * (compute or its helpers), same results. bench_stub: a resume target that
 * returns 2 at once. */
int start_compute(struct compute_state *s, uintptr_t top);
int resume_compute(struct compute_state *s, const struct ckpt_cpu_context *c);
extern const char compute[], compute_epilogue[], bench_stub[];
extern const char compute_vec_sse_init[], compute_vec_sse[],
    compute_vec_sse_store[], compute_vec_avx2_init[], compute_vec_avx2[],
    compute_vec_avx2_store[], compute_vec_avx512_init[], compute_vec_avx512[],
    compute_vec_avx512_store[];

/* The frame start_compute and resume_compute leave on the runner's stack:
 * 6 callee-saved registers and the runner's MXCSR. Their CFI, like every
 * function's here, marks the return address undefined: a walk stops there
 * and frame_ok refuses them. */
__asm__(
    ".pushsection .rodata\n"
    ".p2align 2\n"
    "ctx_default_mxcsr: .long 0x1f80\n"
    ".popsection\n"
    ".pushsection .text\n"

    ".globl start_compute\n"
    ".type start_compute, @function\n"
    ".p2align 4\n"
    "start_compute:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"
    "push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "sub $8, %rsp\n"
    "stmxcsr (%rsp)\n"
    "mov %rsp, ctx_w_rsp(%rip)\n"
    "mov %rsi, %rsp\n"
    "jmp compute\n"
    ".cfi_endproc\n"
    ".size start_compute, .-start_compute\n"

    ".globl resume_compute\n"
    ".type resume_compute, @function\n"
    ".p2align 4\n"
    "resume_compute:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"
    "push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "sub $8, %rsp\n"
    "stmxcsr (%rsp)\n"
    "mov %rsp, ctx_w_rsp(%rip)\n"
    "mov %rsi, %rdi\n"
    "call ckpt_context_resume\n"
    "ud2\n"
    ".cfi_endproc\n"
    ".size resume_compute, .-resume_compute\n"

    /* The way back, at the end or from the handler (rax = 0): the x87
     * stack and MXCSR become the runner's again (psABI). */
    ".globl compute_epilogue\n"
    ".type compute_epilogue, @function\n"
    ".p2align 4\n"
    "compute_epilogue:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"
    "mov ctx_w_rsp(%rip), %rsp\n"
    "fninit\n"
    "ldmxcsr (%rsp)\n"
    "add $8, %rsp\n"
    "pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n"
    "ret\n"
    ".cfi_endproc\n"
    ".size compute_epilogue, .-compute_epilogue\n"

    ".globl bench_stub\n"
    ".type bench_stub, @function\n"
    "bench_stub:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"
    "mov $2, %eax\n"
    "jmp compute_epilogue\n"
    ".cfi_endproc\n"
    ".size bench_stub, .-bench_stub\n"

    /* compute(rdi = s) on U. rdi stays s, r15 counts down. */
    ".globl compute\n"
    ".type compute, @function\n"
    ".p2align 4\n"
    "compute:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"
    "ldmxcsr " STR(S_MXCSR) "(%rdi)\n"
    "fninit\n"
    "fldcw " STR(S_FCW) "(%rdi)\n"
    "fldl " STR(S_X87) "+8(%rdi)\n"
    "fldl " STR(S_X87) "(%rdi)\n"
    "mov " STR(S_ITER) "(%rdi), %r15\n"
    "mov " STR(S_GIN) "+104(%rdi), %rax\n mov %rax, -8(%rsp)\n"
    "mov " STR(S_GIN) "+112(%rdi), %rax\n mov %rax, -72(%rsp)\n"
    "mov " STR(S_GIN) "+120(%rdi), %rax\n mov %rax, -128(%rsp)\n"
    "mov " STR(S_GIN) "+0(%rdi), %rax\n"
    "mov " STR(S_GIN) "+8(%rdi), %rbx\n"
    "mov " STR(S_GIN) "+16(%rdi), %rcx\n"
    "mov " STR(S_GIN) "+24(%rdi), %rdx\n"
    "mov " STR(S_GIN) "+32(%rdi), %rsi\n"
    "mov " STR(S_GIN) "+40(%rdi), %rbp\n"
    "mov " STR(S_GIN) "+48(%rdi), %r8\n"
    "mov " STR(S_GIN) "+56(%rdi), %r9\n"
    "mov " STR(S_GIN) "+64(%rdi), %r10\n"
    "mov " STR(S_GIN) "+72(%rdi), %r11\n"
    "mov " STR(S_GIN) "+80(%rdi), %r12\n"
    "mov " STR(S_GIN) "+88(%rdi), %r13\n"
    "mov " STR(S_GIN) "+96(%rdi), %r14\n"
    "jmp *" STR(S_VEC_INIT) "(%rdi)\n"

    "compute_loop:\n"
    "add %r8, %rax\n" /* CF: consumed by the adc below */
    "lea 0x5bd1(%rbx,%rax,2), %rbx\n"
    "mov -8(%rsp), %r11\n" /* red-zone slots carry values across */
    "mov %rcx, -8(%rsp)\n" /* iterations */
    "lea (%rcx,%rdx,4), %rcx\n"
    "not %rdx\n"
    "bswap %rsi\n"
    "xchg %rbp, %r9\n"
    "lea 1(%r10,%r11), %r10\n"
    "lea (%r8,%rbp), %r8\n"
    "lea (%r13,%r12,8), %r13\n"
    "mov -128(%rsp), %r12\n"
    "mov %r13, -128(%rsp)\n"
    "xchg %r14, -72(%rsp)\n"
    "lea (%r14,%rbx), %r14\n"
    "jmp *" STR(S_VEC_STEP) "(%rdi)\n" /* no flag changes until the adc */
    "compute_vec_done:\n"
    "fmul %st(1), %st\n"
    "adc %rdx, %rsi\n"
    "dec %r15\n"
    "jz compute_end\n"
    "test $31, %r15d\n"
    "jnz compute_loop\n"

    /* Every 32 iterations: everything onto U, call C, everything back. */
    "lea -128(%rsp), %rsp\n" /* keep the red-zone slots */
    "push %rax\n push %rbx\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
    "push %rbp\n push %r8\n push %r9\n push %r10\n push %r11\n push %r12\n"
    "push %r13\n push %r14\n push %r15\n"
    "mov %rsp, %rbp\n"
    "sub $12288, %rsp\n"
    "and $-64, %rsp\n"
    "cmpq $0, " STR(S_HAS_XSAVE) "(%rdi)\n"
    "je 1f\n"
    /* XSAVE writes only the XSTATE_BV bits of XCR0's components, and
     * XRSTOR faults on any other header bit: zero the header first. */
    "xor %eax, %eax\n"
    ".irp off,0,8,16,24,32,40,48,56\n"
    "mov %rax, 512+\\off(%rsp)\n"
    ".endr\n"
    "mov $-1, %eax\n mov $-1, %edx\n"
    "xsave64 (%rsp)\n"
    "jmp 2f\n"
    "1: fxsave64 (%rsp)\n"
    "2: fninit\n"
    "ldmxcsr ctx_default_mxcsr(%rip)\n"
    "mov 112(%rbp), %rdi\n" /* the saved rax */
    "call ctx_helper\n"
    "add %rax, 112(%rbp)\n"
    "mov 72(%rbp), %rdi\n" /* s */
    "cmpq $0, " STR(S_HAS_XSAVE) "(%rdi)\n"
    "je 3f\n"
    "mov $-1, %eax\n mov $-1, %edx\n"
    "xrstor64 (%rsp)\n"
    "jmp 4f\n"
    "3: fxrstor64 (%rsp)\n"
    "4: mov %rbp, %rsp\n"
    "pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %r11\n pop %r10\n"
    "pop %r9\n pop %r8\n pop %rbp\n pop %rdi\n pop %rsi\n pop %rdx\n"
    "pop %rcx\n pop %rbx\n pop %rax\n"
    "lea 128(%rsp), %rsp\n"
    "jmp compute_loop\n"

    "compute_end:\n"
    "jmp *" STR(S_VEC_STORE) "(%rdi)\n"
    "compute_store_done:\n"
    "mov %rax, " STR(S_GOUT) "+0(%rdi)\n"
    "mov %rbx, " STR(S_GOUT) "+8(%rdi)\n"
    "mov %rcx, " STR(S_GOUT) "+16(%rdi)\n"
    "mov %rdx, " STR(S_GOUT) "+24(%rdi)\n"
    "mov %rsi, " STR(S_GOUT) "+32(%rdi)\n"
    "mov %rbp, " STR(S_GOUT) "+40(%rdi)\n"
    "mov %r8, " STR(S_GOUT) "+48(%rdi)\n"
    "mov %r9, " STR(S_GOUT) "+56(%rdi)\n"
    "mov %r10, " STR(S_GOUT) "+64(%rdi)\n"
    "mov %r11, " STR(S_GOUT) "+72(%rdi)\n"
    "mov %r12, " STR(S_GOUT) "+80(%rdi)\n"
    "mov %r13, " STR(S_GOUT) "+88(%rdi)\n"
    "mov %r14, " STR(S_GOUT) "+96(%rdi)\n"
    "mov -8(%rsp), %rax\n mov %rax, " STR(S_GOUT) "+104(%rdi)\n"
    "mov -72(%rsp), %rax\n mov %rax, " STR(S_GOUT) "+112(%rdi)\n"
    "mov -128(%rsp), %rax\n mov %rax, " STR(S_GOUT) "+120(%rdi)\n"
    "pushfq\n pop %rax\n and $0xcd5, %eax\n"
    "mov %rax, " STR(S_FLAGS) "(%rdi)\n"
    "fnstcw " STR(S_FCWOUT) "(%rdi)\n"
    "fstpl " STR(S_X87OUT) "(%rdi)\n"
    "fstp %st(0)\n"
    "stmxcsr " STR(S_MXCSROUT) "(%rdi)\n"
    "mov $1, %eax\n"
    "jmp compute_epilogue\n"

    /* SSE: XMM0-15; xmm5 and xmm6 are the constants of a float recurrence
     * whose results depend on MXCSR's rounding. */
    ".globl compute_vec_sse_init, compute_vec_sse, compute_vec_sse_store\n"
    "compute_vec_sse_init:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "movdqa " STR(S_VIN) "+\\i*64(%rdi), %xmm\\i\n"
    ".endr\n"
    "jmp compute_loop\n"
    "compute_vec_sse:\n"
    "paddq %xmm1, %xmm0\n"
    "pxor %xmm0, %xmm2\n"
    "pshufd $0x39, %xmm2, %xmm3\n"
    "paddd %xmm3, %xmm1\n"
    "addps %xmm5, %xmm4\n"
    "mulps %xmm6, %xmm4\n"
    "paddq %xmm4, %xmm7\n"
    "pxor %xmm7, %xmm8\n"
    "paddq %xmm8, %xmm9\n"
    "pshufd $0x4e, %xmm9, %xmm10\n"
    "paddq %xmm10, %xmm11\n"
    "pxor %xmm11, %xmm12\n"
    "paddq %xmm12, %xmm13\n"
    "pxor %xmm13, %xmm14\n"
    "paddq %xmm14, %xmm15\n"
    "pxor %xmm15, %xmm0\n"
    "movq %xmm3, %r14\n"
    "jmp compute_vec_done\n"
    "compute_vec_sse_store:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "movdqa %xmm\\i, " STR(S_VOUT) "+\\i*64(%rdi)\n"
    ".endr\n"
    "jmp compute_store_done\n"

    /* AVX2: YMM0-15, with a cross-lane permutation. */
    ".globl compute_vec_avx2_init, compute_vec_avx2, compute_vec_avx2_store\n"
    "compute_vec_avx2_init:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "vmovdqa " STR(S_VIN) "+\\i*64(%rdi), %ymm\\i\n"
    ".endr\n"
    "jmp compute_loop\n"
    "compute_vec_avx2:\n"
    "vpaddq %ymm1, %ymm0, %ymm0\n"
    "vpxor %ymm0, %ymm2, %ymm2\n"
    "vpshufd $0x39, %ymm2, %ymm3\n"
    "vpaddd %ymm3, %ymm1, %ymm1\n"
    "vaddps %ymm5, %ymm4, %ymm4\n"
    "vmulps %ymm6, %ymm4, %ymm4\n"
    "vpaddq %ymm4, %ymm7, %ymm7\n"
    "vpxor %ymm7, %ymm8, %ymm8\n"
    "vpaddq %ymm8, %ymm9, %ymm9\n"
    "vpermq $0x93, %ymm9, %ymm10\n"
    "vpaddq %ymm10, %ymm11, %ymm11\n"
    "vpxor %ymm11, %ymm12, %ymm12\n"
    "vpaddq %ymm12, %ymm13, %ymm13\n"
    "vpxor %ymm13, %ymm14, %ymm14\n"
    "vpaddq %ymm14, %ymm15, %ymm15\n"
    "vpxor %ymm15, %ymm0, %ymm0\n"
    "vmovq %xmm3, %r14\n"
    "jmp compute_vec_done\n"
    "compute_vec_avx2_store:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "vmovdqa %ymm\\i, " STR(S_VOUT) "+\\i*64(%rdi)\n"
    ".endr\n"
    "jmp compute_store_done\n"

    /* AVX-512: ZMM0-31 and the opmask registers k1-k7. */
    ".globl compute_vec_avx512_init, compute_vec_avx512\n"
    ".globl compute_vec_avx512_store\n"
    "compute_vec_avx512_init:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
    "24,25,26,27,28,29,30,31\n"
    "vmovdqa64 " STR(S_VIN) "+\\i*64(%rdi), %zmm\\i\n"
    ".endr\n"
    ".irp i,1,2,3,4,5,6,7\n"
    "kmovw " STR(S_KIN) "+\\i*8(%rdi), %k\\i\n"
    ".endr\n"
    "jmp compute_loop\n"
    "compute_vec_avx512:\n"
    "vpaddq %zmm1, %zmm0, %zmm0\n"
    "vpxorq %zmm0, %zmm2, %zmm2\n"
    "vprolq $7, %zmm2, %zmm3\n"
    "vpaddd %zmm3, %zmm1, %zmm1{%k1}\n"
    "vaddps %zmm5, %zmm4, %zmm4\n"
    "vmulps %zmm6, %zmm4, %zmm4\n"
    "vpaddq %zmm4, %zmm7, %zmm7\n"
    "vpxorq %zmm7, %zmm8, %zmm8\n"
    "vpaddq %zmm8, %zmm9, %zmm9\n"
    "vpermq %zmm9, %zmm20, %zmm10\n"
    "vpaddq %zmm10, %zmm11, %zmm11\n"
    "vpxorq %zmm11, %zmm12, %zmm12\n"
    "vpaddq %zmm12, %zmm13, %zmm13\n"
    "vpxorq %zmm13, %zmm14, %zmm14\n"
    "vpaddq %zmm14, %zmm15, %zmm15\n"
    "vpaddq %zmm15, %zmm16, %zmm16\n"
    "vpxorq %zmm16, %zmm17, %zmm17\n"
    "vpaddq %zmm17, %zmm18, %zmm18\n"
    "vprolq $13, %zmm18, %zmm19\n"
    "vpaddq %zmm19, %zmm21, %zmm21{%k2}\n"
    "vpxorq %zmm21, %zmm22, %zmm22\n"
    "vpaddq %zmm22, %zmm23, %zmm23\n"
    "vpxorq %zmm23, %zmm24, %zmm24\n"
    "vpaddq %zmm24, %zmm25, %zmm25\n"
    "vpxorq %zmm25, %zmm26, %zmm26\n"
    "vpaddq %zmm26, %zmm27, %zmm27\n"
    "vpxorq %zmm27, %zmm28, %zmm28\n"
    "vpaddq %zmm28, %zmm29, %zmm29\n"
    "vpxorq %zmm29, %zmm30, %zmm30\n"
    "vpaddq %zmm30, %zmm31, %zmm31\n"
    "vpxorq %zmm31, %zmm0, %zmm0{%k3}\n"
    "kshiftlw $1, %k1, %k2\n"
    "kxorw %k2, %k4, %k4\n"
    "knotw %k4, %k5\n"
    "kandw %k5, %k6, %k6\n"
    "korw %k6, %k7, %k7\n"
    "kxnorw %k7, %k3, %k3\n"
    "kxorw %k3, %k1, %k1\n"
    "vmovq %xmm3, %r14\n"
    "jmp compute_vec_done\n"
    "compute_vec_avx512_store:\n"
    ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
    "24,25,26,27,28,29,30,31\n"
    "vmovdqa64 %zmm\\i, " STR(S_VOUT) "+\\i*64(%rdi)\n"
    ".endr\n"
    ".irp i,1,2,3,4,5,6,7\n"
    "kmovw %k\\i, " STR(S_KOUT) "+\\i*8(%rdi)\n"
    ".endr\n"
    "jmp compute_store_done\n"
    ".cfi_endproc\n"
    ".size compute, .-compute\n"
    ".popsection\n");

/* ---- Shared by the handler and the tests --------------------------------- */

enum { PHASE_IGNORE, PHASE_RUN, PHASE_WALK, PHASE_BENCH };
static _Atomic int phase;

#define U_SIZE (256 * 1024)
static unsigned char *u_stack;
static uintptr_t u_lo, u_hi;

static struct ckpt_cpu_context probe;    /* the handler's capture */
static struct ckpt_cpu_context captured; /* the last accepted one */
static struct ckpt_cpu_context resume_ctx;
static struct ckpt_cpu_context sample_ctx; /* from the richest mode */
static _Alignas(64) unsigned char
    misaligned_buf[sizeof(struct ckpt_cpu_context) + 64];
static unsigned char saved_stack[U_SIZE];
static uintptr_t saved_lo;
static size_t saved_len;
static volatile int parked;
static unsigned parked_depth; /* frames walked */
static unsigned long refused, refused_off_stack, capture_failures;
static const char *last_refusal;

static int compute_frame_ok(void *arg, uintptr_t pc, uintptr_t func_start) {
  (void)arg;
  (void)pc;
  if (func_start == (uintptr_t)compute)
    return 2;
  if (func_start == (uintptr_t)ctx_helper ||
      func_start == (uintptr_t)ctx_helper2)
    return 1;
  return 0;
}

/* A stop as the runtime will make it: capture, walk, save the stack from
 * the red zone up, park (here: leave for compute_epilogue). */
static void run_handler(ucontext_t *uc) {
  uintptr_t rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  if (rsp < u_lo + 4096 || rsp >= u_hi) {
    refused_off_stack++;
    return;
  }
  if (ckpt_context_from_signal(&probe, uc) != 0) {
    capture_failures++;
    return;
  }
  uintptr_t pcs[16];
  unsigned n;
  const char *why = ckpt_context_walk(&probe, u_lo, u_hi, compute_frame_ok,
                                      NULL, pcs, 16, &n);
  if (why) {
    refused++;
    last_refusal = why;
    return;
  }
  saved_lo = rsp - 128;
  saved_len = u_hi - saved_lo;
  raw_copy(saved_stack, (const void *)saved_lo, saved_len);
  raw_copy(&captured, &probe, sizeof probe);
  parked_depth = n;
  parked = 1;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)compute_epilogue;
  uc->uc_mcontext.gregs[REG_RAX] = 0;
}

static void walk_handler(ucontext_t *uc);
static void bench_handler(ucontext_t *uc);

static void on_signal(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  int saved_errno = errno;
  switch (atomic_load(&phase)) {
  case PHASE_RUN:
    run_handler(ucv);
    break;
  case PHASE_WALK:
    walk_handler(ucv);
    break;
  case PHASE_BENCH:
    bench_handler(ucv);
    break;
  default:
    break;
  }
  errno = saved_errno;
}

/* ---- a. Interrupt, clobber, restore, resume ------------------------------ */

enum { MODE_SSE, MODE_AVX2, MODE_AVX512, NMODES };
static const char *const mode_names[NMODES] = {"sse", "avx2", "avx512"};
enum { PATH_XSAVE, PATH_FXSAVE_IMAGE, PATH_NO_XSAVE_CPU };
static const char *const path_names[] = {"xsave", "fxsave-image",
                                         "no-xsave-cpu"};

static struct compute_state cs;
static unsigned char reference[NMODES][S_SIZE - S_GOUT];
static _Atomic pid_t runner_tid;
static atomic_int stop_signaller;
static int has_xsave;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void setup_state(int mode) {
  memset(&cs, 0, sizeof cs);
  uint64_t seed = 42 + (uint64_t)mode;
  const char *init[] = {compute_vec_sse_init, compute_vec_avx2_init,
                        compute_vec_avx512_init};
  const char *step[] = {compute_vec_sse, compute_vec_avx2, compute_vec_avx512};
  const char *store[] = {compute_vec_sse_store, compute_vec_avx2_store,
                         compute_vec_avx512_store};
  cs.vec_init = (uintptr_t)init[mode];
  cs.vec_step = (uintptr_t)step[mode];
  cs.vec_store = (uintptr_t)store[mode];
  cs.iterations = 1u << 20;
  cs.has_xsave = (uint64_t)has_xsave;
  cs.mxcsr = 0x7f80; /* round toward zero, exceptions masked */
  cs.fcw = 0x0f7f;   /* x87: truncate, extended precision, masked */
  cs.x87[0] = 1.0;
  cs.x87[1] = 1.0000001;
  for (int i = 0; i < 16; i++)
    cs.gin[i] = splitmix(&seed);
  for (int i = 0; i < 8; i++)
    cs.kin[i] = splitmix(&seed) & 0xffff;
  for (int r = 0; r < 32; r++)
    for (int b = 0; b < 64; b += 8) {
      uint64_t v = splitmix(&seed);
      memcpy(&cs.vin[r][b], &v, 8);
    }
  const float consts[3] = {1.5f, 1.0f, 0.9999f}; /* xmm4-6 */
  for (int r = 4; r <= 6; r++)
    for (int b = 0; b < 64; b += 4)
      memcpy(&cs.vin[r][b], &consts[r - 4], 4);
}

/* Below U's top: compute's rsp stays here outside its helper calls, and a
 * stop saves from rsp - 128 up. */
#define COMPUTE_TOP (u_hi - 256)

static int run_start(void) {
  atomic_store(&runner_tid, gettid_());
  int r = start_compute(&cs, COMPUTE_TOP);
  atomic_store(&runner_tid, 0);
  return r;
}

static const struct ckpt_cpu_context *resume_from;

static int run_resume(void) {
  atomic_store(&runner_tid, gettid_());
  int r = resume_compute(&cs, resume_from);
  atomic_store(&runner_tid, 0);
  return r;
}

static void *resume_thread(void *arg) {
  *(int *)arg = run_resume();
  return NULL;
}

static void *signaller(void *arg) {
  (void)arg;
  uint64_t rng = 7;
  while (!atomic_load(&stop_signaller)) {
    uint64_t r = splitmix(&rng);
    struct timespec ts = {0, (long)(r % 1200) * 1000};
    nanosleep(&ts, NULL);
    for (volatile unsigned spin = (unsigned)(r >> 40) % 20000; spin; spin--)
      ;
    pid_t tid = atomic_load(&runner_tid);
    if (tid)
      syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
  }
  return NULL;
}

static unsigned long interruptions, in_helpers, new_thread_resumes,
    misaligned_resumes, runs;
static uint64_t garbage_seed = 99;

/* The image a run resumes from, per path: as captured; as an FXSAVE image
 * (fit_cpu turns it back into XSAVE with XSTATE_BV = x87|SSE); or with its
 * extended state dropped and fit_cpu acting as on a CPU without XSAVE
 * (FXRSTOR). The last two only for SSE runs, which use nothing more. */
static void prepare_resume(int path) {
  resume_ctx = captured;
  if (path == PATH_FXSAVE_IMAGE) {
    resume_ctx.fp_kind = CKPT_CONTEXT_FXSAVE;
    resume_ctx.fp_len = 512;
    resume_ctx.xfeatures = 3;
  } else if (path == PATH_NO_XSAVE_CPU &&
             resume_ctx.fp_kind == CKPT_CONTEXT_XSAVE) {
    uint64_t bv;
    memcpy(&bv, resume_ctx.fp + 512, 8);
    bv &= 3;
    memcpy(resume_ctx.fp + 512, &bv, 8);
    resume_ctx.xfeatures = bv;
    ckpt_context_test_no_xsave = 1;
  }
  char why[160];
  int fit = ckpt_context_fit_cpu(&resume_ctx, why, sizeof why);
  ckpt_context_test_no_xsave = 0;
  CHECK(fit == 0, "fit_cpu on this CPU's own context (%s): %s",
        path_names[path], why);
  if (path == PATH_FXSAVE_IMAGE)
    CHECK(resume_ctx.fp_kind == CKPT_CONTEXT_XSAVE &&
              resume_ctx.fp_len == 576 && resume_ctx.xfeatures == 3,
          "FXSAVE image not converted: kind %u len %u", resume_ctx.fp_kind,
          resume_ctx.fp_len);
  if (path == PATH_NO_XSAVE_CPU)
    CHECK(resume_ctx.fp_kind == CKPT_CONTEXT_FXSAVE &&
              resume_ctx.fp_len == 512,
          "XSAVE image not converted for a CPU without XSAVE");
  resume_from = &resume_ctx;
  if (interruptions % 5 == 4) {
    memcpy(misaligned_buf + 16, &resume_ctx, sizeof resume_ctx);
    resume_from = (const struct ckpt_cpu_context *)(misaligned_buf + 16);
    misaligned_resumes++;
  }
}

/* The thread's stack is gone: garbage everywhere, then the saved bytes. */
static void clobber_and_restore(void) {
  UNPOISON(u_stack, U_SIZE);
  for (size_t i = 0; i < U_SIZE; i += 8) {
    uint64_t v = splitmix(&garbage_seed);
    memcpy(u_stack + i, &v, 8);
  }
  raw_copy((void *)saved_lo, saved_stack, saved_len);
}

static void run_config(int mode, int path, unsigned long target) {
  unsigned long start = interruptions;
  unsigned long my_runs = 0;
  while (interruptions - start < target || my_runs < 2) {
    setup_state(mode);
    atomic_store(&phase, PHASE_RUN);
    parked = 0;
    int r = run_start();
    while (r == 0) {
      CHECK(parked, "start/resume returned 0 without a capture");
      parked = 0;
      interruptions++;
      if (parked_depth > 1)
        in_helpers++;
      if (path == PATH_XSAVE && mode >= MODE_AVX2)
        sample_ctx = captured;
      prepare_resume(path);
      clobber_and_restore();
      if (interruptions % 3 == 2) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, resume_thread, &r) == 0, "thread");
        CHECK(pthread_join(t, NULL) == 0, "join");
        new_thread_resumes++;
      } else {
        r = run_resume();
      }
    }
    CHECK(r == 1, "compute returned %d", r);
    atomic_store(&phase, PHASE_IGNORE);
    my_runs++;
    runs++;
    if (memcmp(&cs.gout, reference[mode], sizeof reference[mode]) != 0) {
      const unsigned char *got = (const unsigned char *)&cs.gout;
      size_t at = 0;
      while (got[at] == reference[mode][at])
        at++;
      CHECK(0,
            "mode %s path %s run %lu: result differs from the "
            "uninterrupted run at byte %zu of the output (after %lu "
            "interruptions)",
            mode_names[mode], path_names[path], my_runs, at,
            interruptions - start);
    }
  }
  printf("context_test: %s/%s: %lu interruptions in %lu runs, results exact\n",
         mode_names[mode], path_names[path], interruptions - start, my_runs);
}

static void test_interrupt_resume(void) {
  int modes = 1;
  if (has_xsave && __builtin_cpu_supports("avx2"))
    modes = 2;
  if (has_xsave && __builtin_cpu_supports("avx512f"))
    modes = 3;
  /* References, without signals (no runner_tid). */
  for (int m = 0; m < modes; m++) {
    setup_state(m);
    CHECK(start_compute(&cs, COMPUTE_TOP) == 1, "reference run");
    memcpy(reference[m], &cs.gout, sizeof reference[m]);
    /* The float recurrence really depends on the rounding mode. */
    CHECK((cs.mxcsrout & ~UINT64_C(0x3f)) == 0x7f80 &&
              (cs.fcwout & 0xffff) == 0x0f7f,
          "control words: %#" PRIx64 " %#" PRIx64, cs.mxcsrout, cs.fcwout);
  }
  pthread_t sig;
  CHECK(pthread_create(&sig, NULL, signaller, NULL) == 0, "signaller");
  run_config(MODE_SSE, PATH_XSAVE, 60);
  if (has_xsave) {
    run_config(MODE_SSE, PATH_FXSAVE_IMAGE, 40);
    run_config(MODE_SSE, PATH_NO_XSAVE_CPU, 40);
  }
  for (int m = MODE_AVX2; m < modes; m++)
    run_config(m, PATH_XSAVE, 60);
  atomic_store(&stop_signaller, 1);
  CHECK(pthread_join(sig, NULL) == 0, "join");
  CHECK(capture_failures == 0, "%lu captures failed", capture_failures);
  CHECK(in_helpers > 0, "no interruption landed in the C helpers");
  printf("context_test: %lu interruptions resumed exactly (%lu inside the "
         "C helpers, %lu from a new thread, %lu misaligned), %lu refused "
         "(last: %s), %lu off the stack\n",
         interruptions, in_helpers, new_thread_resumes, misaligned_resumes,
         refused, last_refusal ? last_refusal : "-", refused_off_stack);
}

/* ---- b. Walks ------------------------------------------------------------ */

LEVEL void walk_h(void);
LEVEL void walk_g(void);
LEVEL void walk_f(void);
LEVEL int cmp_spin(const void *a, const void *b);

static _Atomic int walk_stage;
static volatile unsigned long spin_count;
static uintptr_t walk_lo, walk_hi;
static struct ckpt_cpu_context walk_ctx;

struct walk_record {
  int mode; /* 0 chain (f bottom), 1 refuse g, 2 accept all, never bottom */
  unsigned calls;
  uintptr_t fs[16];
};

static int walk_frame_ok(void *arg, uintptr_t pc, uintptr_t func_start) {
  struct walk_record *w = arg;
  (void)pc;
  if (w->calls < 16)
    w->fs[w->calls] = func_start;
  w->calls++;
  if (w->mode == 2)
    return 1;
  if (func_start == (uintptr_t)walk_h)
    return 1;
  if (func_start == (uintptr_t)walk_g)
    return w->mode == 1 ? 0 : 1;
  if (func_start == (uintptr_t)walk_f)
    return 2;
  if (func_start == (uintptr_t)cmp_spin)
    return 1;
  return 0;
}

static struct {
  const char *why;
  unsigned n;
  uintptr_t pcs[16];
  struct walk_record rec;
} walk_chain, walk_deep, walk_refuse, walk_open, walk_qsort;
static double walk_ns;

static const char *walk_once(int mode, unsigned max, unsigned *n,
                             uintptr_t *pcs, struct walk_record *rec) {
  *rec = (struct walk_record){mode, 0, {0}};
  return ckpt_context_walk(&walk_ctx, walk_lo, walk_hi, walk_frame_ok, rec,
                           pcs, max, n);
}

#define WALK_INTO(w, mode, max)                                                \
  ((w).why = walk_once(mode, max, &(w).n, (w).pcs, &(w).rec))

static void walk_handler(ucontext_t *uc) {
  int stage = atomic_load(&walk_stage);
  if (stage != 1 && stage != 3)
    return;
  if (ckpt_context_from_signal(&walk_ctx, uc) != 0)
    return;
  if (stage == 1) {
    WALK_INTO(walk_chain, 0, 16);
    if (walk_chain.rec.fs[0] != (uintptr_t)walk_h)
      return; /* not in h yet (or already out): try again */
    WALK_INTO(walk_deep, 0, 2);
    WALK_INTO(walk_refuse, 1, 16);
    WALK_INTO(walk_open, 2, 16);
    double t0 = now_ns();
    struct walk_record rec;
    uintptr_t pcs[16];
    unsigned n;
    for (int i = 0; i < 1000; i++)
      walk_once(0, 16, &n, pcs, &rec);
    walk_ns = (now_ns() - t0) / 1000;
    atomic_store(&walk_stage, 2);
  } else {
    WALK_INTO(walk_qsort, 2, 16);
    if (walk_qsort.rec.fs[0] != (uintptr_t)cmp_spin)
      return;
    atomic_store(&walk_stage, 4);
  }
}

LEVEL void walk_h(void) {
  while (atomic_load(&walk_stage) == 1)
    spin_count++;
}

LEVEL void walk_g(void) {
  walk_h();
  spin_count++;
}

LEVEL void walk_f(void) {
  walk_g();
  spin_count++;
}

LEVEL int cmp_spin(const void *a, const void *b) {
  while (atomic_load(&walk_stage) == 3)
    spin_count++;
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static void *walk_thread(void *arg) {
  (void)arg;
  atomic_store(&walk_stage, 1);
  walk_f();
  int v[] = {5, 3, 9, 1};
  atomic_store(&walk_stage, 3);
  qsort(v, 4, sizeof v[0], cmp_spin);
  CHECK(v[0] == 1 && v[3] == 9, "qsort");
  return NULL;
}

static int contains(const char *s, const char *part) {
  return s && strstr(s, part) != NULL;
}

static void test_walks(void) {
  size_t size = 256 * 1024;
  void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(stack != MAP_FAILED, "mmap");
  walk_lo = (uintptr_t)stack;
  walk_hi = walk_lo + size;
  pthread_attr_t a;
  pthread_attr_init(&a);
  CHECK(pthread_attr_setstack(&a, stack, size) == 0, "setstack");
  atomic_store(&phase, PHASE_WALK);
  pthread_t t;
  CHECK(pthread_create(&t, &a, walk_thread, NULL) == 0, "walk thread");
  while (atomic_load(&walk_stage) != 4) {
    pthread_kill(t, SIGUSR1);
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  CHECK(pthread_join(t, NULL) == 0, "join");
  atomic_store(&phase, PHASE_IGNORE);
  pthread_attr_destroy(&a);
  munmap(stack, size);

  /* f -> g -> h, f the bottom: success, three frames, innermost first. */
  CHECK(walk_chain.why == NULL, "chain: %s", walk_chain.why);
  CHECK(walk_chain.n == 3, "chain: %u frames", walk_chain.n);
  CHECK(walk_chain.rec.fs[0] == (uintptr_t)walk_h &&
            walk_chain.rec.fs[1] == (uintptr_t)walk_g &&
            walk_chain.rec.fs[2] == (uintptr_t)walk_f,
        "chain: frames not h, g, f");
  CHECK(walk_chain.pcs[0] >= (uintptr_t)walk_h, "chain: first pc");
  CHECK(walk_chain.pcs[1] > (uintptr_t)walk_g &&
            walk_chain.pcs[2] > (uintptr_t)walk_f,
        "chain: return addresses %#" PRIxPTR " %#" PRIxPTR, walk_chain.pcs[1],
        walk_chain.pcs[2]);
  /* The same context, other answers. */
  CHECK(contains(walk_deep.why, "deeper") && walk_deep.n == 2,
        "max 2: %s, %u", walk_deep.why ? walk_deep.why : "NULL", walk_deep.n);
  CHECK(contains(walk_refuse.why, "cannot be stopped") && walk_refuse.n == 2,
        "refused g: %s, %u", walk_refuse.why ? walk_refuse.why : "NULL",
        walk_refuse.n);
  /* Never a bottom: past f into the thread's start function, then libc
   * (or the sanitizer's thread start). */
  CHECK(contains(walk_open.why, "shared library") && walk_open.n >= 5,
        "no bottom: %s, %u", walk_open.why ? walk_open.why : "NULL",
        walk_open.n);
  /* A comparator under qsort: libc's frame is in between. */
  CHECK(contains(walk_qsort.why, "shared library") && walk_qsort.n == 2,
        "qsort: %s, %u", walk_qsort.why ? walk_qsort.why : "NULL",
        walk_qsort.n);
  printf("context_test: walks: f->g->h ok (3 frames), limit: %s; refused: "
         "%s; open: %s (%u frames); qsort: %s\n",
         walk_deep.why, walk_refuse.why, walk_open.why, walk_open.n,
         walk_qsort.why);
}

/* ---- c. Fitting images to the CPU ---------------------------------------- */

static uint64_t test_xgetbv(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

static int fit(struct ckpt_cpu_context *c, char *why, size_t n) {
  struct ckpt_cpu_context before = *c;
  int r = ckpt_context_fit_cpu(c, why, n);
  if (r != 0)
    CHECK(memcmp(&before, c, sizeof before) == 0,
          "fit_cpu changed a context it refused");
  return r;
}

static void test_fit(void) {
  static struct ckpt_cpu_context c;
  char why[200];
  CHECK(captured.fp_kind != 0, "no captured context");
  c = captured;
  CHECK(fit(&c, why, sizeof why) == 0, "own context: %s", why);
  if (!has_xsave) {
    printf("context_test: fit: no XSAVE on this CPU, XSAVE cases skipped\n");
    return;
  }
  c = sample_ctx.fp_kind ? sample_ctx : captured;
  CHECK(c.fp_kind == CKPT_CONTEXT_XSAVE, "kernel frames hold XSAVE images");
  uint64_t xcr0 = test_xgetbv();
  /* A component this CPU lacks, by what it is called. */
  static const struct {
    int bit;
    const char *name;
  } absent[] = {{9, "PKRU"}, {17, "AMX"}, {19, "APX"}, {3, "MPX"},
                {5, "AVX-512"}, {40, "XSAVE component 40"}};
  int tried = 0;
  for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
    uint64_t bit = UINT64_C(1) << absent[i].bit;
    if (xcr0 & bit)
      continue;
    /* The context's claim alone, then the header's too. */
    struct ckpt_cpu_context *d = &c;
    static struct ckpt_cpu_context orig;
    orig = *d;
    d->xfeatures |= bit;
    CHECK(fit(d, why, sizeof why) == -1 && contains(why, absent[i].name) &&
              contains(why, "this CPU has no"),
          "xfeatures with %s: %s", absent[i].name, why);
    uint64_t bv;
    memcpy(&bv, d->fp + 512, 8);
    bv |= bit;
    memcpy(d->fp + 512, &bv, 8);
    CHECK(fit(d, why, sizeof why) == -1 && contains(why, absent[i].name),
          "header with %s: %s", absent[i].name, why);
    if (!tried)
      printf("context_test: fit: %s\n", why);
    tried++;
    *d = orig;
  }
  CHECK(tried > 0, "XCR0 %#" PRIx64 " enables every component tried", xcr0);
  ckpt_context_test_no_xsave = 1;
  {
    static struct ckpt_cpu_context d;
    d = c;
    d.xfeatures |= 4; /* AVX */
    uint64_t bv;
    memcpy(&bv, d.fp + 512, 8);
    bv |= 4;
    memcpy(d.fp + 512, &bv, 8);
    int r = fit(&d, why, sizeof why);
    ckpt_context_test_no_xsave = 0;
    CHECK(r == -1 && contains(why, "AVX") && contains(why, "no XSAVE"),
          "AVX state on a CPU without XSAVE: %s", why);
  }
  ckpt_context_test_no_xsave = 0;
  /* The header must agree with xfeatures. */
  static struct ckpt_cpu_context d;
  d = c;
  d.xfeatures &= ~UINT64_C(2);
  CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "do not match"),
        "xfeatures vs header: %s", why);
  /* MXCSR with a reserved bit: XRSTOR would fault. */
  d = c;
  d.fp[24 + 2] |= 1; /* bit 16 */
  CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "MXCSR"), "mxcsr: %s",
        why);
  /* A compacted header (XCOMP_BV bit 63), or reserved bytes. */
  d = c;
  d.fp[512 + 15] = 0x80;
  CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "standard form"),
        "compacted: %s", why);
  d = c;
  d.fp[512 + 40] = 1;
  CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "standard form"),
        "reserved header byte: %s", why);
  /* Too short for a component the header holds. */
  d = c;
  if (d.xfeatures & ~UINT64_C(3)) {
    d.fp_len = 576;
    CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "too short"),
          "short image: %s", why);
  }
  /* Kinds and lengths. */
  d = c;
  d.fp_kind = 7;
  CHECK(fit(&d, why, sizeof why) == -1, "kind 7");
  d = c;
  d.fp_len = CKPT_CONTEXT_FP_MAX + 64;
  CHECK(fit(&d, why, sizeof why) == -1, "long image");
  d = c;
  d.fp_kind = CKPT_CONTEXT_FXSAVE;
  d.fp_len = 600;
  CHECK(fit(&d, why, sizeof why) == -1 && contains(why, "FXSAVE"),
        "FXSAVE of 600 bytes: %s", why);
  d.fp_len = 512;
  d.xfeatures = 7;
  CHECK(fit(&d, why, sizeof why) == -1, "FXSAVE with AVX claimed");
  /* NULL reason buffer. */
  d = c;
  d.fp_kind = 0;
  CHECK(ckpt_context_fit_cpu(&d, NULL, 0) == -1, "NULL why");
  printf("context_test: fit: refusals ok\n");
}

/* ---- Captures from made-up frames --------------------------------------- */

static _Alignas(64) unsigned char fake_fp[12288];

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

static void test_capture_frames(void) {
  static struct ckpt_cpu_context c;
  ucontext_t uc;
  memset(&uc, 0, sizeof uc);
  for (int i = 0; i < NGREG; i++)
    uc.uc_mcontext.gregs[i] = (greg_t)(0x1111 * (i + 1));
  uint64_t seed = 5;
  for (size_t i = 0; i < sizeof fake_fp; i++)
    fake_fp[i] = (unsigned char)splitmix(&seed);
  memset(fake_fp + 464, 0, 48); /* no magic */
  uc.uc_mcontext.fpregs = (fpregset_t)fake_fp;
  memset(&c, 0xee, sizeof c);
  CHECK(ckpt_context_from_signal(&c, &uc) == 0, "fxsave frame");
  CHECK(c.r8 == (uint64_t)uc.uc_mcontext.gregs[REG_R8] &&
            c.rdi == (uint64_t)uc.uc_mcontext.gregs[REG_RDI] &&
            c.rax == (uint64_t)uc.uc_mcontext.gregs[REG_RAX] &&
            c.rsp == (uint64_t)uc.uc_mcontext.gregs[REG_RSP] &&
            c.rip == (uint64_t)uc.uc_mcontext.gregs[REG_RIP] &&
            c.eflags == (uint64_t)uc.uc_mcontext.gregs[REG_EFL],
        "general registers");
  CHECK(c.origin == CKPT_CONTEXT_SIGNAL && c.reserved[0] == 0 &&
            c.reserved[6] == 0,
        "origin, reserved");
  CHECK(c.fp_kind == CKPT_CONTEXT_FXSAVE && c.fp_len == 512 &&
            c.xfeatures == 3 && memcmp(c.fp, fake_fp, 512) == 0,
        "fxsave image");
  for (size_t i = 512; i < CKPT_CONTEXT_FP_MAX; i++)
    CHECK(c.fp[i] == 0, "byte %zu past the image", i);

  /* An XSAVE frame: magic1, sizes, magic2 after the image. */
  put32(fake_fp + 464, 0x46505853);
  put32(fake_fp + 468, 1004); /* extended_size */
  put32(fake_fp + 480, 1000); /* xstate_size */
  put32(fake_fp + 1000, 0x46505845);
  memset(&c, 0xee, sizeof c);
  CHECK(ckpt_context_from_signal(&c, &uc) == 0, "xsave frame");
  uint64_t bv;
  memcpy(&bv, fake_fp + 512, 8);
  CHECK(c.fp_kind == CKPT_CONTEXT_XSAVE && c.fp_len == 1000 &&
            c.xfeatures == bv && memcmp(c.fp, fake_fp, 1000) == 0 &&
            c.fp[1000] == 0 && c.fp[CKPT_CONTEXT_FP_MAX - 1] == 0,
        "xsave image");
  /* Without magic2 the kernel itself reads only the FXSAVE part. */
  put32(fake_fp + 1000, 0);
  CHECK(ckpt_context_from_signal(&c, &uc) == 0 &&
            c.fp_kind == CKPT_CONTEXT_FXSAVE && c.fp_len == 512,
        "xsave frame without magic2");
  /* Larger than a context holds: refused, with the size needed. */
  put32(fake_fp + 468, 9004);
  put32(fake_fp + 480, 9000);
  put32(fake_fp + 9000, 0x46505845);
  CHECK(ckpt_context_from_signal(&c, &uc) == -1 && c.fp_kind == 0 &&
            c.fp_len == 9000,
        "oversized xsave frame");
  /* No FP state at all: FINIT's. */
  uc.uc_mcontext.fpregs = NULL;
  CHECK(ckpt_context_from_signal(&c, &uc) == 0 &&
            c.fp_kind == CKPT_CONTEXT_FXSAVE && c.fp[0] == 0x7f &&
            c.fp[1] == 0x03 && c.fp[24] == 0x80 && c.fp[25] == 0x1f,
        "no fpregs");
  printf("context_test: captures from made-up frames ok\n");
}

/* ---- Costs --------------------------------------------------------------- */

static double capture_ns, signal_ns;
static uint32_t bench_fp_len;

static void bench_handler(ucontext_t *uc) {
  static struct ckpt_cpu_context c;
  double t0 = now_ns();
  for (int i = 0; i < 2000; i++)
    ckpt_context_from_signal(&c, uc);
  capture_ns = (now_ns() - t0) / 2000;
  bench_fp_len = c.fp_len;
}

static void test_costs(void) {
  atomic_store(&phase, PHASE_IGNORE);
  double t0 = now_ns();
  for (int i = 0; i < 2000; i++)
    raise(SIGUSR1);
  signal_ns = (now_ns() - t0) / 2000;
  atomic_store(&phase, PHASE_BENCH);
  raise(SIGUSR1);
  atomic_store(&phase, PHASE_IGNORE);

  /* A resume lands in bench_stub on U, which returns at once. */
  static struct ckpt_cpu_context b;
  b = sample_ctx.fp_kind ? sample_ctx : captured;
  b.rip = (uintptr_t)bench_stub;
  b.rsp = u_hi - 4096;
  char why[160];
  CHECK(ckpt_context_fit_cpu(&b, why, sizeof why) == 0, "bench: %s", why);
  setup_state(MODE_SSE);
  const int n = 100000;
  t0 = now_ns();
  for (int i = 0; i < n; i++)
    CHECK(resume_compute(&cs, &b) == 2, "bench resume");
  double resume_ns = (now_ns() - t0) / n;
  printf("context_test: costs: capture %.0f ns (%u-byte FP image), resume "
         "%.0f ns, walk of 3 frames %.0f ns, signal round trip %.0f ns\n",
         capture_ns, bench_fp_len, resume_ns, walk_ns, signal_ns);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  CHECK(ckpt_unwind_init() == 0, "unwind init");
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid"
                   : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                   : "a"(1), "c"(0));
  has_xsave = (c >> 27) & 1;

  u_stack = mmap(NULL, U_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(u_stack != MAP_FAILED, "mmap");
  u_lo = (uintptr_t)u_stack;
  u_hi = u_lo + U_SIZE;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

  test_capture_frames();
  test_interrupt_resume();
  test_fit();
  test_walks();
  test_costs();
  printf("context_test: ok\n");
  return 0;
}
