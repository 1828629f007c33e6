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
  bench.py all        all of them
Options: --reps N (default 3), --build DIR (default ../build)
"""
import argparse, glob, os, re, shutil, signal, subprocess, sys, tempfile, time

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["overhead", "checkpoint", "exclude", "threads", "all"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    work = tempfile.mkdtemp(prefix="ckpt-bench.")
    try:
        if a.what in ("overhead", "all"):
            overhead(bindir, work, a.reps)
        if a.what in ("checkpoint", "all"):
            checkpoint(bindir, work, a.reps)
        if a.what in ("exclude", "all"):
            exclude(bindir, work, a.reps)
        if a.what in ("threads", "all"):
            threads(bindir, work, a.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
