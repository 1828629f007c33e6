; ckpt-frames, unsupported constructs. A construct a restart cannot
; reproduce in a function that can be on a stopped thread's stack is a
; compile error naming the function (and the source line when known), never
; a silently wrong restart: inline assembly that leaves the stack pointer
; moved (rsp as an instruction's destination, leave/enter, rsp named in a
; constraint: an input placed in rsp, an output or a clobber): the
; function's CFI would no longer describe its frame. Reading rsp and
; balanced push/pop inside the asm are accepted (READS-SP). By default (no -ckpt-polls: the
; runtime stops threads by signal anywhere) that is every function, a leaf
; too (ASM-LEAF); with -ckpt-polls a function that cannot reach a poll is not
; instrumented, so the construct is fine there (OK). opt stops at the first
; error, hence one file per error.
; setjmp (a call to a returns_twice function) is no error any more, in
; either mode: the function gets its descriptor with flags 0 (setjmp is
; the runtime's, runtime/setjmp.c, whose jmp_bufs survive a restart), and
; the record chain @__ckpt_records is saved
; before the setjmp and restored after it (SETJMP).
; musttail calls and exceptions are refused only in functions that exclude
; locals (musttail-invoke.ll); variable-length arrays and alloca() only when
; excluded (vla-alloca.ll).

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/setjmp.ll 2>&1 | FileCheck %s --check-prefix=SETJMP \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not="call void @__ckpt_poll"
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/setjmp.ll 2>&1 | FileCheck %s --check-prefix=SETJMP \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not="call void @__ckpt_poll"
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/rsp.ll 2>&1 | FileCheck %s --check-prefix=RSP
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/rsp-clobber.ll 2>&1 | FileCheck %s --check-prefix=RSP-CLOBBER
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/ok.ll 2>&1 | FileCheck %s --check-prefix=ASM-LEAF
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/rsp-input.ll 2>&1 | FileCheck %s --check-prefix=RSP-INPUT
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/rsp-intel.ll 2>&1 | FileCheck %s --check-prefix=RSP-INTEL
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/leave.ll 2>&1 | FileCheck %s --check-prefix=LEAVE
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/reads-sp.ll 2>&1 | FileCheck %s --check-prefix=READS-SP \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning:
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/ok.ll 2>&1 | FileCheck %s --check-prefix=OK \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not=__ckpt

; SETJMP:      @__ckpt_desc.uses_setjmp = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @uses_setjmp, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; SETJMP:      @llvm.used = appending global [1 x ptr] [ptr @__ckpt_desc.uses_setjmp], section "llvm.metadata"
; SETJMP-LABEL: define i32 @uses_setjmp(ptr %env) {
; SETJMP-NEXT:  entry:
; SETJMP-NEXT:    [[A:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; SETJMP-NEXT:    [[T:%.*]] = load ptr, ptr [[A]], align 8
; SETJMP-NEXT:    %r = call i32 @setjmp(ptr %env)
; SETJMP-NEXT:    [[A2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; SETJMP-NEXT:    store ptr [[T]], ptr [[A2]], align 8
; SETJMP-NEXT:    %first = icmp eq i32 %r, 0
; SETJMP-NEXT:    br i1 %first, label %work, label %done
; SETJMP-EMPTY:
; SETJMP-NEXT:  work:
; SETJMP-NEXT:    call void @ext(ptr %env)
; SETJMP-NEXT:    br label %done
; RSP: error: {{.*}}ckpt: function 'switch_stack' has inline assembly that changes the stack pointer
; RSP-CLOBBER: error: {{.*}}ckpt: function 'clobbers_sp' has inline assembly that changes the stack pointer
; RSP-INPUT: error: {{.*}}ckpt: function 'sp_input' has inline assembly that changes the stack pointer
; RSP-INTEL: error: {{.*}}ckpt: function 'intel_sp' has inline assembly that changes the stack pointer
; LEAVE: error: {{.*}}ckpt: function 'leaves' has inline assembly that changes the stack pointer

; READS-SP-LABEL: define i64 @reads_sp()
; READS-SP:         call i64 asm sideeffect "movq %rsp, $0", "=r"()
; READS-SP:         call i64 asm sideeffect "leaq 8(%rsp,%rax,1), $0", "=r"()
; READS-SP:         call i64 asm sideeffect "pushfq\0A\09popq $0", "=r"()
; READS-SP:         call void asm sideeffect "cmpq %rsp, $0; testq %rsp, %rsp", "r"(i64 %a)

; ASM-LEAF: error: {{.*}}ckpt: function 'asm_leaf' has inline assembly that changes the stack pointer

; With -ckpt-polls nothing in ok.ll can reach a poll: no error, and nothing
; of the runtime.
; OK-LABEL:    define i64 @forward_leaf(i64 %x) {
; OK-NEXT:     entry:
; OK-NEXT:       %r = musttail call i64 @leaf(i64 %x)
; OK-LABEL:    define void @asm_leaf(ptr %sp) {
; OK-NEXT:     entry:
; OK-NEXT:       call void asm sideeffect "movq $0, %rsp", "r,~{memory}"(ptr %sp)
; OK-NEXT:       ret void

;--- setjmp.ll
declare i32 @setjmp(ptr) returns_twice
declare void @ext(ptr)

define i32 @uses_setjmp(ptr %env) {
entry:
  %r = call i32 @setjmp(ptr %env)
  %first = icmp eq i32 %r, 0
  br i1 %first, label %work, label %done

work:
  call void @ext(ptr %env)
  br label %done

done:
  ret i32 %r
}

;--- rsp.ll
declare void @ext(ptr)

define void @switch_stack(ptr %sp) {
entry:
  call void asm sideeffect "movq $0, %rsp", "r,~{memory}"(ptr %sp)
  call void @ext(ptr %sp)
  ret void
}

;--- rsp-clobber.ll
declare void @ext(ptr)

define void @clobbers_sp(ptr %sp) {
entry:
  call void asm sideeffect "", "~{rsp}"()
  call void @ext(ptr %sp)
  ret void
}

;--- ok.ll
define internal i64 @leaf(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A musttail call to a function that cannot reach a poll.
define i64 @forward_leaf(i64 %x) {
entry:
  %r = musttail call i64 @leaf(i64 %x)
  ret i64 %r
}

; Inline assembly that moves the stack pointer, in a function that cannot
; reach a poll.
define void @asm_leaf(ptr %sp) {
entry:
  call void asm sideeffect "movq $0, %rsp", "r,~{memory}"(ptr %sp)
  ret void
}

;--- rsp-input.ll
define void @sp_input(ptr %sp) {
entry:
  call void asm sideeffect "nop", "{rsp}"(ptr %sp)
  ret void
}

;--- rsp-intel.ll
define void @intel_sp(ptr %sp) {
entry:
  call void asm sideeffect inteldialect "mov rsp, $0", "r"(ptr %sp)
  ret void
}

;--- leave.ll
define void @leaves() {
entry:
  call void asm sideeffect "leave", ""()
  ret void
}

;--- reads-sp.ll
; Leaves that read the stack pointer (the usual way to measure stack depth
; or read the flags) are fine.
define i64 @reads_sp() {
entry:
  %a = call i64 asm sideeffect "movq %rsp, $0", "=r"()
  %b = call i64 asm sideeffect "leaq 8(%rsp,%rax,1), $0", "=r"()
  %c = call i64 asm sideeffect "pushfq\0A\09popq $0", "=r"()
  call void asm sideeffect "cmpq %rsp, $0; testq %rsp, %rsp", "r"(i64 %a)
  %s = add i64 %a, %b
  %t = add i64 %s, %c
  ret i64 %t
}
