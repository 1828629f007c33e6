; ckpt-frames, restore path and descriptor. When @__ckpt_restoring is set, the
; prologue branches to ckpt.restore, which lets the runtime fill the record
; (@__ckpt_restore_frame(frame, desc) returns the saved site id) and switches
; on the site (anything else traps):
;  - at a call site, the same call is re-issued with its operands reloaded
;    from the record (indirect: through the reloaded callee), then the values
;    live across it are reloaded; the callee restores itself the same way;
;  - at a poll, the live values are reloaded;
; and control joins the original code at the site's continuation, where phis
; merge the original and the reloaded values (and the re-issued call's result).
; The descriptor in section "ckpt_funcs" gives the ABI version, the number of
; sites, the function, its name, the frame size and the sites, in id order:
; kind 1 poll, 2 direct call (with the callee), 3 indirect call (with the
; frame offset of the spilled callee).

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @work(i64)

; Sites are numbered polls first (latches in loop preorder, then an entry
; poll), then calls in instruction order: the latch poll is site 1, the direct
; call site 2, the indirect call site 3. Spill slots follow that order.
; Layout: header 24; site 1 spills %acc.next@24 %i.next@32 %c@40; site 2
; %i@48 %acc@56 %x@64; site 3 adds %r@72 and the callee %fp@80 -> 88 bytes.
; CHECK:      @__ckpt_desc.driver = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 2, i32 3, ptr @driver, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr {{@.*}}, i64 88, ptr @__ckpt_sites.driver, i32 0, i32 0, ptr null, i32 0, i32 0 }, section "ckpt_funcs", align 8
; CHECK-NEXT: @__ckpt_sites.driver = private constant [3 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @work, i64 0 }, { i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 80 }]
; CHECK-NEXT: [[NAME]] = private unnamed_addr constant [7 x i8] c"driver\00"

