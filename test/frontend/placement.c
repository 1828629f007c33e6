// #pragma ckpt exclude before every kind of variable declaration becomes the
// annotation "ckpt.exclude", at -O0 and -O2: globals and static locals in
// llvm.global.annotations, automatic locals as llvm.var.annotation calls on
// their alloca. Variables named x_* are under a pragma; keep_* are their
// neighbours, never annotated. -Werror: none of these placements warns.
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -O0 -Wall -Wextra -Werror -fno-discard-value-names -S -emit-llvm -o %t.O0.ll %s
// RUN: FileCheck %s --input-file=%t.O0.ll
// RUN: FileCheck %s --input-file=%t.O0.ll --check-prefix=KEEP
// RUN: %clang -fplugin=%ckpt-clang-plugin -O2 -Wall -Wextra -Werror -fno-discard-value-names -S -emit-llvm -o %t.O2.ll %s
// RUN: FileCheck %s --input-file=%t.O2.ll
// RUN: FileCheck %s --input-file=%t.O2.ll --check-prefix=KEEP

// CHECK: @[[ANN:.str[.0-9]*]] = private unnamed_addr constant [13 x i8] c"ckpt.exclude\00", section "llvm.metadata"
// CHECK: @llvm.global.annotations = appending global
// CHECK-DAG: { ptr @x_global, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_static_array, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_a, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_b, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_struct_global, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_after_if, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_macro_buf, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_pragma_op, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_same_line, ptr @[[ANN]],
// CHECK-DAG: { ptr @x_extern_then_defined, ptr @[[ANN]],
// CHECK-DAG: { ptr @work.x_static_local, ptr @[[ANN]],
// KEEP-NOT: annotation{{.*}}keep_

void use(void *);

#pragma ckpt exclude
int x_global;
int keep_global;

#pragma ckpt exclude
static int x_static_array[4] = {1};
static int keep_static = 2;

// One pragma, one declaration, two variables.
#pragma ckpt exclude
int x_a, x_b;

// The struct is only the type: the variable is what is excluded.
#pragma ckpt exclude
struct point { int x, y; } x_struct_global;
struct point keep_struct_global;

// Comments and preprocessor conditionals between pragma and declaration.
#pragma ckpt exclude
/* a comment */
#if 1
long x_after_if;
#endif

// A declaration written by a macro, and a pragma written by one.
#define DECLARE_BUF(name, n) static char name[n]
#pragma ckpt exclude
DECLARE_BUF(x_macro_buf, 32);
#define EXCLUDED(decl) _Pragma("ckpt exclude") decl
EXCLUDED(int x_pragma_op;)
int keep_same_line; EXCLUDED(int x_same_line;)

// An extern declaration followed by the definition in the same file: the
// definition inherits the annotation (and there is no warning).
#pragma ckpt exclude
extern int x_extern_then_defined;
int x_extern_then_defined = 3;

// CHECK-LABEL: define {{.*}} @work(
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_local, ptr {{(nonnull )?}}@[[ANN]],
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_array, ptr {{(nonnull )?}}@[[ANN]],
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_struct_local, ptr {{(nonnull )?}}@[[ANN]],
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_nested, ptr {{(nonnull )?}}@[[ANN]],
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_in_loop, ptr {{(nonnull )?}}@[[ANN]],
// CHECK-DAG: call void @llvm.var.annotation.p0.p0(ptr {{(nonnull )?}}%x_local_macro, ptr {{(nonnull )?}}@[[ANN]],
// CHECK: ret
int work(int n) {
#pragma ckpt exclude
  static int x_static_local;
  static int keep_static_local;
#pragma ckpt exclude
  int x_local = n;
  int keep_local = n;
#pragma ckpt exclude
  char x_array[64];
#pragma ckpt exclude
  struct point x_struct_local = {n, n};
  use(&x_static_local);
  use(&keep_static_local);
  use(&x_local);
  use(&keep_local);
  use(x_array);
  use(&x_struct_local);
  {
    int keep_nested = n;
#pragma ckpt exclude
    int x_nested = n;
    use(&keep_nested);
    use(&x_nested);
  }
  for (int i = 0; i < n; i++) {
#pragma ckpt exclude
    int x_in_loop = i;
    use(&x_in_loop);
  }
  EXCLUDED(int x_local_macro = n;)
  use(&x_local_macro);
  return x_global + keep_global + x_static_array[n & 3] + keep_static + x_a +
         x_b + x_struct_global.x + keep_struct_global.y + (int)x_after_if +
         x_macro_buf[n & 31] + x_pragma_op + keep_same_line + x_same_line +
         x_extern_then_defined;
}
