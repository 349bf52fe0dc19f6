#!/usr/bin/python3
"""Fake BigQuery REST v2 server, OAuth token endpoint and GCE metadata
server, for bq-merge tests.

Python 3 standard library only.  Protocol reference: bigquery-api.md in the
shared docs (sections 1, 3, 4 and 6).  There is no SQL engine: the
statements bq-merge (and Google's clients for the same job) send are
recognised by shape, see "Statements" below; anything else is answered
400 invalidQuery "Syntax error: ...".

Serve:
    /usr/bin/python3 tests/fake/bigquery.py --port-file FILE [options]
  Binds 127.0.0.1 on a free port (never anything else), HTTP/1.1 keep-alive,
  then writes "PID PORT\\n" to FILE atomically (tmp file + rename).  Stops on
  SIGTERM/SIGINT or after --max-seconds.  Base URL: http://127.0.0.1:PORT
  (BigQuery routes with or without the /bigquery/v2 prefix).

Options:
  --port-file FILE      where to write "PID PORT\\n" (required)
  --log FILE            append one JSON line per request: t, method, path (as
                        received, without the query string), query (raw),
                        headers (lowercase), body (parsed JSON when it
                        parses, else the raw text), status (the code sent, or
                        "reset"), and when relevant requestId and duplicate
                        (jobs.query), fault (injected), jwt (verified claims
                        of a jwt-bearer grant at /token)
  --max-seconds S       exit after S seconds (default 900)
  --project P           the one project that exists (default sandbox)
  --db FILE             sqlite3 file for datasets, tables and rows (default:
                        in memory); jobs and requestIds live in memory only
  --no-auth             emulator mode: no Authorization header needed
  --token T             (repeatable) a static bearer token that is accepted
  --strict              enforce the documented request encoding of jobs.query
                        (bigquery-api.md 1.3): useLegacySql present and false,
                        parameterMode "NAMED", location present, requestId <= 36
                        ASCII chars, every scalar value a JSON string or null
                        in its documented form (TIMESTAMP "YYYY-MM-DD
                        HH:MM:SS[.ffffff]+00:00", DATE "YYYY-MM-DD", INT64
                        digits, FLOAT64 decimal/scientific or NaN/Infinity/
                        -Infinity, NUMERIC at most 9 decimals), struct values
                        with exactly their structTypes fields.  Violations:
                        400 reason invalid with a precise message.  Without
                        it Google clients' looser forms are accepted ("named",
                        JSON numbers and booleans, ISO-8601 timestamps with T/Z
                        and up to 9 decimals, location defaulting to US).
  --sa-public-key PEM   RSA public key ("BEGIN PUBLIC KEY") that verifies
                        service-account JWTs at /token
  --sa-email EMAIL      the service account's email (the JWT's iss)
  --user-client-id ID, --user-client-secret S, --user-refresh-token RT
                        the authorized_user refresh_token grant accepted
  --token-expires-in S  lifetime of issued tokens (default 3599)
  --fault KIND@N[xCOUNT]  (repeatable) on the N-th..(N+COUNT-1)-th jobs.query
                        request whose query is a MERGE (1-based), instead of
                        executing it; a bare KIND means KIND@1.  KIND:
                          503 500 429         HTTP error (backendError,
                                              internalError, rateLimitExceeded)
                          rateLimitExceeded   HTTP 403, that reason
                          backendError        HTTP 500, that reason
                          jobBackendError jobInternalError jobRateLimitExceeded
                                              HTTP 400, that reason
                          serialize           400 invalidQuery "Could not
                                              serialize access to table ..."
                          toomany             400 invalidQuery "Resources
                                              exceeded ... Too many DML
                                              statements outstanding ..."
                          quotaExceeded       HTTP 403, that reason
                          applied503          apply, record the result under the
                                              requestId, answer 503
                          incomplete:K        apply, answer jobComplete false;
                                              the next K-1 getQueryResults say
                                              false too, then true (without
                                              dmlStats); jobs.get says RUNNING
                                              until then, then DONE + dmlStats
                          reset               close the connection, no answer
                          401                 answer 401 and revoke the bearer
                                              token; N counts every
                                              authenticated BigQuery request
  --refuse SALE_ID      (repeatable) a MERGE whose source rows hold that sale_id
                        fails: 400 invalidQuery "Bad double value: refused in
                        row with sale_id SALE_ID"; nothing is applied

Routes (BigQuery ones need "Authorization: Bearer X" unless --no-auth, X
issued here and not expired/revoked, or a --token; else 401 authError):
  POST /projects/P/queries                 jobs.query
  GET  /projects/P/queries/JOB             jobs.getQueryResults (location,
       timeoutMs, maxResults, pageToken, startIndex,
       formatOptions.useInt64Timestamp)
  POST /projects/P/jobs                    jobs.insert (query jobs)
  GET  /projects/P/jobs/JOB                jobs.get
  GET  /projects/P/datasets[/D]            datasets.list / datasets.get
  POST /projects/P/datasets                datasets.insert (409 if it exists)
  GET  /projects/P/datasets/D/tables[/T]   tables.list / tables.get
  POST /projects/P/datasets/D/tables       tables.insert (a Table resource)
  DELETE /projects/P/datasets/D/tables/T   tables.delete
  GET  /projects/P/datasets/D/tables/T/data  tabledata.list (f/v rows)
  POST /token                              OAuth: jwt-bearer grant (RS256,
       verified in pure Python against --sa-public-key; claims iss, aud =
       http://127.0.0.1:PORT/token, scope .../auth/bigquery or
       .../auth/cloud-platform, |iat-now| <= 300, exp > now, exp-iat <= 3600)
       or refresh_token grant (--user-*); answers {"access_token":
       "ya29.fake-N","expires_in":S,"token_type":"Bearer"} or 400 invalid_grant
  GET  /computeMetadata/v1/instance/service-accounts/default/token
  GET  /computeMetadata/v1/project/project-id
       both need "Metadata-Flavor: Google" (else 403) and answer with it
  GET  /_rows?table=P.D.T    (no auth) {"rows":[{col: value}]} ordered by
       sale_id, product_id: TIMESTAMP as integer microseconds, NUMERIC as a
       normalised decimal string, FLOAT64 as a number, NULL as null
  GET  /_stats               (no auth) request counts by route and status,
       statements applied, duplicates, faults, tokens issued
Errors use Google's body: {"error":{"code","message","status","errors":
[{"domain":"global","reason","message"}]}}.  A request body over 10485760
bytes is refused (400).  A project other than --project, an unknown
dataset, table or job, or a jobs.query location other than the dataset's
(datasets default to US) is 404 notFound.

Statements (case-insensitive, any whitespace, "--" comments ignored):
  CREATE SCHEMA [IF NOT EXISTS] `p.d` [OPTIONS(location="...")]
  CREATE TABLE [IF NOT EXISTS] `p.d.t` (col TYPE [NOT NULL], ...)
      [PARTITION BY DATE(col) | col] [CLUSTER BY c, ...] [OPTIONS(...)]
      types STRING INT64 FLOAT64 NUMERIC BIGNUMERIC TIMESTAMP DATE BOOL
  MERGE [INTO] `p.d.t` [AS] T USING <source> [AS] S
      ON T.a = S.a [AND T.b = S.b ...] [AND DATE(T.c) BETWEEN @lo AND @hi]
      [WHEN MATCHED [AND (T.x IS DISTINCT FROM S.x OR ...)] THEN
         UPDATE SET x = S.x, ...]
      [WHEN NOT MATCHED [BY TARGET] THEN INSERT (cols) VALUES (S.cols)
         | INSERT ROW]
    <source>: UNNEST(@p) | (SELECT * | cols FROM UNNEST(@p) [WHERE TRUE]
      [QUALIFY ROW_NUMBER() OVER (PARTITION BY a, b ORDER BY c [ASC|DESC])
      = 1])
    Semantics as BigQuery: target rows outside the BETWEEN window are
    invisible; NULL keys never match; a target row matched by two source
    rows is an error when there is a WHEN MATCHED clause ("UPDATE/MERGE
    must match at most one source row for each target row"); unmatched
    duplicates are all inserted; the statement applies atomically.
  SELECT * | cols | COUNT(*) FROM `p.d.t` [[AS] a] [WHERE c = @p | c =
      'lit' | c = number | c IS [NOT] NULL [AND ...]] [ORDER BY c [ASC|DESC],
      ...] [LIMIT n]
    TIMESTAMP values in results are float seconds ("1.715710961E9"), or
    integer microseconds with formatOptions.useInt64Timestamp.
  requestId: a repeat within 15 minutes with the same query,
  queryParameters and useLegacySql returns the first job's answer without
  applying anything (log "duplicate": true).
"""

import argparse
import base64
import datetime
import decimal
import hashlib
import json
import math
import os
import re
import socket
import sqlite3
import struct
import sys
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

import fakeserve  # tests/fake/fakeserve.py

MAX_BODY = 10485760
REQUEST_ID_TTL = 15 * 60.0
EPOCH_DATE = datetime.date(1970, 1, 1)
MICROS = 1000000

# ---------------------------------------------------------------- errors

STATUS_OF = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
             403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
             429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
             503: "UNAVAILABLE"}


class BQError(Exception):
    """An error answered in Google's shape."""

    def __init__(self, code, reason, message, status=None, location=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status or STATUS_OF.get(code, "UNKNOWN")
        self.location = location

    def body(self):
        e = {"domain": "global", "reason": self.reason, "message": self.message}
        if self.location:
            e["location"] = self.location
            e["locationType"] = "header" if self.location == "Authorization" else "parameter"
        return {"error": {"code": self.code, "message": self.message,
                          "errors": [e], "status": self.status}}

    def proto(self):
        """As an ErrorProto (a job's status.errorResult)."""
        return {"reason": self.reason, "message": self.message}


def invalid_query(msg):
    return BQError(400, "invalidQuery", msg)


def invalid(msg):
    return BQError(400, "invalid", msg)


def not_found(msg):
    return BQError(404, "notFound", "Not found: " + msg)


def syntax(msg):
    return invalid_query("Syntax error: " + msg)


# ---------------------------------------------------------------- values
#
# Python forms of BigQuery values: STRING str, INT64 int, FLOAT64 float,
# NUMERIC/BIGNUMERIC Decimal, TIMESTAMP int microseconds since the epoch,
# DATE "YYYY-MM-DD" str, BOOL bool, NULL None.

TYPE_ALIASES = {"STRING": "STRING", "INT64": "INT64", "INT": "INT64",
                "INTEGER": "INT64", "BIGINT": "INT64", "SMALLINT": "INT64",
                "TINYINT": "INT64", "BYTEINT": "INT64", "FLOAT64": "FLOAT64",
                "FLOAT": "FLOAT64", "NUMERIC": "NUMERIC", "DECIMAL": "NUMERIC",
                "BIGNUMERIC": "BIGNUMERIC", "BIGDECIMAL": "BIGNUMERIC",
                "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "BOOL": "BOOL",
                "BOOLEAN": "BOOL"}
SCALAR_TYPES = ("STRING", "INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC",
                "TIMESTAMP", "DATE", "BOOL")
NUMERIC_SCALE = {"NUMERIC": 9, "BIGNUMERIC": 38}
NUMERIC_INT_DIGITS = {"NUMERIC": 29, "BIGNUMERIC": 38}
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
TS_MIN = -62135596800 * MICROS              # 0001-01-01 00:00:00
TS_MAX = 253402300800 * MICROS - 1          # 9999-12-31 23:59:59.999999

STRICT_TS_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")
LOOSE_TS_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})"
    r"(?:\.(\d{1,9}))?)?)?\s*(?:([Zz]|UTC)|([+-])(\d{1,2})(?::?(\d\d))?)?$")
DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
LOOSE_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INT_RE = re.compile(r"^[+-]?\d+$")
STRICT_INT_RE = re.compile(r"^-?\d+$")
DEC_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
LOOSE_DEC_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"),
                  "-Infinity": float("-inf"), "+Infinity": float("inf"),
                  "inf": float("inf"), "-inf": float("-inf"),
                  "nan": float("nan")}


def days_to_date(days):
    return (EPOCH_DATE + datetime.timedelta(days=days)).isoformat()


def ts_to_date(us):
    return days_to_date(us // (86400 * MICROS))


def valid_date(y, mo, d):
    try:
        return datetime.date(y, mo, d).isoformat()
    except ValueError:
        return None


def parse_timestamp(s, strict):
    """A TIMESTAMP string -> microseconds; None when malformed."""
    if strict and not STRICT_TS_RE.match(s):
        return None
    m = LOOSE_TS_RE.match(s.strip())
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    h = int(m.group(4) or 0)
    mi = int(m.group(5) or 0)
    se = int(m.group(6) or 0)
    if valid_date(y, mo, d) is None or h > 23 or mi > 59 or se > 59:
        return None
    frac = m.group(7) or ""
    us = int((frac + "000000")[:6]) if frac else 0
    off = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11) or 0)
        if oh > 14 or om > 59:
            return None
        off = (oh * 3600 + om * 60) * (-1 if m.group(9) == "-" else 1)
    days = (datetime.date(y, mo, d) - EPOCH_DATE).days
    t = (days * 86400 + h * 3600 + mi * 60 + se - off) * MICROS + us
    if t < TS_MIN or t > TS_MAX:
        return None
    return t


def norm_decimal(d):
    """Decimal -> its shortest plain string: "1.5", "0.682", "-3", "0"."""
    if d == 0:
        return "0"
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def check_decimal(d, typ, raw):
    """A Decimal within typ's scale and range, or BQError."""
    if not d.is_finite():
        raise invalid_query("Invalid %s value: %s" % (typ, raw))
    exp = d.normalize().as_tuple().exponent if d != 0 else 0
    if exp < -NUMERIC_SCALE[typ]:
        raise invalid_query("Invalid %s value: %s" % (typ, raw))
    ip = abs(d).to_integral_value(rounding=decimal.ROUND_DOWN)
    if ip != 0 and len(str(ip)) > NUMERIC_INT_DIGITS[typ]:
        raise invalid_query("Invalid %s value: %s" % (typ, raw))
    return Decimal(norm_decimal(d))


def json_token(v):
    return json.dumps(v) if not isinstance(v, str) else v


