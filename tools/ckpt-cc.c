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
"A drop-in C compiler for programs to be checkpointed with ckpt: it runs\n"
"clang with the user's arguments plus\n"
"  -fpass-plugin=PREFIX/lib/ckpt/ckpt.so -fplugin=PREFIX/lib/ckpt/ckpt-clang.so\n"
"  -I PREFIX/include -D__CKPT__=1 -fno-pie -gline-tables-only\n"
"and, when linking (none of -c -S -E -M -MM -fsyntax-only), after them\n"
"  -no-pie -pthread -Wl,--build-id=sha1 -Wl,--whole-archive\n"
"  PREFIX/lib/ckpt/libckpt.a -Wl,--no-whole-archive -lzstd -lxxhash -lsodium\n"
"  -Wl,--push-state,--no-as-needed -lgcc_s -Wl,--pop-state\n"
"PREFIX is the directory above the one ckpt-cc is in. Without input files\n"
"(e.g. --version) the arguments are passed to clang unchanged.\n"
"ckpt-clang.so implements `#pragma ckpt exclude` (see docs/pragma.md).\n"
"\n"
"Refused: -shared, -static, -flto, C++ (and Objective-C) inputs, and\n"
"-fpie/-fPIE/-pie when linking: the executable must be at a fixed address.\n"
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

  /* User arguments without ckpt-cc's own options. */
  char **user = calloc((size_t)argc + 1, sizeof *user);
  if (!user)
    tool_die(1, "out of memory");
  int nuser = 0, print_only = 0, test_hooks = 0;
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
      user[nuser++] = argv[i];
    }
  }

  int ninputs = 0, has_output = 0, compile_only = 0, used_x = 0;
  const char *pie_flag = NULL, *refused = NULL, *refused_why = NULL;
  const char *lang = NULL; /* current -x language, NULL = by extension */
  int only_inputs = 0;     /* after "--" */
  for (int i = 0; i < nuser; i++) {
    const char *a = user[i];
    if (only_inputs || a[0] != '-' || strcmp(a, "-") == 0) {
      /* An input file ("@FILE" is a response file: counted as input). */
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
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_inputs = 1;
      continue;
    }
    if (takes_separate_value(a)) {
      const char *v = i + 1 < nuser ? user[i + 1] : NULL;
      if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
        has_output = 1;
      if ((strcmp(a, "-x") == 0 || strcmp(a, "--language") == 0) && v) {
        lang = strcmp(v, "none") == 0 ? NULL : v;
        used_x = 1;
      }
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
    else if (!refused && (strcmp(a, "-shared") == 0 ||
                          strcmp(a, "--shared") == 0)) {
      refused = a;
      refused_why = "ckpt builds executables, not shared libraries";
    } else if (!refused && (strcmp(a, "-static") == 0 ||
                            strcmp(a, "--static") == 0 ||
                            strcmp(a, "-static-pie") == 0)) {
      refused = a;
      refused_why = "ckpt programs link dynamically against libc, zstd and "
                    "xxhash";
    } else if (!refused &&
               (strcmp(a, "-flto") == 0 || strncmp(a, "-flto=", 6) == 0)) {
      refused = a;
      refused_why = "the ckpt pass instruments each file after optimisation "
                    "and LTO moves code generation to link time";
    } else if (strcmp(a, "-fpie") == 0 || strcmp(a, "-fPIE") == 0 ||
               strcmp(a, "-pie") == 0) {
      pie_flag = a;
    } else if (strcmp(a, "-fno-pie") == 0 || strcmp(a, "-fno-PIE") == 0 ||
               strcmp(a, "-no-pie") == 0) {
      pie_flag = NULL; /* the last one wins, as in clang */
    }
  }

  if (refused)
    tool_die(2, "%s is not supported: %s", refused, refused_why);
  int passthrough = ninputs == 0 && !has_output;
  int linking = !passthrough && !compile_only;
  if (linking && pie_flag)
    tool_die(2,
             "%s cannot be used when linking: the executable must be at a "
             "fixed address (ckpt links with -no-pie)",
             pie_flag);

  char prefix[PATH_MAX], plugin[PATH_MAX + 32], fe_plugin[PATH_MAX + 32],
      incdir[PATH_MAX + 32], lib[PATH_MAX + 32], plugin_opt[PATH_MAX + 64],
      fe_plugin_opt[PATH_MAX + 64];
  if (!passthrough) {
    if (tool_self_prefix(prefix, sizeof prefix) < 0)
      tool_die(1, "cannot find the ckpt installation (/proc/self/exe: %s)",
               strerror(errno));
    snprintf(plugin, sizeof plugin, "%s/lib/ckpt/ckpt.so", prefix);
    snprintf(fe_plugin, sizeof fe_plugin, "%s/lib/ckpt/ckpt-clang.so", prefix);
    snprintf(incdir, sizeof incdir, "%s/include", prefix);
    snprintf(lib, sizeof lib, "%s/lib/ckpt/%s", prefix,
             test_hooks ? "libckpt-testhooks.a" : "libckpt.a");
    snprintf(plugin_opt, sizeof plugin_opt, "-fpass-plugin=%s", plugin);
    snprintf(fe_plugin_opt, sizeof fe_plugin_opt, "-fplugin=%s", fe_plugin);
    check_exists(plugin, "pass plugin");
    check_exists(fe_plugin, "frontend plugin");
    if (linking)
      check_exists(lib, "runtime library");
  }

  char **cmd = calloc((size_t)nuser + 32, sizeof *cmd);
  if (!cmd)
    tool_die(1, "out of memory");
  size_t n = 0;
  cmd[n++] = (char *)clang;
  if (!passthrough) {
    cmd[n++] = plugin_opt;
    /* #pragma ckpt exclude. Loaded for every compile, but it acts only when
     * clang parses C: under -E the pragma is printed as written. */
    cmd[n++] = fe_plugin_opt;
    cmd[n++] = "-I";
    cmd[n++] = incdir;
    cmd[n++] = "-D__CKPT__=1";
    cmd[n++] = "-fno-pie";
    /* Line tables name the source line in the pass's diagnostics and of
     * every site in a checkpoint; they do not change the code. A -g or -g0
     * of the user's comes later and wins. */
    cmd[n++] = "-gline-tables-only";
  }
  for (int i = 0; i < nuser; i++)
    cmd[n++] = user[i];
  if (!passthrough)
    /* The runtime finds a stopped thread's frames by walking its stack with
     * the unwind tables (.eh_frame), valid at every instruction: after the
     * user's flags, so a -fno-asynchronous-unwind-tables cannot remove
     * them. They are not loaded unless used and do not change the code. */
    cmd[n++] = "-fasynchronous-unwind-tables";
  if (linking) {
    if (used_x) {
      /* So that the archive below is not taken for source in that language. */
      cmd[n++] = "-x";
      cmd[n++] = "none";
    }
    cmd[n++] = "-no-pie";
    cmd[n++] = "-pthread";
    cmd[n++] = "-Wl,--build-id=sha1";
    cmd[n++] = "-Wl,--whole-archive";
    cmd[n++] = lib;
    cmd[n++] = "-Wl,--no-whole-archive";
    cmd[n++] = "-lzstd";
    cmd[n++] = "-lxxhash";
    cmd[n++] = "-lsodium";
    /* glibc loads libgcc_s on the first pthread_exit (to unwind); loaded at
     * startup instead, it sits at the same address in a restarted process. */
    cmd[n++] = "-Wl,--push-state,--no-as-needed";
    cmd[n++] = "-lgcc_s";
    cmd[n++] = "-Wl,--pop-state";
  }
  cmd[n] = NULL;

  if (print_only) {
    print_command(cmd);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  execv(clang, cmd);
  tool_die(1, "cannot run %s: %s", clang, strerror(errno));
}
