// Without the frontend plugin (plain clang, or clang with only the pass
// plugin) the pragma is an unknown pragma: clang's own -Wunknown-pragmas
// warning, nothing annotated, and the build goes on. CKPT_EXCLUDE needs no
// plugin and still annotates.
//
// RUN: %clang -I %S/../../include -Wall -fno-discard-value-names -S -emit-llvm -o %t.ll %s 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: {{^.*}}without-plugin.c:[[@LINE+13]]:9: warning: unknown pragma ignored [-Wunknown-pragmas]
// UNKNOWN: {{^.*}}without-plugin.c:[[@LINE+17]]:9: warning: unknown pragma ignored [-Wunknown-pragmas]
// RUN: FileCheck %s --input-file=%t.ll
// CHECK: @llvm.global.annotations = appending global [1 x {{.*}} { ptr @by_macro,
// CHECK-NOT: annotation{{.*}}by_pragma
//
// Only the pass plugin: compiles, with the same warnings.
// RUN: %clang -fpass-plugin=%ckpt-plugin -I %S/../../include -Wall -O2 -c -o %t.o %s 2>&1 | FileCheck %s --check-prefix=UNKNOWN

#include <ckpt.h>

void use(void *);

#pragma ckpt exclude
int by_pragma_global;
CKPT_EXCLUDE int by_macro;

int main(void) {
#pragma ckpt exclude
  int by_pragma_local = 1;
  use(&by_pragma_local);
  return by_pragma_global + by_macro;
}
