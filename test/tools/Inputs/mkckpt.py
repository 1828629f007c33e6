"""mkckpt.py - writes synthetic checkpoint files for ckpt-inspect's tests.

Every value in them is known, so the tests can check ckpt-inspect's output
exactly, and each variant breaks one rule of docs/format.md, so the tests can
check that --verify names it. Sections are stored uncompressed (compression
0, which readers accept), so only XXH64 is needed; it is implemented here.

Usage: mkckpt.py OUTDIR [EXE]
           writes OUTDIR/<variant>.ckpt for every variant, naming EXE
           (default /nonexistent/prog) as the executable
       mkckpt.py --program EXE ADDRS OUT [--other-build]
           writes OUT, a checkpoint of the real executable EXE (its build-id,
           or another one with --other-build) whose main thread's frames are
           at the code addresses Inputs/frames_prog.c printed into ADDRS
"""
import os
import struct
import sys

# ---- XXH64 (seed 0), as in the xxHash specification ----
M64 = (1 << 64) - 1
P1, P2, P3 = 11400714785074694791, 14029467366897019727, 1609587929392839161
P4, P5 = 9650029242287828579, 2870177450012600261


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & M64, 31) * P1) & M64


def xxh64(data):
    n, i = len(data), 0
    if n >= 32:
        v = [(P1 + P2) & M64, P2, 0, (-P1) & M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for k in range(4):
            h = ((h ^ _round(0, v[k])) * P1 + P4) & M64
    else:
        h = P5
    h = (h + n) & M64
    while i + 8 <= n:
        h ^= _round(0, struct.unpack_from("<Q", data, i)[0])
        h = (_rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M64
        h = (_rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M64
        h = (_rotl(h, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    return h ^ (h >> 32)


# ---- Container (docs/format.md, "Container") ----
META, LAYOUT, GLOBALS, HEAP, THREADS, FILES, RTSTATE, EXCLUDED, HOOKS, MAPS, SIGNALS = range(1, 12)
MMAP_BASE = 0x600000000000  # CKPT_MMAP_BASE


VERSION = 5  # a decoded version: 6 is 5 plus LIBS (docs/inspect.md)
RUN_ID = bytes(range(0xa0, 0xb0))  # header run_id, from version 3


def container(sections, version=VERSION, build_id=b"\x11" * 20, sequence=7):
    """sections: list of (type, raw bytes), stored uncompressed. Files of
    version 3 and later carry a run id (zero before)."""
    body, table, off = b"", b"", 128
    for typ, raw in sections:
        table += struct.pack("<IIQQQQ", typ, 0, off, len(raw), len(raw), xxh64(raw))
        pad = (-len(raw)) % 8
        body += raw + b"\0" * pad
        off += len(raw) + pad
    header = bytearray(128)
    struct.pack_into("<8sIIII", header, 0, b"CKPTIMG\0", version, 128, 62, 0)
    struct.pack_into("<QQI", header, 24, 1700000000123456789, sequence, len(build_id))
    header[44:44 + len(build_id)] = build_id
    if version >= 3:
        header[104:120] = RUN_ID
    struct.pack_into("<IQQ", header, 76, len(sections), off, xxh64(table))
    struct.pack_into("<Q", header, 96, xxh64(bytes(header)))
    return bytes(header) + body + table


# ---- Section contents (docs/format.md, "Section contents") ----
HEAP_BASE, STACK_BASE, STRIDE = 0x400000000000, 0x500000000000, 0x40000000


def meta(exe, exe_hash=True):
    """The META records; EXE_HASH (from version 3) unless exe_hash is false."""
    def rec(tag, data):
        return struct.pack("<II", tag, len(data)) + data
    return (rec(1, os.fsencode(exe)) + rec(2, b"prog\0two words\0") + rec(3, b"A=1\0B=2\0")
            + rec(4, b"/work") + rec(5, struct.pack("<I", 0x40000))
            + rec(6, struct.pack("<Q", 4242)) + rec(7, b"/work/ck")
            + rec(8, struct.pack("<Q", 0)) + rec(9, struct.pack("<I", 2))
            + rec(10, struct.pack("<I", 0o22))
            + (rec(11, bytes(range(32))) if exe_hash else b""))


def layout(heap_end=HEAP_BASE + 0x10000):
    libs = [(0x7ffff7dc0000, b"/lib/x86_64-linux-gnu/libc.so.6"),
            (0x7ffff7fc3000, b"/lib64/ld-linux-x86-64.so.2")]
    out = struct.pack("<QQQQQII", HEAP_BASE, heap_end, STACK_BASE, STRIDE, 0x404000, len(libs), 0)
    for base, path in libs:
        out += struct.pack("<QII", base, len(path), 0) + path
    return out


def glob(addr, size, name, extents, excluded=0, flags=0):
    out = struct.pack("<QQQII", addr, size, excluded, len(name), flags) + name
    for off, data in extents:
        out += struct.pack("<QQ", off, len(data)) + data
    return out + struct.pack("<QQ", 0, 0)


def globals_(table_extents=((0, b"T" * 16), (32, b"U" * 16))):
    return (glob(0x404010, 8, b"counter", [(0, b"\x2a" + b"\0" * 7)])
            + glob(0x404020, 64, b"table", table_extents, excluded=16)
            + glob(0x404080, 32, b"secret", [], excluded=32, flags=1)
            + struct.pack("<QQQII", 0, 0, 0, 0, 0))


def heap(extents=((HEAP_BASE, 256), (HEAP_BASE + 0x1000, 512)), heap_end=HEAP_BASE + 0x10000):
    out = struct.pack("<QQQQ", heap_end, 3, 4096, 1024)
    for addr, n in extents:
        out += struct.pack("<QQ", addr, n) + b"\xab" * n
    return out + struct.pack("<QQ", 0, 0)


def slot_hi(slot):
    return STACK_BASE + (slot + 1) * STRIDE


def user_top(slot):
    """Where a thread's first runtime frame starts: 64 bytes below the main
    thread's stack top, 64 KiB below the others' (glibc's descriptor, static
    TLS and start_thread's frame are above it, not saved)."""
    return slot_hi(slot) - (64 if slot == 0 else 0x10000)


STACK_HI = slot_hi(0)
PARKED, IN_CALL, NEW, EXITED = 2, 3, 4, 5
CALL_CHECKPOINT, CALL_REISSUE, CALL_COND_WAIT, CALL_SLEEP, CALL_IO, CALL_COMPLETED = range(1, 7)
GUARD = 0x5eed0badc0ffee00  # the process's stack canary (low byte 0, as glibc's)
# struct ckpt_frame_rec's kind and flags.
PROGRAM, RUNTIME = 1, 2
EXACT_PC = 1


def frame(name, file, pc, cfa, func, kind=PROGRAM, flags=0, excluded=0, reserved=0):
    """One native frame: pc a return address into it (an exact pc with
    EXACT_PC), cfa the caller's sp before the call, func its function's
    start. Its excluded locals are the `excluded` bytes below the return
    address at cfa - 8."""
    return dict(name=name, file=file, pc=pc, cfa=cfa, func=func, kind=kind, flags=flags,
                excluded=excluded, reserved=reserved)


# Outermost first: main (recorded as main, as the pass names the user's
# main in its descriptor, not __ckpt_main, its symbol) and two
# levels of recursion, the innermost stopped at a poll (its pc is where the
# thread resumes).
FRAMES = [frame(b"main", b"prog.c", 0x401164, STACK_HI - 0x100, 0x401100),
          frame(b"recurse", b"prog.c", 0x401a47, STACK_HI - 0x200, 0x401a00, excluded=8),
          frame(b"recurse", b"prog.c", 0x401a2c, STACK_HI - 0x300, 0x401a00, excluded=8)]
# A second thread waiting for work: its start routine is the outermost
# frame, the innermost is the runtime's wrapper it waits in (which records
# no name).
WORKER_FRAMES = [frame(b"worker", b"worker.c", 0x402128, user_top(1) - 0x100, 0x402100),
                 frame(b"wait_for_work", b"worker.c", 0x402163, user_top(1) - 0x180, 0x402140),
                 frame(b"", b"", 0x4023f7, user_top(1) - 0x200, 0x4023c0, kind=RUNTIME)]
# The pthread keys: (destructor, alive, reserved). Key 1 was deleted.
KEYS = [(0x401250, 1, 0), (0, 0, 0)]


# struct ckpt_call_point (runtime/callpoint.h), 72 bytes.
RESUME = ("rip", "rsp", "rbx", "rbp", "r12", "r13", "r14", "r15", "mxcsr", "fpu_cw", "reserved")


def call_point(rip, rsp):
    """Where a stopped thread resumes: the registers a call preserves."""
    return dict(rip=rip, rsp=rsp, rbx=0x1, rbp=rsp + 0x40, r12=0x400000000100, r13=0,
                r14=0x404010, r15=0x7, mxcsr=0x1f80, fpu_cw=0x37f, reserved=0)


def thread(slot, state, frames=(), rip=0, **kw):
    """A thread record's fields (docs/format.md, THREADS), defaults filled.
    tls_len, nkey_values and nframes default to what follows the record. A
    PARKED or IN_CALL thread's saved stack starts 0x80 bytes below its
    innermost frame's cfa, where it resumes (at rip); its extents
    ("stack": (addr, len) pairs) default to the range minus the frames'
    excluded locals, computed when the record is written."""
    ptid = 0x7ffff7d8a740 if slot == 0 else slot_hi(slot) - 0x6c0
    stopped = state in (PARKED, IN_CALL)
    save_lo = min(f["cfa"] for f in frames) - 0x80 if stopped and frames else 0
    t = dict(slot=slot, state=state, frames=list(frames),
             park_kind={PARKED: 1, IN_CALL: 2}.get(state, 0),
             stack_lo=slot_hi(slot) - 0x100000, stack_hi=slot_hi(slot),
             user_top=user_top(slot), save_lo=save_lo, guard=GUARD,
             ptid=ptid, start_fn=0, start_arg=0, retval=0,
             tls_block=ptid - 0x10, tls=b"", key_values=[], call_kind=0,
             detached=0, deadline=0, result=0, errno=0, fd=0, callee=0,
             resume=call_point(rip, save_lo) if save_lo else dict.fromkeys(RESUME, 0))
    t.update(kw)
    t.setdefault("nframes", len(t["frames"]))
    return t


def default_stack(t):
    """[save_lo, user_top) without the frames' excluded locals, as extents."""
    if not t["frames"]:
        return []
    holes = sorted((f["cfa"] - 8 - f["excluded"], f["cfa"] - 8)
                   for f in t["frames"] if f["excluded"])
    out, at = [], t["save_lo"]
    for lo, hi in holes + [(t["user_top"], t["user_top"])]:
        if lo > at:
            out.append((at, lo - at))
        at = max(at, hi)
    return out


def stack_bytes(t, addr, n):
    """What the stack holds at [addr, addr + n): a filler, with the return
    address into each frame's caller at the frame's cfa - 8."""
    buf = bytearray(b"\x5a" * n)
    frames = t["frames"]
    for caller, callee in zip(frames, frames[1:]):
        for i, byte in enumerate(struct.pack("<Q", caller["pc"])):
            if addr <= callee["cfa"] - 8 + i < addr + n:
                buf[callee["cfa"] - 8 + i - addr] = byte
    return bytes(buf)


def good_threads():
    """The main thread stopped at a poll, a worker in a condition wait, a
    thread not started yet and one that finished and was not joined."""
    return [thread(0, PARKED, FRAMES, rip=0x401a2c, tls=b"T" * 16,
                   key_values=[0x400000000100, 0]),
            thread(1, IN_CALL, WORKER_FRAMES, rip=0x4023f7, call_kind=CALL_COND_WAIT,
                   callee=0x4023c0, start_fn=0x401200, start_arg=0x400000000300,
                   tls=b"U" * 16, key_values=[0x400000000200, 0x77]),
            thread(2, NEW, start_fn=0x401200, start_arg=0x3, detached=1, tls_block=0),
            thread(3, EXITED, start_fn=0x401300, start_arg=0, retval=0x2a, tls=b"V" * 16,
                   key_values=[0, 0])]


def call_threads():
    """The main thread in ckpt_checkpoint, others in every other kind of call.
    Each waits in a runtime frame under its one program frame; the reader's
    stopped at an exact pc (as a thread interrupted anywhere would be)."""
    def one(slot, kind, name, flags=0, **kw):
        top = user_top(slot)
        frames = [frame(name, b"calls.c", 0x402210 + 0x40 * slot, top - 0x100,
                        0x402200 + 0x40 * slot),
                  frame(b"ckpt_wrapper", b"", 0x402500 + 0x10 * kind, top - 0x140,
                        0x402480 + 0x10 * kind, kind=RUNTIME, flags=flags)]
        return thread(slot, IN_CALL, frames, rip=0x402500 + 0x10 * kind, call_kind=kind,
                      callee=0x402480 + 0x10 * kind, start_fn=0x401400 + slot,
                      start_arg=slot, **kw)
    checkpoint = frame(b"ckpt_checkpoint", b"", 0x4024f3, STACK_HI - 0x340, 0x4024c0,
                       kind=RUNTIME)
    return [thread(0, IN_CALL, FRAMES + [checkpoint], rip=0x4024f3,
                   call_kind=CALL_CHECKPOINT, callee=0x4024c0),
            one(1, CALL_REISSUE, b"locker"),
            one(2, CALL_SLEEP, b"sleeper", deadline=1700000005250000000),
            one(3, CALL_IO, b"reader", flags=EXACT_PC, fd=5),
            one(4, CALL_COMPLETED, b"writer", fd=6, result=-1, errno=11),
            one(5, CALL_COMPLETED, b"writer", fd=7, result=12)]


def frames_bytes(frames):
    """The frame records, outermost first (no bytes: they are in the stack)."""
    out = b""
    for f in frames:
        out += struct.pack("<QQQIIIIII", f["pc"], f["cfa"], f["func"], f["kind"], f["flags"],
                           len(f["name"]), len(f["file"]), f["excluded"], f["reserved"])
        out += f["name"] + f["file"]
    return out


def threads(specs=None, keys=KEYS, nthreads=None, nkeys=None):
    specs = good_threads() if specs is None else specs
    out = struct.pack("<II", len(specs) if nthreads is None else nthreads,
                      len(keys) if nkeys is None else nkeys)
    for destructor, alive, reserved in keys:
        out += struct.pack("<QII", destructor, alive, reserved)
    for t in specs:
        tls_len = t.get("tls_len", len(t["tls"]))
        nkv = t.get("nkey_values", len(t["key_values"]))
        out += struct.pack("<IIIIQQQQQQQQQQIIIIqqiiQ", t["slot"], t["park_kind"], t["nframes"],
                           t["state"], t["stack_lo"], t["stack_hi"], t["user_top"],
                           t["save_lo"], t["guard"], t["ptid"], t["start_fn"],
                           t["start_arg"], t["retval"], t["tls_block"], tls_len, nkv,
                           t["call_kind"], t["detached"], t["deadline"], t["result"],
                           t["errno"], t["fd"], t["callee"])
        out += struct.pack("<8QIHH", *(t["resume"][k] for k in RESUME))
        out += t["tls"] + b"".join(struct.pack("<Q", v) for v in t["key_values"])
        out += frames_bytes(t["frames"])
        # The stack follows the frames of a thread that has some.
        if t["frames"]:
            for addr, n in t["stack"] if "stack" in t else default_stack(t):
                out += struct.pack("<QQ", addr, n) + stack_bytes(t, addr, n)
            out += struct.pack("<QQ", 0, 0)
    return out


def changed(index, **kw):
    """The good threads with the fields of thread INDEX (in slot INDEX) changed."""
    specs = good_threads()
    specs[index].update(kw)
    return specs


O_WRONLY, O_RDWR, O_APPEND, O_CLOEXEC, O_LARGEFILE = 1, 2, 0o2000, 0o2000000, 0o100000


def files(same_as_2=1, deleted=None, mode=0o600, hash_on=None, deleted_size=None):
    """FILES; deleted: the content of a deleted file at fd 4 (kind 4, with
    its permission bits); hash_on: the kind of the file given a content
    hash (1, regular, is right; others are damage)."""
    recs = [(0, 2, O_RDWR | O_LARGEFILE, 0, 0, -1, b"/dev/null", 0, 0, b""),
            (1, 1, O_WRONLY | O_APPEND, 12, 12, -1, b"/tmp/out.txt", 0,
             0x1234567890abcdef, b""),
            (2, 1, O_WRONLY | O_APPEND, 12, 12, same_as_2, b"/tmp/out.txt", 0, 0, b""),
            (3, 1, O_CLOEXEC, 5, 100, -1, b"/data/in put.txt", 0, 0, b"")]
    if deleted is not None:
        size = len(deleted) if deleted_size is None else deleted_size
        recs.append((4, 4, O_RDWR, 3, size, -1, b"/tmp/#spill (deleted)", mode,
                     0, deleted))
    if hash_on is not None:
        recs = [r[:8] + ((7 if r[1] == hash_on else 0),) + r[9:] for r in recs]
    out = struct.pack("<II", len(recs), 0)
    for fd, kind, flags, off, size, same, path, mode_, chash, content in recs:
        out += struct.pack("<iIiIQQiIQ", fd, kind, flags, len(path), off, size, same,
                           mode_, chash) + path + content
    return out


def rtstate():
    return struct.pack("<Q", 16) + bytes(range(16))


def excluded(ranges=((0x404070, 16), (HEAP_BASE + 0x1200, 1024))):
    out = struct.pack("<Q", len(ranges))
    for addr, n in ranges:
        out += struct.pack("<QQ", addr, n)
    return out


def hooks(extra=b""):
    return struct.pack("<Q", 1) + struct.pack("<QQ", 0x401136, 0x404070) + extra


def maps(shared_bytes=False):
    """MAPS (sections.h ckpt_map_rec): an anonymous private piece of 2 pages
    with 16 bytes saved, then a shared file mapping (no bytes)."""
    rec = lambda lo, hi, off, prot, kind, path: struct.pack(
        "<QQQIIII", lo, hi, off, prot, kind, len(path), 0) + path
    out = rec(MMAP_BASE, MMAP_BASE + 0x2000, 0, 3, 1, b"")
    out += struct.pack("<QQ", MMAP_BASE + 0x100, 16) + bytes(range(16)) + struct.pack("<QQ", 0, 0)
    out += rec(MMAP_BASE + 0x200000, MMAP_BASE + 0x201000, 0x3000, 3, 4, b"/data/table.dat")
    if shared_bytes:
        out += struct.pack("<QQ", MMAP_BASE + 0x200000, 8) + b"\1" * 8
    out += struct.pack("<QQ", 0, 0)
    return out + struct.pack("<QQQIIII", 0, 0, 0, 0, 0, 0, 0)


# Signal numbers (x86-64 Linux; glibc's SIGRTMIN is 34), and the constants
# of ckpt_thread_signals_rec.altstack_flags, ckpt_pending_rec.info's si_code
# and ckpt_timer_rec.notify and clock.
SIGINT, SIGKILL, SIGUSR1, SIGUSR2, SIGALRM = 2, 9, 10, 12, 14
SIGTERM, SIGCHLD, SIGSTOP, SIGRTMIN = 15, 17, 19, 34
SS_ONSTACK, SS_DISABLE = 1, 2
SI_USER, SI_QUEUE = 0, -1
SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID = 0, 1, 4
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1


def sigset(*signos):
    """A signal set: bit n-1 for signal n."""
    return sum(1 << (n - 1) for n in set(signos))


def signal_thread(slot, mask=0, pending=0, altstack=None, flags=None):
    """A ckpt_thread_signals_rec; altstack (sp, size), or none (SS_DISABLE)."""
    sp, size = altstack or (0, 0)
    if flags is None:
        flags = 0 if altstack else SS_DISABLE
    return struct.pack("<IiQQQQ", slot, flags, mask, pending, sp, size)


def pending_signal(signo, code=SI_USER, pid=4242, uid=1000, info_signo=None, has_info=1):
    """A ckpt_pending_rec: the signal, has_info, and its 128-byte siginfo_t
    (si_signo, si_errno, si_code, then si_pid and si_uid at 16 and 20); all
    zero when has_info is 0 (a standard signal kept by number)."""
    info = b""
    if has_info:
        info = struct.pack("<iii4xiI", signo if info_signo is None else info_signo, 0,
                           code, pid, uid)
    return struct.pack("<II", signo, has_info) + info.ljust(128, b"\0")


def posix_timer(id, clock, notify, signo, value=0, slot=0, value_ns=0, interval_ns=0,
                reserved=0):
    """A ckpt_timer_rec."""
    return struct.pack("<iiiiQIIQQ", id, clock, notify, signo, value, slot, reserved,
                       value_ns, interval_ns)


def good_signal_threads():
    """One record per thread of good_threads() that has not exited: the
    main thread blocks SIGUSR1, the worker and the new thread nothing."""
    return [signal_thread(0, mask=sigset(SIGUSR1)), signal_thread(1), signal_thread(2)]


def signals(thread_recs=None, pending=(), itimers=((0, 0),) * 3, timers=(), counts=None,
            reserved=0):
    """SIGNALS (sections.h ckpt_signals_head): the thread records, pending
    signals and timers given (already packed), the three interval timers as
    (value_ns, interval_ns); counts (nthreads, npending, ntimers) default to
    those of the records."""
    thread_recs = good_signal_threads() if thread_recs is None else thread_recs
    n = counts or (len(thread_recs), len(pending), len(timers))
    out = struct.pack("<IIII", *n, reserved)
    for value, interval in itimers:
        out += struct.pack("<QQ", value, interval)
    return out + b"".join(thread_recs) + b"".join(pending) + b"".join(timers)


def busy_signals():
    """Every part of SIGNALS in use: a thread blocking nearly everything,
    one with a run of realtime signals blocked, signals pending for a thread
    and for the process, a sigaltstack, two interval timers and three POSIX
    timers (signal, thread, none)."""
    everything = (1 << 64) - 1 & ~sigset(SIGKILL, SIGSTOP, 32, 33)
    thread_recs = [
        signal_thread(0, mask=everything, altstack=(MMAP_BASE + 0x10000, 0x10000)),
        signal_thread(1, mask=sigset(SIGINT, SIGTERM, *range(SIGRTMIN + 2, SIGRTMIN + 7)),
                      pending=sigset(SIGUSR2, SIGRTMIN + 20),
                      altstack=(MMAP_BASE + 0x30000, 0x8000), flags=SS_ONSTACK),
        signal_thread(2, mask=sigset(64))]
    pending = [pending_signal(SIGUSR2, code=SI_QUEUE, pid=4243),
               pending_signal(SIGRTMIN + 3, code=SI_USER, pid=1, uid=0),
               pending_signal(SIGCHLD, code=1, pid=4300),
               pending_signal(SIGUSR1, has_info=0)]
    itimers = [(1500000000, 250000000), (0, 0), (10000000, 0)]
    timers = [posix_timer(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 2, value=0x99,
                          value_ns=750000000, interval_ns=1000000000),
              posix_timer(3, CLOCK_REALTIME, SIGEV_THREAD_ID, SIGALRM, slot=1,
                          interval_ns=5000000000),
              posix_timer(7, -6, SIGEV_NONE, 0, value_ns=2000123456)]
    return signals(thread_recs, pending, itimers, timers)


def good_sections(exe):
    return [(META, meta(exe)), (LAYOUT, layout()), (RTSTATE, rtstate()),
            (GLOBALS, globals_()), (HEAP, heap()), (FILES, files()),
            (THREADS, threads()), (EXCLUDED, excluded()), (HOOKS, hooks()),
            (MAPS, maps()), (SIGNALS, signals())]


def replace(sections, typ, raw):
    return [(t, raw if t == typ else r) for t, r in sections]


def variants(exe):
    good = good_sections(exe)
    def bad_frame(index, **kw):
        """The main thread's frames with frame INDEX (outermost first) changed."""
        frames = [dict(f) for f in FRAMES]
        frames[index].update(kw)
        return container(replace(good, THREADS, threads(changed(0, frames=frames))))
    # The main thread's saved stack: three extents around two excluded locals.
    main_stack = default_stack(good_threads()[0])
    assert len(main_stack) == 3
    worker = good_threads()[1]
    no_saved_stack = dict(save_lo=0, resume=dict.fromkeys(RESUME, 0), callee=0)
    flipped = bytearray(container(good))
    flipped[128 + len(good[0][1]) + 20] ^= 0x40  # inside LAYOUT's stored bytes
    return {
        "good": container(good),
        # Older formats: only META and the table are read. Version 3 and 4
        # sections read as version 5's but THREADS, whose layout changed:
        # left out.
        "v1": container([(META, meta(exe, exe_hash=False)), (HEAP, b"\x01" * 24)], version=1),
        "v3": container([s for s in good if s[0] not in (THREADS, MAPS, SIGNALS)], version=3),
        "v4": container([s for s in good if s[0] not in (THREADS, MAPS, SIGNALS)], version=4),
        # Container-valid files whose sections break a rule.
        "global-extent-order": container(replace(good, GLOBALS, globals_(((32, b"U" * 16), (0, b"T" * 16))))),
        "global-extent-past-end": container(replace(good, GLOBALS, globals_(((0, b"T" * 16), (56, b"U" * 16))))),
        "heap-extent-outside": container(replace(good, HEAP, heap(((HEAP_BASE, 256), (HEAP_BASE + 0xff00, 512))))),
        # Frame records: one file per rule.
        "frame-kind": bad_frame(1, kind=3),
        "frame-flags": bad_frame(2, flags=6),
        "frame-exact-pc-outer": bad_frame(1, flags=EXACT_PC),
        "frame-reserved": bad_frame(0, reserved=1),
        "frame-func-above-pc": bad_frame(1, func=0x401a50),
        "frame-no-func": bad_frame(0, func=0),
        "frame-excluded": bad_frame(2, excluded=1 << 31),
        "frame-cfa-above-top": bad_frame(0, cfa=user_top(0) + 0x10),
        "frame-cfa-below-save": bad_frame(2, cfa=STACK_HI - 0x400),
        "frame-cfa-order": bad_frame(2, cfa=STACK_HI - 0x1f0),
        "too-many-threads": container(replace(good, THREADS, threads(nthreads=1000000))),
        # THREADS: one file per rule of the thread and key records.
        "key-alive": container(replace(good, THREADS, threads(keys=[KEYS[0], (0, 2, 0)]))),
        "key-reserved": container(replace(good, THREADS, threads(keys=[(0x401250, 1, 9), KEYS[1]]))),
        "too-many-keys": container(replace(good, THREADS, threads(nkeys=5000))),
        "thread-state": container(replace(good, THREADS, threads(changed(3, state=6)))),
        "parked-no-frames": container(replace(good, THREADS, threads(changed(0, frames=[], nframes=0)))),
        "new-with-frames": container(replace(good, THREADS, threads(
            changed(1, state=NEW, park_kind=0, call_kind=0, stack=default_stack(worker),
                    **no_saved_stack)))),
        "park-kind": container(replace(good, THREADS, threads(changed(0, park_kind=2)))),
        "park-kind-unknown": container(replace(good, THREADS, threads(changed(1, park_kind=7)))),
        "call-kind-missing": container(replace(good, THREADS, threads(changed(1, call_kind=0)))),
        "call-kind-unknown": container(replace(good, THREADS, threads(changed(1, call_kind=7)))),
        "call-kind-parked": container(replace(good, THREADS, threads(changed(0, call_kind=3)))),
        "main-start-fn": container(replace(good, THREADS, threads(changed(0, start_fn=0x401200)))),
        "no-start-fn": container(replace(good, THREADS, threads(changed(3, start_fn=0)))),
        "main-new": container(replace(good, THREADS, threads(
            changed(0, state=NEW, park_kind=0, frames=[], nframes=0, **no_saved_stack)))),
        "too-many-key-values": container(replace(good, THREADS, threads(changed(1, key_values=[1, 2, 3])))),
        "tls-too-big": container(replace(good, THREADS, threads(changed(3, tls_len=1 << 20)))),
        "tls-no-block": container(replace(good, THREADS, threads(changed(3, tls_block=0)))),
        "tls-size-differs": container(replace(good, THREADS, threads(changed(3, tls=b"V" * 24)))),
        "detached-field": container(replace(good, THREADS, threads(changed(2, detached=2)))),
        "slot-twice": container(replace(good, THREADS, threads(changed(3, slot=2)))),
        "slot-order": container(replace(good, THREADS, threads(
            [good_threads()[i] for i in (0, 2, 1, 3)]))),
        "no-main-thread": container(replace(good, THREADS, threads(good_threads()[1:]))),
        "stack-outside-slot": container(replace(good, THREADS, threads(changed(2, stack_hi=slot_hi(2) + 0x1000)))),
        # The saved stack: user_top inside the stack, the range from the
        # resume point's rsp (stopped threads only), extents inside it.
        "user-top-outside": container(replace(good, THREADS, threads(changed(3, user_top=slot_hi(3) + 0x10000)))),
        "resume-rsp": container(replace(good, THREADS, threads(changed(
            0, resume=call_point(0x401a2c, main_stack[0][0] + 8))))),
        "save-lo-above-top": container(replace(good, THREADS, threads(changed(
            1, save_lo=user_top(1) + 0x100, resume=call_point(0x4023f7, user_top(1) + 0x100),
            stack=[])))),
        "new-save-lo": container(replace(good, THREADS, threads(changed(2, save_lo=user_top(2) - 0x200)))),
        "stack-extent-order": container(replace(good, THREADS, threads(changed(
            0, stack=[main_stack[1], main_stack[0], main_stack[2]])))),
        "stack-extent-below": container(replace(good, THREADS, threads(changed(
            0, stack=[(main_stack[0][0] - 0x40, main_stack[0][1] + 0x40)] + main_stack[1:])))),
        "stack-extent-past-top": container(replace(good, THREADS, threads(changed(
            1, stack=[(worker["save_lo"], user_top(1) - worker["save_lo"] + 0x40)])))),
        "tls-cut-short": container(replace(good, THREADS, threads(changed(3, tls=b"V" * 16, key_values=[], tls_len=16))[:-10])),
        # Every kind of call a thread can wait in.
        "calls": container(replace(replace(good, THREADS, threads(call_threads())), SIGNALS,
                                   signals([signal_thread(k) for k in range(6)]))),
        "file-same-as": container(replace(good, FILES, files(same_as_2=3))),
        "file-deleted": container(replace(good, FILES, files(deleted=b"spilled rows\n"))),
        "file-deleted-short": container(replace(good, FILES, files(deleted=b"spill",
                                                                     deleted_size=100))),
        "file-mode": container(replace(good, FILES, files(deleted=b"x", mode=0o10000))),
        "file-hash-kind": container(replace(good, FILES, files(hash_on=2))),
        "excluded-overlap": container(replace(good, EXCLUDED, excluded(((0x404070, 16), (0x404078, 8))))),
        "hooks-left-over": container(replace(good, HOOKS, hooks(extra=b"\0" * 8))),
        "globals-cut-short": container(replace(good, GLOBALS, globals_()[:-20])),
        "heap-layout-disagree": container(replace(good, LAYOUT, layout(heap_end=HEAP_BASE + 0x20000))),
        "no-hooks": container([s for s in good if s[0] != HOOKS]),
        "no-maps": container([s for s in good if s[0] != MAPS]),
        "maps-shared-bytes": container(replace(good, MAPS, maps(shared_bytes=True))),
        # SIGNALS: in full use; absent (a file from before it); one file per
        # rule of its records, and per rule tying it to THREADS.
        "signals-busy": container(replace(good, SIGNALS, busy_signals())),
        "no-signals": container([s for s in good if s[0] != SIGNALS]),
        "signals-length": container(replace(good, SIGNALS, signals(counts=(3, 1, 0)))),
        "signals-reserved": container(replace(good, SIGNALS, signals(reserved=1))),
        "signals-slot-big": container(replace(good, SIGNALS, signals(
            good_signal_threads() + [signal_thread(4096)]))),
        "signals-slot-twice": container(replace(good, SIGNALS, signals(
            good_signal_threads() + [signal_thread(1)]))),
        "signals-altstack-flags": container(replace(good, SIGNALS, signals(
            [signal_thread(0, flags=SS_DISABLE | 4)] + good_signal_threads()[1:]))),
        "signals-altstack-empty": container(replace(good, SIGNALS, signals(
            [signal_thread(0, flags=0)] + good_signal_threads()[1:]))),
        "signals-signo": container(replace(good, SIGNALS, signals(pending=[pending_signal(65)]))),
        "signals-signo-zero": container(replace(good, SIGNALS, signals(
            pending=[pending_signal(0)]))),
        "signals-pending-reserved": container(replace(good, SIGNALS, signals(
            pending=[pending_signal(SIGUSR1, has_info=3)]))),
        "signals-siginfo": container(replace(good, SIGNALS, signals(
            pending=[pending_signal(SIGUSR1, info_signo=SIGUSR2)]))),
        "signals-timer-order": container(replace(good, SIGNALS, signals(timers=[
            posix_timer(3, CLOCK_MONOTONIC, SIGEV_NONE, 0),
            posix_timer(3, CLOCK_MONOTONIC, SIGEV_NONE, 0)]))),
        "signals-timer-notify": container(replace(good, SIGNALS, signals(timers=[
            posix_timer(0, CLOCK_MONOTONIC, 2, SIGALRM)]))),
        "signals-timer-signo": container(replace(good, SIGNALS, signals(timers=[
            posix_timer(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, 0)]))),
        "signals-timer-slot": container(replace(good, SIGNALS, signals(timers=[
            posix_timer(0, CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGALRM, slot=5000)]))),
        "signals-timer-reserved": container(replace(good, SIGNALS, signals(timers=[
            posix_timer(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGALRM, reserved=1)]))),
        "signals-exited-thread": container(replace(good, SIGNALS, signals(
            good_signal_threads() + [signal_thread(3)]))),
        "signals-no-thread": container(replace(good, SIGNALS, signals(
            good_signal_threads() + [signal_thread(9)]))),
        "signals-thread-missing": container(replace(good, SIGNALS, signals(
            good_signal_threads()[:2]))),
        "repeated-heap": container(good + [(HEAP, heap())]),
        "unknown-type": container(good + [(42, b"future")]),
        "checksum": bytes(flipped),
    }


def elf_build_id(path):
    """The GNU build-id of the ELF file PATH, from its SHT_NOTE sections."""
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    for i in range(shnum):
        _, typ, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if typ != 7:  # SHT_NOTE
            continue
        at = off
        while at + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            name_at = at + 12
            desc_at = name_at + (namesz + 3) // 4 * 4
            if ntype == 3 and data[name_at:name_at + namesz] == b"GNU\0":  # NT_GNU_BUILD_ID
                return data[desc_at:desc_at + descsz]
            at = desc_at + (descsz + 3) // 4 * 4
    sys.exit("mkckpt: %s has no build-id" % path)


def program(exe, addrs_path, other_build):
    """A checkpoint of EXE (Inputs/frames_prog.c) whose main thread waits in
    a runtime frame under two program frames, at the addresses the program
    printed: "NAME FUNC [RETURN_ADDRESS]" per function. The frame of work
    records no name or file (ckpt-inspect names it from the symbols), main
    its name and only a file; the runtime frame's pc is exact."""
    addrs = {}
    for line in open(addrs_path):
        name, *values = line.split()
        addrs[name] = [int(v, 16) for v in values]
    runtime_fn, = addrs["wait_in_runtime"]
    work_fn, into_work = addrs["work"]
    main_fn, into_main = addrs["main"]
    frames = [frame(b"main", b"frames_prog.c", into_main, STACK_HI - 0x100, main_fn),
              frame(b"", b"", into_work, STACK_HI - 0x200, work_fn, excluded=16),
              frame(b"", b"", runtime_fn, STACK_HI - 0x300, runtime_fn, kind=RUNTIME,
                    flags=EXACT_PC)]
    main_thread = thread(0, IN_CALL, frames, rip=runtime_fn, call_kind=CALL_CHECKPOINT,
                         callee=runtime_fn)
    sections = replace(replace(good_sections(exe), THREADS, threads([main_thread], keys=[])),
                       SIGNALS, signals(good_signal_threads()[:1]))
    build_id = elf_build_id(exe)
    if other_build:
        build_id = bytes(b ^ 0xff for b in build_id)
    return container(sections, build_id=build_id)


def main():
    if sys.argv[1] == "--program":
        exe, addrs_path, out = sys.argv[2:5]
        with open(out, "wb") as f:
            f.write(program(exe, addrs_path, "--other-build" in sys.argv[5:]))
        return
    outdir = sys.argv[1]
    exe = sys.argv[2] if len(sys.argv) > 2 else "/nonexistent/prog"
    os.makedirs(outdir, exist_ok=True)
    for name, data in variants(exe).items():
        with open(os.path.join(outdir, name + ".ckpt"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
