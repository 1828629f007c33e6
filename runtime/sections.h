/* runtime/sections.h - record layouts inside checkpoint sections (the file
 * container is image.h). Shared by snapshot.c, restore.c and ckpt-inspect;
 * docs/format.md specifies them. All fields little-endian, naturally
 * aligned; strings are not NUL-terminated in the file. */
#ifndef CKPT_SECTIONS_H
#define CKPT_SECTIONS_H
#include <stdint.h>

#include "callpoint.h"

/* LAYOUT: one ckpt_layout_rec, then nlibs x (ckpt_lib_rec + path). */
struct ckpt_layout_rec {
  uint64_t heap_base, heap_end;
  uint64_t stack_base, stack_stride;
  uint64_t bss_start; /* executable's __bss_start */
  uint32_t nlibs, reserved;
};
struct ckpt_lib_rec {
  uint64_t base;
  uint32_t path_len, flags;
};
/* ckpt_lib_rec.flags: opened by one of the program's dlopen calls (META
 * DLOPEN), not loaded with the program. */
#define CKPT_LIB_DLOPEN 1u

/* LIBS: the shared objects loaded at the checkpoint and the values in saved
 * memory that point into them, so that a restart can find them again where
 * the objects are now (relocate.c, docs/portable-restart.md). A
 * ckpt_libs_head, nlibs x (ckpt_libs_lib_rec + name + soname + build-id),
 * then ntargets x (ckpt_libs_target_rec + symbol name), by value, then
 * nthreads x ckpt_libs_thread_rec: glibc's data of each saved thread (its
 * pthread_t and the executable's TLS block below it) is where glibc puts it
 * at the restart, so pthread_t values and pointers to __thread variables
 * are changed too. */
struct ckpt_libs_head {
  uint32_t nlibs, ntargets, nthreads, reserved;
};
struct ckpt_libs_lib_rec {
  uint64_t base, lo, hi; /* dlpi_addr; the pages its segments take */
  uint32_t name_len, soname_len, build_id_len;
  uint32_t flags; /* CKPT_LIB_DLOPEN */
};
struct ckpt_libs_target_rec {
  uint64_t value;      /* the pointer as saved */
  uint64_t where;      /* where the first such word was (0: not memory) */
  uint64_t sym_offset; /* value - the symbol's address */
  uint32_t lib;        /* index into the libraries */
  uint32_t count;      /* words holding it */
  uint32_t sym_len;    /* 0: no exported symbol covers it */
  uint32_t flags;      /* CKPT_TARGET_* */
};
struct ckpt_libs_thread_rec {
  uint64_t ptid;      /* pthread_t */
  uint64_t tls_block; /* the executable's TLS block (0: none) */
  uint64_t tls_size;  /* its size */
  uint32_t slot, reserved;
};
/* ckpt_libs_target_rec.flags. A value with none of these is named by its
 * symbol (sym_len > 0) or is private data (sym_len == 0). */
/* A handle of the program's dlopen calls: dlopen.c translates it, so it is
 * never changed. */
#define CKPT_TARGET_DLOPEN_HANDLE 1u
/* The symbol is an IFUNC and the value is what it resolved to in the
 * checkpointed process (dlsym gives that): a restart resolves it again,
 * for the CPU it runs on. */
#define CKPT_TARGET_IFUNC 2u
/* Inside the object's code but at no function's start: only a return
 * address is such a value, and a live one is never saved (threads stop in
 * the program's own frames), so it is a dead one left in memory. Moved with
 * its object if that is the same build, else left as it is. */
#define CKPT_TARGET_CODE 4u
/* Private data of libc that the runtime names by how it finds it again
 * (the symbol is an anchor's name, "stdio:memstream+216": stdio.c). */
#define CKPT_TARGET_ANCHOR 8u
/* Read-only data holding a NUL-terminated string (a message, a name in
 * .dynstr): the "symbol" is its bytes, found again by content. */
#define CKPT_TARGET_STRING 16u
/* The longest string CKPT_TARGET_STRING names. */
#define CKPT_TARGET_STRING_MAX 512
/* No word holding the value is in memory the program owns outright (its
 * globals and TLS, pthread key values, thread start arguments, ckpt's
 * state): all are in the heap, mappings, stacks or saved registers, which
 * also hold libraries' own state (an uninstrumented library mallocs in the
 * program's heap) and values left from earlier calls (the loader's lazy
 * binding leaves its link maps on stacks, sprintf its string FILE's
 * vtable). If it is private data (no symbol), the checkpoint does not warn,
 * and a restart with another build leaves it as it is, with a warning. */
#define CKPT_TARGET_UNOWNED 32u
/* With UNOWNED: every word holding the value is on a saved stack or in
 * saved registers. A dead return address (CODE) there is not even counted
 * in the restart's warning. */
