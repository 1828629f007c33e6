; ckpt-frames, frame records: only a function that excludes locals (#pragma
; ckpt exclude / CKPT_EXCLUDE, an llvm.var.annotation "ckpt.exclude") and can
; be on a stopped thread's stack gets one; by default (no -ckpt-polls: the
; runtime stops threads by signal anywhere) that is any function, a leaf
; without calls too (@leaf_locals). It is one alloca, %ckpt.record, at
; the top of its entry block: the ckpt_frame_header {parent, desc} (16
; bytes), then the excluded locals at their own alignment (here one i64 at 16,
; so 24 bytes in all). Its prologue, in the entry block right after the
; allocas (no block of its own, no branch), pushes the record on the thread's
; chain: parent = *threadlocal.address(@__ckpt_records); record.parent =
; parent; record.desc = @__ckpt_desc.<fn>; *chain = record. Every return pops
; it (*threadlocal.address(@__ckpt_records) = parent). There is no restore
; path (docs/design.md, "Frames redesign"), and calls are left as they were.
; The function's other allocas stay what they were, static allocas with their
; lifetime markers (stacks are saved whole).
; A function without excluded locals gets no record and no push or pop, only
; its descriptor (frame_size 0).
; With -ckpt-polls (POLLS): with an entry poll (recursion), the record is
; pushed before the poll, so a thread stopped there already has it on its
; chain; a function that cannot reach a poll is not touched at all, excluded
; locals or not, and gets no descriptor. The rest is the same in both modes.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=ckpt.restore \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=store \
; RUN:   --implicit-check-not=ckpt.poll --implicit-check-not=ckpt.pending
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,POLLS \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=ckpt.restore \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=__ckpt_desc.leaf_locals \
; RUN:   --implicit-check-not=store

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @fill(ptr)
declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)
declare void @llvm.lifetime.end.p0(i64 immarg, ptr nocapture)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; CHECK: @__ckpt_records = external thread_local(initialexec) global ptr
; frame_size 24: the header and %key; %buf and %cell are not in the record.
; CHECK: @__ckpt_desc.locals = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @locals, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.locals }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_excluded.locals = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 8 }]
; CHECK: @__ckpt_desc.no_excluded = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @no_excluded, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; countdown: header 16, the i32 %pin at 16 -> 20, aligned to 8 -> 24.
; CHECK: @__ckpt_desc.countdown = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @countdown, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.countdown }, section "ckpt_funcs", align 8
; POLLS: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.locals, ptr @__ckpt_desc.no_excluded, ptr @__ckpt_desc.countdown], section "llvm.metadata"
; CHECK: @__ckpt_excluded.countdown = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 4 }]
; DEFAULT: @__ckpt_desc.leaf_locals = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @leaf_locals, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.leaf_locals }, section "ckpt_funcs", align 8
; DEFAULT: @llvm.used = appending global [4 x ptr] [ptr @__ckpt_desc.locals, ptr @__ckpt_desc.no_excluded, ptr @__ckpt_desc.countdown, ptr @__ckpt_desc.leaf_locals], section "llvm.metadata"
; DEFAULT: @__ckpt_excluded.leaf_locals = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 4 }]

define i32 @locals(i32 %x) {
; CHECK-LABEL: define i32 @locals(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %buf = alloca [16 x i32], align 16
; CHECK-NEXT:    %cell = alloca i64, align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[CHAIN]], align 8
; CHECK-NEXT:    [[PARENT_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[PARENT_FIELD]], align 8
; CHECK-NEXT:    [[DESC_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.locals, ptr [[DESC_FIELD]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[CHAIN]], align 8
; The original body follows in the same block, lifetime markers and all (but
; the annotation of %key, which has done its job); nothing around the calls.
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
; CHECK-NEXT:    call void @fill(ptr %buf)
; CHECK-NEXT:    call void @fill(ptr %key)
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 8, ptr %cell)
; CHECK-NEXT:    store i64 7, ptr %cell, align 8
; CHECK-NEXT:    call void @fill(ptr %cell)
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 8, ptr %cell)
; CHECK-NEXT:    %c = icmp eq i32 %x, 0
; CHECK-NEXT:    br i1 %c, label %zero, label %other
; CHECK-EMPTY:
; Both returns pop.
; CHECK-NEXT:  zero:
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    [[CHAIN1:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN1]], align 8
; CHECK-NEXT:    ret i32 0
; CHECK-EMPTY:
; CHECK-NEXT:  other:
; CHECK-NEXT:    %p = getelementptr inbounds [16 x i32], ptr %buf, i64 0, i64 3
; CHECK-NEXT:    %v = load i32, ptr %p, align 4
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN2]], align 8
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
entry:
  %buf = alloca [16 x i32], align 16
  %key = alloca i64, align 8
  %cell = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
  call void @fill(ptr %buf)
  call void @fill(ptr %key)
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

