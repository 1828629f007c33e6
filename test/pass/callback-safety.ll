; ckpt-frames, callbacks (DESIGN.md section 3): qsort calls back into the
; program, so it is not on the callback-free list and a call to it may stop:
; a function that calls it, even one that calls nothing else, gets a
; descriptor, so the runtime knows its frame when it walks a stopped thread's
; stack. Nothing is stored around the call (the runtime's stack walk ends at
; the first frame outside the executable, so a comparator entered from qsort
; is never where a thread stops); right after it comes a poll, where a thread
; that could not stop inside qsort stops once it is back.
; A static comparator used only as a callback argument of such library
; functions (also through a select), and a static helper called only from
; one, can never be where a thread stops, so they get no instrumentation at
; all, loop or not, and no descriptor; a comparator with a loop that is
; visible outside the module gets its poll and descriptor like any function.
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_int \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_str{{$}} \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_len \
; RUN:   --implicit-check-not=__ckpt_desc.helper_len \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_by_helper \
; RUN:   --implicit-check-not=store --implicit-check-not=__ckpt_top

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @qsort(ptr, i64, i64, ptr)

; CHECK: @__ckpt_desc.sort_strings = private constant {{.*}} ptr @sort_strings, {{.*}} i32 0, i64 0, ptr null }, section "ckpt_funcs"
; CHECK: @__ckpt_desc.sort_ints = private constant {{.*}} ptr @sort_ints, {{.*}} i32 0, i64 0, ptr null }, section "ckpt_funcs"
; CHECK: @__ckpt_desc.cmp_pub = private constant {{.*}} ptr @cmp_pub, {{.*}} i32 0, i64 0, ptr null }, section "ckpt_funcs"
; CHECK: @__ckpt_desc.sort_either = private constant {{.*}} ptr @sort_either, {{.*}} i32 0, i64 0, ptr null }, section "ckpt_funcs"
; CHECK: @__ckpt_desc.sort_by_helper = private constant {{.*}} ptr @sort_by_helper, {{.*}} i32 0, i64 0, ptr null }, section "ckpt_funcs"
; CHECK: @llvm.used = appending global [5 x ptr] [ptr @__ckpt_desc.sort_strings, ptr @__ckpt_desc.sort_ints, ptr @__ckpt_desc.cmp_pub, ptr @__ckpt_desc.sort_either, ptr @__ckpt_desc.sort_by_helper], section "llvm.metadata"

; strcmp on two char **, static and only handed to qsort: untouched.
define internal i32 @cmp_str(ptr %a, ptr %b) {
; CHECK-LABEL: define internal i32 @cmp_str(ptr %a, ptr %b) {
; CHECK-NEXT:  entry:
; CHECK-NOT:     ckpt
; CHECK:       }
entry:
  %pa = load ptr, ptr %a, align 8
  %pb = load ptr, ptr %b, align 8
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %next ]
  %ca.addr = getelementptr inbounds i8, ptr %pa, i64 %i
  %ca = load i8, ptr %ca.addr, align 1
  %cb.addr = getelementptr inbounds i8, ptr %pb, i64 %i
  %cb = load i8, ptr %cb.addr, align 1
  %ne = icmp ne i8 %ca, %cb
  %end = icmp eq i8 %ca, 0
  %stop = or i1 %ne, %end
  br i1 %stop, label %done, label %next

next:
  %i.next = add i64 %i, 1
  br label %loop

done:
  %za = zext i8 %ca to i32
  %zb = zext i8 %cb to i32
  %d = sub i32 %za, %zb
  ret i32 %d
}

define internal i32 @cmp_int(ptr %a, ptr %b) {
; CHECK-LABEL: define internal i32 @cmp_int(ptr %a, ptr %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %x = load i32, ptr %a, align 4
entry:
  %x = load i32, ptr %a, align 4
  %y = load i32, ptr %b, align 4
  %d = sub i32 %x, %y
  ret i32 %d
}

define void @sort_strings(ptr %v, i64 %n) {
; CHECK-LABEL: define void @sort_strings(ptr %v, i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    call void @qsort(ptr %v, i64 %n, i64 8, ptr @cmp_str)
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:{{.*}}
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:{{.*}}
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
entry:
  call void @qsort(ptr %v, i64 %n, i64 8, ptr @cmp_str)
  ret void
}

; The comparator cannot reach a poll, but the call to qsort still may stop
; (descriptor checked above); the body is untouched.
define void @sort_ints(ptr %v, i64 %n) {
; CHECK-LABEL: define void @sort_ints(ptr %v, i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp_int)
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:{{.*}}
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:{{.*}}
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
entry:
  call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp_int)
  ret void
}

; The same loop in a comparator others may call directly: a poll (and the
; descriptor checked above).
define i32 @cmp_pub(ptr %a, ptr %b) {
; CHECK-LABEL: define i32 @cmp_pub(ptr %a, ptr %b) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    br label %loop
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr inbounds i8, ptr %a, i64 %i
  %c = load i8, ptr %p, align 1
  %i.next = add i64 %i, 1
  %z = icmp eq i8 %c, 0
  br i1 %z, label %done, label %loop
done:
  %r = trunc i64 %i to i32
  ret i32 %r
}

; Chosen between two comparators with a select: still only a callback.
define internal i32 @cmp_len(ptr %a, ptr %b) {
; CHECK-LABEL: define internal i32 @cmp_len(ptr %a, ptr %b) {
; CHECK-NEXT:  entry:
; CHECK-NOT:     ckpt
; CHECK:         ret i32 %r
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr inbounds i8, ptr %a, i64 %i
  %c = load i8, ptr %p, align 1
  %i.next = add i64 %i, 1
  %z = icmp eq i8 %c, 0
  br i1 %z, label %done, label %loop
done:
  %r = trunc i64 %i to i32
  ret i32 %r
}

define void @sort_either(ptr %v, i64 %n, i1 %by_len) {
  %cmp = select i1 %by_len, ptr @cmp_len, ptr @cmp_pub
  call void @qsort(ptr %v, i64 %n, i64 8, ptr %cmp)
  ret void
}

; A static helper called only from a callback-only comparator runs only under
; qsort too: untouched, loop or not.
; CHECK-LABEL: define internal i64 @helper_len(
; CHECK-NEXT:  entry:
; CHECK-NOT:     ckpt
; CHECK:         ret i64
define internal i64 @helper_len(ptr %s) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr inbounds i8, ptr %s, i64 %i
  %c = load i8, ptr %p, align 1
  %i.next = add i64 %i, 1
  %z = icmp eq i8 %c, 0
  br i1 %z, label %done, label %loop
done:
  ret i64 %i
}

define internal i32 @cmp_by_helper(ptr %a, ptr %b) {
; CHECK-LABEL: define internal i32 @cmp_by_helper(
; CHECK-NEXT:    call i64 @helper_len
  %la = call i64 @helper_len(ptr %a)
  %lb = call i64 @helper_len(ptr %b)
  %d = sub i64 %la, %lb
  %r = trunc i64 %d to i32
  ret i32 %r
}

define void @sort_by_helper(ptr %v, i64 %n) {
  call void @qsort(ptr %v, i64 %n, i64 8, ptr @cmp_by_helper)
  ret void
}
