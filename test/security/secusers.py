"""secusers.py - the throwaway users test/security runs its attacks as.

ckpt-attacker is the hostile local user; ckpt-victim an unprivileged job
owner (for attacks between two ordinary users). Both are created once, on
demand, when the suite runs as root (useradd --system, no home, no shell);
lit.local.cfg calls ensure_users() and marks the tests unsupported, with the
reason, when they cannot exist.
"""
import fcntl, grp, os, pwd, shutil, stat, subprocess

USERS = ("ckpt-attacker", "ckpt-victim")
LOCK = "/run/lock/ckpt-security-users.lock" if os.path.isdir("/run/lock") else "/tmp/ckpt-security-users.lock"


def why_unsupported():
    """None when the users can be made and used, else the reason."""
    if os.geteuid() != 0:
        return "not running as root (the attacks need throwaway users; CI runs the suite as root)"
    if not shutil.which("useradd"):
        return "useradd is not installed"
    return None


def ensure_users():
    """Create the users if missing (idempotent, safe against a parallel
    run). Returns None, or the reason they cannot be had."""
    reason = why_unsupported()
    if reason:
        return reason
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in USERS:
            try:
                pwd.getpwnam(name)
                continue
            except KeyError:
                pass
            nologin = shutil.which("nologin") or "/usr/sbin/nologin"
            try:
                grp.getgrnam(name)  # left over from an earlier attempt
                group = ["--gid", name]
            except KeyError:
                group = ["--user-group"]
            r = subprocess.run(["useradd", "--system", "--no-create-home", *group,
                                "--shell", nologin, name], capture_output=True, text=True)
            if r.returncode != 0:
                try:
                    pwd.getpwnam(name)  # made by someone else meanwhile
                except KeyError:
                    return "useradd %s failed: %s" % (name, r.stderr.strip())
    return None


def user(name):
    """(uid, gid) of one of USERS."""
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def reachable_by_others(path):
    """Whether another user can reach PATH (search permission on every
    directory from / down to it, and on PATH itself)."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for i in range(1, len(parts) + 1):
        d = os.sep.join(parts[:i]) or os.sep
        try:
            st = os.stat(d)
        except OSError:
            return False
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH:
            return False
    return True


def work_base(preferred):
    """Where a test makes the directories its users work in: PREFERRED (the
    test's %t) when other users can reach it, else the system's temporary
    directory."""
    parent = os.path.dirname(os.path.abspath(preferred))
    if reachable_by_others(parent):
        return parent
    return "/tmp"


def suid_works(path):
    """Whether a set-user-ID program under PATH runs set-user-ID (the file
    system is not mounted nosuid)."""
    try:
        return not os.statvfs(path).f_flag & os.ST_NOSUID
    except OSError:
        return False


def suid_dir(preferred):
    """A directory other users can reach where set-user-ID works:
    PREFERRED, /tmp or /var/tmp, or None."""
    for d in (preferred, "/tmp", "/var/tmp"):
        if d and os.path.isdir(d) and reachable_by_others(d) and suid_works(d):
            return d
    return None
