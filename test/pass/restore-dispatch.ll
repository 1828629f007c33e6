; ckpt-frames, no restore path (docs/design.md, "Frames redesign"): threads
; are saved as native stacks and resume where they stopped, so nothing in an
; instrumented function rebuilds its frame. Its prologue pushes the record and
; goes straight on (no test of __ckpt_restoring, no branch); there is no
; ckpt.restore dispatch, no call to __ckpt_restore_frame (neither symbol is
; even declared), no ckpt.resumeN or ckpt.badsite block, no re-issued call,
; no phi merging reloaded values (no value named *.ckpt), and no value live
; across a site (nor a call operand) is stored into the record.
; What the sites keep:
;  - the site id, stored into the header's site field (offset 16) before the
;    site: before a call, or in the slow block of a poll only;
;  - after a call returns, the site is cleared (0);
;  - an indirect call stores its callee into the record before the id.
; The descriptor in section "ckpt_funcs" gives the ABI version, the number of
; sites, the function, its name, the frame size and the sites, in id order:
; kind 1 poll, 2 direct call (with the callee), 3 indirect call (with the
; frame offset of the stored callee).

; RUN: %opt-ckpt -passes=ckpt-frames -verify-each -S %s | FileCheck %s \
; RUN:   --implicit-check-not=ckpt.restore --implicit-check-not=ckpt.resume \
; RUN:   --implicit-check-not=ckpt.badsite --implicit-check-not=llvm.trap \
; RUN:   --implicit-check-not=__ckpt_restor \
; RUN:   --implicit-check-not='{{\.ckpt[0-9]* = }}'

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i64 @work(i64)

; Sites are numbered polls first (latches in loop preorder, then an entry
; poll), then calls in instruction order: the latch poll is site 1, the direct
; call site 2, the indirect call site 3. The record is the header (24 bytes)
; and the slot of the indirect callee %fp at 24 -> 32 bytes.
; CHECK:      @__ckpt_desc.driver = private constant { i32, i32, ptr, ptr, ptr, i64, ptr, i32, i32, ptr, i32, i32 } { i32 3, i32 3, ptr @driver, ptr [[NAME:@__ckpt_fname[.0-9]*]], ptr {{@.*}}, i64 32, ptr @__ckpt_sites.driver, i32 0, i32 0, ptr null, i32 0, i32 0 }, section "ckpt_funcs", align 8
; CHECK-NEXT: @__ckpt_sites.driver = private constant [3 x { i32, i32, ptr, i64 }] [{ i32, i32, ptr, i64 } { i32 1, i32 0, ptr null, i64 0 }, { i32, i32, ptr, i64 } { i32 2, i32 0, ptr @work, i64 0 }, { i32, i32, ptr, i64 } { i32 3, i32 0, ptr null, i64 24 }]
; CHECK-NEXT: [[NAME]] = private unnamed_addr constant [7 x i8] c"driver\00"

define i64 @driver(ptr %tbl, i64 %n) {
; The whole function: the prologue is in the entry block, which falls through
; to the loop as before.
; CHECK-LABEL: define i64 @driver(ptr %tbl, i64 %n) {
; CHECK-NEXT:  entry:
; CHECK-NEXT:    %ckpt.frame = alloca [32 x i8], align 8
; CHECK-NEXT:    [[TOP:%.*]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
; CHECK-NEXT:    %ckpt.parent = load ptr, ptr [[TOP]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 0
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 8
; CHECK-NEXT:    store ptr @__ckpt_desc.driver, ptr [[G]], align 8
; CHECK-NEXT:    store ptr %ckpt.frame, ptr [[TOP]], align 8
; CHECK-NEXT:    br label %loop
; CHECK-EMPTY:
; The loop phis take the original values only.
; CHECK-NEXT:  loop:
; CHECK-NEXT:    %i = phi i64 [ 0, %entry ], [ %i.next, %ckpt.cont ]
; CHECK-NEXT:    %acc = phi i64 [ 0, %entry ], [ %acc.next, %ckpt.cont ]
; CHECK-NEXT:    %x = mul i64 %i, 3
; Site 2: only the id (%i, %acc and the operand %x are not stored).
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 2, ptr [[G]], align 4
; CHECK-NEXT:    %r = call i64 @work(i64 %x)
; CHECK-NEXT:    br label %ckpt.cont1
; CHECK-EMPTY:
; Continuation of site 2: no phi, the site is cleared; then site 3 stores its
; callee and its id (not %r, %i or %acc).
; CHECK-NEXT:  ckpt.cont1:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    %slot = getelementptr inbounds ptr, ptr %tbl, i64 %i
; CHECK-NEXT:    %fp = load ptr, ptr %slot, align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 24
; CHECK-NEXT:    store ptr %fp, ptr [[G]], align 8
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 3, ptr [[G]], align 4
; CHECK-NEXT:    %q = call i64 %fp(i64 %r)
; CHECK-NEXT:    br label %ckpt.cont2
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.cont2:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 0, ptr [[G]], align 4
; CHECK-NEXT:    br label %latch
; CHECK-EMPTY:
; Site 1, the poll, right before the back-edge: nothing stored on the fast
; path; the slow path stores the id only (not %acc.next, %i.next or %c).
; CHECK-NEXT:  latch:
; CHECK-NEXT:    %acc.next = add i64 %acc, %q
; CHECK-NEXT:    %i.next = add i64 %i, 1
; CHECK-NEXT:    %c = icmp ult i64 %i.next, %n
; CHECK-NEXT:    %ckpt.pending = load atomic i32, ptr @__ckpt_pending monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = icmp ne i32 %ckpt.pending, 0
; CHECK-NEXT:    br i1 [[P]], label %ckpt.poll, label %ckpt.cont, !prof
; CHECK-EMPTY:
; CHECK-NEXT:  ckpt.poll:
; CHECK-NEXT:    [[G:%.*]] = getelementptr inbounds i8, ptr %ckpt.frame, i64 16
; CHECK-NEXT:    store i32 1, ptr [[G]], align 4
; CHECK-NEXT:    call void @__ckpt_poll(ptr %ckpt.frame)
; CHECK-NEXT:    br label %ckpt.cont
; CHECK-EMPTY:
; Continuation of site 1: no phi; the back-edge uses the original %c.
; CHECK-NEXT:  ckpt.cont:
; CHECK-NEXT:    br i1 %c, label %loop, label %exit
; CHECK-EMPTY:
; The pop, and nothing after the last block.
; CHECK-NEXT:  exit:
; CHECK-NEXT:    store ptr %ckpt.parent, ptr [[TOP]], align 8
; CHECK-NEXT:    ret i64 %acc.next
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