def convert_scalar(typ, v, strict, where):
    """A parameter's JSON value -> the Python form of typ, or BQError.

    where names the value for messages ("parameter rows[3].price")."""
    if v is None:
        return None
    if strict and not isinstance(v, str):
        raise invalid("Undocumented encoding of %s (%s): a JSON %s (%s); the "
                      "documented form is a JSON string (or null)"
                      % (where, typ, "boolean" if isinstance(v, bool) else "number"
                         if isinstance(v, (int, float)) else "value", json.dumps(v)))
    if isinstance(v, (dict, list)):
        raise invalid("Invalid value for %s (%s): %s" % (where, typ, json.dumps(v)))
    if typ == "STRING":
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, str) else json.dumps(v)
    if typ == "INT64":
        if isinstance(v, bool):
            raise invalid("Invalid value for %s (INT64): %s" % (where, json.dumps(v)))
        if isinstance(v, float):
            if v != int(v):
                raise invalid_query("Bad int64 value: %r" % v)
            v = int(v)
        if isinstance(v, int):
            n = v
        else:
            if not (STRICT_INT_RE if strict else INT_RE).match(v.strip() if not strict else v):
                if strict and INT_RE.match(v.strip()):
                    raise invalid("Undocumented encoding of %s (INT64): %s; the "
                                  "documented form is digits with an optional "
                                  "'-'" % (where, json.dumps(v)))
                raise invalid_query("Bad int64 value: %s" % v)
            n = int(v)
        if n < INT64_MIN or n > INT64_MAX:
            raise invalid_query("Bad int64 value: %s" % json_token(v))
        return n
    if typ == "FLOAT64":
        if isinstance(v, bool):
            raise invalid("Invalid value for %s (FLOAT64): %s" % (where, json.dumps(v)))
        if isinstance(v, (int, float)):
            return float(v)
        if v in SPECIAL_FLOATS and (not strict or v in ("NaN", "Infinity", "-Infinity")):
            return SPECIAL_FLOATS[v]
        s = v if strict else v.strip()
        if not FLOAT_RE.match(s):
            raise invalid_query("Bad double value: %s" % v)
        try:
            f = float(s)
        except (ValueError, OverflowError):
            raise invalid_query("Bad double value: %s" % v)
        if math.isinf(f):
            raise invalid_query("Bad double value: %s" % v)
        return f
    if typ in ("NUMERIC", "BIGNUMERIC"):
        if isinstance(v, bool):
            raise invalid("Invalid value for %s (%s): %s" % (where, typ, json.dumps(v)))
        if isinstance(v, float):
            raw = repr(v)
        elif isinstance(v, int):
            raw = str(v)
        else:
            raw = v if strict else v.strip()
            if not (DEC_RE if strict else LOOSE_DEC_RE).match(raw):
                if strict and LOOSE_DEC_RE.match(raw.strip()):
                    raise invalid("Undocumented encoding of %s (%s): %s; the documented "
                                  "form is a plain decimal string" % (where, typ, json.dumps(v)))
                raise invalid_query("Invalid %s value: %s" % (typ, v))
        try:
            d = Decimal(raw)
        except decimal.InvalidOperation:
            raise invalid_query("Invalid %s value: %s" % (typ, raw))
        return check_decimal(d, typ, raw)
    if typ == "TIMESTAMP":
        if isinstance(v, bool) or isinstance(v, (int, float)):
            # Loose: a number is taken as seconds since the epoch.
            if isinstance(v, bool) or not math.isfinite(v):
                raise invalid_query("Invalid timestamp: '%s'" % json.dumps(v))
            t = int(round(v * MICROS))
            if t < TS_MIN or t > TS_MAX:
                raise invalid_query("Invalid timestamp: '%s'" % json.dumps(v))
            return t
        t = parse_timestamp(v, strict)
        if t is None:
            if strict and parse_timestamp(v, False) is not None:
                raise invalid("Undocumented encoding of %s (TIMESTAMP): %s; the documented "
                              "form is \"YYYY-MM-DD HH:MM:SS[.ffffff]+00:00\""
                              % (where, json.dumps(v)))
            raise invalid_query("Invalid timestamp: '%s'" % v)
        return t
    if typ == "DATE":
        if not isinstance(v, str):
            raise invalid_query("Invalid date: '%s'" % json.dumps(v))
        m = (DATE_RE if strict else LOOSE_DATE_RE).match(v if strict else v.strip())
        d = valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        if d is None:
            raise invalid_query("Invalid date: '%s'" % v)
        return d
    if typ == "BOOL":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            if strict and v not in ("true", "false"):
                raise invalid("Undocumented encoding of %s (BOOL): %s; the documented "
                              "form is \"true\" or \"false\"" % (where, json.dumps(v)))
            return v.lower() == "true"
        raise invalid_query("Invalid BOOL value: %s" % json_token(v))
    raise invalid("Unsupported type %s for %s" % (typ, where))


def coerce(v, src, dst, what):
    """A value of type src assigned to or compared with type dst."""
    if v is None or src == dst:
        return v
    if dst == "FLOAT64" and src in ("INT64", "NUMERIC", "BIGNUMERIC"):
        return float(v)
    if dst in ("NUMERIC", "BIGNUMERIC") and src in ("INT64", "NUMERIC", "BIGNUMERIC"):
        return check_decimal(Decimal(v), dst, str(v))
    raise invalid_query("Value of type %s cannot be assigned to %s, which has "
                        "type %s" % (src, what, dst))


def literal_value(typ, lit, what):
    """A SQL literal (str for a quoted one, int/Decimal for a number)."""
    if isinstance(lit, str):
        try:
            return convert_scalar(typ, lit, False, what)
        except BQError:
            raise invalid_query("Could not cast literal \"%s\" to type %s" % (lit, typ))
    if typ in ("INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC"):
        src = "INT64" if isinstance(lit, int) else "NUMERIC"
        if typ == "INT64" and src != "INT64":
            raise invalid_query("No matching signature for operator = for "
                                "argument types: INT64, FLOAT64")
        return coerce(lit, src, typ, what)
    raise invalid_query("No matching signature for operator = for argument "
                        "types: %s, %s" % (typ, "INT64" if isinstance(lit, int) else "FLOAT64"))


# ------------------------------------------------ output forms of values

def java_double(x):
    """A double as Java's Double.toString writes it ("1.715710961E9")."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    a = abs(x)
    if 1e-3 <= a < 1e7:
        s = repr(x)
        if "e" in s or "E" in s:
            s = format(Decimal(s), "f")
        if "." not in s:
            s += ".0"
        return s
    _sign, dig, exp = Decimal(repr(a)).as_tuple()
    e10 = len(dig) + exp - 1
    digits = "".join(map(str, dig)).rstrip("0") or "0"
    return "%s%s.%sE%d" % ("-" if x < 0 else "", digits[0], digits[1:] or "0", e10)


def float_str(x):
    """FLOAT64 as a query result cell: "9.5", "3.0", "NaN", "1.0E20"."""
    return java_double(x)


def cell(typ, v, int64_ts):
    """A value as the "v" of an f/v result cell."""
    if v is None:
        return None
    if typ == "TIMESTAMP":
        return str(v) if int64_ts else java_double(v / 1e6)
    if typ == "FLOAT64":
        return float_str(v)
    if typ in ("NUMERIC", "BIGNUMERIC"):
        return norm_decimal(v)
    if typ == "BOOL":
        return "true" if v else "false"
    return str(v)


def plain(typ, v):
    """A value for /_rows: TIMESTAMP int microseconds, NUMERIC string,
    FLOAT64 number, others as themselves."""
    if v is None:
        return None
    if typ in ("NUMERIC", "BIGNUMERIC"):
        return norm_decimal(v)
    return v


def values_equal(a, b):
    """Equality for IS DISTINCT FROM and key matching (NaN equals NaN)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def sort_key(v, _desc=False):
    """Sort key with BigQuery's NULL order: first ascending, last descending."""
    if v is None:
        return (0,)
    if isinstance(v, float) and math.isnan(v):
        return (1, float("-inf"))
    return (2, v)


def now_ms():
    return int(time.time() * 1000)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- RS256 JWT

class ASN1Error(ValueError):
    pass


def der_read(buf, pos):
    """One DER element at pos -> (tag, content start, content end)."""
    if pos + 2 > len(buf):
        raise ASN1Error("truncated DER")
    tag = buf[pos]
    ln = buf[pos + 1]
    pos += 2
    if ln & 0x80:
        k = ln & 0x7f
        if k == 0 or k > 4 or pos + k > len(buf):
            raise ASN1Error("bad DER length")
        ln = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    if pos + ln > len(buf):
        raise ASN1Error("truncated DER")
    return tag, pos, pos + ln


def der_children(buf, start, end):
    out = []
    while start < end:
        tag, s, e = der_read(buf, start)
        out.append((tag, s, e))
        start = e
    return out


RSA_OID = bytes.fromhex("2a864886f70d010101")     # 1.2.840.113549.1.1.1


def rsa_public_key(pem):
    """"-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) or "BEGIN RSA
    PUBLIC KEY" (PKCS#1) PEM text -> (n, e)."""
    m = re.search(r"-----BEGIN (RSA )?PUBLIC KEY-----(.*?)-----END (RSA )?PUBLIC KEY-----",
                  pem, re.S)
    if not m:
        raise ASN1Error("no PUBLIC KEY block")
    der = base64.b64decode("".join(m.group(2).split()), validate=True)
    tag, s, e = der_read(der, 0)
    if tag != 0x30:
        raise ASN1Error("not a SEQUENCE")
    kids = der_children(der, s, e)
    if not m.group(1):
        # SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID, params }, BIT STRING }
        if len(kids) != 2 or kids[0][0] != 0x30 or kids[1][0] != 0x03:
            raise ASN1Error("not a SubjectPublicKeyInfo")
        alg = der_children(der, kids[0][1], kids[0][2])
        if not alg or alg[0][0] != 0x06 or der[alg[0][1]:alg[0][2]] != RSA_OID:
            raise ASN1Error("not an RSA key")
        bs, be = kids[1][1], kids[1][2]
        if be <= bs or der[bs] != 0:
            raise ASN1Error("bad BIT STRING")
        der = der[bs + 1:be]
        tag, s, e = der_read(der, 0)
        if tag != 0x30:
            raise ASN1Error("RSAPublicKey is not a SEQUENCE")
        kids = der_children(der, s, e)
    if len(kids) != 2 or kids[0][0] != 0x02 or kids[1][0] != 0x02:
        raise ASN1Error("RSAPublicKey is not SEQUENCE { INTEGER, INTEGER }")
    n = int.from_bytes(der[kids[0][1]:kids[0][2]], "big")
    e = int.from_bytes(der[kids[1][1]:kids[1][2]], "big")
    if n < (1 << 1000) or e < 3:
        raise ASN1Error("unusable RSA key")
    return n, e


SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_decode(s):
    """Strict base64url without padding (as JWTs use it)."""
    if not B64URL_RE.match(s) or len(s) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    # Reject non-canonical encodings (stray bits in the last character).
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != s:
        raise ValueError("non-canonical base64url")
    return raw


class GrantError(Exception):
    def __init__(self, desc, error="invalid_grant"):
        Exception.__init__(self, desc)
        self.desc = desc
        self.error = error


