"""mkckpt.py - writes synthetic checkpoint files for ckpt-inspect's tests.

Every value in them is known, so the tests can check ckpt-inspect's output
exactly, and each variant breaks one rule of docs/format.md, so the tests can
check that --verify names it. Sections are stored uncompressed (compression
0, which readers accept), so only XXH64 is needed; it is implemented here.

Usage: mkckpt.py OUTDIR    (writes OUTDIR/<variant>.ckpt for every variant)
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
META, LAYOUT, GLOBALS, HEAP, THREADS, FILES, RTSTATE, EXCLUDED, HOOKS = range(1, 10)


def container(sections, version=2, build_id=b"\x11" * 20, sequence=7):
    """sections: list of (type, raw bytes), stored uncompressed."""
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
    struct.pack_into("<IQQ", header, 76, len(sections), off, xxh64(table))
    struct.pack_into("<Q", header, 96, xxh64(bytes(header)))
    return bytes(header) + body + table


# ---- Section contents (docs/format.md, "Section contents") ----
HEAP_BASE, STACK_BASE, STRIDE = 0x400000000000, 0x500000000000, 0x40000000


def meta(exe):
    def rec(tag, data):
        return struct.pack("<II", tag, len(data)) + data
    return (rec(1, os.fsencode(exe)) + rec(2, b"prog\0two words\0") + rec(3, b"A=1\0B=2\0")
            + rec(4, b"/work") + rec(5, struct.pack("<I", 0x40000))
            + rec(6, struct.pack("<Q", 4242)) + rec(7, b"/work/ck")
            + rec(8, struct.pack("<Q", 0)) + rec(9, struct.pack("<I", 2))
            + rec(10, struct.pack("<I", 0o22)))


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


STACK_HI = STACK_BASE + STRIDE
# Outermost first: (name, file, line, site, addr, size, excluded, desc)
FRAMES = [(b"main", b"prog.c", 50, 3, STACK_HI - 0x100, 48, 0, 0x402000),
          (b"recurse", b"prog.c", 22, 2, STACK_HI - 0x200, 40, 8, 0x402040),
          (b"recurse", b"prog.c", 20, 1, STACK_HI - 0x300, 40, 8, 0x402040)]


def threads(frames=FRAMES, nthreads=1, header_desc=None):
    out = struct.pack("<II", nthreads, 0)
    out += struct.pack("<IIIIQQ", 0, 2, len(frames), 0, STACK_HI - 0x100000, STACK_HI)
    parent = 0
    for name, file, line, site, addr, size, excl, desc in frames:
        out += struct.pack("<QQIIIIII", desc, addr, site, size, len(name), line, len(file), excl)
        rec_desc = header_desc if header_desc is not None and parent else desc
        record = struct.pack("<QQII", parent, rec_desc, site, 0)
        out += name + file + record + b"\0" * (size - len(record))
        parent = addr
    return out


O_WRONLY, O_RDWR, O_APPEND, O_CLOEXEC, O_LARGEFILE = 1, 2, 0o2000, 0o2000000, 0o100000


def files(same_as_2=1):
    recs = [(0, 2, O_RDWR | O_LARGEFILE, 0, 0, -1, b"/dev/null"),
            (1, 1, O_WRONLY | O_APPEND, 12, 12, -1, b"/tmp/out.txt"),
            (2, 1, O_WRONLY | O_APPEND, 12, 12, same_as_2, b"/tmp/out.txt"),
            (3, 1, O_CLOEXEC, 5, 100, -1, b"/data/in put.txt")]
    out = struct.pack("<II", len(recs), 0)
    for fd, kind, flags, off, size, same, path in recs:
        out += struct.pack("<iIiIQQiI", fd, kind, flags, len(path), off, size, same, 0) + path
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


def good_sections(exe):
    return [(META, meta(exe)), (LAYOUT, layout()), (RTSTATE, rtstate()),
            (GLOBALS, globals_()), (HEAP, heap()), (FILES, files()),
            (THREADS, threads()), (EXCLUDED, excluded()), (HOOKS, hooks())]


def replace(sections, typ, raw):
    return [(t, raw if t == typ else r) for t, r in sections]


def variants(exe):
    good = good_sections(exe)
    bad_frames = list(FRAMES)
    bad_frames[2] = bad_frames[2][:4] + (STACK_HI - 0x1f0,) + bad_frames[2][5:]
    flipped = bytearray(container(good))
    flipped[128 + len(good[0][1]) + 20] ^= 0x40  # inside LAYOUT's stored bytes
    return {
        "good": container(good),
        # Format version 1: only META and the table are read.
        "v1": container([(META, meta(exe)), (HEAP, b"\x01" * 24)], version=1),
        # Container-valid files whose sections break a rule.
        "global-extent-order": container(replace(good, GLOBALS, globals_(((32, b"U" * 16), (0, b"T" * 16))))),
        "global-extent-past-end": container(replace(good, GLOBALS, globals_(((0, b"T" * 16), (56, b"U" * 16))))),
        "heap-extent-outside": container(replace(good, HEAP, heap(((HEAP_BASE, 256), (HEAP_BASE + 0xff00, 512))))),
        "frame-not-below-caller": container(replace(good, THREADS, threads(bad_frames))),
        "frame-header-mismatch": container(replace(good, THREADS, threads(header_desc=0x402080))),
        "too-many-threads": container(replace(good, THREADS, threads(nthreads=1000000))),
        "file-same-as": container(replace(good, FILES, files(same_as_2=3))),
        "excluded-overlap": container(replace(good, EXCLUDED, excluded(((0x404070, 16), (0x404078, 8))))),
        "hooks-left-over": container(replace(good, HOOKS, hooks(extra=b"\0" * 8))),
        "globals-cut-short": container(replace(good, GLOBALS, globals_()[:-20])),
        "heap-layout-disagree": container(replace(good, LAYOUT, layout(heap_end=HEAP_BASE + 0x20000))),
        "no-hooks": container([s for s in good if s[0] != HOOKS]),
        "repeated-heap": container(good + [(HEAP, heap())]),
        "unknown-type": container(good + [(42, b"future")]),
        "checksum": bytes(flipped),
    }


def main():
    outdir = sys.argv[1]
    exe = sys.argv[2] if len(sys.argv) > 2 else "/nonexistent/prog"
    os.makedirs(outdir, exist_ok=True)
    for name, data in variants(exe).items():
        with open(os.path.join(outdir, name + ".ckpt"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
