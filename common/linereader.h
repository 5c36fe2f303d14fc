/*
 * linereader: bounded line reading from a file descriptor, blocking or non-blocking.
 *
 * Every stage reads newline-framed records from stdin. A line longer than the limit never makes
 * the reader grow without bound: the caller gets its first max_line bytes once (LR_TOOLONG, to
 * put into a bad row) and the rest of that line is discarded up to its newline. The total length
 * of the over-long line is reported once the newline is found (linereader_discarded). A final
 * line without a newline at EOF is still returned. A trailing "\r" is left to the caller.
 *
 * In follow mode (a log that is still being written) the end of the file is not the end of the
 * input: read(2) returning 0 gives LR_AGAIN, and an unterminated tail is never returned as a
 * line, because its writer has not finished it.
 */
#ifndef FURROW_LINEREADER_H
#define FURROW_LINEREADER_H

#include <stddef.h>

enum lr_status {
	LR_LINE = 0,     /* *line / *len hold one line, without its '\n' */
	LR_TOOLONG,      /* *line / *len hold the first max_line bytes of an over-long line */
	LR_AGAIN,        /* no complete line yet: EAGAIN or EINTR; call again later */
	LR_EOF,          /* end of input, nothing left */
	LR_ERROR,        /* read failed; errno is set */
	LR_PARTIAL,      /* linereader_next_buffered: the start of an unterminated line */
};

struct linereader {
	int     fd;
	char   *buf;
	size_t  bufsz;
	size_t  max_line;
	size_t  start, end;
	int     eof;
	int     discarding;
	size_t  discarded;     /* bytes of the current over-long line seen so far */
	int     follow;        /* set by the caller: see above */
	unsigned long long consumed;     /* bytes of input returned or discarded, newlines included */
	unsigned long long discard_end;  /* consumed when the last over-long line ended */
};

int  linereader_init(struct linereader *lr, int fd, size_t max_line);
void linereader_free(struct linereader *lr);
/* The line stays valid until the next call. */
enum lr_status linereader_next(struct linereader *lr, const char **line, size_t *len);
/* Bytes buffered but not yet returned. */
size_t linereader_pending(const struct linereader *lr);
/* Forget the buffered bytes that were not returned (the caller seeks back over them) and return
 * how many there were. */
size_t linereader_drop(struct linereader *lr);
/* 1 when a whole line is buffered, so that linereader_next returns it without reading. */
int linereader_has_line(const struct linereader *lr);
/* linereader_next without ever reading, for a stage that stops reading (SIGTERM) but keeps
 * what it has read: a buffered whole line (LR_LINE or LR_TOOLONG), else the buffered start of
 * an unterminated line, cut to max_line bytes and consumed (LR_PARTIAL), else LR_AGAIN. */
enum lr_status linereader_next_buffered(struct linereader *lr, const char **line, size_t *len);

#endif
