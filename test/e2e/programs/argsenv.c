/* argsenv.c - e2e program: pointers to argv strings and getenv() results.
 *
 * argv, pointers to individual argument strings and to getenv() results are
 * kept in globals, in heap records and in main's locals (including a pointer
 * into the middle of an environment string) for the whole run; argv[1] is
 * rotated in place as the program works. At the end everything is printed
 * through the saved pointers. After a restart the strings must still be
 * there, at the addresses the pointers hold.
 *
 * Usage: argsenv ARG...      (reads E2E_ALPHA and E2E_BETA; ~1.1 s at -O2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **g_argv;        /* global -> argv array */
static int g_argc;
static const char *g_alpha;  /* global -> environment string */
static const char *g_last;   /* global -> an argument string */

struct arg {
  char *s;                   /* heap -> argument string */
  size_t len;
  uint64_t hash;
};

struct env {
  const char *name;          /* string literal */
  const char *value;         /* heap -> environment string, or NULL */
};

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

static const char *show(const char *s) { return s ? s : "(unset)"; }

int main(int argc, char **argv) {
  g_argv = argv;
  g_argc = argc;
  g_last = argv[argc - 1];
  g_alpha = getenv("E2E_ALPHA");
  struct env *envs = malloc(3 * sizeof *envs);
  struct arg *args = malloc((size_t)argc * sizeof *args);
  if (!envs || !args)
    return 1;
  envs[0].name = "E2E_ALPHA";
  envs[0].value = g_alpha;
  envs[1].name = "E2E_BETA";
  envs[1].value = getenv("E2E_BETA");
  envs[2].name = "E2E_UNSET_VARIABLE";
  envs[2].value = getenv("E2E_UNSET_VARIABLE");
  const char *beta_tail = envs[1].value; /* stack -> middle of env string */
  if (beta_tail && strlen(beta_tail) > 2)
    beta_tail += 2;
  for (int i = 0; i < argc; i++) {
    args[i].s = argv[i];
    args[i].len = strlen(argv[i]);
    args[i].hash = 0;
  }
  char *first = argc > 1 ? argv[1] : NULL; /* stack -> argv[1], rotated */
  size_t first_len = first ? strlen(first) : 0;

  const long rounds = 3000;
  printf("argsenv: %d arguments, %ld rounds\n", argc - 1, rounds);
  uint64_t h = 0;
  for (long r = 0; r < rounds; r++) {
    /* hash every argument and environment value many times */
    for (int rep = 0; rep < 1500; rep++)
      for (int i = 1; i < g_argc; i++) {
        const char *s = args[i].s;
        for (size_t k = 0; k < args[i].len; k++)
          args[i].hash = mix(args[i].hash, (unsigned char)s[k] + (uint64_t)rep);
        for (int e = 0; e < 3; e++)
          if (envs[e].value)
            for (const char *p = envs[e].value; *p; p++)
              h = mix(h, (unsigned char)*p ^ args[i].hash);
      }
    /* rotate argv[1] by one character, in place */
    if (first_len > 1) {
      char c = first[0];
      memmove(first, first + 1, first_len - 1);
      first[first_len - 1] = c;
    }
    if ((r + 1) % (rounds / 20) == 0)
      printf("round %ld argv1 %s h %016llx last %s alpha %s\n", r + 1,
             first ? first : "-", (unsigned long long)h, g_last,
             show(g_alpha));
  }
  for (int i = 0; i < g_argc; i++)
    if (i > 0)
      printf("arg %d: [%s] len %zu hash %016llx\n", i, g_argv[i], args[i].len,
             (unsigned long long)args[i].hash);
  for (int e = 0; e < 3; e++)
    printf("env %s=%s\n", envs[e].name, show(envs[e].value));
  printf("beta tail: %s\n", show(beta_tail));
  printf("done: h %016llx\n", (unsigned long long)h);
  return 0;
}
