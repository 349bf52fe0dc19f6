/*
 * ls_rate.h: pacing for Lightspeed's rate limits, fed by the headers of
 * each response, so a run goes as fast as the account allows without a
 * 429 in steady state.
 *
 * R-Series: a leaky bucket (X-LS-API-Bucket-Level "level/size",
 * X-LS-API-Drip-Rate, X-LS-Api-Request-Cost) plus a one-second burst
 * limiter (X-LS-API-Burst-Level "used/limit").  A request is sent only
 * when the bucket, drained since it was last seen, has room for its cost.
 *
 * X-Series: a fixed window of requests (X-RateLimit-Limit,
 * X-RateLimit-Remaining).  Requests go out while some remain; then the
 * pacer waits for the window to end: X-RateLimit-Reset when the server
 * sends it, or a 429's Retry-After, else the window length after the
 * window's first response.
 */
#ifndef IG_LS_RATE_H
#define IG_LS_RATE_H

#include "http.h"

enum ig_ls_rate_model { IG_LS_RATE_BUCKET, IG_LS_RATE_WINDOW };

struct ig_ls_rate {
	enum ig_ls_rate_model model;
	/* bucket */
	int	have_bucket;
	double	level, size, drip, cost;
	double	bucket_seen;	/* when the level was read */
	double	burst_used, burst_limit, burst_seen;
	/* window */
	int	have_window;
	double	limit, remaining;
	double	window_len;
	double	window_start;	/* < 0: no window open */
	double	reset_at;	/* from X-RateLimit-Reset, as a monotonic time; 0 none */
	/* both */
	unsigned long n429;
	double	(*clock)(void);	/* monotonic seconds; ig_ts_mono unless a test sets it */
	double	(*wall)(void);	/* epoch seconds, for X-RateLimit-Reset */
};

/* window_len: the X-Series window in seconds (300 on the real API). */
void	ig_ls_rate_init(struct ig_ls_rate *r, enum ig_ls_rate_model m,
	    double window_len);
/* Seconds to wait before the next request may be sent (0 when it may go now). */
double	ig_ls_rate_delay(struct ig_ls_rate *r, double now);
/* Learns from a response's headers, read at time now. */
void	ig_ls_rate_update(struct ig_ls_rate *r, const struct ig_http_resp *resp,
	    double now);
/* Installs r as h's pacer. */
void	ig_ls_rate_attach(struct ig_ls_rate *r, struct ig_http *h);

#endif
