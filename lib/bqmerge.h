/*
 * bqmerge.h: the work of bq-merge.  Sales rows (integration-records(5))
 * are checked, gathered into batches (by rows and by request bytes, with
 * duplicate keys collapsed, the last one winning) and merged into a
 * BigQuery table with one parameterized MERGE per batch, keyed on
 * (sale_id, product_id).  A batch whose data BigQuery refuses is halved
 * until the refused rows are found; they go to the reject stream and
 * every other row is still merged.  Memory is bounded by one batch.
 */
#ifndef IG_BQMERGE_H
#define IG_BQMERGE_H

#include <stdio.h>

#include <jansson.h>

#include "bq.h"
#include "err.h"
#include "ndjson.h"
#include "ts.h"

#define IG_BQM_MAX_BYTES	(9u * 1000 * 1000)	/* request body cap: the API's is 10 MB */

struct ig_bqm_opts {
	long	 batch_rows;	/* rows per MERGE; default 1000 */
	size_t	 batch_bytes;	/* request body cap; default IG_BQM_MAX_BYTES */
	int	 insert_only;	/* keys already present are left alone */
	int	 prune;		/* the table is partitioned on DATE(timestamp) */
	FILE	*reject;	/* where rejected rows go (NDJSON); may be NULL */
	FILE	*dry;		/* dry run: requests are written here, not sent */
	long	 wait_ms;	/* timeoutMs of each request: how long BigQuery holds the answer; default 20000 */
};

struct ig_bqm_summary {
	unsigned long	read;		/* rows read (lines that were not blank) */
	unsigned long	inserted, updated, skipped, rejected;
	unsigned long	collapsed;	/* duplicate keys in a batch, earlier ones dropped */
	unsigned long	batches, statements;
	int		have_last;
	ig_ts		last_sync;	/* greatest timestamp among merged rows */
	json_t		*errors;	/* [{file, line, sale_id?, error}], at most 100 */
	unsigned long	errors_dropped;
};

struct ig_bqm;

/*
 * Borrows bq (whose configuration names the table; in a dry run it need
 * not be opened) and the FILEs in o.
 */
struct ig_bqm *ig_bqm_new(struct ig_bq *bq, const struct ig_bqm_opts *o,
	    struct ig_err *e);
void	ig_bqm_free(struct ig_bqm *m);		/* NULL-safe */
/*
 * Reads every row of in, merging each batch as it fills.  0, or -1 with e
 * when a batch could not be merged (rows already merged stay merged).
 */
int	ig_bqm_read(struct ig_bqm *m, struct ig_ndjson_in *in, struct ig_err *e);
/* Merges the last, partly filled batch. */
int	ig_bqm_flush(struct ig_bqm *m, struct ig_err *e);
const struct ig_bqm_summary *ig_bqm_summary(const struct ig_bqm *m);
/* Rows read but neither merged nor rejected (a failure stopped them). */
unsigned long ig_bqm_unsettled(const struct ig_bqm *m);
/*
 * The summary object: success, inserted, updated, skipped, rejected,
 * lastSync (or since when nothing was merged, absent when since is 0),
 * latency_ms, errors, and the counts rows, collapsed, statements.  New.
 */
json_t	*ig_bqm_summary_json(const struct ig_bqm *m, int success, ig_ts since,
	    long long latency_ms);

/*
 * --create-table: creates the dataset when it is missing, then runs the
 * table DDL of sql/bq-sales.sql (CREATE TABLE IF NOT EXISTS).
 */
int	ig_bqm_create_table(struct ig_bq *bq, struct ig_err *e);
/*
 * Reads the table's metadata: *prune is set when it is partitioned on
 * DATE(timestamp).  A missing table is IG_EX_CONFIG.
 */
int	ig_bqm_partitioned(struct ig_bq *bq, int *prune, struct ig_err *e);

/* The MERGE statement for the table (new string). */
char	*ig_bqm_statement(const struct ig_bq_config *c, int insert_only,
	    int prune);

#endif
