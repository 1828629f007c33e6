/* tools/inspect_decode.h - the section decoding of ckpt-inspect: every
 * section of a checkpoint read through image.h's streaming reader and
 * checked against docs/format.md into a struct contents. Shared by
 * ckpt-inspect (which prints it) and the reader's fuzz target
 * (test/fuzz/reader_fuzz.c), so both run the very same checks. */
#ifndef CKPT_INSPECT_DECODE_H
#define CKPT_INSPECT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt/abi.h"
#include "image.h"
#include "sections.h"
#include "toolutil.h"

/* Values of ckpt_thread_rec.park_kind, state and call_kind and of
 * ckpt_file_rec.kind, as docs/format.md defines them (the runtime's enums
 * live in runtime/rt.h, which a tool cannot include). */
enum { PARK_NONE = 0, PARK_POLL = 1, PARK_CALL = 2, PARK_SIGNAL = 3 };
enum {
  THREAD_PARKED = 2,
  THREAD_IN_CALL = 3,
  THREAD_NEW = 4,
  THREAD_EXITED = 5
};
enum {
  CALL_NONE = 0,
  CALL_CHECKPOINT = 1,
  CALL_REISSUE = 2,
  CALL_COND_WAIT = 3,
  CALL_SLEEP = 4,
  CALL_IO = 5,
  CALL_COMPLETED = 6,
  CALL_MAX = 6
};
/* Largest ckpt_file_rec.kind (0 other, 1 regular, 2 device, 3 directory). */
#define FILE_KIND_MAX 4
#define CKPT_FILE_KIND_REGULAR 1
#define CKPT_FILE_KIND_DELETED 4
/* Signal numbers of Linux: 1 to 64 (the kernel's SIGRTMAX). */
#define SIGNAL_MAX 64
/* sigaltstack's SS_AUTODISARM (Linux 4.7), which glibc's headers leave out. */
#define KERNEL_SS_AUTODISARM (1u << 31)

/* abi.h's address constants as uint64_t (they are unsigned long long, which
 * PRIx64 does not print on LP64). */
static const uint64_t heap_base = CKPT_HEAP_BASE, heap_max = CKPT_HEAP_MAX;
static const uint64_t stack_base = CKPT_STACK_BASE;
static const uint64_t stack_stride = CKPT_STACK_SLOT_STRIDE;

/* ---- String pool ----------------------------------------------------------
 * Function and file names repeat in every frame of a deep recursion; each
 * distinct string is stored once. Open addressing, FNV-1a hash. */
struct strpool {
  char **slots;
  size_t cap, used;
};

/* ---- Decoded contents ---------------------------------------------------- */

/* One native frame of a stopped thread (ckpt_frame_rec). */
struct frame_info {
  const char *name, *file; /* pooled: as recorded ("" if unknown) */
  uint64_t pc, cfa, func;
  uint32_t kind, flags, excluded;
  /* From the executable, only when it is the very build that took the
   * checkpoint (ckpt-inspect's resolve_symbols); 0 and NULL otherwise. */
  uint32_t line;   /* source line of the frame's pc, from DWARF */
  char *line_file; /* owned: the source file that line is in */
  char *symbol;    /* owned: the ELF function symbol holding the pc */
};

/* The address to look a frame up at: its pc is a return address, just past
 * the call the frame is in, unless the thread stopped exactly at it. */
static inline uint64_t frame_lookup_pc(const struct frame_info *f) {
  return (f->flags & CKPT_FRAME_EXACT_PC) ? f->pc : f->pc - 1;
}

struct key_value {
  uint32_t key;
  uint64_t value;
};

struct thread_info {
  uint32_t slot, park_kind, nframes, state;
  uint64_t stack_lo, stack_hi;
  uint64_t ptid, start_fn, start_arg, retval, tls_block;
  uint32_t tls_len, nkey_values, call_kind, detached;
  int64_t call_deadline_ns, call_result;
  int32_t call_errno, call_fd;
  uint64_t user_top, stack_save_lo; /* saved stack: [stack_save_lo, user_top) */
  uint64_t stack_saved_bytes;       /* of it, bytes in the file */
  uint64_t resume_rip;              /* where a stopped thread goes on */
  uint64_t signal_mask;  /* PARK_SIGNAL: blocked signals (bit n-1: n) */
  uint32_t fp_len;       /* PARK_SIGNAL: bytes of its saved FP image */
  struct key_value *key_values; /* the non-zero ones, by key */
  uint32_t nkey_set;
  char *start_symbol; /* owned; NULL if not resolved */
  uint64_t start_offset;
  struct frame_info *frames; /* outermost first, as in the file */
};

