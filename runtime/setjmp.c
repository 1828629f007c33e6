/* runtime/setjmp.c - setjmp/longjmp whose jmp_bufs survive a restart.
 *
 * glibc mangles the stack pointer, frame pointer and return address it keeps
 * in a jmp_buf with a per-process guard (%fs:0x30), which a restarted
 * process does not share: a jmp_buf filled before a checkpoint would jump
 * to garbage after the restart. The executable links this file whole, so
 * the program's setjmp, _setjmp, __sigsetjmp (sigsetjmp, and the cancel
 * buffers of pthread_cleanup_push), longjmp, _longjmp, siglongjmp and
 * __longjmp_chk (what -D_FORTIFY_SOURCE turns them into) are these. They
 * keep glibc's jmp_buf layout and its mangling, but with a guard of ckpt's
 * own that lives in the runtime state section: saved in every checkpoint
 * and the same after a restart. Shared libraries keep glibc's (the
 * executable does not export these symbols); a library's jmp_bufs live in
 * memory a checkpoint does not keep, and its frames never stop.
 *
 * Layout (glibc, x86_64): __jmpbuf[8] = rbx, rbp, r12, r13, r14, r15, rsp,
 * pc; rbp, rsp and pc are mangled: (value ^ guard) rotated left by 17.
 * Then __mask_was_saved and __saved_mask. */
#include "rt.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

enum { JB_RBX, JB_RBP, JB_R12, JB_R13, JB_R14, JB_R15, JB_RSP, JB_PC };

/* Never 0 once set: 0 means "not drawn yet". Set at the first setjmp (a
 * constructor may call it before the runtime's own start-up), restored by
 * a restart with the rest of the runtime state. */
static uint64_t jmpbuf_guard CKPT_RTSTATE_VAR;

