/* runtime/rt.h - internal interfaces between the files of libckpt.
 *
 * One file per concern: main.c (startup, main takeover), frames.c (safe
 * points, stop/restore of frames), coordinator.c (checkpoint triggers),
 * snapshot.c (writing a checkpoint), restore.c (reading one back), heap.c
 * (the fixed-address allocator), image.c (the file container), files.c
 * (stdout/stderr), libcstate.c (libc state kept in the checkpoint), util.c.
 */
#ifndef CKPT_RT_H
#define CKPT_RT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <signal.h>

#include "callpoint.h"
#include "context.h"
#include "unwind.h"
#include "ckpt/abi.h"

/* ---- Errors -------------------------------------------------------------
 * Every message a user can see is one line starting "ckpt: error: " (or
 * "ckpt: warning: "), so tests can match it. Messages are written with
 * write(2), never stdio, so they never mix with the program's buffers. */
void ckpt_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define CKPT_ERROR(...) ckpt_msg("error", __VA_ARGS__)
#define CKPT_WARN(...) ckpt_msg("warning", __VA_ARGS__)
/* Prints the error and exits with status 70 (EX_SOFTWARE). */
void ckpt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

/* Messages also go to the stderr ckpt-run --restart was given, from the
 * start of a restore until every thread has resumed. */
void ckpt_launcher_stderr_keep(void);
void ckpt_launcher_stderr_release(void);
/* Prefix used by ckpt_msg ("ckpt" in programs, "ckpt-run" in the tool). */
extern const char *ckpt_msg_prefix;

/* ---- Heap (heap.c) ------------------------------------------------------
 * malloc and friends are defined by heap.c and interpose libc's for the whole
 * process. Two heaps:
 *  - the application heap, a fixed-address arena at CKPT_HEAP_BASE whose
 *    memory and allocator state are saved in checkpoints;
 *  - the system heap (anywhere), for the dynamic loader, libc before main,
 *    and the runtime's own threads; never saved, never overwritten by restore.
 * Allocations made by a thread whose ckpt_heap_use_app flag is set go to the
 * application heap; free/realloc find the owning heap from the address. */
extern __thread int ckpt_heap_use_app;

/* Reserve the application arena (PROT_NONE) at CKPT_HEAP_BASE and set up an
 * empty heap in it. Called once, before the user's main. Returns 0 or -1. */
int ckpt_heap_init_app(void);
/* [CKPT_HEAP_BASE, ckpt_heap_app_end()) is the part of the arena that is
 * mapped read-write; everything the application heap holds lies inside. */
uintptr_t ckpt_heap_app_end(void);
/* Calls fn for each range of the application arena that holds data: the
 * allocator's own state and every allocated chunk (headers included), and
 * the bookkeeping words of free chunks. Ranges come in address order, do not
 * overlap, and together are all restore needs besides zero pages. Must be
 * called with no other thread inside the allocator. Stops and returns fn's
 * value if fn returns non-zero; returns 0 otherwise. */
int ckpt_heap_for_each_extent(int (*fn)(void *ctx, uintptr_t addr, size_t len),
                              void *ctx);
/* Restore: map [CKPT_HEAP_BASE, end) read-write and zero-filled (the arena
 * must not be in use yet). The caller then copies the saved extents into
 * place; the allocator state comes back with them. Returns 0 or -1. */
int ckpt_heap_restore_map(uintptr_t end);
/* The calling thread is finishing: give its cache of small free blocks back
 * to the application heap. Its later frees (glibc's exit path) take the
 * lock. */
void ckpt_heap_thread_exit(void);


/* ---- Threads and frames (frames.c, threads.c) ----------------------------
 * One ckpt_thread per application thread, indexed by its stack slot (slot 0
 * is the main thread). Thread state, written by the thread itself except
 * where noted, read by the coordinator:
 *   NEW      created, start routine not entered yet (restarts from scratch)
 *   RUNNING  may be running user code
 *   PARKED   stopped at a poll, in a program frame
 *   IN_CALL  inside a blocking call wrapped by the runtime (a contended lock,
 *            a condition wait, sleep, read...) made at an instrumented call
 *            site; it changes no
 *            program memory until it is RUNNING again, which it only becomes
 *            when no checkpoint is in progress
 *   EXITED   its start routine has returned (or it called pthread_exit): no
 *            more user code; a joinable zombie until joined
 *   OUTSIDE  the main thread before and after the user's main
 * A checkpoint may be taken when no thread is RUNNING and every stopped
 * thread's stack can be saved (ckpt_check_stack). */
enum ckpt_thread_state {
  CKPT_THREAD_OUTSIDE = 0,
  CKPT_THREAD_RUNNING = 1,
  CKPT_THREAD_PARKED = 2,
  CKPT_THREAD_IN_CALL = 3,
  CKPT_THREAD_NEW = 4,
  CKPT_THREAD_EXITED = 5,
};
enum ckpt_park_kind {
  CKPT_PARK_POLL = 1, /* stopped in __ckpt_poll at a poll site */
  CKPT_PARK_CALL = 2, /* stopped inside a runtime call (call_kind says which) */
  CKPT_PARK_SIGNAL = 3, /* stopped by the runtime's signal anywhere in the
                           program's code (sigstop.c): resumes its saved
                           register context */
};
/* Which wrapped call an IN_CALL thread is in: decides what the re-issued
 * call does after a restart. */
enum ckpt_call_kind {
  CKPT_CALL_NONE = 0,
  CKPT_CALL_CHECKPOINT = 1, /* ckpt_checkpoint(): returns CKPT_RESTARTED */
  CKPT_CALL_REISSUE = 2,    /* a call that simply runs again (lock, join,
                               barrier, semaphore, read, poll...) */
  CKPT_CALL_COND_WAIT = 3,  /* pthread_cond_(timed)wait: waits on its node */
  CKPT_CALL_SLEEP = 4,      /* sleep & co: until the saved wall-clock deadline */
  CKPT_CALL_IO = 5,         /* read, write, poll...: on call_fd; runs again */
  CKPT_CALL_COMPLETED = 6,  /* an I/O call that had returned call_result
                               (errno call_errno): returns it again */
};

/* A thread's saved stack, read back from a checkpoint: the bytes of
 * [lo, top), copied into place before the thread resumes. */
struct ckpt_saved_stack {
  uintptr_t lo, top;
  unsigned char *bytes;
};

