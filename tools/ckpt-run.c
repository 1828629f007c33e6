/* tools/ckpt-run.c - run a ckpt program, ask a running one for a checkpoint, or restart one from a checkpoint file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/abi.h"
#include "image.h"
#include "toolutil.h"
#include "trust.h"

extern char **environ;

#define DEFAULT_DIR "./ckpts"

static void usage(FILE *f) {
  fprintf(f,
"Usage:\n"
"  ckpt-run [--dir D] [--interval S] [--keep K] [--key-file F] [--on-signal SIG]\n"
"           [--resume] [--] PROG [ARGS...]\n"
"  ckpt-run --checkpoint PID [--timeout S]\n"
"  ckpt-run --restart DIR|FILE [--dir D] [--interval S] [--keep K] [--key-file F]\n"
"           [--on-signal SIG]\n"
"\n"
"Run PROG (built with ckpt-cc) so that it can be checkpointed. ckpt-run\n"
"sets up the environment, disables address-space randomisation and then\n"
"becomes PROG (same process id).\n"
"  --dir D         directory for checkpoint files, created (mode 0700) if\n"
"                  missing; it must be yours, not writable by group or\n"
"                  others, and not a symbolic link (default: %s)\n"
"  --interval S    take a checkpoint every S seconds (decimal, > 0;\n"
"                  default: no periodic checkpoints)\n"
"  --keep K        number of good checkpoints kept in D (default: %d)\n"
"  --key-file F    add a keyed MAC (BLAKE2b) to every checkpoint; a restart\n"
"                  with F refuses files whose MAC does not verify (default:\n"
"                  $CKPT_KEY_FILE; F must be private: chmod 600)\n"
"  --on-signal SIG on signal SIG (USR1, TERM, ... or a number; repeatable)\n"
"                  take a checkpoint with the program stopped, wait until it\n"
"                  is durable and exit with status %d (EX_TEMPFAIL), for a\n"
"                  job script to requeue; the program's own handler for SIG\n"
"                  does not run (see docs/batch.md)\n"
"  --resume        if D holds a checkpoint of PROG, restart from the newest\n"
"                  intact one (as --restart D); else start PROG: the same\n"
"                  command starts a job and resumes it after a requeue\n"
"\n"
"--checkpoint PID  ask the running ckpt program PID for a checkpoint now;\n"
"                  prints the checkpoint file's path when it is durable\n"
"  --timeout S     give up after S seconds (default: wait as long as needed)\n"
"\n"
"--restart DIR|FILE  restart from FILE, or from the newest checkpoint in DIR\n"
"                  (ckpt-*.ckpt) that is intact. The program restarts with\n"
"                  its recorded executable, arguments, environment and\n"
"                  working directory; it keeps checkpointing into the\n"
"                  recorded directory (or the checkpoint's own directory),\n"
"                  with the recorded interval and keep count, unless --dir,\n"
"                  --interval or --keep say otherwise. The file and its\n"
"                  directory must be yours, the binary yours or root's, none\n"
"                  writable by others, and the binary exactly the one\n"
"                  checkpointed (build-id and contents). The libraries\n"
"                  may be other builds and at other places (another host,\n"
"                  a newer glibc): pointers into them are moved. Set in\n"
"                  ckpt-run's environment, GLIBC_TUNABLES replaces the\n"
"                  recorded one (it describes this host's CPU and libc).\n"
"\n"
"  --help          this text\n"
"  --version       print the version\n"
"\n"
"Exit status: the program's, %d after --on-signal's checkpoint, 1 on an\n"
"error, 2 on a usage error.\n",
          DEFAULT_DIR, CKPT_DEFAULT_KEEP, CKPT_EXIT_REQUEUE, CKPT_EXIT_REQUEUE);
}

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))) __attribute__((noreturn));
static void usage_error(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tool_die(2, "%s (see ckpt-run --help)", msg);
}

/* ---- Helpers --------------------------------------------------------------- */

static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    tool_die(1, "out of memory");
  va_end(ap);
  return s;
}

