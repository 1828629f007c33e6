; ckpt-frames: a static alloca of the entry block that comes after its first
; site (a call that may reach a poll, or the entry poll) must still be gathered
; into the frame record, like the allocas at the top of the block: the pass
; hoists the entry block's static allocas to its top before it splits the block
; at sites. (Once a bug: such an alloca ended up in a ckpt.cont block, outside
; the record, and the restore path used it where it was not defined.)

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @fill(ptr)

; Frame: header 24, %a@24, %b@28 -> 32. Both are fields of the record, and
; the restore path re-issues each call with its field.
; CHECK-LABEL: define void @after_call() {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [32 x i8], align 8
; CHECK-NEXT:    %a = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %b = getelementptr inbounds i8, ptr %ckpt.frame, i64 28
; CHECK-NOT:     alloca
; CHECK:       entry:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NOT:     alloca
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    call void @fill(ptr %b)
; CHECK-NOT:     alloca
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    call void @fill(ptr %a)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.resume2:
; CHECK-NEXT:    call void @fill(ptr %b)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-NEXT:  }
define void @after_call() {
entry:
  %a = alloca i32, align 4
  call void @fill(ptr %a)
  %b = alloca i32, align 4
  call void @fill(ptr %b)
  ret void
}

; The alloca below the entry poll (site 1) is in the record too; the store
; into it stays after the poll. Frame: header 24, %a@24, %m@28 -> 32.
; CHECK-LABEL: define i32 @after_entry_poll(i32 %n) {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [32 x i8], align 8
; CHECK-NEXT:    %a = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NOT:     alloca
; CHECK:       entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       ckpt.cont:
; CHECK-NEXT:    %done = icmp eq i32 %n, 0
; CHECK-NEXT:    store i32 %n, ptr %a, align 4
; CHECK-NOT:     alloca
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %r = call i32 @after_entry_poll(i32 %m)
; CHECK-NOT:     alloca
; CHECK:         %v = load i32, ptr %a, align 4
; CHECK-NOT:     alloca
; CHECK:       }
define i32 @after_entry_poll(i32 %n) {
entry:
  %done = icmp eq i32 %n, 0
  %a = alloca i32, align 4
  store i32 %n, ptr %a, align 4
  br i1 %done, label %base, label %rec

rec:
  %m = sub i32 %n, 1
  %r = call i32 @after_entry_poll(i32 %m)
  %v = load i32, ptr %a, align 4
  %s = add i32 %r, %v
  ret i32 %s

base:
  ret i32 0
}
