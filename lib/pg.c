/*
 * pg.c: the PostgreSQL connection of pg.h.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "str.h"

/* Server notices ("relation already exists, skipping") are for debugging, not stderr. */
static void
on_notice(void *arg, const char *msg)
{
	(void)arg;
	ig_logj(IG_LOG_DEBUG, json_pack("{ss}", "pg_notice", msg), "PostgreSQL notice");
}

static int
connect_db(struct ig_pg *db, const char *app, struct ig_err *e)
{
	/* Defaults first: the connection string's own values override them. */
	const char *keys[] = { "connect_timeout", "options", "application_name",
	    "dbname", NULL };
	const char *vals[] = { "5", "-c statement_timeout=10000 -c TimeZone=UTC", app,
	    db->conninfo, NULL };
	char *opt_err = NULL;
	PQconninfoOption *o;

	if ((o = PQconninfoParse(db->conninfo, &opt_err)) == NULL) {
		PQfreemem(opt_err);
		return ig_err_set(e, IG_EX_CONFIG,
		    "DATABASE_URL is not a valid PostgreSQL connection string");
	}
	PQconninfoFree(o);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL)
		return ig_err_set(e, IG_EX_OSERR, "out of memory");
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		ig_logj(IG_LOG_DEBUG, json_pack("{ss}", "pg_error",
		    PQerrorMessage(db->conn)), "cannot connect to PostgreSQL");
		if (PQconnectionNeedsPassword(db->conn) || PQconnectionUsedPassword(db->conn))
			return ig_err_set(e, IG_EX_CONFIG,
			    "the database refused the credentials in DATABASE_URL");
		return ig_err_set(e, IG_EX_TEMPFAIL,
		    "the database is not reachable (is PostgreSQL running, and is DATABASE_URL right?); try again later");
	}
	return 0;
}

int
ig_pg_open(struct ig_pg *db, const char *conninfo, const char *app,
    struct ig_err *e)
{
	memset(db, 0, sizeof(*db));
	if ((db->conninfo = strdup(conninfo)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "out of memory");
	return connect_db(db, app, e);
}

int
ig_pg_open_env(struct ig_pg *db, const char *app, struct ig_err *e)
{
	const char *url = getenv("DATABASE_URL");

	memset(db, 0, sizeof(*db));
	if (url == NULL || *url == '\0')
		return ig_err_set(e, IG_EX_CONFIG,
		    "DATABASE_URL is not set: give the PostgreSQL connection string (postgresql://user@host/db)");
	return ig_pg_open(db, url, app, e);
}

void
ig_pg_close(struct ig_pg *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	ig_str_wipe(&db->conninfo);
}

int
ig_pg_reset(struct ig_pg *db, struct ig_err *e)
{
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return ig_err_set(e, IG_EX_TEMPFAIL,
		    "the database is not reachable; try again later");
	return 0;
}

/* Sets e from a failed result (or a broken connection when r is NULL). */
static void
fail(struct ig_pg *db, const PGresult *r, const char *what, struct ig_err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);

	ig_logj(IG_LOG_DEBUG, json_pack("{ss* ss*}", "sqlstate", state,
	    "pg_error", msg), "%s failed", what);
	if (PQstatus(db->conn) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
		ig_err_set(e, IG_EX_TEMPFAIL,
		    "%s: the database is unavailable or busy; try again later", what);
	else if (strcmp(state, "57014") == 0)
		ig_err_set(e, IG_EX_TEMPFAIL, "%s: the statement took too long; try again later", what);
	else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		ig_err_set(e, IG_EX_DATAERR, "%s: the database refused the values", what);
	else if (strncmp(state, "42", 2) == 0)
		ig_err_set(e, IG_EX_CONFIG,
		    "%s: the database schema is not what this tool expects (run rpm-week migrate)", what);
	else
		ig_err_set(e, IG_EX_SOFTWARE, "%s: unexpected database error %s", what, state);
}

PGresult *
ig_pg_exec(struct ig_pg *db, const char *sql, int n, const char *const *params,
    const char *what, struct ig_err *e)
{
	PGresult *r;
	ExecStatusType st;

	r = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	fail(db, r, what, e);
	PQclear(r);
	return NULL;
}

int
ig_pg_script(struct ig_pg *db, const char *sql, const char *what,
    struct ig_err *e)
{
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		PQclear(r);
		return 0;
	}
	fail(db, r, what, e);
	PQclear(r);
	return -1;
}

int
ig_pg_temporary(const struct ig_err *e)
{
	return e->code == IG_EX_TEMPFAIL;
}
