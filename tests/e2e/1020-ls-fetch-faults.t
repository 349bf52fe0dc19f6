#!/bin/sh
# Injected faults: each one is either recovered from (same rows as a clean
# run, exit 0) or reported with the documented exit code; never a clean
# success with missing rows.
. "$IG_SRCDIR/tests/e2e/lib.sh"
F=$IG_SRCDIR/tests/fake/lightspeed.py
export INTEGRATION_NOW=2026-05-16T00:00:00Z
"$PY" "$F" --print-expected --series r --sales 300 --since 2026-05-14T00:00:00Z > "$TMP/want-r"
"$PY" "$F" --print-expected --series x --sales 300 --since 2026-05-14T00:00:00Z > "$TMP/want-x"

recovers() {	# recovers SERIES FAULT DESCRIPTION
	start_fake "f$T_N" lightspeed.py --sales 300 --stall-seconds 3 --fault "$2"
	ls_env "$1"
	run ls-fetch --since 2026-05-14 --limit 0 --page-size 100 --timeout 2
	is "$RC" 0 "$3: recovered, exit 0"
	rows_equal "$OUT" "$TMP/want-$1"
	ok $? "$3: every row written once"
}

fails() {	# fails SERIES FAULT CODE DESCRIPTION
	start_fake "f$T_N" lightspeed.py --sales 300 --stall-seconds 3 --fault "$2"
	ls_env "$1"
	run ls-fetch --since 2026-05-14 --limit 0 --page-size 100 --timeout 2
	is "$RC" "$3" "$4: exit $3"
}

recovers r 429@2x2 "R-Series 429 burst"
recovers x 429@2x2 "X-Series 429 burst with an HTTP-date Retry-After"
recovers r 503@1x2 "R-Series 503"
recovers r 500@3 "R-Series 500"
recovers x 502@2 "X-Series 502"
recovers r stall@2 "R-Series stall longer than --timeout"
recovers r reset@2 "R-Series connection reset"
recovers x reset@1 "X-Series connection reset"
recovers r truncate@2 "R-Series truncated body"

fails r badjson@1 76 "R-Series invalid JSON on the first page"
log_has code protocol
ok $? "R-Series invalid JSON: logged as a protocol error"
fails r badjson@2 1 "R-Series invalid JSON after one page (partial)"
grep -q 'resume with --since 2026-05-14T01:[0-9:]*Z' "$ERR"
ok $? "partial: the log says where to resume"
head -n "$(wc -l < "$OUT")" "$TMP/want-r" > "$TMP/head"
test -s "$OUT" && rows_equal "$OUT" "$TMP/head"
ok $? "partial: the rows of the first page were written, and are valid"
fails r 503@1x9 75 "R-Series 503 on every attempt"
fails x 401perm@1 77 "X-Series token rejected"
fails r 401perm@2 1 "R-Series token rejected after one page"
done_testing
