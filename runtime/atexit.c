/* runtime/atexit.c - exit handlers the program registered (atexit, on_exit)
 * come back after a restart. libc keeps its list of handlers in its own
 * memory, which a restart does not restore; so registrations made by the
 * program (while its main or one of its constructors runs) are recorded in
 * the saved runtime state and registered again, in the same order, before
 * the restored program resumes. (atexit() is a static stub in
 * libc_nonshared.a that calls __cxa_atexit, which we interpose, as on_exit.)
 * Libraries' constructors register theirs again at every start. */
#include <dlfcn.h>
#include <errno.h>

#include "rt.h"

#define CKPT_MAX_EXIT_HANDLERS 256

struct exit_handler {
  void (*fn)(void *); /* on_exit: void (*)(int, void *) */
  void *arg;
  void *dso;
  int on_exit; /* registered with on_exit, not __cxa_atexit */
};

static struct {
  uint32_t count;
  uint32_t overflowed;
  struct exit_handler handlers[CKPT_MAX_EXIT_HANDLERS];
} exit_state CKPT_RTSTATE_VAR;

typedef int (*cxa_atexit_fn)(void (*)(void *), void *, void *);

typedef int (*on_exit_fn)(void (*)(int, void *), void *);

static on_exit_fn real_on_exit(void) {
  static on_exit_fn fn;
  if (!fn)
    fn = (on_exit_fn)dlsym(RTLD_NEXT, "on_exit");
  return fn;
}

/* Registered by the program itself: a thread of its main, or one of its
 * constructors. */
static void record(struct exit_handler h) {
  if (!ckpt_in_program_ctor &&
      !(ckpt_self && ckpt_self->state != CKPT_THREAD_OUTSIDE))
    return;
  if (exit_state.count < CKPT_MAX_EXIT_HANDLERS)
    exit_state.handlers[exit_state.count++] = h;
  else if (!exit_state.overflowed++)
    CKPT_WARN("more than %d exit handlers (atexit, on_exit): the later ones "
              "will not run at exit after a restart",
              CKPT_MAX_EXIT_HANDLERS);
}

int on_exit(void (*fn)(int, void *), void *arg) {
  on_exit_fn real = real_on_exit();
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  int rc = real(fn, arg);
  if (rc == 0)
    record((struct exit_handler){(void (*)(void *))(void (*)(void))fn, arg,
                                 NULL, 1});
  return rc;
}

static cxa_atexit_fn real_cxa_atexit(void) {
  static cxa_atexit_fn fn;
  if (!fn)
    fn = (cxa_atexit_fn)dlsym(RTLD_NEXT, "__cxa_atexit");
  return fn;
}

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso) {
  cxa_atexit_fn real = real_cxa_atexit();
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  int rc = real(fn, arg, dso);
  if (rc == 0)
    record((struct exit_handler){fn, arg, dso, 0});
  return rc;
}

int ckpt_exit_handlers_restore(char *msg, size_t msglen) {
  cxa_atexit_fn real = real_cxa_atexit();
  on_exit_fn real_oe = real_on_exit();
  for (uint32_t i = 0; i < exit_state.count && i < CKPT_MAX_EXIT_HANDLERS; i++) {
    struct exit_handler *h = &exit_state.handlers[i];
    int rc = -1;
    if (h->on_exit && real_oe)
      rc = real_oe((void (*)(int, void *))(void (*)(void))h->fn, h->arg);
    else if (!h->on_exit && real)
      rc = real(h->fn, h->arg, h->dso);
    if (rc != 0) {
      snprintf(msg, msglen, "cannot register exit handler %u again", i);
      return -1;
    }
  }
  return 0;
}
