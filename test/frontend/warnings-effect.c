// Exclusions the pass cannot honour, by pragma and by CKPT_EXCLUDE written by
// hand: one warning each naming the variable and the reason. A pragma that
// warns here annotates nothing (ignored_*); a hand-written CKPT_EXCLUDE stays
// as written (hand_*). The excluded_* variables are fine and do not warn.
//
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S/../../include -Wall -fsyntax-only %s 2>&1 | FileCheck %s --implicit-check-not=warning: --implicit-check-not=error:
// RUN: %clang -fplugin=%ckpt-clang-plugin -I %S/../../include -fno-discard-value-names -S -emit-llvm -o %t.ll %s 2>/dev/null
// RUN: FileCheck %s --check-prefix=IR --input-file=%t.ll
// RUN: FileCheck %s --check-prefix=IGNORED --input-file=%t.ll
// IR: @llvm.global.annotations = appending global
// IR-DAG: { ptr @excluded_twice,
// IR-DAG: { ptr @excluded_pragma_and_macro,
// IR-DAG: { ptr @excluded_extern_then_defined,
// IR-LABEL: define {{.*}} @locals(
// IR: call void @llvm.var.annotation.p0.p0(ptr %excluded_const_local,
// IGNORED-NOT: annotation{{.*}}ignored_

#include <ckpt.h>

void use(const void *);

// ---- Constants: never saved, so never excluded --------------------------

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_const': it is const, and constants are never saved{{$}}
#pragma ckpt exclude
const int ignored_const = 3;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_const_table': it is const, and constants are never saved{{$}}
#pragma ckpt exclude
const char ignored_const_table[] = "abc";

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:1: warning: CKPT_EXCLUDE has no effect on 'hand_const': it is const, and constants are never saved{{$}}
CKPT_EXCLUDE const long hand_const = 4;

// ---- Thread-local variables -----------------------------------------------

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_thread': excluding thread-local variables is not supported yet{{$}}
#pragma ckpt exclude
__thread int ignored_thread;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_thread_local': excluding thread-local variables is not supported yet{{$}}
#pragma ckpt exclude
_Thread_local int ignored_thread_local;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:8: warning: CKPT_EXCLUDE has no effect on 'hand_thread': excluding thread-local variables is not supported yet{{$}}
static CKPT_EXCLUDE _Thread_local int hand_thread;

// ---- Two pragmas, or a pragma and CKPT_EXCLUDE: annotated once ------------

#pragma ckpt exclude
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: duplicate '#pragma ckpt exclude': 'excluded_twice' is already excluded{{$}}
#pragma ckpt exclude
int excluded_twice;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: duplicate '#pragma ckpt exclude': 'excluded_pragma_and_macro' is already excluded{{$}}
#pragma ckpt exclude
CKPT_EXCLUDE int excluded_pragma_and_macro;

// ---- Not variables: CKPT_EXCLUDE by hand on the wrong thing ---------------

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:1: warning: CKPT_EXCLUDE has no effect on function 'hand_function': only variables can be excluded{{$}}
CKPT_EXCLUDE void hand_function(void);
// The definition inherits the attribute: no second warning.
void hand_function(void) {}

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: CKPT_EXCLUDE has no effect on typedef 'hand_typedef': only variables can be excluded{{$}}
typedef CKPT_EXCLUDE int hand_typedef;

struct with_field {
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:3: warning: CKPT_EXCLUDE has no effect on the field 'hand_field' of struct 'with_field': only whole variables can be excluded{{$}}
  CKPT_EXCLUDE int hand_field;
};

// ---- Parameters and register variables -------------------------------------

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:21: warning: CKPT_EXCLUDE has no effect on 'hand_param': function parameters cannot be excluded{{$}}
void with_param(int CKPT_EXCLUDE hand_param);

int hand_register_local(void) {
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:3: warning: CKPT_EXCLUDE has no effect on 'hand_register': 'register' variables cannot be excluded{{$}}
  CKPT_EXCLUDE register int hand_register = 1;
  return hand_register;
}

int locals(int ignored_param_pragma,
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_param': function parameters cannot be excluded{{$}}
#pragma ckpt exclude
           int ignored_param) {
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_register': 'register' variables cannot be excluded{{$}}
#pragma ckpt exclude
  register int ignored_register = ignored_param;
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_const_static': it is const, and constants are never saved{{$}}
#pragma ckpt exclude
  static const int ignored_const_static = 5;
  // A const automatic variable is written at each call, and lives in the
  // frame like any other local: excluded, no warning.
#pragma ckpt exclude
  const int excluded_const_local = ignored_param * 2;
  use(&excluded_const_local);
  use(&ignored_const_static);
  return ignored_param_pragma + ignored_register;
}

// ---- extern declarations (warned at the end of the file) -------------------

// Followed by the definition: the definition inherits the annotation.
#pragma ckpt exclude
extern int excluded_extern_then_defined;
int excluded_extern_then_defined = 1;

int ignored_extern_after_definition = 2;
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_extern_after_definition': it is an extern declaration, not the definition; put it on the definition{{$}}
#pragma ckpt exclude
extern int ignored_extern_after_definition;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_extern': it is an extern declaration, not the definition; put it on the definition{{$}}
#pragma ckpt exclude
extern int ignored_extern;

// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:1: warning: CKPT_EXCLUDE has no effect on 'hand_extern': it is an extern declaration, not the definition; put it on the definition{{$}}
CKPT_EXCLUDE extern char hand_extern[];

int uses_externs(void) {
// CHECK: {{^.*}}warnings-effect.c:[[@LINE+1]]:9: warning: '#pragma ckpt exclude' has no effect on 'ignored_local_extern': it is an extern declaration, not the definition; put it on the definition{{$}}
#pragma ckpt exclude
  extern int ignored_local_extern;
  return ignored_extern + hand_extern[0] + ignored_local_extern +
         ignored_extern_after_definition + ignored_const +
         ignored_const_table[0] + (int)hand_const + ignored_thread +
         ignored_thread_local + hand_thread;
}
