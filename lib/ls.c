/*
 * ls.c: Lightspeed configuration, the request and page machinery shared
 * by both series, and ig_ls_fetch().
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ls_run.h"
#include "str.h"

#define R_BASE		"https://api.lightspeedapp.com"
#define R_OAUTH		"https://cloud.lightspeedapp.com/auth/oauth/token"

const char *
ig_ls_series_name(enum ig_ls_series s)
{
	return s == IG_LS_XSERIES ? "x-series" : "r-series";
}

static int
dup_env(char **dst, const char *name, int secret)
{
	const char *v = ig_str_env(name);

	*dst = NULL;
	if (v == NULL)
		return 0;
	if ((*dst = strdup(v)) == NULL)
		return -1;
	if (secret)
		ig_log_secret(v);
	return 0;
}

static int
all(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

static int
check_url(const char *name, const char *v, struct ig_err *e)
{
	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
		return ig_err_set(e, IG_EX_CONFIG,
		    "%s must be an http:// or https:// URL", name);
	if (strpbrk(v, " \t\r\n?#") != NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "%s must be a plain base URL without spaces, query or fragment", name);
	return 0;
}

static int
load_strings(struct ig_ls_config *c)
{
	if (dup_env(&c->token, "LIGHTSPEED_TOKEN", 1) == -1)
		return -1;
	if (c->token == NULL &&
	    dup_env(&c->token, "LIGHTSPEED_PERSONAL_TOKEN", 1) == -1)
		return -1;
	return dup_env(&c->account_id, "LIGHTSPEED_ACCOUNT_ID", 0) |
	    dup_env(&c->client_id, "LIGHTSPEED_CLIENT_ID", 0) |
	    dup_env(&c->client_secret, "LIGHTSPEED_CLIENT_SECRET", 1) |
	    dup_env(&c->refresh_token, "LIGHTSPEED_REFRESH_TOKEN", 1) |
	    dup_env(&c->token_file, "LIGHTSPEED_TOKEN_FILE", 0) |
	    dup_env(&c->oauth_url, "LIGHTSPEED_OAUTH_URL", 0);
}

static int
choose_series(struct ig_ls_config *c, const char *prefix, struct ig_err *e)
{
	const char *api = ig_str_env("LIGHTSPEED_API");

	if (api == NULL)
		c->series = (c->token != NULL && strncmp(c->token, "lsxs_", 5) == 0) ||
		    prefix != NULL ? IG_LS_XSERIES : IG_LS_RSERIES;
	else if (strcmp(api, "r-series") == 0)
		c->series = IG_LS_RSERIES;
	else if (strcmp(api, "x-series") == 0)
		c->series = IG_LS_XSERIES;
	else
		return ig_err_set(e, IG_EX_CONFIG,
		    "LIGHTSPEED_API must be r-series or x-series");
	return 0;
}

static int
base_url(struct ig_ls_config *c, const char *prefix, struct ig_err *e)
{
	const char *url = ig_str_env("LIGHTSPEED_API_URL");
	char buf[512];
	size_t n;

	if (url != NULL) {
		if (check_url("LIGHTSPEED_API_URL", url, e) == -1)
			return -1;
		snprintf(buf, sizeof(buf), "%s", url);
	} else if (c->series == IG_LS_RSERIES)
		snprintf(buf, sizeof(buf), "%s", R_BASE);
	else if (prefix == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "the X-Series API needs LIGHTSPEED_DOMAIN_PREFIX (the store's name in https://NAME.retail.lightspeed.app)");
	else
		snprintf(buf, sizeof(buf), "https://%s.retail.lightspeed.app", prefix);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return (c->base_url = strdup(buf)) == NULL ?
	    ig_err_errno(e, IG_EX_OSERR, "cannot load configuration") : 0;
}

static int
check_credentials(struct ig_ls_config *c, struct ig_err *e)
{
	int n = !!c->client_id + !!c->client_secret;

	if (c->series == IG_LS_XSERIES) {
		if (c->token == NULL)
			return ig_err_set(e, IG_EX_CONFIG,
			    "no Lightspeed token: set LIGHTSPEED_TOKEN to the store's personal token (Setup > Personal Tokens)");
		return 0;
	}
	if (n == 1)
		return ig_err_set(e, IG_EX_CONFIG,
		    "LIGHTSPEED_CLIENT_ID and LIGHTSPEED_CLIENT_SECRET must be set together");
	if (n == 2 && c->refresh_token == NULL && c->token_file == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "token refresh needs LIGHTSPEED_REFRESH_TOKEN or a LIGHTSPEED_TOKEN_FILE that holds one");
	if (n == 2 && c->token_file == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "refresh tokens rotate: set LIGHTSPEED_TOKEN_FILE so the new pair can be kept");
	if (c->token == NULL && n == 0)
		return ig_err_set(e, IG_EX_CONFIG,
		    "no Lightspeed credentials: set LIGHTSPEED_TOKEN, or LIGHTSPEED_CLIENT_ID, LIGHTSPEED_CLIENT_SECRET, LIGHTSPEED_REFRESH_TOKEN and LIGHTSPEED_TOKEN_FILE");
	if (c->account_id != NULL && !all(c->account_id, ""))
		return ig_err_set(e, IG_EX_CONFIG,
		    "LIGHTSPEED_ACCOUNT_ID must be the numeric account id");
	if (c->oauth_url == NULL && (c->oauth_url = strdup(R_OAUTH)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "cannot load configuration");
	return check_url("LIGHTSPEED_OAUTH_URL", c->oauth_url, e);
}

int
ig_ls_config_env(struct ig_ls_config *c, struct ig_err *e)
{
	const char *prefix = ig_str_env("LIGHTSPEED_DOMAIN_PREFIX"), *w;
	char *end;

	memset(c, 0, sizeof(*c));
	c->window_s = 300;
	if (load_strings(c) == -1)
		return ig_err_errno(e, IG_EX_OSERR, "cannot load configuration");
	if (prefix != NULL && (!all(prefix, "-") || strlen(prefix) > 63))
		return ig_err_set(e, IG_EX_CONFIG,
		    "LIGHTSPEED_DOMAIN_PREFIX must be letters, digits and '-' only (the NAME of NAME.retail.lightspeed.app)");
	if ((w = ig_str_env("INTEGRATION_LS_WINDOW")) != NULL) {
		c->window_s = strtod(w, &end);
		if (*end != '\0' || !(c->window_s > 0 && c->window_s <= 3600))
			return ig_err_set(e, IG_EX_CONFIG,
			    "INTEGRATION_LS_WINDOW must be a number of seconds above 0 and at most 3600");
	}
	if (choose_series(c, prefix, e) == -1 || base_url(c, prefix, e) == -1)
		return -1;
	return check_credentials(c, e);
}

void
ig_ls_config_release(struct ig_ls_config *c)
{
	char **s[] = { &c->base_url, &c->token, &c->account_id, &c->client_id,
	    &c->client_secret, &c->refresh_token, &c->token_file, &c->oauth_url };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		ig_str_wipe(s[i]);
}

/* The message of an error answer, when it has one (borrowed from doc). */
static const char *
api_message(const json_t *doc)
{
	const char *m = json_string_value(json_object_get(doc, "message"));

	if (m == NULL)
		m = json_string_value(json_object_get(doc, "error"));
	return m != NULL ? m : "";
}

