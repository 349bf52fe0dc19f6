/*
 * log.c: the process's diagnostic stream (see log.h).  Its state is the
 * only global state in the library, and ig_log_reset() clears it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "ts.h"
#include "uuid.h"

#define MAX_SECRETS	16
#define REDACTED	"[redacted]"

static struct {
	char	 service[64];
	char	 request_id[129];
	int	 level;
	int	 json;
	FILE	*fp;
	char	*secrets[MAX_SECRETS];
	int	 nsecrets;
} L = { "integration", "", IG_LOG_INFO, 1, NULL, { NULL }, 0 };

static const char *names[] = {
	"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"
};

static FILE *
out(void)
{
	return L.fp != NULL ? L.fp : stderr;
}

static int
valid_request_id(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && strchr("._:-", s[n]) == NULL)
			return 0;
	return n > 0 && n < sizeof(L.request_id);
}

static int
parse_level(const char *s)
{
	static const char *alias[] = { "debug", "info", "notice", "warning",
	    "error", "critical" };
	int i;

	if (strcasecmp(s, "warn") == 0)
		return IG_LOG_WARNING;
	for (i = 0; i < 6; i++)
		if (strcasecmp(s, alias[i]) == 0)
			return i;
	return -1;
}

void
ig_log_init(const char *service)
{
	const char *v;
	int bad_level = 0, bad_format = 0, bad_id = 0;

	snprintf(L.service, sizeof(L.service), "%s", service);
	L.json = !isatty(fileno(out()));
	if ((v = getenv("LOG_FORMAT")) != NULL && *v != '\0') {
		if (strcasecmp(v, "json") == 0)
			L.json = 1;
		else if (strcasecmp(v, "text") == 0)
			L.json = 0;
		else
			bad_format = 1;
	}
	L.level = IG_LOG_INFO;
	if ((v = getenv("LOG_LEVEL")) != NULL && *v != '\0') {
		if (parse_level(v) >= 0)
			L.level = parse_level(v);
		else
			bad_level = 1;
	}
	v = getenv("REQUEST_ID");
	if (v != NULL && valid_request_id(v))
		snprintf(L.request_id, sizeof(L.request_id), "%s", v);
	else {
		bad_id = v != NULL && *v != '\0';
		ig_uuid_v4(L.request_id);
		setenv("REQUEST_ID", L.request_id, 1);
	}
	if (bad_format)
		ig_log(IG_LOG_WARNING, "ignoring LOG_FORMAT: expected json or text");
	if (bad_level)
		ig_log(IG_LOG_WARNING, "ignoring LOG_LEVEL: expected debug, info, notice, warning, error or critical");
	if (bad_id)
		ig_log(IG_LOG_WARNING, "ignoring malformed REQUEST_ID: expected 1 to 128 characters of A-Z a-z 0-9 . _ : -");
}

void
ig_log_reset(void)
{
	int i;

	for (i = 0; i < L.nsecrets; i++) {
		explicit_bzero(L.secrets[i], strlen(L.secrets[i]));
		free(L.secrets[i]);
		L.secrets[i] = NULL;
	}
	L.nsecrets = 0;
	snprintf(L.service, sizeof(L.service), "integration");
	L.request_id[0] = '\0';
	L.level = IG_LOG_INFO;
	L.json = 1;
	L.fp = NULL;
}

void
ig_log_set_stream(FILE *fp)
{
	L.fp = fp;
}

void
ig_log_secret(const char *secret)
{
	int i;

	if (secret == NULL || strlen(secret) < 4)
		return;
	for (i = 0; i < L.nsecrets; i++)
		if (strcmp(L.secrets[i], secret) == 0)
			return;
	if (L.nsecrets == MAX_SECRETS) {
		/* Drop the oldest: rotated tokens replace earlier ones. */
		explicit_bzero(L.secrets[0], strlen(L.secrets[0]));
		free(L.secrets[0]);
		memmove(L.secrets, L.secrets + 1, (MAX_SECRETS - 1) * sizeof(char *));
		L.nsecrets--;
	}
	if ((L.secrets[L.nsecrets] = strdup(secret)) != NULL)
		L.nsecrets++;
}

const char *
ig_log_request_id(void)
{
	return L.request_id;
}

