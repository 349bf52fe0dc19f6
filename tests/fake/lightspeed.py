#!/usr/bin/python3
"""Fake Lightspeed Retail server (R-Series and X-Series) for ls-fetch tests.

Python 3 standard library only.  Protocol reference: lightspeed-api.md in the
shared docs.  Generated data is deterministic for a given --seed.

Serve:
    /usr/bin/python3 tests/fake/lightspeed.py --port-file FILE [options]
  Binds 127.0.0.1 on a free port (never anything else), HTTP/1.1 keep-alive,
  then writes "PID PORT\\n" to FILE atomically (tmp file + rename).  Stops on
  SIGTERM/SIGINT or after --max-seconds.  Base URL: http://127.0.0.1:PORT.

Print the rows ls-fetch should output (NDJSON on stdout) and exit, no server:
    /usr/bin/python3 tests/fake/lightspeed.py --print-expected [--series r|x]
        [--since T] [--until T] [--limit N] [data options]
  --since/--until are inclusive bounds on the completion time; --limit counts
  sales with at least one row.  Rows are mapped from the JSON the server
  serves (not from the internal model).

Data options:
  --sales N           generated sales (default 250; 0 when a fixture is given)
  --seed S            RNG seed (default 1)
  --start T           completion time of sale 0 (default 2026-05-14T00:00:00Z)
  --interval SEC      seconds between consecutive sales (default 60)
  --r-fixture FILE    JSON array of raw R Sale objects (repeatable); saleIDs
                      must not collide with generated ones (1000..999+N)
  --x-fixture FILE    {"sales":[...],"products":[...]} (repeatable); with
                      generated sales, fixture versions are shifted by 10*N
Limits and auth:
  --time-scale K      R drip rate x K, X window 300/K s (default 1)
  --registers R       R bucket 90+10(R-1), drip 1+0.5(R-1)/s; X 300R+50/window
  --x-limit N         X requests per window (overrides 300R+50)
  --burst-limit N     R requests per 1-s wall-clock window (default 20)
  --token T           initial R access token (default test-token)
  --x-token T         X personal token (default lsxs_pt_testtoken)
  --client-id ID, --client-secret S (cid, csecret), --refresh-token RT (rt-0),
  --expires-in SEC (3600), --account-id ID (12345)
Diagnostics and faults:
  --log FILE          append one JSON line per request: t, method, path, query
                      (raw), headers (lowercase), body, status (the code sent,
                      or "reset", "truncate", "stall", "badjson"), and for
                      injected faults "fault" and "code" (code sent, if any)
  --fault KIND@N[xCOUNT]  (repeatable) on the N-th..(N+COUNT-1)-th data
                      request (R Sale.json, X sales, X products; not
                      Account.json, not the token endpoint).  KIND: 429 500
                      502 503 stall reset truncate badjson 401 401perm.
                      401 revokes the current R access token (a refresh
                      fixes it; on X it fails that request only); 401perm
                      fails every R and X request from then on.
  --stall-seconds S   sleep of a stall fault before answering (default 5)
  --max-seconds S     exit after S seconds (default 900)

Endpoints:
  GET  /API/V3/Account.json                    (cost 1)
  GET  /API/V3/Account/ID/Sale.json            load_relations, completeTime /
       timeStamp / updatetime filters, sort (saleID timeStamp completeTime
       updatetime, "-" for descending; ties by saleID in the same direction),
       limit, after, before, archived (false|true|only, default false).
       @attributes.next keeps the original query verbatim, adds sort=saleID
       and limit=100 when absent, and sets after=<cursor>.
  POST /auth/oauth/token                       refresh_token grant (JSON, form
       or multipart body; client credentials may also come as HTTP Basic)
  GET  /api/2.0/sales?after=V&page_size=P      X change feed (P <= 200)
  GET  /api/2.0/products/ID, /api/2.0/products?after=V&page_size=P
  GET  /_stats                                 request counts (no auth)
"""

import argparse
import base64
import bisect
import calendar
import email.parser
import email.policy
import email.utils
import functools
import gc
import json
import math
import random
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

import fakeserve  # tests/fake/fakeserve.py

NEG_INF = float("-inf")
SEP = (",", ":")

# ---------------------------------------------------------------- time helpers

_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$")


def parse_time(s, need_offset=False):
    """RFC 3339-ish time to epoch seconds (float), or None."""
    if not isinstance(s, str):
        return None
    m = _TIME_RE.match(s.strip())
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(k)) for k in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and se < 61):
        return None
    off = m.group(8)
    if off is None:
        if need_offset:
            return None
        offs = 0
    elif off in ("Z", "z"):
        offs = 0
    else:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:])
        if oh > 23 or om > 59:
            return None
        offs = sign * (oh * 3600 + om * 60)
    t = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)) - offs
    if m.group(7):
        t += float(m.group(7))
    return t


_DAYS = {}


def fmt_time(epoch, zulu=False):
    """Epoch -> "YYYY-MM-DDTHH:MM:SS[.f]+00:00" (or ...Z)."""
    whole = math.floor(epoch)
    us = int(round((epoch - whole) * 1e6))
    if us >= 1000000:
        whole += 1
        us -= 1000000
    day, sec = divmod(whole, 86400)
    ds = _DAYS.get(day)
    if ds is None:
        ds = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        _DAYS[day] = ds
    h, sec = divmod(sec, 3600)
    m, sec = divmod(sec, 60)
    s = "%s%02d:%02d:%02d" % (ds, h, m, sec)
    if us:
        s += (".%06d" % us).rstrip("0")
    return s + ("Z" if zulu else "+00:00")


_FNUM = {}


def _fnum(x):
    if x == 0:
        return "0"
    s = repr(x)
    if "e" in s or len(s) > 16:
        s = ("%.6f" % x).rstrip("0").rstrip(".")
        return "0" if s in ("-0", "") else s
    if s.endswith(".0"):
        return s[:-2]
    return s


def fnum(x):
    """Number as an R-Series scalar string: "20", "9.45", "-1.25"."""
    s = _FNUM.get(x)
    if s is None:
        s = _fnum(x)
        if len(_FNUM) > 200000:
            _FNUM.clear()
        _FNUM[x] = s
    return s


def jnum(x):
    """Number for JSON output: int when integral, else float rounded."""
    x = round(x, 10)
    if x == int(x):
        return int(x)
    return x


def jtok(x):
    """Number as a JSON token (X-Series)."""
    return repr(jnum(x))


def b64cursor(arr):
    return base64.b64encode(json.dumps(arr, separators=SEP).encode()).decode()


# ---------------------------------------------------------------- data model

ADJECTIVES = ["Ceramic", "Enamel", "Glass", "Bamboo", "Organic", "Classic",
              "Stainless", "Recycled", "Handmade", "Vintage", "Linen",
              "Cotton", "Walnut", "Copper", "Wool", "Marble"]
NOUNS = [("Mug", ["8oz", "12oz", "16oz"]), ("Tumbler", ["12oz", "20oz"]),
         ("Tote Bag", [""]), ("Notebook", ["A5", "A6"]),
         ("Candle", ["200g", "400g"]), ("Coaster Set", ["(4)", "(6)"]),
         ("Tea Towel", [""]), ("Water Bottle", ["500ml", "750ml"]),
         ("Cutting Board", ["Small", "Large"]), ("Plant Pot", ["10cm", "15cm"]),
         ("Serving Bowl", [""]), ("Scarf", [""]), ("Teapot", ["1L"]),
         ("Picture Frame", ["4x6", "5x7"])]
WEIGHT_NAMES = ["House Blend Coffee Beans (kg)", "Loose Leaf Green Tea (kg)",
                "Dried Mango Slices (kg)", "Roasted Almonds (kg)",
                "Dark Chocolate Buttons (kg)"]
# Fixed catalogue slots with names that exercise JSON escaping.
SPECIAL_NAMES = {7: "Cr\u00e8me Br\u00fbl\u00e9e Kit",
                 23: 'Tea Tin "Earl Grey"',
                 41: "Mystery Box \U0001F381"}
# (R paymentTypeID, name, R type, X payment_type_id)
PAYMENT_TYPES = [("1", "Cash", "cash", "1"),
                 ("3", "Credit Card", "credit card", "4"),
                 ("12", "Debit", "user defined", "6"),
                 ("4", "Gift Card", "gift card", "7")]
