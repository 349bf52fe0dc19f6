#!/bin/sh
# The BigQuery fake against Google's own Node.js client,
# @google-cloud/bigquery (pinned, installed from the npm registry into a
# temporary folder): a parameterized MERGE issued by Google's client is
# accepted and applied, a repeat inserts nothing, and rows merged by
# bq-merge read back identical through Google's client.
. "$IG_SRCDIR/tests/e2e/lib.sh"
NODE_CLIENT=@google-cloud/bigquery@8.1.1
export INTEGRATION_NOW=2026-05-16T00:00:00Z

command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1
ok $? "node and npm are installed"

mkdir -p "$TMP/npm"
NPM_CONFIG_UPDATE_NOTIFIER=false timeout 300 npm install --no-audit --no-fund \
    --prefix "$TMP/npm" "$NODE_CLIENT" > "$TMP/npm.log" 2>&1 &&
    [ -f "$TMP/npm/node_modules/@google-cloud/bigquery/package.json" ]
rc=$?
ok $rc "npm installed $NODE_CLIENT into a temporary folder"
[ $rc -eq 0 ] || diag "$TMP/npm.log"
cp "$IG_SRCDIR/tests/e2e/bq_interop.mjs" "$TMP/npm/bq_interop.mjs"

# One fake for both clients: Google's client presents the static token,
# bq-merge a service-account key that the fake verifies.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/key.pem" 2>/dev/null &&
    openssl pkey -in "$TMP/key.pem" -pubout -out "$TMP/pub.pem"
ok $? "openssl made a service-account key pair"
start_fake bq bigquery.py --project sandbox --token interop-token \
    --sa-public-key "$TMP/pub.pem" --sa-email merger@sandbox.iam.gserviceaccount.com
BQ=$PORT

unset GOOGLE_APPLICATION_CREDENTIALS BIGQUERY_EMULATOR_HOST BIGQUERY_API_URL \
    GCP_PROJECT_ID GOOGLE_CLOUD_PROJECT GCLOUD_PROJECT 2>/dev/null || :
export METADATA_SERVER_DETECTION=none CLOUDSDK_CONFIG="$TMP/no-gcloud" \
    GCE_METADATA_HOST=127.0.0.1:9 HOME="$TMP/home"
mkdir -p "$TMP/home"

# --- A parameterized MERGE issued by Google's client.
run node "$TMP/npm/bq_interop.mjs" merge "$BQ"
is "$RC" 0 "Google's client created the dataset and table, merged twice and read back"
[ "$RC" -eq 0 ] || diag "$ERR"
field() {	# field KEY: a key of the merge report, as JSON
	"$PY" -c 'import json,sys
print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]], ensure_ascii=False))' "$OUT" "$1" 2>/dev/null
}
"$PY" -c 'import json,sys
for r in json.load(open(sys.argv[1]))[sys.argv[2]]: print(json.dumps(r, ensure_ascii=False))' \
    "$OUT" sent > "$TMP/sent" 2>/dev/null
"$PY" -c 'import json,sys
for r in json.load(open(sys.argv[1]))[sys.argv[2]]: print(json.dumps(r, ensure_ascii=False))' \
    "$OUT" rows > "$TMP/client-rows" 2>/dev/null
nsent=$(grep -c . "$TMP/sent")

"$PY" -c 'import json,sys
st=[]
for l in open(sys.argv[1]):
    o=json.loads(l)
    b=o.get("body")
    if o.get("method")=="POST" and o.get("path","").endswith("/projects/sandbox/queries") \
            and isinstance(b,dict) and b.get("query","").lstrip().upper().startswith("MERGE"):
        st.append(o.get("status"))
print(" ".join(str(s) for s in st))' "$TMP/bq.log" > "$TMP/merge-status"
is "$(cat "$TMP/merge-status")" "200 200" "the fake answered both MERGEs from Google's client with 200"
is "$(field first)" "$nsent" "the first MERGE reported $nsent rows affected"
is "$(field second)" 0 "the identical second MERGE reported none"
"$PY" -c 'import json,sys
s=json.load(open(sys.argv[1]))["secondStats"] or {}
sys.exit(0 if int(s.get("insertedRowCount","0"))==0 and int(s.get("updatedRowCount","0"))==0 else 1)' "$OUT" 2>/dev/null
ok $? "and its dmlStats say nothing was inserted or updated"
rows_equal "$TMP/client-rows" "$TMP/sent"
ok $? "rows read back through Google's client equal what it sent"
bq_rows "$BQ" sandbox.interop.sales > "$TMP/fake-rows"
rows_equal "$TMP/fake-rows" "$TMP/sent"
ok $? "the fake's own table (GET /_rows) holds exactly the sent rows, once each"

"$PY" -c 'import json,sys
bad=[]
for l in open(sys.argv[1]):
    o=json.loads(l)
    if "/projects/" in o.get("path","") and o["headers"].get("authorization")!="Bearer interop-token":
        bad.append((o["method"],o["path"],o["headers"].get("authorization")))
for b in bad: print("#   %s %s: %s" % b)
sys.exit(1 if bad else 0)' "$TMP/bq.log"
ok $? "every BigQuery request of Google's client carried its bearer token"
grep -q '"path": *"/bigquery/v2/projects/sandbox/datasets/interop/tables"' "$TMP/bq.log"
ok $? "the client used the /bigquery/v2 prefix (apiEndpoint)"

# --- Rows merged by bq-merge, read back through Google's client.
"$PY" -c 'import json,sys
print(json.dumps({"type":"service_account","project_id":"sandbox","private_key_id":"k1",
  "private_key":open(sys.argv[1]).read(),"client_email":"merger@sandbox.iam.gserviceaccount.com",
  "client_id":"1","token_uri":"http://127.0.0.1:%s/token"%sys.argv[2]}))' "$TMP/key.pem" "$BQ" > "$TMP/sa.json"

start_fake ls lightspeed.py --sales 40
ls_env r
ls-fetch --since 2026-05-14 --limit 0 > "$TMP/rows" 2> "$TMP/ls-fetch.err"
nrows=$(grep -c . "$TMP/rows")
[ "$nrows" -gt 0 ]
ok $? "ls-fetch fetched $nrows rows"

export BIGQUERY_API_URL="http://127.0.0.1:$BQ" GOOGLE_APPLICATION_CREDENTIALS="$TMP/sa.json"
run bq-merge --create-table "$TMP/rows"
is "$RC" 0 "bq-merge --create-table exits 0"
[ "$RC" -eq 0 ] || diag "$ERR"
is "$(summary inserted)" "$nrows" "bq-merge inserted every row ($nrows)"
grep '"path": *"/token"' "$TMP/bq.log" | grep -q '"status": *200'
ok $? "bq-merge authenticated with the service-account key (token from the fake's /token)"
unset BIGQUERY_API_URL GOOGLE_APPLICATION_CREDENTIALS

run node "$TMP/npm/bq_interop.mjs" read "$BQ" sandbox.livhana_prod.sales
is "$RC" 0 "Google's client read the table bq-merge wrote"
[ "$RC" -eq 0 ] || diag "$ERR"
cp "$OUT" "$TMP/node-read"
sorted_rows "$TMP/rows" > "$TMP/want"
"$PY" "$IG_SRCDIR/tests/e2e/rows_equal.py" "$TMP/node-read" "$TMP/want"
ok $? "the rows read through Google's client are identical to the fetched rows"
bq_rows "$BQ" > "$TMP/table"
rows_equal "$TMP/table" "$TMP/want"
ok $? "and to the fake's own table"
done_testing
