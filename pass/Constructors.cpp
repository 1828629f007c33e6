//===- Constructors.cpp - the program's constructors run once per job ----===//
//
// ckpt-ctors: every constructor of this module (an entry of
// llvm.global_ctors whose function the module defines) is called through
// the runtime, as __ckpt_run_program_ctor(fn), by a small internal wrapper
// that takes its place in the list. The runtime runs it with the program's
// heap, so what it allocates is saved like everything main allocates, and
// skips it in a process that is restoring a checkpoint: the checkpoint
// holds what the constructor did, and running it again would reset that
// state and repeat its output. Constructors of libraries and of code not
// built by ckpt-cc are left alone: their state is not saved, so they must
// run at every start.
//
//===----------------------------------------------------------------------===//
#include "CkptPasses.h"

#include "ckpt/abi.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace llvm;

#define DEBUG_TYPE "ckpt-ctors"
STATISTIC(NumWrapped, "Constructors called through the runtime");

PreservedAnalyses ckpt::ProgramConstructorsPass::run(Module &M,
                                                     ModuleAnalysisManager &) {
  GlobalVariable *Ctors = M.getGlobalVariable("llvm.global_ctors");
  if (!Ctors || !Ctors->hasInitializer())
    return PreservedAnalyses::all();
  auto *List = dyn_cast<ConstantArray>(Ctors->getInitializer());
  if (!List)
    return PreservedAnalyses::all();
  LLVMContext &Ctx = M.getContext();
  auto *VoidFnTy = FunctionType::get(Type::getVoidTy(Ctx), false);
  FunctionCallee Run = M.getOrInsertFunction(
      CKPT_NAME_STR(run_program_ctor), Type::getVoidTy(Ctx),
      PointerType::getUnqual(Ctx));
  SmallVector<Constant *, 8> Entries;
  bool Changed = false;
  for (Use &U : List->operands()) {
    auto *Entry = cast<Constant>(U.get());
    auto *Fn = dyn_cast<Function>(Entry->getAggregateElement(1u));
    if (!Fn || Fn->isDeclaration() || Fn->getFunctionType() != VoidFnTy) {
      Entries.push_back(Entry);
      continue;
    }
    Function *Wrapper =
        Function::Create(VoidFnTy, GlobalValue::InternalLinkage,
                         Twine(CKPT_NAME_STR(ctor.)) + Fn->getName(), M);
    IRBuilder<> B(BasicBlock::Create(Ctx, "", Wrapper));
    B.CreateCall(Run, {Fn});
    B.CreateRetVoid();
    SmallVector<Constant *, 3> Fields;
    for (unsigned I = 0, E = Entry->getType()->getStructNumElements(); I < E;
         ++I)
      Fields.push_back(I == 1 ? Wrapper : Entry->getAggregateElement(I));
    Entries.push_back(
        ConstantStruct::get(cast<StructType>(Entry->getType()), Fields));
    ++NumWrapped;
    Changed = true;
  }
  if (!Changed)
    return PreservedAnalyses::all();
  Ctors->setInitializer(ConstantArray::get(List->getType(), Entries));
  return PreservedAnalyses::none();
}
