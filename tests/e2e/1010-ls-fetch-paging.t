#!/bin/sh
# ls-fetch pages through many sales in both series and gets every row the
# sandbox's independent mapping expects, in order; --since, --until and
# --limit select what they say.
. "$IG_SRCDIR/tests/e2e/lib.sh"
F=$IG_SRCDIR/tests/fake/lightspeed.py
export INTEGRATION_NOW=2026-05-16T00:00:00Z

start_fake r lightspeed.py --sales 1500 --seed 7 --time-scale 50
ls_env r
run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "R-Series: 1500 sales, exit 0"
"$PY" "$F" --print-expected --series r --sales 1500 --seed 7 --since 2026-05-14T00:00:00Z > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "R-Series: all rows across 15 pages, in completion order"
is "$(grep -c '/Sale.json' "$TMP/r.log")" 15 "R-Series: 15 page requests, following @attributes.next"
grep -q '"query": *"[^"]*after=' "$TMP/r.log"
ok $? "R-Series: later pages carry the API's cursor"
log_has event summary
ok $? "a summary log line is written"

run ls-fetch --since 2026-05-14T02:00:00Z --until 2026-05-14T03:00:00Z --limit 0
"$PY" "$F" --print-expected --series r --sales 1500 --seed 7 --since 2026-05-14T02:00:00Z --until 2026-05-14T03:00:00Z > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "R-Series: --since and --until are inclusive bounds on completion time"

run ls-fetch --since 2026-05-14 --until 2026-05-14 --limit 0
"$PY" "$F" --print-expected --series r --sales 1500 --seed 7 --since 2026-05-14T00:00:00Z --until 2026-05-14T23:59:59Z > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "R-Series: a bare --until date means the whole of that day"

# A reader that stops early is not an error: ls-fetch stops quietly.
(ls-fetch --since 2026-05-14 --limit 0 --page-size 10 2> "$ERR"; echo $? > "$TMP/rc") | head -n 1 > /dev/null
is "$(cat "$TMP/rc")" 0 "a closed pipe (head) ends the run with exit 0"
grep -q 'the reader closed standard output' "$ERR" && ! grep -q '"severity":"ERROR"' "$ERR"
ok $? "and is logged as a NOTICE, not an error"

run ls-fetch --since 2026-05-14 --limit 30 --page-size 25
"$PY" "$F" --print-expected --series r --sales 1500 --seed 7 --since 2026-05-14T00:00:00Z --limit 30 > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "R-Series: --limit 30 writes the first 30 sales"
is "$RC" 0 "R-Series: stopping at --limit is a success"
log_has event summary && grep -q 'continue with --since' "$ERR"
ok $? "R-Series: the log says where to continue after --limit"

start_fake x lightspeed.py --sales 1500 --seed 7 --time-scale 50
ls_env x
run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "X-Series: 1500 sales, exit 0"
"$PY" "$F" --print-expected --series x --sales 1500 --seed 7 --since 2026-05-14T00:00:00Z > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "X-Series: all rows across pages of 200"
is "$(grep -c '/api/2.0/sales' "$TMP/x.log")" 9 "X-Series: 8 full pages and the empty page that ends the feed"
grep -q '"query": *"after=0&page_size=200"' "$TMP/x.log" &&
    grep -q '"query": *"after=[1-9][0-9]*&page_size=200"' "$TMP/x.log"
ok $? "X-Series: the cursor starts at 0 and then follows version.max"

run ls-fetch --since 2026-05-14T10:00:00Z --until 2026-05-14T12:00:00Z --limit 0
"$PY" "$F" --print-expected --series x --sales 1500 --seed 7 --since 2026-05-14T10:00:00Z --until 2026-05-14T12:00:00Z > "$TMP/want"
rows_equal "$OUT" "$TMP/want"
ok $? "X-Series: the time window is applied to the change feed"
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o.get("event")=="summary":
        judged=o["sales"]+o["skipped"]+o["unreadable"]
        sys.exit(0 if 0 < judged <= 121 else 1)
sys.exit(1)' "$ERR"
ok $? "X-Series: only the 121 sales inside the window are judged (written or skipped)"
done_testing
