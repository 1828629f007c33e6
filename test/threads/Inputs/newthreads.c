/* Threads created just before a checkpoint: some are saved before their
 * start routine has run at all (state NEW, no frames, no TLS yet), others
 * mid-way. The program checkpoints itself right after the last
 * pthread_create and dies; the restart must start the NEW ones from scratch
 * and resume the others. */
#include <ckpt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#define NT 64
static __thread long tls_counter;

static void *work(void *arg) {
  long id = (long)arg;
  for (long i = 0; i < 200000 + id * 1000; i++)
    tls_counter += i % 5;
  return (void *)tls_counter;
}

int main(void) {
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  int r = ckpt_checkpoint();
  if (r == CKPT_TAKEN) {
    fflush(stdout);
    raise(SIGKILL);
  }
  long sum = 0;
  for (int i = 0; i < NT; i++) {
    void *v;
    pthread_join(t[i], &v);
    sum += (long)v;
  }
  printf("sum %ld\n", sum);
  fprintf(stderr, "checkpoint %s\n", r == CKPT_RESTARTED ? "restarted" : "n/a");
  return 0;
}
