/*
 * test-ts.c: RFC 3339 parsing and formatting, the civil-date algorithms
 * and the pinnable clock of ts.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ts.h"
#include "tap.h"

/* 2026-05-14T18:22:41Z */
#define T0	(INT64_C(1778782961) * IG_TS_SEC)

static ig_ts
parse_ok(const char *s, int flags)
{
	struct ig_err e = IG_ERR_INIT;
	ig_ts t = -42;

	if (!ok(ig_ts_parse(s, flags, &t, &e) == 0, "parses '%s'", s))
		printf("#   error: %s\n", e.text);
	return t;
}

static void
test_parse(void)
{
	static const char *same[] = {
		"2026-05-14T18:22:41+00:00",
		"2026-05-14T18:22:41Z",
		"2026-05-14T18:22:41z",
		"2026-05-14t18:22:41Z",
		"2026-05-14 18:22:41Z",
		"2026-05-14T18:22:41+0000",
		"2026-05-14T18:22:41+00",
		"2026-05-14T18:22:41-00:00",
		"2026-05-14T14:22:41-04:00",
		"2026-05-14T23:52:41+05:30",
		"2026-05-15T03:22:41+0900",
		"2026-05-14T18:22:41.000Z",
	};
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		is_int(parse_ok(same[i], 0), T0, "'%s' is 2026-05-14T18:22:41Z",
		    same[i]);
	is_int(parse_ok("2026-05-14T18:22:41.5Z", 0), T0 + IG_TS_SEC / 2,
	    "fraction .5");
	is_int(parse_ok("2026-05-14T18:22:41.123456Z", 0), T0 + 123456,
	    "fraction to the microsecond");
	is_int(parse_ok("2026-05-14T18:22:41.1234569Z", 0), T0 + 123456,
	    "digits below the microsecond dropped");
	is_int(parse_ok("2026-05-14T18:22:41.25-01:00", 0),
	    T0 + 3600 * IG_TS_SEC + IG_TS_SEC / 4, "fraction and offset");
	is_int(parse_ok("1970-01-01T00:00:00Z", 0), 0, "the epoch is 0");
	is_int(parse_ok("1969-12-31T23:59:59Z", 0), -IG_TS_SEC,
	    "one second before the epoch");
	is_int(parse_ok("1969-12-31T23:59:59.5Z", 0), -IG_TS_SEC / 2,
	    "half a second before the epoch");
	is_int(parse_ok("1970-01-01T01:00:00+01:00", 0), 0,
	    "offset crossing back to the epoch");
	is_int(parse_ok("2025-12-31T22:00:00-03:00", 0),
	    parse_ok("2026-01-01T01:00:00Z", 0), "offset across a year boundary");
	is_int(parse_ok("2024-02-29T12:00:00Z", 0),
	    parse_ok("2024-02-28T12:00:00Z", 0) + 86400 * IG_TS_SEC,
	    "2024-02-29 exists (leap year)");
	is_int(parse_ok("2000-02-29T00:00:00Z", 0), INT64_C(951782400) * IG_TS_SEC,
	    "2000-02-29 exists (divisible by 400)");
}

static void
parse_bad(const char *s, int flags, const char *why)
{
	struct ig_err e = IG_ERR_INIT;
	ig_ts t = 12345;

	is_int(ig_ts_parse(s, flags, &t, &e), -1, "rejects '%s' (%s)", s, why);
	is_int(e.code, IG_EX_DATAERR, "'%s' gives IG_EX_DATAERR", s);
	ok(strstr(e.text, "invalid time") != NULL, "message: %s", e.text);
	is_int(t, 12345, "output untouched for '%s'", s);
}

static void
test_reject(void)
{
	parse_bad("", 0, "empty");
	parse_bad("", IG_TS_DATE_OK, "empty date");
	parse_bad("2026-13-01T00:00:00Z", 0, "month 13");
	parse_bad("2026-00-10T00:00:00Z", 0, "month 0");
	parse_bad("2026-02-30T00:00:00Z", 0, "Feb 30");
	parse_bad("2025-02-29T00:00:00Z", 0, "2025 is not a leap year");
	parse_bad("1900-02-29T00:00:00Z", 0, "1900 is not a leap year");
	parse_bad("2026-04-31T00:00:00Z", 0, "April 31");
	parse_bad("2026-05-00T00:00:00Z", 0, "day 0");
	parse_bad("2026-05-14T18:22:41", 0, "missing offset");
	parse_bad("2026-05-14T18:22:41Zjunk", 0, "trailing junk");
	parse_bad("2026-05-14T18:22:41+00:00 ", 0, "trailing space");
	parse_bad("2026-05-14T24:00:00Z", 0, "hour 24");
	parse_bad("2026-05-14T18:60:00Z", 0, "minute 60");
	parse_bad("2026-05-14T18:22:41.Z", 0, "empty fraction");
	parse_bad("2026-05-14T18:22:41+24:00", 0, "offset hour 24");
	parse_bad("2026-05-14T18:22Z", 0, "no seconds");
	parse_bad("2026-5-14T18:22:41Z", 0, "one-digit month");
	parse_bad("26-05-14T18:22:41Z", 0, "two-digit year");
	parse_bad("2026/05/14T18:22:41Z", 0, "slashes");
	parse_bad("2026-05-14", 0, "bare date without IG_TS_DATE_OK");
	parse_bad("2026-05-14X18:22:41Z", 0, "bad separator");
	parse_bad("2026-02-30", IG_TS_DATE_OK, "bare Feb 30");
	parse_bad("2026-05-14junk", IG_TS_DATE_OK, "bare date with junk");
	parse_bad("tomorrow", IG_TS_DATE_OK, "words");
}

