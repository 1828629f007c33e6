; ckpt-frames, poll placement rule (DESIGN.md section 3): no poll in a
; call-free innermost loop with a computable trip count that either runs at
; most -ckpt-short-loop-trip-count times (default 1000) or sits inside another
; loop (which polls, being no innermost loop). Calls that can never reach a
; poll (callback-free libc like sqrt, intrinsics) keep a loop "call-free".
; A function whose only loops are skipped cannot be on a stopped thread's
; stack: it gets no instrumentation at all, not even a descriptor. Every
; function that polls gets one, listed in @llvm.used.
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=__ckpt_desc.trip1000
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -ckpt-short-loop-trip-count=5000 -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,LIMIT5000 \
; RUN:   --implicit-check-not=__ckpt_desc.trip1000 --implicit-check-not=__ckpt_desc.trip1001 \
; RUN:   --implicit-check-not=__ckpt_desc.trip5000

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare double @sqrt(double)
declare void @ext()

; DEFAULT:   @llvm.used = appending global [6 x ptr] [ptr @__ckpt_desc.trip1001, ptr @__ckpt_desc.trip5000, ptr @__ckpt_desc.trip_n, ptr @__ckpt_desc.nested, ptr @__ckpt_desc.nested_search, ptr @__ckpt_desc.short_with_call], section "llvm.metadata"
; LIMIT5000: @llvm.used = appending global [4 x ptr] [ptr @__ckpt_desc.trip_n, ptr @__ckpt_desc.nested, ptr @__ckpt_desc.nested_search, ptr @__ckpt_desc.short_with_call], section "llvm.metadata"

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
; DEFAULT-NEXT:      br label %loop
; DEFAULT:         loop:
; DEFAULT:           %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; DEFAULT:         ckpt.poll:
; DEFAULT-NEXT:      call void @__ckpt_poll()
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
; DEFAULT-NEXT:      br label %loop
; DEFAULT:         loop:
; DEFAULT:           %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; DEFAULT:         ckpt.poll:
; DEFAULT-NEXT:      call void @__ckpt_poll()
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
; CHECK-NEXT:    br label %loop
; CHECK:       loop:
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:       ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
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
; CHECK-NEXT:    br label %outer
; CHECK:       inner:
; CHECK-NOT:     __ckpt_pending
; CHECK:         br i1 %cj, label %inner, label %outer.latch
; CHECK-EMPTY:
; CHECK-NEXT:  outer.latch:
; CHECK-NEXT:    %i.next = add nuw nsw i64 %i, 1
; CHECK-NEXT:    %ci = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; Exactly one poll in the function.
; CHECK:         call void @__ckpt_poll()
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
; element) is polled even inside another loop; so is the outer loop.
define void @nested_search(ptr %p, i64 %n) {
; CHECK-LABEL: define void @nested_search(ptr %p, i64 %n) {
; CHECK:       inner:
; CHECK:         %zero = icmp eq i32 %x, 0
; CHECK-NEXT:    [[P1:%ckpt.pending[0-9]*]] = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK-NEXT:    [[C1:%.*]] = icmp ne i32 [[P1]], 0
; CHECK-NEXT:    br i1 [[C1]], label %[[POLL1:ckpt.poll[0-9]*]], label %[[CONT1:ckpt.cont[0-9]*]], !prof
; CHECK-EMPTY:
; CHECK-NEXT:  [[POLL1]]:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %[[CONT1]]
; CHECK-EMPTY:
; CHECK-NEXT:  [[CONT1]]:
; CHECK-NEXT:    br i1 %zero, label %outer.latch, label %inner
; CHECK-EMPTY:
; CHECK-NEXT:  outer.latch:
; CHECK:         %ci = icmp ult i64 %i.next, %n
; CHECK-NEXT:    [[P2:%ckpt.pending[0-9]*]] = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK-NEXT:    [[C2:%.*]] = icmp ne i32 [[P2]], 0
; CHECK-NEXT:    br i1 [[C2]], label %[[POLL2:ckpt.poll[0-9]*]], label %[[CONT2:ckpt.cont[0-9]*]], !prof
; CHECK-EMPTY:
; CHECK-NEXT:  [[POLL2]]:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %[[CONT2]]
; CHECK-EMPTY:
; CHECK-NEXT:  [[CONT2]]:
; CHECK-NEXT:    br i1 %ci, label %outer, label %exit
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
; CHECK:         call void @ext()
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic
; CHECK:       ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
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
