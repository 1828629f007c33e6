"""bench/benchlib.py - helpers shared by bench.py (kernels) and real.py:
CPU time of a command, interleaved plain/ckpt runs with medians, cachegrind
instruction counts, and machine-code size comparison of two binaries.
Measures only; nothing here passes or fails on speed."""
import math, os, re, statistics, subprocess


def cpu_run(argv, cwd, stdin=None, stdout=None):
    """Runs argv; returns (CPU seconds user+sys of it and of the children it
    waited for, exit status). stdin/stdout: paths or None (/dev/null)."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL
    try:
        p = subprocess.Popen(argv, cwd=cwd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdin:
            fin.close()
        if stdout:
            fout.close()
    return ru.ru_utime + ru.ru_stime, p.returncode


def interleaved(run_plain, run_ckpt, reps):
    """Calls run_plain() and run_ckpt() (each returns CPU seconds) reps times
    each, alternating which goes first (P C C P P C ...) so that drift of the
    shared machine hits both alike. Returns (median plain, median ckpt,
    all plain, all ckpt)."""
    tp, tc = [], []
    for i in range(reps):
        if i % 2 == 0:
            tp.append(run_plain())
            tc.append(run_ckpt())
        else:
            tc.append(run_ckpt())
            tp.append(run_plain())
    return statistics.median(tp), statistics.median(tc), tp, tc


def geomean(values):
    values = [v for v in values if v and v > 0]
    if not values:
        return float("nan")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def stripped(binary):
    """A copy of binary without debug sections, next to it: valgrind 3.19
    cannot read some of clang-19's DWARF 5 (ckpt-cc adds
    -gline-tables-only) and gives up. The code is unchanged."""
    out = binary + ".nodebug"
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(binary):
        subprocess.run(["llvm-objcopy-19", "--strip-debug", binary, out], check=True)
    return out


def cachegrind(argv, cwd, stdin=None, stdout=None, timeout=3600):
    """Instructions executed (cachegrind's "I refs") by argv and its
    threads, argv[0] run from a copy without debug information; None if
    valgrind failed."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
           "--cachegrind-out-file=/dev/null", stripped(argv[0])] + list(argv[1:])
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL
    try:
        p = subprocess.run(cmd, cwd=cwd, stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        if stdin:
            fin.close()
        if stdout:
            fout.close()
    m = re.search(r"I\s+refs:\s+([0-9,]+)", p.stderr.decode(errors="replace"))
    return int(m.group(1).replace(",", "")) if m and p.returncode == 0 else None


def text_size(binary):
    """Size in bytes of the .text section."""
    out = subprocess.run(["llvm-size-19", "-A", binary], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == ".text":
            return int(f[1])
    return 0


def functions(binary):
    """{name: bytes} of the code symbols (nm types t/T/w/W with a size).
    Same-named static functions are summed."""
    out = subprocess.run(["llvm-nm-19", "--size-sort", "-S", "--defined-only", binary],
                         capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in ("t", "T", "w", "W"):
            syms[f[3]] = syms.get(f[3], 0) + int(f[1], 16)
    return syms


def size_compare(plain, inst, min_bytes=256):
    """Machine code of the plain binary vs the instrumented one: total .text,
    the functions found in both (ckpt renames main to __ckpt_main), and the
    largest per-function growth (over all matched functions, and over those
    of at least min_bytes in the plain binary)."""
    p = functions(plain)
    c = functions(inst)
    if "__ckpt_main" in c:
        c["main"] = c.pop("__ckpt_main")
    matched = [n for n in p if n in c and p[n] > 0]
    mp = sum(p[n] for n in matched)
    mc = sum(c[n] for n in matched)
    ratio = lambda n: c[n] / p[n]
    worst = max(matched, key=ratio, default=None)
    big = [n for n in matched if p[n] >= min_bytes]
    worst_big = max(big, key=ratio, default=None)
    return {
        "text_plain": text_size(plain), "text_ckpt": text_size(inst),
        "matched": len(matched), "matched_plain": mp, "matched_ckpt": mc,
        "only_ckpt_bytes": sum(v for n, v in c.items() if n not in p),
        "max_fn": worst, "max_fn_ratio": ratio(worst) if worst else float("nan"),
        "max_fn_sizes": (p[worst], c[worst]) if worst else (0, 0),
        "max_big_fn": worst_big,
        "max_big_fn_ratio": ratio(worst_big) if worst_big else float("nan"),
        "max_big_fn_sizes": (p[worst_big], c[worst_big]) if worst_big else (0, 0),
    }


def size_cells(s):
    """Markdown cells for a size_compare result."""
    return (f"{s['text_plain'] / 1024:.1f} | {s['text_ckpt'] / 1024:.1f} | "
            f"{s['text_ckpt'] / max(1, s['text_plain']):.2f} | "
            f"{s['matched_ckpt'] / max(1, s['matched_plain']):.2f} | "
            f"{s['max_fn_ratio']:.1f} (`{s['max_fn']}` {s['max_fn_sizes'][0]}→{s['max_fn_sizes'][1]}) | "
            f"{s['max_big_fn_ratio']:.1f} (`{s['max_big_fn']}` "
            f"{s['max_big_fn_sizes'][0]}→{s['max_big_fn_sizes'][1]})")


SIZE_HEADER = ("| .text plain KiB | .text ckpt KiB | .text ratio | matched fns ratio | "
               "max fn ratio | max fn ratio (≥256 B) |")