struct ckpt_thread {
  uint32_t slot;
  int state;     /* enum ckpt_thread_state; atomic */
  int park_kind; /* enum ckpt_park_kind, valid while PARKED or IN_CALL */
  uint32_t call_kind;  /* enum ckpt_call_kind, valid while IN_CALL */
  void *call_callee;   /* the wrapper the innermost site calls */
  /* The innermost frame record (functions with excluded locals) when the
   * thread stopped: __ckpt_records then. */
  struct ckpt_frame_header *parked_records;
  /* Where a stopped thread resumes: in the instrumented function that
   * called __ckpt_poll, or in the wrapper that called ckpt_call_enter, as
   * if that call had just returned. Valid while PARKED or IN_CALL. */
  struct ckpt_call_point park_point;
  /* CKPT_PARK_SIGNAL: the interrupted context and signal mask, and where
   * the saved stack starts (below the red zone). stop_context is allocated
   * once per record (ckpt_sigstop_thread_init). */
  struct ckpt_cpu_context *stop_context;
  sigset_t stop_mask;
  uintptr_t park_sp;
  const char *stop_refusal; /* why the last signal did not stop it */
  int tid;                  /* kernel thread id, for the stop signal */
  int64_t call_deadline_ns; /* CKPT_CALL_SLEEP: CLOCK_REALTIME deadline */
  int call_fd;              /* CKPT_CALL_IO: the descriptor */
  int call_errno;
  int64_t call_result;      /* CKPT_CALL_COMPLETED */
  uintptr_t stack_lo, stack_hi;
  /* The user's frames lie below user_top: the thread's first runtime frame
   * starts there, at the same address in every run. Above it (threads other
   * than main) glibc keeps the thread's descriptor, static TLS and
   * start_thread's frame, which are not saved. */
  uintptr_t user_top;
  /* Identity. */
  uint64_t ptid;                /* pthread_t */
  void *(*start_fn)(void *);    /* NULL for the main thread */
  void *start_arg;
  void *retval;                 /* when EXITED */
  int detached;                 /* the program detached it */
  int join_claimed;             /* a pthread_join on it has started */
  uint32_t exit_futex;          /* 0 -> 1 when EXITED, for joiners */
  uintptr_t tls_block;          /* the executable's TLS block of the thread */
  uint64_t stack_guard;         /* the stack protector's canary (%fs:0x28) */
  void **key_values;            /* pthread_setspecific shadow, by key */
  uint32_t key_cap;
  /* Returning from the start routine on the user stack comes back here, to
   * thread_start on glibc's part of the stack. */
  struct ckpt_call_point exit_point;
  /* Restore. */
  int restored;                 /* re-created from a checkpoint */
  struct ckpt_saved_stack restore_stack;
  uint32_t restore_call_kind; /* the call a restored IN_CALL thread is back
                                 in: armed when it resumes, read by the
                                 wrapper with ckpt_take_restore_call() */
  unsigned char *restore_tls;
  struct ckpt_cpu_context *restore_context; /* CKPT_PARK_SIGNAL */
  /* Cancellation (cancel.c): the thread's state, in its TLS block (which
   * a checkpoint saves with the thread); set when the thread starts. A
   * request made before that waits in cancel_early. */
  struct ckpt_cancel_state *cancel;
  int cancel_early;
  /* Started by a shared library: its start routine is not in the
   * executable (libomp's workers). Such a thread is never saved: a
   * checkpoint stops it anywhere in library code (by signal, or asleep in a
   * wrapped call) so that it changes nothing while the snapshot is taken,
   * and after a restart the library, whose own state starts afresh, starts
   * its threads again (docs/openmp.md). library_name is for messages. */
  int library_thread;
  const char *library_name;
  /* A poll that found the thread inside a callback of uninstrumented code
   * does not walk the stack again before this CLOCK_MONOTONIC time: a
   * parallel region's polls cost a clock read while a checkpoint waits for
   * it to end, not a stack walk each. */
  int64_t poll_walk_after_ns;
  uint64_t poll_refused_rip; /* the poll that was refused */
  /* Signal state a checkpoint keeps (sigstate.c). wait_mask: the program's
   * mask of a thread waiting in ckpt_wait_while_pending (which blocks every
   * signal meanwhile), valid while wait_mask_known. altstack: what the
   * program last gave sigaltstack (altstack_set 0: never called). */
  sigset_t wait_mask;
  int wait_mask_known;
  int altstack_set;
  stack_t altstack;
  /* Restart: the mask the thread resumes with, when restore_mask_known. */
  int restore_mask_known;
  sigset_t restore_mask;
};

/* A thread's cancellation state: the program's cleanup buffers
 * (__pthread_unwind_buf_t, on its stack), innermost first; what
 * pthread_setcancelstate/type set; a request not acted on yet; armed =
 * pending, enabled and not unwinding (read by the system-call stub);
 * in_call: inside a cancellable system call; unwinding: running cleanup
 * handlers, towards exit_value. */
struct ckpt_cancel_state {
  void *cleanup_top;
  int disabled, async;
  int pending, armed, in_call, unwinding;
  void *exit_value;
};

extern __thread struct ckpt_thread *ckpt_self;
/* Thread records live at fixed addresses, one per slot: runtime frames on
 * saved stacks (the thread's bottom frame, a wrapper stopped in a call)
 * hold pointers to them, which stay right in a restarted process. */
extern struct ckpt_thread ckpt_thread_records[CKPT_STACK_MAX_SLOTS];
#define ckpt_main_thread (ckpt_thread_records[0])
/* Every thread by slot (NULL = free); ckpt_threads_lock guards changes. */
extern struct ckpt_thread *ckpt_threads[CKPT_STACK_MAX_SLOTS];
extern uint32_t ckpt_thread_slots_used; /* highest slot in use + 1 */

/* Exported to instrumented code (names from abi.h). */
extern volatile uint32_t CKPT_NAME(pending);
extern __thread void *CKPT_NAME(records);

/* Stop protocol, used by the coordinator: raise the flag and wait until no
 * application thread is RUNNING. Returns 0 when stopped, -1 with msg filled
 * if the program cannot be stopped now. */
int ckpt_stop_world(char *msg, size_t msglen);
void ckpt_resume_world(void);
/* Wrapped blocking calls, from the thread making them: enter marks the thread
 * IN_CALL (its innermost frame's site calls `callee`); leave returns to
 * RUNNING, first waiting out a checkpoint in progress. enter returns 0, or -1
 * if the thread is not an application thread running user code (then the
 * call is made without parking and leave must not be called). A thread
 * restarted while IN_CALL resumes as if enter had just returned 0, with
 * ckpt_take_restore_call() telling the wrapper what it was doing: so the
 * wrapper's frame must stay live until leave returns, and the wrapper must
 * be able to go on from there (e.g. wait on the same futex again). */
