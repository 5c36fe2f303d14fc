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

/* A backend about to give up partitions: serve the linked sinks up to timeout_ms and commit
 * what they acknowledge (errors are left for the next call to report). */
void stream_source_settle(struct stream_source *s, int timeout_ms);

void stream_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
