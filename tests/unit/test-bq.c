/*
 * test-bq.c: the BigQuery client of bq.h: how Google's error answers are
 * classified, the configuration from the environment and its checks, and
 * ig_bq_run_dml against a scripted HTTP server in a thread (retries with
 * the same or a new requestId, refused data, polling a running job, and
 * dmlStats from jobs.get).
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
#include "http.h"
#include "log.h"
#include "uuid.h"
#include "tap.h"

#include "tserver.h"

/* A Google API error answer (new). */
static json_t *
gerr(int code, const char *reason, const char *message)
{
	return json_pack("{s{si ss s[{ss ss ss}] ss}}", "error", "code", code,
	    "message", message, "errors", "message", message, "domain", "global",
	    "reason", reason, "status", code == 400 ? "INVALID_ARGUMENT" : "UNKNOWN");
}

static void
classify_is(long status, json_t *doc, enum ig_bq_class want, const char *what)
{
	enum ig_bq_class got = ig_bq_classify(status, doc, NULL, NULL);

	is_int(got, want, "%s", what);
	json_decref(doc);
}

static void
test_classify(void)
{
	const char *reason = "x", *message = "x";
	json_t *doc;

	classify_is(200, json_pack("{sb}", "jobComplete", 1), IG_BQ_OK, "200 is OK");
	classify_is(200, NULL, IG_BQ_OK, "200 without a body is OK");
	classify_is(401, gerr(401, "authError", "Request had invalid authentication credentials."),
	    IG_BQ_AUTH, "401 is AUTH");
	classify_is(503, gerr(503, "backendError", "Service unavailable"),
	    IG_BQ_TRANSIENT, "503 backendError is TRANSIENT");
	classify_is(503, NULL, IG_BQ_TRANSIENT, "503 without a body is TRANSIENT");
	classify_is(500, gerr(500, "backendError", "Backend error"),
	    IG_BQ_TRANSIENT, "500 backendError is TRANSIENT");
	classify_is(500, gerr(500, "internalError", "Internal error"),
	    IG_BQ_TRANSIENT, "500 internalError is TRANSIENT");
	classify_is(403, gerr(403, "rateLimitExceeded",
	    "Exceeded rate limits: too many api requests per user per method"),
	    IG_BQ_TRANSIENT, "403 rateLimitExceeded is TRANSIENT");
	classify_is(429, gerr(429, "rateLimitExceeded", "Too many requests"),
	    IG_BQ_TRANSIENT, "429 is TRANSIENT");
	classify_is(429, NULL, IG_BQ_TRANSIENT, "429 without a body is TRANSIENT");
	classify_is(400, gerr(400, "jobBackendError", "The job encountered an error during execution."),
	    IG_BQ_JOB_FAILED, "400 jobBackendError is JOB_FAILED");
	classify_is(400, gerr(400, "jobInternalError", "The job encountered an internal error."),
	    IG_BQ_JOB_FAILED, "400 jobInternalError is JOB_FAILED");
	classify_is(400, gerr(400, "jobRateLimitExceeded", "Exceeded rate limits: too many table update operations for this table."),
	    IG_BQ_JOB_FAILED, "400 jobRateLimitExceeded is JOB_FAILED");
	classify_is(400, gerr(400, "invalidQuery",
	    "Could not serialize access to table p:d.t due to concurrent update"),
	    IG_BQ_JOB_FAILED, "concurrent update is JOB_FAILED");
	classify_is(400, gerr(400, "resourcesExceeded",
	    "Resources exceeded during query execution: Too many DML statements "
	    "outstanding against table p:d.t, limit is 20."),
	    IG_BQ_JOB_FAILED, "too many DML statements outstanding is JOB_FAILED");
	classify_is(400, gerr(400, "invalidQuery", "Bad double value: abc"),
	    IG_BQ_DATA, "400 Bad double value is DATA");
	classify_is(400, gerr(400, "invalidQuery", "Required field price cannot be null"),
	    IG_BQ_DATA, "400 cannot be null is DATA");
	classify_is(400, gerr(400, "invalid", "Invalid timestamp: '10000-01-01 00:00:00'"),
	    IG_BQ_DATA, "400 invalid Invalid timestamp is DATA");
	classify_is(400, gerr(400, "invalidQuery",
	    "UPDATE/MERGE must match at most one source row for each target row"),
	    IG_BQ_DATA, "400 at most one source row is DATA");
	classify_is(400, gerr(400, "invalidQuery",
	    "Syntax error: Expected end of input but got identifier \"x\" at [1:8]"),
	    IG_BQ_FATAL, "400 Syntax error is FATAL");
	classify_is(400, gerr(400, "invalidQuery",
	    "Unrecognized name: prices at [3:10]"),
	    IG_BQ_FATAL, "400 Unrecognized name is FATAL");
	classify_is(403, gerr(403, "accessDenied",
	    "Access Denied: Table p:d.t: User does not have permission to query table p:d.t."),
	    IG_BQ_FATAL, "403 accessDenied is FATAL");
	classify_is(403, gerr(403, "quotaExceeded", "Quota exceeded: Your project exceeded quota for free query bytes scanned."),
	    IG_BQ_FATAL, "403 quotaExceeded is FATAL (not retried in place)");
	classify_is(404, gerr(404, "notFound", "Not found: Table p:d.t was not found in location US"),
	    IG_BQ_FATAL, "404 notFound is FATAL");
	classify_is(404, gerr(404, "notFound", "Not found: Table p:d.bad_values"),
	    IG_BQ_FATAL, "404 is FATAL even when its message looks like data");
	classify_is(502, NULL, IG_BQ_TRANSIENT, "502 from a proxy (no JSON) is TRANSIENT");
	classify_is(502, json_pack("{ss}", "message", "Bad Gateway"), IG_BQ_TRANSIENT,
	    "502 with JSON but no error object is TRANSIENT");
	classify_is(400, NULL, IG_BQ_FATAL, "400 from a proxy (no JSON) is FATAL");
	classify_is(400, json_pack("{ss}", "message", "Bad request"), IG_BQ_FATAL,
	    "400 without the error object is FATAL");

	doc = gerr(400, "invalidQuery", "Bad double value: abc");
	ig_bq_classify(400, doc, &reason, &message);
	is_str(reason, "invalidQuery", "reason from errors[0].reason");
	is_str(message, "Bad double value: abc", "message from error.message");
	json_decref(doc);
	doc = json_pack("{s{s[{ss ss}]}}", "error", "errors", "reason", "backendError",
	    "message", "only in errors");
	ig_bq_classify(500, doc, &reason, &message);
	is_str(reason, "backendError", "reason");
	is_str(message, "only in errors", "message from errors[0] when error.message is absent");
	json_decref(doc);
	reason = message = "x";
	is_int(ig_bq_classify(502, NULL, &reason, &message), IG_BQ_TRANSIENT, "no document");
	ok(reason == NULL && message == NULL, "reason and message are NULL without one");
	reason = message = "x";
	ig_bq_classify(200, NULL, &reason, &message);
	ok(reason == NULL && message == NULL, "and on success");
}

