//===- Frames.cpp - safe points and function descriptors -----------------===//
//
// The ckpt-frames pass (docs/design.md "Frames redesign"). Threads are saved
// as their native stacks and resume where they stopped; the runtime finds a
// stopped thread's frames by walking its stack with the executable's CFI.
// So nothing here describes or rebuilds a frame. For every function that can
// be on the stack of a stopped thread (it polls, or calls something that may
// stop) it
//   1. places polls: at loop latches (except short call-free inner loops) and
//      at the entry of recursive functions without such loops;
//   2. emits a descriptor (name, source file, excluded locals) that the
//      runtime finds by the function's address, to tell the program's
//      instrumented frames from others while it walks a stack;
//   3. only if the function has locals under #pragma ckpt exclude /
//      CKPT_EXCLUDE: moves them into a frame record pushed on a thread-local
//      chain at entry and popped at every return, so the checkpoint writer
//      can find them and leave them out.
//
// Try: opt -load-pass-plugin=ckpt.so -passes=ckpt-frames -S in.ll
//
//===----------------------------------------------------------------------===//
#include "CkptABI.h"
#include "CkptPasses.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SCCIterator.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Analysis/CallGraph.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ScalarEvolution.h"
#include "llvm/IR/AttributeMask.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/DIBuilder.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Debug.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/Local.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <optional>

using namespace llvm;

/// The address a function's descriptor records: the runtime finds a frame's
/// descriptor by its function's start. In position-independent code an
/// exported function's address is relocated against its symbol, which a
/// non-PIE executable that takes the function's address binds to its own
/// PLT entry (the function's "canonical" address): the descriptor would
/// then not hold the function's code. A private alias is never preempted.
/// Functions in a COMDAT or of weak linkage keep their own symbol (a copy
/// in another object may be the one that stays).
static Constant *descriptorAddress(Function &F) {
  Module &M = *F.getParent();
  // Position-independent code for a shared library: PIC, and not PIE (an
  // executable's own functions are never preempted).
  if (M.getPICLevel() == PICLevel::NotPIC ||
      M.getPIELevel() != PIELevel::Default || !F.hasExternalLinkage() ||
      F.hasComdat())
    return &F;
  return GlobalAlias::create(GlobalValue::PrivateLinkage,
                             "__ckpt_fn." + F.getName(), &F);
}
using namespace ckpt;

#define DEBUG_TYPE "ckpt-frames"

STATISTIC(NumFunctionsInstrumented, "Functions given a descriptor");
STATISTIC(NumExcludedLocals, "Local variables excluded from checkpoints");
STATISTIC(NumLoopPolls, "Polls placed at loop latches");
STATISTIC(NumEntryPolls, "Polls placed at function entry (recursion)");
STATISTIC(NumCallbackReturnPolls,
          "Polls placed after calls that hand a library a function");
STATISTIC(NumLoopsSkipped, "Short call-free inner loops left without a poll");
STATISTIC(NumIrreduciblePolls, "Polls on cycles that are not natural loops");
STATISTIC(NumCallbackOnly, "Static callbacks of library functions left alone");

static cl::opt<bool> ClPolls(
    "ckpt-polls",
    cl::desc("Place polls at loop latches and recursive entries (the "
             "runtime stops running threads by signal; polls are a second "
             "way, off by default)"),
    cl::init(false), cl::Hidden);

static cl::opt<unsigned> ClShortLoopTripCount(
    "ckpt-short-loop-trip-count",
    cl::desc("Call-free innermost loops that run at most this many times get "
             "no poll"),
    cl::init(1000), cl::Hidden);

