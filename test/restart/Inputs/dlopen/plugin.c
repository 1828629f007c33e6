/* plugin.c - a library the program opens with dlopen: built plain and with
 * ckpt-cc -shared. It calls the program back (which asks for a checkpoint
 * from under the library's frame) and returns 2 * x. */
#include <stdio.h>

static int calls;

int plugin_twice(int x, int (*callback)(void)) {
  calls++;
  printf("checkpoint under the library: %d\n", callback());
  return 2 * x + calls - 1;
}
