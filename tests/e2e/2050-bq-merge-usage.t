#!/bin/sh
# bq-merge's options and configuration: usage (64) and configuration (78)
# errors say what to fix; --dry-run sends nothing and prints requests in
# the documented encoding.
. "$IG_SRCDIR/tests/e2e/lib.sh"
export BIGQUERY_EMULATOR_HOST=http://127.0.0.1:9 GCP_PROJECT_ID=sandbox CLOUDSDK_CONFIG="$TMP/none"

run bq-merge -h
is "$RC" 0 "-h exits 0"
grep -q '^usage: bq-merge' "$OUT"
ok $? "-h prints the usage"

usage_error() {	# usage_error PATTERN ARGS...
	pat=$1
	shift
	run bq-merge "$@"
	is "$RC" 64 "bq-merge $*: exit 64"
	grep -q "$pat" "$ERR"
	ok $? "bq-merge $*: message mentions '$pat'"
}
usage_error "whole number" --batch-size 0
usage_error "whole number" --batch-size 100001
usage_error "whole number" --timeout x
usage_error "invalid time" --since never
usage_error "unknown option" --upsert

config_error() {	# config_error PATTERN ARGS...
	pat=$1
	shift
	run bq-merge --dry-run "$@" < /dev/null
	is "$RC" 78 "configuration $*: exit 78"
	grep -q "$pat" "$ERR"
	ok $? "configuration $*: message mentions '$pat'"
}
config_error "not a BigQuery dataset name" --dataset 'bad-name'
config_error "not a BigQuery table name" --table 'a.b'
config_error "not a Google Cloud project id" --project 'x`y'
config_error "not a BigQuery location" --location ''
GCP_PROJECT_ID= config_error "GCP_PROJECT_ID"

run bq-merge /nonexistent/file
is "$RC" 66 "a missing input file: exit 66"

printf '%s\n' '{"sale_id":"S\"1","timestamp":"2026-05-14T10:00:00.5Z","customer_id":"anonymous","product_id":"P","product_name":null,"quantity":0.682,"price":225.03,"payment_method":"Cash"}' > "$TMP/in"
run bq-merge --dry-run "$TMP/in"
is "$RC" 0 "--dry-run exits 0 without a server"
head -n 1 "$OUT" | "$PY" -c 'import json,sys
r=json.loads(sys.stdin.read())
assert r["useLegacySql"] is False and r["parameterMode"]=="NAMED" and r["location"]=="US"
p={q["name"]:q for q in r["queryParameters"]}
t=p["rows"]["parameterType"]
assert t["type"]=="ARRAY" and t["arrayType"]["type"]=="STRUCT"
assert [f["name"] for f in t["arrayType"]["structTypes"]]==["sale_id","timestamp","customer_id","product_id","product_name","quantity","price","payment_method"]
assert [f["type"]["type"] for f in t["arrayType"]["structTypes"]]==["STRING","TIMESTAMP","STRING","STRING","STRING","NUMERIC","FLOAT64","STRING"]
v=p["rows"]["parameterValue"]["arrayValues"][0]["structValues"]
assert v["sale_id"]=={"value":"S\"1"}, v
assert v["timestamp"]=={"value":"2026-05-14 10:00:00.500000+00:00"}, v
assert v["product_name"]=={"value":None}, v
assert v["quantity"]=={"value":"0.682"} and v["price"]=={"value":"225.03"}, v
assert p["min_day"]["parameterValue"]["value"]=="2026-05-14"==p["max_day"]["parameterValue"]["value"]
assert "MERGE `sandbox.livhana_prod.sales` T" in r["query"]
assert "DATE(T.timestamp) BETWEEN @min_day AND @max_day" in r["query"]
'
ok $? "--dry-run prints the request in the documented encoding"
run bq-merge --dry-run --no-prune --insert-only "$TMP/in"
head -n 1 "$OUT" | "$PY" -c 'import json,sys
r=json.loads(sys.stdin.read())
assert "BETWEEN" not in r["query"] and "WHEN MATCHED" not in r["query"]
assert [q["name"] for q in r["queryParameters"]]==["rows"]'
ok $? "--no-prune drops the day bounds and --insert-only the update"
done_testing
