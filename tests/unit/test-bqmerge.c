/*
 * test-bqmerge.c: the work of bq-merge (bqmerge.h).  Dry runs show the
 * requests exactly: how rows are encoded, batched by rows and by bytes,
 * collapsed on duplicate keys and rejected; the MERGE statement and the
 * summary object.  A scripted HTTP server in a thread then plays BigQuery
 * refusing data, so that the halving of a batch can be seen.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bq.h"
#include "bqmerge.h"
#include "http.h"
#include "log.h"
#include "ndjson.h"
#include "ts.h"
#include "tap.h"

#include "tserver.h"

static char P[] = "p", D[] = "d", T[] = "t", LOC[] = "US";
static struct ig_bq_config cfg = { P, D, T, LOC, NULL, 0 };

/* A sales row as ls-fetch writes it. */
#define ROW(sale, ts, prod, qty, price)					\
	"{\"sale_id\":\"" sale "\",\"timestamp\":\"" ts "\",\"customer_id\":\"17\","	\
	"\"product_id\":\"" prod "\",\"product_name\":\"Oak Bowl\",\"quantity\":" qty	\
	",\"price\":" price ",\"payment_method\":\"Cash\"}\n"

/* A finished run: the requests it wrote, parsed, and its reject records. */
struct run {
	struct ig_bqm	*m;
	json_t		*requests;	/* the dry-run lines, parsed */
	json_t		*rejects;	/* the reject records */
	size_t		 longest;	/* bytes in the longest request */
	int		 rc;		/* of ig_bqm_read, then ig_bqm_flush */
	struct ig_err	 e;
};

static FILE *
text_file(const char *text, size_t len)
{
	FILE *fp = tmpfile();

	if (fp == NULL || fwrite(text, 1, len, fp) != len) {
		perror("tmpfile");
		exit(99);
	}
	rewind(fp);
	return fp;
}

/* Each line of fp, parsed, into an array (new); longest gets the longest line. */
static json_t *
lines_of(FILE *fp, size_t *longest)
{
	json_t *a = json_array();
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	rewind(fp);
	while ((n = getline(&line, &size, fp)) != -1) {
		json_t *v = json_loadb(line, (size_t)n, 0, NULL);

		if (longest != NULL && (size_t)n - 1 > *longest)
			*longest = (size_t)n - 1;
		json_array_append_new(a, v != NULL ? v : json_string("(not JSON)"));
	}
	free(line);
	return a;
}

/*
 * Runs a dry merge of input (named "input.ndjson", lines capped at
 * maxlen when not 0) with o; fills r.  r->m must be freed with done().
 */
static void
dry_run(struct run *r, const struct ig_bqm_opts *o, const char *input,
    size_t maxlen)
{
	static struct ig_bq bq;
	struct ig_bqm_opts oo = *o;
	struct ig_ndjson_in in;
	FILE *dry = tmpfile(), *rej = tmpfile(), *fp;

	memset(r, 0, sizeof(*r));
	memset(&bq, 0, sizeof(bq));
	bq.c = &cfg;
	oo.dry = dry;
	oo.reject = rej;
	if ((r->m = ig_bqm_new(&bq, &oo, &r->e)) == NULL) {
		r->rc = -1;
		fclose(dry);
		fclose(rej);
		return;
	}
	fp = text_file(input, strlen(input));
	ig_ndjson_open_fp(&in, fp, "input.ndjson", maxlen);
	r->rc = ig_bqm_read(r->m, &in, &r->e);
	if (r->rc == 0)
		r->rc = ig_bqm_flush(r->m, &r->e);
	ig_ndjson_close(&in);
	fclose(fp);
	r->requests = lines_of(dry, &r->longest);
	r->rejects = lines_of(rej, NULL);
	fclose(dry);
	fclose(rej);
}

static void
done(struct run *r)
{
	ig_bqm_free(r->m);
	json_decref(r->requests);
	json_decref(r->rejects);
}

/* The rows parameter's values of request i. */
static json_t *
rows_of(const struct run *r, size_t i)
{
	json_t *q = json_array_get(json_object_get(json_array_get(r->requests, i),
	    "queryParameters"), 0);

	return json_object_get(json_object_get(q, "parameterValue"), "arrayValues");
}

/* The value of field in row j of request i, as a string ("null" for null). */
static const char *
field(const struct run *r, size_t i, size_t j, const char *name)
{
	json_t *v = json_object_get(json_object_get(json_object_get(
	    json_array_get(rows_of(r, i), j), "structValues"), name), "value");

	if (json_is_null(v))
		return "null";
	return json_string_value(v);
}

/* The named query parameter of request i, or NULL. */
static json_t *
param(const struct run *r, size_t i, const char *name)
{
	json_t *q = json_object_get(json_array_get(r->requests, i), "queryParameters");
	json_t *p;
	size_t k;

	json_array_foreach(q, k, p)
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
			return p;
	return NULL;
}

static const char *
day_of(const struct run *r, size_t i, const char *name)
{
	return json_string_value(json_object_get(json_object_get(param(r, i, name),
	    "parameterValue"), "value"));
}

static const char two_rows[] =
    "{\"sale_id\":\"1042\",\"timestamp\":\"2026-05-14T18:22:41+00:00\","
    "\"customer_id\":\"17\",\"product_id\":\"311\","
    "\"product_name\":\"Mug \\\"12oz\\\" \\\\ Caf\\u00e9 \\u2615\",\"quantity\":2,"
    "\"price\":225.03,\"payment_method\":\"Cash\"}\n"
    "{\"sale_id\":\"1043\",\"timestamp\":\"2026-05-16T01:00:00.5+02:00\","
    "\"customer_id\":\"anonymous\",\"product_id\":\"58\",\"product_name\":null,"
    "\"quantity\":0.682,\"price\":0.1,\"payment_method\":null}\n";

