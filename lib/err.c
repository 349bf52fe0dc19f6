/*
 * err.c: the error record of err.h.  Library code reports through it and
 * returns; only a tool's main() turns it into a log line and an exit code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void
vset(struct ig_err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
}

int
ig_err_set(struct ig_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
ig_err_errno(struct ig_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t len;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, code, fmt, ap);
	va_end(ap);
	len = strlen(e->text);
	snprintf(e->text + len, sizeof(e->text) - len, ": %s",
	    strerror(saved));
	return -1;
}

int
ig_err_prefix(struct ig_err *e, const char *fmt, ...)
{
	char old[sizeof(e->text)];
	va_list ap;
	size_t len;

	if (e == NULL)
		return -1;
	memcpy(old, e->text, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	len = strlen(e->text);
	snprintf(e->text + len, sizeof(e->text) - len, ": %s", old);
	return -1;
}

void
ig_err_clear(struct ig_err *e)
{
	e->code = IG_EX_OK;
	e->text[0] = '\0';
}

const char *
ig_exit_name(int code)
{
	switch (code) {
	case IG_EX_OK:		return "ok";
	case IG_EX_PARTIAL:	return "partial";
	case IG_EX_USAGE:	return "usage";
	case IG_EX_DATAERR:	return "dataerr";
	case IG_EX_NOINPUT:	return "noinput";
	case IG_EX_SOFTWARE:	return "software";
	case IG_EX_OSERR:	return "oserr";
	case IG_EX_IOERR:	return "ioerr";
	case IG_EX_TEMPFAIL:	return "tempfail";
	case IG_EX_PROTOCOL:	return "protocol";
	case IG_EX_NOPERM:	return "noperm";
	case IG_EX_CONFIG:	return "config";
	default:		return "error";
	}
}