N_PRODUCTS = 60
N_CUSTOMERS = 500


def _uuid(r):
    """Deterministic UUID4 string from r (same as uuid.UUID(int=.., version=4))."""
    n = (r.getrandbits(128) & _UUID_MASK) | _UUID_BITS
    h = "%032x" % n
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


_UUID_MASK = ~((0xf000 << 64) | (0xc000 << 48)) & ((1 << 128) - 1)
_UUID_BITS = (0x4000 << 64) | (0x8000 << 48)


class Product:
    __slots__ = ("k", "item_id", "name", "price", "rate", "by_weight", "sku",
                 "cost", "x_id", "r_item", "r_item_json", "x_obj")


class Line:
    __slots__ = ("pk", "qty", "unit", "dpct", "rate", "sub", "disc", "tax",
                 "total", "created_s", "x_id")


class Model:
    __slots__ = ("i", "t", "ts", "created_s", "voided", "xstatus", "cust", "lines",
                 "pays", "employee", "x_id", "short", "pay_ids")


class World:
    """The underlying sales model; R and X forms are rendered from it."""

    def __init__(self, seed, start, interval, nsales):
        self.seed = seed
        self.start = start
        self.interval = interval
        self.nsales = nsales
        r = random.Random(seed)
        self.outlet_id = _uuid(r)
        self.register_id = _uuid(r)
        self.user_id = _uuid(r)
        self.tax_ids = {0.05: _uuid(r), 0.0825: _uuid(r)}
        self.retailer_pt = [_uuid(r) for _ in PAYMENT_TYPES]
        self.cust_uuid = [None] + [_uuid(r) for _ in range(N_CUSTOMERS)]
        weight = set(r.sample([k for k in range(N_PRODUCTS)
                               if k not in SPECIAL_NAMES], len(WEIGHT_NAMES)))
        used = set(SPECIAL_NAMES.values()) | set(WEIGHT_NAMES)
        wnames = list(WEIGHT_NAMES)
        self.products = []
        for k in range(N_PRODUCTS):
            p = Product()
            p.k = k
            p.item_id = str(100 + k)
            p.by_weight = k in weight
            if p.by_weight:
                p.name = wnames.pop(0)
                p.price = round(r.uniform(8, 40), 2)
            else:
                if k in SPECIAL_NAMES:
                    p.name = SPECIAL_NAMES[k]
                else:
                    while True:
                        noun, sizes = r.choice(NOUNS)
                        size = r.choice(sizes)
                        name = "%s %s%s" % (r.choice(ADJECTIVES), noun,
                                            " " + size if size else "")
                        if name not in used:
                            break
                    p.name = name
                used.add(p.name)
                p.price = round(r.uniform(1, 120), 2)
            p.rate = 0.05 if r.random() < 0.5 else 0.0825
            p.cost = round(p.price * r.uniform(0.3, 0.6), 2)
            p.sku = "SKU-%04d" % (100 + k)
            p.x_id = _uuid(r)
            p.r_item = {
                "itemID": p.item_id, "systemSku": "2100000%05d" % (100 + k),
                "defaultCost": fnum(p.cost), "avgCost": fnum(p.cost),
                "discountable": "true", "tax": "true", "archived": "false",
                "itemType": "default", "serialized": "false",
                "description": p.name, "upc": "", "ean": "",
                "customSku": p.sku, "manufacturerSku": "",
                "createTime": "2025-02-01T10:00:00+00:00",
                "timeStamp": "2026-04-30T09:12:00+00:00",
                "categoryID": str(1 + k % 7),
                "taxClassID": "1" if p.rate == 0.05 else "2",
                "itemMatrixID": "0", "manufacturerID": "0",
                "defaultVendorID": "0"}
            p.r_item_json = json.dumps(p.r_item, separators=SEP)
            p.x_obj = {
                "id": p.x_id, "source_id": None, "variant_parent_id": None,
                "name": p.name, "variant_name": p.name,
                "handle": re.sub(r"[^a-z0-9]+", "", p.name.lower()),
                "sku": p.sku, "active": True, "has_inventory": True,
                "is_composite": False, "description": "",
                "supply_price": p.cost, "price_excluding_tax": p.price,
                "created_at": "2025-02-01T10:00:00+00:00",
                "updated_at": "2026-04-30T09:12:00+00:00",
                "deleted_at": None, "version": k + 1}
            self.products.append(p)
        self.r_ptypes = []
        for (ptid, name, typ, _xid) in PAYMENT_TYPES:
            self.r_ptypes.append({
                "paymentTypeID": ptid, "name": name, "requireCustomer": "false",
                "archived": "false",
                "internalReserved": "true" if typ != "user defined" else "false",
                "type": typ, "refundAsPaymentTypeID": "0"})
        self.r_ptype_json = [json.dumps(d, separators=SEP) for d in self.r_ptypes]
        self.model = functools.lru_cache(maxsize=8192)(self._model)

    def sale_time(self, i):
        return self.start + i * self.interval

    def _model(self, i):
        """Sale i, from its own RNG stream (so any sale can be built alone)."""
        r = random.Random(self.seed * 4294967311 + i + 1)
        rnd = r.random
        m = Model()
        m.i = i
        m.t = self.sale_time(i)
        m.ts = fmt_time(m.t)
        m.voided = rnd() < 0.04
        u = rnd()
        if m.voided:
            m.xstatus = "VOIDED"
        elif u < 0.01:
            m.xstatus = "SAVED"
        elif u < 0.02:
            m.xstatus = "LAYBY"
        else:
            m.xstatus = "CLOSED"
        m.cust = None if rnd() < 0.30 else 1 + int(rnd() * N_CUSTOMERS)
        m.employee = 1 + int(rnd() * 8)
        u = rnd()
        nlines = 1 if u < 0.35 else 2 if u < 0.65 else 3 if u < 0.85 else 4
        dup = rnd() < 0.04
        if dup and nlines == 1:
            nlines = 2
        pks = []
        while len(pks) < nlines:
            k = int(rnd() * N_PRODUCTS)
            if k not in pks:
                pks.append(k)
        if dup:
            pks[-1] = pks[0]
        m.lines = []
        first = 0
        for j in range(nlines):
            ln = Line()
            misc = rnd() < 0.04 and not (dup and (j == 0 or j == nlines - 1))
            p = None if misc else self.products[pks[j]]
            ln.pk = None if p is None else p.k
            if p is not None and p.by_weight:
                q = round(0.25 + 2.25 * rnd(), 3)
            else:
                u = rnd()
                q = 1 if u < 0.7 else 2 if u < 0.9 else 3
            if rnd() < 0.04:
                q = -q
            ln.qty = q
            ln.unit = p.price if p is not None else round(1 + 119 * rnd(), 2)
            ln.dpct = 0.1 if rnd() < 0.15 else 0.0
            ln.rate = p.rate if p is not None else 0.05
            ln.sub = round(q * ln.unit, 2)
            ln.disc = round(ln.sub * ln.dpct, 2)
            ln.tax = round((ln.sub - ln.disc) * ln.rate, 2)
            ln.total = round(ln.sub - ln.disc + ln.tax, 2)
            created = 5 + int(rnd() * 596)
            ln.created_s = fmt_time(m.t - created)
            m.lines.append(ln)
            first = max(first, created)
        m.created_s = fmt_time(m.t - first - 1 - int(rnd() * 60))
        total = round(sum(ln.total for ln in m.lines), 2)
        u = rnd()
        # pays: list of (payment type index, amount, archived)
        if u < 0.03:
            m.pays = []
        elif u < 0.06:
            m.pays = [(int(rnd() * 4), total, True), (int(rnd() * 4), total, False)]
        elif u < 0.26:
            a1 = round(total * (0.2 + 0.6 * rnd()), 2)
            m.pays = [(int(rnd() * 4), a1, False),
                      (int(rnd() * 4), round(total - a1, 2), False)]
        else:
            m.pays = [(int(rnd() * 4), total, False)]
        m.x_id = _uuid(r)
        for ln in m.lines:
            ln.x_id = _uuid(r)
        m.pay_ids = [_uuid(r) for _ in m.pays]
        m.short = "%06x" % r.getrandbits(24)
        return m

    # ------------------------------------------------------------ R form

    def r_sale(self, i, rel):
        """R-Series Sale as a dict (parsed from the served text)."""
        return json.loads(self.r_sale_json(i, rel))

    def r_sale_json(self, i, rel):
        """R-Series Sale as JSON text.  rel = (lines, items, payments, ptypes)."""
        m = self.model(i)
        sid = str(1000 + i)
        ts = m.ts
        lines = m.lines
        sub = disc = tax = total = cost = 0.0
        for ln in lines:
            sub += ln.sub
            disc += ln.disc
            tax += ln.tax
            total += ln.total
            if ln.pk is not None:
                cost += self.products[ln.pk].cost * ln.qty
        sub, disc, tax, total = (round(sub, 2), round(disc, 2), round(tax, 2),
                                 round(total, 2))
        paid = round(sum(a for (_t, a, arch) in m.pays if not arch), 2)
        emp = str(m.employee)
        cost = fnum(round(cost, 2))
        net = fnum(round(sub - disc, 2))
        stotal = fnum(total)
        stax = fnum(tax)
        parts = [R_SALE_T % (
            sid, ts, "true" if m.voided else "false", m.created_s, ts, ts,
            fnum(lines[0].rate), net, "22%010d" % (1000 + i), fnum(disc), stotal,
            fnum(sub), net, cost, cost, stax, fnum(paid), stotal, stotal, stotal,
            fnum(round(total - paid, 2)), str(m.cust) if m.cust else "0", emp,
            stax)]
        if rel[0]:
            out = []
            for j, ln in enumerate(lines):
                p = None if ln.pk is None else self.products[ln.pk]
                pc = fnum(p.cost) if p is not None else "0"
                unit = fnum(ln.unit)
                s = R_LINE_T % (
                    100000 + 8 * i + j, ln.created_s, ts, fnum(ln.qty), unit,
                    unit, fnum(ln.dpct), pc, pc, fnum(ln.rate),
                    fnum(round(ln.sub - ln.disc, 2)), unit, fnum(ln.disc),
                    fnum(ln.total), fnum(ln.sub), fnum(ln.tax),
                    "1" if ln.rate == 0.05 else "2", "2" if ln.dpct else "0",
                    emp, p.item_id if p is not None else "0", sid)
                if p is not None and rel[1]:
                    s += ',"Item":' + p.r_item_json + "}"
                else:
                    s += "}"
                out.append(s)
            if len(out) == 1:
                parts.append(',"SaleLines":{"SaleLine":' + out[0] + "}")
            else:
                parts.append(',"SaleLines":{"SaleLine":[' + ",".join(out) + "]}")
        if rel[2]:
            out = []
            for j, (tk, amt, arch) in enumerate(m.pays):
                s = R_PAY_T % (500000 + 4 * i + j, fnum(amt), ts,
                               "true" if arch else "false", sid,
                               PAYMENT_TYPES[tk][0], emp)
                if rel[3]:
                    s += ',"PaymentType":' + self.r_ptype_json[tk] + "}"
                else:
                    s += "}"
                out.append(s)
            if not out:
                parts.append(',"SalePayments":""')
            elif len(out) == 1:
                parts.append(',"SalePayments":{"SalePayment":' + out[0] + "}")
            else:
                parts.append(',"SalePayments":{"SalePayment":[' + ",".join(out)
                             + "]}")
        parts.append("}")
        return "".join(parts)

    # ------------------------------------------------------------ X form

    def x_sale(self, i):
        return json.loads(self.x_sale_json(i))

    def x_sale_json(self, i):
        m = self.model(i)
        sd = m.ts
        qsd = '"' + sd + '"'
        items = []
        tp = tt = 0.0
        for j, ln in enumerate(m.lines):
            p = None if ln.pk is None else self.products[ln.pk]
            net = round(ln.sub - ln.disc, 2)
            tp += net
            tt += ln.tax
            unit = jtok(ln.unit)
            utax = jtok(round(ln.tax / ln.qty, 5))
            udisc = jtok(round(ln.disc / ln.qty, 5))
            items.append(X_LINE_T % (
                ln.x_id, '"%s"' % p.x_id if p is not None else "null",
                self.tax_ids[ln.rate], j, jtok(ln.qty), unit, unit, jtok(net),
                utax, utax, jtok(ln.tax), udisc, udisc, jtok(ln.disc),
                "true" if ln.qty < 0 else "false"))
        pays = []
        if m.xstatus in ("CLOSED", "VOIDED"):
            for j, (tk, amt, arch) in enumerate(m.pays):
                pt = PAYMENT_TYPES[tk]
                pays.append(X_PAY_T % (
                    m.pay_ids[j], pt[3], self.retailer_pt[tk], pt[1],
                    jtok(amt), sd, qsd if arch else "null", self.register_id,
                    self.outlet_id))
        tp = round(tp, 2)
        tt = round(tt, 2)
        return X_SALE_T % (
            m.x_id, self.outlet_id, self.register_id, self.user_id,
            '"%s"' % self.cust_uuid[m.cust] if m.cust else "null",
            1000 + i, 1000 + i, m.xstatus, X_STATE[m.xstatus], m.short,
            m.created_s, sd, sd, 10 * (i + 1), ",".join(items), ",".join(pays),
            jtok(tp), jtok(tt), jtok(round(tp + tt, 2)))


