/* runtime/unwind.h - walking a thread's native frames through the
 * program's own code with its DWARF call frame information (.eh_frame).
 *
 * Native frames are saved byte-for-byte; before saving, the runtime has to
 * know that every frame on a stack belongs to the program (a shared library
 * ckpt did not build calling back into the program, e.g. qsort's
 * comparator, cannot be restored), list them, and find a caller's
 * registers. The program's code is the executable's and that of the shared
 * libraries built with ckpt-cc -shared (added as they register): a return
 * address anywhere else ends the walk with CKPT_UNWIND_NOT_PROGRAM.
 *
 * Everything after ckpt_unwind_init() only reads the objects' mapped
 * .eh_frame_hdr/.eh_frame and the stack being walked: no allocation, no
 * locks, no libc calls, so it is async-signal-safe and may run on any thread
 * concurrently (objects are added and removed with release stores). Walking another thread's stack is only meaningful while that
 * thread is stopped in the frames described by its captured context.
 */
#ifndef CKPT_UNWIND_H
#define CKPT_UNWIND_H

#include <stdint.h>

/* The registers an x86-64 frame walk needs: the pc, the stack pointer and
 * the SysV callee-saved registers (every other register is dead across a
 * call, so no CFI can make an unwinder need it). The layout is used by
 * ckpt_unwind_capture's assembly: keep the offsets in step. */
struct ckpt_unwind_regs {
  uint64_t rip, rsp, rbp, rbx, r12, r13, r14, r15;
};

enum ckpt_unwind_result {
  CKPT_UNWIND_OK = 0,
  /* The frame's CFI marks the return address undefined (.cfi_undefined
   * rip): it is the outermost frame of its stack. */
  CKPT_UNWIND_BOTTOM = 1,
  /* The pc is not in the program's code (a shared library ckpt did not
   * build, the vdso, 0, garbage). */
  CKPT_UNWIND_NOT_PROGRAM = 2,
  /* No FDE covers the pc, the CFI uses something not supported (DWARF
   * expressions, unknown opcodes or encodings), or the result is not a
   * plausible frame (CFA not 8-aligned, not above rsp, or a slot outside
   * the stack bounds given). */
  CKPT_UNWIND_NO_INFO = 3,
};

/* Once, single-threaded, before any other call: finds the executable (the
 * first object dl_iterate_phdr reports), its executable PT_LOAD ranges and
 * its PT_GNU_EH_FRAME. 0, or -1 when the executable has no usable
 * .eh_frame_hdr (the steps then answer CKPT_UNWIND_NO_INFO). */
int ckpt_unwind_init(void);

/* True if addr lies in one of the PT_LOAD segments of the loaded object
 * dl_iterate_phdr describes in info. */
struct dl_phdr_info;
int ckpt_object_holds(const struct dl_phdr_info *info, uintptr_t addr);

/* Adds the loaded object holding addr (an instrumented shared library) to
 * the program's code. Not async-signal-safe (dl_iterate_phdr); callers
 * serialise additions and removals. 0, or -1 if it is not loaded, has no
 * usable .eh_frame_hdr, or the table of objects is full. */
int ckpt_unwind_add_object(uintptr_t addr);

/* The object whose code holds addr is no longer the program's (dlclose). */
void ckpt_unwind_remove_object(uintptr_t addr);

/* 1 if pc is inside an executable segment of the executable or of an added
 * object, else 0. */
int ckpt_unwind_in_program(uintptr_t pc);

/* One step up the stack. On entry *r describes a frame: r->rip is a return
 * address into it -- the CFI row is looked up at rip - 1, inside the call --
 * or, when `exact` is nonzero, the exact pc the registers belong to (the
 * first frame of a context from ckpt_unwind_capture or a signal); r->rsp is
 * the frame's stack pointer at that pc and the callee-saved registers hold
 * their values there.
 *
 * On CKPT_UNWIND_OK *r describes the caller: rip is its return address, rsp
 * the CFA, and rbp/rbx/r12-r15 are reloaded from the frame's save slots (or
 * left as they were when the CFI does not mention them; one marked
 * undefined becomes 0). Every memory read of the stack -- the return address
 * slot [CFA-8, CFA) and the save slots -- must lie in [stack_lo, stack_hi);
 * pass 0 and UINTPTR_MAX to check alignment and growth only. On any other
 * result *r is unchanged.
 *
 * *func_start (may be NULL) receives the start address of the function just
 * left (its FDE's pc_begin) on OK and BOTTOM, else 0. */
int ckpt_unwind_step(struct ckpt_unwind_regs *r, int exact, uintptr_t stack_lo,
                     uintptr_t stack_hi, uintptr_t *func_start);

/* Stores the caller's registers as they are just after this call returns:
 * rip = the return address, rsp = the caller's stack pointer after the
 * return, and the callee-saved registers (none of which it changes). Walk
 * from the result with exact = 1. Written in assembly (unwind.c). */
void ckpt_unwind_capture(struct ckpt_unwind_regs *out);

/* A short name for a result, for messages. */
const char *ckpt_unwind_result_name(int result);

#ifdef CKPT_UNIT_TEST
/* How steps find FDEs, so that the test covers every path on one binary:
 * the table as ld/lld write it (the default), the table decoded by the
 * general pointer decoder (other table encodings), or a scan of .eh_frame
 * (a header without a table). */
enum {
  CKPT_UNWIND_TEST_TABLE,
  CKPT_UNWIND_TEST_TABLE_GENERIC,
  CKPT_UNWIND_TEST_LINEAR_SCAN
};
extern int ckpt_unwind_test_lookup;
#endif

#endif
