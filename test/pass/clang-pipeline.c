// The plugin really runs from clang: -fpass-plugin registers the "ckpt"
// pipeline (globals, frames, main takeover) at the end of the optimisation
// pipeline, at every -O level. At -O0 (optnone functions) as at -O2: main is
// renamed __ckpt_main, the global gets a descriptor, nothing polls (no
// -ckpt-polls: the runtime stops threads by signal anywhere), every function
// gets a descriptor in ckpt_funcs, a loop-free leaf (twice) too, all of them
// kept by @llvm.used, and only a function with an excluded local (annotate
// "ckpt.exclude", as CKPT_EXCLUDE writes it; at -O2 also main, into which
// secret is inlined) pushes a frame record on @__ckpt_records. No function has a restore path, sites or a shadow stack
// (docs/design.md, "Frames redesign"): nothing refers to __ckpt_restoring,
// __ckpt_restore_frame, __ckpt_top or __ckpt_sites.
// The output must also pass the IR verifier (clang does not verify it in
// release builds).
//
// %ckpt-plugin is the path of ckpt.so; it needs this line in test/lit.cfg.py:
//   config.substitutions.append(("%ckpt-plugin", plugin))
//
// RUN: %clang -O2 -fpass-plugin=%ckpt-plugin -S -emit-llvm -o %t.O2.ll %s
// RUN: FileCheck %s --implicit-check-not=__ckpt_restor --implicit-check-not=__ckpt_top \
// RUN:   --implicit-check-not=__ckpt_sites --implicit-check-not="call void @__ckpt_poll" \
// RUN:   --implicit-check-not="load atomic" < %t.O2.ll
// RUN: %opt-ckpt -passes=verify -disable-output %t.O2.ll
// RUN: %clang -O0 -fpass-plugin=%ckpt-plugin -S -emit-llvm -o %t.O0.ll %s
// RUN: FileCheck %s --implicit-check-not=__ckpt_restor --implicit-check-not=__ckpt_top \
// RUN:   --implicit-check-not=__ckpt_sites --implicit-check-not="call void @__ckpt_poll" \
// RUN:   --implicit-check-not="load atomic" < %t.O0.ll
// RUN: %opt-ckpt -passes=verify -disable-output %t.O0.ll

// CHECK-DAG: @__ckpt_gdesc{{[.0-9]*}} = private constant { ptr, i64, ptr, i32, i32 } { ptr @counter, i64 4, ptr @{{.*}}, i32 0, i32 0 }, section "ckpt_globals"
// CHECK-DAG: @__ckpt_desc.work = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @work, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs"
// CHECK-DAG: @__ckpt_desc.secret = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @secret, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 1, i64 24, ptr @__ckpt_excluded.secret }, section "ckpt_funcs"
// CHECK-DAG: @__ckpt_excluded.secret = private constant [1 x { i64, i64 }] [{ i64, i64 } { i64 16, i64 8 }]
// CHECK-DAG: @__ckpt_desc.twice = private constant { i32, i32, ptr, ptr, ptr, i32, i32, i64, ptr } { i32 4, i32 0, ptr @twice, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 0, i64 0, ptr null }, section "ckpt_funcs"
// CHECK-DAG: @__ckpt_desc.main = private constant {{.*}} ptr @__ckpt_main, ptr [[MAINNAME:@__ckpt_fname[.0-9]*]], {{.*}} section "ckpt_funcs"
// CHECK-DAG: [[MAINNAME]] = private unnamed_addr constant [5 x i8] c"main\00"
// CHECK-DAG: @llvm.used = appending global [5 x ptr] [ptr @__ckpt_gdesc{{[.0-9]*}}, ptr @__ckpt_desc.work, ptr @__ckpt_desc.secret, ptr @__ckpt_desc.twice, ptr @__ckpt_desc.main], section "llvm.metadata"
// CHECK-NOT: define {{.*}} @main(

// The loop: no poll (no load of __ckpt_pending, see the RUN lines), no
// record.
// CHECK-LABEL: define {{.*}} @work(
// CHECK-NOT:     __ckpt
// CHECK:         ret i64
// CHECK-NOT:     __ckpt
// CHECK:       }

// The record: %key is its field at 16; pushed, and popped before the return.
// CHECK-LABEL: define {{.*}} @secret(
// CHECK:         [[RECORD:%[0-9]+]] = alloca [24 x i8], align 8
// CHECK:         [[KEY:%[0-9]+]] = getelementptr inbounds i8, ptr [[RECORD]], i64 16
// CHECK-NEXT:    [[CHAIN:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
// CHECK-NEXT:    [[PARENT:%[0-9]+]] = load ptr, ptr [[CHAIN]], align 8
// CHECK:         store ptr @__ckpt_desc.secret, ptr
// CHECK-NEXT:    store ptr [[RECORD]], ptr [[CHAIN]], align 8
// CHECK:         call void @consume(ptr noundef {{(nonnull )?}}[[KEY]])
// CHECK-NEXT:    [[V:%[0-9]+]] = load i64, ptr [[KEY]], align 8
// CHECK-NEXT:    [[CHAIN2:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_records)
// CHECK-NEXT:    store ptr [[PARENT]], ptr [[CHAIN2]], align 8
// CHECK-NEXT:    ret i64 [[V]]

// A leaf: untouched.
// CHECK-LABEL: define {{.*}} @twice(
// CHECK-NOT:     __ckpt
// CHECK:       }

// (At -O2 work and secret are inlined into main; at -O0 main calls them.)
// CHECK-LABEL: define {{.*}} i32 @__ckpt_main(
// CHECK-NOT: define {{.*}} @main(

int counter;

long work(long *a, long n) {
  long s = 0;
  for (long i = 0; i < n; i++) {
    s += a[i];
    counter++;
  }
  return s;
}

void consume(long *);

long secret(long n) {
  __attribute__((annotate("ckpt.exclude"))) long key = n;
  consume(&key);
  return key;
}

long twice(long x) { return 2 * x; }

int main(int argc, char **argv) {
  long a[4] = {1, 2, 3, 4};
  (void)argv;
  return (int)work(a, argc) + (int)secret(argc);
}
