/* runtime/frames.c - safe points: parking threads for a checkpoint, checking
 * their frame chains, and re-entering saved frames on restore. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt.h"
#include "rt.h"

/* Read by every poll (one relaxed load) and every instrumented entry. */
volatile uint32_t CKPT_NAME(pending);
volatile uint32_t CKPT_NAME(restoring);
__thread void *CKPT_NAME(top) __attribute__((tls_model("initial-exec")));

__thread struct ckpt_thread *ckpt_self
    __attribute__((tls_model("initial-exec")));
struct ckpt_thread ckpt_main_thread;

/* The stop protocol: threads park under this lock; the coordinator waits on
 * `parked_cond` for them and they wait on `release_cond` for the epoch to
 * change. */
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parked_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t release_cond = PTHREAD_COND_INITIALIZER;
static uint64_t release_epoch;

/* The function a parent frame is calling at its current site. */
static void *site_callee(const struct ckpt_frame_header *fr) {
  const struct ckpt_func_desc *d = fr->desc;
  if (fr->site == 0 || fr->site > d->num_sites)
    return NULL;
  const struct ckpt_site_desc *s =
      &((const struct ckpt_site_desc *)d->sites)[fr->site - 1];
  switch (s->kind) {
  case CKPT_SITE_CALL_DIRECT:
    return s->callee;
  case CKPT_SITE_CALL_INDIRECT:
    if (s->callee_slot == 0 || s->callee_slot + sizeof(void *) > d->frame_size)
      return NULL;
    return *(void *const *)((const char *)fr + s->callee_slot);
  default:
    return NULL;
  }
}

extern int CKPT_NAME(main)(int, char **, char **);

int ckpt_frames_valid(const struct ckpt_frame_header *top,
                      void *innermost_callee) {
  /* A frame entered from uninstrumented code (a qsort comparator, an atexit
   * handler) has a parent whose current site calls something else: stopping
   * there could not be replayed, so the thread must run on. */
  if (!top)
    return 0;
  if (innermost_callee && site_callee(top) != innermost_callee)
    return 0;
  const struct ckpt_frame_header *fr = top;
  while (fr->parent) {
    const struct ckpt_frame_header *parent = fr->parent;
    if (site_callee(parent) != ((const struct ckpt_func_desc *)fr->desc)->fn)
      return 0;
    fr = parent;
  }
  return ((const struct ckpt_func_desc *)fr->desc)->fn == (void *)CKPT_NAME(main);
}

static void park_locked(struct ckpt_thread *t) {
  /* No signal handler may change the program's memory while the snapshot
   * is taken: asynchronous signals wait until the thread runs again. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  uint64_t epoch = release_epoch;
  t->state = CKPT_THREAD_PARKED;
  pthread_cond_broadcast(&parked_cond);
  while (release_epoch == epoch)
    pthread_cond_wait(&release_cond, &stop_lock);
  t->state = CKPT_THREAD_RUNNING;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void CKPT_NAME(poll)(void *frame) {
  struct ckpt_thread *t = ckpt_self;
  if (!t || !CKPT_NAME(pending) || ckpt_in_signal_handler())
    return;
  if (!ckpt_frames_valid(frame, NULL))
    return; /* inside a callback: stop at a later poll */
  ckpt_stdio_capture();
  pthread_mutex_lock(&stop_lock);
  if (CKPT_NAME(pending)) {
    t->parked_top = frame;
    t->park_kind = CKPT_PARK_POLL;
    park_locked(t);
  }
  pthread_mutex_unlock(&stop_lock);
}

int ckpt_park_in_call(void *callee, char *msg, size_t msglen) {
  struct ckpt_thread *t = ckpt_self;
  if (!t || t->state != CKPT_THREAD_RUNNING) {
    snprintf(msg, msglen, "called from a thread ckpt does not manage");
    return -1;
  }
  if (ckpt_in_signal_handler()) {
    snprintf(msg, msglen, "called from a signal handler");
    return -1;
  }
  struct ckpt_frame_header *top = CKPT_NAME(top);
  if (!ckpt_frames_valid(top, callee)) {
    snprintf(msg, msglen, "called where the program cannot be stopped "
                          "(inside a callback from uninstrumented code)");
    return -1;
  }
  ckpt_stdio_capture();
  pthread_mutex_lock(&stop_lock);
  t->parked_top = top;
  t->park_kind = CKPT_PARK_CALL;
  t->state = CKPT_THREAD_PARKED;
  pthread_mutex_unlock(&stop_lock);
  return 0;
}

