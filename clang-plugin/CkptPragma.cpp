//===- CkptPragma.cpp - #pragma ckpt exclude for clang --------------------===//
//
// ckpt-clang.so, a clang frontend plugin (clang -fplugin=ckpt-clang.so; ckpt-cc
// passes it). It turns
//
//   #pragma ckpt exclude
//   static char cache[1 << 20];
//
// into exactly what CKPT_EXCLUDE (include/ckpt.h) writes by hand:
// __attribute__((annotate("ckpt.exclude"))) on the variable, so clang's
// CodeGen emits the llvm.global.annotations entries and llvm.var.annotation
// calls that the ckpt pass already reads. The pass never knows which of the
// two spellings was used. See docs/pragma.md.
//
// Two halves share one PragmaLog:
//  - CkptPragmaHandler runs while the preprocessor lexes: it checks the
//    pragma's words and records where the pragma is.
//  - ExcludeConsumer runs before CodeGen's consumer for every top-level
//    declaration group: it gives each recorded pragma to the first thing that
//    starts after it in the same scope (top level, block, struct body) and, if
//    that is a variable declaration, adds the annotation. It also warns about
//    exclusions the pass cannot honour, pragma or CKPT_EXCLUDE alike.
//
// The handler is installed by the AST action, not via PragmaHandlerRegistry:
// a registered handler is active under -E too and would swallow the pragma
// from the preprocessed output, so -save-temps (cc1 -E, then cc1 on the .i)
// would silently lose every exclusion. Under -E no AST action runs, and the
// pragma is printed like any unknown pragma.
//
//===----------------------------------------------------------------------===//
#include "ckpt/abi.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Stmt.h"
#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Lex/Pragma.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

using namespace clang;

namespace {

/// The warnings of the plugin. Custom diagnostics are always warnings here:
/// a misplaced pragma must never stop a build that compiles without ckpt.
struct CkptDiags {
  unsigned UnknownDirective, MissingDirective, ExtraTokens, NotFollowed,
      NoEffect, Duplicate;

  explicit CkptDiags(DiagnosticsEngine &D)
      : UnknownDirective(D.getCustomDiagID(
            DiagnosticsEngine::Warning,
            "unknown '#pragma ckpt' directive '%0'; expected 'exclude'")),
        MissingDirective(D.getCustomDiagID(
            DiagnosticsEngine::Warning,
            "missing directive after '#pragma ckpt'; expected 'exclude'")),
        ExtraTokens(D.getCustomDiagID(
            DiagnosticsEngine::Warning,
            "extra tokens after '#pragma ckpt exclude'; the pragma is "
            "ignored")),
        NotFollowed(D.getCustomDiagID(DiagnosticsEngine::Warning,
                                      "'#pragma ckpt exclude' is not followed "
                                      "by a variable declaration but by %0")),
        NoEffect(D.getCustomDiagID(DiagnosticsEngine::Warning,
                                   "%0 has no effect on %1: %2")),
        Duplicate(D.getCustomDiagID(
            DiagnosticsEngine::Warning,
            "duplicate '#pragma ckpt exclude': %0 is already excluded")) {}
};

/// One well-formed `#pragma ckpt exclude` not yet given to a declaration.
struct PendingPragma {
  /// Where warnings about this pragma point: the `ckpt` token.
  SourceLocation DiagLoc;
  /// Where the pragma is for matching: the `#` (or the `_Pragma`).
  SourceLocation Anchor;
};

/// Written by the pragma handler, read by the consumer. Shared ownership
/// because the preprocessor owns the handler and the compiler instance owns
/// the consumer, and they are destroyed in an order neither controls (or
/// leaked, under -disable-free).
struct PragmaLog {
  std::deque<PendingPragma> Pending; // in source order
};

/// Handles `#pragma ckpt ...`. Registered for the whole "ckpt" namespace, not
/// just "exclude", so a misspelt directive gets our warning instead of
/// clang's -Wunknown-pragmas one, which is off by default.
class CkptPragmaHandler : public PragmaHandler {
public:
  CkptPragmaHandler(std::shared_ptr<PragmaLog> Log, const CkptDiags &D)
      : PragmaHandler("ckpt"), Log(std::move(Log)), Diags(D) {}

