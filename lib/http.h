/*
 * http.h: the one HTTP client every tool uses, over a libcurl easy handle
 * (so connections are reused).  Timeouts, gzip, a capped response body,
 * and retries with exponential backoff and full jitter for transport
 * errors, 408, 429 and 5xx, honouring Retry-After in both its forms.  A
 * caller can pace requests through two hooks (rate limits).
 */
#ifndef IG_HTTP_H
#define IG_HTTP_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

struct ig_http_opts {
	long		 connect_timeout_ms;	/* default 10 000 */
	long		 timeout_ms;		/* one attempt, default 30 000 */
	size_t		 max_body;		/* response cap, default 32 MiB */
	int		 max_attempts;		/* default 5 */
	long		 backoff_base_ms;	/* default 500 */
	long		 backoff_max_ms;	/* default 30 000 */
	long		 max_wait_ms;		/* longest Retry-After obeyed, default 600 000 */
	const char	*user_agent;		/* default "integration/VERSION" */
};

struct ig_http_hdr {
	char	*name;
	char	*value;
};

struct ig_http_resp {
	long			 status;	/* 0 until a response arrived */
	struct ig_buf		 body;
	struct ig_http_hdr	*hdrs;		/* of the final response only */
	size_t			 nhdrs;
	size_t			 hdrsize;
};

struct ig_http_req {
	const char		*method;	/* "GET" when NULL */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-terminated; may be NULL */
	const char		*body;		/* NULL for none */
	size_t			 body_len;
	const char		*what;		/* names the request in logs; default: the URL's path */
	int			 no_retry;	/* one attempt only */
};

struct ig_http_stats {
	unsigned long	requests;	/* attempts sent */
	unsigned long	retries;
	double		pace_wait_s;	/* time spent waiting for the pacer */
	double		retry_wait_s;	/* time spent in backoff and Retry-After */
};

/* Before each attempt: seconds to wait before sending (0 for none). */
typedef double	(*ig_http_pace_fn)(void *ctx);
/* After each response, whatever its status. */
typedef void	(*ig_http_seen_fn)(void *ctx, const struct ig_http_resp *resp);

struct ig_http;

/* Sets every field of o to its default. */
void	ig_http_opts_init(struct ig_http_opts *o);
/* A new client (copies o), or NULL with e. Free with ig_http_free. */
struct ig_http *ig_http_new(const struct ig_http_opts *o, struct ig_err *e);
void	ig_http_free(struct ig_http *h);		/* NULL-safe */
void	ig_http_set_pacer(struct ig_http *h, ig_http_pace_fn pace,
	    ig_http_seen_fn seen, void *ctx);
const struct ig_http_stats *ig_http_stats(const struct ig_http *h);

void	ig_http_resp_init(struct ig_http_resp *r);
void	ig_http_resp_release(struct ig_http_resp *r);

/*
 * Sends req, retrying as described above.  0 when a response arrived that
 * is not retryable (any status: the caller judges 4xx); -1 with e when
 * retries ran out (IG_EX_TEMPFAIL), the response exceeded the cap
 * (IG_EX_PROTOCOL) or the request could not be made.  resp holds the last
 * response either way.
 */
int	ig_http_do(struct ig_http *h, const struct ig_http_req *req,
	    struct ig_http_resp *resp, struct ig_err *e);

/* The value of header name (case-insensitive) in r, or NULL.  Borrowed. */
const char *ig_http_header(const struct ig_http_resp *r, const char *name);

/* Whether a status is worth retrying: 408, 429, 5xx. */
int	ig_http_status_retryable(long status);
/* Seconds a Retry-After value asks for (delta-seconds or HTTP date), relative to now; -1 if unparsable. */
double	ig_http_retry_after(const char *value, time_t now);
/* Full-jitter backoff for attempt n (1-based): uniform in [0, min(max, base * 2^(n-1))], r in [0,1). */
double	ig_http_backoff(int n, long base_ms, long max_ms, double r);

/* Percent-encodes s (RFC 3986 unreserved kept) onto b. 0 or -1. */
int	ig_http_urlencode(struct ig_buf *b, const char *s);

#endif
