/*
 * rpm.c: the RPM commands of rpm.h.  Every statement is a constant with
 * parameters; items are checked here first so that errors speak of the
 * fields the caller sent, never of PostgreSQL.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpm.h"
#include "rpm_migrations.h"
#include "uuid.h"

#define MIGRATION_LOCK	"7241960001"	/* pg_advisory_lock key of rpm-week migrate */
#define TEXT_MAX	2000		/* result, purpose */
#define NAME_MAX_CHARS	100		/* owner_role, owner_user, each tag */
#define LIST_MAX	50		/* entries in tags, cialdini, compliance_flags */
#define MAP_MAX		65536		/* bytes of map_json */

static const char *const statuses[] = { "backlog", "ready", "doing", "review",
    "done", "blocked", NULL };

/* ---- checking items ---- */

static int
bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static int
opt_text(const json_t *o, const char *key, size_t max, char *why, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(why, size, "%s must be a string", key);
	if (chars(json_string_value(v), json_string_length(v)) > max)
		return bad(why, size, "%s must be at most %zu characters", key, max);
	return 0;
}

static int
opt_list(const json_t *o, const char *key, char *why, size_t size)
{
	const json_t *v = json_object_get(o, key), *x;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(why, size, "%s must be an array of strings", key);
	if (json_array_size(v) > LIST_MAX)
		return bad(why, size, "%s must have at most %d entries", key, LIST_MAX);
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0)
			return bad(why, size, "%s must be an array of non-empty strings", key);
		if (chars(json_string_value(x), json_string_length(x)) > NAME_MAX_CHARS)
			return bad(why, size, "each entry of %s must be at most %d characters",
			    key, NAME_MAX_CHARS);
	}
	return 0;
}

static int
check_title(const json_t *v, char *why, size_t size)
{
	const char *s, *end;

	if (!json_is_string(v))
		return bad(why, size, "title is required and must be a string");
	s = json_string_value(v);
	end = s + json_string_length(v);
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end || chars(s, (size_t)(end - s)) > IG_RPM_TITLE_MAX)
		return bad(why, size, "title must be 1 to %d characters after trimming spaces",
		    IG_RPM_TITLE_MAX);
	return 0;
}

static int
check_status(const json_t *v, char *why, size_t size)
{
	int i;

	if (json_is_string(v))
		for (i = 0; statuses[i] != NULL; i++)
			if (strcmp(json_string_value(v), statuses[i]) == 0)
				return 0;
	return bad(why, size,
	    "status must be one of backlog, ready, doing, review, done, blocked");
}

static int
check_date(const json_t *v, char *why, size_t size)
{
	const char *s = json_string_value(v);
	ig_ts t;

	if (json_is_null(v))
		return 0;
	/* Year 0000 parses as RFC 3339 but PostgreSQL has no year 0. */
	if (s == NULL || strlen(s) != 10 || ig_ts_parse(s, IG_TS_DATE_OK, &t, NULL) == -1 ||
	    strncmp(s, "0000", 4) == 0)
		return bad(why, size, "due_date must be a date such as 2026-05-14");
	return 0;
}

