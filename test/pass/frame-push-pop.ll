; ckpt-frames, frame records: a function that can reach a poll gets one
; alloca, %ckpt.frame, laid out as the ckpt_frame_header {parent, desc, site,
; reserved} (24 bytes) followed by its allocas at their own alignment and then
; the spill slots. Its prologue pushes the record on the thread's shadow stack:
; parent = *threadlocal.address(@__ckpt_top); record.parent = parent;
; record.desc = @__ckpt_desc.<fn>; *top = record; then it loads
; @__ckpt_restoring and branches (almost never) to the restore path. Every
; return pops it (*top = parent). The original allocas become GEPs into the
; record and their lifetime markers are removed, so no slot is ever shared.
; A function that cannot reach a poll keeps its allocas and markers.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @fill(ptr)
declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)
declare void @llvm.lifetime.end.p0(i64 immarg, ptr nocapture)

; CHECK: @__ckpt_restoring = external global i32
; CHECK: @__ckpt_top = external thread_local(initialexec) global ptr
; frame_size 112 = header 24, pad to 32, buf 64 -> 96, cell 8 -> 104, align 16.
; CHECK: @__ckpt_desc.locals = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 2, i32 2, ptr @locals, ptr @{{.*}}, ptr @{{.*}}, i64 112, ptr @__ckpt_sites.locals, i32 0, i32 0, ptr null, i32 0, i32 0 }, section "ckpt_funcs", align 8

define i32 @locals(i32 %x) {
; CHECK-LABEL: define i32 @locals(i32 %x) {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [112 x i8], align 16
; CHECK-NEXT:    %buf = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    %cell = getelementptr inbounds i8, ptr %ckpt.frame, i64 96
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[PARENT_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[PARENT_FIELD]], align 8
; CHECK-NEXT:    [[DESC_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.locals, ptr [[DESC_FIELD]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; CHECK-NEXT:    %ckpt.restoring = load i32, ptr @__ckpt_restoring, align 4
; CHECK-NEXT:    [[RESTORING:%.*]] = icmp ne i32 %ckpt.restoring, 0
; CHECK-NEXT:    br i1 [[RESTORING]], label %ckpt.restore, label %entry, !prof [[UNLIKELY:![0-9]+]]
; No other alloca and no lifetime marker anywhere in the function.
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; CHECK:         call void @fill(ptr %buf)
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; CHECK:         store i64 7, ptr %cell, align 8
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; Both returns pop.
; CHECK:       zero:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 0
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; CHECK:       other:
; CHECK-NEXT:    %p = getelementptr inbounds [16 x i32], ptr %buf, i64 0, i64 3
; CHECK-NEXT:    %v = load i32, ptr %p, align 4
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 %v
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; CHECK:         call i32 @__ckpt_restore_frame(ptr %ckpt.frame, ptr @__ckpt_desc.locals)
; CHECK-NOT:     alloca
; CHECK-NOT:     llvm.lifetime
; CHECK-NOT:     ret
; CHECK:       }
entry:
  %buf = alloca [16 x i32], align 16
  %cell = alloca i64, align 8
  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
  call void @fill(ptr %buf)
  call void @llvm.lifetime.start.p0(i64 8, ptr %cell)
  store i64 7, ptr %cell, align 8
  call void @fill(ptr %cell)
  call void @llvm.lifetime.end.p0(i64 8, ptr %cell)
  %c = icmp eq i32 %x, 0
  br i1 %c, label %zero, label %other

zero:
  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
  ret i32 0

other:
  %p = getelementptr inbounds [16 x i32], ptr %buf, i64 0, i64 3
  %v = load i32, ptr %p, align 4
  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
  ret i32 %v
}

; Same shape, but nothing here can reach a poll: left alone.
define i32 @leaf_locals(i32 %x) {
; CHECK-LABEL: define i32 @leaf_locals(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %buf = alloca [16 x i32], align 16
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
; CHECK-NEXT:    store i32 %x, ptr %buf, align 16
; CHECK-NEXT:    %v = load i32, ptr %buf, align 16
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
entry:
  %buf = alloca [16 x i32], align 16
  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
  store i32 %x, ptr %buf, align 16
  %v = load i32, ptr %buf, align 16
  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
  ret i32 %v
}

; CHECK: [[UNLIKELY]] = !{!"branch_weights", i32 1, i32 1048576}
