"""Benchmarks bq-merge against the bundled BigQuery sandbox and prints,
for 10,000 and 1,000,000 rows: rows per second, CPU time, peak memory
(max RSS) and the number of MERGE statements, at the default batch size
and at the largest one; then the old service's way of doing the same
work for 100,000 rows: Google's Node client (@google-cloud/bigquery, from
the npm registry) sending one parameterized MERGE per 1000 rows.

Run from the repository root after building (scripts/bench-bq-merge.sh
does both).  Standard library only; every server it starts is stopped.
Only the client's own CPU and memory are measured, never the sandbox's."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "tests", "fake", "bigquery.py")
BQ_MERGE = os.path.join(ROOT, os.environ.get("BUILD", "build"), "tools", "bq-merge")
PY = "/usr/bin/python3"
NODE_CLIENT = "@google-cloud/bigquery@8.1.1"
TMP = tempfile.mkdtemp(prefix="ig-bench-bq.")
SERVERS = []


def start_fake(name):
    port_file = os.path.join(TMP, name + ".port")
    p = subprocess.Popen([PY, FAKE, "--port-file", port_file, "--project", "sandbox",
                          "--no-auth", "--token", "bench-token", "--max-seconds", "3600"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    SERVERS.append(p)
    for _ in range(600):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            break
        time.sleep(0.05)
    else:
        sys.exit("the BigQuery sandbox did not start")
    with open(port_file) as f:
        return int(f.read().split()[1])


def rows_file(n):
    path = os.path.join(TMP, "rows-%d.ndjson" % n)
    rng = random.Random(n)
    names = ["Ceramic Mug 12oz", "Tote Bag", "Roasted Almonds (kg)", "Tea Tin \"Earl Grey\"",
             "Walnut Candle 400g", "Crème Brûlée Kit"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            sale = 100000 + i // 2
            f.write(json.dumps({
                "sale_id": str(sale),
                "timestamp": "2026-05-%02dT%02d:%02d:%02dZ" % (1 + (i // 40000) % 28,
                                                                (i // 1000) % 24, (i // 17) % 60, i % 60),
                "customer_id": str(rng.randint(1, 500)) if rng.random() > 0.3 else "anonymous",
                "product_id": str(100 + (i % 2) * 7 + rng.randint(0, 5) * 2),
                "product_name": rng.choice(names),
                "quantity": rng.choice([1, 2, 3, 0.682, -1]),
                "price": round(rng.uniform(1, 250), 2),
                "payment_method": rng.choice(["Cash", "Credit Card", "Debit"]),
            }, ensure_ascii=False) + "\n")
    return path


def run_measured(argv, env, stdin_path=None):
    t0 = time.monotonic()
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    p = subprocess.Popen(argv, env=env, stdin=fin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    if stdin_path:
        fin.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return rc, time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, out


def bq_env(port):
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("BIGQUERY_", "GOOGLE_", "GCP_", "GCE_"))}
    e.update(BIGQUERY_EMULATOR_HOST="http://127.0.0.1:%d" % port, GCP_PROJECT_ID="sandbox",
             CLOUDSDK_CONFIG=os.path.join(TMP, "no-gcloud"), LOG_FORMAT="json")
    return e


def bench_bq_merge(n, batch):
    port = start_fake("bq-%d-%s" % (n, batch))
    e = bq_env(port)
    subprocess.run([BQ_MERGE, "--create-table"], env=e, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    args = [BQ_MERGE] + (["--batch-size", str(batch)] if batch else [])
    rc, wall, cpu, rss, out = run_measured(args, e, rows_file(n))
    s = json.loads(out.decode().strip().splitlines()[-1]) if rc in (0, 1) else {}
    SERVERS.pop().terminate()
    print("  %9d rows, batch %-6s: %8.0f rows/s, %6.2f CPU s, %6.1f MiB peak, "
          "%5d statements (%.1f per 100,000 rows), inserted %s, exit %d"
          % (n, batch or 1000, n / wall, cpu, rss / 1024.0, s.get("statements", -1),
             s.get("statements", 0) * 100000.0 / n, s.get("inserted"), rc))


NODE_SCRIPT = r'''
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { readFileSync } from 'node:fs';
const [port, file] = process.argv.slice(2);
const auth = new OAuth2Client();
auth.setCredentials({ access_token: 'bench-token', expiry_date: Date.now() + 3600e3 });
const bq = new BigQuery({ projectId: 'sandbox', apiEndpoint: `http://127.0.0.1:${port}`, authClient: auth });
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const query = `MERGE \`sandbox.livhana_prod.sales\` T
USING (SELECT * FROM UNNEST(@rows)) S
ON T.sale_id = S.sale_id AND T.product_id = S.product_id
WHEN NOT MATCHED THEN INSERT (sale_id, timestamp, customer_id, product_id, product_name, quantity, price, payment_method)
VALUES (S.sale_id, S.timestamp, S.customer_id, S.product_id, S.product_name, S.quantity, S.price, S.payment_method)`;
const types = { rows: [{ sale_id: 'STRING', timestamp: 'TIMESTAMP', customer_id: 'STRING', product_id: 'STRING',
  product_name: 'STRING', quantity: 'NUMERIC', price: 'FLOAT64', payment_method: 'STRING' }] };
let statements = 0;
for (let i = 0; i < rows.length; i += 1000) {
  const batch = rows.slice(i, i + 1000).map(r => ({ ...r, timestamp: bq.timestamp(r.timestamp),
    quantity: String(r.quantity) }));
  await bq.query({ query, params: { rows: batch }, types, location: 'US' });
  statements++;
}
console.log(JSON.stringify({ statements }));
'''


def bench_node(n):
    npm_dir = os.path.join(TMP, "npm")
    os.makedirs(npm_dir)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix",
                        npm_dir, NODE_CLIENT], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        print("  Node client: npm install %s failed: %s" % (NODE_CLIENT, r.stderr.decode()[-300:]))
        return
    script = os.path.join(npm_dir, "bench.mjs")
    with open(script, "w") as f:
        f.write(NODE_SCRIPT)
    port = start_fake("node")
    e = bq_env(port)
    subprocess.run([BQ_MERGE, "--create-table"], env=e, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    del e["BIGQUERY_EMULATOR_HOST"]
    e["METADATA_SERVER_DETECTION"] = "none"
    rc, wall, cpu, rss, out = run_measured(["node", script, str(port), rows_file(n)], e)
    st = json.loads(out.decode().strip().splitlines()[-1])["statements"] if rc == 0 else -1
    print("  %9d rows, Node %s: %8.0f rows/s, %6.2f CPU s, %6.1f MiB peak, %5d statements, exit %d"
          % (n, NODE_CLIENT, n / wall, cpu, rss / 1024.0, st, rc))
    port2 = start_fake("node-c")
    e2 = bq_env(port2)
    subprocess.run([BQ_MERGE, "--create-table"], env=e2, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    rc, wall2, cpu2, rss2, out = run_measured([BQ_MERGE], e2, rows_file(n))
    print("  %9d rows, bq-merge:          %8.0f rows/s, %6.2f CPU s, %6.1f MiB peak "
          "(CPU %.0f%% of the Node client's)" % (n, n / wall2, cpu2, rss2 / 1024.0,
                                               100.0 * cpu2 / cpu if cpu else 0))


def main():
    if not os.access(BQ_MERGE, os.X_OK):
        sys.exit("build first: %s is missing" % BQ_MERGE)
    what = sys.argv[1:] or ["sizes", "node"]
    try:
        if "sizes" in what:
            print("bq-merge into the sandbox:")
            for n in (10000, 1000000):
                bench_bq_merge(n, None)
                bench_bq_merge(n, 100000)
        if "node" in what:
            print("The old service's way, 100,000 rows:")
            bench_node(100000)
    finally:
        for p in SERVERS:
            p.terminate()
        shutil.rmtree(TMP, ignore_errors=True)


main()
