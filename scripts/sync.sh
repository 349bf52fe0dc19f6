#!/bin/sh
# sync.sh: the main job.  Builds the toolkit, then runs
#     ls-fetch [arguments] | bq-merge --create-table
# and prints bq-merge's summary.  The arguments go to ls-fetch (see
# ls-fetch(1)).  Without Lightspeed credentials it starts the bundled
# Lightspeed sandbox; without Google credentials, the bundled BigQuery
# sandbox; each says so on one line.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ig-sync.XXXXXX")
cleanup() {
	for f in "$work"/*.port; do
		[ -s "$f" ] || continue
		read -r pid port < "$f"
		kill "$pid" 2>/dev/null || :
	done
	rm -rf "$work"
}

# sandbox NAME SCRIPT ARGS...: starts a fake server; sets port.
sandbox() {
	name=$1 script=$2
	shift 2
	/usr/bin/python3 "tests/fake/$script" --port-file "$work/$name.port" \
	    --max-seconds 3600 "$@" > "$work/$name.out" 2>&1 &
	i=0
	while [ ! -s "$work/$name.port" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "sync: the $name sandbox did not start:" >&2
			cat "$work/$name.out" >&2
			exit 1
		fi
		sleep 0.05
	done
	read -r pid port < "$work/$name.port"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${LIGHTSPEED_TOKEN:-}${LIGHTSPEED_PERSONAL_TOKEN:-}${LIGHTSPEED_CLIENT_ID:-}" ]; then
	echo "sync: no LIGHTSPEED_TOKEN configured: using the bundled Lightspeed sandbox (tests/fake/lightspeed.py)" >&2
	# Sales from 20 hours before the current hour: the same sales for every
	# run within an hour, so running the job twice shows that nothing doubles.
	sandbox lightspeed lightspeed.py --sales 600 --interval 120 \
	    --start "$(date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) -20 hours" +%Y-%m-%dT%H:%M:%SZ)"
	export LIGHTSPEED_API_URL="http://127.0.0.1:$port"
	export LIGHTSPEED_TOKEN=test-token
	export LIGHTSPEED_API=r-series
fi

adc=${CLOUDSDK_CONFIG:-${HOME:-/nonexistent}/.config/gcloud}/application_default_credentials.json
if [ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}${BIGQUERY_EMULATOR_HOST:-}${BIGQUERY_API_URL:-}" ] &&
    [ ! -r "$adc" ]; then
	echo "sync: no Google credentials configured: using the bundled BigQuery sandbox (tests/fake/bigquery.py)" >&2
	# The table lives in build/ between runs, as a real one would.
	sandbox bigquery bigquery.py --project sandbox --no-auth --db build/sandbox-bigquery.sqlite
	export BIGQUERY_EMULATOR_HOST="http://127.0.0.1:$port"
	export GCP_PROJECT_ID="${GCP_PROJECT_ID:-sandbox}"
fi

# Both exit statuses count: a failed fetch is not hidden by a good merge.
merge=0
{ build/tools/ls-fetch "$@"; echo $? > "$work/ls.rc"; } | build/tools/bq-merge --create-table ||
	merge=$?
fetch=$(cat "$work/ls.rc")
[ "$fetch" -ne 0 ] && exit "$fetch"
exit "$merge"
