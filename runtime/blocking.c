/* runtime/blocking.c - blocking calls a thread may be stopped in.
 *
 * A thread sleeping, or waiting on a pipe, a socket or a terminal, cannot
 * reach a poll; these wrappers mark it IN_CALL for the duration (its frames
 * are consistent: the call is an instrumented call site), so a checkpoint
 * need not wait for it. After a restart the thread is back in the wrapper,
 * right after ckpt_call_enter, and makes the call again: a sleep until the
 * wall-clock deadline it had, an I/O call anew -- unless it had already
 * returned when the checkpoint froze the thread, in which case the saved
 * result is returned (the data it read is in the saved memory).
 * Reads and writes of regular files are not waited out by a checkpoint:
 * they finish quickly and move the file offset, so the coordinator waits for
 * them instead (frames.c). */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

#define REAL(ret, name, params)                                                \
  static ret(*real_##name(void)) params {                                      \
    static ret(*fn) params;                                                    \
    if (!fn)                                                                   \
      fn = (ret(*) params)ckpt_libc_function(#name);                                         \
    return fn;                                                                 \
  }

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Sleeping --------------------------------------------------------------
 * The deadline is kept in wall-clock time: after a restart (another boot,
 * another host) only the wall clock still means the same. */

REAL(int, clock_nanosleep,
     (clockid_t, int, const struct timespec *, struct timespec *))

/* After a restart in a sleep: the rest of it, until the saved deadline. */
static int sleep_until_saved_deadline(void) {
  int64_t left = ckpt_self->call_deadline_ns - realtime_ns();
  if (left <= 0)
    return 0;
  struct timespec abs = {(time_t)(ckpt_self->call_deadline_ns / 1000000000),
                         (long)(ckpt_self->call_deadline_ns % 1000000000)};
  return real_clock_nanosleep()(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
}

REAL(int, nanosleep, (const struct timespec *, struct timespec *))

static int sleep_call(void *callee, const struct timespec *req,
                      struct timespec *rem) {
  struct ckpt_thread *t = ckpt_self;
  if (t && req && req->tv_nsec >= 0 && req->tv_nsec < 1000000000)
    t->call_deadline_ns =
        realtime_ns() + (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
  int parked = ckpt_call_enter(callee, CKPT_CALL_SLEEP);
  int rc, err;
  if (parked == 0 && ckpt_take_restore_call() == CKPT_CALL_SLEEP) {
    rc = sleep_until_saved_deadline();
    if (rc != 0) {
      err = rc;
      rc = -1;
    } else {
      err = errno;
    }
  } else {
    rc = real_nanosleep()(req, rem);
    err = errno;
  }
  if (parked == 0)
    ckpt_call_leave();
  errno = err;
  return rc;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
  return sleep_call((void *)nanosleep, req, rem);
}

int usleep(useconds_t usec) {
  struct timespec req = {(time_t)(usec / 1000000), (long)(usec % 1000000) * 1000};
  return sleep_call((void *)usleep, &req, NULL);
}

unsigned sleep(unsigned seconds) {
  struct timespec req = {(time_t)seconds, 0}, rem = {0, 0};
  if (sleep_call((void *)sleep, &req, &rem) != 0 && errno == EINTR)
    return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                    struct timespec *rem) {
  struct ckpt_thread *t = ckpt_self;
  if (t && req && req->tv_nsec >= 0 && req->tv_nsec < 1000000000) {
    int64_t ns = (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
    if (flags & TIMER_ABSTIME) {
      struct timespec now;
      clock_gettime(clock, &now);
      ns -= (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    }
    t->call_deadline_ns = realtime_ns() + ns;
  }
  int parked = ckpt_call_enter((void *)clock_nanosleep, CKPT_CALL_SLEEP);
  int rc;
  if (parked == 0 && ckpt_take_restore_call() == CKPT_CALL_SLEEP)
    rc = sleep_until_saved_deadline();
  else
    rc = real_clock_nanosleep()(clock, flags, req, rem);
  if (parked == 0)
    ckpt_call_leave();
  return rc;
}

/* ---- I/O and waiting for events ------------------------------------------- */

/* Wraps one call: `fd` is the descriptor it blocks on (-1: none). */
#define IO_CALL(name, fd, call)                                                \
  do {                                                                         \
    struct ckpt_thread *t_ = ckpt_self;                                        \
    if (t_)                                                                    \
      t_->call_fd = (fd);                                                      \
    int parked_ = ckpt_call_enter((void *)name, CKPT_CALL_IO);                 \
    if (parked_ == 0 && ckpt_take_restore_call() == CKPT_CALL_COMPLETED) {     \
      int64_t result_ = t_->call_result;                                       \
      int saved_errno_ = t_->call_errno;                                       \
      ckpt_call_leave();                                                       \
      errno = saved_errno_;                                                    \
      return (__typeof__(call))result_;                                        \
    }                                                                          \
    __typeof__(call) rc_ = call;                                               \
    int err_ = errno;                                                          \
    if (parked_ == 0)                                                          \
      ckpt_call_leave_result((int64_t)rc_, err_);                              \
    errno = err_;                                                              \
    return rc_;                                                                \
  } while (0)

REAL(ssize_t, read, (int, void *, size_t))
REAL(ssize_t, write, (int, const void *, size_t))
REAL(ssize_t, readv, (int, const struct iovec *, int))
REAL(ssize_t, writev, (int, const struct iovec *, int))
REAL(ssize_t, recv, (int, void *, size_t, int))
REAL(ssize_t, send, (int, const void *, size_t, int))
REAL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))
REAL(ssize_t, sendto,
     (int, const void *, size_t, int, const struct sockaddr *, socklen_t))
REAL(int, accept, (int, struct sockaddr *, socklen_t *))
REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int))
REAL(int, connect, (int, const struct sockaddr *, socklen_t))
REAL(int, poll, (struct pollfd *, nfds_t, int))
REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
REAL(int, epoll_wait, (int, struct epoll_event *, int, int))
REAL(pid_t, waitpid, (pid_t, int *, int))
REAL(pid_t, wait, (int *))
REAL(int, pause, (void))

ssize_t read(int fd, void *buf, size_t n) {
  IO_CALL(read, fd, real_read()(fd, buf, n));
}
ssize_t write(int fd, const void *buf, size_t n) {
  IO_CALL(write, fd, real_write()(fd, buf, n));
}
ssize_t readv(int fd, const struct iovec *iov, int n) {
  IO_CALL(readv, fd, real_readv()(fd, iov, n));
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
  IO_CALL(writev, fd, real_writev()(fd, iov, n));
}
ssize_t recv(int fd, void *buf, size_t n, int flags) {
  IO_CALL(recv, fd, real_recv()(fd, buf, n, flags));
}
ssize_t send(int fd, const void *buf, size_t n, int flags) {
  IO_CALL(send, fd, real_send()(fd, buf, n, flags));
}
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a,
                 socklen_t *alen) {
  IO_CALL(recvfrom, fd, real_recvfrom()(fd, buf, n, flags, a, alen));
}
ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *a, socklen_t alen) {
  IO_CALL(sendto, fd, real_sendto()(fd, buf, n, flags, a, alen));
}
int accept(int fd, struct sockaddr *a, socklen_t *alen) {
  IO_CALL(accept, fd, real_accept()(fd, a, alen));
}
int accept4(int fd, struct sockaddr *a, socklen_t *alen, int flags) {
  IO_CALL(accept4, fd, real_accept4()(fd, a, alen, flags));
}
int connect(int fd, const struct sockaddr *a, socklen_t alen) {
  IO_CALL(connect, fd, real_connect()(fd, a, alen));
}
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  IO_CALL(poll, -1, real_poll()(fds, n, timeout));
}
int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
  IO_CALL(select, -1, real_select()(n, r, w, e, tv));
}
int epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout) {
  IO_CALL(epoll_wait, -1, real_epoll_wait()(epfd, ev, n, timeout));
}
pid_t waitpid(pid_t pid, int *status, int options) {
  IO_CALL(waitpid, -1, real_waitpid()(pid, status, options));
}
pid_t wait(int *status) { IO_CALL(wait, -1, real_wait()(status)); }
int pause(void) { IO_CALL(pause, -1, real_pause()()); }
