/* forkchild.c - a program that forks while ckpt-run --on-signal owns
 * SIGUSR1: the child gets the program's handler for it (and raising it there
 * must not make the parent checkpoint and exit), the parent keeps ckpt's.
 * Exits with 3. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int round = 1; round <= 3; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      raise(SIGUSR1);
      printf("child %d: its handler ran %d time(s)\n", round, (int)handled);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("parent: child %d exited %d\n", round,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  usleep(200000); /* a stray request from a child would have ended us */
  printf("parent: still running, its handler ran %d time(s)\n", (int)handled);
  return 3;
}
