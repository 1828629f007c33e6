/* Built with plain clang: a loop with no safe point. */
void spin_outside(volatile int *flag) {
  while (!*flag)
    ;
}
