/*
 * bqmerge.c: batches of sales rows merged into BigQuery (see bqmerge.h).
 *
 * A batch is kept as text: each row already encoded as the STRUCT value
 * of the @rows parameter, next to its original line for the reject
 * stream.  A request body is assembled from the live rows of a batch (or
 * of half of one, when BigQuery refuses the data), so memory stays at
 * about twice the request cap whatever the input size.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bq_sales_sql.h"
#include "bqmerge.h"
#include "log.h"
#include "row.h"

#define MAX_ERRORS	100
#define REQUEST_SLACK	512	/* requestId, day parameters and closing brackets */

struct slot {
	size_t		off, len;	/* the STRUCT value in m->text */
	size_t		roff, rlen;	/* the original line */
	size_t		soff, slen;	/* the sale_id, for messages */
	unsigned long	lineno;
	size_t		file;		/* index in m->files */
	ig_ts		ts;
	int		alive;
};

struct ig_bqm {
	struct ig_bq		*bq;
	struct ig_bqm_opts	 o;
	char			*head;		/* request text after the requestId, up to the rows */
	struct ig_buf		 text;		/* the batch */
	struct ig_buf		 scratch;	/* one row being encoded */
	struct slot		*v;
	size_t			 n, size, live, live_bytes;
	json_t			*keys;		/* "sale_id\x1fproduct_id" -> slot index */
	json_t			*files;
	struct ig_bqm_summary	 s;
	unsigned long		 settled;	/* rows merged, collapsed or rejected */
};

static const char *const columns[] = { "sale_id", "timestamp", "customer_id",
    "product_id", "product_name", "quantity", "price", "payment_method", NULL };
static const char *const types[] = { "STRING", "TIMESTAMP", "STRING",
    "STRING", "STRING", "NUMERIC", "FLOAT64", "STRING", NULL };

char *
ig_bqm_statement(const struct ig_bq_config *c, int insert_only, int prune)
{
	struct ig_buf b;
	int i;

	ig_buf_init(&b, 16384);
	ig_buf_printf(&b, "MERGE `%s.%s.%s` T\n"
	    "USING (SELECT * FROM UNNEST(@rows)) S\n"
	    "ON T.sale_id = S.sale_id AND T.product_id = S.product_id",
	    c->project, c->dataset, c->table);
	if (prune)
		ig_buf_addstr(&b, "\n  AND DATE(T.timestamp) BETWEEN @min_day AND @max_day");
	if (!insert_only) {
		ig_buf_addstr(&b, "\nWHEN MATCHED AND (");
		for (i = 0; columns[i] != NULL; i++) {
			if (strcmp(columns[i], "sale_id") == 0 ||
			    strcmp(columns[i], "product_id") == 0)
				continue;
			ig_buf_printf(&b, "%sT.%s IS DISTINCT FROM S.%s",
			    i > 1 ? "\n    OR " : "", columns[i], columns[i]);
		}
		ig_buf_addstr(&b, ") THEN\n  UPDATE SET ");
		for (i = 0; columns[i] != NULL; i++) {
			if (strcmp(columns[i], "sale_id") == 0 ||
			    strcmp(columns[i], "product_id") == 0)
				continue;
			ig_buf_printf(&b, "%s%s = S.%s", i > 1 ? ", " : "",
			    columns[i], columns[i]);
		}
	}
	ig_buf_addstr(&b, "\nWHEN NOT MATCHED THEN\n  INSERT (");
	for (i = 0; columns[i] != NULL; i++)
		ig_buf_printf(&b, "%s%s", i ? ", " : "", columns[i]);
	ig_buf_addstr(&b, ")\n  VALUES (");
	for (i = 0; columns[i] != NULL; i++)
		ig_buf_printf(&b, "%sS.%s", i ? ", " : "", columns[i]);
	ig_buf_addstr(&b, ")");
	return ig_buf_detach(&b);
}

