/*
 * test-jwt.c: bearer token verification (jwt.h).  The HS256 example of
 * RFC 7515 appendix A.1, tokens minted by an independent implementation
 * (the openssl command line, run through popen) for HS256, HS384 and
 * HS512, and every way a token can be wrong: its shape, its encoding,
 * its header, its signature and its claims.  Each refusal is checked for
 * its exit code and its exact message, which must not quote the secret
 * or the token.  Last, the JWT_* environment variables.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jwt.h"
#include "log.h"
#include "ts.h"
#include "tap.h"

#define NOW		INT64_C(1778782961)	/* 2026-05-14T18:22:41Z */
#define NOW_US		(NOW * IG_TS_SEC)
#define SECRET		"s3cr3t-jwt-key-for-tests-0123456789"
#define OTHER		"another-key-that-is-not-the-one"
#define H256		"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define H384		"{\"alg\":\"HS384\",\"typ\":\"JWT\"}"
#define H512		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}"
#define SUB		"{\"sub\":\"user-42\"}"

/* RFC 7515 appendix A.1: the JWK's "k" and the complete JWS. */
#define A1_K		"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
#define A1_JWS		"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" \
			".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" \
			".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define A1_EXP		INT64_C(1300819380)

#define NOPERM		IG_EX_NOPERM

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *kept[256];			/* tokens to free at the end */
static int nkept;

static char *
keep(char *s)
{
	if (s == NULL || nkept == (int)(sizeof(kept) / sizeof(kept[0]))) {
		printf("Bail out! cannot keep a token\n");
		exit(1);
	}
	return kept[nkept++] = s;
}

/*
 * A token for header and payload signed with HMAC and digest md ("sha256",
 * "sha384", "sha512") under secret, made by the openssl command line alone.
 */
static const char mint_sh[] =
    "b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }\n"
    "h=$(printf '%s' \"$TJ_HEADER\" | b64url) &&\n"
    "p=$(printf '%s' \"$TJ_PAYLOAD\" | b64url) &&\n"
    "s=$(printf '%s' \"$h.$p\" | openssl dgst -\"$TJ_MD\" -mac HMAC"
    " -macopt \"key:$TJ_SECRET\" -binary | b64url) &&\n"
    "test -n \"$s\" && printf '%s' \"$h.$p.$s\"\n";

static char *
mint(const char *md, const char *secret, const char *header,
    const char *payload)
{
	char buf[16384];
	size_t n = 0, r;
	FILE *fp;

	if (setenv("TJ_MD", md, 1) == -1 || setenv("TJ_SECRET", secret, 1) == -1 ||
	    setenv("TJ_HEADER", header, 1) == -1 ||
	    setenv("TJ_PAYLOAD", payload, 1) == -1 ||
	    (fp = popen(mint_sh, "r")) == NULL) {
		printf("Bail out! cannot run openssl\n");
		exit(1);
	}
	while ((r = fread(buf + n, 1, sizeof(buf) - 1 - n, fp)) > 0)
		n += r;
	buf[n] = '\0';
	if (pclose(fp) != 0 || n == 0 || n == sizeof(buf) - 1) {
		printf("Bail out! openssl could not mint a token\n");
		exit(1);
	}
	return keep(strdup(buf));
}

