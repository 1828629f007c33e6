"""restart_driver.py - drives ckpt-run through the restart error cases of
test/restart/*.test and prints one line per case for FileCheck:
    CASE <name> exit=<status> <first stderr line>
Usage: restart_driver.py SCENARIO WORKDIR CLANG_ARGS... (see the .test files)
"""
import os, shutil, signal, subprocess, sys, time

bindir = os.environ.get("CKPT_BIN") or os.path.dirname(shutil.which("ckpt-run"))
CKPT_RUN = os.path.join(bindir, "ckpt-run")
CKPT_CC = os.path.join(bindir, "ckpt-cc")
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "counter.c")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def report(name, proc):
    # Only ckpt's own lines: the program's stderr may be there too.
    lines = [l for l in proc.stderr.splitlines() if l.startswith("ckpt")]
    first = lines[0] if lines else "(no stderr)"
    print(f"CASE {name} exit={proc.returncode} lines={len(lines)} {first}", flush=True)


def build(work, name="counter", extra=()):
    exe = os.path.join(work, name)
    subprocess.run([CKPT_CC, "-O2", SRC, "-o", exe, *extra], check=True)
    return exe


def take_checkpoint(work, exe, steps="30", blob_mb="1", env=None):
    """Start exe under ckpt-run, checkpoint it once, kill it. Returns dir."""
    ckdir = os.path.join(work, "ck")
    out = open(os.path.join(work, "out.txt"), "w")
    p = subprocess.Popen([CKPT_RUN, "--dir", ckdir, "--", exe, steps, "no", blob_mb],
                         stdout=out, stderr=subprocess.DEVNULL, env=env)
    time.sleep(0.3)
    c = run([CKPT_RUN, "--checkpoint", str(p.pid)])
    if c.returncode != 0:
        sys.exit(f"checkpoint failed: {c.stderr}")
    p.kill()
    p.wait()
    return ckdir, c.stdout.strip()


def reference(work, steps="30"):
    ref = os.path.join(work, "ref")
    subprocess.run(["clang-19", "-O2", SRC, "-o", ref], check=True)
    return run([ref, steps, "no", "1"]).stdout


