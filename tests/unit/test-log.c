/*
 * test-log.c: the diagnostic stream of log.h, captured in a memory
 * stream: JSON and text forms, levels, redaction and the request id.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "ts.h"
#include "tap.h"

#define SECRET	"s3cr3t-t0ken-value-0042"

static char	*cap_buf;
static size_t	 cap_len;
static FILE	*cap_fp;

/* Starts a case: a clean log writing to a fresh memory stream. */
static void
start(const char *format, const char *level, const char *request_id)
{
	ig_log_reset();
	if (format != NULL)
		setenv("LOG_FORMAT", format, 1);
	else
		unsetenv("LOG_FORMAT");
	if (level != NULL)
		setenv("LOG_LEVEL", level, 1);
	else
		unsetenv("LOG_LEVEL");
	if (request_id != NULL)
		setenv("REQUEST_ID", request_id, 1);
	else
		unsetenv("REQUEST_ID");
	cap_fp = open_memstream(&cap_buf, &cap_len);
	ig_log_set_stream(cap_fp);
	ig_log_init("test-log");
	fflush(cap_fp);
}

static void
finish(void)
{
	ig_log_reset();
	fclose(cap_fp);
	free(cap_buf);
	cap_fp = NULL;
	cap_buf = NULL;
}

/* The capture so far (never NULL). */
static const char *
captured(void)
{
	fflush(cap_fp);
	return cap_buf != NULL ? cap_buf : "";
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Line n (0-based) of the capture, parsed as JSON; NULL when it is not JSON. */
static json_t *
json_line(int n)
{
	const char *p = captured(), *end;
	json_t *o;

	while (n-- > 0 && (p = strchr(p, '\n')) != NULL)
		p++;
	if (p == NULL || *p == '\0')
		return NULL;
	end = strchr(p, '\n');
	o = json_loadb(p, end != NULL ? (size_t)(end - p) : strlen(p), 0, NULL);
	if (o == NULL)
		printf("#   not JSON: %.*s\n", (int)(end ? end - p : 80), p);
	return o;
}

static const char *
sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Whether any key or string anywhere in v contains needle. */
static int
json_contains(const json_t *v, const char *needle)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		return strstr(json_string_value(v), needle) != NULL;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
			if (strstr(key, needle) != NULL || json_contains(x, needle))
				return 1;
	}
	if (json_is_array(v))
		json_array_foreach(v, i, x)
			if (json_contains(x, needle))
				return 1;
	return 0;
}

static void
test_json(void)
{
	struct ig_err e = IG_ERR_INIT;
	ig_ts t, now;
	json_t *o;
	const char *ts, *line;

	start(NULL, NULL, "req-123");
	now = ig_ts_wall();
	ig_log(IG_LOG_WARNING, "hello %d", 5);
	is_int(count_lines(captured()), 1, "one event, one line");
	o = json_line(0);
	ok(o != NULL, "the line is JSON");
	is_str(sget(o, "severity"), "WARNING", "severity");
	is_str(sget(o, "message"), "hello 5", "message");
	is_str(sget(o, "service"), "test-log", "service");
	is_str(sget(o, "requestId"), "req-123", "requestId from REQUEST_ID");
	ts = sget(o, "timestamp");
	ok(ts != NULL && strlen(ts) == 24 && ts[10] == 'T' && ts[19] == '.' &&
	    ts[23] == 'Z', "timestamp has ms and Z: %s", ts ? ts : "(null)");
	ok(ts != NULL && ig_ts_parse(ts, 0, &t, &e) == 0 &&
	    t >= now - IG_TS_SEC && t <= ig_ts_wall() + IG_TS_SEC,
	    "timestamp is RFC 3339 and now");
	line = captured();
	ok(strncmp(line, "{\"severity\":", 12) == 0 &&
	    strstr(line, "\"timestamp\"") < strstr(line, "\"message\"") &&
	    strstr(line, "\"message\"") < strstr(line, "\"service\"") &&
	    strstr(line, "\"service\"") < strstr(line, "\"requestId\""),
	    "keys in the established order");
	json_decref(o);

	ig_logj(IG_LOG_INFO, json_pack("{si ss sb}", "page", 3, "what", "GET /x",
	    "last", 1), "page done");
	o = json_line(1);
	is_str(sget(o, "severity"), "INFO", "ig_logj severity");
	is_int(json_integer_value(json_object_get(o, "page")), 3,
	    "extra integer key");
	is_str(sget(o, "what"), "GET /x", "extra string key");
	ok(json_is_true(json_object_get(o, "last")), "extra boolean key");
	ok(strstr(captured(), "\"requestId\":\"req-123\",\"page\"") != NULL,
	    "event keys after the established ones");
	json_decref(o);

	ig_logj(IG_LOG_ERROR, json_pack("{ss ss}", "message", "forged",
	    "severity", "DEBUG"), "real");
	o = json_line(2);
	is_str(sget(o, "message"), "real", "extra keys cannot replace message");
	is_str(sget(o, "severity"), "ERROR", "extra keys cannot replace severity");
	json_decref(o);

	ig_logj(IG_LOG_INFO, NULL, "no extra");
	o = json_line(3);
	is_str(sget(o, "message"), "no extra", "ig_logj with NULL extra");
	json_decref(o);

	ig_err_set(&e, IG_EX_TEMPFAIL, "GET /x: HTTP 503 after 5 attempts");
	ig_log_err(&e);
	o = json_line(4);
	is_str(sget(o, "severity"), "ERROR", "ig_log_err at ERROR");
	is_str(sget(o, "message"), "GET /x: HTTP 503 after 5 attempts",
	    "ig_log_err message");
	is_str(sget(o, "code"), "tempfail", "ig_log_err code name");
	is_int(json_integer_value(json_object_get(o, "exit")), 75,
	    "ig_log_err exit code");
	json_decref(o);
	is_int(count_lines(captured()), 5, "five lines in all");
	finish();
}

