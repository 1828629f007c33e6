; ckpt-frames, attributes: what the optimiser inferred before the pass stops
; being true once a function keeps a frame record. An instrumented function
; stores into its record around its sites (the site id before, 0 after a
; call), and a site call may stop in a callee while the runtime reads the
; record through the shadow stack. So the pass drops, from every instrumented
; function and from every site call:
;   memory(...), nosync, nofree, willreturn, norecurse,
; and a site call loses `tail`. Other attributes stay (nounwind, mustprogress,
; uwtable, parameter attributes), and so does everything on calls that are
; not sites and on functions that are not instrumented.
; Left in place, memory(argmem: read) would let a later IR pass (here DSE,
; as in an LTO link) delete the site-id stores before the calls: a checkpoint
; would then record the wrong site.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s
; RUN: %opt-ckpt -passes='ckpt-frames,function(dse)' -verify-each -S %s | FileCheck %s --check-prefix=DSE

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; Attributes as clang -O2 infers them (function-attrs).
declare i64 @strlen(ptr) #3

; A loop with an unknown trip count: polls, so it is instrumented.
define i64 @sum(ptr nocapture readonly %a, i64 %n) #0 {
; CHECK-LABEL: define i64 @sum(
; CHECK-SAME:  ptr nocapture readonly %a, i64 %n) [[SUM_ATTRS:#[0-9]+]] {
; CHECK:         call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK:       }
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %latch ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %latch ]
  %p = getelementptr inbounds i64, ptr %a, i64 %i
  %v = load i64, ptr %p, align 8
  %s.next = add i64 %s, %v
  %hit = icmp eq i64 %s.next, 12345
  br i1 %hit, label %exit, label %latch

latch:
  %i.next = add nuw nsw i64 %i, 1
  %more = icmp slt i64 %i.next, %n
  br i1 %more, label %loop, label %exit

exit:
  %r = phi i64 [ 0, %entry ], [ %s.next, %loop ], [ %s.next, %latch ]
  ret i64 %r
}

; Two sites (the calls to @sum) and a call that is no site (@strlen).
define i64 @twice(ptr nocapture readonly %a, i64 %n, ptr %str) #1 {
; CHECK-LABEL: define i64 @twice(
; CHECK-SAME:  ptr nocapture readonly %a, i64 %n, ptr %str) [[TWICE_ATTRS:#[0-9]+]] {
; CHECK-NEXT:  entry:
; CHECK:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    %x = call i64 @sum(ptr %a, i64 %n) [[SITE_ATTRS:#[0-9]+]]
; CHECK:         store i32 2, ptr
; CHECK-NEXT:    %y = call i64 @sum(ptr %a, i64 %h) [[SITE_ATTRS]]
; CHECK:         %l = tail call i64 @strlen(ptr %str) [[STRLEN_ATTRS:#[0-9]+]]
; CHECK-NOT:     call
; CHECK:       }
entry:
  %x = tail call i64 @sum(ptr %a, i64 %n) #2
  %h = sdiv i64 %n, 2
  %y = tail call i64 @sum(ptr %a, i64 %h) #2
  %l = tail call i64 @strlen(ptr %str) #2
  %xy = mul i64 %x, %y
  %r = add i64 %xy, %l
  ret i64 %r
}

; Cannot reach a poll: not instrumented, attributes and `tail` kept.
define i64 @leaf(i64 %x) #4 {
; CHECK-LABEL: define i64 @leaf(
; CHECK-SAME:  i64 %x) [[LEAF_ATTRS:#[0-9]+]] {
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y
  %y = mul i64 %x, %x
  ret i64 %y
}

define i64 @calls_leaf(i64 %x) #4 {
; CHECK-LABEL: define i64 @calls_leaf(
; CHECK-SAME:  i64 %x) [[LEAF_ATTRS]] {
; CHECK-NEXT:    %y = tail call i64 @leaf(i64 %x) [[LEAF_CALL_ATTRS:#[0-9]+]]
  %y = tail call i64 @leaf(i64 %x) #5
  ret i64 %y
}

; CHECK-DAG: attributes [[SUM_ATTRS]] = { mustprogress nounwind }
; CHECK-DAG: attributes [[TWICE_ATTRS]] = { nounwind uwtable }
; CHECK-DAG: attributes [[SITE_ATTRS]] = { nounwind }
; CHECK-DAG: attributes [[STRLEN_ATTRS]] = { nofree nosync nounwind willreturn memory(argmem: read) }
; CHECK-DAG: attributes [[LEAF_ATTRS]] = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) }
; CHECK-DAG: attributes [[LEAF_CALL_ATTRS]] = { nofree nosync nounwind willreturn memory(none) }

; After DSE, the site id stored before each of the two sites is still there.
; (What DSE may delete, rightly: the 0 stored after site 1, overwritten by
; site 2's id with no call in between, and the 0 stored after site 2, dead
; once the record is popped: only @strlen, which reads its argument alone,
; runs in between.)
; DSE-LABEL: define i64 @twice(
; DSE-NEXT:  entry:
; DSE:         store ptr %ckpt.frame, ptr {{%.*}}, align 8
; DSE-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; DSE-NEXT:    store i32 1, ptr [[G]], align 4
; DSE-NEXT:    %x = call i64 @sum(ptr %a, i64 %n)
; DSE-NEXT:    br label %ckpt.cont
; DSE-EMPTY:
; DSE-NEXT:  ckpt.cont:
; DSE-NEXT:    %h = sdiv i64 %n, 2
; DSE-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; DSE-NEXT:    store i32 2, ptr [[G]], align 4
; DSE-NEXT:    %y = call i64 @sum(ptr %a, i64 %h)

attributes #0 = { mustprogress nofree norecurse nosync nounwind willreturn memory(argmem: read) }
attributes #1 = { nofree norecurse nosync nounwind willreturn memory(argmem: read) uwtable }
attributes #2 = { nofree nosync nounwind willreturn memory(argmem: read) }
attributes #3 = { nofree nounwind willreturn memory(argmem: read) }
attributes #4 = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) }
attributes #5 = { nofree nosync nounwind willreturn memory(none) }
