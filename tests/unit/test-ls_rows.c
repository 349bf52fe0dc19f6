/*
 * test-ls_rows.c: Lightspeed sales to ls-fetch rows (ls_rows.h): the
 * R-Series samples of docs/lightspeed-api.md section 7, the payload
 * quirks, and X-Series sales with a product-name lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ls_rows.h"
#include "tap.h"

/* Sample (a), one element of a "Sale" page, trimmed to the fields that matter. */
static const char sample_a[] =
    "{\"saleID\": \"1042\", \"timeStamp\": \"2026-05-14T18:22:41+00:00\","
    " \"completed\": \"true\", \"archived\": \"false\", \"voided\": \"false\","
    " \"createTime\": \"2026-05-14T18:20:03+00:00\","
    " \"completeTime\": \"2026-05-14T18:22:41+00:00\", \"calcTotal\": \"51.45\","
    " \"customerID\": \"17\", \"employeeID\": \"3\", \"shopID\": \"1\","
    " \"SaleLines\": {\"SaleLine\": ["
    "  {\"saleLineID\": \"2071\", \"unitQuantity\": \"2\", \"unitPrice\": \"20\","
    "   \"calcTotal\": \"42\", \"calcSubtotal\": \"40\", \"itemID\": \"311\","
    "   \"saleID\": \"1042\", \"Item\": {\"itemID\": \"311\","
    "   \"description\": \"Ceramic Mug 12oz\", \"customSku\": \"MUG-12\"}},"
    "  {\"saleLineID\": \"2072\", \"unitQuantity\": \"1\", \"unitPrice\": \"12\","
    "   \"calcTotal\": \"9.45\", \"calcSubtotal\": \"12\", \"itemID\": \"58\","
    "   \"saleID\": \"1042\", \"Item\": {\"itemID\": \"58\","
    "   \"description\": \"Pour-over Coffee Filters (100)\","
    "   \"customSku\": \"FLT-100\"}}"
    " ]},"
    " \"SalePayments\": {\"SalePayment\": {"
    "  \"salePaymentID\": \"1530\", \"amount\": \"51.45\", \"archived\": \"false\","
    "  \"paymentTypeID\": \"1\", \"PaymentType\": {\"paymentTypeID\": \"1\","
    "  \"name\": \"Cash\", \"type\": \"cash\", \"archived\": \"false\"}}}}";

/* Sample (b), a response matching one sale: "Sale" and "SaleLine" are objects. */
static const char sample_b[] =
    "{\"@attributes\": {\"next\": \"\", \"previous\": \"\"},"
    " \"Sale\": {\"saleID\": \"1043\", \"timeStamp\": \"2026-05-14T18:40:05+00:00\","
    "  \"completed\": \"true\", \"archived\": \"false\", \"voided\": \"false\","
    "  \"completeTime\": \"2026-05-14T18:40:05+00:00\", \"calcTotal\": \"10.5\","
    "  \"customerID\": \"0\","
    "  \"SaleLines\": {\"SaleLine\": {\"saleLineID\": \"2073\","
    "   \"unitQuantity\": \"1\", \"unitPrice\": \"10\", \"calcTotal\": \"10.5\","
    "   \"itemID\": \"77\","
    "   \"saleID\": \"1043\", \"Item\": {\"itemID\": \"77\","
    "   \"description\": \"Tote Bag\","
    "   \"customSku\": \"TOTE-1\"}}},"
    "  \"SalePayments\": {\"SalePayment\": {\"salePaymentID\": \"1531\","
    "   \"amount\": \"10.5\", \"archived\": \"false\", \"paymentTypeID\": \"12\","
    "   \"PaymentType\": {\"paymentTypeID\": \"12\", \"name\": \"Debit\","
    "   \"type\": \"user defined\"}}}}}";

/* Building blocks for the quirks. */
#define LINE(id, item, qty, total, desc)					\
	"{\"saleLineID\":\"" id "\",\"itemID\":\"" item "\",\"unitQuantity\":\"" \
	qty "\",\"calcTotal\":\"" total "\",\"Item\":{\"description\":\"" desc "\"}}"
#define MISC(id, qty, total)						\
	"{\"saleLineID\":\"" id "\",\"itemID\":\"0\",\"unitQuantity\":\"" qty	\
	"\",\"calcTotal\":\"" total "\"}"
