"""attack.py - the attacks of issue #9, one subcommand per attack (or per
group of related ones), for test/security/*.test:

    attack.py SCENARIO WORKDIR

Run as root (lit.local.cfg requires it): root sets things up and plays the
privileged victim; ckpt-attacker (the hostile local user) and ckpt-victim
(an ordinary job owner) are throwaway users from secusers.py, and every
command is run as the user the attack needs, never as root for convenience.
Prints one line per observation for FileCheck; paths under the work
directory are shown as W/..., the users' uids as ATTACKER and VICTIM, and
process ids by their role (PID is the job's).

    CASE name exit=N lines=K FIRST-LINE   (K: stderr lines from ckpt)
"""
import atexit, ctypes, os, re, shutil, signal, socket, stat, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import secusers  # noqa: E402

BINDIR = os.environ.get("CKPT_BIN") or os.path.dirname(shutil.which("ckpt-run"))
CKPT_CC = os.path.join(BINDIR, "ckpt-cc")
CKPT_INSPECT = os.path.join(BINDIR, "ckpt-inspect")
CLANG = shutil.which("clang-19") or "clang"
JOB_SRC = os.path.join(HERE, "Inputs", "job.c")
PRELOAD_SRC = os.path.join(HERE, "Inputs", "fixedrandom.c")


def user_python():
    """A python the throwaway users can run (sys.executable may live under
    /root, e.g. pyenv)."""
    for cand in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if cand and os.path.exists(cand) and secusers.reachable_by_others(cand) and \
                os.stat(cand).st_mode & stat.S_IXOTH:
            return cand
    sys.exit("attack.py: no python3 that other users can run")


PY = user_python()

# ---- Helpers run as the throwaway users (python -c: they need not read this
# file, which may sit in a directory they cannot enter) ----------------------

# Connect to an abstract socket, ask for a checkpoint, report what came back.
RAW_CONNECT = r'''
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0" + sys.argv[1])
s.settimeout(4)
t = time.time()
try:
    s.sendall(b"checkpoint\n")
except (BrokenPipeError, ConnectionResetError):
    pass  # closed already; whatever it sent before is still readable
data, how = b"", "closed"
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except ConnectionResetError:
    pass
except socket.timeout:
    how = "still-open"
print("RAW %s reply=%r within-2s=%s" % (how, data.decode(errors="replace"),
      "yes" if time.time() - t < 2 else "no"), flush=True)
'''

# Hold N idle connections to an abstract socket (never sending a byte);
# with "watch", report how many the other side closed within 2 s.
IDLE = r'''
import select, socket, sys, time
name, n, watch = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "watch"
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0" + name)
    socks.append(s)
print("opened %d" % n, flush=True)
if watch:
    closed, deadline = set(), time.time() + 2
    while time.time() < deadline and len(closed) < n:
        r, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.1)
        for s in r:
            try:
                d = s.recv(1)
            except ConnectionResetError:
                d = b""
            if not d:
                closed.add(s)
    print("closed-within-2s %d/%d" % (len(closed), n), flush=True)
time.sleep(120)
'''

# Bind an abstract name first and answer every connection with a forged
# success; report what the clients sent.
SQUAT = r'''
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen(16)
print("bound", flush=True)
conns = got = 0
while True:
    c, _ = s.accept()
    conns += 1
    c.settimeout(1)
    try:
        got += len(c.recv(4096))
    except Exception:
        pass
    try:
        c.sendall(b"ok /etc/passwd\n")
    except Exception:
        pass
    c.close()
    print("SQUATTER connections=%d request-bytes=%d" % (conns, got), flush=True)
'''

TRY_READ = r'''
import sys
try:
    open(sys.argv[1], "rb").read()
    print("read")
except PermissionError:
    print("denied")
'''