static void
test_encoding(void)
{
	static const char *const names[] = { "sale_id", "timestamp", "customer_id",
	    "product_id", "product_name", "quantity", "price", "payment_method" };
	static const char *const types[] = { "STRING", "TIMESTAMP", "STRING",
	    "STRING", "STRING", "NUMERIC", "FLOAT64", "STRING" };
	struct ig_bqm_opts o = { 0 };
	struct run r;
	json_t *req, *pt, *st;
	char *stmt, *raw;
	size_t i;

	o.prune = 1;
	dry_run(&r, &o, two_rows, 0);
	is_int(r.rc, 0, "a dry run of two rows: %s", r.e.text);
	is_int(json_array_size(r.requests), 1, "one request");
	req = json_array_get(r.requests, 0);
	ok(json_is_object(req), "the request is one JSON object per line");
	is_str(json_string_value(json_object_get(req, "requestId")), "dry-run",
	    "requestId (\"dry-run\" in a dry run)");
	stmt = ig_bqm_statement(&cfg, 0, 1);
	is_str(json_string_value(json_object_get(req, "query")), stmt,
	    "query is the MERGE statement");
	free(stmt);
	ok(json_is_false(json_object_get(req, "useLegacySql")), "useLegacySql false");
	is_str(json_string_value(json_object_get(req, "parameterMode")), "NAMED",
	    "parameterMode NAMED");
	is_str(json_string_value(json_object_get(req, "location")), "US", "location");
	is_int(json_integer_value(json_object_get(req, "timeoutMs")), 20000,
	    "timeoutMs defaults to 20000");
	is_str(json_string_value(json_object_get(json_object_get(req, "labels"), "app")),
	    "bq-merge", "the label app: bq-merge");
	pt = json_object_get(param(&r, 0, "rows"), "parameterType");
	is_str(json_string_value(json_object_get(pt, "type")), "ARRAY", "@rows is an ARRAY");
	is_str(json_string_value(json_object_get(json_object_get(pt, "arrayType"), "type")),
	    "STRUCT", "of STRUCT");
	st = json_object_get(json_object_get(pt, "arrayType"), "structTypes");
	is_int(json_array_size(st), 8, "with eight fields");
	for (i = 0; i < 8; i++) {
		json_t *f = json_array_get(st, i);

		ok(json_string_value(json_object_get(f, "name")) != NULL &&
		    strcmp(json_string_value(json_object_get(f, "name")), names[i]) == 0 &&
		    json_string_value(json_object_get(json_object_get(f, "type"), "type")) != NULL &&
		    strcmp(json_string_value(json_object_get(json_object_get(f, "type"),
		    "type")), types[i]) == 0, "field %zu is %s %s", i + 1, names[i], types[i]);
	}
	is_int(json_array_size(rows_of(&r, 0)), 2, "two rows in @rows");
	is_str(field(&r, 0, 0, "sale_id"), "1042", "sale_id");
	is_str(field(&r, 0, 0, "timestamp"), "2026-05-14 18:22:41+00:00",
	    "TIMESTAMP \"2026-05-14 18:22:41+00:00\"");
	is_str(field(&r, 0, 0, "customer_id"), "17", "customer_id");
	is_str(field(&r, 0, 0, "product_id"), "311", "product_id");
	is_str(field(&r, 0, 0, "product_name"), "Mug \"12oz\" \\ Caf\xc3\xa9 \xe2\x98\x95",
	    "a string with quotes, a backslash and non-ASCII survives");
	is_str(field(&r, 0, 0, "quantity"), "2", "quantity 2 as \"2\"");
	is_str(field(&r, 0, 0, "price"), "225.03", "price 225.03 as \"225.03\"");
	is_str(field(&r, 0, 0, "payment_method"), "Cash", "payment_method");
	is_str(field(&r, 0, 1, "timestamp"), "2026-05-15 23:00:00.500000+00:00",
	    "a fractional second as \".500000+00:00\", in UTC");
	is_str(field(&r, 0, 1, "quantity"), "0.682", "quantity 0.682 as \"0.682\"");
	is_str(field(&r, 0, 1, "price"), "0.1", "price 0.1 as \"0.1\"");
	is_str(field(&r, 0, 1, "product_name"), "null", "product_name null as {\"value\":null}");
	is_str(field(&r, 0, 1, "payment_method"), "null", "payment_method null");
	is_str(day_of(&r, 0, "min_day"), "2026-05-14", "min_day is the earliest date");
	is_str(day_of(&r, 0, "max_day"), "2026-05-15", "max_day is the latest (UTC) date");
	is_str(json_string_value(json_object_get(json_object_get(param(&r, 0, "min_day"),
	    "parameterType"), "type")), "DATE", "min_day is a DATE");
	is_str(json_string_value(json_object_get(json_object_get(param(&r, 0, "max_day"),
	    "parameterType"), "type")), "DATE", "max_day is a DATE");
	raw = json_dumps(req, JSON_COMPACT);
	ok(raw != NULL && strstr(raw, "\"product_name\":{\"value\":null}") != NULL,
	    "null is written as {\"value\":null}");
	free(raw);
	is_int(ig_bqm_summary(r.m)->read, 2, "two rows read");
	is_int(ig_bqm_summary(r.m)->statements, 1, "one statement");
	is_int(ig_bqm_summary(r.m)->batches, 1, "one batch");
	is_int(ig_bqm_unsettled(r.m), 0, "nothing unsettled");
	done(&r);

	o.prune = 0;
	o.wait_ms = 1500;
	dry_run(&r, &o, two_rows, 0);
	is_int(json_integer_value(json_object_get(json_array_get(r.requests, 0),
	    "timeoutMs")), 1500, "wait_ms sets timeoutMs");
	ok(param(&r, 0, "rows") != NULL, "without prune: @rows");
	ok(param(&r, 0, "min_day") == NULL && param(&r, 0, "max_day") == NULL,
	    "and no min_day or max_day");
	is_int(json_array_size(json_object_get(json_array_get(r.requests, 0),
	    "queryParameters")), 1, "one parameter");
	stmt = ig_bqm_statement(&cfg, 0, 0);
	is_str(json_string_value(json_object_get(json_array_get(r.requests, 0), "query")),
	    stmt, "the statement without the partition filter");
	free(stmt);
	done(&r);
}

