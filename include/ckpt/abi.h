/* ckpt/abi.h - the one contract shared by the ckpt pass, runtime and tools.
 *
 * Every runtime symbol the pass references, every struct the pass emits and
 * the runtime reads, the fixed address layout and the checkpoint file's
 * constants are defined here, once. The structs are X-macro lists: C code
 * expands them into structs, the LLVM pass expands the same lists into
 * StructTypes, so the two can never disagree on a field or an offset.
 *
 * Field type codes used in the lists: ptr, u32, u64 (all naturally aligned;
 * every struct below is laid out without padding surprises on LP64).
 */
#ifndef CKPT_ABI_H
#define CKPT_ABI_H

#define CKPT_ABI_VERSION 4

/* ---- Symbol names ------------------------------------------------------ */

/* Every runtime symbol the pass calls or reads is "__ckpt_" + name. */
#define CKPT_NAME(n) __ckpt_##n
#define CKPT_STR2(x) #x
#define CKPT_NAME_STR(n) "__ckpt_" CKPT_STR2(n)

/* The user's main is renamed to this; the runtime owns the real main(). */
#define CKPT_USER_MAIN_STR CKPT_NAME_STR(main)

/* Runtime functions the pass calls: X(name, return type, parameter types).
 *   poll()     slow path of a safe point; may park the thread, which
 *              resumes (after a restart too) as if poll had returned */
#define CKPT_RUNTIME_FUNCTIONS(X)                                              \
  X(poll, void, ())

/* Library functions whose every use in the program's own code the pass
 * sends to a runtime function of the same signature: X(library name,
 * runtime name). The runtime's version calls the library's and keeps track
 * of what the program did (mappings.c: the memory the program maps, which
 * checkpoints save). Only the program's code is redirected: the runtime's
 * and the libraries' own calls are not the program's memory. */
#define CKPT_REDIRECTED_FUNCTIONS(X)                                           \
  X(mmap, program_mmap)                                                        \
  X(mmap64, program_mmap)                                                      \
  X(munmap, program_munmap)                                                    \
  X(mremap, program_mremap)                                                    \
  X(sbrk, program_sbrk)                                                        \
  X(brk, program_brk)

/* Redirected in the executable's code only (modules that are not PIC): the
 * loader resolves a dlopen's relative names and dlsym's RTLD_NEXT by the
 * calling object, which the runtime's functions, in the executable, are
 * only for the executable's code (runtime/dlopen.c). */
#define CKPT_EXE_REDIRECTED_FUNCTIONS(X)                                       \
  X(dlopen, program_dlopen)                                                    \
  X(dlclose, program_dlclose)                                                  \
  X(dlsym, program_dlsym)                                                      \
  X(dlvsym, program_dlvsym)                                                    \
  X(dlinfo, program_dlinfo)

/* Runtime variables the pass reads or writes: X(name, type, thread_local).
 *   pending    non-zero while a checkpoint waits for threads to stop
 *   records    innermost frame record of the current thread (only
 *              functions with excluded locals have one) */
#define CKPT_RUNTIME_VARIABLES(X)                                              \
  X(pending, u32, 0)                                                           \
  X(records, ptr, 1)

/* ---- Structures emitted by the pass ------------------------------------ */

/* Header at offset 0 of a frame record. Only functions with excluded locals
 * (#pragma ckpt exclude / CKPT_EXCLUDE) keep one: the locals live in it, at
 * offsets their descriptor lists, and the records of a thread form a chain
 * (__ckpt_records) so the checkpoint writer can find them and leave them
 * out. Every other frame is just the native one. */
#define CKPT_FRAME_HEADER_FIELDS(X)                                            \
  X(ptr, parent) /* the next outer record, or NULL */                         \
  X(ptr, desc)   /* struct ckpt_func_desc of this function */

/* One per instrumented function that can be on a stopped thread's stack
 * (it polls, or calls something that may stop), in section
 * CKPT_SECTION_FUNCS. The runtime finds it by the function's start address
 * when it walks a stack. */
#define CKPT_FUNC_DESC_FIELDS(X)                                               \
  X(u32, abi_version)                                                          \
  X(u32, flags)                                                                \
  X(ptr, fn)         /* the function itself */                                \
  X(ptr, name)       /* NUL-terminated symbol name */                         \
  X(ptr, file)       /* NUL-terminated source file name, or "" */             \
  X(u32, line)       /* source line of the definition, 0 if unknown */        \
  X(u32, num_excluded) /* locals under #pragma ckpt exclude / CKPT_EXCLUDE */ \
  X(u64, frame_size) /* bytes of the frame record, 0 if it has none */        \
  X(ptr, excluded)   /* struct ckpt_frame_exclude[num_excluded] */

/* One per excluded local of a function: a byte range of its frame record,
 * written as zeros in checkpoints. */
#define CKPT_FRAME_EXCLUDE_FIELDS(X)                                           \
  X(u64, offset) /* from the start of the frame record */                     \
  X(u64, size)

