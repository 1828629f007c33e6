/* signals.c - restart test program: signal handlers installed with signal()
 * and sigaction() must still be installed after a restart (the program
 * raises the signals itself), and a handler with a loop of its own (which
 * has a poll) must never be where a checkpoint stops. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile long usr1_count, usr2_sum;

static void on_usr1(int sig) {
  (void)sig;
  usr1_count++;
}

static void on_usr2(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  long s = 0;
  for (long i = 0; i < 20000 + (long)info->si_signo; i++) /* polled loop */
    s += i % (sig + 1);
  usr2_sum += s;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr2;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, NULL);
  struct sigaction check;
  sigaction(SIGUSR2, NULL, &check);
  printf("handler reported back: %s\n",
         check.sa_sigaction == on_usr2 ? "the program's" : "another");
  unsigned long x = 1;
  for (int round = 1; round <= 400; round++) {
    for (long i = 0; i < 8000000; i++)
      x = x * 6364136223846793005ul + (unsigned long)i;
    raise(SIGUSR1);
    raise(SIGUSR2);
    if (round % 20 == 0)
      printf("round %d usr1 %ld usr2 %ld x %lx\n", round, usr1_count, usr2_sum,
             x);
  }
  return 0;
}
