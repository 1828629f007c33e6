; Exclusion (#pragma ckpt exclude / CKPT_EXCLUDE, both clang's
; annotate("ckpt.exclude")):
; - ckpt-globals: a global listed in llvm.global.annotations with the string
;   "ckpt.exclude" gets CKPT_GLOBAL_EXCLUDED (1) in its descriptor's flags;
;   a global annotated with another string, or not at all, gets 0.
; - ckpt-frames: a local whose alloca carries llvm.var.annotation with
;   "ckpt.exclude" is moved into the frame record (it becomes a GEP into
;   %ckpt.record, placed after the 16-byte header {parent, desc} at its own
;   alignment) and listed in its function's descriptor as {offset, size} of
;   the record (fields excluded/num_excluded), in offset order; frame_size is
;   the record's size. The annotation call is removed; other annotations
;   stay. The function's other locals are not in the record (stacks are saved
;   whole): they stay ordinary allocas. The record is pushed on the chain
;   @__ckpt_records at entry and popped at the return.

; RUN: %opt-ckpt -passes=ckpt-globals -verify-each -S %s | FileCheck %s --check-prefix=GLOB
; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s --check-prefix=FRAME

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@scratch = global [4096 x i8] zeroinitializer, align 16
@kept = global i32 0, align 4
@other = global i32 0, align 4
@work.cache = internal global [64 x i64] zeroinitializer, align 16
@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.other = private unnamed_addr constant [6 x i8] c"other\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"
@llvm.global.annotations = appending global [3 x { ptr, ptr, ptr, i32, ptr }] [
  { ptr, ptr, ptr, i32, ptr } { ptr @scratch, ptr @.str.ex, ptr @.str.file, i32 3, ptr null },
  { ptr, ptr, ptr, i32, ptr } { ptr @other, ptr @.str.other, ptr @.str.file, i32 5, ptr null },
  { ptr, ptr, ptr, i32, ptr } { ptr @work.cache, ptr @.str.ex, ptr @.str.file, i32 9, ptr null }], section "llvm.metadata"

; GLOB-DAG: = private constant { ptr, i64, ptr, i32, i32 } { ptr @scratch, i64 4096, ptr {{@.*}}, i32 1, i32 0 }, section "ckpt_globals"
; GLOB-DAG: = private constant { ptr, i64, ptr, i32, i32 } { ptr @kept, i64 4, ptr {{@.*}}, i32 0, i32 0 }, section "ckpt_globals"
; GLOB-DAG: = private constant { ptr, i64, ptr, i32, i32 } { ptr @other, i64 4, ptr {{@.*}}, i32 0, i32 0 }, section "ckpt_globals"
; GLOB-DAG: = private constant { ptr, i64, ptr, i32, i32 } { ptr @work.cache, i64 512, ptr {{@.*}}, i32 1, i32 0 }, section "ckpt_globals"

