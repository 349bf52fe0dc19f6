"""Compares two NDJSON files of ls-fetch rows: same rows, same order, same
keys in the same order; numbers equal within 1e-9.  Prints the first
difference and exits 1 when they differ."""
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def main():
    got, want = load(sys.argv[1]), load(sys.argv[2])
    for i, (g, w) in enumerate(zip(got, want)):
        if list(g) != list(w) or not all(same(g[k], w[k]) for k in w):
            print(f"# row {i + 1} differs:\n#   got:  {json.dumps(g)}\n#   want: {json.dumps(w)}")
            return 1
    if len(got) != len(want):
        print(f"# {len(got)} rows, expected {len(want)}")
        return 1
    return 0


sys.exit(main())