static void
test_date_ok(void)
{
	is_int(parse_ok("2026-05-14", IG_TS_DATE_OK),
	    parse_ok("2026-05-14T00:00:00Z", 0), "bare date is its midnight UTC");
	is_int(parse_ok("1969-12-31", IG_TS_DATE_OK), -86400 * IG_TS_SEC,
	    "bare date before 1970");
	is_int(parse_ok("2026-05-14T18:22:41Z", IG_TS_DATE_OK), T0,
	    "IG_TS_DATE_OK still takes full times");
}

static void
fmt_is(ig_ts t, int frac, const char *want)
{
	char buf[IG_TS_LEN];

	memset(buf, 'X', sizeof(buf));
	is_str(ig_ts_format(t, frac, buf), want, "format frac %d: %s", frac, want);
}

static void
test_format(void)
{
	char buf[IG_TS_LEN], buf2[IG_TS_LEN];
	ig_ts t, back;
	struct ig_err e = IG_ERR_INIT;
	static const ig_ts samples[] = {
		0, 1, -1, T0, T0 + 500000, T0 + 123456, -IG_TS_SEC / 2,
		INT64_C(-2208988800) * IG_TS_SEC + 7,	/* 1900-01-01 */
		INT64_C(253402300799) * IG_TS_SEC	/* 9999-12-31T23:59:59 */
	};
	size_t i;

	fmt_is(T0, 0, "2026-05-14T18:22:41Z");
	fmt_is(T0, 3, "2026-05-14T18:22:41.000Z");
	fmt_is(T0, 6, "2026-05-14T18:22:41.000000Z");
	fmt_is(T0, -1, "2026-05-14T18:22:41Z");
	fmt_is(T0 + 500000, 0, "2026-05-14T18:22:41Z");
	fmt_is(T0 + 500000, 3, "2026-05-14T18:22:41.500Z");
	fmt_is(T0 + 500000, 6, "2026-05-14T18:22:41.500000Z");
	fmt_is(T0 + 500000, -1, "2026-05-14T18:22:41.5Z");
	fmt_is(T0 + 123456, 3, "2026-05-14T18:22:41.123Z");
	fmt_is(T0 + 123456, -1, "2026-05-14T18:22:41.123456Z");
	fmt_is(T0 + 120000, -1, "2026-05-14T18:22:41.12Z");
	fmt_is(T0 + 999, 3, "2026-05-14T18:22:41.000Z");
	fmt_is(T0 + 1, -1, "2026-05-14T18:22:41.000001Z");
	fmt_is(0, 0, "1970-01-01T00:00:00Z");
	fmt_is(-1, 6, "1969-12-31T23:59:59.999999Z");
	fmt_is(-IG_TS_SEC / 2, -1, "1969-12-31T23:59:59.5Z");
	fmt_is(INT64_C(-2208988800) * IG_TS_SEC, 0, "1900-01-01T00:00:00Z");
	fmt_is(INT64_C(-62135596800) * IG_TS_SEC, 0, "0001-01-01T00:00:00Z");
	fmt_is(parse_ok("2025-12-31T23:59:59.999Z", 0) + 1000, 3,
	    "2026-01-01T00:00:00.000Z");
	fmt_is(parse_ok("2024-02-28T23:59:59Z", 0) + IG_TS_SEC, 0,
	    "2024-02-29T00:00:00Z");
	fmt_is(parse_ok("2025-02-28T23:59:59Z", 0) + IG_TS_SEC, 0,
	    "2025-03-01T00:00:00Z");
	is_str(ig_ts_format_date(T0, buf), "2026-05-14", "format_date");
	is_str(ig_ts_format_date(-1, buf), "1969-12-31", "format_date before 1970");

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		t = samples[i];
		ig_ts_format(t, 6, buf);
		back = 0;
		is_int(ig_ts_parse(buf, 0, &back, &e), 0, "parse back %s", buf);
		is_int(back, t, "round trip frac 6: %s", buf);
		ig_ts_format(t, -1, buf2);
		back = 0;
		ig_ts_parse(buf2, 0, &back, &e);
		is_int(back, t, "round trip frac -1: %s", buf2);
		ig_ts_format(t, 3, buf2);
		ig_ts_parse(buf2, 0, &back, &e);
		ok(back <= t && t - back < 1000, "frac 3 truncates to the ms: %s",
		    buf2);
		ig_ts_format(t, 0, buf2);
		ig_ts_parse(buf2, 0, &back, &e);
		ok(back <= t && t - back < IG_TS_SEC,
		    "frac 0 truncates to the second: %s", buf2);
	}
}

