/* plain.c - an uninstrumented plugin (plain clang), opened with dlopen.
 * plain_reserve maps memory with libc's mmap, as a library may: it sits
 * where the system puts libraries and is not the program's, so a restart
 * does not have it, and libraries opened after it must be put back where
 * they were all the same. */
#include <sys/mman.h>

int dep_add(int a, int b);

int plain_mul(int a, int b) { return dep_add(a * b, 1); }

void plain_reserve(void) {
  mmap(0, 3 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
