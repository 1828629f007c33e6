//===- Plugin.cpp - registers the ckpt passes with the new pass manager ---===//
//
// clang-19 -fpass-plugin=ckpt.so ...   runs "ckpt" at the end of the
//                                      optimisation pipeline (all -O levels)
// opt -load-pass-plugin=ckpt.so -passes=ckpt-frames ...   runs one pass
//
//===----------------------------------------------------------------------===//
#include "CkptPasses.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

using namespace llvm;

static void addCkptPipeline(ModulePassManager &MPM) {
  MPM.addPass(ckpt::GlobalsRegistrationPass());
  MPM.addPass(ckpt::FramesPass());
  // After the frames pass, which knows mmap and friends as library calls.
  MPM.addPass(ckpt::RedirectLibraryCallsPass());
  // After the frames pass: the wrappers are the runtime's business, not
  // the program's code.
  MPM.addPass(ckpt::ProgramConstructorsPass());
  // Last: until then the user's main is main, the name clang looks its
  // declaration up by to place an error about it.
  MPM.addPass(ckpt::MainTakeoverPass());
  // After every pass that declares a runtime symbol.
  MPM.addPass(ckpt::WeakRuntimeReferencesPass());
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "ckpt", "0.1", [](PassBuilder &PB) {
            // Late, so only values that are really live across a safe point
            // cost anything (DESIGN.md section 4).
            PB.registerOptimizerLastEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel) {
                  addCkptPipeline(MPM);
                });
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM,
                   ArrayRef<PassBuilder::PipelineElement>) {
                  if (Name == "ckpt") {
                    addCkptPipeline(MPM);
                    return true;
                  }
                  if (Name == "ckpt-main") {
                    MPM.addPass(ckpt::MainTakeoverPass());
                    return true;
                  }
                  if (Name == "ckpt-globals") {
                    MPM.addPass(ckpt::GlobalsRegistrationPass());
                    return true;
                  }
                  if (Name == "ckpt-redirect") {
                    MPM.addPass(ckpt::RedirectLibraryCallsPass());
                    return true;
                  }
                  if (Name == "ckpt-ctors") {
                    MPM.addPass(ckpt::ProgramConstructorsPass());
                    return true;
                  }
                  if (Name == "ckpt-frames") {
                    MPM.addPass(ckpt::FramesPass());
                    return true;
                  }
                  return false;
                });
          }};
}
