; ckpt-frames, calls to a function whose declaration promises memory(none)
; (e.g. __attribute__((const))): such a function cannot stop for a
; checkpoint, so the call is not a site. (Were it one, its site-id store
; could be deleted by DSE after the pass, since the call promises not to read
; memory.) A function whose only calls are these gets no frame.

; RUN: %opt-ckpt -passes='ckpt-frames,function(dse)' -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @hash(i64) #0
declare i64 @other(i64)

; CHECK-LABEL: define i64 @two(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %m = add i64 %n, 1
; CHECK-NEXT:    %x = call i64 @hash(i64 %m)
; CHECK-NOT:     ckpt
; CHECK:         ret i64
define i64 @two(i64 %n) {
entry:
  %m = add i64 %n, 1
  %x = call i64 @hash(i64 %m)
  %k = add i64 %n, 2
  %y = call i64 @hash(i64 %k)
  %r = add i64 %x, %y
  ret i64 %r
}

; Next to a real site, the const call adds no site of its own.
; CHECK-LABEL: define i64 @mixed(i64 %n) {
; CHECK:         store i32 1, ptr
; CHECK-NEXT:    %x = call i64 @other(i64 %n)
; CHECK-NOT:     store i32 2
; CHECK:         call i64 @hash(
; CHECK:         ret i64
define i64 @mixed(i64 %n) {
entry:
  %x = call i64 @other(i64 %n)
  %y = call i64 @hash(i64 %x)
  ret i64 %y
}

attributes #0 = { nounwind willreturn memory(none) }
