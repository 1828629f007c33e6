#!/usr/bin/env python3
"""bench/bench.py - measures ckpt and prints tables (numbers go to
docs/performance.md). Not a test: nothing here passes or fails on speed.

  bench.py overhead   run time plain clang-19 -O2 vs ckpt-cc -O2, no checkpoint
  bench.py checkpoint checkpoint size vs RSS, checkpoint pause/write time,
                      restart time, for each program
  bench.py exclude    a 512 MB scratch array: checkpoint size and time with
                      and without excluding it (global and heap)
  bench.py threads    time from a checkpoint request until every thread is
                      stopped (p50/p99) with 2, 16 and 256 threads, and
                      plain vs instrumented time of the threaded kernels
  bench.py kernels    the suite bench/kernels/*.c: CPU time plain clang-19 vs
                      ckpt-cc at the same -O level (medians of interleaved
                      runs), cachegrind instruction counts (smaller size),
                      machine-code size; markdown tables
  bench.py real ...   real programs from Debian source packages: see
                      bench/real.py (its options follow "real")
  bench.py relocate   a 512 MB heap (bench/programs/scratch512.c -DHEAP):
                      checkpoint write time and restart time with the
                      libraries where they were and elsewhere (address
                      randomisation on: every pointer into them moved)
  bench.py all        overhead, checkpoint, exclude, threads
Options: --reps N (default 3; kernels: 5), --build DIR (default ../build);
kernels also: --opt -O2, --scale PCT (100), --cg-scale PCT (10; 0 = no
cachegrind), --only a,b,c
"""
import argparse, glob, os, re, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = sorted(glob.glob(os.path.join(ROOT, "test/e2e/programs/*.c"))) + [
    os.path.join(ROOT, "examples/heat.c")]


def build(bindir, work, src, opt="-O2"):
    name = os.path.splitext(os.path.basename(src))[0]
    plain = os.path.join(work, name + ".plain")
    inst = os.path.join(work, name + ".ckpt")
    subprocess.run(["clang-19", opt, src, "-o", plain, "-lm"], check=True)
    subprocess.run([os.path.join(bindir, "ckpt-cc"), opt, src, "-o", inst, "-lm"], check=True)
    return name, plain, inst


