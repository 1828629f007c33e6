; The runtime symbols the ckpt pipeline uses are declared weak, so a shared
; library built with ckpt-cc -shared links with --no-undefined (meson's
; default); the user's own declarations stay strong, and an unused runtime
; declaration is not made weak (an untyped weak thread-local symbol would be
; rejected by the linker). Polls (-ckpt-polls) use @__ckpt_pending and
; @__ckpt_poll; mmap is redirected to the runtime's.
; RUN: %opt-ckpt -passes=ckpt -ckpt-polls -S %s | FileCheck %s
; CHECK-DAG: @__ckpt_pending = extern_weak global i32
; CHECK-DAG: declare extern_weak void @__ckpt_poll()
; CHECK-DAG: declare i32 @user_function(i32)
; CHECK-DAG: declare void @__ckpt_not_used()
declare ptr @mmap(ptr, i64, i32, i32, i32, i64)

define ptr @map_page() {
  %p = call ptr @mmap(ptr null, i64 4096, i32 3, i32 34, i32 -1, i64 0)
  ret ptr %p
}
; CHECK-DAG: declare extern_weak ptr @__ckpt_program_mmap(ptr, i64, i32, i32, i32, i64)

declare i32 @user_function(i32)
declare void @__ckpt_not_used()

define i32 @loop(i32 %n) {
entry:
  br label %body
body:
  %i = phi i32 [ 0, %entry ], [ %next, %body ]
  %acc = phi i32 [ 0, %entry ], [ %sum, %body ]
  %v = call i32 @user_function(i32 %i)
  %sum = add i32 %acc, %v
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %n
  br i1 %done, label %exit, label %body
exit:
  ret i32 %sum
}