static void
clear_env(void)
{
	static const char *const names[] = { "GCP_PROJECT_ID", "GOOGLE_CLOUD_PROJECT",
	    "BIGQUERY_DATASET", "BIGQUERY_TABLE", "BIGQUERY_LOCATION",
	    "BIGQUERY_EMULATOR_HOST", "BIGQUERY_API_URL",
	    "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST",
	    "INTEGRATION_NOW", NULL };
	int i;

	for (i = 0; names[i] != NULL; i++)
		unsetenv(names[i]);
}

/* ig_bq_config_env on a cleared config; the result code. */
static int
load(struct ig_bq_config *c, struct ig_err *e)
{
	memset(c, 0, sizeof(*c));
	ig_err_clear(e);
	return ig_bq_config_env(c, e);
}

static void
test_config_env(void)
{
	struct ig_bq_config c;
	struct ig_err e = IG_ERR_INIT;

	clear_env();
	is_int(load(&c, &e), 0, "no environment: %s", e.text);
	ok(c.project == NULL, "no project yet (the key file may give it)");
	is_str(c.dataset, "livhana_prod", "dataset defaults to livhana_prod");
	is_str(c.table, "sales", "table defaults to sales");
	is_str(c.location, "US", "location defaults to US");
	is_str(c.root, "https://bigquery.googleapis.com", "root is Google's");
	is_int(c.anonymous, 0, "not anonymous");
	ig_bq_config_release(&c);
	ok(c.dataset == NULL && c.root == NULL, "release clears");

	setenv("GCP_PROJECT_ID", "p-main", 1);
	setenv("GOOGLE_CLOUD_PROJECT", "p-other", 1);
	setenv("BIGQUERY_DATASET", "ds_1", 1);
	setenv("BIGQUERY_TABLE", "sales_v2", 1);
	setenv("BIGQUERY_LOCATION", "europe-west1", 1);
	load(&c, &e);
	is_str(c.project, "p-main", "GCP_PROJECT_ID over GOOGLE_CLOUD_PROJECT");
	is_str(c.dataset, "ds_1", "BIGQUERY_DATASET");
	is_str(c.table, "sales_v2", "BIGQUERY_TABLE");
	is_str(c.location, "europe-west1", "BIGQUERY_LOCATION");
	ig_bq_config_release(&c);
	setenv("GCP_PROJECT_ID", "", 1);
	load(&c, &e);
	is_str(c.project, "p-other", "GOOGLE_CLOUD_PROJECT when GCP_PROJECT_ID is empty");
	ig_bq_config_release(&c);
	unsetenv("GCP_PROJECT_ID");
	load(&c, &e);
	is_str(c.project, "p-other", "GOOGLE_CLOUD_PROJECT when GCP_PROJECT_ID is unset");
	ig_bq_config_release(&c);

	memset(&c, 0, sizeof(c));
	c.project = strdup("p-option");
	c.table = strdup("t_option");
	c.location = strdup("EU");
	setenv("GCP_PROJECT_ID", "p-main", 1);
	is_int(ig_bq_config_env(&c, &e), 0, "with fields preset by options");
	is_str(c.project, "p-option", "the project option is kept");
	is_str(c.table, "t_option", "the table option is kept");
	is_str(c.location, "EU", "the location option is kept");
	is_str(c.dataset, "ds_1", "the rest from the environment");
	ig_bq_config_release(&c);

	setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9050/", 1);
	is_int(load(&c, &e), 0, "BIGQUERY_EMULATOR_HOST: %s", e.text);
	is_int(c.anonymous, 1, "sets anonymous");
	is_str(c.root, "http://127.0.0.1:9050", "and root, without the trailing slash");
	ig_bq_config_release(&c);
	setenv("BIGQUERY_EMULATOR_HOST", "http://bq-emulator:9050///", 1);
	load(&c, &e);
	is_str(c.root, "http://bq-emulator:9050", "every trailing slash goes");
	ig_bq_config_release(&c);
	setenv("BIGQUERY_API_URL", "https://bq.example.test", 1);
	load(&c, &e);
	is_str(c.root, "http://bq-emulator:9050", "the emulator wins over BIGQUERY_API_URL");
	is_int(c.anonymous, 1, "and stays anonymous");
	ig_bq_config_release(&c);
	unsetenv("BIGQUERY_EMULATOR_HOST");
	setenv("BIGQUERY_API_URL", "https://bq.example.test/", 1);
	is_int(load(&c, &e), 0, "BIGQUERY_API_URL: %s", e.text);
	is_str(c.root, "https://bq.example.test", "sets root");
	is_int(c.anonymous, 0, "and keeps authentication");
	ig_bq_config_release(&c);

	setenv("BIGQUERY_API_URL", "ftp://bq.example.test", 1);
	is_int(load(&c, &e), -1, "a BIGQUERY_API_URL that is not http(s) fails");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ok(strstr(e.text, "BIGQUERY_API_URL") != NULL, "the message names it: %s", e.text);
	ig_bq_config_release(&c);
	setenv("BIGQUERY_API_URL", "https://bq.example.test/x?key=1", 1);
	is_int(load(&c, &e), -1, "a BIGQUERY_API_URL with a query fails");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ig_bq_config_release(&c);
	unsetenv("BIGQUERY_API_URL");
	setenv("BIGQUERY_EMULATOR_HOST", "localhost:9050", 1);
	is_int(load(&c, &e), -1, "a BIGQUERY_EMULATOR_HOST without a scheme fails");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ok(strstr(e.text, "BIGQUERY_EMULATOR_HOST") != NULL, "the message names it: %s",
	    e.text);
	ig_bq_config_release(&c);
	clear_env();
}

