; ckpt-frames, no restore path (docs/design.md, "Frames redesign"): threads
; are saved as native stacks and resume where they stopped, so nothing in an
; instrumented function rebuilds its frame, here in recursive functions,
; with and without a frame record. The entry (the push of the record, if any,
; then, with -ckpt-polls only (POLLS), the entry poll) goes straight on to the
; original body: no
; test of __ckpt_restoring, no ckpt.restore dispatch, no call to
; __ckpt_restore_frame (neither symbol is even declared), no ckpt.resumeN or
; ckpt.badsite block, no re-issued call, no phi merging reloaded values (no
; value named *.ckpt). The calls (direct, recursive, through a pointer) are
; left exactly as they were: no site id, no callee spilled, nothing stored
; around them, no split block after them. By default (no -ckpt-polls: the
; runtime stops threads by signal) there is no poll at all (DEFAULT).

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=ckpt.poll --implicit-check-not=ckpt.pending --implicit-check-not=ckpt.cont \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=ckpt.badsite --implicit-check-not=llvm.trap \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=__ckpt_top \
; RUN:   --implicit-check-not=__ckpt_sites \
; RUN:   --implicit-check-not='{{\.ckpt[0-9]* = }}'
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,POLLS \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=ckpt.badsite --implicit-check-not=llvm.trap \
; RUN:   --implicit-check-not=__ckpt_restor --implicit-check-not=__ckpt_top \
; RUN:   --implicit-check-not=__ckpt_sites \
; RUN:   --implicit-check-not='{{\.ckpt[0-9]* = }}'

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare i64 @work(i64)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; The runtime's symbols: the chain of records, and with -ckpt-polls the flag
; and the poll; nothing for a restore.
; POLLS:      @__ckpt_pending = external global i32
; POLLS-NEXT: @__ckpt_records = external thread_local(initialexec) global ptr
; DEFAULT:    @__ckpt_records = external thread_local(initialexec) global ptr
; CHECK-NEXT: @__ckpt_desc.walk = private constant

; No record: the poll (if any) comes first, the body follows unchanged.
; CHECK-LABEL: define i64 @walk(ptr %node, i64 %depth) {
; CHECK-NEXT:  entry:
; POLLS-NEXT:     %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS-NEXT:     [[TMP0:%[0-9]+]] = icmp ne i32 %ckpt.pending, 0
; POLLS-NEXT:     br i1 [[TMP0]], label %ckpt.poll, label %ckpt.cont, !prof
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.poll:
; POLLS-NEXT:     call void @__ckpt_poll()
; POLLS-NEXT:     br label %ckpt.cont
; POLLS-EMPTY:
; POLLS-NEXT:   ckpt.cont:
; CHECK-NEXT:    %isnull = icmp eq ptr %node, null
; CHECK-NEXT:    br i1 %isnull, label %leaf, label %inner
; CHECK-EMPTY:
; CHECK-NEXT:  inner:
; CHECK-NEXT:    %x = mul i64 %depth, 3
; CHECK-NEXT:    %r = call i64 @work(i64 %x)
; CHECK-NEXT:    %left.addr = getelementptr inbounds ptr, ptr %node, i64 0
; CHECK-NEXT:    %left = load ptr, ptr %left.addr, align 8
; CHECK-NEXT:    %d1 = add i64 %depth, 1
; CHECK-NEXT:    %a = call i64 @walk(ptr %left, i64 %d1)
; CHECK-NEXT:    %fp.addr = getelementptr inbounds ptr, ptr %node, i64 1
; CHECK-NEXT:    %fp = load ptr, ptr %fp.addr, align 8
; CHECK-NEXT:    %b = call i64 %fp(i64 %a)
; CHECK-NEXT:    %s = add i64 %r, %b
; CHECK-NEXT:    ret i64 %s
; CHECK-EMPTY:
; CHECK-NEXT:  leaf:
; CHECK-NEXT:    ret i64 %depth
; CHECK-NEXT:  }
define i64 @walk(ptr %node, i64 %depth) {
entry:
  %isnull = icmp eq ptr %node, null
  br i1 %isnull, label %leaf, label %inner

inner:
  %x = mul i64 %depth, 3
  %r = call i64 @work(i64 %x)
  %left.addr = getelementptr inbounds ptr, ptr %node, i64 0
  %left = load ptr, ptr %left.addr, align 8
  %d1 = add i64 %depth, 1
  %a = call i64 @walk(ptr %left, i64 %d1)
  %fp.addr = getelementptr inbounds ptr, ptr %node, i64 1
  %fp = load ptr, ptr %fp.addr, align 8
  %b = call i64 %fp(i64 %a)
  %s = add i64 %r, %b
  ret i64 %s

leaf:
  ret i64 %depth
}

; With a record: the push, the poll (if any), the body; every return pops.
; CHECK-LABEL: define i64 @walk_secret(ptr %node, i64 %depth) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %secret = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.walk_secret, ptr [[TMP2]], align 8
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
; CHECK-NEXT:    store i64 %depth, ptr %secret, align 8
; CHECK-NEXT:    %isnull = icmp eq ptr %node, null
; CHECK-NEXT:    br i1 %isnull, label %leaf, label %inner
; CHECK-EMPTY:
; CHECK-NEXT:  inner:
; CHECK-NEXT:    %d1 = add i64 %depth, 1
; CHECK-NEXT:    %a = call i64 @walk_secret(ptr %node, i64 %d1)
; CHECK-NEXT:    %v = load i64, ptr %secret, align 8
; CHECK-NEXT:    %s = add i64 %a, %v
; CHECK-NEXT:    [[TMP4:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP4]], align 8
; CHECK-NEXT:    ret i64 %s
; CHECK-EMPTY:
; CHECK-NEXT:  leaf:
; CHECK-NEXT:    [[TMP5:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP5]], align 8
; CHECK-NEXT:    ret i64 0
; CHECK-NEXT:  }
define i64 @walk_secret(ptr %node, i64 %depth) {
entry:
  %secret = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %secret, ptr @.str.ex, ptr @.str.file, i32 40, ptr null)
  store i64 %depth, ptr %secret, align 8
  %isnull = icmp eq ptr %node, null
  br i1 %isnull, label %leaf, label %inner

inner:
  %d1 = add i64 %depth, 1
  %a = call i64 @walk_secret(ptr %node, i64 %d1)
  %v = load i64, ptr %secret, align 8
  %s = add i64 %a, %v
  ret i64 %s

leaf:
  ret i64 0
}

; POLLS: declare void @__ckpt_poll(){{$}}
