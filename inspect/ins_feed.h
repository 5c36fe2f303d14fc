/*
 * ins_feed: the enriched stream and the bad stream, read into the store inside the event loop.
 *
 * Sources are common/stream specs: "-" (standard input), a file or FIFO, log:PATH, a line
 * log followed as it grows without a consumer group, or kafka:TOPIC, likewise without one (inspect commits nothing: it is a viewer,
 * and must never hold space a real reader has to reclaim). A log source starts at the first
 * line of its last tail_bytes, so a restarted inspect shows the most recent events again.
 *
 * Reading never blocks: stream_source_fd is polled with a persistent libevent event, and one
 * callback takes at most a budget of records before it yields to HTTP (and schedules itself
 * again), so a burst of a million lines does not stop the API answering. After each batch the
 * on_added callback runs (the wait module counts the new records there).
 *
 * A line that is not what its stream should carry (not 131 columns, not a JSON object, longer
 * than max_line) is counted and logged (at most a few lines a second, with the number left
 * out), never fatal.
 */
#ifndef INS_FEED_H
#define INS_FEED_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ins_store;

struct ins_feed_opts {
	const char *good_spec;       /* NULL: none */
	const char *bad_spec;        /* NULL: none */
	size_t      max_line;
	uint64_t    tail_bytes;      /* log sources: start this far from the end (0: the beginning) */
	uint64_t    tail_records;    /* topics: start this many records before each partition's end */
	int         exit_on_eof;     /* leave the loop when every finite source has ended */
	void      (*on_added)(void *arg);
	void       *arg;
};

struct ins_feed_stats {
	unsigned long long lines, rejected, toolong;
};

struct ins_feed;

/* Open the sources. Returns NULL with a reason in err (errno set). */
struct ins_feed *ins_feed_new(struct event_base *base, struct ins_store *st,
    const struct ins_feed_opts *o, char *err, size_t errlen);
void ins_feed_free(struct ins_feed *f);
/* Read what the log sources hold now (their tails), synchronously, before serving. */
void ins_feed_load(struct ins_feed *f);
/* Start watching the sources in the loop. Returns 0 or -1. */
int ins_feed_start(struct ins_feed *f);
const struct ins_feed_stats *ins_feed_stats(const struct ins_feed *f, int bad);

#endif