# JSON text templates for generated objects.  VAR marks a value inserted with
# %s: R values are inserted inside quotes, X values as raw JSON tokens.
VAR = object()


class Raw(str):
    """A template piece inserted verbatim (X: '"%s"' for a string)."""


Q = Raw('"%s"')


def _template(spec, quoted, close):
    out = []
    for k, v in spec:
        if v is VAR:
            out.append('"%s":%s' % (k, '"%s"' if quoted else "%s"))
        elif isinstance(v, Raw):
            out.append('"%s":%s' % (k, v))
        else:
            out.append('"%s":%s' % (k, json.dumps(v).replace("%", "%%")))
    return "{" + ",".join(out) + ("}" if close else "")


def _rspec(s):
    out = []
    for w in s.split():
        k, eq, v = w.partition("=")
        out.append((k, v if eq else VAR))
    return out


R_SALE_T = _template(_rspec(
    "saleID timeStamp discountPercent=0 completed=true archived=false voided "
    "enablePromotions=true isTaxInclusive=false createTime updatetime "
    "completeTime referenceNumber= referenceNumberSource= tax1Rate tax2Rate=0 "
    "change=0 tipEnabled=false receiptPreference=printed displayableSubtotal "
    "ticketNumber calcDiscount calcTotal calcSubtotal calcTaxable "
    "calcNonTaxable=0 calcAvgCost calcFIFOCost calcTax1 calcTax2=0 "
    "calcPayments calcTips=0 total totalDue displayableTotal balance customerID "
    "discountID=0 employeeID tipEmployeeID=0 quoteID=0 registerID=1 shipToID=0 "
    "shopID=1 taxCategoryID=1 taxTotal"), True, False)
R_LINE_T = _template(_rspec(
    "saleLineID createTime timeStamp unitQuantity unitPrice normalUnitPrice "
    "discountAmount=0 discountPercent avgCost fifoCost tax=true tax1Rate "
    "tax2Rate=0 isLayaway=false isWorkorder=false isSpecialOrder=false "
    "displayableSubtotal displayableUnitPrice calcLineDiscount "
    "calcTransactionDiscount=0 calcTotal calcSubtotal calcTax1 calcTax2=0 "
    "taxClassID customerID=0 discountID employeeID itemID noteID=0 "
    "parentSaleLineID=0 shopID=1 taxCategoryID=1 saleID itemFeeID=0"),
    True, False)
R_PAY_T = _template(_rspec(
    "salePaymentID amount createTime archived remoteReference= tipAmount=0 "
    "paymentID= saleID paymentTypeID ccChargeID=0 refPaymentID=0 registerID=1 "
    "employeeID creditAccountID=0"), True, False)
