/*
 * b64.c: strict base64url (no padding) for JWTs.
 */
#include <string.h>

#include "b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
ig_b64url_encode(struct ig_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char out[4];
	unsigned v;
	size_t i, k;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		v = (unsigned)s[i] << 16;
		if (k > 1)
			v |= (unsigned)s[i + 1] << 8;
		if (k > 2)
			v |= s[i + 2];
		out[0] = alphabet[v >> 18 & 63];
		out[1] = alphabet[v >> 12 & 63];
		out[2] = alphabet[v >> 6 & 63];
		out[3] = alphabet[v & 63];
		if (ig_buf_add(b, out, k + 1) == -1)
			return -1;
	}
	return 0;
}

static int
value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

int
ig_b64url_decode(struct ig_buf *b, const char *s, size_t n)
{
	unsigned char out[3];
	unsigned v;
	size_t i, k, j;
	int d;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i += 4) {
		k = n - i < 4 ? n - i : 4;
		v = 0;
		for (j = 0; j < 4; j++) {
			d = 0;
			if (j < k && (d = value(s[i + j])) == -1)
				return -1;
			v = v << 6 | (unsigned)d;
		}
		out[0] = v >> 16 & 255;
		out[1] = v >> 8 & 255;
		out[2] = v & 255;
		/* The bits past the last whole byte must be zero (canonical form). */
		if ((k == 2 && (v & 0xffff)) || (k == 3 && (v & 0xff)))
			return -1;
		if (ig_buf_add(b, out, k - 1) == -1)
			return -1;
	}
	return 0;
}
