#!/bin/sh
# Bad input never reaches BigQuery: each invalid or malformed line goes to
# the reject stream with its line number and reason, the rest is merged.
# A row BigQuery itself refuses is isolated by halving the batch.
. "$IG_SRCDIR/tests/e2e/lib.sh"
start_fake bq bigquery.py --project sandbox --no-auth --strict --refuse S-13
BQ=$PORT
bq_env

row() {	# row SALE PRODUCT [overrides as JSON]
	"$PY" -c 'import json,sys
r={"sale_id":sys.argv[1],"timestamp":"2026-05-14T10:00:00Z","customer_id":"anonymous",
   "product_id":sys.argv[2],"product_name":"Mug","quantity":1,"price":9.5,"payment_method":"Cash"}
r.update(json.loads(sys.argv[3]) if len(sys.argv)>3 else {})
print(json.dumps(r))' "$@"
}
{
	row S-1 P-1
	row S-2 P-1 '{"price":"9.50"}'
	echo '{"sale_id": "S-3", "truncated'
	row S-4 P-1 '{"timestamp":"yesterday"}'
	row "" P-1
	row S-6 P-1 '{"extra":1}'
	row S-7 P-1 '{"quantity":null}'
	row S-8 P-1
	echo 'not json at all'
	row S-10 P-1 '{"timestamp":"2026-05-14T10:00:00.250+02:00"}'
} > "$TMP/in"

run bq-merge --create-table --reject "$TMP/rejects" "$TMP/in"
is "$RC" 1 "some rows rejected: exit 1 (partial)"
is "$(summary inserted)" 3 "the three valid rows were merged"
is "$(summary rejected)" 7 "seven rows were rejected"
is "$(summary success)" true "success: every row was merged or rejected"
is "$(grep -c . "$TMP/rejects")" 7 "seven reject records"
"$PY" -c 'import json,sys
want={2:"price",3:"invalid JSON",4:"timestamp",5:"sale_id",6:"unknown key",7:"quantity",9:"invalid JSON"}
got={}
for l in open(sys.argv[1]):
    o=json.loads(l); got[o["lineno"]]=o
assert sorted(got)==sorted(want), sorted(got)
for n,w in want.items():
    assert w in got[n]["reason"], (n, got[n]["reason"])
    assert got[n]["file"].endswith("/in"), got[n]["file"]
assert got[3]["line"]=="{\"sale_id\": \"S-3\", \"truncated"
' "$TMP/rejects"
ok $? "each reject names its line, its reason and keeps the original text"
bq_rows "$BQ" | "$PY" -c 'import json,sys
ids=sorted(json.loads(l)["sale_id"] for l in sys.stdin)
assert ids==["S-1","S-10","S-8"], ids'
ok $? "only the valid rows are in the table"
bq_rows "$BQ" | grep -q '"timestamp": "2026-05-14T08:00:00.25Z"'
ok $? "an offset timestamp is stored in UTC with its fraction"

# BigQuery refuses one row of 40: it is found by halving, the others merge.
i=0
while [ $i -lt 40 ]; do row "S-$i" P-9; i=$((i + 1)); done > "$TMP/in2"
run bq-merge --reject "$TMP/rejects2" "$TMP/in2"
is "$RC" 1 "a refused row makes the run partial"
is "$(summary rejected)" 1 "exactly one row was rejected"
is "$(( $(summary inserted) + $(summary updated) + $(summary skipped) ))" 39 "the other 39 rows were merged"
grep -q '"sale_id": *"S-13"' "$TMP/rejects2" 2>/dev/null || grep -q 'S-13' "$TMP/rejects2"
ok $? "the reject record is the refused row"
grep -q 'BigQuery refused the row' "$TMP/rejects2"
ok $? "with BigQuery's message"
bq_rows "$BQ" | grep -c '"product_id": "P-9"' > "$TMP/n"
is "$(cat "$TMP/n")" 39 "39 rows of the batch are in the table"
done_testing
