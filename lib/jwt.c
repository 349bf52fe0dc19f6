/*
 * jwt.c: HMAC-signed JSON Web Tokens (RFC 7519, JWS compact form of
 * RFC 7515) checked with OpenSSL's HMAC.  The module owns the
 * configuration read from JWT_* variables, wipes the secret when it is
 * released, and keeps nothing between calls: ig_jwt_verify allocates only
 * what it frees before returning, apart from the subject it hands over.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "buf.h"
#include "jwt.h"
#include "log.h"

static const struct alg {
	const char	*name;
	unsigned	 bit;
	const EVP_MD	*(*md)(void);
} algs[] = {
	{ "HS256", IG_JWT_HS256, EVP_sha256 },
	{ "HS384", IG_JWT_HS384, EVP_sha384 },
	{ "HS512", IG_JWT_HS512, EVP_sha512 },
};

#define NALGS	(sizeof(algs) / sizeof(algs[0]))

static const struct alg *
find_alg(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (strlen(algs[i].name) == len &&
		    memcmp(algs[i].name, name, len) == 0)
			return &algs[i];
	return NULL;
}

void
ig_jwt_config_init(struct ig_jwt_config *c)
{
	c->secret = NULL;
	c->secret_len = 0;
	c->algs = IG_JWT_HS256;
	c->issuer = NULL;
	c->audience = NULL;
	c->leeway_s = IG_JWT_LEEWAY;
	c->max_len = IG_JWT_MAX_LEN;
}

void
ig_jwt_config_release(struct ig_jwt_config *c)
{
	if (c->secret != NULL) {
		OPENSSL_cleanse(c->secret, c->secret_len);
		free(c->secret);
	}
	free(c->issuer);
	free(c->audience);
	ig_jwt_config_init(c);
}

/* Parses JWT_ALGORITHMS into *bits (HS256 included).  0, or -1 with e. */
static int
parse_algs(const char *s, unsigned *bits, struct ig_err *e)
{
	const struct alg *a;
	const char *p, *end;
	size_t n;

	*bits = IG_JWT_HS256;
	for (p = s;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (n = (size_t)(end - p); n > 0 &&
		    (p[n - 1] == ' ' || p[n - 1] == '\t'); n--)
			;
		if (n == 0)
			return ig_err_set(e, IG_EX_CONFIG,
			    "invalid JWT_ALGORITHMS: empty algorithm name");
		if ((a = find_alg(p, n)) == NULL)
			return ig_err_set(e, IG_EX_CONFIG,
			    "invalid JWT_ALGORITHMS: '%.*s' is not HS256, HS384 or HS512",
			    n > 32 ? 32 : (int)n, p);
		*bits |= a->bit;
		if (*end == '\0')
			return 0;
	}
}

