/*
 * buf.c: the capped byte buffer of buf.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
ig_buf_init(struct ig_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->cap = cap;
}

static int
grow(struct ig_buf *b, size_t need)
{
	size_t nsize;
	char *p;

	if (need > b->cap) {
		errno = EMSGSIZE;
		return -1;
	}
	if (need + 1 <= b->size)
		return 0;
	nsize = b->size ? b->size : 256;
	while (nsize < need + 1)
		nsize *= 2;
	if (nsize > b->cap + 1)
		nsize = b->cap + 1;
	if ((p = realloc(b->data, nsize)) == NULL)
		return -1;
	b->data = p;
	b->size = nsize;
	return 0;
}

int
ig_buf_add(struct ig_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	if (grow(b, b->len + n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
ig_buf_addstr(struct ig_buf *b, const char *s)
{
	return ig_buf_add(b, s, strlen(s));
}

int
ig_buf_printf(struct ig_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	/* Format straight into the free space; measure first only when it is short. */
	room = b->data != NULL ? b->size - b->len : 0;
	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (room)
			b->data[b->len] = '\0';
		return -1;
	}
	if ((size_t)n < room && (size_t)n <= b->cap - b->len) {
		b->len += n;
		return 0;
	}
	if (room)
		b->data[b->len] = '\0';	/* undo the cut-off attempt */
	if ((size_t)n > b->cap - b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	if (grow(b, b->len + n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

void
ig_buf_reset(struct ig_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
ig_buf_release(struct ig_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

char *
ig_buf_detach(struct ig_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}
