/* lib.h - the second translation unit of the multi-file restart test. */
long walk(long depth, long *acc);
extern long lib_calls;