/* One per global variable of an instrumented module, in CKPT_SECTION_GLOBALS. */
#define CKPT_GLOBAL_DESC_FIELDS(X)                                             \
  X(ptr, addr)                                                                 \
  X(u64, size)                                                                 \
  X(ptr, name) /* NUL-terminated; "fn.var" style for static locals */         \
  X(u32, flags)                                                                \
  X(u32, reserved)

/* The annotation (clang's annotate attribute) that marks a variable as
 * excluded from checkpoints: written by CKPT_EXCLUDE in ckpt.h and by the
 * frontend plugin for #pragma ckpt exclude; read by the pass from
 * llvm.global.annotations and llvm.var.annotation. */
#define CKPT_EXCLUDE_ANNOTATION "ckpt.exclude"

enum ckpt_func_flags {
  /* The function calls a returns-twice function other than the setjmp
   * family (vfork, getcontext, a call through a pointer marked
   * returns_twice): its second return could not be reproduced after a
   * restart, so a thread does not stop while the function is on its stack.
   * setjmp, _setjmp and __sigsetjmp are the runtime's (runtime/setjmp.c),
   * whose jmp_bufs survive a restart: they set no flag. */
  CKPT_FUNC_RETURNS_TWICE = 1u << 0,
};

enum ckpt_global_flags {
  CKPT_GLOBAL_EXCLUDED = 1u << 0, /* #pragma ckpt exclude / CKPT_EXCLUDE */
};

/* ELF sections holding the descriptors; the linker provides
 * __start_<name>/__stop_<name> for each. */
#define CKPT_SECTION_FUNCS "ckpt_funcs"
#define CKPT_SECTION_GLOBALS "ckpt_globals"
/* Runtime state that must survive a restart (e.g. the rand() state) lives
 * in this section and is saved whole. */
#define CKPT_SECTION_RTSTATE "ckpt_rtstate"

/* ---- Fixed address layout ---------------------------------------------- */
/* Chosen above AddressSanitizer's shadow (ends 0x10007fff7fff) and far below
 * where Linux places shared libraries (0x7fxxxxxxxxxx). */
#define CKPT_HEAP_BASE 0x400000000000ULL     /* application heap arena */
#define CKPT_HEAP_MAX 0x40000000000ULL       /* 4 TiB of address space */
#define CKPT_STACK_BASE 0x500000000000ULL    /* thread stack slots */
#define CKPT_STACK_SLOT_STRIDE 0x40000000ULL /* 1 GiB of address per slot */
#define CKPT_STACK_MAX_SLOTS 4096
/* Where the program's own mmaps go when it lets the system place them
 * (runtime/mappings.c): 16 TiB, well below the libraries. */
#define CKPT_MMAP_BASE 0x600000000000ULL
#define CKPT_MMAP_MAX 0x100000000000ULL

/* ---- Checkpoint file --------------------------------------------------- */
/* The layout of the file is specified in docs/format.md. */
#define CKPT_FILE_MAGIC "CKPTIMG\0"
#define CKPT_FILE_VERSION 6
#define CKPT_FILE_SUFFIX ".ckpt"
#define CKPT_EXE_HASH_LEN 32 /* META EXE_HASH */

/* Section types. Numbers are never reused; new types are only added. */
#define CKPT_SECTION_TYPES(X)                                                  \
  X(META, 1)    /* binary, argv, cwd, environment, process state */          \
  X(LAYOUT, 2)  /* address layout and shared libraries */                    \
  X(GLOBALS, 3) /* registered globals, by name */                            \
  X(HEAP, 4)    /* heap arena extents */                                     \
  X(THREADS, 5) /* threads and their frames */                               \
  X(FILES, 6)   /* open files */                                             \
  X(RTSTATE, 7) /* runtime state section bytes */                           \
  X(EXCLUDED, 8) /* ranges excluded with ckpt_exclude() */                   \
  X(HOOKS, 9)   /* ckpt_on_restart() callbacks */                            \
  X(MAPS, 10)   /* memory the program mapped itself */                      \
  X(SIGNALS, 11) /* masks, pending signals, sigaltstack, timers */        \
  X(LIBS, 12)   /* shared objects and the saved pointers into them */


/* META section: a sequence of records {u32 tag, u32 length, bytes[length]}.
 * Strings are stored without a terminating NUL; string lists (ARGV, ENVP)
 * as NUL-terminated strings back to back. Unknown tags are skipped. */
#define CKPT_META_TAGS(X)                                                      \
  X(EXE_PATH, 1)    /* absolute path of the executable */                    \
  X(ARGV, 2)        /* the program's arguments */                             \
  X(ENVP, 3)        /* the environment the program started with */            \
  X(CWD, 4)         /* working directory at the checkpoint */                 \
  X(PERSONALITY, 5) /* u32 personality(2) flags */                            \
  X(PID, 6)         /* u64 pid of the checkpointed process */                 \
  X(DIR, 7)         /* checkpoint directory (absolute) */                     \
  X(INTERVAL_MS, 8) /* u64 checkpoint interval, 0 = none */                   \
  X(KEEP, 9)        /* u32 good checkpoints kept */                           \
  X(UMASK, 10)      /* u32 */                                               \
  X(EXE_HASH, 11)   /* 32 bytes: BLAKE2b-256 of the executable's contents */ \
  X(MODULE, 12)     /* a library built with ckpt-cc -shared: u32 build-id \
                       length, the GNU build-id, its path as the loader   \
                       names it (one record per library) */               \
  X(DLOPEN, 13)     /* a dlopen of the program's in force, oldest first:  \
                       u64 handle, u32 flags, the path of the object the  \
                       handle names ("" for the program) */               \
  X(DLOPEN_OBJECT, 14) /* an object a recorded dlopen loaded, in the    \
                       loader's order: u64 lo, u64 hi (the pages its     \
                       segments take), u32 flags of that call, u32 the   \
                       call's number (shared by the objects it loaded),  \
                       its path */