int
ig_rpm_check_item(const json_t *item, int patch, char *why, size_t size)
{
	static const char *const known[] = { "title", "result", "purpose",
	    "map_json", "owner_role", "owner_user", "status", "due_date",
	    "cialdini", "compliance_flags", "tags", NULL };
	const json_t *v;
	const char *key;
	char *text;
	size_t n;
	int i, ok;

	if (!json_is_object(item))
		return bad(why, size, "an item must be a JSON object");
	json_object_foreach((json_t *)item, key, v) {
		for (ok = 0, i = 0; known[i] != NULL && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok)
			return bad(why, size, "unknown field '%.64s'", key);
	}
	if (patch && json_object_size(item) == 0)
		return bad(why, size, "nothing to update: give at least one field");
	if ((!patch || json_object_get(item, "title") != NULL) &&
	    check_title(json_object_get(item, "title"), why, size) == -1)
		return -1;
	if ((v = json_object_get(item, "status")) != NULL &&
	    (patch || !json_is_null(v)) && check_status(v, why, size) == -1)
		return -1;
	if ((v = json_object_get(item, "due_date")) != NULL &&
	    check_date(v, why, size) == -1)
		return -1;
	if (opt_text(item, "owner_role", NAME_MAX_CHARS, why, size) == -1 ||
	    opt_text(item, "owner_user", NAME_MAX_CHARS, why, size) == -1 ||
	    opt_text(item, "result", TEXT_MAX, why, size) == -1 ||
	    opt_text(item, "purpose", TEXT_MAX, why, size) == -1 ||
	    opt_list(item, "tags", why, size) == -1 ||
	    opt_list(item, "cialdini", why, size) == -1 ||
	    opt_list(item, "compliance_flags", why, size) == -1)
		return -1;
	if ((v = json_object_get(item, "map_json")) != NULL && !json_is_null(v)) {
		if (!json_is_object(v))
			return bad(why, size, "map_json must be an object");
		text = json_dumps(v, JSON_COMPACT);
		n = text ? strlen(text) : 0;
		free(text);
		if (n > MAP_MAX)
			return bad(why, size, "map_json must be at most %d bytes", MAP_MAX);
	}
	return 0;
}

/* ---- output ---- */

/* Writes column 0 of every row (JSON text made by PostgreSQL), one per line. */
static int
put_rows(PGresult *r, FILE *out, struct ig_err *e)
{
	int i;

	for (i = 0; i < PQntuples(r); i++)
		if (fputs(PQgetvalue(r, i, 0), out) == EOF || putc('\n', out) == EOF)
			return ig_err_errno(e, IG_EX_IOERR, "cannot write output");
	if (fflush(out) == EOF)
		return ig_err_errno(e, IG_EX_IOERR, "cannot write output");
	return 0;
}

static int
check_id(const char *id, const char *what, struct ig_err *e)
{
	if (id == NULL || !ig_uuid_valid(id))
		return ig_err_set(e, IG_EX_DATAERR,
		    "'%.40s' is not a %s id (a UUID such as 3f2b8c1e-0d4a-4c5e-9b7a-1e2f3a4b5c6d)",
		    id ? id : "", what);
	return 0;
}