static void
test_numbers(void)
{
	static const char input[] =
	    ROW("1", "2026-05-14T00:00:00Z", "a", "2.0", "42")
	    ROW("2", "2026-05-14T00:00:00Z", "a", "-1", "-225.03")
	    ROW("3", "2026-05-14T00:00:00Z", "a", "0.0000000004", "0.30000000000000004")
	    ROW("4", "2026-05-14T00:00:00Z", "a", "1.5e3", "1e21")
	    ROW("5", "2026-05-14T00:00:00.123456789Z", "a", "10.25", "-0.0")
	    ROW("6", "0001-01-01T00:00:00.5Z", "a", "0.1234567896", "3.14159265358979");
	struct ig_bqm_opts o = { 0 };
	struct run r;

	dry_run(&r, &o, input, 0);
	is_int(json_array_size(rows_of(&r, 0)), 6, "six rows");
	is_str(field(&r, 0, 0, "quantity"), "2", "quantity 2.0 as \"2\"");
	is_str(field(&r, 0, 0, "price"), "42", "an integer price as \"42\"");
	is_str(field(&r, 0, 1, "quantity"), "-1", "a negative quantity");
	is_str(field(&r, 0, 1, "price"), "-225.03", "a negative price");
	is_str(field(&r, 0, 2, "quantity"), "0", "quantity rounded to nine places");
	is_str(field(&r, 0, 2, "price"), "0.30000000000000004",
	    "17 digits when 15 do not read back");
	is_str(field(&r, 0, 3, "quantity"), "1500", "no exponent in NUMERIC");
	ok(field(&r, 0, 3, "price") != NULL && strtod(field(&r, 0, 3, "price"), NULL) == 1e21,
	    "price 1e21 reads back (%s)", field(&r, 0, 3, "price"));
	is_str(field(&r, 0, 4, "timestamp"), "2026-05-14 00:00:00.123456+00:00",
	    "cut to whole microseconds");
	is_str(field(&r, 0, 4, "quantity"), "10.25", "quantity 10.25");
	is_str(field(&r, 0, 5, "timestamp"), "0001-01-01 00:00:00.500000+00:00",
	    "year 0001 with a fraction");
	is_str(field(&r, 0, 5, "quantity"), "0.12345679", "quantity rounded half up at nine places");
	is_str(field(&r, 0, 5, "price"), "3.14159265358979", "price of 15 digits");
	done(&r);
}

static void
test_batches(void)
{
	static const char five[] =
	    ROW("1001", "2026-05-10T10:00:00Z", "a", "1", "1")
	    ROW("1002", "2026-05-12T10:00:00Z", "a", "1", "1")
	    ROW("1003", "2026-05-11T10:00:00Z", "a", "1", "1")
	    ROW("1004", "2026-05-14T10:00:00Z", "a", "1", "1")
	    ROW("1005", "2026-05-13T10:00:00Z", "a", "1", "1");
	struct ig_bqm_opts o = { 0 };
	struct run r;

	o.batch_rows = 2;
	o.prune = 1;
	dry_run(&r, &o, five, 0);
	is_int(r.rc, 0, "batch_rows 2 over five rows");
	is_int(json_array_size(r.requests), 3, "three requests");
	is_int(json_array_size(rows_of(&r, 0)), 2, "two rows in the first");
	is_int(json_array_size(rows_of(&r, 1)), 2, "two in the second");
	is_int(json_array_size(rows_of(&r, 2)), 1, "one in the last");
	is_str(field(&r, 1, 0, "sale_id"), "1003", "input order is kept");
	is_str(day_of(&r, 0, "min_day"), "2026-05-10", "first batch: min_day");
	is_str(day_of(&r, 0, "max_day"), "2026-05-12", "first batch: max_day");
	is_str(day_of(&r, 1, "min_day"), "2026-05-11", "second batch: min_day");
	is_str(day_of(&r, 1, "max_day"), "2026-05-14", "second batch: max_day");
	is_str(day_of(&r, 2, "min_day"), "2026-05-13", "last batch: min_day");
	is_str(day_of(&r, 2, "max_day"), "2026-05-13", "last batch: max_day");
	is_int(ig_bqm_summary(r.m)->statements, 3, "three statements");
	is_int(ig_bqm_summary(r.m)->batches, 3, "three batches");
	is_int(ig_bqm_summary(r.m)->read, 5, "five rows read");
	done(&r);
}

static void
test_collapse(void)
{
	static const char input[] =
	    ROW("A", "2026-05-14T10:00:00Z", "1", "1", "1")
	    ROW("B", "2026-05-14T10:00:00Z", "1", "1", "2")
	    ROW("A", "2026-05-14T10:00:00Z", "1", "2", "3")
	    ROW("A", "2026-05-14T10:00:00Z", "2", "1", "4")
	    ROW("A", "2026-05-14T10:00:00Z", "1", "3", "5");
	static const char across[] =
	    ROW("A", "2026-05-14T10:00:00Z", "1", "1", "1")
	    ROW("B", "2026-05-14T10:00:00Z", "1", "1", "2")
	    ROW("A", "2026-05-14T10:00:00Z", "1", "2", "3");
	struct ig_bqm_opts o = { 0 };
	struct run r;

	dry_run(&r, &o, input, 0);
	is_int(json_array_size(r.requests), 1, "duplicate keys: one request");
	is_int(json_array_size(rows_of(&r, 0)), 3, "with three rows");
	is_str(field(&r, 0, 0, "sale_id"), "B", "B/1 first");
	ok(strcmp(field(&r, 0, 1, "sale_id"), "A") == 0 &&
	    strcmp(field(&r, 0, 1, "product_id"), "2") == 0,
	    "A/2 is another key: kept");
	ok(strcmp(field(&r, 0, 2, "sale_id"), "A") == 0 &&
	    strcmp(field(&r, 0, 2, "product_id"), "1") == 0 &&
	    strcmp(field(&r, 0, 2, "price"), "5") == 0,
	    "A/1 once, the last one winning");
	is_int(ig_bqm_summary(r.m)->collapsed, 2, "two collapsed");
	is_int(ig_bqm_summary(r.m)->skipped, 2, "counted as skipped");
	is_int(ig_bqm_summary(r.m)->read, 5, "five rows read");
	is_int(ig_bqm_unsettled(r.m), 0, "all settled");
	done(&r);

	o.batch_rows = 2;
	dry_run(&r, &o, across, 0);
	is_int(json_array_size(r.requests), 2, "a key again in a later batch");
	is_str(field(&r, 1, 0, "price"), "3", "is merged again by that batch");
	is_int(ig_bqm_summary(r.m)->collapsed, 0, "and not collapsed");
	done(&r);
}

