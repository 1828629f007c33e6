/* frames_prog.c - prints code addresses of its own functions and calls, for
 * test/tools/inspect-lines.test: Inputs/mkckpt.py --program turns them into
 * a checkpoint of this executable whose main thread's frames are in these
 * calls, and ckpt-inspect must find their lines in the executable's DWARF.
 *
 * Output, one function a line: "NAME FUNC [RETURN_ADDRESS]", FUNC its start
 * and RETURN_ADDRESS the one its callee returns to.
 *
 * The LINES lines below are FileCheck patterns for ckpt-inspect's frame
 * list: they sit next to the calls they describe, so [[@LINE]] is always
 * right.
 */
#include <stdio.h>

static void *into_work, *into_main;

/* Stands for ckpt's runtime: the function the thread waits in. Its frame
 * is looked up at its start (an exact pc), the line of its opening brace. */
// LINES: #0  wait_in_runtime (ckpt runtime) exact pc 0x{{[0-9a-f]+}}{{$}}
__attribute__((noinline)) void wait_in_runtime(void) {
  into_work = __builtin_return_address(0);
}

__attribute__((noinline)) void work(void) {
  // LINES-NEXT: #1  work at {{.*}}frames_prog.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x50003ffffe00, 16 excluded){{$}}
  wait_in_runtime();
  into_main = __builtin_return_address(0);
}

int main(void) {
  // LINES-NEXT: #2  main at {{.*}}frames_prog.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x50003fffff00){{$}}
  work();
  printf("wait_in_runtime %p\n", (void *)wait_in_runtime);
  printf("work %p %p\n", (void *)work, into_work);
  printf("main %p %p\n", (void *)main, into_main);
  return 0;
}
