; ckpt-frames, entry polls: a function on a call cycle that has no polled loop
; (here: fib, and the mutually recursive is_even/is_odd) gets a poll at its
; entry, after the prologue that pushes its record, so a deep recursion can
; stop. Polls are numbered before the call sites: the entry poll is site 1,
; the calls follow in instruction order. Only site ids are stored (the poll's
; in its slow block); nothing is spilled and there is no restore path.
; A function on a cycle that already polls in a loop gets no entry poll.
; A non-recursive, loop-free leaf cannot reach a poll: it gets nothing at all
; (no frame, no push, no descriptor), and so do its callers when that is all
; they call.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.square --implicit-check-not=__ckpt_desc.calls_leaf \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; Sites of fib: the entry poll (kind 1), then the two recursive calls (direct,
; kind 2). The record is the bare header: 24 bytes.
; CHECK: @__ckpt_desc.fib = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 3, ptr @fib, ptr @{{.*}}, ptr @{{.*}}, i64 24, ptr @__ckpt_sites.fib, i32 0, i32 0, ptr null, i32 0, i32 0 }
; CHECK: @__ckpt_sites.fib = private constant [3 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @fib, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @fib, i64 0 }]
; CHECK: @__ckpt_sites.is_even = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @is_odd, i64 0 }]
; CHECK: @__ckpt_sites.is_odd = private constant [2 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @is_even, i64 0 }]

define i32 @fib(i32 %n) {
; CHECK-LABEL: define i32 @fib(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [24 x i8], align 8
; The record is pushed first, in the entry block: the poll hands it to the
; runtime.
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.fib, ptr [[G]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; Just the site id, in the slow block only.
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[SITE:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[SITE]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The original body follows the poll.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    %small = icmp slt i32 %n, 2
; CHECK-NEXT:    br i1 %small, label %base, label %rec
; CHECK-EMPTY:
; Site 2: the id, the call; its operand %n1 is not stored.
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %n1 = sub i32 %n, 1
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %a = call i32 @fib(i32 %n1)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; Site 3: neither %a (live across it) nor the operand %n2 is stored; no phi
; (nothing is reloaded), the returned call's site is cleared first.
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %n2 = sub i32 %n, 2
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 3, ptr [[G]], align 4
; CHECK-NEXT:    %b = call i32 @fib(i32 %n2)
; CHECK-NEXT:    br label %ckpt.cont2
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %s = add i32 %a, %b
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 %s
; CHECK-EMPTY:
; CHECK-NEXT:  base:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i32 %n
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
; CHECK-NEXT:  entry:
; CHECK:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
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
; CHECK-NEXT:  entry:
; CHECK:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
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
