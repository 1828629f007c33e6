; ckpt-frames, musttail calls, exceptions (invoke, landingpad) and asm goto
; (callbr): since threads are saved as native stacks (docs/design.md, "Frames
; redesign"), a function that excludes no locals has nothing to undo when its
; frame goes away, however it goes: these constructs are accepted there, the
; function gets its descriptor and its body is left as it was -- but for a
; landing pad, which puts back the head of the thread's record chain as it
; was at entry (an exception caught there may have unwound through frames of
; other functions that had records).
; A function with excluded locals pushes a frame record that it pops at its
; returns: a musttail call (which must be followed by the return, so there is
; no room for the pop), an unwind or an asm goto would leave it on the
; thread's chain. There they are compile errors naming the function. opt
; stops at the first error, hence one file per error.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/ok.ll 2>&1 | FileCheck %s \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: \
; RUN:   --implicit-check-not=ckpt.record
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/musttail.ll 2>&1 | FileCheck %s --check-prefix=MUSTTAIL
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/invoke.ll 2>&1 | FileCheck %s --check-prefix=INVOKE
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/callbr.ll 2>&1 | FileCheck %s --check-prefix=CALLBR

; MUSTTAIL: error: {{.*}}ckpt: function 'forward_secret' excludes locals from checkpoints and makes a musttail call, which cannot keep their frame record
; INVOKE: error: {{.*}}ckpt: function 'catcher_secret' excludes locals from checkpoints and uses exceptions or asm goto, which ckpt does not support there
; CALLBR: error: {{.*}}ckpt: function 'asm_goto_secret' excludes locals from checkpoints and uses exceptions or asm goto, which ckpt does not support there

; CHECK: @__ckpt_desc.forward = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @forward, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.catcher = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @catcher, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.asm_goto = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @asm_goto, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.forward, ptr @__ckpt_desc.catcher, ptr @__ckpt_desc.asm_goto], section "llvm.metadata"

; A musttail call to a function that may stop.
; CHECK-LABEL: define i64 @forward(i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %r = musttail call i64 @ext(i64 %x)
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }

; An invoke of a function that may stop, and its landing pad.
; CHECK-LABEL: define i32 @catcher() personality ptr @__gxx_personality_v0 {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.eh.top = load ptr, ptr [[CHAIN]], align 8
; CHECK-NEXT:    invoke void @may_throw()
; CHECK-NEXT:            to label %ok unwind label %lp
; CHECK-EMPTY:
; CHECK-NEXT:  ok:
; CHECK-NEXT:    ret i32 0
; CHECK-EMPTY:
; CHECK-NEXT:  lp:
; CHECK-NEXT:    %x = landingpad { ptr, i32 }
; CHECK-NEXT:            catch ptr null
; CHECK-NEXT:    [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.eh.top, ptr [[CHAIN2]], align 8
; CHECK-NEXT:    ret i32 1
; CHECK-NEXT:  }

; An asm goto in a function that calls one that may stop.
; CHECK-LABEL: define i32 @asm_goto() {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    callbr void asm "", "!i"()
; CHECK-NEXT:            to label %fall [label %jump]
; CHECK-EMPTY:
; CHECK-NEXT:  fall:
; CHECK-NEXT:    call void @may_throw()
; CHECK-NEXT:    ret i32 0
; CHECK-EMPTY:
; CHECK-NEXT:  jump:
; CHECK-NEXT:    ret i32 1
; CHECK-NEXT:  }

;--- ok.ll
declare i64 @ext(i64)
declare void @may_throw()
declare i32 @__gxx_personality_v0(...)

define i64 @forward(i64 %x) {
entry:
  %r = musttail call i64 @ext(i64 %x)
  ret i64 %r
}

define i32 @catcher() personality ptr @__gxx_personality_v0 {
entry:
  invoke void @may_throw()
          to label %ok unwind label %lp

ok:
  ret i32 0

lp:
  %x = landingpad { ptr, i32 }
          catch ptr null
  ret i32 1
}

define i32 @asm_goto() {
entry:
  callbr void asm "", "!i"()
          to label %fall [label %jump]

fall:
  call void @may_throw()
  ret i32 0

jump:
  ret i32 1
}

;--- musttail.ll
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @fill(ptr)
declare i64 @ext(i64)

define i64 @forward_secret(i64 %x) {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  call void @fill(ptr %key)
  %r = musttail call i64 @ext(i64 %x)
  ret i64 %r
}

;--- invoke.ll
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @fill(ptr)
declare i32 @__gxx_personality_v0(...)

define i32 @catcher_secret() personality ptr @__gxx_personality_v0 {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  invoke void @fill(ptr %key)
          to label %ok unwind label %lp

ok:
  ret i32 0

lp:
  %x = landingpad { ptr, i32 }
          catch ptr null
  ret i32 1
}

;--- callbr.ll
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @fill(ptr)

define i32 @asm_goto_secret() {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  call void @fill(ptr %key)
  callbr void asm "", "!i"()
          to label %fall [label %jump]

fall:
  ret i32 0

jump:
  ret i32 1
}
