/* setjmp_protected.c with -D_FORTIFY_SOURCE=2: longjmp and siglongjmp are
 * __longjmp_chk, which checks the target frame is still live. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#include "setjmp_protected.c"
