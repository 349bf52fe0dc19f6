#!/bin/sh
# Injected BigQuery faults, each retried as classified: transport errors,
# 429/5xx, rateLimitExceeded and backendError with the same requestId;
# failed jobs (jobBackendError, the serialization conflict, too many DML
# statements) with a new one; a slow job polled; a fatal error reported
# with its exit code.  Never a duplicate, never a lost row.
. "$IG_SRCDIR/tests/e2e/lib.sh"
"$PY" -c 'import json
for i in range(30):
    print(json.dumps({"sale_id":"F-%d"%i,"timestamp":"2026-05-14T1%d:00:00Z"%(i%10),"customer_id":"c",
        "product_id":"P","product_name":"Tea","quantity":1.5,"price":3.25,"payment_method":"Cash"}))' > "$TMP/in"

# requestids NAME: the requestIds of the MERGE requests the fake NAME received, one per line.
requestids() {
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    b=o.get("body")
    if isinstance(b,str):
        try: b=json.loads(b)
        except ValueError: continue
    if o.get("method")=="POST" and isinstance(b,dict) and "MERGE" in b.get("query",""):
        print(b.get("requestId"))' "$TMP/$1.log"
}

case_run() {	# case_run NAME FAULT
	start_fake "$1" bigquery.py --project sandbox --no-auth --strict --fault "$2"
	bq_env
	bq-merge --create-table < /dev/null > /dev/null 2>&1
	run bq-merge "$TMP/in"
}

same_id() {	# same_id NAME FAULT
	case_run "$1" "$2"
	is "$RC" 0 "$2: retried and merged, exit 0"
	is "$(summary inserted)" 30 "$2: 30 rows inserted once"
	ids=$(requestids "$1")
	is "$(echo "$ids" | wc -l | tr -d ' ')" 2 "$2: the MERGE was sent twice"
	is "$(echo "$ids" | sort -u | wc -l | tr -d ' ')" 1 "$2: with the same requestId"
}

new_id() {	# new_id NAME FAULT
	case_run "$1" "$2"
	is "$RC" 0 "$2: re-run as a new job, exit 0"
	is "$(summary inserted)" 30 "$2: 30 rows inserted once"
	ids=$(requestids "$1")
	is "$(echo "$ids" | sort -u | wc -l | tr -d ' ')" 2 "$2: the second job has a new requestId"
}

same_id a 503@1
same_id b 429@1
same_id c rateLimitExceeded@1
same_id d backendError@1
same_id e reset@1
new_id f jobBackendError@1
new_id g serialize@1
new_id h toomany@1

# A MERGE applied but answered with 503: the retry's same requestId makes it a duplicate.
case_run i applied503@1
is "$RC" 0 "applied then 503: exit 0"
is "$(summary inserted)" 30 "the counts come from the one job"
is "$(bq_rows "$PORT" | grep -c .)" 30 "no row was applied twice"

# A job that takes a while: polled, then its dmlStats read from jobs.get.
case_run j incomplete:3@1
is "$RC" 0 "a slow job is polled to completion"
is "$(summary inserted)" 30 "its counts come from jobs.get"
grep -q '"path": *"[^"]*/jobs/' "$TMP/j.log"
ok $? "jobs.get was asked for the counts"
is "$(grep -c '"path": *"[^"]*/queries/' "$TMP/j.log")" 3 "getQueryResults was polled until complete"

# Fatal: quota exhausted, access denied; and retries that run out.
case_run k quotaExceeded@1
is "$RC" 75 "quotaExceeded: exit 75 (try later)"
is "$(summary success)" false "and the summary says no success"
case_run l 503@1x12
is "$RC" 75 "503 on every attempt: exit 75"
is "$(bq_rows "$PORT" | grep -c .)" 0 "nothing was merged"
done_testing