int ckpt_call_enter(void *callee, uint32_t kind);
void ckpt_call_leave(void);
/* For I/O calls: leave, recording the result in case a checkpoint freezes
 * the thread before the program has seen it. */
void ckpt_call_leave_result(int64_t result, int err);
/* sched_yield for the runtime's own spin loops: the program's sched_yield
 * may wait out a checkpoint (sync.c). */
int ckpt_sched_yield_raw(void);
/* Wait while a checkpoint is in progress (thread in `state`, which the
 * coordinator counts as stopped), then become RUNNING. */
void ckpt_wait_while_pending(struct ckpt_thread *t, int state);
/* In a child the program forked: reset the stop protocol. */
void ckpt_frames_after_fork(void);
/* Change a thread's state (atomic, wakes the coordinator). */
void ckpt_thread_set_state(struct ckpt_thread *t, int state);
/* ---- Cancellation (cancel.c) ------------------------------------------------ */
/* longjmp (setjmp.c) to the jmp_buf part of a cleanup buffer. */
__attribute__((noreturn)) void ckpt_longjmp_nomask(void *env, int value);
/* End the calling thread now (after its cleanup handlers ran): key
 * destructors, the exit of its record, glibc's pthread_exit (threads.c). */
__attribute__((noreturn)) void ckpt_thread_exit(void *retval);
/* On the thread itself when it starts or is restored. */
void ckpt_cancel_thread_init(struct ckpt_thread *t);
/* pthread_cancel of a thread the runtime manages. */
int ckpt_cancel_request(struct ckpt_thread *t);
/* Act on a pending cancellation now (unwinds and never returns), if the
 * thread has one and may act; else return. */
void ckpt_cancel_act(void);
/* From the stop signal's handler: 1 if the signal was a cancellation's and
 * has been handled (the thread moved out of a cancellable call). */
int ckpt_cancel_on_signal(void *ucontext);
/* A system call at a cancellation point: the result, or -1 with errno
 * (ECANCELED: not made or interrupted because the thread is to act on a
 * cancellation: the caller cleans up, then calls ckpt_cancel_act). */
long ckpt_cp_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
                     long a6);

/* ---- Stops by signal (sigstop.c) -------------------------------------------
 * CKPT_STOP_SIGNAL (abi.h): the signal the coordinator sends a running
 * thread so that it stops where it is; reserved for the runtime. */
/* Once, at start: installs the handler. */
int ckpt_sigstop_init(void);
/* On the thread itself, when it starts (or is restored): its kernel id and
 * its context buffer. -1 if out of memory. */
int ckpt_sigstop_thread_init(struct ckpt_thread *t);
/* Coordinator: asks running thread t to stop (if the kernel shows it
 * running: a sleeping one is never interrupted). */
/* frames.c: 1 while a checkpoint holds the threads libraries started
 * (after every program thread has stopped). */
extern uint32_t ckpt_library_stop;
/* openmp.c: make again, on the main thread after a restart, the calls
 * that set OpenMP's ICVs before the checkpoint. */
void ckpt_openmp_after_restore(void);
void ckpt_sigstop_request(struct ckpt_thread *t);
/* The kernel's sigaction (signals.c interposes the program's). */
int ckpt_real_sigaction(int sig, const struct sigaction *act,
                        struct sigaction *old);

/* One native frame of a stopped thread's stack, found by walking it with
 * the executable's CFI (unwind.h). */
struct ckpt_walked_frame {
  uintptr_t pc;  /* where it is: a return address (or exact, innermost) */
  uintptr_t sp;  /* its stack pointer at pc */
  uintptr_t cfa; /* its canonical frame address: its caller's sp */
  uintptr_t func;                     /* its function's start */
  const struct ckpt_func_desc *desc;  /* NULL: the runtime's code */
};
/* Walks the stack of thread t, stopped with registers *from (a return
 * address unless exact), innermost frame first, calling visit (if not
 * NULL) for each frame from there to the outermost frame of the program
 * (the user's main or the thread's start routine); a non-zero result of
 * visit ends the walk with that result. Returns 0 if the stack can be saved
 * and resumed: innermost, frames of the runtime only if runtime_prefix (a
 * wrapper blocking the thread), then only frames of instrumented program
 * functions down to the thread's first one, called by the runtime's entry
 * code. Else -1 with *why saying what is in the way (a library or other
 * uninstrumented code calling back into the program, a signal handler
 * frame, code without unwind information). Async-signal-safe, no locks. */
int ckpt_walk_stack(const struct ckpt_thread *t,
                    const struct ckpt_unwind_regs *from, int exact,
                    int runtime_prefix,
                    int (*visit)(void *ctx, const struct ckpt_walked_frame *f),
                    void *ctx, const char **why);
/* The registers ckpt_walk_stack starts from at a call point. */
void ckpt_call_point_unwind_regs(const struct ckpt_call_point *p,
                                 struct ckpt_unwind_regs *r);
/* The same at the pc a signal interrupted (ucontext: a handler's third
 * argument; sigstop.c). */
void ckpt_signal_unwind_regs(const void *ucontext, struct ckpt_unwind_regs *r);
/* The descriptor of the instrumented function starting at fn, in any
 * loaded module, or NULL. ckpt_funcs_init sorts them: at start, and again
 * when a library built with ckpt-cc comes or goes (modules.c). */
const struct ckpt_func_desc *ckpt_func_desc_at(uintptr_t fn);
int ckpt_funcs_init(void);
/* Set at start if the executable's CFI can be walked; else every
 * checkpoint is refused. */
extern int ckpt_unwind_usable;
/* Restore: every restored thread calls this once its stack is back (or it
 * has none); returns when all have, and the restore is over. */
void ckpt_restore_rendezvous(void);
/* Restore, on thread t (the calling thread, running above t->user_top or on
 * another stack): put its saved stack back, wait for every other thread to
 * do the same, and continue where it stopped. Never returns. */
void ckpt_resume_saved_thread(struct ckpt_thread *t) __attribute__((noreturn));
/* In a wrapper, right after ckpt_call_enter: if the thread has just been
 * restarted in this call, what it was doing (enum ckpt_call_kind), disarmed;
 * else CKPT_CALL_NONE. */
uint32_t ckpt_take_restore_call(void);
extern uint32_t ckpt_restore_threads_left;

/* c11threads.c: the C11 function whose call blocks in this pthread one. */
void *ckpt_c11_caller_of(void *pthread_fn);

