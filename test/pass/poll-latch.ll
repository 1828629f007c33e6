; ckpt-frames, loop polls: a loop whose trip count is unknown gets a safe point
; at its latch, just before the back-edge. The fast path is one relaxed
; (monotonic) atomic load of @__ckpt_pending and a branch marked almost never
; taken; the slow block only calls @__ckpt_poll() (no argument: the runtime
; finds the thread's frames by walking its stack with the executable's CFI,
; docs/design.md, "Frames redesign") and falls into the continuation. Nothing
; is stored anywhere: no site id, no value live across the poll, no record
; (these functions exclude no locals), and there is no restore path, so the
; poll's continuation has no phi. When the latch also holds a call, the poll
; still sits right before the back-edge, after the call and the rest of the
; latch; the call is left exactly as it was.
; Each function gets its descriptor (ABI 4, no excluded locals, frame_size 0),
; kept alive through @llvm.used.
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=__ckpt_top \
; RUN:   --implicit-check-not=__ckpt_sites --implicit-check-not=ckpt.record \
; RUN:   --implicit-check-not=threadlocal.address --implicit-check-not=store

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @__ckpt_pending = external global i32
; The descriptor: {abi_version 4, flags 0, fn, name, file "" and line 0 (no
; debug info), num_excluded 0, frame_size 0 (no record), excluded null}.
; CHECK: @__ckpt_desc.sum_until = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @sum_until, ptr [[NAME1:@__ckpt_fname[.0-9]*]], ptr [[FILE1:@__ckpt_ffile[.0-9]*]], i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: [[NAME1]] = private unnamed_addr constant [10 x i8] c"sum_until\00"
; CHECK: [[FILE1]] = private unnamed_addr constant [1 x i8] zeroinitializer
; CHECK: @__ckpt_desc.latch_call = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @latch_call, ptr [[NAME2:@__ckpt_fname[.0-9]*]], ptr {{@__ckpt_ffile[.0-9]*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; Nothing refers to a descriptor in the code: @llvm.used keeps both.
; CHECK: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.sum_until, ptr @__ckpt_desc.latch_call], section "llvm.metadata"
; CHECK: [[NAME2]] = private unnamed_addr constant [11 x i8] c"latch_call\00"

; Sums p[0..] until the first element equal to %stop.
define i64 @sum_until(ptr %p, i64 %stop) {
; CHECK-LABEL: define i64 @sum_until(ptr %p, i64 %stop) {
; The entry block is untouched: no record, no push.
; CHECK-NEXT:  entry:
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
; Slow path: the call alone (nothing stored, not %s.next or %i.next).
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The back-edge itself now leaves from the continuation.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br label %header
; CHECK-EMPTY:
; No pop either.
; CHECK-NEXT:  exit:
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
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %ckpt.cont ]
; CHECK-NEXT:    %s = phi i64 [ 0, %entry ], [ %s.next, %ckpt.cont ]
; The call as it was: nothing stored before it, the block not split after it.
; CHECK-NEXT:    %r = call i64 @step(i64 %i)
; CHECK-NEXT:    %s.next = add i64 %s, %r
; CHECK-NEXT:    %i.next = add nuw i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; Then the poll, right before the back-edge.
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[PENDING:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[PENDING]], label %ckpt.poll, label %ckpt.cont, !prof [[UNLIKELY]]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The back-edge leaves from the poll's continuation, with the original %c.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
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

; CHECK: declare void @__ckpt_poll(){{$}}
; CHECK: [[UNLIKELY]] = !{!"branch_weights", i32 1, i32 1048576}
