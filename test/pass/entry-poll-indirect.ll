; ckpt-frames, recursion through a function pointer: the call graph cannot
; see the cycle, so a function whose address is taken and that calls
; through a pointer gets an entry poll (site 1); one that is not
; address-taken does not.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; The entry poll comes right after the prologue (which pushes the record the
; poll hands to the runtime); the indirect call is site 2.
; CHECK-LABEL: define i64 @eval(
; CHECK-NEXT:  entry:
; CHECK:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK:         store i32 1, ptr
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       rec:
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %r = call i64 %self(i64 %m, ptr %self)
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
; only the call site.
; CHECK-LABEL: define i64 @apply(
; CHECK-NOT:     @__ckpt_pending
; CHECK:         ret i64
define i64 @apply(ptr %f, i64 %x) {
  %r = call i64 %f(i64 %x)
  ret i64 %r
}

define i64 @start(i64 %n) {
  %r = call i64 @eval(i64 %n, ptr @eval)
  %q = call i64 @apply(ptr @eval, i64 %r)
  ret i64 %q
}
