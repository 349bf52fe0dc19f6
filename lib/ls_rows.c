/*
 * ls_rows.c: the mapping of ls_rows.h.  Every R-Series scalar arrives as a
 * string, a relation with one element as an object and an empty one as "",
 * so all reads go through ig_ls_list() and ig_ls_num().
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ls_rows.h"
#include "ndjson.h"

json_t *
ig_ls_list(const json_t *container, const char *key)
{
	json_t *v = json_object_get(container, key), *a;

	if (json_is_array(v))
		return json_incref(v);
	a = json_array();
	if (json_is_object(v))
		json_array_append(a, v);
	return a;
}

int
ig_ls_num(const json_t *v, double *out)
{
	const char *s;
	char *end;
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if ((s = json_string_value(v)) != NULL && *s != '\0') {
		errno = 0;
		d = strtod(s, &end);
		if (*end != '\0' || errno == ERANGE)
			return -1;
	} else
		return -1;
	if (!isfinite(d))
		return -1;
	*out = d;
	return 0;
}

json_t *
ig_ls_number(double v)
{
	double r = round(v);

	if (fabs(v - r) < 1e-9 && fabs(r) < 9007199254740992.0)
		return json_integer((json_int_t)r);
	/* Sums of decimal amounts: drop binary noise beyond 9 decimals. */
	return json_real(round(v * 1e9) / 1e9);
}

/* A string field, or NULL when absent, empty or not a string. */
static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && *s != '\0' ? s : NULL;
}

static int
truthy(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_true(v) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "true") == 0);
}

static int
verdict(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return 0;
}

static int
add_line(struct ig_ls_sale *s, const char *pid, const char *name, double qty,
    double price)
{
	struct ig_ls_row *r, *nr;
	size_t i;

	if (pid == NULL)
		pid = "unknown";
	for (i = 0; i < s->nrows; i++) {
		r = &s->rows[i];
		if (strcmp(r->product_id, pid) != 0)
			continue;
		r->quantity += qty;
		r->price += price;
		if (strcmp(r->product_name, "Unknown Product") == 0 && name != NULL) {
			char *n = strdup(name);
			if (n == NULL)
				return -1;
			free(r->product_name);
			r->product_name = n;
		}
		return 0;
	}
	if ((nr = realloc(s->rows, (s->nrows + 1) * sizeof(*nr))) == NULL)
		return -1;
	s->rows = nr;
	r = &s->rows[s->nrows];
	r->product_id = strdup(pid);
	r->product_name = strdup(name != NULL ? name : "Unknown Product");
	r->quantity = qty;
	r->price = price;
	s->nrows++;
	if (r->product_id == NULL || r->product_name == NULL)
		return -1;
	return 0;
}

static int
set_head(struct ig_ls_sale *s, const char *id, ig_ts ts, const char *cust,
    const char *pay)
{
	s->sale_id = strdup(id);
	s->ts = ts;
	s->customer_id = strdup(cust != NULL ? cust : "anonymous");
	s->payment_method = strdup(pay != NULL ? pay : "unknown");
	return s->sale_id && s->customer_id && s->payment_method ? 0 : -1;
}

const char *
ig_ls_sale_id_r(const json_t *sale)
{
	const char *id = str(sale, "saleID");

	return id != NULL ? id : "?";
}

/* The name of the first payment that is not archived, or NULL. */
static const char *
r_payment(const json_t *sale)
{
	json_t *pays = ig_ls_list(json_object_get(sale, "SalePayments"),
	    "SalePayment"), *p;
	const char *name = NULL;
	size_t i;

	json_array_foreach(pays, i, p) {
		if (truthy(p, "archived"))
			continue;
		name = str(json_object_get(p, "PaymentType"), "name");
		if (name != NULL)
			break;
	}
	json_decref(pays);
	return name;
}

enum ig_ls_verdict
ig_ls_rows_r(const json_t *sale, struct ig_ls_sale *s, char *why, size_t size)
{
	const char *id, *when, *cust, *item;
	json_t *lines, *l;
	struct ig_err e;
	double qty, total;
	ig_ts ts;
	size_t i;
	enum ig_ls_verdict v = IG_LS_BAD;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(sale) || (id = str(sale, "saleID")) == NULL)
		return verdict(why, size, "sale without saleID"), IG_LS_BAD;
	if (truthy(sale, "voided"))
		return verdict(why, size, "voided"), IG_LS_SKIP;
	if (truthy(sale, "archived"))
		return verdict(why, size, "archived"), IG_LS_SKIP;
	if (!truthy(sale, "completed"))
		return verdict(why, size, "not completed"), IG_LS_SKIP;
	if ((when = str(sale, "completeTime")) == NULL &&
	    (when = str(sale, "timeStamp")) == NULL)
		return verdict(why, size, "no completeTime"), IG_LS_BAD;
	if (ig_ts_parse(when, 0, &ts, &e) == -1)
		return verdict(why, size, "%s", e.text), IG_LS_BAD;
	cust = str(sale, "customerID");
	if (cust != NULL && strcmp(cust, "0") == 0)
		cust = NULL;
	if (set_head(s, id, ts, cust, r_payment(sale)) == -1)
		return verdict(why, size, "out of memory"), IG_LS_BAD;
	lines = ig_ls_list(json_object_get(sale, "SaleLines"), "SaleLine");
	json_array_foreach(lines, i, l) {
		if (ig_ls_num(json_object_get(l, "unitQuantity"), &qty) == -1 ||
		    ig_ls_num(json_object_get(l, "calcTotal"), &total) == -1) {
			verdict(why, size, "line %s: unitQuantity or calcTotal is not a number",
			    str(l, "saleLineID") ? str(l, "saleLineID") : "?");
			goto out;
		}
		item = str(l, "itemID");
		if (item != NULL && strcmp(item, "0") == 0)
			item = NULL;
		if (add_line(s, item, str(json_object_get(l, "Item"),
		    "description"), qty, total) == -1) {
			verdict(why, size, "out of memory");
			goto out;
		}
	}
	if (s->nrows == 0) {
		verdict(why, size, "no sale lines");
		v = IG_LS_SKIP;
		goto out;
	}
	v = IG_LS_KEEP;
