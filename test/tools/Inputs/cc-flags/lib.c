/* A small library for ckpt-cc -shared: one exported function and a global
 * that counts its calls. */
int twice_calls;

int twice(int x) {
  twice_calls++;
  return 2 * x;
}
