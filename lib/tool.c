/*
 * tool.c: process set-up and tear-down shared by the tools' main().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "tool.h"

void
ig_tool_init(const char *service)
{
	int fd;

	/* A closed 0-2 would let the next open() become stdin, stdout or stderr. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ig_log_init(service);
}

int
ig_tool_finish(struct ig_err *e)
{
	int code, werr = 0;

	if (fflush(stdout) == EOF)
		werr = errno;
	else if (ferror(stdout))
		werr = EIO;
	if (fclose(stdout) == EOF && werr == 0)
		werr = errno;
	/* A reader that went away (EPIPE) is its own business, not a write error. */
	if (werr != 0 && werr != EPIPE && e->code == IG_EX_OK) {
		errno = werr;
		ig_err_errno(e, IG_EX_IOERR, "cannot write standard output");
	}
	code = e->code;
	if (code != IG_EX_OK)
		ig_log_err(e);
	curl_global_cleanup();
	ig_log_reset();
	return code;
}

int
ig_parse_long(const char *opt, const char *s, long min, long max, long *out,
    struct ig_err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || v < min || v > max)
		return ig_err_set(e, IG_EX_USAGE,
		    "invalid value '%.64s' for %s: expected a whole number from %ld to %ld",
		    s, opt, min, max);
	*out = v;
	return 0;
}
