/* runtime/context.c - register contexts: captured from a signal frame,
 * checked against the CPU, resumed exactly, and walked (see context.h for
 * the contract).
 *
 * Why not getcontext/setcontext: glibc's setcontext does not restore rax,
 * rcx, rdx, r8-r11 or the flags (a ucontext_t restored through it only
 * works at a call boundary), restores only the 512-byte FXSAVE area (the
 * upper halves of YMM/ZMM registers and the opmask registers are lost),
 * and sets the signal mask with a system call. A thread interrupted at an
 * arbitrary instruction needs all of it, and a restart needs a format of
 * our own that does not change with glibc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* REG_* names of ucontext_t's gregs */
#endif
#include "context.h"

#include "unwind.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <ucontext.h>

_Static_assert(offsetof(struct ckpt_cpu_context, r8) == 0 &&
                   offsetof(struct ckpt_cpu_context, r15) == 56 &&
                   offsetof(struct ckpt_cpu_context, rdi) == 64 &&
                   offsetof(struct ckpt_cpu_context, rsi) == 72 &&
                   offsetof(struct ckpt_cpu_context, rbp) == 80 &&
                   offsetof(struct ckpt_cpu_context, rbx) == 88 &&
                   offsetof(struct ckpt_cpu_context, rdx) == 96 &&
                   offsetof(struct ckpt_cpu_context, rax) == 104 &&
                   offsetof(struct ckpt_cpu_context, rcx) == 112 &&
                   offsetof(struct ckpt_cpu_context, rsp) == 120 &&
                   offsetof(struct ckpt_cpu_context, rip) == 128 &&
                   offsetof(struct ckpt_cpu_context, eflags) == 136 &&
                   offsetof(struct ckpt_cpu_context, fp_kind) == 144 &&
                   offsetof(struct ckpt_cpu_context, fp_len) == 148 &&
                   offsetof(struct ckpt_cpu_context, xfeatures) == 152 &&
                   offsetof(struct ckpt_cpu_context, origin) == 160 &&
                   offsetof(struct ckpt_cpu_context, reserved) == 164 &&
                   offsetof(struct ckpt_cpu_context, fp) == 192 &&
                   sizeof(struct ckpt_cpu_context) == 192 + CKPT_CONTEXT_FP_MAX,
               "the checkpoint format and ckpt_context_resume's assembly "
               "rely on this layout");
/* The gregs are copied as one array: glibc's order must be ours. */
_Static_assert(REG_R8 == 0 && REG_R15 == 7 && REG_RDI == 8 && REG_RBX == 11 &&
                   REG_RAX == 13 && REG_RSP == 15 && REG_RIP == 16 &&
                   REG_EFL == 17,
               "glibc's gregs order");

/* ---- The FP image -----------------------------------------------------------
 * FXSAVE64 layout (SDM vol. 1, 10.5.1): FCW at 0, FSW 2, abridged FTW 4,
 * MXCSR 24, MXCSR_MASK 28, ST0-7 at 32 (16 bytes each), XMM0-15 at 160,
 * bytes 464-511 free for software. The kernel puts struct _fpx_sw_bytes at
 * 464 of a signal frame's image when an XSAVE image follows (asm/sigcontext.h,
 * not included: it clashes with glibc's signal headers): magic1 (u32) at 0,
 * extended_size (u32) 4, xfeatures (u64) 8, xstate_size (u32) 16; and
 * FP_XSTATE_MAGIC2 (u32) right after the xstate_size bytes. The XSAVE
 * header follows the legacy area at 512: XSTATE_BV, XCOMP_BV, 48 reserved
 * bytes. */
enum {
  FX_FCW = 0,
  FX_FSW = 2,
  FX_FTW = 4,
  FX_MXCSR = 24,
  FX_MXCSR_MASK = 28,
  FX_ST0 = 32,
  FX_XMM0 = 160,
  FX_SW_BYTES = 464,
  FX_SIZE = 512,
  XSAVE_HEADER = 512,
  XSAVE_MIN = 576, /* legacy area + header */
  SW_MAGIC1 = 0,
  SW_EXTENDED_SIZE = 4,
  SW_XSTATE_SIZE = 16,
};
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define XFEATURES_FPSSE UINT64_C(3) /* x87 | SSE: the legacy area */

#ifdef CKPT_UNIT_TEST
int ckpt_context_test_no_xsave;
#endif

/* Unaligned little-endian loads and stores: the frame's fields are read as
 * bytes, so no alignment or aliasing assumption is made about them. */