namespace {

/// What the module-level analysis decided about one function.
struct FunctionPlan {
  SmallVector<BasicBlock *, 8> PollLatches;
  bool EntryPoll = false;
  bool HasUnknownCall = false; // calls that may reach a poll regardless
  SmallVector<Function *, 8> Callees; // defined functions called directly
  // Calls into uninstrumented code that are handed one of the program's
  // functions (__kmpc_fork_call and an OpenMP region's body, qsort and its
  // comparison): the thread runs the program's code under the library's
  // frames, where it cannot stop, for as long as the call lasts. A poll
  // right after the call stops it as soon as it is back.
  SmallVector<CallInst *, 4> CallbackReturnPolls;
};

/// The runtime's own functions (never instrumented, never stop). The
/// renamed user main is the program's, not the runtime's.
bool isRuntimeFunction(const Function &F) {
  return F.getName().starts_with("__ckpt_") &&
         F.getName() != CKPT_USER_MAIN_STR;
}

/// Functions whose body is instrumented in this module.
bool isInstrumentable(const Function &F) {
  return !F.isDeclaration() && !F.hasAvailableExternallyLinkage() &&
         !F.hasFnAttribute(Attribute::Naked) && !isRuntimeFunction(F);
}

/// Functions whose body here is the one that runs: instrumentable and not
/// replaceable at link time (a weak definition may lose to another one).
bool hasKnownBody(const Function &F) {
  return isInstrumentable(F) && !F.isInterposable();
}

/// Whether inline assembly leaves the stack pointer moved, so that the CFI
/// of the function no longer describes its frame after the asm. Reading
/// %rsp (`movq %rsp, $0`, `leaq 8(%rsp), $0`) and balanced push/pop inside
/// the asm are fine: a thread stopped by signal inside the asm is resumed
/// from its exact register context, and a stack walk from such a pc that
/// does not end at the thread's entry frame refuses the stop, which is
/// retried a millisecond later. What is refused: rsp named in a constraint
/// (an input placed in rsp, an output or a clobber), rsp as the
/// destination of an instruction, and leave/enter.
bool asmMovesStackPointer(const InlineAsm &IA) {
  static const char *const SPConstraints[] = {"{rsp}", "{esp}", "{sp}",
                                              "{spl}"};
  for (const char *SP : SPConstraints)
    if (StringRef(IA.getConstraintString()).contains(SP))
      return true;
  auto IsSP = [](StringRef Op) {
    Op = Op.trim();
    Op.consume_front("%");
    return Op == "rsp" || Op == "esp" || Op == "sp" || Op == "spl";
  };
  bool Intel = IA.getDialect() == InlineAsm::AD_Intel;
  SmallVector<StringRef, 8> Lines;
  StringRef(IA.getAsmString()).split(Lines, '\n');
  for (StringRef Line : Lines) {
    SmallVector<StringRef, 4> Stmts;
    Line.split(Stmts, ';');
    for (StringRef Stmt : Stmts) {
      Stmt = Stmt.trim();
      if (Stmt.empty())
        continue;
      auto [Mnemonic, Rest] = Stmt.split(' ');
      Mnemonic = Mnemonic.trim();
      std::string Lower = Mnemonic.lower();
      if (Lower == "leave" || Lower == "leaveq" ||
          StringRef(Lower).starts_with("enter"))
        return true;
      // Operands, split at top-level commas (memory operands hold commas).
      SmallVector<StringRef, 4> Ops;
      unsigned Depth = 0;
      size_t Start = 0;
      for (size_t I = 0; I < Rest.size(); ++I) {
        char Ch = Rest[I];
        if (Ch == '(' || Ch == '[')
          ++Depth;
        else if ((Ch == ')' || Ch == ']') && Depth)
          --Depth;
        else if (Ch == ',' && !Depth) {
          Ops.push_back(Rest.slice(Start, I));
          Start = I + 1;
        }
      }
      Ops.push_back(Rest.substr(Start));
      StringRef Lm(Lower);
      if (Lm.starts_with("cmp") || Lm.starts_with("test") ||
          Lm.starts_with("bt") || Lm.starts_with("push"))
        continue; // read their operands only
      if (Lm.starts_with("xchg")) {
        for (StringRef Op : Ops)
          if (IsSP(Op))
            return true;
        continue;
      }
      if (IsSP(Intel ? Ops.front() : Ops.back()))
        return true;
    }
  }
  return false;
}

Function *directCallee(const CallBase &CB) {
  return dyn_cast<Function>(
      CB.getCalledOperand()->stripPointerCastsAndAliases());
}

/// A direct call of the setjmp family, which the runtime defines
/// (runtime/setjmp.c) with jmp_bufs that survive a restart.
bool isRuntimeSetjmp(const CallBase &CB) {
  Function *Callee = directCallee(CB);
  if (!Callee || !Callee->isDeclaration())
    return false;
  StringRef Name = Callee->getName();
  return Name == "setjmp" || Name == "_setjmp" || Name == "__sigsetjmp" ||
         Name == "sigsetjmp";
}

/// Calls whose callee can never reach a safe point, whatever the module's
/// functions do.
bool callCannotStop(const CallBase &CB) {
  if (CB.isInlineAsm() || isa<IntrinsicInst>(CB))
    return true;
  // setjmp and friends return into this frame; they never stop.
  if (CB.hasFnAttr(Attribute::ReturnsTwice))
    return true;
  Function *Callee = directCallee(CB);
  if (!Callee)
    return false;
  if (Callee->isIntrinsic() || isRuntimeFunction(*Callee))
    return true;
  if (hasKnownBody(*Callee))
    return false; // decided by whether it can reach a poll
  // Only for real declarations: a function defined here may get polls of
  // its own whatever the optimiser inferred about it. An external function
  // that touches no memory cannot stop for a checkpoint.
  if (Callee->isDeclaration() && Callee->doesNotAccessMemory())
    return true;
  return Callee->isDeclaration() &&
         isCallbackFreeLibraryFunction(Callee->getName());
}

/// Attributes the optimiser may have inferred on a function or call before
/// the pass, which are false once it can stop for a checkpoint.
AttributeMask staleAttributes() {
  AttributeMask Stale;
  Stale.addAttribute(Attribute::Memory);
  Stale.addAttribute(Attribute::NoSync);
  Stale.addAttribute(Attribute::NoFree);
  Stale.addAttribute(Attribute::WillReturn);
  Stale.addAttribute(Attribute::NoRecurse);
  return Stale;
}

/// Name of the source file of F, or "".
std::string sourceFile(const Function &F) {
  if (DISubprogram *SP = F.getSubprogram())
    return SP->getFilename().str();
  return "";
}

/// A local under #pragma ckpt exclude / CKPT_EXCLUDE (the frontend marks it
/// with llvm.var.annotation).
bool isExcludedAlloca(const AllocaInst &AI) {
  for (const User *U : AI.users())
    if (auto *II = dyn_cast<IntrinsicInst>(U);
        II && II->getIntrinsicID() == Intrinsic::var_annotation &&
        isExcludeAnnotation(II->getArgOperand(1)))
      return true;
  return false;
}

std::string describeLocation(const Function &F, const DebugLoc &DL) {
  std::string S = "function '" + sourceName(F).str() + "'";
  if (DL && DL->getLine())
    S += " (" + DL->getFilename().str() + ":" + std::to_string(DL->getLine()) +
         ")";
  else if (DISubprogram *SP = F.getSubprogram())
    S += " (" + SP->getFilename().str() + ":" + std::to_string(SP->getLine()) +
         ")";
  return S;
}

class FrameInstrumenter {
public:
  FrameInstrumenter(Function &F, const FunctionPlan &Plan, RuntimeSymbols &RT)
      : F(F), M(*F.getParent()), C(F.getContext()),
        DL(F.getParent()->getDataLayout()), Plan(Plan), RT(RT) {}

