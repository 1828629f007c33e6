/* tools/ckpt-cc.c - drop-in C compiler: runs clang-19 with the ckpt pass and frontend plugins and links the ckpt runtime. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/abi.h"
#include "toolutil.h"

#ifndef CKPT_CLANG
#define CKPT_CLANG "/usr/lib/llvm-19/bin/clang"
#endif

static void usage(FILE *f) {
  fprintf(f,
"Usage: ckpt-cc [clang options] FILES...\n"
"\n"
"A drop-in C compiler for programs to be checkpointed with ckpt (CC=ckpt-cc\n"
"for make, CMake, autotools, meson): it runs clang with, before the\n"
"user's arguments,\n"
"  -fpass-plugin=PREFIX/lib/ckpt/ckpt.so -fplugin=PREFIX/lib/ckpt/ckpt-clang.so\n"
"  -I PREFIX/include -D__CKPT__=1 -fno-pie -gline-tables-only\n"
"(-I and -D only if some input is preprocessed; -fno-pie not with -shared),\n"
"after them\n"
"  -fasynchronous-unwind-tables\n"
"(only if C or IR is compiled) and, when linking an executable (none of -c\n"
"-S -E -M -MM -fsyntax-only), after that\n"
"  -no-pie -pthread -Wl,--build-id=sha1\n"
"  -Wl,--dynamic-list=PREFIX/lib/ckpt/exports.list -Wl,--whole-archive\n"
"  PREFIX/lib/ckpt/libckpt.a -Wl,--no-whole-archive\n"
"  -Wl,--push-state,--no-as-needed -lgcc_s -Wl,--pop-state\n"
"or, when linking a shared library (-shared, also in -Wl, and -Xlinker),\n"
"  -pthread -Wl,--build-id=sha1 -Wl,-z,start-stop-visibility=hidden\n"
"  -Wl,--whole-archive PREFIX/lib/ckpt/libckpt-dso.a -Wl,--no-whole-archive\n"
"A library built so is instrumented like the program; it needs a program\n"
"built with ckpt-cc, whose runtime saves its state (docs/ckpt-cc.md).\n"
"PREFIX is the directory above the one ckpt-cc is in. Without input files\n"
"and -o (--version, -v, -###, -dumpmachine, -print-prog-name=...) the\n"
"arguments are passed to clang unchanged. Response files (@FILE) are read\n"
"as clang reads them, so the options in them are checked too.\n"
"ckpt-clang.so implements `#pragma ckpt exclude` (see docs/pragma.md).\n"
"\n"
"Ignored: -static (one warning when linking): ckpt programs are linked\n"
"dynamically. Refused: -flto, C++ (and Objective-C) inputs, and\n"
"-pie/-static-pie when linking an executable: it must be at a fixed\n"
"address. -fPIC/-fPIE code is fine.\n"
"See docs/ckpt-cc.md.\n"
"\n"
"Options of ckpt-cc itself:\n"
"  --ckpt-print-command  print the clang command line (shell-quoted) instead\n"
"                        of running it\n"
"  --ckpt-test-hooks     link PREFIX/lib/ckpt/libckpt-testhooks.a instead:\n"
"                        the runtime with ckpt's own test hooks (CKPT_TEST_*\n"
"                        environment variables); for ckpt's test suite only\n"
"  --help, --ckpt-help   this text; run clang --help for compiler options\n"
"\n"
"Environment:\n"
"  CKPT_CLANG            clang to run (default: %s)\n",
          CKPT_CLANG);
}

/* Options whose value is the next argument when written alone. */
static const char *const separate_value_opts[] = {
    "-o", "-I", "-D", "-U", "-x", "-L", "-l", "-T", "-u", "-e", "-z", "-A",
    "-B", "-F", "-G", "-MF", "-MT", "-MQ", "-MJ", "-include", "-include-pch",
    "-imacros", "-isystem", "-idirafter", "-iquote", "-isysroot", "-iprefix",
    "-iwithprefix", "-iwithprefixbefore", "-iwithsysroot", "-iframework",
    "-ivfsoverlay", "-imultilib", "-cxx-isystem", "-isystem-after",
    "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xclang", "-Xanalyzer",
    "-Xopenmp-target", "-mllvm", "-target", "-arch", "-aux-info",
    "-serialize-diagnostics", "-dependency-file", "-dependency-dot",
    "-working-directory", "-resource-dir", "--sysroot", "--param", "--output",
    "--include-directory", "--define-macro", "--undefine-macro", "--language",
    "--library-directory", "--for-linker", "--assert", "--prefix", "--include",
    "--target", NULL};

