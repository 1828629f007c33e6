// The pragma is CKPT_EXCLUDE by another spelling: the IR of this file with
// `#pragma ckpt exclude` (and the frontend plugin) is byte for byte the IR of
// the same file with CKPT_EXCLUDE from ckpt.h (without the plugin), at -O0
// and -O2. With the plugin loaded, CKPT_EXCLUDE gives that same IR too (the
// plugin adds nothing to a hand-written annotation).
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S/../../include -O0 -S -emit-llvm -o %t.pragma.O0.ll %s
// RUN: %clang -DBY_HAND -I %S/../../include -O0 -S -emit-llvm -o %t.hand.O0.ll %s
// RUN: %clang -fplugin=%ckpt-clang-plugin -DBY_HAND -I %S/../../include -O0 -S -emit-llvm -o %t.hand-plugin.O0.ll %s
// RUN: diff %t.pragma.O0.ll %t.hand.O0.ll
// RUN: diff %t.hand-plugin.O0.ll %t.hand.O0.ll
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S/../../include -O2 -S -emit-llvm -o %t.pragma.O2.ll %s
// RUN: %clang -DBY_HAND -I %S/../../include -O2 -S -emit-llvm -o %t.hand.O2.ll %s
// RUN: diff %t.pragma.O2.ll %t.hand.O2.ll
//
// The files compared must contain the annotations at all (a diff of two
// files without any would pass too):
// RUN: FileCheck %s --input-file=%t.pragma.O0.ll
// RUN: FileCheck %s --input-file=%t.pragma.O2.ll
// CHECK: @llvm.global.annotations = appending global [2 x
// CHECK-COUNT-2: call void @llvm.var.annotation

#include <ckpt.h>

#ifdef BY_HAND
#define HAND CKPT_EXCLUDE
#else
#define HAND
#endif

void use(void *);

#ifndef BY_HAND
#pragma ckpt exclude
#endif
HAND int global_counter;

int work(int n) {
#ifndef BY_HAND
#pragma ckpt exclude
#endif
  HAND static int calls;
#ifndef BY_HAND
#pragma ckpt exclude
#endif
  HAND char scratch[128];
#ifndef BY_HAND
#pragma ckpt exclude
#endif
  HAND struct { int a, b; } pair = {n, n};
  use(scratch);
  use(&pair);
  return ++calls + global_counter;
}
