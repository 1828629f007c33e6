; ckpt-frames: setjmp (a call to a returns_twice function) is no error. By
; default (no -ckpt-polls: the runtime stops threads by signal anywhere) a
; function that calls setjmp gets its descriptor like any function, with
; flags 0: setjmp is the runtime's, whose jmp_bufs survive a restart; a
; call through a pointer marked returns_twice (which could be vfork or
; getcontext) gets flags 1 (CKPT_FUNC_RETURNS_TWICE) and the runtime does
; not stop the thread under it (DEFAULT); no poll and no record. The chain of frame records (@__ckpt_records, thread-local) is read
; before setjmp and written back after it, so that a longjmp that skipped
; frames with records (which could not pop them) leaves the chain as it was
; at the setjmp. With -ckpt-polls a call to setjmp never stops
; (setjmp returns into the caller's own frame), so it does not make its
; caller reach a poll: these functions get no descriptor, only the save and
; restore of the chain. The companion of the SETJMP case of diagnostics.ll,
; where the setjmp user also calls a function that may stop.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s 2>&1 | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: \
; RUN:   --implicit-check-not="call void @__ckpt_poll" --implicit-check-not="load atomic" \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=ckpt.record
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s 2>&1 | FileCheck %s \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: \
; RUN:   --implicit-check-not=__ckpt_desc --implicit-check-not="call void @__ckpt_poll" \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=ckpt.record

; DEFAULT: @__ckpt_desc.setjmp_leaf = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @setjmp_leaf, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; DEFAULT: @__ckpt_desc.setjmp_indirect = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 1, ptr @setjmp_indirect, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; DEFAULT: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.setjmp_leaf, ptr @__ckpt_desc.setjmp_indirect], section "llvm.metadata"

; CHECK-LABEL: define i32 @setjmp_leaf(ptr %env, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    [[A:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    [[T:%.*]] = load ptr, ptr [[A]], align 8
; CHECK-NEXT:    %r = call i32 @setjmp(ptr %env)
; CHECK-NEXT:    [[A2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr [[T]], ptr [[A2]], align 8
; CHECK-NEXT:    %l = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %t = trunc i64 %l to i32
; CHECK-NEXT:    %v = add i32 %r, %t
; CHECK-NEXT:    ret i32 %v
; CHECK-NEXT:  }
; The same through an indirect call marked returns_twice at the call site.
; CHECK-LABEL: define i32 @setjmp_indirect(ptr %fp, ptr %env) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    [[A3:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    [[T3:%.*]] = load ptr, ptr [[A3]], align 8
; CHECK-NEXT:    %r = call i32 %fp(ptr %env) #0
; CHECK-NEXT:    [[A4:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr [[T3]], ptr [[A4]], align 8
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
