/*
 * rpm-week: the team's weekly RPM plan (Results, Purpose, Massive-action
 * plan) in PostgreSQL.  One command per run: migrate the schema, print the
 * current week (creating it), show a week, list its items, add items read
 * as NDJSON, or update an item with a JSON patch.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ndjson.h"
#include "pg.h"
#include "rpm.h"
#include "tool.h"
#include "ts.h"

static const char usage_text[] =
    "usage: rpm-week migrate\n"
    "       rpm-week current\n"
    "       rpm-week show week-id\n"
    "       rpm-week items week-id\n"
    "       rpm-week add [--created-by name] week-id < items.ndjson\n"
    "       rpm-week update item-id < patch.json\n"
    "       rpm-week -h | --version\n";

/* Reads run again this many times, 0.5 s then 1 s apart, while the database restarts. */
#define READ_TRIES	3

static int
read_patch(json_t **patch, struct ig_err *e)
{
	struct ig_ndjson_in in;
	json_t *extra = NULL;
	int r;

	ig_ndjson_open_fp(&in, stdin, "stdin", 0);
	r = ig_ndjson_next(&in, 0, patch, e);
	if (r == 1 && ig_ndjson_next(&in, IG_NDJSON_ANY, &extra, e) != 0) {
		json_decref(extra);
		json_decref(*patch);
		*patch = NULL;
		r = ig_err_set(e, IG_EX_DATAERR, "give one patch object, not several");
	} else if (r == 0)
		r = ig_err_set(e, IG_EX_DATAERR, "no patch on standard input: give one JSON object");
	ig_ndjson_close(&in);
	return r == 1 ? 0 : -1;
}

static int
is_read(const char *cmd)
{
	return strcmp(cmd, "current") == 0 || strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "items") == 0;
}

/* Waits before try i (0-based): nothing, then 0.5 s, then 1 s. */
static void
pause_before(int i)
{
	ig_ts_sleep(i == 0 ? 0 : i == 1 ? 0.5 : 1.0);
}

/* Connects; a read command tries again while the database is unavailable. */
static int
connect_db(struct ig_pg *db, const char *cmd, struct ig_err *e)
{
	int i;

	for (i = 0; i < (is_read(cmd) ? READ_TRIES : 1); i++) {
		pause_before(i);
		ig_pg_close(db);
		ig_err_clear(e);
		if (ig_pg_open_env(db, "rpm-week", e) == 0 || !ig_pg_temporary(e))
			break;
	}
	return e->code == IG_EX_OK ? 0 : -1;
}

/* Runs a read command, again after a reconnect while the database is unavailable. */
static int
read_cmd(struct ig_pg *db, const char *cmd, const char *id, struct ig_err *e)
{
	const char *tz = getenv("RPM_TIMEZONE");
	ig_ts now;
	int i, r = -1;

	for (i = 0; i < READ_TRIES; i++) {
		if (i > 0) {
			pause_before(i);
			ig_err_clear(e);
			if (ig_pg_reset(db, e) == -1)
				continue;
		}
		if (strcmp(cmd, "current") == 0)
			r = ig_ts_now(&now, e) == -1 ? -1 :
			    ig_rpm_current(db, tz && *tz ? tz : "UTC", now, stdout, e);
		else if (strcmp(cmd, "show") == 0)
			r = ig_rpm_show(db, id, stdout, e);
		else
			r = ig_rpm_items(db, id, stdout, e);
		if (r == 0 || !ig_pg_temporary(e))
			break;
	}
	return r;
}

static int
run(struct ig_pg *db, int argc, char *argv[], const char *created_by,
    struct ig_err *e)
{
	struct ig_ndjson_in in;
	json_t *patch = NULL;
	const char *cmd = argv[0];
	int r;

	if (strcmp(cmd, "migrate") == 0)
		return ig_rpm_migrate(db, stdout, e);
	if (is_read(cmd))
		return read_cmd(db, cmd, argc > 1 ? argv[1] : NULL, e);
	if (strcmp(cmd, "add") == 0) {
		ig_ndjson_open_fp(&in, stdin, "stdin", 0);
		r = ig_rpm_add(db, argv[1], &in, created_by, stdout, e);
		ig_ndjson_close(&in);
		return r;
	}
	if (read_patch(&patch, e) == -1)
		return -1;
	r = ig_rpm_update(db, argv[1], patch, stdout, e);
	json_decref(patch);
	return r;
}

/* Whether argv (after options) is one of the usage lines. */
static int
valid_command(int argc, char *argv[])
{
	static const struct { const char *name; int args; } cmds[] = {
		{ "migrate", 0 }, { "current", 0 }, { "show", 1 }, { "items", 1 },
		{ "add", 1 }, { "update", 1 }, { NULL, 0 }
	};
	int i;

	for (i = 0; argc > 0 && cmds[i].name != NULL; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return argc - 1 == cmds[i].args;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "created-by",	required_argument, NULL, 'c' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ig_err e = IG_ERR_INIT;
	struct ig_pg db = { NULL, NULL };
	const char *created_by = NULL;
	int ch;

	ig_tool_init("rpm-week");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': created_by = optarg; break;
		case 'h': fputs(usage_text, stdout); return ig_tool_finish(&e);
		case 'V': printf("rpm-week %s\n", IG_VERSION); return ig_tool_finish(&e);
		default:
			ig_err_set(&e, IG_EX_USAGE, "unknown option '%s' or missing value; see rpm-week -h",
			    argv[optind - 1]);
			fputs(usage_text, stderr);
			return ig_tool_finish(&e);
		}
	}
	argc -= optind;
	argv += optind;
	if (!valid_command(argc, argv)) {
		ig_err_set(&e, IG_EX_USAGE, "%s: see rpm-week -h",
		    argc == 0 ? "no command" : "unknown command or wrong number of operands");
		fputs(usage_text, stderr);
		return ig_tool_finish(&e);
	}
	if (created_by != NULL) {
		json_t *s = json_string(created_by);	/* NULL unless valid UTF-8 */

		if (s == NULL || strlen(created_by) == 0 || strlen(created_by) > 200) {
			json_decref(s);
			ig_err_set(&e, IG_EX_USAGE, "--created-by must be 1 to 200 bytes of UTF-8");
			return ig_tool_finish(&e);
		}
		json_decref(s);
	}
	if (connect_db(&db, argv[0], &e) == 0)
		run(&db, argc, argv, created_by, &e);
	ig_pg_close(&db);
	return ig_tool_finish(&e);
}
