"""Prints the rows of a table in the BigQuery fake (GET /_rows) as
ls-fetch rows, one JSON object per line, sorted by (sale_id, product_id):
timestamps as RFC 3339 UTC with Z, quantity and price as JSON numbers.
Usage: bq_rows.py BASE_URL project.dataset.table"""
import datetime
import json
import sys
import urllib.request

KEYS = ["sale_id", "timestamp", "customer_id", "product_id", "product_name",
        "quantity", "price", "payment_method"]


def rfc3339(v):
    if isinstance(v, (int, float)) or (isinstance(v, str) and v.lstrip("-").isdigit()):
        us = int(v)
        t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
            datetime.timedelta(microseconds=us)
    else:
        t = datetime.datetime.fromisoformat(str(v).replace("Z", "+00:00").replace(" ", "T"))
        t = t.astimezone(datetime.timezone.utc)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += (".%06d" % t.microsecond).rstrip("0")
    return s + "Z"


def number(v):
    if v is None:
        return None
    f = float(v)
    return int(f) if f == int(f) and abs(f) < 2 ** 53 else f


def main():
    base, table = sys.argv[1], sys.argv[2]
    with urllib.request.urlopen("%s/_rows?table=%s" % (base, table), timeout=30) as r:
        doc = json.load(r)
    rows = doc["rows"] if isinstance(doc, dict) else doc
    out = []
    for row in rows:
        o = {k: row.get(k) for k in KEYS}
        o["timestamp"] = rfc3339(o["timestamp"])
        o["quantity"] = number(o["quantity"])
        o["price"] = number(o["price"])
        out.append(o)
    out.sort(key=lambda o: (o["sale_id"], o["product_id"]))
    for o in out:
        print(json.dumps(o, ensure_ascii=False))


main()
