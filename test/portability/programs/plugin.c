/* plugin.c - portability program (scripts/portability.sh): a library
 * opened with dlopen and the pointers dlsym gave.
 *
 * libm.so.6 is not linked with the program: it is opened with dlopen at
 * the start, and the handle and three function pointers are kept, the
 * handle and two pointers in globals, one in a heap block. A restart opens
 * libm again (in another glibc's root, at another place and another build)
 * and must give each pointer its new value: cos is an IFUNC (dlsym gives
 * what it resolved to, resolved again at the restart), ldexp and frexp are
 * plain functions (found again by name). Every step also calls dlsym with
 * the old handle, which must still name libm.
 *
 * Usage: plugin [scale]   (default 1; ~5 s at -O2, in 60 steps)
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NSTEPS 60

static void *libm;                        /* the handle, kept */
static double (*cos_fn)(double);          /* an IFUNC's resolution */
static double (*ldexp_fn)(double, int);   /* a plain function */
struct held {
  double (*frexp_fn)(double, int *);      /* in the heap */
  double acc;
};

static void *must_sym(void *h, const char *name) {
  void *p = dlsym(h, name);
  if (!p) {
    fprintf(stderr, "plugin: dlsym %s: %s\n", name, dlerror());
    exit(1);
  }
  return p;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  libm = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
  if (!libm) {
    fprintf(stderr, "plugin: dlopen libm.so.6: %s\n", dlerror());
    return 1;
  }
  /* POSIX's way to convert a dlsym result to a function pointer. */
  *(void **)&cos_fn = must_sym(libm, "cos");
  *(void **)&ldexp_fn = must_sym(libm, "ldexp");
  struct held *held = malloc(sizeof *held);
  if (!held)
    return 1;
  *(void **)&held->frexp_fn = must_sym(libm, "frexp");
  held->acc = 0;
  printf("plugin: %d steps through libm opened with dlopen\n", NSTEPS);
  fflush(stdout);
  for (int step = 1; step <= NSTEPS; step++) {
    /* Work, so that the run takes a few seconds. */
    double x = step * 0.01;
    for (long i = 0; i < 1500000L * scale; i++)
      x = cos_fn(x) * 0.999 + 0.001 * (double)(i & 7);
    int e = 0;
    double m = held->frexp_fn(ldexp_fn(x, step), &e);
    held->acc += m * e;
    int same = dlsym(libm, "ldexp") == *(void **)&ldexp_fn;
    printf("step %2d/%d: x %.9f m %.9f e %d acc %.6f dlsym %s\n", step,
           NSTEPS, x, m, e, held->acc, same ? "same" : "DIFFERS");
    fflush(stdout); /* progress is visible to the driver line by line */
  }
  printf("plugin: acc %.6f\n", held->acc);
  return 0;
}