#define CKPT_TARGET_STACK_ONLY 64u
/* The value lies in a read-only data segment of the object (a table of
 * libm's, left in a register after a call): with STACK_ONLY, not counted in
 * the restart's warning either. */
#define CKPT_TARGET_READ_ONLY 128u

/* GLOBALS: records (ckpt_global_rec + name + extents), ended by a record
 * with addr == 0. Extents: (ckpt_extent_rec + len bytes), ended by len == 0;
 * offsets are relative to the global. Bytes not covered are zero. */
struct ckpt_global_rec {
  uint64_t addr, size;
  uint64_t excluded; /* bytes not saved: all of it if flags has
                        CKPT_GLOBAL_EXCLUDED, else ckpt_exclude() ranges */
  uint32_t name_len, flags;
};
struct ckpt_extent_rec {
  uint64_t addr, len;
};

/* MAPS: per piece of memory the program mapped (a range it mapped, cut at
 * the kernel's mapping boundaries) a ckpt_map_rec, its path (path_len
 * bytes, no NUL; empty for anonymous memory), then the bytes saved, as
 * extents with absolute addresses (ckpt_extent_rec + bytes) ended by
 * len == 0; the section ends with a record whose hi is 0. Bytes not saved
 * are zero (anonymous memory) or the file's (file mappings). */
enum {
  CKPT_MAP_ANON_PRIVATE = 1, /* saved: pages touched and not zero */
  CKPT_MAP_ANON_SHARED = 2,  /* saved: pages not zero (copied while the
                                program was stopped) */
  CKPT_MAP_FILE_PRIVATE = 3, /* the file mapped again; pages the program
                                changed are saved, zero or not */
  CKPT_MAP_FILE_SHARED = 4,  /* the file mapped again: its data is there;
                                nothing saved */
  CKPT_MAP_DELETED_FILE = 5, /* a file since deleted: non-zero pages saved,
                                restored as anonymous memory */
  CKPT_MAP_BRK = 6,          /* memory from sbrk/brk (the [heap] mapping):
                                saved as anonymous; offset holds the exact
                                program break, which a restart sets again */
};
struct ckpt_map_rec {
  uint64_t lo, hi;  /* page-aligned */
  uint64_t offset;  /* in the file, for file mappings */
  uint32_t prot;    /* PROT_* */
  uint32_t kind;    /* CKPT_MAP_* (rt.h) */
  uint32_t path_len;
  uint32_t reserved; /* 0 */
};

/* HEAP: a ckpt_heap_rec, then extents with absolute addresses
 * (ckpt_extent_rec + bytes), ended by len == 0. Arena bytes not covered are
 * zero. */
struct ckpt_heap_rec {
  uint64_t heap_end;       /* end of the arena's read-write part */
  uint64_t blocks;         /* live blocks */
  uint64_t bytes;          /* their usable bytes */
  uint64_t excluded_bytes; /* bytes of live blocks not saved (ckpt_exclude) */
};

/* THREADS: uint32_t nthreads, uint32_t nkeys, then nkeys x ckpt_key_rec
 * (the process's pthread keys, by number), then per thread a ckpt_thread_rec
 * followed by tls_len bytes (the thread's block of the executable's TLS),
 * nkey_values x uint64_t (its pthread_getspecific values, by key), for a
 * thread stopped by signal (park_kind 3) its register context (struct
 * ckpt_cpu_context of runtime/context.h: its first 192 bytes, then fp_len
 * bytes of FP image; `resume` is then unused) and its signal mask (uint64_t,
 * bit n-1 = signal n blocked), nframes x (ckpt_frame_rec + name + file),
 * one per native frame of a stopped thread, outermost first, and, for a
 * stopped thread, its stack: extents (ckpt_extent_rec with absolute
 * addresses + bytes) inside [stack_save_lo, user_top), ended by len == 0;
 * bytes of the range not covered are zero (never touched, or excluded
 * locals). */
struct ckpt_key_rec {
  uint64_t destructor;
  uint32_t alive, reserved;
};
struct ckpt_thread_rec {
  uint32_t slot, park_kind, nframes, state; /* state: enum ckpt_thread_state */
  uint64_t stack_lo, stack_hi;
  uint64_t user_top;      /* the first runtime frame starts here */
  uint64_t stack_save_lo; /* saved: [stack_save_lo, user_top); 0 if none */
  uint64_t stack_guard;   /* stack protector canary */
  uint64_t ptid;      /* pthread_t */
  uint64_t start_fn;  /* start routine (0: the main thread) */
  uint64_t start_arg;
  uint64_t retval;    /* when EXITED */
  uint64_t tls_block; /* address of the thread's TLS block */
  uint32_t tls_len, nkey_values;
  uint32_t call_kind; /* enum ckpt_call_kind, when park_kind is 2 */
  uint32_t detached;
  int64_t call_deadline_ns, call_result;
  int32_t call_errno, call_fd;
  uint64_t call_callee; /* the wrapper an IN_CALL thread is in */
  struct ckpt_call_point resume; /* where a stopped thread goes on */
};
/* One per native frame of a stopped thread, outermost first: found at
 * checkpoint time by walking the saved stack with the executable's CFI,
 * from the thread's resume point up to its entry trampoline (excluded). */