  /// Returns false (after reporting an error) if F cannot be made
  /// restartable.
  bool run();

private:
  Function &F;
  Module &M;
  LLVMContext &C;
  const DataLayout &DL;
  const FunctionPlan &Plan;
  RuntimeSymbols &RT;

  GlobalVariable *Desc = nullptr;
  /// The frame record, only when F has excluded locals.
  AllocaInst *RecordAI = nullptr;
  /// Excluded locals (#pragma ckpt exclude / CKPT_EXCLUDE), moved into the
  /// record so the runtime can find them: alloca -> offset.
  MapVector<AllocaInst *, uint64_t> ExcludedAllocas;
  /// {offset, size} of the excluded locals in the record, increasing.
  SmallVector<std::pair<uint64_t, uint64_t>, 2> ExcludedRanges;
  uint64_t RecordSize = 0;
  Align RecordAlign;
  bool CallsReturnsTwice = false;

  bool checkSupported();
  void error(const Twine &Msg, const DebugLoc &Loc);
  void collectExcludedLocals();
  void insertPolls();
  void layoutRecord();
  Value *recordField(IRBuilder<> &B, uint64_t Offset);
  void buildRecord();
  void emitDescriptor();
  uint64_t headerOffset(unsigned Field) const {
    return DL.getStructLayout(frameHeaderType(C))->getElementOffset(Field);
  }
};

} // namespace

void FrameInstrumenter::error(const Twine &Msg, const DebugLoc &Loc) {
  C.diagnose(UnsupportedDiagnostic(
      F, "ckpt: " + describeLocation(F, Loc) + " " + Msg, Loc));
}

