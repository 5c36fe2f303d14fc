/*
 * stream: where a stage's records come from and where they go, with an explicit
 * "durably handed on" acknowledgement, so that a stage's main loop does not know which kind of
 * stream it uses (DESIGN.md "Scaling past one machine").
 *
 * A stream is named by a spec, the same syntax for every stage's --input, --output and --bad:
 *
 *   -            standard input (sources) or standard output (sinks)
 *   PATH         a file or a FIFO: read once to its end (sources); appended to (sinks)
 *   log:PATH     a durable line log (linelog.h): sinks append whole lines under a lock; sources
 *                follow the file as it grows, from the offset their consumer group committed
 *
 * Records are lines without their '\n'. Every record a source returns carries a position; a stage
 * calls stream_source_commit(position) once everything it derived from the records up to that
 * position has been acknowledged by its sinks (stream_sink_acked). For a pipe there is nothing to
 * commit: what was read is gone. For a log, the commit is what a restarted reader resumes from,
 * so a stage killed at any moment loses nothing (and repeats at most what it had not committed).
 * Backends for Kafka and Kinesis plug in behind the same calls.
 *
 * Sources never block: stream_source_fd is the descriptor to poll, and STREAM_AGAIN says so.
 * A sink into a pipe blocks while the pipe is full (that is the back-pressure a filter gives);
 * a sink into a file answers STREAM_BLOCKED when the disk is full, and the stage tries again
 * later without taking more input, so a full disk delays events and loses none.
 */
#ifndef FURROW_STREAM_H
#define FURROW_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum stream_status {
	STREAM_OK = 0,        /* a record (sources) / everything handed on (sinks) */
	STREAM_TOOLONG,       /* a record longer than max_line: data holds its first bytes */
	STREAM_AGAIN,         /* nothing to read now: poll stream_source_fd */
	STREAM_BLOCKED,       /* the sink cannot take more now (full pipe, full disk): poll
	                       * stream_sink_fd, or retry after stream_sink_retry_ms */
	STREAM_EOF,           /* the end of a finite input */
	STREAM_PARTIAL,       /* stream_source_next_buffered: an unterminated fragment, not a
	                       * record (its writer had not finished it); full_len is its length */
	STREAM_ERROR,         /* failed; the error text says why */
};

struct stream_rec {
	const char *data;     /* valid until the next stream_source_next */
	size_t      len;
	uint64_t    pos;      /* commit this to say "everything up to here is handed on" */
	uint64_t    full_len; /* STREAM_TOOLONG: the record's whole length */
};

struct stream_source_opts {
	size_t      max_line;      /* longest record; longer ones come back as STREAM_TOOLONG */
	size_t      toolong_keep;  /* bytes of an over-long record kept for its bad row */
	const char *group;         /* log: the consumer group; NULL reads without committing */
	int         from_end;      /* log, new group or no group: start at the end */
	uint64_t    tail_bytes;    /* log without a group: start at the first line of the last N
	                            * bytes (0: the beginning, unless from_end) */
	int         reclaim;       /* log: give back the space every group has read past */
};

struct stream_source;

/* Open a source. Returns NULL and fills err on failure (errno set). */
struct stream_source *stream_source_open(const char *spec, const struct stream_source_opts *o,
    char *err, size_t errlen);
void stream_source_close(struct stream_source *s);
/* The next record. STREAM_AGAIN: poll stream_source_fd for input, then call again. */
enum stream_status stream_source_next(struct stream_source *s, struct stream_rec *rec);
/*
 * Raw reading, for a stage that takes bytes rather than records (s3-sink compresses whole
 * blocks): up to cap bytes; from a log only whole lines, unless one line is longer than cap.
 * Returns the number of bytes; 0 at the end of a finite input; -1 with errno EAGAIN when nothing
 * can be read now (poll stream_source_fd); -1 with another errno on failure. *pos is the input
 * offset after the bytes returned. Do not mix with stream_source_next on one source.
 */
ssize_t stream_source_read(struct stream_source *s, char *buf, size_t cap, uint64_t *pos);
/* Stopping: the records already read, without reading more (STREAM_OK / STREAM_TOOLONG), then
 * STREAM_PARTIAL for an unterminated fragment of a pipe or file, then STREAM_EOF. A log has
 * nothing to hand over this way: what was not read is read at the next start. */
enum stream_status stream_source_next_buffered(struct stream_source *s, struct stream_rec *rec);
/* Stopping with half a record in hand: read the rest of it and not a byte more, for at most
 * LINEREADER_TAIL_WAIT_MS, so that stream_source_next_buffered can give it whole. Nothing to do
 * for a log: it is read again from its committed position. */
void stream_source_finish_record(struct stream_source *s);
/* Say that everything up to pos (a rec.pos) is handed on. Returns 0 or -1 (err filled). */
int stream_source_commit(struct stream_source *s, uint64_t pos, char *err, size_t errlen);
int stream_source_fd(const struct stream_source *s);
/* 1 when the source follows a growing log (EOF never comes; a stop comes by signal). */
int stream_source_follows(const struct stream_source *s);
/* Why the last call failed. */
const char *stream_source_error(const struct stream_source *s);
/* The spec, with any password in a URL left out, for logs. */
const char *stream_source_name(const struct stream_source *s);

struct stream_sink;
struct buf;

/* Open a sink; std_fd is the descriptor "-" means (1 for --output, 1 or 2 for --bad).
 * Returns NULL and fills err on failure (errno set). */
struct stream_sink *stream_sink_open(const char *spec, int std_fd, char *err, size_t errlen);
/* Close, after stream_sink_flush. Returns 0, or -1 when close(2) reported a failed write (errno
 * set; the error text says which file). */
int  stream_sink_close(struct stream_sink *s);
/* Queue one record (without '\n'). Returns 0, or -1 when it cannot be buffered (out of memory
 * or over the sink's limit: flush first). */
int stream_sink_put(struct stream_sink *s, const char *data, size_t len);
/* Queue bytes that are already whole '\n'-terminated records. */
int stream_sink_put_lines(struct stream_sink *s, const char *data, size_t len);
/* The queue itself, for a producer that formats whole '\n'-terminated records straight into it
 * (no copy). */
struct buf *stream_sink_queue(struct stream_sink *s);
/* Hand on what is queued. STREAM_OK: all of it is acknowledged; STREAM_BLOCKED: some is still
 * queued (poll stream_sink_fd for POLLOUT when it is >= 0, else retry after
 * stream_sink_retry_ms); STREAM_ERROR: the sink is broken. */
enum stream_status stream_sink_flush(struct stream_sink *s);
/* Bytes queued and not yet handed on. */
size_t stream_sink_pending(const struct stream_sink *s);
int stream_sink_fd(const struct stream_sink *s);
int stream_sink_retry_ms(const struct stream_sink *s);
/* SIGHUP: reopen a file sink (log rotation), after stream_sink_flush. Returns 0; -1 when the
 * file cannot be opened (the old one stays in use); -2 when closing the old one reported a failed
 * write (the new one is in use; what the old one was told may be lost: treat it as an output
 * failure). */
int stream_sink_reopen(struct stream_sink *s);
const char *stream_sink_error(const struct stream_sink *s);
const char *stream_sink_name(const struct stream_sink *s);

#endif
