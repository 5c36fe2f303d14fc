/*
 * buf: growable, capped byte buffer (see buf.h).
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, ncap;
	char *p;

	if (b->max == 0)
		b->max = BUF_DEFAULT_MAX;
	if (n > b->max || b->len > b->max - n)
		return -1;
	want = b->len + n;
	if (want <= b->cap && b->data)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > ((size_t)-1) / 4 ? want : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if (ncap < want)
		ncap = want;
	p = realloc(b->data, ncap + 1);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append_slow(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* first into the room there is: most texts fit, and then one pass suffices */
	if (b->data && b->cap > b->len) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len + 1, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->data[b->len] = '\0';
			return -1;
		}
		if ((size_t)n <= b->cap - b->len && (b->max == 0 || (size_t)n <= b->max - b->len)) {
			b->len += (size_t)n;
			return 0;
		}
		b->data[b->len] = '\0';
	} else {
		va_start(ap, fmt);
		n = vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
	}
	if (buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}
