; What exclusion of locals relies on from LLVM: the llvm.var.annotation mark
; that clang puts on an excluded local (#pragma ckpt exclude / CKPT_EXCLUDE)
; captures its address, so -O2 neither promotes the variable to a register
; (SROA/mem2reg) nor carries its value across a call: it re-reads memory
; after the call. A value carried in a register (or a register's stack slot)
; across a checkpoint would be saved with the thread's registers and stack
; and come back after a restart, undoing the exclusion. This test guards that assumption against LLVM changes.

; RUN: opt -passes='default<O2>' -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare i32 @opaque()
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; The unmarked %y is forwarded (6 is added as a constant); %x is re-read.
; CHECK-LABEL: define i32 @scalar()
; CHECK:       %x = alloca i32
; CHECK-NOT:   %y = alloca
; CHECK:       store i32 5, ptr %x
; CHECK:       call i32 @opaque()
; CHECK-NEXT:  [[X:%.*]] = load i32, ptr %x
; CHECK:       add i32 %c, 6
; CHECK:       ret i32
define i32 @scalar() {
entry:
  %x = alloca i32, align 4
  %y = alloca i32, align 4
  call void @llvm.var.annotation.p0.p0(ptr %x, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  store i32 5, ptr %x, align 4
  store i32 6, ptr %y, align 4
  %c = call i32 @opaque()
  %vx = load i32, ptr %x, align 4
  %vy = load i32, ptr %y, align 4
  %s = add i32 %vx, %vy
  %r = add i32 %s, %c
  ret i32 %r
}
