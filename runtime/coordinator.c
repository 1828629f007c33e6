/* runtime/coordinator.c - the runtime thread that takes checkpoints: on a
 * request over the control socket (ckpt-run --checkpoint), on the interval
 * timer, or when the program calls ckpt_checkpoint(). It stops the program's
 * threads, forks a copy-on-write writer, resumes the program and waits for
 * the writer to make the file durable. It is never part of a checkpoint. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "image.h"
#include "rt.h"
#include "trust.h"

#define WRITER_OK "\001ok"

/* The writer in flight and its temporary file (a name in the checkpoint
 * directory): a writer that fails or dies, or a program that exits while a
 * checkpoint is being written, leaves no temporary behind. */
static pid_t writer_pid;
static char writer_tmp[CKPT_IMAGE_TMP_NAME_MAX];

/* What identifies the binary in every checkpoint (META EXE_HASH), hashed
 * once by the coordinator before its first checkpoint. */
static uint8_t exe_hash[CKPT_EXE_HASH_LEN];
static int exe_hash_state; /* 0 not yet, 1 done, -errno failed */

/* The key of CKPT_KEY_FILE, read at start (the file may go away later). */
static uint8_t mac_key[CKPT_KEY_LEN];
static int have_mac_key;


/* Set around the coordinator's own fork, so the fork handler below can tell
 * the checkpoint writer from a child the program makes. */
static volatile int writer_forking;

static int request_pipe[2] = {-1, -1}; /* ckpt_checkpoint() -> coordinator */

/* ckpt-run --on-signal: the handler writes the signal's number here, the
 * coordinator takes a checkpoint with the program held stopped, and the
 * process exits with CKPT_EXIT_REQUEUE once it is durable. */
static int signal_pipe[2] = {-1, -1};
static int exit_after_checkpoint; /* set by the coordinator: keep stopped */

/* Result hand-back for ckpt_checkpoint(). */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_done = PTHREAD_COND_INITIALIZER;
static int call_pending, call_result;
static char call_msg[512];

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


/* Read once at start: the program may change its environment meanwhile. */
static const char *stats_file;

static double ms_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e3 +
         (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* With CKPT_STATS_FILE set (bench/), one line per checkpoint: time from the
 * request until the program stopped, how long it was paused, how long until
 * the file was durable, and the file's size. */
static void record_stats(const char *path, const struct timespec *request,
                         const struct timespec *stopped,
                         const struct timespec *resumed,
                         const struct timespec *durable) {
  const char *stats = stats_file;
  if (!stats)
    return;
  struct stat st;
  const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  long long size = fstatat(ckpt_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
                       ? (long long)st.st_size
                       : -1;
  /* One line per checkpoint whatever the directory's name holds. */
  char shown[4096];
  snprintf(shown, sizeof shown, "%s", path);
  for (char *c = shown; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ' ')
      *c = '?';
  char line[4096 + 256];
  int n = snprintf(line, sizeof line,
                   "%s stop_ms=%.3f pause_ms=%.3f durable_ms=%.3f bytes=%lld\n",
                   shown, ms_between(request, stopped),
                   ms_between(stopped, resumed), ms_between(request, durable),
                   size);
  int fd = open(stats, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                0600);
  if (fd >= 0) {
    if (n > (int)sizeof line - 1)
      n = (int)sizeof line - 1;
    ckpt_write_all(fd, line, (size_t)n);
    close(fd);
  }
}

/* At exit: stop a writer still running and remove its temporary file, and
 * prune once more -- a writer may have renamed its checkpoint into place
 * just before the exit, before the coordinator could prune after it. */
/* Set once the program is exiting: a checkpoint cut short by the exit is
 * not a failure to report (the coordinator may still run for a moment). */
static volatile int program_exiting;

void ckpt_note_main_returned(void) { program_exiting = 1; }

__attribute__((destructor)) static void stop_writer_at_exit(void) {
  program_exiting = 1;
  pid_t pid = __atomic_exchange_n(&writer_pid, 0, __ATOMIC_SEQ_CST);
  if (pid > 0) {
    kill(pid, SIGKILL);
    unlinkat(ckpt_dir_fd, writer_tmp, 0);
    /* The coordinator is waiting for that writer's verdict; let it tell
     * ckpt-run --checkpoint that the program exited before the process
     * goes (exit would otherwise close the connection unanswered). */
    ckpt_control_wait_replies(1000);
  }
  if (ckpt_config.dir[0] && ckpt_dir_fd >= 0)
    ckpt_dir_prune();
}

/* Threads the process has that ckpt did not create (a SIGEV_THREAD timer's,
 * a library's helper): they cannot be saved, so no checkpoint is taken while
 * one exists. Counted with the world stopped. */
static int foreign_threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d)
    return -1;
  int tasks = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      tasks++;
  closedir(d);
  int known = 1; /* this coordinator */
  int exiting = 0;
  for (uint32_t i = 0; i < ckpt_thread_slots_used; i++) {
    struct ckpt_thread *t = ckpt_threads[i];
    if (!t)
      continue;
    if (t->state == CKPT_THREAD_EXITED)
      exiting++; /* may still be leaving the kernel */
    else
      known++;
  }
  return tasks > known + exiting ? tasks - known - exiting : 0;
}

