; The user's main is renamed __ckpt_main (ckpt-main, main-takeover.ll), but
; the user never sees that name: main's descriptor records the name "main"
; (ckpt-inspect and the runtime show it) and the pass's errors say
; "function 'main'" and, as opt prints them, "in function main". That holds
; in the "ckpt" pipeline, where the rename comes last (DESC, ERR), and when
; ckpt-frames gets a main already renamed (RENAMED, ERR).

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt -verify-each -S %t/main.ll | FileCheck %s --check-prefix=DESC
; RUN: %opt-ckpt -passes=ckpt-main,ckpt-frames -verify-each -S %t/main.ll | FileCheck %s --check-prefix=RENAMED
; RUN: not %opt-ckpt -passes=ckpt -disable-output %t/asm.ll 2>&1 | FileCheck %s --check-prefix=ERR \
; RUN:   --implicit-check-not=__ckpt_main
; RUN: not %opt-ckpt -passes=ckpt-main,ckpt-frames -disable-output %t/asm.ll 2>&1 | FileCheck %s --check-prefix=ERR \
; RUN:   --implicit-check-not=__ckpt_main

; DESC:      @__ckpt_desc.main = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @__ckpt_main, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr {{@[^,]*}}, i32 3, i32 0, i64 0, ptr null }, section "ckpt_funcs"
; DESC:      [[NAME]] = private unnamed_addr constant [5 x i8] c"main\00"
; DESC-LABEL: define i32 @__ckpt_main(
; DESC-NOT:  define {{.*}} @main(

; RENAMED:   @__ckpt_desc.__ckpt_main = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @__ckpt_main, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr {{@[^,]*}}, i32 3, i32 0, i64 0, ptr null }, section "ckpt_funcs"
; RENAMED:   [[NAME]] = private unnamed_addr constant [5 x i8] c"main\00"
; RENAMED-LABEL: define i32 @__ckpt_main(

; ERR: error: prog.c:5:3: in function main void (): ckpt: function 'main' (prog.c:5) has inline assembly that changes the stack pointer

;--- main.ll
define i32 @main(i32 %argc, ptr %argv) !dbg !4 {
entry:
  call void @ext()
  ret i32 0
}
declare void @ext()

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!2, !3}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "prog.c", directory: "/src")
!2 = !{i32 2, !"Debug Info Version", i32 3}
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = distinct !DISubprogram(name: "main", scope: !1, file: !1, line: 3, type: !5, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)
!5 = !DISubroutineType(types: !{})

;--- asm.ll
define void @main() !dbg !4 {
entry:
  call void asm sideeffect "sub $$8, %rsp", "~{memory}"(), !dbg !6
  ret void
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!2, !3}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "prog.c", directory: "/src")
!2 = !{i32 2, !"Debug Info Version", i32 3}
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = distinct !DISubprogram(name: "main", scope: !1, file: !1, line: 3, type: !5, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)
!5 = !DISubroutineType(types: !{})
!6 = !DILocation(line: 5, column: 3, scope: !4)