struct key_info {
  uint64_t destructor;
  uint32_t alive;
  char *symbol; /* owned; NULL if not resolved */
  uint64_t symbol_offset;
};

struct global_info {
  const char *name;
  uint64_t addr, size, excluded, saved, extents;
  uint32_t flags;
};

struct lib_info {
  uint64_t base;
  const char *path;
  int dlopen; /* opened by one of the program's dlopen calls */
};

struct file_info {
  struct ckpt_file_rec rec;
  const char *path;
};

struct range_info {
  uint64_t addr, len;
};

struct hook_info {
  uint64_t fn, arg;
  char *symbol; /* owned; NULL if not resolved */
  uint64_t symbol_offset;
};

/* The fields of a process-pending signal's siginfo_t that are shown (the
 * layout of glibc's x86-64 siginfo_t: si_signo, si_errno, si_code, then
 * for a signal a process sent, si_pid and si_uid at offsets 16 and 20). */
struct pending_info {
  uint32_t signo;
  uint32_t has_info; /* 0: kept by number only, no siginfo */
  int32_t errno_value, code;
  int32_t pid;  /* the sender's, when code says a process sent it */
  uint32_t uid;
};

/* LIBS: a shared object loaded at the checkpoint (ckpt_libs_lib_rec). */
#define LIBS_BUILD_ID_MAX 32
struct libs_lib_info {
  uint64_t base, lo, hi;      /* dlpi_addr; its pages [lo, hi) */
  const char *name, *soname;  /* pooled */
  uint8_t build_id[LIBS_BUILD_ID_MAX];
  uint32_t build_id_len;      /* 0: none */
  uint32_t flags;             /* CKPT_LIB_DLOPEN */
  uint32_t nvalues;           /* targets into it */
  uint64_t words;             /* words holding them */
};

/* LIBS: a saved value pointing into one of them (ckpt_libs_target_rec). */
struct libs_target_info {
  uint64_t value, where, sym_offset;
  uint32_t lib, count, flags; /* flags: CKPT_TARGET_* */
  const char *symbol;         /* pooled; "" if no symbol names it (a
                                 CKPT_TARGET_STRING's bytes, maybe "") */
};

/* What a LIBS target is, from its flags and symbol (docs/format.md). */
enum libs_target_kind {
  LIBS_TARGET_SYMBOL,  /* named by an exported symbol (+ offset) */
  LIBS_TARGET_IFUNC,   /* what an IFUNC resolved to */
  LIBS_TARGET_CODE,    /* code at no function's start (a dead return
                          address) */
  LIBS_TARGET_PRIVATE, /* data no exported symbol names */
  LIBS_TARGET_HANDLE,  /* a handle of the program's dlopen calls */
  LIBS_TARGET_ANCHOR,  /* libc's private data, named by the runtime's
                          anchor (stdio.c) */
  LIBS_TARGET_STRING,  /* a string in read-only data, named by its bytes */
  LIBS_TARGET_KINDS
};
/* The bits of ckpt_libs_target_rec.flags that say what a value is (at most
 * one); CKPT_TARGET_UNOWNED says where it was found and goes with any. */
#define LIBS_TARGET_KIND_FLAGS                                                 \
  (CKPT_TARGET_DLOPEN_HANDLE | CKPT_TARGET_IFUNC | CKPT_TARGET_CODE |          \
   CKPT_TARGET_ANCHOR | CKPT_TARGET_STRING)
static inline enum libs_target_kind
libs_target_kind(const struct libs_target_info *t) {
  if (t->flags & CKPT_TARGET_DLOPEN_HANDLE)
    return LIBS_TARGET_HANDLE;
  if (t->flags & CKPT_TARGET_IFUNC)
    return LIBS_TARGET_IFUNC;
  if (t->flags & CKPT_TARGET_CODE)
    return LIBS_TARGET_CODE;
  if (t->flags & CKPT_TARGET_ANCHOR)
    return LIBS_TARGET_ANCHOR;
  if (t->flags & CKPT_TARGET_STRING)
    return LIBS_TARGET_STRING;
  return *t->symbol ? LIBS_TARGET_SYMBOL : LIBS_TARGET_PRIVATE;
}

