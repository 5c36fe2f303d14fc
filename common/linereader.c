/*
 * linereader: bounded newline framing over read(2) (see linereader.h).
 *
 * The buffer holds max_line + LR_READ_CHUNK bytes. While an over-long line is being discarded,
 * its first max_line bytes stay at the front of the buffer and the rest of the line is read
 * through the last LR_READ_CHUNK bytes, so the line can be reported once, with its prefix, when
 * its end is known.
 */
#include "linereader.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timefmt.h"

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

/* The over-long line being discarded has ended (newline or EOF): report it. */
static enum lr_status
lr_toolong_done(struct linereader *lr, const char **line, size_t *len)
{
	lr->discarding = 0;
	*line = lr->buf;
	*len = lr->max_line;
	return LR_TOOLONG;
}

/*
 * One step without reading: a complete line (LR_LINE, LR_TOOLONG), or LR_AGAIN when the buffer
 * holds no complete line. Starts discarding a partial line that is already over the limit.
 */
static enum lr_status
lr_take(struct linereader *lr, const char **line, size_t *len)
{
	size_t have = lr->end - lr->start, l;
	char *nl = have ? memchr(lr->buf + lr->start, '\n', have) : NULL;
	const char *p = lr->buf + lr->start;

	if (nl) {
		l = (size_t)(nl - p);
		lr->start += l + 1;
		if (lr->discarding) {
			lr->discarded += l;     /* discarded is now the whole line's length */
			return lr_toolong_done(lr, line, len);
		}
		if (l > lr->max_line) {
			/* a line that fit the read buffer but not the limit */
			lr->discarded = l;
			*line = p;
			*len = lr->max_line;
			return LR_TOOLONG;
		}
		*line = p;
		*len = l;
		return LR_LINE;
	}
	if (lr->discarding) {
		lr->discarded += have;
		lr->start = lr->end = lr->max_line;
	} else if (have > lr->max_line) {
		/* keep the prefix at the front; read the rest of the line behind it */
		memmove(lr->buf, p, lr->max_line);
		lr->discarding = 1;
		lr->discarded = have;
		lr->start = lr->end = lr->max_line;
	}
	return LR_AGAIN;
}

enum lr_status
linereader_next(struct linereader *lr, const char **line, size_t *len)
{
	enum lr_status s;
	ssize_t n;
	int reads = 0;

	for (;;) {
		s = lr_take(lr, line, len);
		if (s != LR_AGAIN)
			return s;
		if (lr->eof) {
			if (lr->discarding) {
				lr->start = lr->end = 0;
				return lr_toolong_done(lr, line, len);
			}
			if (lr->end > lr->start) {
				*line = lr->buf + lr->start;
				*len = lr->end - lr->start;
				lr->start = lr->end;
				return LR_LINE;
			}
			lr->start = lr->end = 0;
			return LR_EOF;
		}
		if (!lr->discarding && lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
			lr->end -= lr->start;
			lr->start = 0;
		}
		if (lr->one_read && reads++ > 0)
			return LR_AGAIN;
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
		lr->read_total += (unsigned long long)n;
		lr->end += (size_t)n;
	}
}

enum lr_status
linereader_next_buffered(struct linereader *lr, const char **line, size_t *len)
{
	enum lr_status s = lr_take(lr, line, len);

	if (s != LR_AGAIN)
		return s;
	if (lr->discarding) {
		/* the prefix of an over-long line whose end was never seen */
		lr->start = lr->end = 0;
		lr->discarding = 0;
		*line = lr->buf;
		*len = lr->max_line;
		return lr->eof ? LR_TOOLONG : LR_PARTIAL;
	}
	if (lr->end > lr->start) {
		*line = lr->buf + lr->start;
		*len = lr->end - lr->start;
		lr->discarded = *len;
		lr->start = lr->end = 0;
		/* after EOF it is the input's last line, not a fragment */
		return lr->eof ? LR_LINE : LR_PARTIAL;
	}
	return LR_EOF;
}

int
linereader_finish_line(struct linereader *lr, int timeout_ms)
{
	int64_t deadline = timefmt_mono_ms() + timeout_ms, left;
	struct pollfd pfd;
	ssize_t n;

	for (;;) {
		size_t have = lr->end - lr->start;

		if ((have > 0 && memchr(lr->buf + lr->start, '\n', have) != NULL) ||
		    (have == 0 && !lr->discarding))
			return 1;
		if (lr->eof)
			return -1;
		/* room for one more byte, as lr_take would make it */
		if (lr->discarding) {
			lr->discarded += have;
			lr->start = lr->end = lr->max_line;
		} else if (have > lr->max_line) {
			memmove(lr->buf, lr->buf + lr->start, lr->max_line);
			lr->discarding = 1;
			lr->discarded = have;
			lr->start = lr->end = lr->max_line;
		} else if (lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start, have);
			lr->start = 0;
			lr->end = have;
		}
		left = deadline - timefmt_mono_ms();
		if (left <= 0)
			return 0;
		pfd.fd = lr->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;            /* timeout or EINTR: look at the clock again */
		n = read(lr->fd, lr->buf + lr->end, 1);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		if (n == 0) {
			if (lr->follow)
				return 0;
			lr->eof = 1;
			return -1;
		}
		lr->read_total++;
		lr->end++;
	}
}

unsigned long long
linereader_offset(const struct linereader *lr)
{
	return lr->read_total - (lr->end - lr->start);
}

void
linereader_restart(struct linereader *lr, unsigned long long off)
{
	lr->start = lr->end = 0;
	lr->discarding = 0;
	lr->discarded = 0;
	lr->eof = 0;
	lr->read_total = off;
}

int
linereader_has_line(const struct linereader *lr)
{
	return lr->end > lr->start && memchr(lr->buf + lr->start, '\n', lr->end - lr->start) != NULL;
}