/* HS256 under SECRET with the payload formatted from fmt. */
__attribute__((format(printf, 1, 2)))
static char *
mintp(const char *fmt, ...)
{
	char payload[12000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(payload, sizeof(payload), fmt, ap);
	va_end(ap);
	return mint("sha256", SECRET, H256, payload);
}

/* The base64url form of s, made by the library's encoder. */
static char *
b64(const char *s)
{
	struct ig_buf b;

	ig_buf_init(&b, 65536);
	if (ig_b64url_encode(&b, s, strlen(s)) == -1) {
		printf("Bail out! cannot encode\n");
		exit(1);
	}
	return keep(ig_buf_detach(&b));
}

/* The concatenation of the strings up to NULL. */
static char *
cat(const char *s, ...)
{
	struct ig_buf b;
	va_list ap;

	ig_buf_init(&b, 65536);
	va_start(ap, s);
	for (; s != NULL; s = va_arg(ap, const char *))
		ig_buf_addstr(&b, s);
	va_end(ap);
	return keep(ig_buf_detach(&b));
}

/* A copy of token with the character at i (negative: from the end) set to ch. */
static char *
poke(const char *token, long i, char ch)
{
	char *t = keep(strdup(token));

	t[i < 0 ? (long)strlen(t) + i : i] = ch;
	return t;
}

/* The part of token after its last dot (borrowed). */
static const char *
sig_of(const char *token)
{
	const char *p = strrchr(token, '.');

	return p != NULL ? p + 1 : token;
}

/* Part k (0, 1, 2) of token, new. */
static char *
part(const char *token, int k)
{
	const char *p = token, *q;

	while (k-- > 0)
		p = strchr(p, '.') + 1;
	q = strchr(p, '.');
	return keep(strndup(p, q != NULL ? (size_t)(q - p) : strlen(p)));
}

static void
cfg_setup(struct ig_jwt_config *c, const void *key, size_t n)
{
	ig_jwt_config_init(c);
	if ((c->secret = malloc(n)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(c->secret, key, n);
	c->secret_len = n;
}

static void
accepted(const struct ig_jwt_config *c, const char *token, ig_ts now,
    const char *want, const char *what)
{
	struct ig_err e = IG_ERR_INIT;
	char *sub = NULL;
	int r;

	r = ig_jwt_verify(c, token, now, &sub, &e);
	if (!ok(r == 0 && e.code == IG_EX_OK, "%s: accepted", what))
		printf("#   refused (%d): %s\n", e.code, e.text);
	is_str(sub, want, "%s: subject", what);
	free(sub);
}

static void
refused(const struct ig_jwt_config *c, const char *token, ig_ts now, int code,
    const char *msg, const char *what)
{
	struct ig_err e = IG_ERR_INIT;
	char *sub = (char *)"unset";
	int r;

	r = ig_jwt_verify(c, token, now, &sub, &e);
	if (!ok(r == -1 && sub == NULL && e.code == code, "%s: refused", what))
		printf("#   r %d, code %d, subject %s\n", r, e.code,
		    sub != NULL ? sub : "(null)");
	if (r == 0)
		free(sub);
	is_str(e.text, msg, "%s: message", what);
	ok(strstr(e.text, SECRET) == NULL && (token == NULL ||
	    strlen(sig_of(token)) < 8 || strstr(e.text, sig_of(token)) == NULL),
	    "%s: message quotes neither secret nor token", what);
}

static void
test_rfc7515_a1(void)
{
	struct ig_jwt_config c;
	struct ig_buf k;

	ig_buf_init(&k, 256);
	is_int(ig_b64url_decode(&k, A1_K, strlen(A1_K)), 0, "A.1 key decodes");
	is_int(k.len, 64, "A.1 key is 64 bytes");
	cfg_setup(&c, k.data, k.len);
	ig_buf_release(&k);

	/* Header, signature and "exp" pass; A.1 has no "sub". */
	refused(&c, A1_JWS, (A1_EXP - 80) * IG_TS_SEC, NOPERM,
	    "token has no subject ('sub')", "A.1 before exp");
	refused(&c, A1_JWS, (A1_EXP + 59) * IG_TS_SEC, NOPERM,
	    "token has no subject ('sub')", "A.1 59 s after exp, in the leeway");
	refused(&c, A1_JWS, (A1_EXP + 60) * IG_TS_SEC, NOPERM,
	    "token has expired ('exp')", "A.1 60 s after exp");
	refused(&c, A1_JWS, NOW_US, NOPERM, "token has expired ('exp')",
	    "A.1 today");
	refused(&c, poke(A1_JWS, -10, 'x'), (A1_EXP - 80) * IG_TS_SEC, NOPERM,
	    "token signature does not match", "A.1 with one signature character changed");
	c.issuer = strdup("joe");
	refused(&c, A1_JWS, (A1_EXP - 80) * IG_TS_SEC, NOPERM,
	    "token has no subject ('sub')", "A.1 with JWT_ISSUER joe");
	ig_jwt_config_release(&c);

	cfg_setup(&c, SECRET, strlen(SECRET));
	refused(&c, A1_JWS, (A1_EXP - 80) * IG_TS_SEC, NOPERM,
	    "token signature does not match", "A.1 under another key");
	ig_jwt_config_release(&c);
}

static void
test_openssl(void)
{
	struct ig_jwt_config c;
	const char *t;

	cfg_setup(&c, SECRET, strlen(SECRET));
	t = mint("sha256", SECRET, H256, "{\"sub\":\"user-42\",\"exp\":1778783261}");
	accepted(&c, t, NOW_US, "user-42", "openssl HS256");
	accepted(&c, mint("sha256", SECRET, "{\"alg\":\"HS256\"}", SUB), NOW_US,
	    "user-42", "openssl HS256 without typ");
	accepted(&c, mint("sha256", SECRET,
	    "{\"typ\":\"jwt\",\"kid\":\"k1\",\"alg\":\"HS256\"}", SUB), NOW_US,
	    "user-42", "openssl HS256, typ in lower case, a kid");
	accepted(&c, mint("sha256", SECRET, H256,
	    "{\"sub\":\"m\\u00fcller \\u2713\"}"), NOW_US, "m\xc3\xbcller \xe2\x9c\x93",
	    "openssl HS256, a non-ASCII subject");
	refused(&c, mint("sha384", SECRET, H384, SUB), NOW_US, NOPERM,
	    "token algorithm HS384 is not allowed by JWT_ALGORITHMS",
	    "openssl HS384, only HS256 allowed");
	refused(&c, mint("sha512", SECRET, H512, SUB), NOW_US, NOPERM,
	    "token algorithm HS512 is not allowed by JWT_ALGORITHMS",
	    "openssl HS512, only HS256 allowed");

	c.algs = IG_JWT_HS256 | IG_JWT_HS384;
	accepted(&c, mint("sha384", SECRET, H384, SUB), NOW_US, "user-42",
	    "openssl HS384, HS384 allowed");
	accepted(&c, t, NOW_US, "user-42", "openssl HS256, HS384 allowed");
	refused(&c, mint("sha512", SECRET, H512, SUB), NOW_US, NOPERM,
	    "token algorithm HS512 is not allowed by JWT_ALGORITHMS",
	    "openssl HS512, HS256 and HS384 allowed");

	c.algs = IG_JWT_HS256 | IG_JWT_HS384 | IG_JWT_HS512;
	accepted(&c, mint("sha512", SECRET, H512, SUB), NOW_US, "user-42",
	    "openssl HS512, HS512 allowed");
	/* The header picks the algorithm; the signature must be of that kind. */
	refused(&c, mint("sha256", SECRET, H512, SUB), NOW_US, NOPERM,
	    "token signature has the wrong length for HS512",
	    "HS512 header, HS256 signature");
	refused(&c, mint("sha512", SECRET, H256, SUB), NOW_US, NOPERM,
	    "token signature has the wrong length for HS256",
	    "HS256 header, HS512 signature");
	refused(&c, mint("sha384", OTHER, H384, SUB), NOW_US, NOPERM,
	    "token signature does not match", "openssl HS384, wrong secret");
	ig_jwt_config_release(&c);
}

static void
test_signature(void)
{
	struct ig_jwt_config c;
	const char *t, *u, *s;
	char flip;

	cfg_setup(&c, SECRET, strlen(SECRET));
	t = mint("sha256", SECRET, H256, SUB);
	u = mint("sha256", SECRET, H256, "{\"sub\":\"admin\"}");
	s = sig_of(t);
	flip = s[5] == 'A' ? 'B' : 'A';
	refused(&c, poke(t, s + 5 - t, flip), NOW_US, NOPERM,
	    "token signature does not match", "one signature character changed");
	refused(&c, mint("sha256", OTHER, H256, SUB), NOW_US, NOPERM,
	    "token signature does not match", "signed with another secret");
	refused(&c, mint("sha256", SECRET "x", H256, SUB), NOW_US, NOPERM,
	    "token signature does not match", "signed with a longer secret");
	refused(&c, cat(part(t, 0), ".", part(u, 1), ".", part(t, 2), NULL),
	    NOW_US, NOPERM, "token signature does not match",
	    "payload swapped for another token's");
	refused(&c, cat(part(t, 0), ".", part(t, 1), ".", NULL), NOW_US, NOPERM,
	    "token signature has the wrong length for HS256", "empty signature");
	refused(&c, cat(part(t, 0), ".", part(t, 1), ".", b64("short"), NULL),
	    NOW_US, NOPERM, "token signature has the wrong length for HS256",
	    "short signature");

	/* A secret of one byte still works; an empty one is none at all. */
	ig_jwt_config_release(&c);
	cfg_setup(&c, "k", 1);
	accepted(&c, mint("sha256", "k", H256, SUB), NOW_US, "user-42",
	    "one-byte secret");
	ig_jwt_config_release(&c);
}

static void
test_algorithm(void)
{
	struct ig_jwt_config c;
	const char *none;

	cfg_setup(&c, SECRET, strlen(SECRET));
	c.algs = IG_JWT_HS256 | IG_JWT_HS384 | IG_JWT_HS512;
	none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	refused(&c, cat(none, ".", b64(SUB), ".", NULL), NOW_US, NOPERM,
	    "token algorithm 'none' is refused", "alg none, no signature");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"none\"}", SUB), NOW_US,
	    NOPERM, "token algorithm 'none' is refused",
	    "alg none with an HS256 signature");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"None\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg None");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"RS256\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg RS256 signed with the secret as HMAC key");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"ES256\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg ES256");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"hs256\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg in lower case");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS256 \"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg with a trailing space");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS2560\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg HS2560");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"\"}", SUB), NOW_US,
	    NOPERM, "token algorithm is not supported: only HS256, HS384 and HS512",
	    "alg empty");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS256\\u0000\"}", SUB),
	    NOW_US, NOPERM, "token header is not JSON", "alg with a NUL");
	refused(&c, mint("sha256", SECRET, "{\"alg\":256}", SUB), NOW_US,
	    NOPERM, "token header 'alg' is not a string", "alg a number");
	refused(&c, mint("sha256", SECRET, "{\"alg\":[\"HS256\"]}", SUB), NOW_US,
	    NOPERM, "token header 'alg' is not a string", "alg an array");
	refused(&c, mint("sha256", SECRET, "{\"typ\":\"JWT\"}", SUB), NOW_US,
	    NOPERM, "token header has no 'alg'", "no alg");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS256\",\"typ\":\"JOSE\"}",
	    SUB), NOW_US, NOPERM, "token header 'typ' is not JWT", "typ JOSE");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS256\",\"typ\":\"JWTS\"}",
	    SUB), NOW_US, NOPERM, "token header 'typ' is not JWT", "typ JWTS");
	refused(&c, mint("sha256", SECRET, "{\"alg\":\"HS256\",\"typ\":1}",
	    SUB), NOW_US, NOPERM, "token header 'typ' is not JWT", "typ a number");
	refused(&c, mint("sha256", SECRET,
	    "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", SUB), NOW_US,
	    NOPERM, "token header has 'crit': no extension is supported", "crit");
	c.algs = 0;
	refused(&c, mint("sha256", SECRET, H256, SUB), NOW_US, NOPERM,
	    "token algorithm HS256 is not allowed by JWT_ALGORITHMS",
	    "no algorithm allowed at all");
	ig_jwt_config_release(&c);
}

