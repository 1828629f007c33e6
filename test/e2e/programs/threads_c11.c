/* threads_c11.c - C11 <threads.h>: thrd_create/join, mtx_t, cnd_t, tss_t
 * and _Thread_local. Three threads take turns on a condition variable (the
 * output is fixed by the turn order); each counts its turns in a
 * _Thread_local and keeps its id in a tss_t; thrd_join collects the int
 * results. Most of the time two threads wait in cnd_wait and one holds the
 * mutex: a checkpoint finds them there. */
#include <stdio.h>
#include <threads.h>

#define THREADS 3
#define ROUNDS 120000

static mtx_t lock;
static cnd_t turn_changed;
static int turn;
static unsigned long long total;
static tss_t id_key;
static _Thread_local int turns_taken;

static int worker(void *arg) {
  int id = (int)(long)arg;
  tss_set(id_key, arg);
  for (int i = 0; i < ROUNDS; i++) {
    mtx_lock(&lock);
    while (turn != id)
      cnd_wait(&turn_changed, &lock);
    total = total * 31 + (unsigned long long)(i ^ id);
    turns_taken++;
    if (id == 0 && i % 20000 == 0)
      printf("round %d total %llu\n", i, total);
    turn = (turn + 1) % THREADS;
    cnd_broadcast(&turn_changed);
    mtx_unlock(&lock);
  }
  return turns_taken * 10 + (int)(long)tss_get(id_key);
}

int main(void) {
  if (mtx_init(&lock, mtx_plain) != thrd_success ||
      cnd_init(&turn_changed) != thrd_success ||
      tss_create(&id_key, NULL) != thrd_success)
    return 1;
  thrd_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    if (thrd_create(&t[i], worker, (void *)i) != thrd_success)
      return 1;
  for (int i = 0; i < THREADS; i++) {
    int r;
    thrd_join(t[i], &r);
    printf("thread %d: %d\n", i, r);
  }
  printf("total %llu\n", total);
  return 0;
}
