//===- CkptPasses.h - the ckpt instrumentation passes --------------------===//
//
// Pipeline names (opt -passes=...):
//   ckpt-main      rename the user's main to __ckpt_main (the runtime owns main)
//   ckpt-globals   register the module's globals for checkpointing
//   ckpt-frames    safe points, frame records, spills and restore dispatch
//   ckpt           all three, in that order (what clang gets via the plugin)
//
//===----------------------------------------------------------------------===//
#ifndef CKPT_PASS_CKPTPASSES_H
#define CKPT_PASS_CKPTPASSES_H

#include "llvm/IR/PassManager.h"
#include "llvm/IR/Value.h"

namespace ckpt {

struct MainTakeoverPass : llvm::PassInfoMixin<MainTakeoverPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

struct GlobalsRegistrationPass : llvm::PassInfoMixin<GlobalsRegistrationPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

struct FramesPass : llvm::PassInfoMixin<FramesPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

/// True for declarations of library functions known never to call back into
/// the program nor to block for long, so calls to them need no safe-point
/// bookkeeping (SafeCalls.cpp).
bool isCallbackFreeLibraryFunction(llvm::StringRef Name);

/// True if V (the string operand of llvm.var.annotation or of an entry of
/// llvm.global.annotations) is CKPT_EXCLUDE_ANNOTATION: the variable is left
/// out of checkpoints (Globals.cpp).
bool isExcludeAnnotation(const llvm::Value *V);

} // namespace ckpt

#endif // CKPT_PASS_CKPTPASSES_H
