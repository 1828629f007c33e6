; ckpt-frames, variable-length arrays and alloca(): threads are saved as
; native stacks, byte for byte, and put back at the same addresses
; (docs/design.md, "Frames redesign"), so a dynamic alloca needs no place in
; a frame record and is accepted in a function that can reach a safe point.
; Such a function is instrumented like any other: it gets its descriptor,
; polls go where they always go, and the dynamic allocas, the
; stacksave/stackrestore around them and the static allocas are left as they
; were. With a fixed-size excluded local as well, the record is pushed after
; the entry block's static allocas (gathered at its top), before the VLA.
; What is still refused is excluding one (#pragma ckpt exclude / CKPT_EXCLUDE
; on a variable-length array): an excluded local lives in the record at a
; fixed offset the descriptor gives, which a block of run-time size cannot
; have. The error names the function (and the source line when known).
; By default (no -ckpt-polls: the runtime stops threads by signal anywhere)
; there are no polls (DEFAULT), and every function is instrumented, so an
; excluded VLA is refused even in a leaf (EXCL-LEAF). With -ckpt-polls
; (POLLS) the loop polls, and an excluded VLA in a function that cannot
; reach a poll is fine: the function is not instrumented (LEAF).
; opt stops at the first error, hence one file per error.

; RUN: rm -rf %t && split-file %s %t
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %t/ok.ll 2>&1 | FileCheck %s --check-prefixes=CHECK,DEFAULT \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not=__ckpt_top \
; RUN:   --implicit-check-not=ckpt.poll --implicit-check-not=ckpt.pending --implicit-check-not=ckpt.cont
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/ok.ll 2>&1 | FileCheck %s --check-prefixes=CHECK,POLLS \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not=__ckpt_top
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/leaf.ll 2>&1 | FileCheck %s --check-prefix=EXCL-LEAF
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %t/leaf.ll 2>&1 | FileCheck %s --check-prefix=LEAF \
; RUN:   --implicit-check-not=error: --implicit-check-not=warning: --implicit-check-not=__ckpt
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/excluded.ll 2>&1 | FileCheck %s --check-prefix=EXCL
; RUN: not %opt-ckpt -passes=ckpt-frames -disable-output %t/excluded-dbg.ll 2>&1 | FileCheck %s --check-prefix=EXCL-DBG

; EXCL: error: {{.*}}ckpt: function 'excluded_vla' excludes a variable-length array or alloca() block from checkpoints; only fixed-size locals can be excluded
; EXCL-LEAF: error: {{.*}}ckpt: function 'excluded_vla_leaf' excludes a variable-length array or alloca() block from checkpoints; only fixed-size locals can be excluded
; EXCL-DBG: error: vla.c:4:8: {{.*}}ckpt: function 'excluded_vla_dbg' (vla.c:4) excludes a variable-length array or alloca() block from checkpoints; only fixed-size locals can be excluded

; Every function of ok.ll gets a descriptor; only vla_excluded_scalar has a
; record (header 16, %key 8 -> 24).
; CHECK: @__ckpt_desc.vla = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @vla, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.vla_loop = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @vla_loop, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.alloca_late = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @alloca_late, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.vla_excluded_scalar = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @vla_excluded_scalar, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.vla_excluded_scalar }, section "ckpt_funcs", align 8
; CHECK: @llvm.used = appending global [4 x ptr] [ptr @__ckpt_desc.vla, ptr @__ckpt_desc.vla_loop, ptr @__ckpt_desc.alloca_late, ptr @__ckpt_desc.vla_excluded_scalar], section "llvm.metadata"
; CHECK: @__ckpt_excluded.vla_excluded_scalar = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 8 }]

