/* waitchild.c - e2e program: the checkpoint writer is never the program's
 * child (issue 11 item 5). The program forks short-lived children in a loop
 * and reaps them with wait() and waitpid(-1, ..., WNOHANG) while checkpoints
 * are taken; a SIGCHLD handler notes who each SIGCHLD is from. Any pid that
 * is not one of its own children -- returned by a wait or sending a SIGCHLD
 * -- is counted as foreign. (A child alive at a checkpoint does not come
 * back after a restart: its wait then fails with ECHILD, which is not
 * counted, so the output is the same for every run.)
 *
 * Usage: waitchild [scale]   (default 1; ~1.5 s at -O2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KIDS 4096
static pid_t kids[MAX_KIDS];
static volatile int nkids;
static volatile sig_atomic_t foreign_sigchld;

static int is_kid(pid_t pid) {
  for (int i = 0; i < nkids; i++)
    if (kids[i] == pid)
      return 1;
  return 0;
}

static void on_chld(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)uc;
  if (info->si_code != SI_USER && !is_kid(info->si_pid))
    foreign_sigchld++;
}

static uint64_t work(uint64_t x, long n) {
  for (long i = 0; i < n; i++)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL + (x >> 31);
  return x;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  uint64_t sum = 1;
  int foreign_waits = 0, bad_status = 0;
  for (int round = 0; round < 60; round++) {
    if (nkids < MAX_KIDS) {
      /* Recorded before its SIGCHLD can be handled. */
      sigset_t chld, old;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      sigprocmask(SIG_BLOCK, &chld, &old);
      pid_t pid = fork();
      if (pid == 0)
        _exit(round % 7);
      if (pid > 0)
        kids[nkids++] = pid;
      sigprocmask(SIG_SETMASK, &old, NULL);
    }
    sum = work(sum, 8000000 * scale);
    /* Reap: sometimes without blocking, sometimes blocking. */
    for (;;) {
      int status;
      pid_t got = round % 2 ? waitpid(-1, &status, WNOHANG) : wait(&status);
      if (got <= 0)
        break; /* 0: none finished; -1: ECHILD */
      if (!is_kid(got))
        foreign_waits++;
      else if (!WIFEXITED(status))
        bad_status++;
      if (round % 2 == 0)
        break;
    }
    if (round % 10 == 0)
      printf("round %d: %016llx\n", round, (unsigned long long)sum);
  }
  while (wait(NULL) > 0)
    ;
  printf("foreign children seen by wait: %d\n", foreign_waits);
  printf("foreign SIGCHLD: %d\n", (int)foreign_sigchld);
  printf("children that did not exit normally: %d\n", bad_status);
  return foreign_waits || foreign_sigchld || bad_status;
}
