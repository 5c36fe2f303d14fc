/*
 * loop: enrich's main loop. Records come from a stream source (standard input, a file, a log);
 * each becomes an enriched TSV line on the good sink or a bad row on the bad sink. The input
 * position is committed only after both sinks have handed on everything derived from it, so a
 * log input is read again from there after a crash, and a full disk stops the reading until
 * there is room again (with a log line) instead of losing what was read.
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
	struct stream_sink   *pii;              /* pii_transformation events, or NULL */
	size_t                max_line;
	long                  stats_interval;   /* seconds; 0: counts only at the end */
};

/* Run until the input ends or SIGTERM/SIGINT. Returns an exit status (sysexits.h). */
int enrich_loop_run(struct enrich_loop *l);

#endif
