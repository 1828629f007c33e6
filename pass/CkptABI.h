//===- CkptABI.h - LLVM types for the structures of include/ckpt/abi.h ----===//
//
// Expands the X-macro lists of ckpt/abi.h into LLVM types, so the pass and
// the runtime share one definition of every struct and symbol name.
//
//===----------------------------------------------------------------------===//
#ifndef CKPT_PASS_CKPTABI_H
#define CKPT_PASS_CKPTABI_H

#include "ckpt/abi.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

namespace ckpt {

inline llvm::Type *abiType_ptr(llvm::LLVMContext &C) {
  return llvm::PointerType::getUnqual(C);
}
inline llvm::Type *abiType_u32(llvm::LLVMContext &C) {
  return llvm::Type::getInt32Ty(C);
}
inline llvm::Type *abiType_u64(llvm::LLVMContext &C) {
  return llvm::Type::getInt64Ty(C);
}
inline llvm::Type *abiType_void(llvm::LLVMContext &C) {
  return llvm::Type::getVoidTy(C);
}

#define CKPT_LLVM_FIELD_TYPE(type, name) abiType_##type(C),
#define CKPT_LLVM_FIELD_INDEX(type, name) name,

/// Field indices, e.g. FrameHeaderField::site.
namespace FrameHeaderField {
enum : unsigned { CKPT_FRAME_HEADER_FIELDS(CKPT_LLVM_FIELD_INDEX) Count };
}
namespace FuncDescField {
enum : unsigned { CKPT_FUNC_DESC_FIELDS(CKPT_LLVM_FIELD_INDEX) Count };
}
namespace GlobalDescField {
enum : unsigned { CKPT_GLOBAL_DESC_FIELDS(CKPT_LLVM_FIELD_INDEX) Count };
}

inline llvm::StructType *frameHeaderType(llvm::LLVMContext &C) {
  return llvm::StructType::get(
      C, {CKPT_FRAME_HEADER_FIELDS(CKPT_LLVM_FIELD_TYPE)});
}
inline llvm::StructType *funcDescType(llvm::LLVMContext &C) {
  return llvm::StructType::get(C,
                               {CKPT_FUNC_DESC_FIELDS(CKPT_LLVM_FIELD_TYPE)});
}
inline llvm::StructType *frameExcludeType(llvm::LLVMContext &C) {
  return llvm::StructType::get(
      C, {CKPT_FRAME_EXCLUDE_FIELDS(CKPT_LLVM_FIELD_TYPE)});
}
inline llvm::StructType *globalDescType(llvm::LLVMContext &C) {
  return llvm::StructType::get(
      C, {CKPT_GLOBAL_DESC_FIELDS(CKPT_LLVM_FIELD_TYPE)});
}

#undef CKPT_LLVM_FIELD_TYPE
#undef CKPT_LLVM_FIELD_INDEX

/// The runtime's entry points and variables, declared in module M on demand.
struct RuntimeSymbols {
  llvm::FunctionCallee Poll;         // void __ckpt_poll(void)
  llvm::GlobalVariable *Pending;     // u32 __ckpt_pending
  llvm::GlobalVariable *Records;     // thread_local ptr __ckpt_records

  explicit RuntimeSymbols(llvm::Module &M) {
    llvm::LLVMContext &C = M.getContext();
#define CKPT_LLVM_PARAMS(...) {__VA_ARGS__}
#define ptr abiType_ptr(C)
#define u32 abiType_u32(C)
#define u64 abiType_u64(C)
#define CKPT_LLVM_DECLARE_FN(name, ret, params)                                \
  llvm::FunctionCallee F_##name = M.getOrInsertFunction(                       \
      CKPT_NAME_STR(name),                                                     \
      llvm::FunctionType::get(abiType_##ret(C),                                \
                              llvm::ArrayRef<llvm::Type *> CKPT_LLVM_PARAMS params, \
                              false));
    CKPT_RUNTIME_FUNCTIONS(CKPT_LLVM_DECLARE_FN)
#undef ptr
#undef u32
#undef u64
#undef CKPT_LLVM_DECLARE_FN
#undef CKPT_LLVM_PARAMS
    Poll = F_poll;
#define CKPT_LLVM_DECLARE_VAR(name, type, tls)                                 \
  llvm::GlobalVariable *V_##name = declareVariable(                            \
      M, CKPT_NAME_STR(name), abiType_##type(C), tls);
    CKPT_RUNTIME_VARIABLES(CKPT_LLVM_DECLARE_VAR)
#undef CKPT_LLVM_DECLARE_VAR
    Pending = V_pending;
    Records = V_records;
  }

private:
  static llvm::GlobalVariable *declareVariable(llvm::Module &M,
                                               llvm::StringRef Name,
                                               llvm::Type *Ty, bool TLS) {
    if (auto *GV = M.getNamedGlobal(Name))
      return GV;
    auto *GV = new llvm::GlobalVariable(
        M, Ty, false, llvm::GlobalValue::ExternalLinkage, nullptr, Name,
        nullptr,
        TLS ? llvm::GlobalValue::InitialExecTLSModel
            : llvm::GlobalValue::NotThreadLocal);
    return GV;
  }
};

} // namespace ckpt

#endif // CKPT_PASS_CKPTABI_H
