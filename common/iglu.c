/*
 * iglu: the resolver (enriched-event.md §15).
 *
 * The resolver owns a list of repositories (the embedded --schemas directory first, then those
 * of Snowplow's resolver-config), an LRU cache of lookups keyed by "vendor/name/format/M-R-A",
 * and one reusable libcurl handle. A cache entry is either a found schema (its JSON, its
 * compiled form, or the schemaIssues that stop it from being used) or a failure (per-repository
 * errors, attempts and last attempt, the lookupHistory of §14.6). Entries expire after cacheTtl;
 * failures caused by a broken registry (RepoFailure) are retried earlier, after a back-off that
 * starts at 500 ms and doubles up to 60 s (§15.3). HTTP requests have short connect and total
 * timeouts so that a dead registry costs each lookup at most a few seconds, and the negative
 * cache makes it cost that only once per back-off period.
 *
 * A miss in a local folder (an embedded registry) is the exception to negative caching: the
 * folder is looked at again when the key is next asked for, at most every
 * IGLU_LOCAL_RECHECK_MS, because iglu-server publishes into such a folder while enrich runs and
 * a failed open(2) costs microseconds. The re-check keeps attempts and lastAttempt as they
 * were, so a bad row's lookupHistory reads as upstream's (one attempt per embedded registry).
 *
 * The key grammar is iglu_key.c, the cache iglu_cache.c, fetching iglu_fetch.c, the repositories
 * and the configuration file iglu_config.c; this file orders repositories, resolves, validates.
 */
#include "iglu_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonschema_meta.h"
#include "timefmt.h"

static int64_t
now_ms(struct iglu_resolver *r)
{
	return r->now_fn ? r->now_fn(r->now_arg) : timefmt_now_ms();
}

void
iglu_resolver_set_clock(struct iglu_resolver *r, int64_t (*fn)(void *), void *arg)
{
	r->now_fn = fn;
	r->now_arg = arg;
}

void
iglu_resolver_set_timeouts(struct iglu_resolver *r, long connect_ms, long total_ms)
{
	r->connect_ms = connect_ms;
	r->total_ms = total_ms;
}

static int
vendor_matches(const struct iglu_repo *p, const char *vendor)
{
	size_t i;

	for (i = 0; i < p->n_prefixes; i++)
		if (strncmp(vendor, p->prefixes[i], strlen(p->prefixes[i])) == 0)
			return 1;
	return 0;
}

/* §15.3 step 2: indices of the repositories in the order they are tried for vendor. */
static void
repo_order(const struct iglu_resolver *r, const char *vendor, size_t *idx)
{
	size_t i, j;

	for (i = 0; i < r->n_repos; i++)
		idx[i] = i;
	/* insertion sort: stable, and there are few repositories */
	for (i = 1; i < r->n_repos; i++) {
		size_t x = idx[i];
		const struct iglu_repo *a = &r->repos[x];

		for (j = i; j > 0; j--) {
			const struct iglu_repo *b = &r->repos[idx[j - 1]];
			int va = !vendor_matches(a, vendor), vb = !vendor_matches(b, vendor);

			if (vb < va || (vb == va && (b->class_priority < a->class_priority ||
			    (b->class_priority == a->class_priority && b->priority <= a->priority))))
				break;
			idx[j] = idx[j - 1];
		}
		idx[j] = x;
	}
}

size_t
iglu_resolver_order(const struct iglu_resolver *r, const char *vendor, const char **names,
    size_t max)
{
	size_t idx[64], i, n = r->n_repos < 64 ? r->n_repos : 64;

	repo_order(r, vendor, idx);
	for (i = 0; i < n && i < max; i++)
		names[i] = r->repos[idx[i]].name;
	return n;
}

static int64_t
backoff_ms(int attempts)
{
	int64_t d = IGLU_BACKOFF_START_MS;

	while (--attempts > 0 && d < IGLU_BACKOFF_MAX_MS)
		d *= 2;
	return d > IGLU_BACKOFF_MAX_MS ? IGLU_BACKOFF_MAX_MS : d;
}

