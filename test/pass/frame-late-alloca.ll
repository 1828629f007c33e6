; ckpt-frames: a static alloca of the entry block that comes after its first
; site (a call that may reach a poll, or the entry poll) must stay a static
; alloca of the entry block, like the allocas at the top of the block, and an
; excluded one (#pragma ckpt exclude) must still be moved into the frame
; record: the pass has to gather the entry block's static allocas at its top
; before it splits the block at sites. Left where it was, such an alloca ends
; up in a ckpt.cont block: a dynamic alloca for codegen, and, if excluded,
; missed by the record's layout, which only looks at the entry block, so its
; exclusion is silently dropped.
; (Before native stacks every alloca was gathered into the record; a late one
; ended up outside the record and the restore path used it where it was not
; defined.)

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @fill(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; The excluded %secret is in the record: header 24, pad to 32, 16 bytes ->
; 48, aligned to 16; the descriptor lists it as {32, 16}.
; CHECK: @__ckpt_desc.late_excluded = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 2, ptr @late_excluded, ptr @{{.*}}, ptr @{{.*}}, i64 48, ptr @__ckpt_sites.late_excluded, i32 0, i32 0, ptr @__ckpt_excluded.late_excluded, i32 1, i32 0 }
; CHECK: @__ckpt_excluded.late_excluded = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 32, i64 16 }]

; Both allocas stay static allocas of the entry block, ahead of the push;
; no alloca anywhere after it.
; CHECK-LABEL: define void @after_call() {
; CHECK-NEXT:  entry:
; CHECK-DAG:     %ckpt.frame = alloca [24 x i8], align 8
; CHECK-DAG:     %a = alloca i32, align 4
; CHECK-DAG:     %b = alloca i32, align 4
; CHECK:         call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NOT:     alloca
; CHECK:         store i32 1, ptr
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NOT:     alloca
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    call void @fill(ptr %b)
; CHECK-NOT:     alloca
; CHECK:       }
define void @after_call() {
entry:
  %a = alloca i32, align 4
  call void @fill(ptr %a)
  %b = alloca i32, align 4
  call void @fill(ptr %b)
  ret void
}

; The alloca below the entry poll (site 1) stays in the entry block too; the
; store into it stays after the poll.
; CHECK-LABEL: define i32 @after_entry_poll(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-DAG:     %ckpt.frame = alloca [24 x i8], align 8
; CHECK-DAG:     %a = alloca i32, align 4
; CHECK:         call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NOT:     alloca
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       ckpt.cont:
; CHECK-NEXT:    %done = icmp eq i32 %n, 0
; CHECK-NEXT:    store i32 %n, ptr %a, align 4
; CHECK-NOT:     alloca
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %r = call i32 @after_entry_poll(i32 %m)
; CHECK-NOT:     alloca
; CHECK:         %v = load i32, ptr %a, align 4
; CHECK-NOT:     alloca
; CHECK:       }
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
; CHECK-DAG:     %ckpt.frame = alloca [48 x i8], align 16
; CHECK-DAG:     %a = alloca i32, align 4
; CHECK-DAG:     %secret = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK:         call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NOT:     alloca
; CHECK-NOT:     @llvm.var.annotation
; CHECK:         store i32 1, ptr
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NOT:     alloca
; CHECK-NOT:     @llvm.var.annotation
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    call void @fill(ptr %secret)
; CHECK-NOT:     alloca
; CHECK-NOT:     @llvm.var.annotation
; CHECK:       }
define void @late_excluded() {
entry:
  %a = alloca i32, align 4
  call void @fill(ptr %a)
  %secret = alloca [16 x i8], align 16
  call void @llvm.var.annotation.p0.p0(ptr %secret, ptr @.str.ex, ptr @.str.file, i32 7, ptr null)
  call void @fill(ptr %secret)
  ret void
}