class Ctx:
    def __init__(self, t):
        os.umask(0o022)
        self.uids = {}
        for who in ("attacker", "victim"):
            self.uids[who] = secusers.user("ckpt-" + who)
        self.uids["root"] = (0, 0)
        # The users must reach the work directory: %t, or /tmp when the
        # build tree is private (a build under /root).
        if secusers.reachable_by_others(os.path.dirname(os.path.abspath(t))):
            shutil.rmtree(t, ignore_errors=True)
            os.makedirs(t)
            self.w = os.path.realpath(t)
        else:
            self.w = tempfile.mkdtemp(prefix="ckpt-security-", dir="/tmp")
            atexit.register(shutil.rmtree, self.w, True)
        os.chmod(self.w, 0o755)
        self.procs = []
        self.pids = {}  # pid -> the name it is shown as
        atexit.register(self.cleanup)
        self.bin = self.mkdir("bin", "root", 0o755)
        # Where a job writes its marker, whoever runs it (sticky, like /tmp).
        self.markers = self.mkdir("markers", "root", 0o1777)
        # The tools the users run, where they can run them.
        if secusers.reachable_by_others(os.path.join(BINDIR, "ckpt-run")):
            self.ckpt_run = os.path.join(BINDIR, "ckpt-run")
        else:
            self.ckpt_run = os.path.join(self.bin, "ckpt-run")
            shutil.copy(os.path.join(BINDIR, "ckpt-run"), self.ckpt_run)
        self.home = {}
        for who in ("attacker", "victim", "root"):
            self.home[who] = self.mkdir(who, who, 0o755)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()

    # -- files and users --
    def path(self, *parts):
        return os.path.join(self.w, *parts)

    def mkdir(self, rel, who, mode):
        d = self.path(rel)
        os.makedirs(d, exist_ok=True)
        os.chown(d, *self.uids[who])
        os.chmod(d, mode)
        return d

    def mkfile(self, rel, who, mode, data=b""):
        p = self.path(rel)
        with open(p, "wb") as f:
            f.write(data)
        os.chown(p, *self.uids[who])
        os.chmod(p, mode)
        return p

    def as_user(self, who):
        """subprocess arguments to run as WHO, in WHO's directory (a job
        records its working directory; a restart goes back there)."""
        kw = {"cwd": self.home[who]} if hasattr(self, "home") else {}
        if who == "root":
            return kw
        uid, gid = self.uids[who]
        return dict(kw, user=uid, group=gid, extra_groups=[])

    def env(self, **extra):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        e.update(extra)
        return e

    def norm(self, s):
        s = s.replace(self.w, "W")
        names = {self.uids["attacker"][0]: "ATTACKER", self.uids["victim"][0]: "VICTIM"}
        s = re.sub(r"\buid (\d+)", lambda m: "uid " + names.get(int(m.group(1)), m.group(1)), s)
        for pid, name in self.pids.items():
            s = re.sub(r"(\bprocess |\bpid |ckpt-ctl-|\bof )%d\b" % pid, r"\g<1>" + name, s)
        return s

    # -- running --
    def run(self, cmd, who, env=None, timeout=60, **kw):
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=env or self.env(), **self.as_user(who), **kw)
        p.elapsed = time.time() - t0
        return p

    def start(self, cmd, who, out=None, err=None, env=None, **kw):
        """Start CMD as WHO in a session of its own (killed at exit); OUT and
        ERR are files WHO owns (the program may reopen them at a restart)."""
        files = []
        for rel in (out, err):
            if rel is None:
                files.append(subprocess.DEVNULL)
                continue
            p = self.path(rel)
            if not os.path.exists(p):
                self.mkfile(rel, who, 0o644)
            files.append(open(p, "ab"))
        p = subprocess.Popen(cmd, stdout=files[0], stderr=files[1], stdin=subprocess.DEVNULL,
                             env=env or self.env(), start_new_session=True, **self.as_user(who), **kw)
        for f in files:
            if f is not subprocess.DEVNULL:
                f.close()
        self.procs.append(p)
        return p

    def helper(self, code, args, who):
        """A python helper as WHO, stdout piped (line by line)."""
        p = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE, text=True,
                             env=self.env(), start_new_session=True, **self.as_user(who))
        self.procs.append(p)
        return p

    def job(self, who, ckdir, steps=3000, marker="-", stop="-", log="-", mode="no", exe=None,
            out=None, err=None, extra=(), env=None, role="PID", **kw):
        """WHO runs the job under ckpt-run --dir CKDIR."""
        exe = exe or self.path("bin", "job")
        cmd = [self.ckpt_run, *extra, "--dir", ckdir, "--", exe, str(steps), marker, stop, log, mode]
        if out is None:
            self.njobs = getattr(self, "njobs", 0) + 1
            out = f"{who}/job{self.njobs}.out"
        before = os.path.getsize(self.path(out)) if os.path.exists(self.path(out)) else 0
        p = self.start(cmd, who, out=out, err=err, env=env, **kw)
        self.pids[p.pid] = role
        self.wait_started(p, out, before)
        return p

    def wait_started(self, p, out, offset=0):
        """Wait until the job runs its main function (it printed "start"):
        ckpt-run --checkpoint waits for the control socket only once the
        process is the program, not while it is still ckpt-run, and a
        request before main is refused."""
        wait_socket(p.pid, p)
        def started():
            with open(self.path(out)) as f:
                f.seek(offset)
                return p.poll() is not None or "start" in f.read()
        wait_for(started, f"process {p.pid} to start")

    def checkpoint(self, pid, who):
        return self.run([self.ckpt_run, "--checkpoint", str(pid)], who)

    def stop_job(self, p, stop):
        """Let the job end by itself (the STOP file) and wait for it."""
        open(stop, "w").close()
        try:
            return p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            return p.wait()

    def kill(self, p):
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    # -- building --
    def build(self, name, extra=(), owner="root", mode=0o755):
        exe = self.path("bin", name)
        subprocess.run([CKPT_CC, "-O2", JOB_SRC, "-o", exe, *extra], check=True)
        os.chown(exe, *self.uids[owner])
        os.chmod(exe, mode)
        return exe

    # -- reporting --
    def case(self, name, p, extra=""):
        lines = [l for l in p.stderr.splitlines() if l.startswith("ckpt")]
        first = self.norm(lines[0]) if lines else "(no stderr)"
        print(f"CASE {name} exit={p.returncode} lines={len(lines)} {first}{extra}", flush=True)

    def marker(self, name, path):
        if os.path.exists(path):
            m = re.match(r"uid=(\d+)", open(path).readline())
            print(f"MARKER {name} present {self.norm('uid ' + m.group(1)) if m else '?'}", flush=True)
        else:
            print(f"MARKER {name} absent", flush=True)

    def restart_case(self, name, who, target, marker, extra=()):
        """ckpt-run --restart TARGET as WHO: its first line, and whether the
        restarted job ran (it writes MARKER)."""
        if os.path.exists(marker):
            os.unlink(marker)
        r = self.run([self.ckpt_run, "--restart", target, *extra], who)
        self.case(name, r)
        self.marker(name, marker)

    def files(self, name, d):
        names = sorted(n for n in os.listdir(d) if n != "ckpt.lock")
        print(f"FILES {name} {' '.join(names) if names else '(none)'}", flush=True)


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    sys.exit(f"attack.py: timed out waiting for {what}")


def listening(name):
    """Whether an abstract socket named exactly NAME (or starting with it,
    if NAME ends with '-') is listening, per /proc/net/unix."""
    with open("/proc/net/unix") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[-1].startswith("@"):
                sock = fields[-1][1:]
                if sock == name or (name.endswith("-") and sock.startswith(name)):
                    return sock
    return None


def wait_socket(pid, proc=None):
    """The job's control socket is up (it opens it before the program's main
    runs)."""
    def up():
        if proc is not None and proc.poll() is not None:
            sys.exit(f"attack.py: process {pid} exited ({proc.returncode}) before listening")
        return listening(f"ckpt-ctl-{pid}") or listening(f"ckpt-ctl-{pid}-")
    return wait_for(up, f"the control socket of {pid}")


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def mode(path):
    return "%04o" % stat.S_IMODE(os.lstat(path).st_mode)


def owner(ctx, path):
    uid = os.lstat(path).st_uid
    return {0: "root", ctx.uids["attacker"][0]: "attacker", ctx.uids["victim"][0]: "victim"}.get(uid, str(uid))


def children(pid):
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            kids += open(f"/proc/{pid}/task/{tid}/children").read().split()
        except OSError:
            pass
    return [int(k) for k in kids]


def comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return ""


def tmp_files(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".tmp"))


# ---- Scenarios -------------------------------------------------------------


