/*
 * tool.h: the start and end of every tool's main(): file descriptors,
 * signals, library initialisation, and turning an ig_err into an exit code.
 */
#ifndef IG_TOOL_H
#define IG_TOOL_H

#include "err.h"

/*
 * Makes sure fds 0-2 are open (so no socket can become stdout), ignores
 * SIGPIPE, initialises libcurl once and the log for service (a literal).
 */
void	ig_tool_init(const char *service);

/*
 * Flushes and closes stdout (a write error is a failure, EPIPE is quiet),
 * logs e when it holds an error, releases global state and returns the
 * exit code.
 */
int	ig_tool_finish(struct ig_err *e);

/* Parses a whole decimal number in [min, max]: 0, or -1 with IG_EX_USAGE. */
int	ig_parse_long(const char *opt, const char *s, long min, long max,
	    long *out, struct ig_err *e);

#endif
