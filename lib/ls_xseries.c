/*
 * ls_xseries.c: sales from the X-Series 2.0 API.  /sales is a change feed
 * ordered by version: each page asks for after=<version.max of the last
 * page> and the feed ends with an empty data array.  It has no time
 * filter, so --since and --until are applied here.  Product names are not
 * in a sale; each product is looked up once per run.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ls_run.h"

static int
product_name(void *ctx, const char *id, const char **name, struct ig_err *e)
{
	struct ig_ls_run *r = ctx;
	struct ig_buf url;
	json_t *doc, *v;
	const char *n;
	int st;

	if (r->names == NULL && (r->names = json_object()) == NULL)
		return ig_err_set(e, IG_EX_OSERR, "out of memory");
	if ((v = json_object_get(r->names, id)) != NULL) {
		*name = json_string_value(v)[0] ? json_string_value(v) : NULL;
		return 0;
	}
	ig_buf_init(&url, 4096);
	if (ig_buf_printf(&url, "%s/api/2.0/products/", r->c->base_url) == -1 ||
	    ig_http_urlencode(&url, id) == -1) {
		ig_buf_release(&url);
		return ig_err_set(e, IG_EX_PROTOCOL, "product id too long");
	}
	st = ig_ls_run_get(r, url.data, "GET products", 1, &doc, e);
	ig_buf_release(&url);
	if (st == -1)
		return -1;
	n = json_string_value(json_object_get(json_object_get(doc, "data"), "name"));
	if (st == 404)
		ig_logj(IG_LOG_WARNING, json_pack("{ss}", "product_id", id),
		    "product %s not found: its rows say Unknown Product", id);
	json_object_set_new(r->names, id, json_string(n != NULL ? n : ""));
	json_decref(doc);
	v = json_object_get(r->names, id);
	*name = v != NULL && json_string_value(v)[0] ? json_string_value(v) : NULL;
	return 0;
}

static int
do_page(struct ig_ls_run *r, json_t *data, struct ig_err *e)
{
	struct ig_ls_sale s;
	enum ig_ls_verdict v;
	json_t *sale;
	const char *id, *when;
	char why[256];
	size_t i;
	ig_ts ts;

	json_array_foreach(data, i, sale) {
		if (ig_ls_run_full(r))
			break;
		/* The feed has no time filter: sales outside the window are not looked at. */
		when = json_string_value(json_object_get(sale, "sale_date"));
		if (when != NULL && ig_ts_parse(when, 0, &ts, NULL) == 0 &&
		    !ig_ls_run_wanted(r, ts))
			continue;
		if (ig_ls_rows_x(sale, product_name, r, &s, why, sizeof(why), &v,
		    e) == -1)
			return -1;
		r->st->lines_skipped += s.lines_skipped;
		id = json_string_value(json_object_get(sale, "id"));
		if (v != IG_LS_KEEP)
			ig_ls_run_skip(r, id ? id : "?", v, why);
		else if (ig_ls_run_keep(r, &s) == -1)
			return ig_err_errno(e, IG_EX_OSERR, "cannot keep sales");
	}
	return ig_ls_run_flush(r, e);
}

int
ig_ls_xseries(struct ig_ls_run *r, struct ig_err *e)
{
	long size = r->q->page_size ? r->q->page_size : 200;
	long long after = r->q->after;
	char url[1024], what[64];
	json_t *doc, *data, *max;
	int done;

	for (;;) {
		snprintf(url, sizeof(url), "%s/api/2.0/sales?after=%lld&page_size=%ld",
		    r->c->base_url, after, size);
		snprintf(what, sizeof(what), "GET sales page %lu", r->st->pages + 1);
		if (ig_ls_run_get(r, url, what, 0, &doc, e) == -1)
			return -1;
		data = json_object_get(doc, "data");
		if (!json_is_array(data)) {
			json_decref(doc);
			return ig_err_set(e, IG_EX_PROTOCOL, "%s: no data array", what);
		}
		if (json_array_size(data) == 0) {
			json_decref(doc);
			return 0;
		}
		max = json_object_get(json_object_get(doc, "version"), "max");
		if (!json_is_integer(max) || json_integer_value(max) <= after) {
			json_decref(doc);
			return ig_err_set(e, IG_EX_PROTOCOL,
			    "%s: version.max does not move past %lld", what, after);
		}
		done = do_page(r, data, e);
		after = json_integer_value(max);
		json_decref(doc);
		if (done == -1)
			return -1;
		if (done)	/* --limit: the page was cut, so it is not done */
			return 0;
		r->st->version = after;
	}
}
