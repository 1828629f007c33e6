/* signals.c - e2e program: signal state that must survive a restart
 * (issue 11 item 3).
 *
 * Three threads compute (checksums printed every 10% of the steps) while:
 *   - SIGUSR1 is blocked everywhere and pending for the process (kill);
 *     SIGRTMIN+2 too, queued twice with values 11 and 22 (sigqueue);
 *   - worker A blocks SIGUSR2, pending for A alone (pthread_kill);
 *   - every thread has its own mask (A: +SIGUSR2, B: +SIGRTMIN+1);
 *   - worker B has an alternate signal stack; at the end a handler marked
 *     SA_ONSTACK must run on it;
 *   - ITIMER_REAL fires every 40 ms (SIGALRM, counted); ITIMER_VIRTUAL is
 *     armed for 1000 s and never fires;
 *   - POSIX timers: one on CLOCK_MONOTONIC every 30 ms with SIGRTMIN+3 and
 *     value 77 (the handler checks the value), one SIGEV_NONE armed for
 *     1000 s, one SIGEV_THREAD_ID aimed at worker A every 40 ms with
 *     SIGRTMIN+4 (the handler checks it runs in A).
 * At the end each count must reach its target (a timer that did not come
 * back leaves the program waiting: the test times out), the pending signals
 * must still be pending and are then delivered, in order with their values,
 * and masks, alternate stack and the long timers' remaining times are
 * checked. Everything printed is the same in every run.
 *
 * Usage: signals [scale]   (default 1; ~1.5 s at -O2)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STEPS 40
#define TICK_TARGET 12

static long scale = 1;
static volatile sig_atomic_t alarms, timer1_hits, timer1_bad, timer3_hits,
    timer3_wrong_thread, usr1_hits, usr2_hits, onstack_hits, onstack_bad;
static volatile int rt2_values[8];
static volatile sig_atomic_t rt2_count;
static pthread_t worker_a;
static timer_t timer3;
static char altstack_mem[1 << 16];
static int failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAIL: " __VA_ARGS__);                                            \
      printf("\n");                                                            \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}
static void on_timer1(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)uc;
  if (info->si_code != SI_TIMER || info->si_value.sival_int != 77)
    timer1_bad++;
  timer1_hits++;
}
static void on_timer3(int sig) {
  (void)sig;
  if (!pthread_equal(pthread_self(), worker_a))
    timer3_wrong_thread++;
  timer3_hits++;
}
static void on_usr1(int sig) {
  (void)sig;
  usr1_hits++;
}
static void on_usr2(int sig) {
  (void)sig;
  usr2_hits++;
}
static void on_rt2(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)uc;
  if (rt2_count < 8)
    rt2_values[rt2_count] = info->si_value.sival_int;
  rt2_count++;
}
static void on_onstack(int sig) {
  (void)sig;
  char here;
  if (&here < altstack_mem || &here >= altstack_mem + sizeof altstack_mem)
    onstack_bad++;
  onstack_hits++;
}

static void handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART | flags;
  sigaction(sig, &sa, NULL);
}
static void handle_info(int sig, void (*fn)(int, siginfo_t *, void *)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigaction(sig, &sa, NULL);
}

static void nap(void) {
  struct timespec ts = {0, 2000000};
  nanosleep(&ts, NULL);
}

static uint64_t work(uint64_t x, long n) {
  for (long i = 0; i < n; i++)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL + (x >> 29);
  return x;
}

static int blocked(int sig) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  return sigismember(&now, sig);
}

static int pending(int sig) {
  sigset_t p;
  sigpending(&p);
  return sigismember(&p, sig);
}

struct worker {
  const char *name;
  uint64_t sum;
  int extra_blocked;
  int result;
};

static void *run_a(void *arg) {
  struct worker *w = arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  sigemptyset(&s);
  sigaddset(&s, SIGRTMIN + 4);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* timer 3's signal: only here */
  pthread_kill(pthread_self(), SIGUSR2);
  /* Timer 3 aims at this thread by kernel id, which a restart changes: a
   * restart between gettid() and timer_create() leaves an id of the old
   * process (EINVAL), so the id is asked again. */
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGRTMIN + 4;
  do
    ev._sigev_un._tid = gettid();
  while (timer_create(CLOCK_MONOTONIC, &ev, &timer3) != 0);
  struct itimerspec period40 = {{0, 40000000}, {0, 40000000}};
  timer_settime(timer3, 0, &period40, NULL);
  for (int step = 0; step < STEPS; step++)
    w->sum = work(w->sum, 6000000 * scale);
  while (timer3_hits < TICK_TARGET)
    nap();
  timer_delete(timer3);
  CHECK(blocked(SIGUSR1) && blocked(SIGUSR2) && !blocked(SIGRTMIN + 4) &&
            blocked(SIGRTMIN + 2),
        "worker A's mask changed");
  CHECK(pending(SIGUSR2), "SIGUSR2 no longer pending for worker A");
  CHECK(usr2_hits == 0, "SIGUSR2 delivered while blocked");
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
  CHECK(usr2_hits == 1, "SIGUSR2 delivered %d times", (int)usr2_hits);
  return NULL;
}

