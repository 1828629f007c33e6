; ckpt-frames: the runtime's symbols (@__ckpt_poll, @__ckpt_pending,
; @__ckpt_top) are declared only when some function of the module is
; instrumented. A module of leaves (nothing can
; reach a poll: no loop that polls, no recursion, only callback-free or
; leaf calls) comes out unchanged, through ckpt-frames as through the whole
; ckpt pipeline, and declares nothing of the runtime.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --implicit-check-not=__ckpt
; RUN: %opt-ckpt -passes=ckpt -verify-each -S %s | FileCheck %s --implicit-check-not=__ckpt
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s -o %t.frames.ll
; RUN: %opt-ckpt -passes=verify -S %s -o %t.ref.ll
; RUN: diff %t.ref.ll %t.frames.ll

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @strlen(ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)

; CHECK-LABEL: define i64 @square(i64 %x) {
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y
define i64 @square(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A short call-free loop (no poll) and callback-free calls.
; CHECK-LABEL: define i64 @leaf(ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %buf = alloca [16 x i8], align 16
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