static uint32_t load32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t load64(const unsigned char *p) {
  return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static void store16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void store32(unsigned char *p, uint32_t v) {
  store16(p, (uint16_t)v);
  store16(p + 2, (uint16_t)(v >> 16));
}

static void store64(unsigned char *p, uint64_t v) {
  store32(p, (uint32_t)v);
  store32(p + 4, (uint32_t)(v >> 32));
}

/* rep movsb/stosb rather than loops a compiler may turn into memcpy and
 * memset calls: the capture runs in a signal handler, and under ASan the
 * signal frame may sit on stale stack poison that an instrumented or
 * intercepted copy would report. DF is clear on handler entry (psABI). */
static void copy_bytes(void *dst, const void *src, size_t n) {
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void zero_bytes(void *dst, size_t n) {
  __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

/* The image of a thread that never touched the FPU: FINIT's x87 state and
 * the default MXCSR. */
static void init_fxsave(unsigned char *fp) {
  zero_bytes(fp, FX_SIZE);
  store16(fp + FX_FCW, 0x037f);
  store32(fp + FX_MXCSR, 0x1f80);
}

/* ---- Capture ------------------------------------------------------------- */

/* The signal frame is on the interrupted thread's stack, below memory an
 * ASan build may have left poisoned (frames abandoned by longjmp): read it
 * uninstrumented, like the unwinder's stack loads. */
__attribute__((no_sanitize_address)) int
ckpt_context_from_signal(struct ckpt_cpu_context *c, const void *ucontext) {
  const ucontext_t *uc = ucontext;
  for (int i = 0; i < CKPT_CONTEXT_NGREGS; i++)
    c->gregs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
  c->origin = CKPT_CONTEXT_SIGNAL;
  for (int i = 0; i < 7; i++)
    c->reserved[i] = 0;

  const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
  if (!fp) {
    init_fxsave(c->fp);
    zero_bytes(c->fp + FX_SIZE, CKPT_CONTEXT_FP_MAX - FX_SIZE);
    c->fp_kind = CKPT_CONTEXT_FXSAVE;
    c->fp_len = FX_SIZE;
    c->xfeatures = XFEATURES_FPSSE;
    return 0;
  }
  /* The kernel's own test for an XSAVE frame (check_xstate_in_sigframe):
   * anything less is the 512-byte FXSAVE image alone. */
  uint32_t kind = CKPT_CONTEXT_FXSAVE, size = FX_SIZE;
  const unsigned char *sw = fp + FX_SW_BYTES;
  if (load32(sw + SW_MAGIC1) == FP_XSTATE_MAGIC1) {
    uint32_t xstate_size = load32(sw + SW_XSTATE_SIZE);
    uint32_t extended_size = load32(sw + SW_EXTENDED_SIZE);
    if (xstate_size >= XSAVE_MIN && xstate_size <= extended_size &&
        extended_size - xstate_size >= 4) {
      if (xstate_size > CKPT_CONTEXT_FP_MAX) {
        c->fp_kind = 0;
        c->fp_len = xstate_size;
        c->xfeatures = 0;
        return -1;
      }
      if (load32(fp + xstate_size) == FP_XSTATE_MAGIC2) {
        kind = CKPT_CONTEXT_XSAVE;
        size = xstate_size;
      }
    }
  }
  copy_bytes(c->fp, fp, size);
  zero_bytes(c->fp + size, CKPT_CONTEXT_FP_MAX - size);
  c->fp_kind = kind;
  c->fp_len = size;
  c->xfeatures = kind == CKPT_CONTEXT_XSAVE ? load64(c->fp + XSAVE_HEADER)
                                            : XFEATURES_FPSSE;
  return 0;
}

/* ---- Fitting an image to this CPU ---------------------------------------- */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid"
                   : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                   : "a"(leaf), "c"(sub));
}

/* XSAVE usable by user code: the OS set CR4.OSXSAVE (CPUID.1:ECX bit 27),
 * which is also what makes xgetbv legal. */
static int cpu_has_xsave(void) {
#ifdef CKPT_UNIT_TEST
  if (ckpt_context_test_no_xsave)
    return 0;
#endif
  uint32_t r[4];
  cpuid(1, 0, r);
  return (r[2] >> 27) & 1;
}

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

/* The MXCSR bits this CPU accepts; FXRSTOR and XRSTOR fault on any other.
 * A zero mask in the FXSAVE image means the architectural default. */
static uint32_t cpu_mxcsr_mask(void) {
  _Alignas(16) unsigned char area[FX_SIZE];
  __asm__ volatile("fxsave64 %0" : "=m"(area));
  uint32_t mask = load32(area + FX_MXCSR_MASK);
  return mask ? mask : 0xffbf;
}

/* XSAVE state components by name, grouped the way a user knows them. */
static const struct {
  uint64_t mask;
  const char *name;
} component_names[] = {
    {UINT64_C(1) << 0, "x87"},     {UINT64_C(1) << 1, "SSE"},
    {UINT64_C(1) << 2, "AVX"},     {UINT64_C(3) << 3, "MPX"},
    {UINT64_C(7) << 5, "AVX-512"}, {UINT64_C(1) << 9, "PKRU"},
    {UINT64_C(3) << 17, "AMX"},    {UINT64_C(1) << 19, "APX"},
};

/* "AVX-512, PKRU" for the components in `bits`; unknown ones by number. */
static void name_components(uint64_t bits, char *out, size_t n) {
  size_t used = 0;
  out[0] = 0;
  for (size_t i = 0; i < sizeof component_names / sizeof component_names[0];
       i++) {
    if (!(bits & component_names[i].mask))
      continue;
    bits &= ~component_names[i].mask;
    int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "",
                     component_names[i].name);
    if (w < 0 || (size_t)w >= n - used)
      return;
    used += (size_t)w;
  }
  for (unsigned b = 0; b < 64; b++) {
    if (!(bits >> b & 1))
      continue;
    int w = snprintf(out + used, n - used, "%sXSAVE component %u",
                     used ? ", " : "", b);
    if (w < 0 || (size_t)w >= n - used)
      return;
    used += (size_t)w;
  }
}