static void
test_shape(void)
{
	static const char bad_b64[] = "token signature is not base64url";
	struct ig_jwt_config c;
	const char *t, *h, *p, *s;
	char *u;
	size_t i;

	cfg_setup(&c, SECRET, strlen(SECRET));
	t = mint("sha256", SECRET, H256, SUB);
	h = part(t, 0);
	p = part(t, 1);
	s = part(t, 2);
	refused(&c, NULL, NOW_US, NOPERM, "no token", "NULL token");
	refused(&c, "", NOW_US, NOPERM, "no token", "empty token");
	refused(&c, h, NOW_US, NOPERM,
	    "token is not three parts separated by dots", "one part");
	refused(&c, cat(h, ".", p, NULL), NOW_US, NOPERM,
	    "token is not three parts separated by dots", "two parts");
	refused(&c, cat(t, ".", s, NULL), NOW_US, NOPERM,
	    "token is not three parts separated by dots", "four parts");
	refused(&c, cat(t, ".", NULL), NOW_US, NOPERM,
	    "token is not three parts separated by dots", "a trailing dot");
	refused(&c, "..", NOW_US, NOPERM, "token header is not JSON",
	    "three empty parts");
	refused(&c, cat(".", p, ".", s, NULL), NOW_US, NOPERM,
	    "token header is not JSON", "empty header");
	refused(&c, mint("sha256", SECRET, H256, ""), NOW_US, NOPERM,
	    "token payload is not JSON", "empty payload, signed");
	refused(&c, cat(h, "=.", p, ".", s, NULL), NOW_US, NOPERM,
	    "token header is not base64url", "padding on the header");
	refused(&c, cat(t, "=", NULL), NOW_US, NOPERM, bad_b64,
	    "padding on the signature");
	refused(&c, cat(h, ".", p, "==.", s, NULL), NOW_US, NOPERM,
	    "token payload is not base64url", "padding on the payload");
	refused(&c, poke(t, (long)strlen(t) - 5, '+'), NOW_US, NOPERM, bad_b64,
	    "'+' in the signature");
	refused(&c, poke(t, (long)strlen(t) - 5, '/'), NOW_US, NOPERM, bad_b64,
	    "'/' in the signature");
	refused(&c, poke(t, 3, '+'), NOW_US, NOPERM,
	    "token header is not base64url", "'+' in the header");
	refused(&c, poke(t, (long)strlen(h) + 3, '/'), NOW_US, NOPERM,
	    "token payload is not base64url", "'/' in the payload");
	/* 32 bytes leave 2 spare bits in the last character: they must be 0. */
	u = keep(strdup(t));
	i = strlen(u) - 1;
	u[i] = alphabet[(strchr(alphabet, u[i]) - alphabet) | 1];
	refused(&c, u, NOW_US, NOPERM, bad_b64, "non-canonical last character");
	refused(&c, cat(" ", t, NULL), NOW_US, NOPERM,
	    "token header is not base64url", "a leading space");
	refused(&c, cat(t, "\n", NULL), NOW_US, NOPERM, bad_b64,
	    "a trailing newline");
	refused(&c, cat(t, " ", NULL), NOW_US, NOPERM, bad_b64,
	    "a trailing space");
	refused(&c, cat(h, ". ", p, ".", s, NULL), NOW_US, NOPERM,
	    "token payload is not base64url", "a space after a dot");
	refused(&c, cat(h, ".", p, ".\t", s, NULL), NOW_US, NOPERM, bad_b64,
	    "a tab in the signature");
	refused(&c, cat("Bearer ", t, NULL), NOW_US, NOPERM,
	    "token header is not base64url", "the Bearer prefix left on");
	refused(&c, cat(b64("{\"alg\":\"HS256\""), ".", p, ".", s, NULL), NOW_US,
	    NOPERM, "token header is not JSON", "truncated header");
	ig_jwt_config_release(&c);
}

