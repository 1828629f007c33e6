/* runtime/context.h - a thread's complete register context, captured from a
 * signal frame and resumed exactly, possibly in another process after a
 * restart; and the walk that decides whether an interrupted thread may be
 * stopped where it is.
 *
 * How the frames redesign (docs/design.md, issue 10) uses it: the runtime's
 * signal interrupts a thread anywhere; the handler captures the context
 * (ckpt_context_from_signal), walks the native frames from the exact pc
 * (ckpt_context_walk) and, if every frame is the program's own down to the
 * thread's entry, parks. The thread's stack is saved from rsp - 128 (the
 * interrupted function's red zone) to its top. At restart the stack bytes
 * go back to the same addresses, ckpt_context_fit_cpu checks the FP image
 * against the CPU, and ckpt_context_resume continues the thread at the
 * exact instruction with every register as it was.
 *
 * What a context does NOT hold: the signal mask (the resumer runs with its
 * own; set it before resuming), the fs/gs bases (the thread pointer is the
 * resuming thread's own TCB, which is what a restarted thread needs), and
 * supervisor XSAVE state (CET shadow stacks: a resumed thread's return
 * addresses are not on any shadow stack, so shadow stacks must be off).
 */
#ifndef CKPT_CONTEXT_H
#define CKPT_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

/* The largest FP image kept. The kernel's signal frame holds the XSAVE
 * image in standard (non-compacted) form; with AVX-512 and PKRU it is 2696
 * bytes. AMX tile data (8 KB) only appears in the frames of a process that
 * asked for it (arch_prctl ARCH_REQ_XCOMP_PERM), which programs under ckpt
 * must not do: such a frame is refused rather than truncated. */
#define CKPT_CONTEXT_FP_MAX 8192
#define CKPT_CONTEXT_NGREGS 18

enum ckpt_context_fp_kind {
  /* fp[0..512): the FXSAVE64 image (x87, MXCSR, XMM0-15). */
  CKPT_CONTEXT_FXSAVE = 1,
  /* fp[0..fp_len): the XSAVE image in standard form, its header at 512
   * (XSTATE_BV, then zeros). */
  CKPT_CONTEXT_XSAVE = 2,
};

enum ckpt_context_origin {
  /* Interrupted by a signal: every register is live. */
  CKPT_CONTEXT_SIGNAL = 1,
};

/* Fixed size, no pointers, no implicit padding: checkpoint files hold it
 * verbatim (little-endian x86-64), so the offsets below are part of the
 * file format (static_asserts in context.c keep them):
 *
 *     0  gregs[18]  r8 r9 r10 r11 r12 r13 r14 r15 rdi rsi rbp rbx rdx rax
 *                   rcx rsp rip eflags -- glibc's REG_R8..REG_EFL order
 *   144  fp_kind    enum ckpt_context_fp_kind
 *   148  fp_len     bytes of fp in use (512 for FXSAVE)
 *   152  xfeatures  XSTATE_BV of the image: the components holding state
 *                   other than their initial configuration (3 = x87|SSE
 *                   for an FXSAVE image)
 *   160  origin     enum ckpt_context_origin
 *   164  reserved   zero
 *   192  fp         the FP image, 64-byte aligned; bytes past fp_len zero
 *  8384  end
 *
 * A writer may keep only the first 192 + fp_len bytes. */
struct ckpt_cpu_context {
  union {
    struct {
      uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
      uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    };
    uint64_t gregs[CKPT_CONTEXT_NGREGS];
  };
  uint32_t fp_kind;
  uint32_t fp_len;
  uint64_t xfeatures;
  uint32_t origin;
  uint32_t reserved[7];
  _Alignas(64) unsigned char fp[CKPT_CONTEXT_FP_MAX];
};

/* From the ucontext_t of a SA_SIGINFO handler (its third argument): the
 * general registers and the FP state the kernel saved in the signal frame.
 * 0, or -1 when the frame's XSAVE image is larger than CKPT_CONTEXT_FP_MAX
 * (c->fp_len then holds the size it needs, c->fp_kind is 0 and the context
 * must not be resumed). Async-signal-safe: no libc, no allocation. */
