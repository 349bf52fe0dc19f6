/*
 * test-err.c: the error record and exit-code names of err.h.
 */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "tap.h"

static void
test_set(void)
{
	struct ig_err e = IG_ERR_INIT;

	is_int(e.code, IG_EX_OK, "IG_ERR_INIT code");
	is_str(e.text, "", "IG_ERR_INIT text");
	is_int(ig_err_set(&e, IG_EX_DATAERR, "bad line %d in '%s'", 7, "x.json"),
	    -1, "ig_err_set returns -1");
	is_int(e.code, IG_EX_DATAERR, "ig_err_set code");
	is_str(e.text, "bad line 7 in 'x.json'", "ig_err_set text");
	is_int(ig_err_set(NULL, IG_EX_USAGE, "ignored"), -1,
	    "ig_err_set with NULL returns -1");
	ig_err_clear(&e);
	is_int(e.code, IG_EX_OK, "clear resets the code");
	is_str(e.text, "", "clear empties the text");
}

static void
test_errno(void)
{
	struct ig_err e = IG_ERR_INIT;
	char want[512];

	errno = ENOENT;
	is_int(ig_err_errno(&e, IG_EX_NOINPUT, "cannot open '%s'", "f"), -1,
	    "ig_err_errno returns -1");
	snprintf(want, sizeof(want), "cannot open 'f': %s", strerror(ENOENT));
	is_str(e.text, want, "ig_err_errno appends strerror");
	is_int(e.code, IG_EX_NOINPUT, "ig_err_errno code");
	is_int(ig_err_errno(NULL, IG_EX_IOERR, "x"), -1,
	    "ig_err_errno with NULL returns -1");
}

static void
test_prefix(void)
{
	struct ig_err e = IG_ERR_INIT;
	char longmsg[600];

	ig_err_set(&e, IG_EX_TEMPFAIL, "HTTP 503");
	is_int(ig_err_prefix(&e, "while fetching page %d", 3), -1,
	    "ig_err_prefix returns -1");
	is_str(e.text, "while fetching page 3: HTTP 503", "prefix text");
	is_int(e.code, IG_EX_TEMPFAIL, "prefix keeps the code");
	ig_err_prefix(&e, "ls-fetch");
	is_str(e.text, "ls-fetch: while fetching page 3: HTTP 503",
	    "prefixes nest");
	is_int(ig_err_prefix(NULL, "x"), -1, "ig_err_prefix with NULL returns -1");

	/* Overlong messages are cut, never overflow. */
	memset(longmsg, 'a', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	ig_err_set(&e, IG_EX_SOFTWARE, "%s", longmsg);
	is_int(strlen(e.text), sizeof(e.text) - 1, "long message cut to the record");
	ig_err_prefix(&e, "ctx");
	is_int(strlen(e.text), sizeof(e.text) - 1, "long prefixed message cut");
	ok(strncmp(e.text, "ctx: aaa", 8) == 0, "prefix kept in front");
}

static void
test_exit_name(void)
{
	static const struct {
		int		 code;
		const char	*name;
	} t[] = {
		{ IG_EX_OK, "ok" }, { IG_EX_PARTIAL, "partial" },
		{ IG_EX_USAGE, "usage" }, { IG_EX_DATAERR, "dataerr" },
		{ IG_EX_NOINPUT, "noinput" }, { IG_EX_SOFTWARE, "software" },
		{ IG_EX_OSERR, "oserr" }, { IG_EX_IOERR, "ioerr" },
		{ IG_EX_TEMPFAIL, "tempfail" }, { IG_EX_PROTOCOL, "protocol" },
		{ IG_EX_NOPERM, "noperm" }, { IG_EX_CONFIG, "config" },
		{ 2, "error" }, { -1, "error" }
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_str(ig_exit_name(t[i].code), t[i].name, "ig_exit_name(%d)",
		    t[i].code);
	/* The values follow <sysexits.h>. */
	is_int(IG_EX_USAGE, 64, "usage is 64");
	is_int(IG_EX_TEMPFAIL, 75, "tempfail is 75");
	is_int(IG_EX_CONFIG, 78, "config is 78");
}

int
main(void)
{
	test_set();
	test_errno();
	test_prefix();
	test_exit_name();
	return done_testing();
}
