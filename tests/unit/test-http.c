/*
 * test-http.c: the HTTP client of http.h against a scripted HTTP/1.1
 * server running in a thread on 127.0.0.1 (retries, Retry-After, caps,
 * timeouts, pacer hooks), and its pure helpers.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "ts.h"
#include "tap.h"

/* One scripted answer. */
struct step {
	int		 status;	/* 0: hang up without answering */
	const char	*headers;	/* extra "Name: value\r\n" lines, or NULL */
	const char	*body;		/* NULL: empty */
	size_t		 body_len;	/* 0: strlen(body) */
	int		 delay_ms;	/* before answering */
};

/* One request as the server received it. */
struct seen_req {
	char	 head[2048];		/* request line and headers */
	char	*body;
	size_t	 body_len;
};

#define MAXREQ	16

struct server {
	int			 fd;
	int			 port;
	pthread_t		 thread;
	atomic_int		 stop;
	const struct step	*steps;
	int			 nsteps;
	pthread_mutex_t		 mu;
	int			 nreq;		/* requests received */
	struct seen_req		 req[MAXREQ];
};

/* Reads one request into r.  0, or -1 when the client went away. */
static int
read_request(int fd, struct seen_req *r)
{
	char buf[65536], *end, *cl;
	size_t len = 0, need;
	ssize_t n;

	for (;;) {
		if ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (len == sizeof(buf) - 1)
			return -1;
	}
	*end = '\0';
	need = (size_t)(end - buf);
	if (need >= sizeof(r->head))
		need = sizeof(r->head) - 1;
	memcpy(r->head, buf, need);
	r->head[need] = '\0';
	need = 0;
	for (cl = buf; (cl = strchr(cl, '\n')) != NULL; cl++)
		if (strncasecmp(cl + 1, "Content-Length:", 15) == 0)
			need = strtoul(cl + 16, NULL, 10);
	r->body = calloc(1, need + 1);
	r->body_len = len - (size_t)(end + 4 - buf);
	memcpy(r->body, end + 4, r->body_len);
	while (r->body_len < need) {
		if ((n = recv(fd, r->body + r->body_len, need - r->body_len, 0)) <= 0)
			return -1;
		r->body_len += (size_t)n;
	}
	return 0;
}

/* Waits ms, or less when the client hangs up.  0, or -1 when it did. */
static int
linger(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (ms <= 0)
		return 0;
	if (poll(&p, 1, ms) == 1 && recv(fd, &c, 1, MSG_PEEK) <= 0)
		return -1;
	return 0;
}

static void
answer(int fd, const struct step *s)
{
	char head[1024];
	size_t blen = s->body_len;
	int n;

	if (s->body != NULL && blen == 0)
		blen = strlen(s->body);
	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s\r\n",
	    s->status, blen, s->headers ? s->headers : "");
	send(fd, head, (size_t)n, MSG_NOSIGNAL);
	if (blen > 0)
		send(fd, s->body, blen, MSG_NOSIGNAL);
}

static void *
serve(void *arg)
{
	static const struct step exhausted = { 410, NULL, "script exhausted", 0, 0 };
	struct server *sv = arg;
	struct pollfd p;
	struct seen_req r;
	const struct step *s;
	int fd, i;

	while (!atomic_load(&sv->stop)) {
		p.fd = sv->fd;
		p.events = POLLIN;
		if (poll(&p, 1, 50) != 1)
			continue;
		if ((fd = accept(sv->fd, NULL, NULL)) == -1)
			continue;
		memset(&r, 0, sizeof(r));
		if (read_request(fd, &r) == -1) {
			free(r.body);
			close(fd);
			continue;
		}
		pthread_mutex_lock(&sv->mu);
		i = sv->nreq++;
		if (i < MAXREQ)
			sv->req[i] = r;
		else
			free(r.body);
		pthread_mutex_unlock(&sv->mu);
		s = i < sv->nsteps ? &sv->steps[i] : &exhausted;
		if (linger(fd, s->delay_ms) == 0 && s->status != 0)
			answer(fd, s);
		close(fd);
	}
	return NULL;
}

static void
server_start(struct server *sv, const struct step *steps, int nsteps)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int one = 1;

	memset(sv, 0, sizeof(*sv));
	sv->steps = steps;
	sv->nsteps = nsteps;
	pthread_mutex_init(&sv->mu, NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sv->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(sv->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(sv->fd, 16) == -1 ||
	    getsockname(sv->fd, (struct sockaddr *)&sin, &slen) == -1) {
		perror("test server");
		exit(99);
	}
	sv->port = ntohs(sin.sin_port);
	pthread_create(&sv->thread, NULL, serve, sv);
}

