/*
 * bq.c: the BigQuery client of bq.h.  Transport errors, 408, 429 and 5xx
 * are retried by the HTTP layer with the very same body, hence the same
 * requestId; this file adds BigQuery's own classes on top: rate-limit
 * reasons (same requestId), failed jobs (new requestId), a 401 (one token
 * renewal) and refused data (the caller bisects).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "bq.h"
#include "log.h"
#include "ts.h"
#include "uuid.h"
#include "str.h"

#define GOOGLE_ROOT	"https://bigquery.googleapis.com"
#define MAX_ATTEMPTS	6
#define MAX_POLLS	720	/* getQueryResults waits up to 10 s each: two hours */

static int
set_default(char **dst, const char *v)
{
	if (*dst != NULL || v == NULL)
		return 0;
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

int
ig_bq_config_env(struct ig_bq_config *c, struct ig_err *e)
{
	const char *emu = ig_str_env("BIGQUERY_EMULATOR_HOST"), *api = ig_str_env("BIGQUERY_API_URL");
	const char *root = emu ? emu : api ? api : GOOGLE_ROOT;
	size_t n;

	if (set_default(&c->project, ig_str_env("GCP_PROJECT_ID")) == -1 ||
	    set_default(&c->project, ig_str_env("GOOGLE_CLOUD_PROJECT")) == -1 ||
	    set_default(&c->dataset, ig_str_env("BIGQUERY_DATASET")) == -1 ||
	    set_default(&c->dataset, "livhana_prod") == -1 ||
	    set_default(&c->table, ig_str_env("BIGQUERY_TABLE")) == -1 ||
	    set_default(&c->table, "sales") == -1 ||
	    set_default(&c->location, ig_str_env("BIGQUERY_LOCATION")) == -1 ||
	    set_default(&c->location, "US") == -1 ||
	    (c->root = strdup(root)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "cannot load configuration");
	c->anonymous = emu != NULL;
	if (strncmp(root, "http://", 7) != 0 && strncmp(root, "https://", 8) != 0)
		return ig_err_set(e, IG_EX_CONFIG, "%s must be a URL starting with http:// or https://",
		    emu ? "BIGQUERY_EMULATOR_HOST" : "BIGQUERY_API_URL");
	if (strpbrk(root, " \t\r\n?#") != NULL)
		return ig_err_set(e, IG_EX_CONFIG, "%s must be a plain base URL",
		    emu ? "BIGQUERY_EMULATOR_HOST" : "BIGQUERY_API_URL");
	n = strlen(c->root);
	while (n > 0 && c->root[n - 1] == '/')
		c->root[--n] = '\0';
	return 0;
}

void
ig_bq_config_release(struct ig_bq_config *c)
{
	free(c->project);
	free(c->dataset);
	free(c->table);
	free(c->location);
	free(c->root);
	memset(c, 0, sizeof(*c));
}

static int
name_ok(const char *s, const char *extra, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && strchr(extra, s[n]) == NULL)
			return 0;
	return n > 0 && n <= max;
}

int
ig_bq_config_check(const struct ig_bq_config *c, struct ig_err *e)
{
	if (c->project == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "no Google Cloud project: set GCP_PROJECT_ID (or GOOGLE_CLOUD_PROJECT, or --project)");
	if (!name_ok(c->project, "-:.", 128))
		return ig_err_set(e, IG_EX_CONFIG,
		    "project '%.64s' is not a Google Cloud project id (letters, digits, '-', ':' and '.')", c->project);
	if (!name_ok(c->dataset, "_", 1024))
		return ig_err_set(e, IG_EX_CONFIG,
		    "dataset '%.64s' is not a BigQuery dataset name (letters, digits and '_')", c->dataset);
	if (!name_ok(c->table, "_-", 1024))
		return ig_err_set(e, IG_EX_CONFIG,
		    "table '%.64s' is not a BigQuery table name (letters, digits, '_' and '-')", c->table);
	if (!name_ok(c->location, "-", 64))
		return ig_err_set(e, IG_EX_CONFIG,
		    "location '%.64s' is not a BigQuery location such as US, EU or europe-west1", c->location);
	return 0;
}

int
ig_bq_open(struct ig_bq *bq, struct ig_http *h, struct ig_bq_config *c,
    struct ig_err *e)
{
	memset(bq, 0, sizeof(*bq));
	bq->h = h;
	bq->c = c;
	if (!c->anonymous) {
		if (ig_gauth_init(&bq->auth, e) == -1)
			return -1;
		bq->have_auth = 1;
		if (c->project == NULL && bq->auth.project_id != NULL &&
		    (c->project = strdup(bq->auth.project_id)) == NULL)
			return ig_err_errno(e, IG_EX_OSERR, "cannot load configuration");
	}
	return ig_bq_config_check(c, e);
}

void
ig_bq_close(struct ig_bq *bq)
{
	if (bq->have_auth)
		ig_gauth_release(&bq->auth);
	bq->have_auth = 0;
}

int
ig_bq_call(struct ig_bq *bq, const char *method, const char *path,
    const char *body, size_t len, json_t **doc, struct ig_err *e)
{
	char url[2048], auth[4096], what[160];
	const char *hdrs[4] = { NULL }, *tok;
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	int renewed = 0, n = 0, rc = -1;

	*doc = NULL;
	snprintf(url, sizeof(url), "%s/bigquery/v2%s", bq->c->root, path);
	snprintf(what, sizeof(what), "%s %.*s", method, (int)strcspn(path, "?"), path);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = len;
	req.what = what;
	ig_http_resp_init(&resp);
	for (;;) {
		n = 0;
		hdrs[n++] = "Accept: application/json";
		if (body != NULL)
			hdrs[n++] = "Content-Type: application/json";
		if (bq->have_auth) {
			if (ig_gauth_token(&bq->auth, bq->h, renewed, &tok, e) == -1)
				goto out;
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
			hdrs[n++] = auth;
		}
		hdrs[n] = NULL;
		req.headers = hdrs;
		if (ig_http_do(bq->h, &req, &resp, e) == -1)
			goto out;
		if (resp.status != 401 || !bq->have_auth || renewed)
			break;
		ig_log(IG_LOG_NOTICE, "%s: HTTP 401, renewing the access token", what);
		renewed = 1;
	}
	*doc = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
	rc = (int)resp.status;
out:
	explicit_bzero(auth, sizeof(auth));
	ig_http_resp_release(&resp);
	return rc;
}

/* Whether s holds one of needles, ignoring case. */
static int
contains(const char *s, const char *const *needles)
{
	const char *p;
	size_t n;

	for (; s != NULL && *needles != NULL; needles++) {
		n = strlen(*needles);
		for (p = s; *p != '\0'; p++)
			if (strncasecmp(p, *needles, n) == 0)
				return 1;
	}
	return 0;
}

enum ig_bq_class
ig_bq_classify(long status, const json_t *doc, const char **reason,
    const char **message)
{
	static const char *const transient[] = { "rateLimitExceeded",
	    "backendError", "internalError", "badGateway", NULL };
	static const char *const job[] = { "jobBackendError",
	    "jobInternalError", "jobRateLimitExceeded", NULL };
	static const char *const conflict[] = { "Could not serialize access",
	    "Too many DML statements outstanding", NULL };
	/* Messages BigQuery gives when a value in the data is at fault. */
	static const char *const data[] = { "Bad ", "cannot be null",
	    "out of range", "Invalid timestamp", "Invalid date", "Invalid NUMERIC",
	    "at most one source row", "overflow", "could not be parsed",
	    "Invalid value", NULL };
	const json_t *err = json_object_get(doc, "error");
	const json_t *first = json_array_get(json_object_get(err, "errors"), 0);
	const char *r, *m;
	size_t i;

	r = json_string_value(json_object_get(first, "reason"));
	m = json_string_value(json_object_get(err, "message"));
	if (m == NULL)
		m = json_string_value(json_object_get(first, "message"));
	if (reason != NULL)
		*reason = r;
	if (message != NULL)
		*message = m;
	if (status >= 200 && status < 300)
		return IG_BQ_OK;
	if (status == 401)
		return IG_BQ_AUTH;
	for (i = 0; r != NULL && job[i] != NULL; i++)
		if (strcmp(r, job[i]) == 0)
			return IG_BQ_JOB_FAILED;
	if (contains(m, conflict))
		return IG_BQ_JOB_FAILED;
	for (i = 0; r != NULL && transient[i] != NULL; i++)
		if (strcmp(r, transient[i]) == 0)
			return IG_BQ_TRANSIENT;
	if (ig_http_status_retryable(status))
		return IG_BQ_TRANSIENT;
	if (status == 400 && (r == NULL || strcmp(r, "invalid") == 0 ||
	    strcmp(r, "invalidQuery") == 0) && contains(m, data))
		return IG_BQ_DATA;
	return IG_BQ_FATAL;
}

static int
fatal(long status, const char *reason, const char *msg, struct ig_err *e)
{
	int code = IG_EX_PROTOCOL;

	if (status == 401 || status == 403)
		code = reason != NULL && strcmp(reason, "quotaExceeded") == 0 ?
		    IG_EX_TEMPFAIL : IG_EX_NOPERM;
	else if (status == 404 || status == 400)
		code = IG_EX_CONFIG;
	else if (ig_http_status_retryable(status))
		code = IG_EX_TEMPFAIL;
	return ig_err_set(e, code, "BigQuery: HTTP %ld%s%s: %.300s%s", status,
	    reason ? " " : "", reason ? reason : "", msg ? msg : "no error message",
	    status == 404 ? " (does the table exist? bq-merge --create-table makes it)" : "");
}

static void
backoff(int attempt, const char *why)
{
	uint32_t v;
	double s;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)time(NULL);
	/* Google's advice for BigQuery: 1 s, doubling, at most 32 s; full jitter. */
	s = ig_http_backoff(attempt, 1000, 32000, (double)v / 4294967296.0);
	ig_logj(IG_LOG_WARNING, json_pack("{si sf}", "attempt", attempt, "wait_s", s),
	    "BigQuery: %s, retrying in %.2f s", why, s);
	ig_ts_sleep(s);
}

