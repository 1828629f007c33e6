/* runtime/control.c - the control socket ckpt-run --checkpoint talks to: an
 * abstract unix socket "@ckpt-ctl-PID". Abstract names have no file
 * permissions, so every peer is checked with SO_PEERCRED: only the
 * program's own user and root are served; others are closed without a
 * reply and named in a warning. Connections are served by the coordinator's
 * poll loop side by side, each with its own deadline, so an idle connection
 * never delays another. A name already taken (by someone squatting on it)
 * does not stop the program: it listens on "@ckpt-ctl-PID-RANDOM" instead,
 * which ckpt-run finds in /proc/net/unix and checks by the peer's pid. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

#define MAX_CLIENTS 16
#define CLIENT_TIMEOUT_MS 5000
#define REQUEST_MAX 64

struct client {
  int fd;             /* -1: free */
  uint64_t deadline;  /* ms (CLOCK_MONOTONIC) to send a whole request by */
  uint64_t accepted;  /* for evicting the oldest when all are taken */
  size_t got;
  char req[REQUEST_MAX];
};

static int listen_fd = -1;
static char sock_name[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct client clients[MAX_CLIENTS];
static int clients_ready;
/* Requests being served (checkpoint taken, reply not yet sent): the exit
 * path waits for them. */
static int replies_pending;

/* Refusals are reported at most once a second (a flood of connections must
 * not flood the program's stderr), with a count of those not reported. */
static uint64_t last_refusal_report;
static unsigned refusals_unreported;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static socklen_t make_addr(struct sockaddr_un *addr, const char *name) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t len = strlen(name);
  memcpy(addr->sun_path + 1, name, len); /* abstract: leading NUL */
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static int bind_name(int fd, const char *name) {
  struct sockaddr_un addr;
  socklen_t alen = make_addr(&addr, name);
  return bind(fd, (struct sockaddr *)&addr, alen);
}

int ckpt_control_open(void) {
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  clients_ready = 1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    CKPT_ERROR("control socket: %s", strerror(errno));
    return -1;
  }
  char name[sizeof sock_name];
  snprintf(name, sizeof name, CKPT_CTL_PREFIX "%d", (int)getpid());
  if (bind_name(fd, name) != 0) {
    if (errno != EADDRINUSE) {
      CKPT_ERROR("control socket @%s: %s", name, strerror(errno));
      close(fd);
      return -1;
    }
    /* Someone holds our name: take one nobody can guess in advance. */
    char taken[sizeof name];
    snprintf(taken, sizeof taken, "%s", name);
    uint64_t rnd = 0;
    int bound = 0;
    for (int tries = 0; tries < 8 && !bound; tries++) {
      if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        break;
      snprintf(name, sizeof name, CKPT_CTL_PREFIX "%d-%016llx", (int)getpid(),
               (unsigned long long)rnd);
      bound = bind_name(fd, name) == 0;
    }
    if (!bound) {
      CKPT_ERROR("control socket @%s is taken by another process and no "
                 "other name could be bound: %s",
                 taken, strerror(errno));
      close(fd);
      return -1;
    }
    CKPT_WARN("control socket @%s is taken by another process; listening on "
              "@%s instead (ckpt-run --checkpoint finds it)",
              taken, name);
  }
  if (listen(fd, 64) != 0) {
    CKPT_ERROR("control socket @%s: %s", name, strerror(errno));
    close(fd);
    return -1;
  }
  snprintf(sock_name, sizeof sock_name, "%s", name);
  listen_fd = ckpt_hide_fd(fd);
  return 0;
}

static void drop_client(struct client *c) {
  ckpt_unregister_runtime_fd(c->fd);
  close(c->fd);
  c->fd = -1;
}

