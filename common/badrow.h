/*
 * badrow: Snowplow's self-describing bad-row envelope (enriched-event.md §14.1), shared by every
 * stage so that processor, key order and printing are the same everywhere:
 *   {"schema":"iglu:com.snowplowanalytics.snowplow.badrows/<type>/jsonschema/<v>",
 *    "data":{"processor":{"artifact":…,"version":…},"failure":{…},"payload":…}}
 */
#ifndef FURROW_BADROW_H
#define FURROW_BADROW_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define BADROW_SCHEMA_PREFIX "iglu:com.snowplowanalytics.snowplow.badrows/"
#define BADROW_SIZE_VIOLATION  BADROW_SCHEMA_PREFIX "size_violation/jsonschema/1-0-0"
#define BADROW_GENERIC_ERROR   BADROW_SCHEMA_PREFIX "generic_error/jsonschema/1-0-0"
#define BADROW_CPFV            BADROW_SCHEMA_PREFIX "collector_payload_format_violation/jsonschema/1-0-0"
#define BADROW_ADAPTER         BADROW_SCHEMA_PREFIX "adapter_failures/jsonschema/1-0-0"
#define BADROW_TRACKER_PROTO   BADROW_SCHEMA_PREFIX "tracker_protocol_violations/jsonschema/1-0-1"
#define BADROW_SCHEMA_VIOL     BADROW_SCHEMA_PREFIX "schema_violations/jsonschema/2-0-1"
#define BADROW_ENRICH_FAIL     BADROW_SCHEMA_PREFIX "enrichment_failures/jsonschema/2-0-1"

/* Bad-row types, for counting: BADROW_T_OTHER for a schema not listed above. */
enum badrow_type {
	BADROW_T_SIZE_VIOLATION, BADROW_T_GENERIC_ERROR, BADROW_T_CPFV, BADROW_T_ADAPTER,
	BADROW_T_TRACKER_PROTO, BADROW_T_SCHEMA_VIOL, BADROW_T_ENRICH_FAIL, BADROW_T_OTHER,
	BADROW_T_N
};
/* The type of a row's schema URI (NULL: other). */
enum badrow_type badrow_type_of(const char *schema);
/* Its name as in the schema URI ("schema_violations"; "other"). */
const char *badrow_type_name(enum badrow_type t);

/* Build the envelope. failure and payload are stolen (json_decref'd by the envelope). */
json_t *badrow_new(const char *schema, const char *artifact, json_t *failure, json_t *payload);
/* Append the compact JSON of row (jsonw: circe's escaping, keys in order) and a '\n' to out.
 * Returns 0 or -1. */
int badrow_write(const json_t *row, struct buf *out);
/* generic_error 1-0-0: failure {timestamp, errors:[error]}, payload = the bytes as a string. */
json_t *badrow_generic_error(const char *artifact, const char *payload, size_t len,
    const char *error);
/* size_violation 1-0-0. payload is cut to max_bytes / 10 characters by the caller's choice. */
json_t *badrow_size_violation(const char *artifact, long long max_bytes, long long actual_bytes,
    const char *expectation, const char *payload, size_t payload_len);

#endif
