//===- CkptPasses.h - the ckpt instrumentation passes --------------------===//
//
// Pipeline names (opt -passes=...):
//   ckpt-globals   register the module's globals for checkpointing
//   ckpt-frames    safe points, frame records, spills and restore dispatch
//   ckpt-main      rename the user's main to __ckpt_main (the runtime owns main)
//   ckpt           all three, in that order (what clang gets via the plugin):
//                  the rename comes last, so the other passes see the user's
//                  main as main (clang finds its declaration for an error)
//
//===----------------------------------------------------------------------===//
#ifndef CKPT_PASS_CKPTPASSES_H
#define CKPT_PASS_CKPTPASSES_H

#include "llvm/IR/DiagnosticInfo.h"
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

/// Sends the program's uses of the functions in CKPT_REDIRECTED_FUNCTIONS
/// (mmap, munmap, mremap) to the runtime's versions (Redirect.cpp).
struct RedirectLibraryCallsPass
    : llvm::PassInfoMixin<RedirectLibraryCallsPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

/// Calls the module's constructors through the runtime, which runs them
/// with the program's heap at a first start and skips them in a restart
/// (Constructors.cpp).
struct ProgramConstructorsPass
    : llvm::PassInfoMixin<ProgramConstructorsPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

/// Makes the module's references to the runtime weak, so a shared library
/// built with ckpt-cc -shared links with --no-undefined (RuntimeReferences.cpp).
struct WeakRuntimeReferencesPass
    : llvm::PassInfoMixin<WeakRuntimeReferencesPass> {
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

/// The name the user knows F by: "main" for the user's main once ckpt-main
/// renamed it __ckpt_main, F's name otherwise. Every function name the pass
/// shows (diagnostics) or emits for the runtime and tools (a descriptor's
/// name string) is this one (Globals.cpp).
llvm::StringRef sourceName(const llvm::Function &F);

/// An error (or warning) about F for the user. Clang shows the message at
/// its location as for DiagnosticInfoUnsupported; opt and clang on IR input
/// print the "in function" prefix with F's source name, not __ckpt_main.
class UnsupportedDiagnostic : public llvm::DiagnosticInfoUnsupported {
public:
  using DiagnosticInfoUnsupported::DiagnosticInfoUnsupported;
  void print(llvm::DiagnosticPrinter &DP) const override;
};

} // namespace ckpt

#endif // CKPT_PASS_CKPTPASSES_H