/* The request text between the requestId and the rows (new). */
static char *
make_head(const struct ig_bq_config *c, const char *query, long wait_ms)
{
	json_t *q = json_string(query), *loc = json_string(c->location);
	json_t *st = json_array(), *type;
	char *qs, *ls, *ts, *out = NULL;
	struct ig_buf b;
	int i;

	for (i = 0; columns[i] != NULL; i++)
		json_array_append_new(st, json_pack("{ss s{ss}}", "name",
		    columns[i], "type", "type", types[i]));
	type = json_pack("{ss s{ss so}}", "type", "ARRAY", "arrayType", "type",
	    "STRUCT", "structTypes", st);
	qs = json_dumps(q, JSON_ENCODE_ANY);
	ls = json_dumps(loc, JSON_ENCODE_ANY);
	ts = json_dumps(type, JSON_COMPACT);
	ig_buf_init(&b, 1u << 20);
	if (qs && ls && ts && ig_buf_printf(&b,
	    "\"query\":%s,\"useLegacySql\":false,\"parameterMode\":\"NAMED\","
	    "\"location\":%s,\"timeoutMs\":%ld,\"labels\":{\"app\":\"bq-merge\"},"
	    "\"queryParameters\":[{\"name\":\"rows\",\"parameterType\":%s,"
	    "\"parameterValue\":{\"arrayValues\":[", qs, ls, wait_ms, ts) == 0)
		out = ig_buf_detach(&b);
	ig_buf_release(&b);
	free(qs);
	free(ls);
	free(ts);
	json_decref(q);
	json_decref(loc);
	json_decref(type);
	return out;
}

struct ig_bqm *
ig_bqm_new(struct ig_bq *bq, const struct ig_bqm_opts *o, struct ig_err *e)
{
	struct ig_bqm *m;
	char *query;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		ig_err_errno(e, IG_EX_OSERR, "out of memory");
		return NULL;
	}
	m->bq = bq;
	m->o = *o;
	if (m->o.batch_rows <= 0)
		m->o.batch_rows = 1000;
	if (m->o.batch_bytes == 0 || m->o.batch_bytes > IG_BQM_MAX_BYTES)
		m->o.batch_bytes = IG_BQM_MAX_BYTES;
	ig_buf_init(&m->text, 2 * m->o.batch_bytes + (64u << 10));
	ig_buf_init(&m->scratch, 64u << 10);
	m->keys = json_object();
	m->files = json_array();
	m->s.errors = json_array();
	query = ig_bqm_statement(bq->c, o->insert_only, o->prune);
	if (m->o.wait_ms <= 0)
		m->o.wait_ms = 20000;
	m->head = make_head(bq->c, query, m->o.wait_ms);
	free(query);
	if (m->keys == NULL || m->files == NULL || m->s.errors == NULL || m->head == NULL) {
		ig_bqm_free(m);
		ig_err_set(e, IG_EX_OSERR, "cannot set up the merge");
		return NULL;
	}
	return m;
}

void
ig_bqm_free(struct ig_bqm *m)
{
	if (m == NULL)
		return;
	free(m->head);
	ig_buf_release(&m->text);
	ig_buf_release(&m->scratch);
	free(m->v);
	json_decref(m->keys);
	json_decref(m->files);
	json_decref(m->s.errors);
	free(m);
}

const struct ig_bqm_summary *
ig_bqm_summary(const struct ig_bqm *m)
{
	return &m->s;
}

unsigned long
ig_bqm_unsettled(const struct ig_bqm *m)
{
	return m->s.read - m->settled;
}

/* A JSON string of s[0..n), with invalid UTF-8 replaced (U+FFFD).  New. */
static json_t *
lossy_string(const char *s, size_t n)
{
	struct ig_buf b;
	json_t *v;
	size_t i;

	if (memchr(s, '\0', n) == NULL && (v = json_stringn(s, n)) != NULL)
		return v;
	ig_buf_init(&b, 4 * n + 16);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80 && c != 0)
			ig_buf_add(&b, &s[i], 1);
		else
			ig_buf_addstr(&b, "\xef\xbf\xbd");
	}
	v = json_stringn(b.data ? b.data : "", b.len);
	ig_buf_release(&b);
	return v;
}

