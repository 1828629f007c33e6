#!/usr/bin/env python3
"""bench/bench.py - measures ckpt and prints tables (numbers go to
docs/performance.md). Not a test: nothing here passes or fails on speed.

  bench.py overhead   run time plain clang-19 -O2 vs ckpt-cc -O2, no checkpoint
  bench.py checkpoint checkpoint size vs RSS, checkpoint pause/write time,
                      restart time, for each program
  bench.py all        both
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["overhead", "checkpoint", "all"])
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
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