out:
	json_decref(lines);
	if (v != IG_LS_KEEP)
		ig_ls_sale_release(s);
	return v;
}

static const char *
x_payment(const json_t *sale)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(sale, "payments"), i, p) {
		if (json_object_get(p, "deleted_at") != NULL &&
		    !json_is_null(json_object_get(p, "deleted_at")))
			continue;
		if (str(p, "name") != NULL)
			return str(p, "name");
	}
	return NULL;
}

static const char *
x_skip(const json_t *sale)
{
	static const char *skip_status[] = { "VOIDED", "SAVED", "LAYBY", NULL };
	static const char *skip_state[] = { "voided", "parked", "pending", NULL };
	const char *st;
	int i;

	if (str(sale, "deleted_at") != NULL)
		return "deleted";
	if ((st = str(sale, "status")) != NULL)
		for (i = 0; skip_status[i] != NULL; i++)
			if (strcmp(st, skip_status[i]) == 0)
				return skip_status[i];
	if ((st = str(sale, "state")) != NULL)
		for (i = 0; skip_state[i] != NULL; i++)
			if (strcmp(st, skip_state[i]) == 0)
				return skip_state[i];
	return NULL;
}

int
ig_ls_rows_x(const json_t *sale, ig_ls_name_fn names, void *ctx,
    struct ig_ls_sale *s, char *why, size_t size, enum ig_ls_verdict *v,
    struct ig_err *e)
{
	const char *id, *when, *skip, *pid, *name;
	struct ig_err pe;
	json_t *l;
	double qty, total, tax;
	ig_ts ts;
	size_t i;

	memset(s, 0, sizeof(*s));
	*v = IG_LS_BAD;
	if (!json_is_object(sale) || (id = str(sale, "id")) == NULL)
		return verdict(why, size, "sale without id");
	if ((skip = x_skip(sale)) != NULL) {
		*v = IG_LS_SKIP;
		return verdict(why, size, "%s", skip);
	}
	if ((when = str(sale, "sale_date")) == NULL)
		return verdict(why, size, "no sale_date");
	if (ig_ts_parse(when, 0, &ts, &pe) == -1)
		return verdict(why, size, "%s", pe.text);
	if (set_head(s, id, ts, str(sale, "customer_id"), x_payment(sale)) == -1)
		return verdict(why, size, "out of memory");
	json_array_foreach(json_object_get(sale, "line_items"), i, l) {
		if (str(l, "status") != NULL && strcmp(str(l, "status"), "VOIDED") == 0) {
			s->lines_skipped++;
			continue;
		}
		if (ig_ls_num(json_object_get(l, "quantity"), &qty) == -1 ||
		    ig_ls_num(json_object_get(l, "total_price"), &total) == -1) {
			verdict(why, size, "line %s: quantity or total_price is not a number",
			    str(l, "id") ? str(l, "id") : "?");
			goto bad;
		}
		if (ig_ls_num(json_object_get(l, "total_tax"), &tax) == -1)
			tax = 0;
		pid = str(l, "product_id");
		name = NULL;
		if (pid != NULL && names(ctx, pid, &name, e) == -1) {
			ig_ls_sale_release(s);
			return -1;
		}
		if (add_line(s, pid, name, qty, total + tax) == -1) {
			verdict(why, size, "out of memory");
			goto bad;
		}
	}
	if (s->nrows == 0) {
		*v = IG_LS_SKIP;
		verdict(why, size, "no sale lines");
		ig_ls_sale_release(s);
		return 0;
	}
	*v = IG_LS_KEEP;
	return 0;
bad:
	ig_ls_sale_release(s);
	return 0;
}

int
ig_ls_sale_write(const struct ig_ls_sale *s, FILE *out)
{
	char ts[IG_TS_LEN];
	json_t *row;
	size_t i;
	int r = 0;

	ig_ts_format(s->ts, -1, ts);
	for (i = 0; i < s->nrows && r == 0; i++) {
		row = json_pack("{ss ss ss ss ss so so ss}",
		    "sale_id", s->sale_id, "timestamp", ts,
		    "customer_id", s->customer_id,
		    "product_id", s->rows[i].product_id,
		    "product_name", s->rows[i].product_name,
		    "quantity", ig_ls_number(s->rows[i].quantity),
		    "price", ig_ls_number(s->rows[i].price),
		    "payment_method", s->payment_method);
		if (row == NULL) {
			errno = EINVAL;	/* invalid UTF-8 in a field */
			return -1;
		}
		r = ig_ndjson_put(out, row, 0);
		json_decref(row);
	}
	return r;
}

void
ig_ls_sale_release(struct ig_ls_sale *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++) {
		free(s->rows[i].product_id);
		free(s->rows[i].product_name);
	}
	free(s->rows);
	free(s->sale_id);
	free(s->customer_id);
	free(s->payment_method);
	memset(s, 0, sizeof(*s));
}