/* Counts, logs and writes a rejected row.  0, or -1 with e when the reject file fails. */
static int
reject(struct ig_bqm *m, size_t file, unsigned long lineno, const char *raw,
    size_t rawlen, const char *sale_id, const char *why, struct ig_err *e)
{
	const char *name = json_string_value(json_array_get(m->files, file));
	json_t *rec;

	m->s.rejected++;
	m->settled++;
	ig_logj(IG_LOG_WARNING, json_pack("{ss sI ss* ss}", "file", name,
	    "line", (json_int_t)lineno, "sale_id", sale_id, "event", "row_rejected"),
	    "rejected %s:%lu: %s", name, lineno, why);
	if (json_array_size(m->s.errors) < MAX_ERRORS)
		json_array_append_new(m->s.errors, json_pack("{ss sI ss* ss}",
		    "file", name, "line", (json_int_t)lineno, "sale_id", sale_id,
		    "error", why));
	else
		m->s.errors_dropped++;
	if (m->o.reject == NULL)
		return 0;
	rec = json_pack("{ss sI ss so}", "file", name, "lineno", (json_int_t)lineno,
	    "reason", why, "line", lossy_string(raw, rawlen));
	if (rec == NULL || ig_ndjson_put(m->o.reject, rec, 1) == -1) {
		json_decref(rec);
		return ig_err_errno(e, IG_EX_IOERR, "cannot write the reject file");
	}
	json_decref(rec);
	return 0;
}

/*
 * Appends {"value":"..."} for a checked string (or null).  ig_row_check
 * refused control characters, so only '"' and '\\' need escaping; the
 * rest is valid UTF-8 copied as it is.
 */
static int
put_value(struct ig_buf *b, const json_t *v)
{
	char tmp[2 * IG_ROW_TEXT_MAX + 16];
	const char *s;
	size_t i, n, k = 0;

	if (json_is_null(v))
		return ig_buf_addstr(b, "{\"value\":null}");
	s = json_string_value(v);
	n = json_string_length(v);
	if (s == NULL || n > IG_ROW_TEXT_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			tmp[k++] = '\\';
		tmp[k++] = s[i];
	}
	return ig_buf_addstr(b, "{\"value\":\"") | ig_buf_add(b, tmp, k) |
	    ig_buf_addstr(b, "\"}");
}

/* A NUMERIC value: at most 9 decimals, no exponent. */
static int
put_numeric(struct ig_buf *b, const json_t *v)
{
	char tmp[64];
	size_t n;

	if (json_is_integer(v))
		return ig_buf_printf(b, "{\"value\":\"%lld\"}", (long long)json_integer_value(v));
	n = (size_t)snprintf(tmp, sizeof(tmp), "%.9f", json_real_value(v));
	while (n > 1 && tmp[n - 1] == '0')
		tmp[--n] = '\0';
	if (n > 0 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	if (strcmp(tmp, "-0") == 0)
		strcpy(tmp, "0");
	return ig_buf_printf(b, "{\"value\":\"%s\"}", tmp);
}

/* A FLOAT64 value: the shortest decimal that reads back as the same double. */
static int
put_float(struct ig_buf *b, const json_t *v)
{
	char tmp[64];
	double d = json_number_value(v);

	if (json_is_integer(v))
		return ig_buf_printf(b, "{\"value\":\"%lld\"}", (long long)json_integer_value(v));
	snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof(tmp), "%.17g", d);
	return ig_buf_printf(b, "{\"value\":\"%s\"}", tmp);
}

/* "2026-05-14 18:22:41[.ffffff]+00:00", the documented TIMESTAMP form. */
static int
put_timestamp(struct ig_buf *b, ig_ts ts)
{
	char tmp[IG_TS_LEN];
	size_t n;

	ig_ts_format(ts, ts % IG_TS_SEC ? 6 : 0, tmp);
	tmp[10] = ' ';
	n = strlen(tmp);
	tmp[n - 1] = '\0';	/* the Z */
	return ig_buf_printf(b, "{\"value\":\"%s+00:00\"}", tmp);
}

static int
encode_row(struct ig_buf *b, const struct ig_row *r)
{
	return ig_buf_addstr(b, "{\"structValues\":{\"sale_id\":") |
	    put_value(b, r->sale_id) | ig_buf_addstr(b, ",\"timestamp\":") |
	    put_timestamp(b, r->ts) | ig_buf_addstr(b, ",\"customer_id\":") |
	    put_value(b, r->customer_id) | ig_buf_addstr(b, ",\"product_id\":") |
	    put_value(b, r->product_id) | ig_buf_addstr(b, ",\"product_name\":") |
	    put_value(b, r->product_name) | ig_buf_addstr(b, ",\"quantity\":") |
	    put_numeric(b, r->quantity) | ig_buf_addstr(b, ",\"price\":") |
	    put_float(b, r->price) | ig_buf_addstr(b, ",\"payment_method\":") |
	    put_value(b, r->payment_method) | ig_buf_addstr(b, "}}");
}

