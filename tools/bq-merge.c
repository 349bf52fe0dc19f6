/*
 * bq-merge: reads sales rows (integration-records(5)) from files or stdin
 * and merges them into a BigQuery table, idempotently: one parameterized
 * MERGE per batch keyed on (sale_id, product_id).  Rows that fail the
 * contract, or that BigQuery refuses, go to the reject stream; a summary
 * object goes to stdout at the end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bq.h"
#include "bqmerge.h"
#include "http.h"
#include "log.h"
#include "ndjson.h"
#include "tool.h"
#include "ts.h"

static const char usage_text[] =
    "usage: bq-merge [--create-table] [--dry-run] [--insert-only] [--no-prune]\n"
    "                [--batch-size n] [--reject file] [--since time] [--timeout seconds]\n"
    "                [--project id] [--dataset name] [--table name] [--location loc]\n"
    "                [file ...]\n"
    "       bq-merge -h | --version\n";

struct opts {
	long		 batch, timeout;
	int		 create, dry, insert_only, no_prune;
	const char	*reject, *since;
};

static int
dup_opt(char **dst, const char *v, struct ig_err *e)
{
	free(*dst);
	if ((*dst = strdup(v)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "out of memory");
	return 0;
}

static int
parse_args(int argc, char *argv[], struct opts *o, struct ig_bq_config *c,
    struct ig_err *e)
{
	static const struct option longopts[] = {
		{ "batch-size",	  required_argument, NULL, 'b' },
		{ "create-table", no_argument,	     NULL, 'C' },
		{ "dataset",	  required_argument, NULL, 'd' },
		{ "dry-run",	  no_argument,	     NULL, 'n' },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "insert-only",  no_argument,	     NULL, 'i' },
		{ "location",	  required_argument, NULL, 'L' },
		{ "no-prune",	  no_argument,	     NULL, 'P' },
		{ "project",	  required_argument, NULL, 'p' },
		{ "reject",	  required_argument, NULL, 'r' },
		{ "since",	  required_argument, NULL, 's' },
		{ "table",	  required_argument, NULL, 't' },
		{ "timeout",	  required_argument, NULL, 'T' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, r = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1 && r == 0) {
		switch (ch) {
		case 'b':
			r = ig_parse_long("--batch-size", optarg, 1, 100000, &o->batch, e);
			break;
		case 'C': o->create = 1; break;
		case 'd': r = dup_opt(&c->dataset, optarg, e); break;
		case 'h': fputs(usage_text, stdout); return 1;
		case 'i': o->insert_only = 1; break;
		case 'L': r = dup_opt(&c->location, optarg, e); break;
		case 'n': o->dry = 1; break;
		case 'P': o->no_prune = 1; break;
		case 'p': r = dup_opt(&c->project, optarg, e); break;
		case 'r': o->reject = optarg; break;
		case 's': o->since = optarg; break;
		case 't': r = dup_opt(&c->table, optarg, e); break;
		case 'T':
			r = ig_parse_long("--timeout", optarg, 1, 3600, &o->timeout, e);
			break;
		case 'V': printf("bq-merge %s\n", IG_VERSION); return 1;
		default:
			return ig_err_set(e, IG_EX_USAGE,
			    "unknown option '%s' or missing value; see bq-merge -h", argv[optind - 1]);
		}
	}
	return r;
}

/* Opens the connection, creates the table when asked, learns its partitioning. */
static int
prepare(struct ig_bq *bq, struct ig_bq_config *c, const struct opts *o,
    int *prune, struct ig_err *e)
{
	*prune = !o->no_prune;
	bq->c = c;
	if (o->dry) {	/* nothing is sent: the table is assumed to be the one --create-table makes */
		if (o->create)
			ig_log(IG_LOG_NOTICE, "dry run: --create-table sends nothing either");
		return ig_bq_config_check(c, e);
	}
	if (ig_bq_open(bq, bq->h, c, e) == -1)
		return -1;
	if (o->create && ig_bqm_create_table(bq, e) == -1)
		return -1;
	if (ig_bqm_partitioned(bq, prune, e) == -1)
		return -1;
	if (o->no_prune)
		*prune = 0;
	return 0;
}

static int
read_inputs(struct ig_bqm *m, int argc, char *argv[], struct ig_err *e)
{
	struct ig_ndjson_in in;
	int i, r;

	for (i = 0; i < argc || (argc == 0 && i == 0); i++) {
		if (ig_ndjson_open(&in, argc ? argv[i] : NULL, 0, e) == -1)
			return -1;
		r = ig_bqm_read(m, &in, e);
		ig_ndjson_close(&in);
		if (r == -1)
			return -1;
	}
	return ig_bqm_flush(m, e);
}

