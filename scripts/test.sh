#!/bin/sh
# test.sh: the whole test suite, as CI runs it.  Installs what is missing,
# builds with warnings as errors, runs every test, then builds again with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs every test
# again.  The last line is "N passed, N failed"; the exit status is 1 when
# anything failed.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh

status=0
run_suite() {	# run_suite BUILDDIR [MESON-SETUP-OPTIONS...]
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null || {
		ninja -C "$dir"
		return 1
	}
	meson test -C "$dir" --print-errorlogs --num-processes 2 || :
}

run_suite build || status=1
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite build-san -Db_sanitize=address,undefined -Db_lundef=false ||
	status=1

/usr/bin/python3 scripts/test-summary.py \
	plain=build/meson-logs/testlog.json \
	sanitizers=build-san/meson-logs/testlog.json || status=1
exit $status
