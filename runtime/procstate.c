/* runtime/procstate.c - process attributes a checkpoint keeps, or names in
 * a warning when it cannot (issue 11 item 6; docs/limitations.md, "Process
 * state").
 *
 * Kept: resource limits (setrlimit), the nice value and the CPU affinity of
 * the main thread (threads the restart creates inherit them, as threads the
 * program created had). They are captured while the program is stopped
 * into the runtime state section, which the checkpoint saves, and set again
 * before the threads come back.
 *
 * Named in a warning at the checkpoint (once per run each): child
 * processes alive then (a restarted program has none), thread names set
 * with pthread_setname_np or prctl (a restart's threads have the program's
 * name), file locks the process holds (flock, fcntl: released when it is
 * killed, not taken again) and System V shared memory it has attached
 * (shmat is not tracked like mmap: not saved).
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rt.h"

static const struct {
  int resource;
  const char *name;
} limits[] = {
    {RLIMIT_AS, "RLIMIT_AS"},           {RLIMIT_CORE, "RLIMIT_CORE"},
    {RLIMIT_CPU, "RLIMIT_CPU"},         {RLIMIT_DATA, "RLIMIT_DATA"},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE"},     {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"}, {RLIMIT_NICE, "RLIMIT_NICE"},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE"},   {RLIMIT_NPROC, "RLIMIT_NPROC"},
    {RLIMIT_RSS, "RLIMIT_RSS"},         {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},   {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_STACK, "RLIMIT_STACK"},
};
#define NLIMITS (sizeof limits / sizeof limits[0])

static struct {
  int captured;
  int nice;
  struct rlimit limit[NLIMITS];
  cpu_set_t affinity;
  int have_affinity;
} saved CKPT_RTSTATE_VAR;

/* The program's name, as a new thread of this executable shows it. */
static char start_comm[16];

/* The first line of a small file (a /proc comm), without its newline;
 * buf is left as it was if the file cannot be read. */
static void read_first_line(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "re");
  if (!f)
    return;
  if (fgets(buf, (int)len, f))
    buf[strcspn(buf, "\n")] = 0;
  fclose(f);
}

void ckpt_procstate_start(void) {
  read_first_line("/proc/self/comm", start_comm, sizeof start_comm);
}

/* Children of any of the process's threads (the keeper that forks the
 * checkpoint writer is a clone child, listed too: skip it). */
static void warn_children(pid_t keeper) {
  static int warned;
  if (warned)
    return;
  DIR *d = opendir("/proc/self/task");
  if (!d)
    return;
  struct dirent *e;
  while (!warned && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    FILE *f = fopen(path, "re");
    if (!f)
      continue;
    long pid;
    while (!warned && fscanf(f, "%ld", &pid) == 1) {
      if (pid == keeper)
        continue;
      char comm[64] = "?";
      snprintf(path, sizeof path, "/proc/%ld/comm", pid);
      read_first_line(path, comm, sizeof comm);
      CKPT_WARN("child process %ld (%s) is not part of the checkpoint: after "
                "a restart the program has no such child (a wait for it "
                "fails with ECHILD)",
                pid, comm);
      warned = 1;
    }
    fclose(f);
  }
  closedir(d);
}

static void warn_thread_names(void) {
  static int warned;
  if (warned || !start_comm[0])
    return;
  for (uint32_t i = 0; i < ckpt_thread_slots_used && !warned; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t || t->library_thread || t->state == CKPT_THREAD_EXITED)
      continue;
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", t->tid);
    read_first_line(path, comm, sizeof comm);
    if (comm[0] && strcmp(comm, start_comm) != 0) {
      CKPT_WARN("thread %u is named \"%s\" (pthread_setname_np): thread "
                "names are not kept; after a restart it is \"%s\"",
                t->slot, comm, start_comm);
      warned = 1;
    }
  }
}

void ckpt_procstate_capture(void) {
  for (size_t i = 0; i < NLIMITS; i++)
    if (getrlimit(limits[i].resource, &saved.limit[i]) != 0)
      saved.limit[i].rlim_cur = saved.limit[i].rlim_max = RLIM_INFINITY;
  errno = 0;
  saved.nice = getpriority(PRIO_PROCESS, (id_t)ckpt_main_thread.tid);
  if (errno)
    saved.nice = 0;
  saved.have_affinity =
      sched_getaffinity(ckpt_main_thread.tid, sizeof saved.affinity,
                        &saved.affinity) == 0;
  saved.captured = 1;
}

/* Locks /proc/locks lists for this process (POSIX and flock locks carry
 * the holder's pid; OFD locks show -1 and are not seen). */
static void warn_file_locks(void) {
  static int warned;
  if (warned)
    return;
  FILE *f = fopen("/proc/locks", "re");
  if (!f)
    return;
  char line[256], kind[16];
  long pid;
  unsigned long ino;
  unsigned maj, min;
  while (!warned && fgets(line, sizeof line, f))
    if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", kind, &pid, &maj, &min,
               &ino) == 5 &&
        pid == (long)getpid() && !ckpt_runtime_fd_is_file(maj, min, ino)) {
      CKPT_WARN("the program holds a %s lock on inode %lu (device %x:%x): "
                "file locks are not kept; after a restart it does not hold "
                "it",
                kind, ino, maj, min);
      warned = 1;
    }
  fclose(f);
}

static void warn_sysv_shm(void) {
  static int warned;
  if (warned)
    return;
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f)
    return;
  char line[512];
  while (!warned && fgets(line, sizeof line, f)) {
    char *name = strstr(line, "/SYSV");
    if (!name)
      continue;
    unsigned long lo = strtoul(line, NULL, 16);
    name[strcspn(name, " \n")] = 0;
    CKPT_WARN("System V shared memory (%s) is attached at %#lx: shmat "
              "memory is not saved; a restart does not have it",
              name + 1, lo);
    warned = 1;
  }
  fclose(f);
}

/* After the program runs again: warnings only, no need to hold it. */
void ckpt_procstate_after_checkpoint(pid_t keeper) {
  warn_children(keeper);
  warn_thread_names();
  warn_file_locks();
  warn_sysv_shm();
}

void ckpt_procstate_restore(void) {
  if (!saved.captured)
    return;
  for (size_t i = 0; i < NLIMITS; i++) {
    struct rlimit now;
    if (getrlimit(limits[i].resource, &now) == 0 &&
        now.rlim_cur == saved.limit[i].rlim_cur &&
        now.rlim_max == saved.limit[i].rlim_max)
      continue;
    if (setrlimit(limits[i].resource, &saved.limit[i]) != 0) {
      /* A hard limit above this host's: keep what there is. */
      CKPT_WARN("cannot set %s to %llu/%llu again (%s); the program goes on "
                "with this process's",
                limits[i].name, (unsigned long long)saved.limit[i].rlim_cur,
                (unsigned long long)saved.limit[i].rlim_max, strerror(errno));
    }
  }
  errno = 0;
  int nice_now = getpriority(PRIO_PROCESS, 0);
  if (!errno && nice_now != saved.nice &&
      setpriority(PRIO_PROCESS, 0, saved.nice) != 0)
    CKPT_WARN("cannot set the nice value %d again (%s)", saved.nice,
              strerror(errno));
  if (saved.have_affinity &&
      sched_setaffinity(0, sizeof saved.affinity, &saved.affinity) != 0)
    CKPT_WARN("cannot set the CPU affinity again (%s): this host has other "
              "CPUs; the program runs on all it may use",
              strerror(errno));
}
