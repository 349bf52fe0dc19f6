/*
 * ls-fetch: reads completed sales from Lightspeed Retail (R-Series or
 * X-Series) and writes one JSON row per sale and product on stdout, in
 * the format of integration-records(5), flushing after each API page.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "ls.h"
#include "tool.h"
#include "ts.h"

static const char usage_text[] =
    "usage: ls-fetch [--since time] [--until time] [--limit n] [--page-size n]\n"
    "                [--timeout seconds] [--after version]\n"
    "       ls-fetch -h | --version\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

struct opts {
	const char	*since, *until;
	long		 limit, page_size, timeout;
	long long	 after;
};

static int
parse_args(int argc, char *argv[], struct opts *o, struct ig_err *e)
{
	static const struct option longopts[] = {
		{ "after",	required_argument, NULL, 'a' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "limit",	required_argument, NULL, 'l' },
		{ "page-size",	required_argument, NULL, 'p' },
		{ "since",	required_argument, NULL, 's' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "until",	required_argument, NULL, 'U' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	long v;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (ig_parse_long("--after", optarg, 0, 0x7fffffffffffffffL, &v, e) == -1)
				return -1;
			o->after = v;
			break;
		case 'h': usage(stdout); return 1;
		case 'l':
			if (ig_parse_long("--limit", optarg, 0, 100000000, &o->limit, e) == -1)
				return -1;
			break;
		case 'p':
			if (ig_parse_long("--page-size", optarg, 1, 200, &o->page_size, e) == -1)
				return -1;
			break;
		case 's': o->since = optarg; break;
		case 't':
			if (ig_parse_long("--timeout", optarg, 1, 3600, &o->timeout, e) == -1)
				return -1;
			break;
		case 'U': o->until = optarg; break;
		case 'V': printf("ls-fetch %s\n", IG_VERSION); return 1;
		default:
			return ig_err_set(e, IG_EX_USAGE, "unknown option '%s' or missing value; see ls-fetch -h",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ig_err_set(e, IG_EX_USAGE, "unexpected operand '%s'; see ls-fetch -h",
		    argv[optind]);
	return 0;
}

static int
make_query(const struct opts *o, const struct ig_ls_config *c,
    struct ig_ls_query *q, struct ig_err *e)
{
	ig_ts now;

	memset(q, 0, sizeof(*q));
	if (ig_ts_now(&now, e) == -1)
		return -1;
	q->since = now - 24 * 3600 * IG_TS_SEC;
	if (o->since != NULL && ig_ts_parse(o->since, IG_TS_DATE_OK, &q->since, e) == -1)
		return e->code = IG_EX_USAGE, ig_err_prefix(e, "--since");
	if (o->until != NULL && ig_ts_parse(o->until, IG_TS_DATE_OK, &q->until, e) == -1)
		return e->code = IG_EX_USAGE, ig_err_prefix(e, "--until");
	if (o->until != NULL && strlen(o->until) == 10)	/* a bare date: all of that day */
		q->until += 24 * 3600 * IG_TS_SEC - 1;
	if (q->until != 0 && q->until < q->since)
		return ig_err_set(e, IG_EX_USAGE, "--until is before --since");
	if (c->series == IG_LS_RSERIES && o->page_size > 100)
		return ig_err_set(e, IG_EX_USAGE, "--page-size: the R-Series API allows at most 100");
	if (c->series == IG_LS_RSERIES && o->after != 0)
		return ig_err_set(e, IG_EX_USAGE, "--after applies to the X-Series only");
	q->limit = o->limit;
	q->page_size = o->page_size;
	q->after = o->after;
	return 0;
}

static void
log_summary(const struct ig_ls_config *c, const struct ig_ls_stats *st,
    const struct ig_http_stats *hs, double elapsed)
{
	char ts[IG_TS_LEN];

	ig_logj(IG_LOG_INFO, json_pack(
	    "{ss ss sI sI sI sI sI sI sI sI sI sI sf sf sf ss* sI}",
	    "event", "summary", "series", ig_ls_series_name(c->series),
	    "sales", (json_int_t)st->sales, "rows", (json_int_t)st->rows,
	    "skipped", (json_int_t)st->skipped, "unreadable", (json_int_t)st->bad,
	    "lines_skipped", (json_int_t)st->lines_skipped,
	    "pages", (json_int_t)st->pages, "requests", (json_int_t)hs->requests,
	    "retries", (json_int_t)hs->retries, "http_429", (json_int_t)st->n429,
	    "token_refreshes", (json_int_t)st->refreshes,
	    "rate_wait_s", hs->pace_wait_s, "retry_wait_s", hs->retry_wait_s,
	    "elapsed_s", elapsed, "last_timestamp",
	    st->sales ? ig_ts_format(st->last_ts, -1, ts) : NULL,
	    "version", (json_int_t)st->version),
	    "fetched %lu sales as %lu rows (%lu skipped, %lu unreadable) in %lu pages",
	    st->sales, st->rows, st->skipped, st->bad, st->pages);
}

int
main(int argc, char *argv[])
{
	struct opts o = { NULL, NULL, 1000, 0, 30, 0 };
	struct ig_err e = IG_ERR_INIT;
	struct ig_ls_config c;
	struct ig_ls_query q;
	struct ig_ls_stats st;
	struct ig_http_opts ho;
	struct ig_http *h = NULL;
	char ts[IG_TS_LEN];
	double t0 = ig_ts_mono();
	int r;

	ig_tool_init("ls-fetch");
	memset(&c, 0, sizeof(c));
	if ((r = parse_args(argc, argv, &o, &e)) != 0) {
		if (r == -1)
			fprintf(stderr, "%s", usage_text);
		return ig_tool_finish(&e);
	}
	if (ig_ls_config_env(&c, &e) == -1 || make_query(&o, &c, &q, &e) == -1)
		goto out;
	ig_http_opts_init(&ho);
	ho.timeout_ms = o.timeout * 1000;
	if (ho.connect_timeout_ms > ho.timeout_ms)
		ho.connect_timeout_ms = ho.timeout_ms;
	if ((h = ig_http_new(&ho, &e)) == NULL)
		goto out;
	ig_logj(IG_LOG_INFO, json_pack("{ss ss ss sI}", "series",
	    ig_ls_series_name(c.series), "api", c.base_url, "since",
	    ig_ts_format(q.since, -1, ts), "limit", (json_int_t)q.limit),
	    "fetching %s sales", ig_ls_series_name(c.series));
	r = ig_ls_fetch(h, &c, &q, stdout, &st, &e);
	log_summary(&c, &st, ig_http_stats(h), ig_ts_mono() - t0);
	if (r == 0 && st.limited)
		ig_logj(IG_LOG_NOTICE, json_pack("{sI}", "limit", (json_int_t)q.limit),
		    "stopped at --limit %ld; continue with --since %s", q.limit,
		    ig_ts_format(st.last_ts, -1, ts));
	if (r == 0 && st.closed) {
		ig_log(IG_LOG_NOTICE, "the reader closed standard output after %lu sales; stopped",
		    st.sales);
		clearerr(stdout);
	}
	if (r == 0 && st.bad > 0)
		ig_err_set(&e, IG_EX_PARTIAL,
		    "%lu sales could not be turned into rows (logged above with their ids)",
		    st.bad);
out:
	ig_http_free(h);
	ig_ls_config_release(&c);
	return ig_tool_finish(&e);
}