#define PAY(name, archived)						\
	"{\"archived\":\"" archived "\",\"PaymentType\":{\"name\":\"" name "\"}}"
#define LINES(l)	"{\"SaleLine\":[" l "]}"	/* join lines with "," */
#define PAYS(p)		"{\"SalePayment\":[" p "]}"
#define ONE_LINE	LINES(LINE("1", "311", "1", "21", "Ceramic Mug 12oz"))
#define CASH		PAYS(PAY("Cash", "false"))

static json_t *
parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, 0, &je);

	if (v == NULL) {
		printf("# bad test JSON: %s\n", je.text);
		exit(99);
	}
	return v;
}

/* A completed R-Series sale 9001 with relations; fields (",k:v") override. */
static json_t *
rsale(const char *fields, const char *lines, const char *pays)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "{\"saleID\":\"9001\",\"completed\":\"true\",\"voided\":\"false\","
	    "\"archived\":\"false\",\"completeTime\":\"2026-05-15T09:00:00+00:00\","
	    "\"customerID\":\"0\",\"SaleLines\":%s,\"SalePayments\":%s%s}",
	    lines, pays, fields);
	return parse(text);
}

/* Maps sale and, when kept, writes its rows into *rows (free it). */
static enum ig_ls_verdict
map_r(json_t *sale, struct ig_ls_sale *s, char *why, size_t whysize, char **rows)
{
	enum ig_ls_verdict v;
	size_t len;
	FILE *fp;

	*rows = NULL;
	why[0] = '\0';
	v = ig_ls_rows_r(sale, s, why, whysize);
	fp = open_memstream(rows, &len);
	if (v == IG_LS_KEEP && ig_ls_sale_write(s, fp) == -1)
		printf("# ig_ls_sale_write failed\n");
	fclose(fp);
	json_decref(sale);
	return v;
}

static void
test_samples(void)
{
	struct ig_ls_sale s;
	char why[256], *rows;
	json_t *doc;
	ig_ts want;

	is_int(map_r(parse(sample_a), &s, why, sizeof(why), &rows), IG_LS_KEEP,
	    "sample (a) is kept");
	is_int(s.nrows, 2, "two rows, one per item");
	is_str(s.sale_id, "1042", "sale id");
	is_str(s.customer_id, "17", "customer id");
	is_str(s.payment_method, "Cash", "payment from a single SalePayment object");
	ig_ts_parse("2026-05-14T18:22:41Z", 0, &want, NULL);
	is_int(s.ts, want, "completeTime");
	is_str(rows,
	    "{\"sale_id\":\"1042\",\"timestamp\":\"2026-05-14T18:22:41Z\","
	    "\"customer_id\":\"17\",\"product_id\":\"311\","
	    "\"product_name\":\"Ceramic Mug 12oz\",\"quantity\":2,\"price\":42,"
	    "\"payment_method\":\"Cash\"}\n"
	    "{\"sale_id\":\"1042\",\"timestamp\":\"2026-05-14T18:22:41Z\","
	    "\"customer_id\":\"17\",\"product_id\":\"58\","
	    "\"product_name\":\"Pour-over Coffee Filters (100)\",\"quantity\":1,"
	    "\"price\":9.45,\"payment_method\":\"Cash\"}\n",
	    "sample (a) rows");
	free(rows);
	ig_ls_sale_release(&s);
	ok(s.rows == NULL && s.sale_id == NULL && s.nrows == 0, "release clears");

	doc = parse(sample_b);
	is_str(ig_ls_sale_id_r(json_object_get(doc, "Sale")), "1043",
	    "ig_ls_sale_id_r");
	is_int(map_r(json_incref(json_object_get(doc, "Sale")), &s, why,
	    sizeof(why), &rows), IG_LS_KEEP, "sample (b) is kept");
	json_decref(doc);
	is_str(rows,
	    "{\"sale_id\":\"1043\",\"timestamp\":\"2026-05-14T18:40:05Z\","
	    "\"customer_id\":\"anonymous\",\"product_id\":\"77\","
	    "\"product_name\":\"Tote Bag\",\"quantity\":1,\"price\":10.5,"
	    "\"payment_method\":\"Debit\"}\n",
	    "sample (b): one row, customer \"0\" is anonymous, Debit");
	free(rows);
	ig_ls_sale_release(&s);
}