static void
test_json(void)
{
	struct ig_jwt_config c;

	cfg_setup(&c, SECRET, strlen(SECRET));
	refused(&c, mint("sha256", SECRET, "not json", SUB), NOW_US, NOPERM,
	    "token header is not JSON", "header not JSON");
	refused(&c, mint("sha256", SECRET, "[\"HS256\"]", SUB), NOW_US, NOPERM,
	    "token header is not a JSON object", "header an array");
	refused(&c, mint("sha256", SECRET, H256 " x", SUB), NOW_US, NOPERM,
	    "token header is not JSON", "header with text after the object");
	refused(&c, mint("sha256", SECRET, H256 H256, SUB), NOW_US, NOPERM,
	    "token header is not JSON", "header two objects");
	refused(&c, mint("sha256", SECRET,
	    "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", SUB), NOW_US, NOPERM,
	    "token header has a repeated key", "header repeats alg");
	refused(&c, mint("sha256", SECRET,
	    "{\"alg\":\"HS256\",\"alg\":\"none\"}", SUB), NOW_US, NOPERM,
	    "token header has a repeated key", "header repeats alg, then none");
	refused(&c, mintp("[{\"sub\":\"user-42\"}]"), NOW_US, NOPERM,
	    "token payload is not a JSON object", "payload an array");
	refused(&c, mintp("sub=user-42"), NOW_US, NOPERM,
	    "token payload is not JSON", "payload not JSON");
	refused(&c, mintp("{\"sub\":\"user-42\",}"), NOW_US, NOPERM,
	    "token payload is not JSON", "payload with a trailing comma");
	refused(&c, mintp("{\"sub\":\"user-42\",\"sub\":\"admin\"}"), NOW_US,
	    NOPERM, "token payload has a repeated key", "payload repeats sub");
	refused(&c, mintp("{\"exp\":1,\"sub\":\"user-42\",\"exp\":9999999999}"),
	    NOW_US, NOPERM, "token payload has a repeated key",
	    "payload repeats exp");
	accepted(&c, mintp(" {\"sub\" : \"user-42\"}\n"), NOW_US, "user-42",
	    "payload with JSON white space");
	ig_jwt_config_release(&c);
}

