; ckpt-frames, loop polls: a loop whose trip count is unknown gets a safe point
; at its latch, just before the back-edge. The fast path is one relaxed
; (monotonic) atomic load of @__ckpt_pending and a branch marked almost never
; taken; the slow block stores the values live across the poll into the frame
; record, stores the site id into the header's site field (offset 16) and
; calls @__ckpt_poll(ptr %ckpt.frame). Nothing is stored on the fast path.
; The restore path reloads the same slots and rejoins at the continuation.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @__ckpt_pending = external global i32
; One site, a poll (kind 1), no callee.
; CHECK: @__ckpt_sites.sum_until = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }]

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

; CHECK: declare void @__ckpt_poll(ptr)
; CHECK: [[UNLIKELY]] = !{!"branch_weights", i32 1, i32 1048576}