/* Expects sale to be skipped or bad, with why containing want. */
static void
not_kept(json_t *sale, enum ig_ls_verdict want_v, const char *want_why,
    const char *what)
{
	struct ig_ls_sale s;
	char why[256], *rows;

	is_int(map_r(sale, &s, why, sizeof(why), &rows), want_v, "%s: %s", what,
	    want_v == IG_LS_SKIP ? "skipped" : "bad");
	if (!ok(strstr(why, want_why) != NULL, "%s: why says '%s'", what, want_why))
		printf("#   why: %s\n", why);
	ok(s.nrows == 0 && s.rows == NULL && s.sale_id == NULL,
	    "%s: nothing left to release", what);
	free(rows);
}

/* Maps sale, expecting it kept; returns its rows as text (free it). */
static char *
kept(json_t *sale, struct ig_ls_sale *s, const char *what)
{
	char why[256], *rows;

	if (!ok(map_r(sale, s, why, sizeof(why), &rows) == IG_LS_KEEP, "%s: kept",
	    what))
		printf("#   why: %s\n", why);
	return rows;
}

static void
test_r_quirks(void)
{
	struct ig_ls_sale s;
	char *rows;

	not_kept(rsale("", "\"\"", CASH), IG_LS_SKIP, "no sale lines",
	    "SaleLines \"\"");
	not_kept(rsale("", "{\"SaleLine\":[]}", CASH), IG_LS_SKIP, "no sale lines",
	    "empty SaleLine array");
	not_kept(rsale(",\"voided\":\"true\"", ONE_LINE, CASH), IG_LS_SKIP, "voided",
	    "voided sale");
	not_kept(rsale(",\"archived\":\"true\"", ONE_LINE, CASH), IG_LS_SKIP,
	    "archived", "archived sale");
	not_kept(rsale(",\"completed\":\"false\"", ONE_LINE, CASH), IG_LS_SKIP,
	    "not completed", "completed \"false\"");
	not_kept(rsale(",\"saleID\":\"\"", ONE_LINE, CASH), IG_LS_BAD, "saleID",
	    "sale without saleID");
	not_kept(rsale(",\"completeTime\":\"yesterday\"", ONE_LINE, CASH), IG_LS_BAD,
	    "invalid time", "bad completeTime");
	not_kept(rsale("", LINES(LINE("77", "311", "two", "21", "Mug")), CASH),
	    IG_LS_BAD, "line 77", "non-numeric unitQuantity");
	not_kept(rsale("", LINES(LINE("1", "311", "1", "21", "Mug") ","
	    LINE("78", "58", "1", "", "Filters")), CASH), IG_LS_BAD, "line 78",
	    "empty calcTotal after a good line");
	not_kept(parse("[]"), IG_LS_BAD, "saleID", "not an object");

	rows = kept(rsale(",\"completeTime\":\"\","
	    "\"timeStamp\":\"2026-05-15T10:00:00-02:00\"", ONE_LINE, CASH), &s,
	    "no completeTime");
	ok(strstr(rows, "\"timestamp\":\"2026-05-15T12:00:00Z\"") != NULL,
	    "timeStamp used instead, in UTC");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale("", LINES(LINE("1", "311", "2", "42", "Mug") ","
	    LINE("2", "311", "1", "21", "Mug")), CASH), &s,
	    "two lines, one item");
	is_int(s.nrows, 1, "lines of one item combine");
	ok(strstr(rows, "\"product_id\":\"311\",\"product_name\":\"Mug\","
	    "\"quantity\":3,\"price\":63") != NULL, "quantity and price summed");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale("", LINES(MISC("1", "1", "5") "," MISC("2", "2", "5.5") ","
	    LINE("3", "77", "1", "10.5", "Tote Bag")), CASH), &s, "item-less lines");
	is_int(s.nrows, 2, "two item-less lines make one row");
	ok(strstr(rows, "\"product_id\":\"unknown\","
	    "\"product_name\":\"Unknown Product\",\"quantity\":3,\"price\":10.5")
	    != NULL, "the unknown row");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale("", LINES(LINE("1", "311", "-1", "-21", "Mug") ","
	    LINE("2", "58", "1", "12.6", "Filters")), "\"\""), &s, "refund line");
	ok(strstr(rows, "\"quantity\":-1,\"price\":-21") != NULL,
	    "negative quantity kept");
	is_str(s.payment_method, "unknown", "SalePayments \"\" is unknown");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale("", ONE_LINE,
	    PAYS(PAY("Cash", "true") "," PAY("Debit", "false"))), &s,
	    "archived first payment");
	is_str(s.payment_method, "Debit", "an archived payment is passed over");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale("", ONE_LINE, PAYS(PAY("Cash", "true"))), &s,
	    "only an archived payment");
	is_str(s.payment_method, "unknown", "only archived payments: unknown");
	free(rows);
	ig_ls_sale_release(&s);

	rows = kept(rsale(",\"customerID\":\"55\"", LINES(
	    LINE("1", "901", "0.1", "1.1", "Beans (kg)") ","
	    LINE("2", "901", "0.2", "2.2", "Beans (kg)")), CASH), &s,
	    "fractional quantities");
	ok(strstr(rows, "\"quantity\":0.3,\"price\":3.3,") != NULL,
	    "0.1 + 0.2 prints as 0.3, 1.1 + 2.2 as 3.3");
	is_str(s.customer_id, "55", "customer id kept");
	free(rows);
	ig_ls_sale_release(&s);

	/* A relation holding one line as an object, numbers as JSON numbers. */
	rows = kept(rsale("", "{\"SaleLine\":{\"itemID\":\"5\",\"unitQuantity\":4,"
	    "\"calcTotal\":8.5,\"Item\":\"\"}}", CASH), &s, "single line object");
	ok(strstr(rows, "\"product_id\":\"5\",\"product_name\":\"Unknown Product\","
	    "\"quantity\":4,\"price\":8.5") != NULL,
	    "one line as an object, numbers as numbers, Item \"\"");
	free(rows);
	ig_ls_sale_release(&s);
}

