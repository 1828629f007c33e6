; ckpt-frames, function descriptors: every function that can be on a stopped
; thread's stack gets one private constant @__ckpt_desc.<fn>, 8-aligned, in section "ckpt_funcs"
; (the runtime finds it by the function's address while it walks a stack):
;   {i32 abi_version = 4, i32 flags = 0, ptr fn, ptr name, ptr file,
;    i32 line, i32 num_excluded, i64 frame_size, ptr excluded}
; name and file are NUL-terminated strings: the symbol name, and the source
; file name and line of the definition from its DISubprogram ("" and 0
; without debug info, see poll-latch.ll). Nothing in the code refers to a
; descriptor without a record, so every one is appended to @llvm.used, after
; what the module already kept there.
; By default (no -ckpt-polls: the runtime stops threads by signal anywhere)
; that is every function, a loop-free leaf too, and nothing polls.
; With -ckpt-polls (POLLS) a function that cannot reach a poll gets no
; descriptor (and no name or file string), and the poll carries the latch's
; debug location.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_fname --implicit-check-not=__ckpt_ffile \
; RUN:   --implicit-check-not='call void @__ckpt_poll' --implicit-check-not='load atomic'
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefix=POLLS \
; RUN:   --implicit-check-not=__ckpt_desc.leaf --implicit-check-not='c"leaf\00"' \
; RUN:   --implicit-check-not=__ckpt_fname --implicit-check-not=__ckpt_ffile

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@keep_me = internal global i32 0
@llvm.used = appending global [1 x ptr] [ptr @keep_me], section "llvm.metadata"

; CHECK:      @keep_me = internal global i32 0
; CHECK:      @__ckpt_desc.spin = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @spin, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr [[FILE:@__ckpt_ffile[.0-9]*]], i32 12, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK-NEXT: [[NAME]] = private unnamed_addr constant [5 x i8] c"spin\00"
; CHECK-NEXT: [[FILE]] = private unnamed_addr constant [11 x i8] c"src/spin.c\00"
; CHECK-NEXT: @__ckpt_desc.leaf = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @leaf, ptr [[NAME2:@__ckpt_fname[.0-9]*]], ptr [[FILE2:@__ckpt_ffile[.0-9]*]], i32 20, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK-NEXT: @llvm.used = appending global [3 x ptr] [ptr @keep_me, ptr @__ckpt_desc.spin, ptr @__ckpt_desc.leaf], section "llvm.metadata"
; CHECK-NEXT: [[NAME2]] = private unnamed_addr constant [5 x i8] c"leaf\00"
; CHECK-NEXT: [[FILE2]] = private unnamed_addr constant [11 x i8] c"src/spin.c\00"

; No poll: the body is as it was.
; CHECK-LABEL: define void @spin(i64 %n) !dbg
; CHECK-NEXT:  entry:
; CHECK-NEXT:    br label %loop, !dbg
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
; CHECK-NEXT:    call void @ext(), !dbg
; CHECK-NEXT:    %i.next = add i64 %i, 1, !dbg
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n, !dbg
; CHECK-NEXT:    br i1 %c, label %loop, label %exit, !dbg
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    ret void, !dbg

; CHECK-LABEL: define i64 @leaf(i64 %x) !dbg
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y

; POLLS:      @keep_me = internal global i32 0
; POLLS:      @__ckpt_desc.spin = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @spin, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr [[FILE:@__ckpt_ffile[.0-9]*]], i32 12, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; POLLS-NEXT: @llvm.used = appending global [2 x ptr] [ptr @keep_me, ptr @__ckpt_desc.spin], section "llvm.metadata"
; POLLS-NEXT: [[NAME]] = private unnamed_addr constant [5 x i8] c"spin\00"
; POLLS-NEXT: [[FILE]] = private unnamed_addr constant [11 x i8] c"src/spin.c\00"

; POLLS-LABEL: define void @spin(i64 %n) !dbg
; POLLS:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4, !dbg [[LATCH_LOC:![0-9]+]]
; POLLS:         call void @__ckpt_poll(), !dbg [[LATCH_LOC]]

; POLLS-LABEL: define i64 @leaf(i64 %x) !dbg
; POLLS-NEXT:    %y = mul i64 %x, %x
; POLLS-NEXT:    ret i64 %y

; POLLS: [[LATCH_LOC]] = !DILocation(line: 14, column: 5,

declare void @ext()

define void @spin(i64 %n) !dbg !5 {
entry:
  br label %loop, !dbg !8

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @ext(), !dbg !9
  %i.next = add i64 %i, 1, !dbg !9
  %c = icmp ult i64 %i.next, %n, !dbg !9
  br i1 %c, label %loop, label %exit, !dbg !9

exit:
  ret void, !dbg !10
}

define i64 @leaf(i64 %x) !dbg !11 {
  %y = mul i64 %x, %x, !dbg !12
  ret i64 %y, !dbg !12
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!2, !3}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "clang", isOptimized: false, runtimeVersion: 0, emissionKind: FullDebug)
!1 = !DIFile(filename: "src/spin.c", directory: "/work")
!2 = !{i32 2, !"Debug Info Version", i32 3}
!3 = !{i32 7, !"Dwarf Version", i32 5}
!5 = distinct !DISubprogram(name: "spin", scope: !1, file: !1, line: 12, type: !6, scopeLine: 12, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{null}
!8 = !DILocation(line: 13, column: 3, scope: !5)
!9 = !DILocation(line: 14, column: 5, scope: !5)
!10 = !DILocation(line: 16, column: 1, scope: !5)
!11 = distinct !DISubprogram(name: "leaf", scope: !1, file: !1, line: 20, type: !6, scopeLine: 20, spFlags: DISPFlagDefinition, unit: !0)
!12 = !DILocation(line: 21, column: 3, scope: !11)