static int fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t n, const char *fmt, ...) {
  if (why && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* The legacy area of an XSAVE image, made a valid FXSAVE image: components
 * clear in XSTATE_BV are in their initial configuration, whatever the
 * area's bytes say (MXCSR is saved with either SSE or AVX, so it is valid). */
static void xsave_to_fxsave(struct ckpt_cpu_context *c, uint64_t bv) {
  unsigned char *fp = c->fp;
  if (!(bv & 1)) {
    store16(fp + FX_FCW, 0x037f);
    zero_bytes(fp + FX_FSW, FX_MXCSR - FX_FSW); /* FSW, FTW, FOP, FIP, FDP */
    zero_bytes(fp + FX_ST0, FX_XMM0 - FX_ST0);
  }
  if (!(bv & 2))
    zero_bytes(fp + FX_XMM0, FX_SW_BYTES - FX_XMM0);
  zero_bytes(fp + FX_SIZE, c->fp_len - FX_SIZE);
  c->fp_kind = CKPT_CONTEXT_FXSAVE;
  c->fp_len = FX_SIZE;
  c->xfeatures = XFEATURES_FPSSE;
}

int ckpt_context_fit_cpu(struct ckpt_cpu_context *c, char *why, size_t n) {
  unsigned char *fp = c->fp;
  int xsave_image = c->fp_kind == CKPT_CONTEXT_XSAVE;
  if (xsave_image) {
    if (c->fp_len < XSAVE_MIN || c->fp_len > CKPT_CONTEXT_FP_MAX)
      return fail(why, n, "XSAVE image of %" PRIu32 " bytes", c->fp_len);
  } else if (c->fp_kind == CKPT_CONTEXT_FXSAVE) {
    if (c->fp_len != FX_SIZE)
      return fail(why, n, "FXSAVE image of %" PRIu32 " bytes", c->fp_len);
    if (c->xfeatures & ~XFEATURES_FPSSE)
      return fail(why, n, "FXSAVE image claims XSAVE components %#" PRIx64,
                  c->xfeatures);
  } else {
    return fail(why, n, "no FP image (kind %" PRIu32 ")", c->fp_kind);
  }

  uint32_t mxcsr = load32(fp + FX_MXCSR), mask = cpu_mxcsr_mask();
  if (mxcsr & ~mask)
    return fail(why, n,
                "saved MXCSR %#" PRIx32
                " has bits this CPU rejects (mask %#" PRIx32 ")",
                mxcsr, mask);

  int have_xsave = cpu_has_xsave();
  uint64_t xcr0 = have_xsave ? xgetbv0() : XFEATURES_FPSSE;
  char names[96];
  if (xsave_image) {
    /* What the context claims and what the header says: either one set
     * where this CPU has no such component would make XRSTOR fault. */
    uint64_t bv = load64(fp + XSAVE_HEADER);
    uint64_t missing = (c->xfeatures | bv) & ~xcr0;
    if (missing) {
      name_components(missing, names, sizeof names);
      if (!have_xsave)
        return fail(why, n, "saved %s state, this CPU has no XSAVE", names);
      return fail(why, n,
                  "saved %s state, this CPU has no %s (XCR0 %#" PRIx64 ")",
                  names, names, xcr0);
    }
    if (bv != c->xfeatures)
      return fail(why, n,
                  "xfeatures %#" PRIx64 " do not match the XSAVE header's "
                  "XSTATE_BV %#" PRIx64,
                  c->xfeatures, bv);
    /* XRSTOR of the standard form faults unless XCOMP_BV and the next 8
     * bytes are zero; the kernel zeroes the whole rest of the header. */
    for (unsigned i = 8; i < XSAVE_MIN - XSAVE_HEADER; i++)
      if (fp[XSAVE_HEADER + i])
        return fail(why, n,
                    "XSAVE header is not in the standard form (byte %u is "
                    "%#x)",
                    i, fp[XSAVE_HEADER + i]);
    if (!have_xsave) {
      xsave_to_fxsave(c, bv);
      return 0;
    }
    /* Standard-form offsets are this CPU's (CPUID leaf 0xD): a component
     * the image holds must lie inside it. The image's own layout is the
     * saving CPU's; every CPU so far uses the same offsets for the user
     * components, which is what makes the format portable at all. */
    for (unsigned i = 2; i < 64; i++) {
      if (!(bv >> i & 1))
        continue;
      uint32_t r[4];
      cpuid(0xd, i, r);
      uint64_t end = (uint64_t)r[1] + r[0];
      if (r[0] && end > c->fp_len)
        return fail(why, n,
                    "XSAVE image of %" PRIu32 " bytes is too short for "
                    "component %u (ends at %" PRIu64 ")",
                    c->fp_len, i, end);
    }
    return 0;
  }
  /* An FXSAVE image: on an XSAVE CPU give it a header, so that resuming
   * initialises every other component instead of leaving the resumer's
   * AVX upper halves, opmasks... in the registers. */
  if (have_xsave) {
    zero_bytes(fp + XSAVE_HEADER, XSAVE_MIN - XSAVE_HEADER);
    store64(fp + XSAVE_HEADER, XFEATURES_FPSSE);
    c->fp_kind = CKPT_CONTEXT_XSAVE;
    c->fp_len = XSAVE_MIN;
    c->xfeatures = XFEATURES_FPSSE;
  }
  return 0;
}

/* ---- Resume ---------------------------------------------------------------
 * The last three values to load -- rflags, rsp and rip -- need scratch that
 * survives loading every general register. It is 16 bytes on the TARGET
 * stack at [rsp - 144, rsp - 128): rflags, then rip. rsp is moved there,
 * every GPR is loaded (rdi, the context pointer, last), popfq takes rflags,
 * and `ret $128` takes rip and leaves rsp at its saved value. The 128 bytes
 * skipped are the interrupted function's red zone, which must come back
 * untouched; below it lay the kernel's signal frame, so nothing live is
 * there. At every instruction the scratch still needed is at or above rsp,
 * so a signal arriving meanwhile cannot overwrite it.
 *
 * Rejected: a thread-local slot for rip with `jmp *%fs:slot` (local-exec
 * TLS works only in the executable, and a jump leaves rsp to be set before
 * it, with the slot below rsp where a signal frame would land), and a
 * trampoline page per thread (allocation and mapping at restart).
 *
 * XRSTOR runs with RFBM = XCR0 minus AMX tile data: every component is
 * either loaded (its XSTATE_BV bit set) or initialised, so no state of the
 * resuming thread leaks into the resumed one. RFBM = xfeatures would leave
 * the components the image holds in their initial state untouched. Tile
 * data (component 18) is left out because Linux arms XFD for it until a
 * process asks for AMX, and an XRSTOR reaching an XFD-armed component may
 * raise #NM; no context holds tile data anyway (8 KB does not fit in
 * CKPT_CONTEXT_FP_MAX, and fit_cpu's extent check refuses it).
 *
 * The CFI marks the return address undefined: an unwinder (ours, gdb's,
 * a sanitizer's) stops here instead of reading the caller's frames, which
 * are abandoned. */
_Static_assert(CKPT_CONTEXT_XSAVE == 2, "the assembly tests fp_kind == 2");
_Static_assert(CKPT_CONTEXT_FP_MAX == 8192, "the assembly caps the copy");

#if defined(__CET__) && (__CET__ & 1)
#define RESUME_ENTRY_BRANCH_TARGET "endbr64\n"
#else
#define RESUME_ENTRY_BRANCH_TARGET ""
#endif

__asm__(".pushsection .text\n"
        ".globl ckpt_context_resume\n"
        ".type ckpt_context_resume, @function\n"
        ".p2align 4\n"
        "ckpt_context_resume:\n"
        ".cfi_startproc\n"
        ".cfi_undefined %rip\n" RESUME_ENTRY_BRANCH_TARGET
        "lea 192(%rdi), %rsi\n" /* the FP image */
        "test $63, %sil\n"
        "jz 1f\n"
        /* Misaligned: XRSTOR would fault. Copy the image to an aligned
         * place below the current stack, which is abandoned anyway. */
        "mov 148(%rdi), %ecx\n"
        "cmp $8192, %ecx\n"
        "jbe 2f\n"
        "mov $8192, %ecx\n"
        "2:\n"
        "mov %rdi, %rdx\n"
        "mov %rsp, %rax\n"
        "sub %rcx, %rax\n"
        "and $-64, %rax\n"
        "mov %rax, %rsp\n"
        "mov %rax, %rdi\n"
        "cld\n"
        "rep movsb\n"
        "mov %rdx, %rdi\n"
        "mov %rsp, %rsi\n"
        "1:\n"
        "cmpl $2, 144(%rdi)\n"
        "jne 3f\n"
        "mov $0xfffbffff, %eax\n" /* all but bit 18, XTILEDATA */
        "mov $-1, %edx\n"
        "xrstor64 (%rsi)\n"
        "jmp 4f\n"
        "3:\n"
        "fxrstor64 (%rsi)\n"
        "4:\n"
        "mov 120(%rdi), %rax\n" /* rsp */
        "lea -144(%rax), %rsp\n"
        "mov 136(%rdi), %rax\n" /* rflags */
        "mov %rax, 0(%rsp)\n"
        "mov 128(%rdi), %rax\n" /* rip */
        "mov %rax, 8(%rsp)\n"
        "mov 0(%rdi), %r8\n"
        "mov 8(%rdi), %r9\n"
        "mov 16(%rdi), %r10\n"
        "mov 24(%rdi), %r11\n"
        "mov 32(%rdi), %r12\n"
        "mov 40(%rdi), %r13\n"
        "mov 48(%rdi), %r14\n"
        "mov 56(%rdi), %r15\n"
        "mov 72(%rdi), %rsi\n"
        "mov 80(%rdi), %rbp\n"
        "mov 88(%rdi), %rbx\n"
        "mov 96(%rdi), %rdx\n"
        "mov 104(%rdi), %rax\n"
        "mov 112(%rdi), %rcx\n"
        "mov 64(%rdi), %rdi\n"
        "popfq\n"
        "ret $128\n"
        ".cfi_endproc\n"
        ".size ckpt_context_resume, .-ckpt_context_resume\n"
        ".popsection\n");

/* ---- Walk ---------------------------------------------------------------- */

const char *ckpt_context_walk(
    const struct ckpt_cpu_context *c, uintptr_t stack_lo, uintptr_t stack_hi,
    int (*frame_ok)(void *arg, uintptr_t pc, uintptr_t func_start), void *arg,
    uintptr_t *pcs, unsigned max, unsigned *n) {
  struct ckpt_unwind_regs r = {c->rip, c->rsp, c->rbp, c->rbx,
                               c->r12, c->r13, c->r14, c->r15};
  *n = 0;
  /* The first frame's pc is exact (the interrupted instruction, possibly
   * in a prologue or epilogue: compilers emit asynchronous CFI for
   * x86-64); every later one is a return address. Each step moves rsp up
   * (the unwinder checks the CFA is above it), so the walk ends. */
  for (int exact = 1;; exact = 0) {
    if (*n == max)
      return "stack deeper than the frame limit";
    uintptr_t pc = r.rip, func_start;
    pcs[(*n)++] = pc;
    int result = ckpt_unwind_step(&r, exact, stack_lo, stack_hi, &func_start);
    if (result == CKPT_UNWIND_NOT_PROGRAM)
      return exact ? "in a shared library" : "called from a shared library";
    if (result != CKPT_UNWIND_OK && result != CKPT_UNWIND_BOTTOM)
      return "in a function without unwind information";
    int ok = frame_ok(arg, pc, func_start);
    if (ok == 0)
      return "in a function that cannot be stopped";
    if (ok == 2)
      return NULL;
    if (result == CKPT_UNWIND_BOTTOM)
      return "stack ends in a frame not accepted as its bottom";
  }
}
