/*
 * iglu_stub: a stand-in for common/iglu.c until the iglu branch is merged, so that enrich links
 * and its tests run. It parses schema keys and "validates" by checking that the schema file
 * exists in the embedded registry. It compiles to nothing once common/iglu.c exists, and its
 * functions are weak; delete this file when merging the iglu branch.
 */
#include "iglu.h"

#if !__has_include("../common/iglu.c")
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct iglu_resolver {
	char dir[8][4096];
	int n;
};

static int
stub_num(const char *s, size_t n, int *v)
{
	size_t i;

	if (n == 0 || n > 6 || (n > 1 && s[0] == '0'))
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
stub_part(const char *s, size_t n, int dots)
{
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (dots && c == '.')))
			return -1;
	}
	return 0;
}

__attribute__((weak)) int
iglu_key_parse(const char *uri, struct iglu_key *key, const char **code)
{
	const char *p[4], *d1, *d2, *end;
	int i;

	*code = "INVALID_IGLUURI";
	if (uri == NULL || strncmp(uri, "iglu:", 5) != 0)
		return -1;
	p[0] = uri + 5;
	for (i = 1; i < 4; i++) {
		p[i] = strchr(p[i - 1], '/');
		if (p[i] == NULL)
			return -1;
		p[i]++;
	}
	if (strchr(p[3], '/'))
		return -1;
	if (stub_part(p[0], (size_t)(p[1] - p[0] - 1), 1) || stub_part(p[1], (size_t)(p[2] - p[1] - 1), 0) ||
	    stub_part(p[2], (size_t)(p[3] - p[2] - 1), 0))
		return -1;
	if ((size_t)(p[1] - p[0] - 1) >= sizeof(key->vendor) || (size_t)(p[2] - p[1] - 1) >= sizeof(key->name) ||
	    (size_t)(p[3] - p[2] - 1) >= sizeof(key->format))
		return -1;
	end = p[3] + strlen(p[3]);
	d1 = strchr(p[3], '-');
	d2 = d1 ? strchr(d1 + 1, '-') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '-'))
		return -1;
	*code = "INVALID_SCHEMAVER";
	if (stub_num(p[3], (size_t)(d1 - p[3]), &key->model) || key->model == 0 ||
	    stub_num(d1 + 1, (size_t)(d2 - d1 - 1), &key->revision) ||
	    stub_num(d2 + 1, (size_t)(end - d2 - 1), &key->addition))
		return -1;
	memcpy(key->vendor, p[0], (size_t)(p[1] - p[0] - 1));
	key->vendor[p[1] - p[0] - 1] = '\0';
	memcpy(key->name, p[1], (size_t)(p[2] - p[1] - 1));
	key->name[p[2] - p[1] - 1] = '\0';
	memcpy(key->format, p[2], (size_t)(p[3] - p[2] - 1));
	key->format[p[3] - p[2] - 1] = '\0';
	*code = NULL;
	return 0;
}

__attribute__((weak)) char *
iglu_key_format(const struct iglu_key *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "iglu:%s/%s/%s/%d-%d-%d", key->vendor, key->name, key->format,
	    key->model, key->revision, key->addition);
	return out;
}

__attribute__((weak)) int
iglu_key_matches(const struct iglu_key *key, const char *criterion)
{
	struct iglu_key c;
	char tmp[512], *v;
	const char *code;
	int want[3], i;
	const int have[3] = { key->model, key->revision, key->addition };

	snprintf(tmp, sizeof(tmp), "%s", criterion);
	v = strrchr(tmp, '/');
	if (v == NULL)
		return 0;
	for (i = 0; i < 3; i++) {
		char *dash = strchr(v + 1, '-');
		want[i] = v[1] == '*' ? -1 : atoi(v + 1);
		v = dash ? dash : v + strlen(v) - 1;
	}
	snprintf(strrchr(tmp, '/'), sizeof(tmp) - (size_t)(strrchr(tmp, '/') - tmp), "/1-0-0");
	if (iglu_key_parse(tmp, &c, &code) == -1)
		return 0;
	if (strcmp(c.vendor, key->vendor) || strcmp(c.name, key->name) || strcmp(c.format, key->format))
		return 0;
	for (i = 0; i < 3; i++)
		if (want[i] >= 0 && want[i] != have[i])
			return 0;
	return 1;
}

__attribute__((weak)) struct iglu_resolver *
iglu_resolver_new(const char *config_path, const char *schemas_dir, char *err, size_t errlen)
{
	struct iglu_resolver *r = calloc(1, sizeof(*r));
	json_error_t jerr;
	json_t *cfg, *repos;
	size_t i;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(r->dir[r->n++], sizeof(r->dir[0]), "%s", schemas_dir);
	if (config_path == NULL)
		return r;
	cfg = json_load_file(config_path, 0, &jerr);
	if (cfg == NULL) {
		snprintf(err, errlen, "%s", jerr.text);
		free(r);
		return NULL;
	}
	repos = json_object_get(json_object_get(cfg, "data"), "repositories");
	for (i = 0; i < json_array_size(repos) && r->n < 8; i++) {
		json_t *emb = json_object_get(json_object_get(json_array_get(repos, i), "connection"),
		    "embedded");
		const char *path = json_string_value(json_object_get(emb, "path"));
		const char *slash = strrchr(config_path, '/');
		if (path == NULL)
			continue;
		if (path[0] == '/' || slash == NULL)
			snprintf(r->dir[r->n++], sizeof(r->dir[0]), "%s", path);
		else
			snprintf(r->dir[r->n++], sizeof(r->dir[0]), "%.*s/%s",
			    (int)(slash - config_path), config_path, path);
	}
	json_decref(cfg);
	return r;
}

__attribute__((weak)) void
iglu_resolver_free(struct iglu_resolver *r)
{
	free(r);
}

__attribute__((weak)) const struct jsonschema *
iglu_resolver_lookup(struct iglu_resolver *r, const struct iglu_key *key, json_t **client_error)
{
	(void)r;
	(void)key;
	*client_error = json_pack("{s:s,s:[]}", "error", "ResolutionError", "lookupHistory");
	return NULL;
}

__attribute__((weak)) int
iglu_validate(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error)
{
	char path[8192];
	struct stat st;
	int i;

	(void)data;
	for (i = 0; i < r->n; i++) {
		snprintf(path, sizeof(path), "%s/schemas/%s/%s/%s/%d-%d-%d", r->dir[i], key->vendor,
		    key->name, key->format, key->model, key->revision, key->addition);
		if (stat(path, &st) == 0)
			return 0;
		snprintf(path, sizeof(path), "%s/%s/%s/%s/%d-%d-%d", r->dir[i], key->vendor, key->name,
		    key->format, key->model, key->revision, key->addition);
		if (stat(path, &st) == 0)
			return 0;
	}
	*client_error = json_pack("{s:s,s:[{s:s,s:[{s:s}],s:i,s:s}]}", "error", "ResolutionError",
	    "lookupHistory", "repository", "Iglu Client Embedded", "errors", "error", "NotFound",
	    "attempts", 1, "lastAttempt", "1970-01-01T00:00:00Z");
	return -1;
}
#else
typedef int iglu_stub_unused;
#endif