static void
test_batch_bytes(void)
{
	static const char five[] =
	    ROW("1001", "2026-05-10T10:00:00Z", "a", "1", "1")
	    ROW("1002", "2026-05-10T10:00:00Z", "a", "1", "1")
	    ROW("1003", "2026-05-10T10:00:00Z", "a", "1", "1")
	    ROW("1004", "2026-05-10T10:00:00Z", "a", "1", "1")
	    ROW("1005", "2026-05-10T10:00:00Z", "a", "1", "1");
	struct ig_bqm_opts o = { 0 };
	struct run r;
	size_t one, two, rowlen, i, most = 0, total = 0;

	/* The size of a request with one row and with two. */
	o.batch_rows = 1;
	dry_run(&r, &o, five, 0);
	one = r.longest;
	done(&r);
	o.batch_rows = 2;
	dry_run(&r, &o, five, 0);
	two = r.longest;
	done(&r);
	rowlen = two - one;
	ok(rowlen > 100 && rowlen < 1000, "a row takes %zu bytes", rowlen);

	memset(&o, 0, sizeof(o));
	o.prune = 1;
	o.batch_bytes = one + 2 * rowlen + 100;
	dry_run(&r, &o, five, 0);
	is_int(r.rc, 0, "batch_bytes %zu over five rows", o.batch_bytes);
	ok(json_array_size(r.requests) >= 2, "forces several requests (%zu)",
	    json_array_size(r.requests));
	ok(r.longest <= o.batch_bytes, "none longer than batch_bytes (%zu)", r.longest);
	for (i = 0; i < json_array_size(r.requests); i++) {
		total += json_array_size(rows_of(&r, i));
		if (json_array_size(rows_of(&r, i)) > most)
			most = json_array_size(rows_of(&r, i));
	}
	is_int(total, 5, "all five rows sent");
	ok(most <= 3, "at most three rows a request (%zu)", most);
	done(&r);

	/* A cap below the fixed part of a request still cannot batch everything. */
	o.batch_bytes = 100;
	dry_run(&r, &o, five, 0);
	if (r.m == NULL)
		ok(r.e.code != IG_EX_OK, "batch_bytes 100 is refused: %s", r.e.text);
	else {
		for (most = 0, i = 0; i < json_array_size(r.requests); i++)
			if (json_array_size(rows_of(&r, i)) > most)
				most = json_array_size(rows_of(&r, i));
		is_int(most, 1, "batch_bytes 100: one row a request at most (%zu requests)",
		    json_array_size(r.requests));
	}
	done(&r);
}

/* The reject record for line n, or NULL. */
static json_t *
reject_of(const struct run *r, long n)
{
	json_t *v;
	size_t i;

	json_array_foreach(r->rejects, i, v)
		if (json_integer_value(json_object_get(v, "lineno")) == n)
			return v;
	return NULL;
}

static const char *
rstr(const struct run *r, long n, const char *key)
{
	return json_string_value(json_object_get(reject_of(r, n), key));
}

