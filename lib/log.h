/*
 * log.h: diagnostics on stderr, one event per line.  JSON (the service's
 * established keys: severity, timestamp, message, service, requestId, then
 * event keys) when stderr is not a terminal, a short text form when it is;
 * LOG_FORMAT=json|text and LOG_LEVEL override.  Registered secrets are
 * replaced by "[redacted]" in every line, whatever code wrote it.
 */
#ifndef IG_LOG_H
#define IG_LOG_H

#include <stdio.h>

#include <jansson.h>

#include "err.h"

enum ig_log_level {
	IG_LOG_DEBUG, IG_LOG_INFO, IG_LOG_NOTICE, IG_LOG_WARNING,
	IG_LOG_ERROR, IG_LOG_CRITICAL
};

/*
 * Sets the service name (a literal such as "ls-fetch"), reads LOG_FORMAT,
 * LOG_LEVEL and REQUEST_ID, and creates and exports REQUEST_ID when it is
 * missing, so child processes log the same id.  Safe to call again; an
 * invalid LOG_* value is reported with a warning and ignored.
 */
void	ig_log_init(const char *service);
/* Forgets every setting and secret (wiping them); logging goes to stderr in JSON. */
void	ig_log_reset(void);
/* Sends log lines to fp instead of stderr (tests, svc-cgi). Borrows fp. */
void	ig_log_set_stream(FILE *fp);
/*
 * Registers a secret to redact; copies it.  Strings under 4 bytes are
 * ignored; secrets shorter than "[redacted]" become asterisks.
 */
void	ig_log_secret(const char *secret);
const char *ig_log_request_id(void);
int	ig_log_enabled(enum ig_log_level level);

/* Logs a message. */
void	ig_log(enum ig_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Logs a message with event keys; steals extra (an object, or NULL). */
void	ig_logj(enum ig_log_level level, json_t *extra, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Logs e at ERROR level with its exit code name as key "code". */
void	ig_log_err(const struct ig_err *e);

/* Replaces each registered secret in s (in place, never longer). */
void	ig_log_redact(char *s);

#endif