  void HandlePragma(Preprocessor &PP, PragmaIntroducer Introducer,
                    Token &FirstToken) override {
    // Unexpanded: the directive word is a keyword of ours, not C, and a
    // macro named `exclude` must not change what the pragma says.
    Token Tok;
    PP.LexUnexpandedToken(Tok);
    if (Tok.is(tok::eod)) {
      PP.Diag(FirstToken.getLocation(), Diags.MissingDirective);
      return;
    }
    const IdentifierInfo *II = Tok.getIdentifierInfo();
    if (!II || II->getName() != "exclude") {
      PP.Diag(Tok.getLocation(), Diags.UnknownDirective) << PP.getSpelling(Tok);
      PP.DiscardUntilEndOfDirective();
      return;
    }
    PP.LexUnexpandedToken(Tok);
    if (Tok.isNot(tok::eod)) {
      // `#pragma ckpt exclude buf` reads as if it named `buf`; applying it to
      // whatever follows could exclude another variable, and an excluded
      // variable reads as zeros after a restart. Saving too much is safe.
      PP.Diag(Tok.getLocation(), Diags.ExtraTokens);
      PP.DiscardUntilEndOfDirective();
      return;
    }
    Log->Pending.push_back({FirstToken.getLocation(), Introducer.Loc});
  }

private:
  std::shared_ptr<PragmaLog> Log;
  CkptDiags Diags;
};

bool isExcludeAttr(const AnnotateAttr *A) {
  return A->getAnnotation() == CKPT_EXCLUDE_ANNOTATION;
}

bool isExcluded(const Decl *D) {
  for (const auto *A : D->specific_attrs<AnnotateAttr>())
    if (isExcludeAttr(A))
      return true;
  return false;
}

std::string quoted(const NamedDecl *ND) {
  return "'" + ND->getNameAsString() + "'";
}

/// "struct 'S'", "union 'U'", "unnamed struct".
std::string tagName(const TagDecl *TD) {
  std::string Kind = TD->getKindName().str();
  if (TD->getName().empty())
    return "unnamed " + Kind;
  return Kind + " " + quoted(TD);
}

/// What a declaration that is not a variable is, for "CKPT_EXCLUDE has no
/// effect on ...".
std::string describeNonVariable(const Decl *D) {
  if (const auto *FD = dyn_cast<FunctionDecl>(D))
    return "function " + quoted(FD);
  if (const auto *FD = dyn_cast<FieldDecl>(D))
    return "the field " + quoted(FD) + " of " + tagName(FD->getParent());
  if (const auto *TD = dyn_cast<TypedefNameDecl>(D))
    return "typedef " + quoted(TD);
  if (const auto *TD = dyn_cast<TagDecl>(D))
    return tagName(TD);
  if (const auto *ED = dyn_cast<EnumConstantDecl>(D))
    return "enumerator " + quoted(ED);
  if (const auto *ND = dyn_cast<NamedDecl>(D))
    return quoted(ND);
  return "a declaration that is not a variable";
}

/// What follows a misplaced pragma, for "... but by %0".
std::string describeFollower(const Decl *D) {
  if (const auto *FD = dyn_cast<FunctionDecl>(D))
    return std::string(FD->isThisDeclarationADefinition() ? "the definition"
                                                          : "a declaration") +
           " of function " + quoted(FD);
  if (const auto *TD = dyn_cast<TagDecl>(D))
    return std::string(TD->isThisDeclarationADefinition() ? "the definition"
                                                          : "a declaration") +
           " of " + tagName(TD);
  if (const auto *TD = dyn_cast<TypedefNameDecl>(D))
    return "the typedef " + quoted(TD);
  if (isa<FieldDecl>(D))
    return describeNonVariable(D);
  if (const auto *ED = dyn_cast<EnumConstantDecl>(D))
    return "the enumerator " + quoted(ED);
  if (isa<StaticAssertDecl>(D))
    return "a static assertion";
  return "a declaration that declares no variable";
}

/// Why the pass cannot honour an exclusion of VD, or "" if it can. The same
/// rules for the pragma and for CKPT_EXCLUDE written by hand.
StringRef cannotExclude(const VarDecl *VD, const ASTContext &Ctx) {
  // A restart gets arguments back by re-issuing the caller's call with its
  // saved operands. Clang annotates the parameter's stack copy, and leaving
  // that copy out would make the parameter read as zero after a restart.
  if (isa<ParmVarDecl>(VD))
    return "function parameters cannot be excluded";
  // The pass leaves __thread variables to the thread's state and has no
  // per-thread exclusion yet.
  if (VD->getTLSKind() != VarDecl::TLS_None)
    return "excluding thread-local variables is not supported yet";
  // `register` says the variable has no address; an exclusion is a range
  // of addresses in the frame record.
  if (VD->getStorageClass() == SC_Register)
    return "'register' variables cannot be excluded";
  // Read-only data is part of the binary, which a restart runs again.
  if (VD->hasGlobalStorage() &&
      Ctx.getBaseElementType(VD->getType()).isConstQualified())
    return "it is const, and constants are never saved";
  return "";
}

/// The declaration CodeGen emits for VD's variable in this file, if any:
/// the definition, or else the last tentative definition (`int x;`).
const VarDecl *emittedDefinition(const VarDecl *VD) {
  if (const VarDecl *Def = VD->getDefinition())
    return Def;
  for (const VarDecl *R = VD->getMostRecentDecl(); R; R = R->getPreviousDecl())
    if (R->isThisDeclarationADefinition() == VarDecl::TentativeDefinition)
      return R;
  return nullptr;
}

/// Matches pending pragmas to declarations and checks every exclusion.
class ExcludeConsumer : public ASTConsumer {
public:
  ExcludeConsumer(std::shared_ptr<PragmaLog> Log, const CkptDiags &D,
                  DiagnosticsEngine &DE)
      : Log(std::move(Log)), Diags(D), DE(DE) {}

