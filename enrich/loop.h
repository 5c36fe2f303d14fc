/*
 * loop: enrich's main loop. Records come from a stream source (standard input, a file, a log);
 * each becomes an enriched TSV line on the good sink or a bad row on the bad sink. The input
 * position is committed only after both sinks have handed on everything derived from it, so a
 * log input is read again from there after a crash, and a full disk stops the reading until
 * there is room again (with a log line) instead of losing what was read.
 *
 * A record that comes as a message (rec.bytes: a Kafka topic) is the Thrift payload itself; a line
 * is its base64. Records too long for an output that limits them (a topic's message size)
 * become size_violation bad rows. At the end the loop waits (at most LOOP_SYNC_MS) for the
 * outputs to acknowledge what the last commits wait for.
 *
 * Signals are blocked while a record is processed and delivered only while the loop waits, so a
 * SIGTERM or SIGHUP is never left unseen by a blocked wait.
 */
#ifndef ENRICH_LOOP_H
#define ENRICH_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "metricsd.h"

struct enrich;
struct metricsd;
struct stream_source;
struct stream_sink;

/* What the loop counts for /metrics and /health (enrich_metrics.h). */
struct enrich_loop_stats {
	uint64_t            bytes_in;          /* input bytes, newlines included */
	uint64_t            bytes_good;        /* enriched TSV bytes handed on */
	uint64_t            bytes_bad;         /* bad-row bytes handed on */
	uint64_t            blocked_total;     /* times an output could not take more */
	int64_t             blocked_since_ms;  /* monotonic; 0: not blocked */
	struct metrics_hist latency;           /* seconds per raw record (with --metrics-listen) */
};

struct enrich_loop {
	struct enrich        *e;
	struct stream_source *in;
	struct stream_sink   *good;
	struct stream_sink   *bad;
	struct stream_sink   *pii;              /* pii_transformation events, or NULL */
	size_t                max_line;
	size_t                good_max;         /* longest record the outputs take (0: any) */
	size_t                bad_max;
	long                  stats_interval;   /* seconds; 0: counts only at the end */
	struct metricsd      *md;               /* NULL without --metrics-listen */
	struct enrich_loop_stats stats;
};

/* Run until the input ends or SIGTERM/SIGINT. Returns an exit status (sysexits.h). */
int enrich_loop_run(struct enrich_loop *l);

#endif