/* 1 when a repository of a failed entry may be asked again now. */
static int
repo_due(const struct iglu_resolver *r, const struct iglu_entry *e, size_t i, int64_t now)
{
	const struct iglu_repo_state *st = &e->states[i];

	if (st->attempts == 0)
		return 1;
	if (r->repos[i].kind == IGLU_REPO_EMBEDDED)
		return st->last == IGLU_FETCH_NOT_FOUND &&
		    now - st->checked_ms >= IGLU_LOCAL_RECHECK_MS;
	if (st->last != IGLU_FETCH_REPO_FAILURE)
		return 0;
	return now >= st->last_ms + backoff_ms(st->attempts);
}

static json_t *
resolution_error(const struct iglu_resolver *r, const struct iglu_entry *e)
{
	json_t *hist = json_array();
	size_t i;
	char ts[TIMEFMT_BUFSZ];

	for (i = 0; e->states != NULL && i < r->n_repos; i++) {
		const struct iglu_repo_state *st = &e->states[i];

		if (st->attempts == 0)
			continue;
		timefmt_instant(st->last_ms, ts);
		json_array_append_new(hist, json_pack("{s:s, s:O, s:i, s:s}", "repository",
		    r->repos[i].name, "errors", st->errors, "attempts", st->attempts,
		    "lastAttempt", ts));
	}
	return json_pack("{s:s, s:o}", "error", "ResolutionError", "lookupHistory", hist);
}

static const struct jsonschema *ref_cb(const char *uri, void *arg);

/* A schema was found: check it is a usable self-describing schema and compile it. */
static void
entry_found(struct iglu_resolver *r, struct iglu_entry *e, json_t *schema,
    struct jsonschema *old, json_t *old_schema)
{
	char err[300];

	e->found = 1;
	e->schema = schema;
	if (old != NULL && old_schema != NULL && json_equal(old_schema, schema)) {
		e->compiled = old;   /* refreshed after cacheTtl, unchanged: keep the compiled form */
		return;
	}
	iglu_cache_retire(r, old);
	if (!jsonschema_check_self_describing(schema, &e->issues))
		return;
	e->compiled = jsonschema_compile(schema, ref_cb, r, err, sizeof(err));
	r->schema_gen++;
	if (e->compiled == NULL)
		e->issues = json_pack("[{s:s, s:s}]", "path", "$", "message", err);
}

static struct iglu_entry *
resolve(struct iglu_resolver *r, const struct iglu_key *k)
{
	char key[IGLU_URI_MAX];
	struct iglu_entry *e;
	struct jsonschema *old_compiled = NULL;
	json_t *old_schema = NULL;
	size_t idx[64], i, n;
	int64_t now = now_ms(r);
	int fresh = 0;

	iglu_cache_key(k, key);
	e = iglu_cache_find(r, key);
	if (e != NULL) {
		int expired = r->ttl_ms >= 0 && now - e->stored_ms >= r->ttl_ms;

		iglu_cache_touch(r, e);
		if (!expired && e->found) {
			r->stats.hits++;
			return e;
		}
		if (expired) {
			/* keep the compiled form in case the registry returns the same schema */
			old_compiled = e->compiled;
			old_schema = e->schema;
			e->compiled = NULL;
			e->schema = NULL;
			iglu_cache_entry_clear(r, e);
			fresh = 1;
		} else {
			for (i = 0; i < r->n_repos; i++)
				if (repo_due(r, e, i, now))
					break;
			if (i == r->n_repos) {
				r->stats.hits++;
				return e;   /* cached failure, nothing to retry yet */
			}
		}
	} else {
		if ((e = iglu_cache_add(r, key)) == NULL)
			return NULL;
		fresh = 1;
	}
	r->stats.misses++;
	if (fresh) {
		e->stored_ms = now;
		e->states = calloc(r->n_repos ? r->n_repos : 1, sizeof(*e->states));
		if (e->states == NULL) {
			iglu_cache_retire(r, old_compiled);
			json_decref(old_schema);
			iglu_cache_remove(r, e);
			return NULL;
		}
	}
	n = r->n_repos < 64 ? r->n_repos : 64;
	repo_order(r, k->vendor, idx);
	for (i = 0; i < n; i++) {
		struct iglu_repo *p = &r->repos[idx[i]];
		struct iglu_repo_state *st = &e->states[idx[i]];
		enum iglu_fetch_result f;
		json_t *schema = NULL, *err;
		char msg[1024];

		if (!repo_due(r, e, idx[i], now))
			continue;
		msg[0] = 0;
		f = p->kind == IGLU_REPO_EMBEDDED ?
		    iglu_fetch_embedded(r, p, k, &schema, msg, sizeof(msg)) :
		    iglu_fetch_http(r, p, k, &schema, msg, sizeof(msg));
		if (f == IGLU_FETCH_FOUND) {
			iglu_cache_states_free(r, e->states);
			e->states = NULL;
			e->stored_ms = now;
			entry_found(r, e, schema, old_compiled, old_schema);
			json_decref(old_schema);
			return e;
		}
		st->checked_ms = now;
		if (f == IGLU_FETCH_NOT_FOUND)
			r->stats.not_found++;
		else
			r->stats.registry_errors++;
		if (p->kind == IGLU_REPO_EMBEDDED && st->attempts > 0 && f == IGLU_FETCH_NOT_FOUND)
			continue;   /* a re-check of a local folder: still missing, history unchanged */
		st->attempts++;
		st->last_ms = now_ms(r);
		st->last = f;
		if (st->errors == NULL)
			st->errors = json_array();
		err = iglu_fetch_error(f, msg);
		{
			size_t j;

			for (j = 0; j < json_array_size(st->errors); j++)
				if (json_equal(json_array_get(st->errors, j), err))
					break;
			if (j == json_array_size(st->errors))
				json_array_append(st->errors, err);
		}
		json_decref(err);
	}
	iglu_cache_retire(r, old_compiled);
	json_decref(old_schema);
	return e;
}

