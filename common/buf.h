/*
 * buf: a growable byte buffer with a hard cap. Every stage builds records, JSON and HTTP bodies
 * in these; the cap makes "bounded everything" (STYLE.md 7) a property of the type rather than
 * of each caller. The data is always NUL-terminated so it can be handed to C string functions.
 */
#ifndef FURROW_BUF_H
#define FURROW_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char   *data;
	size_t  len;
	size_t  cap;   /* allocated bytes, excluding the terminating NUL */
	size_t  max;   /* hard limit on len; 0 means BUF_DEFAULT_MAX */
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Make room for n more bytes. Returns 0, or -1 if that would pass the cap or malloc failed. */
int  buf_reserve(struct buf *b, size_t n);
int  buf_append_slow(struct buf *b, const void *p, size_t n);
/* Append n bytes; inline: the JSON writers call it for every token. */
static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->data && n <= b->cap - b->len && (b->max == 0 || n <= b->max - b->len)) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append_slow(b, p, n);
}
static inline int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}
/* Append one byte; inline because JSON and URL decoders call it per character. */
static inline int
buf_append_byte(struct buf *b, uint8_t c)
{
	if (b->len < b->cap && b->len < b->max) {
		b->data[b->len++] = (char)c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append(b, &c, 1);
}
int  buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (a consumed prefix). */
void buf_consume(struct buf *b, size_t n);

#endif
