#!/bin/sh
# bench-bq-merge.sh [sizes] [node]: builds, then prints bq-merge's rate,
# CPU time, peak memory and statement count against the BigQuery sandbox,
# next to Google's Node client doing the old service's batches
# (scripts/bench-bq-merge.py says what each figure is).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec /usr/bin/python3 scripts/bench-bq-merge.py "$@"
