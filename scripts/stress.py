#!/usr/bin/env python3
"""scripts/stress.py - the long stress run, outside CI: every end-to-end
test's RUN lines (test/e2e/*.test) again with many more random
checkpoint/kill/restart trials and longer restart chains. Prints one line per
run and a summary of trials, mismatches, crashes and hangs.
Usage: scripts/stress.py [--trials N] [--chain K] [--filter SUB[,SUB...]]
       scripts/stress.py --exactness   (issue 11's programs: signals, mapped
                                        memory, constructors, child waits,
                                        unlinked files, condition waits)
(build first: scripts/build.sh). A cycle is one checkpoint, kill -9 and
restart: a trial makes --chain of them."""
import argparse, glob, os, re, shlex, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_lines(test):
    for line in open(test):
        m = re.match(r"\s*RUN:\s*(.*)", line)
        if m:
            yield m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--chain", type=int, default=3)
    ap.add_argument("--filter", default="",
                    help="comma-separated substrings of test names")
    ap.add_argument("--exactness", action="store_true",
                    help="the exact-restart programs (issue 11), 500+ cycles")
    a = ap.parse_args()
    if a.exactness:
        a.filter = "signals,mappings,ctors,waitchild,tmpfiles,threads-condexact"
        a.trials = max(a.trials, 15)  # x 3 links x 14 RUN lines: 600+ cycles
    filters = [f for f in a.filter.split(",")] or [""]
    env = dict(os.environ)
    env["PATH"] = os.path.join(ROOT, "build", "bin") + os.pathsep + env["PATH"]
    e2e_dir = os.path.join(ROOT, "test", "e2e")
    totals = {"trials": 0, "mismatch": 0, "crash": 0, "hang": 0, "other": 0}
    start = time.time()
    for test in sorted(glob.glob(os.path.join(e2e_dir, "*.test"))):
        if not any(f in os.path.basename(test) for f in filters):
            continue
        for line in run_lines(test):
            line = (line.replace("%e2e", f"{sys.executable} {e2e_dir}/e2e.py")
                        .replace("%clang", "clang-19").replace("%S", e2e_dir))
            args = shlex.split(line)
            for flag, value in (("--trials", a.trials), ("--chain", a.chain)):
                if flag in args:
                    args[args.index(flag) + 1] = str(value)
                else:
                    args += [flag, str(value)]
            p = subprocess.run(args, env=env, capture_output=True, text=True)
            out = (p.stdout + p.stderr).splitlines()
            results = [l for l in out if l.startswith("e2e: PASS") or l.startswith("e2e: FAIL")]
            last = results[-1] if results else "e2e: FAIL (no result)"
            oks = sum(1 for l in out if re.match(r"trial \d+/\d+: ok", l))
            totals["trials"] += oks
            chain = int(args[args.index("--chain") + 1])
            totals["cycles"] = totals.get("cycles", 0) + oks * chain
            if p.returncode != 0:
                totals["trials"] += 1
                low = last.lower()
                kind = ("hang" if "hang" in low or "timed out" in low or "timeout" in low else
                        "crash" if "sig" in low or "exit status" in low else
                        "mismatch" if "differ" in low else "other")
                totals[kind] += 1
            mode = args[args.index("--mode") + 1] if "--mode" in args else "kill"
            opt = args[args.index("--opt") + 1] if "--opt" in args else "O2"
            print(f"{os.path.basename(test)} -{opt} {mode}: {last}", flush=True)
    failed = totals["mismatch"] + totals["crash"] + totals["hang"] + totals["other"]
    print(f"\nstress: {totals['trials']} trials ({totals.get('cycles', 0)} checkpoint/kill/"
          f"restart cycles), {totals['mismatch']} mismatches, "
          f"{totals['crash']} crashes, {totals['hang']} hangs, {totals['other']} other "
          f"failures in {time.time() - start:.0f} s")
    print(f"{totals['trials'] - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