  void Initialize(ASTContext &Context) override {
    Ctx = &Context;
    SM = &Context.getSourceManager();
  }

  // Called for each group before CodeGen's consumer sees it, so the
  // annotation is in place when CodeGen emits the variable (or, for locals
  // and static locals, the function).
  bool HandleTopLevelDecl(DeclGroupRef DG) override {
    SmallVector<Decl *, 4> Decls(DG.begin(), DG.end());
    resolvePragmasAt(Decls);
    for (Decl *D : Decls)
      checkWrittenIn(D);
    return true;
  }

  void HandleTranslationUnit(ASTContext &) override {
    for (const PendingPragma &P : Log->Pending)
      notFollowed(P, "the end of the file");
    Log->Pending.clear();
    // Deferred until now: a definition later in the file inherits the
    // annotation from an extern declaration, and then all is well.
    for (const ExternUse &U : Externs) {
      const VarDecl *Def = emittedDefinition(U.VD);
      if (Def && isExcluded(Def))
        continue;
      DE.Report(U.Loc, Diags.NoEffect)
          << U.What << quoted(U.VD)
          << "it is an extern declaration, not the definition; put it on the "
             "definition";
    }
  }

private:
  struct ExternUse {
    const VarDecl *VD;
    SourceLocation Loc;
    const char *What; // "'#pragma ckpt exclude'" or "CKPT_EXCLUDE"
  };

  static constexpr const char *PragmaName = "'#pragma ckpt exclude'";
  static constexpr const char *MacroName = "CKPT_EXCLUDE";

  // ---- Source order -----------------------------------------------------

  /// Whether A comes before B in the file. Compares where macros are
  /// expanded, so a declaration written by a macro is where the macro is
  /// used; inside one expansion (`_Pragma` in a macro), by macro position.
  bool isBefore(SourceLocation A, SourceLocation B) const {
    SourceLocation EA = SM->getExpansionLoc(A), EB = SM->getExpansionLoc(B);
    if (EA != EB)
      return SM->isBeforeInTranslationUnit(EA, EB);
    return A != B && A.isMacroID() && B.isMacroID() &&
           SM->isBeforeInTranslationUnit(A, B);
  }

