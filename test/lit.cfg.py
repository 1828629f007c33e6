# lit configuration for ckpt. Substitutions:
#   %opt-ckpt   opt with the ckpt pass plugin loaded
#   %clang      clang-19 (plain, for reference builds)
#   %ckpt-cc / %ckpt-run / %ckpt-inspect   the tools of this build
#   %e2e        the end-to-end driver (test/e2e/e2e.py)
#   %unitdir    directory of the sanitizer-built unit tests
#   %reader-fuzz  the checkpoint reader's libFuzzer target (feature
#               "reader-fuzz" when it was built: test/fuzz/CMakeLists.txt)
#   %fuzzdir    its build directory (the seed helper is there too)
import os
import lit.formats

config.name = "ckpt"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".ll", ".c", ".test"]
config.excludes = ["Inputs", "programs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ckpt_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.ckpt_bin_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ("CKPT_E2E_SEED", "CKPT_E2E_TRIALS", "HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

plugin = os.path.join(config.ckpt_lib_dir, "ckpt.so")
config.substitutions.append(("%opt-ckpt", "%s -load-pass-plugin=%s" % (os.path.join(config.llvm_tools_dir, "opt"), plugin)))
config.substitutions.append(("%ckpt-plugin", plugin))
# %ckpt-clang-plugin: the frontend plugin (#pragma ckpt exclude), for clang -fplugin=.
config.substitutions.append(("%ckpt-clang-plugin", os.path.join(config.ckpt_lib_dir, "ckpt-clang.so")))
config.substitutions.append(("%clang", config.clang))
config.substitutions.append(("%ckpt-cc", os.path.join(config.ckpt_bin_dir, "ckpt-cc")))
config.substitutions.append(("%ckpt-run", os.path.join(config.ckpt_bin_dir, "ckpt-run")))
config.substitutions.append(("%ckpt-inspect", os.path.join(config.ckpt_bin_dir, "ckpt-inspect")))
config.substitutions.append(("%e2e", "%s %s" % (config.python, os.path.join(config.ckpt_src_root, "test", "e2e", "e2e.py"))))
config.substitutions.append(("%unitdir", os.path.join(config.ckpt_obj_root, "test", "unit")))
config.substitutions.append(("%python", config.python))
if config.reader_fuzz:
    config.available_features.add("reader-fuzz")
config.substitutions.append(("%reader-fuzz", config.reader_fuzz or "false"))
config.substitutions.append(("%fuzzdir", os.path.join(config.ckpt_obj_root, "test", "fuzz")))