/* threads.c */
/* The executable's TLS block of the calling thread, and its size. */
uintptr_t ckpt_tls_block(void);
extern size_t ckpt_tls_size;
/* What a checkpoint saves of each thread's TLS: the executable's block and
 * the static blocks of the ckpt-cc -shared libraries loaded with the program
 * (ckpt_tls_add_static_block, in main before any thread starts). */
extern size_t ckpt_tls_saved_size;
int ckpt_tls_add_static_block(uintptr_t block, size_t size);
/* put(ctx, piece, size) for each saved piece of the thread whose executable
 * block is exe_block, in order; -1 as soon as put fails. */
/* The pieces ckpt_tls_save saves, in order (their sizes add up to
 * ckpt_tls_saved_size). */
size_t ckpt_tls_piece_count(void);
size_t ckpt_tls_piece_size(size_t i);
int ckpt_tls_save(uintptr_t exe_block,
                  int (*put)(void *ctx, const void *p, size_t n), void *ctx);
void ckpt_tls_init(void);     /* first thing in main */
void ckpt_threads_init(void); /* before the user's main */
/* libc's own pthread_create, for the runtime's threads. */
#include <pthread.h>
int ckpt_real_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                             void *(*fn)(void *), void *arg);
/* Restore: create every saved thread again (the main thread's record is
 * slot 0) and run the main thread's part; never returns. */
void ckpt_threads_restore_and_run(void) __attribute__((noreturn));
/* Futex helpers. */
long ckpt_futex_wait(uint32_t *word, uint32_t val, const struct timespec *abs,
                     int clock_realtime);
void ckpt_futex_wake(uint32_t *word, int n);
/* pthread keys: destructors by key number (threads.c). */
#define CKPT_MAX_KEYS 1024
struct ckpt_key {
  uint32_t alive;
  void (*destructor)(void *);
};
extern struct ckpt_key ckpt_keys[CKPT_MAX_KEYS];
extern uint32_t ckpt_keys_used; /* highest key created + 1 */

/* ---- Startup state (main.c) --------------------------------------------- */
struct ckpt_config {
  char dir[4096];         /* CKPT_DIR, "" = checkpointing disabled */
  uint64_t interval_ms;   /* 0 = no periodic checkpoints */
  uint32_t keep;
  char restore_path[4096];
  uint64_t on_signal;     /* CKPT_ON_SIGNAL: bit sig-1 per signal */
};
/* True if `sig` is one of ckpt-run --on-signal's: ckpt's own handler keeps
 * it (coordinator.c); the program's sigaction is recorded, not installed,
 * and it cannot be blocked. */
int ckpt_on_signal_owns(int sig);
/* "SIGUSR1", "SIGRTMIN+3" or "signal N", in buf (sigstate.c). */
const char *ckpt_signal_name(int sig, char *buf, size_t len);
/* Hands signal `sig` back to the program: its recorded action, or the
 * default (signals.c). */
void ckpt_signals_give_back(int sig);
extern struct ckpt_config ckpt_config;

/* What the program started with; kept in the runtime state section so a
 * restarted process calls the user's main with the very same values. */
struct ckpt_start_state {
  int argc;
  char **argv;        /* arena copy handed to the program */
  char **envp;        /* arena copy handed to the program */
  char **pristine_argv; /* arena copies never handed out: for META */
  char **pristine_envp;
  char **environ_value; /* environ at the checkpoint */
  uint64_t stack_size;
  uint64_t sequence;   /* last checkpoint number written */
  uintptr_t pointer_guard; /* glibc's pointer guard at the checkpoint */
  void *stdio_list;        /* glibc's _IO_list_all at the checkpoint */
  uint8_t run_id[16];      /* this run's id, in every checkpoint's header */
};
extern struct ckpt_start_state ckpt_start;

/* ---- Checkpoint directory (ckptdir.c) ------------------------------------ */
/* ckpt_config.dir, open (every file operation is relative to it). */
extern int ckpt_dir_fd;
/* Open, check and lock the checkpoint directory; exits with an error line
 * if it is not ours and private or another program holds it. */
void ckpt_dir_acquire(void);
/* Give a fresh run its random id. */
void ckpt_dir_new_run(void);
/* At coordinator start: remove this run's stale temporaries, warn about
 * other runs'; returns the highest checkpoint number in the directory. */
uint64_t ckpt_dir_start(void);
/* Remove this run's checkpoints beyond the newest ckpt_config.keep. */
void ckpt_dir_prune(void);
void ckpt_dir_after_fork_in_child(void);

#define CKPT_RTSTATE_VAR __attribute__((section(CKPT_SECTION_RTSTATE), used))

/* The descriptor sections of the executable (the linker defines the bounds;
 * weak, so a program with no instrumented global still links; hidden, so
 * that they are never bound to the bounds a shared library exports) and the
 * start of its .bss. */
#define CKPT_SECTION_BOUND __attribute__((weak, visibility("hidden")))
extern const struct ckpt_global_desc __start_ckpt_globals[] CKPT_SECTION_BOUND;
extern const struct ckpt_global_desc __stop_ckpt_globals[] CKPT_SECTION_BOUND;
extern const struct ckpt_func_desc __start_ckpt_funcs[] CKPT_SECTION_BOUND;
extern const struct ckpt_func_desc __stop_ckpt_funcs[] CKPT_SECTION_BOUND;
extern char __start_ckpt_rtstate[] CKPT_SECTION_BOUND;
extern char __stop_ckpt_rtstate[] CKPT_SECTION_BOUND;
extern char __bss_start[];
extern char _end[];

/* ---- The program's objects (modules.c) -----------------------------------
 * Slot 0 is the executable; the others are shared libraries built with
 * ckpt-cc -shared, in the order they registered (a slot a dlclose'd library
 * left is reused). */
#define CKPT_MAX_MODULES 64
struct ckpt_module {
  const struct ckpt_module_info *info; /* NULL for the executable */
  const struct ckpt_func_desc *funcs, *funcs_end;
  const struct ckpt_global_desc *globals, *globals_end;
  char path[256];     /* as the loader names it; "" for the executable */
  uintptr_t base;     /* load bias */
  uintptr_t lo, hi;   /* its PT_LOAD segments, all of them */
  size_t tls_size;    /* its PT_TLS block, 0 if none */
  uintptr_t tls_block; /* the main thread's block when it registered */
  int tls_saved;      /* its block is saved with each thread (static TLS) */
  int loaded_at_start; /* linked with the program, not opened with dlopen */
  int live;
  uint32_t build_id_len; /* its GNU build-id (ckpt-cc links with one) */
  uint8_t build_id[32];
};
/* ---- Libraries the program opens with dlopen (dlopen.c) ---------------- */
struct ckpt_dlopen_call {
  uint64_t handle; /* as the program holds it */
  int flags;
  const char *path; /* the object it names, as the loader names it; "" for
                       the program itself (dlopen(NULL)) */
};
struct ckpt_dlopen_object {
  uint64_t lo, hi; /* the pages its segments take */
  int flags;       /* of the call that loaded it */
  uint32_t group;  /* the same for the objects one call loaded */
  const char *path;
};
/* True if the object loaded at `base` was loaded by a dlopen of the
 * program's, which a restart makes again; *flags and *group (if not NULL)
 * get the call's flags and number. */
