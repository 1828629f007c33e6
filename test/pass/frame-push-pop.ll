; ckpt-frames, frame records: a function that can reach a poll gets one
; alloca, %ckpt.frame, at the top of its entry block: the ckpt_frame_header
; {parent, desc, site, reserved} (24 bytes), followed only by its excluded
; locals and the slots of its indirect callees (none here, so 24 bytes in
; all). Its prologue, in the entry block right after the allocas (no block of
; its own, no branch), pushes the record on the thread's shadow stack:
; parent = *threadlocal.address(@__ckpt_top); record.parent = parent;
; record.desc = @__ckpt_desc.<fn>; *top = record. It does not test
; @__ckpt_restoring: there is no restore path (docs/design.md, "Frames
; redesign"). Every return pops it (*top = parent).
; The function's other allocas stay what they were, static allocas with their
; lifetime markers (stacks are saved whole, so they need no place in the
; record). A function that cannot reach a poll is not touched at all.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=ckpt.restore

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @fill(ptr)
declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)
declare void @llvm.lifetime.end.p0(i64 immarg, ptr nocapture)

; CHECK: @__ckpt_top = external thread_local(initialexec) global ptr
; frame_size 24: the header alone; %buf and %cell are not in the record.
; CHECK: @__ckpt_desc.locals = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 2, ptr @locals, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.locals, i32 0, i32 0, ptr null, i32 0, i32 0 }, section "ckpt_funcs", align 8

define i32 @locals(i32 %x) {
; CHECK-LABEL: define i32 @locals(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK-NEXT:    %buf = alloca [16 x i32], align 16
; CHECK-NEXT:    %cell = alloca i64, align 8
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[PARENT_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[PARENT_FIELD]], align 8
; CHECK-NEXT:    [[DESC_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.locals, ptr [[DESC_FIELD]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; The original body follows in the same block, lifetime markers and all.
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @fill(ptr %buf)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 8, ptr %cell)
; CHECK-NEXT:    store i64 7, ptr %cell, align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    call void @fill(ptr %cell)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 8, ptr %cell)
; CHECK-NEXT:    %c = icmp eq i32 %x, 0
; CHECK-NEXT:    br i1 %c, label %zero, label %other
; CHECK-EMPTY:
; Both returns pop.
; CHECK-NEXT:  zero:
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 0
; CHECK-EMPTY:
; CHECK-NEXT:  other:
; CHECK-NEXT:    %p = getelementptr inbounds [16 x i32], ptr %buf, i64 0, i64 3
; CHECK-NEXT:    %v = load i32, ptr %p, align 4
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
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
