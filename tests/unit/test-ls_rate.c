/*
 * test-ls_rate.c: the Lightspeed pacer of ls_rate.h, driven with
 * synthetic responses and a simulated clock, and a leaky-bucket server
 * model showing it runs at the allowed rate without a 429.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ls_rate.h"
#include "tap.h"

#define NEAR(got, want, tol)	((got) >= (want) - (tol) && (got) <= (want) + (tol))

/*
 * A response with status and the headers "name", "value", ... (up to a
 * NULL name); borrows the strings.
 */
static struct ig_http_resp *
mkresp(struct ig_http_resp *r, struct ig_http_hdr *h, size_t nh, long status, ...)
{
	va_list ap;
	char *name;

	memset(r, 0, sizeof(*r));
	r->status = status;
	r->hdrs = h;
	va_start(ap, status);
	while (r->nhdrs < nh && (name = va_arg(ap, char *)) != NULL) {
		h[r->nhdrs].name = name;
		h[r->nhdrs].value = va_arg(ap, char *);
		r->nhdrs++;
	}
	va_end(ap);
	return r;
}

static double fake_wall_now = 1.7e9;

static double
fake_wall(void)
{
	return fake_wall_now;
}

static void
test_bucket(void)
{
	struct ig_ls_rate r;
	struct ig_http_resp resp;
	struct ig_http_hdr h[8];
	double d;

	ig_ls_rate_init(&r, IG_LS_RATE_BUCKET, 0);
	ok(ig_ls_rate_delay(&r, 100) == 0, "nothing known: no delay");

	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "x-ls-api-bucket-level", "88/90", "X-LS-API-DRIP-RATE", "1",
	    "x-ls-api-request-cost", "2.2", NULL), 100);
	ok(r.have_bucket && r.level == 88 && r.size == 90 && r.drip == 1 &&
	    r.cost == 2.2, "headers read whatever their case");
	d = ig_ls_rate_delay(&r, 100);
	ok(d >= 0.2 && d <= 0.25, "88/90, cost 2.2, drip 1: about 0.2 s (%.4f)", d);
	d = ig_ls_rate_delay(&r, 100.1);
	ok(d >= 0.1 && d <= 0.15, "0.1 s later: about 0.1 s (%.4f)", d);
	ok(ig_ls_rate_delay(&r, 100 + ig_ls_rate_delay(&r, 100)) == 0,
	    "after waiting the delay: 0");
	ok(ig_ls_rate_delay(&r, 100.25) == 0, "0.25 s later: 0");

	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "10/90", "X-LS-Api-Request-Cost", "1", NULL),
	    200);
	ok(ig_ls_rate_delay(&r, 200) == 0, "10/90: no delay");
	ok(r.cost == 2.2, "the costliest request seen is kept");

	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "92.57/90", NULL), 300);
	d = ig_ls_rate_delay(&r, 300);
	ok(NEAR(d, 4.77, 0.05), "over-full 92.57/90: drains 4.77 s first (%.4f)", d);

	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "junk", "X-LS-API-Drip-Rate", "-3", NULL), 300);
	ok(r.level == 92.57 && r.drip == 1, "malformed level and drip ignored");

	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "60/100", "X-LS-API-Drip-Rate", "2", NULL), 400);
	ok(r.size == 100 && r.drip == 2 && ig_ls_rate_delay(&r, 400) == 0,
	    "a bigger account: size 100, drip 2");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "99/100", NULL), 400);
	d = ig_ls_rate_delay(&r, 400);
	ok(NEAR(d, 0.6, 0.02), "drip 2: (99 + 2.2 - 100) / 2 = 0.6 s (%.4f)", d);
}

