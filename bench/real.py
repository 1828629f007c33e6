#!/usr/bin/env python3
"""bench/real.py - overhead of ckpt on real programs built from Debian source
packages with their own build systems. Not a test: it measures and prints
markdown tables; nothing passes or fails on speed.

For each program: `apt-get source` into a cache directory, two copies of the
tree built with CC=clang-19 and CC=<build>/bin/ckpt-cc (same CFLAGS), a real
workload run on both (outputs compared), CPU time medians of interleaved runs,
cachegrind instruction counts on a smaller workload, and machine-code size
(.text, and the largest per-function growth, functions matched by name).
A program that ckpt-cc cannot build is listed with the compiler's error.

  python3 bench/real.py --build /tmp/build-bench            (or: bench.py real ...)
Options:
  --build DIR       ckpt build tree (default ../build); its bin/ckpt-cc is used
  --src DIR         source cache (default $CKPT_BENCH_SRC or /tmp/ckpt-bench-src)
  --work DIR        build and run directory (default /tmp/ckpt-bench-real)
  --reps N          timed runs of each binary, interleaved (default 5)
  --opt FLAG        optimisation level for both builds (default -O2)
  --programs a,b    a subset (default: all; see PROGRAMS below)
  --cg-scale PCT    cachegrind workload, percent of the timed one (default 10;
                    0 = no cachegrind)
  --scale PCT       timed workload size (default 100)
  --reuse           keep binaries already built in --work (same source) instead
                    of rebuilding
  --build-timeout S per build (default 900; cmark's is cut at 300: one of its
                    files takes ckpt-cc more than 12 minutes, see
                    docs/bench-baseline.md)
  --no-setup        do not touch apt (sources, tools); fail if something is missing

Setup (as root): adds a deb-src entry to /etc/apt/sources.list.d/ if no
source is configured for deb-src, runs apt-get update when no Sources index
exists, installs missing build tools (dpkg-dev, autoconf, automake, libtool,
bison, flex, texinfo, autopoint, tcl, cmake, make, valgrind).
"""
import argparse, glob, json, os, random, re, shutil, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APT = "/etc/apt"
TOOLS = {  # command -> Debian package providing it
    "dpkg-source": "dpkg-dev", "autoreconf": "autoconf", "automake": "automake",
    "libtoolize": "libtool", "bison": "bison", "flex": "flex", "makeinfo": "texinfo",
    "autopoint": "autopoint", "tclsh": "tcl", "cmake": "cmake", "make": "make",
    "valgrind": "valgrind", "clang-19": "clang-19", "llvm-nm-19": "llvm-19",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- apt setup

def codename():
    try:
        for line in open("/etc/os-release"):
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"') or "bookworm"
    except OSError:
        pass
    return "bookworm"


def deb_src_configured():
    """True if some apt source has deb-src enabled (one-line .list format or
    deb822 .sources with "Types: ... deb-src")."""
    files = glob.glob(f"{APT}/sources.list") + glob.glob(f"{APT}/sources.list.d/*.list")
    for f in files:
        for line in open(f, errors="replace"):
            if line.strip().startswith("deb-src "):
                return True
    for f in glob.glob(f"{APT}/sources.list.d/*.sources"):
        for stanza in re.split(r"\n\s*\n", open(f, errors="replace").read()):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith((" ", "#")):
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
            if "deb-src" in fields.get("types", "").split() and \
                    fields.get("enabled", "yes").lower() != "no":
                return True
    return False


def write_deb_src(path, cn):
    with open(path, "w") as f:
        f.write(f"# added by ckpt bench/real.py: source packages for the benchmarks\n"
                f"Types: deb-src\nURIs: http://deb.debian.org/debian\n"
                f"Suites: {cn} {cn}-updates\nComponents: main\n"
                f"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                f"Types: deb-src\nURIs: http://deb.debian.org/debian-security\n"
                f"Suites: {cn}-security\nComponents: main\n"
                f"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")


def setup_apt(no_setup):
    root = os.geteuid() == 0
    updated = False
    if not deb_src_configured():
        if no_setup or not root:
            sys.exit("real.py: no deb-src entry in /etc/apt; run as root (or add one)")
        cn = codename()
        path = f"{APT}/sources.list.d/ckpt-bench-src.sources"
        log(f"adding {path} (deb-src for {cn})")
        write_deb_src(path, cn)
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        updated = True
    if not updated and not glob.glob("/var/lib/apt/lists/*_Sources*"):
        if no_setup or not root:
            sys.exit("real.py: no apt Sources index; run apt-get update as root")
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        updated = True
    missing = sorted({pkg for cmd, pkg in TOOLS.items() if not shutil.which(cmd)})
    if missing:
        if no_setup or not root:
            sys.exit("real.py: missing tools, install: apt-get install " + " ".join(missing))
        log("installing " + " ".join(missing))
        if not updated:
            subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing,
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def fetch_source(pkg, cache):
    """(unpacked source tree, version) of Debian source package pkg in cache
    (fetched once). The newest version in the apt index is tried first; if the mirror
    lacks it (a security update not mirrored, say), older ones."""
    os.makedirs(cache, exist_ok=True)
    marker = os.path.join(cache, f".{pkg}.dir")
    if os.path.exists(marker):
        d, v = (open(marker).read().split() + ["?"])[:2]
        if os.path.isdir(os.path.join(cache, d)):
            return os.path.join(cache, d), v
    out = subprocess.run(["apt-cache", "showsrc", pkg], capture_output=True, text=True).stdout
    versions = []
    for line in out.splitlines():
        if line.startswith("Version:"):
            v = line.split()[1]
            if v not in versions:
                versions.append(v)

    def newer(a, b):
        return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0
    import functools
    versions.sort(key=functools.cmp_to_key(lambda a, b: -1 if newer(a, b) else 1))
    errors = []
    for v in versions or [None]:
        spec = f"{pkg}={v}" if v else pkg
        r = subprocess.run(["apt-get", "source", spec], cwd=cache, capture_output=True,
                           text=True)
        m = re.search(r"extracting \S+ in (\S+)", r.stdout + r.stderr)
        if r.returncode == 0 and not m and v:
            # already unpacked (apt-get skips it): dpkg-source's default name
            upstream = v.split(":", 1)[-1].rsplit("-", 1)[0]
            d = f"{pkg}-{upstream}"
            if os.path.isdir(os.path.join(cache, d)):
                m = re.match(r"(.*)", d)
        if r.returncode == 0 and m:
            d = os.path.basename(m.group(1))
            open(marker, "w").write(f"{d} {v or '?'}\n")
            log(f"fetched {spec} -> {d}")
            return os.path.join(cache, d), v or "?"
        errors.append(f"{spec}: " + (r.stderr.strip().splitlines() or
                                     r.stdout.strip().splitlines() or ["?"])[-1])
    raise RuntimeError("apt-get source failed: " + "; ".join(errors))


# ---------------------------------------------------------------- workloads

WORDS = ("the of and to in is was for on that with as by at from his her an were are which "
         "this be or had it not but have all they one their has been its more other when "
         "than who new two some time first into only after year over then about would "
         "checkpoint restart thread frame pointer compress table index select insert value "
         "kernel buffer stream record section header binary runtime compiler").split()


def gen_corpus(path, mbytes):
    """Deterministic mixed data: text lines of Zipf-ish words and numbers,
    with some hex runs and some incompressible bytes (~6%)."""
    if os.path.exists(path) and os.path.getsize(path) >= mbytes * 1e6 * 0.99:
        return
    rng = random.Random(20251204)
    weights = [1.0 / (i + 1) for i in range(len(WORDS))]
    target = int(mbytes * 1e6)
    with open(path + ".tmp", "wb") as f:
        size = 0
        while size < target:
            words = rng.choices(WORDS, weights, k=4000)
            lines = []
            for i in range(0, len(words), 12):
                lines.append(" ".join(words[i:i + 12]) + f" {rng.randrange(100000)}"
                             f" {rng.random():.5f}\n")
            chunk = "".join(lines).encode()
            if rng.random() < 0.3:
                chunk += rng.randbytes(1500)
            if rng.random() < 0.2:
                chunk += rng.randbytes(400).hex().encode() + b"\n"
            f.write(chunk)
            size += len(chunk)
    os.rename(path + ".tmp", path)


def gen_json(path, mbytes):
    if os.path.exists(path) and os.path.getsize(path) >= mbytes * 1e6 * 0.99:
        return
    rng = random.Random(7)
    target = int(mbytes * 1e6)
    with open(path + ".tmp", "w") as f:
        f.write("[\n")
        size, i = 0, 0
        while size < target:
            obj = {"id": i, "name": " ".join(rng.choices(WORDS, k=3)),
                   "score": round(rng.random() * 1000, 3), "active": rng.random() < 0.5,
                   "tags": rng.choices(WORDS, k=rng.randrange(5)),
                   "pos": {"x": rng.randrange(-10000, 10000), "y": rng.randrange(10000),
                           "z": None if rng.random() < 0.1 else rng.random()},
                   "hist": [rng.randrange(1000) for _ in range(rng.randrange(8))]}
            s = ("," if i else "") + json.dumps(obj) + "\n"
            f.write(s)
            size += len(s)
            i += 1
        f.write("]\n")
    os.rename(path + ".tmp", path)


def sqlite_sql(rows):
    return f"""CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < {rows})
INSERT INTO t SELECT i, (i*7919) % 100003, printf('name-%06d-%s', (i*31) % 50000, hex(i % 251)),
  (i % 1000) / 7.0 FROM s;
CREATE INDEX t_a ON t(a);
CREATE INDEX t_b ON t(b);
SELECT count(*), sum(a), max(b) FROM t;
SELECT a % 100 AS g, count(*), avg(c), min(b) FROM t GROUP BY g ORDER BY g LIMIT 5;
SELECT count(*) FROM t WHERE a BETWEEN 1000 AND 60000;
SELECT sum(t1.c) FROM t AS t1 JOIN t AS t2 ON t1.a = t2.id WHERE t2.c > 50;
SELECT b, count(*) FROM t GROUP BY b ORDER BY count(*) DESC, b LIMIT 3;
SELECT count(*) FROM t WHERE b LIKE '%-3%' AND a > 500;
UPDATE t SET c = c * 2 WHERE id % 3 = 0;
DELETE FROM t WHERE a % 10 = 0;
SELECT count(*), total(c) FROM t;
SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY b DESC, id LIMIT 10);
"""


BC_SCRIPT = """define f(n) { if (n < 2) return (n); return (f(n - 1) + f(n - 2)); }
define p(n) { auto i, j, c; c = 0
  for (i = 2; i <= n; i++) s[i] = 1
  for (i = 2; i * i <= n; i++) if (s[i]) for (j = i * i; j <= n; j += i) s[j] = 0
  for (i = 2; i <= n; i++) c += s[i]
  return (c) }
for (r = 0; r < %d; r++) {
  x = x + f(16); y = y + p(6000)
  scale = 300; z = 4 * a(1) + e(1) + sqrt(2 + r); scale = 0
}
x; y; z
"""


def wl_sqlite(wdir, scale):
    sql = os.path.join(wdir, f"sqlite-{scale}.sql")
    open(sql, "w").write(sqlite_sql(max(1000, 200000 * scale // 100)))
    return [(["{bin}", ":memory:"], sql, "out")], f"{200000 * scale // 100} rows in :memory:"


def compressor(args_c, args_d, mb, ext):
    def wl(wdir, scale):
        kb = max(100, int(mb * 1000) * scale // 100)
        data = os.path.join(wdir, f"corpus-{kb}KB")
        gen_corpus(data, kb / 1000)
        comp = os.path.join(wdir, f"corpus-{kb}KB.{ext}")  # made by prepare_compressed
        return ([(["{bin}"] + args_c, data, "out"), (["{bin}"] + args_d, comp, "back")],
                f"{kb / 1000:g} MB mixed text/binary: {' '.join(args_c)} then {' '.join(args_d)}")
    wl.check_back = True   # step 2 decompresses what the plain build compressed
    return wl


def wl_json(wdir, scale):
    size = max(1, 40 * scale // 100)
    data = os.path.join(wdir, f"data-{size}MB.json")
    gen_json(data, size)
    return ([(["{bin}"], data, "out"), (["{bin}", "-m"], data, "out2")],
            f"{size} MB JSON: beautify, then minify (-m)")


def wl_bc(wdir, scale):
    reps = max(1, 30 * scale // 100)   # the same mix at every size
    script = os.path.join(wdir, f"bench-{scale}.bc")
    open(script, "w").write(BC_SCRIPT % reps)
    return ([(["{bin}", "-lq"], script, "out")],
            f"{reps} x (recursive fib(16), sieve to 6000, pi/e/sqrt to 300 digits)")


def wl_awk(wdir, scale):
    size = max(1, 8 * scale // 100)
    data = os.path.join(wdir, f"corpus-{size}MB")
    gen_corpus(data, size)
    prog = ('{ for (i = 1; i <= NF; i++) if ($i ~ /^[a-z]+$/) c[$i]++; n += NF } '
            'END { for (w in c) s += c[w] * length(w); print n, s, length(c) }')
    return [(["{bin}", prog], data, "out")], f"{size} MB text: word counts"


def wl_jq(wdir, scale):
    size = max(1, 20 * scale // 100)
    data = os.path.join(wdir, f"data-{size}MB.json")
    gen_json(data, size)
    return ([(["{bin}", "-c", "[.[] | select(.score > 500) | {id, n: (.tags | length)}] | length"],
              data, "out")], f"{size} MB JSON: a select/map filter")


def wl_m4(wdir, scale):
    n = 17 if scale >= 100 else 12
    src = os.path.join(wdir, f"bench-{scale}.m4")
    open(src, "w").write("define(`fib', `ifelse(eval($1 < 2), 1, $1, "
                         "`eval(fib(decr($1)) + fib(eval($1 - 2)))')')dnl\n"
                         f"fib({n})\n")
    return [(["{bin}"], src, "out")], f"recursive macro fib({n})"


def wl_cmark(wdir, scale):
    size = max(1, 8 * scale // 100)
    data = os.path.join(wdir, f"doc-{size}MB.md")
    if not os.path.exists(data):
        rng = random.Random(3)
        with open(data, "w") as f:
            n = 0
            while n < size * 1e6:
                s = (f"## Section {n}\n\n" + " ".join(rng.choices(WORDS, k=60)) +
                     " *emph* **strong** `code` [link](http://x/y)\n\n- item one\n- item two\n\n")
                f.write(s)
                n += len(s)
    return [(["{bin}"], data, "out")], f"{size} MB Markdown to HTML"


# Each program: Debian source package, how it is built (shell commands run
# in a copy of the tree with CC and CFLAGS set), the binary, the workload.
PROGRAMS = [
    dict(name="sqlite3", kind="database engine", pkg="sqlite3", binary="sqlite3",
         build=["./configure --disable-shared --disable-tcl --disable-readline "
                "--disable-editline >configure.log 2>&1",
                "make -j$JOBS sqlite3"],
         how="configure --disable-shared; make sqlite3 (the shell, amalgamation)",
         workload=wl_sqlite),
    dict(name="bzip2", kind="compressor", pkg="bzip2", binary="bzip2",
         build=['make -j$JOBS CC="$CC" CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64" libbz2.a bzip2.o',
                '$CC $CFLAGS -o bzip2 bzip2.o libbz2.a'],
         how="its Makefile's libbz2.a and bzip2.o, linked statically as upstream's "
             "`bzip2` target does (scripts/corpus.py builds Debian's shared libbz2.so)",
         workload=compressor(["-9", "-c"], ["-dc"], 16, "bz2")),
    dict(name="zstd", kind="compressor (2 threads)", pkg="libzstd", binary="programs/zstd",
         build=['make -j$JOBS -C programs zstd CC="$CC" CFLAGS="$CFLAGS" HAVE_ZLIB=0 '
                'HAVE_LZMA=0 HAVE_LZ4=0'],
         how="make -C programs zstd (zlib/lzma/lz4 formats off)",
         workload=compressor(["-12", "-T2", "-c"], ["-dc"], 24, "zst")),
    dict(name="xz", kind="compressor (2 threads)", pkg="xz-utils", binary="src/xz/xz",
         build=["./configure --disable-shared --disable-nls --disable-doc --disable-scripts "
                "--disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links "
                ">configure.log 2>&1", "make -j$JOBS"],
         how="configure --disable-shared; make",
         workload=compressor(["-6", "-T2", "-c"], ["-dc"], 3, "xz")),
    dict(name="gzip", kind="compressor", pkg="gzip", binary="gzip",
         build=["./configure --disable-nls >configure.log 2>&1", "make -j$JOBS"],
         how="configure; make", workload=compressor(["-9", "-c"], ["-dc"], 24, "gz")),
    dict(name="yajl json_reformat", kind="JSON processor", pkg="yajl",
         binary="b/json_reformat",
         build=["mkdir -p b && cd b && cmake -DCMAKE_BUILD_TYPE=Release .. >cmake.log 2>&1 "
                "&& make -j$JOBS yajl_s",
                "cd b && $CC $CFLAGS -DNDEBUG -std=c99 -Iyajl-2.1.0/include "
                "../reformatter/json_reformat.c yajl-2.1.0/lib/libyajl_s.a -lm -o json_reformat"],
         how="cmake; make yajl_s (static library); json_reformat.c compiled and linked "
             "to it by hand (scripts/corpus.py builds the default, shared libyajl)",
         workload=wl_json),
    dict(name="jq", kind="JSON processor", pkg="jq", binary="jq",
         build=["autoreconf -fi >autoreconf.log 2>&1",
                "./configure --disable-shared --without-oniguruma --disable-docs "
                "--disable-maintainer-mode >configure.log 2>&1",
                "make -j$JOBS src/builtin.inc jq"],
         how="autoreconf -fi; configure --disable-shared --without-oniguruma; make jq",
         workload=wl_jq),
    dict(name="cmark", kind="text (Markdown) processor", pkg="cmark", binary="b/src/cmark",
         build=["mkdir -p b && cd b && cmake -DCMAKE_BUILD_TYPE=Release "
                '-DCMAKE_C_FLAGS_RELEASE="$CFLAGS" -DCMARK_SHARED=OFF -DCMARK_TESTS=OFF .. '
                ">cmake.log 2>&1 && make -j$JOBS cmark_exe"],
         how="cmake -DCMARK_SHARED=OFF; make cmark_exe", workload=wl_cmark,
         timeout=300),  # ckpt-cc on src/utf8.c ran > 12 min (clang at 6 GB) when tried
    dict(name="bc", kind="interpreter (bc language)", pkg="bc", binary="bc/bc",
         build=["autoreconf -fi >autoreconf.log 2>&1",
                "./configure >configure.log 2>&1", "make -j$JOBS"],
         cflags="-Wno-error=implicit-function-declaration",
         how="autoreconf -fi (as Debian's dh_autoreconf); configure; make "
             "(+ -Wno-error=implicit-function-declaration in both builds: clang-19 "
             "rejects bc's undeclared calls)",
         workload=wl_bc),
    dict(name="gawk", kind="interpreter (awk)", pkg="gawk", binary="gawk",
         build=["./configure --disable-nls --disable-extensions --without-readline "
                "--without-mpfr >configure.log 2>&1",
                "make -j$JOBS -C support", "make -j$JOBS gawk"],
         how="configure; make -C support; make gawk", workload=wl_awk),
    dict(name="mawk", kind="interpreter (awk)", pkg="mawk", binary="mawk",
         build=["./configure >configure.log 2>&1", "make -j$JOBS mawk"],
         how="configure; make mawk", workload=wl_awk),
    dict(name="m4", kind="macro processor", pkg="m4", binary="src/m4",
         build=["./configure --disable-nls >configure.log 2>&1", "make -j$JOBS"],
         how="configure; make", workload=wl_m4),
]


# ---------------------------------------------------------------- building

def first_error(logtext):
    lines = logtext.splitlines()
    for pat in (r"error: ckpt:", r"ckpt-cc: error", r"\berror:", r"Error \d",
                r"\*\*\* No rule", r"error"):
        for l in lines:
            if re.search(pat, l):
                return l.strip()[:300]
    return (lines[-1].strip()[:300] if lines else "?")


def compiling(pgid):
    """The C files the compilers of process group pgid are working on."""
    files = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            if int(open(f"{d}/stat").read().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            argv = open(f"{d}/cmdline", "rb").read().decode(errors="replace").split("\0")
        except (OSError, ValueError, IndexError):
            continue
        if any("clang" in a for a in argv[:1]) and "-cc1" not in argv:
            files += [os.path.join(os.path.basename(os.path.dirname(a)), os.path.basename(a))
                      for a in argv if a.endswith(".c")]
    return sorted(set(files))


def build(prog, src, wdir, variant, cc, opt, jobs, timeout, reuse):
    """Builds a copy of src with CC=cc; returns (binary or None, seconds,
    error line)."""
    tree = os.path.join(wdir, f"{prog['pkg']}-{variant}")
    binary = os.path.join(tree, prog["binary"])
    stamp = os.path.join(tree, ".ckpt-bench-src")
    if reuse and os.path.exists(binary) and os.path.exists(stamp) and \
            open(stamp).read() == src:
        return binary, None, None
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(src, tree, symlinks=True)
    open(stamp, "w").write(src)
    cflags = f"{opt} {prog.get('cflags', '')}".strip()
    env = dict(os.environ, CC=cc, CFLAGS=cflags, JOBS=str(jobs))
    logpath = os.path.join(wdir, f"{prog['pkg']}-{variant}.log")
    t = time.time()
    with open(logpath, "w") as logf:
        for cmd in prog["build"]:
            logf.write(f"$ {cmd}\n")
            logf.flush()
            p = subprocess.Popen(["bash", "-c", cmd], cwd=tree, env=env, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
            try:
                rc = p.wait(timeout=max(1, timeout - (time.time() - t)))
            except subprocess.TimeoutExpired:
                busy = compiling(p.pid)
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                return None, time.time() - t, \
                    f"build not finished after {timeout} s (killed); still compiling: " + \
                    (", ".join(busy) or "?")
            if rc != 0:
                logf.flush()
                return None, time.time() - t, first_error(open(logpath, errors="replace").read())
    if not os.path.exists(binary):
        return None, time.time() - t, f"no {prog['binary']} after the build"
    return binary, time.time() - t, None


# ---------------------------------------------------------------- running

def run_steps(binary, steps, wdir, tag, outdir):
    """Runs the workload steps with binary; returns (CPU seconds, [output
    files]). A step whose stdin is the compressed file made by the plain
    build reads that file (so both decompress the same bytes)."""
    total, outs = 0.0, []
    for argv, stdin, out in steps:
        argv = [binary if a == "{bin}" else a for a in argv]
        outpath = os.path.join(outdir, f"{tag}.{out}")
        t, rc = benchlib.cpu_run(argv, wdir, stdin=stdin, stdout=outpath)
        if rc != 0:
            raise RuntimeError(f"{' '.join(argv)} < {stdin}: exit status {rc}")
        total += t
        outs.append(outpath)
    return total, outs


def prepare_compressed(prog, steps, plain, wdir):
    """For a compressor: the plain build compresses once, making the file
    both builds decompress (named after the program, so never stale)."""
    argv, stdin, _ = steps[0]
    comp = steps[1][1]
    benchlib.cpu_run([plain if a == "{bin}" else a for a in argv], wdir, stdin=stdin,
                     stdout=comp)


def measure(prog, plain, inst, wdir, reps, scale, cg_scale):
    res = {}
    steps, desc = prog["workload"](wdir, scale)
    res["workload"] = desc
    if getattr(prog["workload"], "check_back", False):
        prepare_compressed(prog, steps, plain, wdir)
    outdir = os.path.join(wdir, "out")
    os.makedirs(outdir, exist_ok=True)
    name = prog["pkg"]
    _, op = run_steps(plain, steps, wdir, f"{name}.plain", outdir)
    _, oc = run_steps(inst, steps, wdir, f"{name}.ckpt", outdir)
    same = all(open(a, "rb").read() == open(b, "rb").read() for a, b in zip(op, oc))
    if getattr(prog["workload"], "check_back", False):
        data = open(steps[0][1], "rb").read()
        same = same and open(op[1], "rb").read() == data
    res["same"] = same
    mp, mc, tp, tc = benchlib.interleaved(
        lambda: run_steps(plain, steps, wdir, f"{name}.plain", outdir)[0],
        lambda: run_steps(inst, steps, wdir, f"{name}.ckpt", outdir)[0], reps)
    res.update(plain_s=mp, ckpt_s=mc, runs_plain=tp, runs_ckpt=tc)
    if cg_scale > 0:
        csteps, cdesc = prog["workload"](wdir, cg_scale)
        if getattr(prog["workload"], "check_back", False):
            prepare_compressed(prog, csteps, plain, wdir)
        counts = []
        for exe in (plain, inst):
            n = 0
            for argv, stdin, out in csteps:
                c = benchlib.cachegrind([exe if a == "{bin}" else a for a in argv], wdir,
                                        stdin=stdin)
                if c is None:
                    n = None
                    break
                n += c
            counts.append(n)
        res.update(cg_workload=cdesc, instr_plain=counts[0], instr_ckpt=counts[1])
    res["size"] = benchlib.size_compare(plain, inst)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--src", default=os.environ.get("CKPT_BENCH_SRC", "/tmp/ckpt-bench-src"))
    ap.add_argument("--work", default="/tmp/ckpt-bench-real")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--programs", default="")
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--cg-scale", type=int, default=10)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--build-timeout", type=int, default=900)
    ap.add_argument("--no-setup", action="store_true")
    a = ap.parse_args(argv)
    ckpt_cc = os.path.join(os.path.abspath(a.build), "bin", "ckpt-cc")
    if not os.path.exists(ckpt_cc):
        sys.exit(f"real.py: no {ckpt_cc}; build ckpt first (scripts/build.sh)")
    want = [x for x in a.programs.split(",") if x]
    progs = [p for p in PROGRAMS if not want or p["name"] in want or p["pkg"] in want]
    setup_apt(a.no_setup)
    os.makedirs(a.work, exist_ok=True)
    jobs = os.cpu_count() or 2
    t0 = time.time()
    results = []
    for prog in progs:
        r = dict(prog=prog)
        results.append(r)
        try:
            src, version = fetch_source(prog["pkg"], a.src)
        except RuntimeError as e:
            r["error"] = str(e)
            log(f"{prog['name']}: {e}")
            continue
        r["src"] = f"{prog['pkg']} {version}"
        log(f"{prog['name']}: building with ckpt-cc ...")
        inst, ti, err = build(prog, src, a.work, "ckpt", ckpt_cc, a.opt, jobs,
                              min(a.build_timeout, prog.get("timeout", a.build_timeout)),
                              a.reuse)
        r["build_ckpt_s"] = ti
        if err:
            r["error"] = "ckpt-cc: " + err
            log(f"{prog['name']}: {r['error']}")
            continue
        log(f"{prog['name']}: building with clang-19 ...")
        plain, tp, err = build(prog, src, a.work, "plain", "clang-19", a.opt, jobs,
                               a.build_timeout, a.reuse)
        r["build_plain_s"] = tp
        if err:
            r["error"] = "clang-19: " + err
            log(f"{prog['name']}: {r['error']}")
            continue
        log(f"{prog['name']}: running ...")
        try:
            r.update(measure(prog, plain, inst, a.work, a.reps, a.scale, a.cg_scale))
        except (RuntimeError, OSError) as e:
            r["error"] = f"run failed: {e}"
            log(f"{prog['name']}: {r['error']}")
    report(results, a, time.time() - t0)


def report(results, a, elapsed):
    print(f"\n## Real programs: CPU time, clang-19 {a.opt} vs ckpt-cc {a.opt} "
          f"(median of {a.reps} interleaved runs each)\n")
    print("| program | kind | Debian source | workload | plain s | ckpt s | CPU ratio | outputs |")
    print("|---|---|---|---|---:|---:|---:|---|")
    ratios = []
    for r in results:
        p = r["prog"]
        if "plain_s" in r:
            ratio = r["ckpt_s"] / r["plain_s"]
            ratios.append(ratio)
            print(f"| {p['name']} | {p['kind']} | {r['src']} | {r['workload']} | "
                  f"{r['plain_s']:.3f} | {r['ckpt_s']:.3f} | **{ratio:.2f}** | "
                  f"{'identical' if r['same'] else '**DIFFERENT**'} |")
    if ratios:
        print(f"| **geomean** | | | | | | **{benchlib.geomean(ratios):.2f}** | |")
    if a.cg_scale > 0:
        print(f"\n## Real programs: instructions (cachegrind, smaller workload)\n")
        print("| program | workload | plain Minstr | ckpt Minstr | instr ratio |")
        print("|---|---|---:|---:|---:|")
        iratios = []
        for r in results:
            if r.get("instr_plain") and r.get("instr_ckpt"):
                ir = r["instr_ckpt"] / r["instr_plain"]
                iratios.append(ir)
                print(f"| {r['prog']['name']} | {r['cg_workload']} | {r['instr_plain'] / 1e6:.0f} | "
                      f"{r['instr_ckpt'] / 1e6:.0f} | {ir:.2f} |")
            elif "plain_s" in r:
                print(f"| {r['prog']['name']} | {r.get('cg_workload', '')} | | | (valgrind failed) |")
        if iratios:
            print(f"| **geomean** | | | | **{benchlib.geomean(iratios):.2f}** |")
    print(f"\n## Real programs: machine code size ({a.opt})\n")
    print("| program " + benchlib.SIZE_HEADER)
    print("|---|---:|---:|---:|---:|---|---|")
    for r in results:
        if "size" in r:
            print(f"| {r['prog']['name']} | {benchlib.size_cells(r['size'])} |")
    print("\n## Real programs: builds\n")
    print("| program | Debian source | how built | ckpt-cc build |")
    print("|---|---|---|---|")
    for r in results:
        p = r["prog"]
        if "error" in r:
            status = "**failed**: `" + r["error"].replace("|", "\\|") + "`"
        elif r.get("build_ckpt_s") is None:
            status = "ok (reused)"
        else:
            # Only one of the two builds may have been reused (--reuse).
            plain = r.get("build_plain_s")
            plain = "reused" if plain is None else f"{plain:.0f} s"
            status = f"ok ({r['build_ckpt_s']:.0f} s; clang-19 {plain})"
        print(f"| {p['name']} | {r.get('src', p['pkg'])} | {p['how']} | {status} |")
    print(f"\n(real.py total {elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()
