/*
 * rpm.h: the RPM weekly plan (Results, Purpose, Massive-action plan) in
 * PostgreSQL: weeks and their planning items.  Each rpm-week command is
 * one function here taking an open connection, its arguments and the
 * output stream, so a long-lived front end can call them again and again
 * on one connection: nothing here exits or keeps state between calls.
 * Records are written as NDJSON (integration-records(5)).
 */
#ifndef IG_RPM_H
#define IG_RPM_H

#include <stdio.h>

#include <jansson.h>

#include "err.h"
#include "ndjson.h"
#include "pg.h"
#include "ts.h"

#define IG_RPM_TITLE_MAX	200	/* characters, after trimming */

/* Applies the migrations not applied yet, in order, under an advisory lock. */
int	ig_rpm_migrate(struct ig_pg *db, FILE *out, struct ig_err *e);
/* The week (Monday to Sunday in time zone tz) that contains now; created on first use. */
int	ig_rpm_current(struct ig_pg *db, const char *tz, ig_ts now, FILE *out,
	    struct ig_err *e);
int	ig_rpm_show(struct ig_pg *db, const char *week_id, FILE *out,
	    struct ig_err *e);
/* The week's items: by due date, undated last, then creation time. */
int	ig_rpm_items(struct ig_pg *db, const char *week_id, FILE *out,
	    struct ig_err *e);
/*
 * Adds the items read from in to the week and writes each created item.
 * An invalid item is logged with its line and left out; the result is then
 * -1 with IG_EX_DATAERR after the others were added.
 */
int	ig_rpm_add(struct ig_pg *db, const char *week_id, struct ig_ndjson_in *in,
	    const char *created_by, FILE *out, struct ig_err *e);
/* Applies a patch object to an item and writes the item. */
int	ig_rpm_update(struct ig_pg *db, const char *item_id, const json_t *patch,
	    FILE *out, struct ig_err *e);
/* Checks an item (patch: only the fields given).  0, or -1 with why naming the field. */
int	ig_rpm_check_item(const json_t *item, int patch, char *why, size_t size);

#endif