  /// Whether the pragma at P lies inside R (and is not before its start).
  bool contains(SourceRange R, SourceLocation P) const {
    return R.isValid() && !isBefore(P, R.getBegin()) &&
           !isBefore(R.getEnd(), P);
  }

  /// Whether something starting at Begin follows the pragma at P.
  bool startsAtOrAfter(SourceLocation Begin, SourceLocation P) const {
    return Begin.isValid() && !isBefore(Begin, P);
  }

  // ---- Matching pragmas -------------------------------------------------

  /// Gives every pending pragma that lies before or inside this group to it.
  /// A pragma after the group waits for a later group (the parser may have
  /// lexed it while looking ahead).
  void resolvePragmasAt(ArrayRef<Decl *> Decls) {
    SourceLocation Begin, End;
    for (const Decl *D : Decls) {
      SourceRange R = D->getSourceRange();
      if (R.isInvalid())
        continue;
      if (Begin.isInvalid() || isBefore(R.getBegin(), Begin))
        Begin = R.getBegin();
      if (End.isInvalid() || isBefore(End, R.getEnd()))
        End = R.getEnd();
    }
    if (Begin.isInvalid())
      return; // implicit declarations have no place in the file
    while (!Log->Pending.empty()) {
      PendingPragma P = Log->Pending.front();
      if (isBefore(End, P.Anchor))
        break;
      Log->Pending.pop_front();
      if (startsAtOrAfter(Begin, P.Anchor))
        followedByTopLevel(P, Decls, Begin);
      else
        resolveInDecls(P, Decls);
    }
  }

  /// A pragma applies to a declaration in its own file only: one at the end
  /// of a header must not reach into the file that includes it.
  void followedByTopLevel(const PendingPragma &P, ArrayRef<Decl *> Decls,
                          SourceLocation Begin) {
    FileID PragmaFile = SM->getFileID(SM->getExpansionLoc(P.Anchor));
    FileID DeclFile = SM->getFileID(SM->getExpansionLoc(Begin));
    if (PragmaFile == DeclFile)
      return followedByDecls(P, Decls);
    // Either the declaration is in a header included after the pragma, or
    // the pragma's file ended first.
    for (FileID F = DeclFile; F.isValid();
         F = SM->getFileID(SM->getIncludeLoc(F)))
      if (F == PragmaFile)
        return notFollowed(P, "a declaration in another file (an #include)");
    notFollowed(P, "the end of the file");
  }

  /// The pragma comes right before this declaration (group): exclude its
  /// variables, `int a, b;` both; `struct S {...} s;` only s.
  void followedByDecls(const PendingPragma &P, ArrayRef<Decl *> Decls) {
    bool AnyVar = false;
    for (Decl *D : Decls)
      if (auto *VD = dyn_cast<VarDecl>(D)) {
        AnyVar = true;
        excludeFromPragma(P, VD);
      }
    if (!AnyVar && !Decls.empty())
      // `typedef struct {...} T;` is better named by its last part.
      notFollowed(P, describeFollower(Decls.back()));
  }

  /// The pragma is inside one of these declarations.
  void resolveInDecls(const PendingPragma &P, ArrayRef<Decl *> Decls) {
    const Decl *Outer = nullptr;
    for (Decl *D : Decls) {
      if (!contains(D->getSourceRange(), P.Anchor))
        continue;
      // `struct S { ... } s;`: both contain the pragma; the struct body is
      // the narrower scope.
      if (isa<FunctionDecl>(D) || isa<TagDecl>(D) ||
          (isa<VarDecl>(D) && cast<VarDecl>(D)->getInit() &&
           contains(cast<VarDecl>(D)->getInit()->getSourceRange(), P.Anchor)))
        return resolveInDecl(P, D);
      if (!Outer)
        Outer = D;
    }
    restOfDeclaration(P, Outer);
  }

  void restOfDeclaration(const PendingPragma &P, const Decl *D) {
    const auto *ND = dyn_cast_or_null<NamedDecl>(D);
    if (ND && !ND->getName().empty())
      notFollowed(P, "the rest of the declaration of " + quoted(ND));
    else
      notFollowed(P, "the rest of a declaration");
  }