/* A copy of the value of name in *out, or NULL when it is unset or empty. */
static int
getenv_dup(const char *name, char **out, struct ig_err *e)
{
	const char *v = getenv(name);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if ((*out = strdup(v)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "cannot copy %s", name);
	return 0;
}

int
ig_jwt_config_env(struct ig_jwt_config *c, struct ig_err *e)
{
	const char *v;
	char *secret = NULL;

	ig_jwt_config_init(c);
	if ((v = getenv("JWT_ALGORITHMS")) != NULL && *v != '\0' &&
	    parse_algs(v, &c->algs, e) == -1)
		goto fail;
	if (getenv_dup("JWT_SECRET", &secret, e) == -1 ||
	    getenv_dup("JWT_ISSUER", &c->issuer, e) == -1 ||
	    getenv_dup("JWT_AUDIENCE", &c->audience, e) == -1)
		goto fail;
	if (secret != NULL) {
		ig_log_secret(secret);
		c->secret = (unsigned char *)secret;
		c->secret_len = strlen(secret);
	}
	return 0;
fail:
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	ig_jwt_config_release(c);
	return -1;
}

/* Decodes one part of the token into b.  0, or -1 with e. */
static int
decode_part(struct ig_buf *b, const char *s, size_t n, const char *what,
    struct ig_err *e)
{
	if (ig_b64url_decode(b, s, n) == -1)
		return ig_err_set(e, IG_EX_NOPERM, "token %s is not base64url",
		    what);
	return 0;
}

/*
 * Parses b as a JSON object, refusing repeated keys.  The parser's own
 * message is not used: it quotes the input.
 */
static json_t *
load_object(const struct ig_buf *b, const char *what, struct ig_err *e)
{
	json_error_t jerr;
	json_t *o;

	o = json_loadb(b->len > 0 ? b->data : "", b->len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			ig_err_set(e, IG_EX_NOPERM, "token %s has a repeated key",
			    what);
		else
			ig_err_set(e, IG_EX_NOPERM, "token %s is not JSON", what);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		ig_err_set(e, IG_EX_NOPERM, "token %s is not a JSON object", what);
		return NULL;
	}
	return o;
}

/* Checks the header and picks the algorithm.  0, or -1 with e. */
static int
check_header(const struct ig_jwt_config *c, const json_t *h,
    const struct alg **alg, struct ig_err *e)
{
	const json_t *v;
	const char *name;

	if ((v = json_object_get(h, "alg")) == NULL)
		return ig_err_set(e, IG_EX_NOPERM, "token header has no 'alg'");
	if ((name = json_string_value(v)) == NULL)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token header 'alg' is not a string");
	if (strcmp(name, "none") == 0)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token algorithm 'none' is refused");
	if ((*alg = find_alg(name, json_string_length(v))) == NULL)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token algorithm is not supported: only HS256, HS384 and HS512");
	if (((*alg)->bit & c->algs) == 0)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token algorithm %s is not allowed by JWT_ALGORITHMS",
		    (*alg)->name);
	if ((v = json_object_get(h, "typ")) != NULL &&
	    (json_string_value(v) == NULL ||
	    strcasecmp(json_string_value(v), "JWT") != 0 ||
	    json_string_length(v) != 3))
		return ig_err_set(e, IG_EX_NOPERM, "token header 'typ' is not JWT");
	if (json_object_get(h, "crit") != NULL)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token header has 'crit': no extension is supported");
	return 0;
}

/* Checks the MAC of signed[0..n) against sig.  0, or -1 with e. */
static int
check_signature(const struct ig_jwt_config *c, const struct alg *alg,
    const char *signed_part, size_t n, const struct ig_buf *sig,
    struct ig_err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r;

	if (c->secret_len > INT_MAX)
		return ig_err_set(e, IG_EX_CONFIG, "JWT_SECRET is too long");
	if (HMAC(alg->md(), c->secret, (int)c->secret_len,
	    (const unsigned char *)signed_part, n, md, &mdlen) == NULL)
		return ig_err_set(e, IG_EX_SOFTWARE, "cannot compute %s",
		    alg->name);
	if (sig->len != mdlen) {
		r = ig_err_set(e, IG_EX_NOPERM,
		    "token signature has the wrong length for %s", alg->name);
	} else if (CRYPTO_memcmp(md, sig->data, mdlen) != 0) {
		r = ig_err_set(e, IG_EX_NOPERM, "token signature does not match");
	} else
		r = 0;
	OPENSSL_cleanse(md, sizeof(md));
	return r;
}

/*
 * Reads a numeric claim: 1 with *v when it is present, 0 when absent, -1
 * with e when it is not a JSON number.
 */
static int
number_claim(const json_t *p, const char *key, double *v, struct ig_err *e)
{
	const json_t *j;

	if ((j = json_object_get(p, key)) == NULL)
		return 0;
	if (!json_is_number(j))
		return ig_err_set(e, IG_EX_NOPERM,
		    "token claim '%s' is not a number", key);
	*v = json_number_value(j);
	return 1;
}

/* Whether "aud" (a string or an array of strings) names want. */
static int
has_audience(const json_t *aud, const char *want)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return 1;
	return 0;
}

/* Checks the registered claims of payload p at now.  0, or -1 with e. */
static int
check_claims(const struct ig_jwt_config *c, const json_t *p, ig_ts now,
    struct ig_err *e)
{
	const json_t *v;
	double t = 0, nows, leeway;
	int r;

