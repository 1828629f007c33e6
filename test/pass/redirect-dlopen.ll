; ckpt-redirect: in the executable's code (a module that is not PIC),
; dlopen, dlclose, dlsym, dlvsym and dlinfo go to the runtime's
; __ckpt_program_* functions, which record the libraries the program opens
; so a restart opens them again (runtime/dlopen.c). In a shared library's
; code (PIC, not PIE) they stay the library's own: the loader resolves a dlopen's
; relative names and dlsym's RTLD_NEXT by the calling object.

; RUN: rm -rf %t && split-file %s %t
; RUN: cat %t/uses.ll > %t/exe.ll
; RUN: cat %t/uses.ll %t/pic.ll > %t/lib.ll
; RUN: cat %t/uses.ll %t/pie.ll > %t/pie-exe.ll
; RUN: %opt-ckpt -passes=ckpt-redirect -verify-each -S %t/exe.ll | FileCheck %s \
; RUN:   --implicit-check-not='@dlopen(' --implicit-check-not='@dlclose(' \
; RUN:   --implicit-check-not='@dlsym(' --implicit-check-not='@dlvsym(' \
; RUN:   --implicit-check-not='@dlinfo('
; RUN: %opt-ckpt -passes=ckpt-redirect -verify-each -S %t/pie-exe.ll | FileCheck %s
; RUN: %opt-ckpt -passes=ckpt-redirect -verify-each -S %t/lib.ll | FileCheck %s --check-prefix=LIB

; CHECK: @opener = global ptr @__ckpt_program_dlopen
; CHECK-LABEL: define ptr @use(
; CHECK: call ptr @__ckpt_program_dlopen(ptr %name, i32 2)
; CHECK: call ptr @__ckpt_program_dlsym(ptr %h, ptr %name)
; CHECK: call ptr @__ckpt_program_dlvsym(ptr %h, ptr %name, ptr %name)
; CHECK: call i32 @__ckpt_program_dlinfo(ptr %h, i32 2, ptr %out)
; CHECK: call i32 @__ckpt_program_dlclose(ptr %h)

; LIB: @opener = global ptr @dlopen
; LIB: call ptr @dlopen(ptr %name, i32 2)
; LIB: call ptr @dlsym(ptr %h, ptr %name)
; LIB: call i32 @dlclose(ptr %h)
; LIB-NOT: __ckpt_program_dl

;--- uses.ll
@opener = global ptr @dlopen

declare ptr @dlopen(ptr, i32)
declare i32 @dlclose(ptr)
declare ptr @dlsym(ptr, ptr)
declare ptr @dlvsym(ptr, ptr, ptr)
declare i32 @dlinfo(ptr, i32, ptr)

define ptr @use(ptr %name, ptr %out) {
  %h = call ptr @dlopen(ptr %name, i32 2)
  %f = call ptr @dlsym(ptr %h, ptr %name)
  %g = call ptr @dlvsym(ptr %h, ptr %name, ptr %name)
  %i = call i32 @dlinfo(ptr %h, i32 2, ptr %out)
  %c = call i32 @dlclose(ptr %h)
  ret ptr %f
}

;--- pic.ll
!llvm.module.flags = !{!0}
!0 = !{i32 8, !"PIC Level", i32 2}

;--- pie.ll
!llvm.module.flags = !{!0, !1}
!0 = !{i32 8, !"PIC Level", i32 2}
!1 = !{i32 7, !"PIE Level", i32 2}
