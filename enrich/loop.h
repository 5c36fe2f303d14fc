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

struct enrich;
struct stream_source;
struct stream_sink;

struct enrich_loop {
	struct enrich        *e;
	struct stream_source *in;
	struct stream_sink   *good;
	struct stream_sink   *bad;
	size_t                max_line;
	size_t                good_max;         /* longest record the outputs take (0: any) */
	size_t                bad_max;
	long                  stats_interval;   /* seconds; 0: counts only at the end */
};

/* Run until the input ends or SIGTERM/SIGINT. Returns an exit status (sysexits.h). */
int enrich_loop_run(struct enrich_loop *l);

#endif
