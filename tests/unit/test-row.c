/*
 * test-row.c: the sales-row contract of row.h: a row as ls-fetch writes
 * it passes with its fields borrowed, and each rule refuses a row with a
 * message naming the field at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "row.h"
#include "tap.h"

static const char good[] =
    "{\"sale_id\":\"1042\",\"timestamp\":\"2026-05-14T18:22:41+00:00\","
    "\"customer_id\":\"17\",\"product_id\":\"311\","
    "\"product_name\":\"Ceramic Mug 12oz\",\"quantity\":2,\"price\":42,"
    "\"payment_method\":\"Cash\"}";

static json_t *
parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);

	if (v == NULL) {
		printf("# bad test JSON: %s\n", je.text);
		exit(99);
	}
	return v;
}

/* The good row with key set to the JSON value, or removed when value is NULL. */
static json_t *
variant(const char *key, const char *value)
{
	json_t *rec = parse(good);

	if (value == NULL)
		json_object_del(rec, key);
	else
		json_object_set_new(rec, key, parse(value));
	return rec;
}

/* A string of n bytes of c, as a JSON string literal (new). */
static char *
long_string(size_t n, char c)
{
	char *s = malloc(n + 3);

	s[0] = '"';
	memset(s + 1, c, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

static void
test_good(void)
{
	json_t *rec = parse(good);
	struct ig_row r;
	char why[256] = "";

	memset(&r, 0, sizeof(r));
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "a valid row passes");
	is_str(why, "", "and leaves why alone");
	ok(r.sale_id == json_object_get(rec, "sale_id"), "sale_id is borrowed");
	ok(r.customer_id == json_object_get(rec, "customer_id"), "customer_id is borrowed");
	ok(r.product_id == json_object_get(rec, "product_id"), "product_id is borrowed");
	ok(r.product_name == json_object_get(rec, "product_name"), "product_name is borrowed");
	ok(r.payment_method == json_object_get(rec, "payment_method"),
	    "payment_method is borrowed");
	ok(r.quantity == json_object_get(rec, "quantity"), "quantity is borrowed");
	ok(r.price == json_object_get(rec, "price"), "price is borrowed");
	is_str(json_string_value(r.sale_id), "1042", "sale_id value");
	is_int(r.ts, INT64_C(1778782961) * IG_TS_SEC, "timestamp parsed");
	json_decref(rec);

	rec = parse("{\"payment_method\":null,\"price\":9.45,\"quantity\":0.682,"
	    "\"product_name\":null,\"product_id\":\"58\",\"customer_id\":\"0\","
	    "\"timestamp\":\"2026-05-14T18:22:41.5Z\",\"sale_id\":\"1042\"}");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0,
	    "keys in any order, null name and payment, real numbers: %s", why);
	ok(json_is_null(r.product_name), "product_name null is kept as null");
	ok(json_is_null(r.payment_method), "payment_method null is kept as null");
	is_int(r.ts, INT64_C(1778782961) * IG_TS_SEC + 500000, "fractional second");
	json_decref(rec);

	rec = variant("timestamp", "\"2026-05-14T20:22:41+02:00\"");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "an offset is accepted");
	is_int(r.ts, INT64_C(1778782961) * IG_TS_SEC, "and converted to UTC");
	json_decref(rec);
}

struct bad_case {
	const char	*key;
	const char	*value;		/* JSON; NULL removes the key */
	const char	*names;		/* what the message must hold */
	const char	*what;
};

static void
test_bad(void)
{
	static const struct bad_case cases[] = {
		{ "sale_id", NULL, "sale_id", "missing sale_id" },
		{ "timestamp", NULL, "timestamp", "missing timestamp" },
		{ "customer_id", NULL, "customer_id", "missing customer_id" },
		{ "product_id", NULL, "product_id", "missing product_id" },
		{ "product_name", NULL, "product_name", "missing product_name" },
		{ "quantity", NULL, "quantity", "missing quantity" },
		{ "price", NULL, "price", "missing price" },
		{ "payment_method", NULL, "payment_method", "missing payment_method" },
		{ "discount", "0", "discount", "unknown key" },
		{ "sale_id", "1042", "sale_id", "sale_id a number" },
		{ "sale_id", "null", "sale_id", "sale_id null" },
		{ "sale_id", "\"\"", "sale_id", "sale_id empty" },
		{ "sale_id", "\"10\\u000142\"", "sale_id", "sale_id with U+0001" },
		{ "sale_id", "\"1042\\n\"", "sale_id", "sale_id with a newline" },
		{ "sale_id", "\"10\\u007f\"", "sale_id", "sale_id with DEL" },
		{ "product_id", "\"\"", "product_id", "product_id empty" },
		{ "product_id", "[\"311\"]", "product_id", "product_id an array" },
		{ "customer_id", "17", "customer_id", "customer_id a number" },
		{ "customer_id", "\"\"", "customer_id", "customer_id empty" },
		{ "product_name", "3", "product_name", "product_name a number" },
		{ "product_name", "\"Mug\\ttea\"", "product_name", "product_name with a tab" },
		{ "payment_method", "false", "payment_method", "payment_method a boolean" },
		{ "quantity", "\"2\"", "quantity", "quantity a string" },
		{ "quantity", "null", "quantity", "quantity null" },
		{ "quantity", "1e20", "quantity", "quantity 1e20 out of range" },
		{ "quantity", "-1e20", "quantity", "quantity -1e20 out of range" },
		{ "price", "\"42\"", "price", "price a string" },
		{ "price", "true", "price", "price a boolean" },
		{ "price", "1e300", "price", "price 1e300 out of range" },
		{ "timestamp", "1778782961", "timestamp", "timestamp a number" },
		{ "timestamp", "\"yesterday\"", "timestamp", "timestamp unparsable" },
		{ "timestamp", "\"2026-05-14\"", "timestamp", "timestamp without a time" },
		{ "timestamp", "\"2026-02-30T00:00:00Z\"", "timestamp", "no such date" },
		{ "timestamp", "\"0000-12-31T23:59:59Z\"", "timestamp", "year 0000" },
		{ "timestamp", "\"10000-01-01T00:00:00Z\"", "timestamp", "year 10000" },
		{ "timestamp", "\"0001-01-01T00:30:00+01:00\"", "timestamp",
		    "year 0001 by offset, 0000 in UTC" },
	};
	struct ig_row r;
	char why[256];
	json_t *rec;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec = variant(cases[i].key, cases[i].value);
		why[0] = '\0';
		is_int(ig_row_check(rec, &r, why, sizeof(why)), -1, "%s is refused",
		    cases[i].what);
		ok(strstr(why, cases[i].names) != NULL, "the message names '%s': %s",
		    cases[i].names, why);
		json_decref(rec);
	}
}