static char *join_path(const char *dir, const char *name) {
  size_t n = strlen(dir);
  return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* mkdir -p PATH. Returns 0, or -1 with errno set. */
static int mkdir_p(const char *path) {
  char *p = xasprintf("%s", path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0700) < 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    *s = '/';
  }
  int r = mkdir(p, 0700);
  int e = errno;
  free(p);
  if (r < 0 && e != EEXIST) {
    errno = e;
    return -1;
  }
  struct stat st;
  if (stat(path, &st) < 0)
    return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

/* Refuse a checkpoint directory that is a symbolic link, not ours, or
 * writable by others (trust.h): the program would write its whole memory
 * there and a restart would run what it finds there. */
static void check_dir(const char *dir) {
  char err[CKPT_IMAGE_ERRLEN];
  int fd = ckpt_trust_open_dir(dir, err, sizeof err);
  if (fd < 0)
    tool_die(1, "%s", err);
  close(fd);
}

/* Create DIR if needed, check it and return its absolute path. */
static char *prepare_dir(const char *dir) {
  struct stat lst;
  if (lstat(dir, &lst) < 0 && mkdir_p(dir) < 0)
    tool_die(1, "cannot create checkpoint directory %s: %s", dir,
             strerror(errno));
  check_dir(dir);
  char *abs = realpath(dir, NULL);
  if (!abs)
    tool_die(1, "cannot resolve checkpoint directory %s: %s", dir,
             strerror(errno));
  return abs;
}

/* Milliseconds as decimal seconds without trailing zeros ("30", "0.25"). */
static char *format_seconds(uint64_t ms) {
  if (ms % 1000 == 0)
    return xasprintf("%llu", (unsigned long long)(ms / 1000));
  char *s = xasprintf("%llu.%03llu", (unsigned long long)(ms / 1000),
                      (unsigned long long)(ms % 1000));
  size_t n = strlen(s);
  while (s[n - 1] == '0')
    s[--n] = '\0';
  return s;
}

/* What execvp would find for PROG: 0 if found (its path in *found if
 * found is not NULL), else -1 with errno (ENOENT: nowhere; EACCES: only
 * files that cannot be executed). */
static int find_program(const char *prog, char **found) {
  struct stat st;
  if (strchr(prog, '/')) {
    if (stat(prog, &st) < 0)
      return -1;
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return -1;
    }
    if (found)
      *found = xasprintf("%s", prog);
    return access(prog, X_OK);
  }
  const char *path = getenv("PATH");
  if (!path)
    path = "/bin:/usr/bin";
  int saw_eacces = 0;
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    char *cand = end == p ? xasprintf("%s", prog)
                          : xasprintf("%.*s/%s", (int)(end - p), p, prog);
    if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (access(cand, X_OK) == 0) {
        if (found)
          *found = cand;
        else
          free(cand);
        return 0;
      }
      saw_eacces = 1;
    }
    free(cand);
    if (!*end)
      break;
    p = end;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  return -1;
}

/* ---- Launch ----------------------------------------------------------------- */

/* --key-file (or $CKPT_KEY_FILE) checked now, passed on by absolute path.
 * Returns the path, or NULL when there is no key file. */
static char *prepare_key_file(const char *key_file, uint8_t *key) {
  if (!key_file)
    key_file = getenv(CKPT_ENV_KEY_FILE);
  if (!key_file || !*key_file)
    return NULL;
  char err[CKPT_IMAGE_ERRLEN];
  if (ckpt_key_load(key_file, key, err, sizeof err) < 0)
    tool_die(1, "%s", err);
  char *abs = realpath(key_file, NULL);
  if (!abs)
    tool_die(1, "key file %s: %s", key_file, strerror(errno));
  return abs;
}

static int do_launch(char **prog_argv, const char *dir, const char *interval,
                     const char *keep, const char *key_file,
                     const char *on_signal) {
  const char *prog = prog_argv[0];
  if (find_program(prog, NULL) < 0) {
    if (errno == ENOENT)
      tool_die(1, "program %s not found", prog);
    tool_die(1, "cannot execute %s: %s", prog, strerror(errno));
  }
  char *absdir = prepare_dir(dir ? dir : DEFAULT_DIR);
  uint8_t key[CKPT_KEY_LEN];
  char *abskey = prepare_key_file(key_file, key);
  char keepbuf[32];
  if (!keep) {
    snprintf(keepbuf, sizeof keepbuf, "%d", CKPT_DEFAULT_KEEP);
    keep = keepbuf;
  }
  if (setenv(CKPT_ENV_DIR, absdir, 1) < 0 ||
      (interval ? setenv(CKPT_ENV_INTERVAL, interval, 1)
                : unsetenv(CKPT_ENV_INTERVAL)) < 0 ||
      setenv(CKPT_ENV_KEEP, keep, 1) < 0 || unsetenv(CKPT_ENV_RESTORE) < 0 ||
      (abskey ? setenv(CKPT_ENV_KEY_FILE, abskey, 1)
              : unsetenv(CKPT_ENV_KEY_FILE)) < 0 ||
      (on_signal ? setenv(CKPT_ENV_ON_SIGNAL, on_signal, 1)
                 : unsetenv(CKPT_ENV_ON_SIGNAL)) < 0)
    tool_die(1, "cannot set the environment: %s", strerror(errno));

  /* Run without address-space randomisation. The runtime places the heap,
   * the thread stacks and (through -no-pie) the executable at fixed
   * addresses itself, but the shared libraries (libc, ...) are placed by the
   * dynamic loader; pointers into them (FILE *, function pointers to libc,
   * their static data) are only still valid after a restart if the restarted
   * process loads them at the same addresses, which ADDR_NO_RANDOMIZE
   * achieves on the same system. The flag is recorded in the checkpoint and
   * set again by --restart. It is inherited across execve. */
  int cur = personality(0xffffffff);
  if (cur < 0 || personality((unsigned long)cur | ADDR_NO_RANDOMIZE) < 0)
    tool_warn("cannot disable address-space randomisation (%s); restarting "
              "from a checkpoint may fail",
              strerror(errno));

  execvp(prog, prog_argv);
  if (errno == ENOENT)
    tool_die(1, "program %s not found", prog);
  tool_die(1, "cannot execute %s: %s", prog, strerror(errno));
}