static void
test_civil(void)
{
	int64_t z, y;
	unsigned m, d;
	int bad = 0;

	is_int(ig_ts_days_from_civil(1970, 1, 1), 0, "1970-01-01 is day 0");
	is_int(ig_ts_days_from_civil(1969, 12, 31), -1, "1969-12-31 is day -1");
	is_int(ig_ts_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is day 11017");
	is_int(ig_ts_days_from_civil(2026, 5, 14), 20587, "2026-05-14 is day 20587");
	is_int(ig_ts_days_from_civil(1600, 1, 1), -135140, "1600-01-01");
	ig_ts_civil_from_days(20587, &y, &m, &d);
	ok(y == 2026 && m == 5 && d == 14, "day 20587 is 2026-05-14");
	ig_ts_civil_from_days(-1, &y, &m, &d);
	ok(y == 1969 && m == 12 && d == 31, "day -1 is 1969-12-31");

	/* Every day from 1600 to 2400: consecutive dates, valid, and back. */
	{
		int64_t py = 1599;
		unsigned pm = 12, pd = 31;

		for (z = ig_ts_days_from_civil(1600, 1, 1);
		    z <= ig_ts_days_from_civil(2400, 12, 31); z++) {
			ig_ts_civil_from_days(z, &y, &m, &d);
			if (ig_ts_days_from_civil(y, m, d) != z)
				bad++;
			if (!((y == py && m == pm && d == pd + 1) ||
			    (y == py && m == pm + 1 && d == 1) ||
			    (y == py + 1 && m == 1 && d == 1 && pm == 12)))
				bad++;
			py = y;
			pm = m;
			pd = d;
		}
		is_int(bad, 0, "days 1600..2400 round trip and follow each other");
		ok(py == 2400 && pm == 12 && pd == 31, "loop ends on 2400-12-31");
	}
}

static void
test_now(void)
{
	struct ig_err e = IG_ERR_INIT;
	ig_ts t = 0, before, after;

	unsetenv("INTEGRATION_NOW");
	before = ig_ts_wall();
	is_int(ig_ts_now(&t, &e), 0, "now without INTEGRATION_NOW");
	after = ig_ts_wall();
	ok(t >= before && t <= after, "now follows the system clock");
	ok(before > parse_ok("2020-01-01T00:00:00Z", 0), "the wall clock is sane");

	setenv("INTEGRATION_NOW", "2026-05-14T18:22:41Z", 1);
	is_int(ig_ts_now(&t, &e), 0, "now with INTEGRATION_NOW");
	is_int(t, T0, "INTEGRATION_NOW pins the clock");
	setenv("INTEGRATION_NOW", "2026-05-14T14:22:41.5-04:00", 1);
	ig_ts_now(&t, &e);
	is_int(t, T0 + IG_TS_SEC / 2, "INTEGRATION_NOW with an offset");

	setenv("INTEGRATION_NOW", "yesterday", 1);
	t = 7;
	is_int(ig_ts_now(&t, &e), -1, "invalid INTEGRATION_NOW fails");
	is_int(e.code, IG_EX_CONFIG, "invalid INTEGRATION_NOW is IG_EX_CONFIG");
	ok(strstr(e.text, "INTEGRATION_NOW") != NULL,
	    "message names the variable: %s", e.text);
	is_int(t, 7, "output untouched on failure");

	setenv("INTEGRATION_NOW", "", 1);
	before = ig_ts_wall();
	is_int(ig_ts_now(&t, &e), 0, "empty INTEGRATION_NOW means unset");
	ok(t >= before, "empty INTEGRATION_NOW uses the system clock");
	unsetenv("INTEGRATION_NOW");

	{
		double a = ig_ts_mono(), b = ig_ts_mono();

		ok(a > 0 && b >= a, "monotonic clock does not go back");
	}
}

int
main(void)
{
	test_parse();
	test_reject();
	test_date_ok();
	test_format();
	test_civil();
	test_now();
	return done_testing();
}
