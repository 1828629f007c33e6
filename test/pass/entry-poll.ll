; ckpt-frames, entry polls: a function on a call cycle that has no polled loop
; (here: fib, and the mutually recursive is_even/is_odd) gets a poll at its
; entry, so a deep recursion can stop: the fast-path test first thing in the
; entry block, the call to @__ckpt_poll() in its own block, the original body
; in the continuation. Nothing else changes: no record (none of these
; functions excludes a local), no store, the recursive calls are left as they
; were, and there is no restore path.
; A function on a cycle that already polls in a loop gets no entry poll.
; A non-recursive, loop-free leaf cannot reach a poll: it gets nothing at all
; (no poll, no descriptor), and so do its callers when that is all they call.
; Run with -ckpt-polls: polls are off by default, the runtime stops threads
; by signal; this option restores the poll placement tested here.

; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.square --implicit-check-not=__ckpt_desc.calls_leaf \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=ckpt.record \
; RUN:   --implicit-check-not=store

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; CHECK: @__ckpt_desc.fib = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @fib, ptr {{@__ckpt_fname[.0-9]*}}, ptr {{@__ckpt_ffile[.0-9]*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.is_even = private constant {{.*}} ptr @is_even,
; CHECK: @__ckpt_desc.is_odd = private constant {{.*}} ptr @is_odd,
; CHECK: @__ckpt_desc.visit = private constant {{.*}} ptr @visit,
; CHECK: @llvm.used = appending global [4 x ptr] [ptr @__ckpt_desc.fib, ptr @__ckpt_desc.is_even, ptr @__ckpt_desc.is_odd, ptr @__ckpt_desc.visit], section "llvm.metadata"

define i32 @fib(i32 %n) {
; CHECK-LABEL: define i32 @fib(i32 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; The original body follows the poll, unchanged: the recursive calls are not
; split off or surrounded by anything.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    %small = icmp slt i32 %n, 2
; CHECK-NEXT:    br i1 %small, label %base, label %rec
; CHECK-EMPTY:
; CHECK-NEXT:  rec:
; CHECK-NEXT:    %n1 = sub i32 %n, 1
; CHECK-NEXT:    %a = call i32 @fib(i32 %n1)
; CHECK-NEXT:    %n2 = sub i32 %n, 2
; CHECK-NEXT:    %b = call i32 @fib(i32 %n2)
; CHECK-NEXT:    %s = add i32 %a, %b
; CHECK-NEXT:    ret i32 %s
; CHECK-EMPTY:
; CHECK-NEXT:  base:
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
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    %z = icmp eq i32 %n, 0
; CHECK:       no:
; CHECK-NEXT:    %m = sub i32 %n, 1
; CHECK-NEXT:    %r = call i1 @is_odd(i32 %m)
; CHECK-NEXT:    ret i1 %r
; CHECK-NEXT:  }
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
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    call void @__ckpt_poll()
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    %z = icmp eq i32 %n, 0
; CHECK:       no:
; CHECK-NEXT:    %m = sub i32 %n, 1
; CHECK-NEXT:    %r = call i1 @is_even(i32 %m)
; CHECK-NEXT:    ret i1 %r
; CHECK-NEXT:  }
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
; CHECK:         call void @visit(ptr %child)
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