static void
test_times(void)
{
	struct ig_jwt_config c;

	cfg_setup(&c, SECRET, strlen(SECRET));
	accepted(&c, mintp("{\"sub\":\"a\"}"), NOW_US, "a", "no exp at all");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW + 300),
	    NOW_US, "a", "exp in 5 minutes");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 30),
	    NOW_US, "a", "expired 30 s ago, within the leeway");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 59),
	    NOW_US, "a", "expired 59 s ago, within the leeway");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 60),
	    NOW_US, NOPERM, "token has expired ('exp')", "expired 60 s ago");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 61),
	    NOW_US, NOPERM, "token has expired ('exp')", "expired 61 s ago");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 86400),
	    NOW_US, NOPERM, "token has expired ('exp')", "expired yesterday");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":0}"), NOW_US, NOPERM,
	    "token has expired ('exp')", "exp 0");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":-1e300}"), NOW_US, NOPERM,
	    "token has expired ('exp')", "exp -1e300");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld.5}", (long long)NOW + 1),
	    NOW_US, "a", "exp a real number");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":1.77878296e9}"),
	    NOW_US, "a", "exp with an exponent, 1 s past, in the leeway");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":\"%lld\"}", (long long)NOW + 300),
	    NOW_US, NOPERM, "token claim 'exp' is not a number", "exp a string");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":null}"), NOW_US, NOPERM,
	    "token claim 'exp' is not a number", "exp null");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":true}"), NOW_US, NOPERM,
	    "token claim 'exp' is not a number", "exp true");
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":[%lld]}", (long long)NOW + 300),
	    NOW_US, NOPERM, "token claim 'exp' is not a number", "exp an array");

	accepted(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW - 10),
	    NOW_US, "a", "nbf in the past");
	accepted(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 30),
	    NOW_US, "a", "nbf in 30 s, within the leeway");
	accepted(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 60),
	    NOW_US, "a", "nbf in 60 s, at the leeway");
	refused(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 61),
	    NOW_US, NOPERM, "token is not valid yet ('nbf')", "nbf in 61 s");
	refused(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 3600),
	    NOW_US, NOPERM, "token is not valid yet ('nbf')", "nbf in an hour");
	refused(&c, mintp("{\"sub\":\"a\",\"nbf\":\"0\"}"), NOW_US, NOPERM,
	    "token claim 'nbf' is not a number", "nbf a string");

	accepted(&c, mintp("{\"sub\":\"a\",\"iat\":%lld}", (long long)NOW - 1000),
	    NOW_US, "a", "iat in the past");
	accepted(&c, mintp("{\"sub\":\"a\",\"iat\":%lld}", (long long)NOW + 30),
	    NOW_US, "a", "iat 30 s ahead, within the leeway");
	refused(&c, mintp("{\"sub\":\"a\",\"iat\":%lld}", (long long)NOW + 61),
	    NOW_US, NOPERM, "token was issued in the future ('iat')",
	    "iat 61 s ahead");
	refused(&c, mintp("{\"sub\":\"a\",\"iat\":{}}"), NOW_US, NOPERM,
	    "token claim 'iat' is not a number", "iat an object");

	accepted(&c, mintp("{\"sub\":\"a\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
	    (long long)NOW, (long long)NOW, (long long)NOW + 1), NOW_US, "a",
	    "iat, nbf and exp together");
	/* Fractions of a second count. */
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 60),
	    NOW_US + 1, NOPERM, "token has expired ('exp')",
	    "expired 60 s and 1 us ago");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 59),
	    NOW_US + IG_TS_SEC - 1, "a", "expired 59.999999 s ago");

	c.leeway_s = 0;
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW),
	    NOW_US, NOPERM, "token has expired ('exp')", "leeway 0, exp now");
	accepted(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW + 1),
	    NOW_US, "a", "leeway 0, exp in 1 s");
	refused(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 1),
	    NOW_US, NOPERM, "token is not valid yet ('nbf')", "leeway 0, nbf in 1 s");
	accepted(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW),
	    NOW_US, "a", "leeway 0, nbf now");
	c.leeway_s = -100;
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW),
	    NOW_US, NOPERM, "token has expired ('exp')",
	    "negative leeway counts as 0");
	c.leeway_s = 3600;
	refused(&c, mintp("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 61),
	    NOW_US, NOPERM, "token has expired ('exp')",
	    "leeway 3600 counts as 60");
	refused(&c, mintp("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 61),
	    NOW_US, NOPERM, "token is not valid yet ('nbf')",
	    "leeway 3600 counts as 60 for nbf");
	ig_jwt_config_release(&c);
}

static void
test_iss_aud(void)
{
	struct ig_jwt_config c;

	cfg_setup(&c, SECRET, strlen(SECRET));
	accepted(&c, mintp("{\"sub\":\"a\",\"iss\":\"whoever\",\"aud\":\"any\"}"),
	    NOW_US, "a", "iss and aud not checked when not configured");
	c.issuer = strdup("https://auth.example.com/");
	accepted(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\"}"),
	    NOW_US, "a", "iss matches");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com\"}"),
	    NOW_US, NOPERM, "token issuer ('iss') is not JWT_ISSUER",
	    "iss without the trailing slash");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://AUTH.example.com/\"}"),
	    NOW_US, NOPERM, "token issuer ('iss') is not JWT_ISSUER",
	    "iss in another case");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"evil\"}"), NOW_US, NOPERM,
	    "token issuer ('iss') is not JWT_ISSUER", "wrong iss");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":[\"https://auth.example.com/\"]}"),
	    NOW_US, NOPERM, "token issuer ('iss') is not JWT_ISSUER",
	    "iss an array");
	refused(&c, mintp("{\"sub\":\"a\"}"), NOW_US, NOPERM,
	    "token has no issuer ('iss')", "iss missing when required");

	c.audience = strdup("integration");
	accepted(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":\"integration\"}"), NOW_US, "a", "aud matches");
	accepted(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":[\"frontend\",\"integration\"]}"), NOW_US, "a",
	    "aud an array containing the audience");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":\"frontend\"}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE", "wrong aud");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":\"integration-test\"}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE",
	    "aud with the audience as a prefix");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":[\"frontend\",\"other\"]}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE",
	    "aud an array without the audience");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":[]}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE", "aud empty array");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":[[\"integration\"]]}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE",
	    "aud a nested array");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\","
	    "\"aud\":{\"integration\":true}}"), NOW_US, NOPERM,
	    "token audience ('aud') does not include JWT_AUDIENCE", "aud an object");
	refused(&c, mintp("{\"sub\":\"a\",\"iss\":\"https://auth.example.com/\"}"),
	    NOW_US, NOPERM, "token has no audience ('aud')",
	    "aud missing when required");
	ig_jwt_config_release(&c);
}

