/* main_asm.c - a main the pass must refuse (inline assembly that moves the
 * stack pointer), for test/tools/ckpt-cc-main-name.test: the error must
 * name main, not __ckpt_main, the name ckpt gives it. */
int main(void) {
  __asm__ volatile("sub $8, %%rsp" ::: "memory");
  return 0;
}