def verify_jwt(assertion, key, email, aud, now):
    """Checks an RS256 JWT bearer assertion; returns its claims or raises
    GrantError."""
    bad_sig = GrantError("Invalid JWT Signature.")
    parts = assertion.split(".")
    if len(parts) != 3:
        raise GrantError("Invalid JWT: the assertion is not three base64url parts.")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except ValueError:
        raise GrantError("Invalid JWT: a part is not strict base64url JSON.")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise GrantError("Invalid JWT: header and claims must be JSON objects.")
    if header.get("alg") != "RS256":
        raise GrantError("Invalid JWT: the header's alg must be RS256, not %s."
                         % json.dumps(header.get("alg")))
    if key is None:
        raise bad_sig
    n, e = key
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        raise bad_sig
    s = int.from_bytes(sig, "big")
    if s >= n:
        raise bad_sig
    em = pow(s, e, n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(
        (parts[0] + "." + parts[1]).encode("ascii")).digest()
    want = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    if em != want:
        raise bad_sig
    if claims.get("iss") != email:
        raise GrantError("Invalid JWT: iss %s is not a known service account."
                         % json.dumps(claims.get("iss")))
    if claims.get("aud") != aud:
        raise GrantError("Invalid JWT: aud must be %s, not %s."
                         % (json.dumps(aud), json.dumps(claims.get("aud"))))
    scope = claims.get("scope")
    scopes = scope.split() if isinstance(scope, str) else []
    if not any(x in ("https://www.googleapis.com/auth/bigquery",
                     "https://www.googleapis.com/auth/cloud-platform") for x in scopes):
        raise GrantError("Invalid JWT: scope must include "
                         "https://www.googleapis.com/auth/bigquery or "
                         "https://www.googleapis.com/auth/cloud-platform, not %s."
                         % json.dumps(scope), "invalid_scope")
    iat, exp = claims.get("iat"), claims.get("exp")
    if (not isinstance(iat, int) or isinstance(iat, bool) or not isinstance(exp, int)
            or isinstance(exp, bool) or abs(iat - now) > 300 or exp <= now
            or exp - iat > 3600 or exp <= iat):
        raise GrantError("Invalid JWT: Token must be a short-lived token (60 "
                         "minutes) and in a reasonable timeframe. Check your iat "
                         "and exp values in the JWT claim.")
    return claims


# ---------------------------------------------------------------- SQL text

def normalize_sql(sql):
    """Drops comments, collapses whitespace and removes the spaces around
    ( , = and before ) outside quotes (one space follows a ")" before a
    word), and a final ';'.  Quoted text is kept as is."""
    segs = []           # (quoted, text)
    cur = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            if cur:
                segs.append((False, "".join(cur)))
                cur = []
            triple = c != "`" and sql.startswith(c * 3, i)
            end = c * 3 if triple else c
            j = i + len(end)
            while j < n:
                if sql[j] == "\\" and c != "`":
                    j += 2
                    continue
                if sql.startswith(end, j):
                    break
                j += 1
            if j >= n:
                raise syntax("Unclosed string literal at [%d]" % (i + 1))
            segs.append((True, sql[i:j + len(end)]))
            i = j + len(end)
            continue
        if sql.startswith("--", i) or c == "#":
            j = sql.find("\n", i)
            i = n if j < 0 else j
            cur.append(" ")
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            if j < 0:
                raise syntax("Unclosed comment at [%d]" % (i + 1))
            cur.append(" ")
            i = j + 2
            continue
        cur.append(c)
        i += 1
    if cur:
        segs.append((False, "".join(cur)))
    out = []
    for quoted, text in segs:
        if not quoted:
            text = re.sub(r"\s+", " ", text)
            text = re.sub(r" ?([(,=]) ?", r"\1", text)
            text = re.sub(r" ?\)", ")", text)
            text = re.sub(r"\)(?=[\w`@'\"])", ") ", text)
        out.append(text)
    s = "".join(out).strip()
    while s.endswith(";"):
        s = s[:-1].rstrip()
    return s


IDENT = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"
REF = r"((?:`[^`]+`|[A-Za-z_][\w-]*)(?:\.(?:`[^`]+`|[A-Za-z_][\w-]*))*)"
KEYWORDS = {"USING", "ON", "WHEN", "WHERE", "ORDER", "LIMIT", "QUALIFY", "AS",
            "SET", "THEN", "AND", "OR", "GROUP", "PARTITION", "CLUSTER",
            "OPTIONS", "SELECT", "FROM"}


def unq(ident):
    return ident[1:-1] if ident.startswith("`") else ident


def ref_parts(ref):
    parts = []
    for seg in re.findall(r"`[^`]+`|[^.`]+", ref):
        parts.extend(unq(seg).split("."))
    return parts


def split_top(text, sep=","):
    """Splits on sep outside parentheses and quotes."""
    out, depth, q, start = [], 0, None, 0
    i = 0
    while i < len(text):
        c = text[i]
        if q:
            if c == "\\" and q != "`":
                i += 2
                continue
            if c == q:
                q = None
        elif c in "'\"`":
            q = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            start = i + len(sep)
            i += len(sep)
            continue
        i += 1
    out.append(text[start:])
    return out


def close_paren(text, i):
    """Index of the ')' matching the '(' at text[i]."""
    depth, q = 0, None
    while i < len(text):
        c = text[i]
        if q:
            if c == "\\" and q != "`":
                i += 2
                continue
            if c == q:
                q = None
        elif c in "'\"`":
            q = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise syntax("Expected \")\" but got end of statement")


def sql_string(lit):
    """A quoted SQL string literal's value."""
    q = lit[0]
    body = lit[3:-3] if lit.startswith(q * 3) and len(lit) >= 6 else lit[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(
        m.group(1), m.group(1)), body)


def parse_literal(tok):
    """'x' / "x" / 12 / 1.5 / TRUE / FALSE / NULL -> ("lit", value)."""
    if tok[:1] in ("'", '"') and len(tok) >= 2 and tok[-1] == tok[0]:
        return sql_string(tok)
    if re.match(r"^-?\d+$", tok):
        return int(tok)
    if re.match(r"^-?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$", tok):
        return Decimal(tok)
    raise syntax("Unexpected %s" % tok)


# ---------------------------------------------------------------- statements

class Stmt:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def table_ref(ref, default_project, n=3):
    parts = ref_parts(ref)
    if len(parts) == n - 1:
        parts = [default_project] + parts
    if len(parts) != n or not all(parts):
        raise invalid_query("%s must be qualified with a dataset (e.g. dataset.table)"
                            % ref if n == 3 else "Invalid dataset name %s" % ref)
    return parts


def parse_statement(sql, project):
    s = normalize_sql(sql)
    if not s:
        raise syntax("Unexpected end of statement")
    head = s.split(" ", 1)[0].split("(", 1)[0].upper()
    if head == "MERGE":
        return parse_merge(s, project)
    if head == "SELECT":
        return parse_select(s, project)
    if head == "CREATE":
        m = re.match(r"^CREATE (SCHEMA|DATABASE) (IF NOT EXISTS )?" + REF +
                     r"(?: ?OPTIONS\((.*)\))?$", s, re.I)
        if m:
            p, d = table_ref(m.group(3), project, 2)
            loc = None
            if m.group(4):
                lm = re.search(r"\blocation=('[^']*'|\"[^\"]*\")", m.group(4), re.I)
                if lm:
                    loc = sql_string(lm.group(1))
            return Stmt("CREATE_SCHEMA", project=p, dataset=d,
                        if_not_exists=bool(m.group(2)), location=loc)
        return parse_create_table(s, project)
    if head == "DROP":
        m = re.match(r"^DROP TABLE (IF EXISTS )?" + REF + r"$", s, re.I)
        if m:
            p, d, t = table_ref(m.group(2), project)
            return Stmt("DROP_TABLE", project=p, dataset=d, table=t,
                        if_exists=bool(m.group(1)))
    raise syntax("Unexpected keyword %s at [1:1] (this fake knows CREATE "
                 "SCHEMA, CREATE TABLE, DROP TABLE, MERGE and SELECT)" % head)


def parse_create_table(s, project):
    m = re.match(r"^CREATE (OR REPLACE )?TABLE (IF NOT EXISTS )?" + REF + r"\(", s, re.I)
    if not m:
        raise syntax("Expected CREATE TABLE [IF NOT EXISTS] `project.dataset.table` (...)")
    p, d, t = table_ref(m.group(3), project)
    open_i = m.end() - 1
    close_i = close_paren(s, open_i)
    cols, seen = [], set()
    for part in split_top(s[open_i + 1:close_i]):
        part = part.strip()
        cm = re.match(r"^(" + IDENT + r") (\w+)(?:\(\d+(?:,\d+)?\))?( NOT NULL)?"
                      r"(?: OPTIONS\(.*\))?$", part, re.I)
        if not cm:
            raise syntax("Expected a column definition \"name TYPE [NOT NULL]\", got "
                         "\"%s\"" % part)
        name = unq(cm.group(1))
        typ = TYPE_ALIASES.get(cm.group(2).upper())
        if typ is None:
            raise invalid_query("Type not found: %s" % cm.group(2))
        if name.lower() in seen:
            raise invalid_query("Duplicate column name %s in CREATE TABLE" % name)
        seen.add(name.lower())
        cols.append({"name": name, "type": typ,
                     "mode": "REQUIRED" if cm.group(3) else "NULLABLE"})
    if not cols:
        raise syntax("A table needs at least one column")
    rest = s[close_i + 1:]
    rm = re.match(r"^(?: ?PARTITION BY (?:DATE\((" + IDENT + r")\)|(" + IDENT + r")))?"
                  r"(?: ?CLUSTER BY (" + IDENT + r"(?:," + IDENT + r")*))?"
                  r"(?: ?OPTIONS\((.*)\))? ?$", rest, re.I)
    if not rm:
        raise syntax("Unexpected \"%s\" after the column list" % rest.strip())
    byname = {c["name"].lower(): c for c in cols}
    part = None
    pcol = rm.group(1) or rm.group(2)
    if pcol:
        c = byname.get(unq(pcol).lower())
        if c is None:
            raise invalid_query("Unrecognized name: %s" % unq(pcol))
        if c["type"] not in ("TIMESTAMP", "DATE") or (rm.group(2) and c["type"] != "DATE"):
            raise invalid_query("PARTITION BY expression must be DATE(<timestamp_column>) "
                                "or <date_column>")
        part = c["name"]
    cluster = []
    if rm.group(3):
        for x in rm.group(3).split(","):
            c = byname.get(unq(x).lower())
            if c is None:
                raise invalid_query("Unrecognized name: %s" % unq(x))
            cluster.append(c["name"])
        if len(cluster) > 4:
            raise invalid_query("Too many clustering columns: %d, limit is 4" % len(cluster))
    desc, rpf = None, None
    if rm.group(4):
        om = re.search(r"\bdescription=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")",
                       rm.group(4), re.I)
        if om:
            desc = sql_string(om.group(1))
        om = re.search(r"\brequire_partition_filter=(TRUE|FALSE)", rm.group(4), re.I)
        if om:
            rpf = om.group(1).upper() == "TRUE"
    return Stmt("CREATE_TABLE", project=p, dataset=d, table=t,
                or_replace=bool(m.group(1)), if_not_exists=bool(m.group(2)),
                columns=cols, partition=part, cluster=cluster, description=desc,
                require_partition_filter=rpf)


COLREF = r"(?:(" + IDENT + r")\.)?(" + IDENT + r")"


def parse_colref(tok, what):
    m = re.match(r"^" + COLREF + r"$", tok.strip())
    if not m:
        raise syntax("Expected a column in %s, got \"%s\"" % (what, tok.strip()))
    return (unq(m.group(1)) if m.group(1) else None, unq(m.group(2)))


def parse_merge(s, project):
    m = re.match(r"^MERGE (?:INTO )?" + REF + r"(?: (?:AS )?(?!USING\b)(" + IDENT +
                 r"))? USING ?(.*)$", s, re.I)
    if not m:
        raise syntax("Expected MERGE `project.dataset.table` [AS] T USING ...")
    p, d, t = table_ref(m.group(1), project)
    talias = unq(m.group(2)) if m.group(2) else t
    rest = m.group(3)
    src = {"cols": None, "qualify": None}
    if rest.startswith("("):
        ci = close_paren(rest, 0)
        inner = rest[1:ci]
        rest = rest[ci + 1:].lstrip()
        um = re.match(r"^SELECT (.+?) FROM UNNEST\(@(\w+)\)(?: (?:AS )?(?!WHERE\b|QUALIFY\b)("
                      + IDENT + r"))?(?: WHERE TRUE)?(?: QUALIFY ROW_NUMBER\(\) ?OVER\("
                      r"PARTITION BY (.+?) ORDER BY (.+?)\)=1)?$", inner, re.I)
        if not um:
            raise syntax("Expected (SELECT ... FROM UNNEST(@param) [WHERE TRUE] "
                         "[QUALIFY ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) = 1]) "
                         "as the MERGE source, got \"(%s)\"" % inner)
        src["param"] = um.group(2)
        sel = um.group(1).strip()
        if sel != "*":
            cols = []
            for x in split_top(sel):
                am = re.match(r"^(.+?)(?: AS (" + IDENT + r"))?$", x.strip(), re.I)
                _q, name = parse_colref(am.group(1), "the source's SELECT list")
                cols.append((name, unq(am.group(2)) if am.group(2) else name))
            src["cols"] = cols
        if um.group(4):
            pby = [parse_colref(x, "PARTITION BY")[1] for x in split_top(um.group(4))]
            oby = []
            for x in split_top(um.group(5)):
                om = re.match(r"^(.+?)(?: (ASC|DESC))?$", x.strip(), re.I)
                oby.append((parse_colref(om.group(1), "ORDER BY")[1],
                            (om.group(2) or "ASC").upper() == "DESC"))
            src["qualify"] = (pby, oby)
    else:
        um = re.match(r"^UNNEST\(@(\w+)\)(.*)$", rest, re.I)
        if not um:
            raise syntax("Expected UNNEST(@param) or (SELECT ... FROM UNNEST(@param)) "
                         "after USING")
        src["param"] = um.group(1)
        rest = um.group(2).lstrip()
    am = re.match(r"^(?:(?:AS )?(?!ON\b)(" + IDENT + r") )?ON (.*)$", rest, re.I)
    if not am:
        raise syntax("Expected [AS] alias ON ... after the MERGE source")
    salias = unq(am.group(1)) if am.group(1) else None
    body = am.group(2)
    parts = re.split(r" (?=WHEN\b)", body, flags=re.I)
    on_text, whens = parts[0], parts[1:]
    if not whens:
        raise syntax("Expected WHEN after the ON condition")

    def side(q):
        if q is None or (salias is not None and q.lower() == salias.lower()):
            return "S"
        if q.lower() == talias.lower():
            return "T"
        raise invalid_query("Unrecognized name: %s" % q)

    keys, window = [], None
    for cond in re.split(r" AND (?![^()]*\))(?!@)", on_text, flags=re.I):
        cond = cond.strip()
        if not cond:
            continue
        wm = re.match(r"^DATE\(" + COLREF + r"\) BETWEEN @(\w+) AND @(\w+)$", cond, re.I)
        if wm:
            if side(wm.group(1)) != "T" or window is not None:
                raise syntax("This fake understands one DATE(T.col) BETWEEN @a AND @b "
                             "window on a target column")
            window = (unq(wm.group(2)), wm.group(3), wm.group(4))
            continue
        km = re.match(r"^" + COLREF + r"=" + COLREF + r"$", cond)
        if km:
            a = (side(km.group(1)), unq(km.group(2)))
            b = (side(km.group(3)), unq(km.group(4)))
            if {a[0], b[0]} != {"T", "S"}:
                raise invalid_query("The ON condition must compare a target column "
                                    "with a source column: %s" % cond)
            if a[0] == "S":
                a, b = b, a
            keys.append((a[1], b[1]))
            continue
        raise syntax("This fake understands ON conditions of the form T.col = "
                     "S.col [AND ...] [AND DATE(T.col) BETWEEN @a AND @b], not \"%s\""
                     % cond)
    if not keys:
        raise syntax("The ON condition needs at least one T.col = S.col")
    clauses = []
    for w in whens:
        w = w.strip()
        cm = re.match(r"^WHEN MATCHED(?: AND ?(.+?))? THEN (UPDATE SET (.+)|DELETE)$", w, re.I)
        if cm:
            cond = parse_distinct(cm.group(1), side) if cm.group(1) else None
            if cm.group(3):
                sets = []
                for x in split_top(cm.group(3)):
                    sm = re.match(r"^(?:" + IDENT + r"\.)?(" + IDENT + r")=(.+)$", x.strip())
                    if not sm:
                        raise syntax("Expected col = S.col in UPDATE SET, got \"%s\"" % x)
                    sets.append((unq(sm.group(1)), parse_expr(sm.group(2), side)))
                clauses.append(("UPDATE", cond, sets))
            else:
                clauses.append(("DELETE", cond, None))
            continue
        cm = re.match(r"^WHEN NOT MATCHED(?: BY TARGET)? THEN INSERT(?:\((.*?)\) ?VALUES\((.*)\)"
                      r"| ROW)$", w, re.I)
        if cm:
            if cm.group(1) is None:
                clauses.append(("INSERT", None, None))
                continue
            cols = [parse_colref(x, "the INSERT column list")[1]
                    for x in split_top(cm.group(1))]
            vals = [parse_expr(x, side) for x in split_top(cm.group(2))]
            if len(cols) != len(vals):
                raise invalid_query("Inserted row has wrong column count; Has %d, "
                                    "expected %d" % (len(vals), len(cols)))
            clauses.append(("INSERT", None, list(zip(cols, vals))))
            continue
        raise syntax("This fake understands WHEN MATCHED [AND (...)] THEN UPDATE SET "
                     "... | DELETE and WHEN NOT MATCHED [BY TARGET] THEN INSERT (...) "
                     "VALUES (...), not \"%s\"" % w)
    return Stmt("MERGE", project=p, dataset=d, table=t, talias=talias,
                salias=salias, source=src, keys=keys, window=window,
                clauses=clauses)