static void
test_subject(void)
{
	struct ig_jwt_config c;

	cfg_setup(&c, SECRET, strlen(SECRET));
	refused(&c, mintp("{\"exp\":%lld}", (long long)NOW + 60), NOW_US,
	    NOPERM, "token has no subject ('sub')", "no sub");
	refused(&c, mintp("{}"), NOW_US, NOPERM,
	    "token has no subject ('sub')", "empty payload object");
	refused(&c, mintp("{\"sub\":42}"), NOW_US, NOPERM,
	    "token subject ('sub') is not a non-empty string", "sub a number");
	refused(&c, mintp("{\"sub\":null}"), NOW_US, NOPERM,
	    "token subject ('sub') is not a non-empty string", "sub null");
	refused(&c, mintp("{\"sub\":[\"a\"]}"), NOW_US, NOPERM,
	    "token subject ('sub') is not a non-empty string", "sub an array");
	refused(&c, mintp("{\"sub\":\"\"}"), NOW_US, NOPERM,
	    "token subject ('sub') is not a non-empty string", "sub empty");
	ig_jwt_config_release(&c);
}

static void
test_size(void)
{
	struct ig_jwt_config c;
	char pad[9001], msg[64], *big;
	const char *t;

	cfg_setup(&c, SECRET, strlen(SECRET));
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	t = mintp("{\"sub\":\"a\",\"pad\":\"%s\"}", pad);
	ok(strlen(t) > IG_JWT_MAX_LEN, "the padded token is over 8192 bytes");
	refused(&c, t, NOW_US, NOPERM, "token is longer than 8192 bytes",
	    "oversize token");
	c.max_len = 0;
	refused(&c, t, NOW_US, NOPERM, "token is longer than 8192 bytes",
	    "oversize token, max_len 0 means the default");
	c.max_len = 20000;
	accepted(&c, t, NOW_US, "a", "the same token with a cap of 20000");

	/* Refused on its length before anything is parsed. */
	if ((big = malloc(100001)) == NULL)
		exit(1);
	memset(big, '.', 100000);
	big[100000] = '\0';
	c.max_len = IG_JWT_MAX_LEN;
	refused(&c, big, NOW_US, NOPERM, "token is longer than 8192 bytes",
	    "100000 dots");
	free(big);

	t = mintp(SUB);
	c.max_len = strlen(t);
	accepted(&c, t, NOW_US, "user-42", "a token exactly at the cap");
	c.max_len = strlen(t) - 1;
	snprintf(msg, sizeof(msg), "token is longer than %zu bytes", c.max_len);
	refused(&c, t, NOW_US, NOPERM, msg, "a token one byte over the cap");
	ig_jwt_config_release(&c);
}

