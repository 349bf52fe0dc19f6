"""Benchmarks ls-fetch against the bundled Lightspeed sandbox and prints:

1. the request rate achieved as a fraction of what each rate-limit model
   allows, over runs of more than 300 requests, with the number of 429s;
2. peak memory (max RSS) for 1,000 and for 100,000 sales;
3. CPU time of ls-fetch next to the cheapest shell alternative on the same
   pages: curl per page (next URL taken with sed) plus one jq run mapping
   all pages to rows.

Run from the repository root after building (scripts/bench-ls-fetch.sh does
both).  Standard library only; every server it starts is stopped."""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "tests", "fake", "lightspeed.py")
LS_FETCH = os.path.join(ROOT, os.environ.get("BUILD", "build"), "tools", "ls-fetch")
PY = "/usr/bin/python3"
TMP = tempfile.mkdtemp(prefix="ig-bench.")
SERVERS = []


def start_fake(name, *args):
    port_file = os.path.join(TMP, name + ".port")
    log = os.path.join(TMP, name + ".log")
    p = subprocess.Popen([PY, FAKE, "--port-file", port_file, "--log", log,
                          "--max-seconds", "1200", *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    SERVERS.append(p)
    for _ in range(600):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            break
        time.sleep(0.05)
    else:
        sys.exit("fake server did not start")
    with open(port_file) as f:
        _, port = f.read().split()
    return int(port), log


def run(argv, env=None, stdout=subprocess.DEVNULL, shell=False):
    """Runs a command; returns (exit status, wall s, cpu s, max rss KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.PIPE,
                         shell=shell)
    err_chunks = []
    # wait4 gives this child's own rusage, including its reaped descendants.
    stderr = p.stderr
    err = stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err_chunks.append(err)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, err


def env_for(port, series):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("LIGHTSPEED_") or k.startswith("INTEGRATION_"):
            del e[k]
    e["LIGHTSPEED_API_URL"] = "http://127.0.0.1:%d" % port
    e["LIGHTSPEED_TOKEN"] = "lsxs_pt_testtoken" if series == "x" else "test-token"
    e["INTEGRATION_NOW"] = "2026-09-01T00:00:00Z"
    e["LOG_FORMAT"] = "json"
    return e


def requests_of(log, path_part):
    out = []
    with open(log) as f:
        for line in f:
            o = json.loads(line)
            if path_part in o["path"]:
                out.append(o)
    return out


def bench_rate_r():
    k, page = 20, 10
    port, log = start_fake("rate-r", "--sales", "3100", "--time-scale", str(k))
    rc, wall, _, _, _ = run([LS_FETCH, "--since", "2026-05-14", "--limit", "0",
                             "--page-size", str(page)], env_for(port, "r"))
    reqs = requests_of(log, "/Sale.json")
    n, n429 = len(reqs), sum(1 for r in reqs if r["status"] == 429)
    d, size, cost = 1.0 * k, 90.0, 2.2
    t = reqs[-1]["t"] - reqs[0]["t"]
    allowed = (size + d * t) / cost + 1   # the first overflowing request is let through
    # Steady state: after the bucket has filled (the first 60 requests).
    s = reqs[60:]
    steady = (len(s) - 1) / (s[-1]["t"] - s[0]["t"]) / (d / cost)
    print("R-Series leaky bucket (bucket 90, drip %.0f/s, cost 2.2, time scale %d):" % (d, k))
    print("  requests %d in %.1f s, exit %d, 429s %d" % (n, t, rc, n429))
    print("  achieved / allowed over the run: %.3f" % (n / allowed))
    print("  steady-state rate / drip-over-cost: %.3f" % steady)


def bench_rate_x():
    k, limit, page = 150, 50, 5
    window = 300.0 / k
    port, log = start_fake("rate-x", "--sales", "2000", "--time-scale", str(k),
                           "--x-limit", str(limit))
    e = env_for(port, "x")
    e["INTEGRATION_LS_WINDOW"] = str(window)
    rc, wall, _, _, _ = run([LS_FETCH, "--since", "2026-05-14", "--limit", "0",
                             "--page-size", str(page)], e)
    reqs = requests_of(log, "/api/2.0/")
    n, n429 = len(reqs), sum(1 for r in reqs if r["status"] == 429)
    t = reqs[-1]["t"] - reqs[0]["t"]
    windows = int(t // window) + 1
    print("X-Series request window (%d requests per %.1f s, time scale %d):" % (limit, window, k))
    print("  requests %d in %.1f s (%d windows), exit %d, 429s %d" % (n, t, windows, rc, n429))
    print("  achieved / allowed over the run: %.3f" % (n / (limit * windows)))


def bench_memory():
    print("Peak memory (max RSS) of ls-fetch, R-Series, pages of 100:")
    for sales in (1000, 100000):
        port, _ = start_fake("mem%d" % sales, "--sales", str(sales), "--interval", "10",
                             "--time-scale", "100000", "--burst-limit", "1000000")
        rc, wall, cpu, rss, _ = run([LS_FETCH, "--since", "2026-05-14", "--limit", "0"],
                                    env_for(port, "r"))
        print("  %7d sales: %6.1f MiB peak, %.2f CPU s, %.1f s wall, exit %d"
              % (sales, rss / 1024.0, cpu, wall, rc))


# The cheapest faithful mapping: one row per line, no combining of lines.
JQ_MAP = r'''
def arr: if type == "array" then . elif type == "object" then [.] else [] end;
.Sale | arr | .[]
| select(.completed == "true" and .voided != "true")
| . as $s
| ((.SalePayments | if type == "object" then .SalePayment | arr else [] end)
   | map(select(.archived != "true")) | .[0].PaymentType.name // "unknown") as $pay
| (.SaleLines | if type == "object" then .SaleLine | arr else [] end) | .[]
| {sale_id: $s.saleID, timestamp: $s.completeTime,
   customer_id: (if $s.customerID == "0" then "anonymous" else $s.customerID end),
   product_id: (if .itemID == "0" then "unknown" else .itemID end),
   product_name: (.Item.description // "Unknown Product"),
   quantity: (.unitQuantity | tonumber), price: (.calcTotal | tonumber),
   payment_method: $pay}
'''

SHELL_FETCH = r'''
set -eu
url="$1"; n=0
while [ -n "$url" ]; do
	n=$((n + 1))
	curl -sS --fail -H "Authorization: Bearer test-token" -o "$2/page$n.json" "$url"
	url=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' "$2/page$n.json" | head -n 1)
done
jq -c -f "$3" "$2"/page*.json > "$2/rows.ndjson"
'''


def bench_cpu():
    sales = 20000
    port, _ = start_fake("cpu", "--sales", str(sales), "--interval", "10",
                         "--time-scale", "100000", "--burst-limit", "1000000")
    e = env_for(port, "r")
    out = open(os.path.join(TMP, "rows-c.ndjson"), "w")
    rc, wall, cpu, rss, _ = run([LS_FETCH, "--since", "2026-05-14", "--limit", "0"], e, stdout=out)
    out.close()
    pages = os.path.join(TMP, "pages")
    os.mkdir(pages)
    jqf = os.path.join(TMP, "map.jq")
    with open(jqf, "w") as f:
        f.write(JQ_MAP)
    rel = '["SaleLines","SaleLines.Item","SalePayments","SalePayments.PaymentType"]'
    from urllib.parse import quote
    first = ("http://127.0.0.1:%d/API/V3/Account/12345/Sale.json?load_relations=%s"
             "&completeTime=%%3E%%3D%%2C2026-05-14T00%%3A00%%3A00%%2B00%%3A00"
             "&sort=completeTime&limit=100") % (port, quote(rel, safe=""))
    src, swall, scpu, srss, _ = run(["sh", "-c", SHELL_FETCH, "sh", first, pages, jqf])
    npages = len([p for p in os.listdir(pages) if p.startswith("page")])
    size = sum(os.path.getsize(os.path.join(pages, p)) for p in os.listdir(pages)
               if p.startswith("page"))
    crows = sum(1 for _ in open(os.path.join(TMP, "rows-c.ndjson")))
    srows = sum(1 for _ in open(os.path.join(pages, "rows.ndjson"))) if src == 0 else 0
    print("CPU time for %d sales (%d pages, %.1f MB), R-Series:" % (sales, npages, size / 1e6))
    print("  ls-fetch:        %.2f CPU s (%d rows, exit %d)" % (cpu, crows, rc))
    print("  curl + sed + jq: %.2f CPU s (%d rows, exit %d)" % (scpu, srows, src))
    print("  ls-fetch / shell: %.2f" % (cpu / scpu if scpu else float("nan")))


def main():
    if not os.access(LS_FETCH, os.X_OK):
        sys.exit("build first: %s is missing" % LS_FETCH)
    what = sys.argv[1:] or ["rate", "memory", "cpu"]
    try:
        if "rate" in what:
            bench_rate_r()
            bench_rate_x()
        if "memory" in what:
            bench_memory()
        if "cpu" in what:
            bench_cpu()
    finally:
        for p in SERVERS:
            p.terminate()
        for p in SERVERS:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(TMP, ignore_errors=True)


main()
