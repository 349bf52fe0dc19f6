/*
 * ls_rseries.c: sales from the R-Series V3 API.  The first page is asked
 * for with a completeTime filter, sorted by completeTime; each further
 * page is the @attributes.next URL exactly as the API gives it, until it
 * is empty (V3 cursors must not be built by hand).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ls_run.h"

/* Lines, their items, payments and their types: all a row needs, nothing more (cost). */
#define RELATIONS \
	"[\"SaleLines\",\"SaleLines.Item\",\"SalePayments\",\"SalePayments.PaymentType\"]"
#define URL_CAP	8192

static int
discover_account(struct ig_ls_run *r, char **id, struct ig_err *e)
{
	char url[1024];
	json_t *doc, *accts, *a;
	const char *v;
	int rc = -1;

	snprintf(url, sizeof(url), "%s/API/V3/Account.json", r->c->base_url);
	if (ig_ls_run_get(r, url, "GET Account.json", 0, &doc, e) == -1)
		return -1;
	accts = ig_ls_list(doc, "Account");
	if (json_array_size(accts) == 0)
		ig_err_set(e, IG_EX_PROTOCOL, "GET Account.json: no account in the answer");
	else if (json_array_size(accts) > 1)
		ig_err_set(e, IG_EX_CONFIG,
		    "the token gives access to %zu accounts: set LIGHTSPEED_ACCOUNT_ID to the one to read",
		    json_array_size(accts));
	else {
		a = json_array_get(accts, 0);
		v = json_string_value(json_object_get(a, "accountID"));
		if (v == NULL || *v == '\0' || strspn(v, "0123456789") != strlen(v))
			ig_err_set(e, IG_EX_PROTOCOL, "GET Account.json: no numeric accountID");
		else if ((*id = strdup(v)) != NULL) {
			ig_logj(IG_LOG_INFO, json_pack("{ss}", "account_id", v),
			    "using Lightspeed account %s", v);
			rc = 0;
		}
	}
	json_decref(accts);
	json_decref(doc);
	return rc;
}

/* Adds "&name=OP,TIME[,TIME]" with the operator, commas and '+' percent-encoded. */
static int
add_time_filter(struct ig_buf *u, const struct ig_ls_query *q)
{
	char a[IG_TS_LEN + 8], b[IG_TS_LEN + 8], v[2 * IG_TS_LEN + 32];

	ig_ts_format(q->since, 0, a);
	strcpy(a + 19, "+00:00");	/* the form of the API's own examples */
	if (q->until != 0) {
		ig_ts_format(q->until, 0, b);
		strcpy(b + 19, "+00:00");
		snprintf(v, sizeof(v), "><,%s,%s", a, b);
	} else
		snprintf(v, sizeof(v), ">=,%s", a);
	return ig_buf_addstr(u, "&completeTime=") | ig_http_urlencode(u, v);
}

static int
first_url(struct ig_ls_run *r, const char *account, struct ig_buf *u)
{
	long limit = r->q->page_size ? r->q->page_size : 100;

	return ig_buf_printf(u, "%s/API/V3/Account/%s/Sale.json?load_relations=",
	    r->c->base_url, account) | ig_http_urlencode(u, RELATIONS) |
	    add_time_filter(u, r->q) |
	    ig_buf_printf(u, "&sort=completeTime&limit=%ld", limit);
}

/* A next URL must stay on the configured host: the token goes with it. */
static int
same_origin(const char *base, const char *next)
{
	const char *p = strstr(base, "://");
	size_t n;

	p = p ? strchr(p + 3, '/') : NULL;
	n = p ? (size_t)(p - base) : strlen(base);
	return strncmp(base, next, n) == 0 && next[n] == '/';
}

static int
do_page(struct ig_ls_run *r, json_t *doc, struct ig_err *e)
{
	struct ig_ls_sale s;
	enum ig_ls_verdict v;
	json_t *sales, *sale;
	char why[256];
	size_t i;
	int rc = 0;

	sales = ig_ls_list(doc, "Sale");
	json_array_foreach(sales, i, sale) {
		if (ig_ls_run_full(r))
			break;
		v = ig_ls_rows_r(sale, &s, why, sizeof(why));
		if (v != IG_LS_KEEP)
			ig_ls_run_skip(r, ig_ls_sale_id_r(sale), v, why);
		else if (ig_ls_run_keep(r, &s) == -1) {
			rc = ig_err_errno(e, IG_EX_OSERR, "cannot keep sales");
			break;
		}
	}
	json_decref(sales);
	return rc == -1 ? -1 : ig_ls_run_flush(r, e);
}

int
ig_ls_rseries(struct ig_ls_run *r, struct ig_err *e)
{
	struct ig_buf url;
	char *account = NULL, what[64];
	const char *next;
	json_t *doc = NULL;
	int rc = -1, done;

	ig_buf_init(&url, URL_CAP);
	if (r->c->account_id != NULL)
		account = strdup(r->c->account_id);
	else if (discover_account(r, &account, e) == -1)
		goto out;
	if (account == NULL || first_url(r, account, &url) == -1) {
		ig_err_errno(e, IG_EX_OSERR, "cannot build the request URL");
		goto out;
	}
	for (;;) {
		snprintf(what, sizeof(what), "GET Sale.json page %lu", r->st->pages + 1);
		if (ig_ls_run_get(r, url.data, what, 0, &doc, e) == -1)
			goto out;
		if ((done = do_page(r, doc, e)) == -1)
			goto out;
		next = json_string_value(json_object_get(
		    json_object_get(doc, "@attributes"), "next"));
		if (done || next == NULL || *next == '\0')
			break;
		if (!same_origin(r->c->base_url, next)) {
			ig_err_set(e, IG_EX_PROTOCOL,
			    "%s: the next page is on another host; refusing to send the token there", what);
			goto out;
		}
		ig_buf_reset(&url);
		if (ig_buf_addstr(&url, next) == -1) {
			ig_err_set(e, IG_EX_PROTOCOL, "%s: next URL longer than %d bytes", what, URL_CAP);
			goto out;
		}
		json_decref(doc);
		doc = NULL;
	}
	rc = 0;
out:
	json_decref(doc);
	free(account);
	ig_buf_release(&url);
	return rc;
}
