; ckpt-main: the runtime defines main() itself (it moves the program onto a
; stack at a fixed address and restores a checkpoint before any user code
; runs), so the user's main is renamed __ckpt_main. The runtime calls it
; through an external declaration: the renamed function must be external with
; default visibility, whatever main's linkage and visibility were. Calls to
; main inside the module follow the rename.
; A module that does not define main (here: only declares it) is not changed.
; A module that defines main and only *declares* __ckpt_main (it calls or
; takes the address of the renamed main) gets the declaration folded into the
; renamed main: one @__ckpt_main, the definition, which every use now names.
; A module that *defines* both main and __ckpt_main is an error.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-main -verify-each -S %t/main.ll | FileCheck %s
; RUN: %opt-ckpt -passes=ckpt-main -verify-each -S %t/nomain.ll -o %t/nomain.out.ll
; RUN: %opt-ckpt -passes=verify -S %t/nomain.ll -o %t/nomain.ref.ll
; RUN: diff %t/nomain.ref.ll %t/nomain.out.ll
; RUN: %opt-ckpt -passes=ckpt-main -verify-each -S %t/decl.ll 2>&1 | FileCheck %s --check-prefix=DECL \
; RUN:   --implicit-check-not=error: --implicit-check-not='declare {{.*}}@__ckpt_main' --implicit-check-not='@main('
; RUN: not %opt-ckpt -passes=ckpt-main -disable-output %t/both.ll 2>&1 | FileCheck %s --check-prefix=ERR

; The rename alone: no instrumentation, no runtime symbols.
; CHECK-NOT:   @main(
; CHECK-NOT:   __ckpt_pending
; (hidden implied dso_local, which stays; no linkage or visibility keyword.)
; CHECK-LABEL: define dso_local i32 @__ckpt_main(i32 %argc, ptr %argv) {
; CHECK:         %r = call i32 @__ckpt_main(i32 1, ptr %argv)
; CHECK-LABEL: define i32 @helper() {
; CHECK-NOT:   @main(

; The declaration is gone (no __ckpt_main.1 either); calls and address uses
; name the renamed main.
; DECL-NOT:     __ckpt_main.
; DECL:         @main_ptr = global ptr @__ckpt_main
; DECL-NOT:     __ckpt_main.
; DECL-LABEL:   define i32 @__ckpt_main(i32 %argc, ptr %argv) {
; DECL:           %r = call i32 @__ckpt_main(i32 1, ptr %argv)
; DECL-LABEL:   define ptr @main_addr() {
; DECL-NEXT:      ret ptr @__ckpt_main
; DECL-NOT:     __ckpt_main.

; ERR: error: {{.*}}ckpt: this module defines both main and __ckpt_main

;--- main.ll
define hidden i32 @main(i32 %argc, ptr %argv) {
entry:
  %again = icmp sgt i32 %argc, 1
  br i1 %again, label %recurse, label %done

recurse:
  %r = call i32 @main(i32 1, ptr %argv)
  ret i32 %r

done:
  ret i32 0
}

define i32 @helper() {
  ret i32 1
}

;--- nomain.ll
declare i32 @main(i32, ptr)

define i32 @not_main(i32 %x) {
  %r = call i32 @main(i32 %x, ptr null)
  ret i32 %r
}

;--- decl.ll
@main_ptr = global ptr @__ckpt_main

declare i32 @__ckpt_main(i32, ptr)

define i32 @main(i32 %argc, ptr %argv) {
entry:
  %again = icmp sgt i32 %argc, 1
  br i1 %again, label %recurse, label %done

recurse:
  %r = call i32 @__ckpt_main(i32 1, ptr %argv)
  ret i32 %r

done:
  ret i32 0
}

define ptr @main_addr() {
  ret ptr @__ckpt_main
}

;--- both.ll
define i32 @main() {
  ret i32 0
}

define i32 @__ckpt_main() {
  ret i32 1
}
