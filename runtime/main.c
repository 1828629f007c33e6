/* runtime/main.c - the program's real main(): reads ckpt-run's settings,
 * puts argv and the environment into the application heap, moves the main
 * thread onto a stack at a fixed address and calls the user's main (renamed
 * __ckpt_main by the pass) -- or restores a checkpoint first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "heap.h"
#include "rt.h"

extern int CKPT_NAME(main)(int, char **, char **);
extern char **environ;

struct ckpt_config ckpt_config;
struct ckpt_start_state ckpt_start CKPT_RTSTATE_VAR;

static int is_ckpt_variable(const char *s) {
  static const char *const names[] = CKPT_ENV_NAMES;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i]);
    if (strncmp(s, names[i], n) == 0 && s[n] == '=')
      return 1;
  }
  return 0;
}

/* Settings come from ckpt-run through the environment. secure_getenv: a
 * set-user-ID or set-group-ID program never takes them from its caller
 * (who could otherwise choose where it writes files). */
static void read_config(void) {
  const char *dir = secure_getenv(CKPT_ENV_DIR);
  if (dir && *dir) {
    if (strlen(dir) >= sizeof ckpt_config.dir)
      ckpt_fatal("%s is too long", CKPT_ENV_DIR);
    strcpy(ckpt_config.dir, dir);
  }
  const char *interval = secure_getenv(CKPT_ENV_INTERVAL);
  if (interval && *interval) {
    char *end;
    double s = strtod(interval, &end);
    if (*end || !(s > 0) || s > 1e9)
      ckpt_fatal("%s=%s is not a positive number of seconds",
                 CKPT_ENV_INTERVAL, interval);
    ckpt_config.interval_ms = (uint64_t)(s * 1000 + 0.5);
    if (!ckpt_config.interval_ms)
      ckpt_config.interval_ms = 1;
  }
  ckpt_config.keep = CKPT_DEFAULT_KEEP;
  const char *keep = secure_getenv(CKPT_ENV_KEEP);
  if (keep && *keep) {
    char *end;
    long k = strtol(keep, &end, 10);
    if (*end || k < 1 || k > 1000000)
      ckpt_fatal("%s=%s is not a count >= 1", CKPT_ENV_KEEP, keep);
    ckpt_config.keep = (uint32_t)k;
  }
  const char *restore = secure_getenv(CKPT_ENV_RESTORE);
  if (restore && *restore) {
    if (strlen(restore) >= sizeof ckpt_config.restore_path)
      ckpt_fatal("%s is too long", CKPT_ENV_RESTORE);
    strcpy(ckpt_config.restore_path, restore);
  }
  const char *on_signal = secure_getenv(CKPT_ENV_ON_SIGNAL);
  for (const char *p = on_signal; p && *p;) {
    char *end;
    long sig = strtol(p, &end, 10);
    if (end == p || sig < 1 || sig > 64 || sig == CKPT_STOP_SIGNAL ||
        (*end && *end != ','))
      ckpt_fatal("%s=%s is not a list of signal numbers", CKPT_ENV_ON_SIGNAL,
                 on_signal);
    ckpt_config.on_signal |= 1ull << (sig - 1);
    p = *end ? end + 1 : end;
  }
  const char *key_file = secure_getenv(CKPT_ENV_KEY_FILE);
  if (key_file && *key_file && ckpt_config.dir[0])
    ckpt_load_mac_key(key_file);
}

/* A NULL-terminated copy of a string vector in the application heap. */
static char **copy_strings(char **v, int skip_ckpt, int *count) {
  int n = 0, kept = 0;
  while (v[n])
    n++;
  char **copy = malloc(sizeof(char *) * ((size_t)n + 1));
  if (!copy)
    ckpt_fatal("out of memory copying the program's arguments");
  for (int i = 0; i < n; i++) {
    if (skip_ckpt && is_ckpt_variable(v[i]))
      continue;
    if (!(copy[kept++] = strdup(v[i])))
      ckpt_fatal("out of memory copying the program's arguments");
  }
  copy[kept] = NULL;
  if (count)
    *count = kept;
  return copy;
}

static uint64_t stack_size(void) {
  /* Twice the stack limit (at least 16 MiB): frame records make
   * instrumented frames larger than plain ones, and a program that fits its
   * limit when built with cc must fit it when built with ckpt-cc. */
  struct rlimit rl;
  uint64_t size = 16ull << 20;
  if (getrlimit(RLIMIT_STACK, &rl) == 0) {
    if (rl.rlim_cur == RLIM_INFINITY)
      size = CKPT_STACK_SLOT_STRIDE / 2; /* "unlimited": as much as a slot has */
    else if (2 * (uint64_t)rl.rlim_cur > size)
      size = 2 * (uint64_t)rl.rlim_cur;
  }
  if (size > CKPT_STACK_SLOT_STRIDE / 2)
    size = CKPT_STACK_SLOT_STRIDE / 2;
  return (size + 4095) & ~4095ull;
}

