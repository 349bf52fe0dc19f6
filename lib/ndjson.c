/*
 * ndjson.c: NDJSON reading with a per-line cap, and writing.
 */
#include <errno.h>
#include <string.h>

#include "ndjson.h"

int
ig_ndjson_open(struct ig_ndjson_in *in, const char *path, size_t maxlen,
    struct ig_err *e)
{
	FILE *fp;

	if (path == NULL || strcmp(path, "-") == 0) {
		ig_ndjson_open_fp(in, stdin, "stdin", maxlen);
		return 0;
	}
	if ((fp = fopen(path, "r")) == NULL)
		return ig_err_errno(e, IG_EX_NOINPUT, "cannot open '%s'", path);
	ig_ndjson_open_fp(in, fp, path, maxlen);
	in->owned = 1;
	return 0;
}

void
ig_ndjson_open_fp(struct ig_ndjson_in *in, FILE *fp, const char *name,
    size_t maxlen)
{
	in->fp = fp;
	in->owned = 0;
	snprintf(in->name, sizeof(in->name), "%s", name);
	in->lineno = 0;
	ig_buf_init(&in->line, maxlen ? maxlen : IG_NDJSON_MAXLEN);
}

/* Appends what fits under the cap; sets *toolong when something did not. */
static void
take(struct ig_ndjson_in *in, const char *p, size_t n, int *toolong)
{
	size_t room = in->line.cap - in->line.len;

	if (*toolong)
		return;
	if (n > room) {
		*toolong = 1;
		n = room;
	}
	if (ig_buf_add(&in->line, p, n) == -1)
		*toolong = 1;
}

/*
 * Reads one line into in->line without its newline, NUL bytes included.
 * 1 line, 0 end of input, -1 error; *toolong when the line was cut at the cap.
 */
static int
read_line(struct ig_ndjson_in *in, int *toolong)
{
	char chunk[8192];
	size_t n = 0;
	int c, any = 0;

	ig_buf_reset(&in->line);
	*toolong = 0;
	while ((c = getc_unlocked(in->fp)) != EOF && c != '\n') {
		any = 1;
		chunk[n++] = (char)c;
		if (n == sizeof(chunk)) {
			take(in, chunk, n, toolong);
			n = 0;
		}
	}
	take(in, chunk, n, toolong);
	if (c == EOF && ferror(in->fp))
		return -1;
	return c == '\n' || any ? 1 : 0;
}

static int
blank(const struct ig_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (strchr(" \t\r", b->data[i]) == NULL)
			return 0;
	return 1;
}

int
ig_ndjson_next(struct ig_ndjson_in *in, int flags, json_t **rec,
    struct ig_err *e)
{
	json_error_t je;
	int r, toolong;

	*rec = NULL;
	do {
		if ((r = read_line(in, &toolong)) == -1)
			return ig_err_errno(e, IG_EX_IOERR, "cannot read %s",
			    in->name);
		if (r == 0)
			return 0;
		in->lineno++;
	} while (!toolong && blank(&in->line));
	if (toolong)
		return ig_err_set(e, IG_EX_DATAERR,
		    "%s:%lu: line longer than %zu bytes", in->name, in->lineno,
		    in->line.cap);
	if (memchr(in->line.data, '\0', in->line.len) != NULL)
		return ig_err_set(e, IG_EX_DATAERR, "%s:%lu: NUL byte in line",
		    in->name, in->lineno);
	*rec = json_loadb(in->line.data, in->line.len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (*rec == NULL)
		return ig_err_set(e, IG_EX_DATAERR, "%s:%lu: invalid JSON: %s",
		    in->name, in->lineno, je.text);
	if (!(flags & IG_NDJSON_ANY) && !json_is_object(*rec)) {
		json_decref(*rec);
		*rec = NULL;
		return ig_err_set(e, IG_EX_DATAERR,
		    "%s:%lu: expected a JSON object", in->name, in->lineno);
	}
	return 1;
}

void
ig_ndjson_close(struct ig_ndjson_in *in)
{
	if (in == NULL)
		return;
	if (in->owned && in->fp != NULL)
		fclose(in->fp);
	in->fp = NULL;
	ig_buf_release(&in->line);
}

int
ig_ndjson_put(FILE *out, const json_t *rec, int flush)
{
	if (json_dumpf(rec, out, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15)) == -1 || putc('\n', out) == EOF)
		return -1;
	if (flush && fflush(out) == EOF)
		return -1;
	return 0;
}