int ckpt_dlopen_loaded_by_program(uintptr_t base, int *flags,
                                  uint32_t *group);
/* The name a dlsym of the program's asked for that gave value (NULL: none
 * known), and remembering one (a restart, for the values it moved). */
const char *ckpt_dlsym_name(uint64_t value);
void ckpt_dlsym_remember(uint64_t value, const char *name);
/* The program's dlopen calls in force, oldest first. */
int ckpt_dlopen_each_call(int (*visit)(void *ctx, uint64_t handle, int flags,
                                       const char *path),
                          void *ctx);
/* At a restart, after the program's memory is back: makes the calls again,
 * with each object back at its place. -1 and msg on failure. */
int ckpt_dlopen_replay(const struct ckpt_dlopen_call *calls, size_t ncalls,
                       const struct ckpt_dlopen_object *objs, size_t nobjs,
                       char *msg, size_t msglen);

/* ---- Shared objects and their symbols (libsyms.c) ---------------------- */
struct ckpt_lib {
  char name[512];         /* as the loader names it (a path, linux-vdso.so.1) */
  const char *soname;     /* DT_SONAME, else the name's last part */
  uint8_t build_id[32];
  uint32_t build_id_len;  /* 0: none */
  uintptr_t base;         /* dlpi_addr */
  uintptr_t lo, hi;       /* the pages its segments take */
  uintptr_t code_lo, code_hi; /* its executable segments */
  struct { uintptr_t lo, hi; } ro[4]; /* its read-only data segments */
  uint32_t nro;
  const void *syms;       /* .dynsym (ElfW(Sym)), nsyms entries */
  const uint16_t *versym; /* .gnu.version, or NULL */
  const char *strs;       /* .dynstr, strsz bytes */
  size_t strsz;
  uint32_t nsyms;
};
/* Every loaded object but the executable, in the loader's order; *out is
 * malloc'd. The pointers into the objects stay valid while they are
 * loaded. */
int ckpt_libs_load(struct ckpt_lib **out, size_t *n);
/* How a restart can find addr, a value inside l, again: the exported symbol
 * (default version) covering it and addr's offset in it (data; code only at
 * a function's start), or *flags CKPT_TARGET_IFUNC and the IFUNC it
 * resolved from, or *flags CKPT_TARGET_STRING and the string it points to
 * in read-only data; NULL if none (*flags CKPT_TARGET_CODE for code). */
const char *ckpt_lib_classify(const struct ckpt_lib *l, uintptr_t addr,
                              uint64_t *offset, uint32_t *flags);
/* A string in l's read-only data with the given bytes (a NUL after them);
 * -1 if none. */
int ckpt_lib_string_addr(const struct ckpt_lib *l, const char *bytes,
                         size_t len, uintptr_t *addr);
/* ckpt_lib_symbol_addr, else (offset 0) the IFUNC of that name resolved. */
int ckpt_lib_any_symbol_addr(const struct ckpt_lib *l, const char *name,
                             uint64_t offset, uintptr_t *addr);
/* What the IFUNC `name` of l resolves to in this process; -1 if none. */
int ckpt_lib_ifunc_addr(const struct ckpt_lib *l, const char *name,
                        uintptr_t *addr);
/* The address of `name` + offset in l; -1 if l has no such symbol or it is
 * smaller than offset. */
int ckpt_lib_symbol_addr(const struct ckpt_lib *l, const char *name,
                         uint64_t offset, uintptr_t *addr);

/* ---- Pointers into shared objects (relocate.c) --------------------------
 * Writer: ckpt_reloc_scan_begin, ckpt_reloc_scan on every range of saved
 * program memory (and every saved pointer-sized field a restart gives back
 * to the program), then ckpt_reloc_write_section (the LIBS section). */
int ckpt_reloc_scan_begin(void);
/* kind: where the bytes are. The heap and mappings also hold libraries'
 * own state, stacks and registers values dead since an earlier call; the
 * program's globals, TLS and the like hold what the program keeps
 * (CKPT_TARGET_UNOWNED, CKPT_TARGET_STACK_ONLY). */
enum { CKPT_RELOC_OWNED = 0, CKPT_RELOC_SHARED = 1, CKPT_RELOC_STACK = 2 };
void ckpt_reloc_scan(const void *data, size_t len, uint64_t where,
                     unsigned kind);
int ckpt_reloc_write_section(int (*put)(void *ctx, const void *buf,
                                        size_t len),
                             void *ctx, char *msg, size_t msglen);
/* In the program, before its first checkpoint: libc's stdio anchors
 * (stdio.c), which the writer must not make itself. */
void ckpt_reloc_anchors_init(void);
void ckpt_reloc_scan_end(void);
/* Restart: ckpt_reloc_restore_begin with the LIBS section's records; then
 * ckpt_reloc_note on every range restored (the same ranges the writer
 * scanned, by their checkpoint-time address `where`; `what` names the kind
 * of memory, a static string); ckpt_reloc_settle once every library is
 * loaded (the pointers noted until then are changed then, later ones at
 * once); ckpt_reloc_threads_settle once the threads exist again. -1 and
 * msg on failure. */
struct ckpt_reloc_lib {
  uint64_t base, lo, hi;
  uint32_t flags; /* CKPT_LIB_DLOPEN */
  char *name, *soname;
  uint8_t build_id[32];
  uint32_t build_id_len;
};
struct ckpt_reloc_target {
  uint64_t value, where, sym_offset;
  uint32_t lib, count, flags; /* CKPT_TARGET_* (sections.h) */
  char *symbol;               /* "" if none */
};
struct ckpt_reloc_thread {
  uint64_t ptid, tls_block, tls_size; /* at the checkpoint */
  uint32_t slot;
  uint64_t new_ptid; /* once created again */
};
void ckpt_reloc_restore_begin(struct ckpt_reloc_lib *libs, size_t nlibs,
                              struct ckpt_reloc_target *targets,
                              size_t ntargets,
                              struct ckpt_reloc_thread *threads,
                              size_t nthreads);