struct subset {
	struct ig_bqm	*m;
	const size_t	*idx;
	size_t		 n;
};

static char *
make_body(void *ctx, const char *request_id)
{
	struct subset *sub = ctx;
	struct ig_bqm *m = sub->m;
	struct ig_buf b;
	char lo[IG_TS_LEN], hi[IG_TS_LEN];
	ig_ts min = INT64_MAX, max = INT64_MIN;
	size_t i;
	int r;

	ig_buf_init(&b, m->o.batch_bytes + (1u << 20));
	r = ig_buf_printf(&b, "{\"requestId\":\"%s\",", request_id) |
	    ig_buf_addstr(&b, m->head);
	for (i = 0; i < sub->n && r == 0; i++) {
		const struct slot *s = &m->v[sub->idx[i]];
		r = (i ? ig_buf_add(&b, ",", 1) : 0) |
		    ig_buf_add(&b, m->text.data + s->off, s->len);
		if (s->ts < min)
			min = s->ts;
		if (s->ts > max)
			max = s->ts;
	}
	r |= ig_buf_addstr(&b, "]}}");
	if (m->o.prune)
		r |= ig_buf_printf(&b, ",{\"name\":\"min_day\",\"parameterType\":{\"type\":\"DATE\"},"
		    "\"parameterValue\":{\"value\":\"%s\"}},{\"name\":\"max_day\",\"parameterType\":"
		    "{\"type\":\"DATE\"},\"parameterValue\":{\"value\":\"%s\"}}",
		    ig_ts_format_date(min, lo), ig_ts_format_date(max, hi));
	r |= ig_buf_addstr(&b, "]}");
	if (r != 0) {
		ig_buf_release(&b);
		return NULL;
	}
	return ig_buf_detach(&b);
}

static void
merged(struct ig_bqm *m, const size_t *idx, size_t n, const struct ig_bq_dml *d)
{
	long long rest = (long long)n - d->inserted - d->updated;
	size_t i;

	m->s.inserted += (unsigned long)d->inserted;
	m->s.updated += (unsigned long)d->updated;
	m->s.skipped += rest > 0 ? (unsigned long)rest : 0;
	m->settled += n;
	for (i = 0; i < n; i++)
		if (!m->s.have_last || m->v[idx[i]].ts > m->s.last_sync) {
			m->s.last_sync = m->v[idx[i]].ts;
			m->s.have_last = 1;
		}
}

/* One attempt at merging idx[0..n).  0; or -1 with *cls and e (IG_BQ_DATA: refused data). */
static int
send_set(struct ig_bqm *m, const size_t *idx, size_t n, enum ig_bq_class *cls,
    struct ig_err *e)
{
	struct subset sub = { m, idx, n };
	struct ig_bq_dml d;
	char *body;

	*cls = IG_BQ_OK;
	if (m->o.dry != NULL) {
		if ((body = make_body(&sub, "dry-run")) == NULL)
			return ig_err_set(e, IG_EX_OSERR, "cannot build the request");
		fprintf(m->o.dry, "%s\n", body);
		free(body);
		m->s.statements++;
		m->settled += n;
		return 0;
	}
	if (ig_bq_run_dml(m->bq, make_body, &sub, &d, cls, e) == -1)
		return -1;
	m->s.statements++;
	merged(m, idx, n, &d);
	return 0;
}

static int
reject_slot(struct ig_bqm *m, size_t i, const char *msg, struct ig_err *e)
{
	const struct slot *s = &m->v[i];
	char why[600], sid[IG_ROW_ID_MAX + 1];

	snprintf(why, sizeof(why), "BigQuery refused the row: %.500s", msg);
	snprintf(sid, sizeof(sid), "%.*s", (int)s->slen, m->text.data + s->soff);
	return reject(m, s->file, s->lineno, m->text.data + s->roff, s->rlen, sid,
	    why, e);
}

/*
 * BigQuery refused the data of idx[0..n) with message msg: merge each half
 * on its own, halving again until the refused rows are alone, and reject
 * those.  When both halves of a whole batch (top) draw the very same
 * message, no row is at fault but the statement or the table: that stops
 * the run instead of rejecting every row.
 */
