; ckpt-frames, entry polls: a function on a call cycle that has no polled loop
; (here: fib, and the mutually recursive is_even/is_odd) gets a poll at its
; entry, so a deep recursion can stop. Polls are numbered before the call
; sites: the entry poll is site 1, the calls follow in instruction order.
; A function on a cycle that already polls in a loop gets no entry poll.
; A non-recursive, loop-free leaf cannot reach a poll: it gets nothing at all
; (no frame, no push, no descriptor), and so do its callers when that is all
; they call.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.square --implicit-check-not=__ckpt_desc.calls_leaf

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; Sites of fib: the entry poll (kind 1), then the two recursive calls (direct,
; kind 2). Frame: header 24, %n1@24, %a@28, %n2@32 -> 40.
; CHECK: @__ckpt_desc.fib = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 2, i32 3, ptr @fib, ptr @{{.*}}, ptr @{{.*}}, i64 40, ptr @__ckpt_sites.fib, i32 0, i32 0, ptr null, i32 0, i32 0 }
; CHECK: @__ckpt_sites.fib = private constant [3 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @fib, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @fib, i64 0 }]
; CHECK: @__ckpt_sites.is_even = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @is_odd, i64 0 }]
; CHECK: @__ckpt_sites.is_odd = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @is_even, i64 0 }]

define i32 @fib(i32 %n) {
; CHECK-LABEL: define i32 @fib(i32 %n) {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [40 x i8], align 8
; CHECK:         br i1 %{{.*}}, label %ckpt.restore, label %entry
; CHECK-EMPTY:
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %[[CONT:ckpt.cont[0-9]*]], !prof
; CHECK-EMPTY:
; Nothing is live at entry (arguments need no saving): just the site id, in
; the slow block only.
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %[[CONT]]
; CHECK-EMPTY:
; The original body follows the poll.
; CHECK-NEXT:  [[CONT]]:
; CHECK-NEXT:    %small = icmp slt i32 %n, 2
; CHECK-NEXT:    br i1 %small, label %base, label %rec
; CHECK-EMPTY:
; Site 2: the operand %n1, the id, the call.
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %n1 = sub i32 %n, 1
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i32 %n1, ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %a = call i32 @fib(i32 %n1)
; CHECK-NEXT:    br label %[[CONT2:ckpt.cont[0-9]+]]
; CHECK-EMPTY:
; Site 3: %a (live across it, merged with the re-issued call's result), the
; operand %n2, the id, the call.
; CHECK-NEXT:  [[CONT2]]:
; CHECK-NEXT:    [[A:%[^ ]+]] = phi i32 [ [[A2:%[0-9]+]], %ckpt.resume2 ], [ %a, %rec ]
; The returned call's site is cleared first.
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %n2 = sub i32 %n, 2
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 28
; CHECK-NEXT:    store i32 [[A]], ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store i32 %n2, ptr [[G]], align 4
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 3, ptr [[G]], align 4
; CHECK-NEXT:    %b = call i32 @fib(i32 %n2)
; CHECK-NEXT:    br label %[[CONT3:ckpt.cont[0-9]+]]
; CHECK-EMPTY:
; CHECK-NEXT:  [[CONT3]]:
; CHECK-DAG:     [[B:%[^ ]+]] = phi i32 [ [[B2:%[0-9]+]], %ckpt.resume3 ], [ %b, %[[CONT2]] ]
; CHECK-DAG:     [[A3:%[^ ]+]] = phi i32 [ %a.ckpt, %ckpt.resume3 ], [ [[A]], %[[CONT2]] ]
; CHECK:         %s = add i32 [[A3]], [[B]]
; CHECK:         switch i32 %ckpt.site, label %ckpt.badsite [
; CHECK-NEXT:      i32 1, label %ckpt.resume1
; CHECK-NEXT:      i32 2, label %ckpt.resume2
; CHECK-NEXT:      i32 3, label %ckpt.resume3
; CHECK-NEXT:    ]
; The poll resumes right after itself, with nothing to reload.
; CHECK:       ckpt.resume1:
; CHECK-NEXT:    br label %[[CONT]]
; CHECK-EMPTY:
; The calls are re-issued with their reloaded operands.
; CHECK-NEXT:  ckpt.resume2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %n1.ckpt = load i32, ptr [[G]], align 4
; CHECK-NEXT:    [[A2]] = call i32 @fib(i32 %n1.ckpt)
; CHECK-NEXT:    br label %[[CONT2]]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.resume3:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    %n2.ckpt = load i32, ptr [[G]], align 4
; CHECK-NEXT:    [[B2]] = call i32 @fib(i32 %n2.ckpt)
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 28
; CHECK-NEXT:    %a.ckpt = load i32, ptr [[G]], align 4
; CHECK-NEXT:    br label %[[CONT3]]
; CHECK-NEXT:  }
entry:
  %small = icmp slt i32 %n, 2
  br i1 %small, label %base, label %rec

rec:
  %n1 = sub i32 %n, 1
  %a = call i32 @fib(i32 %n1)
  %n2 = sub i32 %n, 2
  %b = call i32 @fib(i32 %n2)
  %s = add i32 %a, %b
  ret i32 %s

base:
  ret i32 %n
}

define i1 @is_even(i32 %n) {
; CHECK-LABEL: define i1 @is_even(i32 %n) {
; CHECK:       entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       no:
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %r = call i1 @is_odd(i32 %m)
entry:
  %z = icmp eq i32 %n, 0
  br i1 %z, label %yes, label %no

yes:
  ret i1 true

no:
  %m = sub i32 %n, 1
  %r = call i1 @is_odd(i32 %m)
  ret i1 %r
}

define i1 @is_odd(i32 %n) {
; CHECK-LABEL: define i1 @is_odd(i32 %n) {
; CHECK:       entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK:       ckpt.poll:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       no:
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %r = call i1 @is_even(i32 %m)
entry:
  %z = icmp eq i32 %n, 0
  br i1 %z, label %yes, label %no

yes:
  ret i1 false

no:
  %m = sub i32 %n, 1
  %r = call i1 @is_even(i32 %m)
  ret i1 %r
}

; Recursive, but every recursive call is inside a loop that polls.
define void @visit(ptr %node) {
; CHECK-LABEL: define void @visit(ptr %node) {
; CHECK:       entry:
; CHECK-NOT:     __ckpt_pending
; CHECK:       loop:
; CHECK:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NOT:     %ckpt.pending{{[0-9]+}} =
; CHECK:       }
entry:
  %isnull = icmp eq ptr %node, null
  br i1 %isnull, label %exit, label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %child.addr = getelementptr inbounds ptr, ptr %node, i64 %i
  %child = load ptr, ptr %child.addr, align 8
  call void @visit(ptr %child)
  %i.next = add i64 %i, 1
  %more = icmp ne ptr %child, null
  br i1 %more, label %loop, label %exit

exit:
  ret void
}

; CHECK-LABEL: define i32 @square(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %y = mul i32 %x, %x
; CHECK-NEXT:    ret i32 %y
; CHECK-NEXT:  }
define i32 @square(i32 %x) {
entry:
  %y = mul i32 %x, %x
  ret i32 %y
}

; CHECK-LABEL: define i32 @calls_leaf(i32 %x) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %y = call i32 @square(i32 %x)
; CHECK-NEXT:    %z = add i32 %y, 1
; CHECK-NEXT:    ret i32 %z
; CHECK-NEXT:  }
define i32 @calls_leaf(i32 %x) {
entry:
  %y = call i32 @square(i32 %x)
  %z = add i32 %y, 1
  ret i32 %z
}
