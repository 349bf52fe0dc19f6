/*
 * ndjson.h: newline-delimited JSON in and out.  A record is one line
 * holding one JSON value; each line has a size cap; a bad line is
 * reported with its line number and reading can go on after it.
 */
#ifndef IG_NDJSON_H
#define IG_NDJSON_H

#include <stdio.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

#define IG_NDJSON_MAXLEN	(16u * 1024 * 1024)

struct ig_ndjson_in {
	FILE		*fp;
	int		 owned;		/* fp was opened here */
	char		 name[256];	/* "stdin" or the path, for messages */
	unsigned long	 lineno;	/* number of the line last read */
	struct ig_buf	 line;		/* the raw text of that line */
};

/* Reads path, or stdin when path is NULL or "-". 0, or -1 (IG_EX_NOINPUT). */
int	ig_ndjson_open(struct ig_ndjson_in *in, const char *path, size_t maxlen,
	    struct ig_err *e);
/* Reads an already open stream (borrowed) named name in messages. */
void	ig_ndjson_open_fp(struct ig_ndjson_in *in, FILE *fp, const char *name,
	    size_t maxlen);
/*
 * The next record: 1 and a new reference in *rec (an object unless
 * IG_NDJSON_ANY); 0 at end of input; -1 with *rec NULL and e filled,
 * IG_EX_DATAERR for a bad line (reading may continue: the line is
 * consumed and in->line holds it, cut at the cap) or IG_EX_IOERR when
 * the stream failed.  Blank lines are skipped.
 */
#define IG_NDJSON_ANY	0x1
int	ig_ndjson_next(struct ig_ndjson_in *in, int flags, json_t **rec,
	    struct ig_err *e);
void	ig_ndjson_close(struct ig_ndjson_in *in);	/* NULL-safe */

/* Writes rec compactly plus '\n' (borrows rec); flushes when flush is set. 0 or -1. */
int	ig_ndjson_put(FILE *out, const json_t *rec, int flush);

#endif
