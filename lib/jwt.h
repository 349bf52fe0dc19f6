/*
 * jwt.h: verification of the bearer tokens that svc-cgi's write routes
 * require.  Only HMAC tokens are accepted: HS256 always, HS384 and HS512
 * when JWT_ALGORITHMS lists them.  The algorithm is pinned to that set, so
 * "none" and every other algorithm are refused.
 */
#ifndef IG_JWT_H
#define IG_JWT_H

#include <stddef.h>

#include "err.h"
#include "ts.h"

#define IG_JWT_HS256	0x1
#define IG_JWT_HS384	0x2
#define IG_JWT_HS512	0x4

#define IG_JWT_LEEWAY	60		/* default and greatest leeway (s) */
#define IG_JWT_MAX_LEN	8192		/* default cap on a token, bytes */

/*
 * What a token is checked against.  The secret and the strings are owned
 * (malloc'd) and freed by ig_jwt_config_release.
 */
struct ig_jwt_config {
	unsigned char	*secret;	/* JWT_SECRET; NULL: none configured */
	size_t		 secret_len;
	unsigned	 algs;		/* allowed IG_JWT_HS* bits */
	char		*issuer;	/* JWT_ISSUER; NULL: no "iss" check */
	char		*audience;	/* JWT_AUDIENCE; NULL: no "aud" check */
	long		 leeway_s;	/* clock skew; above 60 counts as 60 */
	size_t		 max_len;	/* longest token; 0: IG_JWT_MAX_LEN */
};

/* Sets the defaults (HS256, no secret, 60 s, 8192 bytes); allocates nothing. */
void	ig_jwt_config_init(struct ig_jwt_config *c);
/*
 * Initialises c from JWT_SECRET, JWT_ALGORITHMS (a comma-separated list
 * such as "HS256,HS384"; spaces around names are ignored; HS256 is always
 * allowed), JWT_ISSUER and JWT_AUDIENCE.  An empty or unset JWT_SECRET
 * leaves secret NULL, which is not an error here: ig_jwt_verify refuses
 * every token then.  The secret is registered with ig_log_secret.  0, or
 * -1 with e (IG_EX_CONFIG for a name that is not HS256, HS384 or HS512,
 * IG_EX_OSERR) and c released.
 */
int	ig_jwt_config_env(struct ig_jwt_config *c, struct ig_err *e);
/* Wipes the secret, frees the contents and sets the defaults again. */
void	ig_jwt_config_release(struct ig_jwt_config *c);

/*
 * Verifies token (the text after "Bearer ") at time now: the size cap,
 * three strict base64url parts, a header whose "alg" is allowed by c, the
 * HMAC signature (compared in constant time), then the claims: "exp",
 * "nbf" and "iat" with c's leeway, "iss" and "aud" when c names them, and
 * a non-empty string "sub".  0 with *subject a new string (the caller's to
 * free), or -1 with *subject NULL and e: IG_EX_CONFIG when c has no
 * secret, IG_EX_NOPERM for a token that is refused, IG_EX_OSERR.
 * Messages say what is wrong and never quote the token or the secret.
 */
int	ig_jwt_verify(const struct ig_jwt_config *c, const char *token,
	    ig_ts now, char **subject, struct ig_err *e);

#endif
