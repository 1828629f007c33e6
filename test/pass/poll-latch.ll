; ckpt-frames, loop polls: a loop whose trip count is unknown gets a safe point
; at its latch, just before the back-edge. The fast path is one relaxed
; (monotonic) atomic load of @__ckpt_pending and a branch marked almost never
; taken; the slow block stores the site id into the header's site field
; (offset 16) and calls @__ckpt_poll(ptr %ckpt.frame). Nothing is stored on
; the fast path, and no value live across the poll is stored at all: the
; thread's stack is saved whole and it resumes right there after a restart
; (docs/design.md, "Frames redesign"), so there is no restore path either and
; the poll's continuation has no phi.
; When the latch also holds a call site, the poll still sits right before the
; back-edge (after the call and the rest of the latch), and it is numbered
; first: polls get the lowest site ids, then calls in instruction order.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=__ckpt_restor

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @__ckpt_pending = external global i32
; One site, a poll (kind 1), no callee; the record is the bare header.
; CHECK: @__ckpt_desc.sum_until = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 1, ptr @sum_until, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.sum_until, i32 0, i32 0, ptr null, i32 0, i32 0 }
; CHECK: @__ckpt_sites.sum_until = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }]

; The loop is a single block: its latch holds a call to @step (a site).
; Sites: the poll (kind 1) first, then the call (kind 2). The record is the
; bare header (24 bytes): nothing is spilled at either site.
; CHECK: @__ckpt_desc.latch_call = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 2, ptr @latch_call, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.latch_call, i32 0, i32 0, ptr null, i32 0, i32 0 }
; CHECK: @__ckpt_sites.latch_call = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @step, i64 0 }]

; Sums p[0..] until the first element equal to %stop.
define i64 @sum_until(ptr %p, i64 %stop) {
; CHECK-LABEL: define i64 @sum_until(ptr %p, i64 %stop) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    br label %header
; CHECK-EMPTY:
; No store on the way from the entry to the poll; the phis are the original
; ones.
; CHECK-NEXT:  header:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %ckpt.cont ]
; CHECK-NEXT:    %s = phi i64 [ 0, %entry ], [ %s.next, %ckpt.cont ]
; CHECK-NEXT:    %addr = getelementptr inbounds i64, ptr %p, i64 %i
; CHECK-NEXT:    %v = load i64, ptr %addr, align 8
; CHECK-NEXT:    %found = icmp eq i64 %v, %stop
; CHECK-NEXT:    br i1 %found, label %exit, label %latch
; CHECK-EMPTY:
; CHECK-NEXT:  latch:
; CHECK-NEXT:    %s.next = add i64 %s, %v
; CHECK-NEXT:    %i.next = add nuw i64 %i, 1
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[PENDING:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[PENDING]], label %ckpt.poll, label %ckpt.cont, !prof [[UNLIKELY:![0-9]+]]
; CHECK-EMPTY:
; Slow path only: the site id (not %s.next or %i.next), the call.
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The back-edge itself now leaves from the continuation.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br label %header
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %s
; CHECK-NEXT:  }
entry:
  br label %header

header:
  %i = phi i64 [ 0, %entry ], [ %i.next, %latch ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %latch ]
  %addr = getelementptr inbounds i64, ptr %p, i64 %i
  %v = load i64, ptr %addr, align 8
  %found = icmp eq i64 %v, %stop
  br i1 %found, label %exit, label %latch

latch:
  %s.next = add i64 %s, %v
  %i.next = add nuw i64 %i, 1
  br label %header

exit:
  ret i64 %s
}

declare i64 @step(i64)

define i64 @latch_call(i64 %n) {
; CHECK-LABEL: define i64 @latch_call(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %[[POLLCONT:ckpt.cont[0-9]*]] ]
; CHECK-NEXT:    %s = phi i64 [ 0, %entry ], [ %s.next, %[[POLLCONT]] ]
; Site 2, the call: no poll before it, only its id (%i and %s are not stored).
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %r = call i64 @step(i64 %i)
; CHECK-NEXT:    br label %[[CALLCONT:ckpt.cont[0-9]*]]
; CHECK-EMPTY:
; The call's site is cleared, the rest of the latch follows, then the poll,
; right before the back-edge.
; CHECK-NEXT:  [[CALLCONT]]:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %s.next = add i64 %s, %r
; CHECK-NEXT:    %i.next = add nuw i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[PENDING:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[PENDING]], label %ckpt.poll, label %[[POLLCONT]], !prof [[UNLIKELY]]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %[[POLLCONT]]
; CHECK-EMPTY:
; The back-edge leaves from the poll's continuation, with the original %c.
; CHECK-NEXT:  [[POLLCONT]]:
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %s.next
; CHECK-NEXT:  }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  %r = call i64 @step(i64 %i)
  %s.next = add i64 %s, %r
  %i.next = add nuw i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  ret i64 %s.next
}

; CHECK: declare void @__ckpt_poll(ptr)
; CHECK: [[UNLIKELY]] = !{!"branch_weights", i32 1, i32 1048576}
