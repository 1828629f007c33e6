/* hello.c - built by test/tools/ckpt-cc-flags.test with the flags build
 * systems use. GREETING may come from the command line or a response file. */
#include <stdio.h>

#include "hello.h"

#ifndef GREETING
#define GREETING "hello"
#endif

#ifdef __CKPT__
const char *built_by = "ckpt-cc"; /* -E shows this line */
#endif

int main(void) {
  printf("%s, %s\n", GREETING, WHO);
  return 0;
}
