; ckpt-frames, attributes and `tail`: nothing is stored around calls any more
; (no site ids, no callee spills: threads are saved as native stacks, see
; docs/design.md, "Frames redesign"), so calls keep their `tail` markers and
; attributes. By default (no -ckpt-polls) there are no polls: the runtime
; stops threads by signal anywhere, so every function is instrumented (gets a
; descriptor), a loop-free leaf (@leaf, @calls_leaf) as much as a loop (@sum).
; What the optimiser inferred about an instrumented function is false once it
; can stop: it loses memory(...), nosync, nofree, willreturn and norecurse
; (keeping mustprogress, nounwind, uwtable and its parameter attributes) --
; else a later pass could delete a caller's record stores or forward an
; excluded local across the call.
; A function with excluded locals publishes its frame record through the
; thread-local chain @__ckpt_records, which the runtime reads while a callee
; is stopped: its calls that may stop lose `tail` and their attributes too;
; a call that cannot stop (@strlen) keeps them; a call to @leaf can stop
; now (@secret_leaf).
; With -ckpt-polls (POLLS), a function that cannot reach a poll (@leaf,
; @calls_leaf) is not touched: no descriptor, attributes kept.

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=__ckpt_top --implicit-check-not=__ckpt_sites \
; RUN:   --implicit-check-not=ckpt.frame --implicit-check-not=store \
; RUN:   --implicit-check-not=ckpt.poll --implicit-check-not="call void @__ckpt_poll" \
; RUN:   --implicit-check-not=ckpt.pending
; RUN: %opt-ckpt -passes=ckpt-frames -ckpt-polls -verify-each -S %s | FileCheck %s --check-prefix=POLLS \
; RUN:   --implicit-check-not=__ckpt_desc.leaf --implicit-check-not=__ckpt_desc.calls_leaf \
; RUN:   --implicit-check-not=__ckpt_desc.secret_leaf

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str.ex = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
@.str.file = private unnamed_addr constant [4 x i8] c"a.c\00", section "llvm.metadata"

