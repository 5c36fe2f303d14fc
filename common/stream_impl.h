/*
 * stream_impl: what a stream backend implements (stream_file.c: standard input/output, files,
 * FIFOs, line logs; stream_kafka.c: Kafka topics; stream_kinesis.c: Kinesis streams).
 * Stages never include this header: they see stream.h only.
 *
 * stream.c owns the parts every backend shares: choosing the backend by the spec's prefix, the
 * sink's line queue, the line form of a binary record, and deferred commits (a source's commit
 * waits until the sinks linked to it have acknowledged what was flushed before it). A backend
 * keeps its own state in ->impl and reports failures in ->error.
 */
#ifndef FURROW_STREAM_IMPL_H
#define FURROW_STREAM_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "stream.h"
#include "uuid.h"

#define STREAM_ERROR_MAX  256
#define STREAM_LINKS_MAX  4      /* sinks a source's commits wait for */
#define STREAM_PENDING_MAX 64    /* commits waiting for acknowledgements (then merged) */

struct stream_source_ops;
struct stream_sink_ops;

/* A commit that waits for the linked sinks' acknowledgements. */
struct stream_pending {
	uint64_t pos;
	uint64_t ticket[STREAM_LINKS_MAX];
};

struct stream_source {
	const struct stream_source_ops *ops;
	void                  *impl;
	char                  *name;
	char                   error[STREAM_ERROR_MAX];
	struct stream_sink    *links[STREAM_LINKS_MAX];
	size_t                 nlinks;
	struct stream_pending  pending[STREAM_PENDING_MAX];
	size_t                 npending;
	int                    epfd;      /* the source's and its sinks' descriptors, when they differ */
	char                   link_error[STREAM_ERROR_MAX];
};

struct stream_sink {
	const struct stream_sink_ops *ops;
	void       *impl;
	char       *name;
	struct buf  q;                    /* whole '\n'-terminated records not yet handed on */
	char        error[STREAM_ERROR_MAX];
};

struct stream_source_ops {
	const char *prefix;               /* "kafka:"; NULL: the fallback (file backend) */
	/* target: the spec without the prefix */
	int  (*open)(struct stream_source *s, const char *target,
	    const struct stream_source_opts *o, char *err, size_t errlen);
	void (*close)(struct stream_source *s);
	enum stream_status (*next)(struct stream_source *s, struct stream_rec *rec);
	enum stream_status (*next_buffered)(struct stream_source *s, struct stream_rec *rec);
	/* optional: a stop with half a record in hand reads the rest of it */
	void (*finish_record)(struct stream_source *s);
	ssize_t (*read)(struct stream_source *s, char *buf, size_t cap, uint64_t *pos);
	/* Commit for real: everything up to pos is acknowledged downstream. */
	int  (*commit)(struct stream_source *s, uint64_t pos, char *err, size_t errlen);
	int  (*fd)(const struct stream_source *s);
	int  (*follows)(const struct stream_source *s);
};

struct stream_sink_ops {
	const char *prefix;
	int  (*open)(struct stream_sink *s, const char *target, int std_fd, char *err,
	    size_t errlen);
	int  (*close)(struct stream_sink *s);
	/* Hand on s->q. STREAM_OK: all of it handed on (acknowledged, unless mark is set). */
	enum stream_status (*flush)(struct stream_sink *s);
	/* NULL: the line form, base64 and '\n', goes into s->q */
	int  (*put_binary)(struct stream_sink *s, const void *data, size_t len);
	/* NULL: what flush handed on is acknowledged. Else a ticket for everything handed on so
	 * far, and whether a ticket is acknowledged (1), not yet (0), or never will be (-1). */
	uint64_t (*mark)(struct stream_sink *s);
	int  (*acked)(struct stream_sink *s, uint64_t ticket);
	/* Serve acknowledgements without blocking (optional). */
	void (*serve)(struct stream_sink *s);
	size_t (*unacked)(const struct stream_sink *s);
	int  (*fd)(const struct stream_sink *s);
	int  (*retry_ms)(const struct stream_sink *s);
	int  (*reopen)(struct stream_sink *s);
	size_t (*max_record)(const struct stream_sink *s);
	int  (*set_key)(struct stream_sink *s, const char *key, size_t len);
	int  (*set_fields)(struct stream_sink *s, const struct stream_sink_fields *f, char *err,
	    size_t errlen);
	size_t (*take_failed)(struct stream_sink *s, struct buf *lines);
	void (*purge)(struct stream_sink *s);
};

