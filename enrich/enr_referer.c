/*
 * enr_referer: referer_parser (iglu:com.snowplowanalytics.snowplow/referer_parser/2-0-*).
 * Classifies page_referrer into refr_medium / refr_source / refr_term as Snowplow's
 * referer-parser library does (enriched-event.md §6.4):
 *  - only http, https and android-app referrers with a host are classified;
 *  - the referrer host equal to page_urlhost, or one of internalDomains: "internal";
 *  - otherwise the database is searched for host+path, trying the full path, its first
 *    segment and no path, each with the host and then with leading labels dropped
 *    (www.google.co.uk, google.co.uk, co.uk, uk); no entry: "unknown";
 *  - a search referrer's term is the first query parameter (in query order) named by the
 *    entry's "parameters".
 * The database is Snowplow's referers JSON ({medium:{source:{domains,parameters}}}), read
 * from `uri` + `database` (file: or http(s):) at startup; inline "referrers" in the
 * configuration (2-0-1) are added to it and win over it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "fnv.h"

#define REFERER_DB_MAX ((size_t)64 << 20)

static const char *const referer_media[] = {
	"unknown", "search", "internal", "social", "email", "paid", "chatbot",
};
#define N_MEDIA (sizeof(referer_media) / sizeof(referer_media[0]))

struct referer_source {
	int     medium;        /* index into referer_media */
	char   *name;
	char  **params;
	size_t  n_params;
};

struct referer_slot {
	char   *domain;        /* NULL: empty slot */
	size_t  source;        /* index into sources */
};

struct referer {
	struct referer_source *sources;
	size_t                 n_sources;
	struct referer_slot   *slots;
	size_t                 cap;      /* power of two */
	size_t                 used;
	char                 **internal;
	size_t                 n_internal;
};

static void
referer_free(void *state)
{
	struct referer *r = state;
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_sources; i++) {
		free(r->sources[i].name);
		for (j = 0; j < r->sources[i].n_params; j++)
			free(r->sources[i].params[j]);
		free(r->sources[i].params);
	}
	free(r->sources);
	for (i = 0; i < r->cap; i++)
		free(r->slots[i].domain);
	free(r->slots);
	for (i = 0; i < r->n_internal; i++)
		free(r->internal[i]);
	free(r->internal);
	free(r);
}

static int
slots_grow(struct referer *r)
{
	size_t ncap = r->cap ? r->cap * 2 : 1024, i;
	struct referer_slot *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (i = 0; i < r->cap; i++) {
		size_t k;
		if (r->slots[i].domain == NULL)
			continue;
		k = fnv_bytes(FNV_OFFSET, r->slots[i].domain, strlen(r->slots[i].domain)) & (ncap - 1);
		while (ns[k].domain)
			k = (k + 1) & (ncap - 1);
		ns[k] = r->slots[i];
	}
	free(r->slots);
	r->slots = ns;
	r->cap = ncap;
	return 0;
}

/* Map domain to source; a later entry replaces an earlier one, as a Scala Map does. */
static int
domain_put(struct referer *r, const char *domain, size_t source)
{
	size_t k;

	if ((r->used + 1) * 2 > r->cap && slots_grow(r) < 0)
		return -1;
	k = fnv_bytes(FNV_OFFSET, domain, strlen(domain)) & (r->cap - 1);
	while (r->slots[k].domain) {
		if (!strcmp(r->slots[k].domain, domain)) {
			r->slots[k].source = source;
			return 0;
		}
		k = (k + 1) & (r->cap - 1);
	}
	if ((r->slots[k].domain = strdup(domain)) == NULL)
		return -1;
	r->slots[k].source = source;
	r->used++;
	return 0;
}

static const struct referer_source *
domain_get(const struct referer *r, const char *s, size_t len)
{
	size_t k;

	if (r->cap == 0)
		return NULL;
	k = fnv_bytes(FNV_OFFSET, s, len) & (r->cap - 1);
	while (r->slots[k].domain) {
		if (strlen(r->slots[k].domain) == len && !memcmp(r->slots[k].domain, s, len))
			return &r->sources[r->slots[k].source];
		k = (k + 1) & (r->cap - 1);
	}
	return NULL;
}