def control(ctx):
    """Foreign users are refused by the control socket, without a reply, and
    their idle connections delay nobody; the owner's and root's requests are
    served, also while 20 idle connections of the owner are open."""
    ctx.build("job")
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    p = ctx.job("victim", ck, stop=stop, out="victim/out.txt", err="victim/err.txt")
    name = wait_socket(p.pid)
    print("SOCKET", ctx.norm(name))

    # The attacker speaks the protocol directly.
    h = ctx.helper(RAW_CONNECT, [name], "attacker")
    ctx.pids[h.pid] = "ATTACKERPID"
    print("ATTACKER", h.communicate(timeout=20)[0].strip())
    # ... and through ckpt-run.
    r = ctx.checkpoint(p.pid, "attacker")
    ctx.case("attacker-ckpt-run", r)
    ctx.files("after-attacker", ck)

    # 20 idle connections of the attacker: closed at once, and the owner's
    # checkpoint meanwhile is not held up.
    idle = ctx.helper(IDLE, [name, "20", "watch"], "attacker")
    print("ATTACKER-IDLE", idle.stdout.readline().strip())
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("victim-while-attacker-idle", r, " out=" + ctx.norm(r.stdout.strip()))
    print("VICTIM-WHILE-ATTACKER-IDLE under-4s", "yes" if r.elapsed < 4 else f"no ({r.elapsed:.1f}s)")
    print("ATTACKER-IDLE", idle.stdout.readline().strip())

    # 20 idle connections of the owner itself: they are accepted, and still
    # do not hold up the owner's ckpt-run --checkpoint (nor root's).
    own = ctx.helper(IDLE, [name, "20", "nowatch"], "victim")
    print("VICTIM-IDLE", own.stdout.readline().strip())
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("victim-while-own-idle", r, " out=" + ctx.norm(r.stdout.strip()))
    print("VICTIM-WHILE-OWN-IDLE under-4s", "yes" if r.elapsed < 4 else f"no ({r.elapsed:.1f}s)")
    r = ctx.checkpoint(p.pid, "root")
    ctx.case("root", r, " out=" + ctx.norm(r.stdout.strip()))
    print("ROOT under-4s", "yes" if r.elapsed < 4 else f"no ({r.elapsed:.1f}s)")
    ctx.kill(idle)
    ctx.kill(own)
    print("JOB exit", ctx.stop_job(p, stop))
    ctx.files("end", ck)
    err = [ctx.norm(l) for l in open(ctx.path("victim", "err.txt")).read().splitlines()]
    # At most one warning a second: 42 refused connections in a moment
    # give a line or two, never 42.
    print("STDERR lines", "1-3" if 1 <= len(err) <= 3 else len(err))
    for l in err:
        print("STDERR", l)


def squat(ctx):
    """The attacker binds @ckpt-ctl-PID before the job with that pid starts:
    the job starts anyway on another name, ckpt-run --checkpoint finds it and
    never sends a request to, nor believes, the squatter."""
    ctx.build("job")
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    cmd = ["sh", "-c", 'kill -STOP $$; exec "$0" "$@"', ctx.ckpt_run, "--dir", ck, "--",
           ctx.path("bin", "job"), "3000", "-", stop, "-", "no"]
    p = ctx.start(cmd, "victim", out="victim/out.txt", err="victim/err.txt")
    ctx.pids[p.pid] = "PID"
    wait_for(lambda: proc_state(p.pid) == "T", "the job's shell to stop")
    sq = ctx.helper(SQUAT, [f"ckpt-ctl-{p.pid}"], "attacker")
    print("SQUATTER", sq.stdout.readline().strip())
    os.kill(p.pid, signal.SIGCONT)
    alt = wait_for(lambda: listening(f"ckpt-ctl-{p.pid}-"), "the job's own socket")
    ctx.wait_started(p, "victim/out.txt")
    print("JOB-SOCKET", re.sub(r"-[0-9a-f]{16}$", "-RANDOM", ctx.norm(alt)))
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("victim", r, " out=" + ctx.norm(r.stdout.strip()))
    r = ctx.checkpoint(p.pid, "root")
    ctx.case("root", r, " out=" + ctx.norm(r.stdout.strip()))
    for f in ("ckpt-000001.ckpt", "ckpt-000002.ckpt"):
        fp = os.path.join(ck, f)
        print("CKPT", f, owner(ctx, fp) if os.path.exists(fp) else "missing")
    print("JOB exit", ctx.stop_job(p, stop))
    ctx.kill(sq)
    reports = [l.strip() for l in sq.stdout.read().splitlines() if l.startswith("SQUATTER")]
    print(reports[-1] if reports else "SQUATTER connections=0 request-bytes=0")
    print("OUT", open(ctx.path("victim", "out.txt")).read().splitlines()[-1])
    for l in open(ctx.path("victim", "err.txt")).read().splitlines():
        print("STDERR", re.sub(r"-[0-9a-f]{16}\b", "-RANDOM", ctx.norm(l)))


