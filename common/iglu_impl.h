/*
 * iglu_impl: the resolver's insides, shared by iglu.c (lookup and validation), iglu_cache.c,
 * iglu_fetch.c and iglu_config.c. Nothing outside those files includes this.
 *
 * The resolver owns a list of repositories (the embedded --schemas directory first, then those
 * of Snowplow's resolver-config), an LRU cache of lookups keyed by "vendor/name/format/M-R-A",
 * and one reusable libcurl handle. A cache entry is either a found schema (its JSON, its
 * compiled form, or the schemaIssues that stop it from being used) or a failure (per-repository
 * errors, attempts and last attempt: the lookupHistory of §14.6).
 */
#ifndef FURROW_IGLU_IMPL_H
#define FURROW_IGLU_IMPL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "iglu.h"

#define IGLU_DEFAULT_CACHE_SIZE   500
#define IGLU_MAX_SCHEMA_BYTES     (4u << 20)
#define IGLU_RETIRED_MAX          32
#define IGLU_BACKOFF_START_MS     500
#define IGLU_BACKOFF_MAX_MS       60000
#define IGLU_LOCAL_RECHECK_MS     200    /* a miss in a local folder is looked at again after */
#define IGLU_EMBEDDED_NAME        "Iglu Client Embedded"
#define IGLU_CONFIG_CRITERION     "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-*"

enum iglu_repo_kind { IGLU_REPO_EMBEDDED, IGLU_REPO_HTTP };
enum iglu_fetch_result {
	IGLU_FETCH_FOUND, IGLU_FETCH_NOT_FOUND, IGLU_FETCH_CLIENT_FAILURE, IGLU_FETCH_REPO_FAILURE
};

struct iglu_repo {
	char                *name;
	double               priority;
	char               **prefixes;
	size_t               n_prefixes;
	enum iglu_repo_kind  kind;
	int                  class_priority;   /* §15.3: embedded 2, HTTP 100 */
	char                *path;             /* embedded: the folder that holds vendor folders */
	char                *uri;              /* HTTP: without trailing slash */
	char                *apikey;
};

/* What one repository said about one key. */
struct iglu_repo_state {
	json_t  *errors;        /* array of RegistryError objects, deduplicated */
	int      attempts;
	int64_t  last_ms;
	int64_t  checked_ms;    /* embedded: when the folder was last looked at */
	enum iglu_fetch_result last;
};

struct iglu_entry {
	char                   *key;          /* "vendor/name/format/M-R-A" */
	int                     found;
	json_t                 *schema;
	struct jsonschema      *compiled;
	json_t                 *issues;       /* schemaIssues when the schema cannot be used */
	struct iglu_repo_state *states;       /* one per repository, failures only */
	int64_t                 stored_ms;
	struct iglu_entry      *prev, *next;  /* LRU, most recent first */
	struct iglu_entry      *hnext;
};

struct iglu_retired {
	struct jsonschema   *compiled;
	struct iglu_retired *next;
};

struct iglu_resolver {
	struct iglu_repo    *repos;
	size_t               n_repos;
	size_t               cache_size;
	int64_t              ttl_ms;        /* < 0: no expiry */
	struct iglu_entry  **buckets;
	size_t               n_buckets, n_entries;
	struct iglu_entry   *lru_head, *lru_tail;
	struct iglu_retired *retired;
	size_t               n_retired;
	int                  depth;         /* nested lookups ($ref during a validation) */
	CURL                *curl;
	long                 connect_ms, total_ms;
	int64_t            (*now_fn)(void *);
	void                *now_arg;
	struct buf           body;
	struct iglu_stats    stats;
	uint64_t             schema_gen;    /* moves whenever a compiled schema changes or leaves */
	struct iglu_vcache  *vcache;        /* remembered validations (iglu_vcache.c), or NULL */
};

/* iglu_cache.c */
struct iglu_entry *iglu_cache_find(struct iglu_resolver *r, const char *key);
/* A new empty entry for key, evicting the least recently used beyond cacheSize; NULL when out
 * of memory. */
struct iglu_entry *iglu_cache_add(struct iglu_resolver *r, const char *key);
void iglu_cache_remove(struct iglu_resolver *r, struct iglu_entry *e);
void iglu_cache_clear(struct iglu_resolver *r);
/* Make e the most recently used. */
void iglu_cache_touch(struct iglu_resolver *r, struct iglu_entry *e);
/* Drop the entry's content (schema, failure history), keeping key and links. */
void iglu_cache_entry_clear(struct iglu_resolver *r, struct iglu_entry *e);
void iglu_cache_states_free(struct iglu_resolver *r, struct iglu_repo_state *st);
/* Put a compiled schema that callers may still hold on the retired list; free the list when
 * it is long and no lookup is in progress (all: whatever the length, at the end). */
void iglu_cache_retire(struct iglu_resolver *r, struct jsonschema *s);
void iglu_cache_collect(struct iglu_resolver *r, int all);
/* The cache key "vendor/name/format/M-R-A" into out (IGLU_URI_MAX bytes). */
void iglu_cache_key(const struct iglu_key *k, char *out);

/* iglu_vcache.c: whether text (the instance's exact bytes) was found valid against s since
 * schema_gen last moved; remember that it is; free the table. */
int iglu_vcache_hit(struct iglu_resolver *r, const struct jsonschema *s, const char *text,
    size_t len);
void iglu_vcache_put(struct iglu_resolver *r, const struct jsonschema *s, const char *text,
    size_t len);
void iglu_vcache_free(struct iglu_resolver *r);
/* iglu_fetch.c: the schema for k from one repository into *out; msg says why it failed. */
enum iglu_fetch_result iglu_fetch_embedded(struct iglu_resolver *r, const struct iglu_repo *p,
    const struct iglu_key *k, json_t **out, char *msg, size_t msglen);
enum iglu_fetch_result iglu_fetch_http(struct iglu_resolver *r, const struct iglu_repo *p,
    const struct iglu_key *k, json_t **out, char *msg, size_t msglen);
/* The RegistryError object of a failed fetch. */
json_t *iglu_fetch_error(enum iglu_fetch_result f, const char *msg);

/* iglu_config.c: 0, or -1 with err filled. */
int iglu_config_embedded(struct iglu_resolver *r, const char *dir, char *err, size_t errlen);
int iglu_config_load(struct iglu_resolver *r, const char *path, char *err, size_t errlen);
void iglu_config_repo_free(struct iglu_repo *p);

#endif