static int takes_separate_value(const char *a) {
  for (const char *const *p = separate_value_opts; *p; p++)
    if (strcmp(a, *p) == 0)
      return 1;
  return 0;
}

static int is_compile_only(const char *a) {
  static const char *const opts[] = {
      "-c", "-S", "-E", "-M", "-MM", "-fsyntax-only", "--compile",
      "--assemble", "--preprocess", "--dependencies", "--user-dependencies",
      "--precompile", NULL};
  for (const char *const *p = opts; *p; p++)
    if (strcmp(a, *p) == 0)
      return 1;
  return 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Input file names that clang would compile as something other than C. */
static int is_non_c_input(const char *f) {
  static const char *const exts[] = {".cc", ".cpp", ".cxx", ".c++", ".cp",
                                     ".C",  ".CPP", ".CC",  ".mm",  ".M",
                                     ".m",  ".cu",  ".hip", ".cppm", NULL};
  for (const char *const *p = exts; *p; p++)
    if (ends_with(f, *p))
      return 1;
  return 0;
}

/* -x LANG values that are not C. */
static int is_non_c_language(const char *lang) {
  return strncmp(lang, "c++", 3) == 0 || strncmp(lang, "objective-c", 11) == 0 ||
         strcmp(lang, "cuda") == 0 || strcmp(lang, "hip") == 0;
}

/* What clang does with an input, as far as ckpt-cc's own flags go: whether
 * the preprocessor runs on it (it reads -I and -D) and whether C or IR is
 * compiled to code (the pass runs; unwind tables). Clang warns about an
 * option that no input used ("argument unused during compilation"), an
 * error under -Werror: `-c foo.s` must not get -D__CKPT__=1. An input that
 * is none of these is the linker's. */
enum { IN_SOURCE = 1, IN_CPP = 2, IN_CODE = 4 };

static int input_kind(const char *file, const char *lang) {
  if (lang) {
    if (strcmp(lang, "assembler") == 0)
      return IN_SOURCE;
    if (strcmp(lang, "assembler-with-cpp") == 0)
      return IN_SOURCE | IN_CPP;
    if (strcmp(lang, "cpp-output") == 0 || strcmp(lang, "ir") == 0)
      return IN_SOURCE | IN_CODE;
    return IN_SOURCE | IN_CPP | IN_CODE; /* c, c-header, or not known */
  }
  if (strcmp(file, "-") == 0 || ends_with(file, ".c") || ends_with(file, ".h"))
    return IN_SOURCE | IN_CPP | IN_CODE;
  if (ends_with(file, ".i") || ends_with(file, ".ll") || ends_with(file, ".bc"))
    return IN_SOURCE | IN_CODE;
  if (ends_with(file, ".s"))
    return IN_SOURCE;
  if (ends_with(file, ".S") || ends_with(file, ".sx"))
    return IN_SOURCE | IN_CPP;
  return 0; /* an object, an archive, a shared library... */
}

/* A linker option that makes a shared object (-Wl,...,-shared or
 * -Xlinker -shared). */
static int is_linker_shared(const char *opt) {
  return strcmp(opt, "-shared") == 0 || strcmp(opt, "--shared") == 0 ||
         strcmp(opt, "-Bshareable") == 0;
}

static int wl_has_shared(const char *a) {
  for (const char *p = a + 4; *p;) { /* after "-Wl," */
    size_t n = strcspn(p, ",");
    char opt[16];
    if (n < sizeof opt) {
      memcpy(opt, p, n);
      opt[n] = '\0';
      if (is_linker_shared(opt))
        return 1;
    }
    p += n + (p[n] == ',');
  }
  return 0;
}

/* Options ckpt-cc drops: the program is linked dynamically whatever the
 * build asks for (docs/ckpt-cc.md, "-static"). */
static int is_static(const char *a) {
  return strcmp(a, "-static") == 0 || strcmp(a, "--static") == 0;
}

/* ---- Argument vectors and response files ---------------------------------*/

struct args {
  char **v;
  size_t n, cap;
};

static void push_arg(struct args *b, char *a) {
  if (b->n + 2 > b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->v = realloc(b->v, b->cap * sizeof *b->v);
    if (!b->v)
      tool_die(1, "out of memory");
  }
  b->v[b->n++] = a;
  b->v[b->n] = NULL;
}

/* Response files nest (an @FILE inside one is read too) up to this depth;
 * deeper is taken for a file that includes itself. */
#define RSP_MAX_DEPTH 16

/* Whether a response file held an option ckpt-cc drops: then clang gets
 * the expanded arguments instead of the @FILE. */
static int rsp_has_dropped;

static void expand_arg(struct args *out, char *a, int depth);

/* Splits a response file's text into arguments as clang does on Linux
 * (GNU rules): white space separates them; '...' and "..." quote; a
 * backslash takes the next character as it is, inside quotes too. */
static void tokenize_response_file(struct args *out, const char *s, size_t len,
                                   int depth) {
  static const char space[] = " \t\n\r\v\f";
  size_t i = 0;
  if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
    i = 3; /* UTF-8 byte order mark */
  while (i < len) {
    while (i < len && s[i] && strchr(space, s[i]))
      i++;
    if (i >= len)
      break;
    char *tok = malloc(len - i + 1);
    if (!tok)
      tool_die(1, "out of memory");
    size_t t = 0;
    while (i < len && !(s[i] && strchr(space, s[i]))) {
      char c = s[i];
      if (c == '\\' && i + 1 < len) {
        tok[t++] = s[i + 1];
        i += 2;
      } else if (c == '\'' || c == '"') {
        for (i++; i < len && s[i] != c; i++) {
          if (s[i] == '\\' && i + 1 < len)
            i++;
          tok[t++] = s[i];
        }
        i++; /* the closing quote */
      } else {
        tok[t++] = c;
        i++;
      }
    }
    tok[t] = '\0';
    if (t == 0) {
      free(tok);
      continue;
    }
    if (is_static(tok))
      rsp_has_dropped = 1;
    expand_arg(out, tok, depth + 1);
  }
}

/* Appends A to OUT, or the arguments of the response file it names
 * ("@FILE", read as clang reads it). An @FILE that cannot be read stays as
 * it is: clang then takes it for an input file and says it is missing. */
static void expand_arg(struct args *out, char *a, int depth) {
  if (a[0] != '@' || !a[1]) {
    push_arg(out, a);
    return;
  }
  FILE *f = fopen(a + 1, "rb");
  if (!f) {
    push_arg(out, a);
    return;
  }
  if (depth >= RSP_MAX_DEPTH)
    tool_die(2, "%s: response files nested more than %d deep (one that "
             "names itself?)", a, RSP_MAX_DEPTH);
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? 2 * cap : 8192;
      text = realloc(text, cap);
      if (!text)
        tool_die(1, "out of memory");
    }
    size_t got = fread(text + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(f))
    tool_die(1, "%s: cannot read the response file: %s", a + 1,
             strerror(errno));
  fclose(f);
  tokenize_response_file(out, text, len, depth);
  free(text);
}

