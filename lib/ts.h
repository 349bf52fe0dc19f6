/*
 * ts.h: RFC 3339 timestamps, held as microseconds since the Unix epoch in
 * UTC, and the clock that INTEGRATION_NOW can pin for tests.
 */
#ifndef IG_TS_H
#define IG_TS_H

#include <stdint.h>

#include "err.h"

typedef int64_t ig_ts;			/* microseconds since 1970-01-01T00:00:00Z */

#define IG_TS_SEC	INT64_C(1000000)
#define IG_TS_LEN	40		/* room for any formatted timestamp */

/*
 * Parses an RFC 3339 date-time ("2026-05-14T18:22:41+00:00",
 * "2026-05-14T18:22:41.5Z").  Lenient where APIs differ: 't' or ' ' as the
 * separator, offsets "+0000" and "+00".  With IG_TS_DATE_OK a bare date
 * "2026-05-14" means its midnight UTC.  0, or -1 with e (IG_EX_DATAERR).
 */
#define IG_TS_DATE_OK	0x1
int	ig_ts_parse(const char *s, int flags, ig_ts *out, struct ig_err *e);

/*
 * Writes t in UTC with a 'Z' into buf (IG_TS_LEN bytes) and returns buf.
 * frac: 0 whole seconds, 3 milliseconds, 6 microseconds, -1 only the
 * digits needed (none for a whole second).
 */
char	*ig_ts_format(ig_ts t, int frac, char *buf);

/* "2026-05-14" for the UTC date of t. */
char	*ig_ts_format_date(ig_ts t, char *buf);

/*
 * The current time: INTEGRATION_NOW when it is set (a testing aid; it
 * must then be a valid RFC 3339 time, else -1 and IG_EX_CONFIG), else the
 * system clock.
 */
int	ig_ts_now(ig_ts *out, struct ig_err *e);

/* The system clock, never pinned (log lines, latencies). */
ig_ts	ig_ts_wall(void);

/* Seconds on a monotonic clock, for pacing and timeouts. */
double	ig_ts_mono(void);
/* Sleeps s seconds (fractions too), going on after a signal. */
void	ig_ts_sleep(double s);

/* Days since the epoch of a civil date, and back (Howard Hinnant's algorithms). */
int64_t	ig_ts_days_from_civil(int64_t y, unsigned m, unsigned d);
void	ig_ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