/* Section index of each decoded section type, -1 while none was seen. Only
 * the first section of a type is shown (it is the one a restart reads);
 * later ones are decoded for their structure and then dropped. */
enum { NUM_SECTION_TYPES = 16 };

struct contents {
  struct strpool pool;
  long first[NUM_SECTION_TYPES];
  size_t *repeated; /* indexes of sections whose type came earlier */
  size_t nrepeated, repeated_cap;

  struct tool_meta meta;
  char *meta_buf;

  struct ckpt_layout_rec layout;
  struct lib_info *libs;
  size_t libs_cap;

  struct global_info *globals;
  size_t nglobals, globals_cap;
  uint64_t globals_size, globals_saved, globals_excluded;

  struct ckpt_heap_rec heap;
  uint64_t heap_stored, heap_extents;

  uint64_t maps_pieces, maps_bytes, maps_file_pieces; /* MAPS */
  uint64_t maps_stored, maps_extents;

  /* SIGNALS: the head (counts and the three interval timers) and its
   * records, as many as the head's counts. */
  struct ckpt_signals_head signals;
  struct ckpt_thread_signals_rec *signal_threads;
  struct pending_info *pending;
  struct ckpt_timer_rec *timers;

  struct thread_info *threads;
  uint32_t nthreads;
  struct key_info *keys;
  uint32_t nkeys;

  struct file_info *files;
  uint32_t nfiles;

  uint64_t rtstate_len;

  struct range_info *excluded;
  uint64_t nexcluded;

  struct hook_info *hooks;
  uint64_t nhooks;

  /* LIBS: the head, then its records, as many as the head's counts (the
   * counts of what was decoded are libs_nlibs, libs_ntargets and
   * libs_nthreads: the arrays hold that many). Targets are in increasing
   * value order, threads in slot order. */
  struct ckpt_libs_head libs_head;
  struct libs_lib_info *libs_libs;
  struct libs_target_info *libs_targets;
  struct ckpt_libs_thread_rec *libs_threads;
  uint32_t libs_nlibs, libs_ntargets, libs_nthreads;
  uint64_t libs_words;                     /* words of all targets */
  uint32_t libs_kinds[LIBS_TARGET_KINDS];  /* targets of each kind */
  uint32_t libs_unowned; /* targets with CKPT_TARGET_UNOWNED */
  /* Why the functions of hooks, start routines, key destructors and frames
   * are not named from the executable's symbols (and frames get no source
   * lines), or NULL. */
  const char *symbols_note;
  char symbols_note_buf[600];
  /* Why the executable, although the checkpoint's build, gave frames no
   * source lines (no DWARF line table), or NULL. */
  const char *lines_note;
  char lines_note_buf[600];
};

void contents_init(struct contents *c);
void contents_free(struct contents *c);

/* Are section contents of IMG's format version decoded (versions
 * DECODED_VERSION_MIN to DECODED_VERSION_MAX: the current one,
 * CKPT_FILE_VERSION, and version 5, the same without the LIBS section), or
 * only its META records (older versions)? */
#define DECODED_VERSION_MIN 5
#define DECODED_VERSION_MAX 6
int decodes_contents(const struct ckpt_image *img);

/* Decode every section this build knows (META only in older formats) into
 * C, which contents_init has prepared; sections repeating an earlier one's
 * type are decoded into a scratch copy, so their structure is checked too.
 * With CHECK_WHOLE (--verify), also require every section a restart needs
 * and that sections agree with each other. Returns 0, or -1 with ERR the one
 * line naming PATH and the section; C must be freed with contents_free
 * either way. */
int load_contents(struct ckpt_image *img, const char *path, int check_whole,
                  struct contents *c, char *err, size_t errlen);

/* Make room for NEED elements of SIZE bytes in *ARR (capacity *CAP,
 * doubled as needed). 0, or -1 when out of memory (*ARR unchanged). */
int grow_array(void *arr, size_t *cap, size_t need, size_t size);

#endif /* CKPT_INSPECT_DECODE_H */
