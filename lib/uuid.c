/*
 * uuid.c: version 4 UUIDs from getrandom(2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ts.h"
#include "uuid.h"

int
ig_uuid_valid(const char *s)
{
	int i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return s[36] == '\0';
}

void
ig_uuid_v4(char *buf)
{
	unsigned char r[16];
	size_t got = 0;
	ssize_t n;
	int i;

	while (got < sizeof(r)) {
		n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* No entropy source: time and pid still make a usable id. */
			ig_ts t = ig_ts_wall();
			pid_t pid = getpid();

			memcpy(r, &t, sizeof(t));
			memcpy(r + 8, &pid, sizeof(pid));
			break;
		}
		got += (size_t)n;
	}
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++)
		buf += sprintf(buf, "%s%02x",
		    (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "", r[i]);
}