def bad_files(work):
    exe = build(work)
    ckdir, good = take_checkpoint(work, exe)
    data = open(good, "rb").read()
    cases = {
        "empty": b"",
        "truncated-header": data[:40],
        "truncated-middle": data[: len(data) // 2],
        "foreign": open("/bin/true", "rb").read(),
    }
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    cases["corrupted"] = bytes(flipped)
    header = bytearray(data)
    header[9] ^= 0x01  # inside the version field
    cases["bad-header"] = bytes(header)
    for name, content in cases.items():
        path = os.path.join(work, name + ".ckpt")
        open(path, "wb").write(content)
        report(name, run([CKPT_RUN, "--restart", path]))
    # A directory whose only checkpoint is damaged.
    bad_dir = os.path.join(work, "baddir")
    os.mkdir(bad_dir)
    shutil.copy(os.path.join(work, "corrupted.ckpt"), os.path.join(bad_dir, "ckpt-000001.ckpt"))
    report("dir-all-bad", run([CKPT_RUN, "--restart", bad_dir]))
    # A damaged newer checkpoint is skipped for the older good one.
    shutil.copy(os.path.join(work, "corrupted.ckpt"), os.path.join(ckdir, "ckpt-000009.ckpt"))
    out_path = os.path.join(work, "out.txt")
    p = run([CKPT_RUN, "--restart", ckdir])
    report("newer-damaged", p)
    print("OUTPUT", "same" if open(out_path).read() == reference(work) else "DIFFERENT")


def wrong_binary(work):
    exe = build(work)
    ckdir, good = take_checkpoint(work, exe)
    build(work, extra=["-DREBUILT=1", "-g"])  # same path, different build-id
    report("rebuilt", run([CKPT_RUN, "--restart", good]))
    os.unlink(exe)
    report("missing", run([CKPT_RUN, "--restart", good]))


def layout(work):
    exe = build(work)
    ckdir, good = take_checkpoint(work, exe)
    # Run the binary directly with address randomisation on: its shared
    # libraries, the vDSO and the main thread's glibc data land elsewhere,
    # and the pointers into them are changed to match (relocate.c).
    env = dict(os.environ, CKPT_RESTORE=good)
    report("randomized-libs", run([exe], env=env))
    out_path = os.path.join(work, "out.txt")
    print("OUTPUT", "same" if open(out_path).read() == reference(work) else "DIFFERENT")


def kill_during_write(work):
    # The write-delay hook exists only in the test build of the runtime.
    exe = build(work, extra=("--ckpt-test-hooks",))
    # The writer sleeps 1.5 s after each output buffer: the kill lands while
    # the second checkpoint is being written.
    env = dict(os.environ, CKPT_TEST_WRITE_DELAY_MS="1500")
    ckdir = os.path.join(work, "ck")
    out = open(os.path.join(work, "out.txt"), "w")
    p = subprocess.Popen([CKPT_RUN, "--dir", ckdir, "--", exe, "150", "no", "12"],
                         stdout=out, stderr=subprocess.DEVNULL, env=env,
                         start_new_session=True)
    time.sleep(0.3)
    first = run([CKPT_RUN, "--checkpoint", str(p.pid)])
    print("FIRST", first.returncode)
    second = subprocess.Popen([CKPT_RUN, "--checkpoint", str(p.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # the writer is sleeping between its buffers now
    tmp = [f for f in os.listdir(ckdir) if f.endswith(".tmp")]
    print("TMP-WHILE-WRITING", len(tmp))
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    second.wait(timeout=30)
    print("SECOND", "failed" if second.returncode != 0 else "ok")
    time.sleep(0.2)
    names = sorted(os.listdir(ckdir))
    print("FILES", " ".join(n for n in names if n.endswith(".ckpt")))
    r = run([CKPT_RUN, "--restart", ckdir])
    print("RESTART", r.returncode)
    ref = reference(work, "150")
    print("OUTPUT", "same" if open(os.path.join(work, "out.txt")).read() == ref else "DIFFERENT")
    print("TMP-AFTER", len([f for f in os.listdir(ckdir) if f.endswith(".tmp")]))


def exit_during_write(work):
    """The program exits while its checkpoint is being written: ckpt-run
    --checkpoint is told so (not hung up on), the program's exit status and
    output are its own, and no temporary file is left behind."""
    exe = build(work, extra=("--ckpt-test-hooks",))
    # Each output buffer of the writer is followed by a 3 s sleep; the
    # program ends about 0.3 s after the request.
    env = dict(os.environ, CKPT_TEST_WRITE_DELAY_MS="3000")
    ckdir = os.path.join(work, "ck")
    out = open(os.path.join(work, "out.txt"), "w")
    p = subprocess.Popen([CKPT_RUN, "--dir", ckdir, "--", exe, "20", "no", "1"],
                         stdout=out, stderr=subprocess.DEVNULL, env=env)
    while os.path.getsize(os.path.join(work, "out.txt")) < len("step 1"):
        time.sleep(0.01)
        if p.poll() is not None:
            sys.exit("the program ended before it printed its first step")
    # Steps take ~30 ms: the request comes in about step 10 of 20.
    time.sleep(0.3)
    c = run([CKPT_RUN, "--checkpoint", str(p.pid)])
    print("CKPT", c.returncode, c.stderr.strip())
    print("PROGRAM", p.wait())
    print("OUTPUT", "same" if open(os.path.join(work, "out.txt")).read() ==
          reference(work, "20") else "DIFFERENT")
    print("TMP-AFTER", len([f for f in os.listdir(ckdir) if f.endswith(".tmp")]))


def shared_output(work):
    """stdout and stderr to one file (> out 2>&1) and a log opened with
    O_APPEND: after a restart they still share one offset, and the file ends
    exactly as an uninterrupted run's."""
    exe = build(work)
    ref = os.path.join(work, "ref")
    subprocess.run(["clang-19", "-O2", SRC, "-o", ref], check=True)
    with open(os.path.join(work, "ref.txt"), "w") as f:
        subprocess.run([ref, "60"], stdout=f, stderr=subprocess.STDOUT)
    ckdir = os.path.join(work, "ck")
    out_path = os.path.join(work, "out.txt")
    for append in (False, True):
        shutil.rmtree(ckdir, ignore_errors=True)
        out = open(out_path, "a" if append else "w")
        if append:
            out.truncate(0)
        p = subprocess.Popen([CKPT_RUN, "--dir", ckdir, "--", exe, "60"],
                             stdout=out, stderr=subprocess.STDOUT)
        time.sleep(0.8)
        c = run([CKPT_RUN, "--checkpoint", str(p.pid)])
        time.sleep(0.3)
        p.kill()
        p.wait()
        r = run([CKPT_RUN, "--restart", ckdir])
        same = open(out_path).read() == open(os.path.join(work, "ref.txt")).read()
        print("MODE", "append" if append else "truncate", "CKPT", c.returncode,
              "RESTART", r.returncode, "OUTPUT", "same" if same else "DIFFERENT",
              flush=True)


def self_kill(work):
    """Programs that checkpoint themselves and die (Inputs/selfkill/*.c); the
    restart must finish with the output of a plain build. One line each."""
    src_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "selfkill")
    stdin_data = "".join(f"{i}\n" for i in range(1, 3001))
    for src in sorted(f for f in os.listdir(src_dir) if f.endswith(".c")):
        name = src[:-2]
        case = os.path.join(work, name)
        os.makedirs(case)
        path = os.path.join(src_dir, src)
        ref, exe = os.path.join(case, "ref"), os.path.join(case, "app")
        subprocess.run(["clang-19", "-O2", path, "-o", ref], check=True)
        subprocess.run([CKPT_CC, "-O2", path, "-o", exe], check=True)
        inp = os.path.join(case, "in.txt")
        open(inp, "w").write(stdin_data)
        def go(cmd, out_name):
            with open(inp) as i, open(os.path.join(case, out_name), "w") as o:
                return subprocess.run(cmd, stdin=i, stdout=o, stderr=subprocess.PIPE,
                                      text=True, cwd=case, timeout=120)
        r = go([ref], "ref.txt")
        shutil.rmtree(os.path.join(case, "d"), ignore_errors=True)
        first = go([CKPT_RUN, "--dir", "ck", "--", exe], "out.txt")
        shutil.rmtree(os.path.join(case, "d2"), ignore_errors=True)
        rs = subprocess.run([CKPT_RUN, "--restart", os.path.join(case, "ck")], cwd=case,
                            capture_output=True, text=True, timeout=120)
        same = open(os.path.join(case, "out.txt")).read() == open(os.path.join(case, "ref.txt")).read()
        errs = [l for l in (first.stderr + rs.stderr).splitlines() if l.startswith("ckpt")]
        print(f"CASE {name} first={first.returncode} restart={rs.returncode} "
              f"ref={r.returncode} OUTPUT {'same' if same else 'DIFFERENT'} "
              f"{errs[0] if errs else ''}".rstrip(), flush=True)


def build_and_chain(work, steps, ref_cmd, limit):
    """Runs the build steps, the plain reference ref_cmd, then ./app under
    ckpt-run and a chain of restarts while each dies of SIGKILL (every round
    of these programs takes a checkpoint and dies), at most `limit`.
    Returns (first run's status, restarts, last restart, out.txt, reference
    stdout)."""
    for cmd in steps:
        subprocess.run(cmd, check=True, cwd=work)
    ref = subprocess.run([ref_cmd], cwd=work, capture_output=True, text=True)
    with open(os.path.join(work, "out.txt"), "w") as o:
        first = subprocess.run([CKPT_RUN, "--dir", "ck", "--", "./app"], cwd=work, stdout=o)
    restarts = 0
    while restarts < limit:
        rs = subprocess.run([CKPT_RUN, "--restart", "ck"], cwd=work, capture_output=True,
                            text=True)
        restarts += 1
        if rs.returncode != -9:
            break
    return first, restarts, rs, open(os.path.join(work, "out.txt")).read(), ref.stdout


def multi_tu(work):
    """Two files compiled separately (-c) with different flags, then linked:
    the checkpoint is taken deep in a recursion in the other file."""
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "multi")
    steps = [
        [CKPT_CC, "-O2", "-c", os.path.join(d, "lib.c"), "-o", "lib.o", "-I", d],
        [CKPT_CC, "-O0", "-g", "-DSCALE=2", "-c", os.path.join(d, "main.c"), "-o", "main.o"],
        [CKPT_CC, "main.o", "lib.o", "-o", "app", "-lm"],
        ["clang-19", "-O1", "-DSCALE=2", os.path.join(d, "main.c"), os.path.join(d, "lib.c"),
         "-o", "ref"],
    ]
    first, restarts, rs, out, ref = build_and_chain(work, steps, "./ref", 20)
    same = out == ref
    print(f"MULTI first={first.returncode} restarts={restarts} last={rs.returncode} "
          f"OUTPUT {'same' if same else 'DIFFERENT'}", flush=True)


def shared_library(work):
    """A shared library built with ckpt-cc -shared -fPIC (compiled, then
    linked separately, as libtool does) and a program linked against it: a
    chain of restarts, each from a checkpoint taken under the library's frames
    (in the library, or in a program callback it called)."""
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "shlib")
    os.makedirs(os.path.join(work, "ref"))
    steps = [
        [CKPT_CC, "-O2", "-fPIC", "-c", os.path.join(d, "shape.c"), "-o", "shape.o"],
        [CKPT_CC, "-shared", "shape.o", "-o", "libshape.so"],
        [CKPT_CC, "-O1", os.path.join(d, "app.c"), "-L.", "-lshape", "-Wl,-rpath,$ORIGIN",
         "-o", "app"],
        ["clang-19", "-O2", "-fPIC", "-shared", os.path.join(d, "shape.c"), "-o",
         "ref/libshape.so"],
        ["clang-19", "-O1", os.path.join(d, "app.c"), "-Lref", "-lshape",
         "-Wl,-rpath,$ORIGIN", "-o", "ref/app"],
    ]
    first, restarts, rs, out, ref = build_and_chain(work, steps, "ref/app", 40)
    same = out == ref
    print(f"SHARED first={first.returncode} restarts={restarts} last={rs.returncode} "
          f"OUTPUT {'same' if same else 'DIFFERENT'}", flush=True)
    if not same or rs.returncode:
        print(rs.stderr, "--- expected\n" + ref + "--- got\n" + out, flush=True)


if __name__ == "__main__":
    scenario, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    globals()[scenario](work)