X_SALE_T = _template([
    ("id", Q), ("outlet_id", Q), ("register_id", Q),
    ("user_id", Q), ("customer_id", VAR), ("invoice_number", Q),
    ("receipt_number", Q), ("status", Q), ("state", Q),
    ("note", ""), ("short_code", Q), ("return_for", None),
    ("return_ids", []), ("source", "USER"), ("created_at", Q),
    ("updated_at", Q), ("sale_date", Q), ("deleted_at", None),
    ("version", VAR), ("line_items", Raw("[%s]")), ("payments", Raw("[%s]")),
    ("taxes", []), ("adjustments", []), ("total_price", VAR),
    ("total_tax", VAR), ("total_price_incl", VAR)], False, True)
X_LINE_T = _template([
    ("id", Q), ("product_id", VAR), ("tax_id", Q), ("sequence", VAR),
    ("status", "CONFIRMED"), ("quantity", VAR), ("price", VAR),
    ("unit_price", VAR), ("total_price", VAR), ("tax", VAR), ("unit_tax", VAR),
    ("total_tax", VAR),
    ("discount", VAR), ("unit_discount", VAR), ("total_discount", VAR),
    ("is_return", VAR), ("note", None)], False, True)
X_PAY_T = _template([
    ("id", Q), ("payment_type_id", Q),
    ("retailer_payment_type_id", Q), ("name", Q), ("amount", VAR),
    ("payment_date", Q), ("deleted_at", VAR), ("register_id", Q),
    ("outlet_id", Q)], False, True)
X_STATE = {"CLOSED": "closed", "VOIDED": "voided", "SAVED": "parked",
           "LAYBY": "pending"}


# ---------------------------------------------------------------- datasets

def as_list(v, key):
    """R relation container -> list of elements ("" / missing -> [])."""
    if not isinstance(v, dict):
        return []
    inner = v.get(key)
    if isinstance(inner, list):
        return [e for e in inner if isinstance(e, dict)]
    if isinstance(inner, dict):
        return [inner]
    return []