def timed(cmd, cwd):
    """CPU time (user+sys) of the command: steadier than wall time on a
    shared machine."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime


def overhead(bindir, work, reps):
    print("\n## CPU time without checkpoints, -O2 (best of %d)\n" % reps)
    print("| program | plain s | ckpt s | overhead |")
    print("|---|---:|---:|---:|")
    ratios = []
    for src in PROGRAMS:
        name, plain, inst = build(bindir, work, src)
        tp = min(timed([plain], work) for _ in range(reps))
        ti = min(timed([inst], work) for _ in range(reps))
        ratios.append(ti / tp)
        print(f"| {name} | {tp:.3f} | {ti:.3f} | {100 * (ti / tp - 1):+.1f}% |", flush=True)
    geo = 1.0
    for r in ratios:
        geo *= r
    geo **= 1.0 / len(ratios)
    print(f"| **geomean** | | | {100 * (geo - 1):+.1f}% |")


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def checkpoint(bindir, work, reps):
    run = os.path.join(bindir, "ckpt-run")
    print("\n## Checkpoint and restart, -O2 (one checkpoint at 40% of the run)\n")
    print("| program | RSS MB | file MB | stop ms | pause ms | durable ms | restart→resumed s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for src in PROGRAMS:
        name, plain, inst = build(bindir, work, src)
        t_ref = timed([plain], work)
        ck = os.path.join(work, name + ".ck")
        shutil.rmtree(ck, ignore_errors=True)
        out = open(os.path.join(work, name + ".out"), "w")
        stats = os.path.join(work, name + ".stats")
        env = dict(os.environ, CKPT_STATS_FILE=stats)
        p = subprocess.Popen([run, "--dir", ck, "--", inst], cwd=work, stdout=out,
                             stderr=subprocess.DEVNULL, env=env)
        time.sleep(t_ref * 0.4)
        rss = rss_kb(p.pid) / 1024
        t = time.perf_counter()
        c = subprocess.run([run, "--checkpoint", str(p.pid)], capture_output=True, text=True)
        t_ck = time.perf_counter() - t
        p.kill()
        p.wait()
        if c.returncode != 0:
            print(f"| {name} | {rss:.1f} | (no checkpoint: {c.stderr.strip()[:60]}) | | | | |")
            continue
        line = [l for l in open(stats) if l.startswith(c.stdout.strip() + " ")][-1]
        fields = dict(kv.split("=") for kv in line.split()[1:])
        size = os.path.getsize(c.stdout.strip()) / 1e6
        # Restart until the program resumed: measured as the time until the
        # restarted process has the control socket, i.e. restore is done.
        t = time.perf_counter()
        r = subprocess.Popen([run, "--restart", ck], cwd=work, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        resumed = None
        while r.poll() is None:
            try:
                if any(f"ckpt-ctl-{r.pid}" in l for l in open("/proc/net/unix")):
                    resumed = time.perf_counter() - t
                    break
            except OSError:
                pass
            time.sleep(0.002)
        if resumed is None:
            resumed = time.perf_counter() - t
        r.kill()
        r.wait()
        print(f"| {name} | {rss:.1f} | {size:.2f} | {float(fields['stop_ms']):.2f} | "
              f"{float(fields['pause_ms']):.2f} | {float(fields['durable_ms']):.0f} | "
              f"{resumed:.3f} |", flush=True)


def exclude(bindir, work, reps):
    """bench/programs/scratch512.c built four ways; the program checkpoints
    itself once. Best of `reps` for the times."""
    src = os.path.join(ROOT, "bench/programs/scratch512.c")
    run = os.path.join(bindir, "ckpt-run")
    variants = [("global, saved", []), ("global, CKPT_EXCLUDE", ["-DEXCLUDE_GLOBAL"]),
                ("heap, saved", ["-DHEAP"]),
                ("heap, ckpt_exclude()", ["-DHEAP", "-DEXCLUDE_HEAP"])]
    print("\n## 512 MB scratch array + 8 MB state: exclusion (best of %d)\n" % reps)
    print("| scratch | file MB | stop ms | pause ms | durable ms | ckpt_checkpoint() ms | restart→exit s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, flags in variants:
        exe = os.path.join(work, "scratch512" + "".join(flags).replace("-D", "_"))
        subprocess.run([os.path.join(bindir, "ckpt-cc"), "-O2", *flags, src, "-o", exe],
                       check=True)
        best = None
        for _ in range(reps):
            ck = os.path.join(work, "ck-scratch")
            shutil.rmtree(ck, ignore_errors=True)
            stats = os.path.join(work, "scratch.stats")
            if os.path.exists(stats):
                os.unlink(stats)
            env = dict(os.environ, CKPT_STATS_FILE=stats)
            out = subprocess.run([run, "--dir", ck, "--", exe], cwd=work, env=env,
                                 capture_output=True, text=True)
            m = re.search(r"checkpoint=0 ms=([0-9.]+)", out.stdout)
            files = glob.glob(os.path.join(ck, "ckpt-*.ckpt"))
            if not m or not files:
                print(f"| {label} | (failed: {out.stderr.strip()[:60]}) | | | | | |")
                break
            fields = dict(kv.split("=") for kv in open(stats).read().split()[1:])
            t = time.perf_counter()
            subprocess.run([run, "--restart", ck], cwd=work, capture_output=True)
            t_restart = time.perf_counter() - t
            row = (os.path.getsize(files[0]) / 1e6, float(fields["stop_ms"]),
                   float(fields["pause_ms"]), float(fields["durable_ms"]),
                   float(m.group(1)), t_restart)
            best = row if best is None or row[3] < best[3] else best
        if best:
            print(f"| {label} | {best[0]:.2f} | {best[1]:.2f} | {best[2]:.2f} | "
                  f"{best[3]:.0f} | {best[4]:.0f} | {best[5]:.2f} |", flush=True)


def relocate(bindir, work, reps):
    """The cost of portable restarts: the writer looks at every saved word
    for values inside libraries, and a restart where the libraries moved
    looks at every restored word again. Best of `reps`."""
    src = os.path.join(ROOT, "bench/programs/scratch512.c")
    run = os.path.join(bindir, "ckpt-run")
    exe = os.path.join(work, "scratch512_heap")
    subprocess.run([os.path.join(bindir, "ckpt-cc"), "-O2", "-DHEAP", src, "-o", exe],
                   check=True)
    print("\n## 512 MB heap + 8 MB state: libraries where they were vs moved (best of %d)\n"
          % reps)
    print("| libraries at the restart | file MB | durable ms | restart→exit s |")
    print("|---|---:|---:|---:|")
    for label, direct in (("where they were (ckpt-run)", False),
                          ("moved (address randomisation on)", True)):
        best = None
        for _ in range(reps):
            ck = os.path.join(work, "ck-reloc")
            shutil.rmtree(ck, ignore_errors=True)
            os.mkdir(ck, 0o700)
            stats = os.path.join(work, "reloc.stats")
            if os.path.exists(stats):
                os.unlink(stats)
            env = dict(os.environ, CKPT_STATS_FILE=stats)
            if direct:  # started without ckpt-run: randomisation stays on
                env["CKPT_DIR"] = ck
                cmd = [exe]
            else:
                cmd = [run, "--dir", ck, "--", exe]
            out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
            files = glob.glob(os.path.join(ck, "ckpt-*.ckpt"))
            if out.returncode != 0 or not files:
                print(f"| {label} | (failed: {out.stderr.strip()[:60]}) | | |")
                break
            fields = dict(kv.split("=") for kv in open(stats).read().split()[1:])
            t = time.perf_counter()
            r = subprocess.run([run, "--restart", ck], cwd=work, capture_output=True, text=True)
            t_restart = time.perf_counter() - t
            if r.returncode != 0:
                print(f"| {label} | (restart failed: {r.stderr.strip()[:80]}) | | |")
                best = None
                break
            row = (os.path.getsize(files[0]) / 1e6, float(fields["durable_ms"]), t_restart)
            best = row if best is None or row[2] < best[2] else best
        if best:
            print(f"| {label} | {best[0]:.2f} | {best[1]:.0f} | {best[2]:.2f} |", flush=True)


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def threads(bindir, work, reps):
    run = os.path.join(bindir, "ckpt-run")
    src = os.path.join(ROOT, "bench/programs/stoplat.c")
    exe = os.path.join(work, "stoplat")
    subprocess.run([os.path.join(bindir, "ckpt-cc"), "-O2", src, "-o", exe], check=True)
    print("\n## Stop latency: checkpoint request -> every thread stopped\n")
    print("Half the threads compute in instrumented loops, half wait on a "
          "condition variable signalled every 1 ms.\n")
    print("| threads | checkpoints | stop p50 ms | stop p99 ms | stop max ms | pause p50 ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (2, 16, 256):
        ck = os.path.join(work, "ck-stop")
        shutil.rmtree(ck, ignore_errors=True)
        stats = os.path.join(work, "stop.stats")
        if os.path.exists(stats):
            os.unlink(stats)
        env = dict(os.environ, CKPT_STATS_FILE=stats)
        p = subprocess.Popen([run, "--dir", ck, "--keep", "1", "--", exe, str(n), "600"],
                             cwd=work, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        count, errors = 0, []
        for _ in range((50 if n < 256 else 20) * reps):
            c = subprocess.run([run, "--checkpoint", str(p.pid)], capture_output=True,
                               text=True)
            if c.returncode == 0:
                count += 1
            else:
                errors.append(c.stderr.strip())
            time.sleep(0.02)
        if errors:
            print(f"<!-- {n} threads: {len(errors)} failed: {errors[0][:200]} -->")
        p.kill()
        p.wait()
        stops, pauses = [], []
        for line in open(stats):
            f = dict(kv.split("=") for kv in line.split()[1:])
            stops.append(float(f["stop_ms"]))
            pauses.append(float(f["pause_ms"]))
        if not stops:
            print(f"| {n} | 0 | | | | |")
            continue
        print(f"| {n} | {count} | {percentile(stops, 50):.3f} | {percentile(stops, 99):.3f} | "
              f"{max(stops):.3f} | {percentile(pauses, 50):.2f} |", flush=True)
    print("\n## Threaded kernels: CPU time without checkpoints, -O2 (best of %d)\n" % reps)
    print("| program | plain s | ckpt s | overhead | plain wall s | ckpt wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for src in sorted(glob.glob(os.path.join(ROOT, "test/e2e/programs/threads_*.c"))):
        name, plain, inst = build(bindir, work, src)
        def wall_and_cpu(cmd):
            t = time.perf_counter()
            cpu = timed(cmd, work)
            return time.perf_counter() - t, cpu
        rp = [wall_and_cpu([plain]) for _ in range(reps)]
        ri = [wall_and_cpu([inst]) for _ in range(reps)]
        tp, ti = min(c for _, c in rp), min(c for _, c in ri)
        wp, wi = min(w for w, _ in rp), min(w for w, _ in ri)
        print(f"| {name} | {tp:.3f} | {ti:.3f} | {100 * (ti / tp - 1):+.1f}% | {wp:.3f} | {wi:.3f} |",
              flush=True)


KERNELS = sorted(glob.glob(os.path.join(ROOT, "bench/kernels/*.c")))


def kernels(bindir, work, reps, opt, scale, cg_scale, only):
    """Every kernel built plain and instrumented at the same -O level;
    outputs compared; CPU time medians of interleaved runs; cachegrind
    instruction counts at cg_scale percent of the size; code size."""
    srcs = [s for s in KERNELS
            if not only or os.path.splitext(os.path.basename(s))[0] in only]
    built, rows, sizes = [], [], []
    for src in srcs:
        name = os.path.splitext(os.path.basename(src))[0]
        plain, inst = os.path.join(work, name + ".plain"), os.path.join(work, name + ".ckpt")
        p = subprocess.run(["clang-19", opt, src, "-o", plain, "-lpthread", "-lm"],
                           capture_output=True, text=True)
        c = subprocess.run([os.path.join(bindir, "ckpt-cc"), opt, src, "-o", inst,
                            "-lpthread", "-lm"], capture_output=True, text=True)
        if p.returncode or c.returncode:
            err = (p.stderr if p.returncode else c.stderr).strip().splitlines()
            rows.append((name, None, None, None, "build failed: " + (err[-1] if err else "?")))
            continue
        built.append((name, plain, inst))
    print(f"\n## Kernels: CPU time, clang-19 {opt} vs ckpt-cc {opt} "
          f"(median of {reps} interleaved runs each, size {scale}%; \"min ratio\" "
          f"compares the fastest run of each, which other load on a shared VM "
          f"disturbs least)\n")
    print("| kernel | plain s | ckpt s | ratio | min ratio | output |")
    print("|---|---:|---:|---:|---:|---|")
    ratios, min_ratios = [], []
    for name, plain, inst in built:
        outp, outc = os.path.join(work, name + ".out.plain"), os.path.join(work, name + ".out.ckpt")
        # one untimed run each: the outputs must be identical
        benchlib.cpu_run([plain, str(scale)], work, stdout=outp)
        benchlib.cpu_run([inst, str(scale)], work, stdout=outc)
        same = open(outp, "rb").read() == open(outc, "rb").read()

        def run(exe):
            t, rc = benchlib.cpu_run([exe, str(scale)], work)
            if rc != 0:
                raise RuntimeError(f"{exe} exited with {rc}")
            return t
        mp, mc, tp, tc = benchlib.interleaved(lambda: run(plain), lambda: run(inst), reps)
        ratios.append((name, mc / mp))
        min_ratios.append(min(tc) / min(tp))
        print(f"| {name} | {mp:.3f} | {mc:.3f} | {mc / mp:.3f} | {min_ratios[-1]:.3f} | "
              f"{'identical' if same else '**DIFFERENT**'} |", flush=True)
    for name, _, _, _, err in rows:
        print(f"| {name} | | | | | {err} |")
    if ratios:
        worst = max(ratios, key=lambda r: r[1])
        print(f"| **geomean** | | | **{benchlib.geomean([r for _, r in ratios]):.3f}** | "
              f"**{benchlib.geomean(min_ratios):.3f}** | |")
        print(f"| **max** ({worst[0]}) | | | **{worst[1]:.3f}** | | |")
    if cg_scale > 0:
        print(f"\n## Kernels: instructions (cachegrind, size {cg_scale}%)\n")
        print("| kernel | plain Minstr | ckpt Minstr | ratio |")
        print("|---|---:|---:|---:|")
        iratios = []
        for name, plain, inst in built:
            ip = benchlib.cachegrind([plain, str(cg_scale)], work)
            ic = benchlib.cachegrind([inst, str(cg_scale)], work)
            if ip and ic:
                iratios.append(ic / ip)
                print(f"| {name} | {ip / 1e6:.1f} | {ic / 1e6:.1f} | {ic / ip:.3f} |", flush=True)
            else:
                print(f"| {name} | {ip and ip / 1e6} | {ic and ic / 1e6} | (valgrind failed) |")
        print(f"| **geomean** | | | **{benchlib.geomean(iratios):.3f}** |")
    print(f"\n## Kernels: machine code size ({opt})\n")
    print("`.text` is the whole section (the ckpt binary also holds the runtime, libckpt); "
          "\"matched fns\" sums the functions found by name in both binaries; "
          "max fn ratio is the largest ckpt/plain size of one matched function.\n")
    print("| kernel " + benchlib.SIZE_HEADER)
    print("|---|---:|---:|---:|---:|---|---|")
    allp = allc = 0
    for name, plain, inst in built:
        s = benchlib.size_compare(plain, inst)
        allp += s["matched_plain"]
        allc += s["matched_ckpt"]
        print(f"| {name} | {benchlib.size_cells(s)} |", flush=True)
    if allp:
        print(f"\nAll kernels' matched functions: {allp} → {allc} bytes "
              f"({allc / allp:.2f}x).")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "real":
        import real
        return real.main(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["overhead", "checkpoint", "exclude", "threads", "kernels",
                                     "relocate", "all"])
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--cg-scale", type=int, default=10)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    work = tempfile.mkdtemp(prefix="ckpt-bench.")
    if a.what == "kernels":
        try:
            kernels(bindir, work, a.reps or 5, a.opt, a.scale, a.cg_scale,
                    [x for x in a.only.split(",") if x])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    a.reps = a.reps or 3
    try:
        if a.what in ("overhead", "all"):
            overhead(bindir, work, a.reps)
        if a.what in ("checkpoint", "all"):
            checkpoint(bindir, work, a.reps)
        if a.what in ("exclude", "all"):
            exclude(bindir, work, a.reps)
        if a.what in ("threads", "all"):
            threads(bindir, work, a.reps)
        if a.what == "relocate":
            relocate(bindir, work, a.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
