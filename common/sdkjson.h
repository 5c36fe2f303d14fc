/*
 * sdkjson: one enriched TSV line into the JSON document Snowplow's Scala Analytics SDK 2.1.0
 * produces with Event.parse(line) and toJson(lossy = true) (sinks.md §1), which is what Snowplow
 * Mini's loader indexes (es-sink) and Micro's API returns (inspect). Also the JSON string escaper the sinks use.
 *
 * The document is written straight into a buffer. A valid line whose JSON columns jansson would
 * print back unchanged (compact, integers, short escapes) is written in one streaming pass;
 * any other line goes through the reference transform, which parses contexts, derived_contexts
 * and unstruct_event with jansson and reports every column error.
 */
#ifndef FURROW_SDKJSON_H
#define FURROW_SDKJSON_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define SDKJSON_EVENT_ID_LEN 36

struct sdkjson_result {
	char      event_id[SDKJSON_EVENT_ID_LEN + 1];  /* lower-cased */
	int       has_shard;       /* the shard column was non-null */
	struct tm shard_tm;        /* its UTC time, for --shard-date-format */
};

/*
 * Transform one line (without its '\n'; one trailing '\r' is stripped here). On success appends
 * the compact JSON document to doc and returns 0. On failure returns -1 and appends to err the
 * compact JSON of the SDK ParsingError ({"type":"NotTSV"}, {"type":"FieldNumberMismatch",...} or
 * {"type":"RowDecodingError","errors":[...]}); doc is then left as it was. shard_col is the
 * column whose timestamp fills res->shard_tm, or -1.
 */
int sdkjson_enriched(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res, struct buf *err);

/* The same transform without the streaming fast path: every line through jansson trees. The
 * unit tests and fuzz_sdkjson check that sdkjson_enriched writes exactly these bytes. */
int sdkjson_enriched_reference(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res, struct buf *err);

struct iglu_key;

/* The document's key for an entity: "<prefix><vendor'>_<name'>_<model>" (sinks.md §1.4), with
 * prefix "contexts_" or "unstruct_event_" (inspect lists the columns with it). out: at least
 * 1200 bytes for the longest key. */
void sdkjson_field_name(const char *prefix, const struct iglu_key *k, char *out, size_t outlen);

/* Parse an SDK timestamp (sinks.md §1.3): ' ' → 'T', 'Z' appended, then
 * YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z. Writes Java Instant.toString into iso (>= 40 bytes) and the
 * broken-down time into tm (may be NULL). Returns 0 or -1. */
int sdkjson_timestamp(const char *s, size_t n, char *iso, struct tm *tm);

/* A double as the SDK's JSON prints it: Java's Double.toString ("40.0", "1.0E7"), the way
 * circe writes a JsonDouble. out >= JNUM_BUFSZ (32) bytes. */
void sdkjson_double(double v, char *out);

#endif