static int
status_error(long status, const char *what, const json_t *doc, struct ig_err *e)
{
	const char *m = api_message(doc);
	const char *sep = *m ? ": " : "";

	if (status == 401 || status == 403)
		return ig_err_set(e, IG_EX_NOPERM,
		    "%s: HTTP %ld%s%.200s: check the Lightspeed token and its scopes",
		    what, status, sep, m);
	if (status == 404)
		return ig_err_set(e, IG_EX_CONFIG,
		    "%s: HTTP 404%s%.200s: check LIGHTSPEED_ACCOUNT_ID, LIGHTSPEED_DOMAIN_PREFIX or LIGHTSPEED_API_URL",
		    what, sep, m);
	return ig_err_set(e, IG_EX_PROTOCOL, "%s: unexpected HTTP %ld%s%.200s",
	    what, status, sep, m);
}

static int
refresh(struct ig_ls_run *r, struct ig_err *e)
{
	if (ig_ls_auth_refresh(&r->auth, r->h, e) == -1)
		return -1;
	r->st->refreshes++;
	return 0;
}

int
ig_ls_run_get(struct ig_ls_run *r, const char *url, const char *what,
    int allow404, json_t **doc, struct ig_err *e)
{
	char auth[4096];
	const char *hdrs[] = { auth, "Accept: application/json", NULL };
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	json_error_t je;
	int refreshed = 0, rc = -1;
	ig_ts now;

	*doc = NULL;
	req.url = url;
	req.headers = hdrs;
	req.what = what;
	ig_http_resp_init(&resp);
	for (;;) {
		if (r->c->series == IG_LS_RSERIES && ig_ls_auth_can_refresh(&r->auth) &&
		    !refreshed && (now = ig_ts_wall()) != 0 &&
		    ig_ls_auth_expiring(&r->auth, now)) {
			if (refresh(r, e) == -1)
				goto out;
			refreshed = 1;
		}
		ig_ls_auth_header(&r->auth, auth, sizeof(auth));
		if (ig_http_do(r->h, &req, &resp, e) == -1)
			goto out;
		if (resp.status != 401 || r->c->series != IG_LS_RSERIES ||
		    refreshed || !ig_ls_auth_can_refresh(&r->auth))
			break;
		ig_log(IG_LOG_NOTICE, "%s: HTTP 401, refreshing the access token", what);
		if (refresh(r, e) == -1)
			goto out;
		refreshed = 1;
	}
	*doc = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
	if (resp.status == 200 || (resp.status == 404 && allow404)) {
		if (*doc == NULL) {
			ig_err_set(e, IG_EX_PROTOCOL, "%s: invalid JSON in the answer: %s",
			    what, je.text);
			goto out;
		}
		rc = (int)resp.status;
		goto out;
	}
	if (resp.status == 401 && refreshed)
		ig_err_set(e, IG_EX_NOPERM,
		    "%s: HTTP 401 again after a token refresh: the app's access was revoked; re-authorize it", what);
	else
		status_error(resp.status, what, *doc, e);
	json_decref(*doc);
	*doc = NULL;
out:
	ig_http_resp_release(&resp);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

int
ig_ls_run_wanted(const struct ig_ls_run *r, ig_ts ts)
{
	return ts >= r->q->since && (r->q->until == 0 || ts <= r->q->until);
}

int
ig_ls_run_full(const struct ig_ls_run *r)
{
	return r->q->limit > 0 &&
	    r->st->sales + r->npage >= (unsigned long)r->q->limit;
}

int
ig_ls_run_keep(struct ig_ls_run *r, struct ig_ls_sale *s)
{
	struct ig_ls_sale *np;
	size_t ns;

	if (!ig_ls_run_wanted(r, s->ts)) {
		ig_ls_sale_release(s);
		return 0;
	}
	if (r->npage == r->pagesize) {
		ns = r->pagesize ? r->pagesize * 2 : 128;
		if ((np = realloc(r->page, ns * sizeof(*np))) == NULL) {
			ig_ls_sale_release(s);
			return -1;
		}
		r->page = np;
		r->pagesize = ns;
	}
	r->page[r->npage++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

void
ig_ls_run_skip(struct ig_ls_run *r, const char *id, enum ig_ls_verdict v,
    const char *why)
{
	if (v == IG_LS_BAD)
		r->st->bad++;
	else
		r->st->skipped++;
	ig_logj(v == IG_LS_BAD ? IG_LOG_ERROR : IG_LOG_WARNING,
	    json_pack("{ss ss ss}", "sale_id", id, "reason", why, "event",
	    v == IG_LS_BAD ? "sale_unreadable" : "sale_skipped"),
	    "%s sale %s: %s", v == IG_LS_BAD ? "cannot map" : "skipped", id, why);
}

static int
by_time(const void *a, const void *b)
{
	const struct ig_ls_sale *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return strcmp(x->sale_id, y->sale_id);
}

int
ig_ls_run_flush(struct ig_ls_run *r, struct ig_err *e)
{
	size_t i;
	int full = 0, rc = 0;

	if (r->npage > 1)
		qsort(r->page, r->npage, sizeof(r->page[0]), by_time);
	for (i = 0; i < r->npage; i++) {
		if (full || ig_ls_sale_write(&r->page[i], r->out) == -1) {
			if (!full && errno == EPIPE)
				r->st->closed = 1;
			else if (!full)
				rc = ig_err_errno(e, IG_EX_IOERR, "cannot write rows");
			full = 1;
			ig_ls_sale_release(&r->page[i]);
			continue;
		}
		r->st->sales++;
		r->st->rows += r->page[i].nrows;
		r->st->last_ts = r->page[i].ts;
		ig_ls_sale_release(&r->page[i]);
		if (r->q->limit > 0 && r->st->sales >= (unsigned long)r->q->limit)
			full = r->st->limited = 1;
	}
	r->npage = 0;
	r->st->pages++;
	if (rc == 0 && !r->st->closed && fflush(r->out) == EOF) {
		if (errno == EPIPE)
			r->st->closed = 1;
		else
			rc = ig_err_errno(e, IG_EX_IOERR, "cannot write rows");
	}
	return rc == -1 ? -1 : r->st->limited || r->st->closed;
}

static void
partial(struct ig_ls_run *r, struct ig_err *e)
{
	char ts[IG_TS_LEN];

	if (r->st->sales == 0 || e->code == IG_EX_IOERR)
		return;	/* nothing written: the cause's own code says more */
	ig_log_err(e);
	if (r->c->series == IG_LS_XSERIES)
		ig_err_set(e, IG_EX_PARTIAL,
		    "stopped after %lu pages and %lu sales; the rows written are valid; resume with --after %lld",
		    r->st->pages, r->st->sales, r->st->version);
	else
		ig_err_set(e, IG_EX_PARTIAL,
		    "stopped after %lu pages and %lu sales; the rows written are valid; resume with --since %s",
		    r->st->pages, r->st->sales,
		    ig_ts_format(r->st->last_ts, -1, ts));
}

int
ig_ls_fetch(struct ig_http *h, const struct ig_ls_config *c,
    const struct ig_ls_query *q, FILE *out, struct ig_ls_stats *st,
    struct ig_err *e)
{
	struct ig_ls_run r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.h = h;
	r.c = c;
	r.q = q;
	r.out = out;
	r.st = st;
	if (ig_ls_auth_init(&r.auth, c, e) == -1)
		return -1;
	ig_ls_rate_init(&r.rate, c->series == IG_LS_XSERIES ?
	    IG_LS_RATE_WINDOW : IG_LS_RATE_BUCKET, c->window_s);
	ig_ls_rate_attach(&r.rate, h);
	rc = c->series == IG_LS_XSERIES ? ig_ls_xseries(&r, e) :
	    ig_ls_rseries(&r, e);
	if (rc == -1)
		partial(&r, e);
	st->n429 = r.rate.n429;
	ig_http_set_pacer(h, NULL, NULL, NULL);
	for (i = 0; i < r.npage; i++)
		ig_ls_sale_release(&r.page[i]);
	free(r.page);
	json_decref(r.names);
	ig_ls_auth_release(&r.auth);
	return rc;
}