static int
has(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

static void
test_rejects(void)
{
	static char input[8192];
	static const char *const lines[] = {
	    /* 1 */ "{\"sale_id\":\"1\",\"timestamp\":\"2026-05-14T10:00:00Z\",\"customer_id\":\"17\",\"product_id\":\"a\",\"product_name\":\"x\",\"quantity\":1,\"price\":1,\"payment_method\":\"Cash\"}",
	    /* 2 */ "not json",
	    /* 3 */ "   ",
	    /* 4 */ "{\"sale_id\":\"x\"}",
	    /* 5 */ "[1,2]",
	    /* 6 */ "{\"sale_id\":\"6\",\"timestamp\":\"2026-05-14T10:00:00Z\",\"customer_id\":\"17\",\"product_id\":\"a\",\"product_name\":\"x\",\"quantity\":\"2\",\"price\":1,\"payment_method\":\"Cash\"}",
	    /* 7 */ "\xff\xfe{",
	    /* 8 */ "{\"sale_id\":\"7\",\"timestamp\":\"2026-05-14T10:00:00Z\",\"customer_id\":\"17\",\"product_id\":\"a\",\"product_name\":\"x\",\"quantity\":1,\"price\":1,\"payment_method\":\"Cash\"}",
	    /* 9 */ "{\"sale_id\":\"9\",\"timestamp\":\"2026-05-14T10:00:00Z\",\"customer_id\":\"17\",\"product_id\":\"a\",\"product_name\":\"x\",\"quantity\":1,\"price\":1,\"payment_method\":\"Cash\",\"sale_id\":\"9\"}",
	};
	struct ig_bqm_opts o = { 0 };
	const struct ig_bqm_summary *s;
	struct run r;
	json_t *err;
	size_t i;

	input[0] = '\0';
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		strcat(input, lines[i]);
		strcat(input, "\n");
	}
	dry_run(&r, &o, input, 0);
	is_int(r.rc, 0, "bad rows do not stop the run: %s", r.e.text);
	s = ig_bqm_summary(r.m);
	is_int(s->read, 8, "eight rows read (the blank line is not one)");
	is_int(s->rejected, 6, "six rejected");
	is_int(json_array_size(r.rejects), 6, "six reject records");
	is_int(json_array_size(rows_of(&r, 0)), 2, "the two good rows are sent");
	is_int(ig_bqm_unsettled(r.m), 0, "nothing unsettled");

	is_str(rstr(&r, 2, "file"), "input.ndjson", "a reject names the file");
	is_str(rstr(&r, 2, "line"), "not json", "and holds the original line");
	ok(has(rstr(&r, 2, "reason"), "invalid JSON"), "malformed line: %s",
	    rstr(&r, 2, "reason"));
	ok(!has(rstr(&r, 2, "reason"), "input.ndjson:2"),
	    "its reason leaves out the file and line it has apart");
	ok(reject_of(&r, 3) == NULL, "a blank line is no reject");
	ok(has(rstr(&r, 4, "reason"), "missing key"), "a row short of keys: %s",
	    rstr(&r, 4, "reason"));
	is_str(rstr(&r, 4, "line"), "{\"sale_id\":\"x\"}", "its original line");
	ok(has(rstr(&r, 5, "reason"), "object"), "not an object: %s", rstr(&r, 5, "reason"));
	ok(has(rstr(&r, 6, "reason"), "quantity"), "quantity a string: %s",
	    rstr(&r, 6, "reason"));
	is_str(rstr(&r, 6, "line"), lines[5], "the line as it was");
	is_str(rstr(&r, 7, "line"), "\xef\xbf\xbd\xef\xbf\xbd{",
	    "invalid UTF-8 is replaced in the reject record");
	ok(has(rstr(&r, 9, "reason"), "duplicate") || has(rstr(&r, 9, "reason"), "sale_id"),
	    "a repeated key in one object: %s", rstr(&r, 9, "reason"));

	is_int(json_array_size(s->errors), 6, "six entries in errors");
	err = json_array_get(s->errors, 1);
	is_str(json_string_value(json_object_get(err, "file")), "input.ndjson",
	    "an error names the file");
	is_int(json_integer_value(json_object_get(err, "line")), 4, "and the line");
	is_str(json_string_value(json_object_get(err, "sale_id")), "x", "and the sale_id");
	ok(has(json_string_value(json_object_get(err, "error")), "missing key"),
	    "and the error");
	ok(json_object_get(json_array_get(s->errors, 0), "sale_id") == NULL,
	    "no sale_id for a line that is not JSON");
	done(&r);

	/* A line over the cap, with the stream capped at 300 bytes. */
	memset(input, ' ', 400);
	strcpy(input + 400, "{}\n");
	strcat(input, lines[0]);
	strcat(input, "\n");
	input[0] = '{';
	dry_run(&r, &o, input, 300);
	is_int(ig_bqm_summary(r.m)->rejected, 1, "a line over the cap is rejected");
	ok(has(rstr(&r, 1, "reason"), "longer than"), "as too long: %s", rstr(&r, 1, "reason"));
	is_int(json_array_size(rows_of(&r, 0)), 1, "and the next line is read");
	done(&r);

	/*
	 * A NUL byte: the reject record must stay NDJSON that ig_ndjson reads
	 * back (jansson refuses "\u0000" unless told JSON_ALLOW_NUL).
	 */
	memcpy(input, "{\"a\"\0:1}\n", 9);
	{
		struct ig_bq bq;
		struct ig_ndjson_in in, back;
		struct ig_err e = IG_ERR_INIT;
		FILE *fp = text_file(input, 9), *rej = tmpfile(), *dry = tmpfile();
		struct ig_bqm *m;
		json_t *rec = NULL;

		memset(&bq, 0, sizeof(bq));
		bq.c = &cfg;
		o.reject = rej;
		o.dry = dry;
		m = ig_bqm_new(&bq, &o, &e);
		ig_ndjson_open_fp(&in, fp, "nul.ndjson", 0);
		is_int(ig_bqm_read(m, &in, &e), 0, "a NUL byte in a line");
		is_int(ig_bqm_summary(m)->rejected, 1, "is rejected");
		rewind(rej);
		ig_ndjson_open_fp(&back, rej, "reject", 0);
		is_int(ig_ndjson_next(&back, 0, &rec, &e), 1,
		    "its reject record reads back as NDJSON: %s", e.text);
		is_str(json_string_value(json_object_get(rec, "line")),
		    "{\"a\"\xef\xbf\xbd:1}", "with the NUL shown as U+FFFD");
		is_str(json_string_value(json_object_get(rec, "file")), "nul.ndjson",
		    "and the stream's name");
		json_decref(rec);
		ig_ndjson_close(&back);
		ig_ndjson_close(&in);
		ig_bqm_free(m);
		fclose(fp);
		fclose(rej);
		fclose(dry);
	}
}

static void
test_no_reject_stream(void)
{
	static const char input[] = "nope\n" ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1");
	struct ig_bq bq;
	struct ig_bqm_opts o = { 0 };
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	FILE *fp = text_file(input, strlen(input)), *dry = tmpfile();
	struct ig_bqm *m;
	json_t *reqs;

	memset(&bq, 0, sizeof(bq));
	bq.c = &cfg;
	o.dry = dry;
	m = ig_bqm_new(&bq, &o, &e);
	ig_ndjson_open_fp(&in, fp, "-", 0);
	is_int(ig_bqm_read(m, &in, &e), 0, "without a reject stream");
	is_int(ig_bqm_flush(m, &e), 0, "flush");
	is_int(ig_bqm_summary(m)->rejected, 1, "the bad line is still counted");
	reqs = lines_of(dry, NULL);
	is_int(json_array_size(reqs), 1, "and the good row sent");
	is_int(ig_bqm_flush(m, &e), 0, "flushing an empty batch");
	is_int(ig_bqm_summary(m)->statements, 1, "sends nothing");
	json_decref(reqs);
	ig_ndjson_close(&in);
	ig_bqm_free(m);
	ig_bqm_free(NULL);
	fclose(fp);
	fclose(dry);
}