int
main(int argc, char *argv[])
{
	struct opts o = { 1000, 60, 0, 0, 0, 0, NULL, NULL };
	struct ig_err e = IG_ERR_INIT;
	struct ig_bq_config c;
	struct ig_bq bq;
	struct ig_bqm_opts mo;
	struct ig_bqm *m = NULL;
	struct ig_http_opts ho;
	FILE *rej = NULL;
	json_t *sum;
	ig_ts since = 0, t0 = ig_ts_wall();
	int r, prune, ok;

	ig_tool_init("bq-merge");
	memset(&c, 0, sizeof(c));
	memset(&bq, 0, sizeof(bq));
	if ((r = parse_args(argc, argv, &o, &c, &e)) != 0) {
		if (r == -1)
			fputs(usage_text, stderr);
		ig_bq_config_release(&c);
		return ig_tool_finish(&e);
	}
	argc -= optind;
	argv += optind;
	if (o.since != NULL && ig_ts_parse(o.since, IG_TS_DATE_OK, &since, &e) == -1) {
		e.code = IG_EX_USAGE;
		ig_err_prefix(&e, "--since");
		goto out;
	}
	for (r = 0; r < argc; r++)	/* before any request: a typo costs nothing */
		if (strcmp(argv[r], "-") != 0 && access(argv[r], R_OK) == -1) {
			ig_err_errno(&e, IG_EX_NOINPUT, "cannot read '%s'", argv[r]);
			goto out;
		}
	if (ig_bq_config_env(&c, &e) == -1)
		goto out;
	ig_http_opts_init(&ho);
	ho.timeout_ms = o.timeout * 1000;
	if ((bq.h = ig_http_new(&ho, &e)) == NULL || prepare(&bq, &c, &o, &prune, &e) == -1)
		goto out;
	if (o.reject != NULL && (rej = fopen(o.reject, "w")) == NULL) {
		ig_err_errno(&e, IG_EX_IOERR, "cannot write the reject file '%s'", o.reject);
		goto out;
	}
	memset(&mo, 0, sizeof(mo));
	mo.batch_rows = o.batch;
	mo.insert_only = o.insert_only;
	mo.prune = prune;
	mo.reject = rej;
	mo.dry = o.dry ? stdout : NULL;
	/* BigQuery must answer well within one HTTP attempt's --timeout. */
	mo.wait_ms = o.timeout * 1000 / 2 < 20000 ? o.timeout * 1000 / 2 : 20000;
	if ((m = ig_bqm_new(&bq, &mo, &e)) == NULL)
		goto out;
	read_inputs(m, argc, argv, &e);
	ok = e.code == IG_EX_OK && ig_bqm_unsettled(m) == 0;
	sum = ig_bqm_summary_json(m, ok, since, (ig_ts_wall() - t0) / 1000);
	if (sum != NULL && e.code != IG_EX_OK)
		json_array_append_new(json_object_get(sum, "errors"),
		    json_pack("{ss ss}", "sale_id", "unknown", "error", e.text));
	ig_ndjson_put(stdout, sum, 1);
	json_decref(sum);
	ig_logj(IG_LOG_INFO, json_pack("{ss sI sI sI sI sI sI sI}", "event", "summary",
	    "rows", (json_int_t)ig_bqm_summary(m)->read,
	    "inserted", (json_int_t)ig_bqm_summary(m)->inserted,
	    "updated", (json_int_t)ig_bqm_summary(m)->updated,
	    "skipped", (json_int_t)ig_bqm_summary(m)->skipped,
	    "rejected", (json_int_t)ig_bqm_summary(m)->rejected,
	    "statements", (json_int_t)ig_bqm_summary(m)->statements,
	    "unsettled", (json_int_t)ig_bqm_unsettled(m)),
	    "read %lu rows: %lu inserted, %lu updated, %lu skipped, %lu rejected",
	    ig_bqm_summary(m)->read, ig_bqm_summary(m)->inserted,
	    ig_bqm_summary(m)->updated, ig_bqm_summary(m)->skipped,
	    ig_bqm_summary(m)->rejected);
	if (e.code == IG_EX_OK && ig_bqm_summary(m)->rejected > 0)
		ig_err_set(&e, IG_EX_PARTIAL, "%lu rows were rejected (see --reject and the log)",
		    ig_bqm_summary(m)->rejected);
out:
	if (m == NULL && e.code != IG_EX_OK && e.code != IG_EX_USAGE) {
		/* Nothing was read: the summary still tells a script that nothing was merged. */
		sum = json_pack("{sb si si si si si s[{ss ss}]}", "success", 0,
		    "inserted", 0, "updated", 0, "skipped", 0, "rejected", 0,
		    "latency_ms", (int)((ig_ts_wall() - t0) / 1000), "errors",
		    "sale_id", "unknown", "error", e.text);
		ig_ndjson_put(stdout, sum, 1);
		json_decref(sum);
	}
	ig_bqm_free(m);
	if (rej != NULL && fclose(rej) == EOF && e.code == IG_EX_OK)
		ig_err_errno(&e, IG_EX_IOERR, "cannot write the reject file '%s'", o.reject);
	ig_bq_close(&bq);
	ig_http_free(bq.h);
	ig_bq_config_release(&c);
	return ig_tool_finish(&e);
}
