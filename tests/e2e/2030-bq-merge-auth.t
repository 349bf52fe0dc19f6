#!/bin/sh
# Google credentials in Application Default Credentials order: a
# service-account key (an RS256 JWT that the fake verifies against the
# public key), an authorized_user file, the metadata server; a 401 renews
# the token once; a key the server does not know is refused (exit 77);
# no token or key ever reaches the log.
. "$IG_SRCDIR/tests/e2e/lib.sh"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/key.pem" 2>/dev/null &&
    openssl pkey -in "$TMP/key.pem" -pubout -out "$TMP/pub.pem"
ok $? "openssl made a test key pair"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/other.pem" 2>/dev/null

start_fake bq bigquery.py --project sandbox --sa-public-key "$TMP/pub.pem" \
    --sa-email merger@sandbox.iam.gserviceaccount.com \
    --user-client-id uid --user-client-secret usecret --user-refresh-token urt \
    --fault 401@2
BQ=$PORT

key_file() {	# key_file PEM OUT
	"$PY" -c 'import json,sys
print(json.dumps({"type":"service_account","project_id":"sandbox","private_key_id":"k1",
  "private_key":open(sys.argv[1]).read(),"client_email":"merger@sandbox.iam.gserviceaccount.com",
  "client_id":"1","token_uri":"http://127.0.0.1:%s/token"%sys.argv[3]}))' "$1" "$2" "$BQ" > "$2"
}
key_file "$TMP/key.pem" "$TMP/sa.json"
key_file "$TMP/other.pem" "$TMP/bad.json"
"$PY" -c 'import json
for i in range(5):
    print(json.dumps({"sale_id":"A-%d"%i,"timestamp":"2026-05-14T10:00:00Z","customer_id":"c",
        "product_id":"P","product_name":"Tea","quantity":1,"price":3.25,"payment_method":"Cash"}))' > "$TMP/in"

unset BIGQUERY_EMULATOR_HOST GCP_PROJECT_ID GOOGLE_CLOUD_PROJECT
export BIGQUERY_API_URL="http://127.0.0.1:$BQ" CLOUDSDK_CONFIG="$TMP/no-gcloud"
export GOOGLE_APPLICATION_CREDENTIALS="$TMP/sa.json" GCE_METADATA_HOST=127.0.0.1:1

run bq-merge --create-table "$TMP/in"
is "$RC" 0 "service account: merged, exit 0"
is "$(summary inserted)" 5 "service account: 5 rows inserted (project from the key file)"
"$PY" -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o.get("path")=="/token" and o.get("status")==200:
        c=o.get("jwt") or {}
        assert c.get("iss")=="merger@sandbox.iam.gserviceaccount.com", c
        assert c.get("aud")=="http://127.0.0.1:%s/token"%sys.argv[2], c
        assert "auth/bigquery" in c.get("scope",""), c
        assert c["exp"]-c["iat"]<=3600, c
        n+=1
sys.exit(0 if n>=1 else 1)' "$TMP/bq.log" "$BQ"
ok $? "the fake verified the JWT's RS256 signature and claims"
is "$(count_status bq 401)" 1 "a 401 was answered once (injected)"
is "$(grep -c '"path": *"/token"' "$TMP/bq.log")" 2 "and the token was renewed once"
! grep -E 'ya29\.|BEGIN PRIVATE KEY|assertion' "$ERR"
ok $? "no token, key or assertion in the log"

export GOOGLE_APPLICATION_CREDENTIALS="$TMP/bad.json"
run bq-merge "$TMP/in"
is "$RC" 77 "a key the server does not know: exit 77"
grep -q 'invalid_grant' "$ERR"
ok $? "the log says the grant was refused"
is "$(summary success)" false "and the summary says no success"

printf '{"type":"authorized_user","client_id":"uid","client_secret":"usecret","refresh_token":"urt","token_uri":"http://127.0.0.1:%s/token"}\n' "$BQ" > "$TMP/user.json"
export GOOGLE_APPLICATION_CREDENTIALS="$TMP/user.json" GCP_PROJECT_ID=sandbox
run bq-merge "$TMP/in"
is "$RC" 0 "authorized_user: refresh-token grant, exit 0"
! grep -q 'usecret' "$ERR"
ok $? "the client secret is not in the log"

unset GOOGLE_APPLICATION_CREDENTIALS
mkdir -p "$TMP/gcloud"
cp "$TMP/user.json" "$TMP/gcloud/application_default_credentials.json"
export CLOUDSDK_CONFIG="$TMP/gcloud"
run bq-merge "$TMP/in"
is "$RC" 0 "the gcloud ADC file is used when GOOGLE_APPLICATION_CREDENTIALS is unset"

export CLOUDSDK_CONFIG="$TMP/no-gcloud" GCE_METADATA_HOST="127.0.0.1:$BQ"
run bq-merge "$TMP/in"
is "$RC" 0 "metadata server: exit 0"
grep -q '"path": *"/computeMetadata/v1/instance/service-accounts/default/token"' "$TMP/bq.log"
ok $? "the token came from the metadata server"

export GCE_METADATA_HOST=127.0.0.1:9
run bq-merge --timeout 2 "$TMP/in"
is "$RC" 75 "no credentials anywhere: exit 75 after the metadata server fails"
grep -q 'no Google credentials' "$ERR"
ok $? "and the message says no credentials were found"
done_testing
