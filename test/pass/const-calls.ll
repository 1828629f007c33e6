; ckpt-frames, calls to a function whose declaration promises memory(none)
; (e.g. __attribute__((const))). By default (no -ckpt-polls: the runtime
; stops threads by signal anywhere) every function gets a descriptor, @two
; as much as @mixed, and all calls stay as they were (DEFAULT).
; With -ckpt-polls (POLLS): such a function touches no memory, so it cannot
; stop for a checkpoint, and a call to it does not make its caller one that
; can be on a stopped thread's stack. A function whose only calls are these
; gets nothing, not even a descriptor; next to a call that may stop, the
; function gets its descriptor and both calls stay as they were.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=store \
; RUN:   --implicit-check-not='call void @__ckpt_poll' --implicit-check-not='load atomic'
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefixes=CHECK,POLLS \
; RUN:   --implicit-check-not=__ckpt_desc.two --implicit-check-not=store \
; RUN:   --implicit-check-not='call void @__ckpt_poll' --implicit-check-not='load atomic'

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; DEFAULT: @__ckpt_desc.two = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @two, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.mixed = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @mixed, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; DEFAULT: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.two, ptr @__ckpt_desc.mixed], section "llvm.metadata"
; POLLS: @llvm.used = appending global [1 x ptr] [ptr @__ckpt_desc.mixed], section "llvm.metadata"

declare i64 @hash(i64) #0
declare i64 @other(i64)

; CHECK-LABEL: define i64 @two(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %m = add i64 %n, 1
; CHECK-NEXT:    %x = call i64 @hash(i64 %m)
; CHECK-NEXT:    %k = add i64 %n, 2
; CHECK-NEXT:    %y = call i64 @hash(i64 %k)
; CHECK-NEXT:    %r = add i64 %x, %y
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
define i64 @two(i64 %n) {
entry:
  %m = add i64 %n, 1
  %x = call i64 @hash(i64 %m)
  %k = add i64 %n, 2
  %y = call i64 @hash(i64 %k)
  %r = add i64 %x, %y
  ret i64 %r
}

; CHECK-LABEL: define i64 @mixed(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %x = call i64 @other(i64 %n)
; CHECK-NEXT:    %y = call i64 @hash(i64 %x)
; CHECK-NEXT:    ret i64 %y
; CHECK-NEXT:  }
define i64 @mixed(i64 %n) {
entry:
  %x = call i64 @other(i64 %n)
  %y = call i64 @hash(i64 %x)
  ret i64 %y
}

attributes #0 = { nounwind willreturn memory(none) }
