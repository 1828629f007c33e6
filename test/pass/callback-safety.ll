; ckpt-frames, callbacks (DESIGN.md section 3): qsort calls back into the
; program, so it is not on the callback-free list and a call to it is a site
; (direct, kind 2, callee @qsort), even in a function that calls nothing else:
; the caller gets a frame, stores the site id before the call and clears it
; once qsort returns. This is what lets the runtime see that a comparator's
; frame was entered from qsort, not from its parent's site, and refuse to stop
; there. A static comparator used only as a callback argument of such
; library functions (also through a select) can never be where a thread stops,
; so it gets no instrumentation at all, loop or not; a comparator with a loop
; that is visible outside the module gets its own frame and poll like any
; function.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_int \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_str{{$}} \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_len \
; RUN:   --implicit-check-not=__ckpt_desc.helper_len \
; RUN:   --implicit-check-not=__ckpt_desc.cmp_by_helper

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @qsort(ptr, i64, i64, ptr)

; CHECK: @__ckpt_sites.sort_strings = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 2, i32 0, ptr @qsort, i64 0 }]
; CHECK: @__ckpt_sites.sort_ints = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 2, i32 0, ptr @qsort, i64 0 }]
; CHECK: @__ckpt_sites.cmp_pub = private constant [1 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }]

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
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr [[TOP:%.*]], align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @qsort(ptr %v, i64 %n, i64 8, ptr @cmp_str)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[SITE]], align 4
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
entry:
  call void @qsort(ptr %v, i64 %n, i64 8, ptr @cmp_str)
  ret void
}

; The comparator cannot reach a poll, but qsort is still a site.
define void @sort_ints(ptr %v, i64 %n) {
; CHECK-LABEL: define void @sort_ints(ptr %v, i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; CHECK:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp_int)
entry:
  call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp_int)
  ret void
}

; The same loop in a comparator others may call directly: frame and poll.
define i32 @cmp_pub(ptr %a, ptr %b) {
; CHECK-LABEL: define i32 @cmp_pub(ptr %a, ptr %b) {
; CHECK-NEXT:  entry:
; CHECK:         store ptr @__ckpt_desc.cmp_pub, ptr
; CHECK:         call void @__ckpt_poll(ptr %ckpt.frame)
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
