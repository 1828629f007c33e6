// Malformed `#pragma ckpt` lines: one warning each, at the offending token,
// never an error, and the pragma is ignored (nothing annotated). -Wall: clang
// itself says nothing more about the ckpt namespace (no -Wunknown-pragmas).
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -Wall -fsyntax-only %s 2>&1 | FileCheck %s --implicit-check-not=warning: --implicit-check-not=error:
// RUN: %clang -fplugin=%ckpt-clang-plugin -S -emit-llvm -o - %s 2>/dev/null | FileCheck %s --check-prefix=IR

// Exactly one variable annotated, the last one.
// IR: @llvm.global.annotations = appending global [1 x {{.*}} { ptr @annotated_despite_macro,

// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:14: warning: unknown '#pragma ckpt' directive 'exlude'; expected 'exclude'{{$}}
#pragma ckpt exlude
int ignored_misspelt;

// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:14: warning: unknown '#pragma ckpt' directive 'Exclude'; expected 'exclude'{{$}}
#pragma ckpt Exclude
int ignored_capital;

// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:14: warning: unknown '#pragma ckpt' directive '42'; expected 'exclude'{{$}}
#pragma ckpt 42
int ignored_number;

// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:9: warning: missing directive after '#pragma ckpt'; expected 'exclude'{{$}}
#pragma ckpt
int ignored_missing;

// Extra tokens: `exclude buf` reads as if it named a variable, so the whole
// pragma is ignored rather than applied to whatever follows.
// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:22: warning: extra tokens after '#pragma ckpt exclude'; the pragma is ignored{{$}}
#pragma ckpt exclude ignored_extra
int ignored_extra;

// CHECK: {{^.*}}warnings-syntax.c:[[@LINE+1]]:21: warning: extra tokens after '#pragma ckpt exclude'; the pragma is ignored{{$}}
#pragma ckpt exclude(ignored_paren)
int ignored_paren;

// A comment is not an extra token, and the directive word is not
// macro-expanded.
#define exclude something_else
#pragma ckpt exclude // the big one
int annotated_despite_macro;
