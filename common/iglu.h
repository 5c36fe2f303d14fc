/*
 * iglu: the Iglu resolver (enriched-event.md §15); the schema keys it takes are iglu_key.h.
 *
 * The resolver reads Snowplow's resolver-config 1-0-0 … 1-0-3, always adds the embedded
 * --schemas directory as a priority-0 embedded registry, orders repositories as §15.3 says,
 * fetches HTTP registries with libcurl (timeouts, apikey header), caches schemas and failures
 * (cacheSize, cacheTtl), retries failing HTTP registries with back-off, and keeps compiled
 * schemas so nothing is parsed twice. Errors come back as Iglu ClientError JSON (§14.6):
 * ResolutionError with lookupHistory, or ValidationError with dataReports / schemaIssues.
 */
#ifndef FURROW_IGLU_H
#define FURROW_IGLU_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "iglu_key.h"
#include "jsonschema.h"

struct iglu_resolver;

/* config_path may be NULL (embedded registry only: cacheSize 500, no TTL). schemas_dir is the
 * embedded registry root (the folder that contains "schemas/", or "schemas/" itself). */
struct iglu_resolver *iglu_resolver_new(const char *config_path, const char *schemas_dir,
    char *err, size_t errlen);
void iglu_resolver_free(struct iglu_resolver *r);

/* Lookups and fetches since the resolver was made (for a stage's /metrics). */
struct iglu_stats {
	uint64_t hits;             /* answered from the cache (found, or a failure not yet due) */
	uint64_t misses;           /* went to the repositories */
	uint64_t not_found;        /* a repository answered that it does not have the schema */
	uint64_t registry_errors;  /* a repository failed (unreachable, 5xx, bad answer) */
};
const struct iglu_stats *iglu_resolver_stats(const struct iglu_resolver *r);

/* The compiled schema for key, or NULL with *client_error set (a new ResolutionError object,
 * caller owns it) when no repository has it. The schema stays valid while it is cached, and at
 * least until 32 further cache evictions after that; never free it. */
const struct jsonschema *iglu_resolver_lookup(struct iglu_resolver *r,
    const struct iglu_key *key, json_t **client_error);

/* Validate data against the schema for key. Returns 0 when valid; -1 with *client_error set to
 * a new ClientError object (ResolutionError or ValidationError) otherwise. */
int iglu_validate(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error);

/* iglu_validate with §15.6 superseding: when the schema for key carries "$supersededBy":"M-R-A"
 * (same model, greater version) and that schema resolves, data is validated against it
 * instead (following at most 5 hops). *used receives the key actually used; when it differs
 * from key, enrich rewrites the entity URI and adds a validation_info context. A data
 * ValidationError then carries "supersededBy":"M-R-A". */
int iglu_validate_superseding(struct iglu_resolver *r, const struct iglu_key *key,
    const json_t *data, json_t **client_error, struct iglu_key *used);
/* iglu_validate and iglu_validate_superseding for data parsed from exactly the bytes
 * text[0..len): data is the whole parse of text, or the part of it at a place the bytes fix, so
 * that the same bytes always give the same data. A success is remembered by those bytes and the
 * compiled schema (bounded; a hit compares the bytes, never only a hash; forgotten whenever a
 * schema changes or leaves the resolver's cache), and the same text is then not validated again.
 * Schema resolution (cacheTtl, superseding) runs as usual on every call. text may be NULL: no
 * remembering. */
int iglu_validate_text(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    const char *text, size_t len, json_t **client_error);
int iglu_validate_superseding_text(struct iglu_resolver *r, const struct iglu_key *key,
    const json_t *data, const char *text, size_t len, json_t **client_error,
    struct iglu_key *used);
/* The schema document for key as fetched (borrowed), or NULL: for callers that need keywords
 * such as "$supersededBy". */
const json_t *iglu_resolver_schema_json(struct iglu_resolver *r, const struct iglu_key *key);
/* libcurl's connect and total timeouts for HTTP registries, in ms (defaults 2000 and 5000). */
void iglu_resolver_set_timeouts(struct iglu_resolver *r, long connect_ms, long total_ms);
/* Replace the wall clock (ms since the epoch) used for cacheTtl, back-off and lastAttempt; for
 * tests. */
void iglu_resolver_set_clock(struct iglu_resolver *r, int64_t (*now_ms)(void *arg), void *arg);
/* The names of the repositories in the order a key of this vendor tries them (§15.3), at most
 * max of them in names; returns how many repositories there are. */
size_t iglu_resolver_order(const struct iglu_resolver *r, const char *vendor, const char **names,
    size_t max);

#endif
