/*
 * linereader: bounded newline framing over read(2) (see linereader.h).
 */
#include "linereader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LR_READ_CHUNK 65536

int
linereader_init(struct linereader *lr, int fd, size_t max_line)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->max_line = max_line ? max_line : 1;
	lr->bufsz = lr->max_line + LR_READ_CHUNK;
	lr->buf = malloc(lr->bufsz);
	return lr->buf ? 0 : -1;
}

void
linereader_free(struct linereader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

int
linereader_has_line(const struct linereader *lr)
{
	return lr->end > lr->start && memchr(lr->buf + lr->start, '\n', lr->end - lr->start) != NULL;
}

enum lr_status
linereader_next_buffered(struct linereader *lr, const char **line, size_t *len)
{
	size_t have = lr->end - lr->start;

	if (have == 0 || lr->discarding)
		return LR_AGAIN;
	if (linereader_has_line(lr))
		return linereader_next(lr, line, len);   /* finds it without reading */
	*line = lr->buf + lr->start;
	*len = have > lr->max_line ? lr->max_line : have;
	lr->start = lr->end;
	return LR_PARTIAL;
}

size_t
linereader_drop(struct linereader *lr)
{
	size_t n = lr->end - lr->start;

	lr->start = lr->end = 0;
	return n;
}

enum lr_status
linereader_next(struct linereader *lr, const char **line, size_t *len)
{
	char *nl;
	ssize_t n;
	size_t have;

	for (;;) {
		have = lr->end - lr->start;
		nl = have ? memchr(lr->buf + lr->start, '\n', have) : NULL;
		if (nl) {
			size_t l = (size_t)(nl - (lr->buf + lr->start));
			const char *p = lr->buf + lr->start;
			lr->start += l + 1;
			lr->consumed += l + 1;
			if (lr->discarding) {
				lr->discarded += l;     /* the tail: discarded is now the line's length */
				lr->discarding = 0;
				lr->discard_end = lr->consumed;
				continue;
			}
			if (l > lr->max_line) {
				/* a line that fit the read buffer but not the limit */
				*line = p;
				*len = lr->max_line;
				lr->discarded = l;
				lr->discard_end = lr->consumed;
				return LR_TOOLONG;
			}
			*line = p;
			*len = l;
			return LR_LINE;
		}
		if (lr->discarding) {
			lr->discarded += have;
			lr->consumed += have;
			lr->start = lr->end = 0;
		} else if (have > lr->max_line) {
			*line = lr->buf + lr->start;
			*len = lr->max_line;
			lr->discarding = 1;
			lr->discarded = have;
			lr->consumed += have;
			lr->start = lr->end = 0;
			return LR_TOOLONG;
		}
		if (lr->eof) {
			if (lr->end > lr->start && !lr->discarding) {
				*line = lr->buf + lr->start;
				*len = lr->end - lr->start;
				lr->consumed += *len;
				lr->start = lr->end;
				return LR_LINE;
			}
			lr->start = lr->end = 0;
			return LR_EOF;
		}
		if (lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
			lr->end -= lr->start;
			lr->start = 0;
		}
		n = read(lr->fd, lr->buf + lr->end, lr->bufsz - lr->end);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return LR_AGAIN;
			return LR_ERROR;
		}
		if (n == 0) {
			if (lr->follow)
				return LR_AGAIN;
			lr->eof = 1;
		}
		lr->end += (size_t)n;
	}
}

size_t
linereader_pending(const struct linereader *lr)
{
	return lr->end - lr->start;
}
