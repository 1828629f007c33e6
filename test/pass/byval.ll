; ckpt-frames, byval arguments: a byval argument is the callee's own copy, but
; it lives in the caller's outgoing-argument area, and a restart would rebuild
; it from the caller's value, losing the callee's changes. So an instrumented
; function gets a slot for it in the frame record, copies the argument there
; on the normal path only (the restore path gets the slot back with the rest
; of the record), and every use of the argument uses the copy instead.
; A function that cannot reach a poll keeps using its byval argument.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.Big = type { [8 x i64] }

declare void @consume(ptr)

; Frame: header 24, the 64-byte copy at 24, the spilled %f at 88 -> 96.
define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
; CHECK-LABEL: define i64 @takes_big(ptr byval(%struct.Big) align 8 %b) {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [96 x i8], align 8
; CHECK-NEXT:    [[COPY:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK:         br i1 %{{.*}}, label %ckpt.restore, label %entry
; CHECK-EMPTY:
; CHECK-NEXT:  entry:
; CHECK-NEXT:    call void @llvm.memcpy.p0.p0.i64(ptr [[COPY]], ptr %b, i64 64, i1 false)
; CHECK-NEXT:    %f = getelementptr inbounds %struct.Big, ptr [[COPY]], i64 0, i32 0, i64 2
; CHECK-NEXT:    store i64 5, ptr %f, align 8
; The copy is what the callee gets.
; CHECK:         call void @consume(ptr [[COPY]])
; No other use of %b, and no copy on the restore path.
; CHECK-NOT:     %b{{[,)]}}
; CHECK-NOT:     memcpy
; CHECK:       ckpt.restore:
; CHECK-NOT:     %b{{[,)]}}
; CHECK-NOT:     memcpy
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    call void @consume(ptr [[COPY]])
; CHECK-NOT:     %b{{[,)]}}
; CHECK-NOT:     memcpy
; CHECK:       }
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
