// A pragma that is not right before a variable declaration: one warning
// naming what follows it, at the pragma's `ckpt`, and nothing is annotated
// (in particular not the next variable further down).
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S -Wall -fsyntax-only %s 2>&1 | FileCheck %s --implicit-check-not=warning: --implicit-check-not=error:
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S -S -emit-llvm -o - %s 2>/dev/null | FileCheck %s --check-prefix=IR
// IR-NOT: annotation

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the definition of function 'function_definition'{{$}}
#pragma ckpt exclude
int function_definition(void) { return 0; }
int after_function_definition;

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by a declaration of function 'prototype'{{$}}
#pragma ckpt exclude
int prototype(int);
int after_prototype;

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the definition of struct 'type_only'{{$}}
#pragma ckpt exclude
struct type_only { int x; };

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by a declaration of union 'forward'{{$}}
#pragma ckpt exclude
union forward;

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the typedef 'counter_t'{{$}}
#pragma ckpt exclude
typedef long counter_t;

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the typedef 'anon_t'{{$}}
#pragma ckpt exclude
typedef struct { int y; } anon_t;

// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the definition of enum 'colour'{{$}}
#pragma ckpt exclude
enum colour { RED, GREEN };

// Inside a struct body: fields are part of a variable, never excluded alone.
struct with_fields {
  int first;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the field 'second' of struct 'with_fields'{{$}}
#pragma ckpt exclude
  int second;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the end of struct 'with_fields'{{$}}
#pragma ckpt exclude
};

enum numbers {
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the enumerator 'ONE'{{$}}
#pragma ckpt exclude
  ONE,
};

// Inside an initializer.
int table[] = {
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by an expression{{$}}
#pragma ckpt exclude
    1, 2};

// Inside the declaration, after the specifiers.
int
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the rest of the declaration of 'split'{{$}}
#pragma ckpt exclude
    split;

int in_function(int n) {
  int sum = 0;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by a statement{{$}}
#pragma ckpt exclude
  sum += n;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by a statement{{$}}
#pragma ckpt exclude
  for (int i = 0; i < n; i++)
    sum += i;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the definition of struct 'local_type'{{$}}
#pragma ckpt exclude
  struct local_type { int z; };
  if (n) {
    sum++;
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the end of the block{{$}}
#pragma ckpt exclude
  }
  int after_block = sum; // not annotated: the pragma ended with its block
  return after_block;
}

// A pragma at the end of a header stays in that header.
// CHECK: {{^.*}}trailing-pragma.h:4:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the end of the file{{$}}
#include "Inputs/trailing-pragma.h"
int after_trailing_header;

// Nor does a pragma reach into a header included after it.
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by a declaration in another file (an #include){{$}}
#pragma ckpt exclude
#include "Inputs/plain.h"

// Last: nothing follows at all.
// CHECK: {{^.*}}warnings-placement.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' is not followed by a variable declaration but by the end of the file{{$}}
#pragma ckpt exclude
