; ckpt-globals: every writable global the module defines gets a
; ckpt_global_desc {addr, size, name, flags, reserved} in section
; "ckpt_globals" (the runtime walks __start_/__stop_ckpt_globals), with its
; name in a private string. What is not program state gets none: constants
; (the restarted binary is the same), thread_local variables (saved with their
; thread), llvm.* globals, declarations, zero-sized globals, and globals in
; ckpt_* sections (e.g. ckpt_rtstate, saved whole by the runtime).
; Nothing references the descriptors, so they are appended to @llvm.used,
; after what was already there.

; RUN: %opt-ckpt -passes=ckpt-globals -verify-each -S %s | FileCheck %s
; RUN: %opt-ckpt -passes=ckpt-globals -verify-each -S %s | FileCheck %s --check-prefix=NOREG

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@counter = global i32 0, align 4
@table = internal global [100 x i64] zeroinitializer, align 16
@work.calls = internal global i64 0, align 8
@greeting = private unnamed_addr constant [6 x i8] c"hello\00", align 1
@limits = constant [2 x i32] [i32 1, i32 2], align 4
@per_thread = thread_local global i32 0, align 4
@extern_var = external global i32
@empty = global [0 x i32] zeroinitializer
@rng_state = global i64 0, section "ckpt_rtstate"
@kept = internal global i32 0
@llvm.used = appending global [1 x ptr] [ptr @kept], section "llvm.metadata"

; CHECK:      [[N1:@__ckpt_gname[.0-9]*]] = private unnamed_addr constant [8 x i8] c"counter\00"
; CHECK-NEXT: [[D1:@__ckpt_gdesc[.0-9]*]] = private constant { ptr, i64, ptr, i32, i32 } { ptr @counter, i64 4, ptr [[N1]], i32 0, i32 0 }, section "ckpt_globals", align 8
; CHECK-NEXT: [[N2:@__ckpt_gname[.0-9]*]] = private unnamed_addr constant [6 x i8] c"table\00"
; CHECK-NEXT: [[D2:@__ckpt_gdesc[.0-9]*]] = private constant { ptr, i64, ptr, i32, i32 } { ptr @table, i64 800, ptr [[N2]], i32 0, i32 0 }, section "ckpt_globals", align 8
; CHECK-NEXT: [[N3:@__ckpt_gname[.0-9]*]] = private unnamed_addr constant [11 x i8] c"work.calls\00"
; CHECK-NEXT: [[D3:@__ckpt_gdesc[.0-9]*]] = private constant { ptr, i64, ptr, i32, i32 } { ptr @work.calls, i64 8, ptr [[N3]], i32 0, i32 0 }, section "ckpt_globals", align 8
; CHECK-NEXT: [[N4:@__ckpt_gname[.0-9]*]] = private unnamed_addr constant [5 x i8] c"kept\00"
; CHECK-NEXT: [[D4:@__ckpt_gdesc[.0-9]*]] = private constant { ptr, i64, ptr, i32, i32 } { ptr @kept, i64 4, ptr [[N4]], i32 0, i32 0 }, section "ckpt_globals", align 8
; CHECK-NEXT: @llvm.used = appending global [5 x ptr] [ptr @kept, ptr [[D1]], ptr [[D2]], ptr [[D3]], ptr [[D4]]], section "llvm.metadata"

; No descriptor anywhere for the globals that are not state.
; NOREG-NOT:     { ptr @greeting,
; NOREG-NOT:     { ptr @limits,
; NOREG-NOT:     { ptr @per_thread,
; NOREG-NOT:     { ptr @extern_var,
; NOREG-NOT:     { ptr @empty,
; NOREG-NOT:     { ptr @rng_state,
; NOREG-NOT:     { ptr @llvm.used,

define i32 @get() {
  %v = load i32, ptr @extern_var, align 4
  %w = load i32, ptr @per_thread, align 4
  %s = add i32 %v, %w
  ret i32 %s
}
