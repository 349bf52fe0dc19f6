/*
 * b64.h: base64url without padding (RFC 4648 section 5), as JWTs use it.
 */
#ifndef IG_B64_H
#define IG_B64_H

#include <stddef.h>

#include "buf.h"

/* Appends the base64url form of p[0..n) to b.  0, or -1 when b's cap is reached. */
int	ig_b64url_encode(struct ig_buf *b, const void *p, size_t n);
/*
 * Decodes s[0..n) strictly: only the base64url alphabet, no padding, no
 * whitespace, and no non-zero bits left over.  0, or -1 when s is not
 * canonical base64url or b's cap is reached.
 */
int	ig_b64url_decode(struct ig_buf *b, const char *s, size_t n);

#endif
