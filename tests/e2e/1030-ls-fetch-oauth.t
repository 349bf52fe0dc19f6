#!/bin/sh
# R-Series OAuth: refresh on a 401 or on expiry, the rotated pair saved
# atomically with mode 0600 before use, a refused refresh reported once
# (never a loop), and no secret in any log line.
. "$IG_SRCDIR/tests/e2e/lib.sh"
F=$IG_SRCDIR/tests/fake/lightspeed.py
export INTEGRATION_NOW=2026-05-16T00:00:00Z
"$PY" "$F" --print-expected --series r --sales 300 --since 2026-05-14T00:00:00Z > "$TMP/want"

oauth_env() {
	ls_env r
	export LIGHTSPEED_OAUTH_URL="http://127.0.0.1:$PORT/auth/oauth/token"
	export LIGHTSPEED_CLIENT_ID=cid LIGHTSPEED_CLIENT_SECRET=csecret
	export LIGHTSPEED_REFRESH_TOKEN=rt-0 LIGHTSPEED_TOKEN_FILE="$TMP/token.json"
}
token_calls() { grep -c '"path": *"/auth/oauth/token"' "$TMP/$1.log"; }
file_has() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d.get(sys.argv[2])!=sys.argv[3])' "$TMP/token.json" "$1" "$2"; }
no_secrets() {
	! grep -E 'csecret|rt-[0-9]|at-[0-9]|stale-token' "$ERR"
}

start_fake a lightspeed.py --sales 300
oauth_env
export LIGHTSPEED_TOKEN=stale-token
run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "a rejected access token is refreshed and the run succeeds"
rows_equal "$OUT" "$TMP/want"
ok $? "all rows after the refresh"
is "$(token_calls a)" 1 "one refresh grant"
grep '"path": *"/auth/oauth/token"' "$TMP/a.log" | grep -q 'refresh_token.*rt-0'
ok $? "the grant sent the configured refresh token"
file_has refresh_token rt-1 && file_has access_token at-1
ok $? "the rotated pair is in the token file"
is "$(stat -c %a "$TMP/token.json")" 600 "the token file has mode 0600"
is "$(ls "$TMP" | grep -c 'token.json.')" 0 "no temporary file is left beside it"
no_secrets
ok $? "no token or secret appears in the log"

run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "the next run uses the saved access token"
is "$(token_calls a)" 1 "and needs no refresh"

start_fake b lightspeed.py --sales 300 --token at-1 --refresh-token rt-1 --fault 401@2
oauth_env
run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "a token revoked between pages is refreshed"
rows_equal "$OUT" "$TMP/want"
ok $? "no page is lost around the refresh"
file_has refresh_token rt-2
ok $? "the newly rotated refresh token is saved"

start_fake c lightspeed.py --sales 300 --refresh-token rt-5
oauth_env
printf '{"access_token":"at-old","refresh_token":"rt-5","expires_at":"2020-01-01T00:00:00Z"}\n' > "$TMP/token.json"
chmod 600 "$TMP/token.json"
run ls-fetch --since 2026-05-14 --limit 0
is "$RC" 0 "an expired token is refreshed before use"
is "$(count_status c 401)" 0 "without first drawing a 401"

start_fake d lightspeed.py --sales 300 --client-secret other
oauth_env
rm -f "$TMP/token.json"
export LIGHTSPEED_TOKEN=stale-token
run ls-fetch --since 2026-05-14
is "$RC" 77 "a refused refresh exits 77"
grep -q 'token refresh refused' "$ERR"
ok $? "and says the refresh was refused"
is "$(token_calls d)" 1 "the refused grant is not retried in a loop"
no_secrets
ok $? "the refused refresh logs no secret"

start_fake e lightspeed.py --sales 300 --fault 401perm@1
oauth_env
rm -f "$TMP/token.json"
run ls-fetch --since 2026-05-14
is "$RC" 77 "a 401 that survives a refresh exits 77"
is "$(token_calls e)" 1 "after exactly one refresh"

unset LIGHTSPEED_TOKEN_FILE
run ls-fetch --since 2026-05-14
is "$RC" 78 "refresh configured without LIGHTSPEED_TOKEN_FILE is a configuration error"
grep -q 'LIGHTSPEED_TOKEN_FILE' "$ERR"
ok $? "the message names LIGHTSPEED_TOKEN_FILE"
done_testing