static uint64_t guard(void) {
  uint64_t g = __atomic_load_n(&jmpbuf_guard, __ATOMIC_RELAXED);
  if (g)
    return g;
  uint64_t fresh = 0;
  if (getrandom(&fresh, sizeof fresh, GRND_NONBLOCK) != (ssize_t)sizeof fresh)
    fresh = (uint64_t)(uintptr_t)&fresh ^ 0x9e3779b97f4a7c15ull;
  if (!fresh)
    fresh = 1;
  uint64_t expected = 0;
  if (__atomic_compare_exchange_n(&jmpbuf_guard, &expected, fresh, 0,
                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    return fresh;
  return expected; /* another thread drew first */
}

static uint64_t mangle(uint64_t v) {
  v ^= guard();
  return (v << 17) | (v >> 47);
}

static uint64_t demangle(uint64_t v) {
  v = (v >> 17) | (v << 47);
  return v ^ guard();
}

/* The second half of __sigsetjmp, entered by a tail jump from the assembly
 * below with the registers already in env, unmangled: its return is
 * setjmp's first return (0), straight to setjmp's caller. */
__attribute__((used, visibility("hidden"))) int
ckpt_sigjmp_save(struct __jmp_buf_tag *env, int savemask) {
  long *jb = env->__jmpbuf;
  jb[JB_RBP] = (long)mangle((uint64_t)jb[JB_RBP]);
  jb[JB_RSP] = (long)mangle((uint64_t)jb[JB_RSP]);
  jb[JB_PC] = (long)mangle((uint64_t)jb[JB_PC]);
  env->__mask_was_saved =
      savemask && sigprocmask(SIG_BLOCK, NULL, &env->__saved_mask) == 0;
  return 0;
}

/* setjmp's registers as the caller will see them after the return: rsp
 * above the return address, pc the return address. No frame of its own,
 * so nothing of this function is on the stack when it jumps on. */
__asm__(".text\n"
        ".globl __sigsetjmp\n"
        ".type __sigsetjmp,@function\n"
        "__sigsetjmp:\n"
        ".cfi_startproc\n"
        "  movq %rbx, 0(%rdi)\n"
        "  movq %rbp, 8(%rdi)\n"
        "  movq %r12, 16(%rdi)\n"
        "  movq %r13, 24(%rdi)\n"
        "  movq %r14, 32(%rdi)\n"
        "  movq %r15, 40(%rdi)\n"
        "  leaq 8(%rsp), %rdx\n"
        "  movq %rdx, 48(%rdi)\n"
        "  movq (%rsp), %rdx\n"
        "  movq %rdx, 56(%rdi)\n"
        "  jmp ckpt_sigjmp_save\n"
        ".cfi_endproc\n"
        ".size __sigsetjmp, .-__sigsetjmp\n"
        /* glibc's setjmp() function saves the mask (the <setjmp.h> macro
         * setjmp is _setjmp, which does not). */
        ".globl setjmp\n"
        ".type setjmp,@function\n"
        "setjmp:\n"
        ".cfi_startproc\n"
        "  movl $1, %esi\n"
        "  jmp __sigsetjmp\n"
        ".cfi_endproc\n"
        ".size setjmp, .-setjmp\n"
        ".globl _setjmp\n"
        ".type _setjmp,@function\n"
        "_setjmp:\n"
        ".cfi_startproc\n"
        "  xorl %esi, %esi\n"
        "  jmp __sigsetjmp\n"
        ".cfi_endproc\n"
        ".size _setjmp, .-_setjmp\n");

/* Load the demangled registers and jump; never returns. */
__attribute__((noreturn, visibility("hidden"))) void
ckpt_jump_to(const uint64_t regs[8], int value);
__asm__(".text\n"
        ".type ckpt_jump_to,@function\n"
        "ckpt_jump_to:\n"
        ".cfi_startproc\n"
        "  movl %esi, %eax\n"
        "  movq 0(%rdi), %rbx\n"
        "  movq 8(%rdi), %rbp\n"
        "  movq 16(%rdi), %r12\n"
        "  movq 24(%rdi), %r13\n"
        "  movq 32(%rdi), %r14\n"
        "  movq 40(%rdi), %r15\n"
        "  movq 56(%rdi), %rdx\n"
        "  movq 48(%rdi), %rsp\n"
        "  jmp *%rdx\n"
        ".cfi_endproc\n"
        ".size ckpt_jump_to, .-ckpt_jump_to\n");

static void restore_mask(struct __jmp_buf_tag *env) {
  /* sigprocmask is the runtime's: it never blocks the stop signal. */
  if (env->__mask_was_saved)
    sigprocmask(SIG_SETMASK, &env->__saved_mask, NULL);
}

static void load_regs(struct __jmp_buf_tag *env, uint64_t regs[8]) {
  const long *jb = env->__jmpbuf;
  for (int i = 0; i < 8; i++)
    regs[i] = (uint64_t)jb[i];
  regs[JB_RBP] = demangle(regs[JB_RBP]);
  regs[JB_RSP] = demangle(regs[JB_RSP]);
  regs[JB_PC] = demangle(regs[JB_PC]);
}

void longjmp(struct __jmp_buf_tag env[1], int value) {
  uint64_t regs[8];
  load_regs(env, regs);
  restore_mask(env);
  ckpt_jump_to(regs, value ? value : 1);
}

void _longjmp(struct __jmp_buf_tag env[1], int value) { longjmp(env, value); }

void siglongjmp(struct __jmp_buf_tag env[1], int value) {
  longjmp(env, value);
}

/* -D_FORTIFY_SOURCE's longjmp: as glibc's, refuses to jump to a frame below
 * the current one (one that has returned), unless the jump leaves an
 * alternate signal stack. */
void __longjmp_chk(struct __jmp_buf_tag env[1], int value) {
  uint64_t regs[8];
  load_regs(env, regs);
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (regs[JB_RSP] < here) {
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK)) {
      static const char msg[] =
          "*** longjmp causes uninitialized stack frame ***: terminated\n";
      (void)!write(2, msg, sizeof msg - 1);
      abort();
    }
  }
  restore_mask(env);
  ckpt_jump_to(regs, value ? value : 1);
}

/* longjmp to a buffer that is only the jmp_buf part of a struct
 * __jmp_buf_tag (a cleanup buffer: its mask was not saved, so the saved-mask
 * words that would follow are never read). */
void ckpt_longjmp_nomask(void *env, int value) {
  struct __jmp_buf_tag *tag = env;
  uint64_t regs[8];
  load_regs(tag, regs);
  ckpt_jump_to(regs, value ? value : 1);
}
