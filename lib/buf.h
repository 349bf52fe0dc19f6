/*
 * buf.h: a growable byte buffer with a hard cap (curl's dynbuf idea).
 * Appending past the cap fails cleanly and leaves the contents intact.
 */
#ifndef IG_BUF_H
#define IG_BUF_H

#include <stddef.h>

struct ig_buf {
	char	*data;		/* always NUL-terminated once allocated */
	size_t	 len;
	size_t	 size;		/* allocated bytes */
	size_t	 cap;		/* most bytes len may reach */
};

/* Sets up an empty buffer; allocates nothing. */
void	ig_buf_init(struct ig_buf *b, size_t cap);
/* 0, or -1 when the cap would be exceeded (errno EMSGSIZE) or out of memory. */
int	ig_buf_add(struct ig_buf *b, const void *p, size_t n);
int	ig_buf_addstr(struct ig_buf *b, const char *s);
int	ig_buf_printf(struct ig_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void	ig_buf_reset(struct ig_buf *b);
/* Frees the contents; the buffer can be used again. */
void	ig_buf_release(struct ig_buf *b);
/* Returns the contents (never NULL) and hands ownership to the caller. */
char	*ig_buf_detach(struct ig_buf *b);

#endif
