/* prog.c - keeps pointers whose values a restart on another layout must
 * change: into libc (stdout in a global, FILE objects and their vtables,
 * libm's cos from dlsym), into a plain shared library (an exported array and
 * function), pthread_t values and pointers to __thread variables of the main
 * thread and of two workers, stdout in a page the program made read-only,
 * and an fmemopen stream (whose callbacks are libc's own, stored mangled).
 * A file kill-at-N in the working directory makes checkpoint N kill the
 * process once it is taken.
 * Usage: prog [hidden]  ("hidden": also keep pointers to the library's
 * private data and to a static function of it, which another build of it
 * cannot name). */
#define _GNU_SOURCE
#include <ckpt.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern int plug_table[8];
int plug_scale(int x);
int *plug_hidden_ptr(void);
int (*plug_private_fn(void))(int);

static FILE *out;                 /* = stdout: libc's _IO_2_1_stdout_ */
static FILE *log_file;            /* fopen'ed: a vtable pointer into libc */
static double (*cosine)(double);  /* from dlsym: libm's code */
static int (*scale)(int);         /* from dlsym: the library's code */
static int *table;                /* the library's exported data */
static int *hidden;               /* its private data (with "hidden") */
static int (*private_fn)(int);    /* its static function (with "hidden") */
static FILE **readonly_out;       /* stdout, in a read-only page */
static FILE *mem;                 /* fmemopen: libc's callbacks */
static char mem_text[] = "alpha beta gamma delta epsilon zeta eta theta";
static pthread_t main_id;
static __thread long tls_count;
static long *main_tls;

struct worker {
  pthread_t self;
  long *tls;
  int id;
  long sum;
};

static pthread_barrier_t round_start, round_done;
static volatile int rounds_left = 1;

static void checkpoint(int n) {
  fflush(out);
  fflush(log_file);
  int r = ckpt_checkpoint();
  fprintf(out, "checkpoint %d: %s\n", n,
          r == CKPT_RESTARTED ? "restarted"
          : r == CKPT_TAKEN   ? "taken"
                              : "failed");
  char kill_file[32];
  snprintf(kill_file, sizeof kill_file, "kill-at-%d", n);
  if (r == CKPT_TAKEN && unlink(kill_file) == 0) {
    fflush(out);
    raise(SIGKILL);
  }
}

static void *work(void *arg) {
  struct worker *w = arg;
  w->self = pthread_self();
  w->tls = &tls_count;
  for (;;) {
    pthread_barrier_wait(&round_start);
    if (!rounds_left)
      break;
    /* Through the pointers kept from before any restart. */
    *w->tls += w->id;
    w->sum += *w->tls + (pthread_equal(w->self, pthread_self()) ? 1000 : 0);
    pthread_barrier_wait(&round_done);
  }
  return (void *)(long)w->id;
}

int main(int argc, char **argv) {
  int keep_hidden = argc > 1 && strcmp(argv[1], "hidden") == 0;
  out = stdout;
  log_file = fopen("log.txt", "w");
  if (!log_file)
    return 1;
  void *libm = dlopen("libm.so.6", RTLD_NOW);
  cosine = (double (*)(double))dlsym(libm, "cos");
  scale = (int (*)(int))dlsym(RTLD_DEFAULT, "plug_scale");
  table = plug_table;
  if (keep_hidden) {
    hidden = plug_hidden_ptr();
    private_fn = plug_private_fn();
  }
  readonly_out = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (readonly_out == MAP_FAILED)
    return 1;
  *readonly_out = stdout;
  mprotect(readonly_out, 4096, PROT_READ);
  mem = fmemopen(mem_text, strlen(mem_text), "r");
  if (!mem)
    return 1;
  main_id = pthread_self();
  main_tls = &tls_count;
  pthread_barrier_init(&round_start, NULL, 3);
  pthread_barrier_init(&round_done, NULL, 3);
  struct worker *w = calloc(2, sizeof *w);
  pthread_t ids[2];
  for (int i = 0; i < 2; i++) {
    w[i].id = i + 1;
    pthread_create(&ids[i], NULL, work, &w[i]);
  }
  for (int round = 1; round <= 6; round++) {
    pthread_barrier_wait(&round_start);
    pthread_barrier_wait(&round_done);
    *main_tls += round;
    char word[16] = "";
    if (fscanf(mem, "%15s", word) != 1)
      strcpy(word, "?");
    fprintf(*readonly_out, "round %d: cos %.6f scale %d table %d tls %ld self %s "
                 "workers %ld %ld mem %s%s%s\n",
            round, cosine(round * 0.5), scale(round), table[round],
            tls_count, pthread_equal(main_id, pthread_self()) ? "same" : "DIFFERS",
            w[0].sum, w[1].sum, word,
            hidden ? (*hidden == 7 ? " hidden 7" : " hidden ?") : "",
            private_fn ? (private_fn(round) == 5 * round + 7 ? " private ok" : " private ?") : "");
    fprintf(log_file, "round %d\n", round);
    if (round == 2)
      checkpoint(1);
    if (round == 4)
      checkpoint(2);
  }
  rounds_left = 0;
  pthread_barrier_wait(&round_start);
  for (int i = 0; i < 2; i++) {
    void *rv;
    /* The pthread_t values the workers stored, not the ones in ids[]. */
    int rc = pthread_join(w[i].self, &rv);
    fprintf(out, "join %d: %d %ld %s\n", i + 1, rc, (long)rv,
            pthread_equal(w[i].self, ids[i]) ? "same" : "DIFFERS");
  }
  fclose(log_file);
  log_file = fopen("log.txt", "r");
  char line[64];
  int lines = 0;
  while (fgets(line, sizeof line, log_file))
    lines++;
  fprintf(out, "log: %d lines\n", lines);
  fprintf(out, "done\n");
  return 0;
}
