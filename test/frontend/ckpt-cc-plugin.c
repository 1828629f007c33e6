// ckpt-cc loads the frontend plugin: a file with pragmas compiled through it
// has the annotations, and gets the plugin's warnings instead of clang's
// -Wunknown-pragmas. -disable-llvm-passes shows CodeGen's output before the
// ckpt pass turns the annotations into descriptors.
//
// RUN: %ckpt-cc -Wall -S -emit-llvm -Xclang -disable-llvm-passes -fno-discard-value-names -o %t.ll %s 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: warning
// RUN: FileCheck %s --input-file=%t.ll
// CHECK: @llvm.global.annotations = appending global [1 x {{.*}} { ptr @excluded_global,
// CHECK-LABEL: define {{.*}} @main(
// CHECK-NOT: define
// CHECK: call void @llvm.var.annotation.p0.p0(ptr %excluded_local,
//
// With the pass as well (the whole ckpt-cc pipeline), at -O2: compiles
// without a warning.
// RUN: %ckpt-cc -Wall -O2 -c -o %t.o %s 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
//
// The plugin's warnings come through ckpt-cc.
// RUN: %ckpt-cc -DMISPLACED -fsyntax-only %s 2>&1 | FileCheck %s --check-prefix=MISPLACED
// MISPLACED: {{^.*}}ckpt-cc-plugin.c:[[@LINE+4]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the definition of function 'helper'{{$}}
// MISPLACED: {{^.*}}ckpt-cc-plugin.c:[[@LINE+6]]:14: warning: unknown '#pragma ckpt' directive 'exlude'; expected 'exclude'{{$}}

#ifdef MISPLACED
#pragma ckpt exclude
int helper(void) { return 0; }
int kept;
#pragma ckpt exlude
#endif

void use(void *);

#pragma ckpt exclude
int excluded_global;
int saved_global;

int main(void) {
#pragma ckpt exclude
  char excluded_local[256];
  int saved_local = 0;
  use(excluded_local);
  use(&saved_local);
  return excluded_global + saved_global;
}
