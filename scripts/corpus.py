#!/usr/bin/env python3
"""scripts/corpus.py - the real-program corpus: open-source C programs from
Debian source packages, built with their own build systems and
CC=ckpt-cc, run on a real job, SIGKILLed at random moments after a
checkpoint, restarted (a chain: the restarted run may be killed again), and
their output compared byte for byte with a plain clang-19 build's. A long
test, not part of CI (docs/real-programs.md).

  python3 scripts/corpus.py --build build
Options:
  --build DIR       ckpt build tree (default ./build): bin/ckpt-cc, bin/ckpt-run
  --work DIR        build and run directory (default /tmp/ckpt-corpus)
  --src DIR         Debian source cache (default WORK/src)
  --programs a,b    a subset, by name or Debian package (default: all)
  --trials N        kill/restart trials per program (default 3)
  --chain K         kills per trial, at most (default 2): a restarted run is
                    killed again after its own next checkpoint
  --seed S          random seed (default: from the clock; printed)
  --scale PCT       multiplies every workload's size (default 100)
  --reps N          timed runs of the whole job for the CPU ratio, plain and
                    ckpt interleaved, medians (default 3; 0: the first run)
  --reuse           keep binaries already built in WORK (same source, same build
                    commands: a tree without corpus.py's stamp is rebuilt)
  --build-timeout S per build (default 1800)
  --no-setup        do not touch apt (deb-src, build tools)

Per program: build plain (clang-19 -O2) and with ckpt-cc (-O2) through
bench/real.py's table and build function; run the job with the plain build
(the reference: stdout, the files it writes, exit status; stderr too where
it has no timings); run it once under `ckpt-run` with no checkpoint (a CPU
time for the overhead column, and its outputs must be the reference's);
then the trials. Each trial runs one step of the job (trials go round the
steps: a compressor's compression, then its decompression) under
`ckpt-run --dir D`, and for each link of the chain either asks for a
checkpoint at a random time (`ckpt-run --checkpoint PID`) or lets
`--interval I` take one, then SIGKILLs the program at a random moment after
the checkpoint is durable, and runs `ckpt-run --restart D`; the last run
finishes on its own. The outputs must equal the reference byte for byte and
the restarts' own stdout/stderr must be empty. A trial whose program ended
before its first checkpoint or kill is a miss and is tried again with
earlier times (5 misses in a row fail the program).

Prints a markdown table and ends with "N passed, N failed" (trials; a
program that does not build or whose reference run fails counts one
failure); exit status 1 on any failure. Failed trials keep their directory
(checkpoints included) under WORK/trials; passed ones lose their
checkpoint files.
"""
import argparse, json, math, os, random, re, shutil, signal, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import real      # noqa: E402  (bench/real.py: program table, sources, builds)
import benchlib  # noqa: E402

CKPT_SUFFIX = ".ckpt"
MAX_MISSES = 5
MIN_STEP = 1.0   # seconds (plain) for a step to be a trial's


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- programs