/* Stops the server: the number of requests it saw.  sv->req stays readable. */
static int
server_stop(struct server *sv)
{
	atomic_store(&sv->stop, 1);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	return sv->nreq;
}

static void
server_free(struct server *sv)
{
	int i;

	for (i = 0; i < sv->nreq && i < MAXREQ; i++)
		free(sv->req[i].body);
	pthread_mutex_destroy(&sv->mu);
}

/* A client with fast retries. */
static struct ig_http *
client(long timeout_ms, size_t max_body, int max_attempts)
{
	struct ig_http_opts o;
	struct ig_err e = IG_ERR_INIT;
	struct ig_http *h;

	ig_http_opts_init(&o);
	o.backoff_base_ms = 10;
	o.backoff_max_ms = 50;
	o.connect_timeout_ms = 2000;
	if (timeout_ms)
		o.timeout_ms = timeout_ms;
	if (max_body)
		o.max_body = max_body;
	if (max_attempts)
		o.max_attempts = max_attempts;
	if ((h = ig_http_new(&o, &e)) == NULL) {
		printf("# %s\n", e.text);
		exit(99);
	}
	return h;
}

static void
url_of(struct server *sv, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "http://127.0.0.1:%d%s", sv->port, path);
}

#define NSTEPS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static void
test_ok_and_headers(void)
{
	static const struct step steps[] = {
		{ 200, "X-Ls-Api-Bucket-Level: 1/90\r\n"
		    "Content-Type: application/json\r\n", "{\"ok\":true}", 0, 0 },
	};
	const char *hdrs[] = { "Accept: application/json", "X-Test: 1", NULL };
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/API/V3/Sale.json?x=1", url, sizeof(url));
	req.url = url;
	req.headers = hdrs;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0, "GET 200");
	is_int(resp.status, 200, "status 200");
	is_str(resp.body.data, "{\"ok\":true}", "body");
	is_str(ig_http_header(&resp, "x-ls-api-bucket-level"), "1/90",
	    "header lookup ignores case");
	is_str(ig_http_header(&resp, "CONTENT-TYPE"), "application/json",
	    "another header");
	ok(ig_http_header(&resp, "Retry-After") == NULL, "absent header is NULL");
	is_int(ig_http_stats(h)->requests, 1, "one request");
	is_int(ig_http_stats(h)->retries, 0, "no retry");
	is_int(server_stop(&sv), 1, "the server saw one request");
	ok(strncmp(sv.req[0].head, "GET /API/V3/Sale.json?x=1 HTTP/1.1\r\n", 36) == 0,
	    "request line");
	ok(strstr(sv.req[0].head, "\r\nX-Test: 1") != NULL, "caller's header sent");
	ok(strstr(sv.req[0].head, "\r\nUser-Agent: integration/") != NULL,
	    "default User-Agent");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ok(resp.hdrs == NULL && resp.nhdrs == 0 && resp.body.data == NULL,
	    "resp_release frees");
	ig_http_free(h);
	ig_http_free(NULL);
}

