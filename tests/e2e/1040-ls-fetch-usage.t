#!/bin/sh
# Options and configuration: bad values are usage (64) or configuration
# (78) errors with a message that says what to fix; -h and --version work.
. "$IG_SRCDIR/tests/e2e/lib.sh"
export LIGHTSPEED_TOKEN=test-token LIGHTSPEED_API_URL=http://127.0.0.1:9

run ls-fetch -h
is "$RC" 0 "-h exits 0"
grep -q '^usage: ls-fetch' "$OUT"
ok $? "-h prints the usage on stdout"
run ls-fetch --version
grep -q '^ls-fetch [0-9]' "$OUT"
ok $? "--version prints the version"

usage_error() {	# usage_error PATTERN ARGS... : exit 64 and PATTERN in the log
	pat=$1
	shift
	run ls-fetch "$@"
	is "$RC" 64 "ls-fetch $*: exit 64"
	grep -q "$pat" "$ERR"
	ok $? "ls-fetch $*: message mentions '$pat'"
}
usage_error "invalid time" --since yesterday
usage_error "invalid time" --since 2026-02-30
usage_error "invalid time" --until 2026-05-14T25:00:00Z
usage_error "before --since" --since 2026-05-14 --until 2026-05-13
usage_error "whole number" --limit -1
usage_error "whole number" --limit 10x
usage_error "whole number" --page-size 0
usage_error "at most 100" --page-size 150
usage_error "whole number" --timeout 0
usage_error "unknown option" --bogus
usage_error "unexpected operand" extra
usage_error "X-Series only" --after 5

config_error() {	# config_error PATTERN : exit 78 and PATTERN in the log
	run ls-fetch
	is "$RC" 78 "configuration: $1: exit 78"
	grep -q "$1" "$ERR"
	ok $? "configuration: message mentions '$1'"
}
unset LIGHTSPEED_TOKEN
config_error "no Lightspeed credentials"
export LIGHTSPEED_TOKEN=test-token LIGHTSPEED_API=q-series
config_error "LIGHTSPEED_API must be"
export LIGHTSPEED_API=x-series
unset LIGHTSPEED_API_URL
config_error "LIGHTSPEED_DOMAIN_PREFIX"
export LIGHTSPEED_DOMAIN_PREFIX='evil.example/x'
config_error "LIGHTSPEED_DOMAIN_PREFIX must be"
unset LIGHTSPEED_API LIGHTSPEED_DOMAIN_PREFIX
export LIGHTSPEED_API_URL=ftp://127.0.0.1
config_error "LIGHTSPEED_API_URL must be"
export LIGHTSPEED_API_URL=http://127.0.0.1:9 INTEGRATION_NOW=soon
config_error "INTEGRATION_NOW"
unset INTEGRATION_NOW
export LIGHTSPEED_CLIENT_ID=cid
config_error "must be set together"
unset LIGHTSPEED_CLIENT_ID

# A server that is not there: a temporary failure, after bounded retries.
run ls-fetch --timeout 1
is "$RC" 75 "connection refused: exit 75"
grep -q 'attempts' "$ERR"
ok $? "the message says how many attempts were made"
! grep -q 'test-token' "$ERR"
ok $? "the token is not in the log"

# Text logs on request.
run env LOG_FORMAT=text ls-fetch --limit x
grep -q '^ls-fetch: error: ' "$ERR"
ok $? "LOG_FORMAT=text gives 'ls-fetch: error: ...' lines"

# One request id for a whole pipeline.
run env REQUEST_ID=pipeline-42 ls-fetch --limit x
log_has requestId pipeline-42
ok $? "REQUEST_ID from the environment is in every log line"
done_testing
