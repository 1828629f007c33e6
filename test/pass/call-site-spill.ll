; ckpt-frames, call sites: a call that may reach a poll (an external function
; that is not known to be callback-free, an indirect call, or a defined
; function that reaches a poll) is a site. Right before it, its site id is
; stored into the frame record's header (offset 16); once it returns, the
; site is cleared (0). Nothing else is spilled any more (docs/design.md,
; "Frames redesign": stacks are saved whole, a restart resumes the thread
; where it stopped instead of re-issuing calls): no value live across the
; call, no operand, no argument of the function.
; The one exception: an indirect call stores its callee pointer into the
; record before the id (the runtime checks the frame chain with it), whether
; the pointer is an argument or a loaded value. Each distinct callee value
; gets one slot, shared by every call through it; the site's descriptor
; entry (kind 3) gives the slot's offset.
; Calls to callback-free libc functions (strlen, malloc, printf) and to defined
; functions that cannot reach a poll are not sites: nothing is stored for
; them, and a function with no other call gets no frame at all.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=ckpt.resume --implicit-check-not='{{\.ckpt[0-9]* = }}'

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@fmt = private unnamed_addr constant [5 x i8] c"%ld\0A\00", align 1

declare i64 @ext(i64)
declare i64 @strlen(ptr)
declare ptr @malloc(i64)
declare i32 @printf(ptr, ...)

; Direct call to @ext is site 1 and the record is the bare header (24 bytes).
; The callee slot of an indirect site records where its callee is stored:
; right after the header, at 24; a second callee gets the next slot (32).
; CHECK: @__ckpt_desc.direct = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 1, ptr @direct, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.direct,
; CHECK: @__ckpt_sites.direct = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 2, i32 0, ptr @ext, i64 0 }]
; CHECK: @__ckpt_desc.indirect_arg = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 1, ptr @indirect_arg, ptr @{{.*}}, ptr @{{.*}}, i64 32, ptr @__ckpt_sites.indirect_arg,
; CHECK: @__ckpt_sites.indirect_arg = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }]
; CHECK: @__ckpt_desc.indirect_loaded = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 1, ptr @indirect_loaded, ptr @{{.*}}, ptr @{{.*}}, i64 32, ptr @__ckpt_sites.indirect_loaded,
; CHECK: @__ckpt_sites.indirect_loaded = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }]
; CHECK: @__ckpt_desc.indirect_two = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 3, ptr @indirect_two, ptr @{{.*}}, ptr @{{.*}}, i64 40, ptr @__ckpt_sites.indirect_two,
; CHECK: @__ckpt_sites.indirect_two = private constant [3 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }, { i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 32 }, { i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }]

define internal i64 @square(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

define i64 @direct(i64 %x, ptr %s) {
; CHECK-LABEL: define i64 @direct(i64 %x, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    %a = mul i64 %x, 3
; CHECK-NEXT:    %b = add i64 %x, 1
; %a is live across the call and %b is its operand: neither is stored, only
; the site id.
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 @ext(i64 %b)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; Once the call returned its site is cleared (a callback entered later under
; a call that is no site must never match it). No stores before the calls
; that are not sites; only the pop before ret.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[CLR:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[CLR]], align 4
; CHECK-NEXT:    %len = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %buf = call ptr @malloc(i64 %len)
; CHECK-NEXT:    %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %a)
; CHECK-NEXT:    %sq = call i64 @square(i64 %a)
; CHECK-NEXT:    %t = add i64 %r, %a
; CHECK-NEXT:    %u = add i64 %t, %len
; CHECK-NEXT:    %v = add i64 %u, %sq
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
entry:
  %a = mul i64 %x, 3
  %b = add i64 %x, 1
  %r = call i64 @ext(i64 %b)
  %len = call i64 @strlen(ptr %s)
  %buf = call ptr @malloc(i64 %len)
  %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %a)
  %sq = call i64 @square(i64 %a)
  %t = add i64 %r, %a
  %u = add i64 %t, %len
  %v = add i64 %u, %sq
  ret i64 %v
}

; Only calls that are not sites: no frame, no store, nothing.
define i64 @libc_only(ptr %s) {
; CHECK-LABEL: define i64 @libc_only(ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %len = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %buf = call ptr @malloc(i64 %len)
; CHECK-NEXT:    %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %len)
; CHECK-NEXT:    %sq = call i64 @square(i64 %len)
; CHECK-NEXT:    ret i64 %sq
; CHECK-NEXT:  }
entry:
  %len = call i64 @strlen(ptr %s)
  %buf = call ptr @malloc(i64 %len)
  %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %len)
  %sq = call i64 @square(i64 %len)
  ret i64 %sq
}

; Indirect call through an argument: the callee is stored even though it is
; an argument; %y, live across the call and its operand, is not.
define i64 @indirect_arg(ptr %fp, i64 %x) {
; CHECK-LABEL: define i64 @indirect_arg(ptr %fp, i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [32 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    %y = mul i64 %x, 5
; CHECK-NEXT:    [[SLOT_FP:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %fp, ptr [[SLOT_FP]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 %fp(i64 %y)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[CLR:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[CLR]], align 4
; CHECK-NEXT:    %s = add i64 %r, %y
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %s
; CHECK-NEXT:  }
entry:
  %y = mul i64 %x, 5
  %r = call i64 %fp(i64 %y)
  %s = add i64 %r, %y
  ret i64 %s
}

; Indirect call through a loaded pointer: the loaded pointer is stored; the
; operand %i (an argument) is not.
define i64 @indirect_loaded(ptr %tbl, i64 %i) {
; CHECK-LABEL: define i64 @indirect_loaded(ptr %tbl, i64 %i) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [32 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
; CHECK-NEXT:    %fp = load ptr, ptr %slot, align 8
; CHECK-NEXT:    [[SLOT_FP:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %fp, ptr [[SLOT_FP]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 %fp(i64 %i)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[CLR:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[CLR]], align 4
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
entry:
  %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
  %fp = load ptr, ptr %slot, align 8
  %r = call i64 %fp(i64 %i)
  ret i64 %r
}

; Three indirect calls through two callees: %f gets the slot at 24 (stored
; again before its second call), %g the one at 32. The results %a and %b,
; operands of the next calls, are not stored.
define i64 @indirect_two(ptr %f, ptr %g, i64 %x) {
; CHECK-LABEL: define i64 @indirect_two(ptr %f, ptr %g, i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [40 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %f, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    %a = call i64 %f(i64 %x)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store ptr %g, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %b = call i64 %g(i64 %a)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %f, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 3, ptr [[G]], align 4
; CHECK-NEXT:    %c = call i64 %f(i64 %b)
; CHECK-NEXT:    br label %ckpt.cont2
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %c
; CHECK-NEXT:  }
entry:
  %a = call i64 %f(i64 %x)
  %b = call i64 %g(i64 %a)
  %c = call i64 %f(i64 %b)
  ret i64 %c
}
