#!/usr/bin/env python3
"""e2e.py - the end-to-end driver of ckpt: run, checkpoint, kill, restart, compare.

One lifecycle for every program in test/e2e/programs:

  1. build a reference with plain clang and an instrumented binary with ckpt-cc;
  2. run the reference (stdout, stderr, exit status, wall time T) and the
     instrumented binary on its own: the two must agree byte for byte;
  3. trials: run the instrumented binary under `ckpt-run --dir D`, take a
     checkpoint at a random moment, SIGKILL the program, `ckpt-run --restart D`,
     possibly several times in a chain (--chain K), let the last one finish;
     the final stdout/stderr and exit status must equal the reference's.
     Restarts run from another directory than the first run, and the
     streams of `ckpt-run --restart` itself must stay empty (the program
     writes to the files it had). A run that ends on its own before it could
     be checkpointed or killed is checked too, then the trial is retried
     with earlier times (a "miss"; five in one trial fail the test).

Modes (how the checkpoint is taken, and where the output goes):
  kill      `ckpt-run --checkpoint PID` at random times; output to regular files
  interval  `ckpt-run --interval I` (default T/5); kill at a random time after
            a checkpoint file exists
  self      the program calls ckpt_checkpoint() itself; kill at a random time
            after a checkpoint file exists
  pipe      like kill, but stdout/stderr are pipes read by this driver; the
            restarted run's output must continue the reference's (a suffix),
            with no gap after what the killed run had written

Used from lit as %e2e:
  %e2e --src %S/programs/linked.c --opt O2 --trials 2 --chain 2

Environment: CKPT_E2E_SEED (reproduce a run's random choices; printed at the
start), CKPT_E2E_TRIALS (overrides --trials, e.g. for stress runs). Prints one
line per trial and ends with "e2e: PASS (N trials, M misses)" (exit 0) or
"e2e: FAIL ..." (exit 1). On failure the temporary directory is kept.
Every subprocess runs in its own process group with a timeout; all groups
still alive are killed on exit.
"""

import argparse
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# A checkpoint request that fails while the program runs is retried only if
# the runtime is not listening yet (starting, or still restoring), or, where
# that cannot be told, this soon after the program (or its restart) started.
STARTUP_GRACE = 1.0
# A trial whose program keeps finishing before it can be checkpointed is
# retried with earlier times this many times, then fails.
MAX_MISSES_PER_TRIAL = 5
CKPT_SUFFIX = ".ckpt"  # CKPT_FILE_SUFFIX in include/ckpt/abi.h
CKPT_CTL_PREFIX = "ckpt-ctl-"  # CKPT_CTL_PREFIX in include/ckpt/abi.h


class Fail(Exception):
    """The test failed; the message says why."""


class Miss(Exception):
    """The program finished before the trial could checkpoint or kill it."""


def log(msg):
    print(msg, flush=True)


# ---- processes -------------------------------------------------------------

_groups = set()  # process groups (= pids of session leaders) we started
_procs = []


