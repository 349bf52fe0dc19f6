/*
 * test-ndjson.c: NDJSON reading (line numbers, caps, recovery after bad
 * lines) and writing (framing, write errors) of ndjson.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ndjson.h"
#include "tap.h"

#define MAXLEN	32

static char path[] = "/tmp/test-ndjson-XXXXXX";

static void
write_file(const char *text, size_t len)
{
	FILE *fp;
	int fd;

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	fwrite(text, 1, len, fp);
	fclose(fp);
}

/* Expects a record; returns it (new reference) for more checks. */
static json_t *
next_ok(struct ig_ndjson_in *in, int flags, unsigned long line)
{
	struct ig_err e = IG_ERR_INIT;
	json_t *rec = NULL;
	int r;

	r = ig_ndjson_next(in, flags, &rec, &e);
	if (!ok(r == 1 && rec != NULL, "line %lu is a record", line))
		printf("#   got %d: %s\n", r, e.text);
	is_int(in->lineno, line, "lineno %lu", line);
	return rec;
}

/* Expects a bad line whose message starts "name:line:" and holds what. */
static void
next_bad(struct ig_ndjson_in *in, unsigned long line, const char *what)
{
	struct ig_err e = IG_ERR_INIT;
	json_t *rec = (json_t *)1;
	char want[300];

	is_int(ig_ndjson_next(in, 0, &rec, &e), -1, "line %lu is bad (%s)", line,
	    what);
	ok(rec == NULL, "no record for a bad line");
	is_int(e.code, IG_EX_DATAERR, "bad line is IG_EX_DATAERR");
	snprintf(want, sizeof(want), "%s:%lu: ", in->name, line);
	if (!ok(strncmp(e.text, want, strlen(want)) == 0 &&
	    strstr(e.text, what) != NULL, "message names %s and says '%s'",
	    want, what))
		printf("#   got: %s\n", e.text);
}

static void
test_read(void)
{
	static const char text[] =
	    "{\"a\":1}\n"					/* 1 */
	    "\n"						/* 2: blank */
	    " \t\r\n"						/* 3: blank */
	    "{\"b\":\n"						/* 4: invalid */
	    "[1,2]\n"						/* 5: not an object */
	    "{\"c\":\"this line is longer than 32 bytes\"}\n"	/* 6: too long */
	    "{\"d\":\"exactly 32 bytes long...\"}\n"		/* 7: at the cap */
	    "{\"x\":1,\"x\":2}\n"				/* 8: duplicate key */
	    "{\"e\":\"\\u00e9\"}\r\n"				/* 9: CRLF */
	    "{\"last\":true}";					/* 10: no newline */
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	json_t *rec;

	write_file(text, sizeof(text) - 1);
	is_int(ig_ndjson_open(&in, path, MAXLEN, &e), 0, "open a file");
	is_str(in.name, path, "named by its path");
	ok(in.owned, "the stream is owned");

	rec = next_ok(&in, 0, 1);
	is_int(json_integer_value(json_object_get(rec, "a")), 1, "first record");
	json_decref(rec);
	next_bad(&in, 4, "invalid JSON");
	is_str(in.line.data, "{\"b\":", "in->line holds the bad line");
	next_bad(&in, 5, "expected a JSON object");
	next_bad(&in, 6, "line longer than 32 bytes");
	if (!ok(in.line.len == MAXLEN &&
	    strncmp(in.line.data, "{\"c\":\"this line is longer than 3", MAXLEN) == 0,
	    "in->line holds the long line cut at the cap"))
		printf("#   got %zu bytes: '%s'\n", in.line.len,
		    in.line.data ? in.line.data : "(null)");
	rec = next_ok(&in, 0, 7);
	ok(rec != NULL && strlen(in.line.data) == MAXLEN,
	    "a line of exactly %d bytes", MAXLEN);
	json_decref(rec);
	next_bad(&in, 8, "duplicate");
	rec = next_ok(&in, 0, 9);
	is_str(json_string_value(json_object_get(rec, "e")), "\xc3\xa9",
	    "CRLF line and a \\u escape");
	json_decref(rec);
	rec = next_ok(&in, 0, 10);
	ok(json_is_true(json_object_get(rec, "last")),
	    "final line without a newline");
	json_decref(rec);
	rec = (json_t *)1;
	is_int(ig_ndjson_next(&in, 0, &rec, &e), 0, "then end of input");
	ok(rec == NULL, "no record at the end");
	is_int(ig_ndjson_next(&in, 0, &rec, &e), 0, "end of input again");
	is_int(in.lineno, 10, "ten lines read");
	ig_ndjson_close(&in);
	ok(in.fp == NULL && in.line.data == NULL, "close releases");
	ig_ndjson_close(NULL);
	ok(1, "close of NULL is a no-op");
	unlink(path);
}

