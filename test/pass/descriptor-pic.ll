; In position-independent code for a shared library (PIC level set, no PIE
; level), the descriptor of an exported function records a private alias of
; it: the symbol itself could be bound to a non-PIE executable's PLT entry
; (its canonical address) and the runtime would not find the function's
; frames. Internal functions and functions in a COMDAT keep their own
; address. (Without a PIC level, descriptor.ll: the function itself.)
; RUN: %opt-ckpt -passes=ckpt-frames -S %s | FileCheck %s
; CHECK-DAG: @__ckpt_desc.exported = private constant {{.*}} { i32 4, i32 0, ptr @__ckpt_fn.exported,
; CHECK-DAG: @__ckpt_desc.internal = private constant {{.*}} { i32 4, i32 0, ptr @internal,
; CHECK-DAG: @__ckpt_desc.in_comdat = private constant {{.*}} { i32 4, i32 0, ptr @in_comdat,
; CHECK-DAG: @__ckpt_fn.exported = private alias i32 (i32), ptr @exported

$in_comdat = comdat any

define i32 @exported(i32 %x) {
  %r = call i32 @internal(i32 %x)
  ret i32 %r
}

define internal i32 @internal(i32 %x) {
  %y = add i32 %x, 1
  ret i32 %y
}

define linkonce_odr i32 @in_comdat(i32 %x) comdat {
  ret i32 %x
}

!llvm.module.flags = !{!0}
!0 = !{i32 8, !"PIC Level", i32 2}