def load_json(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def load_r_fixture(path):
    d = load_json(path)
    if isinstance(d, list):
        return d
    if isinstance(d, dict) and "Sale" in d:
        s = d["Sale"]
        return s if isinstance(s, list) else [s]
    if isinstance(d, dict):
        return [d]
    raise ValueError("%s: not a JSON array of Sale objects" % path)


class RData:
    """Index of R sales: generated (by index) then fixtures (raw dicts)."""

    FIELDS = ("saleID", "completeTime", "timeStamp", "updatetime")

    def __init__(self, world, fixtures):
        self.world = world
        n = world.nsales
        self.src = list(range(n))
        self.sid = [1000 + i for i in range(n)]
        tl = [world.sale_time(i) for i in range(n)]
        self.times = {"completeTime": tl, "timeStamp": tl, "updatetime": tl}
        self.arch = [False] * n
        seen = set(self.sid)
        for d in fixtures:
            try:
                sid = int(d.get("saleID"))
            except (TypeError, ValueError):
                raise ValueError("fixture sale without a numeric saleID")
            if sid in seen:
                raise ValueError("duplicate saleID %d (generated sales use "
                                 "1000..%d; use --sales 0)" % (sid, 999 + n))
            seen.add(sid)
            self.src.append(d)
            self.sid.append(sid)
            for f in ("completeTime", "timeStamp", "updatetime"):
                if self.times[f] is tl:
                    self.times[f] = list(tl)
                self.times[f].append(parse_time(d.get(f) or ""))
            self.arch.append(d.get("archived") == "true")
        self._orders = {}
        self._lock = threading.Lock()

    def __len__(self):
        return len(self.sid)

    def order(self, field):
        """(sorted keys, entry indices) ascending by (value, saleID)."""
        with self._lock:
            o = self._orders.get(field)
            if o is None:
                if field == "saleID":
                    keys = [(s, s) for s in self.sid]
                else:
                    keys = [(NEG_INF if v is None else v, s)
                            for v, s in zip(self.times[field], self.sid)]
                idx = sorted(range(len(keys)), key=keys.__getitem__)
                o = ([keys[j] for j in idx], idx)
                self._orders[field] = o
            return o

    def raw(self, j, field):
        s = self.src[j]
        if isinstance(s, int):
            if field == "saleID":
                return 1000 + s
            return fmt_time(self.world.sale_time(s))
        if field == "saleID":
            return self.sid[j]
        v = s.get(field)
        return v if isinstance(v, str) else ""

    def sale_json(self, j, rel):
        s = self.src[j]
        if isinstance(s, int):
            return self.world.r_sale_json(s, rel)
        return json.dumps(self.sale(j, rel), separators=SEP)

    def sale(self, j, rel):
        s = self.src[j]
        if isinstance(s, int):
            return self.world.r_sale(s, rel)
        out = {}
        for k, v in s.items():
            if k == "SaleLines":
                if not rel[0]:
                    continue
                if not rel[1]:
                    v = _strip_nested(v, "SaleLine", "Item")
            elif k == "SalePayments":
                if not rel[2]:
                    continue
                if not rel[3]:
                    v = _strip_nested(v, "SalePayment", "PaymentType")
            elif k[:1].isupper():
                continue        # some other relation: not requested
            out[k] = v
        return out

    def all_full(self):
        full = (True, True, True, True)
        for j in range(len(self)):
            yield self.sale(j, full)


def _strip_nested(v, key, sub):
    if not isinstance(v, dict):
        return v
    inner = v.get(key)
    if isinstance(inner, dict):
        return {key: {a: b for a, b in inner.items() if a != sub}}
    if isinstance(inner, list):
        return {key: [{a: b for a, b in e.items() if a != sub}
                      if isinstance(e, dict) else e for e in inner]}
    return v


class XData:
    def __init__(self, world, fixtures):
        self.world = world
        n = world.nsales
        self.vers = [10 * (i + 1) for i in range(n)]
        self.src = list(range(n))
        shift = 10 * n
        fsales = []
        self.products = {}
        plist = []
        if n > 0:
            for p in world.products:
                self.products[p.x_id] = p.x_obj
                plist.append(p.x_obj)
        for fx in fixtures:
            for s in fx.get("sales", []):
                fsales.append(s)
            for p in fx.get("products", []):
                if isinstance(p, dict) and p.get("id"):
                    self.products[p["id"]] = p
                    plist.append(p)
        pairs = []
        for k, s in enumerate(fsales):
            v = s.get("version")
            if not isinstance(v, int):
                v = k + 1
            if shift:
                s = dict(s)
                s["version"] = v + shift
            pairs.append((s["version"] if shift else v, k, s))
        pairs.sort(key=lambda t: (t[0], t[1]))
        for v, _k, s in pairs:
            self.vers.append(v)
            self.src.append(s)
        self.pvers = []
        self.plist = []
        for k, p in enumerate(plist):
            v = p.get("version")
            if not isinstance(v, int):
                v = 1000000 + k
            self.pvers.append(v)
            self.plist.append(p)
        order = sorted(range(len(self.plist)), key=lambda k: (self.pvers[k], k))
        self.pvers = [self.pvers[k] for k in order]
        self.plist = [self.plist[k] for k in order]

    def sale(self, j):
        s = self.src[j]
        if isinstance(s, int):
            return self.world.x_sale(s)
        return s

    def sale_json(self, j):
        s = self.src[j]
        if isinstance(s, int):
            return self.world.x_sale_json(s)
        return json.dumps(s, separators=SEP)

    def names(self):
        return {pid: (p.get("name") or "") for pid, p in self.products.items()}


# ---------------------------------------------------------------- row mapping
# Independent of the model: reads the served JSON forms.

def _merge_rows(sale_id, ts, cust, lines, method):
    rows = {}
    for pid, name, q, price in lines:
        r = rows.get(pid)
        if r is None:
            rows[pid] = [name, q, price]
        else:
            if not r[0] and name:
                r[0] = name
            r[1] += q
            r[2] += price
    out = []
    for pid, (name, q, price) in rows.items():
        out.append({"sale_id": sale_id, "timestamp": ts, "customer_id": cust,
                    "product_id": pid, "product_name": name or "Unknown Product",
                    "quantity": jnum(q), "price": jnum(price),
                    "payment_method": method})
    return out


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def rows_from_r(s):
    """-> (epoch, sort id, rows) or None when the sale is skipped."""
    if s.get("voided") == "true" or s.get("completed") != "true" \
            or s.get("archived") == "true":
        return None
    t = parse_time(s.get("completeTime") or "")
    if t is None:
        return None
    lines = []
    for ln in as_list(s.get("SaleLines"), "SaleLine"):
        pid = ln.get("itemID")
        if not isinstance(pid, str) or pid in ("", "0"):
            pid = "unknown"
        item = ln.get("Item")
        name = item.get("description") if isinstance(item, dict) else None
        name = name if isinstance(name, str) else ""
        lines.append((pid, name, _num(ln.get("unitQuantity")),
                      _num(ln.get("calcTotal"))))
    if not lines:
        return None
    method = "unknown"
    for p in as_list(s.get("SalePayments"), "SalePayment"):
        if p.get("archived") == "true":
            continue
        pt = p.get("PaymentType")
        nm = pt.get("name") if isinstance(pt, dict) else None
        method = nm if isinstance(nm, str) and nm else "unknown"
        break
    cust = s.get("customerID")
    if not isinstance(cust, str) or cust in ("", "0"):
        cust = "anonymous"
    sid = str(s.get("saleID"))
    try:
        skey = (0, int(sid), "")
    except ValueError:
        skey = (1, 0, sid)
    return t, skey, _merge_rows(sid, fmt_time(t, True), cust, lines, method)


def rows_from_x(s, names):
    if s.get("status") in ("VOIDED", "SAVED", "LAYBY") \
            or s.get("state") in ("voided", "parked", "pending") \
            or s.get("deleted_at"):
        return None
    t = parse_time(s.get("sale_date") or "")
    if t is None:
        return None
    lines = []
    for ln in s.get("line_items") or []:
        if not isinstance(ln, dict) or ln.get("status") == "VOIDED":
            continue
        pid = ln.get("product_id") or "unknown"
        name = names.get(pid, "") if pid != "unknown" else ""
        lines.append((pid, name, _num(ln.get("quantity")),
                      _num(ln.get("total_price")) + _num(ln.get("total_tax"))))
    if not lines:
        return None
    method = "unknown"
    for p in s.get("payments") or []:
        if not isinstance(p, dict) or p.get("deleted_at") is not None:
            continue
        method = p.get("name") or "unknown"
        break
    cust = s.get("customer_id") or "anonymous"
    sid = str(s.get("id"))
    return t, (0, 0, sid), _merge_rows(sid, fmt_time(t, True), cust, lines,
                                       method)


def print_expected(args, rdata, xdata):
    since = until = None
    if args.since:
        since = parse_time(args.since)
        if since is None:
            sys.exit("lightspeed.py: bad --since %r" % args.since)
    if args.until:
        until = parse_time(args.until)
        if until is None:
            sys.exit("lightspeed.py: bad --until %r" % args.until)
    res = []
    if args.series == "r":
        for s in rdata.all_full():
            r = rows_from_r(s)
            if r:
                res.append(r)
    else:
        names = xdata.names()
        seen = set()
        for j in range(len(xdata.src)):
            s = xdata.sale(j)
            if s.get("id") in seen:
                continue
            seen.add(s.get("id"))
            r = rows_from_x(s, names)
            if r:
                res.append(r)
    res.sort(key=lambda r: (r[0], r[1]))
    out = sys.stdout
    n = 0
    for t, _k, rows in res:
        if since is not None and t < since:
            continue
        if until is not None and t > until:
            continue
        if args.limit and n >= args.limit:
            break
        n += 1
        for row in rows:
            out.write(json.dumps(row, separators=SEP, ensure_ascii=False))
            out.write("\n")
    out.flush()


# ---------------------------------------------------------------- server state

class Resp:
    __slots__ = ("status", "headers", "body", "mode", "fault")

    def __init__(self, status, body=b"", headers=None, mode=None, fault=None):
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.mode = mode
        self.fault = fault


def jresp(status, obj, headers=None):
    h = [("Content-Type", "application/json")]
    if headers:
        h.extend(headers)
    return Resp(status, json.dumps(obj, separators=SEP).encode(), h)


R_RELATIONS = {"SaleLines": 0.4, "SalePayments": 0.4, "SaleLines.Item": 0.2,
               "SalePayments.PaymentType": 0.2}
R_SORTABLE = ("saleID", "timeStamp", "completeTime", "updatetime")
R_FILTERS = ("completeTime", "timeStamp", "updatetime")
FAULT_KINDS = ("429", "500", "502", "503", "stall", "reset", "truncate",
               "badjson", "401", "401perm")
HTTP_TEXT = {500: "Internal Server Error", 502: "Bad Gateway",
             503: "Service Unavailable", 400: "Bad Request", 404: "Not Found"}
_R_HDR = [
    ("X-LS-API-Bucket-Level", "X-LS-API-Drip-Rate", "X-LS-Api-Request-Cost",
     "X-LS-API-Burst-Level", "X-LS-Acct-Id", "X-LS-Oauth-Client-Id",
     "X-LS-API-RateLimit-Type", "Retry-After"),
    ("x-ls-api-bucket-level", "x-ls-api-drip-rate", "x-ls-api-request-cost",
     "x-ls-api-burst-level", "x-ls-acct-id", "x-ls-oauth-client-id",
     "x-ls-api-ratelimit-type", "retry-after"),
    ("X-Ls-Api-Bucket-Level", "X-Ls-Api-Drip-Rate", "X-Ls-Api-Request-Cost",
     "X-Ls-Api-Burst-Level", "X-Ls-Acct-Id", "X-Ls-Oauth-Client-Id",
     "X-Ls-Api-Ratelimit-Type", "RETRY-AFTER"),
]


class BadRequest(Exception):
    pass


class App:
    def __init__(self, args, rdata, xdata):
        self.a = args
        self.r = rdata
        self.x = xdata
        self.port = 0
        self.lock = threading.Lock()
        k = args.time_scale
        regs = args.registers
        self.size = 90 + 10 * (regs - 1)
        self.drip = (1 + 0.5 * (regs - 1)) * k
        self.level = 0.0
        self.last = time.monotonic()
        self.burst_win = None
        self.burst_n = 0
        self.x_limit = args.x_limit if args.x_limit else 300 * regs + 50
        self.x_window = 300.0 / k
        self.x_end = None
        self.x_count = 0
        self.access = args.token
        self.access_exp = time.time() + args.expires_in
        self.refresh = args.refresh_token
        self.revoked = set()
        # Issued pairs are numbered on from the initial refresh token's
        # number (rt-5 -> at-6/rt-6), so a rotation is visible across runs.
        m = re.fullmatch(r"rt-(\d+)", args.refresh_token or "")
        self.tok_n = int(m.group(1)) if m else 0
        self.faults = {}
        for spec in args.fault:
            kind, n, count = spec
            for m in range(n, n + count):
                self.faults.setdefault(m, kind)
        self.data_n = 0
        self.perm401 = False
        self.hdr_n = 0
        self.stats_total = 0
        self.stats = {}
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None
        self.log_lock = threading.Lock()

    # ---------------------------------------------------------------- misc

    def record(self, entry):
        st = str(entry["status"])
        with self.lock:
            if entry["path"] != "/_stats":
                self.stats_total += 1
                self.stats[st] = self.stats.get(st, 0) + 1
        if self.logf:
            line = json.dumps(entry, separators=SEP, ensure_ascii=False)
            with self.log_lock:
                self.logf.write(line + "\n")
                self.logf.flush()

    def handle(self, method, path, rawq, headers, body):
        """-> (Resp, stall seconds)."""
        if path == "/_stats":
            with self.lock:
                obj = {"requests": self.stats_total, "status": dict(self.stats),
                       "data_requests": self.data_n}
            return jresp(200, obj), 0
        if path == "/auth/oauth/token":
            if method != "POST":
                return jresp(405, {"error": "method_not_allowed"}), 0
            return self.token(headers, body), 0
        rsale = re.match(r"^/API/V3/Account/([^/]+)/Sale\.json$", path)
        xsales = path == "/api/2.0/sales"
        xprod = re.match(r"^/api/2\.0/products(?:/([^/]+))?$", path)
        is_r = bool(rsale) or path == "/API/V3/Account.json"
        is_x = xsales or bool(xprod)
        if not (is_r or is_x):
            return jresp(404, {"error": "Not Found"}), 0
        fault = None
        if rsale or is_x:
            with self.lock:
                self.data_n += 1
                fault = self.faults.get(self.data_n)
                if fault == "401perm":
                    self.perm401 = True
                elif fault == "401" and is_r and self.access is not None:
                    self.revoked.add(self.access)
                    self.access = None
        if method != "GET":
            resp = jresp(405, {"error": "Method Not Allowed"})
            resp.fault = fault
            return resp, 0
        stall = 0
        if fault in ("429", "500", "502", "503", "reset", "badjson"):
            resp = self.fault_resp(fault, is_r)
        else:
            if fault == "stall":
                stall = self.a.stall_seconds
            if is_r:
                if rsale:
                    resp = self.r_sales(rsale.group(1), path, rawq, headers)
                else:
                    resp = self.r_account(headers)
            else:
                resp = self.x_request(xsales, xprod, rawq, headers,
                                      fault == "401")
            if fault == "truncate":
                resp.mode = "truncate"
        resp.fault = fault
        return resp, stall

    def fault_resp(self, kind, is_r):
        if kind == "reset":
            return Resp(0, mode="reset")
        if kind == "badjson":
            body = b'{"Sale": [' if is_r else b'{"data": ['
            h = [("Content-Type", "application/json")]
            if is_r:
                h += self.r_headers(0)
            return Resp(200, body, h)
        code = int(kind)
        if is_r:
            h = self.r_headers(0)
            if code == 429:
                names = _R_HDR[self.hdr_n % 3]
                h += [(names[6], "api-leaky-bucket"), (names[7], "1")]
                return jresp(429, {"httpCode": "429",
                                   "httpMessage": "Too Many Requests",
                                   "message": "Rate limit exceeded"}, h)
            return jresp(code, {"httpCode": str(code),
                                "httpMessage": HTTP_TEXT[code],
                                "message": "Injected fault %d" % code}, h)
        if code == 429:
            when = math.ceil(time.time()) + 1
            h = [("Retry-After", email.utils.formatdate(when, usegmt=True))]
            h += self.x_headers(None)
            return jresp(429, {"error": "Too Many Requests",
                               "message": "Rate limiting enforced"}, h)
        return jresp(code, {"error": HTTP_TEXT[code],
                            "message": "Injected fault %d" % code})

    # ---------------------------------------------------------------- R

    def r_headers(self, cost, burst=None):
        """Rate headers with the current state (call without self.lock)."""
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - self.drip * (now - self.last))
            self.last = now
            level = self.level
            win = int(time.time())
            if win != self.burst_win:
                self.burst_win = win
                self.burst_n = 0
            bn = self.burst_n if burst is None else burst
            self.hdr_n += 1
            names = _R_HDR[self.hdr_n % 3]
        return self._r_hdr_list(names, level, cost, bn)

    def _r_hdr_list(self, names, level, cost, bn):
        return [(names[0], "%s/%s" % (fnum(round(level, 3)), self.size)),
                (names[1], fnum(round(self.drip, 6))),
                (names[2], fnum(round(cost, 3))),
                (names[3], "%d/%d" % (bn, self.a.burst_limit)),
                (names[4], self.a.account_id),
                (names[5], self.a.client_id)]

    def r_admit(self, cost):
        """Burst + leaky bucket.  -> (None or 429 Resp, header list)."""
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - self.drip * (now - self.last))
            self.last = now
            win = int(time.time())
            if win != self.burst_win:
                self.burst_win = win
                self.burst_n = 0
            self.burst_n += 1
            self.hdr_n += 1
            names = _R_HDR[self.hdr_n % 3]
            over = None
            if self.burst_n > self.a.burst_limit:
                over = ("api-burst-limiter", 1)
            elif self.level >= self.size:
                wait = math.floor((self.level - self.size) / self.drip) + 1
                over = ("api-leaky-bucket", max(1, wait))
            else:
                self.level += cost
            h = self._r_hdr_list(names, self.level, cost, self.burst_n)
        if over is None:
            return None, h
        h += [(names[6], over[0]), (names[7], str(over[1]))]
        msg = "Rate limit exceeded" if over[0] == "api-leaky-bucket" \
            else "Burst rate limit exceeded"
        return jresp(429, {"httpCode": "429", "httpMessage": "Too Many Requests",
                           "message": msg}, h), h

    def r_auth(self, headers):
        """None when authorised, else a 401 Resp (without rate headers)."""
        auth = headers.get("authorization", "")
        tok = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        with self.lock:
            if self.perm401:
                msg = "Access token could not be verified"
            elif tok is not None and tok == self.access:
                if time.time() < self.access_exp:
                    return None
                msg = "Access token could not be verified"
            elif tok in self.revoked:
                msg = "Access token has been revoked"
            else:
                msg = "Access token could not be verified"
        return jresp(401, {"httpCode": "401", "httpMessage": "Unauthorized",
                           "message": msg,
                           "errorClass": "Lightspeed\\Auth\\UnauthorizedException"},
                     [("WWW-Authenticate", 'Bearer error="invalid_token"')])

    def r_account(self, headers):
        bad = self.r_auth(headers)
        if bad:
            bad.headers += self.r_headers(0)
            return bad
        deny, h = self.r_admit(1.0)
        if deny:
            return deny
        acct = self.a.account_id
        return jresp(200, {"@attributes": {"count": "1"}, "Account": {
            "accountID": acct, "name": "Sandbox Store",
            "link": {"@attributes": {"href": "/API/V3/Account/%s" % acct}}}}, h)

    def r_sales(self, acct, path, rawq, headers):
        bad = self.r_auth(headers)
        if bad:
            bad.headers += self.r_headers(0)
            return bad
        err = None
        q = None
        try:
            q = self.r_parse(rawq)
            cost = q["cost"]
        except BadRequest as e:
            err = str(e)
            cost = 1.0
        deny, h = self.r_admit(cost)
        if deny:
            return deny
        if acct != self.a.account_id:
            return jresp(404, {"httpCode": "404", "httpMessage": "Not Found",
                               "message": "Account %s not found" % acct,
                               "errorClass": "NotFoundException"}, h)
        if err is not None:
            return jresp(400, {"httpCode": "400", "httpMessage": "Bad Request",
                               "message": err,
                               "errorClass": "InvalidArgumentException"}, h)
        return self.r_page(path, rawq, q, h)

    def r_parse(self, rawq):
        q = {"rel": (False, False, False, False), "cost": 1.0, "field": "saleID",
             "desc": False, "limit": 100, "after": None, "before": None,
             "filters": [], "archived": "false", "have": set()}
        for part in rawq.split("&"):
            if not part:
                continue
            rname, _, rval = part.partition("=")
            name = unquote_plus(rname)
            q["have"].add(name)
            if name == "load_relations":
                val = unquote_plus(rval)
                try:
                    rels = json.loads(val)
                except ValueError:
                    raise BadRequest("load_relations must be a JSON array of "
                                     "relation names")
                if not isinstance(rels, list) or \
                        not all(isinstance(x, str) for x in rels):
                    raise BadRequest("load_relations must be a JSON array of "
                                     "relation names")
                cost = 1.0
                for x in set(rels):
                    if x not in R_RELATIONS:
                        raise BadRequest("Invalid relation: %s" % x)
                    cost += R_RELATIONS[x]
                s = set(rels)
                items = "SaleLines.Item" in s
                ptypes = "SalePayments.PaymentType" in s
                q["rel"] = ("SaleLines" in s or items, items,
                            "SalePayments" in s or ptypes, ptypes)
                q["cost"] = round(cost, 3)
            elif name == "sort":
                v = unquote_plus(rval)
                desc = v.startswith("-")
                f = v[1:] if desc else v
                if f not in R_SORTABLE:
                    raise BadRequest("Invalid sort field '%s'. Sortable fields "
                                     "are: %s" % (v, ", ".join(R_SORTABLE)))
                q["field"], q["desc"] = f, desc
            elif name == "limit":
                v = unquote_plus(rval)
                if not re.fullmatch(r"\d{1,6}", v) or not 1 <= int(v) <= 100:
                    raise BadRequest("limit must be an integer from 1 to 100")
                q["limit"] = int(v)
            elif name in ("after", "before"):
                q[name] = self.decode_cursor(unquote_plus(rval))
            elif name in R_FILTERS:
                q["filters"].append((name,) + self.parse_filter(rval))
            elif name == "archived":
                v = unquote_plus(rval)
                if v not in ("true", "false", "only"):
                    raise BadRequest("archived must be true, false or only")
                q["archived"] = v
        if q["after"] is not None and q["before"] is not None:
            raise BadRequest("after and before cannot be combined")
        for c in (q["after"], q["before"]):
            if c is None:
                continue
            if q["field"] == "saleID":
                if not all(isinstance(x, int) and not isinstance(x, bool)
                           for x in c):
                    raise BadRequest("Invalid cursor for this sort")
            elif len(c) != 2 or not isinstance(c[0], str) or \
                    not isinstance(c[1], int):
                raise BadRequest("Invalid cursor for this sort")
        return q

    @staticmethod
    def decode_cursor(v):
        try:
            s = v.strip()
            s += "=" * (-len(s) % 4)
            if "-" in s or "_" in s:
                raw = base64.urlsafe_b64decode(s)
            else:
                raw = base64.b64decode(s, validate=True)
            c = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("Invalid pagination cursor")
        if not isinstance(c, list) or not 1 <= len(c) <= 2:
            raise BadRequest("Invalid pagination cursor")
        return c

    @staticmethod
    def parse_filter(raw):
        """Raw (undecoded) filter value -> (op, lo, hi) in epoch seconds."""
        if any(ch in raw for ch in "<>,"):
            raise BadRequest("Invalid filter: the operator and the comma must "
                             "be URL encoded")
        up = raw.upper()
        ops = (("%3E%3C%2C", "><"), ("%3E%3D%2C", ">="), ("%3C%3D%2C", "<="),
               ("!%3D%2C", "!="), ("%3E%2C", ">"), ("%3C%2C", "<"),
               ("%3D%2C", "="))
        op = None
        for enc, o in ops:
            if up.startswith(enc):
                op, rest = o, raw[len(enc):]
                break
        if op is None:
            if "%2C" in up:
                raise BadRequest("Invalid filter operator")
            op, rest = "=", raw
        vals = re.split(r"%2[cC]", rest)
        if len(vals) != (2 if op == "><" else 1):
            raise BadRequest("Invalid filter value")
        ts = []
        for v in vals:
            if "+" in v:
                raise BadRequest("Invalid date format '%s': a '+' in a query "
                                 "decodes to a space; send %%2B" % unquote_plus(v))
            t = parse_time(unquote(v), need_offset=True)
            if t is None:
                raise BadRequest("Invalid date format '%s'" % unquote(v))
            ts.append(t)
        return op, ts[0], ts[-1]

    @staticmethod
    def _match(v, op, a, b):
        if v is None:
            return False
        if op == ">":
            return v > a
        if op == ">=":
            return v >= a
        if op == "<":
            return v < a
        if op == "<=":
            return v <= a
        if op == "><":
            return a <= v <= b
        if op == "=":
            return v == a
        return v != a

    def r_page(self, path, rawq, q, h):
        rd = self.r
        field, desc, limit = q["field"], q["desc"], q["limit"]
        keys, idx = rd.order(field)
        n = len(keys)

        def ckey(c):
            if field == "saleID":
                return (c[0], c[-1])
            t = parse_time(c[0]) if c[0] else None
            if c[0] and t is None:
                raise BadRequest("Invalid pagination cursor")
            return (NEG_INF if t is None else t, c[1])

        try:
            if q["after"] is not None:
                k = ckey(q["after"])
                forward = not desc
                pos = bisect.bisect_right(keys, k) if forward \
                    else bisect.bisect_left(keys, k) - 1
            elif q["before"] is not None:
                k = ckey(q["before"])
                forward = desc
                pos = bisect.bisect_right(keys, k) if forward \
                    else bisect.bisect_left(keys, k) - 1
            else:
                forward = not desc
                pos = 0 if forward else n - 1
        except BadRequest as e:
            return jresp(400, {"httpCode": "400", "httpMessage": "Bad Request",
                               "message": str(e)}, h)
        # Filters on the sort field bound the scan.
        lo, hi = NEG_INF, float("inf")
        other = []
        for (f, op, a, b) in q["filters"]:
            if f == field:
                if op in (">", ">=", "><"):
                    lo = max(lo, a)
                if op in ("<", "<=", "><"):
                    hi = min(hi, b)
                if op == "=":
                    lo, hi = max(lo, a), min(hi, a)
            other.append((rd.times[f], op, a, b))
        if forward:
            pos = max(pos, bisect.bisect_left(keys, (lo, NEG_INF)))
        else:
            pos = min(pos, bisect.bisect_right(keys, (hi, float("inf"))) - 1)
        arch = q["archived"]
        step = 1 if forward else -1
        got = []
        match = self._match
        while 0 <= pos < n and len(got) <= limit:
            kv = keys[pos][0]
            if forward and kv > hi or not forward and kv < lo:
                break
            j = idx[pos]
            pos += step
            a = rd.arch[j]
            if (arch == "false" and a) or (arch == "only" and not a):
                continue
            ok = True
            for (tl, op, x, y) in other:
                if not match(tl[j], op, x, y):
                    ok = False
                    break
            if ok:
                got.append(j)
        more = len(got) > limit
        got = got[:limit]
        if q["before"] is not None:
            got.reverse()
            more_next, more_prev = True, more
        else:
            more_next, more_prev = more, q["after"] is not None
        sales = [rd.sale_json(j, q["rel"]) for j in got]

        def cur(j):
            if field == "saleID":
                return b64cursor([rd.sid[j]])
            return b64cursor([rd.raw(j, field), rd.sid[j]])

        first = cur(got[0]) if got else ""
        last = cur(got[-1]) if got else ""
        base = "http://127.0.0.1:%d%s?" % (self.port, path)
        keep = [p for p in rawq.split("&")
                if p and unquote_plus(p.partition("=")[0]) not in ("after", "before")]
        if "sort" not in q["have"]:
            keep.append("sort=saleID")
        if "limit" not in q["have"]:
            keep.append("limit=100")
        nxt = base + "&".join(keep + ["after=" + quote(last, safe="")]) \
            if got and more_next else ""
        prev = base + "&".join(keep + ["before=" + quote(first, safe="")]) \
            if got and more_prev else ""
        attrs = {"next": nxt, "previous": prev, "after": last if nxt else "",
                 "before": first if prev else ""}
        body = '{"@attributes":' + json.dumps(attrs, separators=SEP)
        if len(sales) == 1:
            body += ',"Sale":' + sales[0]
        elif sales:
            body += ',"Sale":[' + ",".join(sales) + "]"
        return Resp(200, (body + "}").encode(),
                    [("Content-Type", "application/json")] + h)

    # ---------------------------------------------------------------- token

    def token(self, headers, body):
        ctype = headers.get("content-type", "").lower()
        params = {}
        try:
            if "multipart/form-data" in ctype:
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + headers["content-type"].encode() +
                    b"\r\n\r\n" + body)
                for part in msg.iter_parts():
                    nm = part.get_param("name", header="content-disposition")
                    if nm:
                        params[nm] = part.get_content().strip() \
                            if part.get_content_maintype() == "text" \
                            else part.get_payload(decode=True).decode().strip()
            elif "json" in ctype or body.lstrip()[:1] == b"{":
                d = json.loads(body.decode("utf-8"))
                if isinstance(d, dict):
                    params = {k: str(v) for k, v in d.items()}
            else:
                params = dict(parse_qsl(body.decode("utf-8"),
                                        keep_blank_values=True))
        except (ValueError, UnicodeDecodeError, KeyError):
            return jresp(400, {"error": "invalid_request",
                               "error_description": "unparsable body"})
        auth = headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                cid, _, csec = base64.b64decode(auth[6:].strip()).decode() \
                    .partition(":")
                params.setdefault("client_id", unquote_plus(cid))
                params.setdefault("client_secret", unquote_plus(csec))
            except (ValueError, UnicodeDecodeError):
                pass
        nocache = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        if params.get("grant_type") != "refresh_token":
            return jresp(400, {"error": "unsupported_grant_type",
                               "error_description": "grant_type must be "
                               "refresh_token"}, nocache)
        if params.get("client_id") != self.a.client_id or \
                params.get("client_secret") != self.a.client_secret:
            return jresp(401, {"error": "invalid_client",
                               "error_description": "Client authentication "
                               "failed"}, nocache)
        with self.lock:
            if params.get("refresh_token") != self.refresh:
                return jresp(400, {"error": "invalid_grant",
                                   "error_description": "The refresh token is "
                                   "invalid or has been revoked"}, nocache)
            self.tok_n += 1
            if self.access is not None:
                self.revoked.add(self.access)
            self.access = "at-%d" % self.tok_n
            self.refresh = "rt-%d" % self.tok_n
            self.access_exp = time.time() + self.a.expires_in
            obj = {"token_type": "Bearer", "expires_in": jnum(self.a.expires_in),
                   "access_token": self.access, "refresh_token": self.refresh,
                   "scope": "employee:register"}
        return jresp(200, obj, nocache)

    # ---------------------------------------------------------------- X

    def x_headers(self, remaining):
        with self.lock:
            if remaining is None:
                now = time.time()
                if self.x_end is None or now >= self.x_end:
                    remaining = self.x_limit
                else:
                    remaining = max(0, self.x_limit - self.x_count)
        return [("X-RateLimit-Limit", str(self.x_limit)),
                ("X-RateLimit-Remaining", str(remaining))]

    def x_request(self, xsales, xprod, rawq, headers, force401):
        if not headers.get("user-agent"):
            return jresp(400, {"error": "Bad Request",
                               "message": "A User-Agent header is required"},
                         self.x_headers(None))
        auth = headers.get("authorization", "")
        tok = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if force401 or self.perm401 or tok != self.a.x_token:
            return jresp(401, {"error": "Unauthorized"}, self.x_headers(None))
        with self.lock:
            now = time.time()
            if self.x_end is None or now >= self.x_end:
                self.x_end = now + self.x_window
                self.x_count = 0
            if self.x_count >= self.x_limit:
                when = math.ceil(self.x_end)
                deny = True
            else:
                self.x_count += 1
                deny = False
            rem = self.x_limit - self.x_count
        h = [("X-RateLimit-Limit", str(self.x_limit)),
             ("X-RateLimit-Remaining", str(rem))]
        if deny:
            h.append(("Retry-After", email.utils.formatdate(when, usegmt=True)))
            return jresp(429, {"error": "Too Many Requests",
                               "message": "Rate limiting enforced"}, h)
        params = dict(parse_qsl(rawq, keep_blank_values=True))
        if xprod and xprod.group(1) is not None:
            p = self.x.products.get(unquote(xprod.group(1)))
            if p is None:
                return jresp(404, {"error": "Not Found"}, h)
            return jresp(200, {"data": p}, h)
        try:
            after = int(params.get("after") or 0)
            psize = int(params.get("page_size") or 50)
        except ValueError:
            return jresp(400, {"error": "Bad Request",
                               "message": "after and page_size must be "
                               "integers"}, h)
        if not 1 <= psize <= 200:
            return jresp(400, {"error": "Bad Request",
                               "message": "page_size must be between 1 and "
                               "200"}, h)
        if xsales:
            vers = self.x.vers
            pos = bisect.bisect_right(vers, after)
            data = [self.x.sale_json(j)
                    for j in range(pos, min(len(vers), pos + psize))]
        else:
            vers = self.x.pvers
            pos = bisect.bisect_right(vers, after)
            data = [json.dumps(p, separators=SEP)
                    for p in self.x.plist[pos:pos + psize]]
        if data:
            ver = {"min": vers[pos], "max": vers[pos + len(data) - 1]}
        else:
            ver = {"min": None, "max": None}
        body = '{"data":[%s],"version":%s}' % (",".join(data),
                                              json.dumps(ver, separators=SEP))
        return Resp(200, body.encode(), [("Content-Type", "application/json")] + h)


