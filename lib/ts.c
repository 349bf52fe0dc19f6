/*
 * ts.c: RFC 3339 parsing and formatting in UTC, without the C library's
 * time-zone state (timegm and TZ are not needed), and the pinnable clock.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts.h"

int64_t
ig_ts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
ig_ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
digits(const char **sp, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**sp))
			return -1;
		v = v * 10 + (**sp - '0');
		(*sp)++;
	}
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int
bad(struct ig_err *e, const char *s, const char *why)
{
	return ig_err_set(e, IG_EX_DATAERR,
	    "invalid time '%.64s': %s (expected RFC 3339, e.g. 2026-05-14T18:22:41Z)",
	    s, why);
}

static int
parse_offset(const char **pp, int *off_min)
{
	const char *p = *pp;
	int sign, oh, om = 0;

	if (*p == 'Z' || *p == 'z') {
		*off_min = 0;
		*pp = p + 1;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &oh) == -1)
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &om) == -1)
			return -1;
	} else if (isdigit((unsigned char)*p) && digits(&p, 2, &om) == -1)
		return -1;
	if (oh > 23 || om > 59)
		return -1;
	*off_min = sign * (oh * 60 + om);
	*pp = p;
	return 0;
}

int
ig_ts_parse(const char *s, int flags, ig_ts *out, struct ig_err *e)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int64_t frac = 0, scale = 100000;

	if (s == NULL || *s == '\0')
		return bad(e, "", "empty");
	if (digits(&p, 4, &y) == -1 || *p++ != '-' ||
	    digits(&p, 2, &mo) == -1 || *p++ != '-' || digits(&p, 2, &d) == -1)
		return bad(e, s, "bad date");
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return bad(e, s, "no such date");
	if (*p == '\0' && (flags & IG_TS_DATE_OK))
		goto done;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return bad(e, s, "missing time of day");
	p++;
	if (digits(&p, 2, &h) == -1 || *p++ != ':' || digits(&p, 2, &mi) == -1 ||
	    *p++ != ':' || digits(&p, 2, &sec) == -1)
		return bad(e, s, "bad time of day");
	if (h > 23 || mi > 59 || sec > 60)
		return bad(e, s, "time of day out of range");
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return bad(e, s, "empty fraction");
		for (; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (parse_offset(&p, &off) == -1)
		return bad(e, s, "missing or bad UTC offset");
	if (*p != '\0')
		return bad(e, s, "trailing characters");
done:
	*out = ((ig_ts_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - off * 60) * IG_TS_SEC) + frac;
	return 0;
}

static void
put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

char *
ig_ts_format(ig_ts t, int frac, char *buf)
{
	int64_t secs, days, y;
	unsigned m, d;
	long us, rem;
	int n;

	secs = t / IG_TS_SEC;
	us = (long)(t % IG_TS_SEC);
	if (us < 0) {
		us += IG_TS_SEC;
		secs--;
	}
	days = secs / 86400;
	rem = (long)(secs % 86400);
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	ig_ts_civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		/* The common case by hand: snprintf dominated bq-merge's encoding. */
		put2(buf, (unsigned)(y / 100));
		put2(buf + 2, (unsigned)(y % 100));
		buf[4] = '-';
		put2(buf + 5, m);
		buf[7] = '-';
		put2(buf + 8, d);
		buf[10] = 'T';
		put2(buf + 11, (unsigned)(rem / 3600));
		buf[13] = ':';
		put2(buf + 14, (unsigned)(rem / 60 % 60));
		buf[16] = ':';
		put2(buf + 17, (unsigned)(rem % 60));
		buf[19] = '\0';
		n = 19;
	} else
		n = snprintf(buf, IG_TS_LEN, "%04lld-%02u-%02uT%02ld:%02ld:%02ld",
		    (long long)y, m, d, rem / 3600, rem / 60 % 60, rem % 60);
	if (frac == 3)
		n += snprintf(buf + n, IG_TS_LEN - n, ".%03ld", us / 1000);
	else if (frac == 6 || (frac < 0 && us != 0)) {
		n += snprintf(buf + n, IG_TS_LEN - n, ".%06ld", us);
		if (frac < 0)
			while (buf[n - 1] == '0')
				n--;
	}
	snprintf(buf + n, IG_TS_LEN - n, "Z");
	return buf;
}

char *
ig_ts_format_date(ig_ts t, char *buf)
{
	ig_ts_format(t, 0, buf);
	buf[10] = '\0';
	return buf;
}

ig_ts
ig_ts_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ig_ts)ts.tv_sec * IG_TS_SEC + ts.tv_nsec / 1000;
}

int
ig_ts_now(ig_ts *out, struct ig_err *e)
{
	const char *pin = getenv("INTEGRATION_NOW");

	if (pin != NULL && *pin != '\0') {
		if (ig_ts_parse(pin, 0, out, e) == -1) {
			if (e != NULL)
				e->code = IG_EX_CONFIG;
			return ig_err_prefix(e, "INTEGRATION_NOW");
		}
		return 0;
	}
	*out = ig_ts_wall();
	return 0;
}

void
ig_ts_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

double
ig_ts_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
