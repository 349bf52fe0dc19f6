#!/bin/sh
# ls-fetch turns Lightspeed sales into rows: the documented sample sales of
# both series, and every payload quirk (single objects, "" relations,
# voids, refunds, combined lines, archived payments).
. "$IG_SRCDIR/tests/e2e/lib.sh"
D=$IG_SRCDIR/tests/data/ls

# R-Series: samples (a) and (b) of lightspeed-api.md section 7.
start_fake r lightspeed.py --r-fixture "$D/r-sample-a.json" --r-fixture "$D/r-sample-b.json"
ls_env r
run ls-fetch --since 2026-05-14 --until 2026-05-15
is "$RC" 0 "R-Series samples: exit 0"
rows_equal "$OUT" "$D/r-sample.expected"
ok $? "R-Series samples: rows as documented"

# The same sales served one per page: each page's "Sale" is then a single object.
before=$(grep -c '"path": *"/API/V3/Account/12345/Sale.json"' "$TMP/r.log")
run ls-fetch --since 2026-05-14 --until 2026-05-15 --page-size 1
rows_equal "$OUT" "$D/r-sample.expected"
ok $? "R-Series single-object pages give the same rows"
after=$(grep -c '"path": *"/API/V3/Account/12345/Sale.json"' "$TMP/r.log")
is "$((after - before))" 2 "two pages of one sale each, the second with an empty next"

# R-Series quirks.
start_fake rq lightspeed.py --r-fixture "$D/r-quirks.json"
ls_env r
run ls-fetch --since 2026-05-15 --until 2026-05-16
is "$RC" 0 "R-Series quirks: exit 0 (skipped sales are not errors)"
rows_equal "$OUT" "$D/r-quirks.expected"
ok $? "R-Series quirks: rows combined, refunds kept, defaults applied"
log_has reason voided
ok $? "a voided sale is logged with its reason"
log_has reason "not completed"
ok $? "an incomplete sale is logged with its reason"
log_has reason "no sale lines"
ok $? "a sale without lines is logged with its reason"

# X-Series sample.
start_fake x lightspeed.py --x-fixture "$D/x-sample.json"
ls_env x
run ls-fetch --since 2020-01-01
is "$RC" 0 "X-Series sample: exit 0"
rows_equal "$OUT" "$D/x-sample.expected"
ok $? "X-Series sample: rows as expected"
log_has reason VOIDED
ok $? "a voided X-Series sale is logged"

# Product names are fetched once per product per run.
n=$(grep -c '"/api/2.0/products/' "$TMP/x.log")
u=$(grep -o '"path": *"/api/2.0/products/[^"]*"' "$TMP/x.log" | sort -u | wc -l)
is "$n" "$u" "each product is looked up once ($n lookups)"

# Every row has exactly the documented keys, in order.
"$PY" -c 'import json,sys
keys=["sale_id","timestamp","customer_id","product_id","product_name","quantity","price","payment_method"]
for l in open(sys.argv[1]):
    o=json.loads(l)
    assert list(o)==keys, list(o)
    assert all(isinstance(o[k],str) for k in keys if k not in ("quantity","price"))
    assert all(isinstance(o[k],(int,float)) for k in ("quantity","price"))
' "$OUT"
ok $? "rows have exactly the documented keys and types"
done_testing
