/*
 * send: es-sink's loop. Records come from a stream source (standard input, a file, a durable
 * log) into a batch until it is full (documents or bytes) or its flush delay has passed; the
 * batch is sent with _bulk while the next one fills. The next one is not sent, and once it is
 * full nothing more is read, until every document of the batch in flight is accepted, rejected
 * into a bad row, or (at a deadline) diverted. While a batch is retried nothing is read, so
 * back-pressure reaches the collector.
 *
 * A batch's input position is committed only once all of its documents are settled and the bad
 * rows they caused are written, so a log source is read again from there after a crash or a
 * stop that came before Elasticsearch answered: documents are re-sent (idempotent through their
 * _id), never lost. Only a pipe, whose data cannot be read twice, makes the loop divert the
 * documents of a batch it cannot deliver before shutdown (to --spool, else to --bad).
 */
#ifndef ES_SEND_H
#define ES_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "esclient.h"
#include "sinkout.h"

enum es_input { ES_IN_ENRICHED, ES_IN_BAD, ES_IN_JSON };

struct es_opts {
	struct esclient_opts es;
	enum es_input input;
	struct sinkout_conf io;            /* --source, --bad, --spool, --dump, ... */
	const char *index;
	int         setup, setup_only;
	size_t      batch_docs, batch_bytes;
	long        flush_ms;
	long        retry_base_ms, retry_max_ms;
	long        retry_deadline_s, term_timeout_s;
	long        stats_interval;
	const char *shard_format;
	int         shard_col;
	const char *refresh;
};

struct sender;

/* The sender for these options, streams (sinkout_open) and client (es is NULL with --dump).
 * Returns NULL when out of memory. */
struct sender *sender_new(const struct es_opts *o, struct esclient *es, struct sinkout *io);
void sender_free(struct sender *s);
/* Run until the input ends or SIGTERM/SIGINT and the batches in hand are settled. Returns an
 * exit status (sysexits.h). */
int sender_run(struct sender *s);
/* Serve /metrics and /health on md while running (md may be NULL); health is bad when
 * Elasticsearch has failed for health_threshold_s or more, or --bad/--spool could not be
 * written (full disk) for as long. */
struct metricsd;
struct buf;
void sender_set_metrics(struct sender *s, struct metricsd *md, long health_threshold_s);
/* metricsd callbacks; arg is the sender. Series documented in es-sink(1), METRICS. */
void sender_metrics_render(struct buf *out, void *arg);
int  sender_health(struct buf *why, void *arg);
/* Log the counters as "<when>: in=... indexed=..." (sender_run does so every --stats-interval
 * and, as "exit", when it ends). With s NULL, the zeros of a run that never started: es-sink
 * ends every run with an exit line, whichever way it ends. */
void sender_log_stats(const struct sender *s, const char *when);
/* The signal-safe abort test esclient calls while a request is in flight. */
int sender_abort_cb(void *arg);

#endif