int ckpt_context_from_signal(struct ckpt_cpu_context *c, const void *ucontext);

/* Before resuming a context that may come from another CPU (or a file):
 * checks that this CPU can load the FP image, and converts it when that
 * loses nothing. 0, or -1 with a one-line reason in why[0..n) (which may be
 * NULL) and c unchanged when:
 *   - the image holds state of components this CPU does not enable (XCR0),
 *     e.g. "saved AVX-512 state, this CPU has no AVX-512";
 *   - MXCSR has bits this CPU rejects, the XSAVE header is not the standard
 *     form, or the image is too short for a component it holds;
 *   - fp_kind or fp_len are not a valid pair.
 * Conversions: an FXSAVE image on an XSAVE CPU becomes an XSAVE image with
 * XSTATE_BV = x87|SSE (resuming then puts every other component, e.g. the
 * upper halves of the YMM registers, in its initial state instead of
 * leaving the resumer's values there); an XSAVE image holding only x87/SSE
 * state on a CPU without XSAVE becomes the FXSAVE image of its legacy area.
 * Not async-signal-safe (snprintf). */
int ckpt_context_fit_cpu(struct ckpt_cpu_context *c, char *why, size_t n);

/* Continues the context: loads the FP state (XRSTOR of every component
 * XCR0 enables but AMX tile data, those clear in the image's XSTATE_BV
 * being initialised; or FXRSTOR64), then every general register, rflags,
 * rsp and rip, exactly.
 * Call ckpt_context_fit_cpu first unless the context was captured by this
 * process. Any thread may resume any context; the target stack must
 * already hold its bytes from rsp - 128 up.
 *
 * It writes 16 bytes at [rsp - 144, rsp - 128) of the TARGET stack, just
 * below the interrupted function's red zone (where the kernel had put the
 * signal frame, so nothing live is there): that is the scratch that lets
 * rflags, rsp and rip be loaded last. Therefore neither c nor the caller's
 * own stack frame may lie in that range or above it on the target stack.
 * c should be 64-byte aligned (the type is); a misaligned one is copied to
 * an aligned place below the caller's stack first. */
void ckpt_context_resume(const struct ckpt_cpu_context *c)
    __attribute__((noreturn));

/* Whether the thread interrupted in c may be stopped there: walks its
 * native frames with the executable's CFI (runtime/unwind.h;
 * ckpt_unwind_init must have run), from the exact interrupted pc, reading
 * only [stack_lo, stack_hi). Every frame must be in the executable, have
 * CFI, and be accepted by frame_ok(arg, pc, func_start) -- pc the frame's
 * pc (its return address for every frame but the first), func_start its
 * FDE's start: 1 = accepted, go on to the caller; 2 = accepted and it is
 * the stack's bottom frame, stop with success; 0 = refused.
 *
 * NULL when a frame was accepted as the bottom, else a short static reason
 * ("in a shared library", "called from a shared library", "in a function
 * without unwind information", "in a function that cannot be stopped",
 * "stack deeper than the frame limit", "stack ends in a frame not accepted
 * as its bottom"). pcs[0..*n) receives the pcs of the frames examined,
 * innermost first, at most max: when a frame is refused or cannot be
 * stepped over, it is the last one.
 * No allocation, no locks: async-signal-safe. */
const char *ckpt_context_walk(
    const struct ckpt_cpu_context *c, uintptr_t stack_lo, uintptr_t stack_hi,
    int (*frame_ok)(void *arg, uintptr_t pc, uintptr_t func_start), void *arg,
    uintptr_t *pcs, unsigned max, unsigned *n);

#ifdef CKPT_UNIT_TEST
/* Nonzero: ckpt_context_fit_cpu acts as on a CPU without XSAVE (FXSAVE
 * images only), so that the test covers that path on any machine. */
extern int ckpt_context_test_no_xsave;
#endif

#endif
