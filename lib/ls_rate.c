/*
 * ls_rate.c: the pacer of ls_rate.h.  Pure arithmetic over header values
 * and a clock, so tests can drive it with a fake clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ls_rate.h"
#include "ts.h"

/* Slack for clock granularity and rounding in the server's figures. */
#define MARGIN	0.01

static double
wall_now(void)
{
	return (double)ig_ts_wall() / IG_TS_SEC;
}

void
ig_ls_rate_init(struct ig_ls_rate *r, enum ig_ls_rate_model m, double window_len)
{
	memset(r, 0, sizeof(*r));
	r->model = m;
	r->window_len = window_len > 0 ? window_len : 300;
	r->window_start = -1;
	r->clock = ig_ts_mono;
	r->wall = wall_now;
}

/* Parses "a/b" into a and b. */
static int
fraction(const char *v, double *a, double *b)
{
	char *end;

	if (v == NULL)
		return -1;
	*a = strtod(v, &end);
	if (end == v || *end != '/')
		return -1;
	v = end + 1;
	*b = strtod(v, &end);
	return end == v || *b <= 0 ? -1 : 0;
}

static int
number(const char *v, double *out)
{
	char *end;

	if (v == NULL)
		return -1;
	*out = strtod(v, &end);
	return end == v ? -1 : 0;
}

static double
bucket_delay(const struct ig_ls_rate *r, double now)
{
	double w = 0, need;

	if (r->have_bucket && r->drip > 0) {
		/* level(now + w) = level - drip * (now + w - seen) must leave room for cost. */
		need = (r->level + r->cost - r->size) / r->drip -
		    (now - r->bucket_seen);
		if (need > 0)
			w = need + MARGIN;
	}
	if (r->burst_limit > 0 && r->burst_used >= r->burst_limit) {
		need = r->burst_seen + 1.0 + MARGIN - now;
		if (need > w)
			w = need;
	}
	return w;
}

static double
window_delay(struct ig_ls_rate *r, double now)
{
	double end;

	if (!r->have_window || r->remaining > 0)
		return 0;
	end = r->reset_at > 0 ? r->reset_at :
	    r->window_start >= 0 ? r->window_start + r->window_len : now;
	return end > now ? end - now + MARGIN : 0;
}

double
ig_ls_rate_delay(struct ig_ls_rate *r, double now)
{
	double w;

	if (r->model == IG_LS_RATE_BUCKET)
		return bucket_delay(r, now);
	w = window_delay(r, now);
	if (r->have_window && r->remaining <= 0 && w <= 0) {
		/* The window is over: the next response opens a new one. */
		r->window_start = -1;
		r->reset_at = 0;
		r->remaining = r->limit;
	}
	return w;
}

static void
update_bucket(struct ig_ls_rate *r, const struct ig_http_resp *resp, double now)
{
	double level, size, v;

	if (fraction(ig_http_header(resp, "X-LS-API-Bucket-Level"), &level,
	    &size) == 0) {
		r->have_bucket = 1;
		r->level = level;
		r->size = size;
		r->bucket_seen = now;
	}
	if (number(ig_http_header(resp, "X-LS-API-Drip-Rate"), &v) == 0 && v > 0)
		r->drip = v;
	if (number(ig_http_header(resp, "X-LS-Api-Request-Cost"), &v) == 0 &&
	    v > r->cost)
		r->cost = v;	/* the costliest request seen: safe for the next */
	if (fraction(ig_http_header(resp, "X-LS-API-Burst-Level"), &level,
	    &size) == 0) {
		r->burst_used = level;
		r->burst_limit = size;
		r->burst_seen = now;
	}
}

static void
update_window(struct ig_ls_rate *r, const struct ig_http_resp *resp, double now)
{
	double limit, remaining, reset;

	if (number(ig_http_header(resp, "X-RateLimit-Limit"), &limit) == 0 &&
	    number(ig_http_header(resp, "X-RateLimit-Remaining"), &remaining) == 0) {
		if (!r->have_window || r->window_start < 0 || remaining >= r->remaining)
			r->window_start = now;	/* first response of a new window */
		r->have_window = 1;
		r->limit = limit;
		r->remaining = remaining;
	}
	if (number(ig_http_header(resp, "X-RateLimit-Reset"), &reset) == 0 &&
	    reset > 0)
		r->reset_at = now + (reset - r->wall());
	/* A 429's Retry-After is the server's own word on when the window ends. */
	if (resp->status == 429 && (reset = ig_http_retry_after(
	    ig_http_header(resp, "Retry-After"), (time_t)r->wall())) >= 0)
		r->reset_at = now + reset;
}

void
ig_ls_rate_update(struct ig_ls_rate *r, const struct ig_http_resp *resp,
    double now)
{
	if (resp->status == 429)
		r->n429++;
	if (r->model == IG_LS_RATE_BUCKET)
		update_bucket(r, resp, now);
	else
		update_window(r, resp, now);
}

static double
pace(void *ctx)
{
	struct ig_ls_rate *r = ctx;

	return ig_ls_rate_delay(r, r->clock());
}

static void
seen(void *ctx, const struct ig_http_resp *resp)
{
	struct ig_ls_rate *r = ctx;

	ig_ls_rate_update(r, resp, r->clock());
}

void
ig_ls_rate_attach(struct ig_ls_rate *r, struct ig_http *h)
{
	ig_http_set_pacer(h, pace, seen, r);
}
