/*
 * linereader: bounded line reading from a file descriptor, blocking or non-blocking.
 *
 * Stages read newline-framed records (from standard input, a file, a FIFO or a log: see
 * stream.h, which reads through this). A line longer than the limit never makes
 * the reader grow without bound: its first max_line bytes are kept and the rest is discarded up
 * to its newline. The line is then reported once, as LR_TOOLONG, with that prefix (to put into a
 * bad row) and its full length in lr->discarded, so a run of over-long lines gives one
 * LR_TOOLONG each and lines in = lines returned. A final line without a newline at the end of
 * the input is still a line (an over-long one is still LR_TOOLONG). A trailing "\r" is left to
 * the caller.
 *
 * A stage stopping on a signal first lets the line in hand end (linereader_finish_line: the
 * rest of it is read one byte per read(2), so nothing after its newline leaves the pipe), then
 * takes what is buffered without reading more (linereader_next_buffered): whole lines, then an
 * unterminated fragment as LR_PARTIAL, which is not a record (its writer had not finished it).
 *
 * In follow mode (a log that is still being written) the end of the file is not the end of the
 * input: read(2) returning 0 gives LR_AGAIN, and an unterminated tail is never returned as a
 * line, because its writer has not finished it. linereader_offset tells where in the input the
 * last returned line ended, which is what a reader of a log commits.
 */
#ifndef FURROW_LINEREADER_H
#define FURROW_LINEREADER_H

#include <stddef.h>

/* At a stop, how long the line in hand may take to end (linereader_finish_line). */
#define LINEREADER_TAIL_WAIT_MS 2000

enum lr_status {
	LR_LINE = 0,     /* *line / *len hold one line, without its '\n' */
	LR_TOOLONG,      /* *line / *len hold the first max_line bytes of an over-long line;
	                    lr->discarded is its whole length */
	LR_AGAIN,        /* no complete line yet: EAGAIN or EINTR; call again later */
	LR_EOF,          /* end of input, nothing left */
	LR_ERROR,        /* read failed; errno is set */
	LR_PARTIAL,      /* linereader_next_buffered: an unterminated fragment (at most max_line
	                    bytes of it); lr->discarded is its length so far */
};

struct linereader {
	int     fd;
	char   *buf;
	size_t  bufsz;
	size_t  max_line;
	size_t  start, end;
	int     eof;
	int     discarding;
	size_t  discarded;     /* bytes of the current over-long line seen so far; after
	                          LR_TOOLONG or LR_PARTIAL, that line's length */
	int     follow;        /* set by the caller: see above */
	int     one_read;      /* set by the caller: at most one read(2) per call, LR_AGAIN when it
	                          brought no whole line. A caller that polls a blocking descriptor
	                          must never sit in read for the rest of a line: a signal handled
	                          with SA_RESTART, or held while records are processed, would never
	                          be seen there. */
	unsigned long long read_total;   /* input offset of the end of what was read */
};

int  linereader_init(struct linereader *lr, int fd, size_t max_line);
void linereader_free(struct linereader *lr);
/* The line stays valid until the next call. */
enum lr_status linereader_next(struct linereader *lr, const char **line, size_t *len);
/* Like linereader_next, but never reads: LR_LINE or LR_TOOLONG for a complete line already
 * buffered, then LR_PARTIAL for an unterminated fragment (LR_LINE or LR_TOOLONG if the input has
 * ended: its last line), then LR_EOF. The reader is spent for new input once it returned
 * LR_PARTIAL. */
enum lr_status linereader_next_buffered(struct linereader *lr, const char **line, size_t *len);
/* If the buffer ends inside a line, read the rest of that line, one byte per read(2), for at
 * most timeout_ms. 1: no unterminated line is left in hand (it ended, or there was none); 0: the
 * time ran out; -1: the input ended (the fragment is its last line) or a read failed. */
int linereader_finish_line(struct linereader *lr, int timeout_ms);
/* 1 when a whole line is buffered, so that linereader_next returns it without reading. */
int linereader_has_line(const struct linereader *lr);
/* The input offset just after the last line returned (its '\n' included). */
unsigned long long linereader_offset(const struct linereader *lr);
/* Forget what is buffered: the caller has put the descriptor at input offset off. */
void linereader_restart(struct linereader *lr, unsigned long long off);

#endif
