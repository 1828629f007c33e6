/* threads_sem.c - e2e program (threads): a semaphore-bounded resource pool.
 *
 * Three scratch buffers ("resources") are shared by seven workers. An
 * unnamed counting semaphore (sem_init, value 3) bounds how many are in
 * use; a worker that got past it takes a free buffer from a stack under a
 * mutex, computes a job in it (the result does not depend on which
 * buffer), sometimes sleeps while holding it, gives it back and calls
 * sem_post. Workers acquire in three ways, by job: sem_wait; sem_trywait,
 * doing a little side work on EAGAIN and falling back to sem_wait after a
 * while; sem_timedwait with a 5 ms deadline, renewed after every
 * ETIMEDOUT. A binary semaphore (value 1) guards the result accumulator;
 * a third semaphore (value 0) counts finished jobs: the main thread
 * sem_waits for each one and prints every 5%. At the end it checks the
 * semaphores' values (sem_getvalue), that never more than three buffers
 * were in use and that a semaphore was never passed without a free buffer.
 *
 * Thread states most of the time: three workers computing while holding a
 * resource (some in nanosleep), the others blocked in sem_wait or
 * sem_timedwait or spinning on sem_trywait; the main thread in sem_wait.
 *
 * Usage: threads_sem [scale]   (default 1; ~2 s at -O2)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NRES 3
#define NWK 7
#define BUFW 4096

static sem_t avail, acc_sem, prog_sem;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static int free_stack[NRES], nfree = NRES, in_use, max_in_use, pool_errors;
static uint64_t *scratch[NRES];
static int jobs_per_worker;
static uint64_t *results;
static uint64_t acc_sum, acc_xor;      /* guarded by acc_sem */
static volatile uint64_t side_work[NWK]; /* per worker; never printed */

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void sem_wait_retry(sem_t *s) {
  while (sem_wait(s) != 0 && errno == EINTR)
    ;
}

static void acquire(int me, int job) {
  switch (job % 3) {
  case 0:
    sem_wait_retry(&avail);
    return;
  case 1:
    for (int tries = 0; tries < 40; tries++) {
      if (sem_trywait(&avail) == 0)
        return;
      uint64_t x = side_work[me];
      for (int k = 0; k < 2000; k++)
        x = mix64(x + (uint64_t)k);
      side_work[me] = x;
    }
    sem_wait_retry(&avail);
    return;
  default: {
    struct timespec ts;
    for (;;) {
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 5000000;
      if (ts.tv_nsec >= 1000000000) {
        ts.tv_nsec -= 1000000000;
        ts.tv_sec++;
      }
      if (sem_timedwait(&avail, &ts) == 0)
        return;
      /* ETIMEDOUT or EINTR: try again with a new deadline */
    }
  }
  }
}

static int take_slot(void) {
  pthread_mutex_lock(&slot_lock);
  int s = -1;
  if (nfree > 0) {
    s = free_stack[--nfree];
    if (++in_use > max_in_use)
      max_in_use = in_use;
  } else {
    pool_errors++;
  }
  pthread_mutex_unlock(&slot_lock);
  return s;
}

static void give_slot(int s) {
  pthread_mutex_lock(&slot_lock);
  free_stack[nfree++] = s;
  in_use--;
  pthread_mutex_unlock(&slot_lock);
}

static uint64_t run_job(uint64_t *buf, int job) {
  buf[0] = mix64((uint64_t)job);
  for (int i = 1; i < BUFW; i++)
    buf[i] = mix64(buf[i - 1] ^ (uint64_t)i);
  for (int pass = 0; pass < 320; pass++)
    for (int i = 0; i < BUFW; i++)
      buf[i] += buf[(i * 7 + pass) & (BUFW - 1)] >> 3;
  uint64_t h = 0;
  for (int i = 0; i < BUFW; i++)
    h = mix64(h ^ buf[i]);
  return h;
}

static void *worker(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int i = 0; i < jobs_per_worker; i++) {
    int job = me * jobs_per_worker + i;
    acquire(me, job);
    int s = take_slot();
    uint64_t r = 0;
    if (s >= 0) {
      r = run_job(scratch[s], job);
      if (job % 8 == 5) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
      }
      give_slot(s);
    }
    sem_post(&avail);
    results[job] = r;
    sem_wait_retry(&acc_sem);
    acc_sum += r;
    acc_xor ^= r;
    sem_post(&acc_sem);
    sem_post(&prog_sem);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  jobs_per_worker = 640 * scale;
  int total = NWK * jobs_per_worker;
  results = calloc((size_t)total, sizeof *results);
  if (!results)
    return 1;
  for (int s = 0; s < NRES; s++) {
    scratch[s] = malloc(BUFW * sizeof(uint64_t));
    if (!scratch[s])
      return 1;
    free_stack[s] = s;
  }
  if (sem_init(&avail, 0, NRES) || sem_init(&acc_sem, 0, 1) ||
      sem_init(&prog_sem, 0, 0))
    return 1;
  printf("threads_sem: %d workers, %d resources, %d jobs\n", NWK, NRES, total);
  pthread_t tids[NWK];
  for (int i = 0; i < NWK; i++)
    if (pthread_create(&tids[i], NULL, worker, (void *)(intptr_t)i))
      return 1;
  for (int n = 1; n <= total; n++) {
    sem_wait_retry(&prog_sem);
    if (n % (total / 20) == 0)
      printf("progress: %d of %d jobs done\n", n, total);
  }
  for (int i = 0; i < NWK; i++)
    pthread_join(tids[i], NULL);

  uint64_t h = 0;
  for (int j = 0; j < total; j++)
    h = mix64(h ^ results[j]);
  int va, vacc, vprog;
  sem_getvalue(&avail, &va);
  sem_getvalue(&acc_sem, &vacc);
  sem_getvalue(&prog_sem, &vprog);
  printf("semaphores: avail %d acc %d progress %d\n", va, vacc, vprog);
  printf("pool: max in use %s %d, errors %d, free %d\n",
         max_in_use <= NRES && max_in_use >= 1 ? "within" : "OVER", NRES,
         pool_errors, nfree);
  printf("done: sum %016llx xor %016llx ordered %016llx\n",
         (unsigned long long)acc_sum, (unsigned long long)acc_xor,
         (unsigned long long)h);
  sem_destroy(&avail);
  sem_destroy(&acc_sem);
  sem_destroy(&prog_sem);
  for (int s = 0; s < NRES; s++)
    free(scratch[s]);
  free(results);
  return 0;
}
