/* words.c - walks the command line with getopt's optind. Compiled with
 * -fPIC (a static library with CMAKE_POSITION_INDEPENDENT_CODE), it reaches
 * optind through the GOT: the variable stays in the C library, where ckpt
 * must save it (runtime/copyrel.c). */
#include <stddef.h>
#include <unistd.h>

#include "words.h"

const char *next_word(int argc, char **argv) {
  return optind < argc ? argv[optind++] : NULL;
}