static int
split(struct ig_bqm *m, const size_t *idx, size_t n, const char *msg, int top,
    struct ig_err *e)
{
	const size_t *part[2] = { idx, idx + n / 2 };
	size_t len[2] = { n / 2, n - n / 2 };
	char why[2][sizeof(e->text)];
	enum ig_bq_class cls;
	int bad[2], i;

	ig_logj(IG_LOG_NOTICE, json_pack("{sI}", "rows", (json_int_t)n),
	    "BigQuery refused the data of %zu rows (%s); halving the set to find the rows at fault",
	    n, msg);
	for (i = 0; i < 2; i++) {
		ig_err_clear(e);
		bad[i] = send_set(m, part[i], len[i], &cls, e) == -1;
		if (bad[i] && cls != IG_BQ_DATA)
			return -1;
		memcpy(why[i], e->text, sizeof(why[i]));
	}
	ig_err_clear(e);
	if (top && bad[0] && bad[1] && strcmp(why[0], msg) == 0 &&
	    strcmp(why[1], msg) == 0)
		return ig_err_set(e, IG_EX_CONFIG,
		    "BigQuery refuses every part of the batch alike, so the statement or the table is at fault, not a row: %.300s",
		    msg);
	for (i = 0; i < 2; i++) {
		if (!bad[i])
			continue;
		if ((len[i] == 1 ? reject_slot(m, part[i][0], why[i], e) :
		    split(m, part[i], len[i], why[i], 0, e)) == -1)
			return -1;
	}
	return 0;
}

/* Merges the rows idx[0..n) of a batch.  0 or -1. */
static int
merge_set(struct ig_bqm *m, const size_t *idx, size_t n, struct ig_err *e)
{
	enum ig_bq_class cls;
	char msg[sizeof(e->text)];

	if (n == 0 || send_set(m, idx, n, &cls, e) == 0)
		return 0;
	if (cls != IG_BQ_DATA)
		return -1;
	memcpy(msg, e->text, sizeof(msg));
	ig_err_clear(e);
	return n == 1 ? reject_slot(m, idx[0], msg, e) : split(m, idx, n, msg, 1, e);
}

int
ig_bqm_flush(struct ig_bqm *m, struct ig_err *e)
{
	size_t *idx, i, k = 0;
	int r;

	if (m->live == 0) {
		m->n = 0;
		ig_buf_reset(&m->text);
		json_object_clear(m->keys);
		return 0;
	}
	if ((idx = malloc(m->live * sizeof(*idx))) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "out of memory");
	for (i = 0; i < m->n; i++)
		if (m->v[i].alive)
			idx[k++] = i;
	m->s.batches++;
	r = merge_set(m, idx, k, e);
	free(idx);
	m->n = m->live = m->live_bytes = 0;
	ig_buf_reset(&m->text);
	json_object_clear(m->keys);
	return r;
}

static int
add_row(struct ig_bqm *m, const struct ig_row *r, const struct ig_ndjson_in *in,
    size_t file, struct ig_err *e)
{
	char key[2 * IG_ROW_ID_MAX + 2];
	struct slot *s, *nv;
	size_t fixed = strlen(m->head) + REQUEST_SLACK;
	size_t budget = m->o.batch_bytes > fixed ? m->o.batch_bytes - fixed : 0;
	json_t *old;

	ig_buf_reset(&m->scratch);
	if (encode_row(&m->scratch, r) == -1)
		return ig_err_set(e, IG_EX_SOFTWARE, "cannot encode a row");
	if (m->live > 0 && (m->live >= (size_t)m->o.batch_rows ||
	    m->live_bytes + m->scratch.len + 1 > budget ||
	    m->text.len + m->scratch.len + in->line.len + IG_ROW_ID_MAX > m->text.cap) &&
	    ig_bqm_flush(m, e) == -1)
		return -1;
	snprintf(key, sizeof(key), "%s\x1f%s", json_string_value(r->sale_id),
	    json_string_value(r->product_id));
	if ((old = json_object_get(m->keys, key)) != NULL) {
		/* The same key again in one batch: the later row wins. */
		s = &m->v[json_integer_value(old)];
		s->alive = 0;
		m->live--;
		m->live_bytes -= s->len + 1;
		m->s.collapsed++;
		m->s.skipped++;
		m->settled++;
	}
	if (m->n == m->size) {
		size_t ns = m->size ? m->size * 2 : 1024;
		if ((nv = realloc(m->v, ns * sizeof(*nv))) == NULL)
			return ig_err_errno(e, IG_EX_OSERR, "out of memory");
		m->v = nv;
		m->size = ns;
	}
	s = &m->v[m->n];
	s->off = m->text.len;
	s->len = m->scratch.len;
	s->roff = s->off + s->len;
	s->rlen = in->line.len;
	s->soff = s->roff + s->rlen;
	s->slen = json_string_length(r->sale_id);
	s->lineno = in->lineno;
	s->file = file;
	s->ts = r->ts;
	s->alive = 1;
	if (ig_buf_add(&m->text, m->scratch.data, m->scratch.len) == -1 ||
	    ig_buf_add(&m->text, in->line.data, in->line.len) == -1 ||
	    ig_buf_add(&m->text, json_string_value(r->sale_id), s->slen) == -1 ||
	    json_object_set_new(m->keys, key, json_integer((json_int_t)m->n)) == -1)
		return ig_err_errno(e, IG_EX_OSERR, "cannot keep the batch");
	m->n++;
	m->live++;
	m->live_bytes += s->len + 1;
	return 0;
}

