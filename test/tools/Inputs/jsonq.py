"""jsonq.py - print selected values of a JSON document, for FileCheck.

Usage: jsonq.py FILE QUERY...
A QUERY is a dotted path of object keys and list indexes
(threads.0.frames.1.function); in a list, [KEY=VALUE] picks the element
whose KEY is the string VALUE (globals.list.[name=counter].size); a trailing
'#' prints the length of the list or object instead (threads.0.frames#). Prints "QUERY = <value as JSON>" per
query. The whole document must be strict JSON (no NaN, no duplicate keys).
"""
import json
import sys


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError("duplicate keys: %s" % ", ".join(sorted(dup)))
    return dict(pairs)


def reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
    for query in sys.argv[2:]:
        length = query.endswith("#")
        value = doc
        for part in query.rstrip("#").split("."):
            if part.startswith("[") and part.endswith("]"):
                key, want = part[1:-1].split("=", 1)
                found = [v for v in value if v.get(key) == want]
                if len(found) != 1:
                    sys.exit("%s: %d elements have %s" % (query, len(found), part))
                value = found[0]
            elif part:
                value = value[int(part)] if isinstance(value, list) else value[part]
        print("%s = %s" % (query, len(value) if length else json.dumps(value)))


if __name__ == "__main__":
    main()
