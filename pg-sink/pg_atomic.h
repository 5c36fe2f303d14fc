/*
 * pg_atomic: the table atomic.events and the conversion of an enriched TSV line into its row.
 *
 * The table has the 128 atomic columns of the enriched event (enriched-event.md §3) with the
 * names, order and types of Snowplow's Postgres Loader 0.3.3 (storage/definitions.scala
 * atomicColumns), except that a VARCHAR is never shorter than what furrow-enrich lets through
 * (event.h max): the loader's page_url VARCHAR(4096) would refuse an URL enrich accepted up to
 * 10000 characters, so pg-sink makes it VARCHAR(10000); likewise user_fingerprint, ip_organization,
 * ip_domain, se_label, os_timezone and mkt_clickid (the comments in pg_atomic.c give the
 * loader's lengths). The three JSON columns (contexts, unstruct_event, derived_contexts) are
 * not columns: their entities go into tables of their own (pg_schema.h), linked by
 * root_id = event_id and root_tstamp = collector_tstamp.
 *
 * pg-sink adds what the loader does not have: a unique index on (event_id, collector_tstamp),
 * which makes a replayed event a no-op (INSERT ... ON CONFLICT DO NOTHING).
 *
 * The row is the TSV itself with the JSON columns left out, empty fields as NULL and
 * backslashes escaped: PostgreSQL's input functions read the TSV's timestamps, integers,
 * doubles, booleans (1/0) and UUID as they are, so the conversion costs one pass over the
 * line. Only what pg-sink needs itself is checked here: the column count, and the four
 * required columns, of which event_id and collector_tstamp form the key.
 */
#ifndef PG_ATOMIC_H
#define PG_ATOMIC_H

#include <stddef.h>

#include "buf.h"

#define PGATOMIC_NCOLS   128
#define PGATOMIC_KEY_MAX 80        /* event_id + ' ' + collector_tstamp, canonical */

struct pgatomic_col {
	int         tsv;           /* the enriched column (enum event_col) */
	const char *type;          /* SQL type */
	int         notnull;
};

extern const struct pgatomic_col pgatomic_cols[PGATOMIC_NCOLS];

struct pgatomic_event {
	const char *json[3];       /* contexts, derived_contexts, unstruct_event (in the line) */
	size_t      json_len[3];
	const char *event_id;      /* in the line, as written */
	size_t      event_id_len;
	const char *tstamp;        /* collector_tstamp, as written */
	size_t      tstamp_len;
	char        key[PGATOMIC_KEY_MAX];   /* lower-cased event_id ' ' Instant of the tstamp */
};

/* Index of the JSON columns in pgatomic_event.json. */
enum { PGATOMIC_CONTEXTS = 0, PGATOMIC_DERIVED = 1, PGATOMIC_UNSTRUCT = 2 };

/* CREATE TABLE IF NOT EXISTS <schema>.events (...) and its unique index, appended to out.
 * schema must already be a quoted identifier. */
int pgatomic_create_sql(struct buf *out, const char *qschema);
/* "app_id,platform,...,true_tstamp" */
int pgatomic_column_list(struct buf *out, const char *prefix);

/*
 * One enriched line (no '\n'; valid UTF-8) into its COPY row (with '\n'), appended to row.
 * Fills ev (pointers into line). Returns 0; -1 when the line is not an enriched event, with
 * the Analytics SDK's ParsingError JSON in err ({"type":"FieldNumberMismatch",...} and
 * friends, as es-sink writes it); -2 when row's cap is reached.
 */
int pgatomic_row(const char *line, size_t len, struct buf *row, struct pgatomic_event *ev,
    struct buf *err);

#endif
