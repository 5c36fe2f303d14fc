/*
 * iglu_config: the resolver's repositories (see iglu_impl.h): the embedded --schemas folder, and
 * those of a resolver configuration file in Snowplow's format (resolver-config 1-0-0 … 1-0-3,
 * validated against its schema when the embedded registry holds it; enriched-event.md §15.2).
 */
#include "iglu_impl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
cfg_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory that holds vendor folders: dir/schemas when it exists, else dir. */
static char *
registry_root(const char *dir)
{
	struct buf tmp;
	size_t n = strlen(dir);
	char *out;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	buf_init(&tmp, PATH_MAX);
	if (buf_append(&tmp, dir, n) == 0 && buf_append_str(&tmp, "/schemas") == 0 &&
	    is_dir(tmp.data)) {
		out = tmp.data;   /* handed over */
		return out;
	}
	buf_free(&tmp);
	return strndup(dir, n);
}

void
iglu_config_repo_free(struct iglu_repo *p)
{
	size_t i;

	free(p->name);
	for (i = 0; i < p->n_prefixes; i++)
		free(p->prefixes[i]);
	free(p->prefixes);
	free(p->path);
	free(p->uri);
	free(p->apikey);
}

static int
repo_add(struct iglu_resolver *r, struct iglu_repo *p)
{
	struct iglu_repo *n = realloc(r->repos, (r->n_repos + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	r->repos = n;
	r->repos[r->n_repos++] = *p;
	return 0;
}

static int
add_embedded(struct iglu_resolver *r, const char *name, double priority, const char *root)
{
	struct iglu_repo p;

	memset(&p, 0, sizeof(p));
	p.name = strdup(name);
	p.priority = priority;
	p.kind = IGLU_REPO_EMBEDDED;
	p.class_priority = 2;
	p.path = registry_root(root);
	if (p.name == NULL || p.path == NULL || repo_add(r, &p) < 0) {
		iglu_config_repo_free(&p);
		return -1;
	}
	return 0;
}

int
iglu_config_embedded(struct iglu_resolver *r, const char *dir, char *err, size_t errlen)
{
	if (!is_dir(dir))
		return cfg_err(err, errlen, "%s: not a directory", dir);
	if (add_embedded(r, IGLU_EMBEDDED_NAME, 0, dir) < 0)
		return cfg_err(err, errlen, "out of memory");
	return 0;
}

static int
parse_repo(struct iglu_resolver *r, json_t *j, const char *cfgdir, char *err, size_t errlen)
{
	struct iglu_repo p;
	json_t *name = json_object_get(j, "name"), *prio = json_object_get(j, "priority");
	json_t *pre = json_object_get(j, "vendorPrefixes"), *conn = json_object_get(j, "connection");
	json_t *emb = json_object_get(conn, "embedded"), *http = json_object_get(conn, "http");
	size_t i;

	if (!json_is_string(name) || !json_is_number(prio) || !json_is_array(pre) ||
	    !json_is_object(conn) || (emb == NULL) == (http == NULL))
		return cfg_err(err, errlen, "repository %s is malformed",
		    json_is_string(name) ? json_string_value(name) : "(unnamed)");
	for (i = 0; i < r->n_repos; i++)
		if (strcmp(r->repos[i].name, json_string_value(name)) == 0)
			return cfg_err(err, errlen, "repository name \"%s\" is used twice",
			    json_string_value(name));
	memset(&p, 0, sizeof(p));
	p.name = strdup(json_string_value(name));
	p.priority = json_number_value(prio);
	p.prefixes = calloc(json_array_size(pre) + 1, sizeof(*p.prefixes));
	if (p.name == NULL || p.prefixes == NULL)
		goto oom;
	for (i = 0; i < json_array_size(pre); i++) {
		const char *s = json_string_value(json_array_get(pre, i));

		if (s == NULL) {
			iglu_config_repo_free(&p);
			return cfg_err(err, errlen, "vendorPrefixes must be strings");
		}
		if ((p.prefixes[p.n_prefixes++] = strdup(s)) == NULL)
			goto oom;
	}
	if (emb != NULL) {
		const char *path = json_string_value(json_object_get(emb, "path"));
		struct buf full;

		if (path == NULL) {
			iglu_config_repo_free(&p);
			return cfg_err(err, errlen, "embedded repository without a path");
		}
		buf_init(&full, PATH_MAX);
		if (path[0] != '/' && cfgdir != NULL)
			buf_printf(&full, "%s/", cfgdir);
		buf_append_str(&full, path);
		buf_append_str(&full, "/schemas");   /* upstream: <path>/schemas/<vendor>/… */
		p.kind = IGLU_REPO_EMBEDDED;
		p.class_priority = 2;
		p.path = full.data;   /* handed over */
		if (p.path == NULL)
			goto oom;
	} else {
		const char *uri = json_string_value(json_object_get(http, "uri"));
		const char *key = json_string_value(json_object_get(http, "apikey"));
		size_t n;

		if (uri == NULL || (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)) {
			iglu_config_repo_free(&p);
			return cfg_err(err, errlen, "repository %s: uri must be http:// or https://",
			    json_string_value(name));
		}
		n = strlen(uri);
		while (n > 0 && uri[n - 1] == '/')
			n--;
		p.kind = IGLU_REPO_HTTP;
		p.class_priority = 100;
		if ((p.uri = strndup(uri, n)) == NULL || (key != NULL && (p.apikey = strdup(key)) == NULL))
			goto oom;
		if (key != NULL && strpbrk(key, "\r\n") != NULL) {
			iglu_config_repo_free(&p);
			return cfg_err(err, errlen, "repository %s: apikey has a line break",
			    json_string_value(name));
		}
	}
	if (repo_add(r, &p) < 0)
		goto oom;
	return 0;
oom:
	iglu_config_repo_free(&p);
	return cfg_err(err, errlen, "out of memory");
}

int
iglu_config_load(struct iglu_resolver *r, const char *path, char *err, size_t errlen)
{
	json_t *doc, *data, *repos, *size, *ttl, *reports = NULL;
	json_error_t je;
	const char *uri;
	const struct jsonschema *schema;
	struct iglu_key key;
	char cfgdir[PATH_MAX], *slash;
	size_t i;
	int rc = -1;

	doc = json_load_file(path, 0, &je);
	if (doc == NULL)
		return cfg_err(err, errlen, "%s: line %d: %s", path, je.line, je.text);
	uri = json_string_value(json_object_get(doc, "schema"));
	data = json_object_get(doc, "data");
	if (uri == NULL || data == NULL) {
		cfg_err(err, errlen, "%s: not a self-describing JSON (schema and data)", path);
		goto out;
	}
	if (iglu_key_parse(uri, &key, NULL) < 0 || !iglu_key_matches(&key, IGLU_CONFIG_CRITERION)) {
		cfg_err(err, errlen, "%s: schema %s is not %s", path, uri, IGLU_CONFIG_CRITERION);
		goto out;
	}
	/* Validate against the resolver-config schema when the embedded registry holds it. */
	schema = r->n_repos > 0 ? iglu_resolver_lookup(r, &key, NULL) : NULL;
	if (schema != NULL && jsonschema_validate(schema, data, &reports) != 1) {
		json_t *first = json_array_get(reports, 0);

		cfg_err(err, errlen, "%s: invalid resolver configuration: %s", path,
		    first ? json_string_value(json_object_get(first, "message")) : "?");
		goto out;
	}
	size = json_object_get(data, "cacheSize");
	ttl = json_object_get(data, "cacheTtl");
	repos = json_object_get(data, "repositories");
	if (!json_is_number(size) || json_number_value(size) < 0 || !json_is_array(repos)) {
		cfg_err(err, errlen, "%s: cacheSize and repositories are required", path);
		goto out;
	}
	r->cache_size = json_number_value(size) < 1 ? 1 : (size_t)json_number_value(size);
	if (json_is_number(ttl)) {
		if (json_number_value(ttl) < 0) {
			cfg_err(err, errlen, "%s: cacheTtl must not be negative", path);
			goto out;
		}
		r->ttl_ms = (int64_t)(json_number_value(ttl) * 1000);
	} else if (ttl != NULL && !json_is_null(ttl)) {
		cfg_err(err, errlen, "%s: cacheTtl must be a number or null", path);
		goto out;
	}
	snprintf(cfgdir, sizeof(cfgdir), "%s", path);
	slash = strrchr(cfgdir, '/');
	if (slash != NULL)
		*slash = 0;
	else
		snprintf(cfgdir, sizeof(cfgdir), ".");
	for (i = 0; i < json_array_size(repos); i++) {
		char e2[300];

		if (parse_repo(r, json_array_get(repos, i), cfgdir, e2, sizeof(e2)) < 0) {
			cfg_err(err, errlen, "%s: %s", path, e2);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(reports);
	json_decref(doc);
	return rc;
}