static void
test_levels(void)
{
	json_t *o;

	start(NULL, NULL, "r");
	ig_log(IG_LOG_DEBUG, "hidden");
	ig_log(IG_LOG_INFO, "shown");
	is_int(count_lines(captured()), 1, "default level INFO drops DEBUG");
	ok(!ig_log_enabled(IG_LOG_DEBUG) && ig_log_enabled(IG_LOG_INFO),
	    "ig_log_enabled at INFO");
	finish();

	start(NULL, "warning", "r");
	ig_log(IG_LOG_INFO, "hidden");
	ig_log(IG_LOG_NOTICE, "hidden");
	ig_logj(IG_LOG_INFO, json_pack("{si}", "n", 1), "hidden");
	ig_log(IG_LOG_WARNING, "warn");
	ig_log(IG_LOG_CRITICAL, "crit");
	is_int(count_lines(captured()), 2, "LOG_LEVEL=warning keeps two of five");
	o = json_line(0);
	is_str(sget(o, "message"), "warn", "WARNING kept");
	json_decref(o);
	o = json_line(1);
	is_str(sget(o, "severity"), "CRITICAL", "CRITICAL kept");
	json_decref(o);
	ok(!ig_log_enabled(IG_LOG_NOTICE) && ig_log_enabled(IG_LOG_WARNING),
	    "ig_log_enabled at WARNING");
	finish();

	start(NULL, "DEBUG", "r");
	ig_log(IG_LOG_DEBUG, "dbg");
	is_int(count_lines(captured()), 1, "LOG_LEVEL=DEBUG (any case) shows DEBUG");
	finish();

	start(NULL, "warn", "r");
	ok(!ig_log_enabled(IG_LOG_INFO) && ig_log_enabled(IG_LOG_WARNING),
	    "LOG_LEVEL=warn is WARNING");
	finish();

	start(NULL, "loud", "r");
	is_int(count_lines(captured()), 1, "invalid LOG_LEVEL draws a warning");
	o = json_line(0);
	is_str(sget(o, "severity"), "WARNING", "the warning is a WARNING");
	ok(sget(o, "message") && strstr(sget(o, "message"), "LOG_LEVEL"),
	    "the warning names LOG_LEVEL");
	json_decref(o);
	ok(ig_log_enabled(IG_LOG_INFO) && !ig_log_enabled(IG_LOG_DEBUG),
	    "invalid LOG_LEVEL leaves INFO");
	finish();
}

static void
test_text(void)
{
	start("text", NULL, "r");
	ig_logj(IG_LOG_WARNING, json_pack("{ss si}", "k", "v", "n", 3),
	    "disk %s", "full");
	ig_log(IG_LOG_ERROR, "boom");
	ig_log(IG_LOG_INFO, "two\nlines\rhere");
	ig_logj(IG_LOG_NOTICE, json_pack("{ss}", "k", "a\nb"), "m");
	is_str(captured(),
	    "test-log: warning: disk full (k=v, n=3)\n"
	    "test-log: error: boom\n"
	    "test-log: info: two lines here\n"
	    "test-log: notice: m (k=a b)\n",
	    "text form, one line per event");
	finish();

	start("JSON", NULL, "r");
	ig_log(IG_LOG_INFO, "x");
	ok(captured()[0] == '{', "LOG_FORMAT=JSON (any case) is JSON");
	finish();

	start("yaml", NULL, "r");
	ig_log(IG_LOG_INFO, "x");
	is_int(count_lines(captured()), 2,
	    "invalid LOG_FORMAT: a warning and the line");
	ok(strstr(captured(), "LOG_FORMAT") != NULL, "the warning names LOG_FORMAT");
	ok(captured()[0] == '{', "invalid LOG_FORMAT keeps JSON");
	finish();
}

