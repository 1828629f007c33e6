// Under -E the plugin does nothing: the pragma is printed as written, so
// preprocessed output compiled later (-save-temps compiles the .i in a
// second cc1) still excludes the variable. A handler registered through
// PragmaHandlerRegistry would have swallowed it here.
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -E %s | FileCheck %s --check-prefix=PP
// PP: {{^}}#pragma ckpt exclude{{$}}
// PP-NEXT: {{^}}int excluded;{{$}}
// PP: {{^}}#pragma ckpt exlude{{$}}
//
// RUN: rm -rf %t && mkdir %t && cd %t && %clang -fplugin=%ckpt-clang-plugin -save-temps -S -emit-llvm -o %t/out.ll %s 2>&1 | FileCheck %s --check-prefix=ONCE
// ONCE: {{^.*}}preprocess.c:[[@LINE+8]]:14: warning: unknown '#pragma ckpt' directive 'exlude'; expected 'exclude'
// ONCE-NOT: warning:
// RUN: FileCheck %s --input-file=%t/out.ll
// CHECK: @llvm.global.annotations = appending global [1 x {{.*}} { ptr @excluded,

#pragma ckpt exclude
int excluded;
int saved;
#pragma ckpt exlude
int after_typo;