static void
check_is(struct ig_bq_config *c, char **field, const char *value, int want,
    const char *names, const char *what)
{
	struct ig_err e = IG_ERR_INIT;
	char *old = *field;

	*field = value ? strdup(value) : NULL;
	is_int(ig_bq_config_check(c, &e), want, "%s", what);
	if (want == -1) {
		is_int(e.code, IG_EX_CONFIG, "%s: IG_EX_CONFIG", what);
		ok(strstr(e.text, names) != NULL, "%s: the message names %s: %s", what,
		    names, e.text);
	}
	free(*field);
	*field = old;
}

static void
test_config_check(void)
{
	struct ig_bq_config c;
	struct ig_err e = IG_ERR_INIT;

	memset(&c, 0, sizeof(c));
	c.project = strdup("p-1");
	c.dataset = strdup("livhana_prod");
	c.table = strdup("sales");
	c.location = strdup("US");
	is_int(ig_bq_config_check(&c, &e), 0, "a good configuration passes");
	check_is(&c, &c.project, "example.com:p-1", 0, NULL,
	    "a domain-scoped project passes");
	check_is(&c, &c.project, "p`1", -1, "project", "a project with a backtick");
	check_is(&c, &c.project, "p 1", -1, "project", "a project with a space");
	check_is(&c, &c.project, "p-1`; DROP TABLE x; --", -1, "project",
	    "a project with SQL in it");
	check_is(&c, &c.project, "", -1, "project", "an empty project");
	check_is(&c, &c.project, NULL, -1, "GCP_PROJECT_ID", "a missing project");
	check_is(&c, &c.dataset, "livhana-prod", -1, "dataset", "a dataset with '-'");
	check_is(&c, &c.dataset, "a.b", -1, "dataset", "a dataset with '.'");
	check_is(&c, &c.dataset, "", -1, "dataset", "an empty dataset");
	check_is(&c, &c.table, "sales-2026", 0, NULL, "a table with '-' passes");
	check_is(&c, &c.table, "d.sales", -1, "table", "a table with '.'");
	check_is(&c, &c.table, "sales`", -1, "table", "a table with a backtick");
	check_is(&c, &c.location, "", -1, "location", "an empty location");
	check_is(&c, &c.location, "europe-west1", 0, NULL, "europe-west1 passes");
	check_is(&c, &c.location, "US/x", -1, "location", "a location with '/'");
	ig_bq_config_release(&c);
}