int ckpt_take_checkpoint(char *path, size_t pathlen, char *msg,
                         size_t msglen) {
  struct timespec t_request, t_stopped, t_resumed, t_durable;
  clock_gettime(CLOCK_MONOTONIC, &t_request);

  /* Known before the first checkpoint (the coordinator hashes first): a
   * checkpoint no restart could use is refused without stopping anyone. */
  if (!ckpt_unwind_usable) {
    snprintf(msg, msglen,
             "the executable has no usable unwind tables (.eh_frame_hdr): "
             "its threads' stacks cannot be walked");
    return -1;
  }
  if (exe_hash_state < 0) {
    snprintf(msg, msglen,
             "cannot read the program's binary (/proc/self/exe) to identify "
             "it: %s",
             strerror(-exe_hash_state));
    return -1;
  }
  if (ckpt_stop_world(msg, msglen) != 0)
    return -1;
  clock_gettime(CLOCK_MONOTONIC, &t_stopped);
  int foreign = foreign_threads();
  if (foreign > 0) {
    ckpt_resume_world();
    snprintf(msg, msglen,
             "the process runs %d thread(s) not created through "
             "pthread_create by the program (a SIGEV_THREAD timer, a "
             "library's helper thread?); they cannot be checkpointed",
             foreign);
    return -1;
  }
  /* The signal state, with what is pending. A signal in flight is
   * delivered as soon as the threads run on: let it through and stop
   * again, rather than save it half delivered. */
  for (int tries = 0;; tries++) {
    int rc = ckpt_sigstate_capture(msg, msglen);
    if (rc == 0)
      break;
    ckpt_resume_world();
    if (rc < 0)
      return -1;
    if (tries == 50) {
      size_t len = strlen(msg);
      snprintf(msg + len, msglen - len, ", and stayed so for 100 ms of "
               "retries; the checkpoint is abandoned");
      return -1;
    }
    struct timespec ms = {0, 2000000};
    nanosleep(&ms, NULL);
    if (ckpt_stop_world(msg, msglen) != 0)
      return -1;
  }
  /* Everything the writer needs is captured while the program is stopped. */
  ckpt_stdio_capture();
  ckpt_procstate_capture();
  struct ckpt_snapshot_input in;
  memset(&in, 0, sizeof in);
  if (ckpt_files_capture(&in.files, &in.nfiles) != 0) {
    ckpt_resume_world();
    snprintf(msg, msglen, "cannot record the program's open files");
    return -1;
  }
  if (ckpt_mappings_freeze_shared() != 0) {
    ckpt_resume_world();
    ckpt_files_release(in.files, in.nfiles);
    snprintf(msg, msglen, "out of memory to copy the program's shared "
             "mappings");
    return -1;
  }
  extern char **environ;
  ckpt_start.environ_value = environ;
  ckpt_start.pointer_guard = ckpt_pointer_guard();
  ckpt_start.stdio_list = ckpt_stdio_list_head();
  in.sequence = ++ckpt_start.sequence;
  char name[CKPT_IMAGE_NAME_MAX];
  ckpt_image_name(name, sizeof name, in.sequence);
  snprintf(path, pathlen, "%s/%s", ckpt_config.dir, name);
  char tmp_name[CKPT_IMAGE_TMP_NAME_MAX];
  if (ckpt_image_tmp_name(tmp_name, sizeof tmp_name, name,
                          ckpt_start.run_id) < 0) {
    ckpt_resume_world();
    ckpt_files_release(in.files, in.nfiles);
    snprintf(msg, msglen, "no random bytes for a temporary name: %s",
             strerror(errno));
    return -1;
  }
  in.tmp_name = tmp_name;
  in.exe_hash = exe_hash;
  in.mac_key = have_mac_key ? mac_key : NULL;

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    ckpt_resume_world();
    ckpt_files_release(in.files, in.nfiles);
    snprintf(msg, msglen, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t parent = getpid();
  writer_forking = 1;
  /* The writer must stay out of the program's sight: a wait() or
   * waitpid(-1) of the program must not reap it, nor its exit send the
   * program a SIGCHLD. A child cloned with no exit signal is a "clone
   * child", which only waits with __WCLONE or __WALL see and whose exit
   * signals nobody. glibc's fork cannot make one, and a bare clone leaves
   * glibc's data for the calling thread stale in the child, so that child
   * (the keeper) only forks the writer with glibc's _Fork, which sets the
   * writer up properly, waits for it and passes its exit status on. _Fork,
   * not fork: fork runs the program's pthread_atfork handlers, and one that
   * takes a mutex a stopped thread holds would wait forever. Both die
   * with the process: the keeper when the coordinator's thread does, the
   * writer when the keeper does. The copy the writer saves is the keeper's,
   * made here while the program is stopped. */
  pid_t pid = (pid_t)syscall(SYS_clone, 0 /* no exit signal */, NULL, NULL,
                             NULL, NULL);
  writer_forking = pid == 0;
  if (pid > 0) {
    snprintf(writer_tmp, sizeof writer_tmp, "%s", tmp_name);
    __atomic_store_n(&writer_pid, pid, __ATOMIC_SEQ_CST);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    close(errpipe[0]);
    pid_t keeper = getpid();
    pid_t writer = _Fork();
    if (writer < 0) {
      char wmsg[128];
      snprintf(wmsg, sizeof wmsg, "fork: %s", strerror(errno));
      ckpt_write_all(errpipe[1], wmsg, strlen(wmsg));
      _exit(1);
    }
    if (writer == 0) {
      /* The writer: a frozen copy of the program. It dies with the process
       * (a half-written temporary never replaces a good checkpoint). */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != keeper)
        _exit(1);
      ckpt_pagemap_close(); /* must read this process's own pagemap */
      char wmsg[512] = "";
      char wpath[4096];
      int rc =
          ckpt_snapshot_write(&in, wpath, sizeof wpath, wmsg, sizeof wmsg);
      /* The verdict goes through the pipe, the exit status is only for
       * the keeper. */
      if (rc != 0)
        ckpt_write_all(errpipe[1], wmsg, strlen(wmsg));
      else
        ckpt_write_all(errpipe[1], WRITER_OK, sizeof WRITER_OK - 1);
      _exit(rc != 0);
    }
    close(errpipe[1]);
    int status = 0;
    while (syscall(SYS_wait4, writer, &status, 0, NULL) < 0 && errno == EINTR)
      ;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
  }
  /* The program runs again from the release on; waking many threads can
   * keep this thread off the CPU for a while, which is not a pause. A
   * checkpoint the process exits after keeps it stopped: nothing the
   * program does after the checkpoint may reach a file or a terminal. */
  clock_gettime(CLOCK_MONOTONIC, &t_resumed);
  if (!exit_after_checkpoint)
    ckpt_resume_world();
  if (pid > 0)
    ckpt_procstate_after_checkpoint(pid);
  ckpt_files_release(in.files, in.nfiles);
  ckpt_mappings_release_frozen();
  close(errpipe[1]);
  if (pid < 0) {
    close(errpipe[0]);
    snprintf(msg, msglen, "fork: %s", strerror(errno));
    return -1;
  }
  size_t got = 0;
  for (;;) {
    ssize_t n = read(errpipe[0], msg + got, msglen - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
    if (got >= msglen - 1)
      break;
  }
  msg[got] = 0;
  close(errpipe[0]);
  int status = 0;
  while (syscall(SYS_wait4, pid, &status, __WALL, NULL) < 0 && errno == EINTR)
    ;
  __atomic_store_n(&writer_pid, 0, __ATOMIC_SEQ_CST);
  if (strcmp(msg, WRITER_OK) != 0) {
    /* Whatever stopped the writer, its temporary file goes with it -- if
     * it made one: a name it could not create (O_EXCL) is someone else's. */
    struct stat st;
    if (fstatat(ckpt_dir_fd, tmp_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_nlink == 1 &&
        (st.st_mode & 0077) == 0)
      unlinkat(ckpt_dir_fd, tmp_name, 0);
    if (program_exiting) {
      /* The exit destructor stopped it: not a fault of the writer. */
      snprintf(msg, msglen, "%s", CKPT_CTL_EXITING);
    } else if (!got) {
      if (WIFSIGNALED(status))
        snprintf(msg, msglen,
                 "the checkpoint writer was killed by signal %d before "
                 "finishing",
                 WTERMSIG(status));
      else
        snprintf(msg, msglen, "the checkpoint writer died before finishing");
    }
    return -1;
  }
  msg[0] = 0;
  clock_gettime(CLOCK_MONOTONIC, &t_durable);
  ckpt_dir_prune();
  record_stats(path, &t_request, &t_stopped, &t_resumed, &t_durable);
  return 0;
}

/* The running binary, opened at start: /proc/self/exe is the file the
 * kernel executed (it may have been replaced on disk since; then no restart
 * can be made anyway), and it can no longer be opened once the main thread
 * has exited (pthread_exit from main). Hashed by the coordinator, off the
 * program's start-up path. */
static int exe_fd = -1;

static void hash_executable(void) {
  if (exe_fd < 0)
    return; /* exe_hash_state says why */
  errno = 0;
  if (ckpt_hash_fd(exe_fd, exe_hash) < 0)
    exe_hash_state = -(errno ? errno : EIO);
  else
    exe_hash_state = 1;
  if (exe_fd >= 0) {
    ckpt_unregister_runtime_fd(exe_fd);
    close(exe_fd);
    exe_fd = -1;
  }
}

void ckpt_load_mac_key(const char *path) {
  char err[CKPT_IMAGE_ERRLEN];
  if (ckpt_key_load(path, mac_key, err, sizeof err) < 0)
    ckpt_fatal("%s", err);
  have_mac_key = 1;
}

int ckpt_on_signal_owns(int sig) {
  return sig >= 1 && sig <= 64 && (ckpt_config.on_signal >> (sig - 1)) & 1;
}

static void on_signal_handler(int sig) {
  int saved = errno;
  char c = (char)sig;
  /* The system call itself, not write(): the runtime's write is a call a
   * thread can be held in for a checkpoint, and a thread held inside a
   * signal handler could never be stopped. A full pipe means a
   * checkpoint-and-exit is asked for already. */
  syscall(SYS_write, signal_pipe[1], &c, 1);
  errno = saved;
}

/* Installed before the program runs, at a start and at a restart (after
 * the program's own handlers are back: signals.c leaves these alone). */
static int on_signal_install(void) {
  if (!ckpt_config.on_signal)
    return 0;
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
  signal_pipe[0] = ckpt_hide_fd(signal_pipe[0]);
  signal_pipe[1] = ckpt_hide_fd(signal_pipe[1]);
  for (int sig = 1; sig <= 64; sig++) {
    if (!ckpt_on_signal_owns(sig))
      continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_handler;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (ckpt_real_sigaction(sig, &sa, NULL) != 0) {
      char name[32];
      CKPT_ERROR("cannot install the handler of %s (--on-signal): %s",
                 ckpt_signal_name(sig, name, sizeof name), strerror(errno));
      return -1;
    }
  }
  return 0;
}

/* The program is stopped and the checkpoint durable, or the checkpoint
 * failed: either way the process leaves with CKPT_EXIT_REQUEUE, so a job
 * script requeues it and a restart resumes from the newest good
 * checkpoint. No exit handler runs and nothing is flushed: what the
 * program had buffered is in the checkpoint. */
static void checkpoint_and_exit(int sig) {
  char path[4096], msg[512], name[32];
  ckpt_signal_name(sig, name, sizeof name);
  if (program_exiting) {
    /* Done already: its own exit status stands, no requeue. */
    ckpt_msg("note", "%s: the program is exiting; no checkpoint", name);
    return;
  }
  exit_after_checkpoint = 1;
  int rc = ckpt_take_checkpoint(path, sizeof path, msg, sizeof msg);
  if (rc == 0)
    ckpt_msg("note", "%s: checkpoint %s is durable; the program stops "
             "(exit status %d)", name, path, CKPT_EXIT_REQUEUE);
  else
    CKPT_ERROR("%s: the checkpoint failed: %s; the program stops (exit "
               "status %d), and a restart resumes from the newest good "
               "checkpoint in %s", name, msg, CKPT_EXIT_REQUEUE,
               ckpt_config.dir);
  _exit(CKPT_EXIT_REQUEUE);
}

static void *coordinator_main(void *arg) {
  (void)arg;
  hash_executable();
  uint64_t next = ckpt_config.interval_ms ? now_ms() + ckpt_config.interval_ms : 0;
  for (;;) {
    struct pollfd fds[2 + CKPT_CONTROL_MAX_POLLFDS];
    fds[0] = (struct pollfd){request_pipe[0], POLLIN, 0};
    int timeout = -1;
    if (next) {
      uint64_t now = now_ms();
      uint64_t wait = next > now ? next - now : 0;
      timeout = wait > 3600000 ? 3600000 : (int)wait;
    }
    int nctl = ckpt_control_fill(fds + 1, CKPT_CONTROL_MAX_POLLFDS, &timeout);
    fds[1 + nctl] = (struct pollfd){signal_pipe[0], POLLIN, 0};
    int n = poll(fds, (nfds_t)(2 + nctl), timeout);
    if (n < 0 && errno != EINTR)
      ckpt_fatal("coordinator: poll: %s", strerror(errno));
    if (n > 0 && (fds[1 + nctl].revents & POLLIN)) {
      char sig;
      if (read(signal_pipe[0], &sig, 1) == 1)
        checkpoint_and_exit(sig);
    }
    char path[4096], msg[512];
    if (n > 0 && (fds[0].revents & POLLIN)) {
      char c;
      if (read(request_pipe[0], &c, 1) == 1) {
        int rc = ckpt_take_checkpoint(path, sizeof path, msg, sizeof msg);
        pthread_mutex_lock(&call_lock);
        call_result = rc;
        snprintf(call_msg, sizeof call_msg, "%s", msg);
        call_pending = 0;
        pthread_cond_broadcast(&call_done);
        pthread_mutex_unlock(&call_lock);
      }
    }
    if (n >= 0)
      ckpt_control_serve(fds + 1, nctl);
    if (next && now_ms() >= next) {
      if (ckpt_take_checkpoint(path, sizeof path, msg, sizeof msg) != 0 &&
          !program_exiting)
        CKPT_WARN("periodic checkpoint failed: %s", msg);
      next = now_ms() + ckpt_config.interval_ms;
    }
  }
  return NULL;
}

/* --on-signal's signals are blocked in the forking thread across a fork:
 * the child would otherwise run ckpt's handler, and write to the parent's
 * pipe, until its own handlers are back (after_fork_in_child). The kernel
 * call itself: the program's sigprocmask cannot block them. */
static __thread uint64_t mask_before_fork;

static void raw_sigmask(int how, uint64_t set, uint64_t *old) {
  syscall(SYS_rt_sigprocmask, how, &set, old, sizeof set);
}

static void before_fork(void) {
  if (ckpt_config.on_signal)
    raw_sigmask(SIG_BLOCK, ckpt_config.on_signal, &mask_before_fork);
}

static void after_fork_in_parent(void) {
  if (ckpt_config.on_signal)
    raw_sigmask(SIG_SETMASK, mask_before_fork, NULL);
}

/* A child the program forks is a new program with no coordinator: it takes
 * no checkpoints (ckpt_checkpoint() returns CKPT_DISABLED) and must never
 * wait for one the parent had started. */
static void after_fork_in_child(void) {
  if (writer_forking)
    return;
  writer_pid = 0; /* the parent's writer is not this child's to stop */
  ckpt_config.dir[0] = 0;
  ckpt_frames_after_fork();
  ckpt_dir_after_fork_in_child();
  ckpt_control_after_fork_in_child();
  if (request_pipe[0] >= 0)
    close(request_pipe[0]);
  if (request_pipe[1] >= 0)
    close(request_pipe[1]);
  request_pipe[0] = request_pipe[1] = -1;
  /* --on-signal's signals are the parent's business: the child gets the
   * program's handlers for them. */
  uint64_t owned = ckpt_config.on_signal;
  ckpt_config.on_signal = 0;
  for (int sig = 1; sig <= 64; sig++)
    if ((owned >> (sig - 1)) & 1)
      ckpt_signals_give_back(sig);
  if (signal_pipe[0] >= 0)
    close(signal_pipe[0]);
  if (signal_pipe[1] >= 0)
    close(signal_pipe[1]);
  signal_pipe[0] = signal_pipe[1] = -1;
  if (owned) /* blocked by before_fork: the program's mask again */
    raw_sigmask(SIG_SETMASK, mask_before_fork, NULL);
}

int ckpt_coordinator_start(void) {
  /* Made here, in the program: the writer must not take stdio's locks. */
  ckpt_reloc_anchors_init();
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  const char *stats = secure_getenv("CKPT_STATS_FILE");
  if (stats && *stats)
    stats_file = strdup(stats);
  if (ckpt_control_open() != 0)
    return -1;
  exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe_fd >= 0)
    exe_fd = ckpt_hide_fd(exe_fd);
  else
    exe_hash_state = -errno;
  if (pipe2(request_pipe, O_CLOEXEC) != 0)
    return -1;
  request_pipe[0] = ckpt_hide_fd(request_pipe[0]);
  request_pipe[1] = ckpt_hide_fd(request_pipe[1]);
  if (on_signal_install() != 0)
    return -1;
  /* Numbers go on after the checkpoints already in the directory (a new run
   * into an old directory; after a restart the saved number is there too). */
  uint64_t highest = ckpt_dir_start();
  if (ckpt_start.sequence < highest)
    ckpt_start.sequence = highest;

  /* The coordinator never runs user code and must not take the program's
   * signals. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t tid;
  int rc = ckpt_real_pthread_create(&tid, NULL, coordinator_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    CKPT_ERROR("cannot start the coordinator thread: %s", strerror(rc));
    return -1;
  }
  pthread_detach(tid);
  return 0;
}

int ckpt_checkpoint(void) {
  struct ckpt_thread *t = ckpt_self;
  if (ckpt_in_restart_hooks) {
    CKPT_ERROR("ckpt_checkpoint(): called from a ckpt_on_restart callback; "
               "the program has not resumed yet");
    return CKPT_FAILED;
  }
  if (!ckpt_config.dir[0])
    return CKPT_DISABLED;
  char msg[512];
  if (!t || t->state != CKPT_THREAD_RUNNING || ckpt_in_signal_handler()) {
    CKPT_ERROR("ckpt_checkpoint(): %s",
               !t || t->state != CKPT_THREAD_RUNNING
                   ? "called from a thread ckpt does not manage"
                   : "called from a signal handler");
    return CKPT_FAILED;
  }
  struct ckpt_unwind_regs here;
  ckpt_unwind_capture(&here);
  const char *why;
  if (ckpt_walk_stack(t, &here, 1, 1, NULL, NULL, &why) != 0) {
    CKPT_ERROR("ckpt_checkpoint(): called where the program cannot be "
               "stopped: %s",
               why);
    return CKPT_FAILED;
  }
  ckpt_call_enter((void *)ckpt_checkpoint, CKPT_CALL_CHECKPOINT);
  if (ckpt_take_restore_call() == CKPT_CALL_CHECKPOINT) {
    /* Back here after a restart: the checkpoint this call took is the one
     * the process was restarted from. */
    ckpt_call_leave();
    return CKPT_RESTARTED;
  }
  pthread_mutex_lock(&call_lock);
  call_pending = 1;
  char c = 'c';
  if (write(request_pipe[1], &c, 1) != 1) {
    call_pending = 0;
    pthread_mutex_unlock(&call_lock);
    ckpt_call_leave();
    CKPT_ERROR("ckpt_checkpoint(): cannot reach the coordinator");
    return CKPT_FAILED;
  }
  /* Parked: no signal handler may run while the snapshot is taken. */
  sigset_t old;
  ckpt_block_signals_while_stopped(t, &old);
  while (call_pending)
    pthread_cond_wait(&call_done, &call_lock);
  ckpt_unblock_signals_after_stop(t, &old);
  int rc = call_result;
  snprintf(msg, sizeof msg, "%s", call_msg);
  pthread_mutex_unlock(&call_lock);
  ckpt_call_leave();
  if (rc != 0) {
    CKPT_ERROR("ckpt_checkpoint(): %s", msg);
    return CKPT_FAILED;
  }
  return CKPT_TAKEN;
}