const struct jsonschema *
iglu_resolver_lookup(struct iglu_resolver *r, const struct iglu_key *key, json_t **client_error)
{
	struct iglu_entry *e;

	if (client_error != NULL)
		*client_error = NULL;
	iglu_cache_collect(r, 0);
	e = resolve(r, key);
	if (e == NULL) {
		if (client_error != NULL)
			*client_error = json_pack("{s:s, s:[]}", "error", "ResolutionError",
			    "lookupHistory");
		return NULL;
	}
	if (e->found && e->compiled != NULL)
		return e->compiled;
	if (client_error != NULL)
		*client_error = e->found ?
		    json_pack("{s:s, s:O}", "error", "ValidationError", "schemaIssues",
		    e->issues ? e->issues : json_array()) :
		    resolution_error(r, e);
	return NULL;
}

const struct iglu_stats *
iglu_resolver_stats(const struct iglu_resolver *r)
{
	return &r->stats;
}

const json_t *
iglu_resolver_schema_json(struct iglu_resolver *r, const struct iglu_key *key)
{
	struct iglu_entry *e = resolve(r, key);

	return e != NULL && e->found ? e->schema : NULL;
}

static const struct jsonschema *
ref_cb(const char *uri, void *arg)
{
	struct iglu_resolver *r = arg;
	struct iglu_key k;
	const struct jsonschema *s;
	json_t *err = NULL;

	if (iglu_key_parse(uri, &k, NULL) < 0)
		return NULL;
	r->depth++;
	s = iglu_resolver_lookup(r, &k, &err);
	r->depth--;
	json_decref(err);
	return s;
}

static int
validate(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    const char *text, size_t len, json_t **client_error)
{
	const struct jsonschema *s;
	json_t *reports = NULL, *err = NULL;
	uint64_t gen;
	int rc;

	if (client_error != NULL)
		*client_error = NULL;
	s = iglu_resolver_lookup(r, key, &err);
	if (s == NULL) {
		if (client_error != NULL)
			*client_error = err;
		else
			json_decref(err);
		return -1;
	}
	if (text != NULL && iglu_vcache_hit(r, s, text, len))
		return 0;
	gen = r->schema_gen;
	r->depth++;
	rc = jsonschema_validate(s, data, client_error ? &reports : NULL);
	r->depth--;
	if (rc == 1) {
		if (text != NULL && gen == r->schema_gen)   /* no $ref changed under it */
			iglu_vcache_put(r, s, text, len);
		return 0;
	}
	if (client_error != NULL) {
		if (rc < 0)
			reports = json_pack("[{s:s, s:s, s:s, s:[]}]", "message",
			    "$: the instance could not be validated (nested too deeply)", "path", "$",
			    "keyword", "$ref", "targets");
		*client_error = json_pack("{s:s, s:o}", "error", "ValidationError", "dataReports",
		    reports ? reports : json_array());
	}
	return -1;
}