static void
test_newlines_json(void)
{
	json_t *o;

	start("json", NULL, "r");
	ig_logj(IG_LOG_INFO, json_pack("{ss}", "body", "x\ny"), "a\nb\r\nc");
	is_int(count_lines(captured()), 1, "message with newlines stays on one line");
	o = json_line(0);
	ok(o != NULL && strchr(sget(o, "message"), '\n') != NULL,
	    "the newline survives, escaped");
	json_decref(o);
	finish();
}

static void
test_secrets(void)
{
	json_t *o;
	char buf[128];

	start("json", NULL, "r");
	ig_log_secret(SECRET);
	ig_log_secret("abc");		/* under 4 bytes: ignored */
	ig_log(IG_LOG_INFO, "token=%s", SECRET);
	ig_logj(IG_LOG_INFO, json_pack("{ss s{ss} s[s]}", "auth",
	    "Bearer " SECRET, "nested", "t", SECRET "x", "list", SECRET),
	    "with extras");
	ig_logj(IG_LOG_INFO, json_pack("{si}", "key-" SECRET, 1), "secret as a key");
	ig_log(IG_LOG_INFO, "abc is not secret");
	is_int(count_lines(captured()), 4, "four JSON lines");
	ok(strstr(captured(), SECRET) == NULL, "the secret never appears in JSON");
	o = json_line(0);
	is_str(sget(o, "message"), "token=[redacted]", "message redacted");
	json_decref(o);
	o = json_line(1);
	is_str(sget(o, "auth"), "Bearer [redacted]", "extra value redacted");
	is_str(json_string_value(json_object_get(json_object_get(o, "nested"),
	    "t")), "[redacted]x", "nested extra value redacted");
	json_decref(o);
	o = json_line(2);
	ok(o != NULL && json_object_get(o, "key-[redacted]") != NULL,
	    "extra key redacted");
	json_decref(o);
	ok(strstr(captured(), "abc is not secret") != NULL,
	    "strings under 4 bytes are not secrets");
	finish();

	start("text", NULL, "r");
	ig_log_secret(SECRET);
	ig_log_secret("hunter");	/* shorter than "[redacted]" */
	ig_logj(IG_LOG_WARNING, json_pack("{ss s{ss} si}", "auth", SECRET,
	    "obj", "in", SECRET, "pw-hunter", 2), "see %s and hunter", SECRET);
	ok(strstr(captured(), SECRET) == NULL, "the secret never appears in text");
	ok(strstr(captured(), "hunter") == NULL, "a short secret never appears");
	ok(strncmp(captured(), "test-log: warning: see [redacted] and ",
	    38) == 0, "text message redacted");
	ok(strstr(captured(), "auth=[redacted]") != NULL,
	    "text extra value redacted");
	ok(strstr(captured(), "\"in\":\"[redacted]\"") != NULL,
	    "text nested value redacted");
	finish();

	/* A secret that JSON escapes ('"', '\\') must not leak escaped. */
	start("json", NULL, "r");
	ig_log_secret("pa\"ss\\word-1234");
	ig_logj(IG_LOG_INFO, json_pack("{ss}", "dsn",
	    "postgres://u:pa\"ss\\word-1234@h"), "connecting");
	o = json_line(0);
	if (!ok(o != NULL && !json_contains(o, "pa\"ss\\word-1234"),
	    "a secret that JSON escapes does not survive in an extra value"))
		printf("#   line: %s", captured());
	json_decref(o);
	ig_logj(IG_LOG_INFO, json_pack("{si}", "k-pa\"ss\\word-1234", 1),
	    "escaped secret in a key");
	o = json_line(1);
	if (!ok(o != NULL && !json_contains(o, "pa\"ss\\word-1234"),
	    "a secret that JSON escapes does not survive in an extra key"))
		printf("#   line: %s", strchr(captured(), '\n') + 1);
	json_decref(o);
	finish();

	/* ig_log_redact on its own, and the 16-secret limit. */
	start("json", NULL, "r");
	ig_log_secret(SECRET);
	snprintf(buf, sizeof(buf), "a %s b %s c", SECRET, SECRET);
	ig_log_redact(buf);
	is_str(buf, "a [redacted] b [redacted] c", "ig_log_redact, every occurrence");
	for (int i = 0; i < 16; i++) {
		snprintf(buf, sizeof(buf), "rotated-token-%02d", i);
		ig_log_secret(buf);
	}
	snprintf(buf, sizeof(buf), "%s rotated-token-00 rotated-token-15", SECRET);
	ig_log_redact(buf);
	is_str(buf, SECRET " [redacted] [redacted]",
	    "17 secrets: the oldest is dropped, the newest kept");
	finish();
}

