; ckpt-frames, unsupported constructs. A function that can reach a checkpoint
; must be restartable from its frame record; constructs that prevent that are
; compile errors naming the function (and the source line when known), never
; a silently wrong restart:
;   - a dynamic alloca (VLA, alloca()): its size is not in the record;
;   - a call to a returns_twice function (setjmp): a longjmp would skip frames;
;   - a musttail call: the frame record could not be popped after it.
; The same constructs in a function that cannot reach a poll are fine: it is
; not instrumented. opt stops at the first error, hence one file per error.

; RUN: rm -rf %t && split-file %s %t
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/vla.ll 2>&1 | FileCheck %s --check-prefix=VLA
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/vla-dbg.ll 2>&1 | FileCheck %s --check-prefix=VLA-DBG
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/setjmp.ll 2>&1 | FileCheck %s --check-prefix=SETJMP
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/musttail.ll 2>&1 | FileCheck %s --check-prefix=MUSTTAIL
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/ok.ll 2>&1 | FileCheck %s --check-prefix=OK \
; RUN:   --implicit-check-not=error: --implicit-check-not=ckpt.frame

; VLA: error: {{.*}}ckpt: function 'vla' uses a variable-length array or alloca() and can reach a checkpoint
; VLA-DBG: error: vla.c:4:8: {{.*}}ckpt: function 'vla_dbg' (vla.c:4) uses a variable-length array or alloca() and can reach a checkpoint
; SETJMP: error: {{.*}}ckpt: function 'uses_setjmp' calls setjmp (or another returns-twice function) and can reach a checkpoint
; MUSTTAIL: error: {{.*}}ckpt: function 'forward' makes a musttail call, which cannot keep a frame record

; OK-LABEL:    define i64 @vla_leaf(i64 %n) {
; OK-NEXT:     entry:
; OK-NEXT:       %buf = alloca i8, i64 %n, align 16
; OK-LABEL:    define i64 @forward_leaf(i64 %x) {
; OK-NEXT:     entry:
; OK-NEXT:       %r = musttail call i64 @leaf(i64 %x)

;--- vla.ll
declare void @ext(ptr)

define void @vla(i64 %n) {
entry:
  %buf = alloca i8, i64 %n, align 16
  call void @ext(ptr %buf)
  ret void
}

;--- vla-dbg.ll
; void vla_dbg(long n) {   // line 3
;   char buf[n];           // line 4
;   ext(buf);              // line 5
; }
declare void @ext(ptr)

define void @vla_dbg(i64 %n) !dbg !5 {
entry:
  %buf = alloca i8, i64 %n, align 16, !dbg !8
  call void @ext(ptr %buf), !dbg !9
  ret void, !dbg !9
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!2, !3}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "clang", isOptimized: false, runtimeVersion: 0, emissionKind: FullDebug)
!1 = !DIFile(filename: "vla.c", directory: "/src")
!2 = !{i32 2, !"Debug Info Version", i32 3}
!3 = !{i32 7, !"Dwarf Version", i32 5}
!5 = distinct !DISubprogram(name: "vla_dbg", scope: !1, file: !1, line: 3, type: !6, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{null}
!8 = !DILocation(line: 4, column: 8, scope: !5)
!9 = !DILocation(line: 5, column: 3, scope: !5)

;--- setjmp.ll
declare i32 @setjmp(ptr) returns_twice
declare void @ext(ptr)

define i32 @uses_setjmp(ptr %env) {
entry:
  %r = call i32 @setjmp(ptr %env)
  %first = icmp eq i32 %r, 0
  br i1 %first, label %work, label %done

work:
  call void @ext(ptr %env)
  br label %done

done:
  ret i32 %r
}

;--- musttail.ll
declare i64 @ext(i64)

define i64 @forward(i64 %x) {
entry:
  %r = musttail call i64 @ext(i64 %x)
  ret i64 %r
}

;--- ok.ll
declare i64 @strlen(ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)

; A VLA, but only callback-free calls: cannot reach a poll.
define i64 @vla_leaf(i64 %n) {
entry:
  %buf = alloca i8, i64 %n, align 16
  call void @llvm.memset.p0.i64(ptr %buf, i8 65, i64 %n, i1 false)
  %l = call i64 @strlen(ptr %buf)
  ret i64 %l
}

define internal i64 @leaf(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; A musttail call to a function that cannot reach a poll.
define i64 @forward_leaf(i64 %x) {
entry:
  %r = musttail call i64 @leaf(i64 %x)
  ret i64 %r
}
