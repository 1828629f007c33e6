; ckpt-frames: setjmp in a function that cannot reach a poll must not be an
; error (the companion of diagnostics.ll, split out because it fails today).
;
; XFAIL: *
; Known pass bug: the setjmp call itself is counted as a call that may reach a
; poll (an external function not on the callback-free list, so
; FunctionPlan::HasUnknownCall), which puts every setjmp user into MayReach and
; then checkSupported() rejects it with "calls setjmp ... and can reach a
; checkpoint". Remove the XFAIL line once returns_twice callees no longer make
; a function reach a poll.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s 2>&1 | FileCheck %s

; CHECK-NOT:   error
; CHECK-LABEL: define i32 @setjmp_leaf(ptr %env, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %r = call i32 @setjmp(ptr %env)
; CHECK-NOT:   ckpt.frame

declare i32 @setjmp(ptr) returns_twice
declare i64 @strlen(ptr)

define i32 @setjmp_leaf(ptr %env, ptr %s) {
entry:
  %r = call i32 @setjmp(ptr %env)
  %l = call i64 @strlen(ptr %s)
  %t = trunc i64 %l to i32
  %v = add i32 %r, %t
  ret i32 %v
}