static const char full_statement[] =
    "MERGE `p.d.t` T\n"
    "USING (SELECT * FROM UNNEST(@rows)) S\n"
    "ON T.sale_id = S.sale_id AND T.product_id = S.product_id\n"
    "  AND DATE(T.timestamp) BETWEEN @min_day AND @max_day\n"
    "WHEN MATCHED AND (T.timestamp IS DISTINCT FROM S.timestamp\n"
    "    OR T.customer_id IS DISTINCT FROM S.customer_id\n"
    "    OR T.product_name IS DISTINCT FROM S.product_name\n"
    "    OR T.quantity IS DISTINCT FROM S.quantity\n"
    "    OR T.price IS DISTINCT FROM S.price\n"
    "    OR T.payment_method IS DISTINCT FROM S.payment_method) THEN\n"
    "  UPDATE SET timestamp = S.timestamp, customer_id = S.customer_id, "
    "product_name = S.product_name, quantity = S.quantity, price = S.price, "
    "payment_method = S.payment_method\n"
    "WHEN NOT MATCHED THEN\n"
    "  INSERT (sale_id, timestamp, customer_id, product_id, product_name, "
    "quantity, price, payment_method)\n"
    "  VALUES (S.sale_id, S.timestamp, S.customer_id, S.product_id, "
    "S.product_name, S.quantity, S.price, S.payment_method)";

static void
test_statement(void)
{
	char *s;

	s = ig_bqm_statement(&cfg, 0, 1);
	is_str(s, full_statement, "the statement of bq-merge(1)");
	free(s);

	s = ig_bqm_statement(&cfg, 0, 0);
	ok(!has(s, "@min_day") && !has(s, "DATE(T.timestamp)"),
	    "without prune: no partition filter");
	ok(has(s, "ON T.sale_id = S.sale_id AND T.product_id = S.product_id\nWHEN MATCHED"),
	    "the join on the key alone");
	ok(has(s, "WHEN MATCHED AND (") && has(s, "UPDATE SET "), "an update clause");
	free(s);

	s = ig_bqm_statement(&cfg, 1, 1);
	ok(has(s, "BETWEEN @min_day AND @max_day"), "insert_only with prune: the filter");
	ok(!has(s, "WHEN MATCHED") && !has(s, "UPDATE") && !has(s, "IS DISTINCT FROM"),
	    "insert_only: no WHEN MATCHED ... UPDATE");
	ok(has(s, "WHEN NOT MATCHED THEN\n  INSERT (sale_id, timestamp, customer_id, "
	    "product_id, product_name, quantity, price, payment_method)\n  VALUES (S.sale_id, "
	    "S.timestamp, S.customer_id, S.product_id, S.product_name, S.quantity, "
	    "S.price, S.payment_method)"), "explicit INSERT and VALUES column lists");
	free(s);

	s = ig_bqm_statement(&cfg, 1, 0);
	ok(!has(s, "@min_day") && !has(s, "WHEN MATCHED AND"),
	    "insert_only without prune: neither");
	ok(has(s, "MERGE `p.d.t` T\n"), "the table, quoted with backticks");
	free(s);
}

static void
test_summary(void)
{
	static const char input[] =
	    ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1")
	    ROW("1", "2026-05-14T10:00:00Z", "a", "1", "2")
	    "{\"sale_id\":\"9\"}\n";
	struct ig_bqm_opts o = { 0 };
	struct run r;
	ig_ts since;
	json_t *j;

	dry_run(&r, &o, input, 0);
	ig_ts_parse("2026-05-01T00:00:00Z", 0, &since, NULL);
	j = ig_bqm_summary_json(r.m, 1, since, 1234);
	ok(json_is_true(json_object_get(j, "success")), "success true");
	is_int(json_integer_value(json_object_get(j, "inserted")), 0, "inserted 0 (dry run)");
	is_int(json_integer_value(json_object_get(j, "updated")), 0, "updated 0");
	is_int(json_integer_value(json_object_get(j, "skipped")), 1, "skipped 1 (collapsed)");
	is_int(json_integer_value(json_object_get(j, "rejected")), 1, "rejected 1");
	is_str(json_string_value(json_object_get(j, "lastSync")), "2026-05-01T00:00:00Z",
	    "lastSync falls back to since when nothing was merged");
	is_int(json_integer_value(json_object_get(j, "latency_ms")), 1234, "latency_ms");
	ok(json_is_array(json_object_get(j, "errors")) &&
	    json_array_size(json_object_get(j, "errors")) == 1, "errors, one entry");
	is_int(json_integer_value(json_object_get(j, "rows")), 3, "rows 3");
	is_int(json_integer_value(json_object_get(j, "collapsed")), 1, "collapsed 1");
	is_int(json_integer_value(json_object_get(j, "statements")), 1, "statements 1");
	ok(json_object_get(j, "errors_dropped") == NULL, "no errors_dropped");
	json_decref(j);
	j = ig_bqm_summary_json(r.m, 0, 0, 0);
	ok(json_is_false(json_object_get(j, "success")), "success false");
	ok(json_object_get(j, "lastSync") == NULL, "lastSync absent without since");
	json_decref(j);
	done(&r);
}

