/* dep.c - a plain library that plain.c depends on (DT_NEEDED): one dlopen
 * of plain.so loads both. */
int dep_add(int a, int b) { return a + b; }
