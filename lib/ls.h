/*
 * ls.h: the Lightspeed Retail client behind ls-fetch.  Reads completed
 * sales from the R-Series (V3) or the X-Series (2.0) API and writes one
 * row per sale and product (integration-records(5)) to a stream.
 */
#ifndef IG_LS_H
#define IG_LS_H

#include <stdio.h>

#include "err.h"
#include "http.h"
#include "ts.h"

enum ig_ls_series { IG_LS_RSERIES, IG_LS_XSERIES };

struct ig_ls_config {
	enum ig_ls_series series;
	char	*base_url;	/* scheme://host[:port][/prefix], no trailing '/' */
	char	*token;		/* access token (R) or personal/OAuth token (X); may be NULL for R with refresh */
	char	*account_id;	/* R: NULL = discover with Account.json */
	char	*client_id;	/* R OAuth refresh; all three or none */
	char	*client_secret;
	char	*refresh_token;
	char	*token_file;	/* where rotated tokens are kept */
	char	*oauth_url;	/* R token endpoint */
	double	 window_s;	/* X rate-limit window (INTEGRATION_LS_WINDOW) */
};

struct ig_ls_query {
	ig_ts		since;
	ig_ts		until;		/* 0: no upper bound */
	long		limit;		/* sales to write; 0 = no limit */
	long		page_size;	/* 0: the series' maximum */
	long long	after;		/* X-Series: start after this version */
};

struct ig_ls_stats {
	unsigned long	sales;		/* sales written */
	unsigned long	rows;
	unsigned long	skipped;	/* sales skipped on purpose (voided ...) */
	unsigned long	bad;		/* sales that could not be mapped */
	unsigned long	lines_skipped;
	unsigned long	pages;
	unsigned long	refreshes;
	unsigned long	n429;
	ig_ts		last_ts;	/* completion time of the last sale written */
	long long	version;	/* X-Series: version.max of the last page done */
	int		limited;	/* stopped at --limit */
	int		closed;		/* stopped: the reader closed the output (EPIPE) */
};

/*
 * Fills c from the environment (LIGHTSPEED_*, INTEGRATION_LS_WINDOW).
 * 0, or -1 with IG_EX_CONFIG and a message naming the variable to fix.
 * Registers every secret with the log's redaction.
 */
int	ig_ls_config_env(struct ig_ls_config *c, struct ig_err *e);
void	ig_ls_config_release(struct ig_ls_config *c);
const char *ig_ls_series_name(enum ig_ls_series s);

/*
 * Fetches the sales of q and writes their rows to out, flushing after each
 * page.  Returns 0 when everything was written; -1 with e otherwise.  When
 * some pages were written before a failure, e->code is IG_EX_PARTIAL and
 * e->text says where to resume.  Sales that could not be mapped are logged
 * and counted in st->bad (the caller decides the exit code).
 */
int	ig_ls_fetch(struct ig_http *h, const struct ig_ls_config *c,
	    const struct ig_ls_query *q, FILE *out, struct ig_ls_stats *st,
	    struct ig_err *e);

#endif
