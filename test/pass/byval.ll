; ckpt-frames, byval arguments: a byval argument is the callee's own copy,
; living in the caller's outgoing-argument area. That area is on the same
; thread stack, above the callee's frame, and stacks are saved whole and put
; back at the same address (docs/design.md, "Frames redesign"), so the copy
; comes back with the callee's changes. An instrumented function therefore
; leaves its byval argument alone: no copy (no memcpy), no place in a frame
; record, every use still uses the argument -- whether the function has no
; record (only its descriptor) or one for its excluded locals (which holds
; the header and those locals only). By default (no -ckpt-polls: the
; runtime stops threads by signal) a leaf is instrumented too: it gets a
; descriptor, and keeps using its byval argument.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=memcpy \
; RUN:   --implicit-check-not=__ckpt_top

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.Big = type { [8 x i64] }

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @consume(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; CHECK: @__ckpt_desc.takes_big = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @takes_big, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; The record of @takes_big_secret: the header and %key, nothing for the
; 64-byte argument.
; CHECK: @__ckpt_desc.takes_big_secret = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @takes_big_secret, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.takes_big_secret }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.byval_leaf = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @byval_leaf, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.takes_big, ptr @__ckpt_desc.takes_big_secret, ptr @__ckpt_desc.byval_leaf], section "llvm.metadata"

; The body writes the argument itself and hands the argument itself to the
; callee: exactly as it was.
; CHECK-LABEL: define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
; CHECK-NEXT:    store i64 5, ptr %f, align 8
; CHECK-NEXT:    call void @consume(ptr %b)
; CHECK-NEXT:    %v = load i64, ptr %f, align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
entry:
  %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
  store i64 5, ptr %f, align 8
  call void @consume(ptr %b)
  %v = load i64, ptr %f, align 8
  ret i64 %v
}

; Push, pop, and the argument used where it was.
; CHECK-LABEL: define i64 @takes_big_secret(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.takes_big_secret, ptr [[TMP2]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[TMP0]], align 8
; CHECK-NEXT:    call void @consume(ptr %key)
; CHECK-NEXT:    call void @consume(ptr %b)
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
; CHECK-NEXT:    %v = load i64, ptr %f, align 8
; CHECK-NEXT:    [[TMP3:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP3]], align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
define i64 @takes_big_secret(ptr byval(%struct.Big) align 8 %b) {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 12, ptr null)
  call void @consume(ptr %key)
  call void @consume(ptr %b)
  %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
  %v = load i64, ptr %f, align 8
  ret i64 %v
}

; CHECK-LABEL: define i64 @byval_leaf(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
; CHECK-NEXT:    %v = load i64, ptr %f, align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
define i64 @byval_leaf(ptr byval(%struct.Big) align 8 %b) {
entry:
  %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
  %v = load i64, ptr %f, align 8
  ret i64 %v
}
