#!/bin/sh
# ls-fetch | bq-merge end to end against both sandboxes: the table is
# created, every row lands once, a second run changes nothing, a changed
# sale is updated, --insert-only leaves present rows alone.
. "$IG_SRCDIR/tests/e2e/lib.sh"
export INTEGRATION_NOW=2026-05-16T00:00:00Z

start_fake ls lightspeed.py --sales 400
ls_env r
start_fake bq bigquery.py --project sandbox --no-auth --strict
BQ=$PORT
bq_env

ls-fetch --since 2026-05-14 --limit 0 > "$TMP/rows" 2> /dev/null
nrows=$(grep -c . "$TMP/rows")
run sh -c 'ls-fetch --since 2026-05-14 --limit 0 | bq-merge --create-table'
is "$RC" 0 "ls-fetch | bq-merge --create-table exits 0"
is "$(summary success)" true "the summary says success"
is "$(summary inserted)" "$nrows" "every row ($nrows) was inserted"
is "$(summary rejected)" 0 "nothing was rejected"
is "$(summary lastSync)" "$(tail -n 1 "$TMP/rows" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["timestamp"])')" \
    "lastSync is the last sale's completion time"
bq_rows "$BQ" > "$TMP/table"
sorted_rows "$TMP/rows" > "$TMP/want"
rows_equal "$TMP/table" "$TMP/want"
ok $? "the table holds exactly the fetched rows"

run sh -c 'ls-fetch --since 2026-05-14 --limit 0 | bq-merge'
is "$RC" 0 "a second identical run exits 0"
is "$(summary inserted)" 0 "and inserts nothing"
is "$(summary updated)" 0 "and updates nothing"
is "$(summary skipped)" "$nrows" "and skips every row"
bq_rows "$BQ" > "$TMP/table"
rows_equal "$TMP/table" "$TMP/want"
ok $? "the table is unchanged: no duplicate"

# A changed sale: the first row's price and payment method.
"$PY" -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
rows[0]["price"]=rows[0]["price"]+1.25
rows[0]["payment_method"]="Gift Card"
for r in rows: print(json.dumps(r))' "$TMP/rows" > "$TMP/changed"
run bq-merge "$TMP/changed"
is "$(summary updated)" 1 "a changed row is updated"
is "$(summary inserted)" 0 "and nothing is inserted"
is "$(summary skipped)" "$((nrows - 1))" "the other rows are skipped"
bq_rows "$BQ" > "$TMP/table"
sorted_rows "$TMP/changed" > "$TMP/want2"
rows_equal "$TMP/table" "$TMP/want2"
ok $? "the table holds the changed values"

run bq-merge --insert-only "$TMP/rows"
is "$(summary updated)" 0 "--insert-only updates nothing"
is "$(summary inserted)" 0 "--insert-only inserts nothing already present"
bq_rows "$BQ" > "$TMP/table"
rows_equal "$TMP/table" "$TMP/want2"
ok $? "--insert-only left the changed row as it was"

# Batches: 1000 rows per MERGE by default; smaller on request.
run bq-merge --batch-size 50 "$TMP/rows"
is "$(summary statements)" "$(( (nrows + 49) / 50 ))" "--batch-size 50 gives one MERGE per 50 rows"
done_testing
