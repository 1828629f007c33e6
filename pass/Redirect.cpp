//===- Redirect.cpp - the program's mmap calls go to the runtime ---------===//
//
// ckpt-redirect: every use of a library function listed in
// CKPT_REDIRECTED_FUNCTIONS (include/ckpt/abi.h) in this module -- calls and
// taken addresses alike -- is replaced by the runtime's function of the same
// signature, which calls the library's and records what the program did.
// Only modules built by ckpt-cc are rewritten, so the runtime's own calls
// and the libraries' are left alone: their mappings are not the program's
// memory. A module that defines one of these names itself keeps it.
// dlopen and its kin (CKPT_EXE_REDIRECTED_FUNCTIONS) are redirected in the
// executable's modules only, so a restart opens those libraries again.
//
//===----------------------------------------------------------------------===//
#include "CkptPasses.h"

#include "ckpt/abi.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/IR/Module.h"

using namespace llvm;

#define DEBUG_TYPE "ckpt-redirect"
STATISTIC(NumRedirected, "Library functions redirected to the runtime");

PreservedAnalyses ckpt::RedirectLibraryCallsPass::run(Module &M,
                                                      ModuleAnalysisManager &) {
  static const struct {
    const char *Library, *Runtime;
    bool ExecutableOnly;
  } Redirects[] = {
#define CKPT_REDIRECT_ENTRY(lib, rt) {#lib, CKPT_NAME_STR(rt), false},
      CKPT_REDIRECTED_FUNCTIONS(CKPT_REDIRECT_ENTRY)
#undef CKPT_REDIRECT_ENTRY
#define CKPT_REDIRECT_ENTRY(lib, rt) {#lib, CKPT_NAME_STR(rt), true},
      CKPT_EXE_REDIRECTED_FUNCTIONS(CKPT_REDIRECT_ENTRY)
#undef CKPT_REDIRECT_ENTRY
  };
  // ckpt-cc compiles the executable's code without PIC (or the user asks
  // for PIE), a shared library's with PIC: a library's dlopen must stay its
  // own (the loader resolves names by the calling object). Code built
  // -fPIC for an executable keeps its own too, and a checkpoint then names
  // the library it opened.
  bool InExecutable = M.getPICLevel() == PICLevel::NotPIC ||
                      M.getPIELevel() != PIELevel::Default;
  bool Changed = false;
  for (const auto &R : Redirects) {
    if (R.ExecutableOnly && !InExecutable)
      continue;
    Function *F = M.getFunction(R.Library);
    if (!F || !F->isDeclaration() || F->use_empty())
      continue;
    FunctionCallee Target =
        M.getOrInsertFunction(R.Runtime, F->getFunctionType(),
                              F->getAttributes());
    F->replaceAllUsesWith(Target.getCallee());
    F->eraseFromParent();
    ++NumRedirected;
    Changed = true;
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}