def dirs(ctx):
    """Checkpoint directories that are links, someone else's or shared are
    refused at launch (by ckpt-run, and by the program itself when started
    without it); directories ckpt-run creates are 0700, files 0600, whatever
    the umask; others cannot read a checkpoint."""
    ctx.build("job")
    shared = ctx.mkdir("shared", "root", 0o1777)
    ctx.mkdir("attacker/dir", "attacker", 0o777)  # "write your checkpoints here"
    ctx.mkdir("root/private", "root", 0o700)
    ctx.mkdir("victim/gw", "victim", 0o770)
    os.symlink(ctx.path("root", "private"), ctx.path("shared", "link"))  # planted by the attacker
    os.lchown(ctx.path("shared", "link"), *ctx.uids["attacker"])
    os.symlink(ctx.path("attacker", "dir"), ctx.path("victim", "link"))
    os.lchown(ctx.path("victim", "link"), *ctx.uids["victim"])
    marker = ctx.path("markers", "marker")
    job = [ctx.path("bin", "job"), "1", marker, "-", "-", "no"]

    def launch(name, who, d):
        if os.path.exists(marker):
            os.unlink(marker)
        r = ctx.run([ctx.ckpt_run, "--dir", d, "--", *job], who)
        ctx.case(name, r)
        ctx.marker(name, marker)

    # What the attacker plants in the shared directory first: the old
    # temporary name as a link to a file of root's, and the first
    # checkpoint's name as a 0666 file of his own.
    precious = ctx.mkfile("root/precious", "root", 0o644, b"precious\n")
    os.symlink(precious, ctx.path("shared", "ckpt-000001.ckpt.tmp"))
    os.lchown(ctx.path("shared", "ckpt-000001.ckpt.tmp"), *ctx.uids["attacker"])
    planted = ctx.mkfile("shared/ckpt-000001.ckpt", "attacker", 0o666)
    launch("root-shared-1777", "root", shared)
    print("SHARED-AFTER precious", open(precious).read().strip(), "planted size",
          os.path.getsize(planted), "owner", owner(ctx, planted))
    launch("root-attackers-dir", "root", ctx.path("attacker", "dir"))
    launch("root-link-in-shared", "root", ctx.path("shared", "link"))
    launch("root-link-in-shared-slash", "root", ctx.path("shared", "link") + "/")
    launch("victim-link-to-attackers-dir", "victim", ctx.path("victim", "link"))
    launch("victim-link-slash", "victim", ctx.path("victim", "link") + "/")
    launch("victim-attackers-dir", "victim", ctx.path("attacker", "dir"))
    launch("victim-group-writable", "victim", ctx.path("victim", "gw"))
    launch("victim-own-new-dir", "victim", ctx.path("victim", "okdir"))  # control: runs
    print("PRIVATE-DIR-AFTER", " ".join(os.listdir(ctx.path("root", "private"))) or "(empty)")
    print("ATTACKER-DIR-AFTER", " ".join(os.listdir(ctx.path("attacker", "dir"))) or "(empty)")

    # The program refuses the same directories when run without ckpt-run.
    for name, d in (("direct-link", ctx.path("victim", "link")), ("direct-shared", shared)):
        if os.path.exists(marker):
            os.unlink(marker)
        r = ctx.run(job, "victim", env=ctx.env(CKPT_DIR=d))
        ctx.case(name, r)
        ctx.marker(name, marker)

    # A new directory (and its parent) are made 0700, the checkpoint and the
    # lock 0600, even with umask 000; the attacker can read none of it, not
    # even from a pre-existing 0755 directory of the victim.
    new = ctx.path("victim", "new", "ck")
    old = ctx.mkdir("victim/old755", "victim", 0o755)
    stop = ctx.path("victim", "stop")
    for d in (new, old):
        p = ctx.job("victim", d, stop=stop, umask=0)
        r = ctx.checkpoint(p.pid, "victim")
        ctx.case("umask0-" + os.path.basename(d), r, " out=" + ctx.norm(r.stdout.strip()))
        ctx.stop_job(p, stop)
        os.unlink(stop)
        f = os.path.join(d, "ckpt-000001.ckpt")
        print("MODES", ctx.norm(d), "dir", mode(d), "ckpt", mode(f), "lock",
              mode(os.path.join(d, "ckpt.lock")), "owner", owner(ctx, f))
        h = ctx.helper(TRY_READ, [f], "attacker")
        print("ATTACKER-READ", ctx.norm(f), h.communicate(timeout=20)[0].strip())
    print("MODES W/victim/new", "dir", mode(ctx.path("victim", "new")))


def tmpfiles(ctx):
    """Names planted where the writer will create its temporary file: a
    symbolic link to a precious file and a file the attacker owns. To plant
    them at the exact name, the job runs with getrandom() made predictable
    (an LD_PRELOAD library), as if the name were guessable. The writer must
    neither follow the link nor write into the file."""
    ctx.build("job")
    so = ctx.path("bin", "fixedrandom.so")
    subprocess.run([CLANG, "-shared", "-fPIC", "-O2", PRELOAD_SRC, "-o", so], check=True)
    ck = ctx.mkdir("root/ck", "root", 0o700)
    target = ctx.mkfile("root/precious", "root", 0o644, b"precious\n")
    # A link with the old predictable name (NAME.tmp), planted before the
    # job starts: left alone, with a warning.
    os.symlink(target, os.path.join(ck, "ckpt-000001.ckpt.tmp"))
    stop = ctx.path("root", "stop")
    p = ctx.job("root", ck, stop=stop, out="root/out.txt", err="root/err.txt",
                env=ctx.env(LD_PRELOAD=so))
    wait_socket(p.pid)
    run_id = "41" * 16
    predicted = lambda seq: f"ckpt-{seq:06d}.ckpt.{run_id}-{'41' * 8}.tmp"
    # Checkpoint 1: a symbolic link at the temporary name.
    os.symlink(target, os.path.join(ck, predicted(1)))
    r = ctx.checkpoint(p.pid, "root")
    ctx.case("planted-link", r)
    print("PRECIOUS", open(target).read().strip(), mode(target))
    # Checkpoint 2: a file of the attacker's, mode 0666, at the name (a hard
    # link keeps it observable if the name is removed).
    planted = ctx.mkfile("attacker/planted", "attacker", 0o666)
    os.link(planted, os.path.join(ck, predicted(2)))
    r = ctx.checkpoint(p.pid, "root")
    ctx.case("planted-file", r)
    print("PLANTED size", os.path.getsize(planted), "owner", owner(ctx, planted))
    # Checkpoint 3: nothing planted; the names really are the predicted ones.
    r = ctx.checkpoint(p.pid, "root")
    ctx.case("nothing-planted", r, " out=" + ctx.norm(r.stdout.strip()))
    print("JOB alive-after-failures", "yes" if p.poll() is None else "no")
    print("JOB exit", ctx.stop_job(p, stop))
    print("PRECIOUS", open(target).read().strip())
    print("OLD-LINK", "symlink" if os.path.islink(os.path.join(ck, "ckpt-000001.ckpt.tmp")) else "gone")
    ctx.files("end", ck)
    for l in open(ctx.path("root", "err.txt")).read().splitlines():
        print("STDERR", ctx.norm(l))