def gen_alignment(path, nseq, length, seed=11):
    """A deterministic DNA alignment: sequences copied from one another with
    point mutations (a random tree), FASTA."""
    if os.path.exists(path):
        return
    rng = random.Random(seed)
    seqs = [[rng.choice("ACGT") for _ in range(length)]]
    while len(seqs) < nseq:
        i = rng.randrange(len(seqs))
        child = list(seqs[i])
        for _ in range(max(1, length // 25)):
            child[rng.randrange(length)] = rng.choice("ACGT")
        for _ in range(length // 60):
            seqs[i][rng.randrange(length)] = rng.choice("ACGT")
        seqs.append(child)
    with open(path + ".tmp", "w") as f:
        for k, s in enumerate(seqs):
            f.write(f">s{k}\n{''.join(s)}\n")
    os.rename(path + ".tmp", path)


def wl_fasttree(wdir, scale):
    n = max(50, 500 * scale // 100)
    aln = os.path.join(wdir, f"aln-{n}x800.fa")
    gen_alignment(aln, n, 800)
    return ([dict(argv=["{bin}", "-nt", "-gtr", aln], stdin=None, out="tree", stderr=False)],
            f"{n} x 800 nt alignment: ML tree (-nt -gtr), 2 OpenMP threads")


def wl_glpsol(wdir, scale, src):
    model = os.path.join(wdir, "tiling.mod")
    if not os.path.exists(model):
        shutil.copy(os.path.join(src, "examples", "tiling.mod"), model)
    return ([dict(argv=["{bin}", "--math", model, "-o", "solution.txt", "-y", "display.txt"],
                  stdin=None, out="log", stdout=False, files=["solution.txt", "display.txt"])],
            "examples/tiling.mod: MIP (1348 binaries), solution (-o) and display (-y) files")


def wl_m4(wdir, scale):
    """real.py's recursive fib macro, larger: fib(17) runs 16 ms, each +1
    costs 1.6 times more; fib(29) at scale 100."""
    n = max(10, 29 + round(math.log(scale / 100) / math.log(1.618)))
    src = os.path.join(wdir, f"fib-{n}.m4")
    open(src, "w").write("define(`fib', `ifelse(eval($1 < 2), 1, $1, "
                         "`eval(fib(decr($1)) + fib(eval($1 - 2)))')')dnl\n"
                         f"fib({n})\n")
    return [(["{bin}"], src, "out")], f"recursive macro fib({n})"


# Workloads replacing real.py's for the corpus (real.py's are too short).
def wl_gawk_ext(wdir, scale):
    """awk word statistics calling the ordchr extension (ord, chr) for every
    field: gawk loads it with dlopen (-l), so a restart must open it again,
    at its address, and gawk's pointers into it stay valid."""
    steps, desc = real.wl_awk(wdir, scale)
    prog = ('{ for (i = 1; i <= NF; i++) { s += ord($i); if ($i ~ /^[a-z]+$/) c[$i]++ } '
            'n += NF } END { for (w in c) t += c[w] * length(w); '
            'print n, s, t, length(c), chr(65 + n % 26) }')
    argv, data, out = steps[0]
    return ([(["{bin}", "-l", "{bindir}/extension/.libs/ordchr", prog], data, out)],
            desc + ", with ord() of the ordchr extension (dlopen) on every field")


WORKLOADS = {"m4": wl_m4, "gawk": wl_gawk_ext}

# Programs that bench/real.py does not measure (their logs carry timings:
# stderr for fasttree, stdout for glpsol, so only their result files are
# compared), in real.py's format plus: env, and a workload that may take the
# source tree (wants_src).
EXTRA = [
    dict(name="fasttree", kind="OpenMP code (phylogenetic ML trees, 2 threads)", pkg="fasttree",
         binary="fasttreeMP", build=['make fasttreeMP CC="$CC" CFLAGS="$CFLAGS"'],
         how="make fasttreeMP (Debian's Makefile: -DOPENMP -fopenmp)",
         workload=wl_fasttree, env={"OMP_NUM_THREADS": "2"}),
    # configure's default: libtool builds src/.libs/libglpk.so (ckpt-cc -shared) and
    # examples/glpsol, its wrapper script, which runs examples/.libs/glpsol with
    # the library's directory in LD_LIBRARY_PATH; the trials run the wrapper (as
    # `make check` does), under ckpt-run and by the restart.
    dict(name="glpsol", kind="numerical solver (LP/MIP)", pkg="glpk", binary="examples/glpsol",
         build=["./configure >configure.log 2>&1", "make -j$JOBS"],
         how="configure; make (libglpk.so shared, built with ckpt-cc -shared; glpsol run "
             "through libtool's wrapper script)", workload=wl_glpsol, wants_src=True),
]

# Corpus-only changes to bench/real.py's entries (whose table the overhead
# benchmark shares): these programs are built with their build system's
# default, shared library, configuration, the library linked by ckpt-cc
# -shared in the ckpt build (docs/ckpt-cc.md, "Shared libraries").
SHARED_BUILDS = {
    # configure's default: extensions on. make -C extension builds
    # extension/.libs/*.so with libtool (ckpt-cc -shared in the ckpt build);
    # the job loads ordchr with -l, which gawk opens with dlopen.
    "gawk": dict(
        build=["./configure --disable-nls --without-readline --without-mpfr "
               ">configure.log 2>&1",
               "make -j$JOBS -C support", "make -j$JOBS gawk", "make -j$JOBS -C extension"],
        how="configure (extensions on); make -C support; make gawk; make -C extension "
            "(libtool: ordchr.so & co. built with ckpt-cc -shared, loaded by -l: dlopen)"),
    # Debian's way (debian/patches/makefile.diff, applied by apt-get source):
    # its Makefile's `bzip2` target links bzip2.o against libbz2.so, made with
    # `$CC -shared` from the -fPIC objects (*.sho). Debian's `make test` finds
    # the library with LD_LIBRARY_PATH=.; here the tree's absolute path is the
    # binary's run path, so it runs from the trial directories and restarts.
    "bzip2": dict(
        build=['make -j$JOBS CC="$CC" CFLAGS="$CFLAGS" CPPFLAGS="-D_FILE_OFFSET_BITS=64" '
               'LDFLAGS="-Wl,-rpath,$(pwd)" bzip2'],
        how="Debian's Makefile (debian/patches/makefile.diff): make bzip2, linked against "
            "libbz2.so (shared, built with ckpt-cc -shared from the -fPIC objects; run path: "
            "the build tree)"),
    # configure's default (shared and static liblzma); src/xz/xz is libtool's
    # wrapper script for src/xz/.libs/xz, which needs src/liblzma/.libs.
    "xz": dict(
        build=["./configure --disable-nls --disable-doc --disable-scripts "
               "--disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links "
               ">configure.log 2>&1", "make -j$JOBS"],
        how="configure; make (liblzma.so shared, built with ckpt-cc -shared; xz run through "
            "libtool's wrapper script)"),
    # CMake's default targets: json_reformat is linked against the shared
    # libyajl (b/yajl-2.1.0/lib/libyajl.so.2), found through CMake's build-tree
    # RPATH; the executable is b/reformatter/json_reformat (a POST_BUILD step
    # copies it to b/yajl-2.1.0/bin).
    "yajl json_reformat": dict(
        binary="b/reformatter/json_reformat",
        build=["mkdir -p b && cd b && cmake -DCMAKE_BUILD_TYPE=Release .. >cmake.log 2>&1 "
               "&& make -j$JOBS"],
        how="cmake; make (its default targets: json_reformat linked against libyajl.so, "
            "shared, built with ckpt-cc -shared)"),
}

# Workload sizes (percent of real.py's) so that a step runs a few seconds.
SCALE = {"sqlite3": 250, "bzip2": 300, "zstd": 100, "xz": 100, "gzip": 100,
         "yajl json_reformat": 400, "jq": 300, "cmark": 1000, "bc": 600, "gawk": 400,
         "mawk": 1600, "m4": 100}

# ckpt warnings a program's checkpoints and restarts rightly print
# (docs/limitations.md: pipes are "warned, left closed"), removed from its
# stderr and from ckpt-run --restart's own stream before they are compared,
# and counted in the table. xz keeps a self-pipe (file_io.c,
# user_abort_pipe, for its signal handlers) open: its first checkpoint warns
# once, in the program's stderr, that the pipe cannot be restored (a restart
# from that checkpoint writes over it, as stderr's saved offset is from
# before it; a restart from a later checkpoint of the same run keeps it),
# and every restart from a checkpoint that has the pipe warns that it was
# not restored.
EXPECTED_WARNINGS = {
    "xz": [r"^ckpt: warning: fd \d+ \(pipe:\[\d+\]\) was not restored: pipes, sockets "
           r"and similar cannot come back after a restart$",
           r"^ckpt: warning: fd \d+ \(pipe:\[\d+\]\) cannot be restored after a restart$"],
}

ALL = [dict(p, **SHARED_BUILDS.get(p["name"], {})) for p in real.PROGRAMS] + EXTRA


def with_binary(argv, binary):
    """A step's argv for one build: "{bin}" is its binary, "{bindir}" in an
    argument the binary's directory (gawk's extensions of the same build)."""
    return [binary if a == "{bin}" else a.replace("{bindir}", os.path.dirname(binary))
            for a in argv]


def job(prog, wdir, scale, src):
    """(steps, description). A step: argv ("{bin}" = the binary, "{bindir}"
    in an argument = its directory), stdin
    path or None, out (name of its stdout), stdout/stderr compared (default
    yes), files it writes in its working directory (compared)."""
    wl = WORKLOADS.get(prog["name"], prog["workload"])
    sc = max(1, SCALE.get(prog["name"], 100) * scale // 100)
    steps, desc = wl(wdir, sc, src) if prog.get("wants_src") else wl(wdir, sc)
    norm = []
    for s in steps:
        if isinstance(s, tuple):
            argv, stdin, out = s
            s = dict(argv=argv, stdin=stdin, out=out)
        norm.append(dict(dict(stdout=True, stderr=True, files=[]), **s))
    return norm, desc


# ---------------------------------------------------------------- running

def spawn(argv, cwd, stdin, out, err, env):
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    try:
        with open(out, "wb") as fo, open(err, "wb") as fe:
            return subprocess.Popen(argv, cwd=cwd, stdin=fin, stdout=fo, stderr=fe, env=env,
                                    start_new_session=True)
    finally:
        if stdin:
            fin.close()


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def wait_cpu(p, timeout):
    """Waits for p (killing its group after timeout); (exit status, CPU s
    of it and the children it waited for) or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            kill_group(p)
            p.wait()
            raise TimeoutError
        time.sleep(0.01)


def run_once(argv, cwd, step, env, timeout):
    """Runs one step to the end in cwd; (exit status, CPU s, wall s)."""
    os.makedirs(cwd, exist_ok=True)
    t = time.monotonic()
    p = spawn(argv, cwd, step["stdin"], os.path.join(cwd, "stdout"),
              os.path.join(cwd, "stderr"), env)
    rc, cpu = wait_cpu(p, timeout)
    return rc, cpu, time.monotonic() - t


def strip_warnings(data, patterns):
    """data without the lines matching one of patterns; (data, lines removed)."""
    if not patterns:
        return data, 0
    keep, n = [], 0
    for line in data.splitlines(keepends=True):
        text = line.decode(errors="replace").rstrip("\n")
        if any(re.search(pat, text) for pat in patterns):
            n += 1
        else:
            keep.append(line)
    return b"".join(keep), n


def compare(step, ref_dir, got_dir, warned=None):
    """None, or what differs between two runs' outputs. warned: a list to
    count the expected ckpt warnings removed from stderr in."""
    names = (["stdout"] if step["stdout"] else []) + (["stderr"] if step["stderr"] else []) + \
        list(step["files"])
    problems = []
    for n in names:
        a, b = os.path.join(ref_dir, n), os.path.join(got_dir, n)
        if not os.path.exists(b):
            problems.append(f"{n}: missing")
            continue
        da, db = open(a, "rb").read(), open(b, "rb").read()
        if n == "stderr":
            db, k = strip_warnings(db, step.get("warnings"))
            if warned is not None and k:
                warned.append(k)
        if da != db:
            i = next((k for k in range(min(len(da), len(db))) if da[k] != db[k]),
                     min(len(da), len(db)))
            problems.append(f"{n}: differs at byte {i} ({len(da)} bytes expected, {len(db)} got)")
    return "; ".join(problems) or None


def checkpoints(ckdir):
    found = {}
    try:
        for e in os.scandir(ckdir):
            if e.name.endswith(CKPT_SUFFIX) and not e.name.startswith("."):
                try:
                    st = e.stat()
                    found[e.name] = (st.st_mtime_ns, st.st_size)
                except FileNotFoundError:
                    pass
    except FileNotFoundError:
        pass
    return found


class Miss(Exception):
    pass


class Fail(Exception):
    pass


def control_socket_up(pid):
    """Whether the runtime of pid listens for checkpoint requests (its
    abstract socket @ckpt-ctl-PID, CKPT_CTL_PREFIX in include/ckpt/abi.h)."""
    name = f"@ckpt-ctl-{pid}"
    try:
        with open("/proc/net/unix") as f:
            return any(line.split()[-1:] == [name] for line in f)
    except OSError:
        return None


def request_checkpoint(ctx, p, start, env, hang):
    """`ckpt-run --checkpoint PID` until it succeeds; raises Miss if the
    program ended first, Fail if a request failed while it ran and
    listened."""
    for attempt in range(4):
        r = subprocess.run([ctx.ckpt_run, "--checkpoint", str(p.pid), "--timeout", "300"],
                           capture_output=True, text=True, env=env)
        if r.returncode == 0:
            return
        if p.poll() is not None or "is not running its main" in r.stderr or \
                "exited while the checkpoint" in r.stderr:
            raise Miss(f"ended during the checkpoint request at {time.monotonic() - start:.2f} s")
        if control_socket_up(p.pid) is False:
            # still starting or restoring: ask again once it listens
            while control_socket_up(p.pid) is False:
                if p.poll() is not None:
                    raise Miss("ended before it listened for checkpoint requests")
                if time.monotonic() > start + hang:
                    raise Fail(f"pid {p.pid} never listened for checkpoint requests")
                time.sleep(0.01)
            continue
        if time.monotonic() - start < 1.0:
            time.sleep(0.3)
            continue
        break
    raise Fail(f"ckpt-run --checkpoint {p.pid} failed (exit {r.returncode}) while the program "
               f"ran: {r.stderr.strip()[-400:]}")


def sleep_until(p, t):
    """Sleeps until monotonic t; False if p ended first."""
    while time.monotonic() < t:
        if p.poll() is not None:
            return False
        time.sleep(0.01)
    return p.poll() is None


def trial(ctx, prog, step, ref_dir, T, tdir, mode, rng, backoff):
    """One trial; returns a note, raises Miss or Fail."""
    shutil.rmtree(tdir, ignore_errors=True)
    os.makedirs(tdir)
    ckdir = os.path.join(tdir, "ckpt")
    argv = with_binary(step["argv"], ctx.bin_of[step["variant_bin"]])
    cmd = [ctx.ckpt_run, "--dir", ckdir]
    if mode == "interval":
        interval = rng.uniform(0.1, 0.25) * T * backoff
        cmd += ["--interval", "%.3f" % max(0.05, interval)]
    cmd += ["--"] + argv
    env = ctx.env(prog)
    hang = 30 * T + 120
    p = spawn(cmd, tdir, step["stdin"], os.path.join(tdir, "stdout"),
              os.path.join(tdir, "stderr"), env)
    start = time.monotonic()
    notes, sizes, restarts = [], [], []
    done = 0.0   # estimated fraction of the job done at the last checkpoint
    known = {}
    kills = 0
    try:
        for link in range(ctx.chain):
            links_left = ctx.chain - link
            remaining = max(0.05, 1.0 - done) * T
            if mode == "request":
                hi = max(0.02, 0.7 * remaining / links_left * backoff)
                at = rng.uniform(min(0.05 * remaining, 0.5 * hi), hi)
                if not sleep_until(p, start + at):
                    raise Miss(f"ended {time.monotonic() - start:.2f} s after start, "
                               f"before the checkpoint at {at:.2f} s")
                t_req = time.monotonic()
                request_checkpoint(ctx, p, start, env, hang)
                t_ck = time.monotonic()
                extra = rng.uniform(0, 0.3 * remaining * backoff) if rng.random() < 0.7 else 0
                note = f"ckpt@{t_req - start:.2f}s"
            else:
                deadline = start + hang
                while True:
                    now = checkpoints(ckdir)
                    if any(known.get(n) != v for n, v in now.items()):
                        break
                    if p.poll() is not None:
                        raise Miss("ended before a checkpoint file appeared")
                    if time.monotonic() > deadline:
                        raise Fail(f"no checkpoint file in {ckdir} within {hang:.0f} s")
                    time.sleep(0.01)
                t_ck = time.monotonic()
                extra = rng.uniform(0, 0.6 * remaining / links_left * backoff)
                note = f"file@{t_ck - start:.2f}s"
            alive = sleep_until(p, t_ck + extra)
            ck_done = min(0.98, done + (t_ck - start) / T)
            if alive:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
            kill_group(p)
            if p.returncode != -signal.SIGKILL:
                # ended on its own after the checkpoint, before the kill
                if kills == 0:
                    raise Miss(f"ended after the checkpoint, before the kill ({note})")
                notes.append(note + " (ended before the kill)")
                break
            kills += 1
            notes.append(f"{note}+{extra:.2f}s kill")
            known = checkpoints(ckdir)
            if not known:
                raise Fail(f"no checkpoint file in {ckdir} after a checkpoint")
            sizes.append(max(v[1] for v in known.values()))
            done = ck_done
            ri = len(restarts) + 1
            rout, rerr = os.path.join(tdir, f"restart{ri}.out"), os.path.join(tdir,
                                                                                f"restart{ri}.err")
            restarts.append((rout, rerr))
            p = spawn([ctx.ckpt_run, "--restart", ckdir], ctx.work, None, rout, rerr, env)
            start = time.monotonic()
    except Miss as m:
        if kills == 0:
            try:
                p.wait(timeout=hang)
            except subprocess.TimeoutExpired:
                kill_group(p)
                raise Fail(f"did not finish within {hang:.0f} s; kept {tdir}")
            problem = compare(step, ref_dir, tdir)
            if problem or p.returncode != step["ref_rc"]:
                raise Fail(f"ended before it was killed, and wrong: {problem} "
                           f"(exit {p.returncode}); kept {tdir}")
            raise
        # a restarted run ended before the next link's checkpoint: it is the last
        notes.append(f"restart {len(restarts)} {m}")
    try:
        rc = p.wait(timeout=hang)
    except subprocess.TimeoutExpired:
        kill_group(p)
        p.wait()
        raise Fail(f"the {'restarted ' if restarts else ''}program did not finish within "
                   f"{hang:.0f} s (hang?); kept {tdir}")
    problems, warned = [], []
    if rc != step["ref_rc"]:
        problems.append(f"exit status {rc}, expected {step['ref_rc']}")
    d = compare(step, ref_dir, tdir, warned)
    if d:
        problems.append(d)
    for path in [x for pair in restarts for x in pair]:
        data, k = strip_warnings(open(path, "rb").read(), step.get("warnings"))
        if k:
            warned.append(k)
        if data:
            problems.append(f"{os.path.basename(path)} (ckpt-run --restart's own stream) has "
                            f"{len(data)} bytes: {data[:300].decode(errors='replace').strip()}")
    if problems:
        raise Fail("; ".join(problems) + f"; kept {tdir}")
    note = f"{mode}: " + " -> ".join(notes)
    if warned:
        note += f" ({sum(warned)} expected warning line(s) removed)"
    return kills, sizes, bool(warned), note


class Ctx:
    def env(self, prog):
        return dict(os.environ, **prog.get("env", {}))


BUILD_STAMP = ".ckpt-corpus-build"


def build_recipe(prog):
    return json.dumps([prog["build"], prog.get("cflags", "")])


def build_program(prog, src, bdir, variant, cc, timeout, reuse):
    """real.build, whose --reuse only checks the source tree: a build is
    kept only if its tree's stamp says it was made with the same commands
    (the corpus overrides some of real.py's, SHARED_BUILDS: a tree built with
    real.py's is rebuilt, as is one built before the stamp existed)."""
    stamp = os.path.join(bdir, f"{prog['pkg']}-{variant}", BUILD_STAMP)
    same = os.path.exists(stamp) and open(stamp).read() == build_recipe(prog)
    binary, t, err = real.build(prog, src, bdir, variant, cc, "-O2", 1, timeout, reuse and same)
    if binary and t is not None:
        open(stamp, "w").write(build_recipe(prog))
    return binary, t, err


def run_program(ctx, prog, a):
    """Builds, references and trials for one program; a result dict."""
    r = dict(prog=prog, passed=0, failed=0, misses=0, kills=0, sizes=[], notes=[], errors=[],
             trial_steps=[], warned=0)
    try:
        src, version = real.fetch_source(prog["pkg"], a.src)
    except RuntimeError as e:
        r["errors"].append(str(e))
        r["failed"] += 1
        return r
    r["src"] = f"{prog['pkg']} {version}"
    bdir = os.path.join(ctx.work, "work")
    os.makedirs(bdir, exist_ok=True)
    log(f"{prog['name']}: building with ckpt-cc ...")
    inst, ti, err = build_program(prog, src, bdir, "ckpt", ctx.ckpt_cc,
                                  min(a.build_timeout, prog.get("timeout", a.build_timeout)),
                                  a.reuse)
    r["build_ckpt_s"] = ti
    if err:
        r["errors"].append("ckpt-cc build: " + err)
        r["build"] = "no"
        r["failed"] += 1
        log(f"{prog['name']}: {r['errors'][-1]}")
        return r
    log(f"{prog['name']}: building with clang-19 ...")
    plain, tp, err = build_program(prog, src, bdir, "plain", "clang-19", a.build_timeout,
                                   a.reuse)
    if err:
        r["errors"].append("clang-19 build: " + err)
        r["build"] = "yes (plain build failed)"
        r["failed"] += 1
        return r
    r["build"] = "yes"
    ctx.bin_of = {"plain": plain, "ckpt": inst}
    wdir = os.path.join(ctx.work, "data")
    os.makedirs(wdir, exist_ok=True)
    steps, r["workload"] = job(prog, wdir, a.scale, src)
    if getattr(prog["workload"], "check_back", False):
        real.prepare_compressed(prog, [(s["argv"], s["stdin"], s["out"]) for s in steps],
                                plain, wdir)
    env = ctx.env(prog)
    rdir = os.path.join(ctx.work, "ref", prog["pkg"])
    shutil.rmtree(rdir, ignore_errors=True)
    cpu_plain = cpu_ckpt = 0.0
    for i, s in enumerate(steps):
        s["variant_bin"] = "ckpt"
        s["warnings"] = EXPECTED_WARNINGS.get(prog["name"], [])
        s["ref_dir"] = os.path.join(rdir, f"step{i}")
        argv = with_binary(s["argv"], plain)
        try:
            rc, cpu, wall = run_once(argv, s["ref_dir"], s, env, 3600)
        except TimeoutError:
            r["errors"].append(f"step {i}: the plain run did not finish within 3600 s")
            r["failed"] += 1
            return r
        if rc != 0:
            r["errors"].append(f"step {i}: the plain run exited {rc}")
            r["failed"] += 1
            return r
        s["ref_rc"], s["plain_wall"] = rc, wall
        cpu_plain += cpu
        # the ckpt build under ckpt-run, no checkpoint: CPU time and outputs
        cdir = os.path.join(rdir, f"step{i}-ckpt")
        argv = [ctx.ckpt_run, "--dir", os.path.join(cdir, "ckpt"), "--"] + \
            with_binary(s["argv"], inst)
        try:
            rc, cpu, wall_c = run_once(argv, cdir, s, env, 30 * wall + 120)
        except TimeoutError:
            rc, cpu, wall_c = "timeout", 0, 0
        cpu_ckpt += cpu
        d = compare(s, s["ref_dir"], cdir) if rc == s["ref_rc"] else f"exit status {rc}"
        if d:
            r["errors"].append(f"step {i}: the ckpt build without checkpoints differs: {d}")
            r["failed"] += 1
            return r
        s["T"] = max(wall, wall_c)
        log(f"{prog['name']}: step {i}: plain {wall:.2f} s, under ckpt-run {wall_c:.2f} s")
    if getattr(prog["workload"], "check_back", False):
        data = open(steps[0]["stdin"], "rb").read()
        if open(os.path.join(steps[1]["ref_dir"], "stdout"), "rb").read() != data:
            r["errors"].append("decompressed output differs from the input")
            r["failed"] += 1
            return r
    if a.reps > 0:
        def job_cpu(binary, tag, under_ckpt_run):
            total = 0.0
            for i, s in enumerate(steps):
                argv = with_binary(s["argv"], binary)
                d = os.path.join(rdir, f"time-{tag}{i}")
                if under_ckpt_run:
                    argv = [ctx.ckpt_run, "--dir", os.path.join(d, "ckpt"), "--"] + argv
                total += run_once(argv, d, s, env, 30 * s["T"] + 120)[1]
            return total
        cpu_plain, cpu_ckpt, _, _ = benchlib.interleaved(
            lambda: job_cpu(plain, "plain", False), lambda: job_cpu(inst, "ckpt", True), a.reps)
    r["cpu_plain"], r["cpu_ckpt"] = cpu_plain, cpu_ckpt
    r["T"] = [s["plain_wall"] for s in steps]
    rng = random.Random(f"{a.seed}-{prog['name']}")
    # Trials go round the steps long enough to be killed mid-run (a
    # decompression of a few tenths of a second is not): those of at least
    # MIN_STEP s, else the longest.
    idx = [i for i, s in enumerate(steps) if s["plain_wall"] >= MIN_STEP] or \
        [max(range(len(steps)), key=lambda i: steps[i]["plain_wall"])]
    r["trial_steps"] = idx
    for t in range(a.trials):
        si = idx[t % len(idx)]
        s = steps[si]
        # each step in both modes, consecutive trials in different ones
        mode = ("request", "interval")[(t // len(idx) + t % len(idx)) % 2]
        tdir = os.path.join(ctx.work, "trials", prog["pkg"], f"trial{t}")
        backoff, misses = 1.0, 0
        while True:
            try:
                kills, sizes, warned, note = trial(ctx, prog, s, s["ref_dir"], s["T"], tdir,
                                                   mode, rng, backoff)
            except Miss as m:
                misses += 1
                r["misses"] += 1
                log(f"{prog['name']}: trial {t} (step {si}): miss: {m}")
                if misses >= MAX_MISSES:
                    r["failed"] += 1
                    r["errors"].append(f"trial {t}: {misses} misses in a row")
                    break
                backoff *= 0.5
                continue
            except Fail as f:
                r["failed"] += 1
                r["errors"].append(f"trial {t} (step {si}, {mode}): {f}")
                log(f"{prog['name']}: trial {t}: FAIL: {f}")
                break
            r["passed"] += 1
            r["kills"] += kills
            r["sizes"] += sizes
            r["warned"] += warned
            log(f"{prog['name']}: trial {t} (step {si}): pass, {kills} kill(s): "
                f"{note}")
            shutil.rmtree(os.path.join(tdir, "ckpt"), ignore_errors=True)
            break
    return r


def fmt_size(n):
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def report(results, a, elapsed):
    print(f"\n## Real-program corpus: kill/restart trials ({a.trials} per program, chains of "
          f"up to {a.chain} kills; seed {a.seed})\n")
    print("| program | Debian source | build system (CC=ckpt-cc) | job | step s (plain) | "
          "CPU ratio ckpt/plain | trials passed/run | kills | largest ckpt | notes |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        p = r["prog"]
        ratio = f"{r['cpu_ckpt'] / r['cpu_plain']:.2f}" if r.get("cpu_plain") else ""
        steps = " / ".join(f"{t:.1f}" if i in r["trial_steps"] else f"({t:.1f})"
                           for i, t in enumerate(r.get("T", [])))
        total = a.trials if r.get("T") else 0
        notes = [p["kind"]]
        if r.get("build", "no") != "yes":
            notes.append("**did not build**" if r.get("build", "no") == "no" else r["build"])
        if r["misses"]:
            notes.append(f"{r['misses']} miss(es), tried again")
        if r["warned"]:
            notes.append(f"{r['warned']} trial(s) with expected warnings removed")
        if r["errors"]:
            notes.append(f"**{len(r['errors'])} failure(s)**, below")
        print(f"| {p['name']} | {r.get('src', p['pkg'])} | {p['how']} | "
              f"{r.get('workload', '')} | {steps} | {ratio} | {r['passed']}/{total} | "
              f"{r['kills']} | {fmt_size(max(r['sizes'])) if r['sizes'] else ''} | "
              f"{'; '.join(notes)} |")
    print("\n(step s: wall seconds of each step of the job, plain build; in parentheses: "
          f"too short to be killed mid-run (< {MIN_STEP} s), not a trial's. CPU ratio: "
          f"CPU seconds of the whole job, ckpt build under ckpt-run without checkpoints "
          f"over the plain build, medians of {max(1, a.reps)} interleaved runs. kills: "
          f"SIGKILLs after a checkpoint, each followed by a restart. largest ckpt: the "
          f"largest checkpoint file a trial restarted from.)")
    for r in results:
        for pat in EXPECTED_WARNINGS.get(r["prog"]["name"], []) if r["warned"] else []:
            print(f"\nExpected warnings ({r['prog']['name']}): lines matching `{pat}` are "
                  "removed from stderr and ckpt-run --restart's stream before comparing.")
    bad = [r for r in results if r["errors"]]
    if bad:
        print("\nFailures:\n")
        for r in bad:
            for e in r["errors"]:
                print(f"- {r['prog']['name']}: {e}")
    npass = sum(r["passed"] for r in results)
    nfail = sum(r["failed"] for r in results)
    print(f"\n(corpus.py total {elapsed / 60:.1f} min)")
    print(f"{npass} passed, {nfail} failed")
    return nfail


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default="/tmp/ckpt-corpus")
    ap.add_argument("--src", default=None)
    ap.add_argument("--programs", default="")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--chain", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--build-timeout", type=int, default=1800)
    ap.add_argument("--no-setup", action="store_true")
    a = ap.parse_args(argv)
    if a.seed is None:
        a.seed = int(time.time()) % 100000
    ctx = Ctx()
    ctx.work = os.path.abspath(a.work)
    a.src = os.path.abspath(a.src or os.path.join(ctx.work, "src"))
    ctx.chain = max(1, a.chain)
    build = os.path.abspath(a.build)
    ctx.ckpt_cc = os.path.join(build, "bin", "ckpt-cc")
    ctx.ckpt_run = os.path.join(build, "bin", "ckpt-run")
    for t in (ctx.ckpt_cc, ctx.ckpt_run):
        if not os.path.exists(t):
            sys.exit(f"corpus.py: no {t}; build ckpt first (scripts/build.sh)")
    want = [x for x in a.programs.split(",") if x]
    progs = [p for p in ALL if not want or p["name"] in want or p["pkg"] in want]
    if want and len(progs) < len(want):
        known = ", ".join(p["name"] for p in ALL)
        sys.exit(f"corpus.py: unknown program in --programs (known: {known})")
    real.setup_apt(a.no_setup)
    os.makedirs(ctx.work, exist_ok=True)
    log(f"corpus.py: seed {a.seed}")
    t0 = time.time()
    results = [run_program(ctx, p, a) for p in progs]
    sys.exit(1 if report(results, a, time.time() - t0) else 0)


if __name__ == "__main__":
    main()