static void *run_b(void *arg) {
  struct worker *w = arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGRTMIN + 1);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof altstack_mem};
  sigaltstack(&ss, NULL);
  for (int step = 0; step < STEPS; step++)
    w->sum = work(w->sum, 6000000 * scale);
  CHECK(blocked(SIGUSR1) && blocked(SIGRTMIN + 1) && !blocked(SIGUSR2),
        "worker B's mask changed");
  stack_t now;
  sigaltstack(NULL, &now);
  CHECK(now.ss_sp == altstack_mem && now.ss_size == sizeof altstack_mem &&
            !(now.ss_flags & SS_DISABLE),
        "worker B's alternate signal stack is gone");
  pthread_kill(pthread_self(), SIGRTMIN + 5);
  CHECK(onstack_hits == 1 && onstack_bad == 0,
        "the SA_ONSTACK handler ran %d times, %d off the alternate stack",
        (int)onstack_hits, (int)onstack_bad);
  return NULL;
}

static double seconds(const struct timespec *ts) {
  return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc > 1)
    scale = atol(argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  handle(SIGALRM, on_alarm, 0);
  handle(SIGUSR1, on_usr1, 0);
  handle(SIGUSR2, on_usr2, 0);
  handle(SIGRTMIN + 4, on_timer3, 0);
  handle(SIGRTMIN + 5, on_onstack, SA_ONSTACK);
  handle_info(SIGRTMIN + 3, on_timer1);
  handle_info(SIGRTMIN + 2, on_rt2);

  /* Blocked in every thread (inherited), then pending for the process. */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigaddset(&s, SIGRTMIN + 2);
  sigaddset(&s, SIGRTMIN + 4);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  kill(getpid(), SIGUSR1);
  sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 11});
  sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 22});

  struct worker a = {"A", 1, 0, 0}, b = {"B", 2, 0, 0};
  pthread_t tb;
  pthread_create(&worker_a, NULL, run_a, &a);
  pthread_create(&tb, NULL, run_b, &b);

  struct itimerval it = {{0, 40000}, {0, 40000}};
  setitimer(ITIMER_REAL, &it, NULL);
  struct itimerval virt = {{1000, 0}, {1000, 0}};
  setitimer(ITIMER_VIRTUAL, &virt, NULL);

  timer_t t1, t2;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN + 3;
  ev.sigev_value.sival_int = 77;
  timer_create(CLOCK_MONOTONIC, &ev, &t1);
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_MONOTONIC, &ev, &t2);
  struct itimerspec period30 = {{0, 30000000}, {0, 30000000}};
  struct itimerspec long_one = {{0, 0}, {1000, 0}};
  timer_settime(t1, 0, &period30, NULL);
  timer_settime(t2, 0, &long_one, NULL);

  uint64_t sum = 3;
  for (int step = 0; step < STEPS; step++) {
    sum = work(sum, 6000000 * scale);
    if (step % (STEPS / 10) == 0)
      printf("step %d: %016llx\n", step, (unsigned long long)sum);
  }
  while (alarms < TICK_TARGET || timer1_hits < TICK_TARGET)
    nap();
  pthread_join(worker_a, NULL);
  pthread_join(tb, NULL);
  printf("workers: %016llx %016llx\n", (unsigned long long)a.sum,
         (unsigned long long)b.sum);

  CHECK(timer1_bad == 0, "timer 1's signal came with another value or code");
  CHECK(timer3_wrong_thread == 0, "timer 3's signal went to another thread");
  struct itimerval v;
  getitimer(ITIMER_VIRTUAL, &v);
  CHECK(v.it_value.tv_sec >= 900 && v.it_value.tv_sec <= 1000 &&
            v.it_interval.tv_sec == 1000,
        "ITIMER_VIRTUAL has %ld s to go, interval %ld s",
        (long)v.it_value.tv_sec, (long)v.it_interval.tv_sec);
  getitimer(ITIMER_PROF, &v);
  CHECK(v.it_value.tv_sec == 0 && v.it_value.tv_usec == 0,
        "ITIMER_PROF is armed");
  struct itimerspec left;
  timer_gettime(t2, &left);
  CHECK(seconds(&left.it_value) > 900 && seconds(&left.it_value) <= 1000,
        "timer 2 has %.1f s to go", seconds(&left.it_value));
  CHECK(blocked(SIGUSR1) && blocked(SIGRTMIN + 2) && !blocked(SIGUSR2),
        "the main thread's mask changed");
  CHECK(pending(SIGUSR1) && pending(SIGRTMIN + 2),
        "SIGUSR1 or SIGRTMIN+2 is no longer pending");
  CHECK(usr1_hits == 0 && rt2_count == 0, "a blocked signal was delivered");
  /* Timers off, then the pending signals come through. */
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  timer_delete(t1);
  timer_delete(t2);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
  CHECK(usr1_hits == 1, "SIGUSR1 delivered %d times", (int)usr1_hits);
  CHECK(rt2_count == 2 && rt2_values[0] == 11 && rt2_values[1] == 22,
        "SIGRTMIN+2 delivered %d times (values %d %d)", (int)rt2_count,
        rt2_values[0], rt2_values[1]);
  printf("%s\n", failures ? "signals: FAILED" : "signals: all kept");
  return failures != 0;
}
