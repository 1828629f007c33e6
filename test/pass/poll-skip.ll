; ckpt-frames, poll placement rule (DESIGN.md section 3): no poll in a
; call-free innermost loop with a computable trip count that either runs at
; most -ckpt-short-loop-trip-count times (default 1000) or sits inside another
; loop (which polls, being no innermost loop). Calls that can never reach a
; poll (callback-free libc like sqrt, intrinsics) keep a loop "call-free".
; A function whose only loops are skipped gets no instrumentation at all.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-short-loop-trip-count=5000 -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,LIMIT5000

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare double @sqrt(double)
declare void @ext()

; 1000 iterations: at the threshold, skipped.
define void @trip1000(ptr %p) {
; CHECK-LABEL: define void @trip1000(ptr %p) {
; CHECK-NEXT:  entry:
; CHECK-NOT:     ckpt
; CHECK:       }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr inbounds i32, ptr %p, i64 %i
  store i32 0, ptr %a, align 4
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, 1000
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

; 1001 iterations: one over the default threshold.
define void @trip1001(ptr %p) {
; CHECK-LABEL:     define void @trip1001(ptr %p) {
; DEFAULT-NEXT:    entry:
; DEFAULT-NEXT:      %ckpt.frame = alloca [24 x i8], align 8
; DEFAULT:         loop:
; DEFAULT:           %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; DEFAULT:           call void @__ckpt_poll(ptr %ckpt.frame)
; LIMIT5000-NEXT:  entry:
; LIMIT5000-NOT:     ckpt
; CHECK:           }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr inbounds i32, ptr %p, i64 %i
  store i32 0, ptr %a, align 4
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, 1001
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

; 5000 iterations: polled by default, skipped with a threshold of 5000.
define void @trip5000(ptr %p) {
; CHECK-LABEL:     define void @trip5000(ptr %p) {
; DEFAULT-NEXT:    entry:
; DEFAULT-NEXT:      %ckpt.frame = alloca [24 x i8], align 8
; DEFAULT:         loop:
; DEFAULT:           %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; DEFAULT:           call void @__ckpt_poll(ptr %ckpt.frame)
; LIMIT5000-NEXT:  entry:
; LIMIT5000-NOT:     ckpt
; CHECK:           }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr inbounds i32, ptr %p, i64 %i
  store i32 0, ptr %a, align 4
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, 5000
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

; A top-level loop with a computable but unbounded trip count (%n): polled,
; whatever the threshold.
define void @trip_n(ptr %p, i64 %n) {
; CHECK-LABEL: define void @trip_n(ptr %p, i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:       loop:
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:         call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %a = getelementptr inbounds i32, ptr %p, i64 %i
  store i32 0, ptr %a, align 4
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

; Rows x columns: the inner loop (computable trip count %m, only a
; callback-free sqrt call) gets no poll; the outer loop polls at its latch.
define void @nested(ptr %p, i64 %n, i64 %m) {
; CHECK-LABEL: define void @nested(ptr %p, i64 %n, i64 %m) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:       inner:
; CHECK-NOT:     __ckpt_pending
; CHECK:         br i1 %cj, label %inner, label %outer.latch
; CHECK-EMPTY:
; CHECK-NEXT:  outer.latch:
; CHECK-NEXT:    %i.next = add nuw nsw i64 %i, 1
; CHECK-NEXT:    %ci = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; Exactly one poll in the function.
; CHECK:         call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NOT:     call void @__ckpt_poll
; CHECK:       }
entry:
  br label %outer

outer:
  %i = phi i64 [ 0, %entry ], [ %i.next, %outer.latch ]
  %row = mul i64 %i, %m
  br label %inner

inner:
  %j = phi i64 [ 0, %outer ], [ %j.next, %inner ]
  %k = add i64 %row, %j
  %a = getelementptr inbounds double, ptr %p, i64 %k
  %x = load double, ptr %a, align 8
  %r = call double @sqrt(double %x)
  store double %r, ptr %a, align 8
  %j.next = add nuw nsw i64 %j, 1
  %cj = icmp ult i64 %j.next, %m
  br i1 %cj, label %inner, label %outer.latch

outer.latch:
  %i.next = add nuw nsw i64 %i, 1
  %ci = icmp ult i64 %i.next, %n
  br i1 %ci, label %outer, label %exit

exit:
  ret void
}

; An inner loop whose trip count cannot be computed (it stops at a zero
; element) is polled even inside another loop; so is the outer loop. Latch
; polls are numbered in loop preorder: the outer loop's is site 1, the inner
; loop's site 2 (though the inner latch comes first in the function).
define void @nested_search(ptr %p, i64 %n) {
; CHECK-LABEL: define void @nested_search(ptr %p, i64 %n) {
; CHECK:       inner:
; CHECK:         %ckpt.pending{{[0-9]*}} = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       outer.latch:
; CHECK:         %ckpt.pending{{[0-9]*}} = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:         store i32 1, ptr
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       }
entry:
  br label %outer

outer:
  %i = phi i64 [ 0, %entry ], [ %i.next, %outer.latch ]
  br label %inner

inner:
  %j = phi i64 [ %i, %outer ], [ %j.next, %inner ]
  %a = getelementptr inbounds i32, ptr %p, i64 %j
  %x = load i32, ptr %a, align 4
  %j.next = add i64 %j, 1
  %zero = icmp eq i32 %x, 0
  br i1 %zero, label %outer.latch, label %inner

outer.latch:
  %i.next = add nuw nsw i64 %i, 1
  %ci = icmp ult i64 %i.next, %n
  br i1 %ci, label %outer, label %exit

exit:
  ret void
}

; Ten iterations, but each calls a function that may reach a poll: the loop is
; not call-free and keeps its poll.
define void @short_with_call() {
; CHECK-LABEL: define void @short_with_call() {
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:         call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @ext()
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp ult i64 %i.next, 10
  br i1 %c, label %loop, label %exit

exit:
  ret void
}