/* flags: CKPT_RELOC_NO_DEFER for a buffer that is gone before the threads
 * are created again (pthread_t values and TLS pointers in it are left). */
#define CKPT_RELOC_NO_DEFER 1
int ckpt_reloc_note(void *dst, size_t len, uint64_t where, const char *what,
                    int flags, char *msg, size_t msglen);
int ckpt_reloc_settle(char *msg, size_t msglen);
/* A mapping restored read-only (or with no access): its protection is set
 * once every pointer in it has its new value (ckpt_reloc_threads_settle). */
int ckpt_reloc_protect_later(uintptr_t lo, uintptr_t hi, int prot);
/* A value not in memory (a demangled stdio callback), after
 * ckpt_reloc_settle: *v gets its new value. */
int ckpt_reloc_value(uint64_t *v, const char *what, char *msg, size_t msglen);
/* Once every saved thread is created again (ckpt_threads[slot]->ptid is its
 * new pthread_t), before any runs on: pthread_t values and pointers into
 * the executable's TLS blocks get their new values, and each thread's
 * tls_block its new place. */
int ckpt_reloc_threads_settle(char *msg, size_t msglen);
/* Where a checkpoint-time address is now (the address itself if it is in
 * no library that moved). Only after ckpt_reloc_settle. */
uint64_t ckpt_reloc_address(uint64_t old);
/* True if a checkpoint-time address was inside a library. */
int ckpt_reloc_in_library(uint64_t old);

/* Called by each library's constructor (runtime/dso/ckpt_dso.c). */
void CKPT_NAME(register_module)(const struct ckpt_module_info *info);
void CKPT_NAME(unregister_module)(const struct ckpt_module_info *info);
/* In main, after ckpt_unwind_init and ckpt_tls_init, before
 * ckpt_funcs_init: the executable, then the libraries queued before main. */
void ckpt_modules_init(void);
/* True if the object loaded at `base` (dlpi_addr) was loaded with the
 * program, before any constructor ran (recorded from .preinit_array): the
 * objects a restart loads again, at the same addresses. Any other was
 * opened with dlopen, maybe by a constructor before main. */
int ckpt_object_loaded_at_start(uintptr_t base);
/* Around a program thread's walk of the modules' descriptors, so that a
 * concurrent dlclose cannot unmap them under it. */
void ckpt_modules_read_lock(void);
void ckpt_modules_read_unlock(void);
size_t ckpt_module_count(void);
/* Slot i if it holds a loaded module, else NULL. */
const struct ckpt_module *ckpt_module_at(size_t i);
/* The library whose segments hold addr, else the executable's slot. */
const struct ckpt_module *ckpt_module_of(uintptr_t addr);
/* visit(ctx, g) for every global of every loaded module, until one returns
 * nonzero; returns that value or 0. */
int ckpt_for_each_program_global(
    int (*visit)(void *ctx, const struct ckpt_global_desc *g), void *ctx);

/* Whether addr is in the executable's .bss, whose pages not yet touched
 * hold zeros (elsewhere they may still hold a file's initial values). */
static inline int ckpt_in_exe_bss(uintptr_t addr) {
  return addr >= (uintptr_t)__bss_start && addr < (uintptr_t)_end;
}

/* The shared libraries' variables the program uses (optind, optarg, environ,
 * stdout...): copied into the executable (R_X86_64_COPY), or reached through
 * the GOT by -fPIC/-fPIE code (R_X86_64_GLOB_DAT). Described like globals so
 * they are saved and restored with them (copyrel.c). init once, in main
 * after ckpt_modules_init. */
void ckpt_copy_globals_init(void);
size_t ckpt_copy_globals(const struct ckpt_global_desc **descs);

/* Enter the user's main on the thread's fixed stack; never returns. */
void ckpt_run_user_main(void *unused) __attribute__((noreturn));
/* The bottom frame of every other thread's user stack (threads.c): runs its
 * start routine. */
void ckpt_run_thread(void *record) __attribute__((noreturn));
/* Switch to the stack whose top is `top` and call fn(arg) there, so the
 * frames below land at the same addresses in every run. The unwind
 * information ends at this frame (rip undefined): nothing above is the
 * program's, and pthread_exit's unwinding stops here. Never returns. */
void ckpt_enter_stack(uintptr_t top, void (*fn)(void *), void *arg)
    __attribute__((noreturn, noinline));
/* Start the coordinator (if enabled) and enter ckpt_run_user_main on the
 * main thread's mapped stack. */
void ckpt_enter_main_thread(void) __attribute__((noreturn));
/* Map stack slot `slot` (size bytes below its top); fills lo/hi. */
int ckpt_map_stack(uint32_t slot, uint64_t size, uintptr_t *lo, uintptr_t *hi);

/* ---- Coordinator (coordinator.c) ---------------------------------------- */
int ckpt_coordinator_start(void);
/* ---- Control socket (control.c) ------------------------------------------ */
/* Bind and listen (under another name if ours is taken). Returns 0 or -1. */
int ckpt_control_open(void);
#define CKPT_CONTROL_MAX_POLLFDS 17 /* the listener and up to 16 clients */
/* Fill FDS (room for MAX) with what to poll; lowers *TIMEOUT_MS (-1: none)
 * to the nearest client deadline. Returns the count. */
int ckpt_control_fill(struct pollfd *fds, int max, int *timeout_ms);
/* After poll: accept (checking each peer), read, serve whole requests
 * (taking the checkpoint), drop clients past their deadline. */
void ckpt_control_serve(const struct pollfd *fds, int n);
void ckpt_control_after_fork_in_child(void);
/* Called at exit after the checkpoint writer was stopped: waits (at most
 * timeout_ms) until the requester of that checkpoint has its answer, so a
 * request cut short by the exit is told so instead of being hung up on. */
void ckpt_control_wait_replies(int timeout_ms);
/* Read the key file CKPT_KEY_FILE names (exits with an error line if it is
 * not a private key file): every checkpoint gets a MAC. */
void ckpt_load_mac_key(const char *path);
/* Take a checkpoint now and wait until it is durable; path receives the file
 * name. Called on the coordinator thread only (ckpt_checkpoint() asks it
 * through a pipe). Returns 0 or -1 with msg filled. */
int ckpt_take_checkpoint(char *path, size_t pathlen, char *msg, size_t msglen);

