/*
 * enr: what the configurable enrichments share (enrichments.h is the outside contract). Each
 * enrichment is one module (enr_<name>.c) that exports a `struct enr_module`: the Iglu name
 * and model it accepts, the stage and rank it runs at (upstream EnrichmentManager's order),
 * and load/apply/free. The helpers here are the small pieces several modules need: TSV-safe
 * column values, query-string splitting, URL decoding, hex digests, asset files named by
 * `uri` + `database` (file: or http(s):, fetched once with libcurl and cached).
 */
#ifndef FURROW_ENR_H
#define FURROW_ENR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich_event.h"
#include "enrichments.h"

/* What a module's load function gets besides its parameters. */
struct enr_ctx {
	const char *conf_path;   /* the configuration file (for messages) */
	const char *conf_dir;    /* its directory: relative file: URIs are resolved against it */
	const char *schema_uri;  /* "iglu:vendor/name/jsonschema/M-R-A" of the configuration */
	const json_t *data;      /* the configuration's "data" object (whole) */
};

struct enr_module {
	const char        *vendor;
	const char        *name;
	int                model;      /* the SchemaVer model this module supports */
	enum enrich_stage  stage;
	int                rank;       /* order inside the stage, as upstream runs them */
	const char        *identifier; /* enrichment_failures "identifier" */
	/* Build the state from the configuration; NULL with err filled on failure. */
	void *(*load)(const struct enr_ctx *ctx, char *err, size_t errlen);
	/* Amend ev. 0, -1 after appending enrichment_failures messages to failures, or ENR_DROP
	 * when the event is to be discarded (the JavaScript enrichment's event.drop()). */
	int   (*apply)(void *state, struct enrich_event *ev, json_t *failures);
	void  (*free)(void *state);
};

#define ENR_DROP 1

/* The PII enrichment's state (enr_pii.load) has emitEvent on. */
int enr_pii_emits_event(const void *state);

extern const struct enr_module enr_anon_ip, enr_campaign, enr_referer, enr_ua_parser,
    enr_ip_lookups, enr_fingerprint, enr_cookie, enr_header, enr_pii, enr_iab,
    enr_javascript, enr_api_request, enr_sql_query, enr_currency;

/* Set a column to the TSV-safe form of s[0..len) (enriched-event.md §4: TAB becomes four
 * spaces, U+0000-U+001F and U+007F are dropped; an empty result clears the column). */
int enr_set_tsv_safe(struct enrich_event *ev, int col, const char *s, size_t len);

/* Percent-decode s[0..len) into a new string ('+' becomes a space when plus_space); invalid
 * escapes are kept literally, invalid UTF-8 becomes U+FFFD. Returns NULL on allocation failure. */
char *enr_url_decode(const char *s, size_t len, int plus_space);

/* One query-string parameter after splitting and decoding. value is "" without '='. */
struct enr_qparam {
	char *name;
	char *value;
};
/* Split a raw query on seps (e.g. "&" or "&;"), decode names and values. Returns the count
 * (0 for an empty query) or -1; *out must be freed with enr_query_free. */
long enr_query_parse(const char *query, const char *seps, int trim, struct enr_qparam **out);
void enr_query_free(struct enr_qparam *p, long n);

/* Lower-case hex of a digest ("MD5", "SHA1", "SHA256", "SHA384", "SHA512", "MD2"; also
 * "SHA-1" style names). Returns the digest length in hex chars, or -1 for an unknown name.
 * out needs 129 bytes. */
int enr_hex_digest(const char *algo, const void *data, size_t len, char out[129]);
int enr_digest_supported(const char *algo);

/* Resolve `uri` + `database` to a readable local file: file: URIs (absolute, or relative
 * to the configuration's directory), http(s) URLs downloaded once into the cache directory
 * ($FURROW_CACHE_DIR, else $XDG_CACHE_HOME/furrow, else $HOME/.cache/furrow, else /tmp).
 * Writes the path into out; returns 0 or -1 with err filled. */
int enr_asset_path(const struct enr_ctx *ctx, const char *uri, const char *database,
    char *out, size_t outlen, char *err, size_t errlen);

/* Read a whole file (bounded by max bytes) into a new NUL-terminated buffer. */
char *enr_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* A failure message for enrichment_failures: {"enrichment":{schemaKey,identifier},"message":m}
 * (m stolen). */
int enr_add_failure(json_t *failures, const char *schema_uri, const char *identifier, json_t *m);

/* The headers of the collector payload, as an array of strings (NULL-safe helpers). */
size_t enr_n_headers(const struct enrich_event *ev);
const char *enr_header_at(const struct enrich_event *ev, size_t i, size_t *len);


/*
 * The lookup cache of the API request and SQL query enrichments (upstream's CachingEvaluator):
 * at most size keys, least recently used first out (size 0: nothing is kept); a success is
 * fresh for ttl_s seconds, an error for ttl_s / 10, and a failing lookup answers with the last
 * success stored under its key when there is one.
 */
struct enr_cache;
struct enr_cache *enr_cache_new(long size, long ttl_s);
void enr_cache_free(struct enr_cache *c);
/* The caches' clock in seconds: the monotonic one (timefmt_mono_ms), so that a TTL does not
 * jump with the wall clock. */
int64_t enr_cache_now_s(void);
/* 1 when key holds a fresh outcome at now_s: *value (a new reference) or *error (valid until
 * the next call); 0 when absent or stale, to be looked up again and stored with
 * enr_cache_put. */
int enr_cache_get(struct enr_cache *c, const char *key, int64_t now_s, json_t **value,
    const char **error);
/* Store the outcome of a lookup: value (stolen) on success, else the error message. Returns
 * the answer (a new reference: value, or the last success kept under key), or NULL with
 * *out_error (valid until the next call). */
json_t *enr_cache_put(struct enr_cache *c, const char *key, int64_t now_s, json_t *value,
    const char *error, const char **out_error);

/* String helpers on configuration JSON. */
const char *enr_json_str(const json_t *obj, const char *key);

/* Internals exposed for the unit tests (tests/unit/test_enr_*.c). */
/* anon_ip: the masked form of ip into out; 0, or 1 when ip stays as it is. */
int enr_anon_ip_mask(const char *ip, int octets, int segments, struct buf *out);
/* event_fingerprint: the hex digest of the parameters; 0 or -1. */
int enr_fingerprint_compute(const char *algo, char *const *exclude, size_t n_exclude,
    const struct raw_param *params, size_t n_params, char out[129]);
/* referer_parser: classify a referrer with a loaded state; 0 when classified (medium set,
 * source/term maybe), -1 when it is not a web URI. term is malloc'ed or NULL. */
int enr_referer_classify(void *state, const char *scheme, const char *host, const char *path,
    const char *query, const char *page_host, const char **medium, const char **source,
    char **term);
/* sql_query: JDBC's ? placeholders as $1..$n (?? is a literal ?); the count, or -1. */
int enr_sql_convert_placeholders(const char *sql, struct buf *out);
/* iab: the check itself; 0, or -1 with error filled (bad primary-impact flag). */
int enr_iab_check(void *state, const char *useragent, const char *ip, int64_t at_ms,
    int *spider, const char **category, const char **reason, const char **impact,
    char *error, size_t errlen);

#endif