static void
test_no_secret(void)
{
	struct ig_jwt_config c;
	const char *t = mintp(SUB);

	ig_jwt_config_init(&c);
	refused(&c, t, NOW_US, IG_EX_CONFIG,
	    "JWT_SECRET is not set: refusing every write", "no secret configured");
	refused(&c, NULL, NOW_US, IG_EX_CONFIG,
	    "JWT_SECRET is not set: refusing every write",
	    "no secret configured, no token");
	c.secret = (unsigned char *)strdup("");
	c.secret_len = 0;
	refused(&c, t, NOW_US, IG_EX_CONFIG,
	    "JWT_SECRET is not set: refusing every write", "an empty secret");
	ig_jwt_config_release(&c);
	ok(c.secret == NULL && c.secret_len == 0 && c.issuer == NULL &&
	    c.algs == IG_JWT_HS256 && c.leeway_s == 60 && c.max_len == 8192,
	    "release sets the defaults again");
}

static void
clear_env(void)
{
	unsetenv("JWT_SECRET");
	unsetenv("JWT_ALGORITHMS");
	unsetenv("JWT_ISSUER");
	unsetenv("JWT_AUDIENCE");
}

/* ig_jwt_config_env with JWT_ALGORITHMS set to s: the bits, or -1 and e. */
static int
env_algs(const char *s, struct ig_err *e)
{
	struct ig_jwt_config c;
	int r;

	setenv("JWT_ALGORITHMS", s, 1);
	ig_err_clear(e);
	if ((r = ig_jwt_config_env(&c, e)) == 0)
		r = (int)c.algs;
	else if (c.secret != NULL)
		r = -2;			/* must be released on failure */
	ig_jwt_config_release(&c);
	return r;
}

