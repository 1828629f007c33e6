// The plugin really runs from clang: -fpass-plugin registers the "ckpt"
// pipeline (main takeover, globals, frames) at the end of the optimisation
// pipeline, at every -O level. At -O0 (optnone functions) as at -O2: main is
// renamed __ckpt_main, the global gets a descriptor, the loop polls, and the
// instrumented functions push their frame records and get descriptors in
// ckpt_funcs. No function has a restore path (docs/design.md, "Frames
// redesign"): nothing refers to __ckpt_restoring or __ckpt_restore_frame.
// The output must also pass the IR verifier (clang does not verify it in
// release builds).
//
// %ckpt-plugin is the path of ckpt.so; it needs this line in test/lit.cfg.py:
//   config.substitutions.append(("%ckpt-plugin", plugin))
//
// RUN: %clang -O2 -fpass-plugin=%ckpt-plugin -S -emit-llvm -o %t.O2.ll %s
// RUN: FileCheck %s --implicit-check-not=__ckpt_restor < %t.O2.ll
// RUN: %opt-ckpt -passes=verify -disable-output %t.O2.ll
// RUN: %clang -O0 -fpass-plugin=%ckpt-plugin -S -emit-llvm -o %t.O0.ll %s
// RUN: FileCheck %s --implicit-check-not=__ckpt_restor < %t.O0.ll
// RUN: %opt-ckpt -passes=verify -disable-output %t.O0.ll

// CHECK-DAG: @__ckpt_pending = external global i32
// CHECK-DAG: = private constant { ptr, i64, ptr, i32, i32 } { ptr @counter, i64 4, ptr @{{.*}}, i32 0, i32 0 }, section "ckpt_globals"
// CHECK-DAG: @__ckpt_desc.work = private constant {{.*}} ptr @work, {{.*}} section "ckpt_funcs"
// CHECK-DAG: @__ckpt_desc.__ckpt_main = private constant {{.*}} ptr @__ckpt_main, {{.*}} section "ckpt_funcs"
// CHECK-NOT: define {{.*}} @main(

// CHECK-LABEL: define {{.*}} @work(
// CHECK:         call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
// CHECK:         store ptr @__ckpt_desc.work, ptr
// CHECK:         load atomic i32, ptr @__ckpt_pending monotonic
// CHECK:         call void @__ckpt_poll(ptr

// (At -O2 work is inlined into main; at -O0 main calls it.)
// CHECK-LABEL: define {{.*}} i32 @__ckpt_main(
// CHECK:         call ptr @llvm.threadlocal.address.p0(ptr @__ckpt_top)
// CHECK:         store ptr @__ckpt_desc.__ckpt_main, ptr
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

int main(int argc, char **argv) {
  long a[4] = {1, 2, 3, 4};
  (void)argv;
  return (int)work(a, argc);
}
