/* words.h - the library of the CMake project of test/tools/ckpt-cc-cmake.test. */
/* The next argument of the command line, from getopt's optind on, or NULL
 * at the end. */
const char *next_word(int argc, char **argv);