int
iglu_validate(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error)
{
	return validate(r, key, data, NULL, 0, client_error);
}

int
iglu_validate_text(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    const char *text, size_t len, json_t **client_error)
{
	return validate(r, key, data, text, len, client_error);
}

/* §15.6: the version named by the schema's "$supersededBy", when it is greater than key's. */
static int
superseded_by(const json_t *schema, const struct iglu_key *key, struct iglu_key *out)
{
	const json_t *v = json_object_get(schema, "$supersededBy");

	if (!json_is_string(v))
		return 0;
	*out = *key;
	if (iglu_schemaver_parse(json_string_value(v), json_string_length(v), &out->model,
	    &out->revision, &out->addition) < 0)
		return 0;
	if (out->model != key->model)
		return 0;   /* superseding stays within one model */
	if (out->revision < key->revision ||
	    (out->revision == key->revision && out->addition <= key->addition))
		return 0;
	return 1;
}

int
iglu_validate_superseding(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error, struct iglu_key *used)
{
	return iglu_validate_superseding_text(r, key, data, NULL, 0, client_error, used);
}

int
iglu_validate_superseding_text(struct iglu_resolver *r, const struct iglu_key *key,
    const json_t *data, const char *text, size_t len, json_t **client_error,
    struct iglu_key *used)
{
	struct iglu_key cur = *key, next;
	const json_t *schema;
	int hops, rc;
	char ver[40];

	for (hops = 0; hops < 5; hops++) {
		schema = iglu_resolver_schema_json(r, &cur);
		if (schema == NULL || !superseded_by(schema, &cur, &next))
			break;
		if (iglu_resolver_schema_json(r, &next) == NULL)
			break;   /* the superseding version cannot be fetched: keep this one */
		cur = next;
	}
	if (used != NULL)
		*used = cur;
	rc = validate(r, &cur, data, text, len, client_error);
	if (rc < 0 && client_error != NULL && *client_error != NULL &&
	    (cur.revision != key->revision || cur.addition != key->addition) &&
	    json_object_get(*client_error, "dataReports") != NULL) {
		snprintf(ver, sizeof(ver), "%d-%d-%d", cur.model, cur.revision, cur.addition);
		json_object_set_new(*client_error, "supersededBy", json_string(ver));
	}
	return rc;
}

struct iglu_resolver *
iglu_resolver_new(const char *config_path, const char *schemas_dir, char *err, size_t errlen)
{
	struct iglu_resolver *r = calloc(1, sizeof(*r));

	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cache_size = IGLU_DEFAULT_CACHE_SIZE;
	r->ttl_ms = -1;
	r->connect_ms = 2000;
	r->total_ms = 5000;
	r->n_buckets = 1024;
	r->buckets = calloc(r->n_buckets, sizeof(*r->buckets));
	buf_init(&r->body, IGLU_MAX_SCHEMA_BYTES + 1);
	if (r->buckets == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (schemas_dir != NULL && iglu_config_embedded(r, schemas_dir, err, errlen) < 0)
		goto fail;
	if (config_path != NULL) {
		if (iglu_config_load(r, config_path, err, errlen) < 0)
			goto fail;
		iglu_cache_clear(r);   /* the config lookup ran with the default cache settings */
	}
	return r;
fail:
	iglu_resolver_free(r);
	return NULL;
}

void
iglu_resolver_free(struct iglu_resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->buckets != NULL)
		iglu_cache_clear(r);
	iglu_cache_collect(r, 1);
	iglu_vcache_free(r);
	for (i = 0; i < r->n_repos; i++)
		iglu_config_repo_free(&r->repos[i]);
	free(r->repos);
	free(r->buckets);
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	buf_free(&r->body);
	free(r);
}