  void resolveInDecl(const PendingPragma &P, Decl *D) {
    if (auto *FD = dyn_cast<FunctionDecl>(D)) {
      if (Stmt *Body = FD->getBody();
          Body && contains(Body->getSourceRange(), P.Anchor))
        return resolveInStmt(P, Body);
      // Between the parentheses: the parameter that follows.
      for (ParmVarDecl *PVD : FD->parameters())
        if (startsAtOrAfter(PVD->getBeginLoc(), P.Anchor))
          return excludeFromPragma(P, PVD);
      return restOfDeclaration(P, FD);
    }
    if (auto *TD = dyn_cast<TagDecl>(D)) {
      for (Decl *Member : TD->decls()) {
        if (Member->isImplicit())
          continue;
        if (isa<TagDecl>(Member) &&
            contains(Member->getSourceRange(), P.Anchor))
          return resolveInDecl(P, Member);
        if (startsAtOrAfter(Member->getBeginLoc(), P.Anchor))
          return notFollowed(P, describeFollower(Member));
      }
      return notFollowed(P, "the end of " + tagName(TD));
    }
    if (auto *VD = dyn_cast<VarDecl>(D))
      if (Expr *Init = VD->getInit();
          Init && contains(Init->getSourceRange(), P.Anchor))
        return resolveInStmt(P, Init);
    restOfDeclaration(P, D);
  }

  /// The pragma is inside S: find the first statement after it in the
  /// innermost statement (usually a block) that contains it.
  void resolveInStmt(const PendingPragma &P, Stmt *S) {
    if (auto *DS = dyn_cast<DeclStmt>(S)) {
      SmallVector<Decl *, 4> Decls(DS->decls());
      return resolveInDecls(P, Decls);
    }
    for (Stmt *Child : S->children()) {
      if (!Child || Child->getBeginLoc().isInvalid())
        continue;
      if (startsAtOrAfter(Child->getBeginLoc(), P.Anchor)) {
        if (auto *DS = dyn_cast<DeclStmt>(Child)) {
          SmallVector<Decl *, 4> Decls(DS->decls());
          return followedByDecls(P, Decls);
        }
        return notFollowed(P, isa<Expr>(S) ? "an expression" : "a statement");
      }
      if (contains(Child->getSourceRange(), P.Anchor))
        return resolveInStmt(P, Child);
    }
    notFollowed(P, isa<CompoundStmt>(S) ? "the end of the block"
                   : isa<Expr>(S)       ? "the rest of an expression"
                                        : "the rest of the statement");
  }

  // ---- Applying and checking exclusions ---------------------------------

  void excludeFromPragma(const PendingPragma &P, VarDecl *VD) {
    if (StringRef Why = cannotExclude(VD, *Ctx); !Why.empty()) {
      DE.Report(P.DiagLoc, Diags.NoEffect) << PragmaName << quoted(VD) << Why;
      return;
    }
    if (isExcluded(VD)) {
      DE.Report(P.DiagLoc, Diags.Duplicate) << quoted(VD);
      return;
    }
    // Implicit, so that checkWritten can tell it from CKPT_EXCLUDE; CodeGen
    // emits implicit and written annotations alike.
    VD->addAttr(AnnotateAttr::CreateImplicit(
        *Ctx, CKPT_EXCLUDE_ANNOTATION, nullptr, 0, SourceRange(P.DiagLoc)));
    if (VD->isThisDeclarationADefinition() == VarDecl::DeclarationOnly)
      Externs.push_back({VD, P.DiagLoc, PragmaName});
  }

  /// Checks D and every declaration inside it: parameters, locals, fields.
  /// A walk of our own rather than a RecursiveASTVisitor: C needs only these
  /// few cases, and RecursiveASTVisitor's C++ paths trip gcc's -Wnonnull.
  void checkWrittenIn(Decl *D) {
    checkWritten(D);
    if (auto *FD = dyn_cast<FunctionDecl>(D)) {
      for (ParmVarDecl *PVD : FD->parameters())
        checkWritten(PVD);
      if (Stmt *Body = FD->getBody())
        checkWrittenIn(Body);
    } else if (auto *VD = dyn_cast<VarDecl>(D)) {
      if (Expr *Init = VD->getInit())
        checkWrittenIn(Init); // a GNU statement expression may declare
    } else if (auto *DC = dyn_cast<DeclContext>(D)) {
      for (Decl *Member : DC->decls())
        checkWrittenIn(Member);
    }
  }

