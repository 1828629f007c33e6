/* fixedrandom.c - LD_PRELOAD library for test/security: getrandom() returns
 * bytes of 0x41, so a program's run id and temporary file names become
 * predictable -- what an attacker could plant in advance if the names did
 * not depend on secrets. Lets the test plant a symbolic link and a file at
 * the exact temporary name the writer will create. */
#include <string.h>
#include <sys/types.h>

ssize_t getrandom(void *buf, size_t len, unsigned flags) {
  (void)flags;
  memset(buf, 0x41, len);
  return (ssize_t)len;
}
