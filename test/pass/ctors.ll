; ckpt-ctors: the module's own constructors are called through
; __ckpt_run_program_ctor by an internal wrapper that takes their place in
; llvm.global_ctors (priority and data kept), so the runtime can run them
; with the program's heap and skip them in a restart; a constructor the
; module only declares is left as it was.

; RUN: %opt-ckpt -passes=ckpt-ctors -verify-each -S %s | FileCheck %s

@llvm.global_ctors = appending global [3 x { i32, ptr, ptr }] [
  { i32, ptr, ptr } { i32 200, ptr @make_table, ptr null },
  { i32, ptr, ptr } { i32 65535, ptr @other_module_ctor, ptr null },
  { i32, ptr, ptr } { i32 300, ptr @make_message, ptr @data }]
@data = global i32 0

; CHECK: @llvm.global_ctors = appending global [3 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 200, ptr @__ckpt_ctor.make_table, ptr null }, { i32, ptr, ptr } { i32 65535, ptr @other_module_ctor, ptr null }, { i32, ptr, ptr } { i32 300, ptr @__ckpt_ctor.make_message, ptr @data }]

define internal void @make_table() {
  ret void
}
define void @make_message() {
  ret void
}
declare void @other_module_ctor()

; CHECK: define internal void @__ckpt_ctor.make_table() {
; CHECK-NEXT: call void @__ckpt_run_program_ctor(ptr @make_table)
; CHECK-NEXT: ret void
; CHECK: define internal void @__ckpt_ctor.make_message() {
; CHECK-NEXT: call void @__ckpt_run_program_ctor(ptr @make_message)
; CHECK-NEXT: ret void