static void
test_many_errors(void)
{
	struct ig_bqm_opts o = { 0 };
	struct run r;
	char *input = malloc(150 * 4 + 1);
	json_t *j;
	int i;

	for (i = 0; i < 150; i++)
		memcpy(input + 4 * i, "bad\n", 4);
	input[600] = '\0';
	dry_run(&r, &o, input, 0);
	is_int(ig_bqm_summary(r.m)->rejected, 150, "150 bad lines rejected");
	is_int(json_array_size(ig_bqm_summary(r.m)->errors), 100, "errors keeps 100");
	is_int(ig_bqm_summary(r.m)->errors_dropped, 50, "and counts the rest");
	is_int(json_array_size(r.rejects), 150, "the reject stream has them all");
	j = ig_bqm_summary_json(r.m, 0, 0, 0);
	is_int(json_integer_value(json_object_get(j, "errors_dropped")), 50,
	    "errors_dropped in the summary");
	json_decref(j);
	is_int(json_array_size(r.requests), 0, "no request without rows");
	done(&r);
	free(input);
}

#define JSON_HDR	"Content-Type: application/json\r\n"
#define BAD_DATA	"{\"error\":{\"code\":400,\"message\":\"Bad double value: x\","	\
	"\"errors\":[{\"message\":\"Bad double value: x\",\"reason\":\"invalidQuery\"}]}}"
#define DONE(ins, upd)	"{\"jobReference\":{\"jobId\":\"job_1\",\"location\":\"US\"},"	\
	"\"jobComplete\":true,\"dmlStats\":{\"insertedRowCount\":\"" ins "\","	\
	"\"updatedRowCount\":\"" upd "\"}}"

/* The sale_ids of the rows in request i, joined. */
static void
sent_ids(struct server *sv, int i, char *buf, size_t size)
{
	json_t *o = json_loadb(sv->req[i].body, sv->req[i].body_len, 0, NULL);
	json_t *rows = json_object_get(json_object_get(json_array_get(json_object_get(o,
	    "queryParameters"), 0), "parameterValue"), "arrayValues"), *v;
	size_t k;

	buf[0] = '\0';
	json_array_foreach(rows, k, v) {
		const char *id = json_string_value(json_object_get(json_object_get(
		    json_object_get(v, "structValues"), "sale_id"), "value"));

		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", k ? "," : "",
		    id ? id : "?");
	}
	json_decref(o);
}

static void
test_bisect(void)
{
	static const struct step steps[] = {
		{ 400, JSON_HDR, BAD_DATA },	/* 1,2,3,4 */
		{ 200, JSON_HDR, DONE("1", "0") },	/* 1,2 */
		{ 400, JSON_HDR, BAD_DATA },	/* 3,4 */
		{ 200, JSON_HDR, DONE("0", "1") },	/* 3 */
		{ 400, JSON_HDR, BAD_DATA },	/* 4 */
	};
	static const char input[] =
	    ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1")
	    ROW("2", "2026-05-14T11:00:00Z", "a", "1", "1")
	    ROW("3", "2026-05-14T12:00:00.25Z", "a", "1", "1")
	    ROW("4", "2026-05-14T13:00:00Z", "a", "1", "1");
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c = { 0 };
	struct ig_bq bq;
	struct ig_bqm_opts o = { 0 };
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	struct ig_bqm *m;
	const struct ig_bqm_summary *s;
	FILE *fp = text_file(input, strlen(input)), *rej = tmpfile();
	char root[64], ids[64];
	json_t *recs, *j;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", sv.port);
	c.project = strdup("p");
	c.dataset = strdup("d");
	c.table = strdup("t");
	c.location = strdup("US");
	c.root = strdup(root);
	c.anonymous = 1;
	is_int(ig_bq_open(&bq, h, &c, &e), 0, "an anonymous client");
	o.reject = rej;
	m = ig_bqm_new(&bq, &o, &e);
	ig_ndjson_open_fp(&in, fp, "sales.ndjson", 0);
	is_int(ig_bqm_read(m, &in, &e), 0, "read four rows");
	is_int(ig_bqm_flush(m, &e), 0, "the batch is merged in parts: %s", e.text);
	s = ig_bqm_summary(m);
	is_int(s->inserted, 1, "inserted as BigQuery says");
	is_int(s->updated, 1, "updated as BigQuery says");
	is_int(s->skipped, 1, "a merged row neither inserted nor updated is skipped");
	is_int(s->rejected, 1, "the refused row is rejected");
	is_int(s->statements, 2, "two statements succeeded");
	is_int(ig_bqm_unsettled(m), 0, "nothing unsettled");
	ok(s->have_last, "a last sync time");
	j = ig_bqm_summary_json(m, 1, 0, 0);
	is_str(json_string_value(json_object_get(j, "lastSync")), "2026-05-14T12:00:00.25Z",
	    "lastSync is the latest merged row, not the refused one");
	json_decref(j);
	is_int(server_stop(&sv), 5, "five requests");
	sent_ids(&sv, 0, ids, sizeof(ids));
	is_str(ids, "1,2,3,4", "the whole batch first");
	sent_ids(&sv, 1, ids, sizeof(ids));
	is_str(ids, "1,2", "then its first half");
	sent_ids(&sv, 2, ids, sizeof(ids));
	is_str(ids, "3,4", "its second half");
	sent_ids(&sv, 3, ids, sizeof(ids));
	is_str(ids, "3", "then quarters");
	sent_ids(&sv, 4, ids, sizeof(ids));
	is_str(ids, "4", "down to the row at fault");
	recs = lines_of(rej, NULL);
	is_int(json_array_size(recs), 1, "one reject record");
	is_int(json_integer_value(json_object_get(json_array_get(recs, 0), "lineno")), 4,
	    "for line 4");
	ok(has(json_string_value(json_object_get(json_array_get(recs, 0), "reason")),
	    "Bad double value"), "with BigQuery's reason: %s",
	    json_string_value(json_object_get(json_array_get(recs, 0), "reason")));
	is_str(json_string_value(json_object_get(json_array_get(s->errors, 0), "sale_id")),
	    "4", "errors names its sale_id");
	json_decref(recs);
	server_free(&sv);
	ig_ndjson_close(&in);
	ig_bqm_free(m);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	fclose(fp);
	fclose(rej);
	ig_http_free(h);
}

