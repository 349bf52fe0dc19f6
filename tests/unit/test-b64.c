/*
 * test-b64.c: base64url without padding (b64.h): the RFC 4648 test
 * vectors, the two characters that differ from base64, round trips of
 * every length, and the strict decoder's refusals.
 */
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "tap.h"

static const struct {
	const char	*plain, *coded;
} vectors[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Whether s decodes, with the result in b. */
static int
decodes(struct ig_buf *b, const char *s, size_t n)
{
	ig_buf_reset(b);
	return ig_b64url_decode(b, s, n) == 0;
}

static void
test_vectors(void)
{
	struct ig_buf b;
	size_t i;

	ig_buf_init(&b, 1024);
	for (i = 0; i < NELEM(vectors); i++) {
		ig_buf_reset(&b);
		is_int(ig_b64url_encode(&b, vectors[i].plain,
		    strlen(vectors[i].plain)), 0, "encode \"%s\"", vectors[i].plain);
		is_str(b.len ? b.data : "", vectors[i].coded,
		    "\"%s\" encodes as \"%s\"", vectors[i].plain, vectors[i].coded);
		ok(decodes(&b, vectors[i].coded, strlen(vectors[i].coded)),
		    "\"%s\" decodes", vectors[i].coded);
		ok(b.len == strlen(vectors[i].plain) &&
		    memcmp(b.len ? b.data : "", vectors[i].plain, b.len) == 0,
		    "\"%s\" decodes to \"%s\"", vectors[i].coded, vectors[i].plain);
	}
	ig_buf_release(&b);
}

static void
test_url_alphabet(void)
{
	static const unsigned char fbff[] = { 0xfb, 0xff };
	static const unsigned char all[] = { 0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff };
	struct ig_buf b;

	ig_buf_init(&b, 1024);
	ig_b64url_encode(&b, fbff, sizeof(fbff));
	is_str(b.data, "-_8", "0xfb 0xff encodes as \"-_8\"");
	ok(decodes(&b, "-_8", 3) && b.len == 2 && memcmp(b.data, fbff, 2) == 0,
	    "\"-_8\" decodes to 0xfb 0xff");
	ig_buf_reset(&b);
	ig_b64url_encode(&b, all, sizeof(all));
	is_str(b.data, "----____", "'-' for 62 and '_' for 63");
	ok(strchr(b.data, '=') == NULL, "no padding");
	ig_buf_release(&b);
}

static void
test_round_trips(void)
{
	unsigned char in[300];
	struct ig_buf enc, dec;
	size_t n, bad = 0;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (unsigned char)(n * 37 + 11);
	ig_buf_init(&enc, 4096);
	ig_buf_init(&dec, 4096);
	for (n = 0; n < sizeof(in); n++) {
		ig_buf_reset(&enc);
		ig_buf_reset(&dec);
		if (ig_b64url_encode(&enc, in, n) == -1 ||
		    enc.len != (4 * n + 2) / 3 ||
		    ig_b64url_decode(&dec, enc.len ? enc.data : "", enc.len) == -1 ||
		    dec.len != n || (n > 0 && memcmp(dec.data, in, n) != 0))
			bad++;
	}
	is_int(bad, 0, "lengths 0 to 299 round-trip, unpadded length ceil(4n/3)");
	ig_buf_release(&enc);
	ig_buf_release(&dec);
}

static void
test_strict(void)
{
	static const struct {
		const char	*s;
		size_t		 n;
		const char	*what;
	} bad[] = {
		{ "Zg==", 4, "'=' padding" },
		{ "Zm8=", 4, "one '=' of padding" },
		{ "Zm9v+A", 6, "'+' (base64, not base64url)" },
		{ "Zm9v/w", 6, "'/' (base64, not base64url)" },
		{ "Zm9v Yg", 7, "a space" },
		{ "Zm9v\nYg", 7, "a newline" },
		{ "Zm9vY", 5, "length 5 (1 mod 4)" },
		{ "Z", 1, "length 1" },
		{ "Zh", 2, "\"Zh\": non-zero bits past the last byte" },
		{ "Zm9", 3, "\"Zm9\": non-zero bits past the last byte" },
		{ "-_9", 3, "\"-_9\": non-zero bits past the last byte" },
		{ "Zm\0v", 4, "an embedded NUL" },
		{ "Zm9v\0", 5, "a trailing NUL" },
		{ "Zm9\xc3\xa9", 5, "non-ASCII bytes" },
		{ "Zm9v.A", 6, "'.'" },
	};
	struct ig_buf b;
	size_t i;

	ig_buf_init(&b, 1024);
	for (i = 0; i < NELEM(bad); i++) {
		ig_buf_reset(&b);
		is_int(ig_b64url_decode(&b, bad[i].s, bad[i].n), -1,
		    "decode refuses %s", bad[i].what);
	}
	ok(decodes(&b, "Zm9vYmFy", 4) && b.len == 3 &&
	    memcmp(b.data, "foo", 3) == 0, "decode reads only n bytes");
	ig_buf_release(&b);
}

static void
test_caps(void)
{
	struct ig_buf b;

	ig_buf_init(&b, 5);
	is_int(ig_b64url_encode(&b, "foobar", 6), -1, "encode fails past the cap");
	ok(b.len <= 5, "and stays within it");
	ig_buf_release(&b);
	ig_buf_init(&b, 4);
	is_int(ig_b64url_encode(&b, "foo", 3), 0, "exactly the cap fits");
	ig_buf_release(&b);
	ig_buf_init(&b, 2);
	is_int(ig_b64url_decode(&b, "Zm9v", 4), -1, "decode fails past the cap");
	ig_buf_release(&b);
}

int
main(void)
{
	test_vectors();
	test_url_alphabet();
	test_round_trips();
	test_strict();
	test_caps();
	return done_testing();
}