	leeway = c->leeway_s < 0 ? 0 : c->leeway_s > IG_JWT_LEEWAY ?
	    IG_JWT_LEEWAY : (double)c->leeway_s;
	nows = (double)now / (double)IG_TS_SEC;
	if ((r = number_claim(p, "exp", &t, e)) == -1)
		return -1;
	if (r == 1 && !(nows < t + leeway))
		return ig_err_set(e, IG_EX_NOPERM, "token has expired ('exp')");
	if ((r = number_claim(p, "nbf", &t, e)) == -1)
		return -1;
	if (r == 1 && !(nows >= t - leeway))
		return ig_err_set(e, IG_EX_NOPERM,
		    "token is not valid yet ('nbf')");
	if ((r = number_claim(p, "iat", &t, e)) == -1)
		return -1;
	if (r == 1 && !(t <= nows + leeway))
		return ig_err_set(e, IG_EX_NOPERM,
		    "token was issued in the future ('iat')");
	if (c->issuer != NULL) {
		if ((v = json_object_get(p, "iss")) == NULL)
			return ig_err_set(e, IG_EX_NOPERM,
			    "token has no issuer ('iss')");
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), c->issuer) != 0)
			return ig_err_set(e, IG_EX_NOPERM,
			    "token issuer ('iss') is not JWT_ISSUER");
	}
	if (c->audience != NULL) {
		if ((v = json_object_get(p, "aud")) == NULL)
			return ig_err_set(e, IG_EX_NOPERM,
			    "token has no audience ('aud')");
		if (!has_audience(v, c->audience))
			return ig_err_set(e, IG_EX_NOPERM,
			    "token audience ('aud') does not include JWT_AUDIENCE");
	}
	if ((v = json_object_get(p, "sub")) == NULL)
		return ig_err_set(e, IG_EX_NOPERM, "token has no subject ('sub')");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return ig_err_set(e, IG_EX_NOPERM,
		    "token subject ('sub') is not a non-empty string");
	return 0;
}

int
ig_jwt_verify(const struct ig_jwt_config *c, const char *token, ig_ts now,
    char **subject, struct ig_err *e)
{
	struct ig_buf hb, pb, sb;
	const struct alg *alg = NULL;
	json_t *header = NULL, *payload = NULL;
	const char *d1, *d2;
	size_t len, max;
	int ret = -1;

	*subject = NULL;
	max = c->max_len > 0 ? c->max_len : IG_JWT_MAX_LEN;
	ig_buf_init(&hb, max);
	ig_buf_init(&pb, max);
	ig_buf_init(&sb, max);
	if (c->secret == NULL || c->secret_len == 0) {
		ig_err_set(e, IG_EX_CONFIG,
		    "JWT_SECRET is not set: refusing every write");
		goto out;
	}
	if (token == NULL || *token == '\0') {
		ig_err_set(e, IG_EX_NOPERM, "no token");
		goto out;
	}
	if ((len = strnlen(token, max + 1)) > max) {
		ig_err_set(e, IG_EX_NOPERM, "token is longer than %zu bytes", max);
		goto out;
	}
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL) {
		ig_err_set(e, IG_EX_NOPERM,
		    "token is not three parts separated by dots");
		goto out;
	}
	if (decode_part(&hb, token, (size_t)(d1 - token), "header", e) == -1 ||
	    decode_part(&pb, d1 + 1, (size_t)(d2 - d1 - 1), "payload", e) == -1 ||
	    decode_part(&sb, d2 + 1, len - (size_t)(d2 + 1 - token),
	    "signature", e) == -1)
		goto out;
	if ((header = load_object(&hb, "header", e)) == NULL ||
	    check_header(c, header, &alg, e) == -1)
		goto out;
	if (check_signature(c, alg, token, (size_t)(d2 - token), &sb, e) == -1)
		goto out;
	if ((payload = load_object(&pb, "payload", e)) == NULL ||
	    check_claims(c, payload, now, e) == -1)
		goto out;
	if ((*subject = strdup(json_string_value(json_object_get(payload,
	    "sub")))) == NULL) {
		ig_err_errno(e, IG_EX_OSERR, "cannot copy the token subject");
		goto out;
	}
	ret = 0;
out:
	json_decref(header);
	json_decref(payload);
	ig_buf_release(&hb);
	ig_buf_release(&pb);
	ig_buf_release(&sb);
	return ret;
}