/// Constructs a restart cannot reproduce are compile errors, never a
/// silently wrong restart (docs/limitations.md).
bool FrameInstrumenter::checkSupported() {
  bool OK = true;
  bool HasRecord = !ExcludedAllocas.empty();
  for (BasicBlock &BB : F)
    for (Instruction &I : BB) {
      if (auto *AI = dyn_cast<AllocaInst>(&I)) {
        // Stacks are saved whole: variable-length arrays and alloca() come
        // back with them. Only an excluded one has no place in the record.
        if ((!AI->isStaticAlloca() || &BB != &F.getEntryBlock()) &&
            isExcludedAlloca(*AI)) {
          error("excludes a variable-length array or alloca() block from "
                "checkpoints; only fixed-size locals can be excluded",
                I.getDebugLoc());
          OK = false;
        }
        continue;
      }
      // The record of excluded locals is popped at returns: a frame left
      // any other way would leave it on the thread's chain.
      if (HasRecord &&
          (isa<InvokeInst>(I) || isa<CallBrInst>(I) || isa<LandingPadInst>(I))) {
        error("excludes locals from checkpoints and uses exceptions or asm "
              "goto, which ckpt does not support there",
              I.getDebugLoc());
        OK = false;
        continue;
      }
      auto *CB = dyn_cast<CallBase>(&I);
      if (!CB)
        continue;
      if (CB->hasFnAttr(Attribute::ReturnsTwice) && !isRuntimeSetjmp(*CB))
        CallsReturnsTwice = true;
      if (auto *CI = dyn_cast<CallInst>(CB);
          HasRecord && CI && CI->isMustTailCall()) {
        error("excludes locals from checkpoints and makes a musttail call, "
              "which cannot keep their frame record",
              I.getDebugLoc());
        OK = false;
      }
      if (auto *IA = dyn_cast<InlineAsm>(CB->getCalledOperand())) {
        if (asmMovesStackPointer(*IA)) {
          error("has inline assembly that changes the stack pointer",
                I.getDebugLoc());
          OK = false;
        }
      }
    }
  return OK;
}

void FrameInstrumenter::collectExcludedLocals() {
  for (Instruction &I : F.getEntryBlock())
    if (auto *AI = dyn_cast<AllocaInst>(&I);
        AI && AI->isStaticAlloca() && isExcludedAlloca(*AI))
      ExcludedAllocas[AI] = 0;
}

void FrameInstrumenter::insertPolls() {
  MDNode *Unlikely = MDBuilder(C).createBranchWeights(1, 1u << 20);
  auto PlacePoll = [&](Instruction *Before, DebugLoc Loc) {
    BasicBlock *BB = Before->getParent();
    BasicBlock *Cont = BB->splitBasicBlock(Before->getIterator(), "ckpt.cont");
    BasicBlock *Slow = BasicBlock::Create(C, "ckpt.poll", &F, Cont);
    BB->getTerminator()->eraseFromParent();
    IRBuilder<> B(BB);
    B.SetCurrentDebugLocation(Loc);
    // A relaxed atomic load: one plain mov, but never hoisted out of a loop.
    LoadInst *Flag = B.CreateAlignedLoad(B.getInt32Ty(), RT.Pending, Align(4),
                                         "ckpt.pending");
    Flag->setAtomic(AtomicOrdering::Monotonic);
    B.CreateCondBr(B.CreateICmpNE(Flag, B.getInt32(0)), Slow, Cont, Unlikely);
    IRBuilder<> SB(Slow);
    SB.SetCurrentDebugLocation(Loc);
    SB.CreateCall(RT.Poll, {});
    SB.CreateBr(Cont);
  };
  for (BasicBlock *Latch : Plan.PollLatches) {
    Instruction *Term = Latch->getTerminator();
    PlacePoll(Term, Term->getDebugLoc());
    ++NumLoopPolls;
  }
  for (CallInst *CI : Plan.CallbackReturnPolls) {
    PlacePoll(CI->getNextNode(), CI->getDebugLoc());
    ++NumCallbackReturnPolls;
  }
  if (Plan.EntryPoll) {
    BasicBlock &Entry = F.getEntryBlock();
    Instruction *First = &*Entry.getFirstNonPHIOrDbgOrAlloca();
    DebugLoc Loc = First->getDebugLoc();
    if (!Loc)
      if (DISubprogram *SP = F.getSubprogram())
        Loc = DILocation::get(C, SP->getLine(), 0, SP);
    PlacePoll(First, Loc);
    ++NumEntryPolls;
  }
}

void FrameInstrumenter::layoutRecord() {
  StructType *HeaderTy = frameHeaderType(C);
  uint64_t Offset = DL.getTypeAllocSize(HeaderTy);
  RecordAlign = DL.getABITypeAlign(HeaderTy);
  for (auto &[AI, At] : ExcludedAllocas) {
    uint64_t Size = AI->getAllocationSize(DL)->getFixedValue();
    Offset = alignTo(Offset, AI->getAlign());
    At = Offset;
    Offset += std::max<uint64_t>(Size, 1);
    RecordAlign = std::max(RecordAlign, AI->getAlign());
    if (Size)
      ExcludedRanges.push_back({At, Size});
  }
  RecordSize = alignTo(Offset, RecordAlign);
}

Value *FrameInstrumenter::recordField(IRBuilder<> &B, uint64_t Offset) {
  return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), RecordAI, Offset);
}