static void
test_retry_5xx(void)
{
	static const struct step steps[] = {
		{ 503, NULL, "busy", 0, 0 },
		{ 200, NULL, "done", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/r", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0, "503 then 200 succeeds");
	is_int(resp.status, 200, "final status 200");
	is_str(resp.body.data, "done", "final body only");
	is_int(ig_http_stats(h)->retries, 1, "one retry");
	is_int(ig_http_stats(h)->requests, 2, "two requests");
	ok(ig_http_stats(h)->retry_wait_s <= 0.011, "backoff within base 10 ms");
	is_int(server_stop(&sv), 2, "the server saw two requests");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_retry_after(void)
{
	static const struct step steps[] = {
		{ 429, "Retry-After: 1\r\n", "slow down", 0, 0 },
		{ 200, NULL, "ok", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];
	double t0, dt;

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/ra", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	t0 = ig_ts_mono();
	is_int(ig_http_do(h, &req, &resp, &e), 0, "429 then 200 succeeds");
	dt = ig_ts_mono() - t0;
	ok(dt >= 0.95 && dt < 3.0, "Retry-After: 1 waits about 1 s (%.3f s)", dt);
	ok(ig_http_stats(h)->retry_wait_s == 1.0, "retry_wait_s is 1");
	is_int(ig_http_stats(h)->retries, 1, "one retry");
	is_int(server_stop(&sv), 2, "two requests");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_too_long_retry_after(void)
{
	static const struct step steps[] = {
		{ 429, "Retry-After: 120\r\n", NULL, 0, 0 },
	};
	struct server sv;
	struct ig_http_opts o;
	struct ig_http *h;
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];
	double t0;

	ig_http_opts_init(&o);
	o.max_wait_ms = 5000;
	h = ig_http_new(&o, &e);
	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/far", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	t0 = ig_ts_mono();
	is_int(ig_http_do(h, &req, &resp, &e), -1,
	    "Retry-After beyond max_wait_ms gives up");
	ok(ig_ts_mono() - t0 < 2, "without waiting");
	is_int(e.code, IG_EX_TEMPFAIL, "IG_EX_TEMPFAIL");
	ok(strstr(e.text, "120") != NULL, "message gives the wait: %s", e.text);
	is_int(resp.status, 429, "resp holds the 429");
	is_int(server_stop(&sv), 1, "one request");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_no_retry_4xx(void)
{
	static const struct step steps[] = {
		{ 404, NULL, "{\"error\":\"nope\"}", 0, 0 },
		{ 200, NULL, "must not be asked", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/missing", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0, "404 is returned, not an error");
	is_int(resp.status, 404, "status 404");
	is_str(resp.body.data, "{\"error\":\"nope\"}", "404 body kept");
	is_int(ig_http_stats(h)->retries, 0, "no retry for 404");
	is_int(server_stop(&sv), 1, "one request");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_exhausted(void)
{
	static const struct step steps[] = {
		{ 503, NULL, "a", 0, 0 },
		{ 502, NULL, "b", 0, 0 },
		{ 500, NULL, "c", 0, 0 },
	};
	static const struct step one[] = {
		{ 503, NULL, "a", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 0, 3);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/down?token=secret", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), -1, "max_attempts exhausted fails");
	is_int(e.code, IG_EX_TEMPFAIL, "IG_EX_TEMPFAIL");
	ok(strstr(e.text, "GET /down") != NULL &&
	    strstr(e.text, "3 attempts") != NULL,
	    "message names the request and attempts: %s", e.text);
	ok(strstr(e.text, "secret") == NULL, "message leaves out the query");
	is_int(resp.status, 500, "resp holds the last response");
	is_str(resp.body.data, "c", "and its body");
	is_int(ig_http_stats(h)->requests, 3, "three requests");
	is_int(ig_http_stats(h)->retries, 2, "two retries");
	is_int(server_stop(&sv), 3, "the server saw three");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);

	h = client(0, 0, 0);
	server_start(&sv, one, NSTEPS(one));
	url_of(&sv, "/once", url, sizeof(url));
	req.url = url;
	req.no_retry = 1;
	req.what = "ping";
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), -1, "no_retry: a 503 fails at once");
	ok(strncmp(e.text, "ping: HTTP 503 after 1 attempt", 30) == 0,
	    "message uses req.what: %s", e.text);
	is_int(server_stop(&sv), 1, "one request with no_retry");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_max_body(void)
{
	static char big[2000];
	static struct step steps[] = {
		{ 200, NULL, big, sizeof(big), 0 },
		{ 200, NULL, "small", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 1000, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	memset(big, 'b', sizeof(big));
	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/big", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), -1, "a body over max_body fails");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	ok(strstr(e.text, "1000") != NULL, "message gives the cap: %s", e.text);
	ok(resp.body.len <= 1000, "the body kept is within the cap");
	is_int(ig_http_stats(h)->retries, 0, "not retried");
	is_int(server_stop(&sv), 1, "one request");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_transport_retries(void)
{
	static const struct step slow[] = {
		{ 200, NULL, "too late", 0, 3000 },
		{ 200, NULL, "in time", 0, 0 },
	};
	static const struct step hangup[] = {
		{ 0, NULL, NULL, 0, 0 },
		{ 200, NULL, "second try", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(300, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];
	double t0, dt;

	server_start(&sv, slow, NSTEPS(slow));
	url_of(&sv, "/slow", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	t0 = ig_ts_mono();
	is_int(ig_http_do(h, &req, &resp, &e), 0, "a timed-out attempt is retried");
	dt = ig_ts_mono() - t0;
	is_str(resp.body.data, "in time", "the retry's answer");
	is_int(ig_http_stats(h)->retries, 1, "one retry after the timeout");
	ok(dt >= 0.29 && dt < 2.5, "the first attempt stopped at timeout_ms (%.3f s)",
	    dt);
	is_int(server_stop(&sv), 2, "two requests");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);

	h = client(0, 0, 0);
	server_start(&sv, hangup, NSTEPS(hangup));
	url_of(&sv, "/hangup", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0,
	    "a connection closed without an answer is retried");
	is_str(resp.body.data, "second try", "the retry's answer");
	is_int(ig_http_stats(h)->retries, 1, "one retry after the hang-up");
	is_int(server_stop(&sv), 2, "two requests");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_refused(void)
{
	struct server sv;
	struct ig_http *h = client(0, 0, 2);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	/* A port that was just free: nothing listens there now. */
	server_start(&sv, NULL, 0);
	url_of(&sv, "/", url, sizeof(url));
	server_stop(&sv);
	server_free(&sv);
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), -1, "connection refused fails");
	is_int(e.code, IG_EX_TEMPFAIL, "refused is IG_EX_TEMPFAIL");
	is_int(ig_http_stats(h)->requests, 2, "and was retried up to max_attempts");
	is_int(resp.status, 0, "no status without a response");
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

struct pacer {
	char	trace[64];
	long	statuses[8];
	int	npace, nseen;
};

static double
pace(void *ctx)
{
	struct pacer *p = ctx;

	strcat(p->trace, "P");
	return p->npace++ == 0 ? 0.05 : 0;
}

static void
seen(void *ctx, const struct ig_http_resp *resp)
{
	struct pacer *p = ctx;

	strcat(p->trace, "S");
	if (p->nseen < 8)
		p->statuses[p->nseen] = resp->status;
	p->nseen++;
}

static void
test_pacer(void)
{
	static const struct step steps[] = {
		{ 429, NULL, NULL, 0, 0 },
		{ 503, NULL, NULL, 0, 0 },
		{ 200, NULL, "ok", 0, 0 },
	};
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	struct pacer p;
	char url[128];

	memset(&p, 0, sizeof(p));
	ig_http_set_pacer(h, pace, seen, &p);
	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/paced", url, sizeof(url));
	req.url = url;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0, "paced request succeeds");
	is_str(p.trace, "PSPSPS",
	    "pace before each attempt, seen after each response");
	ok(p.statuses[0] == 429 && p.statuses[1] == 503 && p.statuses[2] == 200,
	    "seen gets every status");
	ok(ig_http_stats(h)->pace_wait_s > 0.049 &&
	    ig_http_stats(h)->pace_wait_s < 0.051,
	    "pace_wait_s counts the pacer's wait");
	is_int(server_stop(&sv), 3, "three requests");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_post(void)
{
	static const char body[] = "{\"grant_type\":\"refresh_token\"}\n\x01\xff";
	static const struct step steps[] = {
		{ 201, NULL, "created", 0, 0 },
		{ 200, NULL, "", 0, 0 },
	};
	const char *hdrs[] = { "Content-Type: application/json", NULL };
	struct server sv;
	struct ig_http *h = client(0, 0, 0);
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	struct ig_err e = IG_ERR_INIT;
	char url[128];

	server_start(&sv, steps, NSTEPS(steps));
	url_of(&sv, "/token", url, sizeof(url));
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.body_len = sizeof(body) - 1;
	ig_http_resp_init(&resp);
	is_int(ig_http_do(h, &req, &resp, &e), 0, "POST");
	is_int(resp.status, 201, "status 201");

	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	req.headers = NULL;
	is_int(ig_http_do(h, &req, &resp, &e), 0, "DELETE");
	is_int(server_stop(&sv), 2, "two requests");
	ok(strncmp(sv.req[0].head, "POST /token HTTP/1.1\r\n", 22) == 0,
	    "POST request line");
	ok(strstr(sv.req[0].head, "\r\nContent-Type: application/json") != NULL,
	    "content type sent");
	is_int(sv.req[0].body_len, sizeof(body) - 1, "body length intact");
	ok(memcmp(sv.req[0].body, body, sizeof(body) - 1) == 0, "body bytes intact");
	ok(strncmp(sv.req[1].head, "DELETE /token HTTP/1.1\r\n", 24) == 0,
	    "custom method");
	server_free(&sv);
	ig_http_resp_release(&resp);
	ig_http_free(h);
}

static void
test_retry_after_values(void)
{
	time_t now = 1778782961;	/* 2026-05-14T18:22:41Z */
	time_t later = now + 10, earlier = now - 3600;
	struct tm tm;
	char date[64];

	ok(ig_http_retry_after("120", now) == 120, "delta-seconds 120");
	ok(ig_http_retry_after(" 3 ", now) == 3, "delta-seconds with spaces");
	ok(ig_http_retry_after("0", now) == 0, "delta-seconds 0");
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&later, &tm));
	ok(ig_http_retry_after(date, now) == 10, "HTTP date 10 s ahead (%s)", date);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&earlier, &tm));
	ok(ig_http_retry_after(date, now) == 0, "HTTP date in the past is 0");
	ok(ig_http_retry_after("soon", now) == -1, "garbage is -1");
	ok(ig_http_retry_after("3 seconds", now) == -1, "number with junk is -1");
	ok(ig_http_retry_after("", now) == -1, "empty is -1");
	ok(ig_http_retry_after(NULL, now) == -1, "NULL is -1");
}

static void
test_backoff(void)
{
	ok(ig_http_backoff(1, 500, 30000, 0) == 0, "r = 0 gives 0");
	ok(ig_http_backoff(5, 500, 30000, 0) == 0, "r = 0 gives 0 at any attempt");
	ok(ig_http_backoff(1, 500, 30000, 0.5) == 0.25, "attempt 1: up to base");
	ok(ig_http_backoff(1, 500, 30000, 0.999999) > 0.4999 &&
	    ig_http_backoff(1, 500, 30000, 0.999999) <= 0.5, "r near 1: the cap");
	ok(ig_http_backoff(3, 500, 30000, 0.999999) > 1.999 &&
	    ig_http_backoff(3, 500, 30000, 0.999999) <= 2,
	    "attempt 3: base * 4 (2 s)");
	ok(ig_http_backoff(10, 500, 30000, 0.999999) > 29.99 &&
	    ig_http_backoff(10, 500, 30000, 0.999999) <= 30, "capped at max");
	ok(ig_http_backoff(200, 500, 30000, 0.5) == 15, "huge attempt still capped");
	ok(ig_http_backoff(0, 500, 30000, 0.999999) <= 0.5, "attempt 0 treated as 1");
}

static void
test_pure(void)
{
	struct ig_buf b;
	static const long yes[] = { 408, 429, 500, 502, 503, 504, 599 };
	static const long no[] = {
		200, 201, 204, 301, 400, 401, 403, 404, 409, 499, 600
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(ig_http_status_retryable(yes[i]), "%ld is retryable", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!ig_http_status_retryable(no[i]), "%ld is not retryable", no[i]);

	ig_buf_init(&b, 1024);
	is_int(ig_http_urlencode(&b, ">=,2026-05-14T00:00:00+00:00"), 0, "urlencode");
	is_str(b.data, "%3E%3D%2C2026-05-14T00%3A00%3A00%2B00%3A00",
	    "urlencode of a Lightspeed filter");
	ig_buf_reset(&b);
	ig_http_urlencode(&b, "AZaz09-._~ /?&=\xc3\xa9");
	is_str(b.data, "AZaz09-._~%20%2F%3F%26%3D%C3%A9",
	    "unreserved kept, the rest percent-encoded");
	ig_buf_release(&b);
	ig_buf_init(&b, 4);
	is_int(ig_http_urlencode(&b, "a b"), -1, "urlencode respects the cap");
	ig_buf_release(&b);
}

int
main(void)
{
	FILE *logfp = tmpfile();

	setenv("no_proxy", "*", 1);	/* the test server is local, never proxied */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ig_log_set_stream(logfp);	/* retry warnings stay out of TAP */
	test_ok_and_headers();
	test_retry_5xx();
	test_retry_after();
	test_too_long_retry_after();
	test_no_retry_4xx();
	test_exhausted();
	test_max_body();
	test_transport_retries();
	test_refused();
	test_pacer();
	test_post();
	test_retry_after_values();
	test_backoff();
	test_pure();
	ok(ftell(logfp) > 0, "retries were logged");
	ig_log_reset();
	fclose(logfp);
	curl_global_cleanup();
	return done_testing();
}
