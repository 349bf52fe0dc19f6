#!/bin/sh
# Rate limits: paced by the headers, a run drains the R-Series leaky
# bucket and the X-Series request window without drawing a single 429.
# The sandbox runs its clock faster (--time-scale) so this takes seconds.
. "$IG_SRCDIR/tests/e2e/lib.sh"
export INTEGRATION_NOW=2026-05-16T00:00:00Z

# 120 requests of cost 2.2 against a bucket of 90 draining at 20/s.
start_fake r lightspeed.py --sales 1200 --time-scale 20
ls_env r
run ls-fetch --since 2026-05-14 --limit 0 --page-size 10
is "$RC" 0 "R-Series: 121 pages fetched"
is "$(count_status r 429)" 0 "R-Series: no 429 from the leaky bucket or the burst limiter"
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o.get("event")=="summary":
        sys.exit(0 if o["rate_wait_s"]>1 else 1)
sys.exit(1)' "$ERR"
ok $? "R-Series: the pacer did wait for the bucket"

# 60 requests against a window of 20 requests per 2 seconds.
start_fake x lightspeed.py --sales 1200 --time-scale 150 --x-limit 20
ls_env x
export INTEGRATION_LS_WINDOW=2
run ls-fetch --since 2026-05-14 --limit 0 --page-size 20
is "$RC" 0 "X-Series: 61 pages fetched"
is "$(count_status x 429)" 0 "X-Series: no 429 from the request window"
done_testing