int
ig_log_enabled(enum ig_log_level level)
{
	return (int)level >= L.level;
}

void
ig_log_redact(char *s)
{
	size_t slen, rlen = strlen(REDACTED);
	char *p;
	int i;

	for (i = 0; i < L.nsecrets; i++) {
		slen = strlen(L.secrets[i]);
		p = s;
		while ((p = strstr(p, L.secrets[i])) != NULL) {
			if (slen >= rlen) {
				memcpy(p, REDACTED, rlen);
				memmove(p + rlen, p + slen, strlen(p + slen) + 1);
				p += rlen;
			} else {
				memset(p, '*', slen);	/* the line must not grow */
				p += slen;
			}
		}
	}
}

static void
emit_json(enum ig_log_level level, const char *msg, json_t *extra)
{
	char ts[IG_TS_LEN], *line;
	json_t *o;

	o = json_object();
	json_object_set_new(o, "severity", json_string(names[level]));
	json_object_set_new(o, "timestamp",
	    json_string(ig_ts_format(ig_ts_wall(), 3, ts)));
	json_object_set_new(o, "message", json_string(msg));
	json_object_set_new(o, "service", json_string(L.service));
	if (L.request_id[0] != '\0')
		json_object_set_new(o, "requestId", json_string(L.request_id));
	if (extra != NULL)
		json_object_update_missing(o, extra);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line == NULL)
		return;
	ig_log_redact(line);
	fprintf(out(), "%s\n", line);
	fflush(out());
	free(line);
}

static void
emit_text(enum ig_log_level level, const char *msg, json_t *extra)
{
	char lower[16], *kv = NULL;
	const char *key;
	json_t *v;
	size_t i, len = 0;
	FILE *mem;

	for (i = 0; names[level][i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)names[level][i]);
	lower[i] = '\0';
	if ((mem = open_memstream(&kv, &len)) == NULL)
		return;
	fprintf(mem, "%s: %s: %s", L.service, lower, msg);
	if (extra != NULL && json_object_size(extra) > 0) {
		const char *sep = " (";
		json_object_foreach(extra, key, v) {
			char *s = json_is_string(v) ? NULL :
			    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			fprintf(mem, "%s%s=%s", sep, key,
			    s != NULL ? s : json_string_value(v));
			free(s);
			sep = ", ";
		}
		fputc(')', mem);
	}
	fclose(mem);
	for (i = 0; i < len; i++)	/* one event, one line */
		if (kv[i] == '\n' || kv[i] == '\r')
			kv[i] = ' ';
	ig_log_redact(kv);
	fprintf(out(), "%s\n", kv);
	fflush(out());
	free(kv);
}

/* Redacts secrets inside string values before encoding, where escaping could hide them. */
static void
redact_values(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	char *s;

	if (json_is_string(v)) {
		if ((s = strdup(json_string_value(v))) == NULL)
			return;
		ig_log_redact(s);
		json_string_set(v, s);
		free(s);
	} else if (json_is_object(v)) {
		json_t *copy = json_object();
		char *k;

		json_object_foreach(v, key, item) {
			if ((k = strdup(key)) == NULL)
				continue;
			redact_values(item);
			ig_log_redact(k);
			json_object_set(copy, k, item);
			free(k);
		}
		json_object_clear(v);
		json_object_update(v, copy);	/* keeps insertion order */
		json_decref(copy);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			redact_values(item);
	}
}

static void
vlog(enum ig_log_level level, json_t *extra, const char *fmt, va_list ap)
{
	char msg[2048];

	if (!ig_log_enabled(level)) {
		json_decref(extra);
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ig_log_redact(msg);
	if (L.nsecrets > 0)
		redact_values(extra);
	if (L.json)
		emit_json(level, msg, extra);
	else
		emit_text(level, msg, extra);
	json_decref(extra);
}

void
ig_log(enum ig_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void
ig_logj(enum ig_log_level level, json_t *extra, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, extra, fmt, ap);
	va_end(ap);
}

void
ig_log_err(const struct ig_err *e)
{
	ig_logj(IG_LOG_ERROR, json_pack("{ss si}", "code", ig_exit_name(e->code),
	    "exit", e->code), "%s", e->text[0] ? e->text : "unknown error");
}
