//===- SafeCalls.cpp - library functions that never call back ------------===//
//
// A function can be on the stack of a stopped thread (and so needs a
// descriptor) if it polls or calls something that may stop. For external
// library functions the proof that they never stop is this list: C library
// functions that never call back into the program. Functions that do call
// back (qsort, bsearch, atexit, exit, tsearch, ftw, pthread_once, signal ...)
// must never be listed: a callback may stop, and its callers must then be
// known to the runtime. (A stop under a library frame is refused at run time
// anyway: the runtime's stack walk ends at the first frame outside the
// executable.) Blocking functions here only delay a checkpoint; they never
// make it wrong. read, write and the other calls a thread may be stopped in
// (libckpt wraps them: runtime/blocking.c) are not listed.
//
//===----------------------------------------------------------------------===//
#include "CkptPasses.h"

#include "llvm/ADT/StringSet.h"

using namespace llvm;

static const char *const CallbackFreeFunctions[] = {
    // stdio (no user callbacks without register_printf_function)
    "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf",
    "vsprintf", "vsnprintf", "dprintf", "puts", "fputs", "putchar", "fputc",
    "putc", "fwrite", "fflush", "fclose", "fopen", "fopen64", "fdopen",
    "freopen", "fread", "fgets", "fgetc", "getc", "getchar", "ungetc", "fseek",
    "fseeko", "ftell", "ftello", "rewind", "fileno", "feof", "ferror",
    "clearerr", "setvbuf", "setbuf", "perror", "sscanf", "fscanf", "scanf",
    "vsscanf", "__isoc99_sscanf", "__isoc99_fscanf", "__isoc99_scanf",
    "__isoc99_vsscanf", "fmemopen", "open_memstream", "getline", "getdelim",
    "putchar_unlocked", "fputc_unlocked", "getc_unlocked", "fgetc_unlocked",
    "fwrite_unlocked", "fputs_unlocked",
    // memory
    "malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "reallocarray", "strdup", "strndup",
    "malloc_usable_size",
    // strings and conversions
    "memcpy", "memmove", "memset", "memcmp", "memchr", "memrchr", "strlen",
    "strnlen", "strcmp", "strncmp", "strcpy", "strncpy", "strcat", "strncat",
    "strchr", "strrchr", "strstr", "strspn", "strcspn", "strpbrk", "strtok",
    "strtok_r", "strerror", "strerror_r", "strcoll", "strxfrm", "strcasecmp",
    "strncasecmp", "stpcpy", "stpncpy", "bcmp", "bzero", "atoi", "atol",
    "atoll", "atof", "strtol", "strtoul", "strtoll", "strtoull", "strtod",
    "strtof", "strtold", "__isoc23_strtol", "__isoc23_strtoul",
    "__isoc23_strtoll", "__isoc23_strtoull", "abs", "labs", "llabs", "div",
    "ldiv", "isalpha", "isdigit", "isspace", "isupper", "islower", "isalnum",
    "ispunct", "isprint", "isxdigit", "toupper", "tolower", "__ctype_b_loc",
    "__ctype_tolower_loc", "__ctype_toupper_loc", "__errno_location",
    // math
    "sqrt", "sqrtf", "sin", "sinf", "cos", "cosf", "tan", "tanf", "asin",
    "acos", "atan", "atan2", "atan2f", "sinh", "cosh", "tanh", "exp", "expf",
    "exp2", "log", "logf", "log2", "log10", "pow", "powf", "fabs", "fabsf",
    "floor", "floorf", "ceil", "ceilf", "round", "roundf", "fmod", "fmodf",
    "ldexp", "frexp", "modf", "hypot", "cbrt", "expm1", "log1p", "erf", "erfc",
    "lround", "llround", "lrint", "trunc", "rint", "nearbyint", "fmin", "fmax",
    "copysign", "sincos",
    // time, environment, random numbers (libckpt keeps their state)
    "time", "clock", "gettimeofday", "clock_gettime", "localtime",
    "localtime_r", "gmtime", "gmtime_r", "mktime", "strftime", "difftime",
    "getenv", "secure_getenv", "setenv", "unsetenv", "putenv", "rand", "srand",
    "rand_r", "random", "srandom", "drand48", "erand48", "lrand48", "nrand48",
    "mrand48", "jrand48", "srand48", "seed48",
    // system calls that cannot call back
    "open", "open64", "close", "lseek", "fstat", "stat",
    "lstat", "unlink", "getpid", "getppid", "isatty", "fsync", "access",
    "getcwd", "abort", "__assert_fail",
};

bool ckpt::isCallbackFreeLibraryFunction(StringRef Name) {
  static const StringSet<> Set = [] {
    StringSet<> S;
    for (const char *N : CallbackFreeFunctions)
      S.insert(N);
    return S;
  }();
  return Set.contains(Name);
}
