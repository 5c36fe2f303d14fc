/*
 * pg_badrows: the bad-rows table (pg-sink --input bad) and a bad row's conversion into its row.
 *
 * Snowplow's Postgres Loader has no such table (its JSON purpose shreds self-describing JSON
 * into per-schema tables); furrow keeps one table with the bad row's envelope in columns and
 * its two variable parts as JSONB, so that one SQL query sees every kind of failure:
 *
 *   row_id           UUID NOT NULL, unique: the first 128 bits of the SHA-256 of the line, so a
 *                    replayed line is skipped (ON CONFLICT DO NOTHING)
 *   schema           the row's "schema" URI as written, and its parts:
 *   schema_vendor, schema_name, schema_format, schema_version
 *   failure_tstamp   data.failure.timestamp (UTC), when it is an RFC 3339 date-time
 *   processor_artifact, processor_version   data.processor
 *   failure          JSONB: data.failure
 *   payload          JSONB: data.payload; the whole line when it is not a self-describing
 *                    JSON with "schema" and "data"
 *   load_tstamp      when the row was loaded (DEFAULT now(), UTC)
 */
#ifndef PG_BADROWS_H
#define PG_BADROWS_H

#include <stddef.h>

#include "buf.h"

#define PGBAD_TABLE   "bad_rows"
#define PGBAD_KEY_LEN 36
/* The columns pg-sink writes, in COPY order. */
#define PGBAD_COLUMNS "row_id,schema,schema_vendor,schema_name,schema_format,schema_version," \
    "failure_tstamp,processor_artifact,processor_version,failure,payload"

/* CREATE TABLE IF NOT EXISTS <qschema>.bad_rows (...) and its unique index. */
int pgbad_create_sql(struct buf *out, const char *qschema);

/*
 * One bad-row line (no '\n') into its COPY row (with '\n'), appended to row; key receives the
 * row_id. Returns 0; -1 when the line is not JSON (err says why); -2 when row's cap is reached.
 */
int pgbad_row(const char *line, size_t len, struct buf *row, char key[PGBAD_KEY_LEN + 1],
    char *err, size_t errlen);

#endif