static int
week_exists(struct ig_pg *db, const char *id, struct ig_err *e)
{
	const char *p[] = { id };
	PGresult *r;
	int n;

	if (check_id(id, "week", e) == -1)
		return -1;
	if ((r = ig_pg_exec(db, "SELECT 1 FROM rpm_weeks WHERE id = $1", 1, p,
	    "looking up the week", e)) == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n == 1 ? 0 : ig_err_set(e, IG_EX_NOINPUT, "week %s not found", id);
}

/* ---- commands ---- */

static int
apply(struct ig_pg *db, const char *name, const char *text, struct ig_err *e)
{
	const char *p[] = { name };
	PGresult *r;

	if (ig_pg_script(db, "BEGIN", "starting a migration", e) == -1)
		return -1;
	if (ig_pg_script(db, text, name, e) == -1 ||
	    (r = ig_pg_exec(db, "INSERT INTO schema_migrations (name) VALUES ($1)",
	    1, p, "recording a migration", e)) == NULL) {
		ig_pg_script(db, "ROLLBACK", "rolling back", &(struct ig_err)IG_ERR_INIT);
		return -1;
	}
	PQclear(r);
	return ig_pg_script(db, "COMMIT", "committing a migration", e);
}

int
ig_rpm_migrate(struct ig_pg *db, FILE *out, struct ig_err *e)
{
	struct ig_err ue = IG_ERR_INIT;
	const char *p[1];
	PGresult *r;
	json_t *rec;
	int i, done, rc = -1;

	/* One migrator at a time; the others wait here, then find nothing to do. */
	if (ig_pg_script(db, "SET statement_timeout = '10min'", "preparing", e) == -1 ||
	    ig_pg_script(db, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")",
	    "waiting for other migrations", e) == -1)
		return -1;
	if (ig_pg_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
	    "creating schema_migrations", e) == -1)
		goto out;
	for (i = 0; rpm_migrations[i].name != NULL; i++) {
		p[0] = rpm_migrations[i].name;
		if ((r = ig_pg_exec(db, "SELECT 1 FROM schema_migrations WHERE name = $1",
		    1, p, "reading schema_migrations", e)) == NULL)
			goto out;
		done = PQntuples(r) > 0;
		PQclear(r);
		if (!done && apply(db, rpm_migrations[i].name, rpm_migrations[i].text, e) == -1)
			goto out;
		if (!done)
			ig_logj(IG_LOG_NOTICE, json_pack("{ss}", "migration",
			    rpm_migrations[i].name), "applied %s", rpm_migrations[i].name);
		rec = json_pack("{ss sb}", "migration", rpm_migrations[i].name,
		    "applied", !done);
		if (ig_ndjson_put(out, rec, 1) == -1) {
			json_decref(rec);
			ig_err_errno(e, IG_EX_IOERR, "cannot write output");
			goto out;
		}
		json_decref(rec);
	}
	rc = 0;
out:
	ig_pg_script(db, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", "unlocking", &ue);
	ig_pg_script(db, "RESET statement_timeout", "resetting", &ue);
	return rc;
}

/* Monday of the week containing $1 (a time) in zone $2. */
#define MONDAY	"date_trunc('week', ($1::timestamptz AT TIME ZONE $2))::date"

int
ig_rpm_current(struct ig_pg *db, const char *tz, ig_ts now, FILE *out,
    struct ig_err *e)
{
	char ts[IG_TS_LEN];
	const char *p[] = { ig_ts_format(now, 6, ts), tz };
	PGresult *r;
	int rc;

	if (tz == NULL || *tz == '\0' || strlen(tz) > 64 ||
	    strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(tz))
		return ig_err_set(e, IG_EX_CONFIG,
		    "RPM_TIMEZONE must be a time zone name such as UTC or America/Chicago");
	/* Two statements: the SELECT must see a row another session inserted meanwhile. */
	r = ig_pg_exec(db, "INSERT INTO rpm_weeks (week_start, week_end) "
	    "SELECT d, d + 6 FROM (SELECT " MONDAY " AS d) s "
	    "ON CONFLICT (week_start, week_end) DO NOTHING", 2, p,
	    "creating the current week", e);
	if (r == NULL) {
		if (e->code == IG_EX_DATAERR)	/* the time is ours: the zone is wrong */
			return ig_err_set(e, IG_EX_CONFIG,
			    "RPM_TIMEZONE '%s' is not a time zone the database knows", tz);
		return -1;
	}
	PQclear(r);
	if ((r = ig_pg_exec(db, "SELECT row_to_json(w)::text FROM rpm_weeks w "
	    "WHERE week_start = " MONDAY " AND week_end = week_start + 6", 2, p,
	    "reading the current week", e)) == NULL)
		return -1;
	rc = PQntuples(r) == 1 ? put_rows(r, out, e) :
	    ig_err_set(e, IG_EX_SOFTWARE, "the current week vanished");
	PQclear(r);
	return rc;
}

int
ig_rpm_show(struct ig_pg *db, const char *week_id, FILE *out, struct ig_err *e)
{
	const char *p[] = { week_id };
	PGresult *r;
	int rc;

	if (check_id(week_id, "week", e) == -1)
		return -1;
	if ((r = ig_pg_exec(db, "SELECT row_to_json(w)::text FROM rpm_weeks w WHERE id = $1",
	    1, p, "reading the week", e)) == NULL)
		return -1;
	rc = PQntuples(r) == 1 ? put_rows(r, out, e) :
	    ig_err_set(e, IG_EX_NOINPUT, "week %s not found", week_id);
	PQclear(r);
	return rc;
}

int
ig_rpm_items(struct ig_pg *db, const char *week_id, FILE *out, struct ig_err *e)
{
	const char *p[] = { week_id };
	PGresult *r;
	int rc;

	if (week_exists(db, week_id, e) == -1)
		return -1;
	if ((r = ig_pg_exec(db, "SELECT row_to_json(i)::text FROM rpm_items i "
	    "WHERE week_id = $1 ORDER BY due_date ASC NULLS LAST, created_at, id",
	    1, p, "reading the items", e)) == NULL)
		return -1;
	rc = put_rows(r, out, e);
	PQclear(r);
	return rc;
}

/* The text form of field key of o for a parameter (new), or NULL for absent or null. */
static char *
param(const json_t *o, const char *key, int trim)
{
	const json_t *v = json_object_get(o, key);
	const char *s, *end;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	s = json_string_value(v);
	end = s + json_string_length(v);
	while (trim && s < end && isspace((unsigned char)*s))
		s++;
	while (trim && end > s && isspace((unsigned char)end[-1]))
		end--;
	return strndup(s, (size_t)(end - s));
}

static const char insert_sql[] =
    "INSERT INTO rpm_items (week_id, title, result, purpose, map_json,"
    " owner_role, owner_user, status, due_date, cialdini, compliance_flags,"
    " tags, created_by) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7,"
    " coalesce($8, 'backlog'), $9::date,"
    " CASE WHEN $10::json IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text($10::json)) END,"
    " CASE WHEN $11::json IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text($11::json)) END,"
    " CASE WHEN $12::json IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text($12::json)) END,"
    " $13) RETURNING row_to_json(rpm_items)::text";

static int
insert_item(struct ig_pg *db, const char *week_id, const json_t *item,
    const char *created_by, FILE *out, struct ig_err *e)
{
	static const char *const fields[] = { "title", "result", "purpose",
	    "map_json", "owner_role", "owner_user", "status", "due_date",
	    "cialdini", "compliance_flags", "tags", NULL };
	char *v[11];
	const char *p[13];
	PGresult *r;
	int i, rc;

	p[0] = week_id;
	for (i = 0; fields[i] != NULL; i++)
		p[i + 1] = v[i] = param(item, fields[i], i == 0);
	p[12] = created_by;
	r = ig_pg_exec(db, insert_sql, 13, p, "adding an item", e);
	for (i = 0; i < 11; i++)
		free(v[i]);
	if (r == NULL)
		return -1;
	rc = put_rows(r, out, e);
	PQclear(r);
	return rc;
}

int
ig_rpm_add(struct ig_pg *db, const char *week_id, struct ig_ndjson_in *in,
    const char *created_by, FILE *out, struct ig_err *e)
{
	struct ig_err le = IG_ERR_INIT;
	unsigned long bad_items = 0, added = 0;
	char why[300];
	json_t *item;
	int r;

	if (week_exists(db, week_id, e) == -1)
		return -1;
	for (;;) {
		if ((r = ig_ndjson_next(in, 0, &item, &le)) == 0)
			break;
		if (r == -1 && le.code != IG_EX_DATAERR)
			return *e = le, -1;
		if (r == 1 && ig_rpm_check_item(item, 0, why, sizeof(why)) == -1)
			snprintf(le.text, sizeof(le.text), "%.150s:%lu: %.300s", in->name, in->lineno, why);
		if (r == -1 || le.text[0] != '\0') {
			bad_items++;
			ig_logj(IG_LOG_ERROR, json_pack("{ss sI ss}", "file", in->name,
			    "line", (json_int_t)in->lineno, "event", "item_invalid"),
			    "%s", le.text);
			ig_err_clear(&le);
			json_decref(item);
			continue;
		}
		r = insert_item(db, week_id, item, created_by, out, e);
		json_decref(item);
		if (r == -1 && e->code == IG_EX_DATAERR) {
			/* Refused by the database after passing our checks: same treatment. */
			snprintf(le.text, sizeof(le.text), "%.150s:%lu: %.300s", in->name,
			    in->lineno, e->text);
			ig_err_clear(e);
			bad_items++;
			ig_logj(IG_LOG_ERROR, json_pack("{ss sI ss}", "file", in->name,
			    "line", (json_int_t)in->lineno, "event", "item_invalid"),
			    "%s", le.text);
			ig_err_clear(&le);
			continue;
		}
		if (r == -1)
			return -1;
		added++;
	}
	if (bad_items > 0)
		return ig_err_set(e, IG_EX_DATAERR, "%lu item%s invalid (see above); %lu added",
		    bad_items, bad_items == 1 ? " was" : "s were", added);
	if (added == 0)
		return ig_err_set(e, IG_EX_DATAERR, "no item on standard input: give one JSON object per line");
	return 0;
}

static const char update_sql[] =
    "UPDATE rpm_items SET"
    " title = CASE WHEN $2::bool THEN $3 ELSE title END,"
    " result = CASE WHEN $4::bool THEN $5 ELSE result END,"
    " purpose = CASE WHEN $6::bool THEN $7 ELSE purpose END,"
    " map_json = CASE WHEN $8::bool THEN $9::jsonb ELSE map_json END,"
    " owner_role = CASE WHEN $10::bool THEN $11 ELSE owner_role END,"
    " owner_user = CASE WHEN $12::bool THEN $13 ELSE owner_user END,"
    " status = CASE WHEN $14::bool THEN $15 ELSE status END,"
    " due_date = CASE WHEN $16::bool THEN $17::date ELSE due_date END,"
    " cialdini = CASE WHEN $18::bool THEN (CASE WHEN $19::json IS NULL THEN NULL"
    "   ELSE ARRAY(SELECT json_array_elements_text($19::json)) END) ELSE cialdini END,"
    " compliance_flags = CASE WHEN $20::bool THEN (CASE WHEN $21::json IS NULL THEN NULL"
    "   ELSE ARRAY(SELECT json_array_elements_text($21::json)) END) ELSE compliance_flags END,"
    " tags = CASE WHEN $22::bool THEN (CASE WHEN $23::json IS NULL THEN NULL"
    "   ELSE ARRAY(SELECT json_array_elements_text($23::json)) END) ELSE tags END,"
    " updated_at = now()"
    " WHERE id = $1 RETURNING row_to_json(rpm_items)::text";

int
ig_rpm_update(struct ig_pg *db, const char *item_id, const json_t *patch,
    FILE *out, struct ig_err *e)
{
	static const char *const fields[] = { "title", "result", "purpose",
	    "map_json", "owner_role", "owner_user", "status", "due_date",
	    "cialdini", "compliance_flags", "tags", NULL };
	char why[300], *v[11];
	const char *p[23];
	PGresult *r;
	int i, rc;

	if (check_id(item_id, "item", e) == -1)
		return -1;
	if (ig_rpm_check_item(patch, 1, why, sizeof(why)) == -1)
		return ig_err_set(e, IG_EX_DATAERR, "%s", why);
	p[0] = item_id;
	for (i = 0; fields[i] != NULL; i++) {
		p[1 + 2 * i] = json_object_get(patch, fields[i]) ? "true" : "false";
		p[2 + 2 * i] = v[i] = param(patch, fields[i], i == 0);
	}
	r = ig_pg_exec(db, update_sql, 23, p, "updating the item", e);
	for (i = 0; i < 11; i++)
		free(v[i]);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) == 1 ? put_rows(r, out, e) :
	    ig_err_set(e, IG_EX_NOINPUT, "item %s not found", item_id);
	PQclear(r);
	return rc;
}
