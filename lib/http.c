/*
 * http.c: the HTTP client of http.h.  One libcurl easy handle per client,
 * so a run reuses its connections; no redirects are followed (they could
 * carry credentials elsewhere) and only http and https are allowed.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"
#include "log.h"
#include "ts.h"

struct ig_http {
	CURL			*curl;
	struct ig_http_opts	 o;
	ig_http_pace_fn		 pace;
	ig_http_seen_fn		 seen;
	void			*ctx;
	struct ig_http_stats	 stats;
	uint64_t		 rng;
	int			 toolarge;	/* the body hit the cap */
};

void
ig_http_opts_init(struct ig_http_opts *o)
{
	o->connect_timeout_ms = 10000;
	o->timeout_ms = 30000;
	o->max_body = 32u * 1024 * 1024;
	o->max_attempts = 5;
	o->backoff_base_ms = 500;
	o->backoff_max_ms = 30000;
	o->max_wait_ms = 600000;
	o->user_agent = "integration/" IG_VERSION;
}

struct ig_http *
ig_http_new(const struct ig_http_opts *o, struct ig_err *e)
{
	struct ig_http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		ig_err_errno(e, IG_EX_OSERR, "cannot create HTTP client");
		return NULL;
	}
	h->o = *o;
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		ig_err_set(e, IG_EX_OSERR, "cannot create HTTP client: curl_easy_init failed");
		return NULL;
	}
	if (getrandom(&h->rng, sizeof(h->rng), 0) != sizeof(h->rng) || h->rng == 0)
		h->rng = (uint64_t)time(NULL) * 2654435761u + 1;
	return h;
}

void
ig_http_free(struct ig_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
ig_http_set_pacer(struct ig_http *h, ig_http_pace_fn pace, ig_http_seen_fn seen,
    void *ctx)
{
	h->pace = pace;
	h->seen = seen;
	h->ctx = ctx;
}

const struct ig_http_stats *
ig_http_stats(const struct ig_http *h)
{
	return &h->stats;
}

void
ig_http_resp_init(struct ig_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	ig_buf_init(&r->body, 0);
}

static void
clear_headers(struct ig_http_resp *r)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	r->nhdrs = 0;
}

void
ig_http_resp_release(struct ig_http_resp *r)
{
	clear_headers(r);
	free(r->hdrs);
	r->hdrs = NULL;
	r->hdrsize = 0;
	ig_buf_release(&r->body);
	r->status = 0;
}

const char *
ig_http_header(const struct ig_http_resp *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

int
ig_http_status_retryable(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

double
ig_http_retry_after(const char *v, time_t now)
{
	const char *p;
	time_t when;
	char *end;
	double s;

	if (v == NULL)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	for (p = v; isdigit((unsigned char)*p); p++)
		;
	if (p != v) {	/* delta-seconds: digits only */
		errno = 0;
		s = (double)strtol(v, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		return *end == '\0' && errno == 0 ? s : -1;
	}
	if ((when = curl_getdate(v, NULL)) == -1)
		return -1;
	return when > now ? (double)(when - now) : 0;
}

double
ig_http_backoff(int n, long base_ms, long max_ms, double r)
{
	double cap = (double)base_ms * pow(2, n > 1 ? n - 1 : 0);

	if (cap > max_ms)
		cap = (double)max_ms;
	return r * cap / 1000.0;
}

static double
uniform(struct ig_http *h)
{
	/* xorshift64*: jitter only, not for secrets. */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return (double)((h->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct ig_http *h = ((void **)arg)[0];
	struct ig_http_resp *r = ((void **)arg)[1];

	if (ig_buf_add(&r->body, p, size * n) == -1) {
		h->toolarge = 1;
		return 0;
	}
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct ig_http_resp *r = arg;
	size_t len = size * n, nlen;
	const char *colon, *v, *end;
	struct ig_http_hdr *nh;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		clear_headers(r);	/* a new response (after 100 Continue) */
		return len;
	}
	if ((colon = memchr(p, ':', len)) == NULL)
		return len;
	nlen = (size_t)(colon - p);
	for (v = colon + 1; v < p + len && (*v == ' ' || *v == '\t'); v++)
		;
	for (end = p + len; end > v && isspace((unsigned char)end[-1]); end--)
		;
	if (r->nhdrs == r->hdrsize) {
		size_t ns = r->hdrsize ? r->hdrsize * 2 : 16;
		if (ns > 256)	/* cap: a response with more headers is cut */
			return len;
		if ((nh = realloc(r->hdrs, ns * sizeof(*nh))) == NULL)
			return 0;
		r->hdrs = nh;
		r->hdrsize = ns;
	}
	r->hdrs[r->nhdrs].name = strndup(p, nlen);
	r->hdrs[r->nhdrs].value = strndup(v, (size_t)(end - v));
	if (r->hdrs[r->nhdrs].name == NULL || r->hdrs[r->nhdrs].value == NULL) {
		free(r->hdrs[r->nhdrs].name);
		free(r->hdrs[r->nhdrs].value);
		return 0;
	}
	r->nhdrs++;
	return len;
}

static int
transport_retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return 1;
	default:
		return 0;
	}
}

/* The request's name in messages: its method and path, never its query. */
static void
describe(const struct ig_http_req *req, char *buf, size_t size)
{
	const char *u = req->url, *p;
	size_t n;

	if (req->what != NULL) {
		snprintf(buf, size, "%s", req->what);
		return;
	}
	if ((p = strstr(u, "://")) != NULL && (p = strchr(p + 3, '/')) != NULL)
		u = p;
	n = strcspn(u, "?#");
	snprintf(buf, size, "%s %.*s", req->method ? req->method : "GET",
	    (int)(n > 200 ? 200 : n), u);
}

static int
setup(struct ig_http *h, const struct ig_http_req *req, struct curl_slist **hl,
    void **arg, struct ig_http_resp *resp)
{
	CURL *c = h->curl;
	const char *const *hp;
	struct curl_slist *t;

	curl_easy_reset(c);
	*hl = NULL;
	for (hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		if ((t = curl_slist_append(*hl, *hp)) == NULL)
			return -1;
		*hl = t;
	}
	if (req->body != NULL && (t = curl_slist_append(*hl, "Expect:")) != NULL)
		*hl = t;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->o.user_agent);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, arg);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	if (req->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
	}
	if (req->method != NULL && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	else if (req->method != NULL && strcmp(req->method, "POST") == 0 &&
	    req->body == NULL)
		curl_easy_setopt(c, CURLOPT_POST, 1L), curl_easy_setopt(c,
		    CURLOPT_POSTFIELDSIZE, 0L);
	return 0;
}

/* Sends one attempt. Returns the CURLcode; resp filled. */
static CURLcode
attempt(struct ig_http *h, const struct ig_http_req *req,
    struct ig_http_resp *resp)
{
	struct curl_slist *hl = NULL;
	void *arg[2] = { h, resp };
	CURLcode rc;

	ig_buf_release(&resp->body);
	ig_buf_init(&resp->body, h->o.max_body);
	clear_headers(resp);
	resp->status = 0;
	h->toolarge = 0;
	if (setup(h, req, &hl, arg, resp) == -1) {
		curl_slist_free_all(hl);
		return CURLE_OUT_OF_MEMORY;
	}
	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hl);
	h->stats.requests++;
	return rc;
}

