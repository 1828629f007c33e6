; ckpt-frames: a call to a returns_twice function (setjmp) is never a site:
; setjmp returns into the caller's own frame and never stops. So it does not
; make its caller reach a poll, and setjmp in a function that cannot otherwise
; reach a poll is no error: the function gets no frame record. The only
; change: the shadow stack's top is read before setjmp and written back after
; it, so that a longjmp that skipped instrumented frames (which could not pop
; their records) leaves the shadow stack as it was at the setjmp. The
; companion of the SETJMP case of diagnostics.ll, where the setjmp user also
; calls a function that may stop, which is still refused.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s 2>&1 | FileCheck %s \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: \
; RUN:   --implicit-check-not=__ckpt_desc --implicit-check-not="call void @__ckpt_poll"

; CHECK-LABEL: define i32 @setjmp_leaf(ptr %env, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    [[A:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    [[T:%.*]] = load ptr, ptr [[A]], align 8
; CHECK-NEXT:    %r = call i32 @setjmp(ptr %env)
; CHECK-NEXT:    [[A2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    store ptr [[T]], ptr [[A2]], align 8
; CHECK-NEXT:    %l = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %t = trunc i64 %l to i32
; CHECK-NEXT:    %v = add i32 %r, %t
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
; The same through an indirect call marked returns_twice at the call site.
; CHECK-LABEL: define i32 @setjmp_indirect(ptr %fp, ptr %env) {
; CHECK-NEXT:  entry:
; CHECK:         %r = call i32 %fp(ptr %env) #0
; CHECK-NEXT:    [[A3:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    store ptr {{%.*}}, ptr [[A3]], align 8
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
