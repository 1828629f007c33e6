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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Sleeping --------------------------------------------------------------
 * The deadline is kept in wall-clock time: after a restart (another boot,
 * another host) only the wall clock still means the same. */

/* The blocking calls below are cancellation points: their system calls go
 * through ckpt_cp_syscall (cancel.c), and one that reports ECANCELED acts
 * on the cancellation once the wrapper has cleaned up. */
#define CP1(nr, a) ckpt_cp_syscall(nr, (long)(a), 0, 0, 0, 0, 0)
#define CP2(nr, a, b) ckpt_cp_syscall(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define CP3(nr, a, b, c)                                                       \
  ckpt_cp_syscall(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define CP4(nr, a, b, c, d)                                                    \
  ckpt_cp_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define CP5(nr, a, b, c, d, e)                                                 \
  ckpt_cp_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define CP6(nr, a, b, c, d, e, f)                                              \
  ckpt_cp_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e),   \
                  (long)(f))

/* After a restart in a sleep: the rest of it, until the saved deadline. */
static int sleep_until_saved_deadline(void) {
  int64_t left = ckpt_self->call_deadline_ns - realtime_ns();
  if (left <= 0)
    return 0;
  struct timespec abs = {(time_t)(ckpt_self->call_deadline_ns / 1000000000),
                         (long)(ckpt_self->call_deadline_ns % 1000000000)};
  return CP4(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL) == 0
             ? 0
             : errno;
}


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
    rc = (int)CP2(SYS_nanosleep, req, rem);
    err = errno;
  }
  if (parked == 0)
    ckpt_call_leave();
  if (rc == -1 && err == ECANCELED)
    ckpt_cancel_act();
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
    rc = CP4(SYS_clock_nanosleep, clock, flags, req, rem) == 0 ? 0 : errno;
  if (parked == 0)
    ckpt_call_leave();
  if (rc == ECANCELED)
    ckpt_cancel_act();
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
    if (rc_ == -1 && err_ == ECANCELED)                                        \
      ckpt_cancel_act();                                                       \
    errno = err_;                                                              \
    return rc_;                                                                \
  } while (0)


/* Set once the program reads its stdin itself (files.c names a stdin
 * pipe read before a checkpoint; stdio's reads show in stdin's buffer). */
int ckpt_stdin_read;

ssize_t read(int fd, void *buf, size_t n) {
  if (fd == 0)
    ckpt_stdin_read = 1;
  IO_CALL(read, fd, CP3(SYS_read, fd, buf, n));
}
ssize_t write(int fd, const void *buf, size_t n) {
  IO_CALL(write, fd, CP3(SYS_write, fd, buf, n));
}
ssize_t readv(int fd, const struct iovec *iov, int n) {
  if (fd == 0)
    ckpt_stdin_read = 1;
  IO_CALL(readv, fd, CP3(SYS_readv, fd, iov, n));
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
  IO_CALL(writev, fd, CP3(SYS_writev, fd, iov, n));
}
ssize_t recv(int fd, void *buf, size_t n, int flags) {
  if (fd == 0)
    ckpt_stdin_read = 1;
  IO_CALL(recv, fd, CP6(SYS_recvfrom, fd, buf, n, flags, NULL, NULL));
}
ssize_t send(int fd, const void *buf, size_t n, int flags) {
  IO_CALL(send, fd, CP6(SYS_sendto, fd, buf, n, flags, NULL, 0));
}
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a,
                 socklen_t *alen) {
  IO_CALL(recvfrom, fd, CP6(SYS_recvfrom, fd, buf, n, flags, a, alen));
}
ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *a, socklen_t alen) {
  IO_CALL(sendto, fd, CP6(SYS_sendto, fd, buf, n, flags, a, alen));
}
int accept(int fd, struct sockaddr *a, socklen_t *alen) {
  IO_CALL(accept, fd, (int)CP3(SYS_accept, fd, a, alen));
}
int accept4(int fd, struct sockaddr *a, socklen_t *alen, int flags) {
  IO_CALL(accept4, fd, (int)CP4(SYS_accept4, fd, a, alen, flags));
}
int connect(int fd, const struct sockaddr *a, socklen_t alen) {
  IO_CALL(connect, fd, (int)CP3(SYS_connect, fd, a, alen));
}
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  IO_CALL(poll, -1, (int)CP3(SYS_poll, fds, n, timeout));
}
int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
  IO_CALL(select, -1, (int)CP5(SYS_select, n, r, w, e, tv));
}
int epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout) {
  IO_CALL(epoll_wait, -1, (int)CP4(SYS_epoll_wait, epfd, ev, n, timeout));
}
pid_t waitpid(pid_t pid, int *status, int options) {
  IO_CALL(waitpid, -1, (pid_t)CP4(SYS_wait4, pid, status, options, NULL));
}
pid_t wait(int *status) { IO_CALL(wait, -1, (pid_t)CP4(SYS_wait4, -1, status, 0, NULL)); }
int pause(void) { IO_CALL(pause, -1, (int)CP1(SYS_pause, 0)); }