declare void @fill(ptr)
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; Record: header 16, @big 256 -> 272, @small 32 -> 304, size aligned to 16
; -> 304. @keep and @tagged are not in it.
; FRAME: @__ckpt_desc.work = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @work, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 2, i64 304, ptr @__ckpt_excluded.work }, section "ckpt_funcs", align 8
; FRAME: @__ckpt_excluded.work = private constant [2 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 256 }, { i64, i64 } { i64 272, i64 32 }]
; @scoped (below): header 16, %secret 16 -> 32.
; FRAME: @__ckpt_desc.scoped = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @scoped, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 32, ptr @__ckpt_excluded.scoped }, section "ckpt_funcs", align 8
; FRAME: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.work, ptr @__ckpt_desc.scoped], section "llvm.metadata"
; FRAME: @__ckpt_excluded.scoped = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 16 }]
; FRAME-LABEL: define void @work()
; FRAME-NEXT:  entry:
; FRAME-DAG:     %ckpt.record = alloca [304 x i8], align 16
; FRAME-DAG:     %big = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; FRAME-DAG:     %keep = alloca i64, align 8
; FRAME-DAG:     %small = getelementptr inbounds i8, ptr %ckpt.record, i64 272
; FRAME-DAG:     %tagged = alloca i32, align 4
; FRAME:         store ptr @__ckpt_desc.work, ptr
; FRAME-NEXT:    store ptr %ckpt.record, ptr {{%.*}}, align 8
; FRAME-NOT: alloca
; FRAME-NOT: call void @llvm.var.annotation{{.*}}@.str.ex
; FRAME: call void @llvm.var.annotation.p0.p0(ptr %tagged, ptr @.str.other,
; FRAME-NOT: alloca
; FRAME-NOT: call void @llvm.var.annotation{{.*}}@.str.ex
; FRAME: call void @fill(ptr %big)
; FRAME: call void @fill(ptr %keep)
; FRAME: call void @fill(ptr %small)
; FRAME: call void @fill(ptr %tagged)
; FRAME-NOT: call void @llvm.var.annotation{{.*}}@.str.ex
; FRAME:      [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; FRAME-NEXT: store ptr %ckpt.parent, ptr [[CHAIN2]], align 8
; FRAME-NEXT: ret void
define void @work() {
entry:
  %big = alloca [256 x i8], align 16
  %keep = alloca i64, align 8
  %small = alloca [8 x i32], align 16
  %tagged = alloca i32, align 4
  call void @llvm.var.annotation.p0.p0(ptr %big, ptr @.str.ex, ptr @.str.file, i32 20, ptr null)
  call void @llvm.var.annotation.p0.p0(ptr %small, ptr @.str.ex, ptr @.str.file, i32 22, ptr null)
  call void @llvm.var.annotation.p0.p0(ptr %tagged, ptr @.str.other, ptr @.str.file, i32 23, ptr null)
  call void @fill(ptr %big)
  call void @fill(ptr %keep)
  call void @fill(ptr %small)
  call void @fill(ptr %tagged)
  ret void
}

; As clang -O2 leaves a block-scoped excluded local: the lifetime markers of
; the excluded %secret go (the record keeps it at its own offset, so codegen
; must never overlap it with another slot); those of %kept, an ordinary
; alloca, stay. (Descriptor checked above.)
; FRAME-LABEL: define void @scoped()
; FRAME-NEXT:  entry:
; FRAME-DAG:     %ckpt.record = alloca [32 x i8], align 16
; FRAME-DAG:     %secret = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; FRAME-DAG:     %kept = alloca [16 x i8], align 16
; FRAME:         store ptr %ckpt.record, ptr {{%.*}}, align 8
; FRAME-NOT:     @llvm.lifetime.{{.*}}%secret
; FRAME-NOT:     @llvm.var.annotation
; FRAME:         call void @llvm.lifetime.start.p0(i64 16, ptr %kept)
; FRAME-NOT:     @llvm.lifetime.{{.*}}%secret
; FRAME:         call void @fill(ptr %secret)
; FRAME:         call void @fill(ptr %kept)
; FRAME-NOT:     @llvm.lifetime.{{.*}}%secret
; FRAME:         call void @llvm.lifetime.end.p0(i64 16, ptr %kept)
; FRAME-NOT:     @llvm.lifetime.{{.*}}%secret
; FRAME:         store ptr %ckpt.parent, ptr
; FRAME-NEXT:    ret void
define void @scoped() {
entry:
  %secret = alloca [16 x i8], align 16
  %kept = alloca [16 x i8], align 16
  call void @llvm.lifetime.start.p0(i64 16, ptr %secret)
  call void @llvm.var.annotation.p0.p0(ptr %secret, ptr @.str.ex, ptr @.str.file, i32 30, ptr null)
  call void @llvm.lifetime.start.p0(i64 16, ptr %kept)
  call void @fill(ptr %secret)
  call void @fill(ptr %kept)
  call void @llvm.lifetime.end.p0(i64 16, ptr %kept)
  call void @llvm.lifetime.end.p0(i64 16, ptr %secret)
  ret void
}

declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)
declare void @llvm.lifetime.end.p0(i64 immarg, ptr nocapture)
