/*
 * bq.h: a BigQuery REST v2 client: configuration, authenticated calls,
 * and query jobs run to completion with Google's retry classes
 * (bigquery-api.md section 3.4).
 */
#ifndef IG_BQ_H
#define IG_BQ_H

#include <jansson.h>

#include "err.h"
#include "gauth.h"
#include "http.h"

struct ig_bq_config {
	char	*project;
	char	*dataset;
	char	*table;
	char	*location;
	char	*root;		/* scheme://host[:port], "/bigquery/v2" is appended */
	int	 anonymous;	/* BIGQUERY_EMULATOR_HOST: no authentication */
};

struct ig_bq {
	struct ig_http		*h;		/* borrowed */
	const struct ig_bq_config *c;		/* borrowed */
	struct ig_gauth		 auth;
	int			 have_auth;
	unsigned long		 statements;	/* jobs.query requests that started a job */
	unsigned long		 job_retries;	/* re-issued with a new requestId */
};

/* What a failed call means for the caller (bigquery-api.md 3.4). */
enum ig_bq_class {
	IG_BQ_OK,
	IG_BQ_TRANSIENT,	/* retry the same request, same requestId */
	IG_BQ_JOB_FAILED,	/* the job failed: retry with a new requestId */
	IG_BQ_AUTH,		/* 401: refresh the token once */
	IG_BQ_DATA,		/* the data of this batch was refused */
	IG_BQ_FATAL
};

/* The outcome of a DML job. */
struct ig_bq_dml {
	long long	inserted, updated, deleted;
	char		job_id[128];
};

/*
 * Reads GCP_PROJECT_ID (else GOOGLE_CLOUD_PROJECT), BIGQUERY_DATASET,
 * BIGQUERY_TABLE, BIGQUERY_LOCATION, BIGQUERY_EMULATOR_HOST and
 * BIGQUERY_API_URL into c; fields already set (from options) are kept.
 * The project may still be NULL: ig_bq_open takes it from the key file.
 */
int	ig_bq_config_env(struct ig_bq_config *c, struct ig_err *e);
void	ig_bq_config_release(struct ig_bq_config *c);
/* Checks names: project, dataset, table and location as BigQuery allows them. */
int	ig_bq_config_check(const struct ig_bq_config *c, struct ig_err *e);

/* Sets up credentials (unless anonymous) and fills c->project from them when unset. */
int	ig_bq_open(struct ig_bq *bq, struct ig_http *h, struct ig_bq_config *c,
	    struct ig_err *e);
void	ig_bq_close(struct ig_bq *bq);

/*
 * One authenticated call: method, a path below /bigquery/v2 ("/projects/
 * ..."), an optional JSON body.  On a 401 the token is renewed once.
 * Returns the HTTP status with the parsed answer in *doc (new; NULL when
 * not JSON), or -1 with e when no answer came (transport, after the
 * HTTP layer's retries).
 */
int	ig_bq_call(struct ig_bq *bq, const char *method, const char *path,
	    const char *body, size_t len, json_t **doc, struct ig_err *e);

/* Classifies an answer; reason and message (borrowed from doc, may be NULL) describe it. */
enum ig_bq_class ig_bq_classify(long status, const json_t *doc,
	    const char **reason, const char **message);

/*
 * Runs a jobs.query request to completion.  make_body(ctx, request_id)
 * returns the request body (new string) for a requestId; it is called
 * again with a new id only after a definite job failure.  Polls
 * getQueryResults while jobComplete is false, then reads dmlStats (from
 * jobs.get when the answer lacks them).  Returns 0 with out filled;
 * -1 with e and *cls telling why (IG_BQ_DATA: the data was refused,
 * e holds BigQuery's message).
 */
typedef char	*(*ig_bq_body_fn)(void *ctx, const char *request_id);
int	ig_bq_run_dml(struct ig_bq *bq, ig_bq_body_fn make_body, void *ctx,
	    struct ig_bq_dml *out, enum ig_bq_class *cls, struct ig_err *e);

#endif
