#!/usr/bin/env python3
"""scripts/stress.py - the long stress run, outside CI: many random
checkpoint/kill/restart trials over every end-to-end program, in every mode.
Prints one line per run and a summary of trials, mismatches, crashes and
hangs. Usage: scripts/stress.py [--trials N] [--chain K] [--opt O2,O0]
[--filter SUBSTRING] (build first: scripts/build.sh)."""
import argparse, glob, os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--chain", type=int, default=3)
    ap.add_argument("--opt", default="O2,O0")
    ap.add_argument("--modes", default="kill,interval")
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    env = dict(os.environ)
    env["PATH"] = os.path.join(ROOT, "build", "bin") + os.pathsep + env["PATH"]
    programs = sorted(glob.glob(os.path.join(ROOT, "test/e2e/programs/*.c")))
    totals = {"trials": 0, "mismatch": 0, "crash": 0, "hang": 0, "other": 0}
    start = time.time()
    for src in programs:
        name = os.path.basename(src)
        if a.filter not in name:
            continue
        for opt in a.opt.split(","):
            for mode in a.modes.split(","):
                if mode == "kill" or "selfckpt" not in name:
                    m = mode
                else:
                    m = "self"
                cmd = [sys.executable, os.path.join(ROOT, "test/e2e/e2e.py"), "--src", src,
                       "--opt", opt, "--trials", str(a.trials), "--chain", str(a.chain),
                       "--mode", m]
                p = subprocess.run(cmd, env=env, capture_output=True, text=True)
                out = p.stdout + p.stderr
                last = [l for l in out.splitlines() if l.startswith("e2e: ")]
                last = last[-1] if last else "e2e: FAIL (no result)"
                ok = sum(1 for l in out.splitlines() if re.match(r"trial \d+/\d+: ok", l))
                totals["trials"] += ok
                if p.returncode != 0:
                    totals["trials"] += 1
                    low = last.lower()
                    kind = ("hang" if "hang" in low or "timed out" in low else
                            "crash" if "sig" in low or "exit status" in low else
                            "mismatch" if "differ" in low else "other")
                    totals[kind] += 1
                print(f"{name} -{opt} {m}: {last}", flush=True)
    print(f"\nstress: {totals['trials']} trials, {totals['mismatch']} mismatches, "
          f"{totals['crash']} crashes, {totals['hang']} hangs, {totals['other']} other "
          f"failures in {time.time() - start:.0f} s")
    return 1 if any(totals[k] for k in ("mismatch", "crash", "hang", "other")) else 0


if __name__ == "__main__":
    sys.exit(main())
