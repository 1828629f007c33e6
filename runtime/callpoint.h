/* runtime/callpoint.h - a thread's registers at a call boundary, saved so
 * that the thread can be resumed there later -- after a restart, in a new
 * process, once its stack bytes are back at the same addresses.
 *
 * At a call, the SysV ABI makes every register but rbx, rbp, r12-r15, rsp,
 * the MXCSR control bits and the x87 control word dead: the callee may
 * clobber them. So a call point is eight words and two control words, and
 * resuming it is "the call returned, with this value in rax". A point stays
 * resumable only while the frame it returns into is live (and unchanged
 * below the saved rsp nothing matters).
 *
 * ckpt_call_enter and __ckpt_poll (frames.c) save one on entry through
 * CKPT_CALL_POINT_STUB, which makes "the call returned" mean "the wrapper or
 * the instrumented function that called us goes on", the one frame that
 * stays live while the thread is stopped. */
#ifndef CKPT_CALLPOINT_H
#define CKPT_CALLPOINT_H

#include <stdint.h>

/* Layout used by the assembly in callpoint.c and CKPT_CALL_POINT_STUB: keep
 * the offsets in step. Written verbatim into checkpoints (THREADS). */
struct ckpt_call_point {
  uint64_t rip; /* where the call returns to */
  uint64_t rsp; /* stack pointer after the return */
  uint64_t rbx, rbp, r12, r13, r14, r15;
  uint32_t mxcsr;
  uint16_t fpu_cw;
  uint16_t reserved;
};
_Static_assert(sizeof(struct ckpt_call_point) == 72, "call point layout");

/* Like setjmp: returns 0 when called; returns `value` (non-zero) again when
 * the point is resumed. */
int ckpt_call_point_save(struct ckpt_call_point *p)
    __attribute__((returns_twice));

/* Continue at p with rax = value. The stack at and above p->rsp must hold
 * what it held when p was saved. */
void ckpt_call_point_resume(const struct ckpt_call_point *p, uint64_t value)
    __attribute__((noreturn));

/* Defines `name` in assembly: saves the caller's call point in a stack
 * buffer, then calls `impl` with the same first two arguments and the
 * point's address as the third; returns impl's value. The point is valid
 * while impl runs, and after it returns for as long as the caller's frame is
 * live if impl copies it. */
#define CKPT_CALL_POINT_STUB(name, impl)                                       \
  __asm__(".text\n\t.globl " #name "\n\t.type " #name ",@function\n"          \
          #name ":\n\t.cfi_startproc\n\t"                                      \
          "sub $72, %rsp\n\t.cfi_adjust_cfa_offset 72\n\t"                    \
          "mov 72(%rsp), %rax\n\tmov %rax, 0(%rsp)\n\t"                        \
          "lea 80(%rsp), %rax\n\tmov %rax, 8(%rsp)\n\t"                        \
          "mov %rbx, 16(%rsp)\n\tmov %rbp, 24(%rsp)\n\t"                       \
          "mov %r12, 32(%rsp)\n\tmov %r13, 40(%rsp)\n\t"                       \
          "mov %r14, 48(%rsp)\n\tmov %r15, 56(%rsp)\n\t"                       \
          "stmxcsr 64(%rsp)\n\tfnstcw 68(%rsp)\n\t"                            \
          "mov %rsp, %rdx\n\tcall " #impl "\n\t"                               \
          "add $72, %rsp\n\t.cfi_adjust_cfa_offset -72\n\tret\n\t"            \
          ".cfi_endproc\n\t.size " #name ", .-" #name "\n\t.previous")

#endif
