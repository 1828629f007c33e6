/* runtime/dso/ckpt_dso.c - linked into every shared library built with
 * ckpt-cc -shared (as libckpt-dso.a, whole): hands the library's function
 * and global descriptors to the program's runtime when the library is
 * loaded, and takes them back when it is unloaded (runtime/modules.c).
 *
 * The runtime itself is never in the library: it lives once, in the
 * executable, which exports its entry points (ckpt-cc links executables
 * with lib/ckpt/exports.list). A library built with ckpt-cc loaded into a
 * program built without it has no runtime to save its state: that is
 * refused at load, with the library's name, rather than run unsaved.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/abi.h"

/* Hidden: each library's own bounds, never the executable's (the linker
 * defines __start_/__stop_ symbols in every output that has the section). */
extern const struct ckpt_func_desc __start_ckpt_funcs[]
    __attribute__((weak, visibility("hidden")));
extern const struct ckpt_func_desc __stop_ckpt_funcs[]
    __attribute__((weak, visibility("hidden")));
extern const struct ckpt_global_desc __start_ckpt_globals[]
    __attribute__((weak, visibility("hidden")));
extern const struct ckpt_global_desc __stop_ckpt_globals[]
    __attribute__((weak, visibility("hidden")));

/* Weak: resolved in the executable if it was built with ckpt-cc. */
extern void CKPT_NAME(register_module)(const struct ckpt_module_info *)
    __attribute__((weak));
extern void CKPT_NAME(unregister_module)(const struct ckpt_module_info *)
    __attribute__((weak));

static const struct ckpt_module_info module_info = {
    CKPT_ABI_VERSION, 0,  __start_ckpt_funcs, __stop_ckpt_funcs,
    __start_ckpt_globals, __stop_ckpt_globals};

/* Before every constructor of the library's own, so the runtime knows the
 * library's functions by the time any of them runs: priorities up to 100
 * are the implementation's (ckpt's here), programs use 101 and up. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wprio-ctor-dtor"
#endif
__attribute__((constructor(100), visibility("hidden"))) void
ckpt_dso_register(void) {
  if (!CKPT_NAME(register_module)) {
    Dl_info where;
    const char *name = dladdr(&module_info, &where) && where.dli_fname
                           ? where.dli_fname
                           : "a shared library";
    char line[512];
    int n = snprintf(line, sizeof line,
                     "ckpt: %s was built with ckpt-cc -shared and needs a "
                     "program built with ckpt-cc (its state would not be "
                     "checkpointed)\n",
                     name);
    if (n > 0)
      (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n
                                                     : sizeof line - 1);
    _exit(1);
  }
  CKPT_NAME(register_module)(&module_info);
}

/* After every destructor of the library's own (destructors run in the
 * reverse order of priorities). */
__attribute__((destructor(100), visibility("hidden"))) void
ckpt_dso_unregister(void) {
  if (CKPT_NAME(unregister_module))
    CKPT_NAME(unregister_module)(&module_info);
}