int
ig_http_do(struct ig_http *h, const struct ig_http_req *req,
    struct ig_http_resp *resp, struct ig_err *e)
{
	char what[256], why[160];
	double wait, ra;
	CURLcode rc;
	int n, max = req->no_retry ? 1 : h->o.max_attempts;

	describe(req, what, sizeof(what));
	for (n = 1;; n++) {
		if (h->pace != NULL && (wait = h->pace(h->ctx)) > 0) {
			ig_ts_sleep(wait);
			h->stats.pace_wait_s += wait;
		}
		rc = attempt(h, req, resp);
		if (rc == CURLE_WRITE_ERROR && h->toolarge)
			return ig_err_set(e, IG_EX_PROTOCOL,
			    "%s: response larger than %zu bytes", what,
			    h->o.max_body);
		if (rc == CURLE_OK && h->seen != NULL)
			h->seen(h->ctx, resp);
		if (rc == CURLE_OK && !ig_http_status_retryable(resp->status))
			return 0;
		if (rc != CURLE_OK && !transport_retryable(rc))
			return ig_err_set(e, rc == CURLE_OUT_OF_MEMORY ?
			    IG_EX_OSERR : IG_EX_TEMPFAIL, "%s: %s", what,
			    curl_easy_strerror(rc));
		if (rc == CURLE_OK)
			snprintf(why, sizeof(why), "HTTP %ld", resp->status);
		else
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
		if (n >= max)
			return ig_err_set(e, IG_EX_TEMPFAIL,
			    "%s: %s after %d attempt%s", what, why, n,
			    n == 1 ? "" : "s");
		wait = ig_http_backoff(n, h->o.backoff_base_ms,
		    h->o.backoff_max_ms, uniform(h));
		ra = rc == CURLE_OK ? ig_http_retry_after(
		    ig_http_header(resp, "Retry-After"), time(NULL)) : -1;
		if (ra >= 0) {
			if (ra * 1000 > h->o.max_wait_ms)
				return ig_err_set(e, IG_EX_TEMPFAIL,
				    "%s: %s, and the server asks to wait %.0f s (more than %ld s): try again later",
				    what, why, ra, h->o.max_wait_ms / 1000);
			wait = ra;
		}
		ig_logj(IG_LOG_WARNING, json_pack("{si si sf}", "attempt", n,
		    "status", (int)resp->status, "wait_s", wait),
		    "%s: %s, retrying in %.2f s", what, why, wait);
		ig_ts_sleep(wait);
		h->stats.retries++;
		h->stats.retry_wait_s += wait;
	}
}

int
ig_http_urlencode(struct ig_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (ig_buf_add(b, s, 1) == -1)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
		if (ig_buf_add(b, enc, 3) == -1)
			return -1;
	}
	return 0;
}