/* ---- Files (files.c) ----------------------------------------------------- */
enum ckpt_file_kind {
  CKPT_FILE_OTHER = 0,   /* pipe, socket, eventfd...: cannot come back */
  CKPT_FILE_REGULAR = 1, /* reopened by path; cut back if written */
  CKPT_FILE_DEVICE = 2,  /* character device (/dev/null, a tty): reopened */
  CKPT_FILE_DIR = 3,     /* directory: reopened */
  CKPT_FILE_DELETED = 4, /* regular file unlinked while open: its content is
                            saved, a restart makes it again, unlinked */
};
struct ckpt_file_state {
  int fd;
  int kind;  /* enum ckpt_file_kind */
  int flags; /* fcntl(F_GETFL), plus FD_CLOEXEC as O_CLOEXEC */
  int same_as; /* a lower fd sharing the same open file (dup), or -1 */
  uint64_t offset, size;
  uint32_t mode;         /* CKPT_FILE_DELETED: permission bits */
  uint64_t content_hash; /* CKPT_FILE_REGULAR: see ckpt_file_rec */
  /* CKPT_FILE_DELETED: a copy of the content, made while the program was
   * stopped (checkpoint), or the file made again (restart); -1 if none. */
  int copy_fd;
  char path[4096];
};
/* A hash of the first `size` bytes of the file at path: its first and
 * last 64 KiB and the size (enough to see a header or a tail rewritten
 * in place, cheap enough for the pause). 0 if it cannot be read. */
uint64_t ckpt_file_content_hash(const char *path, uint64_t size);
/* A thread waiting for a checkpoint to finish blocks every signal (no
 * handler may change memory during the snapshot) and keeps the mask it
 * replaced as the program's for the checkpoint (frames.c, sigstate.c). */
void ckpt_block_signals_while_stopped(struct ckpt_thread *t, sigset_t *old);
void ckpt_unblock_signals_after_stop(struct ckpt_thread *t,
                                     const sigset_t *old);

/* main returned: the process is exiting (coordinator.c). */
void ckpt_note_main_returned(void);

/* ---- Process attributes (procstate.c) ------------------------------------ */
/* At every start: what a new thread's name is. */
void ckpt_procstate_start(void);
/* With the program stopped: rlimits, nice, CPU affinity into the runtime
 * state the checkpoint saves. */
void ckpt_procstate_capture(void);
/* After the program resumed: warnings for children alive and thread names
 * (keeper: the checkpoint's own child, not named). */
void ckpt_procstate_after_checkpoint(pid_t keeper);
/* Restart, after the runtime state is back: set them again. */
void ckpt_procstate_restore(void);

/* The program has read fd 0 itself (blocking.c). */
extern int ckpt_stdin_read;
/* Close the copies capture made and free the array. */
void ckpt_files_release(struct ckpt_file_state *files, int count);
#define CKPT_MAX_SAVED_FILES 4096
/* Record the program's open descriptors (a malloc'ed array
 * in *files). Called with the world stopped. */
int ckpt_files_capture(struct ckpt_file_state **files, int *count);
/* Whether a descriptor the runtime holds is that file (/proc/locks'
 * device and inode). */
int ckpt_runtime_fd_is_file(unsigned maj, unsigned min, unsigned long ino);
/* Descriptors the runtime itself holds (never saved or restored). */
void ckpt_register_runtime_fd(int fd);
void ckpt_unregister_runtime_fd(int fd);
int ckpt_is_runtime_fd(int fd);
int ckpt_files_restore(const struct ckpt_file_state *files, int count,
                       char *msg, size_t msglen);

/* ---- stdio streams (stdio.c) --------------------------------------------- */
uintptr_t ckpt_pointer_guard(void);
/* Save stdout's and stderr's mode and pending bytes, with the program
 * stopped. Nothing is flushed (streams the program opened come back with
 * the heap). */
void ckpt_stdio_capture(void);
void *ckpt_stdio_list_head(void);
/* libc's private objects stdio streams point at, named by the kind of
 * stream and the field ("stdio:memstream+216"), found by making such
 * streams: the values in [libc_lo, libc_hi) (relocate.c). */
struct ckpt_anchor {
  char name[48];
  uintptr_t value;
};
size_t ckpt_stdio_anchors(uintptr_t libc_lo, uintptr_t libc_hi,
                          struct ckpt_anchor *out, size_t cap);
/* The callbacks of the cookie streams (fopencookie, fmemopen) in glibc's
 * list from head on, demangled (at most cap); only once the anchors are
 * made. For the writer: no lock is taken. */
size_t ckpt_stdio_cookie_funcs(void *head, uintptr_t heap_end, uint64_t *out,
                               size_t cap);
/* Link the restored streams into libc's list and re-mangle their callbacks. */
int ckpt_stdio_restore(void *saved_head, uintptr_t saved_guard,
                       uintptr_t heap_end, char *msg, size_t msglen);

/* ---- Signals (signals.c) ------------------------------------------------- */
/* A new (or restored) thread is in no handler. */
void ckpt_signals_thread_reset(void);
/* Non-zero while the thread runs a signal handler: it must not stop there. */
int ckpt_in_signal_handler(void);
/* Install the program's handlers again after a restore. */
int ckpt_signals_restore(char *msg, size_t msglen);
/* Non-zero while a constructor of the program runs (main.c). */
extern int ckpt_in_program_ctor;

/* ---- Masks, pending signals, sigaltstack, timers (sigstate.c) ------------ */
struct ckpt_signals_head;
struct ckpt_thread_signals_rec;
struct ckpt_pending_rec;
struct ckpt_timer_rec;
uint64_t ckpt_sigset_bits(const sigset_t *set); /* bit n-1 = signal n */
void ckpt_sigset_from_bits(sigset_t *set, uint64_t bits);
/* With the program stopped: 0 when captured; 1 when a signal is about to
 * be delivered (resume, let it through and try again); -1 on an error. msg
 * says why in both cases. */
int ckpt_sigstate_capture(char *msg, size_t msglen);
struct ckpt_sigstate_view {
  const struct ckpt_signals_head *head;
  const struct ckpt_thread_signals_rec *threads;
  const struct ckpt_pending_rec *pending;
  const struct ckpt_timer_rec *timers;
};
/* What the last capture found (the writer saves it). */
void ckpt_sigstate_captured(struct ckpt_sigstate_view *v);
/* Restart: read back from section SIGNALS. */
int ckpt_sigstate_restore_thread(const struct ckpt_thread_signals_rec *r,
                                 char *msg, size_t msglen);
int ckpt_sigstate_restore_process(const struct ckpt_signals_head *head,
                                  const struct ckpt_pending_rec *pending,
                                  char *msg, size_t msglen);
int ckpt_sigstate_restore_timers(const struct ckpt_timer_rec *recs, size_t n,
                                 char *msg, size_t msglen);
/* Restart, every thread back and blocking every signal: raise the pending
 * signals, arm the timers. */