  void checkWrittenIn(Stmt *S) {
    if (auto *DS = dyn_cast<DeclStmt>(S)) {
      for (Decl *D : DS->decls())
        checkWrittenIn(D);
      return;
    }
    for (Stmt *Child : S->children())
      if (Child)
        checkWrittenIn(Child);
  }

  /// CKPT_EXCLUDE (or annotate("ckpt.exclude")) written by hand on D.
  void checkWritten(Decl *D) {
    const AnnotateAttr *Written = nullptr;
    for (const auto *A : D->specific_attrs<AnnotateAttr>())
      if (isExcludeAttr(A) && !A->isImplicit() && !A->isInherited())
        Written = A;
    // The walk reaches each declaration once; the set makes sure of it.
    if (!Written || !Checked.insert(D).second)
      return;
    // The macro's use, not its definition in ckpt.h.
    SourceLocation Loc = SM->getExpansionLoc(Written->getLocation());
    if (Loc.isInvalid())
      Loc = D->getLocation();
    auto *VD = dyn_cast<VarDecl>(D);
    if (!VD) {
      // On a function clang would even emit an annotation the pass ignores;
      // on a field, llvm.ptr.annotation calls at each access.
      DE.Report(Loc, Diags.NoEffect)
          << MacroName << describeNonVariable(D)
          << (isa<FieldDecl>(D) ? "only whole variables can be excluded"
                                : "only variables can be excluded");
      return;
    }
    if (StringRef Why = cannotExclude(VD, *Ctx); !Why.empty()) {
      DE.Report(Loc, Diags.NoEffect) << MacroName << quoted(VD) << Why;
      return;
    }
    if (VD->isThisDeclarationADefinition() == VarDecl::DeclarationOnly)
      Externs.push_back({VD, Loc, MacroName});
  }

  void notFollowed(const PendingPragma &P, const std::string &What) {
    DE.Report(P.DiagLoc, Diags.NotFollowed) << What;
  }

  std::shared_ptr<PragmaLog> Log;
  CkptDiags Diags;
  DiagnosticsEngine &DE;
  ASTContext *Ctx = nullptr;
  SourceManager *SM = nullptr;
  std::vector<ExternUse> Externs;
  llvm::SmallPtrSet<const Decl *, 8> Checked;
};

/// Installs the pragma handler and the consumer. AddBeforeMainAction: runs
/// with every AST-producing compile (-c, -S, -fsyntax-only) without
/// -add-plugin, and its consumer comes before CodeGen's.
class CkptPragmaAction : public PluginASTAction {
protected:
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 StringRef) override {
    // This action object is destroyed as soon as the consumer is made, so
    // the handler and the consumer own what they share.
    DiagnosticsEngine &DE = CI.getDiagnostics();
    CkptDiags Diags(DE);
    auto Log = std::make_shared<PragmaLog>();
    // The preprocessor exists but has not entered the main file yet; it
    // owns the handler from here on.
    CI.getPreprocessor().AddPragmaHandler(new CkptPragmaHandler(Log, Diags));
    return std::make_unique<ExcludeConsumer>(std::move(Log), Diags, DE);
  }

  bool ParseArgs(const CompilerInstance &CI,
                 const std::vector<std::string> &Args) override {
    if (Args.empty())
      return true;
    DiagnosticsEngine &DE = CI.getDiagnostics();
    DE.Report(DE.getCustomDiagID(DiagnosticsEngine::Error,
                                 "the ckpt-pragma plugin takes no arguments "
                                 "(got '%0')"))
        << Args.front();
    return false;
  }

  ActionType getActionType() override { return AddBeforeMainAction; }
};

} // namespace

static FrontendPluginRegistry::Add<CkptPragmaAction>
    X("ckpt-pragma", "#pragma ckpt exclude: annotate the next variable "
                     "with \"" CKPT_EXCLUDE_ANNOTATION "\"");
