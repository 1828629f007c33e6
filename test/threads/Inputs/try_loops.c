/* try_loops.c - threads that spin on a failed try while a checkpoint is
 * taken: pthread_spin_trylock, pthread_mutex_trylock,
 * pthread_rwlock_tryrdlock, sem_trywait, and sched_yield / thrd_yield
 * loops on a flag. A holder thread owns every resource and computes until
 * the main thread lets it go, so during each checkpoint the spinners can
 * never succeed: nearly all their time is in the runtime's or libc's code,
 * where the stop signal cannot stop them. Each checkpoint must still be
 * taken at once (CKPT_STOP_TIMEOUT is short in the test), and a restart
 * in the middle of the loops must finish them with the same result.
 * Usage: try_loops [kill]   (kill: SIGKILL itself after the checkpoints) */
#define _GNU_SOURCE
#include <ckpt.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

static pthread_spinlock_t spin;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;
static volatile int held, release, released;
static volatile uint64_t sink;
static long tries[6];

static void *holder(void *arg) {
  (void)arg;
  pthread_spin_lock(&spin);
  pthread_mutex_lock(&mutex);
  pthread_rwlock_wrlock(&rwlock);
  __atomic_store_n(&held, 1, __ATOMIC_SEQ_CST);
  uint64_t h = 1;
  while (!__atomic_load_n(&release, __ATOMIC_SEQ_CST))
    h = h * 6364136223846793005ULL + 1442695040888963407ULL;
  sink = h;
  pthread_rwlock_unlock(&rwlock);
  pthread_mutex_unlock(&mutex);
  pthread_spin_unlock(&spin);
  for (int i = 0; i < 2; i++)
    sem_post(&sem);
  __atomic_store_n(&released, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *spinner(void *arg) {
  int kind = (int)(intptr_t)arg;
  long n = 0;
  switch (kind) {
  case 0:
    while (pthread_spin_trylock(&spin) == EBUSY)
      n++;
    pthread_spin_unlock(&spin);
    break;
  case 1:
    while (pthread_mutex_trylock(&mutex) == EBUSY)
      n++;
    pthread_mutex_unlock(&mutex);
    break;
  case 2:
    while (pthread_rwlock_tryrdlock(&rwlock) == EBUSY)
      n++;
    pthread_rwlock_unlock(&rwlock);
    break;
  case 3:
    while (sem_trywait(&sem) != 0 && errno == EAGAIN)
      n++;
    break;
  case 4:
    while (!__atomic_load_n(&released, __ATOMIC_SEQ_CST)) {
      sched_yield();
      n++;
    }
    break;
  case 5:
    while (!__atomic_load_n(&released, __ATOMIC_SEQ_CST)) {
      thrd_yield();
      n++;
    }
    break;
  }
  tries[kind] = n;
  return NULL;
}

int main(int argc, char **argv) {
  int kill_self = argc > 1 && strcmp(argv[1], "kill") == 0;
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  sem_init(&sem, 0, 0);
  pthread_t h, s[6];
  pthread_create(&h, NULL, holder, NULL);
  while (!__atomic_load_n(&held, __ATOMIC_SEQ_CST))
    sched_yield();
  for (int k = 0; k < 6; k++)
    pthread_create(&s[k], NULL, spinner, (void *)(intptr_t)k);
  for (int c = 1; c <= 3; c++) {
    int rc = ckpt_checkpoint();
    if (rc == CKPT_RESTARTED) {
      printf("restarted\n");
      break;
    }
    printf("checkpoint %d -> %d\n", c, rc);
    fflush(stdout);
    if (rc != CKPT_TAKEN)
      return 1;
    if (c == 3 && kill_self)
      raise(SIGKILL);
  }
  __atomic_store_n(&release, 1, __ATOMIC_SEQ_CST);
  pthread_join(h, NULL);
  for (int k = 0; k < 6; k++)
    pthread_join(s[k], NULL);
  int all_tried = 1;
  for (int k = 0; k < 6; k++)
    all_tried &= tries[k] > 0;
  printf("done: every spinner got its resource, each after failed tries: %s\n",
         all_tried ? "yes" : "no");
  return 0;
}