define i64 @driver(ptr %tbl, i64 %n) {
; CHECK-LABEL: define i64 @driver(ptr %tbl, i64 %n) {
; CHECK-NEXT:  ckpt.prologue:
; CHECK-NEXT:    %ckpt.frame = alloca [88 x i8], align 8
; CHECK:         br i1 %{{.*}}, label %ckpt.restore, label %entry

; The back-edge leaves from the continuation of the poll.
; CHECK:       loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %{{[^ ]+}}, %ckpt.cont ]
; CHECK-NEXT:    %acc = phi i64 [ 0, %entry ], [ %{{[^ ]+}}, %ckpt.cont ]
; CHECK-NEXT:    %x = mul i64 %i, 3
; Site 2: the live values, the operand, the id, then the call.
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    store i64 %i, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    store i64 %acc, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 64
; CHECK-NEXT:    store i64 %x, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %r = call i64 @work(i64 %x)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; Continuation of site 2: the call result and the loop values merge with
; the re-issued call's result and the reloaded values.
; CHECK-NEXT:  ckpt.cont1:
; CHECK-DAG:     [[R:%[^ ]+]] = phi i64 [ %r, %loop ], [ %{{[0-9]+}}, %ckpt.resume2 ]
; CHECK-DAG:     [[I1:%[^ ]+]] = phi i64 [ %i, %loop ], [ %i.ckpt, %ckpt.resume2 ]
; CHECK-DAG:     [[ACC1:%[^ ]+]] = phi i64 [ %acc, %loop ], [ %acc.ckpt, %ckpt.resume2 ]
; CHECK:         %slot = getelementptr inbounds ptr, ptr %tbl, i64 [[I1]]
; CHECK-NEXT:    %fp = load ptr, ptr %slot, align 8
; Site 3 stores the merged values (into the same slots as site 2), its
; operand and its callee.
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    store i64 [[I1]], ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    store i64 [[ACC1]], ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 72
; CHECK-NEXT:    store i64 [[R]], ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 80
; CHECK-NEXT:    store ptr %fp, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 3, ptr [[G]], align 4
; CHECK-NEXT:    %q = call i64 %fp(i64 [[R]])
; CHECK-NEXT:    br label %ckpt.cont2
; CHECK-EMPTY:
; Continuation of site 3 (the indirect call).
; CHECK-NEXT:  ckpt.cont2:
; CHECK-DAG:     [[Q:%[^ ]+]] = phi i64 [ %{{[0-9]+}}, %ckpt.resume3 ], [ %q, %ckpt.cont1 ]
; CHECK-DAG:     [[I2:%[^ ]+]] = phi i64 [ %i.ckpt{{[0-9]+}}, %ckpt.resume3 ], [ [[I1]], %ckpt.cont1 ]
; CHECK-DAG:     [[ACC2:%[^ ]+]] = phi i64 [ %acc.ckpt{{[0-9]+}}, %ckpt.resume3 ], [ [[ACC1]], %ckpt.cont1 ]
; CHECK:         br label %latch
; CHECK-EMPTY:
; Site 1, the poll, right before the back-edge: nothing stored on the fast
; path; the slow path stores the live values and the id.
; CHECK-NEXT:  latch:
; CHECK-NEXT:    %acc.next = add i64 [[ACC2]], [[Q]]
; CHECK-NEXT:    %i.next = add i64 [[I2]], 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store i64 %acc.next, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    store i64 %i.next, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 40
; CHECK-NEXT:    store i1 %c, ptr [[G]], align 1
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; Continuation of site 1: original from the latch and the slow path,
; reloaded from the restore path.
; CHECK-NEXT:  ckpt.cont:
; CHECK-DAG:     [[C:%[^ ]+]] = phi i1 [ %c, %ckpt.poll ], [ %c, %latch ], [ %c.ckpt, %ckpt.resume1 ]
; CHECK-DAG:     phi i64 [ %i.next, %ckpt.poll ], [ %i.next, %latch ], [ %i.next.ckpt, %ckpt.resume1 ]
; CHECK-DAG:     [[ACCNEXT:%[^ ]+]] = phi i64 [ %acc.next, %ckpt.poll ], [ %acc.next, %latch ], [ %acc.next.ckpt, %ckpt.resume1 ]
; CHECK:         br i1 [[C]], label %loop, label %exit
; CHECK-EMPTY:
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr
; CHECK-NEXT:    ret i64 [[ACCNEXT]]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.restore:
; CHECK-NEXT:    %ckpt.site = call i32 @__ckpt_restore_frame(ptr %ckpt.frame, ptr @__ckpt_desc.driver)
; CHECK-NEXT:    switch i32 %ckpt.site, label %ckpt.badsite [
; CHECK-NEXT:      i32 1, label %ckpt.resume1
; CHECK-NEXT:      i32 2, label %ckpt.resume2
; CHECK-NEXT:      i32 3, label %ckpt.resume3
; CHECK-NEXT:    ]
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.badsite:
; CHECK-NEXT:    call void @llvm.trap()
; CHECK-NEXT:    unreachable
; CHECK-EMPTY:
; Site 1, the poll: only reloads.
; CHECK-NEXT:  ckpt.resume1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    %acc.next.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 32
; CHECK-NEXT:    %i.next.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 40
; CHECK-NEXT:    %c.ckpt = load i1, ptr [[G]], align 1
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; Site 2: reload the operand, re-issue the direct call, reload the live values.
; CHECK-NEXT:  ckpt.resume2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 64
; CHECK-NEXT:    %x.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    {{%[0-9]+}} = call i64 @work(i64 %x.ckpt)
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    %i.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    %acc.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; Site 3: the indirect call goes through the reloaded callee.
; CHECK-NEXT:  ckpt.resume3:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 72
; CHECK-NEXT:    %r.ckpt = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 80
; CHECK-NEXT:    %fp.ckpt = load ptr, ptr [[G]], align 8
; CHECK-NEXT:    {{%[0-9]+}} = call i64 %fp.ckpt(i64 %r.ckpt)
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 48
; CHECK-NEXT:    %i.ckpt{{[0-9]+}} = load i64, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 56
; CHECK-NEXT:    %acc.ckpt{{[0-9]+}} = load i64, ptr [[G]], align 8
; CHECK-NEXT:    br label %ckpt.cont2
; CHECK-NEXT:  }
entry:
  br label %loop

loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %latch ]
  %acc = phi i64 [ 0, %entry ], [ %acc.next, %latch ]
  %x = mul i64 %i, 3
  %r = call i64 @work(i64 %x)
  %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
  %fp = load ptr, ptr %slot, align 8
  %q = call i64 %fp(i64 %r)
  br label %latch

latch:
  %acc.next = add i64 %acc, %q
  %i.next = add i64 %i, 1
  %c = icmp ult i64 %i.next, %n
  br i1 %c, label %loop, label %exit

exit:
  ret i64 %acc.next
}
