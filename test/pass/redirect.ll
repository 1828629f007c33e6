; ckpt-redirect: the program's uses of mmap, mmap64, munmap, mremap, sbrk and
; brk go to the runtime's __ckpt_program_* functions (same signatures), which track the
; memory the program maps so that checkpoints save it: calls, a variadic
; call, and a taken address alike; the library declarations are gone. A
; module that defines mmap itself keeps its own (defines.ll), and a module
; that uses none of them is left as it was.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-redirect -verify-each -S %t/uses.ll | FileCheck %s \
; RUN:   --implicit-check-not='@mmap(' --implicit-check-not='@munmap(' \
; RUN:   --implicit-check-not='@mremap(' --implicit-check-not='@mmap64(' \
; RUN:   --implicit-check-not='@sbrk(' --implicit-check-not='@brk('
; RUN: %opt-ckpt -passes=ckpt-redirect -verify-each -S %t/defines.ll | FileCheck %s --check-prefix=DEF
; RUN: %opt-ckpt -passes=ckpt -verify-each -S %t/uses.ll | FileCheck %s --check-prefix=PIPE

; CHECK: @mapper = global ptr @__ckpt_program_mmap
; CHECK-LABEL: define ptr @get(
; CHECK: call ptr @__ckpt_program_mmap(ptr null, i64 4096, i32 3, i32 34, i32 -1, i64 0)
; CHECK: call ptr @__ckpt_program_mmap(ptr null, i64 8192, i32 3, i32 34, i32 -1, i64 0)
; CHECK: call ptr (ptr, i64, i64, i32, ...) @__ckpt_program_mremap(ptr %p, i64 4096, i64 8192, i32 1)
; CHECK: call i32 @__ckpt_program_munmap(ptr %q, i64 8192)
; CHECK: call ptr @__ckpt_program_sbrk(i64 4096)
; CHECK: call i32 @__ckpt_program_brk(ptr %b)
; CHECK-DAG: declare ptr @__ckpt_program_mmap(ptr, i64, i32, i32, i32, i64)
; CHECK-DAG: declare i32 @__ckpt_program_munmap(ptr, i64)
; CHECK-DAG: declare ptr @__ckpt_program_mremap(ptr, i64, i64, i32, ...)

; DEF: define ptr @mmap(
; DEF: call ptr @mmap(ptr null
; DEF-NOT: __ckpt_program

; PIPE: call ptr @__ckpt_program_mmap(ptr null, i64 4096

;--- uses.ll
@mapper = global ptr @mmap

declare ptr @mmap(ptr, i64, i32, i32, i32, i64)
declare ptr @mmap64(ptr, i64, i32, i32, i32, i64)
declare i32 @munmap(ptr, i64)
declare ptr @mremap(ptr, i64, i64, i32, ...)
declare ptr @sbrk(i64)
declare i32 @brk(ptr)

define ptr @get() {
  %p = call ptr @mmap(ptr null, i64 4096, i32 3, i32 34, i32 -1, i64 0)
  %r = call ptr @mmap64(ptr null, i64 8192, i32 3, i32 34, i32 -1, i64 0)
  %q = call ptr (ptr, i64, i64, i32, ...) @mremap(ptr %p, i64 4096, i64 8192, i32 1)
  %u = call i32 @munmap(ptr %q, i64 8192)
  %b = call ptr @sbrk(i64 4096)
  %c = call i32 @brk(ptr %b)
  ret ptr %r
}

;--- defines.ll
define ptr @mmap(ptr %a, i64 %n, i32 %p, i32 %f, i32 %fd, i64 %o) {
  ret ptr null
}

define ptr @get() {
  %p = call ptr @mmap(ptr null, i64 4096, i32 3, i32 34, i32 -1, i64 0)
  ret ptr %p
}
