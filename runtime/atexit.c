/* runtime/atexit.c - exit handlers the program registered (atexit) come back
 * after a restart. libc keeps its list of handlers in its own memory, which a
 * restart does not restore; so registrations made while the program's main
 * runs are recorded in the saved runtime state and registered again, in the
 * same order, before the restored program resumes. (atexit() is a static
 * stub in libc_nonshared.a that calls __cxa_atexit, which we interpose.) */
#include <dlfcn.h>
#include <errno.h>

#include "rt.h"

#define CKPT_MAX_EXIT_HANDLERS 256

struct exit_handler {
  void (*fn)(void *);
  void *arg;
  void *dso;
};

static struct {
  uint32_t count;
  uint32_t overflowed;
  struct exit_handler handlers[CKPT_MAX_EXIT_HANDLERS];
} exit_state CKPT_RTSTATE_VAR;

typedef int (*cxa_atexit_fn)(void (*)(void *), void *, void *);

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
  /* Only the program's own registrations while its main runs: constructors
   * register theirs again at every start. */
  if (rc == 0 && ckpt_self && ckpt_self->state != CKPT_THREAD_OUTSIDE) {
    if (exit_state.count < CKPT_MAX_EXIT_HANDLERS)
      exit_state.handlers[exit_state.count++] =
          (struct exit_handler){fn, arg, dso};
    else if (!exit_state.overflowed++)
      CKPT_WARN("more than %d atexit handlers: the later ones will not run "
                "at exit after a restart",
                CKPT_MAX_EXIT_HANDLERS);
  }
  return rc;
}

int ckpt_exit_handlers_restore(char *msg, size_t msglen) {
  cxa_atexit_fn real = real_cxa_atexit();
  for (uint32_t i = 0; i < exit_state.count && i < CKPT_MAX_EXIT_HANDLERS; i++) {
    struct exit_handler *h = &exit_state.handlers[i];
    if (!real || real(h->fn, h->arg, h->dso) != 0) {
      snprintf(msg, msglen, "cannot register exit handler %u again", i);
      return -1;
    }
  }
  return 0;
}