void ckpt_sigstate_rearm(void);
/* Restart, in thread t before it runs the program: its alternate signal
 * stack and mask. */
void ckpt_sigstate_thread_resume(struct ckpt_thread *t);

/* ---- Exit handlers (atexit.c) --------------------------------------------- */
int ckpt_exit_handlers_restore(char *msg, size_t msglen);

/* ---- Exclusions and restart callbacks (exclude.c) ------------------------- */
struct ckpt_range {
  uintptr_t lo, hi;
};
struct ckpt_hook {
  void (*fn)(void *);
  void *arg;
};
/* Number of excluded ranges; the allocator's fast path reads it unlocked. */
extern size_t ckpt_excl_count;
/* free() and realloc() of application-heap blocks when exclusions exist:
 * drop the block's ranges, or move them with the block. */
void ckpt_exclude_block_freed(void *block);
/* [lo, hi) of memory the program mapped is gone (munmap, or moved by
 * mremap): exclusions in it end. */
void ckpt_exclude_range_gone(uintptr_t lo, uintptr_t hi);
void *ckpt_exclude_realloc(void *block, size_t size);
/* The table, sorted and disjoint (for the writer: no lock, world stopped). */
size_t ckpt_exclusions(const struct ckpt_range **ranges);
int ckpt_exclusions_restore(const struct ckpt_range *ranges, size_t n);
size_t ckpt_restart_hooks(const struct ckpt_hook **hooks);
int ckpt_restart_hooks_restore(const struct ckpt_hook *hooks, size_t n);
/* Run the callbacks on the calling (main) thread, before user code resumes. */
void ckpt_run_restart_hooks(void);
/* Non-zero while they run: ckpt_checkpoint() refuses then. */
extern int ckpt_in_restart_hooks;

/* ---- Snapshot / restore (snapshot.c, restore.c) --------------------------- */
struct ckpt_image_writer;
struct ckpt_snapshot_input {
  struct ckpt_file_state *files;
  int nfiles;
  uint64_t sequence;
  const char *tmp_name;   /* in the checkpoint directory */
  const uint8_t *exe_hash; /* CKPT_EXE_HASH_LEN bytes */
  const uint8_t *mac_key;  /* CKPT_KEY_LEN bytes, or NULL: no MAC */
};
/* Write the whole checkpoint (runs in the forked writer). */
int ckpt_snapshot_write(const struct ckpt_snapshot_input *in, char *path,
                        size_t pathlen, char *msg, size_t msglen);
/* Restore everything from ckpt_config.restore_path and enter the program;
 * never returns (exits with an error line on any problem). */
void ckpt_restore_and_run(void) __attribute__((noreturn));

/* ---- Memory the program maps (mappings.c) --------------------------------- */
/* kind is one of CKPT_MAP_* (sections.h). */
struct ckpt_mapping_piece {
  uintptr_t lo, hi;
  int prot, shared, kind;
  uint64_t offset;
  const char *path;
};
/* Calls fn for each piece of the program's mappings as the kernel has them
 * now (address order); stops at and returns fn's non-zero value; -1 if
 * /proc/self/maps cannot be read. */
int ckpt_mappings_for_each(int (*fn)(void *ctx,
                                     const struct ckpt_mapping_piece *piece),
                           void *ctx);
/* Restart, before the pieces come back: unmap what the program mapped in
 * this process so far (its constructors ran again) and move the break back
 * to where it started; the checkpoint's mappings replace them. */
void ckpt_mappings_forget_all(void);
/* Restart: map a saved piece at its address again, writable (a shared file
 * mapping with its own protection), and track it; the caller copies the
 * saved bytes in, then calls ckpt_mappings_restore_protection. 0, or -1
 * with msg set. */
int ckpt_mappings_restore_piece(const struct ckpt_mapping_piece *piece,
                                char *msg, size_t msglen);
int ckpt_mappings_restore_protection(const struct ckpt_mapping_piece *piece);
/* 1 if [lo, hi) lies inside one range the program mapped, -1 if it starts
 * in one but runs past its end, 0 if it does not start in one. */
int ckpt_mappings_find(uintptr_t lo, uintptr_t hi);
/* Checkpoint, program stopped, before the writer forks: copy the program's
 * shared pieces (which the fork does not freeze) to private memory; 0 or
 * -1. The writer finds a piece's copy with ckpt_mappings_frozen_copy (NULL
 * if it has none); the program releases them once the writer forked. */
int ckpt_mappings_freeze_shared(void);
const void *ckpt_mappings_frozen_copy(uintptr_t lo, uintptr_t hi);
void ckpt_mappings_release_frozen(void);

/* ---- Utilities (util.c) --------------------------------------------------- */
/* libc's own definition of a function the runtime interposes (dlsym
 * RTLD_NEXT); a missing one is fatal. */
void *ckpt_libc_function(const char *name);
int ckpt_write_all(int fd, const void *buf, size_t len);
/* Grow an array kept in memory of its own (mmap, in no heap) to hold `need`
 * elements of `elem` bytes; *cap counts them. 0, or -1 if out of memory. */
int ckpt_grow_mapped_array(void **array, size_t *cap, size_t need, size_t elem);
/* Move fd above the program's range of descriptors; returns the new fd. */
int ckpt_hide_fd(int fd);
/* GNU build-id of the running executable; returns its length (0 if none). */
size_t ckpt_self_build_id(uint8_t *out, size_t max);
/* The GNU build-id of the loaded object holding address `within` (0 bytes
 * if it has none). */
size_t ckpt_object_build_id(uintptr_t within, uint8_t *out, size_t max);
/* The GNU build-id in an object's PT_NOTE segments (at most max bytes; 0:
 * none). */
struct dl_phdr_info;
size_t ckpt_phdr_build_id(const struct dl_phdr_info *info, uint8_t *out,
                          size_t max);
/* Memory range saving: calls emit(ctx, addr, len) for each sub-range of
 * [addr, addr+len) that holds non-zero data: all-zero pages are skipped,
 * and, if trust_absent, pages never touched (absent from pagemap) are
 * skipped unread -- only right for anonymous memory. trust_absent ==
 * CKPT_PAGES_CHANGED (private file mappings): only the pages the process
 * changed (its own copies, not the file's pages), zero or not. */
#define CKPT_PAGES_CHANGED 2
void ckpt_pagemap_close(void);
int ckpt_for_each_data_range(uintptr_t addr, size_t len, int trust_absent,
                             int (*emit)(void *ctx, uintptr_t a, size_t n),
                             void *ctx);

#endif /* CKPT_RT_H */