struct ckpt_frame_rec {
  uint64_t pc;   /* a return address into the frame: look it up at pc - 1
                    (for the innermost frame too, unless flags has
                    CKPT_FRAME_EXACT_PC: then pc itself) */
  uint64_t cfa;  /* canonical frame address: the caller's stack pointer
                    before the call into this frame */
  uint64_t func; /* start address of the frame's function */
  uint32_t kind; /* enum ckpt_frame_kind */
  uint32_t flags;    /* CKPT_FRAME_EXACT_PC */
  uint32_t name_len; /* function name: the descriptor's for PROGRAM frames,
                        the runtime's own symbol name for RUNTIME frames
                        ("" if unknown) */
  uint32_t file_len; /* source file of the function ("" if unknown) */
  uint32_t excluded; /* bytes of excluded locals in the frame, saved as
                        zeros */
  uint32_t reserved;
};
enum ckpt_frame_kind {
  CKPT_FRAME_PROGRAM = 1, /* a function compiled by ckpt-cc (instrumented) */
  CKPT_FRAME_RUNTIME = 2, /* ckpt's runtime inside the executable (a wrapper
                             the thread blocks in, ckpt_checkpoint) */
};
#define CKPT_FRAME_EXACT_PC 1u

/* FILES: uint32_t count, uint32_t reserved, then count x (ckpt_file_rec +
 * path, and for a CKPT_FILE_DELETED file its `size` bytes of content). */
struct ckpt_file_rec {
  int32_t fd;
  uint32_t kind; /* enum ckpt_file_kind (rt.h) */
  int32_t flags;
  uint32_t path_len;
  uint64_t offset, size;
  int32_t same_as; /* lower fd sharing this open file (dup, 2>&1), or -1 */
  uint32_t mode;   /* CKPT_FILE_DELETED: its permission bits; else 0 */
  uint64_t content_hash; /* CKPT_FILE_REGULAR: ckpt_file_content_hash of
                            its first `size` bytes at the checkpoint (0: not
                            known); else 0 */
};

/* RTSTATE: uint64_t length, then the bytes of section ckpt_rtstate. */

/* EXCLUDED: uint64_t count, then count x ckpt_extent_rec (no bytes): the
 * ranges registered with ckpt_exclude(), in address order, disjoint. */

/* HOOKS: uint64_t count, then count x ckpt_hook_rec, in registration
 * order. */
struct ckpt_hook_rec {
  uint64_t fn, arg; /* ckpt_on_restart(fn, arg) */
};

/* SIGNALS: what a process has besides handlers (those are in RTSTATE): a
 * ckpt_signals_head, then nthreads x ckpt_thread_signals_rec (every thread
 * not exited), npending x ckpt_pending_rec (signals pending for the whole
 * process, oldest first, as the kernel had queued them) and ntimers x
 * ckpt_timer_rec (POSIX timers, by id). Signal sets are uint64_t with bit
 * n-1 = signal n. Times are nanoseconds to go, 0 = disarmed. */
struct ckpt_itimer_rec {
  uint64_t value_ns, interval_ns;
};
struct ckpt_signals_head {
  uint32_t nthreads, npending, ntimers, reserved;
  struct ckpt_itimer_rec itimers[3]; /* ITIMER_REAL, _VIRTUAL, _PROF */
};
struct ckpt_thread_signals_rec {
  uint32_t slot;
  int32_t altstack_flags; /* ss_flags as set (SS_DISABLE: none) */
  uint64_t mask;          /* blocked signals */
  uint64_t pending;       /* signals pending for this thread alone; they come
                             back once each, without siginfo */
  uint64_t altstack_sp, altstack_size; /* sigaltstack */
};
struct ckpt_pending_rec {
  uint32_t signo;
  uint32_t has_info; /* 1: info is the siginfo_t the kernel had queued
                        (realtime signals); 0: the number only */
  uint8_t info[128];
};
struct ckpt_timer_rec {
  int32_t id;     /* the kernel's timer id (the program's timer_t) */
  int32_t clock;  /* clockid_t */
  int32_t notify; /* SIGEV_NONE, SIGEV_SIGNAL or SIGEV_THREAD_ID */
  int32_t signo;
  uint64_t value;       /* sigev_value */
  uint32_t thread_slot; /* SIGEV_THREAD_ID: the slot of the target thread */
  uint32_t reserved;
  struct ckpt_itimer_rec time; /* timer_gettime at the checkpoint */
};
#endif
