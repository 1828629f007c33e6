; ckpt-frames, call sites: a call that may reach a poll (an external function
; that is not known to be callback-free, an indirect call, or a defined
; function that reaches a poll) is a site. Right before it, the SSA values
; live across it and its non-constant instruction operands are stored into
; the frame record, then its site id; the callee may be the one that stops.
; An indirect call also spills its callee pointer (the runtime checks the
; frame chain with it). Arguments of the function are not spilled: a restart
; re-issues every call with the same operands.
; Calls to callback-free libc functions (strlen, malloc, printf) and to defined
; functions that cannot reach a poll are not sites: nothing is stored for
; them, and a function with no other call gets no frame at all.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@fmt = private unnamed_addr constant [5 x i8] c"%ld\0A\00", align 1

declare i64 @ext(i64)
declare i64 @strlen(ptr)
declare ptr @malloc(i64)
declare i32 @printf(ptr, ...)

; Direct call to @ext is site 1; the callee slot of an indirect site records
; where the callee pointer was spilled.
; CHECK: @__ckpt_sites.direct = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 2, i32 0, ptr @ext, i64 0 }]
; CHECK: @__ckpt_sites.indirect_arg = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 32 }]
; CHECK: @__ckpt_sites.indirect_loaded = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }]

define internal i64 @square(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

define i64 @direct(i64 %x, ptr %s) {
; CHECK-LABEL: define i64 @direct(i64 %x, ptr %s) {
; CHECK:       entry:
; CHECK-NEXT:    %a = mul i64 %x, 3
; CHECK-NEXT:    %b = add i64 %x, 1
; %a is live across the call, %b is its operand; %x (an argument) is neither.
; CHECK-NEXT:    [[SLOT_A:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i64 %a, ptr [[SLOT_A]], align 8
; CHECK-NEXT:    [[SLOT_B:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store i64 %b, ptr [[SLOT_B]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 @ext(i64 %b)
; CHECK-NEXT:    br label %ckpt.cont
; Once the call returned its site is cleared (a callback entered later under
; a call that is no site must never match it). No stores before the calls
; that are not sites; only the pop before ret.
; CHECK:       ckpt.cont:
; CHECK:         [[CLR:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[CLR]], align 4
; CHECK-NOT:     store
; CHECK:         %len = call i64 @strlen(ptr %s)
; CHECK-NOT:     store
; CHECK:         %buf = call ptr @malloc(i64 %len)
; CHECK-NOT:     store
; CHECK:         %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %{{.*}})
; CHECK-NOT:     store
; CHECK:         %sq = call i64 @square(i64 %{{.*}})
; CHECK-NOT:     store
; CHECK:         store ptr %ckpt.parent, ptr
; CHECK-NEXT:    ret i64 %v
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

; Indirect call through an argument: the callee is spilled even though it is
; an argument; %y is both live and an operand and is stored once.
define i64 @indirect_arg(ptr %fp, i64 %x) {
; CHECK-LABEL: define i64 @indirect_arg(ptr %fp, i64 %x) {
; CHECK:       entry:
; CHECK-NEXT:    %y = mul i64 %x, 5
; CHECK-NEXT:    [[SLOT_Y:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i64 %y, ptr [[SLOT_Y]], align 8
; CHECK-NEXT:    [[SLOT_FP:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store ptr %fp, ptr [[SLOT_FP]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 %fp(i64 %y)
entry:
  %y = mul i64 %x, 5
  %r = call i64 %fp(i64 %y)
  %s = add i64 %r, %y
  ret i64 %s
}

; Indirect call through a loaded pointer: the pointer is spilled, and the
; restore path calls through the reloaded copy.
define i64 @indirect_loaded(ptr %tbl, i64 %i) {
; CHECK-LABEL: define i64 @indirect_loaded(ptr %tbl, i64 %i) {
; CHECK:       entry:
; CHECK-NEXT:    %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
; CHECK-NEXT:    %fp = load ptr, ptr %slot, align 8
; CHECK-NEXT:    [[SLOT_FP:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %fp, ptr [[SLOT_FP]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    %r = call i64 %fp(i64 %i)
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    [[RELOAD:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %fp.ckpt = load ptr, ptr [[RELOAD]], align 8
; CHECK-NEXT:    {{%.*}} = call i64 %fp.ckpt(i64 %i)
entry:
  %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
  %fp = load ptr, ptr %slot, align 8
  %r = call i64 %fp(i64 %i)
  ret i64 %r
}
