//===- Redirect.cpp - the program's mmap calls go to the runtime ---------===//
//
// ckpt-redirect: every use of a library function listed in
// CKPT_REDIRECTED_FUNCTIONS (include/ckpt/abi.h) in this module -- calls and
// taken addresses alike -- is replaced by the runtime's function of the same
// signature, which calls the library's and records what the program did.
// Only modules built by ckpt-cc are rewritten, so the runtime's own calls
// and the libraries' are left alone: their mappings are not the program's
// memory. A module that defines one of these names itself keeps it.
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
  } Redirects[] = {
#define CKPT_REDIRECT_ENTRY(lib, rt) {#lib, CKPT_NAME_STR(rt)},
      CKPT_REDIRECTED_FUNCTIONS(CKPT_REDIRECT_ENTRY)
#undef CKPT_REDIRECT_ENTRY
  };
  bool Changed = false;
  for (const auto &R : Redirects) {
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
