; ckpt-frames without -ckpt-polls (the default): the runtime stops running
; threads by signal wherever they are, so the pass places no poll at all: a
; loop with an unknown trip count and a call (@spin) gets no latch poll, and
; no load of @__ckpt_pending; its body is left as it was. Every instrumentable
; function gets a descriptor: @spin, and the loop-free, call-free @leaf too.
; A static function used only as a qsort comparator (@cmp) runs only under
; qsort, outside the program's code, so it gets none. The one poll is right
; after the call that hands qsort that function (@sort): a thread that could
; not stop while qsort ran stops there as soon as it is back (the master of
; an OpenMP region after __kmpc_fork_call, the same way). The same module
; with -ckpt-polls (POLLS) also polls at @spin's latch and gives @leaf no
; descriptor.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_desc.cmp --implicit-check-not='call void @__ckpt_poll' \
; RUN:   --implicit-check-not='load atomic' --implicit-check-not=ckpt.poll \
; RUN:   --implicit-check-not=ckpt.cont --implicit-check-not=ckpt.pending
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefix=POLLS \
; RUN:   --implicit-check-not=__ckpt_desc.cmp --implicit-check-not=__ckpt_desc.leaf

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @ext()
declare void @qsort(ptr, i64, i64, ptr)

; CHECK: @__ckpt_desc.spin = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @spin, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.leaf = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @leaf, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @__ckpt_desc.sort = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @sort, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.spin, ptr @__ckpt_desc.leaf, ptr @__ckpt_desc.sort], section "llvm.metadata"
; POLLS: @llvm.used = appending global [2 x ptr] [ptr @__ckpt_desc.spin, ptr @__ckpt_desc.sort], section "llvm.metadata"

; CHECK-LABEL: define void @spin(i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
; CHECK-NEXT:    call void @ext()
; CHECK-NEXT:    %i.next = add i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    ret void
; CHECK-NEXT:  }
; POLLS-LABEL: define void @spin(i64 %n) {
; POLLS:         %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; POLLS:       ckpt.poll:
; POLLS-NEXT:    call void @__ckpt_poll()
define void @spin(i64 %n) {
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  call void @ext()
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  ret void
}

; CHECK-LABEL: define i64 @leaf(i64 %x) {
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y
; CHECK-NEXT:  }
define i64 @leaf(i64 %x) {
  %y = mul i64 %x, %x
  ret i64 %y
}

; The comparator: no descriptor (RUN lines), its body as it was.
; CHECK-LABEL: define internal i32 @cmp(ptr %a, ptr %b) {
; CHECK-NEXT:    %x = load i32, ptr %a, align 4
; CHECK-NEXT:    %y = load i32, ptr %b, align 4
; CHECK-NEXT:    %d = sub i32 %x, %y
; CHECK-NEXT:    ret i32 %d
; CHECK-NEXT:  }
define internal i32 @cmp(ptr %a, ptr %b) {
  %x = load i32, ptr %a, align 4
  %y = load i32, ptr %b, align 4
  %d = sub i32 %x, %y
  ret i32 %d
}

; CHECK-LABEL: define void @sort(ptr %v, i64 %n) {
; CHECK-NEXT:    call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp)
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
define void @sort(ptr %v, i64 %n) {
  call void @qsort(ptr %v, i64 %n, i64 4, ptr @cmp)
  ret void
}