; CHECK: @__ckpt_desc.leaf = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @leaf, ptr {{@__ckpt_fname[.0-9]*}}, ptr {{@__ckpt_ffile[.0-9]*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs", align 8
; CHECK: @llvm.used = appending global [6 x ptr] [ptr @__ckpt_desc.sum, ptr @__ckpt_desc.twice, ptr @__ckpt_desc.twice_secret, ptr @__ckpt_desc.leaf, ptr @__ckpt_desc.calls_leaf, ptr @__ckpt_desc.secret_leaf], section "llvm.metadata"
; POLLS: @llvm.used = appending global [3 x ptr] [ptr @__ckpt_desc.sum, ptr @__ckpt_desc.twice, ptr @__ckpt_desc.twice_secret], section "llvm.metadata"

; Attributes as clang -O2 infers them (function-attrs).
; CHECK: declare i64 @strlen(ptr) [[STRLEN_DECL_ATTRS:#[0-9]+]]
declare i64 @strlen(ptr) #3
declare void @llvm.var.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

; A loop with an unknown trip count: no poll (the body is as it was), but
; it loses its inferred attributes.
; CHECK-LABEL: define i64 @sum(
; CHECK-SAME:  ptr nocapture readonly %a, i64 %n) [[SUM_ATTRS:#[0-9]+]] {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %empty = icmp sle i64 %n, 0
; CHECK-NEXT:    br i1 %empty, label %exit, label %loop
; CHECK-EMPTY:
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
; CHECK-NEXT:    %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
; CHECK-NEXT:    %p = getelementptr inbounds i64, ptr %a, i64 %i
; CHECK-NEXT:    %v = load i64, ptr %p, align 8
; CHECK-NEXT:    %s.next = add i64 %s, %v
; CHECK-NEXT:    %i.next = add nuw nsw i64 %i, 1
; CHECK-NEXT:    %more = icmp slt i64 %i.next, %n
; CHECK-NEXT:    br i1 %more, label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    %r = phi i64 [ 0, %entry ], [ %s.next, %loop ]
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
; POLLS-LABEL: define i64 @sum(
; POLLS:       ckpt.poll:
; POLLS-NEXT:    call void @__ckpt_poll()
define i64 @sum(ptr nocapture readonly %a, i64 %n) #0 {
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  %p = getelementptr inbounds i64, ptr %a, i64 %i
  %v = load i64, ptr %p, align 8
  %s.next = add i64 %s, %v
  %i.next = add nuw nsw i64 %i, 1
  %more = icmp slt i64 %i.next, %n
  br i1 %more, label %loop, label %exit

exit:
  %r = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  ret i64 %r
}

; Calls that may stop (@sum) and one that cannot (@strlen): all stay `tail`
; calls with their attributes, nothing around them; the function loses its
; inferred attributes.
; CHECK-LABEL: define i64 @twice(
; CHECK-SAME:  ptr nocapture readonly %a, i64 %n, ptr %str) [[TWICE_ATTRS:#[0-9]+]] {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %x = tail call i64 @sum(ptr %a, i64 %n) [[CALL_ATTRS:#[0-9]+]]
; CHECK-NEXT:    %h = sdiv i64 %n, 2
; CHECK-NEXT:    %y = tail call i64 @sum(ptr %a, i64 %h) [[CALL_ATTRS]]
; CHECK-NEXT:    %l = tail call i64 @strlen(ptr %str) [[CALL_ATTRS]]
; CHECK-NEXT:    %xy = mul i64 %x, %y
; CHECK-NEXT:    %r = add i64 %xy, %l
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
define i64 @twice(ptr nocapture readonly %a, i64 %n, ptr %str) #1 {
entry:
  %x = tail call i64 @sum(ptr %a, i64 %n) #2
  %h = sdiv i64 %n, 2
  %y = tail call i64 @sum(ptr %a, i64 %h) #2
  %l = tail call i64 @strlen(ptr %str) #2
  %xy = mul i64 %x, %y
  %r = add i64 %xy, %l
  ret i64 %r
}

; The same attributes (#1), but with an excluded local: a record, and the
; function's attributes go, and so do `tail` and the attributes of the call
; that may stop.
; CHECK-LABEL: define i64 @twice_secret(
; CHECK-SAME:  ptr nocapture readonly %a, i64 %n, ptr %str) [[TWICE_ATTRS]] {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[CHAIN]], align 8
; CHECK-NEXT:    [[F0:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[F0]], align 8
; CHECK-NEXT:    [[F8:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.twice_secret, ptr [[F8]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[CHAIN]], align 8
; CHECK-NEXT:    store i64 %n, ptr %key, align 8
; CHECK-NEXT:    %x = call i64 @sum(ptr %a, i64 %n) [[STOP_CALL_ATTRS:#[0-9]+]]{{$}}
; CHECK-NEXT:    %k = load i64, ptr %key, align 8
; CHECK-NEXT:    %l = tail call i64 @strlen(ptr %str) [[CALL_ATTRS]]{{$}}
; CHECK-NEXT:    %r = add i64 %x, %l
; CHECK-NEXT:    %s = add i64 %r, %k
; CHECK-NEXT:    [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN2]], align 8
; CHECK-NEXT:    ret i64 %s
; CHECK-NEXT:  }
define i64 @twice_secret(ptr nocapture readonly %a, i64 %n, ptr %str) #1 {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  store i64 %n, ptr %key, align 8
  %x = tail call i64 @sum(ptr %a, i64 %n) #2
  %k = load i64, ptr %key, align 8
  %l = tail call i64 @strlen(ptr %str) #2
  %r = add i64 %x, %l
  %s = add i64 %r, %k
  ret i64 %s
}

; A loop-free leaf, and its caller: instrumented all the same (a signal can
; stop a thread in them), so they lose their inferred attributes (the same
; as @sum's then); the call keeps `tail` and its attributes (no record).
; With -ckpt-polls they cannot reach a poll: not touched at all.
; CHECK-LABEL: define i64 @leaf(
; CHECK-SAME:  i64 %x) [[SUM_ATTRS]] {
; CHECK-NEXT:    %y = mul i64 %x, %x
; CHECK-NEXT:    ret i64 %y
; POLLS-LABEL: define i64 @leaf(
; POLLS-SAME:  i64 %x) [[LEAF_ATTRS:#[0-9]+]] {
define i64 @leaf(i64 %x) #4 {
  %y = mul i64 %x, %x
  ret i64 %y
}

; CHECK-LABEL: define i64 @calls_leaf(
; CHECK-SAME:  i64 %x) [[SUM_ATTRS]] {
; CHECK-NEXT:    %y = tail call i64 @leaf(i64 %x) [[LEAF_CALL_ATTRS:#[0-9]+]]
; CHECK-NEXT:    ret i64 %y
; POLLS-LABEL: define i64 @calls_leaf(
; POLLS-SAME:  i64 %x) [[LEAF_ATTRS]] {
; POLLS-NEXT:    %y = tail call i64 @leaf(i64 %x) [[POLLS_LEAF_CALL_ATTRS:#[0-9]+]]
define i64 @calls_leaf(i64 %x) #4 {
  %y = tail call i64 @leaf(i64 %x) #5
  ret i64 %y
}

; An excluded local, and a call to the leaf: that call may stop now, so it
; loses `tail` and its attributes. (With -ckpt-polls the function cannot
; stop: not instrumented at all, no record, the call kept as it was.)
; CHECK-LABEL: define i64 @secret_leaf(
; CHECK-SAME:  i64 %n) [[TWICE_ATTRS]] {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.record = alloca [24 x i8], align 8
; CHECK-NEXT:    %key = getelementptr inbounds i8, ptr %ckpt.record, i64 16
; CHECK-NEXT:    [[CHAIN:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[CHAIN]], align 8
; CHECK-NEXT:    [[F0:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[F0]], align 8
; CHECK-NEXT:    [[F8:%.*]] = getelementptr inbounds i8, ptr %ckpt.record, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.secret_leaf, ptr [[F8]], align 8
; CHECK-NEXT:    store ptr %ckpt.record, ptr [[CHAIN]], align 8
; CHECK-NEXT:    store i64 %n, ptr %key, align 8
; CHECK-NEXT:    %x = call i64 @leaf(i64 %n) [[STOP_CALL_ATTRS]]{{$}}
; CHECK-NEXT:    %k = load i64, ptr %key, align 8
; CHECK-NEXT:    %r = add i64 %x, %k
; CHECK-NEXT:    [[CHAIN2:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[CHAIN2]], align 8
; CHECK-NEXT:    ret i64 %r
; CHECK-NEXT:  }
; POLLS-LABEL: define i64 @secret_leaf(
; POLLS-NEXT:  entry:
; POLLS-NEXT:    %key = alloca i64, align 8
; POLLS-NEXT:    call void @llvm.var.annotation
; POLLS-NEXT:    store i64 %n, ptr %key, align 8
; POLLS-NEXT:    %x = tail call i64 @leaf(i64 %n) [[POLLS_LEAF_CALL_ATTRS]]{{$}}
define i64 @secret_leaf(i64 %n) #1 {
entry:
  %key = alloca i64, align 8
  call void @llvm.var.annotation.p0.p0(ptr %key, ptr @.str.ex, ptr @.str.file, i32 3, ptr null)
  store i64 %n, ptr %key, align 8
  %x = tail call i64 @leaf(i64 %n) #5
  %k = load i64, ptr %key, align 8
  %r = add i64 %x, %k
  ret i64 %r
}

; CHECK-DAG: attributes [[STRLEN_DECL_ATTRS]] = { nofree nounwind willreturn memory(argmem: read) }
; CHECK-DAG: attributes [[SUM_ATTRS]] = { mustprogress nounwind }
; CHECK-DAG: attributes [[TWICE_ATTRS]] = { nounwind uwtable }
; CHECK-DAG: attributes [[CALL_ATTRS]] = { nofree nosync nounwind willreturn memory(argmem: read) }
; CHECK-DAG: attributes [[STOP_CALL_ATTRS]] = { nounwind }
; CHECK-DAG: attributes [[LEAF_CALL_ATTRS]] = { nofree nosync nounwind willreturn memory(none) }
; POLLS-DAG: attributes [[LEAF_ATTRS]] = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) }
; POLLS-DAG: attributes [[POLLS_LEAF_CALL_ATTRS]] = { nofree nosync nounwind willreturn memory(none) }

attributes #0 = { mustprogress nofree norecurse nosync nounwind willreturn memory(argmem: read) }
attributes #1 = { nofree norecurse nosync nounwind willreturn memory(argmem: read) uwtable }
attributes #2 = { nofree nosync nounwind willreturn memory(argmem: read) }
attributes #3 = { nofree nounwind willreturn memory(argmem: read) }
attributes #4 = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) }
attributes #5 = { nofree nosync nounwind willreturn memory(none) }