static void
test_failure(void)
{
	static const struct step steps[] = {
		{ 200, JSON_HDR, DONE("2", "0") },
		{ 403, JSON_HDR, "{\"error\":{\"code\":403,\"message\":\"Access Denied\","
		    "\"errors\":[{\"reason\":\"accessDenied\",\"message\":\"Access Denied\"}]}}" },
	};
	static const char input[] =
	    ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1")
	    ROW("2", "2026-05-14T11:00:00Z", "a", "1", "1")
	    ROW("3", "2026-05-14T12:00:00Z", "a", "1", "1")
	    ROW("4", "2026-05-14T13:00:00Z", "a", "1", "1")
	    ROW("5", "2026-05-14T14:00:00Z", "a", "1", "1");
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c = { 0 };
	struct ig_bq bq;
	struct ig_bqm_opts o = { 0 };
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	struct ig_bqm *m;
	FILE *fp = text_file(input, strlen(input));
	char root[64];

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", sv.port);
	c.project = strdup("p");
	c.dataset = strdup("d");
	c.table = strdup("t");
	c.location = strdup("US");
	c.root = strdup(root);
	c.anonymous = 1;
	ig_bq_open(&bq, h, &c, &e);
	o.batch_rows = 2;
	m = ig_bqm_new(&bq, &o, &e);
	ig_ndjson_open_fp(&in, fp, "sales.ndjson", 0);
	is_int(ig_bqm_read(m, &in, &e), -1, "a refused statement stops the run");
	is_int(e.code, IG_EX_NOPERM, "with its error");
	is_int(ig_bqm_summary(m)->inserted, 2, "the first batch stays merged");
	is_int(ig_bqm_summary(m)->rejected, 0, "no row is rejected for it");
	is_int(ig_bqm_unsettled(m), 3, "three rows unsettled: the failed batch and the row that flushed it");
	is_int(server_stop(&sv), 2, "two requests, the 403 not retried");
	server_free(&sv);
	ig_ndjson_close(&in);
	ig_bqm_free(m);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	fclose(fp);
	ig_http_free(h);
}

/* Both halves of a batch refused with its own message: the statement is at fault. */
static void
test_refused_alike(void)
{
	static const struct step steps[] = {
		{ 400, JSON_HDR, BAD_DATA },
		{ 400, JSON_HDR, BAD_DATA },
		{ 400, JSON_HDR, BAD_DATA },
	};
	static const char input[] =
	    ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1")
	    ROW("2", "2026-05-14T11:00:00Z", "a", "1", "1")
	    ROW("3", "2026-05-14T12:00:00Z", "a", "1", "1")
	    ROW("4", "2026-05-14T13:00:00Z", "a", "1", "1");
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c = { 0 };
	struct ig_bq bq;
	struct ig_bqm_opts o = { 0 };
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	struct ig_bqm *m;
	FILE *fp = text_file(input, strlen(input)), *rej = tmpfile();
	char root[64];

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", sv.port);
	c.project = strdup("p");
	c.dataset = strdup("d");
	c.table = strdup("t");
	c.location = strdup("US");
	c.root = strdup(root);
	c.anonymous = 1;
	ig_bq_open(&bq, h, &c, &e);
	o.reject = rej;
	m = ig_bqm_new(&bq, &o, &e);
	ig_ndjson_open_fp(&in, fp, "sales.ndjson", 0);
	ig_bqm_read(m, &in, &e);
	is_int(ig_bqm_flush(m, &e), -1, "every part refused alike stops the run");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG: the statement or the table");
	ok(has(e.text, "Bad double value"), "with BigQuery's message: %s", e.text);
	is_int(ig_bqm_summary(m)->rejected, 0, "no row is rejected for it");
	is_int(ig_bqm_unsettled(m), 4, "all four unsettled");
	is_int(ftell(rej), 0, "the reject file stays empty");
	is_int(server_stop(&sv), 3, "the batch and its two halves were tried");
	server_free(&sv);
	ig_ndjson_close(&in);
	ig_bqm_free(m);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	fclose(fp);
	fclose(rej);
	ig_http_free(h);
}

/* A reject file that cannot be written stops the run (IG_EX_IOERR). */
static void
test_reject_full(void)
{
	static const char input[] = "bad\n" ROW("1", "2026-05-14T10:00:00Z", "a", "1", "1");
	struct ig_bq bq;
	struct ig_bqm_opts o = { 0 };
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	FILE *fp = text_file(input, strlen(input)), *dry = tmpfile();
	FILE *full = fopen("/dev/full", "w");
	struct ig_bqm *m;

	if (full == NULL) {
		ok(1, "# SKIP no /dev/full");
		fclose(fp);
		fclose(dry);
		return;
	}
	memset(&bq, 0, sizeof(bq));
	bq.c = &cfg;
	o.dry = dry;
	o.reject = full;
	m = ig_bqm_new(&bq, &o, &e);
	ig_ndjson_open_fp(&in, fp, "input.ndjson", 0);
	is_int(ig_bqm_read(m, &in, &e), -1, "a full reject file stops the run");
	is_int(e.code, IG_EX_IOERR, "IG_EX_IOERR");
	ok(has(e.text, "reject"), "the message names the reject file: %s", e.text);
	ig_ndjson_close(&in);
	ig_bqm_free(m);
	fclose(fp);
	fclose(dry);
	fclose(full);
}

int
main(void)
{
	FILE *logfp = tmpfile();

	setenv("no_proxy", "*", 1);	/* the test server is local, never proxied */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ig_log_set_stream(logfp);	/* rejected rows are logged; keep them out of TAP */
	test_encoding();
	test_numbers();
	test_batches();
	test_collapse();
	test_batch_bytes();
	test_rejects();
	test_no_reject_stream();
	test_statement();
	test_summary();
	test_many_errors();
	test_bisect();
	test_failure();
	test_refused_alike();
	test_reject_full();
	ok(ftell(logfp) > 0, "rejected rows were logged");
	ig_log_reset();
	fclose(logfp);
	curl_global_cleanup();
	return done_testing();
}
