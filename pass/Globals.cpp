//===- Globals.cpp - main takeover and registration of globals -----------===//
//
// ckpt-main: the runtime defines main() (it moves the program onto a stack at
// a fixed address and restores checkpoints before any user code runs), so
// the user's main is renamed __ckpt_main. The user never sees that name:
// sourceName() gives "main" back for diagnostics and descriptors.
//
// ckpt-globals: every writable global the module defines is described by a
// ckpt_global_desc {addr, size, name, flags} in section "ckpt_globals"; the
// runtime walks __start_ckpt_globals..__stop_ckpt_globals to save and restore
// them. Constants need no saving: the restarted binary is the same one.
//
//===----------------------------------------------------------------------===//
#include "CkptABI.h"
#include "CkptPasses.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

#define DEBUG_TYPE "ckpt-globals"
STATISTIC(NumGlobalsRegistered, "Globals registered for checkpointing");
STATISTIC(NumGlobalsExcluded, "Globals excluded from checkpoints");

StringRef ckpt::sourceName(const Function &F) {
  return F.getName() == CKPT_USER_MAIN_STR ? StringRef("main") : F.getName();
}

// As DiagnosticInfoUnsupported::print, with the source name.
void ckpt::UnsupportedDiagnostic::print(DiagnosticPrinter &DP) const {
  std::string Str;
  raw_string_ostream OS(Str);
  OS << getLocationStr() << ": in function " << sourceName(getFunction())
     << ' ' << *getFunction().getFunctionType() << ": " << getMessage()
     << '\n';
  DP << OS.str();
}

PreservedAnalyses ckpt::MainTakeoverPass::run(Module &M,
                                              ModuleAnalysisManager &) {
  Function *Main = M.getFunction("main");
  if (!Main || Main->isDeclaration())
    return PreservedAnalyses::all();
  if (Function *Existing = M.getFunction(CKPT_USER_MAIN_STR);
      Existing && !Existing->isDeclaration()) {
    M.getContext().diagnose(UnsupportedDiagnostic(
        *Main, "ckpt: this module defines both main and " CKPT_USER_MAIN_STR
               ", a name ckpt reserves for the renamed main"));
    return PreservedAnalyses::all();
  }
  if (Function *Decl = M.getFunction(CKPT_USER_MAIN_STR)) {
    // A declaration of the renamed main (a module that calls it): fold it in.
    Decl->replaceAllUsesWith(Main);
    Decl->eraseFromParent();
  }
  Main->setName(CKPT_USER_MAIN_STR);
  // The runtime calls it through an external declaration.
  Main->setLinkage(GlobalValue::ExternalLinkage);
  Main->setVisibility(GlobalValue::DefaultVisibility);
  return PreservedAnalyses::none();
}

bool ckpt::isExcludeAnnotation(const Value *V) {
  auto *GV = dyn_cast<GlobalVariable>(V->stripPointerCasts());
  if (!GV || !GV->hasInitializer())
    return false;
  auto *Str = dyn_cast<ConstantDataSequential>(GV->getInitializer());
  return Str && Str->isCString() &&
         Str->getAsCString() == CKPT_EXCLUDE_ANNOTATION;
}

/// Globals marked with #pragma ckpt exclude or CKPT_EXCLUDE: clang lists
/// them in llvm.global.annotations as {ptr var, ptr string, ptr file, i32
/// line, ptr args}.
static SmallPtrSet<const GlobalValue *, 8> excludedGlobals(const Module &M) {
  SmallPtrSet<const GlobalValue *, 8> Excluded;
  const GlobalVariable *Annotations =
      M.getNamedGlobal("llvm.global.annotations");
  if (!Annotations || !Annotations->hasInitializer())
    return Excluded;
  auto *Entries = dyn_cast<ConstantArray>(Annotations->getInitializer());
  if (!Entries)
    return Excluded;
  for (const Use &U : Entries->operands()) {
    auto *Entry = dyn_cast<ConstantStruct>(U.get());
    if (!Entry || Entry->getNumOperands() < 2)
      continue;
    if (!ckpt::isExcludeAnnotation(Entry->getOperand(1)))
      continue;
    if (auto *GV = dyn_cast<GlobalValue>(Entry->getOperand(0)->stripPointerCasts()))
      Excluded.insert(GV);
  }
  return Excluded;
}

/// Globals that are not program state ckpt must save.
static bool isSavedGlobal(const GlobalVariable &GV) {
  if (GV.isDeclaration() || GV.isConstant())
    return false;
  if (GV.getName().starts_with("llvm.") || GV.getName().starts_with("__ckpt"))
    return false;
  if (GV.hasSection() && GV.getSection().starts_with("ckpt_"))
    return false;
  // __thread variables are per-thread state: saved with their thread.
  if (GV.isThreadLocal())
    return false;
  return true;
}

PreservedAnalyses ckpt::GlobalsRegistrationPass::run(Module &M,
                                                     ModuleAnalysisManager &) {
  LLVMContext &C = M.getContext();
  const DataLayout &DL = M.getDataLayout();
  StructType *DescTy = globalDescType(C);
  Type *I32 = Type::getInt32Ty(C), *I64 = Type::getInt64Ty(C);

  SmallVector<GlobalVariable *, 32> Saved;
  for (GlobalVariable &GV : M.globals())
    if (isSavedGlobal(GV))
      Saved.push_back(&GV);

  SmallPtrSet<const GlobalValue *, 8> Excluded = excludedGlobals(M);
  SmallVector<GlobalValue *, 32> Descs;
  for (GlobalVariable *GV : Saved) {
    uint64_t Size = DL.getTypeAllocSize(GV->getValueType());
    if (Size == 0)
      continue;
    std::string Name = GV->hasName() ? GV->getName().str() : "<unnamed>";
    Constant *NameStr = ConstantDataArray::getString(C, Name);
    auto *NameGV = new GlobalVariable(M, NameStr->getType(), true,
                                      GlobalValue::PrivateLinkage, NameStr,
                                      "__ckpt_gname");
    NameGV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    SmallVector<Constant *, GlobalDescField::Count> Fields(
        GlobalDescField::Count);
    Fields[GlobalDescField::addr] = GV;
    Fields[GlobalDescField::size] = ConstantInt::get(I64, Size);
    Fields[GlobalDescField::name] = NameGV;
    // An excluded global is still described: the checkpoint lists it (for
    // ckpt-inspect) and a restart zero-fills it.
    Fields[GlobalDescField::flags] = ConstantInt::get(
        I32, Excluded.contains(GV) ? CKPT_GLOBAL_EXCLUDED : 0);
    Fields[GlobalDescField::reserved] = ConstantInt::get(I32, 0);
    auto *Desc = new GlobalVariable(M, DescTy, true,
                                    GlobalValue::PrivateLinkage,
                                    ConstantStruct::get(DescTy, Fields),
                                    "__ckpt_gdesc");
    Desc->setSection(CKPT_SECTION_GLOBALS);
    // The runtime walks the section as an array: no padding between records.
    Desc->setAlignment(Align(8));
    Descs.push_back(Desc);
    ++NumGlobalsRegistered;
    if (Excluded.contains(GV))
      ++NumGlobalsExcluded;
  }
  if (Descs.empty())
    return PreservedAnalyses::all();
  // Nothing references the descriptors: keep them through the optimiser
  // and the linker.
  appendToUsed(M, Descs);
  return PreservedAnalyses::none();
}