; It may stop in @fill, but excludes nothing: descriptor only (above), the
; body exactly as it was.
define i32 @no_excluded(i32 %x) {
; CHECK-LABEL: define i32 @no_excluded(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %buf = alloca [16 x i32], align 16
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
; CHECK-NEXT:    call void @fill(ptr %buf)
; CHECK-NEXT:    %v = load i32, ptr %buf, align 16
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
entry:
  %buf = alloca [16 x i32], align 16
  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
  call void @fill(ptr %buf)
  %v = load i32, ptr %buf, align 16
  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
  ret i32 %v
}

; Recursive, no loop: with -ckpt-polls an entry poll, after the push; by
; default the body follows the push directly.
define i32 @countdown(i32 %n) {
; CHECK-LABEL: define i32 @countdown(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %pin = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[CHAIN]], align 8
; CHECK-NEXT:    [[PARENT_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[PARENT_FIELD]], align 8
; CHECK-NEXT:    [[DESC_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.countdown, ptr [[DESC_FIELD]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[CHAIN]], align 8
; POLLS-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; POLLS-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; POLLS-EMPTY:
; POLLS-NEXT:  ckpt.poll:
; POLLS-NEXT:    call void @__ckpt_poll()
; POLLS-NEXT:    br label %ckpt.cont
; POLLS-EMPTY:
; POLLS-NEXT:  ckpt.cont:
; CHECK-NEXT:    store i32 %n, ptr %pin, align 4
; CHECK-NEXT:    %done = icmp eq i32 %n, 0
; CHECK-NEXT:    br i1 %done, label %base, label %rec
; CHECK-EMPTY:
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %m = sub i32 %n, 1
; CHECK-NEXT:    %r = call i32 @countdown(i32 %m)
; CHECK-NEXT:    %v = load i32, ptr %pin, align 4
; CHECK-NEXT:    %s = add i32 %r, %v
; CHECK-NEXT:    [[CHAIN1:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN1]], align 8
; CHECK-NEXT:    ret i32 %s
; CHECK-EMPTY:
; CHECK-NEXT:  base:
; CHECK-NEXT:    [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN2]], align 8
; CHECK-NEXT:    ret i32 0
; CHECK-NEXT:  }
entry:
  %pin = alloca i32, align 4
  call void @llvm.var.annotation.p0.p0(ptr %pin, ptr @.str.ex, ptr @.str.file, i32 9, ptr null)
  store i32 %n, ptr %pin, align 4
  %done = icmp eq i32 %n, 0
  br i1 %done, label %base, label %rec

rec:
  %m = sub i32 %n, 1
  %r = call i32 @countdown(i32 %m)
  %v = load i32, ptr %pin, align 4
  %s = add i32 %r, %v
  ret i32 %s

base:
  ret i32 0
}

; Same shape as @locals, but no calls: by default a thread can still be
; stopped in it (by signal), so it gets its record like @locals. With
; -ckpt-polls nothing here can reach a poll: left alone, the excluded local
; and its annotation included.
define i32 @leaf_locals(i32 %x) {
; CHECK-LABEL: define i32 @leaf_locals(i32 %x) {
; CHECK-NEXT:  entry:
; DEFAULT-NEXT:  %ckpt.record = alloca [24 x i8], align 8
; DEFAULT-NEXT:  %buf = alloca [16 x i32], align 16
; DEFAULT-NEXT:  %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; DEFAULT-NEXT:  [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; DEFAULT-NEXT:  %ckpt.parent = load ptr, ptr [[CHAIN]], align 8
; DEFAULT-NEXT:  [[PARENT_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; DEFAULT-NEXT:  store ptr %ckpt.parent, ptr [[PARENT_FIELD]], align 8
; DEFAULT-NEXT:  [[DESC_FIELD:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; DEFAULT-NEXT:  store ptr @__ckpt_desc.leaf_locals, ptr [[DESC_FIELD]], align 8
; DEFAULT-NEXT:  store ptr %ckpt.record, ptr [[CHAIN]], align 8
; POLLS-NEXT:    %buf = alloca [16 x i32], align 16
; POLLS-NEXT:    %key = alloca i32, align 4
; POLLS-NEXT:    call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 20, ptr null)
; CHECK-NEXT:    call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
; CHECK-NEXT:    store i32 %x, ptr %buf, align 16
; CHECK-NEXT:    store i32 %x, ptr %key, align 4
; CHECK-NEXT:    %v = load i32, ptr %buf, align 16
; CHECK-NEXT:    call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
; DEFAULT-NEXT:  [[CHAIN1:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; DEFAULT-NEXT:  store ptr %ckpt.parent, ptr [[CHAIN1]], align 8
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
entry:
  %buf = alloca [16 x i32], align 16
  %key = alloca i32, align 4
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 20, ptr null)
  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)
  store i32 %x, ptr %buf, align 16
  store i32 %x, ptr %key, align 4
  %v = load i32, ptr %buf, align 16
  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)
  ret i32 %v
}