static void
test_helpers(void)
{
	json_t *v, *o, *l;
	double d = -1;
	char *text;

	v = ig_ls_number(2.0);
	ok(json_is_integer(v) && json_integer_value(v) == 2, "2.0 is the integer 2");
	json_decref(v);
	v = ig_ls_number(-21);
	ok(json_is_integer(v) && json_integer_value(v) == -21, "-21 is an integer");
	json_decref(v);
	v = ig_ls_number(0.1 + 0.2);
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	ok(json_is_real(v), "0.1 + 0.2 stays a real");
	is_str(text, "0.3", "0.1 + 0.2 is 0.3");
	free(text);
	json_decref(v);
	v = ig_ls_number(1.25);
	ok(json_is_real(v) && json_real_value(v) == 1.25, "1.25 is a real");
	json_decref(v);

	v = json_string("2.5");
	ok(ig_ls_num(v, &d) == 0 && d == 2.5, "ig_ls_num of \"2.5\"");
	json_decref(v);
	v = json_integer(3);
	ok(ig_ls_num(v, &d) == 0 && d == 3, "ig_ls_num of 3");
	json_decref(v);
	v = json_real(-0.5);
	ok(ig_ls_num(v, &d) == 0 && d == -0.5, "ig_ls_num of -0.5");
	json_decref(v);
	d = 7;
	v = json_string("");
	ok(ig_ls_num(v, &d) == -1 && d == 7, "ig_ls_num of \"\" fails");
	json_decref(v);
	v = json_string("2 units");
	ok(ig_ls_num(v, &d) == -1, "ig_ls_num of \"2 units\" fails");
	json_decref(v);
	v = json_string("1e999");
	ok(ig_ls_num(v, &d) == -1, "ig_ls_num of an overflow fails");
	json_decref(v);
	v = json_string("nan");
	ok(ig_ls_num(v, &d) == -1, "ig_ls_num of nan fails");
	json_decref(v);
	ok(ig_ls_num(json_true(), &d) == -1, "ig_ls_num of true fails");
	ok(ig_ls_num(NULL, &d) == -1, "ig_ls_num of nothing fails");

	o = parse("{\"a\":[1,2],\"o\":{\"x\":1},\"e\":\"\"}");
	l = ig_ls_list(o, "a");
	ok(json_array_size(l) == 2 && l == json_object_get(o, "a"),
	    "ig_ls_list of an array is the array");
	json_decref(l);
	l = ig_ls_list(o, "o");
	ok(json_array_size(l) == 1 && json_array_get(l, 0) == json_object_get(o, "o"),
	    "ig_ls_list of an object wraps it");
	json_decref(l);
	l = ig_ls_list(o, "e");
	ok(json_is_array(l) && json_array_size(l) == 0,
	    "ig_ls_list of \"\" is empty");
	json_decref(l);
	l = ig_ls_list(o, "missing");
	ok(json_is_array(l) && json_array_size(l) == 0,
	    "ig_ls_list of nothing is empty");
	json_decref(l);
	json_decref(o);
	o = parse("{}");
	is_str(ig_ls_sale_id_r(o), "?", "ig_ls_sale_id_r without an id");
	json_decref(o);
}

