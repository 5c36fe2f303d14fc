/*
 * stream: where a stage's records come from and where they go, with an explicit
 * "durably handed on" acknowledgement, so that a stage's main loop does not know which kind of
 * stream it uses (DESIGN.md "Scaling past one machine").
 *
 * A stream is named by a spec, the same syntax for every stage's --source, --output and --bad:
 *
 *   -            standard input (sources) or standard output (sinks)
 *   PATH         a file or a FIFO: read once to its end (sources); appended to (sinks)
 *   log:PATH     a durable line log (linelog.h): sinks append whole lines under a lock; sources
 *                follow the file as it grows, from the offset their consumer group committed
 *   kafka:TOPIC  a Kafka topic (stream_kafka.c): sinks produce one message per record; sources
 *                consume in a consumer group, from the offsets the group committed
 *   kinesis:NAME a Kinesis stream (stream_kinesis.c): sinks put one Kinesis record per record;
 *                sources read the shards leased to them in the group's DynamoDB lease table,
 *                from the checkpoints there
 *
 * Records are lines without their '\n' on files, pipes and logs, and messages on Kafka, where
 * they are Snowplow's own: a raw record is the binary Thrift CollectorPayload, whose line form
 * is its standard padded base64 (stream_sink_put_binary writes the one or the other;
 * rec.bytes says which a source returned). Every record a source returns carries a position;
 * a stage calls stream_source_commit(position) once it has flushed everything it derived from
 * the records up to that position to its sinks. For a pipe there is nothing to commit: what
 * was read is gone. For a log or a topic, the commit is what a restarted reader resumes from,
 * so a stage killed at any moment loses nothing (and repeats at most what it had not
 * committed).
 *
 * Acknowledgement: a file sink's flush returns once the data is written. A Kafka sink's flush
 * returns once the producer has taken the records; the broker acknowledges them later. A
 * source linked to its sinks (stream_source_link) therefore defers a commit until every linked
 * sink has acknowledged what was flushed before the commit was asked for: the stage keeps
 * reading and flushing meanwhile, and the commit happens when the acknowledgements arrive
 * (they wake stream_source_fd). stream_source_sync waits for the last ones at the end.
 *
 * Sources never block: stream_source_fd is the descriptor to poll, and STREAM_AGAIN says so.
 * A sink into a pipe blocks while the pipe is full (that is the back-pressure a filter gives);
 * a sink into a file answers STREAM_BLOCKED when the disk is full, a Kafka sink when the
 * producer's queue is full, and the stage tries again later without taking more input, so a
 * full disk or an unreachable broker delays events and loses none.
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
	int         bytes;    /* 1: data is a message's own bytes (a raw record is binary Thrift);
	                       * 0: a line (a raw record is its base64) */
};

struct stream_source_opts {
	size_t      max_line;      /* longest record; longer ones come back as STREAM_TOOLONG */
	size_t      toolong_keep;  /* bytes of an over-long record kept for its bad row */
	const char *group;         /* log: the consumer group; NULL reads without committing */
	int         from_end;      /* log, new group or no group: start at the end */
	uint64_t    tail_bytes;    /* log without a group: start at the first line of the last N
	                            * bytes (0: the beginning, unless from_end) */
	int         reclaim;       /* log: give back the space every group has read past */
	int         binary;        /* the records are binary (raw): stream_source_read gives their
	                            * line form (base64) from a topic */
	uint64_t    tail_records;  /* kafka without a group: start this many records before the
	                            * end of each partition (0: at the beginning, unless from_end) */
};

struct stream_source;
struct stream_sink;
struct buf;

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
/* Say that everything up to pos (a rec.pos) is flushed to the sinks. With linked sinks the
 * commit waits for their acknowledgements (see above). Returns 0, or -1 (err filled) when the
 * commit failed or a linked sink will never acknowledge (a delivery failed for good). */
int stream_source_commit(struct stream_source *s, uint64_t pos, char *err, size_t errlen);
/* Make commits wait for what the sink acknowledges (at most STREAM_LINKS_MAX sinks). Returns 0
 * or -1 (err filled). */
int stream_source_link(struct stream_source *s, struct stream_sink *sink, char *err,
    size_t errlen);
/* At the end: wait up to timeout_ms for the linked sinks to acknowledge what the pending
 * commits wait for, and commit. Returns 0; -1 (err filled) when they did not in time or failed
 * (nothing more is committed: the records are read again at the next start). */
int stream_source_sync(struct stream_source *s, int timeout_ms, char *err, size_t errlen);
int stream_source_fd(const struct stream_source *s);
/* 1 when the source follows a growing log (EOF never comes; a stop comes by signal). */
int stream_source_follows(const struct stream_source *s);
/* 1 when a spec names a stream with consumer groups and committed positions (log:, kafka:). */
int stream_spec_has_groups(const char *spec);
/* 1 when a spec names a Kafka topic (the stage then calls stream_kafka_setup). */
int stream_spec_is_kafka(const char *spec);
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
/* One binary record (a raw Thrift CollectorPayload): its standard padded base64 and '\n' on a
 * line backend, its bytes on Kafka (where it is handed to the producer at once). Returns 0, or
 * -1 (errno EAGAIN: the producer's queue is full; other: out of memory or failed). */
int stream_sink_put_binary(struct stream_sink *s, const void *data, size_t len);
/* The partition key of the records put from now on (NULL: the sink's default, a random UUID
 * per record or the key column). Line backends ignore it. Returns 0 or -1. */
int stream_sink_set_key(struct stream_sink *s, const char *key, size_t len);
/* Fields of tab-separated records that Kafka carries beside the record: the partition key and
 * message headers (Snowplow enrich's partitionKey and attributes). */
