; ckpt-frames, unsupported constructs. Constructs a restart cannot reproduce
; in a function that can reach a checkpoint are compile errors naming the
; function (and the source line when known), never a silently wrong restart:
;   - a call to a returns_twice function (setjmp): a jmp_buf saved before a
;     checkpoint cannot be used after a restart;
;   - a musttail call: the frame record could not be popped after it.
; The same constructs in a function that cannot reach a poll are fine: it is
; not instrumented. opt stops at the first error, hence one file per error.
; (Variable-length arrays and alloca() are no longer refused, since stacks are
; saved whole; only excluding one is: see vla-alloca.ll.)

; RUN: rm -rf %t && split-file %s %t
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/setjmp.ll 2>&1 | FileCheck %s --check-prefix=SETJMP
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/musttail.ll 2>&1 | FileCheck %s --check-prefix=MUSTTAIL
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/ok.ll 2>&1 | FileCheck %s --check-prefix=OK \
; RUN:   --implicit-check-not=error: --implicit-check-not=ckpt.frame

; SETJMP: error: {{.*}}ckpt: function 'uses_setjmp' calls setjmp (or another returns-twice function) and can reach a checkpoint; a jmp_buf saved before a checkpoint cannot be used after a restart
; MUSTTAIL: error: {{.*}}ckpt: function 'forward' makes a musttail call, which cannot keep a frame record

; OK-LABEL:    define i64 @forward_leaf(i64 %x) {
; OK-NEXT:     entry:
; OK-NEXT:       %r = musttail call i64 @leaf(i64 %x)

;--- setjmp.ll
declare i32 @setjmp(ptr) returns_twice
declare void @ext(ptr)

define i32 @uses_setjmp(ptr %env) {
entry:
  %r = call i32 @setjmp(ptr %env)
  %first = icmp eq i32 %r, 0
  br i1 %first, label %work, label %done

work:
  call void @ext(ptr %env)
  br label %done

done:
  ret i32 %r
}

;--- musttail.ll
declare i64 @ext(i64)

define i64 @forward(i64 %x) {
entry:
  %r = musttail call i64 @ext(i64 %x)
  ret i64 %r
}

;--- ok.ll
define internal i64 @leaf(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A musttail call to a function that cannot reach a poll.
define i64 @forward_leaf(i64 %x) {
entry:
  %r = musttail call i64 @leaf(i64 %x)
  ret i64 %r
}