static void report_refusal(const struct ucred *cred) {
  uint64_t now = now_ms();
  if (last_refusal_report && now - last_refusal_report < 1000) {
    refusals_unreported++;
    return;
  }
  char more[64] = "";
  if (refusals_unreported)
    snprintf(more, sizeof more, " (and %u more since the last report)",
             refusals_unreported);
  CKPT_WARN("control socket @%s: refused a connection from uid %u (pid %d): "
            "only uid %u and root may ask this program for checkpoints%s",
            sock_name, (unsigned)cred->uid, (int)cred->pid,
            (unsigned)geteuid(), more);
  last_refusal_report = now;
  refusals_unreported = 0;
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return; /* EAGAIN: none left (others: the peer went away) */
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
      if (len == sizeof cred)
        report_refusal(&cred);
      close(fd);
      continue;
    }
    /* The requester's connection is not one of the program's descriptors. */
    fd = ckpt_hide_fd(fd);
    struct client *slot = NULL, *oldest = NULL;
    for (int i = 0; i < MAX_CLIENTS && !slot; i++) {
      if (clients[i].fd < 0)
        slot = &clients[i];
      else if (!oldest || clients[i].accepted < oldest->accepted)
        oldest = &clients[i];
    }
    if (!slot) {
      drop_client(oldest); /* all taken: the newest request wins */
      slot = oldest;
    }
    uint64_t now = now_ms();
    *slot = (struct client){fd, now + CLIENT_TIMEOUT_MS, now, 0, {0}};
  }
}

int ckpt_control_fill(struct pollfd *fds, int max, int *timeout_ms) {
  int n = 0;
  if (listen_fd < 0 || max < 1)
    return 0;
  fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
  uint64_t now = now_ms();
  for (int i = 0; i < MAX_CLIENTS && n < max; i++) {
    if (clients[i].fd < 0)
      continue;
    fds[n++] = (struct pollfd){clients[i].fd, POLLIN, 0};
    uint64_t left = clients[i].deadline > now ? clients[i].deadline - now : 0;
    if (*timeout_ms < 0 || (uint64_t)*timeout_ms > left)
      *timeout_ms = (int)left;
  }
  return n;
}

/* Read what the client sent; a whole request is served at once. */
static void read_client(struct client *c) {
  for (;;) {
    ssize_t n = read(c->fd, c->req + c->got, sizeof c->req - 1 - c->got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      drop_client(c);
      return;
    }
    c->got += (size_t)n;
    c->req[c->got] = 0;
    if (memchr(c->req, '\n', c->got) || c->got == sizeof c->req - 1)
      break;
  }
  char reply[4096 + 600], path[4096], msg[512];
  __atomic_add_fetch(&replies_pending, 1, __ATOMIC_SEQ_CST);
  if (strcmp(c->req, CKPT_CTL_REQUEST) != 0)
    snprintf(reply, sizeof reply, "error unknown request\n");
  else if (ckpt_take_checkpoint(path, sizeof path, msg, sizeof msg) == 0)
    snprintf(reply, sizeof reply, "ok %s\n", path);
  else
    snprintf(reply, sizeof reply, "error %s\n", msg);
  /* The reply is small; a peer that does not read it loses it, and never
   * holds this thread up. */
  (void)!send(c->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
  drop_client(c);
  __atomic_sub_fetch(&replies_pending, 1, __ATOMIC_SEQ_CST);
}

void ckpt_control_wait_replies(int timeout_ms) {
  uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
  while (__atomic_load_n(&replies_pending, __ATOMIC_SEQ_CST) > 0 &&
         now_ms() < deadline) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

void ckpt_control_serve(const struct pollfd *fds, int n) {
  if (!n)
    return;
  if (fds[0].revents & POLLIN)
    accept_clients();
  for (int k = 1; k < n; k++) {
    if (!fds[k].revents)
      continue;
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (clients[i].fd == fds[k].fd) {
        read_client(&clients[i]);
        break;
      }
  }
  uint64_t now = now_ms();
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && now >= clients[i].deadline)
      drop_client(&clients[i]);
}

void ckpt_control_after_fork_in_child(void) {
  if (listen_fd >= 0)
    close(listen_fd);
  listen_fd = -1;
  if (!clients_ready)
    return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0) {
      close(clients[i].fd);
      clients[i].fd = -1;
    }
}