# ---------------------------------------------------------------- HTTP glue

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeLightspeed/1.0"
    app = None

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def _body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self):
        t0 = time.time()
        app = self.app
        body = self._body()
        path, _, rawq = self.path.partition("?")
        headers = {}
        for k, v in self.headers.items():
            headers[k.lower()] = v
        entry = {"t": t0, "method": self.command, "path": path, "query": rawq,
                 "headers": headers,
                 "body": body.decode("utf-8", errors="replace")}
        try:
            resp, stall = app.handle(self.command, path, rawq, headers, body)
        except Exception as e:          # a bug here must not hang the client
            resp, stall = jresp(500, {"error": "fake server bug: %r" % (e,)}), 0
        if stall:
            time.sleep(stall)
        status = resp.status
        if resp.mode == "reset":
            status = "reset"
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.rfile.close()
                self.connection.close()
            except OSError:
                pass
        else:
            self.send_response(resp.status)
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            body = resp.body
            if resp.mode == "truncate":
                status = "truncate"
                body = body[:len(body) // 2]
                self.close_connection = True
            # Headers and body in one write (no Nagle/delayed-ACK stalls).
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()
        if resp.fault in ("stall", "badjson"):
            status = resp.fault
        entry["status"] = status
        if resp.fault:
            entry["fault"] = resp.fault
            if resp.mode != "reset":
                entry["code"] = resp.status
        app.record(entry)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass        # client went away etc.: not interesting


# ---------------------------------------------------------------- main

def fault_spec(s):
    m = re.fullmatch(r"([0-9a-z]+)@(\d+)(?:x(\d+))?", s)
    if not m or m.group(1) not in FAULT_KINDS or int(m.group(2)) < 1:
        raise argparse.ArgumentTypeError(
            "bad fault %r: KIND@N or KIND@NxCOUNT, KIND one of %s"
            % (s, " ".join(FAULT_KINDS)))
    return (m.group(1), int(m.group(2)), int(m.group(3) or 1))


def rfc3339(s):
    t = parse_time(s)
    if t is None:
        raise argparse.ArgumentTypeError("bad time %r" % s)
    return t


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file")
    ap.add_argument("--sales", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=rfc3339, default="2026-05-14T00:00:00Z")
    ap.add_argument("--interval", type=float, default=60.0)
    ap.add_argument("--r-fixture", action="append", default=[])
    ap.add_argument("--x-fixture", action="append", default=[])
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--registers", type=int, default=1)
    ap.add_argument("--x-limit", type=int, default=0)
    ap.add_argument("--burst-limit", type=int, default=20)
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--x-token", default="lsxs_pt_testtoken")
    ap.add_argument("--client-id", default="cid")
    ap.add_argument("--client-secret", default="csecret")
    ap.add_argument("--refresh-token", default="rt-0")
    ap.add_argument("--expires-in", type=float, default=3600.0)
    ap.add_argument("--account-id", default="12345")
    ap.add_argument("--log")
    ap.add_argument("--fault", type=fault_spec, action="append", default=[])
    ap.add_argument("--stall-seconds", type=float, default=5.0)
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--print-expected", action="store_true")
    ap.add_argument("--series", choices=("r", "x"), default="r")
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args(argv)
    if isinstance(a.start, str):
        a.start = parse_time(a.start)
    if a.sales is None:
        a.sales = 0 if (a.r_fixture or a.x_fixture) else 250
    if a.sales < 0 or a.registers < 1 or a.time_scale <= 0 or a.burst_limit < 1:
        ap.error("--sales >= 0, --registers >= 1, --time-scale > 0 and "
                 "--burst-limit >= 1 are required")
    try:
        rfix = []
        for f in a.r_fixture:
            rfix.extend(load_r_fixture(f))
        xfix = [load_json(f) for f in a.x_fixture]
        world = World(a.seed, a.start, a.interval, a.sales)
        rdata = RData(world, rfix)
        xdata = XData(world, xfix)
    except (OSError, ValueError) as e:
        sys.stderr.write("lightspeed.py: %s\n" % e)
        return 2

    if a.print_expected:
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        gc.disable()         # many long-lived small objects; no cycles
        try:
            print_expected(a, rdata, xdata)
        except BrokenPipeError:
            sys.stderr.close()
            return 1
        return 0
    if not a.port_file:
        ap.error("--port-file is required (or --print-expected)")

    rdata.order("saleID")           # build the common sort orders up front
    rdata.order("completeTime")
    app = App(a, rdata, xdata)
    Handler.app = app
    srv = Server(("127.0.0.1", 0), Handler)
    app.port = srv.server_address[1]
    fakeserve.serve(srv, a.port_file, a.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
