/*
 * err.h: exit codes shared by every tool, and the error record that
 * library functions fill in instead of printing or exiting.
 */
#ifndef IG_ERR_H
#define IG_ERR_H

#include <stddef.h>

/* The exit-code table of integration-env(7).  Values follow <sysexits.h>. */
enum {
	IG_EX_OK = 0,		/* everything was processed */
	IG_EX_PARTIAL = 1,	/* stopped or rejected part way: output is incomplete */
	IG_EX_USAGE = 64,	/* bad option or operand */
	IG_EX_DATAERR = 65,	/* malformed input record */
	IG_EX_NOINPUT = 66,	/* named input (file, week, item) does not exist */
	IG_EX_SOFTWARE = 70,	/* internal error: a bug */
	IG_EX_OSERR = 71,	/* out of memory or a system call failed */
	IG_EX_IOERR = 74,	/* cannot read input or write output */
	IG_EX_TEMPFAIL = 75,	/* timeout, refused connection, 429/5xx: try again later */
	IG_EX_PROTOCOL = 76,	/* the remote side answered something unexpected */
	IG_EX_NOPERM = 77,	/* credentials or token rejected upstream */
	IG_EX_CONFIG = 78	/* missing or invalid configuration */
};

/*
 * An error: a human message (no program prefix, no newline) and the exit
 * code a tool should end with.  Lives on the caller's stack; nothing to free.
 */
struct ig_err {
	int	code;
	char	text[512];
};

#define IG_ERR_INIT	{ IG_EX_OK, "" }

/* Sets e (if not NULL) and returns -1, so callers can `return ig_err_set(...)`. */
int	ig_err_set(struct ig_err *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Like ig_err_set, appending ": strerror(errno)". */
int	ig_err_errno(struct ig_err *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with more context ("while X: <old>"). */
int	ig_err_prefix(struct ig_err *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	ig_err_clear(struct ig_err *e);
/* The short name of an exit code ("tempfail"), for logs and svc-cgi bodies. */
const char *ig_exit_name(int code);

#endif