static void
test_burst(void)
{
	struct ig_ls_rate r;
	struct ig_http_resp resp;
	struct ig_http_hdr h[8];
	double d;

	ig_ls_rate_init(&r, IG_LS_RATE_BUCKET, 0);
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "x-ls-api-burst-level", "19/20", NULL), 50);
	ok(ig_ls_rate_delay(&r, 50) == 0, "burst 19/20: no delay");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Burst-Level", "20/20", NULL), 50);
	d = ig_ls_rate_delay(&r, 50);
	ok(d > 0.9 && d <= 1.05, "burst 20/20: up to 1 s (%.4f)", d);
	d = ig_ls_rate_delay(&r, 50.5);
	ok(d > 0.4 && d <= 0.55, "half a second later: the rest (%.4f)", d);
	ok(ig_ls_rate_delay(&r, 50 + ig_ls_rate_delay(&r, 50)) == 0,
	    "after the wait: 0");

	/* With both limits, the longer wait wins. */
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "89/90", "X-LS-API-Drip-Rate", "1",
	    "X-LS-Api-Request-Cost", "3", "X-LS-API-Burst-Level", "20/20", NULL), 60);
	d = ig_ls_rate_delay(&r, 60);
	ok(NEAR(d, 2.0, 0.02), "bucket (2 s) beats burst (1 s): %.4f", d);
}

static void
test_window(void)
{
	struct ig_ls_rate r;
	struct ig_http_resp resp;
	struct ig_http_hdr h[8];
	double d;

	ig_ls_rate_init(&r, IG_LS_RATE_WINDOW, 300);
	r.wall = fake_wall;
	ok(ig_ls_rate_delay(&r, 10) == 0, "nothing known: no delay");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "x-ratelimit-limit", "350", "X-RATELIMIT-REMAINING", "349", NULL), 10);
	ok(r.have_window && r.window_start == 10, "first response opens a window");
	ok(ig_ls_rate_delay(&r, 10) == 0, "remaining 349: no delay");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-RateLimit-Limit", "350", "X-RateLimit-Remaining", "1", NULL), 90);
	ok(ig_ls_rate_delay(&r, 90) == 0 && r.window_start == 10,
	    "remaining 1: no delay, same window");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-RateLimit-Limit", "350", "X-RateLimit-Remaining", "0", NULL), 100);
	d = ig_ls_rate_delay(&r, 100);
	ok(NEAR(d, 210, 0.05), "remaining 0: wait for window_start + 300 (%.3f)", d);
	d = ig_ls_rate_delay(&r, 250);
	ok(NEAR(d, 60, 0.05), "150 s later: 60 s more (%.3f)", d);
	ok(r.remaining == 0, "the window is still closed");
	ok(ig_ls_rate_delay(&r, 310.02) == 0, "at the window's end: 0");
	ok(r.remaining == 350 && r.window_start < 0,
	    "the window reset after the wait");
	ok(ig_ls_rate_delay(&r, 311) == 0, "and requests go again");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-RateLimit-Limit", "350", "X-RateLimit-Remaining", "349", NULL), 312);
	ok(r.window_start == 312, "the next response opens a new window");

	/* X-RateLimit-Reset (epoch seconds) beats the window length. */
	ig_ls_rate_init(&r, IG_LS_RATE_WINDOW, 300);
	r.wall = fake_wall;
	{
		char reset[32];

		snprintf(reset, sizeof(reset), "%.0f", fake_wall_now + 60);
		ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
		    "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0",
		    "x-ratelimit-reset", reset, NULL), 20);
	}
	d = ig_ls_rate_delay(&r, 20);
	ok(NEAR(d, 60, 0.05), "X-RateLimit-Reset 60 s ahead: 60 s (%.3f)", d);
	ok(ig_ls_rate_delay(&r, 80.02) == 0 && r.reset_at == 0,
	    "after it: 0 and the reset time cleared");

	/* A 429's Retry-After ends the wait sooner than the estimated window. */
	ig_ls_rate_init(&r, IG_LS_RATE_WINDOW, 300);
	r.wall = fake_wall;
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "5", NULL), 30);
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 429,
	    "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0",
	    "Retry-After", "2", NULL), 40);
	d = ig_ls_rate_delay(&r, 40);
	ok(NEAR(d, 2, 0.05), "429 with Retry-After 2: wait 2 s, not the window (%.3f)", d);
	ok(ig_ls_rate_delay(&r, 42.02) == 0, "and go after it");

	/* A bucket model ignores window headers and the reverse. */
	ig_ls_rate_init(&r, IG_LS_RATE_BUCKET, 0);
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", NULL), 20);
	ok(ig_ls_rate_delay(&r, 20) == 0, "bucket model ignores X-RateLimit-*");
	ig_ls_rate_init(&r, IG_LS_RATE_WINDOW, 0);
	ok(r.window_len == 300, "window_len 0 means 300 s");
	ig_ls_rate_update(&r, mkresp(&resp, h, 8, 200,
	    "X-LS-API-Bucket-Level", "90/90", "X-LS-API-Drip-Rate", "1", NULL), 20);
	ok(ig_ls_rate_delay(&r, 20) == 0, "window model ignores the bucket");
}