static void
read_dml(const json_t *stats, struct ig_bq_dml *out)
{
	const char *v;

	if ((v = json_string_value(json_object_get(stats, "insertedRowCount"))) != NULL)
		out->inserted = atoll(v);
	if ((v = json_string_value(json_object_get(stats, "updatedRowCount"))) != NULL)
		out->updated = atoll(v);
	if ((v = json_string_value(json_object_get(stats, "deletedRowCount"))) != NULL)
		out->deleted = atoll(v);
}

/* A job that ended in error (steals doc): 1 when a new job may fix it, else -1. */
static int
failed(long status, json_t *doc, const char *job, enum ig_bq_class *cls,
    struct ig_err *e)
{
	const char *reason, *msg;
	int r = -1;

	*cls = ig_bq_classify(status, doc, &reason, &msg);
	if (*cls == IG_BQ_DATA)
		ig_err_set(e, IG_EX_DATAERR, "%.400s", msg ? msg : "the data was refused");
	else if (*cls == IG_BQ_JOB_FAILED || *cls == IG_BQ_TRANSIENT) {
		*cls = IG_BQ_JOB_FAILED;
		ig_err_set(e, IG_EX_TEMPFAIL, "job %s failed: %.300s", job, msg ? msg : "");
		r = 1;
	} else
		fatal(status, reason, msg, e);
	json_decref(doc);
	return r;
}