extern const struct stream_source_ops stream_file_source_ops;
extern const struct stream_sink_ops   stream_file_sink_ops;
extern const struct stream_source_ops stream_kafka_source_ops;
extern const struct stream_sink_ops   stream_kafka_sink_ops;
extern const struct stream_source_ops stream_kinesis_source_ops;
extern const struct stream_sink_ops   stream_kinesis_sink_ops;

/* 1 when one of the n specs (NULL ones are none) is one is() knows: a backend's prepare() sets
 * it up only then. */
int stream_specs_any(const char *const *specs, size_t n, int (*is)(const char *spec));

/*
 * The line form of a record: a binary record's standard padded base64 (collector.md §1), or a
 * text record with each newline written as a blank (a newline would split it in two lines);
 * then '\n'. Every backend that holds records one by one (a Kafka message, a Kinesis record)
 * uses it where a line is wanted: a source's read(), a sink's failed records.
 */
size_t stream_line_form_len(size_t len, int binary);
/* Append the line form to b. Returns how many newlines became blanks, or -1 (b full, or out of
 * memory). */
long stream_line_form(struct buf *b, const void *data, size_t len, int binary);

/*
 * What a record backend's source (Kafka, Kinesis) shares: next() hands a record out as it is,
 * read() hands out line forms, and either way the position is the line forms' bytes so far, so
 * that the backend's commit marks mean the same to next() and read() callers.
 */
struct stream_recs {
	int        binary;     /* read(): the line forms are base64 */
	size_t     max_line;   /* next(): a longer record is STREAM_TOOLONG */
	size_t     keep;       /* ... with this much of it kept for its bad row */
	uint64_t   pos;        /* the line forms' bytes so far */
	uint64_t   newlines;   /* text records whose newlines read() wrote as blanks */
	struct buf line;       /* read(): the line form being handed out */
	size_t     line_off;   /* ... and how much of it is out */
};
void stream_recs_init(struct stream_recs *r, const struct stream_source_opts *o);
void stream_recs_free(struct stream_recs *r);
/* next(): rec is the record (data, len), the position moves past its line form. STREAM_OK, or
 * STREAM_TOOLONG (rec->len is then keep). */
enum stream_status stream_recs_next(struct stream_recs *r, struct stream_rec *rec,
    const void *data, size_t len);
/* read(): hand what is left of the line being read out into buf (from *n, up to cap): whole
 * lines only, unless one line is longer than an empty buf. Returns 1 when the line is out and
 * buf has room for the next (stream_recs_form), else 0. */
int stream_recs_drain(struct stream_recs *r, char *buf, size_t cap, size_t *n);
/* read(): the next record's line form; it will end at r->pos + r->line.len (the backend's
 * commit mark). Returns how many newlines became blanks, or -1 (out of memory). */
long stream_recs_form(struct stream_recs *r, const void *data, size_t len);
/* next_buffered() of a source whose records a restart reads again from what was committed:
 * nothing is buffered, STREAM_EOF. */
enum stream_status stream_recs_next_buffered(struct stream_source *s, struct stream_rec *rec);
/* follows(): a topic or a stream never ends, 1. */
int stream_recs_follows(const struct stream_source *s);

/*
 * A record sink's partition key (Kafka, Kinesis), chosen as Snowplow's sinks choose it: the key
 * the stage set for the records that follow (the collector: its request's random UUID or the
 * client IP), else a text record's configured TSV column (enrich --partition-key), else a random
 * UUID.
 */
#define STREAM_KEY_MAX  256    /* Kinesis's longest partition key; Kafka's keys are cut alike */
struct stream_key {
	char   key[STREAM_KEY_MAX];
	size_t len;
	int    set;
	int    column;             /* -1: none */
};
void stream_key_init(struct stream_key *k);
/* set_key(): key (cut to STREAM_KEY_MAX), or NULL to forget it. */
void stream_key_set(struct stream_key *k, const char *key, size_t len);
/* The key of one record into *key and *len (uuid: room for a random one; a column's value is
 * not cut: Kinesis cuts it, Kafka takes it whole). Returns 0, or -1 with errno when no random
 * UUID could be made. */
int stream_key_of(const struct stream_key *k, const char *data, size_t len, int binary,
    char uuid[UUID_STR_LEN + 1], const char **key, size_t *keylen);
/* A tab-separated field of a record (column col, from 0), or NULL when it is absent or empty. */
const char *stream_tsv_field(const char *rec, size_t len, int col, size_t *flen);

/* A backend about to give up partitions: serve the linked sinks up to timeout_ms and commit
 * what they acknowledge (errors are left for the next call to report). */
void stream_source_settle(struct stream_source *s, int timeout_ms);

void stream_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
