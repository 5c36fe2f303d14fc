/*
 * sinkout: the streams of a sink stage (es-sink, pg-sink) around its loop: the input, --bad
 * (generic_error bad rows), --spool (lines diverted at shutdown) and --dump (standard output).
 * Both sinks open them the same way, hand on what the outputs hold before committing input
 * (waiting out a full disk, with the time spent blocked for /metrics and /health), reopen
 * --bad and --spool on SIGHUP, and write bad rows with the same payload cut.
 *
 * Like the rest of common/ it never prints or exits: warnings and errors go to the notify
 * callback the stage hands in (log_line), and a failure is returned to the caller: a call that
 * fails stores an exit status (sysexits.h) in the caller's *status, unless one is there already
 * (the first failure decides how the stage ends).
 */
#ifndef FURROW_SINKOUT_H
#define FURROW_SINKOUT_H

#include <stddef.h>
#include <stdint.h>

/* Longest payload of an item-level bad row, in characters (sinks.md §2.7, as ESL2). */
#define SINKOUT_PAYLOAD_CUT_CHARS 20000
/* How often "not reading more input until it can be written" is repeated while blocked. */
#define SINKOUT_WAIT_LOG_S        30

struct buf;
struct metricsd;
struct stream_source;
struct stream_sink;

/* The flags of a sink stage that name its streams. */
struct sinkout_conf {
	const char *source;            /* --source: "-" is standard input */
	const char *group;             /* consumer group, for a source that has them */
	int         reclaim;           /* --reclaim */
	size_t      max_line;          /* --max-line */
	const char *bad_path;          /* --bad; NULL: bad rows go to standard error */
	const char *spool_path;        /* --spool, or NULL */
	int         dump;              /* --dump: a sink on standard output */
	const char *kafka_brokers, *kafka_properties;
	const char *artifact;          /* "furrow-es-sink": bad rows' processor, Kafka's client.id */
	void      (*notify)(int level, const char *msg);   /* log_line (log.h levels) */
};

struct sinkout {
	struct stream_source *in;
	struct stream_sink   *bad, *spool, *dump;   /* spool and dump may be NULL */
	struct metricsd      *md;                   /* served while an output is blocked; or NULL */
	const char           *artifact;
	void                (*notify)(int level, const char *msg);
	int64_t               blocked_since;        /* monotonic ms; 0: the outputs take writes */
	uint64_t              bad_rows, spooled;    /* written since sinkout_open */
};

/*
 * Open what c names into o: the Kafka and Kinesis settings of the source and --bad, the
 * source, --bad, --spool and --dump, and the link that makes the source's commits wait for
 * --bad's acknowledgements. Returns 0, or an exit status with err filled ("--bad <why>").
 * Whatever was opened stays in o for sinkout_close.
 */
int  sinkout_open(struct sinkout *o, const struct sinkout_conf *c, char *err, size_t errlen);
/* Close the source, then the outputs (after their last flush). Returns 0, or EX_IOERR when a
 * close reported a failed write (a lost bad row: each one notified). o may be all zeros. */
int  sinkout_close(struct sinkout *o);

/*
 * Hand on what --bad, --spool and --dump hold. A full disk is waited out, serving o->md
 * (nothing is read meanwhile). Returns 0; -1 when SIGTERM came while blocked on a source that
 * follows a log (the input is not committed: it is read again at the next start), or when an
 * output is broken (*status EX_IOERR).
 */
int  sinkout_flush(struct sinkout *o, int *status);
/* SIGHUP: flush, then reopen --bad and --spool (log rotation). A file that cannot be opened
 * again is notified and the old one kept; a failed close of the old one is a lost bad row
 * (*status EX_IOERR). */
void sinkout_reopen(struct sinkout *o, int *status);

/* Queue a generic_error bad row for the line; cut: item-level, the payload cut to
 * SINKOUT_PAYLOAD_CUT_CHARS. Returns 0, or -1 when out of memory (*status EX_SOFTWARE). */
int  sinkout_bad(struct sinkout *o, const char *line, size_t len, int cut, const char *error,
    int *status);
/* Queue the line on --spool (which must be open). Returns 0 or -1 (*status EX_SOFTWARE). */
int  sinkout_spool(struct sinkout *o, const char *line, size_t len, int *status);

/* How long the outputs have been blocked, in seconds (0: not), at monotonic now_ms. */
double sinkout_blocked_seconds(const struct sinkout *o, int64_t now_ms);
/* /health: 1 when the outputs have not been blocked for threshold_s or more; else 0 with why. */
int  sinkout_health(const struct sinkout *o, long threshold_s, int64_t now_ms, struct buf *why);

#endif
