"""damage.py - make a damaged copy of a checkpoint, for ckpt-inspect's tests.

Usage: damage.py flip TYPE IN OUT   flip one bit in the middle of the stored
                                    bytes of the first section of TYPE (META,
                                    HEAP, ...); prints that section's index
       damage.py truncate N IN OUT  copy all but the last N bytes
The section table is read as docs/format.md lays it out.
"""
import struct
import sys

TYPES = {"META": 1, "LAYOUT": 2, "GLOBALS": 3, "HEAP": 4, "THREADS": 5,
         "FILES": 6, "RTSTATE": 7, "EXCLUDED": 8, "HOOKS": 9}


def main():
    how, what, src, dst = sys.argv[1:5]
    data = bytearray(open(src, "rb").read())
    if how == "truncate":
        data = data[:len(data) - int(what)]
    else:
        count, table = struct.unpack_from("<IQ", data, 76)
        for index in range(count):
            typ, _, off, stored = struct.unpack_from("<IIQQ", data, table + 40 * index)
            if typ == TYPES[what]:
                data[off + stored // 2] ^= 0x10
                print(index)
                break
        else:
            sys.exit("no %s section in %s" % (what, src))
    open(dst, "wb").write(bytes(data))


if __name__ == "__main__":
    main()