def spawn(cmd, **kw):
    """Popen in a new session (its own process group), stdin from /dev/null."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen([str(c) for c in cmd], start_new_session=True, **kw)
    _groups.add(p.pid)
    _procs.append(p)
    return p


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap(p, timeout=30):
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        p.wait(timeout=timeout)


def cleanup():
    for g in list(_groups):
        kill_group(g)
    for p in _procs:
        if p.poll() is None:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def run(cmd, timeout, what, **kw):
    """Run to completion; returns (exit status, seconds). Fails on timeout."""
    t0 = time.monotonic()
    p = spawn(cmd, **kw)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        reap(p)
        raise Fail("%s did not finish within %.0f s: %s" % (what, timeout, shlex.join(map(str, cmd))))
    dt = time.monotonic() - t0
    kill_group(p.pid)  # leftovers of a finished program are not ours to keep
    _groups.discard(p.pid)
    return p.returncode, dt


def run_capture(cmd, timeout, what, cwd=None, env=None):
    """Run with stdout/stderr captured; returns (status, stdout, stderr)."""
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        p.communicate()
        raise Fail("%s did not finish within %.0f s: %s" % (what, timeout, shlex.join(map(str, cmd))))
    _groups.discard(p.pid)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def status_str(rc):
    if rc is None:
        return "running"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


# ---- comparing output -------------------------------------------------------

def _show_line(x):
    if x is None:
        return "<no line>"
    s = repr(x)[2:-1]
    return s if len(s) <= 160 else s[:160] + "..."


def first_difference(ref, got):
    """Where two byte strings first differ, line by line."""
    rl = ref.split(b"\n")
    gl = got.split(b"\n")
    for i in range(max(len(rl), len(gl))):
        r = rl[i] if i < len(rl) else None
        g = gl[i] if i < len(gl) else None
        if r != g:
            return ("first difference at line %d:\n    expected: %s\n    got:      %s"
                    % (i + 1, _show_line(r), _show_line(g)))
    return "no line differs"


def last_difference(ref, got):
    """Where two byte strings last differ, counting lines from the end."""
    rl = ref.split(b"\n")[::-1]
    gl = got.split(b"\n")[::-1]
    for i in range(max(len(rl), len(gl))):
        r = rl[i] if i < len(rl) else None
        g = gl[i] if i < len(gl) else None
        if r != g:
            return ("last difference at line %d from the end:\n    expected: %s\n    got:      %s"
                    % (i + 1, _show_line(r), _show_line(g)))
    return "no line differs"


def compare(name, ref, got):
    """None if equal, else a description of the difference."""
    if ref == got:
        return None
    return "%s differs (expected %d bytes, got %d bytes); %s" % (
        name, len(ref), len(got), first_difference(ref, got))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def check_pipe_segments(name, ref, parts):
    """Output that went through pipes, one part per run of a chain.

    The first run's output must be a prefix of the reference, the last run's
    a suffix, the ones between pieces of it; each run must start no later
    than where the previous one stopped (at a checkpoint stdio is flushed, so
    the killed run wrote at least up to it). Returns None or a description."""
    if len(parts) == 1:
        return compare(name, ref, parts[0])
    first = parts[0]
    if not ref.startswith(first):
        return "%s of the first run is not a prefix of the reference; %s" % (
            name, first_difference(ref[:len(first)], first))
    prev_start, prev_end = 0, len(first)
    for i, part in enumerate(parts[1:], 1):
        last = i == len(parts) - 1
        if last:
            start = len(ref) - len(part)
            if not ref.endswith(part):
                return ("%s of restarted run %d is not a suffix of the reference "
                        "(%d bytes); %s" % (name, i, len(part), last_difference(ref, part)))
            if start > prev_end:
                return ("%s: gap before restarted run %d: the reference's bytes %d..%d "
                        "were never written" % (name, i, prev_end, start))
            if start < prev_start:
                return ("%s: restarted run %d starts at byte %d, before run %d did (%d)"
                        % (name, i, start, i - 1, prev_start))
        else:
            start = ref.rfind(part, prev_start, prev_end + len(part))
            if start < 0:
                return ("%s of restarted run %d (%d bytes) does not continue the "
                        "reference from bytes %d..%d" % (name, i, len(part), prev_start, prev_end))
        prev_start, prev_end = start, start + len(part)
    return None


# ---- one run of the program (the first, or a restart) ------------------------

class Segment:
    """One process of a trial: the first run under ckpt-run, or a restart."""

    def __init__(self, ctx, cmd, tdir, index, pipe, cwd):
        self.index = index
        self.pipe = pipe
        self.out = bytearray()
        self.err = bytearray()
        self.readers = []
        if pipe:
            self.p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=ctx.env)
            for stream, buf in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
                t = threading.Thread(target=self._drain, args=(stream, buf), daemon=True)
                t.start()
                self.readers.append(t)
        else:
            if index == 0:
                self.out_path = os.path.join(tdir, "out.txt")
                self.err_path = os.path.join(tdir, "err.txt")
            else:
                self.out_path = os.path.join(tdir, "restart%d.out" % index)
                self.err_path = os.path.join(tdir, "restart%d.err" % index)
            with open(self.out_path, "wb") as fo, open(self.err_path, "wb") as fe:
                self.p = spawn(cmd, stdout=fo, stderr=fe, cwd=cwd, env=ctx.env)
        self.pid = self.p.pid
        self.start = time.monotonic()

    @staticmethod
    def _drain(stream, buf):
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        stream.close()

    def alive(self):
        return self.p.poll() is None

    def sleep_until(self, t):
        """Sleep until monotonic time t; False if the program ended first."""
        while True:
            left = t - time.monotonic()
            if left <= 0:
                return self.alive()
            try:
                self.p.wait(timeout=min(left, 0.05))
                return False
            except subprocess.TimeoutExpired:
                pass

    def kill(self):
        """SIGKILL the program (then anything left in its process group)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap(self.p)
        kill_group(self.pid)
        self.close_streams()
        return self.p.returncode

    def wait(self, timeout, what):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.pid)
            reap(self.p)
            self.close_streams()
            raise Fail("%s did not finish within %.0f s (hang?)" % (what, timeout))
        self.close_streams()
        return self.p.returncode

    def close_streams(self):
        """Pipe mode: wait for EOF on both pipes (a leftover child may hold them)."""
        for t in self.readers:
            t.join(timeout=10)
        if any(t.is_alive() for t in self.readers):
            kill_group(self.pid)
            for t in self.readers:
                t.join(timeout=10)
            if any(t.is_alive() for t in self.readers):
                raise Fail("the pipes of run %d stay open after the program ended" % self.index)