static void
test_read_any_and_long(void)
{
	struct ig_ndjson_in in;
	json_t *rec;
	size_t big = 20000;
	char *text, *p;
	FILE *fp;

	/* IG_NDJSON_ANY takes any JSON value; NUL bytes are refused. */
	fp = tmpfile();
	fputs("[1,2]\n3\n\"s\"\nnull\n", fp);
	fwrite("{\"a\":\0}\n{}\n", 1, 11, fp);
	rewind(fp);
	ig_ndjson_open_fp(&in, fp, "mem", 0);
	ok(!in.owned, "a stream from open_fp is borrowed");
	rec = next_ok(&in, IG_NDJSON_ANY, 1);
	ok(json_is_array(rec), "ANY: an array");
	json_decref(rec);
	rec = next_ok(&in, IG_NDJSON_ANY, 2);
	is_int(json_integer_value(rec), 3, "ANY: a number");
	json_decref(rec);
	rec = next_ok(&in, IG_NDJSON_ANY, 3);
	is_str(json_string_value(rec), "s", "ANY: a string");
	json_decref(rec);
	rec = next_ok(&in, IG_NDJSON_ANY, 4);
	ok(json_is_null(rec), "ANY: null");
	json_decref(rec);
	next_bad(&in, 5, "NUL byte");
	rec = next_ok(&in, 0, 6);
	json_decref(rec);
	ig_ndjson_close(&in);
	ok(ftell(fp) >= 0, "close leaves a borrowed stream open");
	fclose(fp);

	/* Lines longer than the reader's chunks, under and over the cap. */
	text = malloc(big + 32);
	p = text;
	p += sprintf(p, "{\"s\":\"");
	memset(p, 'y', big);
	p += big;
	p += sprintf(p, "\"}\n{\"after\":1}\n");
	fp = fmemopen(text, (size_t)(p - text), "r");
	ig_ndjson_open_fp(&in, fp, "big", 0);
	rec = next_ok(&in, 0, 1);
	is_int(json_string_length(json_object_get(rec, "s")), big,
	    "a 20000-byte line under the default cap");
	json_decref(rec);
	ig_ndjson_close(&in);
	rewind(fp);
	ig_ndjson_open_fp(&in, fp, "big", 10000);
	next_bad(&in, 1, "line longer than 10000 bytes");
	rec = next_ok(&in, 0, 2);
	is_int(json_integer_value(json_object_get(rec, "after")), 1,
	    "the rest of a long line is skipped, the next line read");
	json_decref(rec);
	ig_ndjson_close(&in);
	fclose(fp);
	free(text);
}

static void
test_open_errors(void)
{
	struct ig_ndjson_in in;
	struct ig_err e = IG_ERR_INIT;
	json_t *rec = NULL;

	is_int(ig_ndjson_open(&in, "/nonexistent/x.ndjson", 0, &e), -1,
	    "open of a missing file fails");
	is_int(e.code, IG_EX_NOINPUT, "missing file is IG_EX_NOINPUT");
	ok(strstr(e.text, "/nonexistent/x.ndjson") != NULL, "message names the file");

	is_int(ig_ndjson_open(&in, "-", 0, &e), 0, "\"-\" is stdin");
	ok(in.fp == stdin && !in.owned, "stdin is borrowed");
	is_str(in.name, "stdin", "named stdin");
	ig_ndjson_close(&in);
	is_int(ig_ndjson_open(&in, NULL, 0, &e), 0, "NULL is stdin");
	ok(in.fp == stdin, "NULL path reads stdin");
	is_int(in.line.cap, IG_NDJSON_MAXLEN, "maxlen 0 means the default cap");
	ig_ndjson_close(&in);

	/* A directory opens but cannot be read: IG_EX_IOERR. */
	ig_err_clear(&e);
	is_int(ig_ndjson_open(&in, "/", 0, &e), 0, "open a directory");
	is_int(ig_ndjson_next(&in, 0, &rec, &e), -1, "reading it fails");
	is_int(e.code, IG_EX_IOERR, "read error is IG_EX_IOERR");
	ok(rec == NULL, "no record on a read error");
	ig_ndjson_close(&in);
}

static void
test_put(void)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *o;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	o = json_pack("{si sf ss s[ii] sn}", "a", 1, "r", 0.1, "s", "x\ny",
	    "l", 1, 2, "z");
	is_int(ig_ndjson_put(fp, o, 0), 0, "put an object");
	json_decref(o);
	o = json_integer(5);
	is_int(ig_ndjson_put(fp, o, 1), 0, "put a bare number, flushed");
	json_decref(o);
	o = json_real(2.5);
	is_int(ig_ndjson_put(fp, o, 1), 0, "put a real");
	json_decref(o);
	is_str(buf, "{\"a\":1,\"r\":0.1,\"s\":\"x\\ny\",\"l\":[1,2],\"z\":null}\n"
	    "5\n2.5\n", "compact, one value per line, newline escaped");
	fclose(fp);
	free(buf);

	fp = fopen("/dev/full", "w");
	if (fp == NULL) {
		ok(1, "# SKIP no /dev/full");
		ok(1, "# SKIP no /dev/full");
		return;
	}
	setvbuf(fp, NULL, _IONBF, 0);
	o = json_pack("{ss}", "k", "v");
	is_int(ig_ndjson_put(fp, o, 0), -1, "unbuffered write to /dev/full fails");
	fclose(fp);
	fp = fopen("/dev/full", "w");
	is_int(ig_ndjson_put(fp, o, 1), -1, "flushed write to /dev/full fails");
	fclose(fp);
	json_decref(o);
}

int
main(void)
{
	test_read();
	test_read_any_and_long();
	test_open_errors();
	test_put();
	return done_testing();
}