/// The record of a function with excluded locals: pushed on the thread's
/// chain at entry, popped at every return. The locals move into it.
void FrameInstrumenter::buildRecord() {
  RecordAI = new AllocaInst(ArrayType::get(Type::getInt8Ty(C), RecordSize),
                            DL.getAllocaAddrSpace(), nullptr, RecordAlign,
                            "ckpt.record",
                            F.getEntryBlock().getFirstInsertionPt());
  // The record is read by the runtime while a callee is stopped, and the
  // excluded locals are written there behind the program's back (zeros
  // after a restart): a call that may stop must not be taken for one that
  // cannot see them (`tail`, memory attributes inferred before the pass).
  for (BasicBlock &BB : F)
    for (Instruction &I : BB)
      if (auto *CB = dyn_cast<CallBase>(&I); CB && !callCannotStop(*CB)) {
        CB->removeFnAttrs(staleAttributes());
        if (auto *CI = dyn_cast<CallInst>(CB); CI && CI->isTailCall())
          CI->setTailCallKind(CallInst::TCK_None);
      }

  // Lifetime markers would let codegen overlap an excluded local with others
  // (the record keeps it at its own offset); its annotation has done its job.
  // Gone before the builder picks its insertion point, which may be one.
  for (auto &[AI, Off] : ExcludedAllocas)
    for (User *U : make_early_inc_range(AI->users()))
      if (auto *II = dyn_cast<IntrinsicInst>(U))
        if (II->isLifetimeStartOrEnd() ||
            II->getIntrinsicID() == Intrinsic::var_annotation)
          II->eraseFromParent();
  // After the entry block's allocas, so they stay static.
  IRBuilder<> B(&*F.getEntryBlock().getFirstNonPHIOrDbgOrAlloca());
  if (DISubprogram *SP = F.getSubprogram())
    B.SetCurrentDebugLocation(DILocation::get(C, SP->getLine(), 0, SP));

  DIBuilder DIB(M, /*AllowUnresolved=*/false);
  for (auto &[AI, Off] : ExcludedAllocas) {
    replaceDbgDeclare(AI, RecordAI, DIB, DIExpression::ApplyOffset, Off);
    Value *Field = recordField(B, Off);
    Field->takeName(AI);
    AI->replaceAllUsesWith(Field);
    AI->eraseFromParent();
  }
  Value *ChainAddr = B.CreateThreadLocalAddress(RT.Records);
  Value *Parent = B.CreateLoad(B.getPtrTy(), ChainAddr, "ckpt.parent");
  B.CreateStore(Parent,
                recordField(B, headerOffset(FrameHeaderField::parent)));
  B.CreateStore(Desc, recordField(B, headerOffset(FrameHeaderField::desc)));
  B.CreateStore(RecordAI, ChainAddr);

  for (BasicBlock &BB : F)
    if (auto *Ret = dyn_cast<ReturnInst>(BB.getTerminator())) {
      IRBuilder<> RB(Ret);
      RB.CreateStore(Parent, RB.CreateThreadLocalAddress(RT.Records));
    }
}

void FrameInstrumenter::emitDescriptor() {
  Type *I32 = Type::getInt32Ty(C), *I64 = Type::getInt64Ty(C);
  PointerType *Ptr = PointerType::getUnqual(C);
  auto String = [&](StringRef S, const Twine &Name) {
    Constant *Init = ConstantDataArray::getString(C, S);
    auto *GV = new GlobalVariable(M, Init->getType(), true,
                                  GlobalValue::PrivateLinkage, Init, Name);
    GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return GV;
  };
  SmallVector<Constant *, FuncDescField::Count> Fields(FuncDescField::Count);
  Fields[FuncDescField::abi_version] = ConstantInt::get(I32, CKPT_ABI_VERSION);
  Fields[FuncDescField::flags] =
      ConstantInt::get(I32, CallsReturnsTwice ? CKPT_FUNC_RETURNS_TWICE : 0);
  Fields[FuncDescField::fn] = descriptorAddress(F);
  // The name ckpt-inspect and the runtime's messages show: main for the
  // user's main, whether or not ckpt-main has renamed it yet.
  Fields[FuncDescField::name] = String(sourceName(F), "__ckpt_fname");
  Fields[FuncDescField::file] = String(sourceFile(F), "__ckpt_ffile");
  DISubprogram *SP = F.getSubprogram();
  Fields[FuncDescField::line] = ConstantInt::get(I32, SP ? SP->getLine() : 0);
  Fields[FuncDescField::num_excluded] =
      ConstantInt::get(I32, ExcludedRanges.size());
  Fields[FuncDescField::frame_size] = ConstantInt::get(I64, RecordSize);
  Constant *Excluded = ConstantPointerNull::get(Ptr);
  if (!ExcludedRanges.empty()) {
    StructType *ExTy = frameExcludeType(C);
    SmallVector<Constant *, 2> Inits;
    for (auto [Off, Size] : ExcludedRanges)
      Inits.push_back(ConstantStruct::get(
          ExTy, {ConstantInt::get(I64, Off), ConstantInt::get(I64, Size)}));
    ArrayType *ArrTy = ArrayType::get(ExTy, Inits.size());
    Excluded = new GlobalVariable(M, ArrTy, true, GlobalValue::PrivateLinkage,
                                  ConstantArray::get(ArrTy, Inits),
                                  "__ckpt_excluded." + F.getName());
    NumExcludedLocals += ExcludedRanges.size();
  }
  Fields[FuncDescField::excluded] = Excluded;
  Desc->setInitializer(ConstantStruct::get(funcDescType(C), Fields));
}