# ---- the driver ----------------------------------------------------------------

class Ctx:
    pass


def find_tool(explicit, name):
    if explicit:
        return os.path.abspath(explicit) if os.sep in explicit else (shutil.which(explicit) or explicit)
    path = shutil.which(name)
    if not path:
        raise Fail("%s not found on PATH (pass --%s)" % (name, name))
    return path


def list_checkpoints(ckdir):
    """{name: (mtime_ns, size)} of the finished checkpoint files in ckdir."""
    found = {}
    try:
        with os.scandir(ckdir) as it:
            for e in it:
                if e.name.endswith(CKPT_SUFFIX) and not e.name.startswith("."):
                    try:
                        st = e.stat()
                    except FileNotFoundError:
                        continue
                    found[e.name] = (st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        pass
    return found


def control_socket_up(pid):
    """Whether the runtime of process pid listens on its control socket (the
    abstract unix socket @ckpt-ctl-PID); None if that cannot be told."""
    name = "@%s%d" % (CKPT_CTL_PREFIX, pid)
    try:
        with open("/proc/net/unix") as f:
            return any(line.split()[-1:] == [name] for line in f)
    except OSError:
        return None


def request_checkpoint(ctx, seg):
    """`ckpt-run --checkpoint PID`. Returns the time of the request, or raises
    Miss if the program ended, Fail if the request failed while it ran."""
    tries = 0
    while True:
        t_req = time.monotonic()
        rc, out, err = run_capture([ctx.ckpt_run, "--checkpoint", str(seg.pid)],
                                   ctx.ckpt_timeout, "ckpt-run --checkpoint", env=ctx.env)
        if rc == 0:
            path = out.strip().splitlines()[-1].strip() if out.strip() else ""
            if path and not path.endswith(CKPT_SUFFIX):
                log("  note: ckpt-run --checkpoint printed %r, not a %s path" % (path, CKPT_SUFFIX))
            elif path and not os.path.exists(path):
                log("  note: checkpoint %s reported but not found" % path)
            if ctx.socket_visible is None:
                # Can this driver see whether a program listens for requests?
                ctx.socket_visible = control_socket_up(seg.pid)
            return t_req
        if not seg.alive() or "the program exited while the checkpoint" in err:
            raise Miss("the program ended before the checkpoint (request: exit %d)" % rc)
        if ctx.socket_visible and control_socket_up(seg.pid) is False:
            # Not listening yet: still starting or restoring. A request then
            # may fail (cleanly); ask again once the program runs.
            deadline = seg.start + ctx.hang_timeout
            while control_socket_up(seg.pid) is False:
                if not seg.alive():
                    raise Miss("the program ended before it listened for checkpoint requests")
                if time.monotonic() > deadline:
                    raise Fail("the program (pid %d) never listened for checkpoint requests "
                               "within %.0f s" % (seg.pid, ctx.hang_timeout))
                time.sleep(0.01)
            log("  note: request %.2f s after start came before the program listened (exit %d: "
                "%s); listening from %.2f s, asked again"
                % (t_req - seg.start, rc, err.strip()[-200:], time.monotonic() - seg.start))
            continue
        if "is not running its main function" in err:
            # main had returned: the program is exiting, and a checkpoint of
            # it is rightly refused. Too late, as if it had ended.
            raise Miss("the program's main had returned %.2f s after start (exiting)"
                       % (t_req - seg.start))
        tries += 1
        if not ctx.socket_visible and t_req - seg.start < STARTUP_GRACE and tries <= 3:
            log("  note: checkpoint request %.2f s after start failed (exit %d), retrying: %s"
                % (t_req - seg.start, rc, err.strip()[-300:]))
            time.sleep(0.2)
            continue
        raise Fail("ckpt-run --checkpoint %d failed (exit %d) while the program was running, "
                   "%.2f s after it started:\n%s" % (seg.pid, rc, t_req - seg.start, err.strip()))


def checkpoint_by_request(ctx, seg, rng, done, links_left, backoff):
    """kill/pipe modes: wait, request one or two checkpoints, maybe wait more.
    Returns (estimated fraction of the work done at the checkpoint, note)."""
    remaining = max(0.05, 1.0 - done) * ctx.T
    hi = max(0.01, 0.8 * remaining / links_left * backoff)
    lo = min(0.05 * remaining, 0.5 * hi)
    at = rng.uniform(lo, hi)
    if not seg.sleep_until(seg.start + at):
        raise Miss("the program ended %.2f s after start, before the checkpoint at %.2f s"
                   % (time.monotonic() - seg.start, at))
    nreq = 2 if rng.random() < 0.2 else 1
    notes = []
    for r in range(nreq):
        t_req = request_checkpoint(ctx, seg)
        notes.append("%.2f" % (t_req - seg.start))
        if r + 1 < nreq:
            seg.sleep_until(time.monotonic() + rng.uniform(0, 0.1 * remaining * backoff))
            if not seg.alive():
                break
    frac = min(0.98, done + (t_req - seg.start) / ctx.T)
    extra = 0.0
    if rng.random() < 0.5:
        extra = rng.uniform(0, 0.15 * remaining * backoff)
        seg.sleep_until(time.monotonic() + extra)
    return frac, "ckpt@%ss%s" % ("+".join(notes), "+%.2f" % extra if extra else "")


def checkpoint_by_program(ctx, seg, ckdir, known, rng, done, links_left, backoff):
    """interval/self modes: wait for a new checkpoint file, then a random time.
    Returns (estimated fraction done at the kill, note)."""
    deadline = seg.start + ctx.hang_timeout
    while True:
        now = list_checkpoints(ckdir)
        if any(known.get(n) != v for n, v in now.items()):
            break
        if not seg.alive():
            raise Miss("the program ended before a new checkpoint file appeared")
        if time.monotonic() > deadline:
            raise Fail("no checkpoint file appeared in %s within %.0f s" % (ckdir, ctx.hang_timeout))
        time.sleep(0.01)
    t_file = time.monotonic()
    remaining = max(0.05, 1.0 - done - (t_file - seg.start) / ctx.T) * ctx.T
    extra = rng.uniform(0, 0.8 * remaining / links_left * backoff)
    seg.sleep_until(t_file + extra)
    frac = min(0.98, done + (time.monotonic() - seg.start) / ctx.T)
    return frac, "file@%.2fs+%.2f" % (t_file - seg.start, extra)


def strip_expected_warnings(ctx, data):
    """The ckpt warning lines the test declared expected (--expect-warning):
    state the program has that a checkpoint names but cannot keep."""
    if not ctx.expected_warnings:
        return data
    keep = [line for line in data.splitlines(keepends=True)
            if not (line.startswith(b"ckpt: warning: ") and
                    any(re.search(p, line.decode(errors="replace"))
                        for p in ctx.expected_warnings))]
    return b"".join(keep)


def verify(ctx, segs, rc):
    """Compare a finished trial with the reference; None or what is wrong."""
    problems = []
    if rc != ctx.ref_rc:
        problems.append("exit status: expected %s, got %s" % (status_str(ctx.ref_rc), status_str(rc)))
    if ctx.mode == "pipe":
        for name, ref, parts in (("stdout", ctx.ref_out, [bytes(s.out) for s in segs]),
                                 ("stderr", ctx.ref_err,
                                  [strip_expected_warnings(ctx, bytes(s.err)) for s in segs])):
            d = check_pipe_segments(name, ref, parts)
            if d:
                problems.append(d)
    else:
        for name, ref, path in (("stdout", ctx.ref_out, segs[0].out_path),
                                ("stderr", ctx.ref_err, segs[0].err_path)):
            data = read_bytes(path)
            if name == "stderr":
                data = strip_expected_warnings(ctx, data)
            d = compare(name, ref, data)
            if d:
                problems.append(d)
        for s in segs[1:]:
            for path in (s.out_path, s.err_path):
                data = strip_expected_warnings(ctx, read_bytes(path))
                if data:
                    problems.append("%s (ckpt-run --restart's own stream) should be empty, has %d "
                                    "bytes: %s" % (os.path.basename(path), len(data),
                                                   data[:300].decode(errors="replace").strip()))
    return "\n  ".join(problems) if problems else None


def run_trial(ctx, tdir, rng, backoff):
    ckdir = os.path.join(tdir, "ckpt")
    os.makedirs(ckdir)
    pipe = ctx.mode == "pipe"
    cmd = [ctx.ckpt_run, "--dir", ckdir]
    if ctx.mode == "interval":
        cmd += ["--interval", "%.3f" % ctx.interval]
    cmd += ["--", "./app"] + ctx.args
    t0 = time.monotonic()
    seg = Segment(ctx, cmd, tdir, 0, pipe, ctx.work)
    segs = [seg]
    done = 0.0
    notes = []
    known = {}
    try:
        for link in range(ctx.chain):
            links_left = ctx.chain - link
            if ctx.mode in ("kill", "pipe"):
                done, note = checkpoint_by_request(ctx, seg, rng, done, links_left, backoff)
            else:
                done, note = checkpoint_by_program(ctx, seg, ckdir, known, rng, done, links_left, backoff)
            rc = seg.kill()
            if rc != -signal.SIGKILL:
                # It ended on its own between the checkpoint and the kill:
                # that run must be complete and right, like any other.
                which = "the first run" if seg.index == 0 else "restart %d" % seg.index
                problem = verify(ctx, segs, rc)
                if problem:
                    raise Fail("%s ended (%s) after the checkpoint, before the kill, and is wrong:"
                               "\n  %s" % (which, status_str(rc), problem))
                note += " (%s before the kill)" % status_str(rc)
            notes.append(note)
            known = list_checkpoints(ckdir)
            if not known:
                raise Fail("no %s file in %s after a checkpoint" % (CKPT_SUFFIX, ckdir))
            seg = Segment(ctx, [ctx.ckpt_run, "--restart", ckdir], tdir, link + 1, pipe, tdir)
            segs.append(seg)
    except Miss as m:
        which = "the first run" if seg.index == 0 else "restart %d" % seg.index
        rc = seg.wait(ctx.hang_timeout, which)
        problem = verify(ctx, segs, rc)
        if problem:
            raise Fail("%s ended (%s) before it was checkpointed, and its output is wrong:\n  %s"
                       % (which, status_str(rc), problem))
        raise Miss("%s: %s" % (which, m))
    rc = seg.wait(ctx.hang_timeout, "the restarted program" if ctx.chain else "the program")
    problem = verify(ctx, segs, rc)
    if problem:
        raise Fail(problem)
    return "%s, %s in %.1f s" % (" -> ".join(notes) or "no restart", status_str(rc),
                                 time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="the C program")
    ap.add_argument("--opt", default="O2", choices=["O0", "O1", "O2", "O3", "Os"])
    ap.add_argument("--args", default="", help="program arguments, one string, split like a shell")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in the environment of every run (repeatable)")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--chain", type=int, default=1, help="checkpoint+kill+restart links per trial")
    ap.add_argument("--mode", default="kill", choices=["kill", "interval", "self", "pipe"])
    ap.add_argument("--interval", type=float, help="interval mode: seconds (default T/5)")
    ap.add_argument("--timeout", type=float,
                    help="seconds a run may take before it counts as a hang (default 20*T+30)")
    ap.add_argument("--max-time", type=float, default=1800, help="limit for the whole driver")
    ap.add_argument("--cflags", default="", help="extra flags for both builds")
    ap.add_argument("--clang", help="plain clang for the reference (default: clang-19 on PATH)")
    ap.add_argument("--ckpt-cc", dest="ckpt_cc", help="default: ckpt-cc on PATH")
    ap.add_argument("--ckpt-run", dest="ckpt_run", help="default: ckpt-run on PATH")
    ap.add_argument("--workdir", help="where to make the temporary directory (default: TMPDIR)")
    ap.add_argument("--keep-temps", action="store_true")
    ap.add_argument("--expect-warning", action="append", default=[], metavar="REGEX",
                    help="a ckpt warning the program may get (state a checkpoint names "
                         "but cannot keep): such lines are left out of the comparison")
    a = ap.parse_args()

    seed = int(os.environ.get("CKPT_E2E_SEED") or time.time_ns() % 1000000007)
    trials = int(os.environ.get("CKPT_E2E_TRIALS") or a.trials)
    rng = random.Random(seed)
    name = os.path.basename(a.src)
    log("e2e: %s -%s mode=%s trials=%d chain=%d seed=%d (CKPT_E2E_SEED=%d reproduces the choices)"
        % (name, a.opt, a.mode, trials, a.chain, seed, seed))

    def on_signal(signum, frame):
        raise Fail("interrupted by %s" % signal.Signals(signum).name)

    def on_alarm(signum, frame):
        raise Fail("the driver ran longer than --max-time %.0f s" % a.max_time)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(a.max_time)))

    work = None
    ok = False
    misses = 0
    try:
        ctx = Ctx()
        ctx.mode, ctx.chain = a.mode, a.chain
        ctx.expected_warnings = a.expect_warning
        ctx.args = shlex.split(a.args)
        ctx.env = dict(os.environ)
        for var in ("CKPT_DIR", "CKPT_INTERVAL", "CKPT_KEEP", "CKPT_RESTORE"):
            ctx.env.pop(var, None)
        for kv in a.env:
            k, sep, v = kv.partition("=")
            if not sep:
                raise Fail("--env wants NAME=VALUE, got %r" % kv)
            ctx.env[k] = v
        src = os.path.abspath(a.src)
        if not os.path.isfile(src):
            raise Fail("no such program: %s" % src)
        clang = find_tool(a.clang or os.environ.get("CKPT_E2E_CLANG") or shutil.which("clang-19")
                          or "/usr/lib/llvm-19/bin/clang", "clang")
        ckpt_cc = find_tool(a.ckpt_cc, "ckpt-cc")
        ctx.ckpt_run = find_tool(a.ckpt_run, "ckpt-run")
        stem = os.path.splitext(name)[0]
        work = tempfile.mkdtemp(prefix="ckpt-e2e-%s-%s-%s-" % (stem, a.opt, a.mode), dir=a.workdir)
        ctx.work = work
        cflags = shlex.split(a.cflags)

        for cc, out in ((clang, "ref"), (ckpt_cc, "app")):
            cmd = [cc, "-" + a.opt] + cflags + [src, "-o", out, "-lm"]
            rc, o, e = run_capture(cmd, 300, "the build", cwd=work, env=ctx.env)
            if rc != 0:
                raise Fail("build failed (%s): %s\n%s%s" % (status_str(rc), shlex.join(cmd), o, e))

        def run_plain(exe, tag, timeout):
            out, err = os.path.join(work, tag + ".out"), os.path.join(work, tag + ".err")
            with open(out, "wb") as fo, open(err, "wb") as fe:
                rc, dt = run(["./" + exe] + ctx.args, timeout, exe, stdout=fo, stderr=fe,
                             cwd=work, env=ctx.env)
            return rc, dt, read_bytes(out), read_bytes(err)

        ctx.ref_rc, t_ref, ctx.ref_out, ctx.ref_err = run_plain("ref", "ref", a.timeout or 600)
        app_rc, t_app, app_out, app_err = run_plain("app", "standalone", a.timeout or 20 * t_ref + 60)
        log("reference: %s in %.2f s, stdout %d bytes, stderr %d bytes; instrumented alone: %.2f s"
            % (status_str(ctx.ref_rc), t_ref, len(ctx.ref_out), len(ctx.ref_err), t_app))
        if ctx.ref_rc < 0:
            raise Fail("the reference run was %s" % status_str(ctx.ref_rc))
        problems = [d for d in (compare("stdout", ctx.ref_out, app_out),
                                compare("stderr", ctx.ref_err, app_err)) if d]
        if app_rc != ctx.ref_rc:
            problems.append("exit status: expected %s, got %s" % (status_str(ctx.ref_rc), status_str(app_rc)))
        if problems:
            raise Fail("the instrumented binary run on its own differs from the reference:\n  "
                       + "\n  ".join(problems))
        if t_app < 0.3:
            log("  note: the program runs only %.2f s; random checkpoints have little room" % t_app)

        # Scheduling uses the instrumented binary's own run time.
        ctx.T = max(t_app, 0.05)
        ctx.hang_timeout = a.timeout or 20 * ctx.T + 30
        ctx.ckpt_timeout = 60 + 10 * ctx.T
        ctx.interval = a.interval or max(0.05, ctx.T / 5)
        ctx.socket_visible = None  # learnt from the first checkpoint request that works

        for i in range(trials):
            backoff = 1.0
            tries = 0
            while True:
                tdir = os.path.join(work, "trial%d" % (i + 1))
                if os.path.exists(tdir):
                    shutil.rmtree(tdir)
                os.makedirs(tdir)
                try:
                    note = run_trial(ctx, tdir, rng, backoff)
                    break
                except Miss as m:
                    misses += 1
                    tries += 1
                    log("trial %d/%d: miss: %s; retrying earlier" % (i + 1, trials, m))
                    if tries >= MAX_MISSES_PER_TRIAL:
                        raise Fail("trial %d missed %d times: the program ends before it can be "
                                   "checkpointed" % (i + 1, tries))
                    backoff *= 0.5
                except Fail as f:
                    raise Fail("trial %d/%d (%s): %s" % (i + 1, trials, tdir, f))
            log("trial %d/%d: ok: %s" % (i + 1, trials, note))
            if not a.keep_temps:
                shutil.rmtree(tdir, ignore_errors=True)
        ok = True
    except Fail as f:
        log("e2e: FAIL %s: %s" % (name, f))
    except Exception as ex:  # a bug in the driver itself still fails loudly
        import traceback
        traceback.print_exc()
        log("e2e: FAIL %s: driver error: %r" % (name, ex))
    finally:
        signal.alarm(0)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        cleanup()
    if ok:
        if work and not a.keep_temps:
            shutil.rmtree(work, ignore_errors=True)
        log("e2e: PASS (%d trials, %d misses)" % (trials, misses))
        return 0
    if work:
        log("e2e: kept %s" % work)
    return 1


if __name__ == "__main__":
    sys.exit(main())
