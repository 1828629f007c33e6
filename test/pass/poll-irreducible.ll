; ckpt-frames: a cycle that is not a natural loop (entered in two places, as
; `goto` into a loop makes it) is invisible to LoopInfo; it still gets a poll,
; at the source of the edge that closes it, so it cannot run without a safe
; point (a call to @__ckpt_poll(), nothing stored). A natural loop gets
; exactly its latch poll, nothing more. Both get a descriptor.
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@sink = global i64 0

; CHECK: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.irreducible, ptr @__ckpt_desc.natural], section "llvm.metadata"

; The depth-first walk goes entry -> mid -> top; top -> mid closes the cycle
; and gets the poll, right before its branch.
; CHECK-LABEL: define i64 @irreducible(
; CHECK:       top:
; CHECK-NEXT:    %i.top = phi i64 [ 0, %entry ], [ %i.next, %mid ]
; CHECK-NEXT:    store volatile i64 %i.top, ptr @sink, align 8
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br label %mid
; CHECK-NOT:     @__ckpt_p
; CHECK:         ret i64
define i64 @irreducible(i64 %n, i1 %odd) {
entry:
  br i1 %odd, label %mid, label %top
top:
  %i.top = phi i64 [ 0, %entry ], [ %i.next, %mid ]
  store volatile i64 %i.top, ptr @sink
  br label %mid
mid:
  %i = phi i64 [ 0, %entry ], [ %i.top, %top ]
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %top, label %exit
exit:
  ret i64 %i.next
}

; CHECK-LABEL: define i64 @natural(
; CHECK-COUNT-1: call void @__ckpt_poll()
; CHECK-NOT:     call void @__ckpt_poll
; CHECK:         ret i64
define i64 @natural(i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  store volatile i64 %i, ptr @sink
  %i.next = add i64 %i, 1
  %c = icmp slt i64 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret i64 %i.next
}