static int
is_uuid4(const char *s)
{
	int i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void
test_request_id(void)
{
	char first[64], id128[130];
	json_t *o;

	start(NULL, NULL, "abc.DEF_1:2-3");
	is_str(ig_log_request_id(), "abc.DEF_1:2-3", "valid REQUEST_ID used");
	is_int(count_lines(captured()), 0, "no warning for a valid REQUEST_ID");
	finish();

	memset(id128, 'a', 128);
	id128[128] = '\0';
	start(NULL, NULL, id128);
	is_str(ig_log_request_id(), id128, "128-character REQUEST_ID used");
	finish();
	id128[128] = 'a';
	id128[129] = '\0';
	start(NULL, NULL, id128);
	ok(is_uuid4(ig_log_request_id()), "129-character REQUEST_ID replaced");
	finish();

	start(NULL, NULL, NULL);
	ok(is_uuid4(ig_log_request_id()), "missing REQUEST_ID: a UUID v4 (%s)",
	    ig_log_request_id());
	is_str(getenv("REQUEST_ID"), ig_log_request_id(),
	    "the new REQUEST_ID is exported");
	is_int(count_lines(captured()), 0, "no warning for a missing REQUEST_ID");
	snprintf(first, sizeof(first), "%s", ig_log_request_id());
	ig_log(IG_LOG_INFO, "x");
	o = json_line(0);
	is_str(sget(o, "requestId"), first, "the generated id is logged");
	json_decref(o);
	finish();
	start(NULL, NULL, "");
	ok(is_uuid4(ig_log_request_id()) && strcmp(first, ig_log_request_id()) != 0,
	    "empty REQUEST_ID: a new UUID, different from the last");
	is_int(count_lines(captured()), 0, "no warning for an empty REQUEST_ID");
	finish();

	start(NULL, NULL, "bad id");
	ok(is_uuid4(ig_log_request_id()), "REQUEST_ID with a space replaced");
	is_str(getenv("REQUEST_ID"), ig_log_request_id(),
	    "the replacement is exported");
	is_int(count_lines(captured()), 1, "a warning for the malformed REQUEST_ID");
	o = json_line(0);
	is_str(sget(o, "severity"), "WARNING", "it is a WARNING");
	ok(sget(o, "message") && strstr(sget(o, "message"), "REQUEST_ID"),
	    "it names REQUEST_ID");
	is_str(sget(o, "requestId"), ig_log_request_id(),
	    "the warning carries the new id");
	json_decref(o);
	finish();

	start(NULL, NULL, "inject\n{\"severity\":\"CRITICAL\"}");
	ok(is_uuid4(ig_log_request_id()), "REQUEST_ID with a newline replaced");
	is_int(count_lines(captured()), 1, "one warning line");
	ok(strstr(captured(), "inject") == NULL, "the bad id is not echoed");
	finish();
}

static void
test_reset(void)
{
	char path[] = "/tmp/test-log-XXXXXX", got[4096];
	int fd, saved;
	ssize_t n;
	json_t *o;

	start("text", "error", "req-1");
	ig_log_secret(SECRET);
	ig_log_reset();
	is_str(ig_log_request_id(), "", "reset forgets the request id");
	ok(ig_log_enabled(IG_LOG_INFO) && !ig_log_enabled(IG_LOG_DEBUG),
	    "reset restores level INFO");
	ig_log_set_stream(cap_fp);
	ig_log(IG_LOG_INFO, "after %s", SECRET);
	o = json_line(0);
	ok(o != NULL, "reset restores JSON");
	is_str(sget(o, "service"), "integration", "reset restores the service name");
	ok(json_object_get(o, "requestId") == NULL, "no requestId when none is set");
	is_str(sget(o, "message"), "after " SECRET, "reset forgets the secrets");
	json_decref(o);

	/* Reset sends lines back to stderr. */
	ig_log_reset();
	fd = mkstemp(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ig_log(IG_LOG_WARNING, "to stderr");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	ok(strstr(got, "\"message\":\"to stderr\"") != NULL,
	    "after reset, lines go to stderr");
	is_int(strlen(captured()), strcspn(captured(), "\n") + 1,
	    "and not to the old stream");
	finish();
}

int
main(void)
{
	test_json();
	test_levels();
	test_text();
	test_newlines_json();
	test_secrets();
	test_request_id();
	test_reset();
	unsetenv("REQUEST_ID");
	return done_testing();
}
