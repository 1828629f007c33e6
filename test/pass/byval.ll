; ckpt-frames, byval arguments: a byval argument is the callee's own copy,
; living in the caller's outgoing-argument area. That area is on the same
; thread stack, above the callee's frame, and stacks are saved whole and put
; back at the same address (docs/design.md, "Frames redesign"), so the copy
; comes back with the callee's changes. An instrumented function therefore
; leaves its byval argument alone: no slot for it in the frame record, no
; memcpy, and every use (including a site's operand) still uses the argument.
; (Before native stacks the pass copied it into the record.)
; A function that cannot reach a poll keeps using its byval argument too.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=memcpy

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.Big = type { [8 x i64] }

declare void @consume(ptr)

; The record is the bare header: 24 bytes, nothing for the 64-byte argument.
; CHECK: @__ckpt_desc.takes_big = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 1, ptr @takes_big, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.takes_big,

define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
; CHECK-LABEL: define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.takes_big, ptr [[G]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; The body writes the argument itself ...
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
; CHECK-NEXT:    store i64 5, ptr %f, align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; ... and hands the argument itself to the callee.
; CHECK-NEXT:    call void @consume(ptr %b)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %v = load i64, ptr %f, align 8
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
entry:
  %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
  store i64 5, ptr %f, align 8
  call void @consume(ptr %b)
  %v = load i64, ptr %f, align 8
  ret i64 %v
}

define i64 @byval_leaf(ptr byval(%struct.Big) align 8 %b) {
; CHECK-LABEL: define i64 @byval_leaf(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
; CHECK-NEXT:    %v = load i64, ptr %f, align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
entry:
  %f = getelementptr inbounds %struct.Big, ptr %b, i64 0, i32 0, i64 2
  %v = load i64, ptr %f, align 8
  ret i64 %v
}