/* Waits for the job of doc; 0 done, 1 the job failed (cls, e set), -1 error. */
static int
complete(struct ig_bq *bq, json_t **doc, struct ig_bq_dml *out,
    enum ig_bq_class *cls, struct ig_err *e)
{
	const json_t *ref = json_object_get(*doc, "jobReference");
	const char *job = json_string_value(json_object_get(ref, "jobId"));
	const char *loc = json_string_value(json_object_get(ref, "location"));
	const char *reason, *msg;
	char path[1024], locbuf[64];
	json_t *d, *stats, *st;
	int polls, status;

	if (job == NULL || strlen(job) >= sizeof(out->job_id) ||
	    strspn(job, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") != strlen(job))
		return ig_err_set(e, IG_EX_PROTOCOL, "BigQuery: the answer names no usable jobReference.jobId");
	snprintf(out->job_id, sizeof(out->job_id), "%s", job);
	if (loc == NULL || strlen(loc) >= sizeof(locbuf) ||
	    strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(loc))
		loc = bq->c->location;
	snprintf(locbuf, sizeof(locbuf), "%s", loc);	/* *doc is replaced while polling */
	loc = locbuf;
	for (polls = 0; !json_is_true(json_object_get(*doc, "jobComplete")); polls++) {
		if (polls >= MAX_POLLS)
			return ig_err_set(e, IG_EX_TEMPFAIL, "BigQuery: job %s still running after %d polls", out->job_id, polls);
		snprintf(path, sizeof(path), "/projects/%s/queries/%s?location=%s&timeoutMs=10000&maxResults=0",
		    bq->c->project, out->job_id, loc);
		if ((status = ig_bq_call(bq, "GET", path, NULL, 0, &d, e)) == -1)
			return -1;
		*cls = ig_bq_classify(status, d, &reason, &msg);
		if (*cls == IG_BQ_TRANSIENT) {
			json_decref(d);
			backoff(1, "getQueryResults failed for a moment");
			continue;
		}
		if (*cls != IG_BQ_OK)
			return failed(status, d, out->job_id, cls, e);
		json_decref(*doc);
		*doc = d;
	}
	stats = json_object_get(*doc, "dmlStats");
	if (stats != NULL) {
		read_dml(stats, out);
		return 0;
	}
	/* getQueryResults carries no dmlStats: jobs.get has them. */
	snprintf(path, sizeof(path), "/projects/%s/jobs/%s?location=%s", bq->c->project, out->job_id, loc);
	if ((status = ig_bq_call(bq, "GET", path, NULL, 0, &d, e)) == -1)
		return -1;
	if (ig_bq_classify(status, d, &reason, &msg) != IG_BQ_OK) {
		fatal(status, reason, msg, e);
		json_decref(d);
		return -1;
	}
	st = json_object_get(json_object_get(d, "status"), "errorResult");
	if (st != NULL) {
		/* Judge a job's errorResult as the same error in an HTTP answer. */
		json_t *as = json_pack("{s{sO* s[O]}}", "error", "message",
		    json_object_get(st, "message"), "errors", st);

		json_decref(d);
		return failed(400, as, out->job_id, cls, e);
	}
	read_dml(json_object_get(json_object_get(json_object_get(d, "statistics"),
	    "query"), "dmlStats"), out);
	json_decref(d);
	return 0;
}

int
ig_bq_run_dml(struct ig_bq *bq, ig_bq_body_fn make_body, void *ctx,
    struct ig_bq_dml *out, enum ig_bq_class *cls, struct ig_err *e)
{
	char rid[IG_UUID_LEN], path[512], why[400];
	const char *reason, *msg;
	char *body = NULL;
	json_t *doc = NULL;
	int attempt, status, r, rc = -1;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/projects/%s/queries", bq->c->project);
	for (attempt = 1;; attempt++) {
		if (body == NULL) {
			ig_uuid_v4(rid);
			if ((body = make_body(ctx, rid)) == NULL) {
				ig_err_set(e, IG_EX_OSERR, "cannot build the request");
				break;
			}
		}
		json_decref(doc);
		*cls = IG_BQ_TRANSIENT;
		if ((status = ig_bq_call(bq, "POST", path, body, strlen(body), &doc, e)) == -1)
			break;
		*cls = ig_bq_classify(status, doc, &reason, &msg);
		if (*cls == IG_BQ_OK) {
			bq->statements++;
			if ((r = complete(bq, &doc, out, cls, e)) == 0) {
				rc = 0;
				break;
			}
			if (r == -1) {
				if (*cls == IG_BQ_OK)
					*cls = e->code == IG_EX_TEMPFAIL ?
					    IG_BQ_TRANSIENT : IG_BQ_FATAL;
				break;
			}
			snprintf(why, sizeof(why), "%.390s", e->text);	/* r == 1: the job failed */
		} else if (*cls == IG_BQ_DATA) {
			ig_err_set(e, IG_EX_DATAERR, "%.400s", msg ? msg : "the data was refused");
			break;
		} else if (*cls == IG_BQ_AUTH) {
			ig_err_set(e, IG_EX_NOPERM, "BigQuery: HTTP 401 again after a new token: check the credentials' access");
			break;
		} else if (*cls == IG_BQ_FATAL) {
			fatal(status, reason, msg, e);
			break;
		} else
			snprintf(why, sizeof(why), "HTTP %d %s: %.200s", status,
			    reason ? reason : "", msg ? msg : "");
		if (attempt >= MAX_ATTEMPTS) {
			ig_err_set(e, IG_EX_TEMPFAIL, "BigQuery: %s (after %d attempts)", why, attempt);
			break;
		}
		if (*cls == IG_BQ_JOB_FAILED) {
			bq->job_retries++;
			free(body);
			body = NULL;	/* a failed job is re-run under a new requestId */
		}
		backoff(attempt, why);
	}
	json_decref(doc);
	free(body);
	return rc;
}
