/*
 * pg_load: pg-sink's loop. Records come from a stream source (standard input, a file, a
 * durable log) into a batch until it is full (rows or bytes) or its flush delay has passed;
 * the batch is loaded in one transaction: COPY into atomic.events (or the bad-rows table) and
 * into each entity table, then COMMIT. Nothing more is read until the batch is committed, its
 * refused rows are written as bad rows, or (at a deadline) it is diverted; while the database
 * is down the batch is retried with back-off and nothing is read, so back-pressure reaches the
 * collector.
 *
 * Replays: the first COPY goes straight into the tables. When the unique key of
 * atomic.events (event_id, collector_tstamp) says an event is already there (a batch whose
 * COMMIT came before a crash, a log read again), the batch goes through temporary staging
 * tables instead: INSERT ... ON CONFLICT DO NOTHING into atomic.events, and into the entity
 * tables only the rows of the events that were new. A replay therefore never duplicates a row.
 *
 * Refused rows: when PostgreSQL refuses a row (a value too long, a NOT NULL, a bad UUID), the
 * batch is loaded again in one transaction with savepoints: the row named by the COPY error
 * context is taken out, or, without one, the batch is halved until the refused event is alone.
 * The refused events become generic_error bad rows; the rest loads.
 *
 * A batch's input position is committed only once its transaction is committed and its bad
 * rows are written, so a log source is read again from there after a crash: events are sent
 * again, never lost, and the unique key makes the second COMMIT a no-op.
 */
#ifndef PG_LOAD_H
#define PG_LOAD_H

#include <stddef.h>

#include "pg_conn.h"
#include "sinkout.h"

enum pg_input { PG_IN_ENRICHED, PG_IN_BAD };

struct pg_opts {
	struct pgconn_opts conn;
	struct sinkout_conf io;                /* --source, --bad, --spool, --dump, ... */
	enum pg_input      input;
	const char        *schema;             /* database schema: "atomic" */
	int                setup, setup_only;
	size_t             batch_rows, batch_bytes, max_tables;
	long               flush_ms;
	long               retry_base_ms, retry_max_ms;
	long               retry_deadline_s, term_timeout_s;
	long               stats_interval;
};

struct pgloader;
struct pgtables;

/*
 * Before reading: connect (waiting for the database with back-off, like a batch) and create
 * (--setup) or check the schema, the key table and its unique index. Returns 0, or an exit
 * status: EX_CONFIG when the table or its key is missing or cannot be created,
 * EX_UNAVAILABLE at --retry-deadline. A SIGTERM while waiting returns 0 with *stopped set.
 */
int pgload_prepare(const struct pg_opts *o, struct pgconn *c, int *stopped);

/* The loader for these options, connection, tables and streams (sinkout_open; c and t are
 * NULL with --dump). NULL when out of memory. */
struct pgloader *pgloader_new(const struct pg_opts *o, struct pgconn *c, struct pgtables *t,
    struct sinkout *io);
void pgloader_free(struct pgloader *l);
/* Run until the input ends, or SIGTERM/SIGINT and the batch in hand is settled. Returns an
 * exit status (sysexits.h). */
int pgloader_run(struct pgloader *l);
/* /metrics and /health (metricsd.h; md may be NULL): series in pg-sink(1), METRICS; unhealthy
 * when PostgreSQL has failed for health_threshold_s or more, or --bad/--spool stays blocked. */
struct metricsd;
struct buf;
void pgloader_set_metrics(struct pgloader *l, struct metricsd *md, long health_threshold_s);
void pgloader_metrics_render(struct buf *out, void *arg);   /* arg: the loader */
int  pgloader_health(struct buf *why, void *arg);
/* The peer's part alone (before the loader exists: --setup). */
void pgloader_metrics_peer(struct buf *out, const struct pgconn *c);
int  pgloader_health_peer(struct buf *why, const struct pgconn *c, long threshold_s);
/* The abort test pg_conn calls while it waits (the shutdown deadline). */
int pgloader_abort_cb(void *arg);

/* Full-jitter exponential back-off: a random wait in [0, min(cap, base * 2^(attempt-1))]. */
unsigned long pgload_backoff_ms(unsigned attempt, unsigned long base_ms, unsigned long cap_ms,
    unsigned long long rnd);

#endif
