"""Summarises meson test logs: lists failed tests, then prints the closing
line "N passed, N failed[, N skipped]".  Exits 1 when a test failed or a
log is missing (a build that did not get as far as its tests)."""
import json
import sys

passed = failed = skipped = 0
missing = []
for arg in sys.argv[1:]:
    label, path = arg.split("=", 1)
    try:
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except OSError:
        missing.append(label)
        failed += 1
        print(f"FAIL {label}: no test log ({path}): the build failed")
        continue
    for t in lines:
        result = t.get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
            print(f"SKIP {label}: {t.get('name')}")
        else:
            failed += 1
            print(f"FAIL {label}: {t.get('name')} ({result})")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