static void
test_limits(void)
{
	struct ig_row r;
	char why[256], *s;
	json_t *rec;

	s = long_string(IG_ROW_ID_MAX, '7');
	rec = variant("sale_id", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "sale_id of 256 bytes passes");
	json_decref(rec);
	free(s);
	s = long_string(IG_ROW_ID_MAX + 1, '7');
	rec = variant("sale_id", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), -1, "sale_id of 257 bytes is refused");
	ok(strstr(why, "sale_id") != NULL && strstr(why, "256") != NULL,
	    "the message names the field and the limit: %s", why);
	json_decref(rec);
	free(s);
	s = long_string(IG_ROW_ID_MAX + 1, 'p');
	rec = variant("product_id", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), -1, "product_id of 257 bytes is refused");
	ok(strstr(why, "product_id") != NULL, "the message names product_id: %s", why);
	json_decref(rec);
	free(s);

	s = long_string(IG_ROW_TEXT_MAX, 'n');
	rec = variant("product_name", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0,
	    "product_name of 4096 bytes passes");
	json_decref(rec);
	free(s);
	s = long_string(IG_ROW_TEXT_MAX + 1, 'n');
	rec = variant("product_name", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), -1,
	    "product_name of 4097 bytes is refused");
	ok(strstr(why, "product_name") != NULL && strstr(why, "4096") != NULL,
	    "the message names the field and the limit: %s", why);
	json_decref(rec);
	free(s);
	s = long_string(IG_ROW_TEXT_MAX + 1, 'c');
	rec = variant("payment_method", s);
	is_int(ig_row_check(rec, &r, why, sizeof(why)), -1,
	    "payment_method of 4097 bytes is refused");
	ok(strstr(why, "payment_method") != NULL, "the message names payment_method: %s", why);
	json_decref(rec);
	free(s);

	rec = variant("product_name", "\"\"");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "an empty product_name passes");
	json_decref(rec);
	rec = variant("product_name", "\"Caf\\u00e9 \\u2615 \\\"Mug\\\"\"");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0,
	    "non-ASCII and quotes in product_name pass");
	json_decref(rec);
	rec = variant("quantity", "99999999999999999999e-1");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "quantity just under 1e20 passes");
	json_decref(rec);
	rec = variant("quantity", "-0.5");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "a negative quantity (a return) passes");
	json_decref(rec);
	rec = variant("timestamp", "\"0001-01-01T00:00:00Z\"");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "year 0001 is the first accepted");
	json_decref(rec);
	rec = variant("timestamp", "\"9999-12-31T23:59:59.999999Z\"");
	is_int(ig_row_check(rec, &r, why, sizeof(why)), 0, "9999-12-31 is the last accepted");
	json_decref(rec);
}

static void
test_not_object(void)
{
	static const char *const texts[] = { "[]", "\"row\"", "null", "42" };
	struct ig_row r;
	char why[256];
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = parse(texts[i]);
		why[0] = '\0';
		is_int(ig_row_check(v, &r, why, sizeof(why)), -1, "%s is not a row", texts[i]);
		ok(strstr(why, "object") != NULL, "the message says object: %s", why);
		json_decref(v);
	}
	why[0] = '\0';
	is_int(ig_row_check(NULL, &r, why, sizeof(why)), -1, "NULL is not a row");
	v = parse("{}");
	is_int(ig_row_check(v, &r, why, sizeof(why)), -1, "{} is refused");
	ok(strstr(why, "missing") != NULL, "as missing a key: %s", why);
	json_decref(v);
	is_int(ig_row_check(v = parse(good), &r, why, 8), 0, "a short why is fine on success");
	json_decref(v);
	v = variant("sale_id", NULL);
	memset(why, 'x', sizeof(why));
	is_int(ig_row_check(v, &r, why, 8), -1, "a refusal with a short why buffer");
	ok(why[7] == '\0' && why[8] == 'x', "the message is cut to the buffer");
	json_decref(v);
}

int
main(void)
{
	test_good();
	test_bad();
	test_limits();
	test_not_object();
	return done_testing();
}
