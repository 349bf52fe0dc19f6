# lib.sh: shared by the end-to-end tests (tests/e2e/*.t), which are POSIX
# sh scripts printing TAP.  meson puts the built tools first on PATH and
# sets IG_SRCDIR to the source tree.
#
#   . "$IG_SRCDIR/tests/e2e/lib.sh"
#   plan 3
#   run ls-fetch --limit 1        # sets RC, and OUT / ERR files
#   is "$RC" 0 "ls-fetch exits 0"
#
# Every server a test starts is stopped and every file removed on exit.

set -u
: "${IG_SRCDIR:?IG_SRCDIR must point at the source tree}"
PY=/usr/bin/python3
T_N=0
T_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ig-e2e.XXXXXX")
OUT=$TMP/stdout
ERR=$TMP/stderr
RC=0
export LOG_FORMAT=json
unset LIGHTSPEED_TOKEN LIGHTSPEED_PERSONAL_TOKEN LIGHTSPEED_API LIGHTSPEED_API_URL \
    LIGHTSPEED_ACCOUNT_ID LIGHTSPEED_DOMAIN_PREFIX LIGHTSPEED_CLIENT_ID \
    LIGHTSPEED_CLIENT_SECRET LIGHTSPEED_REFRESH_TOKEN LIGHTSPEED_TOKEN_FILE \
    LIGHTSPEED_OAUTH_URL INTEGRATION_NOW INTEGRATION_LS_WINDOW REQUEST_ID 2>/dev/null || :

t_cleanup() {
	if [ -f "$TMP/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null
		done < "$TMP/pids"
		sleep 0.1
		while read -r pid; do
			kill -9 "$pid" 2>/dev/null
		done < "$TMP/pids"
	fi
	rm -rf "$TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

T_PLANNED=
plan() { T_PLANNED=$1; echo "1..$1"; }

ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION  (use: test ...; ok $? "desc")
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() {	# is GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
	fi
}

diag() { sed 's/^/# /' "$@"; }

# run CMD...: runs a command with stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	"$@" > "$OUT" 2> "$ERR"
	RC=$?
}

# start_fake NAME SCRIPT [ARGS...]: starts tests/fake/SCRIPT on a free
# loopback port; sets PORT and records the pid for clean-up.  The request
# log is $TMP/NAME.log.
start_fake() {
	name=$1 script=$2
	shift 2
	rm -f "$TMP/$name.port"
	"$PY" "$IG_SRCDIR/tests/fake/$script" --port-file "$TMP/$name.port" \
	    --log "$TMP/$name.log" "$@" > "$TMP/$name.out" 2>&1 &
	echo $! >> "$TMP/pids"
	i=0
	while [ ! -s "$TMP/$name.port" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "# fake server $script did not start:"
			diag "$TMP/$name.out"
			exit 1
		fi
		sleep 0.05
	done
	read -r FAKE_PID PORT < "$TMP/$name.port"
	echo "$FAKE_PID" >> "$TMP/pids"
}

# ls_env SERIES: points ls-fetch at the running Lightspeed fake.
ls_env() {
	export LIGHTSPEED_API_URL="http://127.0.0.1:$PORT"
	if [ "$1" = x ]; then
		export LIGHTSPEED_TOKEN=lsxs_pt_testtoken
	else
		export LIGHTSPEED_TOKEN=test-token
	fi
}

# count_status NAME STATUS: requests the fake NAME answered with STATUS.
count_status() {
	[ -f "$TMP/$1.log" ] || { echo 0; return; }
	"$PY" -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    if str(json.loads(l).get("status"))==sys.argv[2]: n+=1
print(n)' "$TMP/$1.log" "$2"
}

# log_has KEY VALUE: whether a JSON log line in $ERR has KEY equal to VALUE.
log_has() {
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    try: o=json.loads(l)
    except ValueError: continue
    if str(o.get(sys.argv[2]))==sys.argv[3]: sys.exit(0)
sys.exit(1)' "$ERR" "$1" "$2"
}

# rows_equal GOT EXPECTED: compares two NDJSON row files, numbers within 1e-9.
rows_equal() {
	"$PY" "$IG_SRCDIR/tests/e2e/rows_equal.py" "$1" "$2"
}

# done_testing: ends a test; prints the plan when plan was not called.
done_testing() {
	[ -n "$T_PLANNED" ] || echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# bq_env: points bq-merge at the running BigQuery fake, without authentication.
bq_env() {
	export BIGQUERY_EMULATOR_HOST="http://127.0.0.1:$PORT" GCP_PROJECT_ID=sandbox
	unset GOOGLE_APPLICATION_CREDENTIALS BIGQUERY_API_URL GCE_METADATA_HOST 2>/dev/null || :
	export CLOUDSDK_CONFIG="$TMP/no-gcloud"
}

# summary KEY: the value of KEY in the summary object (the last line of $OUT).
summary() {
	tail -n 1 "$OUT" | "$PY" -c 'import json,sys
v=json.loads(sys.stdin.read()).get(sys.argv[1])
print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1"
}

# bq_rows PORT [TABLE]: the table's rows from the BigQuery fake, as ls-fetch
# rows sorted by (sale_id, product_id).
bq_rows() {
	"$PY" "$IG_SRCDIR/tests/e2e/bq_rows.py" "http://127.0.0.1:$1" "${2:-sandbox.livhana_prod.sales}"
}

# sorted_rows FILE: ls-fetch rows sorted by (sale_id, product_id), last one per key.
sorted_rows() {
	"$PY" -c 'import json,sys
d={}
for l in open(sys.argv[1]):
    if l.strip():
        o=json.loads(l); d[(o["sale_id"],o["product_id"])]=o
for k in sorted(d): print(json.dumps(d[k]))' "$1"
}