def parse_expr(tok, side):
    """S.col / T.col / col (source) / NULL / a literal -> ("S"|"T", col) or
    ("lit", value)."""
    tok = tok.strip()
    if tok.upper() == "NULL":
        return ("lit", None)
    if tok.upper() in ("TRUE", "FALSE"):
        return ("lit", tok.upper() == "TRUE")
    m = re.match(r"^" + COLREF + r"$", tok)
    if m:
        return (side(m.group(1)), unq(m.group(2)))
    return ("lit", parse_literal(tok))


def parse_distinct(text, side):
    """(A.x IS DISTINCT FROM B.x OR ...) -> [(target col, source col)]."""
    text = text.strip()
    while text.startswith("(") and close_paren(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    out = []
    for part in re.split(r" OR ", text, flags=re.I):
        part = part.strip()
        while part.startswith("(") and close_paren(part, 0) == len(part) - 1:
            part = part[1:-1].strip()
        m = re.match(r"^" + COLREF + r" IS DISTINCT FROM " + COLREF + r"$", part, re.I)
        if not m:
            raise syntax("This fake understands WHEN MATCHED AND (T.c IS DISTINCT FROM "
                         "S.c OR ...), not \"%s\"" % part)
        a = (side(m.group(1)), unq(m.group(2)))
        b = (side(m.group(3)), unq(m.group(4)))
        if {a[0], b[0]} != {"T", "S"}:
            raise invalid_query("IS DISTINCT FROM must compare a target and a source column")
        if a[0] == "S":
            a, b = b, a
        out.append((a[1], b[1]))
    return out


def parse_select(s, project):
    m = re.match(r"^SELECT (.+?) FROM " + REF + r"(?: (?:AS )?(?!WHERE\b|ORDER\b|LIMIT\b)("
                 + IDENT + r"))?(?: WHERE (.+?))?(?: ORDER BY (.+?))?(?: LIMIT (\d+))?$",
                 s, re.I)
    if not m:
        raise syntax("This fake understands SELECT * | cols | COUNT(*) FROM "
                     "`project.dataset.table` [WHERE ...] [ORDER BY ...] [LIMIT n]")
    p, d, t = table_ref(m.group(2), project)
    sel = m.group(1).strip()
    items = []
    if sel == "*":
        items = None
    else:
        for x in split_top(sel):
            am = re.match(r"^(.+?)(?: AS (" + IDENT + r"))?$", x.strip(), re.I)
            e = am.group(1).strip()
            if re.match(r"^COUNT\((\*|1)\)$", e, re.I):
                items.append(("COUNT", None, unq(am.group(2)) if am.group(2) else None))
            else:
                _q, name = parse_colref(e, "the SELECT list")
                items.append(("COL", name, unq(am.group(2)) if am.group(2) else name))
    where = []
    if m.group(4):
        for cond in re.split(r" AND ", m.group(4), flags=re.I):
            cm = re.match(r"^" + COLREF + r" IS (NOT )?NULL$", cond.strip(), re.I)
            if cm:
                where.append((unq(cm.group(2)), "notnull" if cm.group(3) else "null", None))
                continue
            cm = re.match(r"^" + COLREF + r"=(@\w+|'.*'|\".*\"|-?[\d.]+(?:[eE][+-]?\d+)?"
                          r"|TRUE|FALSE)$", cond.strip(), re.I)
            if not cm:
                raise syntax("This fake understands WHERE col = @param | 'literal' | "
                             "number | col IS [NOT] NULL [AND ...], not \"%s\"" % cond)
            v = cm.group(3)
            if v.startswith("@"):
                where.append((unq(cm.group(2)), "param", v[1:]))
            elif v.upper() in ("TRUE", "FALSE"):
                where.append((unq(cm.group(2)), "lit", v.upper() == "TRUE"))
            else:
                where.append((unq(cm.group(2)), "lit", parse_literal(v)))
    order = []
    if m.group(5):
        for x in split_top(m.group(5)):
            om = re.match(r"^(.+?)(?: (ASC|DESC))?$", x.strip(), re.I)
            order.append((parse_colref(om.group(1), "ORDER BY")[1],
                          (om.group(2) or "ASC").upper() == "DESC"))
    return Stmt("SELECT", project=p, dataset=d, table=t, items=items, where=where,
                order=order, limit=int(m.group(6)) if m.group(6) else None)


# ---------------------------------------------------------------- parameters
#
# A parameter type is a scalar type name, ("ARRAY", element type) or
# ("STRUCT", [(field name, type), ...]).

def type_name(t):
    if isinstance(t, str):
        return t
    if t[0] == "ARRAY":
        return "ARRAY<%s>" % type_name(t[1])
    return "STRUCT<%s>" % ", ".join("%s %s" % (n, type_name(x)) for n, x in t[1])


def parse_ptype(t, strict, where):
    if not isinstance(t, dict) or not isinstance(t.get("type"), str):
        raise invalid("Query parameter %s has no parameterType.type" % where)
    raw = t["type"]
    typ = raw if strict else TYPE_ALIASES.get(raw.upper(), raw.upper())
    if typ == "ARRAY":
        if "arrayType" not in t:
            raise invalid("Query parameter %s of type ARRAY has no arrayType" % where)
        elem = parse_ptype(t["arrayType"], strict, where + "[]")
        if not isinstance(elem, str) and elem[0] == "ARRAY":
            raise invalid("Query parameter %s: arrays of arrays are not supported" % where)
        return ("ARRAY", elem)
    if typ == "STRUCT":
        st = t.get("structTypes")
        if not isinstance(st, list) or not st:
            raise invalid("Query parameter %s of type STRUCT has no structTypes" % where)
        fields, seen = [], set()
        for i, f in enumerate(st):
            if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f["name"]:
                raise invalid("Query parameter %s: structTypes[%d] has no name" % (where, i))
            if f["name"].lower() in seen:
                raise invalid("Query parameter %s: duplicate struct field %s"
                              % (where, f["name"]))
            seen.add(f["name"].lower())
            fields.append((f["name"], parse_ptype(f.get("type"), strict,
                                                  "%s.%s" % (where, f["name"]))))
        return ("STRUCT", fields)
    if typ in SCALAR_TYPES:
        return typ
    if strict and TYPE_ALIASES.get(raw.upper()) in SCALAR_TYPES:
        raise invalid("Query parameter %s: type \"%s\" is not the documented name "
                      "\"%s\"" % (where, raw, TYPE_ALIASES[raw.upper()]))
    raise invalid("Query parameter %s: unsupported type \"%s\"" % (where, raw))


def decode_value(t, pv, strict, where):
    if pv is None:
        if isinstance(t, str):
            return None
        if t[0] == "ARRAY":
            return []
        return None
    if not isinstance(pv, dict):
        raise invalid("Query parameter %s: parameterValue must be an object, not %s"
                      % (where, json.dumps(pv)[:80]))
    if isinstance(t, str):
        if strict and set(pv) - {"value"}:
            raise invalid("Query parameter %s (%s): unexpected %s in a scalar value"
                          % (where, t, ", ".join(sorted(set(pv) - {"value"}))))
        return convert_scalar(t, pv.get("value"), strict, where)
    if t[0] == "ARRAY":
        av = pv.get("arrayValues")
        if av is None:
            return []
        if not isinstance(av, list):
            raise invalid("Query parameter %s: arrayValues must be a list" % where)
        out = []
        for i, x in enumerate(av):
            v = decode_value(t[1], x, strict, "%s[%d]" % (where, i))
            if v is None:
                raise invalid_query("Array cannot have a null element; error in "
                                    "writing field %s[%d]" % (where, i))
            out.append(v)
        return out
    sv = pv.get("structValues")
    if sv is None:
        if strict:
            raise invalid("Query parameter %s (STRUCT): no structValues" % where)
        sv = {}
    if not isinstance(sv, dict):
        raise invalid("Query parameter %s: structValues must be an object" % where)
    names = {n.lower(): n for n, _ in t[1]}
    extra = [k for k in sv if k.lower() not in names]
    if extra:
        raise invalid("Query parameter %s: struct field%s %s not in its structTypes"
                      % (where, "s" if len(extra) > 1 else "", ", ".join(sorted(extra))))
    given = {k.lower(): k for k in sv}
    if strict:
        missing = [n for n, _ in t[1] if n.lower() not in given]
        if missing:
            raise invalid("Query parameter %s: struct value lacks field%s %s (each "
                          "struct value must carry exactly its structTypes fields)"
                          % (where, "s" if len(missing) > 1 else "", ", ".join(missing)))
    out = {}
    for n, ft in t[1]:
        k = given.get(n.lower())
        out[n] = decode_value(ft, sv.get(k) if k is not None else None, strict,
                              "%s.%s" % (where, n))
    return out


def decode_params(body, strict):
    """queryParameters -> {lower name: (type, value)}."""
    qp = body.get("queryParameters")
    if qp is None:
        return {}
    if not isinstance(qp, list):
        raise invalid("queryParameters must be a list")
    out = {}
    for i, p in enumerate(qp):
        if not isinstance(p, dict):
            raise invalid("queryParameters[%d] must be an object" % i)
        name = p.get("name")
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_]\w*$", name):
            raise invalid("queryParameters[%d] has no valid name (positional "
                          "parameters are not supported by this fake)" % i)
        if name.lower() in out:
            raise invalid("Duplicate query parameter name %s" % name)
        t = parse_ptype(p.get("parameterType"), strict, name)
        if strict and "parameterValue" not in p:
            raise invalid("Query parameter %s has no parameterValue" % name)
        out[name.lower()] = (t, decode_value(t, p.get("parameterValue"), strict, name))
    return out


QUERY_REQUEST_FIELDS = {
    "kind", "query", "maxResults", "defaultDataset", "timeoutMs", "jobTimeoutMs",
    "maxSlots", "destinationEncryptionConfiguration", "dryRun", "preserveNulls",
    "useQueryCache", "useLegacySql", "parameterMode", "queryParameters",
    "location", "formatOptions", "connectionProperties", "labels",
    "maximumBytesBilled", "requestId", "createSession", "jobCreationMode",
    "continuous", "writeIncrementalResults", "reservation"}
LABEL_RE = re.compile(r"^[\w-]{0,63}$", re.U)
LABEL_KEY_RE = re.compile(r"^[a-z][\w-]{0,62}$", re.U)
INT64_STR_RE = re.compile(r"^-?\d+$")


def check_query_config(q, strict, what, need_location):
    """The request-form rules of a jobs.query body (or a jobs.insert
    configuration.query); raises BQError."""
    if not isinstance(q.get("query"), str) or not q["query"].strip():
        raise invalid("Required parameter is missing: %squery" % what)
    leg = q.get("useLegacySql")
    if strict:
        if "useLegacySql" not in q or leg is not False:
            raise invalid("useLegacySql must be present and false (its default is "
                          "true, legacy SQL); got %s" % ("nothing" if "useLegacySql" not in q
                                                        else json.dumps(leg)))
        pm = q.get("parameterMode")
        if (q.get("queryParameters") or "parameterMode" in q) and pm != "NAMED":
            raise invalid("parameterMode must be exactly \"NAMED\" with named "
                          "parameters; got %s" % ("nothing" if "parameterMode" not in q
                                                 else json.dumps(pm)))
        if need_location and (not isinstance(q.get("location"), str) or not q["location"]):
            raise invalid("location must be given (the dataset's location, e.g. "
                          "\"US\"); got %s" % json.dumps(q.get("location")))
        for k in ("maximumBytesBilled", "jobTimeoutMs"):
            if k in q and not (isinstance(q[k], str) and INT64_STR_RE.match(q[k])):
                raise invalid("%s is an int64 and must be sent as a JSON string of "
                              "digits; got %s" % (k, json.dumps(q[k])))
    else:
        if leg is not False and leg not in ("false", "False"):
            raise invalid_query("Syntax error: this query is read as legacy SQL "
                                "(useLegacySql defaults to true); set useLegacySql "
                                "to false")
        pm = q.get("parameterMode")
        if pm is not None and (not isinstance(pm, str) or pm.upper() != "NAMED"):
            raise invalid("parameterMode %s is not supported by this fake (only NAMED)"
                          % json.dumps(pm))
    loc = q.get("location")
    if loc is not None and (not isinstance(loc, str) or not re.match(r"^[A-Za-z0-9-]+$", loc)):
        raise invalid("Invalid location: %s" % json.dumps(loc))
    labels = q.get("labels")
    if labels is not None:
        if not isinstance(labels, dict):
            raise invalid("labels must be an object")
        for k, v in labels.items():
            if not LABEL_KEY_RE.match(k) or k != k.lower():
                raise invalid("Label key \"%s\" has invalid characters" % k)
            if not isinstance(v, str) or not LABEL_RE.match(v) or v != v.lower():
                raise invalid("Label value %s has invalid characters" % json.dumps(v))
    qp = q.get("queryParameters")
    if qp is not None and not isinstance(qp, list):
        raise invalid("queryParameters must be a list")
    if qp and len(qp) > 10000:
        raise invalid("Too many query parameters: %d, limit is 10000" % len(qp))


def check_request_id(body):
    rid = body.get("requestId")
    if rid is None:
        return None
    if not isinstance(rid, str) or not rid or len(rid) > 36 or \
            any(ord(c) < 0x21 or ord(c) > 0x7e for c in rid):
        raise invalid("Invalid requestId %s: at most 36 ASCII characters"
                      % json.dumps(rid)[:60])
    return rid


# ---------------------------------------------------------------- storage

