; ckpt-frames, recursion through a function pointer: the call graph cannot
; see the cycle, so a function whose address is taken and that calls
; through a pointer gets an entry poll; one that is not address-taken does
; not, but it still gets a descriptor, since the call through the pointer may
; stop. So does their caller. The indirect calls are left as they were:
; nothing stored before them (no spill of the callee).
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=store --implicit-check-not=__ckpt_top

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.eval, ptr @__ckpt_desc.apply, ptr @__ckpt_desc.start], section "llvm.metadata"

; The entry poll comes first in the entry block.
; CHECK-LABEL: define i64 @eval(i64 %n, ptr %self) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    %z = icmp eq i64 %n, 0
; CHECK-NEXT:    br i1 %z, label %base, label %rec
; CHECK-EMPTY:
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %m = sub i64 %n, 1
; CHECK-NEXT:    %r = call i64 %self(i64 %m, ptr %self)
; CHECK-NEXT:    %s = add i64 %r, %n
define i64 @eval(i64 %n, ptr %self) {
entry:
  %z = icmp eq i64 %n, 0
  br i1 %z, label %base, label %rec
rec:
  %m = sub i64 %n, 1
  %r = call i64 %self(i64 %m, ptr %self)
  %s = add i64 %r, %n
  ret i64 %s
base:
  ret i64 0
}

; Calls through a pointer but nobody can call it through one: no entry poll,
; nothing at all in its body.
; CHECK-LABEL: define i64 @apply(ptr %f, i64 %x) {
; CHECK-NEXT:    %r = call i64 %f(i64 %x)
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
define i64 @apply(ptr %f, i64 %x) {
  %r = call i64 %f(i64 %x)
  ret i64 %r
}

define i64 @start(i64 %n) {
  %r = call i64 @eval(i64 %n, ptr @eval)
  %q = call i64 @apply(ptr @eval, i64 %r)
  ret i64 %q
}
