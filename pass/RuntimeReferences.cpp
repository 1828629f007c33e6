//===- RuntimeReferences.cpp - weak references to the runtime ------------===//
//
// The instrumented code calls and reads the runtime (__ckpt_poll,
// __ckpt_pending, __ckpt_records, the redirected library calls...). In an
// executable the runtime is linked in; in a shared library built with
// ckpt-cc -shared it is not: its references are bound at load time to the
// runtime the executable exports (lib/ckpt/exports.list).
//
// Declared weak, they let such a library link with -Wl,--no-undefined or
// -z defs, which meson (b_lundef, on by default) and many libtool projects
// (-no-undefined) use to catch missing symbols; the linker does not count a
// weak reference as missing, and the user's own undefined symbols are still
// reported. A weak reference costs nothing where the symbol is defined (the
// executable), and the library's registration refuses to run in a program
// without the runtime before any of its code does (runtime/dso/ckpt_dso.c).
//
//===----------------------------------------------------------------------===//
#include "CkptPasses.h"

#include "ckpt/abi.h"

#include "llvm/IR/Module.h"

using namespace llvm;

PreservedAnalyses ckpt::WeakRuntimeReferencesPass::run(Module &M,
                                                       ModuleAnalysisManager &) {
  bool Changed = false;
  for (GlobalValue &GV : M.global_values()) {
    // An unused declaration is not emitted, unless it is weak: a weak one
    // would reach the object file without a type, which for a
    // thread-local variable the linker rejects against the runtime's
    // definition ("TLS definition ... mismatches non-TLS reference").
    if (!GV.isDeclaration() || GV.use_empty() || GV.hasExternalWeakLinkage() ||
        !GV.getName().starts_with(CKPT_NAME_STR()) ||
        GV.getName() == CKPT_USER_MAIN_STR)
      continue;
    GV.setLinkage(GlobalValue::ExternalWeakLinkage);
    Changed = true;
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}
