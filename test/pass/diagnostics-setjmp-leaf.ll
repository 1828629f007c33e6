; ckpt-frames: a call to a returns_twice function (setjmp) is never a site:
; setjmp returns into the caller's own frame and never stops. So it does not
; make its caller reach a poll, and setjmp in a function that cannot otherwise
; reach a poll is no error: the function is left alone (no frame record, no
; runtime symbols). The companion of the SETJMP case of diagnostics.ll, where
; the setjmp user also calls a function that may stop, which is still refused.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s 2>&1 | FileCheck %s \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not=__ckpt

; CHECK-LABEL: define i32 @setjmp_leaf(ptr %env, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %r = call i32 @setjmp(ptr %env)
; CHECK-NEXT:    %l = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %t = trunc i64 %l to i32
; CHECK-NEXT:    %v = add i32 %r, %t
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
; The same through an indirect call marked returns_twice at the call site.
; CHECK-LABEL: define i32 @setjmp_indirect(ptr %fp, ptr %env) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %r = call i32 %fp(ptr %env) #0
; CHECK-NEXT:    ret i32 %r
; CHECK-NEXT:  }

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

define i32 @setjmp_indirect(ptr %fp, ptr %env) {
entry:
  %r = call i32 %fp(ptr %env) returns_twice
  ret i32 %r
}