/* The body builder's record of its calls. */
struct maker {
	int	calls;
	char	ids[8][IG_UUID_LEN];
};

static char *
make_body(void *ctx, const char *request_id)
{
	struct maker *mk = ctx;
	json_t *o;
	char *s;

	if (mk->calls < 8)
		snprintf(mk->ids[mk->calls], IG_UUID_LEN, "%s", request_id);
	mk->calls++;
	o = json_pack("{ss ss sb}", "requestId", request_id, "query",
	    "MERGE `p.d.t` T USING (SELECT 1) S ON FALSE WHEN NOT MATCHED THEN INSERT ROW",
	    "useLegacySql", 0);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The requestId in the body of request i. */
static char *
rid_of(struct server *sv, int i, char *buf)
{
	json_t *o = json_loadb(sv->req[i].body ? sv->req[i].body : "",
	    sv->req[i].body_len, 0, NULL);
	const char *s = json_string_value(json_object_get(o, "requestId"));

	snprintf(buf, IG_UUID_LEN, "%s", s ? s : "(none)");
	json_decref(o);
	return buf;
}

/* Whether a header line of head is exactly line. */
static int
has_line(const char *head, const char *line)
{
	const char *p = head;
	size_t n = strlen(line);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncmp(p, line, n) == 0 && (p[n] == '\r' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An anonymous client of the server sv, through c and bq. */
static void
open_bq(struct ig_bq *bq, struct ig_bq_config *c, struct server *sv,
    struct ig_http *h)
{
	struct ig_err e = IG_ERR_INIT;
	char root[64];

	memset(c, 0, sizeof(*c));
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", sv->port);
	c->project = strdup("p");
	c->dataset = strdup("d");
	c->table = strdup("t");
	c->location = strdup("US");
	c->root = strdup(root);
	c->anonymous = 1;
	if (ig_bq_open(bq, h, c, &e) == -1) {
		printf("# ig_bq_open: %s\n", e.text);
		exit(99);
	}
}

#define DONE(job, ins, upd)						\
	"{\"kind\":\"bigquery#queryResponse\",\"jobReference\":{\"projectId\":\"p\","	\
	"\"jobId\":\"" job "\",\"location\":\"US\"},\"jobComplete\":true,"	\
	"\"numDmlAffectedRows\":\"5\",\"dmlStats\":{\"insertedRowCount\":\"" ins	\
	"\",\"updatedRowCount\":\"" upd "\",\"deletedRowCount\":\"0\"}}"
#define JSON_HDR	"Content-Type: application/json; charset=UTF-8\r\n"
#define ERR_BODY(code, reason, msg)					\
	"{\"error\":{\"code\":" #code ",\"message\":\"" msg "\",\"errors\":[{"	\
	"\"message\":\"" msg "\",\"domain\":\"global\",\"reason\":\"" reason "\"}]}}"

static void
test_dml_transient(void)
{
	static const struct step steps[] = {
		{ 503, JSON_HDR, ERR_BODY(503, "backendError", "Visibility check was unavailable.") },
		{ 200, JSON_HDR, DONE("job_a1", "3", "2") },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls = IG_BQ_FATAL;
	struct ig_err e = IG_ERR_INIT;
	char r0[IG_UUID_LEN], r1[IG_UUID_LEN];

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), 0,
	    "503 then 200: done: %s", e.text);
	is_int(cls, IG_BQ_OK, "cls OK");
	is_int(out.inserted, 3, "inserted from dmlStats");
	is_int(out.updated, 2, "updated from dmlStats");
	is_int(out.deleted, 0, "deleted from dmlStats");
	is_str(out.job_id, "job_a1", "job_id");
	is_int(mk.calls, 1, "the body was built once");
	is_int(bq.statements, 1, "one statement");
	is_int(bq.job_retries, 0, "no job retry");
	is_int(server_stop(&sv), 2, "two requests");
	ok(starts(sv.req[0].head, "POST /bigquery/v2/projects/p/queries HTTP/1.1\r\n"),
	    "POST jobs.query");
	ok(strstr(sv.req[0].head, "\r\nContent-Type: application/json") != NULL,
	    "a JSON body");
	ok(strstr(sv.req[0].head, "\r\nAuthorization:") == NULL, "anonymous: no Authorization");
	is_str(rid_of(&sv, 0, r0), mk.ids[0], "the builder's requestId is sent");
	is_str(rid_of(&sv, 1, r1), r0, "the retry carries the same requestId");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_rate_limited(void)
{
	static const struct step steps[] = {
		{ 403, JSON_HDR, ERR_BODY(403, "rateLimitExceeded",
		    "Exceeded rate limits: too many api requests per user per method for this user_method.") },
		{ 200, JSON_HDR, DONE("job_b1", "1", "0") },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;
	char r0[IG_UUID_LEN], r1[IG_UUID_LEN];

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), 0,
	    "403 rateLimitExceeded then 200: done: %s", e.text);
	is_int(mk.calls, 1, "the body was built once");
	is_int(bq.job_retries, 0, "not a job retry");
	is_int(server_stop(&sv), 2, "two requests");
	is_str(rid_of(&sv, 1, r1), rid_of(&sv, 0, r0), "the same requestId");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_job_failed(void)
{
	static const struct step steps[] = {
		{ 400, JSON_HDR, ERR_BODY(400, "jobBackendError",
		    "The job encountered an error during execution. Retrying the job may solve the problem.") },
		{ 200, JSON_HDR, DONE("job_c2", "0", "4") },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;
	char r0[IG_UUID_LEN], r1[IG_UUID_LEN];

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), 0,
	    "400 jobBackendError then 200: done: %s", e.text);
	is_int(out.updated, 4, "updated from the second job");
	is_int(mk.calls, 2, "the body was built twice");
	ok(strcmp(mk.ids[0], mk.ids[1]) != 0, "with two different requestIds");
	is_int(bq.job_retries, 1, "one job retry");
	is_int(server_stop(&sv), 2, "two requests");
	is_str(rid_of(&sv, 0, r0), mk.ids[0], "the first requestId sent first");
	is_str(rid_of(&sv, 1, r1), mk.ids[1], "the new one sent next");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_refused(void)
{
	static const struct step steps[] = {
		{ 400, JSON_HDR, ERR_BODY(400, "invalidQuery", "Bad double value: abc") },
		{ 403, JSON_HDR, ERR_BODY(403, "accessDenied",
		    "Access Denied: Table p:d.t: User does not have permission to query table p:d.t.") },
		{ 404, JSON_HDR, ERR_BODY(404, "notFound", "Not found: Table p:d.t was not found in location US") },
		{ 400, JSON_HDR, ERR_BODY(400, "invalidQuery", "Syntax error: Unexpected end of script at [1:6]") },
		{ 401, JSON_HDR, ERR_BODY(401, "unauthorized", "Request is missing required authentication credential.") },
		{ 200, "Content-Type: text/html\r\n", "<html>welcome to the hotel wifi</html>" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1,
	    "400 Bad double value fails");
	is_int(cls, IG_BQ_DATA, "cls IG_BQ_DATA");
	is_int(e.code, IG_EX_DATAERR, "IG_EX_DATAERR");
	ok(strstr(e.text, "Bad double value: abc") != NULL, "e holds BigQuery's message: %s",
	    e.text);
	is_int(server_count(&sv), 1, "one request, no retry");

	ig_err_clear(&e);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1, "403 accessDenied fails");
	is_int(cls, IG_BQ_FATAL, "cls IG_BQ_FATAL");
	is_int(e.code, IG_EX_NOPERM, "IG_EX_NOPERM");
	ok(strstr(e.text, "accessDenied") != NULL, "the message has the reason: %s", e.text);
	ig_err_clear(&e);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1, "404 notFound fails");
	is_int(cls, IG_BQ_FATAL, "cls IG_BQ_FATAL");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ok(strstr(e.text, "--create-table") != NULL, "the message suggests --create-table: %s",
	    e.text);
	ig_err_clear(&e);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1, "a syntax error fails");
	is_int(cls, IG_BQ_FATAL, "cls IG_BQ_FATAL");
	ig_err_clear(&e);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1,
	    "401 without credentials to renew fails");
	is_int(e.code, IG_EX_NOPERM, "IG_EX_NOPERM");
	ig_err_clear(&e);
	cls = IG_BQ_OK;
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1,
	    "a 200 that is not a job answer fails");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	ok(cls != IG_BQ_OK, "and *cls does not say OK (got %d)", (int)cls);
	is_int(mk.calls, 6, "one body each");
	is_int(server_stop(&sv), 6, "six requests, none retried");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_poll(void)
{
	static const struct step steps[] = {
		{ 200, JSON_HDR, "{\"jobReference\":{\"projectId\":\"p\",\"jobId\":\"job_d1\","
		    "\"location\":\"EU\"},\"jobComplete\":false}" },
		{ 200, JSON_HDR, "{\"jobReference\":{\"projectId\":\"p\",\"jobId\":\"job_d1\","
		    "\"location\":\"EU\"},\"jobComplete\":false}" },
		{ 200, JSON_HDR, "{\"jobReference\":{\"projectId\":\"p\",\"jobId\":\"job_d1\","
		    "\"location\":\"EU\"},\"jobComplete\":true,\"totalRows\":\"0\"}" },
		{ 200, JSON_HDR, "{\"kind\":\"bigquery#job\",\"id\":\"p:EU.job_d1\","
		    "\"status\":{\"state\":\"DONE\"},\"statistics\":{\"query\":{"
		    "\"statementType\":\"MERGE\",\"numDmlAffectedRows\":\"7\",\"dmlStats\":{"
		    "\"insertedRowCount\":\"5\",\"updatedRowCount\":\"2\"}}}}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), 0,
	    "a job that runs a while: %s", e.text);
	is_int(out.inserted, 5, "inserted from jobs.get");
	is_int(out.updated, 2, "updated from jobs.get");
	is_str(out.job_id, "job_d1", "job_id");
	is_int(mk.calls, 1, "the body was built once");
	is_int(server_stop(&sv), 4, "four requests");
	ok(starts(sv.req[1].head, "GET /bigquery/v2/projects/p/queries/job_d1?"),
	    "getQueryResults of the job: %.60s", sv.req[1].head);
	ok(strstr(sv.req[1].head, "location=EU") != NULL &&
	    strstr(sv.req[1].head, "location=EU") < strstr(sv.req[1].head, " HTTP/1.1"),
	    "with the job's location");
	ok(starts(sv.req[2].head, "GET /bigquery/v2/projects/p/queries/job_d1?"),
	    "polled again while jobComplete is false");
	ok(starts(sv.req[3].head, "GET /bigquery/v2/projects/p/jobs/job_d1?location=EU "),
	    "then jobs.get for the dmlStats: %.60s", sv.req[3].head);
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_job_error_result(void)
{
	static const struct step steps[] = {
		{ 200, JSON_HDR, "{\"jobReference\":{\"projectId\":\"p\",\"jobId\":\"job_e1\"},"
		    "\"jobComplete\":true}" },
		{ 200, JSON_HDR, "{\"kind\":\"bigquery#job\",\"status\":{\"state\":\"DONE\","
		    "\"errorResult\":{\"reason\":\"jobBackendError\",\"message\":"
		    "\"The job encountered an error during execution.\"},\"errors\":[{"
		    "\"reason\":\"jobBackendError\",\"message\":"
		    "\"The job encountered an error during execution.\"}]}}" },
		{ 200, JSON_HDR, DONE("job_e2", "6", "1") },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;
	char r0[IG_UUID_LEN], r2[IG_UUID_LEN];

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), 0,
	    "a job whose errorResult is jobBackendError is re-run: %s", e.text);
	is_str(out.job_id, "job_e2", "the second job's id");
	is_int(out.inserted, 6, "its counts");
	is_int(mk.calls, 2, "the body was built twice");
	is_int(bq.job_retries, 1, "one job retry");
	is_int(bq.statements, 2, "two statements started");
	is_int(server_stop(&sv), 3, "three requests");
	ok(starts(sv.req[1].head, "GET /bigquery/v2/projects/p/jobs/job_e1?location=US "),
	    "jobs.get with the configured location when the answer has none: %.60s",
	    sv.req[1].head);
	ok(starts(sv.req[2].head, "POST /bigquery/v2/projects/p/queries "), "POST again");
	ok(strcmp(rid_of(&sv, 0, r0), rid_of(&sv, 2, r2)) != 0,
	    "with a new requestId (%s, %s)", r0, r2);
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static void
test_dml_job_error_data(void)
{
	static const struct step steps[] = {
		{ 200, JSON_HDR, "{\"jobReference\":{\"projectId\":\"p\",\"jobId\":\"job_f1\"},"
		    "\"jobComplete\":true}" },
		{ 200, JSON_HDR, "{\"status\":{\"state\":\"DONE\",\"errorResult\":{"
		    "\"reason\":\"invalidQuery\",\"message\":\"Bad double value: abc\"}}}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bq_dml out;
	struct maker mk = { 0 };
	enum ig_bq_class cls;
	struct ig_err e = IG_ERR_INIT;

	server_start(&sv, steps, NSTEPS(steps));
	open_bq(&bq, &c, &sv, h);
	is_int(ig_bq_run_dml(&bq, make_body, &mk, &out, &cls, &e), -1,
	    "a job that failed on its data");
	is_int(cls, IG_BQ_DATA, "cls IG_BQ_DATA");
	is_int(e.code, IG_EX_DATAERR, "IG_EX_DATAERR");
	ok(strstr(e.text, "Bad double value") != NULL, "BigQuery's message: %s", e.text);
	is_int(mk.calls, 1, "not re-run");
	is_int(server_stop(&sv), 2, "two requests");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
}

static char dir[] = "/tmp/test-bq-XXXXXX";

/* With credentials: a 401 renews the token once and the call is repeated. */
static void
test_call_renews(void)
{
	static const struct step steps[] = {
		{ 200, JSON_HDR, "{\"access_token\":\"ya29.a0-first-0001\",\"expires_in\":3599}" },
		{ 401, JSON_HDR, ERR_BODY(401, "authError", "Request had invalid authentication credentials.") },
		{ 200, JSON_HDR, "{\"access_token\":\"ya29.a0-second-0002\",\"expires_in\":3599}" },
		{ 200, JSON_HDR, "{\"kind\":\"bigquery#table\"}" },
		{ 401, JSON_HDR, ERR_BODY(401, "authError", "Request had invalid authentication credentials.") },
		{ 200, JSON_HDR, "{\"access_token\":\"ya29.a0-third-0003\",\"expires_in\":3599}" },
		{ 401, JSON_HDR, ERR_BODY(401, "authError", "Request had invalid authentication credentials.") },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_err e = IG_ERR_INIT;
	char path[512], root[64], uri[128];
	json_t *o, *doc = NULL;
	int st;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", sv.port);
	snprintf(uri, sizeof(uri), "%s/token", root);
	snprintf(path, sizeof(path), "%s/user.json", dir);
	o = json_pack("{ss ss ss ss ss ss}", "type", "authorized_user", "client_id", "cid",
	    "client_secret", "secret-0001", "refresh_token", "refresh-0001",
	    "token_uri", uri, "project_id", "p-from-file");
	json_dump_file(o, path, 0);
	json_decref(o);
	clear_env();
	setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
	setenv("BIGQUERY_API_URL", root, 1);
	memset(&c, 0, sizeof(c));
	is_int(ig_bq_config_env(&c, &e), 0, "configuration with BIGQUERY_API_URL");
	is_int(ig_bq_open(&bq, h, &c, &e), 0, "ig_bq_open with credentials: %s", e.text);
	is_str(c.project, "p-from-file", "the project comes from the credentials file");
	st = ig_bq_call(&bq, "GET", "/projects/p-from-file/datasets/livhana_prod/tables/sales",
	    NULL, 0, &doc, &e);
	is_int(st, 200, "a 401 is answered by renewing the token: %s", e.text);
	is_str(json_string_value(json_object_get(doc, "kind")), "bigquery#table",
	    "the answer is parsed");
	json_decref(doc);
	st = ig_bq_call(&bq, "GET", "/projects/p-from-file/datasets/livhana_prod", NULL, 0,
	    &doc, &e);
	is_int(st, 401, "a second 401 after renewing is returned");
	ok(doc != NULL && json_object_get(doc, "error") != NULL, "with its document");
	json_decref(doc);
	is_int(server_stop(&sv), 7, "seven requests");
	ok(starts(sv.req[1].head, "GET /bigquery/v2/projects/p-from-file/datasets/livhana_prod/tables/sales HTTP/1.1"),
	    "the call below /bigquery/v2");
	ok(has_line(sv.req[1].head, "Authorization: Bearer ya29.a0-first-0001"),
	    "with the first token");
	ok(has_line(sv.req[3].head, "Authorization: Bearer ya29.a0-second-0002"),
	    "then with the renewed one");
	ok(strstr(sv.req[3].head, "\r\nContent-Type:") == NULL, "no Content-Type without a body");
	server_free(&sv);
	ig_bq_close(&bq);
	ig_bq_close(&bq);
	ig_bq_config_release(&c);
	ig_http_free(h);
	unlink(path);
	clear_env();
}

int
main(void)
{
	FILE *logfp = tmpfile();

	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 99;
	}
	setenv("no_proxy", "*", 1);	/* the test server is local, never proxied */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ig_log_set_stream(logfp);	/* retry warnings stay out of TAP */
	test_classify();
	test_config_env();
	test_config_check();
	test_dml_transient();
	test_dml_rate_limited();
	test_dml_job_failed();
	test_dml_refused();
	test_dml_job_error_result();
	test_dml_job_error_data();
	test_call_renews();
	test_dml_poll();
	ok(ftell(logfp) > 0, "retries were logged");
	ok(rmdir(dir) == 0, "the scratch folder is left empty");
	ig_log_reset();
	fclose(logfp);
	curl_global_cleanup();
	return done_testing();
}
