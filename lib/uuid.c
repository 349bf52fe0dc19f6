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
