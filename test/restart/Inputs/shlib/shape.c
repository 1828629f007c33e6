/* shape.c - libshape.so, built with ckpt-cc -shared -fPIC: its globals (one
 * the program copies, one static table), its thread-local variable, a heap
 * block it owns, a worker thread it starts and a libc variable it reaches
 * through its GOT (optind: the program never names it) must all come back
 * after a restart taken while its code is on the stack. */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "shape.h"
#include "../selfkill/common.h"

long shape_calls;
static long table[64];
static __thread long tls_calls;
static char *note;
static pthread_t worker;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;
static long worker_steps;

long shape_walk(long depth, long *acc, void (*at_bottom)(long)) {
  long local[4] = {depth, depth * 2, depth * 3, *acc};
  shape_calls++;
  tls_calls++;
  table[depth % 64] += depth ^ *acc;
  if (!note) {
    note = malloc(64);
    strcpy(note, "note-0");
  }
  if (depth == 0) {
    optind += 7; /* libc's own copy: this library reaches it through its GOT */
    note[5] = (char)('0' + shape_calls % 10);
    at_bottom(*acc); /* into the program, which may checkpoint there */
    CHECKPOINT_AND_DIE(); /* and here, with only this library's frames above */
    return local[3];
  }
  *acc += local[depth % 4];
  return shape_walk(depth - 1, acc, at_bottom) + local[1];
}

long shape_table_sum(void) {
  long s = 0;
  for (int i = 0; i < 64; i++)
    s = s * 31 + table[i];
  return s;
}

long shape_tls_calls(void) { return tls_calls; }
int shape_optind(void) { return optind; }
char *shape_note(void) { return note; }

static void *work(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    int done = stop;
    if (!done) {
      worker_steps++;
      tls_calls += 2;
    }
    pthread_mutex_unlock(&lock);
    if (done)
      break;
  }
  return (void *)tls_calls;
}

void shape_start_worker(void) {
  stop = 0;
  worker_steps = 0;
  pthread_create(&worker, NULL, work, NULL);
}

/* The worker's count varies with scheduling; what is checked is that its
 * thread-local count and the shared one agree after a restart. */
long shape_stop_worker(void) {
  pthread_mutex_lock(&lock);
  stop = 1;
  pthread_mutex_unlock(&lock);
  void *r;
  pthread_join(worker, &r);
  return (long)r == 2 * worker_steps;
}