def restart_owner(ctx):
    """ckpt-run --restart refuses checkpoints and directories someone else
    owns or can write; the recorded program is not executed."""
    ctx.build("job")
    shutil.copy(ctx.path("bin", "job"), ctx.path("attacker", "job"))  # the attacker's own copy
    os.chown(ctx.path("attacker", "job"), *ctx.uids["attacker"])
    # The attacker's checkpoint; its program writes MARKER (as whoever runs it).
    marker = ctx.path("markers", "marker")
    ctx.mkdir("attacker/ck", "attacker", 0o700)
    stop = ctx.path("stop")
    p = ctx.job("attacker", ctx.path("attacker", "ck"), marker=marker, stop=stop,
                exe=ctx.path("attacker", "job"), out="attacker/out.txt")
    r = ctx.checkpoint(p.pid, "attacker")
    ctx.kill(p)
    akpt = r.stdout.strip()
    print("ATTACKER-CKPT", ctx.norm(akpt), owner(ctx, akpt), mode(akpt))
    ctx.mkdir("shared", "root", 0o1777)
    shutil.copy(akpt, ctx.path("shared", "ckpt-000001.ckpt"))  # as the attacker would
    os.chown(ctx.path("shared", "ckpt-000001.ckpt"), *ctx.uids["attacker"])
    os.chmod(ctx.path("shared", "ckpt-000001.ckpt"), 0o644)  # for anyone to take
    open(stop, "w").close()  # a restarted job would end after one step

    def restart(name, who, target):
        ctx.restart_case(name, who, target, marker)

    restart("root-attackers-dir", "root", ctx.path("attacker", "ck"))
    restart("root-file-in-attackers-dir", "root", akpt)
    restart("root-shared-dir", "root", ctx.path("shared"))
    restart("root-attackers-file-in-shared", "root", ctx.path("shared", "ckpt-000001.ckpt"))
    restart("victim-attackers-file-in-shared", "victim", ctx.path("shared", "ckpt-000001.ckpt"))

    # Root's own checkpoint, made writable by others, or in a directory
    # others can write that has no sticky bit.
    ck = ctx.mkdir("root/ck", "root", 0o700)
    os.unlink(stop)
    p = ctx.job("root", ck, marker=marker, stop=stop, out="root/out.txt")
    r = ctx.checkpoint(p.pid, "root")
    ctx.kill(p)
    rkpt = r.stdout.strip()
    open(stop, "w").close()
    os.chmod(rkpt, 0o666)
    restart("root-file-0666", "root", rkpt)
    os.chmod(rkpt, 0o600)
    ctx.mkdir("open", "root", 0o777)
    shutil.copy(rkpt, ctx.path("open", "ckpt-000001.ckpt"))
    restart("root-file-in-0777-dir", "root", ctx.path("open", "ckpt-000001.ckpt"))
    # A directory holding a foreign file next to root's own: the foreign one
    # is skipped (it would be the newest), root's own is taken.
    shutil.copy(akpt, os.path.join(ck, "ckpt-000009.ckpt"))
    os.chown(os.path.join(ck, "ckpt-000009.ckpt"), *ctx.uids["attacker"])
    os.chmod(os.path.join(ck, "ckpt-000009.ckpt"), 0o600)
    restart("root-dir-with-foreign-newest", "root", ck)


def restart_binary(ctx):
    """The recorded binary must be the user's or root's and writable by
    nobody else."""
    ctx.build("job")
    ctx.build("job-w")
    shutil.copy(ctx.path("bin", "job"), ctx.path("attacker", "job"))
    os.chown(ctx.path("attacker", "job"), *ctx.uids["attacker"])
    marker = ctx.path("markers", "marker")
    stop = ctx.path("stop")

    def take(who, ckdir, exe):
        if os.path.exists(stop):
            os.unlink(stop)
        p = ctx.job(who, ckdir, marker=marker, stop=stop, exe=exe, out=f"{who}/out.txt")
        r = ctx.checkpoint(p.pid, who)
        ctx.kill(p)
        open(stop, "w").close()
        if r.returncode != 0:
            sys.exit("attack.py: checkpoint failed: " + r.stderr)
        return r.stdout.strip()

    def restart(name, who, target):
        ctx.restart_case(name, who, target, marker)

    # Root ran a binary the attacker owns (and could replace at any time).
    k = take("root", ctx.mkdir("root/ck1", "root", 0o700), ctx.path("attacker", "job"))
    restart("root-attackers-binary", "root", k)
    # A root-owned binary that others may write.
    k = take("root", ctx.mkdir("root/ck2", "root", 0o700), ctx.path("bin", "job-w"))
    os.chmod(ctx.path("bin", "job-w"), 0o757)
    restart("root-binary-0757", "root", k)
    os.chmod(ctx.path("bin", "job-w"), 0o775)
    restart("root-binary-0775", "root", k)
    os.chmod(ctx.path("bin", "job-w"), 0o755)
    restart("root-binary-0755", "root", k)
    # The victim ran the attacker's binary.
    k = take("victim", ctx.mkdir("victim/ck", "victim", 0o700), ctx.path("attacker", "job"))
    restart("victim-attackers-binary", "victim", k)
    # ... and a root-owned one: fine.
    k = take("victim", ctx.mkdir("victim/ck2", "victim", 0o700), ctx.path("bin", "job"))
    restart("victim-roots-binary", "victim", k)


