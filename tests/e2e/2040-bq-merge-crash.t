#!/bin/sh
# A pipeline killed with SIGKILL in the middle, then run again, leaves
# exactly the expected rows: none twice, none missing.
. "$IG_SRCDIR/tests/e2e/lib.sh"
export INTEGRATION_NOW=2026-05-16T00:00:00Z
# A slow Lightspeed (its real rate limit) for the run that is killed ...
start_fake slow lightspeed.py --sales 2000 --interval 30 --burst-limit 5
SLOW=$PORT
# ... and a fast one with the same sales for the run that finishes.
start_fake ls lightspeed.py --sales 2000 --interval 30 --time-scale 1000 --burst-limit 100000
ls_env r
FAST=$PORT
start_fake bq bigquery.py --project sandbox --no-auth --strict
BQ=$PORT
bq_env
bq-merge --create-table < /dev/null > /dev/null 2>&1

ls-fetch --since 2026-05-14 --limit 0 --page-size 20 2> /dev/null > "$TMP/rows"
sorted_rows "$TMP/rows" > "$TMP/want"

# Kill the whole pipeline once some batches have been merged.
LIGHTSPEED_API_URL="http://127.0.0.1:$SLOW" sh -c 'echo $$ > "$1/pipe.pid"; exec sh -c "ls-fetch --since 2026-05-14 --limit 0 --page-size 20 | bq-merge --batch-size 100"' \
    sh "$TMP" > /dev/null 2>&1 &
pipeline=$!
i=0
while [ "$(bq_rows "$BQ" | grep -c .)" -lt 300 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
# The pipeline's shell wrote its pid; its children are the two tools.
pkill -KILL -P "$(cat "$TMP/pipe.pid")" 2>/dev/null
kill -KILL "$(cat "$TMP/pipe.pid")" 2>/dev/null
wait "$pipeline" 2>/dev/null
n=$(bq_rows "$BQ" | grep -c .)
total=$(grep -c . "$TMP/want")
[ "$n" -gt 0 ] && [ "$n" -lt "$total" ]
ok $? "the pipeline was killed part way ($n of $total rows merged)"

run sh -c 'ls-fetch --since 2026-05-14 --limit 0 --page-size 20 | bq-merge --batch-size 100'
is "$RC" 0 "the re-run exits 0"
is "$(summary inserted)" "$((total - n))" "it inserts exactly the missing rows"
bq_rows "$BQ" > "$TMP/table"
rows_equal "$TMP/table" "$TMP/want"
ok $? "the table holds every expected row exactly once"
done_testing