int
ig_bqm_read(struct ig_bqm *m, struct ig_ndjson_in *in, struct ig_err *e)
{
	struct ig_err le = IG_ERR_INIT;
	struct ig_row row;
	size_t file = json_array_size(m->files);
	char why[300];
	json_t *rec;
	int r;

	json_array_append_new(m->files, json_string(in->name));
	for (;;) {
		if ((r = ig_ndjson_next(in, 0, &rec, &le)) == 0)
			return 0;
		if (r == -1 && le.code != IG_EX_DATAERR)
			return *e = le, -1;
		m->s.read++;
		if (r == -1) {
			/* The message starts "name:line: ", which the reject record says apart. */
			const char *why_p = strstr(le.text, ": ");
			if (reject(m, file, in->lineno, in->line.data ? in->line.data : "",
			    in->line.len, NULL, why_p ? why_p + 2 : le.text, e) == -1)
				return -1;
			continue;
		}
		if (ig_row_check(rec, &row, why, sizeof(why)) == -1) {
			r = reject(m, file, in->lineno, in->line.data, in->line.len,
			    json_string_value(json_object_get(rec, "sale_id")), why, e);
			json_decref(rec);
			if (r == -1)
				return -1;
			continue;
		}
		r = add_row(m, &row, in, file, e);
		json_decref(rec);
		if (r == -1)
			return -1;
	}
}

json_t *
ig_bqm_summary_json(const struct ig_bqm *m, int success, ig_ts since,
    long long latency_ms)
{
	char ts[IG_TS_LEN];
	const char *last = NULL;
	json_t *o;

	if (m->s.have_last)
		last = ig_ts_format(m->s.last_sync, -1, ts);
	else if (since != 0)
		last = ig_ts_format(since, -1, ts);
	o = json_pack("{sb sI sI sI sI ss* sI sO sI sI sI}",
	    "success", success,
	    "inserted", (json_int_t)m->s.inserted,
	    "updated", (json_int_t)m->s.updated,
	    "skipped", (json_int_t)m->s.skipped,
	    "rejected", (json_int_t)m->s.rejected,
	    "lastSync", last,
	    "latency_ms", (json_int_t)latency_ms,
	    "errors", m->s.errors,
	    "rows", (json_int_t)m->s.read,
	    "collapsed", (json_int_t)m->s.collapsed,
	    "statements", (json_int_t)m->s.statements);
	if (o != NULL && m->s.errors_dropped > 0)
		json_object_set_new(o, "errors_dropped", json_integer((json_int_t)m->s.errors_dropped));
	return o;
}

