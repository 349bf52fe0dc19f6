/*
 * row.c: the row contract of row.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "row.h"

static const char *const keys[] = { "sale_id", "timestamp", "customer_id",
    "product_id", "product_name", "quantity", "price", "payment_method", NULL };

static int
bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string of 1 (or 0 when empty_ok) to max bytes without control characters. */
static int
text(const json_t *rec, const char *key, size_t max, int empty_ok, int null_ok,
    const json_t **out, char *why, size_t size)
{
	const json_t *v = json_object_get(rec, key);
	const char *s;
	size_t i, n;

	*out = v;
	if (json_is_null(v) && null_ok)
		return 0;
	if (!json_is_string(v))
		return bad(why, size, "'%s' must be a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 && !empty_ok)
		return bad(why, size, "'%s' must not be empty", key);
	if (n > max)
		return bad(why, size, "'%s' is longer than %zu bytes", key, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(why, size, "'%s' holds a control character", key);
	return 0;
}

static int
number(const json_t *rec, const char *key, double limit, const json_t **out,
    char *why, size_t size)
{
	const json_t *v = json_object_get(rec, key);
	double d;

	*out = v;
	if (!json_is_number(v))
		return bad(why, size, "'%s' must be a number", key);
	d = json_number_value(v);
	if (!isfinite(d) || fabs(d) >= limit)
		return bad(why, size, "'%s' is out of range", key);
	return 0;
}

int
ig_row_check(const json_t *rec, struct ig_row *r, char *why, size_t size)
{
	const char *key, *ts;
	struct ig_err e;
	json_t *v;
	int i, known;

	if (!json_is_object(rec))
		return bad(why, size, "a row must be a JSON object");
	json_object_foreach((json_t *)rec, key, v) {
		for (known = 0, i = 0; keys[i] != NULL && !known; i++)
			known = strcmp(key, keys[i]) == 0;
		if (!known)
			return bad(why, size, "unknown key '%.64s'", key);
	}
	for (i = 0; keys[i] != NULL; i++)
		if (json_object_get(rec, keys[i]) == NULL)
			return bad(why, size, "missing key '%s'", keys[i]);
	if (text(rec, "sale_id", IG_ROW_ID_MAX, 0, 0, &r->sale_id, why, size) == -1 ||
	    text(rec, "product_id", IG_ROW_ID_MAX, 0, 0, &r->product_id, why, size) == -1 ||
	    text(rec, "customer_id", IG_ROW_ID_MAX, 0, 0, &r->customer_id, why, size) == -1 ||
	    text(rec, "product_name", IG_ROW_TEXT_MAX, 1, 1, &r->product_name, why, size) == -1 ||
	    text(rec, "payment_method", IG_ROW_TEXT_MAX, 1, 1, &r->payment_method, why, size) == -1 ||
	    number(rec, "quantity", 1e20, &r->quantity, why, size) == -1 ||
	    number(rec, "price", 1e300, &r->price, why, size) == -1)
		return -1;
	if ((ts = json_string_value(json_object_get(rec, "timestamp"))) == NULL)
		return bad(why, size, "'timestamp' must be a string");
	if (ig_ts_parse(ts, 0, &r->ts, &e) == -1)
		return bad(why, size, "'timestamp': %s", e.text);
	/* BigQuery's TIMESTAMP range: years 0001 to 9999. */
	if (r->ts < INT64_C(-62135596800) * IG_TS_SEC ||
	    r->ts >= INT64_C(253402300800) * IG_TS_SEC)
		return bad(why, size, "'timestamp' is outside years 0001 to 9999");
	return 0;
}
