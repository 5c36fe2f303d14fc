/*
 * col_queue: a bounded in-memory output queue written by the event loop (collector.md §1,
 * DESIGN.md "Back-pressure and durability").
 *
 * Records are appended as whole lines to a chain of fixed-size blocks; the event loop writes
 * them to the output descriptor without ever blocking (non-blocking writes, EV_WRITE when the
 * pipe is full). The queue never drops a line it accepted: when the output is a FIFO whose
 * reader is absent (ENXIO at open) the open is retried periodically; when its reader goes away
 * (EPIPE) our end stays open, so the pipe keeps what the old reader had not read, and writes
 * are retried periodically. Lines keep queueing meanwhile; writing resumes when a reader is back. Callers ask
 * col_queue_room() before accepting a request, so a full queue turns into a 503 rather than a
 * lost record.
 *
 * A regular file, or a path given as log:PATH, is a line log (linelog.h) instead: a request's
 * lines are appended by col_queue_commit before the request is answered, so an event answered
 * 200 is on its way to disk even if the collector is killed the next moment. There the bound is
 * the backlog: bytes appended that the slowest consumer group of the log has not committed; a
 * failed append (a full disk) answers 503 and keeps the queue unhealthy until there is room.
 *
 * kafka:TOPIC is a Kafka topic (common/stream): a request's records are handed to the producer
 * before the request is answered 200, as Snowplow's binary Thrift (the good queue) or bad-row
 * JSON, one message each, keyed as stream-collector keys them (col_queue_key). The bound is what
 * the broker has not acknowledged yet; over it, requests get 503. The producer retries without
 * a deadline, so nothing accepted is given up while the collector runs; at the end of a drain
 * what is still unacknowledged comes back from the producer and goes to the spill file.
 */
#ifndef COL_QUEUE_H
#define COL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct col_queue;

struct col_queue_stats {
	uint64_t lines;          /* lines accepted */
	uint64_t bytes_written;  /* bytes handed to the output */
	uint64_t write_errors;   /* failed writes or opens, EAGAIN excluded */
	uint64_t reopens;        /* successful (re)opens after a failure or SIGHUP */
};

/*
 * path NULL or "-": use std_fd (1 for the good output, 2 for the bad default). Otherwise a file
 * (appended, created 0644) or a FIFO (opened non-blocking; a missing reader is not an error).
 * max is the byte bound. Returns NULL with a reason in err.
 */
struct col_queue *col_queue_new(struct event_base *base, const char *path, int std_fd,
    size_t max, char *err, size_t errlen);
void col_queue_free(struct col_queue *q);

/* A Kafka output: its records are binary (the good queue); key them by client IP instead of a
 * random UUID per request. */
void col_queue_set_kafka(struct col_queue *q, int binary, int key_by_ip);
/* The partition key of this request's records (before the pushes). Returns 0 or -1. */
int col_queue_key(struct col_queue *q, const char *ip, size_t iplen);
/* The longest record the output takes (0: no limit; a topic's message size). */
size_t col_queue_max_record(const struct col_queue *q);
/* 1 if n more bytes fit under the bound. A 0 is remembered: the queue is unhealthy until a
 * record of that size would fit again (the queue takes only whole records that fit, so it may
 * refuse one long before pending reaches max). */
int col_queue_room(struct col_queue *q, size_t n);
/* Append one line: the standard padded base64 of rec, then '\n'. Returns 0 or -1 (no memory). */
int col_queue_push_base64(struct col_queue *q, const uint8_t *rec, size_t len);
/* Append bytes as they are (a line that already ends in '\n'). Returns 0 or -1. */
int col_queue_push(struct col_queue *q, const char *data, size_t len);
/* Hand on this request's lines: appended to a log output before the answer (a no-op for a
 * queue, which writes later). Returns 0, or -1 when they could not be appended (answer 503;
 * they are dropped). */
int col_queue_commit(struct col_queue *q);
/* 1 when the output is a log: lines are appended by col_queue_commit (0: written later). */
int col_queue_durable(const struct col_queue *q);
/* Bytes queued and not yet written. */
size_t col_queue_pending(const struct col_queue *q);
/* What counts against the bound: queued bytes, or a log's unread backlog. */
size_t col_queue_backlog(const struct col_queue *q);
/* 0 when the queue is full or refusing records (col_queue_room), the output is not open, or the
 * last write failed. */
int col_queue_healthy(const struct col_queue *q);
/* 1 when the output can never be written again (standard output's reader has gone). */
int col_queue_broken(const struct col_queue *q);
/* Close and reopen a path output (SIGHUP, log rotation). Standard streams are left alone. */
void col_queue_reopen(struct col_queue *q);
/* Try to write now (used when draining). */
void col_queue_flush(struct col_queue *q);
/* At the end of a drain that ran out of time: append what is still queued to the file PATH
 * (created; fsynced) instead of dropping it, and set *bytes. Returns 0 or -1 (errno). */
int col_queue_spill(struct col_queue *q, const char *path, size_t *bytes);
/* At start: queue the contents of a spill file left by an earlier run (*bytes: how much; 0 when
 * there is none). The caller removes the file once the queue has written them. Returns 0 or -1. */
int col_queue_replay(struct col_queue *q, const char *path, size_t *bytes);
const struct col_queue_stats *col_queue_stats(const struct col_queue *q);
/* The last error text, "" if none. */
const char *col_queue_error(const struct col_queue *q);

#endif