/* The DDL with its comments dropped and TABLE_NAME replaced (new). */
static char *
ddl_for(const struct ig_bq_config *c)
{
	const char *p = bq_sales_sql, *eol, *t;
	struct ig_buf b;

	ig_buf_init(&b, 1u << 16);
	for (; *p != '\0'; p = eol + (*eol == '\n')) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, "--", 2) == 0)
			continue;
		if ((t = strstr(p, "TABLE_NAME")) != NULL && t < eol) {
			ig_buf_add(&b, p, (size_t)(t - p));
			ig_buf_printf(&b, "`%s.%s.%s`", c->project, c->dataset, c->table);
			p = t + strlen("TABLE_NAME");
		}
		ig_buf_add(&b, p, (size_t)(eol - p));
		ig_buf_add(&b, "\n", 1);
	}
	return ig_buf_detach(&b);
}

struct ddl_ctx {
	const struct ig_bq_config *c;
	const char		  *sql;
};

static char *
ddl_body(void *ctx, const char *request_id)
{
	struct ddl_ctx *d = ctx;
	json_t *o = json_pack("{ss ss sb ss}", "requestId", request_id, "query",
	    d->sql, "useLegacySql", 0, "location", d->c->location);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

int
ig_bqm_create_table(struct ig_bq *bq, struct ig_err *e)
{
	const struct ig_bq_config *c = bq->c;
	struct ddl_ctx d = { c, NULL };
	struct ig_bq_dml dml;
	enum ig_bq_class cls;
	char path[1024], *body;
	json_t *doc = NULL;
	int st, r = -1;

	snprintf(path, sizeof(path), "/projects/%s/datasets/%s", c->project, c->dataset);
	if ((st = ig_bq_call(bq, "GET", path, NULL, 0, &doc, e)) == -1)
		return -1;
	json_decref(doc);
	if (st == 404) {
		snprintf(path, sizeof(path), "/projects/%s/datasets", c->project);
		doc = json_pack("{s{ss ss} ss}", "datasetReference", "projectId",
		    c->project, "datasetId", c->dataset, "location", c->location);
		body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
		if (body == NULL)
			return ig_err_set(e, IG_EX_OSERR, "out of memory");
		st = ig_bq_call(bq, "POST", path, body, strlen(body), &doc, e);
		free(body);
		json_decref(doc);
		if (st == -1)
			return -1;
		if (st != 200 && st != 409)
			return ig_err_set(e, st == 403 ? IG_EX_NOPERM : IG_EX_PROTOCOL,
			    "BigQuery: cannot create dataset %s.%s (HTTP %d)", c->project, c->dataset, st);
		ig_log(IG_LOG_NOTICE, "created dataset %s.%s in %s", c->project, c->dataset, c->location);
	} else if (st != 200)
		return ig_err_set(e, st == 403 || st == 401 ? IG_EX_NOPERM : IG_EX_PROTOCOL,
		    "BigQuery: cannot read dataset %s.%s (HTTP %d)", c->project, c->dataset, st);
	if ((d.sql = ddl_for(c)) == NULL)
		return ig_err_set(e, IG_EX_OSERR, "out of memory");
	if (ig_bq_run_dml(bq, ddl_body, &d, &dml, &cls, e) == 0) {
		ig_log(IG_LOG_NOTICE, "table %s.%s.%s is in place", c->project, c->dataset, c->table);
		r = 0;
	}
	free((char *)d.sql);
	return r;
}

int
ig_bqm_partitioned(struct ig_bq *bq, int *prune, struct ig_err *e)
{
	const struct ig_bq_config *c = bq->c;
	const char *field;
	char path[1024];
	json_t *doc;
	int st;

	snprintf(path, sizeof(path), "/projects/%s/datasets/%s/tables/%s",
	    c->project, c->dataset, c->table);
	if ((st = ig_bq_call(bq, "GET", path, NULL, 0, &doc, e)) == -1)
		return -1;
	if (st == 404) {
		json_decref(doc);
		return ig_err_set(e, IG_EX_CONFIG,
		    "BigQuery table %s.%s.%s does not exist: create it with bq-merge --create-table",
		    c->project, c->dataset, c->table);
	}
	if (st != 200) {
		json_decref(doc);
		return ig_err_set(e, st == 401 || st == 403 ? IG_EX_NOPERM : IG_EX_PROTOCOL,
		    "BigQuery: cannot read table %s.%s.%s (HTTP %d)", c->project,
		    c->dataset, c->table, st);
	}
	field = json_string_value(json_object_get(json_object_get(doc,
	    "timePartitioning"), "field"));
	*prune = field != NULL && strcmp(field, "timestamp") == 0;
	json_decref(doc);
	return 0;
}
