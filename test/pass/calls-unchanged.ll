; ckpt-frames, calls: by default (no -ckpt-polls: the runtime stops threads
; by signal anywhere) every function gets a descriptor, whatever it calls.
; The calls themselves are left exactly as they were (docs/design.md, "Frames redesign": threads are saved as native
; stacks and walked with the executable's CFI): no site id stored before or
; cleared after them, no value live across them or operand spilled, no
; callee pointer of an indirect call stored, no block split after them.
; With -ckpt-polls (POLLS) only a call that may stop (an external function
; that is not known to be callback-free, an indirect call, or a defined
; function that may reach a poll) makes its caller one that can be on a
; stopped thread's stack, so the caller gets a descriptor; calls to
; callback-free libc functions (strlen, malloc, printf) and to defined
; functions that cannot reach a poll do not: a function with only such calls
; gets nothing at all. The bodies are the same either way.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=ckpt.resume --implicit-check-not='{{\.ckpt[0-9]* = }}' \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=__ckpt_sites \
; RUN:   --implicit-check-not=ckpt.cont --implicit-check-not=store
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,POLLS \
; RUN:   --implicit-check-not=ckpt.resume --implicit-check-not='{{\.ckpt[0-9]* = }}' \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=__ckpt_sites \
; RUN:   --implicit-check-not=ckpt.cont --implicit-check-not=store \
; RUN:   --implicit-check-not=__ckpt_desc.libc_only --implicit-check-not=__ckpt_desc.square

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
@fmt = private unnamed_addr constant [5 x i8] c"%ld\0A\00", align 1

declare i64 @ext(i64)
declare i64 @strlen(ptr)
declare ptr @malloc(i64)
declare i32 @printf(ptr, ...)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; DEFAULT: @__ckpt_desc.square = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @square, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.direct = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @direct, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; DEFAULT: @__ckpt_desc.libc_only = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @libc_only, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.indirect_arg = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @indirect_arg, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.indirect_loaded = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @indirect_loaded, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.indirect_two = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @indirect_two, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; The record of @indirect_secret is the header and %key: 24 bytes, no slot
; for the callee.
; CHECK: @__ckpt_desc.indirect_secret = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @indirect_secret, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.indirect_secret }, section "ckpt_funcs", align 8
; DEFAULT: @llvm.used = appending global [7 x ptr] [ptr @__ckpt_desc.square, ptr @__ckpt_desc.direct, ptr @__ckpt_desc.libc_only, ptr @__ckpt_desc.indirect_arg, ptr @__ckpt_desc.indirect_loaded, ptr @__ckpt_desc.indirect_two, ptr @__ckpt_desc.indirect_secret], section "llvm.metadata"
; POLLS: @llvm.used = appending global [5 x ptr] [ptr @__ckpt_desc.direct, ptr @__ckpt_desc.indirect_arg, ptr @__ckpt_desc.indirect_loaded, ptr @__ckpt_desc.indirect_two, ptr @__ckpt_desc.indirect_secret], section "llvm.metadata"
; CHECK: @__ckpt_excluded.indirect_secret = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 8 }]

define internal i64 @square(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A direct call to @ext (may stop), calls to callback-free libc functions
; and to a function without loops or calls (@square): the function gets a
; descriptor and its body is exactly what it was. %a, live across the call,
; and the operand %b are not stored anywhere.
; CHECK-LABEL: define i64 @direct(i64 %x, ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %a = mul i64 %x, 3
; CHECK-NEXT:    %b = add i64 %x, 1
; CHECK-NEXT:    %r = call i64 @ext(i64 %b)
; CHECK-NEXT:    %len = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %buf = call ptr @malloc(i64 %len)
; CHECK-NEXT:    %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %a)
; CHECK-NEXT:    %sq = call i64 @square(i64 %a)
; CHECK-NEXT:    %t = add i64 %r, %a
; CHECK-NEXT:    %u = add i64 %t, %len
; CHECK-NEXT:    %v = add i64 %u, %sq
; CHECK-NEXT:    ret i64 %v
; CHECK-NEXT:  }
define i64 @direct(i64 %x, ptr %s) {
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

; Only calls that cannot stop: a descriptor by default (DEFAULT, above),
; none with -ckpt-polls; the body is untouched either way.
; CHECK-LABEL: define i64 @libc_only(ptr %s) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %len = call i64 @strlen(ptr %s)
; CHECK-NEXT:    %buf = call ptr @malloc(i64 %len)
; CHECK-NEXT:    %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %len)
; CHECK-NEXT:    %sq = call i64 @square(i64 %len)
; CHECK-NEXT:    ret i64 %sq
; CHECK-NEXT:  }
define i64 @libc_only(ptr %s) {
entry:
  %len = call i64 @strlen(ptr %s)
  %buf = call ptr @malloc(i64 %len)
  %p = call i32 (ptr, ...) @printf(ptr @fmt, i64 %len)
  %sq = call i64 @square(i64 %len)
  ret i64 %sq
}

; Indirect call through an argument: the callee pointer is not stored.
; CHECK-LABEL: define i64 @indirect_arg(ptr %fp, i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %y = mul i64 %x, 5
; CHECK-NEXT:    %r = call i64 %fp(i64 %y)
; CHECK-NEXT:    %s = add i64 %r, %y
; CHECK-NEXT:    ret i64 %s
; CHECK-NEXT:  }
define i64 @indirect_arg(ptr %fp, i64 %x) {
entry:
  %y = mul i64 %x, 5
  %r = call i64 %fp(i64 %y)
  %s = add i64 %r, %y
  ret i64 %s
}

; Indirect call through a loaded pointer: not stored either.
; CHECK-LABEL: define i64 @indirect_loaded(ptr %tbl, i64 %i) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
; CHECK-NEXT:    %fp = load ptr, ptr %slot, align 8
; CHECK-NEXT:    %r = call i64 %fp(i64 %i)
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
define i64 @indirect_loaded(ptr %tbl, i64 %i) {
entry:
  %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
  %fp = load ptr, ptr %slot, align 8
  %r = call i64 %fp(i64 %i)
  ret i64 %r
}

; Three indirect calls through two callees: nothing stored, no block split.
; CHECK-LABEL: define i64 @indirect_two(ptr %f, ptr %g, i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %a = call i64 %f(i64 %x)
; CHECK-NEXT:    %b = call i64 %g(i64 %a)
; CHECK-NEXT:    %c = call i64 %f(i64 %b)
; CHECK-NEXT:    ret i64 %c
; CHECK-NEXT:  }
define i64 @indirect_two(ptr %f, ptr %g, i64 %x) {
entry:
  %a = call i64 %f(i64 %x)
  %b = call i64 %g(i64 %a)
  %c = call i64 %f(i64 %b)
  ret i64 %c
}

; With an excluded local (so a record, pushed and popped), the indirect
; call still stores nothing: only the push and the pop are added.
; CHECK-LABEL: define i64 @indirect_secret(ptr %fp, i64 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.indirect_secret, ptr [[TMP2]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[TMP0]], align 8
; CHECK-NEXT:    store i64 %x, ptr %key, align 8
; CHECK-NEXT:    %r = call i64 %fp(ptr %key)
; CHECK-NEXT:    [[TMP3:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP3]], align 8
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
define i64 @indirect_secret(ptr %fp, i64 %x) {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 50, ptr null)
  store i64 %x, ptr %key, align 8
  %r = call i64 %fp(ptr %key)
  ret i64 %r
}