void ckpt_unpark_from_call(void) {
  pthread_mutex_lock(&stop_lock);
  ckpt_self->state = CKPT_THREAD_RUNNING;
  pthread_mutex_unlock(&stop_lock);
}

int ckpt_stop_world(char *msg, size_t msglen) {
  struct ckpt_thread *t = &ckpt_main_thread;
  pthread_mutex_lock(&stop_lock);
  __atomic_store_n(&CKPT_NAME(pending), 1, __ATOMIC_SEQ_CST);
  int warned = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (t->state == CKPT_THREAD_RUNNING) {
    struct timespec now, deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 100 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&parked_cond, &stop_lock, &deadline);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!warned && now.tv_sec - start.tv_sec >= 10) {
      CKPT_WARN("checkpoint delayed: the program has not reached a safe point "
                "for 10 s (busy in uninstrumented code?)");
      warned = 1;
    }
  }
  if (t->state != CKPT_THREAD_PARKED) {
    __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&stop_lock);
    snprintf(msg, msglen, "the program is not running its main function");
    return -1;
  }
  /* Stays locked: nothing changes state until ckpt_resume_world. */
  return 0;
}

void ckpt_resume_world(void) {
  __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
  release_epoch++;
  pthread_cond_broadcast(&release_cond);
  pthread_mutex_unlock(&stop_lock);
}

uint32_t CKPT_NAME(restore_frame)(void *frame, void *desc) {
  struct ckpt_thread *t = ckpt_self;
  const struct ckpt_func_desc *d = desc;
  if (!t || t->restore_next >= t->restore_count)
    ckpt_fatal("restore: unexpected entry into %s while restoring",
               (const char *)d->name);
  struct ckpt_saved_frame *f = &t->restore_frames[t->restore_next++];
  if (f->desc != d)
    ckpt_fatal("restore: expected a frame of %s, the program entered %s",
               (const char *)f->desc->name, (const char *)d->name);
  if (f->addr != (uintptr_t)frame)
    ckpt_fatal("restore: frame of %s is at %p, the checkpoint has it at "
               "%#lx; the stack layout differs",
               (const char *)d->name, frame, (unsigned long)f->addr);
  struct ckpt_frame_header *fr = frame;
  void *parent = fr->parent;
  memcpy(frame, f->bytes, f->size);
  if (fr->parent != parent)
    ckpt_fatal("restore: frame of %s has a different caller frame",
               (const char *)d->name);
  uint32_t site = f->site;
  if (t->restore_next == t->restore_count) {
    /* The innermost frame: this thread is back where it stopped. */
    for (uint32_t i = 0; i < t->restore_count; i++)
      free(t->restore_frames[i].bytes);
    free(t->restore_frames);
    t->restore_frames = NULL;
    t->restore_count = t->restore_next = 0;
    t->restore_pending_call = t->restore_park_kind == CKPT_PARK_CALL;
    __atomic_store_n(&CKPT_NAME(restoring), 0, __ATOMIC_SEQ_CST);
  }
  return site;
}

void ckpt_thread_set_state(struct ckpt_thread *t, int state) {
  pthread_mutex_lock(&stop_lock);
  t->state = state;
  pthread_cond_broadcast(&parked_cond);
  pthread_mutex_unlock(&stop_lock);
}

void ckpt_frames_after_fork(void) {
  /* Only the forking thread exists in the child: no checkpoint is pending
   * for it, and the locks start free. */
  __atomic_store_n(&CKPT_NAME(pending), 0, __ATOMIC_SEQ_CST);
  pthread_mutex_init(&stop_lock, NULL);
  pthread_cond_init(&parked_cond, NULL);
  pthread_cond_init(&release_cond, NULL);
}
