/*
 * uuid.h: random (version 4) UUIDs, for request ids and BigQuery requestIds.
 */
#ifndef IG_UUID_H
#define IG_UUID_H

#define IG_UUID_LEN	37	/* 36 characters and the NUL */

/* Writes a new random UUID in its 36-character form into buf. */
void	ig_uuid_v4(char *buf);
/* Whether s is a UUID in its 36-character hexadecimal form (any version). */
int	ig_uuid_valid(const char *s);

#endif