struct stream_sink_fields {
	int                key_column;      /* -1: a random UUID per record */
	const int         *attr_columns;
	const char *const *attr_names;
	size_t             n_attrs;
};
int stream_sink_set_fields(struct stream_sink *s, const struct stream_sink_fields *f,
    char *err, size_t errlen);
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
/* Bytes handed on and not yet acknowledged (0 for file sinks). */
size_t stream_sink_unacked(const struct stream_sink *s);
/* Serve acknowledgements without blocking (an event loop calls it when stream_sink_fd is
 * readable). */
void stream_sink_serve(struct stream_sink *s);
/* The longest record the sink takes (0: no limit). */
size_t stream_sink_max_record(const struct stream_sink *s);
/* Readable when the sink has news (acknowledgements, room); -1: none, retry after
 * stream_sink_retry_ms. */
int stream_sink_fd(const struct stream_sink *s);
int stream_sink_retry_ms(const struct stream_sink *s);
/* SIGHUP: reopen a file sink (log rotation), after stream_sink_flush. Returns 0; -1 when the
 * file cannot be opened (the old one stays in use); -2 when closing the old one reported a failed
 * write (the new one is in use; what the old one was told may be lost: treat it as an output
 * failure). */
int stream_sink_reopen(struct stream_sink *s);
const char *stream_sink_error(const struct stream_sink *s);
const char *stream_sink_name(const struct stream_sink *s);

/*
 * Kafka settings for the whole process (every kafka: stream uses them): the bootstrap brokers
 * and a file of librdkafka properties (key=value lines, '#' comments) for TLS and SASL, so that
 * secrets are never in argv. Flags win over the file. Call before opening a kafka: stream.
 */
#define STREAM_KAFKA_LINGER_MS  5   /* librdkafka's own default */
struct stream_kafka_conf {
	const char *brokers;        /* bootstrap.servers; NULL: from the properties file */
	const char *properties;     /* a file, or NULL */
	const char *client_id;      /* client.id: the program's name */
	long        linger_ms;      /* the producer's linger.ms unless the properties file sets
	                             * it; 0: STREAM_KAFKA_LINGER_MS */
	/* where the client's notices go (assignments, broker errors, librdkafka's log): levels
	 * as log.h's (0 error .. 3 debug); NULL: nowhere */
	void      (*notify)(int level, const char *msg);
};
/* Fill what conf leaves NULL from FURROW_KAFKA_BROKERS and FURROW_KAFKA_PROPERTIES. */
void stream_kafka_conf_env(struct stream_kafka_conf *conf);
/* Check and keep the settings (the properties file is read now). Returns 0 or -1 (err: the
 * file, the line and the property, never a value). */
int stream_kafka_setup(const struct stream_kafka_conf *conf, char *err, size_t errlen);
/* A stage's whole Kafka setup: when one of the n specs (NULL ones skipped) is a topic, conf
 * (the flags) completed from the environment goes to stream_kafka_setup. Returns 0, or -1 with
 * err filled. */
int stream_kafka_prepare(const char *const *specs, size_t n, struct stream_kafka_conf *conf,
    char *err, size_t errlen);
/* Records a Kafka sink could not deliver for good (after stream_sink_purge, or a permanent
 * error), in their line form, appended to lines; returns how many. */
size_t stream_sink_take_failed(struct stream_sink *s, struct buf *lines);
/* Give up on what is not acknowledged yet: it becomes failed records (stream_sink_take_failed)
 * that a stage can keep (the collector's spill). */
void stream_sink_purge(struct stream_sink *s);

/*
 * Kinesis settings for the whole process (every kinesis: stream uses them). Credentials come
 * from the environment, a profile file or the instance metadata service (aws.h), never from
 * flags. Call before opening a
 * kinesis: stream.
 */
struct stream_kinesis_conf {
	const char *region;            /* NULL: FURROW_KINESIS_REGION, AWS_REGION, ... */
	const char *endpoint;          /* Kinesis's URL for compatible services; NULL: AWS's */
	const char *dynamodb_endpoint; /* the lease table's service; NULL: AWS's */
	long        failover_ms;       /* a lease not renewed this long is taken; 0: 10000 */
	const char *worker_id;         /* the lease owner's name; NULL: host name and a UUID */
	/* where notices go (leases taken and lost, retries), levels as log.h's; NULL: nowhere */
	void      (*notify)(int level, const char *msg);
};
/* Fill what conf leaves NULL from FURROW_KINESIS_ENDPOINT, FURROW_DYNAMODB_ENDPOINT,
 * FURROW_KINESIS_FAILOVER_MS and FURROW_KINESIS_WORKER_ID. */
void stream_kinesis_conf_env(struct stream_kinesis_conf *conf);
int stream_kinesis_setup(const struct stream_kinesis_conf *conf, char *err, size_t errlen);
/* A stage's whole Kinesis setup: when one of the n specs (NULL ones skipped) is a Kinesis
 * stream, conf completed from the environment goes to stream_kinesis_setup. Returns 0, or -1
 * with err filled. */
int stream_kinesis_prepare(const char *const *specs, size_t n, struct stream_kinesis_conf *conf,
    char *err, size_t errlen);
/* 1 when a spec names a Kinesis stream. */
int stream_spec_is_kinesis(const char *spec);

/* A stage's whole Kafka and Kinesis setup in one call, before opening its streams:
 * stream_kafka_prepare with kc (the flags: brokers, properties file, client id, linger, notify),
 * then stream_kinesis_prepare with a conf from the environment and kc's notify. Either does
 * nothing unless one of the n specs (NULL ones skipped) is of its kind. Returns 0, or -1 with
 * err filled (a configuration error: EX_CONFIG for the stage). */
int stream_prepare(const char *const *specs, size_t n, struct stream_kafka_conf *kc, char *err,
    size_t errlen);

#endif