/* Characters that never need quoting in a POSIX shell word. */
static int shell_safe(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789_@%+=:,./-",
                *s))
      return 0;
  return 1;
}

static void print_command(char **args) {
  for (size_t i = 0; args[i]; i++) {
    if (i)
      putchar(' ');
    if (shell_safe(args[i])) {
      fputs(args[i], stdout);
      continue;
    }
    putchar('\'');
    for (const char *p = args[i]; *p; p++) {
      if (*p == '\'')
        fputs("'\\''", stdout);
      else
        putchar(*p);
    }
    putchar('\'');
  }
  putchar('\n');
}

static void check_exists(const char *path, const char *what) {
  struct stat st;
  if (stat(path, &st) < 0)
    tool_die(1, "%s %s is missing (%s); is ckpt built and installed?", what,
             path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    tool_die(1, "%s %s is not a regular file", what, path);
}

int main(int argc, char **argv) {
  tool_set_name("ckpt-cc");
  const char *clang = getenv("CKPT_CLANG");
  if (!clang || !*clang)
    clang = CKPT_CLANG;

  /* User arguments without ckpt-cc's own options (user), and the same with
   * response files read (all): what clang will see. */
  struct args user = {0}, all = {0};
  int print_only = 0, test_hooks = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ckpt-print-command") == 0) {
      print_only = 1;
    } else if (strcmp(argv[i], "--ckpt-test-hooks") == 0) {
      test_hooks = 1;
    } else if (strcmp(argv[i], "--help") == 0 ||
               strcmp(argv[i], "--ckpt-help") == 0) {
      usage(stdout);
      return 0;
    } else {
      push_arg(&user, argv[i]);
      expand_arg(&all, argv[i], 0);
    }
  }

  int ninputs = 0, kinds = 0, nsources = 0, has_output = 0;
  int compile_only = 0, used_x = 0;
  const char *pie_flag = NULL, *refused = NULL, *refused_why = NULL;
  const char *static_flag = NULL;
  const char *lang = NULL; /* current -x language, NULL = by extension */
  int only_inputs = 0;     /* after "--" */
  int shared = 0;          /* links a shared library */
  for (size_t i = 0; i < all.n; i++) {
    const char *a = all.v[i];
    if (only_inputs || a[0] != '-' || strcmp(a, "-") == 0) {
      /* An input file (or an @FILE that could not be read: clang says). */
      ninputs++;
      if (a[0] == '@' && !only_inputs)
        continue;
      if (lang && is_non_c_language(lang))
        tool_die(2, "%s: only C is supported (-x %s)", a, lang);
      if (!lang && is_non_c_input(a))
        tool_die(2,
                 "%s: only C is supported (this is a C++ or Objective-C "
                 "file)",
                 a);
      int k = input_kind(a, lang);
      kinds |= k;
      nsources += (k & IN_SOURCE) != 0;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_inputs = 1;
      continue;
    }
    if (takes_separate_value(a)) {
      const char *v = i + 1 < all.n ? all.v[i + 1] : NULL;
      if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
        has_output = 1;
      if ((strcmp(a, "-x") == 0 || strcmp(a, "--language") == 0) && v) {
        lang = strcmp(v, "none") == 0 ? NULL : v;
        used_x = 1;
      }
      if (v && strcmp(a, "-Xlinker") == 0 && is_linker_shared(v))
        shared = 1;
      i++;
      continue;
    }
    if (strncmp(a, "-o", 2) == 0 && strncmp(a, "-obj", 4) != 0)
      has_output = 1; /* -oFILE */
    else if (strncmp(a, "--output=", 9) == 0)
      has_output = 1;
    else if (strncmp(a, "-x", 2) == 0 || strncmp(a, "--language=", 11) == 0) {
      const char *v = a[1] == 'x' ? a + 2 : a + 11;
      lang = strcmp(v, "none") == 0 ? NULL : v;
      used_x = 1;
    } else if (is_compile_only(a))
      compile_only = 1;
    else if (strcmp(a, "-shared") == 0 || strcmp(a, "--shared") == 0 ||
             (strncmp(a, "-Wl,", 4) == 0 && wl_has_shared(a)))
      shared = 1;
    else if (is_static(a)) {
      if (!static_flag)
        static_flag = a;
    } else if (!refused &&
               (strcmp(a, "-flto") == 0 || strncmp(a, "-flto=", 6) == 0)) {
      refused = a;
      refused_why = "the ckpt pass instruments each file after optimisation "
                    "and LTO moves code generation to link time";
    } else if (strcmp(a, "-pie") == 0 || strcmp(a, "-static-pie") == 0) {
      pie_flag = a;
    } else if (strcmp(a, "-no-pie") == 0) {
      pie_flag = NULL; /* the last one wins, as in clang */
    }
  }

  if (refused)
    tool_die(2, "%s is not supported: %s", refused, refused_why);
  int passthrough = ninputs == 0 && !has_output;
  int linking = !passthrough && !compile_only;
  if (linking && pie_flag && !shared)
    tool_die(2,
             "%s cannot be used when linking: the executable must be at a "
             "fixed address (ckpt links with -no-pie)",
             pie_flag);
  if (linking && static_flag)
    tool_warn("%s ignored: ckpt programs are linked dynamically, as the "
              "runtime stands in for malloc, atexit and other functions of "
              "the shared C library (docs/ckpt-cc.md)",
              static_flag);
  /* Clang sees the @FILEs as they are, unless one holds an option dropped
   * here: then the arguments read from it. */
  struct args *given = rsp_has_dropped ? &all : &user;
  /* ckpt-cc's preprocessor and code generation options, unless every
   * source input is one that would not use them (assembly, IR): clang
   * would warn that they are unused. Without source input (linking
   * objects) clang does not mind them. */
  int add_cpp = !passthrough && (nsources == 0 || (kinds & IN_CPP));
  int add_code = !passthrough && (nsources == 0 || (kinds & IN_CODE));

  char prefix[PATH_MAX], plugin[PATH_MAX + 32], fe_plugin[PATH_MAX + 32],
      incdir[PATH_MAX + 32], lib[PATH_MAX + 32], plugin_opt[PATH_MAX + 64],
      fe_plugin_opt[PATH_MAX + 64], exports[PATH_MAX + 32],
      exports_opt[PATH_MAX + 64];
  if (!passthrough) {
    if (tool_self_prefix(prefix, sizeof prefix) < 0)
      tool_die(1, "cannot find the ckpt installation (/proc/self/exe: %s)",
               strerror(errno));
    snprintf(plugin, sizeof plugin, "%s/lib/ckpt/ckpt.so", prefix);
    snprintf(fe_plugin, sizeof fe_plugin, "%s/lib/ckpt/ckpt-clang.so", prefix);
    snprintf(incdir, sizeof incdir, "%s/include", prefix);
    /* A shared library gets the registration of its descriptors only: the
     * runtime is the executable's (runtime/dso/ckpt_dso.c). */
    snprintf(lib, sizeof lib, "%s/lib/ckpt/%s", prefix,
             shared       ? "libckpt-dso.a"
             : test_hooks ? "libckpt-testhooks.a"
                          : "libckpt.a");
    snprintf(exports, sizeof exports, "%s/lib/ckpt/exports.list", prefix);
    snprintf(exports_opt, sizeof exports_opt, "-Wl,--dynamic-list=%s",
             exports);
    snprintf(plugin_opt, sizeof plugin_opt, "-fpass-plugin=%s", plugin);
    snprintf(fe_plugin_opt, sizeof fe_plugin_opt, "-fplugin=%s", fe_plugin);
    check_exists(plugin, "pass plugin");
    check_exists(fe_plugin, "frontend plugin");
    if (linking)
      check_exists(lib, shared ? "shared library registration"
                               : "runtime library");
    if (linking && !shared)
      check_exists(exports, "runtime export list");
  }

  struct args cmd = {0};
  push_arg(&cmd, (char *)clang);
  if (!passthrough) {
    push_arg(&cmd, plugin_opt);
    /* #pragma ckpt exclude. Loaded for every compile, but it acts only when
     * clang parses C: under -E the pragma is printed as written. */
    push_arg(&cmd, fe_plugin_opt);
    if (add_cpp) {
      push_arg(&cmd, "-I");
      push_arg(&cmd, incdir);
      push_arg(&cmd, "-D__CKPT__=1");
    }
    /* An executable's code is at a fixed address (linked -no-pie below); a
     * shared library's must be position-independent, which the user asks
     * for with -fPIC as with plain clang. */
    if (!shared)
      push_arg(&cmd, "-fno-pie");
    /* Line tables name the source line in the pass's diagnostics and of
     * every site in a checkpoint; they do not change the code. A -g or -g0
     * of the user's comes later and wins. */
    push_arg(&cmd, "-gline-tables-only");
  }
  /* The user's arguments without the dropped options (not a value of an
   * option, not an input after "--"), up to a "--": ckpt-cc's own options
   * go before it, or clang would take them for input files. */
  size_t i = 0;
  for (; i < given->n && strcmp(given->v[i], "--") != 0; i++) {
    char *a = given->v[i];
    if (takes_separate_value(a) && i + 1 < given->n) {
      push_arg(&cmd, a); /* and its value, whatever it is */
      a = given->v[++i];
    } else if (is_static(a)) {
      continue;
    }
    push_arg(&cmd, a);
  }
  if (add_code)
    /* The runtime finds a stopped thread's frames by walking its stack with
     * the unwind tables (.eh_frame), valid at every instruction: after the
     * user's flags, so a -fno-asynchronous-unwind-tables cannot remove
     * them. They are not loaded unless used and do not change the code. */
    push_arg(&cmd, "-fasynchronous-unwind-tables");
  if (linking) {
    if (used_x) {
      /* So that the archive below is not taken for source in that language. */
      push_arg(&cmd, "-x");
      push_arg(&cmd, "none");
    }
    if (!shared)
      push_arg(&cmd, "-no-pie");
    push_arg(&cmd, "-pthread");
    push_arg(&cmd, "-Wl,--build-id=sha1");
    /* The runtime's entry points, for the code of the program's ckpt-cc
     * -shared libraries (which cannot have a runtime of their own). */
    if (!shared)
      push_arg(&cmd, exports_opt);
    else
      /* The bounds of the library's descriptor sections stay its own: not
       * exported, so no other object binds to them. */
      push_arg(&cmd, "-Wl,-z,start-stop-visibility=hidden");
    push_arg(&cmd, "-Wl,--whole-archive");
    push_arg(&cmd, lib);
    push_arg(&cmd, "-Wl,--no-whole-archive");
    /* The runtime's own libraries (zstd, xxHash, libsodium) are inside the
     * archive, linked statically with their internal names made local
     * (scripts/embed-deps.sh): loading and relocating them as shared
     * libraries cost more than the rest of ckpt's start-up
     * (docs/dependencies.md), and a restart then needs none of them. */
    /* glibc loads libgcc_s on the first pthread_exit (to unwind); loaded at
     * startup instead, it sits at the same address in a restarted process. */
    if (!shared) {
      push_arg(&cmd, "-Wl,--push-state,--no-as-needed");
      push_arg(&cmd, "-lgcc_s");
      push_arg(&cmd, "-Wl,--pop-state");
    }
    if (i < given->n && used_x && lang) {
      /* The inputs after "--" are in the user's last -x language. */
      push_arg(&cmd, "-x");
      push_arg(&cmd, (char *)lang);
    }
  }
  for (; i < given->n; i++)
    push_arg(&cmd, given->v[i]);

  if (print_only) {
    print_command(cmd.v);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  execv(clang, cmd.v);
  tool_die(1, "cannot run %s: %s", clang, strerror(errno));
}
