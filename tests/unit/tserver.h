/*
 * tserver.h: a scripted HTTP/1.1 server on 127.0.0.1 in a thread, for the
 * unit tests of HTTP clients (bq, gauth, bqmerge): it answers a list of
 * steps in order and records each request it received.  Header-only, like
 * tap.h: each test is one program.
 */
#ifndef IG_TSERVER_H
#define IG_TSERVER_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"

/* One scripted answer. */
struct step {
	int		 status;	/* 0: hang up without answering */
	const char	*headers;	/* extra "Name: value\r\n" lines, or NULL */
	const char	*body;		/* NULL: empty */
};

/* One request as the server received it. */
struct seen_req {
	char	 head[4096];		/* request line and headers */
	char	*body;
	size_t	 body_len;
};

#define MAXREQ	32

/* A scripted HTTP/1.1 server on 127.0.0.1, as in test-http.c. */
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
	if (r->body_len > need)
		r->body_len = need;
	memcpy(r->body, end + 4, r->body_len);
	while (r->body_len < need) {
		if ((n = recv(fd, r->body + r->body_len, need - r->body_len, 0)) <= 0)
			return -1;
		r->body_len += (size_t)n;
	}
	return 0;
}

static void
answer(int fd, const struct step *s)
{
	char head[1024];
	size_t blen = s->body != NULL ? strlen(s->body) : 0;
	int n;

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
	static const struct step exhausted = { 410, NULL, "script exhausted" };
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
		if (s->status != 0)
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

/* The number of requests so far, while the server runs. */
__attribute__((unused)) static int
server_count(struct server *sv)
{
	int n;

	pthread_mutex_lock(&sv->mu);
	n = sv->nreq;
	pthread_mutex_unlock(&sv->mu);
	return n;
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
client(int max_attempts)
{
	struct ig_http_opts o;
	struct ig_err e = IG_ERR_INIT;
	struct ig_http *h;

	ig_http_opts_init(&o);
	o.backoff_base_ms = 10;
	o.backoff_max_ms = 50;
	o.connect_timeout_ms = 2000;
	o.timeout_ms = 10000;
	if (max_attempts)
		o.max_attempts = max_attempts;
	if ((h = ig_http_new(&o, &e)) == NULL) {
		printf("# %s\n", e.text);
		exit(99);
	}
	return h;
}

#define NSTEPS(a)	((int)(sizeof(a) / sizeof((a)[0])))

#endif
