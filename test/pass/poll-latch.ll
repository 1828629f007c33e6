; ckpt-frames, loop polls: a loop whose trip count is unknown gets a safe point
; at its latch, just before the back-edge. The fast path is one relaxed
; (monotonic) atomic load of @__ckpt_pending and a branch marked almost never
; taken; the slow block stores the values live across the poll into the frame
; record, stores the site id into the header's site field (offset 16) and
; calls @__ckpt_poll(ptr %ckpt.frame). Nothing is stored on the fast path.
; The restore path reloads the same slots and rejoins at the continuation.
; When the latch also holds a call site, the poll still sits right before the
; back-edge (after the call and the rest of the latch), and it is numbered
; first: polls get the lowest site ids, then calls in instruction order.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @__ckpt_pending = external global i32
; One site, a poll (kind 1), no callee.
; CHECK: @__ckpt_sites.sum_until = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }]

; The loop is a single block: its latch holds a call to @step (a site).
; Sites: the poll (kind 1) first, then the call (kind 2). Frame: header 24,
; site 1 %s.next@24 %i.next@32 %c@40, site 2 %i@48 %s@56 -> 64 bytes.
; CHECK: @__ckpt_desc.latch_call = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 2, i32 2, ptr @latch_call, ptr @{{.*}}, ptr @{{.*}}, i64 64, ptr @__ckpt_sites.latch_call, i32 0, i32 0, ptr null, i32 0, i32 0 }
; CHECK: @__ckpt_sites.latch_call = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @step, i64 0 }]

; Sums p[0..] until the first element equal to %stop.
define i64 @sum_until(ptr %p, i64 %stop) {
; CHECK-LABEL: define i64 @sum_until(ptr %p, i64 %stop) {
; CHECK-NEXT:  ckpt.prologue:
; Header (24 bytes) + two i64 spill slots.
; CHECK-NEXT:    %ckpt.frame = alloca [40 x i8], align 8
; CHECK:         br i1 %{{.*}}, label %ckpt.restore, label %entry
; No store on the way from the entry to the poll.
; CHECK-NOT:     store
; CHECK:       latch:
; CHECK-NEXT:    %s.next = add i64 %s, %v
; CHECK-NEXT:    %i.next = add nuw i64 %i, 1
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[PENDING:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[PENDING]], label %ckpt.poll, label %ckpt.cont, !prof [[UNLIKELY:![0-9]+]]
; CHECK-EMPTY:
; Slow path only: the live values (the header phis' next values), the site.
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[SLOT_S:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i64 %s.next, ptr [[SLOT_S]], align 8
; CHECK-NEXT:    [[SLOT_I:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store i64 %i.next, ptr [[SLOT_I]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The back-edge itself now leaves from the continuation.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NOT:     store
; CHECK:         br label %header
; CHECK:       exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr
; CHECK-NEXT:    ret i64 %s
; Restore: reload both slots, continue after the poll.
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    [[R1:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %s.next.ckpt = load i64, ptr [[R1]], align 8
; CHECK-NEXT:    [[R2:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    %i.next.ckpt = load i64, ptr [[R2]], align 8
; CHECK-NEXT:    br label %ckpt.cont
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
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [64 x i8], align 8
; CHECK:       loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %{{[^ ]+}}, %[[POLLCONT:ckpt.cont[0-9]*]] ]
; CHECK-NEXT:    %s = phi i64 [ 0, %entry ], [ %{{[^ ]+}}, %[[POLLCONT]] ]
; Site 2, the call: no poll before it.
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    store i64 %i, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    store i64 %s, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %r = call i64 @step(i64 %i)
; CHECK-NEXT:    br label %[[CALLCONT:ckpt.cont[0-9]+]]
; CHECK-EMPTY:
; The rest of the latch, then the poll, right before the back-edge.
; CHECK-NEXT:  [[CALLCONT]]:
; (The order of the phis is not fixed.)
; CHECK-DAG:     [[R:%[^ ]+]] = phi i64 [ [[R2:%[0-9]+]], %ckpt.resume2 ], [ %r, %loop ]
; CHECK-DAG:     [[I:%[^ ]+]] = phi i64 [ %i.ckpt{{[0-9]+}}, %ckpt.resume2 ], [ %i, %loop ]
; CHECK-DAG:     [[S:%[^ ]+]] = phi i64 [ %s.ckpt, %ckpt.resume2 ], [ %s, %loop ]
; CHECK:         %s.next = add i64 [[S]], [[R]]
; CHECK-NEXT:    %i.next = add nuw i64 [[I]], 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[PENDING:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[PENDING]], label %ckpt.poll, label %[[POLLCONT]], !prof [[UNLIKELY]]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i64 %s.next, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store i64 %i.next, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 40
; CHECK-NEXT:    store i1 %c, ptr [[G]], align 1
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %[[POLLCONT]]
; CHECK-EMPTY:
; The back-edge leaves from the poll's continuation.
; CHECK-NEXT:  [[POLLCONT]]:
; CHECK-DAG:     phi i64 [ %i.next, %ckpt.poll ], [ %i.next, %[[CALLCONT]] ], [ %i.next.ckpt, %ckpt.resume1 ]
; CHECK-DAG:     [[C:%[^ ]+]] = phi i1 [ %c, %ckpt.poll ], [ %c, %[[CALLCONT]] ], [ %c.ckpt, %ckpt.resume1 ]
; CHECK-DAG:     [[SNEXT:%[^ ]+]] = phi i64 [ %s.next, %ckpt.poll ], [ %s.next, %[[CALLCONT]] ], [ %s.next.ckpt, %ckpt.resume1 ]
; CHECK:         br i1 [[C]], label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr
; CHECK-NEXT:    ret i64 [[SNEXT]]
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %s.next.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    %i.next.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 40
; CHECK-NEXT:    %c.ckpt = load i1, ptr [[G]], align 1
; CHECK-NEXT:    br label %[[POLLCONT]]
; CHECK-EMPTY:
; The call is re-issued with its reloaded operand.
; CHECK-NEXT:  ckpt.resume2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    %i.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[R2]] = call i64 @step(i64 %i.ckpt)
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    %i.ckpt{{[0-9]+}} = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    %s.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    br label %[[CALLCONT]]
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
