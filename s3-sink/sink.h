/*
 * sink: s3-sink's loop. Blocks read from a stream source (standard input, a file, a FIFO, a
 * durable log) are compressed into open gzip files in the spool, and each block is synced before
 * the next read (and, from a log, committed once its last whole line is in the spool). A file is
 * closed at --rotate-bytes, --rotate-records or --rotate-seconds, never in the middle of a line,
 * and queued for the upload thread (worker.c). While the spool holds --spool-max-bytes nothing is
 * read, so back-pressure reaches the writer.
 *
 * enriched and raw lines are compressed as they come; bad rows are read whole, placed in a file
 * per schema (their key's {vendor}/{schema}), and a line that is not a self-describing bad row
 * becomes a generic_error bad row on --bad (sinks.md §3.8).
 */
#ifndef S3_SINK_H
#define S3_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "spool.h"
#include "worker.h"

struct stream_source;

/* The largest block read at once (and a stream source's longest line). */
#define S3SINK_READ_CHUNK (256 * 1024)

enum s3sink_input { IN_ENRICHED, IN_RAW, IN_BAD };

struct s3sink_opts {
	const char *bucket, *prefix, *endpoint, *region, *spool, *partition, *bad_path;
	const char *source, *group;
	const char *kafka_brokers, *kafka_properties;
	int reclaim;
	enum s3sink_input input;
	int path_style, print_keys, level;
	uint64_t rotate_bytes, rotate_records, rotate_seconds;
	uint64_t spool_max, max_line, multipart_threshold, part_size;
	uint64_t retry_base_ms, retry_max_ms, retry_deadline, drain_seconds, connect_timeout;
	uint64_t stats_interval;
	const char *metrics_listen;   /* NULL: no /metrics */
	uint64_t health_threshold;    /* seconds */
};

struct s3sink_counters {
	uint64_t lines_in, bytes_in, lines_out, bad;
};

/* main() fills o and work's configuration, opens the spool, --bad and in, then runs the loop. */
struct s3sink {
	struct s3sink_opts      o;
	struct s3spool          spool;
	struct s3work           work;
	struct s3batch          batch;
	struct s3sink_counters  c;
	int              bad_fd;
	int              bad_owned;
	struct buf       line;        /* bad mode: the line being assembled */
	int              discarding;  /* bad mode: inside an over-long line */
	uint64_t         discarded;
	char             endpoint_buf[512];
	int              rotate_pending;  /* stream mode: rotate once the current line ends */
	struct stream_source *in;     /* --source: standard input, a file, a log */
	char            *chunk;       /* the last block read ... */
	size_t           chunk_off;   /* ... how far it has been spooled ... */
	size_t           chunk_len;   /* ... and its length */
	uint64_t         chunk_end;   /* the input position after the block */
	int              no_limit;    /* shutting down: spool the rest whatever the spool size */
	struct metricsd *md;          /* NULL without --metrics-listen */
	int64_t          spool_full_since;   /* monotonic ms; 0: the spool has room */
};

/* metricsd callbacks (arg: the s3sink); series documented in s3-sink(1), METRICS. Unhealthy
 * when uploads have failed for --health-threshold seconds, or the spool has been full as long. */
void s3sink_metrics_render(struct buf *out, void *arg);
int  s3sink_health(struct buf *why, void *arg);

/* Open (and lock) the spool folder --spool, and set up the batch that writes into it. 0, or -1
 * with err filled (exit 78). */
int s3sink_open_spool(struct s3sink *s, char *err, size_t errlen);
/* (Re)open --bad (standard error by default). 0, or -1 after logging why (exit 74). */
int s3sink_open_bad(struct s3sink *s);
/* Salvage the open files of a run that died, then queue every closed file. 0 or -1. */
int s3sink_recover(struct s3sink *s);
/* The read loop. Returns 0 at the end of the input or on a stop request, or an exit status. */
int s3sink_run(struct s3sink *s);
/* Close the batch, let the worker upload within --drain-seconds, report what is left. Returns
 * the exit status (rc, or the worker's failure). */
int s3sink_shut_down(struct s3sink *s, int rc);
/* Free what the sink holds and close its files (the source, --bad, the spool). */
void s3sink_free(struct s3sink *s);

#endif