/* ---- ckpt-run <-> runtime ---------------------------------------------- */
/* Environment variables ckpt-run sets for the program. */
#define CKPT_ENV_DIR "CKPT_DIR"           /* where checkpoints go (absolute) */
#define CKPT_ENV_INTERVAL "CKPT_INTERVAL" /* seconds (decimal), unset = none */
#define CKPT_ENV_KEEP "CKPT_KEEP"         /* good checkpoints kept */
#define CKPT_ENV_RESTORE "CKPT_RESTORE"   /* checkpoint file to resume from */
#define CKPT_ENV_KEY_FILE "CKPT_KEY_FILE" /* key for checkpoint MACs */
/* Signals (decimal numbers, comma-separated) on which the program takes a
 * checkpoint, waits until it is durable and exits with CKPT_EXIT_REQUEUE
 * (ckpt-run --on-signal). */
#define CKPT_ENV_ON_SIGNAL "CKPT_ON_SIGNAL"
#define CKPT_EXIT_REQUEUE 75 /* EX_TEMPFAIL */
/* The signal the runtime stops running threads with (runtime/sigstop.c):
 * reserved, never the program's. */
#define CKPT_STOP_SIGNAL 63 /* SIGRTMAX - 1: valgrind keeps SIGRTMAX */
/* All of them, as an array initializer: the runtime keeps them out of the
 * program's environment, ckpt-run out of a restarted one's. */
#define CKPT_ENV_NAMES                                                         \
  {CKPT_ENV_DIR, CKPT_ENV_INTERVAL, CKPT_ENV_KEEP, CKPT_ENV_RESTORE,           \
   CKPT_ENV_KEY_FILE, CKPT_ENV_ON_SIGNAL}
#define CKPT_DEFAULT_KEEP 2
/* Control socket: abstract unix stream socket named CKPT_CTL_PREFIX + pid.
 * Request "checkpoint\n"; reply one line "ok PATH\n" or "error MESSAGE\n",
 * sent once the checkpoint file is durable (or has failed). */
#define CKPT_CTL_PREFIX "ckpt-ctl-"
#define CKPT_CTL_REQUEST "checkpoint\n"
/* The error a request gets when the program exits while its checkpoint is
 * being written (the writer is stopped; nothing is kept). */
#define CKPT_CTL_EXITING                                                       \
  "the program exited while the checkpoint was being written; it was "        \
  "abandoned"

/* ---- C expansion ------------------------------------------------------- */
#ifndef __cplusplus
#include <stdint.h>
typedef void *ckpt_abi_ptr;
typedef uint32_t ckpt_abi_u32;
typedef uint64_t ckpt_abi_u64;
#define CKPT_C_FIELD(type, name) ckpt_abi_##type name;

struct ckpt_frame_header {
  CKPT_FRAME_HEADER_FIELDS(CKPT_C_FIELD)
};
struct ckpt_func_desc {
  CKPT_FUNC_DESC_FIELDS(CKPT_C_FIELD)
};
struct ckpt_global_desc {
  CKPT_GLOBAL_DESC_FIELDS(CKPT_C_FIELD)
};
struct ckpt_frame_exclude {
  CKPT_FRAME_EXCLUDE_FIELDS(CKPT_C_FIELD)
};

/* What a shared library built with ckpt-cc -shared hands the runtime when
 * it is loaded (runtime/dso/ckpt_dso.c calls CKPT_NAME(register_module) from
 * its constructor; runtime/modules.c): its function and global descriptors,
 * as the executable's are found through __start_/__stop_ symbols. The
 * struct lives in the library's data, so its address also says which
 * loaded object it is. */
struct ckpt_module_info {
  uint32_t abi_version;
  uint32_t reserved;
  const struct ckpt_func_desc *funcs, *funcs_end;
  const struct ckpt_global_desc *globals, *globals_end;
};

#define CKPT_C_SECTION_ENUM(name, num) CKPT_SEC_##name = num,
enum ckpt_section_type { CKPT_SECTION_TYPES(CKPT_C_SECTION_ENUM) };
#undef CKPT_C_SECTION_ENUM
#define CKPT_C_META_ENUM(name, num) CKPT_META_##name = num,
enum ckpt_meta_tag { CKPT_META_TAGS(CKPT_C_META_ENUM) };
#undef CKPT_C_META_ENUM
#endif

#endif /* CKPT_ABI_H */