bool FrameInstrumenter::run() {
  collectExcludedLocals();
  if (!checkSupported())
    return false;
  // What the optimiser inferred about F before the pass (it reads no
  // memory, it returns, it does not synchronise) is false once F polls or
  // calls something that does: a later pass trusting it in a caller could
  // delete that caller's record stores or forward an excluded local across
  // the call.
  F.removeFnAttrs(staleAttributes());
  Desc = new GlobalVariable(M, funcDescType(C), true,
                            GlobalValue::PrivateLinkage, nullptr,
                            "__ckpt_desc." + F.getName());
  Desc->setSection(CKPT_SECTION_FUNCS);
  Desc->setAlignment(Align(8));
  // Nothing in the code refers to the descriptor (unless the function has a
  // record): the optimiser and the linker must keep it all the same.
  appendToUsed(M, {Desc});

  // Splitting the entry block at a poll would push static allocas that come
  // after it out of the entry block (making them dynamic): hoist them first.
  {
    BasicBlock &Entry = F.getEntryBlock();
    Instruction *InsertPt = &*Entry.getFirstNonPHIOrDbgOrAlloca();
    for (Instruction &I : make_early_inc_range(
             make_range(InsertPt->getIterator(), Entry.end())))
      if (auto *AI = dyn_cast<AllocaInst>(&I); AI && AI->isStaticAlloca())
        AI->moveBefore(InsertPt);
  }
  insertPolls();
  if (!ExcludedAllocas.empty()) {
    layoutRecord();
    buildRecord();
  }
  emitDescriptor();
  ++NumFunctionsInstrumented;
  return true;
}

/// Library functions that call the function pointers they are given from
/// their own (uninstrumented) frames: a thread can never stop inside those
/// callbacks.
static bool takesCallbackArgument(const Function &F) {
  static const char *const Names[] = {
      "qsort",  "qsort_r", "bsearch",  "lfind",   "lsearch",      "tsearch",
      "tfind",  "tdelete", "twalk",    "twalk_r", "atexit",       "on_exit",
      "at_quick_exit",     "scandir",  "scandir64", "ftw",        "nftw",
      "glob"};
  if (!F.isDeclaration())
    return false;
  for (const char *N : Names)
    if (F.getName() == N)
      return true;
  return false;
}

/// A static function used only as a callback argument of such library
/// functions (possibly through a select or phi choosing between callbacks),
/// or called only by such functions, runs only under them: no poll in it
/// could ever be a safe point, so it needs no instrumentation at all (qsort
/// comparators and their helpers).
static bool isCallbackOnly(const Function &F,
                           const SmallPtrSetImpl<const Function *> &Known) {
  if (!F.hasLocalLinkage() || F.use_empty())
    return false;
  SmallVector<const Value *, 8> Work{&F};
  SmallPtrSet<const Value *, 8> Seen;
  while (!Work.empty()) {
    const Value *V = Work.pop_back_val();
    if (!Seen.insert(V).second)
      continue;
    for (const Use &U : V->uses()) {
      const User *Usr = U.getUser();
      if (isa<SelectInst>(Usr) || isa<PHINode>(Usr)) {
        Work.push_back(Usr);
        continue;
      }
      auto *CB = dyn_cast<CallBase>(Usr);
      if (!CB)
        return false;
      if (CB->isCallee(&U)) {
        if (!Known.contains(CB->getFunction()))
          return false;
        continue;
      }
      Function *Callee = directCallee(*CB);
      if (!Callee || !takesCallbackArgument(*Callee))
        return false;
    }
  }
  return true;
}

/// A direct call of a function without a body here (a library's) with an
/// argument that is a function defined in this module: the library may run
/// it, as a callback, for as long as the call lasts.
static bool handsLibraryAFunction(const CallInst &CI) {
  Function *Callee = directCallee(CI);
  if (!Callee || !Callee->isDeclaration() || isRuntimeFunction(*Callee) ||
      Callee->isIntrinsic())
    return false;
  for (const Use &Arg : CI.args())
    if (auto *Fn = dyn_cast<Function>(Arg->stripPointerCasts());
        Fn && !Fn->isDeclaration())
      return true;
  return false;
}

