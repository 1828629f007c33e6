/* hello.h - a header of hello.c, for the dependency files. */
#define WHO "world"
