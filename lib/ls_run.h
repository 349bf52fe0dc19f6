/*
 * ls_run.h: the state of one ig_ls_fetch() call, shared by the R-Series
 * and X-Series page loops (ls_rseries.c, ls_xseries.c).  Internal to the
 * Lightspeed modules.
 */
#ifndef IG_LS_RUN_H
#define IG_LS_RUN_H

#include <jansson.h>

#include "ls.h"
#include "ls_auth.h"
#include "ls_rate.h"
#include "ls_rows.h"

struct ig_ls_run {
	struct ig_http			*h;
	const struct ig_ls_config	*c;
	const struct ig_ls_query	*q;
	FILE				*out;
	struct ig_ls_stats		*st;
	struct ig_ls_auth		 auth;
	struct ig_ls_rate		 rate;
	struct ig_ls_sale		*page;	/* the current page's sales */
	size_t				 npage, pagesize;
	json_t				*names;	/* X-Series product id -> name */
};

/*
 * GETs url with the run's credentials and parses the JSON answer into
 * *doc (new reference).  Refreshes an R-Series token that expired or drew
 * a 401, once.  Returns the HTTP status (200, or 404 when allow404), or
 * -1 with e for every other outcome.
 */
int	ig_ls_run_get(struct ig_ls_run *r, const char *url, const char *what,
	    int allow404, json_t **doc, struct ig_err *e);
/* Whether a sale completed at ts falls inside the query's times. */
int	ig_ls_run_wanted(const struct ig_ls_run *r, ig_ts ts);
/* Whether the sales written and kept already reach --limit (the rest of a page is not needed). */
int	ig_ls_run_full(const struct ig_ls_run *r);
/* Takes a mapped sale (steals its contents) into the current page when it falls inside the query's times. */
int	ig_ls_run_keep(struct ig_ls_run *r, struct ig_ls_sale *s);
/* Logs and counts a sale that gave no rows. */
void	ig_ls_run_skip(struct ig_ls_run *r, const char *id,
	    enum ig_ls_verdict v, const char *why);
/* Writes the page's sales in completion order and flushes.  1 when --limit was reached, 0, or -1 with e. */
int	ig_ls_run_flush(struct ig_ls_run *r, struct ig_err *e);

int	ig_ls_rseries(struct ig_ls_run *r, struct ig_err *e);
int	ig_ls_xseries(struct ig_ls_run *r, struct ig_err *e);

#endif