def build_id(path):
    readelf = shutil.which("readelf") or shutil.which("llvm-readelf-19") or "llvm-readelf"
    out = subprocess.run([readelf, "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def identity(ctx):
    """A binary patched after linking keeps its build-id but not its hash:
    refused. A binary without a build-id checkpoints and restarts."""
    exe = ctx.build("job")
    orig = open(exe, "rb").read()
    marker = ctx.path("markers", "marker")
    stop = ctx.path("stop")
    ck = ctx.mkdir("victim/ck", "victim", 0o700)
    p = ctx.job("victim", ck, marker=marker, stop=stop, out="victim/out.txt")
    r = ctx.checkpoint(p.pid, "victim")
    ctx.kill(p)
    k = r.stdout.strip()
    open(stop, "w").close()

    def restart(name):
        ctx.restart_case(name, "victim", k, marker)

    def patch(data):
        # In place, as an attacker with write access to the file would.
        with open(exe, "r+b") as f:
            f.truncate(0)
            f.write(data)

    patch(orig.replace(b"JOB-MESSAGE-ORIGINAL", b"JOB-MESSAGE-PATCHED!"))
    print("PATCHED-RODATA build-id", "same" if build_id(exe) == build_id(ctx.path("bin", "job")) and
          build_id(exe) else "changed", "bytes-changed", sum(a != b for a, b in zip(orig, open(exe, "rb").read())))
    restart("patched-rodata")
    patch(orig + b"\0")
    restart("appended-byte")
    patch(orig)
    restart("original")
    print("OUT", open(ctx.path("victim", "out.txt")).read().splitlines()[-1])

    # No build-id: link as ckpt-cc does, with --build-id=none.
    nob = ctx.path("bin", "job-nobid")
    cmd = subprocess.run([CKPT_CC, "--ckpt-print-command", "-O2", JOB_SRC, "-o", nob],
                         capture_output=True, text=True, check=True).stdout
    argv = [a.strip("'") for a in cmd.split()]
    argv = ["-Wl,--build-id=none" if a == "-Wl,--build-id=sha1" else a for a in argv]
    subprocess.run(argv, check=True)
    print("NOBID build-id", build_id(nob) or "none")
    ck2 = ctx.mkdir("victim/ck2", "victim", 0o700)
    os.unlink(stop)
    p = ctx.job("victim", ck2, marker=marker, stop=stop, exe=nob, out="victim/out2.txt",
                err="victim/err2.txt")
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("nobid-checkpoint", r, " out=" + ctx.norm(r.stdout.strip()))
    print("NOBID job-alive", "yes" if p.poll() is None else "no")
    ctx.kill(p)
    k = r.stdout.strip()
    open(stop, "w").close()
    restart("nobid-restart")
    print("OUT", open(ctx.path("victim", "out2.txt")).read().splitlines()[-1])
    exe = nob
    orig = open(nob, "rb").read()
    patch(orig.replace(b"JOB-MESSAGE-ORIGINAL", b"JOB-MESSAGE-PATCHED!"))
    restart("nobid-patched")


def lock(ctx):
    """Two programs on one directory: the second fails at once, naming the
    directory and the first one's pid; the first goes on undisturbed."""
    ctx.build("job")
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    p1 = ctx.job("victim", ck, stop=stop, out="victim/out1.txt", role="PID1")
    r = ctx.checkpoint(p1.pid, "victim")
    ctx.case("first-checkpoint", r, " out=" + ctx.norm(r.stdout.strip()))
    marker2 = ctx.path("victim", "marker2")
    r = ctx.run([ctx.ckpt_run, "--dir", ck, "--", ctx.path("bin", "job"), "5", marker2, "-", "-", "no"],
                "victim")
    ctx.case("second", r)
    print("SECOND under-3s", "yes" if r.elapsed < 3 else f"no ({r.elapsed:.1f}s)")
    ctx.marker("second", marker2)
    # The same directory by another spelling.
    alias = ctx.path("victim", ".", "ck")
    r = ctx.run([ctx.ckpt_run, "--dir", alias, "--", ctx.path("bin", "job"), "5", marker2, "-", "-", "no"],
                "victim")
    ctx.case("second-alias", r)
    r = subprocess.run([CKPT_INSPECT, "--verify", os.path.join(ck, "ckpt-000001.ckpt")],
                       capture_output=True, text=True)
    print("FIRST-CKPT verify", r.returncode)
    r = ctx.checkpoint(p1.pid, "victim")
    ctx.case("first-again", r, " out=" + ctx.norm(r.stdout.strip()))
    print("FIRST exit", ctx.stop_job(p1, stop))
    ctx.files("end", ck)
    print("LOCK", mode(os.path.join(ck, "ckpt.lock")), owner(ctx, os.path.join(ck, "ckpt.lock")))
    # Once the first has ended, the directory is free.
    if os.path.exists(marker2):
        os.unlink(marker2)
    r = ctx.run([ctx.ckpt_run, "--dir", ck, "--", ctx.path("bin", "job"), "1", marker2, "-", "-", "no"],
                "victim")
    ctx.case("after-first-ended", r)
    ctx.marker("after-first-ended", marker2)


def prune(ctx):
    """--keep prunes only the run's own checkpoints: a later run in the same
    directory leaves an earlier run's files (and temporaries) alone."""
    ctx.build("job")
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    a = ctx.job("victim", ck, stop=stop, extra=["--keep", "1"], out="victim/a.txt")
    for _ in range(2):
        r = ctx.checkpoint(a.pid, "victim")
        ctx.case("A", r, " out=" + ctx.norm(r.stdout.strip()))
    print("A exit", ctx.stop_job(a, stop))
    os.unlink(stop)
    ctx.files("after-A", ck)
    # A temporary file another run left behind (its writer was killed).
    other = "ckpt-000007.ckpt." + "ab" * 16 + "-" + "cd" * 8 + ".tmp"
    ctx.mkfile(os.path.join("victim", "ck", other), "victim", 0o600, b"\0" * 128)
    b = ctx.job("victim", ck, stop=stop, extra=["--keep", "1"], out="victim/b.txt",
                err="victim/b-err.txt")
    for _ in range(3):
        r = ctx.checkpoint(b.pid, "victim")
        ctx.case("B", r, " out=" + ctx.norm(r.stdout.strip()))
    ctx.files("B-running", ck)
    print("B exit", ctx.stop_job(b, stop))
    ctx.files("after-B", ck)
    for l in open(ctx.path("victim", "b-err.txt")).read().splitlines():
        print("STDERR", ctx.norm(l))


def writer(ctx):
    """A writer that dies takes its temporary file with it; the program goes
    on and checkpoints again. A program that ends while its writer runs
    leaves no temporary either, and one killed while writing has its
    temporary removed by its own restart."""
    exe = ctx.build("job-hooks", ["--ckpt-test-hooks"])
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    marker = ctx.path("victim", "marker")
    # The writer sleeps 1.5 s after writing its buffer (before it renames
    # the file): time to see the temporary and to kill the writer.
    env = ctx.env(CKPT_TEST_WRITE_DELAY_MS="1500")
    p = ctx.job("victim", ck, marker=marker, stop=stop, exe=exe, env=env, out="victim/out.txt",
                err="victim/err.txt")
    wait_socket(p.pid)

    def background_checkpoint():
        c = subprocess.Popen([ctx.ckpt_run, "--checkpoint", str(p.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **ctx.as_user("victim"))
        ctx.procs.append(c)
        wait_for(lambda: tmp_files(ck), "the temporary file")
        return c

    c = background_checkpoint()
    print("TMP while writing", len(tmp_files(ck)))
    writers = [k for k in children(p.pid) if comm(k) == "job-hooks"]
    print("WRITERS", len(writers))
    for k in writers:
        os.kill(k, signal.SIGKILL)
    out, err = c.communicate(timeout=30)
    c.stderr = err
    ctx.case("writer-killed", c)
    print("TMP after writer killed", len(tmp_files(ck)))
    steps = len(open(marker).readlines())
    time.sleep(0.2)
    print("JOB alive", "yes" if p.poll() is None else "no",
          "running", "yes" if len(open(marker).readlines()) > steps else "no")
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("next", r, " out=" + ctx.norm(r.stdout.strip()))
    # Killed (the whole job, as kill -9 of its session) while writing.
    c = background_checkpoint()
    ctx.kill(p)
    c.wait(timeout=30)
    print("TMP after job killed", len(tmp_files(ck)))
    open(stop, "w").close()
    r = ctx.run([ctx.ckpt_run, "--restart", ck], "victim", env=env)
    ctx.case("restart", r)
    print("TMP after restart", len(tmp_files(ck)))
    ctx.files("after-restart", ck)
    # The program ends (normally) while its writer runs.
    os.unlink(stop)
    p = ctx.job("victim", ck, marker=marker, stop=stop, exe=exe, env=env, out="victim/out.txt")
    wait_socket(p.pid)
    c = background_checkpoint()
    print("JOB exit", ctx.stop_job(p, stop))
    c.stderr = c.communicate(timeout=30)[1]
    ctx.case("cut-short-by-exit", c)
    print("TMP after job ended", len(tmp_files(ck)))
    ctx.files("end", ck)


def hooks(ctx):
    """CKPT_TEST_WRITE_DELAY_MS slows the writer of a --ckpt-test-hooks
    build only; a production build ignores it (and does not contain it)."""
    prod = ctx.build("job")
    test = ctx.build("job-hooks", ["--ckpt-test-hooks"])
    print("PROD has-hook-string", "yes" if b"CKPT_TEST_WRITE_DELAY_MS" in open(prod, "rb").read() else "no")
    print("TEST has-hook-string", "yes" if b"CKPT_TEST_WRITE_DELAY_MS" in open(test, "rb").read() else "no")
    env = ctx.env(CKPT_TEST_WRITE_DELAY_MS="3000")
    for name, exe in (("prod", prod), ("test", test)):
        ck = ctx.path("victim", "ck-" + name)
        stop = ctx.path("victim", "stop-" + name)
        p = ctx.job("victim", ck, stop=stop, exe=exe, env=env)
        wait_socket(p.pid)
        r = ctx.checkpoint(p.pid, "victim")
        ctx.case(name, r, " out=" + ctx.norm(r.stdout.strip()))
        print(name.upper(), "delay", "honoured" if r.elapsed >= 2.8 else
              "ignored" if r.elapsed < 1.5 else f"unclear ({r.elapsed:.1f}s)")
        ctx.stop_job(p, stop)


def restart_stderr(ctx):
    """An error while the program is being restored reaches whoever ran
    ckpt-run --restart, not only the program's own stderr (a file here)."""
    ctx.build("job")
    ck = ctx.path("victim", "ck")
    stop = ctx.path("victim", "stop")
    marker = ctx.path("victim", "marker")
    log = ctx.path("victim", "log.bin")
    p = ctx.job("victim", ck, marker=marker, stop=stop, log=log, out="victim/out.txt",
                err="victim/err.txt")
    r = ctx.checkpoint(p.pid, "victim")
    ctx.case("checkpoint", r, " out=" + ctx.norm(r.stdout.strip()))
    ctx.kill(p)
    open(log, "w").close()  # the log the job had open is cut short
    open(stop, "w").close()
    os.unlink(marker)
    errsize = os.path.getsize(ctx.path("victim", "err.txt"))
    r = ctx.run([ctx.ckpt_run, "--restart", ck], "victim")
    ctx.case("restart", r)
    ctx.marker("restart", marker)
    tail = open(ctx.path("victim", "err.txt")).read()[errsize:]
    print("PROGRAM-STDERR", ctx.norm(tail.strip()) or "(nothing)")


# -- MAC --

def xxh64(data):
    lib = ctypes.CDLL("libxxhash.so.0")
    lib.XXH64.restype = ctypes.c_uint64
    lib.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
    return lib.XXH64(data, len(data), 0)


def fix_header(data):
    """Recompute the header checksum (offset 96: XXH64 of the 128 header
    bytes with the field zeroed), as anyone can without a key."""
    h = bytearray(data[:128])
    h[96:104] = b"\0" * 8
    h[96:104] = struct.pack("<Q", xxh64(bytes(h)))
    return bytes(h) + data[128:]


def mac(ctx):
    """--key-file: a restart with the key refuses files whose MAC does not
    verify (another key, changed contents) and files without a MAC; key files
    others can read, or that are someone else's, are refused."""
    ctx.build("job")
    key = ctx.mkfile("victim/key", "victim", 0o600, os.urandom(32))
    key2 = ctx.mkfile("victim/key2", "victim", 0o600, os.urandom(32))
    marker = ctx.path("victim", "marker")
    stop = ctx.path("victim", "stop")

    def take(ckdir, keyfile):
        if os.path.exists(stop):
            os.unlink(stop)
        extra = ["--key-file", keyfile] if keyfile else []
        p = ctx.job("victim", ckdir, marker=marker, stop=stop, extra=extra, out="victim/out.txt")
        r = ctx.checkpoint(p.pid, "victim")
        ctx.kill(p)
        open(stop, "w").close()
        return r.stdout.strip()

    def restart(name, target, keyfile):
        extra = ["--key-file", keyfile] if keyfile else []
        ctx.restart_case(name, "victim", target, marker, extra)

    good = take(ctx.path("victim", "ck"), key)
    flags = struct.unpack("<I", open(good, "rb").read()[20:24])[0]
    print("KEYED flags", flags)
    restart("right-key", good, key)
    restart("other-key", good, key2)
    nokey = take(ctx.path("victim", "ck-nokey"), None)
    restart("no-mac", nokey, key)
    data = open(good, "rb").read()
    ctx.mkdir("victim/t", "victim", 0o700)

    def tampered(name, content):
        t = ctx.mkfile(f"victim/t/{name}.ckpt", "victim", 0o600, content)
        v = subprocess.run([CKPT_INSPECT, "--verify", t], capture_output=True, text=True)
        print("TAMPERED", name, "checksums", "pass" if v.returncode == 0 else "FAIL")
        return t

    # Another creation time in the header, checksum recomputed.
    h = bytearray(data)
    h[24] ^= 0x01
    restart("changed-header", tampered("changed-header", fix_header(bytes(h))), key)
    # The MAC's own bytes changed.
    restart("changed-mac", tampered("changed-mac", data[:-1] + bytes([data[-1] ^ 1])), key)
    # The MAC stripped: flag cleared, 32 bytes cut, checksum recomputed.
    h = bytearray(data[:-32])
    h[20] &= ~1
    restart("stripped-mac", tampered("stripped-mac", fix_header(bytes(h))), key)
    # From a directory: the newest file has no MAC and is skipped.
    shutil.copy(nokey, ctx.path("victim", "ck", "ckpt-000009.ckpt"))
    os.chown(ctx.path("victim", "ck", "ckpt-000009.ckpt"), *ctx.uids["victim"])
    restart("dir-newest-without-mac", ctx.path("victim", "ck"), key)
    # Without the key: restarts, with a warning.
    restart("no-key-given", good, None)

    # Key files that are not private, or not the user's.
    open_key = ctx.mkfile("victim/key644", "victim", 0o644, os.urandom(32))
    theirs = ctx.mkfile("attacker/key", "attacker", 0o644, os.urandom(32))
    short = ctx.mkfile("victim/short", "victim", 0o600, b"0123456789")
    for name, k in (("key-0644", open_key), ("key-attackers", theirs), ("key-short", short)):
        if os.path.exists(marker):
            os.unlink(marker)
        r = ctx.run([ctx.ckpt_run, "--key-file", k, "--dir", ctx.path("victim", "ck-k"), "--",
                     ctx.path("bin", "job"), "1", marker, "-", "-", "no"], "victim")
        ctx.case("launch-" + name, r)
        ctx.marker("launch-" + name, marker)
    r = ctx.run([ctx.ckpt_run, "--dir", ctx.path("victim", "ck-k"), "--",
                 ctx.path("bin", "job"), "1", marker, "-", "-", "no"], "victim",
                env=ctx.env(CKPT_KEY_FILE=open_key))
    ctx.case("launch-env-key-0644", r)
    restart("restart-key-0644", good, open_key)


def setuid(ctx):
    """A set-user-ID root copy of a ckpt program takes no CKPT_* setting from
    its caller's environment: no checkpoint directory, no stats file, no
    restore from a file the caller chose."""
    base = secusers.suid_dir(ctx.w)
    d = tempfile.mkdtemp(prefix="ckpt-suid-", dir=base)
    atexit.register(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    exe = ctx.build("job")
    suid = os.path.join(d, "job-suid")
    shutil.copy(exe, suid)
    os.chmod(suid, 0o4755)
    shutil.copy(exe, ctx.path("attacker", "job"))
    os.chown(ctx.path("attacker", "job"), *ctx.uids["attacker"])
    rootck = ctx.mkdir("root/ck", "root", 0o700)
    stats = ctx.path("root", "stats")
    amark = ctx.path("attacker", "marker")

    # Control: the attacker's own (not set-user-ID) copy honours the same
    # variables: it checkpoints itself into the attacker's directory.
    ctx.mkdir("attacker/ck", "attacker", 0o700)
    r = ctx.run([ctx.path("attacker", "job"), "1", "-", "-", "-", "self"], "attacker",
                env=ctx.env(CKPT_DIR=ctx.path("attacker", "ck"),
                            CKPT_STATS_FILE=ctx.path("attacker", "stats")))
    print("PLAIN", " | ".join(r.stdout.splitlines()[:2]).replace(
        f"uid={ctx.uids['attacker'][0]}", "uid=ATTACKER"), "exit", r.returncode)
    print("PLAIN stats", "written" if os.path.exists(ctx.path("attacker", "stats")) else "absent")
    ctx.files("plain", ctx.path("attacker", "ck"))

    r = ctx.run([suid, "1", "-", "-", "-", "self"], "attacker",
                env=ctx.env(CKPT_DIR=rootck, CKPT_STATS_FILE=stats, CKPT_KEEP="1"))
    print("SUID", " | ".join(r.stdout.splitlines()[:2]).replace(f"uid={ctx.uids['attacker'][0]}", "uid=ATTACKER"),
          "exit", r.returncode)
    print("SUID stderr", ctx.norm(r.stderr.strip()) or "(nothing)")
    print("SUID stats", "written" if os.path.exists(stats) else "absent")
    ctx.files("suid-root-dir", rootck)

    # A checkpoint of the attacker's copy (same build-id), fed to the
    # set-user-ID one: restoring it would run the attacker's state as root.
    stop = ctx.path("attacker", "stop")
    p = ctx.job("attacker", ctx.path("attacker", "ck2"), marker=amark, stop=stop,
                exe=ctx.path("attacker", "job"))
    k = ctx.checkpoint(p.pid, "attacker").stdout.strip()
    ctx.kill(p)
    os.unlink(amark)
    open(stop, "w").close()
    r = ctx.run([suid, "1", "-", "-", "-", "no"], "attacker", env=ctx.env(CKPT_RESTORE=k))
    print("SUID-RESTORE", " | ".join(r.stdout.splitlines()[:2]).replace(
        f"uid={ctx.uids['attacker'][0]}", "uid=ATTACKER"), "exit", r.returncode)
    ctx.marker("suid-restore", amark)


SCENARIOS = {
    "control": control, "squat": squat, "dirs": dirs, "tmpfiles": tmpfiles,
    "restart-owner": restart_owner, "restart-binary": restart_binary, "identity": identity,
    "lock": lock, "prune": prune, "writer": writer, "hooks": hooks,
    "restart-stderr": restart_stderr, "mac": mac, "setuid": setuid,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: attack.py {%s} WORKDIR" % ",".join(SCENARIOS))
    reason = secusers.ensure_users()
    if reason:
        sys.exit("attack.py: " + reason)
    SCENARIOS[sys.argv[1]](Ctx(sys.argv[2]))
