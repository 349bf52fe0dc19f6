#!/bin/sh
# sync.sh: the main job.  Builds the toolkit, then runs ls-fetch with the
# arguments given (see ls-fetch(1)) and prints its rows.  With no Lightspeed
# credentials configured it starts the bundled sandbox (a fake Lightspeed
# server with generated sales) and points ls-fetch at it.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ig-sync.XXXXXX")
cleanup() {
	if [ -s "$work/ls.port" ]; then
		read -r pid port < "$work/ls.port"
		kill "$pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${LIGHTSPEED_TOKEN:-}${LIGHTSPEED_PERSONAL_TOKEN:-}${LIGHTSPEED_CLIENT_ID:-}" ]; then
	echo "sync: no LIGHTSPEED_TOKEN configured: using the bundled Lightspeed sandbox (tests/fake/lightspeed.py)" >&2
	start=$(date -u -d '20 hours ago' +%Y-%m-%dT%H:%M:%SZ)
	/usr/bin/python3 tests/fake/lightspeed.py --port-file "$work/ls.port" \
	    --sales 600 --interval 120 --start "$start" --max-seconds 3600 \
	    > "$work/ls.out" 2>&1 &
	i=0
	while [ ! -s "$work/ls.port" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "sync: the sandbox did not start:" >&2
			cat "$work/ls.out" >&2
			exit 1
		fi
		sleep 0.05
	done
	read -r pid port < "$work/ls.port"
	export LIGHTSPEED_API_URL="http://127.0.0.1:$port"
	export LIGHTSPEED_TOKEN=test-token
	export LIGHTSPEED_API=r-series
fi

build/tools/ls-fetch "$@"
