/*
 * pg.h: PostgreSQL through libpq, for the RPM tools.  One connection,
 * parameterized statements only, and errors told in the caller's terms:
 * a server that is down or restarting is IG_EX_TEMPFAIL, bad input is
 * IG_EX_DATAERR; PostgreSQL's own text goes to the DEBUG log only.
 */
#ifndef IG_PG_H
#define IG_PG_H

#include <libpq-fe.h>

#include "err.h"

struct ig_pg {
	PGconn	*conn;
	char	*conninfo;	/* kept to reconnect; may hold a password */
};

/*
 * Connects with conninfo (a URI or key=value string) plus defaults that
 * it may override: connect_timeout 5 s, statement_timeout 10 s, TimeZone
 * UTC (timestamps come back in UTC), application_name app.  0, or -1 with e (IG_EX_CONFIG for a malformed
 * string, IG_EX_TEMPFAIL when the server cannot be reached).
 */
int	ig_pg_open(struct ig_pg *db, const char *conninfo, const char *app,
	    struct ig_err *e);
/* The same with DATABASE_URL; unset is IG_EX_CONFIG. */
int	ig_pg_open_env(struct ig_pg *db, const char *app, struct ig_err *e);
void	ig_pg_close(struct ig_pg *db);		/* NULL-safe; wipes conninfo */
/* Reconnects after a failure.  0 or -1 with e. */
int	ig_pg_reset(struct ig_pg *db, struct ig_err *e);

/*
 * Runs sql with text parameters (NULL for SQL NULL).  Returns the result
 * of a statement that succeeded (PQclear it), or NULL with e set from the
 * error: what names the operation in the message.
 */
PGresult *ig_pg_exec(struct ig_pg *db, const char *sql, int n,
	    const char *const *params, const char *what, struct ig_err *e);
/* Runs a script without parameters (several statements).  0 or -1 with e. */
int	ig_pg_script(struct ig_pg *db, const char *sql, const char *what,
	    struct ig_err *e);
/* Whether the last failure may pass if the statement is tried again later. */
int	ig_pg_temporary(const struct ig_err *e);

#endif