/* X-Series: the product-name lookup stub. */
struct names {
	int	calls;
};

static int
names(void *ctx, const char *pid, const char **name, struct ig_err *e)
{
	struct names *n = ctx;

	n->calls++;
	if (strcmp(pid, "p-err") == 0)
		return ig_err_set(e, IG_EX_TEMPFAIL, "products: HTTP 503");
	*name = strcmp(pid, "p-1") == 0 ? "Widget" : NULL;
	return 0;
}

static const char xsale[] =
    "{\"id\":\"0a6f3a8e-1\",\"sale_date\":\"2026-05-14T18:22:41+00:00\","
    "\"status\":\"CLOSED\",\"state\":\"closed\",\"customer_id\":\"c-1\","
    "\"deleted_at\":null,\"line_items\":["
    "{\"id\":\"l1\",\"product_id\":\"p-1\",\"quantity\":2,\"total_price\":10,"
    "\"total_tax\":1.5,\"status\":\"CONFIRMED\"},"
    "{\"id\":\"l2\",\"product_id\":\"p-2\",\"quantity\":\"1\",\"total_price\":\"5\"},"
    "{\"id\":\"l3\",\"product_id\":null,\"quantity\":1,\"total_price\":3,"
    "\"total_tax\":0},"
    "{\"id\":\"l4\",\"product_id\":\"p-1\",\"quantity\":9,\"total_price\":90,"
    "\"status\":\"VOIDED\"},"
    "{\"id\":\"l5\",\"product_id\":\"p-1\",\"quantity\":1,\"total_price\":5,"
    "\"total_tax\":0.75}],"
    "\"payments\":[{\"name\":\"Cash\",\"deleted_at\":\"2026-05-14T18:30:00+00:00\"},"
    "{\"name\":\"Card\",\"deleted_at\":null}]}";

/* Maps an X-Series sale after replacing fields with those of patch. */
static int
map_x(const char *patch, struct ig_ls_sale *s, enum ig_ls_verdict *v,
    char *why, size_t whysize, struct names *n, struct ig_err *e)
{
	json_t *sale = parse(xsale);
	int r;

	if (patch != NULL) {
		json_t *p = parse(patch);

		json_object_update(sale, p);
		json_decref(p);
	}
	why[0] = '\0';
	r = ig_ls_rows_x(sale, names, n, s, why, whysize, v, e);
	json_decref(sale);
	return r;
}

