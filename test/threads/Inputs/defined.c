/* Defined behaviour of what ckpt cannot checkpoint in a threaded program.
 * One mode per run (argv[1]); each prints what the program sees. */
#include <ckpt.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void spin_outside(volatile int *flag); /* uninstrumented.c, built without ckpt */

static volatile int stop_flag;
static pthread_barrier_t ready;

static void *sleeper(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  while (!stop_flag)
    usleep(1000);
  return NULL;
}

static void *outside(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  spin_outside(&stop_flag);
  return NULL;
}

static void timer_fired(union sigval v) { (void)v; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_barrier_init(&ready, NULL, 2);
  pthread_t t;
  if (!strcmp(mode, "cancel")) {
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_barrier_wait(&ready);
    int rc = pthread_cancel(t);
    printf("pthread_cancel -> %d\n", rc);
    void *rv = NULL;
    pthread_join(t, &rv); /* acted on in usleep, a cancellation point */
    printf("joined: %s\n", rv == PTHREAD_CANCELED ? "cancelled" : "returned");
    printf("checkpoint -> %d\n", ckpt_checkpoint());
  } else if (!strcmp(mode, "timer")) {
    timer_t timer;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = timer_fired;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0)
      return 1;
    struct itimerspec its = {{0, 0}, {0, 1000000}};
    timer_settime(timer, 0, &its, NULL);
    usleep(200000); /* glibc's helper thread now exists */
    printf("checkpoint with a SIGEV_THREAD timer -> %d\n", ckpt_checkpoint());
  } else if (!strcmp(mode, "fork")) {
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_barrier_wait(&ready);
    pid_t pid = fork();
    if (pid == 0) {
      printf("child: checkpoint -> %d\n", ckpt_checkpoint());
      _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("parent: checkpoint -> %d\n", ckpt_checkpoint());
    stop_flag = 1;
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "signal")) {
    /* A signal blocked everywhere stays pending: the checkpoint keeps it
     * (issue 11 item 3) and leaves it pending for the running program. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_barrier_wait(&ready);
    kill(getpid(), SIGUSR1);
    printf("checkpoint with SIGUSR1 pending -> %d\n", ckpt_checkpoint());
    sigset_t pending;
    sigpending(&pending);
    printf("SIGUSR1 still pending: %s\n",
           sigismember(&pending, SIGUSR1) ? "yes" : "no");
    stop_flag = 1;
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "outside")) {
    pthread_create(&t, NULL, outside, NULL);
    pthread_barrier_wait(&ready);
    printf("checkpoint with a thread in uninstrumented code -> %d\n",
           ckpt_checkpoint());
    stop_flag = 1;
    pthread_join(t, NULL);
    printf("after it returned: checkpoint -> %d\n", ckpt_checkpoint());
  } else if (!strcmp(mode, "ownstack")) {
    static char stack[1 << 20];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, sizeof stack);
    int rc = pthread_create(&t, &attr, sleeper, NULL);
    printf("pthread_create on the program's own stack -> %s\n",
           rc == ENOTSUP ? "ENOTSUP" : strerror(rc));
  } else if (!strcmp(mode, "pshared")) {
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_t m;
    int rc = pthread_mutex_init(&m, &ma);
    printf("process-shared mutex -> %s\n",
           rc == ENOTSUP ? "ENOTSUP" : strerror(rc));
  }
  return 0;
}
