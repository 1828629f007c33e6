; ckpt-frames: the runtime's symbols (@__ckpt_poll, @__ckpt_pending,
; @__ckpt_records) are declared only when some function of the module is
; instrumented. By default (no -ckpt-polls: the runtime stops threads by
; signal anywhere) every function defined here is instrumented (gets a
; descriptor, see no-polls.ll) except the runtime's own __ckpt_* functions,
; naked functions and bodies that are not the one that runs
; (available_externally): a module of only those (none.ll) comes out
; unchanged, through ckpt-frames as through the whole ckpt pipeline, and
; declares nothing of the runtime.
; With -ckpt-polls, a module of leaves (leaves.ll: nothing can reach a poll:
; no loop that polls, no recursion, only callback-free or leaf calls) comes
; out unchanged too.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/none.ll | FileCheck %s --check-prefix=NONE \
; RUN:   --implicit-check-not=__ckpt_poll --implicit-check-not=__ckpt_pending \
; RUN:   --implicit-check-not=__ckpt_records --implicit-check-not=__ckpt_desc \
; RUN:   --implicit-check-not=__ckpt_fname --implicit-check-not=__ckpt_ffile
; RUN: %opt-ckpt -passes=ckpt -verify-each -S %t/none.ll | FileCheck %s --check-prefix=NONE \
; RUN:   --implicit-check-not=__ckpt_poll --implicit-check-not=__ckpt_pending \
; RUN:   --implicit-check-not=__ckpt_records --implicit-check-not=__ckpt_desc \
; RUN:   --implicit-check-not=__ckpt_fname --implicit-check-not=__ckpt_ffile
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/none.ll -o %t/none.frames.ll
; RUN: %opt-ckpt -passes=verify -S %t/none.ll -o %t/none.ref.ll
; RUN: diff %t/none.ref.ll %t/none.frames.ll

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/leaves.ll | FileCheck %s --implicit-check-not=__ckpt
; RUN: %opt-ckpt -passes=ckpt -ckpt-polls -verify-each -S %t/leaves.ll | FileCheck %s --implicit-check-not=__ckpt
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/leaves.ll -o %t/leaves.frames.ll
; RUN: %opt-ckpt -passes=verify -S %t/leaves.ll -o %t/leaves.ref.ll
; RUN: diff %t/leaves.ref.ll %t/leaves.frames.ll

; NONE-LABEL: define i64 @__ckpt_helper(ptr %s, i64 %n) {
; NONE-NEXT:  entry:
; NONE-NEXT:    br label %loop
; NONE-LABEL: define void @naked_fn() #0 {
; NONE-NEXT:    call void asm sideeffect "ret", ""()
; NONE-NEXT:    unreachable
; NONE-LABEL: define available_externally i64 @inline_copy(i64 %x) {
; NONE-NEXT:    %y = mul i64 %x, %x
; NONE-NEXT:    ret i64 %y

; CHECK-LABEL: define i64 @square(i64 %x) {
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y

; CHECK-LABEL: define i64 @leaf(ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %buf = alloca [16 x i8], align 16

;--- none.ll
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @strlen(ptr)
declare void @ext()

; A runtime function (by its name), with a loop and a call that may stop.
define i64 @__ckpt_helper(ptr %s, i64 %n) {
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @ext()
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  %l = call i64 @strlen(ptr %s)
  ret i64 %l
}

define void @naked_fn() naked {
  call void asm sideeffect "ret", ""()
  unreachable
}

define available_externally i64 @inline_copy(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

;--- leaves.ll
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @strlen(ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)

define i64 @square(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A short call-free loop (no poll) and callback-free calls.
define i64 @leaf(ptr %s) {
entry:
  %buf = alloca [16 x i8], align 16
  call void @llvm.memset.p0.i64(ptr %buf, i8 0, i64 16, i1 false)
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr inbounds i8, ptr %buf, i64 %i
  store i8 1, ptr %a, align 1
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, 16
  br i1 %c, label %loop, label %exit

exit:
  %l = call i64 @strlen(ptr %s)
  %sq = call i64 @square(i64 %l)
  ret i64 %sq
}
