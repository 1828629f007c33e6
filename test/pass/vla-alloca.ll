; ckpt-frames, variable-length arrays and alloca(): threads are saved as
; native stacks, byte for byte, and put back at the same addresses
; (docs/design.md, "Frames redesign"), so a dynamic alloca needs no place in
; the frame record and is accepted in a function that can reach a safe
; point (it used to be a compile error). Such a function is instrumented
; like any other: its record (the bare 24-byte header) is pushed after the
; entry block's static allocas, sites store their ids, polls go where they
; always go; the dynamic allocas, the stacksave/stackrestore around them
; and the static allocas are left as they were.
; What is still refused is excluding one (#pragma ckpt exclude / CKPT_EXCLUDE
; on a variable-length array): an excluded local lives in the record at a
; fixed offset the descriptor gives, which a block of run-time size cannot
; have. The error names the function (and the source line when known). An
; excluded VLA in a function that cannot reach a poll is fine: the function
; is not instrumented. opt stops at the first error, hence one file per error.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/ok.ll 2>&1 | FileCheck %s \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning:
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/excluded.ll 2>&1 | FileCheck %s --check-prefix=EXCL
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/excluded-dbg.ll 2>&1 | FileCheck %s --check-prefix=EXCL-DBG

; EXCL: error: {{.*}}ckpt: function 'excluded_vla' excludes a variable-length array or alloca() block from checkpoints; only fixed-size locals can be excluded
; EXCL-DBG: error: vla.c:4:8: {{.*}}ckpt: function 'excluded_vla_dbg' (vla.c:4) excludes a variable-length array or alloca() block from checkpoints; only fixed-size locals can be excluded

; Every function of ok.ll but the leaf is instrumented, with the bare header.
; CHECK-DAG: @__ckpt_desc.vla = private constant {{.*}} ptr @vla, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.vla,
; CHECK-DAG: @__ckpt_desc.vla_loop = private constant {{.*}} ptr @vla_loop, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.vla_loop,
; CHECK-DAG: @__ckpt_desc.alloca_late = private constant {{.*}} ptr @alloca_late, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.alloca_late,
; vla_loop: the latch poll (kind 1) is site 1, the call site 2.
; CHECK-DAG: @__ckpt_sites.vla_loop = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @ext, i64 0 }]