static void
test_env(void)
{
	static const struct {
		const char	*value;
		int		 want;
	} cases[] = {
		{ "", IG_JWT_HS256 },
		{ "HS256", IG_JWT_HS256 },
		{ "HS384", IG_JWT_HS256 | IG_JWT_HS384 },
		{ "HS256,HS512", IG_JWT_HS256 | IG_JWT_HS512 },
		{ " HS384 , HS512 ", IG_JWT_HS256 | IG_JWT_HS384 | IG_JWT_HS512 },
		{ "HS512,HS384,HS256", IG_JWT_HS256 | IG_JWT_HS384 | IG_JWT_HS512 },
		{ "HS256,HS256", IG_JWT_HS256 },
		{ "none", -1 },
		{ "HS256,none", -1 },
		{ "RS256", -1 },
		{ "HS256,RS256", -1 },
		{ "ES256", -1 },
		{ "hs256", -1 },
		{ "HS256,", -1 },
		{ ",HS256", -1 },
		{ "HS256,,HS384", -1 },
		{ " ", -1 },
		{ "HS256;HS384", -1 },
		{ "HS256 HS384", -1 },
		{ "HS1024", -1 },
	};
	struct ig_jwt_config c;
	struct ig_err e = IG_ERR_INIT;
	char line[128];
	const char *t;
	size_t i;
	int r;

	clear_env();
	is_int(ig_jwt_config_env(&c, &e), 0, "nothing set: not an error");
	ok(c.secret == NULL && c.issuer == NULL && c.audience == NULL &&
	    c.algs == IG_JWT_HS256 && c.leeway_s == 60 && c.max_len == 8192,
	    "nothing set: no secret, HS256, 60 s, 8192 bytes");
	refused(&c, mintp(SUB), NOW_US, IG_EX_CONFIG,
	    "JWT_SECRET is not set: refusing every write",
	    "JWT_SECRET unset: every token refused");
	ig_jwt_config_release(&c);

	setenv("JWT_SECRET", "", 1);
	is_int(ig_jwt_config_env(&c, &e), 0, "empty JWT_SECRET: not an error");
	ok(c.secret == NULL, "empty JWT_SECRET: no secret");
	ig_jwt_config_release(&c);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("JWT_SECRET", SECRET, 1);
		r = env_algs(cases[i].value, &e);
		is_int(r, cases[i].want, "JWT_ALGORITHMS '%s'", cases[i].value);
		if (cases[i].want == -1)
			ok(e.code == IG_EX_CONFIG &&
			    strncmp(e.text, "invalid JWT_ALGORITHMS: ", 24) == 0 &&
			    strstr(e.text, SECRET) == NULL,
			    "JWT_ALGORITHMS '%s': config error, no secret in \"%s\"",
			    cases[i].value, e.text);
	}
	setenv("JWT_ALGORITHMS", "HS256,RS256", 1);
	ig_jwt_config_env(&c, &e);
	is_str(e.text, "invalid JWT_ALGORITHMS: 'RS256' is not HS256, HS384 or HS512",
	    "JWT_ALGORITHMS message names the bad entry");
	setenv("JWT_ALGORITHMS", "HS256,,HS384", 1);
	ig_jwt_config_env(&c, &e);
	is_str(e.text, "invalid JWT_ALGORITHMS: empty algorithm name",
	    "JWT_ALGORITHMS message for an empty entry");

	setenv("JWT_ALGORITHMS", "HS256, HS384", 1);
	setenv("JWT_SECRET", SECRET, 1);
	setenv("JWT_ISSUER", "https://auth.example.com/", 1);
	setenv("JWT_AUDIENCE", "integration", 1);
	ig_err_clear(&e);
	is_int(ig_jwt_config_env(&c, &e), 0, "everything set");
	ok(c.secret_len == strlen(SECRET) &&
	    memcmp(c.secret, SECRET, c.secret_len) == 0, "JWT_SECRET copied");
	is_str(c.issuer, "https://auth.example.com/", "JWT_ISSUER copied");
	is_str(c.audience, "integration", "JWT_AUDIENCE copied");
	is_int(c.algs, IG_JWT_HS256 | IG_JWT_HS384, "JWT_ALGORITHMS read");
	t = mint("sha384", SECRET, H384, "{\"sub\":\"svc\","
	    "\"iss\":\"https://auth.example.com/\",\"aud\":[\"integration\"]}");
	accepted(&c, t, NOW_US, "svc", "configured from the environment, HS384");
	refused(&c, mint("sha384", SECRET, H384, "{\"sub\":\"svc\","
	    "\"iss\":\"https://auth.example.com/\"}"), NOW_US, NOPERM,
	    "token has no audience ('aud')",
	    "configured from the environment, no aud");
	snprintf(line, sizeof(line), "key %s in a line", SECRET);
	ig_log_redact(line);
	ok(strstr(line, SECRET) == NULL, "the secret is registered for redaction");
	ig_jwt_config_release(&c);
	ok(c.secret == NULL && c.issuer == NULL && c.audience == NULL,
	    "release frees the strings");
	clear_env();
}

int
main(void)
{
	clear_env();
	test_rfc7515_a1();
	test_openssl();
	test_signature();
	test_algorithm();
	test_shape();
	test_json();
	test_times();
	test_iss_aud();
	test_subject();
	test_size();
	test_no_secret();
	test_env();
	while (nkept > 0)
		free(kept[--nkept]);
	unsetenv("TJ_SECRET");
	ig_log_reset();
	return done_testing();
}
