/*
 * iglu: schema keys, criteria and the resolver (enriched-event.md §15).
 *
 * iglu_key_parse is the one parser of Iglu URIs: INVALID_IGLUURI for a wrong shape,
 * INVALID_SCHEMAVER for a bad version. The resolver reads Snowplow's resolver-config 1-0-0 …
 * 1-0-3, always adds the embedded --schemas directory as a priority-0 embedded registry, orders
 * repositories as §15.3 says, fetches HTTP registries with libcurl (timeouts, apikey header),
 * caches schemas and failures (cacheSize, cacheTtl), retries failing HTTP registries with
 * back-off, and keeps compiled schemas so nothing is parsed twice. Errors come back as Iglu
 * ClientError JSON (§14.6): ResolutionError with lookupHistory, or ValidationError with
 * dataReports / schemaIssues.
 */
#ifndef FURROW_IGLU_H
#define FURROW_IGLU_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonschema.h"

/* The longest vendor, name or format furrow accepts (IGLU-CORE has no bound), and a buffer
 * size that holds any key formatted as a URI. */
#define IGLU_PART_MAX 255
#define IGLU_URI_MAX  (5 + 3 * (IGLU_PART_MAX + 1) + 3 * 11)

/* A schema key "iglu:vendor/name/format/model-revision-addition" (enriched-event.md §15.1). */
struct iglu_key {
	char vendor[IGLU_PART_MAX + 1];
	char name[IGLU_PART_MAX + 1];
	char format[IGLU_PART_MAX + 1];
	int  model, revision, addition;
};

/* A schema criterion: a key whose model, revision or addition may be '*' (-1 here). */
struct iglu_criterion {
	char vendor[IGLU_PART_MAX + 1];
	char name[IGLU_PART_MAX + 1];
	char format[IGLU_PART_MAX + 1];
	int  model, revision, addition;
};

/* The one parser of Iglu's grammar (see iglu.c). Returns 0, or -1 with *code (may be NULL)
 * set to "INVALID_IGLUURI" for a wrong shape or "INVALID_SCHEMAVER" for a bad version. The
 * n form takes a length (the URI may come from a JSON string holding a NUL). */
int iglu_key_parse(const char *uri, struct iglu_key *key, const char **code);
int iglu_key_parsen(const char *uri, size_t len, struct iglu_key *key, const char **code);
/* A SchemaVer "M-R-A" at s[0..n): 0 or -1. */
int iglu_schemaver_parse(const char *s, size_t n, int *model, int *revision, int *addition);
/* 1 when a key built field by field follows the grammar. */
int iglu_key_valid(const struct iglu_key *key);
/* 1 unless the vendor is made only of dots: such a vendor is a "." or ".." segment in every
 * registry URL and file path, so it names no schema. The resolver never fetches it (an
 * HTTP client would normalise <uri>/schemas/../x/... to a document outside /schemas/), and
 * s3-sink never makes it a key segment. */
int iglu_key_path_safe(const struct iglu_key *key);
/* "iglu:v/n/f/M-R-A" into out (IGLU_URI_MAX bytes hold any key); returns out. */
char *iglu_key_format(const struct iglu_key *key, char *out, size_t outlen);
/* "iglu:v/n/f/M-R-A" where M, R, A may be '*' (IGLU-CORE SchemaCriterion.parse): 0 or -1. */
int iglu_criterion_parse(const char *s, struct iglu_criterion *c);
/* 1 when key matches the criterion. */
int iglu_criterion_matches(const struct iglu_criterion *c, const struct iglu_key *key);
/* Both at once, for a criterion used once. */
int iglu_key_matches(const struct iglu_key *key, const char *criterion);

struct iglu_resolver;

/* config_path may be NULL (embedded registry only: cacheSize 500, no TTL). schemas_dir is the
 * embedded registry root (the folder that contains "schemas/", or "schemas/" itself). */
struct iglu_resolver *iglu_resolver_new(const char *config_path, const char *schemas_dir,
    char *err, size_t errlen);
void iglu_resolver_free(struct iglu_resolver *r);

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