; A static local and a VLA in the entry block (void vla(long n) { int k;
; char buf[n]; ext(buf); ext(&k); }). The record and the push come right
; after the static allocas; the VLA stays where it was, after the push.
; CHECK-LABEL: define void @vla(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK-NEXT:    %k = alloca i32, align 4
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.vla, ptr [[G]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; CHECK-NEXT:    %buf = alloca i8, i64 %n, align 16
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @ext(ptr %buf)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    call void @ext(ptr %k)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; A VLA in a loop body, scoped by stacksave/stackrestore as clang emits it
; (for (i = 0; i < n; i++) { int row[i + 1]; ext(row); }): the loop polls at
; its latch, after the stackrestore; the VLA and the scope are untouched.
; CHECK-LABEL: define void @vla_loop(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %ckpt.cont ]
; CHECK-NEXT:    %sp = call ptr @llvm.stacksave.p0()
; CHECK-NEXT:    %len = add i64 %i, 1
; CHECK-NEXT:    %row = alloca i32, i64 %len, align 16
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    call void @ext(ptr %row)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    call void @llvm.stackrestore.p0(ptr %sp)
; CHECK-NEXT:    %i.next = add i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; alloca() in a block other than the entry block.
; CHECK-LABEL: define void @alloca_late(i64 %n, i1 %big) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    br i1 %big, label %then, label %done
; CHECK-EMPTY:
; CHECK-NEXT:  then:
; CHECK-NEXT:    %p = alloca i8, i64 %n, align 16
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @ext(ptr %p)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    br label %done
; CHECK-EMPTY:
; CHECK-NEXT:  done:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; An excluded VLA whose function only makes callback-free calls: not
; instrumented, no error, the annotation stays.
; CHECK-LABEL: define i64 @excluded_vla_leaf(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %buf = alloca i8, i64 %n, align 16
; CHECK-NEXT:    call void @llvm.var.annotation.p0.p0(ptr %buf, ptr @.str.ex, ptr @.str.file, i32 4, ptr null)
; CHECK-NEXT:    call void @llvm.memset.p0.i64(ptr %buf, i8 65, i64 %n, i1 false)
; CHECK-NEXT:    %l = call i64 @strlen(ptr %buf)
; CHECK-NEXT:    ret i64 %l
; CHECK-NEXT:  }

;--- ok.ll
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @ext(ptr)
declare i64 @strlen(ptr)
declare ptr @llvm.stacksave.p0()
declare void @llvm.stackrestore.p0(ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

define void @vla(i64 %n) {
entry:
  %k = alloca i32, align 4
  %buf = alloca i8, i64 %n, align 16
  call void @ext(ptr %buf)
  call void @ext(ptr %k)
  ret void
}

define void @vla_loop(i64 %n) {
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %sp = call ptr @llvm.stacksave.p0()
  %len = add i64 %i, 1
  %row = alloca i32, i64 %len, align 16
  call void @ext(ptr %row)
  call void @llvm.stackrestore.p0(ptr %sp)
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

define void @alloca_late(i64 %n, i1 %big) {
entry:
  br i1 %big, label %then, label %done

then:
  %p = alloca i8, i64 %n, align 16
  call void @ext(ptr %p)
  br label %done

done:
  ret void
}

define i64 @excluded_vla_leaf(i64 %n) {
entry:
  %buf = alloca i8, i64 %n, align 16
  call void @llvm.var.annotation.p0.p0(ptr %buf, ptr @.str.ex, ptr @.str.file, i32 4, ptr null)
  call void @llvm.memset.p0.i64(ptr %buf, i8 65, i64 %n, i1 false)
  %l = call i64 @strlen(ptr %buf)
  ret i64 %l
}

;--- excluded.ll
; As clang -O0 emits `#pragma ckpt exclude` on `char buf[n];`.
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare void @ext(ptr)
declare ptr @llvm.stacksave.p0()
declare void @llvm.stackrestore.p0(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

define void @excluded_vla(i64 %n) {
entry:
  %sp = call ptr @llvm.stacksave.p0()
  %buf = alloca i8, i64 %n, align 16
  call void @llvm.var.annotation.p0.p0(ptr %buf, ptr @.str.ex, ptr @.str.file, i32 4, ptr null)
  call void @ext(ptr %buf)
  call void @llvm.stackrestore.p0(ptr %sp)
  ret void
}

;--- excluded-dbg.ll
; void excluded_vla_dbg(long n) {   // line 3
; #pragma ckpt exclude
;   char buf[n];                    // line 4
;   ext(buf);                       // line 5
; }
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [6 x i8] c"vla.c\00", section "llvm.metadata"

declare void @ext(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

define void @excluded_vla_dbg(i64 %n) !dbg !5 {
entry:
  %buf = alloca i8, i64 %n, align 16, !dbg !8
  call void @llvm.var.annotation.p0.p0(ptr %buf, ptr @.str.ex, ptr @.str.file, i32 4, ptr null), !dbg !8
  call void @ext(ptr %buf), !dbg !9
  ret void, !dbg !9
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!2, !3}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "clang", isOptimized: false, runtimeVersion: 0, emissionKind: FullDebug)
!1 = !DIFile(filename: "vla.c", directory: "/src")
!2 = !{i32 2, !"Debug Info Version", i32 3}
!3 = !{i32 7, !"Dwarf Version", i32 5}
!5 = distinct !DISubprogram(name: "excluded_vla_dbg", scope: !1, file: !1, line: 3, type: !6, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{null}
!8 = !DILocation(line: 4, column: 8, scope: !5)
!9 = !DILocation(line: 5, column: 3, scope: !5)
