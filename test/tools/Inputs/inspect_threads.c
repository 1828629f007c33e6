/* inspect_threads.c - a multithreaded program that checkpoints itself with
 * known thread states, for test/tools/inspect-program.test to read back with
 * ckpt-inspect:
 *   main     holds `big` and calls ckpt_checkpoint()     (ckpt_checkpoint)
 *   waiter   in pthread_cond_wait, with a pthread key value and a __thread
 *            variable of its own                           (condition wait)
 *   locker   in pthread_mutex_lock(&big)                  (lock wait)
 *   finisher has returned 0x2a and is not joined yet     (finished)
 * The main thread makes sure each thread is where it should be before it
 * checkpoints; afterwards it lets them go, joins them and prints what they
 * saw.
 *
 * Usage: inspect_threads
 *
 * The MAIN, WAITER and LOCKER lines below are FileCheck patterns for
 * ckpt-inspect's frame lists: they sit next to the calls they describe, so
 * [[@LINE]] is right. Each thread's innermost frames are the runtime's: one,
 * ckpt_checkpoint, for main; the wrappers of pthread_cond_wait and
 * pthread_mutex_lock (and whatever they call to wait) for the others.
 */
#include <ckpt.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static int waiting, go;
static pthread_key_t key;
static __thread long tl_value = 7;
static volatile int locker_tid, finisher_tid;
static long waiter_data = 1234, locker_data;

static void drop_value(void *p) { (void)p; }

/* Wait for the main thread's go, in a condition wait. */
__attribute__((noinline)) static long wait_for_go(void) {
  pthread_mutex_lock(&qlock);
  waiting = 1;
  while (!go)
    // WAITER: thread in slot 1: waiting in a condition wait,
    // WAITER: #0 {{.+}} (ckpt runtime) pc 0x{{[0-9a-f]+}}{{$}}
    // WAITER: #[[#W:]] wait_for_go at {{.*}}inspect_threads.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}){{$}}
    pthread_cond_wait(&qcond, &qlock);
  pthread_mutex_unlock(&qlock);
  return tl_value;
}

static void *waiter(void *arg) {
  tl_value = 100;
  if (pthread_setspecific(key, arg) != 0)
    abort();
  // WAITER-NEXT: #[[#W+1]] waiter at {{.*}}inspect_threads.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}){{$}}
  long seen = wait_for_go();
  return (void *)(seen + (pthread_getspecific(key) == arg));
}

static void *locker(void *arg) {
  locker_tid = (int)syscall(SYS_gettid);
  // LOCKER: thread in slot 2: waiting in a lock/join/barrier/semaphore wait,
  // LOCKER: #0 {{.+}} (ckpt runtime) pc 0x{{[0-9a-f]+}}{{$}}
  // LOCKER: #{{[1-9][0-9]*}} locker at {{.*}}inspect_threads.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}){{$}}
  pthread_mutex_lock(&big);
  *(long *)arg += 1;
  pthread_mutex_unlock(&big);
  return NULL;
}

static void *finisher(void *arg) {
  (void)arg;
  finisher_tid = (int)syscall(SYS_gettid);
  return (void *)0x2a;
}

/* The kernel's state letter of thread TID ('S' when it sleeps, as in a
 * futex wait), or 0 when the thread is gone. */
static char thread_state(int tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

static void pause_a_little(void) { usleep(2000); }

int main(void) {
  pthread_t tw, tl, tf;
  if (pthread_key_create(&key, drop_value) != 0)
    return 1;
  tl_value = 1;

  /* The waiter is in its condition wait once it has set `waiting` and
   * released qlock, which we can then take. */
  if (pthread_create(&tw, NULL, waiter, &waiter_data) != 0)
    return 1;
  for (;;) {
    pthread_mutex_lock(&qlock);
    int w = waiting;
    pthread_mutex_unlock(&qlock);
    if (w)
      break;
    pause_a_little();
  }

  /* The locker blocks on big, which we hold across the checkpoint. */
  pthread_mutex_lock(&big);
  if (pthread_create(&tl, NULL, locker, &locker_data) != 0)
    return 1;
  while (!locker_tid || thread_state(locker_tid) != 'S')
    pause_a_little();

  /* The finisher returns, and is not joined until after the checkpoint. */
  if (pthread_create(&tf, NULL, finisher, NULL) != 0)
    return 1;
  while (!finisher_tid || thread_state(finisher_tid) != 0)
    pause_a_little();

  // MAIN: thread in slot 0: waiting in ckpt_checkpoint,
  // MAIN: #0 ckpt_checkpoint (ckpt runtime) pc 0x{{[0-9a-f]+}}{{$}}
  // MAIN-NEXT: #1 main at {{.*}}inspect_threads.c:[[@LINE+1]] (pc 0x{{[0-9a-f]+}}, cfa 0x{{[0-9a-f]+}}){{$}}
  int rc = ckpt_checkpoint();
  printf("checkpoint %s\n", rc == CKPT_TAKEN       ? "taken"
                            : rc == CKPT_RESTARTED ? "restarted"
                                                   : "not taken");
  pthread_mutex_unlock(&big);

  pthread_mutex_lock(&qlock);
  go = 1;
  pthread_cond_broadcast(&qcond);
  pthread_mutex_unlock(&qlock);
  void *rw, *rl, *rf;
  if (pthread_join(tw, &rw) || pthread_join(tl, &rl) || pthread_join(tf, &rf))
    return 1;
  printf("waiter %ld, locker %ld, finisher %#lx, main tls %ld\n", (long)rw,
         locker_data, (unsigned long)rf, tl_value);
  return 0;
}