static void
test_429(void)
{
	struct ig_ls_rate r;
	struct ig_http_resp resp;
	struct ig_http_hdr h[4];

	ig_ls_rate_init(&r, IG_LS_RATE_BUCKET, 0);
	ig_ls_rate_update(&r, mkresp(&resp, h, 4, 429, "Retry-After", "1", NULL), 1);
	ig_ls_rate_update(&r, mkresp(&resp, h, 4, 200, NULL), 2);
	ig_ls_rate_update(&r, mkresp(&resp, h, 4, 429, NULL), 3);
	is_int(r.n429, 2, "bucket model counts 429s");
	ig_ls_rate_init(&r, IG_LS_RATE_WINDOW, 300);
	ig_ls_rate_update(&r, mkresp(&resp, h, 4, 429, NULL), 1);
	is_int(r.n429, 1, "window model counts 429s");
}

/*
 * The R-Series server as documented: a leaky bucket of size 90 draining 1
 * per second; a request is allowed while the level is below the size and
 * adds its cost.  Each request takes latency s to come back.
 */
struct bucket_server {
	double	level, last, size, drip, cost;
};

static long
bucket_serve(struct bucket_server *s, double t, struct ig_http_resp *resp,
    struct ig_http_hdr *h, char *levelbuf)
{
	long status = 429;

	s->level -= s->drip * (t - s->last);
	if (s->level < 0)
		s->level = 0;
	s->last = t;
	if (s->level < s->size) {
		s->level += s->cost;
		status = 200;
	}
	sprintf(levelbuf, "%.2f/%.0f", s->level, s->size);
	mkresp(resp, h, 4, status, "X-LS-API-Bucket-Level", levelbuf,
	    "X-LS-API-Drip-Rate", "1", "X-LS-Api-Request-Cost", "2.2", NULL);
	return status;
}

static void
test_simulation(void)
{
	struct bucket_server s = { 0, 0, 90, 1, 2.2 };
	struct ig_ls_rate r;
	struct ig_http_resp resp;
	struct ig_http_hdr h[4];
	char levelbuf[64];
	double t = 0, latency = 0.05, sent[300], rate;
	int i, rejected = 0, immediate = 0;

	ig_ls_rate_init(&r, IG_LS_RATE_BUCKET, 0);
	for (i = 0; i < 300; i++) {
		double d = ig_ls_rate_delay(&r, t);

		immediate += d == 0;
		t += d;
		sent[i] = t;
		if (bucket_serve(&s, t + latency / 2, &resp, h, levelbuf) != 200)
			rejected++;
		t += latency;
		ig_ls_rate_update(&r, &resp, t);
	}
	is_int(rejected, 0, "300 paced requests: no 429");
	is_int(r.n429, 0, "and the pacer saw none");
	ok(immediate >= 35, "the bucket's room is used at once (%d requests)",
	    immediate);
	rate = (299 - 100) / (sent[299] - sent[100]);
	ok(rate >= 0.9 * 1 / 2.2, "steady state %.4f req/s >= 0.9 * drip/cost",
	    rate);
	ok(rate <= 1.001 / 2.2, "and not above drip/cost (%.4f)", rate);

	/* The model can reject: the same requests unpaced draw 429s. */
	memset(&s, 0, sizeof(s));
	s.size = 90;
	s.drip = 1;
	s.cost = 2.2;
	rejected = 0;
	for (i = 0, t = 0; i < 300; i++, t += latency)
		if (bucket_serve(&s, t, &resp, h, levelbuf) != 200)
			rejected++;
	ok(rejected > 100, "unpaced, the server model rejects (%d)", rejected);
}

int
main(void)
{
	test_bucket();
	test_burst();
	test_window();
	test_429();
	test_simulation();
	return done_testing();
}