int ckpt_map_stack(uint32_t slot, uint64_t size, uintptr_t *lo,
                   uintptr_t *hi) {
  /* Slot s owns [BASE + s*STRIDE, BASE + (s+1)*STRIDE), reserved whole;
   * the stack is the top `size` bytes, the rest stays inaccessible as a
   * guard that turns an overflow into a SIGSEGV. */
  uintptr_t base = CKPT_STACK_BASE + (uintptr_t)slot * CKPT_STACK_SLOT_STRIDE;
  uintptr_t top = base + CKPT_STACK_SLOT_STRIDE;
  uintptr_t bottom = top - size;
  void *p = mmap((void *)base, CKPT_STACK_SLOT_STRIDE, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                     MAP_FIXED_NOREPLACE,
                 -1, 0);
  if (p == MAP_FAILED || p != (void *)base ||
      mprotect((void *)bottom, size, PROT_READ | PROT_WRITE) != 0) {
    CKPT_ERROR("cannot map the stack of thread slot %u at %#lx: %s", slot,
               (unsigned long)bottom, strerror(errno));
    return -1;
  }
  *lo = bottom;
  *hi = top;
  return 0;
}

int ckpt_in_program_ctor;

/* The program's constructors (pass/Constructors.cpp) run with the
 * application heap, so what they allocate is saved; in a process that
 * restores a checkpoint they do not run at all: the checkpoint has what
 * they did (globals, heap, mappings, exit handlers), and running them again
 * would reset it and repeat their output. */
void CKPT_NAME(run_program_ctor)(void (*ctor)(void)) {
  const char *restore = secure_getenv(CKPT_ENV_RESTORE);
  if (restore && *restore)
    return;
  if (ckpt_heap_init_app() != 0)
    ckpt_fatal("cannot reserve the application heap at %#llx",
               (unsigned long long)CKPT_HEAP_BASE);
  int saved = ckpt_heap_use_app;
  ckpt_heap_use_app = 1;
  ckpt_in_program_ctor++;
  ctor();
  ckpt_in_program_ctor--;
  ckpt_heap_use_app = saved;
}

void ckpt_run_user_main(void *unused) {
  (void)unused;
  struct ckpt_thread *t = ckpt_self;
  ckpt_heap_use_app = 1;
  ckpt_thread_set_state(t, CKPT_THREAD_RUNNING);
  int rc = CKPT_NAME(main)(ckpt_start.argc, ckpt_start.argv, ckpt_start.envp);
  ckpt_thread_set_state(t, CKPT_THREAD_OUTSIDE);
  ckpt_note_main_returned(); /* a periodic checkpoint now fails quietly */
  exit(rc);
}

void ckpt_enter_stack(uintptr_t top, void (*fn)(void *), void *arg) {
  __asm__ volatile(".cfi_undefined rip\n\t"
                   "mov %0, %%rsp\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "call *%1\n\t"
                   "ud2"
                   :
                   : "r"(top), "r"(fn), "D"(arg)
                   : "memory");
  __builtin_unreachable();
}

void ckpt_enter_main_thread(void) {
  struct ckpt_thread *t = &ckpt_main_thread;
  ckpt_self = t;
  ckpt_cancel_thread_init(t);
  if (ckpt_sigstop_thread_init(t) != 0)
    ckpt_fatal("out of memory for the main thread's stop context");
  if (ckpt_config.dir[0] && ckpt_coordinator_start() != 0)
    ckpt_fatal("cannot start the checkpoint coordinator");
  ckpt_enter_stack(t->user_top, ckpt_run_user_main, NULL);
}

int main(int argc, char **argv, char **envp) {
  (void)argc;
  read_config();
  ckpt_procstate_start();
  ckpt_tls_init();
  /* Stack walks (which threads can be stopped, and their frames) need the
   * executable's CFI and the program's function descriptors. */
  ckpt_unwind_usable = ckpt_unwind_init() == 0;
  ckpt_modules_init();
  ckpt_copy_globals_init();
  if (ckpt_sigstop_init() != 0)
    ckpt_fatal("cannot install the handler of signal %d: %s",
               CKPT_STOP_SIGNAL, strerror(errno));
  if (ckpt_funcs_init() != 0)
    ckpt_fatal("out of memory for the function descriptors");
  if (ckpt_config.dir[0])
    ckpt_dir_acquire();
  if (ckpt_config.restore_path[0])
    ckpt_restore_and_run();
  if (ckpt_config.dir[0])
    ckpt_dir_new_run();
  if (ckpt_heap_init_app() != 0)
    ckpt_fatal("cannot reserve the application heap at %#llx",
               (unsigned long long)CKPT_HEAP_BASE);
  ckpt_heap_use_app = 1;
  ckpt_start.argv = copy_strings(argv, 0, &ckpt_start.argc);
  ckpt_start.pristine_argv = copy_strings(argv, 0, NULL);
  ckpt_start.envp = copy_strings(envp, 1, NULL);
  ckpt_start.pristine_envp = copy_strings(envp, 1, NULL);
  ckpt_heap_use_app = 0;
  environ = ckpt_start.envp;
  ckpt_start.stack_size = stack_size();
  struct ckpt_thread *t = &ckpt_main_thread;
  t->slot = 0;
  if (ckpt_map_stack(0, ckpt_start.stack_size, &t->stack_lo, &t->stack_hi))
    ckpt_fatal("cannot set up the main thread's stack");
  t->user_top = t->stack_hi - 64;
  ckpt_threads_init();
  ckpt_enter_main_thread();
}
