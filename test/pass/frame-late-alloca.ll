; ckpt-frames: a static alloca of the entry block that comes after the point
; where the pass splits the entry block (the entry poll of a recursive
; function) must stay a static alloca of the entry block, like the allocas at
; the top of the block, and an excluded one (#pragma ckpt exclude) must still
; be moved into the frame record: the pass gathers the entry block's static
; allocas at its top before it places polls. Left where it was, such an
; alloca ends up in a ckpt.cont block: a dynamic alloca for codegen, and, if
; excluded, missed by the record's layout, which only looks at the entry
; block, so its exclusion is silently dropped. (Calls no longer split blocks:
; nothing is stored around them.)
; The entry poll is there only with -ckpt-polls (POLLS). By default (no
; -ckpt-polls: the runtime stops threads by signal) nothing splits the entry
; block, and the allocas are gathered at its top all the same.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=ckpt.poll --implicit-check-not=ckpt.pending --implicit-check-not=ckpt.cont
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,POLLS

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @fill(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; The excluded %secret is in the record: header 16, 16 bytes -> 32, aligned
; to 16; the descriptor lists it as {16, 16}. %key of @late_excluded_rec:
; header 16, 8 bytes -> 24.
; CHECK: @__ckpt_desc.late_excluded = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @late_excluded, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 32, ptr @__ckpt_excluded.late_excluded }
; CHECK: @__ckpt_excluded.late_excluded = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 16 }]
; CHECK: @__ckpt_desc.late_excluded_rec = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @late_excluded_rec, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.late_excluded_rec }
; CHECK: @__ckpt_excluded.late_excluded_rec = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 8 }]

; No entry poll, no record: both allocas stay static allocas of the entry
; block (gathered at its top), the calls as they were.
; CHECK-LABEL: define void @after_call() {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %a = alloca i32, align 4
; CHECK-NEXT:    %b = alloca i32, align 4
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NEXT:    call void @fill(ptr %b)
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
define void @after_call() {
entry:
  %a = alloca i32, align 4
  call void @fill(ptr %a)
  %b = alloca i32, align 4
  call void @fill(ptr %b)
  ret void
}

; The alloca below the entry poll stays in the entry block, ahead of the
; poll; the store into it stays after the poll. Without polls, it is moved to
; the top of the block.
; CHECK-LABEL: define i32 @after_entry_poll(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %a = alloca i32, align 4
; POLLS-NEXT:     %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS-NEXT:     [[TMP0:%[0-9]+]] = icmp ne i32 %ckpt.pending, 0
; POLLS-NEXT:     br i1 [[TMP0]], label %ckpt.poll, label %ckpt.cont, !prof
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.poll:
; POLLS-NEXT:     call void @__ckpt_poll()
; POLLS-NEXT:     br label %ckpt.cont
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.cont:
; CHECK-NEXT:    %done = icmp eq i32 %n, 0
; CHECK-NEXT:    store i32 %n, ptr %a, align 4
; CHECK-NEXT:    br i1 %done, label %base, label %rec
; CHECK-EMPTY:
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %m = sub i32 %n, 1
; CHECK-NEXT:    %r = call i32 @after_entry_poll(i32 %m)
; CHECK-NEXT:    %v = load i32, ptr %a, align 4
; CHECK-NEXT:    %s = add i32 %r, %v
; CHECK-NEXT:    ret i32 %s
; CHECK-EMPTY:
; CHECK-NEXT:  base:
; CHECK-NEXT:    ret i32 0
; CHECK-NEXT:  }
define i32 @after_entry_poll(i32 %n) {
entry:
  %done = icmp eq i32 %n, 0
  %a = alloca i32, align 4
  store i32 %n, ptr %a, align 4
  br i1 %done, label %base, label %rec

rec:
  %m = sub i32 %n, 1
  %r = call i32 @after_entry_poll(i32 %m)
  %v = load i32, ptr %a, align 4
  %s = add i32 %r, %v
  ret i32 %s

base:
  ret i32 0
}

; An excluded local declared after the first call: it becomes a field of the
; record (before the push), its annotation is gone, and the call after it
; gets the field.
; CHECK-LABEL: define void @late_excluded() {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [32 x i8], align 16
; CHECK-NEXT:    %a = alloca i32, align 4
; CHECK-NEXT:    %secret = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.late_excluded, ptr [[TMP2]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[TMP0]], align 8
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NEXT:    call void @fill(ptr %secret)
; CHECK-NEXT:    [[TMP3:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP3]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
define void @late_excluded() {
entry:
  %a = alloca i32, align 4
  call void @fill(ptr %a)
  %secret = alloca [16 x i8], align 16
  call void @llvm.var.annotation.p0.p0(ptr %secret, ptr @.str.ex, ptr @.str.file, i32 7, ptr null)
  call void @fill(ptr %secret)
  ret void
}

; An excluded local below the entry poll: a field of the record too, pushed
; before the poll (if any).
; CHECK-LABEL: define i32 @late_excluded_rec(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.late_excluded_rec, ptr [[TMP2]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[TMP0]], align 8
; POLLS-NEXT:     %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS-NEXT:     [[TMP3:%[0-9]+]] = icmp ne i32 %ckpt.pending, 0
; POLLS-NEXT:     br i1 [[TMP3]], label %ckpt.poll, label %ckpt.cont, !prof
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.poll:
; POLLS-NEXT:     call void @__ckpt_poll()
; POLLS-NEXT:     br label %ckpt.cont
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.cont:
; CHECK-NEXT:    %done = icmp eq i32 %n, 0
; CHECK-NEXT:    call void @fill(ptr %key)
; CHECK-NEXT:    br i1 %done, label %base, label %rec
; CHECK-EMPTY:
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %m = sub i32 %n, 1
; CHECK-NEXT:    %r = call i32 @late_excluded_rec(i32 %m)
; CHECK-NEXT:    [[TMP4:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP4]], align 8
; CHECK-NEXT:    ret i32 %r
; CHECK-EMPTY:
; CHECK-NEXT:  base:
; CHECK-NEXT:    [[TMP5:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP5]], align 8
; CHECK-NEXT:    ret i32 0
; CHECK-NEXT:  }
define i32 @late_excluded_rec(i32 %n) {
entry:
  %done = icmp eq i32 %n, 0
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 12, ptr null)
  call void @fill(ptr %key)
  br i1 %done, label %base, label %rec

rec:
  %m = sub i32 %n, 1
  %r = call i32 @late_excluded_rec(i32 %m)
  ret i32 %r

base:
  ret i32 0
}
