#!/bin/sh
# bench-ls-fetch.sh [rate] [memory] [cpu]: builds, then prints ls-fetch's
# rate-limit efficiency, peak memory and CPU time against the sandbox
# (scripts/bench-ls-fetch.py says what each figure is).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec /usr/bin/python3 scripts/bench-ls-fetch.py "$@"