/// Loops that get no poll: innermost, call-free, and either short or nested
/// in a loop that polls (DESIGN.md section 3). Their trip count bounds the
/// delay they add to a stop.
static bool isShortInnerLoop(Loop &L, ScalarEvolution &SE) {
  if (!L.isInnermost())
    return false;
  for (BasicBlock *BB : L.blocks())
    for (Instruction &I : *BB)
      if (auto *CB = dyn_cast<CallBase>(&I); CB && !callCannotStop(*CB))
        return false;
  unsigned MaxTrips = SE.getSmallConstantMaxTripCount(&L);
  if (MaxTrips != 0 && MaxTrips <= ClShortLoopTripCount)
    return true;
  return L.getParentLoop() &&
         !isa<SCEVCouldNotCompute>(SE.getBackedgeTakenCount(&L));
}

PreservedAnalyses ckpt::FramesPass::run(Module &M, ModuleAnalysisManager &MAM) {
  FunctionAnalysisManager &FAM =
      MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager();
  MapVector<Function *, FunctionPlan> Plans;

  // 1. Per function: loop polls and calls.
  SmallPtrSet<const Function *, 8> CallbackOnly;
  for (bool Grew = true; Grew;) {
    Grew = false;
    for (Function &F : M)
      if (isInstrumentable(F) && !CallbackOnly.contains(&F) &&
          isCallbackOnly(F, CallbackOnly)) {
        CallbackOnly.insert(&F);
        ++NumCallbackOnly;
        Grew = true;
      }
  }
  for (Function &F : M) {
    if (!isInstrumentable(F) || CallbackOnly.contains(&F))
      continue;
    FunctionPlan &P = Plans[&F];
    for (BasicBlock &BB : F)
      for (Instruction &I : BB)
        if (auto *CI = dyn_cast<CallInst>(&I);
            CI && handsLibraryAFunction(*CI) && !CI->isMustTailCall())
          P.CallbackReturnPolls.push_back(CI);
    // Without polls (the default) a running thread is stopped by signal
    // wherever it is in the program's code: no poll to plan, and every
    // function may be on a stopped stack (step 3 below).
    if (!ClPolls)
      continue;
    LoopInfo &LI = FAM.getResult<LoopAnalysis>(F);
    ScalarEvolution &SE = FAM.getResult<ScalarEvolutionAnalysis>(F);
    SmallPtrSet<BasicBlock *, 8> Seen;
    for (Loop *L : LI.getLoopsInPreorder()) {
      if (isShortInnerLoop(*L, SE)) {
        ++NumLoopsSkipped;
        continue;
      }
      SmallVector<BasicBlock *, 4> Latches;
      L->getLoopLatches(Latches);
      for (BasicBlock *Latch : Latches)
        if (Seen.insert(Latch).second)
          P.PollLatches.push_back(Latch);
    }
    // Cycles that are not natural loops (irreducible control flow: gotos
    // into a loop) are invisible to LoopInfo: poll at the source of every
    // retreating edge of a depth-first walk that is not a natural loop's
    // back-edge, so no cycle runs without a safe point.
    {
      SmallPtrSet<BasicBlock *, 32> Visited, OnStack;
      SmallVector<std::pair<BasicBlock *, succ_iterator>, 32> Stack;
      BasicBlock *Entry = &F.getEntryBlock();
      Visited.insert(Entry);
      OnStack.insert(Entry);
      Stack.push_back({Entry, succ_begin(Entry)});
      while (!Stack.empty()) {
        auto &[BB, It] = Stack.back();
        if (It == succ_end(BB)) {
          OnStack.erase(BB);
          Stack.pop_back();
          continue;
        }
        BasicBlock *Succ = *It++;
        if (OnStack.contains(Succ)) {
          Loop *L = LI.getLoopFor(Succ);
          bool NaturalBackEdge =
              L && L->getHeader() == Succ && L->contains(BB);
          if (!NaturalBackEdge && Seen.insert(BB).second) {
            P.PollLatches.push_back(BB);
            ++NumIrreduciblePolls;
          }
          continue;
        }
        if (Visited.insert(Succ).second) {
          OnStack.insert(Succ);
          Stack.push_back({Succ, succ_begin(Succ)});
        }
      }
    }
    for (BasicBlock &BB : F)
      for (Instruction &I : BB)
        if (auto *CB = dyn_cast<CallBase>(&I); CB && !callCannotStop(*CB)) {
          Function *Callee = directCallee(*CB);
          if (Callee && hasKnownBody(*Callee))
            P.Callees.push_back(Callee);
          else
            P.HasUnknownCall = true;
        }
  }

  // 2-3. Without polls every planned function can be on a stopped stack
  //      and gets its descriptor. With them: entry polls for recursion,
  //      then which functions can reach a safe point.
  DenseSet<Function *> MayReach;
  if (!ClPolls) {
    for (auto &[F, P] : Plans)
      MayReach.insert(F);
  } else {
    // 2. Recursion without a polled loop gets an entry poll, so a deep
    //    recursion can stop.
    CallGraph &CG = MAM.getResult<CallGraphAnalysis>(M);
    for (scc_iterator<CallGraph *> I = scc_begin(&CG); !I.isAtEnd(); ++I) {
      if (!I.hasCycle())
        continue;
      for (CallGraphNode *N : *I)
        if (Function *F = N->getFunction(); F && Plans.count(F)) {
          FunctionPlan &P = Plans[F];
          if (P.PollLatches.empty())
            P.EntryPoll = true;
        }
    }

    //    The call graph does not see recursion through function pointers: a
    //    function whose address is taken and that calls through a pointer
    //    may be part of such a cycle, so it gets an entry poll as well.
    for (auto &[F, P] : Plans) {
      if (!P.PollLatches.empty() || P.EntryPoll || !F->hasAddressTaken())
        continue;
      for (BasicBlock &BB : *F)
        for (Instruction &I : BB)
          if (auto *CB = dyn_cast<CallBase>(&I);
              CB && !directCallee(*CB) && !callCannotStop(*CB))
            P.EntryPoll = true;
    }

    // 3. Which functions can reach a safe point: a fixed point over the
    //    calls.
    for (auto &[F, P] : Plans)
      if (!P.PollLatches.empty() || P.EntryPoll || P.HasUnknownCall ||
          !P.CallbackReturnPolls.empty())
        MayReach.insert(F);
    bool Changed = true;
    while (Changed) {
      Changed = false;
      for (auto &[F, P] : Plans)
        if (!MayReach.contains(F))
          for (Function *Callee : P.Callees)
            if (MayReach.contains(Callee)) {
              MayReach.insert(F);
              Changed = true;
              break;
            }
    }
  }

  // 4. Instrument. The runtime's symbols are declared only if needed.
  std::optional<RuntimeSymbols> RT;
  bool Modified = false;

  // A longjmp leaves the frames it skips without popping their records: at
  // every setjmp (in any function) the record chain's head is remembered and
  // put back when setjmp returns, the second time after a longjmp. (The
  // head is a local of the setjmp caller's frame: a restart brings it back
  // with the stack.)
  for (Function &F : M) {
    if (!isInstrumentable(F))
      continue;
    for (BasicBlock &BB : F)
      for (Instruction &I : make_early_inc_range(BB)) {
        auto *CB = dyn_cast<CallBase>(&I);
        if (!CB || !CB->hasFnAttr(Attribute::ReturnsTwice) ||
            !isa<CallInst>(CB))
          continue;
        if (!RT)
          RT.emplace(M);
        IRBuilder<> B(CB);
        Value *ChainAddr = B.CreateThreadLocalAddress(RT->Records);
        Value *Top = B.CreateLoad(B.getPtrTy(), ChainAddr, "ckpt.setjmp.top");
        B.SetInsertPoint(CB->getNextNode());
        B.CreateStore(Top, B.CreateThreadLocalAddress(RT->Records));
        Modified = true;
      }
  }
  // An exception caught here may have unwound through frames with records
  // (in other functions, which cannot catch): the chain's head at entry is
  // put back at every landing pad. (A function with a record of its own
  // cannot have landing pads: checkSupported.)
  for (Function &F : M) {
    if (!isInstrumentable(F))
      continue;
    SmallVector<LandingPadInst *, 4> Pads;
    for (BasicBlock &BB : F)
      if (auto *LP = dyn_cast<LandingPadInst>(BB.getFirstNonPHI()))
        Pads.push_back(LP);
    if (Pads.empty())
      continue;
    if (!RT)
      RT.emplace(M);
    IRBuilder<> B(&*F.getEntryBlock().getFirstInsertionPt());
    Value *Head = B.CreateLoad(
        B.getPtrTy(), B.CreateThreadLocalAddress(RT->Records), "ckpt.eh.top");
    for (LandingPadInst *LP : Pads) {
      B.SetInsertPoint(LP->getNextNode());
      B.CreateStore(Head, B.CreateThreadLocalAddress(RT->Records));
    }
    Modified = true;
  }
  for (auto &[F, P] : Plans) {
    if (!MayReach.contains(F))
      continue;
    if (!RT)
      RT.emplace(M);
    FrameInstrumenter(*F, P, *RT).run();
    Modified = true;
  }
  return Modified ? PreservedAnalyses::none() : PreservedAnalyses::all();
}
