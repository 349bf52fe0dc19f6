/*
 * test-uuid.c: random UUIDs (uuid.h): the 8-4-4-4-12 lowercase form,
 * version 4, the RFC 4122 variant, and no repeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"
#include "tap.h"

#define COUNT	1000

/* Whether s is a version 4 UUID in lowercase 8-4-4-4-12 form. */
static int
well_formed(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
main(void)
{
	static char ids[COUNT][IG_UUID_LEN];
	char buf[IG_UUID_LEN + 8];
	size_t i, bad = 0, dup = 0, seen[16] = { 0 }, variants = 0;

	is_int(IG_UUID_LEN, 37, "IG_UUID_LEN has room for 36 characters and the NUL");
	memset(buf, 'x', sizeof(buf));
	ig_uuid_v4(buf);
	ok(buf[36] == '\0', "the id is NUL-terminated at 36");
	ok(buf[37] == 'x', "nothing is written past IG_UUID_LEN");
	ok(well_formed(buf), "8-4-4-4-12 lowercase hex, version 4, variant 10xx: %s",
	    buf);

	for (i = 0; i < COUNT; i++) {
		ig_uuid_v4(ids[i]);
		if (!well_formed(ids[i])) {
			if (bad++ == 0)
				printf("# malformed: %s\n", ids[i]);
		}
		seen[strchr("0123456789abcdef", ids[i][19]) - "0123456789abcdef"]++;
	}
	is_int(bad, 0, "%d ids are all well formed", COUNT);
	for (i = 8; i < 12; i++)
		variants += seen[i] > 0;
	is_int(variants, 4, "the variant digit takes each of 8, 9, a and b");
	qsort(ids, COUNT, sizeof(ids[0]), cmp);
	for (i = 1; i < COUNT; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	is_int(dup, 0, "%d ids are distinct", COUNT);
	return done_testing();
}