/* ---- Checkpoint request ----------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Printable copy of a reply, for error messages. */
static void sanitize(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
      *s = '?';
}

/* Whether ckpt-run started pid, as a new run or a restart (CKPT_DIR in its
 * initial environment), or pid is still ckpt-run about to become the
 * program. */
static int process_started_by_ckpt_run(int pid) {
  char path[64], buf[65536];
  /* Still ckpt-run itself, about to become the program. */
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  FILE *comm = fopen(path, "re");
  if (comm) {
    int is_launcher = fgets(buf, 64, comm) && !strcmp(buf, "ckpt-run\n");
    fclose(comm);
    if (is_launcher)
      return 1;
  }
  snprintf(path, sizeof path, "/proc/%d/environ", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  size_t len = strlen(CKPT_ENV_DIR "=");
  for (ssize_t i = 0; i < n;) {
    if ((size_t)(n - i) >= len && memcmp(buf + i, CKPT_ENV_DIR "=", len) == 0)
      return 1;
    while (i < n && buf[i])
      i++;
    i++;
  }
  return 0;
}

/* Connect to the abstract socket NAME; TIMEOUT_MS (0: none) bounds a
 * connect that waits for room in a full backlog. Returns the descriptor, or
 * -1 with errno set. */
static int connect_control(const char *name, uint64_t timeout_ms) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(name);
  memcpy(addr.sun_path + 1, name, len); /* abstract: leading NUL */
  socklen_t addrlen =
      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    tool_die(1, "cannot create a socket: %s", strerror(errno));
  if (timeout_ms) {
    struct timeval tv = {.tv_sec = (time_t)(timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  while (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
    if (errno == EINTR)
      continue;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int peer_credentials(int fd, struct ucred *cred) {
  socklen_t len = sizeof *cred;
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len);
}

/* The program's socket when its own name was taken: "@ckpt-ctl-PID-..." in
 * /proc/net/unix whose listener is process PID. Returns a connected
 * descriptor with the listener's credentials in *CRED, or -1. */
static int connect_alternate(int pid, uint64_t timeout_ms,
                             struct ucred *cred) {
  FILE *f = fopen("/proc/net/unix", "re");
  if (!f)
    return -1;
  char prefix[64], line[512];
  int plen = snprintf(prefix, sizeof prefix, "@%s%d-", CKPT_CTL_PREFIX, pid);
  int fd = -1;
  while (fd < 0 && fgets(line, sizeof line, f)) {
    char *at = strstr(line, prefix);
    if (!at)
      continue;
    at[strcspn(at, " \n")] = 0;
    if (strlen(at) <= (size_t)plen)
      continue;
    fd = connect_control(at + 1, timeout_ms);
    if (fd >= 0 && (peer_credentials(fd, cred) < 0 || cred->pid != pid)) {
      close(fd);
      fd = -1;
    }
  }
  fclose(f);
  return fd;
}

static int do_checkpoint(const char *pidarg, const char *timeout) {
  uint64_t pid64;
  if (tool_parse_uint(pidarg, 1, INT_MAX, &pid64) < 0)
    usage_error("invalid process id '%s'", pidarg);
  int pid = (int)pid64;
  uint64_t timeout_ms = 0;
  if (timeout && tool_parse_seconds(timeout, &timeout_ms) < 0)
    usage_error("invalid --timeout '%s': expected decimal seconds > 0",
                timeout);
  int64_t deadline = timeout ? now_ms() + (int64_t)timeout_ms : 0;

  if (kill(pid, 0) < 0 && errno == ESRCH)
    tool_die(1, "no process %d", pid);

  char name[64];
  snprintf(name, sizeof name, "%s%d", CKPT_CTL_PREFIX, pid);
  /* A process started by ckpt-run (CKPT_DIR in its initial environment)
   * opens its socket only once it runs: at start and while it restores a
   * checkpoint (which can take a while for a large heap), wait for it. */
  int started_by_ckpt = process_started_by_ckpt_run(pid);
  int64_t socket_wait_until = now_ms() + 60000;
  struct ucred squatter = {0, 0, 0}, cred;
  int fd;
  for (;;) {
    fd = connect_control(name, timeout ? timeout_ms : 0);
    int saved = errno;
    if (fd >= 0) {
      if (peer_credentials(fd, &cred) < 0)
        tool_die(1, "control socket @%s: cannot identify its owner: %s", name,
                 strerror(errno));
      if (cred.pid == pid)
        break;
      /* Not the program: someone else holds its name. The program then
       * listens under a name of its own choosing; find it by its pid. */
      close(fd);
      squatter = cred;
      fd = connect_alternate(pid, timeout ? timeout_ms : 0, &cred);
      if (fd >= 0)
        break;
      saved = ECONNREFUSED;
    }
    int waiting = (saved == ECONNREFUSED || saved == ENOENT) &&
                  started_by_ckpt && now_ms() < socket_wait_until &&
                  (!deadline || now_ms() < deadline) &&
                  !(kill(pid, 0) < 0 && errno == ESRCH);
    if (waiting) {
      usleep(10000);
      continue;
    }
    if (kill(pid, 0) < 0 && errno == ESRCH)
      tool_die(1, "no process %d (it exited)", pid);
    if (squatter.pid)
      tool_die(1,
               "control socket @%s belongs to process %d (uid %u), not to "
               "process %d, and process %d has no other ckpt control socket",
               name, (int)squatter.pid, (unsigned)squatter.uid, pid, pid);
    if (saved == ECONNREFUSED || saved == ENOENT)
      tool_die(1,
               "process %d is not running under ckpt (no control socket "
               "@%s)",
               pid, name);
    if (saved == EAGAIN || saved == EINPROGRESS || saved == ETIMEDOUT)
      tool_die(1, "checkpoint of %d timed out after %s seconds (connecting)",
               pid, timeout);
    tool_die(1, "cannot connect to the control socket @%s of process %d: %s",
             name, pid, strerror(saved));
  }
  /* The program serves only its own user and root: say so rather than be
   * hung up on. */
  if (cred.uid != geteuid() && geteuid() != 0)
    tool_die(1,
             "process %d belongs to uid %u; only that user or root may ask it "
             "for a checkpoint",
             pid, (unsigned)cred.uid);

  const char *req = CKPT_CTL_REQUEST;
  size_t sent = 0, reqlen = strlen(req);
  while (sent < reqlen) {
    ssize_t w = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      tool_die(1, "checkpoint of %d timed out after %s seconds (sending)",
               pid, timeout);
    if (w < 0)
      tool_die(1, "cannot send the request to process %d: %s", pid,
               strerror(errno));
    sent += (size_t)w;
  }

  char line[PATH_MAX + 1024];
  size_t len = 0;
  int eof = 0;
  while (!memchr(line, '\n', len) && !eof) {
    if (len == sizeof line - 1)
      tool_die(1, "the reply of process %d is too long", pid);
    int wait = -1;
    if (timeout) {
      int64_t left = deadline - now_ms();
      if (left <= 0)
        tool_die(1, "checkpoint of %d timed out after %s seconds", pid,
                 timeout);
      wait = left > INT_MAX ? INT_MAX : (int)left;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, wait);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr < 0)
      tool_die(1, "poll: %s", strerror(errno));
    if (pr == 0)
      continue; /* the deadline check above reports it */
    ssize_t r = read(fd, line + len, sizeof line - 1 - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      tool_die(1, "cannot read the reply of process %d: %s", pid,
               strerror(errno));
    if (r == 0)
      eof = 1;
    len += (size_t)r;
  }
  close(fd);
  line[len] = '\0';
  char *nl = strchr(line, '\n');
  if (nl)
    *nl = '\0';
  if (len == 0)
    tool_die(1,
             "process %d closed its control connection without replying "
             "(did it exit?)",
             pid);
  if (strncmp(line, "ok ", 3) == 0 && line[3]) {
    printf("%s\n", line + 3);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  if (strncmp(line, "error", 5) == 0 && (line[5] == ' ' || !line[5])) {
    sanitize(line);
    tool_die(1, "checkpoint of %d failed: %s", pid,
             line[5] ? line + 6 : "(no reason given)");
  }
  sanitize(line);
  tool_die(1, "unexpected reply from process %d: '%s'", pid, line);
}

/* ---- Restart ---------------------------------------------------------------- */

struct candidate {
  char *name;
  uint64_t seq;
};

static int cmp_candidates(const void *a, const void *b) {
  const struct candidate *x = a, *y = b;
  if (x->seq != y->seq)
    return x->seq < y->seq ? 1 : -1; /* highest first */
  return -strcmp(x->name, y->name);
}

/* Open PATH and check it: ours and private (the file opened, not the name),
 * every section's checksum, and with KEY its MAC. Returns the image, or NULL
 * with ERR. */
static struct ckpt_image *open_verified(const char *path, const uint8_t *key,
                                        char *err, size_t errlen) {
  struct ckpt_image *img = ckpt_image_open(path, err, errlen);
  if (!img)
    return NULL;
  struct stat st;
  if (fstat(ckpt_image_fd(img), &st) < 0) {
    snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    goto fail;
  }
  if (ckpt_trust_file(&st, path, err, errlen) < 0 ||
      ckpt_image_verify_checksums(img, err, errlen) < 0 ||
      (key && ckpt_image_verify_mac(img, key, err, errlen) < 0))
    goto fail;
  return img;
fail:
  ckpt_image_close(img);
  return NULL;
}

/* MSG without a leading "PATH: " (the warning names the path already). */
static const char *strip_path(const char *msg, const char *path) {
  size_t n = strlen(path);
  if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
    return msg + n + 2;
  return msg;
}

/* The newest intact checkpoint in DIR; sets *pathp. */
static struct ckpt_image *pick_from_dir(const char *dir, const uint8_t *key,
                                        char **pathp) {
  DIR *d = opendir(dir);
  if (!d)
    tool_die(1, "cannot read directory %s: %s", dir, strerror(errno));
  struct candidate *c = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  const size_t plen = strlen(CKPT_IMAGE_NAME_PREFIX), slen = strlen(CKPT_FILE_SUFFIX);
  while ((de = readdir(d))) {
    const char *name = de->d_name;
    size_t len = strlen(name);
    if (len <= plen + slen || strncmp(name, CKPT_IMAGE_NAME_PREFIX, plen) != 0 ||
        strcmp(name + len - slen, CKPT_FILE_SUFFIX) != 0)
      continue;
    uint64_t seq = 0;
    for (const char *p = name + plen; *p >= '0' && *p <= '9'; p++)
      seq = seq > (UINT64_MAX - 9) / 10 ? UINT64_MAX
                                        : seq * 10 + (uint64_t)(*p - '0');
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      c = realloc(c, cap * sizeof *c);
      if (!c)
        tool_die(1, "out of memory");
    }
    c[n].name = xasprintf("%s", name);
    c[n].seq = seq;
    n++;
  }
  closedir(d);
  if (n)
    qsort(c, n, sizeof *c, cmp_candidates);
  for (size_t i = 0; i < n; i++) {
    char *path = join_path(dir, c[i].name);
    char err[CKPT_IMAGE_ERRLEN] = "";
    struct ckpt_image *img = open_verified(path, key, err, sizeof err);
    if (img) {
      *pathp = path;
      return img;
    }
    tool_warn("skipping %s: %s", path,
              *err ? strip_path(err, path) : "unreadable");
    free(path);
  }
  tool_die(1, "%s: no usable checkpoint (%zu file%s checked)", dir, n,
           n == 1 ? "" : "s");
}

/* Is NAME=... one of the variables ckpt-run controls? */
static int is_ckpt_var(const char *entry) {
  static const char *const vars[] = CKPT_ENV_NAMES;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    size_t n = strlen(vars[i]);
    if (strncmp(entry, vars[i], n) == 0 &&
        (entry[n] == '=' || entry[n] == '\0'))
      return 1;
  }
  return 0;
}

static int do_restart(const char *target, const char *dir_opt,
                      const char *interval, const char *keep,
                      const char *key_file, const char *on_signal,
                      const char *resume_prog) {
  struct stat st;
  if (stat(target, &st) < 0)
    tool_die(1, "cannot access %s: %s", target, strerror(errno));
  uint8_t key[CKPT_KEY_LEN];
  char *abskey = prepare_key_file(key_file, key);
  char *path = NULL;
  struct ckpt_image *img;
  char err[CKPT_IMAGE_ERRLEN] = "";
  if (S_ISDIR(st.st_mode)) {
    /* Only from a directory nobody else can put files into. */
    check_dir(target);
    img = pick_from_dir(target, abskey ? key : NULL, &path);
  } else {
    /* The real file, in a directory where nobody else can replace it. */
    path = realpath(target, NULL);
    if (!path)
      tool_die(1, "cannot resolve %s: %s", target, strerror(errno));
    if (ckpt_trust_parent(path, err, sizeof err) < 0)
      tool_die(1, "%s", err);
    img = open_verified(path, abskey ? key : NULL, err, sizeof err);
    if (!img)
      tool_die(1, "%s", *err ? err : "cannot open checkpoint");
  }
  if (!abskey && (ckpt_image_info(img)->flags & CKPT_IMAGE_FLAG_MAC))
    tool_warn("%s has a MAC, but no key file was given (--key-file): it is "
              "not verified, and the restarted program writes checkpoints "
              "without one",
              path);

  /* Everything the program needs, from the META section. */
  struct tool_meta meta;
  char merr[1024];
  if (tool_meta_load(img, path, &meta, merr, sizeof merr) < 0)
    tool_die(1, "%s", merr);
  const char *missing = !meta.exe_path ? "EXE_PATH"
                        : !meta.argv   ? "ARGV"
                        : !meta.cwd    ? "CWD"
                                       : NULL;
  if (missing)
    tool_die(1, "%s: malformed META section: no %s record", path, missing);
  if (!meta.exe_path[0] || !meta.cwd[0])
    tool_die(1, "%s: malformed META section: empty %s", path,
             !meta.exe_path[0] ? "EXE_PATH" : "CWD");
  if (meta.argc == 0)
    tool_die(1, "%s: malformed META section: empty ARGV", path);
  if (resume_prog) {
    /* --resume: the checkpoints must be of the program asked for. */
    char *want = realpath(resume_prog, NULL);
    char *have = realpath(meta.exe_path, NULL);
    if (!want || !have || strcmp(want, have) != 0)
      tool_die(1,
               "--resume: %s is a checkpoint of %s, not of %s; use another "
               "--dir, or empty this one to start afresh",
               path, meta.exe_path, resume_prog);
    free(want);
    free(have);
  }

  /* The binary must be the one that was checkpointed: checked on the file
   * opened here, which is also the one executed (no window to swap it). */
  const char *exe = meta.exe_path;
  if (exe[0] != '/')
    exe = join_path(meta.cwd, exe);
  int exe_fd = open(exe, O_RDONLY | O_CLOEXEC);
  if (exe_fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      tool_die(1, "binary %s is missing", exe);
    tool_die(1, "cannot access binary %s: %s", exe, strerror(errno));
  }
  if (fstat(exe_fd, &st) < 0)
    tool_die(1, "cannot access binary %s: %s", exe, strerror(errno));
  if (ckpt_trust_binary(&st, exe, err, sizeof err) < 0)
    tool_die(1, "%s", err);
  const struct ckpt_image_info *info = ckpt_image_info(img);
  uint8_t id[TOOL_BUILD_ID_MAX];
  size_t idlen = 0;
  char berr[256], exe_fd_path[64];
  snprintf(exe_fd_path, sizeof exe_fd_path, "/proc/self/fd/%d", exe_fd);
  if (tool_elf_build_id(exe_fd_path, id, sizeof id, &idlen, berr,
                        sizeof berr) < 0) {
    /* A binary linked without a build-id is known by its contents alone. */
    if (!(errno == ENODATA && info->build_id_len == 0))
      tool_die(1, "binary %s %s", exe, berr);
    idlen = 0;
  }
  size_t want_len = info->build_id_len;
  if (want_len > CKPT_BUILD_ID_MAX)
    want_len = CKPT_BUILD_ID_MAX;
  if (idlen != want_len || memcmp(id, info->build_id, idlen) != 0) {
    char have[2 * TOOL_BUILD_ID_MAX + 8], want[2 * CKPT_BUILD_ID_MAX + 8];
    tool_hex(id, idlen, have, sizeof have);
    tool_hex(info->build_id, want_len, want, sizeof want);
    tool_die(1,
             "binary %s has changed since the checkpoint (build-id %s, "
             "checkpoint has %s)",
             exe, have, want);
  }
  if (!meta.exe_hash)
    tool_die(1,
             "%s does not record its binary's contents (written by an older "
             "ckpt?); refusing to restart from it",
             path);
  uint8_t hash[CKPT_EXE_HASH_LEN];
  if (ckpt_hash_fd(exe_fd, hash) < 0)
    tool_die(1, "cannot read binary %s: %s", exe, strerror(errno));
  if (memcmp(hash, meta.exe_hash, sizeof hash) != 0) {
    char have[2 * CKPT_EXE_HASH_LEN + 8], want[2 * CKPT_EXE_HASH_LEN + 8];
    tool_hex(hash, 8, have, sizeof have);
    tool_hex(meta.exe_hash, 8, want, sizeof want);
    tool_die(1,
             "binary %s has changed since the checkpoint (same build-id, but "
             "its contents hash to %s..., the checkpoint has %s...)",
             exe, have, want);
  }

  /* Paths the program gets are absolute: it starts in the recorded cwd. */
  char *abspath = realpath(path, NULL);
  if (!abspath)
    tool_die(1, "cannot resolve %s: %s", path, strerror(errno));
  char *ckdir;
  if (dir_opt) {
    ckdir = prepare_dir(dir_opt);
  } else if (meta.dir && meta.dir[0]) {
    struct stat dst;
    if (lstat(meta.dir, &dst) < 0 && mkdir_p(meta.dir) < 0)
      tool_die(1,
               "cannot use the recorded checkpoint directory %s (%s); choose "
               "one with --dir",
               meta.dir, strerror(errno));
    check_dir(meta.dir);
    ckdir = xasprintf("%s", meta.dir);
  } else {
    ckdir = xasprintf("%s", abspath);
    char *slash = strrchr(ckdir, '/');
    if (slash == ckdir)
      slash[1] = '\0';
    else if (slash)
      *slash = '\0';
  }
  char *interval_s = interval ? xasprintf("%s", interval)
                     : meta.has_interval && meta.interval_ms
                         ? format_seconds(meta.interval_ms)
                         : NULL;
  char *keep_s = keep             ? xasprintf("%s", keep)
                 : meta.has_keep  ? xasprintf("%u", meta.keep)
                                  : xasprintf("%d", CKPT_DEFAULT_KEEP);

  /* The recorded environment, with ckpt-run's own variables replaced. */
  char **env = calloc(meta.envc + 8, sizeof *env);
  if (!env)
    tool_die(1, "out of memory");
  size_t ne = 0;
  /* GLIBC_TUNABLES tells this host's loader and libc what to use (CPU
   * features, allocator settings): the restarting user's wins. */
  const char *tunables = getenv("GLIBC_TUNABLES");
  for (size_t i = 0; i < meta.envc; i++)
    if (!is_ckpt_var(meta.envp[i]) &&
        !(tunables && strncmp(meta.envp[i], "GLIBC_TUNABLES=", 15) == 0))
      env[ne++] = meta.envp[i];
  if (tunables)
    env[ne++] = xasprintf("GLIBC_TUNABLES=%s", tunables);
  env[ne++] = xasprintf("%s=%s", CKPT_ENV_DIR, ckdir);
  if (interval_s)
    env[ne++] = xasprintf("%s=%s", CKPT_ENV_INTERVAL, interval_s);
  env[ne++] = xasprintf("%s=%s", CKPT_ENV_KEEP, keep_s);
  env[ne++] = xasprintf("%s=%s", CKPT_ENV_RESTORE, abspath);
  if (abskey)
    env[ne++] = xasprintf("%s=%s", CKPT_ENV_KEY_FILE, abskey);
  if (on_signal)
    env[ne++] = xasprintf("%s=%s", CKPT_ENV_ON_SIGNAL, on_signal);
  env[ne] = NULL;

  ckpt_image_close(img);

  if (chdir(meta.cwd) < 0)
    tool_die(1, "cannot change to the checkpoint's working directory %s: %s",
             meta.cwd, strerror(errno));
  if (meta.has_umask)
    umask((mode_t)(meta.umask & 0777));
  /* The same personality as the checkpointed process, in particular
   * ADDR_NO_RANDOMIZE, so that shared libraries load where they were (see
   * do_launch). Without a record, behave as a launch does. */
  unsigned long persona;
  if (meta.has_personality) {
    persona = meta.personality;
  } else {
    int cur = personality(0xffffffff);
    persona = (unsigned long)(cur < 0 ? 0 : cur) | ADDR_NO_RANDOMIZE;
  }
  if (personality(persona) < 0)
    tool_die(1, "cannot set personality 0x%lx: %s", persona, strerror(errno));

  execveat(exe_fd, "", meta.argv, env, AT_EMPTY_PATH);
  tool_die(1, "cannot execute %s: %s", exe, strerror(errno));
}

/* ---- --on-signal and --resume ------------------------------------------------ */

/* SIG as a signal number that --on-signal can take: a name (USR1, SIGUSR1)
 * or a number; not one that cannot be caught, one the program's own faults
 * raise, or ckpt's own. */
static int parse_on_signal(const char *arg) {
  const char *name = strncmp(arg, "SIG", 3) == 0 ? arg + 3 : arg;
  int sig = 0;
  char *end;
  long n = strtol(arg, &end, 10);
  if (*arg && !*end) {
    sig = n >= 1 && n <= 64 ? (int)n : -1;
  } else {
    for (int i = 1; i < 32 && !sig; i++) {
      const char *abbrev = sigabbrev_np(i);
      if (abbrev && strcmp(abbrev, name) == 0)
        sig = i;
    }
  }
  if (sig <= 0)
    usage_error("--on-signal '%s': not a signal name (USR1, TERM, ...) or "
                "number",
                arg);
  if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
      sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS ||
      sig == SIGCHLD || sig == CKPT_STOP_SIGNAL)
    usage_error("--on-signal '%s': that signal cannot be used (it cannot be "
                "caught, the program's faults raise it, or ckpt uses it)",
                arg);
  return sig;
}

/* Whether DIR has a checkpoint file (ckpt-*.ckpt) at all. */
static int has_checkpoints(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    tool_die(1, "cannot read directory %s: %s", dir, strerror(errno));
  }
  const size_t plen = strlen(CKPT_IMAGE_NAME_PREFIX), slen = strlen(CKPT_FILE_SUFFIX);
  int found = 0;
  struct dirent *de;
  while (!found && (de = readdir(d))) {
    size_t len = strlen(de->d_name);
    found = len > plen + slen &&
            strncmp(de->d_name, CKPT_IMAGE_NAME_PREFIX, plen) == 0 &&
            strcmp(de->d_name + len - slen, CKPT_FILE_SUFFIX) == 0;
  }
  closedir(d);
  return found;
}

/* ---- Main ------------------------------------------------------------------- */

int main(int argc, char **argv) {
  tool_set_name("ckpt-run");
  static const struct option opts[] = {
      {"dir", required_argument, NULL, 'd'},
      {"interval", required_argument, NULL, 'i'},
      {"keep", required_argument, NULL, 'k'},
      {"checkpoint", required_argument, NULL, 'c'},
      {"timeout", required_argument, NULL, 't'},
      {"restart", required_argument, NULL, 'r'},
      {"key-file", required_argument, NULL, 'K'},
      {"on-signal", required_argument, NULL, 'S'},
      {"resume", no_argument, NULL, 'R'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *dir = NULL, *interval = NULL, *keep = NULL, *pid = NULL,
             *timeout = NULL, *restart = NULL, *key_file = NULL;
  uint64_t on_signal_mask = 0;
  int resume = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': dir = optarg; break;
    case 'i': interval = optarg; break;
    case 'k': keep = optarg; break;
    case 'c': pid = optarg; break;
    case 't': timeout = optarg; break;
    case 'r': restart = optarg; break;
    case 'K': key_file = optarg; break;
    case 'S': on_signal_mask |= 1ull << (parse_on_signal(optarg) - 1); break;
    case 'R': resume = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V':
      printf("ckpt-run (ckpt) ABI version %d, checkpoint format version %d\n",
             CKPT_ABI_VERSION, CKPT_FILE_VERSION);
      return 0;
    case ':': usage_error("option %s needs a value", argv[optind - 1]); break;
    default:
      if (optopt) {
        char opt[3] = {'-', (char)optopt, '\0'};
        usage_error("unknown option '%s'", opt);
      }
      usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }

  uint64_t v;
  if (interval && tool_parse_seconds(interval, &v) < 0)
    usage_error("invalid --interval '%s': expected decimal seconds > 0 "
                "(at least 0.001)",
                interval);
  if (keep && tool_parse_uint(keep, 1, 1000000, &v) < 0)
    usage_error("invalid --keep '%s': expected a whole number >= 1", keep);
  if (dir && !*dir)
    usage_error("--dir needs a non-empty directory name");

  char on_signal_buf[256] = "";
  for (int sig = 1; sig <= 64; sig++)
    if ((on_signal_mask >> (sig - 1)) & 1) {
      size_t len = strlen(on_signal_buf);
      snprintf(on_signal_buf + len, sizeof on_signal_buf - len, "%s%d",
               len ? "," : "", sig);
    }
  const char *on_signal = on_signal_buf[0] ? on_signal_buf : NULL;

  if (pid && restart)
    usage_error("--checkpoint and --restart cannot be combined");
  if (resume && (pid || restart))
    usage_error("--resume cannot be combined with --%s",
                pid ? "checkpoint" : "restart");
  if (pid && on_signal)
    usage_error("--on-signal does not apply to --checkpoint");
  if (timeout && !pid)
    usage_error("--timeout only applies to --checkpoint");
  if (pid) {
    if (dir || interval || keep || key_file)
      usage_error("--dir, --interval, --keep and --key-file do not apply to "
                  "--checkpoint");
    if (optind < argc)
      usage_error("unexpected argument '%s' after --checkpoint PID",
                  argv[optind]);
    return do_checkpoint(pid, timeout);
  }
  if (restart) {
    if (optind < argc)
      usage_error("unexpected argument '%s': --restart runs the recorded "
                  "program with its recorded arguments",
                  argv[optind]);
    return do_restart(restart, dir, interval, keep, key_file, on_signal, NULL);
  }
  if (optind >= argc)
    usage_error("missing program to run");
  if (resume) {
    /* A checkpoint of PROG in D: resume it (its recorded arguments, which
     * a requeued job script repeats); none: start PROG. */
    const char *d = dir ? dir : DEFAULT_DIR;
    if (has_checkpoints(d)) {
      char *found = NULL;
      if (find_program(argv[optind], &found) < 0)
        tool_die(1, "program %s not found", argv[optind]);
      return do_restart(d, d, interval, keep, key_file, on_signal, found);
    }
  }
  return do_launch(argv + optind, dir, interval, keep, key_file, on_signal);
}