static void
test_x(void)
{
	struct ig_ls_sale s;
	struct ig_err e = IG_ERR_INIT;
	struct names n = { 0 };
	enum ig_ls_verdict v;
	char why[256], *rows;
	size_t len;
	FILE *fp;

	is_int(map_x(NULL, &s, &v, why, sizeof(why), &n, &e), 0, "X sale maps");
	is_int(v, IG_LS_KEEP, "X sale kept");
	is_int(s.nrows, 3, "three rows: p-1, p-2, unknown");
	is_int(s.lines_skipped, 1, "the VOIDED line is counted");
	is_int(n.calls, 3, "names asked for each line with a product id");
	is_str(s.customer_id, "c-1", "customer_id");
	is_str(s.payment_method, "Card", "a deleted payment is passed over");
	fp = open_memstream(&rows, &len);
	is_int(ig_ls_sale_write(&s, fp), 0, "write X rows");
	fclose(fp);
	is_str(rows,
	    "{\"sale_id\":\"0a6f3a8e-1\",\"timestamp\":\"2026-05-14T18:22:41Z\","
	    "\"customer_id\":\"c-1\",\"product_id\":\"p-1\","
	    "\"product_name\":\"Widget\","
	    "\"quantity\":3,\"price\":17.25,\"payment_method\":\"Card\"}\n"
	    "{\"sale_id\":\"0a6f3a8e-1\",\"timestamp\":\"2026-05-14T18:22:41Z\","
	    "\"customer_id\":\"c-1\",\"product_id\":\"p-2\","
	    "\"product_name\":\"Unknown Product\",\"quantity\":1,\"price\":5,"
	    "\"payment_method\":\"Card\"}\n"
	    "{\"sale_id\":\"0a6f3a8e-1\",\"timestamp\":\"2026-05-14T18:22:41Z\","
	    "\"customer_id\":\"c-1\",\"product_id\":\"unknown\","
	    "\"product_name\":\"Unknown Product\",\"quantity\":1,\"price\":3,"
	    "\"payment_method\":\"Card\"}\n",
	    "X rows: price with tax, VOIDED line left out, lines combined");
	free(rows);
	ig_ls_sale_release(&s);

	is_int(map_x("{\"status\":\"VOIDED\"}", &s, &v, why, sizeof(why), &n, &e), 0,
	    "VOIDED sale maps");
	ok(v == IG_LS_SKIP && strcmp(why, "VOIDED") == 0, "VOIDED: skipped");
	is_int(map_x("{\"status\":\"SAVED\"}", &s, &v, why, sizeof(why), &n, &e), 0,
	    "SAVED sale maps");
	ok(v == IG_LS_SKIP && strcmp(why, "SAVED") == 0, "SAVED: skipped");
	map_x("{\"state\":\"parked\"}", &s, &v, why, sizeof(why), &n, &e);
	ok(v == IG_LS_SKIP && strcmp(why, "parked") == 0, "parked: skipped");
	map_x("{\"deleted_at\":\"2026-05-15T00:00:00+00:00\"}", &s, &v, why,
	    sizeof(why), &n, &e);
	ok(v == IG_LS_SKIP && strcmp(why, "deleted") == 0, "deleted sale: skipped");
	ok(s.sale_id == NULL && s.nrows == 0, "nothing to release after a skip");

	map_x("{\"customer_id\":null,\"payments\":[]}", &s, &v, why, sizeof(why),
	    &n, &e);
	ok(v == IG_LS_KEEP && strcmp(s.customer_id, "anonymous") == 0 &&
	    strcmp(s.payment_method, "unknown") == 0,
	    "null customer: anonymous; no payments: unknown");
	ig_ls_sale_release(&s);

	map_x("{\"line_items\":[{\"id\":\"v\",\"product_id\":\"p-1\",\"quantity\":1,"
	    "\"total_price\":1,\"status\":\"VOIDED\"}]}", &s, &v, why, sizeof(why),
	    &n, &e);
	ok(v == IG_LS_SKIP && strstr(why, "no sale lines") != NULL,
	    "only VOIDED lines: skipped");

	map_x("{\"line_items\":[{\"id\":\"q\",\"product_id\":\"p-1\","
	    "\"quantity\":\"x\",\"total_price\":1}]}", &s, &v, why, sizeof(why),
	    &n, &e);
	ok(v == IG_LS_BAD && strstr(why, "line q") != NULL, "bad quantity: bad (%s)",
	    why);
	ok(s.sale_id == NULL, "nothing to release after a bad sale");

	map_x("{\"sale_date\":\"2026-05-14\"}", &s, &v, why, sizeof(why), &n, &e);
	ok(v == IG_LS_BAD && strstr(why, "invalid time") != NULL,
	    "bare sale_date: bad");
	map_x("{\"id\":null}", &s, &v, why, sizeof(why), &n, &e);
	ok(v == IG_LS_BAD && strstr(why, "without id") != NULL, "no id: bad");

	ig_err_clear(&e);
	is_int(map_x("{\"line_items\":[{\"id\":\"a\",\"product_id\":\"p-1\","
	    "\"quantity\":1,\"total_price\":1},"
	    "{\"id\":\"b\",\"product_id\":\"p-err\",\"quantity\":1,"
	    "\"total_price\":1}]}", &s, &v, why, sizeof(why), &n, &e),
	    -1, "a failing name lookup fails the sale");
	is_int(e.code, IG_EX_TEMPFAIL, "with the lookup's error");
	is_str(e.text, "products: HTTP 503", "and its message");
	ok(s.sale_id == NULL && s.rows == NULL, "nothing to release after -1");
}

int
main(void)
{
	test_samples();
	test_r_quirks();
	test_helpers();
	test_x();
	return done_testing();
}