/* Add a referers JSON document (or the configuration's "referrers" object). */
static int
referer_add_json(struct referer *r, const json_t *doc, char *err, size_t errlen)
{
	const char *mk, *sk;
	json_t *sources, *entry;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "Referers json must be an object");
		return -1;
	}
	json_object_foreach((json_t *)doc, mk, sources) {
		size_t m;
		for (m = 0; m < N_MEDIA && strcmp(referer_media[m], mk); m++)
			;
		if (m == N_MEDIA) {
			snprintf(err, errlen, "Unrecognized medium: '%s'", mk);
			return -1;
		}
		if (!json_is_object(sources)) {
			snprintf(err, errlen, "Medium '%s' not an object", mk);
			return -1;
		}
		json_object_foreach(sources, sk, entry) {
			json_t *domains = json_object_get(entry, "domains");
			json_t *params = json_object_get(entry, "parameters"), *v;
			struct referer_source *ns, *src;
			size_t i;

			if (!json_is_array(domains) || (params && !json_is_null(params) &&
			        !json_is_array(params))) {
				snprintf(err, errlen, "%s/%s: \"domains\" (array) and optional "
				    "\"parameters\" (array) expected", mk, sk);
				return -1;
			}
			ns = realloc(r->sources, (r->n_sources + 1) * sizeof(*ns));
			if (ns == NULL)
				goto oom;
			r->sources = ns;
			src = &ns[r->n_sources++];
			memset(src, 0, sizeof(*src));
			src->medium = (int)m;
			if ((src->name = strdup(sk)) == NULL ||
			    (src->params = calloc(json_array_size(params) + 1, sizeof(char *))) == NULL)
				goto oom;
			json_array_foreach(params, i, v) {
				if (!json_is_string(v)) {
					snprintf(err, errlen, "%s/%s: parameters must be strings", mk, sk);
					return -1;
				}
				src->params[src->n_params++] = strdup(json_string_value(v));
			}
			json_array_foreach(domains, i, v) {
				if (!json_is_string(v)) {
					snprintf(err, errlen, "%s/%s: domains must be strings", mk, sk);
					return -1;
				}
				if (domain_put(r, json_string_value(v), r->n_sources - 1) < 0)
					goto oom;
			}
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void *
referer_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const char *uri = enr_json_str(p, "uri"), *db = enr_json_str(p, "database");
	json_t *internal = json_object_get(p, "internalDomains"), *custom, *doc, *v;
	char path[4096], why[512];
	struct referer *r;
	json_error_t jerr;
	size_t i;

	if (uri == NULL || db == NULL || !json_is_array(internal)) {
		snprintf(err, errlen, "parameters: \"uri\", \"database\" (strings) and "
		    "\"internalDomains\" (array) are required");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->internal = calloc(json_array_size(internal) + 1, sizeof(char *))) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach(internal, i, v) {
		const char *s = json_string_value(v);
		size_t l;
		if (s == NULL) {
			snprintf(err, errlen, "parameters.internalDomains[%zu]: a string is required", i);
			goto fail;
		}
		/* upstream trims the configured domains (String.trim) */
		while (*s && (unsigned char)*s <= 0x20)
			s++;
		l = strlen(s);
		while (l && (unsigned char)s[l - 1] <= 0x20)
			l--;
		r->internal[r->n_internal++] = strndup(s, l);
	}
	if (enr_asset_path(ctx, uri, db, path, sizeof(path), why, sizeof(why)) < 0) {
		snprintf(err, errlen, "referer database: %s", why);
		goto fail;
	}
	doc = json_load_file(path, 0, &jerr);
	if (doc == NULL) {
		snprintf(err, errlen, "referer database %s: invalid JSON: %s (line %d)", path,
		    jerr.text, jerr.line);
		goto fail;
	}
	if (referer_add_json(r, doc, why, sizeof(why)) < 0) {
		json_decref(doc);
		snprintf(err, errlen, "referer database %s: %s", path, why);
		goto fail;
	}
	json_decref(doc);
	custom = json_object_get(p, "referrers");
	if (custom != NULL && referer_add_json(r, custom, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "parameters.referrers: Can't decode referers: %s", why);
		goto fail;
	}
	return r;
fail:
	referer_free(r);
	return NULL;
}

int
enr_referer_classify(void *state, const char *scheme, const char *host, const char *path,
    const char *query, const char *page_host, const char **medium, const char **source,
    char **term)
{
	struct referer *r = state;
	const struct referer_source *hit = NULL;
	char *dpath, *paths[3], first[1024];
	size_t np = 0, i, hl;

	*medium = *source = NULL;
	*term = NULL;
	if (scheme == NULL || host == NULL ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https") && strcmp(scheme, "android-app")))
		return -1;
	if (page_host && !strcmp(page_host, host)) {
		*medium = "internal";
		return 0;
	}
	for (i = 0; i < r->n_internal; i++)
		if (!strcmp(r->internal[i], host)) {
			*medium = "internal";
			return 0;
		}
	/* java.net.URI.getPath is the decoded path */
	dpath = enr_url_decode(path ? path : "", path ? strlen(path) : 0, 0);
	if (dpath == NULL)
		return -1;
	{
		const char *p = dpath;
		while (*p == '/')
			p++;
		if (*p) {
			size_t l = strcspn(p, "/");
			snprintf(first, sizeof(first), "/%.*s", (int)(l < 1000 ? l : 1000), p);
			paths[np++] = dpath;
			paths[np++] = first;
		}
		paths[np++] = "";
	}
	hl = strlen(host);
	for (i = 0; i < np && hit == NULL; i++) {
		const char *h = host;
		size_t pl = strlen(paths[i]);
		char key[4096];
		for (;;) {
			size_t l = hl - (size_t)(h - host);
			if (l + pl < sizeof(key)) {
				memcpy(key, h, l);
				memcpy(key + l, paths[i], pl);
				if ((hit = domain_get(r, key, l + pl)) != NULL)
					break;
			}
			if ((h = strchr(h, '.')) == NULL)
				break;
			h++;
			if (*h == '\0')
				break;
		}
	}
	free(dpath);
	if (hit == NULL) {
		*medium = "unknown";
		return 0;
	}
	*medium = referer_media[hit->medium];
	if (hit->medium == 0 || hit->medium == 2) {   /* unknown / internal entries */
		*source = NULL;
		return 0;
	}
	*source = hit->name;
	if (hit->medium == 1 && query != NULL) {
		struct enr_qparam *q;
		long n = enr_query_parse(query, "&", 0, &q), k;
		size_t j;
		for (k = 0; k < n && *term == NULL; k++)
			for (j = 0; j < hit->n_params; j++)
				if (!strcmp(q[k].name, hit->params[j])) {
					*term = strdup(q[k].value);
					break;
				}
		if (n > 0)
			enr_query_free(q, n);
	}
	return 0;
}

static int
referer_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	const char *medium, *source;
	char *term;

	(void)failures;
	if (ev->col[COL_PAGE_REFERRER] == NULL)
		return 0;
	if (enr_referer_classify(state, ev->col[COL_REFR_URLSCHEME], ev->col[COL_REFR_URLHOST],
	        ev->col[COL_REFR_URLPATH], ev->col[COL_REFR_URLQUERY], ev->col[COL_PAGE_URLHOST],
	        &medium, &source, &term) < 0)
		return 0;
	enr_set_tsv_safe(ev, COL_REFR_MEDIUM, medium, strlen(medium));
	if (strcmp(medium, "unknown") && strcmp(medium, "internal")) {
		enr_set_tsv_safe(ev, COL_REFR_SOURCE, source, source ? strlen(source) : 0);
		enr_set_tsv_safe(ev, COL_REFR_TERM, term, term ? strlen(term) : 0);
	}
	free(term);
	return 0;
}

const struct enr_module enr_referer = {
	"com.snowplowanalytics.snowplow", "referer_parser", 2, ENRICH_STAGE_EARLY, 30,
	"referer-parser", referer_load, referer_apply, referer_free,
};