; A static local and a VLA in the entry block (void vla(long n) { int k;
; char buf[n]; ext(buf); ext(&k); }): untouched.
; CHECK-LABEL: define void @vla(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %k = alloca i32, align 4
; CHECK-NEXT:    %buf = alloca i8, i64 %n, align 16
; CHECK-NEXT:    call void @ext(ptr %buf)
; CHECK-NEXT:    call void @ext(ptr %k)
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; A VLA in a loop body, scoped by stacksave/stackrestore as clang emits it
; (for (i = 0; i < n; i++) { int row[i + 1]; ext(row); }): with -ckpt-polls
; the loop polls at its latch, after the stackrestore; the VLA and the scope
; are untouched.
; CHECK-LABEL: define void @vla_loop(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; DEFAULT-NEXT:  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
; POLLS-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %ckpt.cont ]
; CHECK-NEXT:    %sp = call ptr @llvm.stacksave.p0()
; CHECK-NEXT:    %len = add i64 %i, 1
; CHECK-NEXT:    %row = alloca i32, i64 %len, align 16
; CHECK-NEXT:    call void @ext(ptr %row)
; CHECK-NEXT:    call void @llvm.stackrestore.p0(ptr %sp)
; CHECK-NEXT:    %i.next = add i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; POLLS-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS-NEXT:    [[TMP0:%[0-9]+]] = icmp ne i32 %ckpt.pending, 0
; POLLS-NEXT:    br i1 [[TMP0]], label %ckpt.poll, label %ckpt.cont, !prof
; POLLS-EMPTY:
; POLLS-NEXT:  ckpt.poll:
; POLLS-NEXT:    call void @__ckpt_poll()
; POLLS-NEXT:    br label %ckpt.cont
; POLLS-EMPTY:
; POLLS-NEXT:  ckpt.cont:
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; alloca() in a block other than the entry block: untouched.
; CHECK-LABEL: define void @alloca_late(i64 %n, i1 %big) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    br i1 %big, label %then, label %done
; CHECK-EMPTY:
; CHECK-NEXT:  then:
; CHECK-NEXT:    %p = alloca i8, i64 %n, align 16
; CHECK-NEXT:    call void @ext(ptr %p)
; CHECK-NEXT:    br label %done
; CHECK-EMPTY:
; CHECK-NEXT:  done:
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; A VLA next to an excluded fixed-size local: %key moves into the record; the
; static %k, declared after the VLA, is gathered at the top of the entry
; block; the push comes after the static allocas, the VLA after the push.
; CHECK-LABEL: define void @vla_excluded_scalar(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %k = alloca i32, align 4
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[TMP0:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TMP0]], align 8
; CHECK-NEXT:    [[TMP1:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP1]], align 8
; CHECK-NEXT:    [[TMP2:%[0-9]+]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.vla_excluded_scalar, ptr [[TMP2]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[TMP0]], align 8
; CHECK-NEXT:    %buf = alloca i8, i64 %n, align 16
; CHECK-NEXT:    call void @ext(ptr %buf)
; CHECK-NEXT:    call void @ext(ptr %key)
; CHECK-NEXT:    call void @ext(ptr %k)
; CHECK-NEXT:    [[TMP3:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TMP3]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }

; leaf.ll, with -ckpt-polls: an excluded VLA whose function only makes
; callback-free calls: not instrumented, no error, the annotation stays.
; LEAF-LABEL: define i64 @excluded_vla_leaf(i64 %n) {
; LEAF-NEXT:  entry:
; LEAF-NEXT:    %buf = alloca i8, i64 %n, align 16
; LEAF-NEXT:    call void @llvm.var.annotation.p0.p0(ptr %buf, ptr @.str.ex, ptr @.str.file, i32 4, ptr null)
; LEAF-NEXT:    call void @llvm.memset.p0.i64(ptr %buf, i8 65, i64 %n, i1 false)
; LEAF-NEXT:    %l = call i64 @strlen(ptr %buf)
; LEAF-NEXT:    ret i64 %l
; LEAF-NEXT:  }

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

define void @vla_excluded_scalar(i64 %n) {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 30, ptr null)
  %buf = alloca i8, i64 %n, align 16
  %k = alloca i32, align 4
  call void @ext(ptr %buf)
  call void @ext(ptr %key)
  call void @ext(ptr %k)
  ret void
}

;--- leaf.ll
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

declare i64 @strlen(ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

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