LEGACY_TYPE = {"STRING": "STRING", "INT64": "INTEGER", "FLOAT64": "FLOAT",
               "NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC",
               "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "BOOL": "BOOLEAN"}
NUMERIC_FAMILY = ("INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC")


def to_db(typ, v):
    if v is None:
        return None
    if typ in ("NUMERIC", "BIGNUMERIC"):
        return norm_decimal(v)
    if typ == "FLOAT64":
        return "NaN" if math.isnan(v) else float(v)
    if typ == "BOOL":
        return 1 if v else 0
    return v


def from_db(typ, x):
    if x is None:
        return None
    if typ in ("NUMERIC", "BIGNUMERIC"):
        return Decimal(x)
    if typ == "FLOAT64":
        return float(x)
    if typ == "BOOL":
        return bool(x)
    return x


def comparable(a, b):
    return a == b or (a in NUMERIC_FAMILY and b in NUMERIC_FAMILY)


def assignable(src, dst):
    return src == dst or (dst == "FLOAT64" and src in NUMERIC_FAMILY) or \
        (dst in ("NUMERIC", "BIGNUMERIC") and src in ("INT64", "NUMERIC", "BIGNUMERIC"))


class Table:
    def __init__(self, project, dataset, name, sqlname, res):
        self.project, self.dataset, self.name = project, dataset, name
        self.sqlname = sqlname
        self.res = res
        self.cols = [(f["name"], TYPE_ALIASES[f["type"].upper()], f.get("mode", "NULLABLE"))
                     for f in res["schema"]["fields"]]
        self.idx = {c[0].lower(): i for i, c in enumerate(self.cols)}
        self.indexed = set()

    def label(self):
        return "%s:%s.%s" % (self.project, self.dataset, self.name)

    def col(self, name):
        i = self.idx.get(name.lower())
        if i is None:
            raise invalid_query("Unrecognized name: %s; Did you mean a column of %s?"
                                % (name, self.label()))
        return i

    def row(self, rec):
        return [from_db(c[1], x) for c, x in zip(self.cols, rec)]


class Store:
    """Datasets, tables and rows in one sqlite connection.  Callers hold
    App.lock around every use."""

    def __init__(self, path):
        self.db = sqlite3.connect(path or ":memory:", check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE IF NOT EXISTS _datasets (project TEXT, dataset TEXT, "
                        "resource TEXT, PRIMARY KEY (project, dataset))")
        self.db.execute("CREATE TABLE IF NOT EXISTS _tables (project TEXT, dataset TEXT, "
                        "tbl TEXT, sqlname TEXT, resource TEXT, PRIMARY KEY (project, dataset, tbl))")
        self.tables = {}
        for p, d, t, sn, res in self.db.execute("SELECT * FROM _tables"):
            self.tables[(p, d, t)] = Table(p, d, t, sn, json.loads(res))

    # datasets
    def dataset(self, p, d):
        r = self.db.execute("SELECT resource FROM _datasets WHERE project=? AND dataset=?",
                            (p, d)).fetchone()
        return json.loads(r[0]) if r else None

    def datasets(self, p):
        return [json.loads(r[0]) for r in self.db.execute(
            "SELECT resource FROM _datasets WHERE project=? ORDER BY dataset", (p,))]

    def add_dataset(self, p, d, location, extra=None):
        ms = str(now_ms())
        res = {"kind": "bigquery#dataset", "etag": base64.b64encode(os.urandom(12)).decode(),
               "id": "%s:%s" % (p, d),
               "selfLink": "https://bigquery.googleapis.com/bigquery/v2/projects/%s/datasets/%s" % (p, d),
               "datasetReference": {"datasetId": d, "projectId": p},
               "access": [], "creationTime": ms, "lastModifiedTime": ms,
               "location": location, "type": "DEFAULT"}
        for k in ("description", "friendlyName", "labels", "defaultTableExpirationMs"):
            if extra and k in extra:
                res[k] = extra[k]
        self.db.execute("INSERT INTO _datasets VALUES (?,?,?)", (p, d, dumps(res)))
        return res

    # tables
    def table(self, p, d, t, must=True):
        tb = self.tables.get((p, d, t))
        if tb is None and must:
            if self.dataset(p, d) is None:
                raise not_found("Dataset %s:%s" % (p, d))
            raise not_found("Table %s:%s.%s" % (p, d, t))
        return tb

    def add_table(self, p, d, t, fields, partition=None, cluster=None,
                  description=None, rpf=None, extra=None):
        ds = self.dataset(p, d)
        if ds is None:
            raise not_found("Dataset %s:%s" % (p, d))
        ms = str(now_ms())
        res = {"kind": "bigquery#table", "etag": base64.b64encode(os.urandom(12)).decode(),
               "id": "%s:%s.%s" % (p, d, t),
               "selfLink": "https://bigquery.googleapis.com/bigquery/v2/projects/%s/datasets/%s/tables/%s" % (p, d, t),
               "tableReference": {"projectId": p, "datasetId": d, "tableId": t},
               "schema": {"fields": fields},
               "creationTime": ms, "lastModifiedTime": ms, "type": "TABLE",
               "location": ds["location"]}
        if partition:
            res["timePartitioning"] = {"type": "DAY", "field": partition}
        if cluster:
            res["clustering"] = {"fields": list(cluster)}
        if description is not None:
            res["description"] = description
        if rpf is not None:
            res["requirePartitionFilter"] = rpf
        for k in ("labels", "friendlyName", "expirationTime"):
            if extra and k in extra:
                res[k] = extra[k]
        n = self.db.execute("SELECT COUNT(*) FROM _tables").fetchone()[0]
        while True:
            sqlname = "t%d_%s" % (n, re.sub(r"\W", "_", t)[:40])
            if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name=?",
                                   (sqlname,)).fetchone():
                break
            n += 1
        tb = Table(p, d, t, sqlname, res)
        coldefs = ", ".join("c%d" % i for i in range(len(tb.cols)))
        self.db.execute("BEGIN")
        try:
            self.db.execute("CREATE TABLE %s (%s)" % (sqlname, coldefs))
            self.db.execute("INSERT INTO _tables VALUES (?,?,?,?,?)",
                            (p, d, t, sqlname, dumps(res)))
            self.db.execute("COMMIT")
        except Exception:
            self.db.execute("ROLLBACK")
            raise
        self.tables[(p, d, t)] = tb
        return tb

    def drop_table(self, tb):
        self.db.execute("BEGIN")
        self.db.execute("DROP TABLE %s" % tb.sqlname)
        self.db.execute("DELETE FROM _tables WHERE project=? AND dataset=? AND tbl=?",
                        (tb.project, tb.dataset, tb.name))
        self.db.execute("COMMIT")
        del self.tables[(tb.project, tb.dataset, tb.name)]

    def count(self, tb):
        return self.db.execute("SELECT COUNT(*) FROM %s" % tb.sqlname).fetchone()[0]

    def resource(self, tb):
        res = dict(tb.res)
        res["schema"] = {"fields": [{"name": c, "type": LEGACY_TYPE[t], "mode": m}
                                    for c, t, m in tb.cols]}
        n = self.count(tb)
        res["numRows"] = str(n)
        res["numBytes"] = str(n * 16 * len(tb.cols))
        res["numLongTermBytes"] = "0"
        return res

    def index(self, tb, i):
        if i not in tb.indexed:
            self.db.execute("CREATE INDEX IF NOT EXISTS %s_c%d ON %s (c%d)"
                            % (tb.sqlname, i, tb.sqlname, i))
            tb.indexed.add(i)

    def rows(self, tb, where_sql="", args=(), rowid=False, limit=None, offset=0):
        sql = "SELECT %s%s FROM %s%s ORDER BY rowid" % (
            "rowid, " if rowid else "", ", ".join("c%d" % i for i in range(len(tb.cols))),
            tb.sqlname, where_sql)
        if limit is not None:
            sql += " LIMIT %d OFFSET %d" % (limit, offset)
        for rec in self.db.execute(sql, args):
            if rowid:
                yield rec[0], tb.row(rec[1:])
            else:
                yield tb.row(rec)


# ---------------------------------------------------------------- execution

class Result:
    def __init__(self, stype, **kw):
        self.stype = stype
        self.dml = None             # (inserted, updated, deleted)
        self.schema = None          # [(name, type, mode)]
        self.rows = None            # [[value, ...]]
        self.bytes = 0
        self.ddl_op = None
        self.ddl_target = None
        self.__dict__.update(kw)


def run_statement(store, st, params, location, refuse):
    """Executes a parsed statement (under the caller's lock); -> Result."""
    if st.kind == "CREATE_SCHEMA":
        loc = st.location or location or "US"
        if store.dataset(st.project, st.dataset) is not None:
            if st.if_not_exists:
                return Result("CREATE_SCHEMA", ddl_op="SKIP")
            raise BQError(409, "duplicate", "Already Exists: Dataset %s:%s"
                          % (st.project, st.dataset))
        store.add_dataset(st.project, st.dataset, loc)
        return Result("CREATE_SCHEMA", ddl_op="CREATE")
    if st.kind == "CREATE_TABLE":
        check_location(store, st.project, st.dataset, location)
        old = store.table(st.project, st.dataset, st.table, must=False)
        target = {"projectId": st.project, "datasetId": st.dataset, "tableId": st.table}
        if old is not None:
            if st.if_not_exists:
                return Result("CREATE_TABLE", ddl_op="SKIP", ddl_target=target)
            if not st.or_replace:
                raise BQError(400, "duplicate", "Already Exists: Table %s" % old.label())
            store.drop_table(old)
        store.add_table(st.project, st.dataset, st.table, st.columns, st.partition,
                        st.cluster, st.description, st.require_partition_filter)
        return Result("CREATE_TABLE", ddl_op="CREATE" if old is None else "REPLACE",
                      ddl_target=target)
    if st.kind == "DROP_TABLE":
        check_location(store, st.project, st.dataset, location)
        tb = store.table(st.project, st.dataset, st.table, must=not st.if_exists)
        target = {"projectId": st.project, "datasetId": st.dataset, "tableId": st.table}
        if tb is None:
            return Result("DROP_TABLE", ddl_op="SKIP", ddl_target=target)
        store.drop_table(tb)
        return Result("DROP_TABLE", ddl_op="DROP", ddl_target=target)
    if st.kind == "MERGE":
        return run_merge(store, st, params, location, refuse)
    if st.kind == "SELECT":
        return run_select(store, st, params, location)
    raise syntax("unsupported statement")


def check_location(store, p, d, location):
    ds = store.dataset(p, d)
    if ds is None:
        raise not_found("Dataset %s:%s" % (p, d))
    if location and ds["location"].lower() != location.lower():
        raise not_found("Dataset %s:%s was not found in location %s" % (p, d, location))
    return ds


def param(params, name, where):
    p = params.get(name.lower())
    if p is None:
        raise invalid_query("Query parameter '%s' not found at %s" % (name, where))
    return p


def run_merge(store, st, params, location, refuse):
    check_location(store, st.project, st.dataset, location)
    tb = store.table(st.project, st.dataset, st.table)
    src = st.source
    ptype, arr = param(params, src["param"], "UNNEST(@%s)" % src["param"])
    if isinstance(ptype, str) or ptype[0] != "ARRAY" or isinstance(ptype[1], str):
        raise invalid_query("Values referenced in UNNEST must be arrays of STRUCT in "
                            "this MERGE; @%s has type %s" % (src["param"], type_name(ptype)))
    fields = ptype[1][1]
    ftype = {n.lower(): (n, t) for n, t in fields}
    for n, t in fields:
        if not isinstance(t, str):
            raise invalid_query("Struct field %s of @%s has type %s, which this fake "
                                "cannot merge" % (n, src["param"], type_name(t)))
    # The source relation: [(name, type)] and rows as lists.
    if src["cols"] is None:
        scols = [(n, t) for n, t in fields]
        getters = [n for n, _ in fields]
    else:
        scols, getters = [], []
        for srcname, outname in src["cols"]:
            f = ftype.get(srcname.lower())
            if f is None:
                raise invalid_query("Unrecognized name: %s" % srcname)
            scols.append((outname, f[1]))
            getters.append(f[0])
    sidx = {n.lower(): i for i, (n, _) in enumerate(scols)}

    def scol(name):
        i = sidx.get(name.lower())
        if i is None:
            raise invalid_query("Name %s not found inside %s" % (name, st.salias or "the source"))
        return i

    if refuse:
        sk = ftype.get("sale_id")
        if sk is not None:
            for r in arr:
                sid = r.get(sk[0])
                if sid is not None and str(sid) in refuse:
                    raise invalid_query("Bad double value: refused in row with sale_id %s" % sid)
    rows = [[r.get(g) for g in getters] for r in arr]
    if src["qualify"] is not None:
        pby, oby = src["qualify"]
        pis = [scol(c) for c in pby]
        for c, desc in reversed(oby):
            i = scol(c)
            rows.sort(key=lambda r: sort_key(r[i], desc), reverse=desc)
        seen, kept = set(), []
        for r in rows:
            k = tuple(("n",) if r[i] is None else ("v", r[i]) for i in pis)
            if k not in seen:
                seen.add(k)
                kept.append(r)
        rows = kept
    # Keys: (target index, source index).
    keys = []
    for tc, sc in st.keys:
        ti, si = tb.col(tc), scol(sc)
        if not comparable(tb.cols[ti][1], scols[si][1]):
            raise invalid_query("No matching signature for operator = for argument types: "
                                "%s, %s" % (tb.cols[ti][1], scols[si][1]))
        keys.append((ti, si))
    window = None
    if st.window:
        wi = tb.col(st.window[0])
        if tb.cols[wi][1] not in ("TIMESTAMP", "DATE"):
            raise invalid_query("No matching signature for function DATE for argument "
                                "types: %s" % tb.cols[wi][1])
        bounds = []
        for pn in st.window[1:]:
            pt, pv = param(params, pn, "BETWEEN @%s" % pn)
            if pt != "DATE":
                raise invalid_query("No matching signature for operator BETWEEN for "
                                    "argument types: DATE, DATE, %s" % type_name(pt))
            bounds.append(pv)
        window = (wi, tb.cols[wi][1] == "TIMESTAMP", bounds[0], bounds[1])
    # Clauses, resolved and checked before any row is looked at.

    def expr(e, dst_type, what):
        if e[0] == "lit":
            v = e[1]
            if v is None or isinstance(v, bool):
                if isinstance(v, bool) and dst_type != "BOOL":
                    raise invalid_query("Value of type BOOL cannot be assigned to %s, "
                                        "which has type %s" % (what, dst_type))
                return ("lit", v, None)
            return ("lit", literal_value(dst_type, v, what), None)
        if e[0] == "S":
            i = scol(e[1])
            t = scols[i][1]
        else:
            i = tb.col(e[1])
            t = tb.cols[i][1]
        if not assignable(t, dst_type):
            raise invalid_query("Value of type %s cannot be assigned to %s, which has "
                                "type %s" % (t, what, dst_type))
        return (e[0], i, t)

    matched, not_matched = [], []
    for kind, cond, items in st.clauses:
        if kind == "INSERT":
            if items is None:       # INSERT ROW: every target column by name
                items = [(c[0], ("S", c[0])) for c in tb.cols]
            seen, acts = set(), []
            for c, e in items:
                ti = tb.col(c)
                if ti in seen:
                    raise invalid_query("INSERT has columns with duplicate name: %s" % c)
                seen.add(ti)
                acts.append((ti, expr(e, tb.cols[ti][1], "column %s" % tb.cols[ti][0])))
            for i, (name, _t, mode) in enumerate(tb.cols):
                if mode == "REQUIRED" and i not in seen:
                    raise invalid_query("Required field %s must be given a value in the "
                                        "INSERT column list" % name)
            not_matched.append(acts)
        else:
            cmp_ = None
            if cond is not None:
                cmp_ = []
                for tc, sc in cond:
                    ti, si = tb.col(tc), scol(sc)
                    if not comparable(tb.cols[ti][1], scols[si][1]):
                        raise invalid_query("No matching signature for operator IS "
                                            "DISTINCT FROM for argument types: %s, %s"
                                            % (tb.cols[ti][1], scols[si][1]))
                    cmp_.append((ti, si))
            acts = None
            if kind == "UPDATE":
                acts, seen = [], set()
                for c, e in items:
                    ti = tb.col(c)
                    if ti in seen:
                        raise invalid_query("MERGE UPDATE SET has duplicate column %s" % c)
                    seen.add(ti)
                    acts.append((ti, expr(e, tb.cols[ti][1], "column %s" % tb.cols[ti][0])))
            matched.append((kind, cmp_, acts))
    # Source key values in the target's types.
    skeys = []
    for r in rows:
        k = []
        for ti, si in keys:
            v = r[si]
            if v is not None:
                v = coerce(v, scols[si][1], tb.cols[ti][1], tb.cols[ti][0])
            k.append(v)
        skeys.append(tuple(k))
    # The target rows that may match: looked up by the first key column.
    k0 = keys[0][0]
    store.index(tb, k0)
    wanted = sorted({k[0] for k in skeys if k[0] is not None and None not in k},
                    key=lambda v: (str(type(v)), v))
    targets = {}
    for i in range(0, len(wanted), 500):
        chunk = [to_db(tb.cols[k0][1], v) for v in wanted[i:i + 500]]
        for rowid, trow in store.rows(tb, " WHERE c%d IN (%s)" % (k0, ",".join("?" * len(chunk))),
                                      chunk, rowid=True):
            if window is not None:
                wv = trow[window[0]]
                if wv is None or window[2] is None or window[3] is None:
                    continue
                day = ts_to_date(wv) if window[1] else wv
                if not (window[2] <= day <= window[3]):
                    continue
            tk = tuple(trow[ti] for ti, _ in keys)
            if None in tk:
                continue
            targets.setdefault(norm_key(tk), []).append((rowid, trow))

    def value(a, srow, trow, dst):
        kind, x, t = a
        if kind == "lit":
            return x
        v = srow[x] if kind == "S" else trow[x]
        return coerce(v, t, dst, "column")

    def check_required(row):
        for i, (name, _t, mode) in enumerate(tb.cols):
            if mode == "REQUIRED" and row[i] is None:
                raise invalid_query("Required field %s cannot be null" % name)

    hits, updates, deletes, inserts = {}, {}, set(), []
    for srow, sk in zip(rows, skeys):
        found = targets.get(norm_key(sk)) if None not in sk else None
        if found:
            for rowid, trow in found:
                hits[rowid] = hits.get(rowid, 0) + 1
                if matched and hits[rowid] > 1:
                    raise invalid_query("UPDATE/MERGE must match at most one source row "
                                        "for each target row")
                for kind, cmp_, acts in matched:
                    if cmp_ is not None and all(
                            values_equal(trow[ti], coerce(srow[si], scols[si][1],
                                                          tb.cols[ti][1], "column"))
                            for ti, si in cmp_):
                        continue
                    if kind == "DELETE":
                        deletes.add(rowid)
                    else:
                        new = list(trow)
                        for ti, a in acts:
                            new[ti] = value(a, srow, trow, tb.cols[ti][1])
                        check_required(new)
                        updates[rowid] = new
                    break
        elif not_matched:
            new = [None] * len(tb.cols)
            for ti, a in not_matched[0]:
                new[ti] = value(a, srow, None, tb.cols[ti][1])
            check_required(new)
            inserts.append(new)
    types = [c[1] for c in tb.cols]
    db = store.db
    db.execute("BEGIN")
    try:
        if updates:
            db.executemany("UPDATE %s SET %s WHERE rowid=?" % (
                tb.sqlname, ", ".join("c%d=?" % i for i in range(len(types)))),
                [[to_db(t, v) for t, v in zip(types, new)] + [rowid]
                 for rowid, new in updates.items()])
        if deletes:
            db.executemany("DELETE FROM %s WHERE rowid=?" % tb.sqlname,
                           [(r,) for r in deletes])
        if inserts:
            db.executemany("INSERT INTO %s VALUES (%s)" % (tb.sqlname, ",".join("?" * len(types))),
                           [[to_db(t, v) for t, v in zip(types, new)] for new in inserts])
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    nbytes = 64 * (len(rows) + sum(len(v) for v in targets.values())) * len(types)
    return Result("MERGE", dml=(len(inserts), len(updates), len(deletes)), bytes=nbytes)


def norm_key(k):
    """A key tuple usable as a dict key across numeric types (1 == 1.0)."""
    return tuple(("nan",) if isinstance(v, float) and math.isnan(v) else v for v in k)


def run_select(store, st, params, location):
    check_location(store, st.project, st.dataset, location)
    tb = store.table(st.project, st.dataset, st.table)
    conds, args, post = [], [], []
    for col, op, x in st.where:
        i = tb.col(col)
        typ = tb.cols[i][1]
        if op == "null":
            conds.append("c%d IS NULL" % i)
            continue
        if op == "notnull":
            conds.append("c%d IS NOT NULL" % i)
            continue
        if op == "param":
            pt, pv = param(params, x, "WHERE")
            if not isinstance(pt, str) or not comparable(pt, typ):
                raise invalid_query("No matching signature for operator = for argument "
                                    "types: %s, %s" % (typ, type_name(pt)))
            v = pv
            if v is not None and pt != typ:
                if pv is not None:
                    post.append((i, pv))    # compared as numbers below
                continue
        else:
            v = x if isinstance(x, bool) else literal_value(typ, x, col)
            if isinstance(x, bool) and typ != "BOOL":
                raise invalid_query("No matching signature for operator = for argument "
                                    "types: %s, BOOL" % typ)
        if v is None:
            conds.append("0")       # "= NULL" is never true
        elif typ == "FLOAT64":
            post.append((i, v))
        else:
            conds.append("c%d = ?" % i)
            args.append(to_db(typ, v))
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    rows = [r for r in store.rows(tb, where, args)
            if all(r[i] is not None and r[i] == v for i, v in post)]
    for col, desc in reversed(st.order):
        i = tb.col(col)
        rows.sort(key=lambda r: sort_key(r[i], desc), reverse=desc)
    if st.items is not None and any(k == "COUNT" for k, _, _ in st.items):
        if len(st.items) != 1:
            raise invalid_query("SELECT list expression references column which is "
                                "neither grouped nor aggregated")
        schema = [(st.items[0][2] or "f0_", "INT64", "NULLABLE")]
        out = [[len(rows)]]
    else:
        if st.limit is not None:
            rows = rows[:st.limit]
        if st.items is None:
            schema = [(n, t, m) for n, t, m in tb.cols]
            out = rows
        else:
            picks = [tb.col(name) for _k, name, _a in st.items]
            schema = [(a, tb.cols[i][1], tb.cols[i][2]) for (_k, _n, a), i in zip(st.items, picks)]
            out = [[r[i] for i in picks] for r in rows]
    return Result("SELECT", schema=schema, rows=out,
                  bytes=store.count(tb) * 16 * len(tb.cols))


# ---------------------------------------------------------------- server state

class Resp:
    __slots__ = ("status", "headers", "body", "mode")

    def __init__(self, status, body=b"", headers=None, mode=None):
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.mode = mode


def jresp(status, obj, headers=None):
    h = [("Content-Type", "application/json; charset=UTF-8")]
    if headers:
        h.extend(headers)
    return Resp(status, (dumps(obj) + "\n").encode("utf-8"), h)


def eresp(err, headers=None):
    return jresp(err.code, err.body(), headers)


SIMPLE_FAULTS = {
    "503": (503, "backendError", "The service is currently unavailable."),
    "500": (500, "internalError", "An internal error occurred and the request "
            "could not be completed. This is usually caused by a transient issue."),
    "429": (429, "rateLimitExceeded", "Exceeded rate limits: too many api requests "
            "per user per method for this user_method."),
    "rateLimitExceeded": (403, "rateLimitExceeded", "Exceeded rate limits: too many "
                          "table update operations for this table."),
    "backendError": (500, "backendError", "Backend error. Job aborted."),
    "jobBackendError": (400, "jobBackendError", "The job encountered an error during "
                        "execution. Retrying the job may solve the problem."),
    "jobInternalError": (400, "jobInternalError", "The job encountered an internal "
                         "error during execution and was unable to complete successfully."),
    "jobRateLimitExceeded": (400, "jobRateLimitExceeded", "Job exceeded rate limits: "
                             "too many concurrent DML statements for table %s."),
    "serialize": (400, "invalidQuery", "Could not serialize access to table %s due "
                  "to concurrent update"),
    "toomany": (400, "invalidQuery", "Resources exceeded during query execution: Too "
                "many DML statements outstanding against table %s, limit is 20."),
    "quotaExceeded": (403, "quotaExceeded", "Quota exceeded: Your project exceeded "
                      "quota for DML statements per table. For more information, see "
                      "https://cloud.google.com/bigquery/docs/troubleshoot-quotas"),
}
FAULT_KINDS = tuple(SIMPLE_FAULTS) + ("applied503", "incomplete", "401", "reset")
AUTH_ERROR = BQError(401, "authError", "Request had invalid authentication credentials.")
AUTH_ERROR.location = "Authorization"
AUTH_HEADERS = [("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", '
                 'error="invalid_token"')]
MERGE_HEAD_RE = re.compile(r"^MERGE\b", re.I)
TOKEN_PATH = "/token"
META_TOKEN = "/computeMetadata/v1/instance/service-accounts/default/token"
META_PROJECT = "/computeMetadata/v1/project/project-id"
META_EMAIL = "/computeMetadata/v1/instance/service-accounts/default/email"


class Job:
    def __init__(self, jid, project, location, config, result=None, error=None):
        self.id = jid
        self.project = project
        self.location = location
        self.config = config        # configuration.query for jobs.get
        self.result = result
        self.error = error
        self.pending = 0
        self.done = True
        self.created = now_ms()
        self.ended = self.created

    def ref(self):
        return {"projectId": self.project, "jobId": self.id, "location": self.location}


class App:
    def __init__(self, args):
        self.a = args
        self.port = 0
        self.lock = threading.RLock()
        self.store = Store(args.db)
        self.sa_key = None
        if args.sa_public_key:
            with open(args.sa_public_key) as f:
                self.sa_key = rsa_public_key(f.read())
        self.tokens = {}            # issued token -> expiry (epoch seconds)
        self.static = set(args.token)
        self.tok_n = 0
        self.jobs = {}
        self.rids = {}              # requestId -> (monotonic time, content, job id)
        self.refuse = set(args.refuse)
        self.merge_faults, self.auth_faults = {}, {}
        for kind, n, count in args.fault:
            target = self.auth_faults if kind == "401" else self.merge_faults
            for k in range(n, n + count):
                target.setdefault(k, kind)
        self.merge_n = 0
        self.auth_n = 0
        self.stats = {"requests": 0, "routes": {}, "statements": {}, "duplicates": 0,
                      "faults": {}, "tokens_issued": 0}
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None
        self.log_lock = threading.Lock()

    # ---------------------------------------------------------------- misc

    def record(self, entry, route):
        st = str(entry["status"])
        with self.lock:
            if entry["path"] != "/_stats":
                self.stats["requests"] += 1
                r = self.stats["routes"].setdefault(route, {})
                r[st] = r.get(st, 0) + 1
                if entry.get("fault"):
                    f = self.stats["faults"]
                    f[entry["fault"]] = f.get(entry["fault"], 0) + 1
                if entry.get("duplicate"):
                    self.stats["duplicates"] += 1
        if self.logf:
            line = json.dumps(entry, ensure_ascii=False, default=str)
            with self.log_lock:
                self.logf.write(line + "\n")
                self.logf.flush()

    def issue_token(self):
        with self.lock:
            self.tok_n += 1
            tok = "ya29.fake-%d" % self.tok_n
            self.tokens[tok] = time.time() + self.a.token_expires_in
            self.stats["tokens_issued"] += 1
        return {"access_token": tok, "expires_in": int(self.a.token_expires_in),
                "token_type": "Bearer"}

    def bearer(self, headers):
        h = headers.get("authorization", "")
        m = re.match(r"^Bearer\s+(\S+)\s*$", h, re.I)
        return m.group(1) if m else None

    def token_ok(self, tok):
        if tok is None:
            return False
        with self.lock:
            if tok in self.static:
                return True
            exp = self.tokens.get(tok)
            return exp is not None and exp > time.time()

    def revoke(self, tok):
        with self.lock:
            self.static.discard(tok)
            self.tokens.pop(tok, None)

    # ---------------------------------------------------------------- dispatch

    def handle(self, method, path, rawq, headers, body, entry):
        """-> (Resp, route name)."""
        q = dict(parse_qsl(rawq, keep_blank_values=True))
        if path == "/_stats":
            with self.lock:
                obj = json.loads(json.dumps(self.stats))
                obj["jobs"] = len(self.jobs)
            return jresp(200, obj), "_stats"
        if path == "/_rows":
            return self.rows_dump(q), "_rows"
        if path == TOKEN_PATH:
            return self.token_endpoint(method, headers, body, entry), "token"
        if path.startswith("/computeMetadata/"):
            return self.metadata(method, path, headers), "metadata"
        bq = path[len("/bigquery/v2"):] if path.startswith("/bigquery/v2/") else path
        route = match_route(method, bq)
        if route is None:
            return eresp(BQError(404, "notFound", "Not found: URL %s %s" % (method, path))), "unknown"
        name, groups = route
        if name == "method":
            return eresp(BQError(405, "badRequest", "Method %s not allowed on %s"
                                 % (method, path))), "unknown"
        tok = self.bearer(headers)
        if not self.a.no_auth and not self.token_ok(tok):
            return eresp(AUTH_ERROR, AUTH_HEADERS), name
        with self.lock:
            self.auth_n += 1
            fault = self.auth_faults.get(self.auth_n)
        if fault == "401":
            entry["fault"] = "401"
            if tok is not None:
                self.revoke(tok)
            return eresp(AUTH_ERROR, AUTH_HEADERS), name
        if groups[0] != self.a.project:
            return eresp(not_found("Project %s" % groups[0])), name
        if body is None:
            return eresp(BQError(400, "badRequest", "Request payload size exceeds the "
                                 "limit: %d bytes." % MAX_BODY)), name
        try:
            return globals()["r_" + name.replace(".", "_")](
                self, groups, q, body, entry), name
        except BQError as e:
            return eresp(e), name

    # ---------------------------------------------------------------- auth routes

    def token_endpoint(self, method, headers, body, entry):
        if method != "POST":
            return jresp(405, {"error": "invalid_request",
                               "error_description": "Use POST"})
        ctype = headers.get("content-type", "")
        text = (body or b"").decode("utf-8", errors="replace")
        try:
            if "json" in ctype:
                form = json.loads(text)
                if not isinstance(form, dict):
                    raise ValueError
            else:
                form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        except ValueError:
            return jresp(400, {"error": "invalid_request",
                               "error_description": "The request body is not a form."})
        gt = form.get("grant_type")

        def bad(desc, error="invalid_grant", code=400):
            return jresp(code, {"error": error, "error_description": desc},
                         [("Cache-Control", "no-store")])
        if gt == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            a = form.get("assertion")
            if not isinstance(a, str) or not a:
                return bad("Missing required parameter: assertion", "invalid_request")
            try:
                claims = verify_jwt(a, self.sa_key, self.a.sa_email,
                                    "http://127.0.0.1:%d/token" % self.port, int(time.time()))
            except GrantError as e:
                return bad(e.desc, e.error)
            entry["jwt"] = claims
        elif gt == "refresh_token":
            cid, sec = form.get("client_id"), form.get("client_secret")
            m = re.match(r"^Basic\s+(\S+)$", headers.get("authorization", ""), re.I)
            if m and cid is None:
                try:
                    cid, _, sec = base64.b64decode(m.group(1)).decode().partition(":")
                except ValueError:
                    pass
            want = (self.a.user_client_id, self.a.user_client_secret,
                    self.a.user_refresh_token)
            if None in want or (cid, sec, form.get("refresh_token")) != want:
                return bad("Bad Request" if cid == want[0] and sec == want[1] else
                           "The OAuth client was not found or the refresh token is wrong.")
        else:
            return bad("Invalid grant_type: %s" % (gt or ""), "unsupported_grant_type")
        return jresp(200, self.issue_token(), [("Cache-Control", "no-store"),
                                               ("Pragma", "no-cache")])

    def metadata(self, method, path, headers):
        mh = [("Metadata-Flavor", "Google")]
        if headers.get("metadata-flavor") != "Google" or "x-forwarded-for" in headers:
            return Resp(403, b"Missing required header: Metadata-Flavor: Google\n",
                        [("Content-Type", "text/plain; charset=utf-8")] + mh)
        if method != "GET":
            return Resp(405, b"Method not allowed\n", [("Content-Type", "text/plain")] + mh)
        if path == META_TOKEN:
            return jresp(200, self.issue_token(), mh)
        if path == META_PROJECT:
            return Resp(200, self.a.project.encode(), [("Content-Type", "application/text")] + mh)
        if path == META_EMAIL:
            return Resp(200, (self.a.sa_email or "default@%s.iam.gserviceaccount.com"
                              % self.a.project).encode(), [("Content-Type", "application/text")] + mh)
        return Resp(404, b"Not Found\n", [("Content-Type", "text/plain")] + mh)

    # ---------------------------------------------------------------- test helpers

    def rows_dump(self, q):
        parts = (q.get("table") or "").split(".")
        if len(parts) != 3:
            return eresp(invalid("table must be project.dataset.table"))
        with self.lock:
            tb = self.store.tables.get(tuple(parts))
            if tb is None:
                return eresp(not_found("Table %s:%s.%s" % tuple(parts)))
            rows = list(self.store.rows(tb))
        keys = [tb.idx[k] for k in ("sale_id", "product_id") if k in tb.idx]
        for i in reversed(keys):
            rows.sort(key=lambda r: sort_key(r[i], False))
        out = [{c[0]: plain(c[1], v) for c, v in zip(tb.cols, r)} for r in rows]
        return jresp(200, {"rows": out,
                           "schema": [{"name": n, "type": t, "mode": m} for n, t, m in tb.cols]})


ROUTES = [
    ("jobs.query", "POST", r"^/projects/([^/]+)/queries$"),
    ("jobs.getQueryResults", "GET", r"^/projects/([^/]+)/queries/([^/]+)$"),
    ("jobs.insert", "POST", r"^/projects/([^/]+)/jobs$"),
    ("jobs.list", "GET", r"^/projects/([^/]+)/jobs$"),
    ("jobs.get", "GET", r"^/projects/([^/]+)/jobs/([^/]+)$"),
    ("jobs.cancel", "POST", r"^/projects/([^/]+)/jobs/([^/]+)/cancel$"),
    ("datasets.list", "GET", r"^/projects/([^/]+)/datasets$"),
    ("datasets.insert", "POST", r"^/projects/([^/]+)/datasets$"),
    ("datasets.get", "GET", r"^/projects/([^/]+)/datasets/([^/]+)$"),
    ("tables.list", "GET", r"^/projects/([^/]+)/datasets/([^/]+)/tables$"),
    ("tables.insert", "POST", r"^/projects/([^/]+)/datasets/([^/]+)/tables$"),
    ("tables.get", "GET", r"^/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$"),
    ("tables.delete", "DELETE", r"^/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$"),
    ("tabledata.list", "GET", r"^/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)/data$"),
]
ROUTES = [(n, m, re.compile(r)) for n, m, r in ROUTES]


def match_route(method, path):
    known = False
    for name, m, rx in ROUTES:
        mm = rx.match(path)
        if mm:
            if m == method:
                return name, [unquote(g) for g in mm.groups()]
            known = True
    return ("method", None) if known else None


# ---------------------------------------------------------------- BigQuery routes

def parse_body(body):
    text = body.decode("utf-8", errors="replace") if body else ""
    try:
        obj = json.loads(text) if text.strip() else {}
    except ValueError as e:
        raise BQError(400, "parseError", "Invalid JSON payload received. %s" % e)
    if not isinstance(obj, dict):
        raise BQError(400, "parseError", "Invalid JSON payload received. Expected an object.")
    return obj


def flag(q, name):
    return str(q.get(name, "")).lower() == "true"


def int_arg(q, name, default=None):
    v = q.get(name)
    if v is None or v == "":
        return default
    if not re.match(r"^\d+$", str(v)):
        raise invalid("Invalid value for %s: %s" % (name, v))
    return int(v)


def new_job_id():
    return "job_" + uuid.uuid4().hex


def schema_json(schema):
    return {"fields": [{"name": n, "type": LEGACY_TYPE[t], "mode": m} for n, t, m in schema]}


def page(rows, schema, q, int64ts, default_max=None):
    """The f/v rows of one page, and the next pageToken (or None)."""
    start = int_arg(q, "startIndex", 0)
    if q.get("pageToken"):
        if not re.match(r"^\d+$", q["pageToken"]):
            raise invalid("Invalid pageToken")
        start = int(q["pageToken"])
    mx = int_arg(q, "maxResults", default_max)
    end = len(rows) if mx is None else min(len(rows), start + mx)
    types = [t for _n, t, _m in schema]
    out = [{"f": [{"v": cell(t, v, int64ts)} for t, v in zip(types, r)]}
           for r in rows[start:end]]
    return out, (str(end) if end < len(rows) else None)


def job_answer(app, job, kind, q, int64ts):
    """A jobs.query ("query") or getQueryResults ("results") answer."""
    out = {"kind": "bigquery#queryResponse" if kind == "query" else
           "bigquery#getQueryResultsResponse", "jobReference": job.ref(),
           "jobComplete": job.done}
    if kind == "results":
        out["etag"] = base64.b64encode(hashlib.md5(job.id.encode()).digest()[:9]).decode()
    if not job.done:
        return out
    r = job.result
    out["totalBytesProcessed"] = str(r.bytes)
    out["cacheHit"] = False
    if kind == "query":
        out["totalBytesBilled"] = str(r.bytes and max(r.bytes, 10485760))
        out["creationTime"] = str(job.created)
        out["startTime"] = str(job.created)
        out["endTime"] = str(job.ended)
        out["location"] = job.location
    if r.dml is not None:
        i, u, d = r.dml
        out["numDmlAffectedRows"] = str(i + u + d)
        if kind == "query":
            out["dmlStats"] = {"insertedRowCount": str(i), "updatedRowCount": str(u),
                               "deletedRowCount": str(d)}
        out["totalRows"] = "0"
    elif r.rows is not None:
        out["schema"] = schema_json(r.schema)
        rows, tok = page(r.rows, r.schema, q, int64ts)
        out["rows"] = rows
        out["totalRows"] = str(len(r.rows))
        if tok:
            out["pageToken"] = tok
    else:
        out["totalRows"] = "0"
        if kind == "query":
            out["statementType"] = r.stype
    return out


def job_resource(app, job):
    st = {"creationTime": str(job.created), "startTime": str(job.created)}
    res = {"kind": "bigquery#job",
           "etag": base64.b64encode(hashlib.md5(job.id.encode()).digest()[:9]).decode(),
           "id": "%s:%s.%s" % (job.project, job.location, job.id),
           "selfLink": "https://bigquery.googleapis.com/bigquery/v2/projects/%s/jobs/%s?location=%s"
                       % (job.project, job.id, job.location),
           "user_email": app.a.sa_email or "fake@%s.iam.gserviceaccount.com" % app.a.project,
           "configuration": {"query": job.config, "jobType": "QUERY"},
           "jobReference": job.ref(), "statistics": st,
           "status": {"state": "DONE" if job.done else "RUNNING"}}
    if job.error is not None:
        res["status"]["errorResult"] = job.error.proto()
        res["status"]["errors"] = [job.error.proto()]
        st["endTime"] = str(job.ended)
        return res
    if not job.done:
        return res
    r = job.result
    st["endTime"] = str(job.ended)
    st["totalBytesProcessed"] = str(r.bytes)
    qs = {"statementType": r.stype, "totalBytesProcessed": str(r.bytes),
          "totalBytesBilled": str(r.bytes and max(r.bytes, 10485760)),
          "cacheHit": False, "totalSlotMs": "1"}
    if r.dml is not None:
        i, u, d = r.dml
        qs["numDmlAffectedRows"] = str(i + u + d)
        qs["dmlStats"] = {"insertedRowCount": str(i), "updatedRowCount": str(u),
                          "deletedRowCount": str(d)}
    if r.ddl_op is not None:
        qs["ddlOperationPerformed"] = r.ddl_op
        if r.ddl_target:
            qs["ddlTargetTable"] = r.ddl_target
    if r.schema is not None:
        qs["schema"] = schema_json(r.schema)
    st["query"] = qs
    return res


def job_config(body):
    cfg = {"query": body.get("query"), "useLegacySql": body.get("useLegacySql", True),
           "priority": body.get("priority", "INTERACTIVE")}
    if body.get("parameterMode"):
        cfg["parameterMode"] = body["parameterMode"]
    if body.get("queryParameters"):
        cfg["queryParameters"] = [
            {"name": p.get("name"), "parameterType": p.get("parameterType")}
            for p in body["queryParameters"] if isinstance(p, dict)]
    return cfg


def fault_target(query, project):
    try:
        st = parse_statement(query, project)
        return "%s:%s.%s" % (st.project, st.dataset, st.table)
    except (BQError, AttributeError):
        return "%s:unknown.unknown" % project


def r_jobs_query(app, groups, q, raw, entry):
    project = groups[0]
    body = parse_body(raw)
    entry["body"] = body
    query = body.get("query")
    rid = body.get("requestId")
    if isinstance(rid, str):
        entry["requestId"] = rid
    entry["duplicate"] = False
    is_merge = False
    if isinstance(query, str):
        try:
            is_merge = bool(MERGE_HEAD_RE.match(normalize_sql(query)))
        except BQError:
            pass
    fault = None
    if is_merge:
        with app.lock:
            app.merge_n += 1
            fault = app.merge_faults.get(app.merge_n)
    if fault:
        entry["fault"] = fault
        if fault == "reset":
            return Resp(0, mode="reset")
        if fault in SIMPLE_FAULTS:
            code, reason, msg = SIMPLE_FAULTS[fault]
            if "%s" in msg:
                msg = msg % fault_target(query, project)
            return eresp(BQError(code, reason, msg))
    if app.a.strict:
        extra = sorted(set(body) - QUERY_REQUEST_FIELDS)
        if extra:
            raise invalid("Invalid JSON payload received. Unknown name \"%s\": "
                          "Cannot find field." % extra[0])
    check_query_config(body, app.a.strict, "", True)
    rid = check_request_id(body)
    location = body.get("location") or "US"
    dry = body.get("dryRun") is True
    int64ts = bool((body.get("formatOptions") or {}).get("useInt64Timestamp"))
    content = json.dumps([query, body.get("queryParameters"), body.get("useLegacySql")],
                         sort_keys=True)
    params = decode_params(body, app.a.strict)
    st = parse_statement(query, project)
    with app.lock:
        now = time.monotonic()
        rec = app.rids.get(rid) if rid and not dry else None
        if rec and now - rec[0] <= REQUEST_ID_TTL and rec[1] == content and rec[2] in app.jobs:
            job = app.jobs[rec[2]]
            entry["duplicate"] = True
        else:
            if dry:
                if st.kind in ("MERGE", "SELECT", "CREATE_TABLE", "DROP_TABLE"):
                    check_location(app.store, st.project, st.dataset, location)
                if st.kind in ("MERGE", "SELECT"):
                    app.store.table(st.project, st.dataset, st.table)
                return jresp(200, {"kind": "bigquery#queryResponse", "jobComplete": True,
                                   "totalBytesProcessed": "0", "cacheHit": False})
            result = run_statement(app.store, st, params, location, app.refuse)
            job = Job(new_job_id(), project, location, job_config(body), result)
            if fault and fault.startswith("incomplete"):
                k = int(fault.split(":", 1)[1]) if ":" in fault else 1
                job.pending = max(0, k - 1)
                job.done = False
            app.jobs[job.id] = job
            if rid and st.kind != "SELECT":
                app.rids[rid] = (now, content, job.id)
            s = app.stats["statements"]
            s[st.kind] = s.get(st.kind, 0) + 1
        qa = {} if body.get("maxResults") is None else {"maxResults": str(body["maxResults"])}
        answer = job_answer(app, job, "query", qa, int64ts)
    if fault == "applied503":
        code, reason, msg = SIMPLE_FAULTS["503"]
        return eresp(BQError(code, reason, msg))
    return jresp(200, answer)


def find_job(app, project, job_id, q):
    with app.lock:
        job = app.jobs.get(job_id)
    if job is None or job.project != project:
        raise not_found("Job %s:%s" % (project, job_id))
    loc = q.get("location")
    if loc and loc.lower() != job.location.lower():
        raise not_found("Job %s:%s.%s" % (project, loc, job_id))
    return job


def r_jobs_getQueryResults(app, groups, q, raw, entry):
    job = find_job(app, groups[0], groups[1], q)
    if job.error is not None:
        return eresp(job.error)
    with app.lock:
        if job.pending > 0:
            job.pending -= 1
        elif not job.done:
            job.done = True
            job.ended = now_ms()
        answer = job_answer(app, job, "results", q, flag(q, "formatOptions.useInt64Timestamp"))
    return jresp(200, answer)


def r_jobs_get(app, groups, q, raw, entry):
    job = find_job(app, groups[0], groups[1], q)
    with app.lock:
        return jresp(200, job_resource(app, job))


def r_jobs_cancel(app, groups, q, raw, entry):
    job = find_job(app, groups[0], groups[1], q)
    with app.lock:
        return jresp(200, {"kind": "bigquery#jobCancelResponse", "job": job_resource(app, job)})


def r_jobs_list(app, groups, q, raw, entry):
    with app.lock:
        jobs = [j for j in app.jobs.values() if j.project == groups[0]]
        out = [{"id": "%s:%s.%s" % (j.project, j.location, j.id), "kind": "bigquery#job",
                "jobReference": j.ref(), "state": "DONE" if j.done else "RUNNING"}
               for j in sorted(jobs, key=lambda j: -j.created)]
    return jresp(200, {"kind": "bigquery#jobList", "jobs": out})


def r_jobs_insert(app, groups, q, raw, entry):
    project = groups[0]
    body = parse_body(raw)
    entry["body"] = body
    ref = body.get("jobReference") or {}
    cfg = (body.get("configuration") or {}).get("query")
    if not isinstance(ref, dict) or not isinstance(cfg, dict):
        raise invalid("This fake runs query jobs only: configuration.query is required")
    jid = ref.get("jobId") or new_job_id()
    if not isinstance(jid, str) or not re.match(r"^[\w-]{1,1024}$", jid):
        raise invalid("Invalid job ID \"%s\"" % jid)
    if ref.get("projectId") not in (None, project):
        raise invalid("jobReference.projectId %s differs from the project in the URL"
                      % ref.get("projectId"))
    check_query_config(cfg, app.a.strict, "configuration.query.", False)
    location = ref.get("location") or cfg.get("location") or "US"
    with app.lock:
        if jid in app.jobs:
            raise BQError(409, "duplicate", "Already Exists: Job %s:%s.%s"
                          % (project, location, jid))
        job = Job(jid, project, location, job_config(cfg))
        try:
            params = decode_params(cfg, app.a.strict)
            st = parse_statement(cfg["query"], project)
            if (body.get("configuration") or {}).get("dryRun"):
                job.result = Result(st.kind)
            else:
                job.result = run_statement(app.store, st, params, location, app.refuse)
                s = app.stats["statements"]
                s[st.kind] = s.get(st.kind, 0) + 1
        except BQError as e:
            job.error = e
        app.jobs[jid] = job
        return jresp(200, job_resource(app, job))


def r_datasets_list(app, groups, q, raw, entry):
    with app.lock:
        ds = app.store.datasets(groups[0])
    return jresp(200, {"kind": "bigquery#datasetList", "etag": "fake",
                       "datasets": [{"kind": "bigquery#dataset", "id": d["id"],
                                     "datasetReference": d["datasetReference"],
                                     "location": d["location"]} for d in ds]})


def r_datasets_get(app, groups, q, raw, entry):
    with app.lock:
        d = app.store.dataset(groups[0], groups[1])
    if d is None:
        raise not_found("Dataset %s:%s" % (groups[0], groups[1]))
    return jresp(200, d)


def r_datasets_insert(app, groups, q, raw, entry):
    project = groups[0]
    body = parse_body(raw)
    entry["body"] = body
    ref = body.get("datasetReference")
    if not isinstance(ref, dict) or not isinstance(ref.get("datasetId"), str):
        raise invalid("Required parameter is missing: datasetReference.datasetId")
    d = ref["datasetId"]
    if not re.match(r"^\w{1,1024}$", d):
        raise invalid("Invalid dataset ID \"%s\". Dataset IDs must be alphanumeric "
                      "(plus underscores) and must be at most 1024 characters long." % d)
    if ref.get("projectId") not in (None, project):
        raise invalid("datasetReference.projectId %s differs from the project in the URL"
                      % ref.get("projectId"))
    loc = body.get("location") or "US"
    if not isinstance(loc, str) or not re.match(r"^[A-Za-z0-9-]+$", loc):
        raise invalid("Invalid location: %s" % json.dumps(loc))
    with app.lock:
        if app.store.dataset(project, d) is not None:
            raise BQError(409, "duplicate", "Already Exists: Dataset %s:%s" % (project, d))
        res = app.store.add_dataset(project, d, loc, body)
    return jresp(200, res)


def r_tables_list(app, groups, q, raw, entry):
    p, d = groups[0], groups[1]
    with app.lock:
        if app.store.dataset(p, d) is None:
            raise not_found("Dataset %s:%s" % (p, d))
        tbs = [tb for k, tb in sorted(app.store.tables.items()) if k[:2] == (p, d)]
        out = [{"kind": "bigquery#table", "id": tb.res["id"],
                "tableReference": tb.res["tableReference"], "type": "TABLE",
                "creationTime": tb.res["creationTime"]} for tb in tbs]
    return jresp(200, {"kind": "bigquery#tableList", "etag": "fake", "tables": out,
                       "totalItems": len(out)})


def r_tables_get(app, groups, q, raw, entry):
    with app.lock:
        tb = app.store.table(*groups[:3])
        return jresp(200, app.store.resource(tb))


def r_tables_delete(app, groups, q, raw, entry):
    with app.lock:
        tb = app.store.table(*groups[:3])
        app.store.drop_table(tb)
    return Resp(204)


def r_tables_insert(app, groups, q, raw, entry):
    p, d = groups[0], groups[1]
    body = parse_body(raw)
    entry["body"] = body
    ref = body.get("tableReference")
    if not isinstance(ref, dict) or not isinstance(ref.get("tableId"), str):
        raise invalid("Required parameter is missing: tableReference.tableId")
    t = ref["tableId"]
    if not re.match(r"^[\w-]{1,1024}$", t, re.U):
        raise invalid("Invalid table ID \"%s\"." % t)
    if ref.get("projectId") not in (None, p) or ref.get("datasetId") not in (None, d):
        raise invalid("tableReference differs from the dataset in the URL")
    fields = (body.get("schema") or {}).get("fields")
    if not isinstance(fields, list) or not fields:
        raise invalid("This fake needs a schema with at least one field")
    cols, seen = [], set()
    for f in fields:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or \
                not re.match(r"^[A-Za-z_]\w{0,299}$", f["name"]):
            raise invalid("Invalid field name %s" % json.dumps(f.get("name") if isinstance(f, dict) else f))
        typ = TYPE_ALIASES.get(str(f.get("type", "")).upper())
        if typ is None:
            raise invalid("Invalid value for type: %s is not a valid value" % f.get("type"))
        mode = str(f.get("mode") or "NULLABLE").upper()
        if mode not in ("NULLABLE", "REQUIRED"):
            raise invalid("Field %s: mode %s is not supported by this fake" % (f["name"], mode))
        if f["name"].lower() in seen:
            raise invalid("Duplicate field name %s" % f["name"])
        seen.add(f["name"].lower())
        cols.append({"name": f["name"], "type": typ, "mode": mode})
    part = None
    tp = body.get("timePartitioning")
    if tp:
        if not isinstance(tp, dict) or tp.get("type", "DAY") != "DAY":
            raise invalid("This fake supports timePartitioning type DAY only")
        part = tp.get("field")
        if part is not None:
            c = {x["name"].lower(): x for x in cols}.get(str(part).lower())
            if c is None or c["type"] not in ("TIMESTAMP", "DATE"):
                raise invalid("The field specified for time partitioning can only be of "
                              "type TIMESTAMP, DATE or DATETIME. The type found is: %s"
                              % (c["type"] if c else "missing"))
            part = c["name"]
    cluster = (body.get("clustering") or {}).get("fields") or []
    names = {x["name"].lower(): x["name"] for x in cols}
    if any(str(c).lower() not in names for c in cluster) or len(cluster) > 4:
        raise invalid("Invalid clustering fields %s" % json.dumps(cluster))
    cluster = [names[str(c).lower()] for c in cluster]
    with app.lock:
        if app.store.dataset(p, d) is None:
            raise not_found("Dataset %s:%s" % (p, d))
        if app.store.table(p, d, t, must=False) is not None:
            raise BQError(409, "duplicate", "Already Exists: Table %s:%s.%s" % (p, d, t))
        tb = app.store.add_table(p, d, t, cols, part, cluster, body.get("description"),
                                 body.get("requirePartitionFilter"), body)
        return jresp(200, app.store.resource(tb))


def r_tabledata_list(app, groups, q, raw, entry):
    with app.lock:
        tb = app.store.table(*groups[:3])
        rows = list(app.store.rows(tb))
    schema = tb.cols
    out, tok = page(rows, schema, q, flag(q, "formatOptions.useInt64Timestamp"))
    res = {"kind": "bigquery#tableDataList", "etag": "fake", "totalRows": str(len(rows)),
           "rows": out}
    if tok:
        res["pageToken"] = tok
    return jresp(200, res)


# ---------------------------------------------------------------- HTTP glue

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeBigQuery/1.0"
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
        """The request body, or None when it is over MAX_BODY (read and
        dropped, so the connection stays usable)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                total += len(data)
                if total <= MAX_BODY:
                    chunks.append(data)
                self.rfile.readline(65537)
            return b"".join(chunks) if total <= MAX_BODY else None
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            left = n
            while left > 0:
                got = self.rfile.read(min(left, 1 << 20))
                if not got:
                    break
                left -= len(got)
            return None
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self):
        t0 = time.time()
        app = self.app
        body = self._body()
        path, _, rawq = self.path.partition("?")
        headers = {}
        for k, v in self.headers.items():
            headers[k.lower()] = v
        if body is None:
            logged = "<%s bytes: over the limit>" % self.headers.get("Content-Length", "?")
        else:
            logged = body.decode("utf-8", errors="replace")
            if logged[:1] in ("{", "["):
                try:
                    logged = json.loads(logged)
                except ValueError:
                    pass
        entry = {"t": t0, "method": self.command, "path": path, "query": rawq,
                 "headers": headers, "body": logged}
        try:
            resp, route = app.handle(self.command, path, rawq, headers, body, entry)
        except BQError as e:
            resp, route = eresp(e), "error"
        except Exception as e:          # a bug here must not hang the client
            import traceback
            traceback.print_exc()
            resp, route = jresp(500, {"error": {"code": 500, "status": "INTERNAL",
                                                "message": "fake server bug: %r" % (e,),
                                                "errors": [{"reason": "fakeBug",
                                                            "message": repr(e)}]}}), "error"
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
            # Headers and body in one write (no Nagle/delayed-ACK stalls).
            self._headers_buffer.append(b"\r\n" + resp.body)
            try:
                self.flush_headers()
            except OSError:
                self.close_connection = True
        entry["status"] = status
        app.record(entry, route)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass        # client went away etc.: not interesting


# ---------------------------------------------------------------- main

def fault_spec(s):
    m = re.fullmatch(r"([A-Za-z0-9]+)(?::(\d+))?(?:@(\d+)(?:x(\d+))?)?", s)
    kind = m.group(1) if m else None
    if not m or kind not in FAULT_KINDS or int(m.group(3) or 1) < 1 or \
            (m.group(2) is not None and kind != "incomplete") or \
            (m.group(2) is not None and int(m.group(2)) < 1) or \
            (m.group(4) is not None and int(m.group(4)) < 1):
        raise argparse.ArgumentTypeError(
            "bad fault %r: KIND@N or KIND@NxCOUNT, KIND one of %s (incomplete as "
            "incomplete:K)" % (s, " ".join(FAULT_KINDS)))
    if kind == "incomplete":
        kind = "incomplete:%s" % (m.group(2) or 1)
    return (kind, int(m.group(3) or 1), int(m.group(4) or 1))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--project", default="sandbox")
    ap.add_argument("--db")
    ap.add_argument("--no-auth", action="store_true")
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--sa-public-key")
    ap.add_argument("--sa-email")
    ap.add_argument("--user-client-id")
    ap.add_argument("--user-client-secret")
    ap.add_argument("--user-refresh-token")
    ap.add_argument("--token-expires-in", type=float, default=3599.0)
    ap.add_argument("--fault", type=fault_spec, action="append", default=[])
    ap.add_argument("--refuse", action="append", default=[])
    a = ap.parse_args(argv)
    if a.token_expires_in <= 0 or a.max_seconds <= 0:
        ap.error("--token-expires-in and --max-seconds must be positive")
    try:
        app = App(a)
    except (OSError, ValueError, sqlite3.Error) as e:
        sys.stderr.write("bigquery.py: %s\n" % e)
        return 2
    Handler.app = app
    srv = Server(("127.0.0.1", 0), Handler)
    app.port = srv.server_address[1]
    fakeserve.serve(srv, a.port_file, a.max_seconds)
    with app.lock:
        app.store.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
