/*
 * enrichments: load the user's Snowplow enrichment configuration files and run them
 * (enrichments.h). Each *.json file in the directory is one self-describing JSON
 * `iglu:<vendor>/<name>/jsonschema/<M-R-A>`; it is validated against its schema through the
 * Iglu resolver, disabled ones are skipped, and each enabled one becomes an instance of the
 * module that implements it (enr_*.c). Instances run in upstream EnrichmentManager's order,
 * whatever the order of the files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "enrichments.h"

/* Largest configuration file accepted (the biggest real ones, PII and API request, are a
 * few KB; a referer_parser with inline "referrers" may be larger). */
#define ENR_CONF_MAX ((size_t)4 << 20)
#define ENR_FILES_MAX 256

static const struct enr_module *const enr_modules[] = {
	&enr_iab, &enr_ua_parser, &enr_currency, &enr_referer, &enr_campaign, &enr_fingerprint,
	&enr_cookie, &enr_header, &enr_ip_lookups, &enr_javascript, &enr_sql_query, &enr_api_request, &enr_anon_ip, &enr_pii,
};
#define ENR_NMODULES (sizeof(enr_modules) / sizeof(enr_modules[0]))

/*
 * What enrich 6.x accepts that furrow does not run: refused when enabled (a disabled one is
 * skipped), with the reason and what to use instead.
 */
static const struct {
	const char *name;
	const char *why;
} enr_unsupported[] = {
	{ "yauaa_enrichment_config", "YAUAA is a Java library (nl.basjes yauaa) with no C "
	    "counterpart; use ua_parser_config (uap-core rules) for the user agent, or a "
	    "javascript_script_config enrichment for custom rules" },
	{ "user_agent_utils_config", "user-agent-utils is a deprecated Java library (upstream "
	    "deprecates this enrichment too); use ua_parser_config" },
	{ "weather_enrichment_config", "it needs OpenWeatherMap's paid history API through "
	    "Snowplow's Scala client; call your weather provider with an "
	    "api_request_enrichment_config instead" },
	{ "asn_lookups", "furrow does not implement it; ip_lookups with an \"asn\" database "
	    "(GeoLite2-ASN) gives the ASN context" },
	{ "bot_detection_enrichment_config", "furrow does not implement it; the IAB enrichment "
	    "(iab_spiders_and_robots_enrichment) flags robots, and a javascript_script_config "
	    "enrichment can combine its result with others" },
	{ "cross_navigation_config", "furrow does not implement it; refr_domain_userid and "
	    "refr_dvce_tstamp are filled from _sp without it, as upstream does" },
	{ "event_spec_enrichment_config", "furrow does not implement it (it needs Snowplow's "
	    "event specifications)" },
};
#define ENR_NUNSUPPORTED (sizeof(enr_unsupported) / sizeof(enr_unsupported[0]))

struct enr_instance {
	const struct enr_module *m;
	void                    *state;
	char                    *file;
	size_t                   seq;    /* file-name order: ties of rank (several scripts) */
	unsigned long long       failures;   /* events it could not enrich */
};

struct enrichments {
	struct enr_instance *v;
	size_t               n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_instance(const void *a, const void *b)
{
	const struct enr_instance *x = a, *y = b;

	if (x->m->stage != y->m->stage)
		return (int)x->m->stage - (int)y->m->stage;
	if (x->m->rank != y->m->rank)
		return x->m->rank - y->m->rank;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The messages of an Iglu ClientError, for a one-line startup error. */
static void
client_error_text(json_t *ce, char *out, size_t outlen)
{
	json_t *list, *it;
	size_t i, used = 0;

	out[0] = '\0';
	if ((list = json_object_get(ce, "dataReports")) != NULL ||
	    (list = json_object_get(ce, "schemaIssues")) != NULL) {
		json_array_foreach(list, i, it) {
			const char *m = json_string_value(json_object_get(it, "message"));
			int n = snprintf(out + used, outlen - used, "%s%s", used ? "; " : "", m ? m : "?");
			if (n < 0 || (size_t)n >= outlen - used)
				break;
			used += (size_t)n;
		}
		return;
	}
	if (json_object_get(ce, "lookupHistory") != NULL) {
		char *s = json_dumps(ce, JSON_COMPACT);
		snprintf(out, outlen, "schema not found: %s", s ? s : "");
		free(s);
		return;
	}
	snprintf(out, outlen, "invalid");
}

static int
load_one(struct enrichments *e, const char *dir, const char *fname,
    struct iglu_resolver *resolver, char *err, size_t errlen)
{
	char path[4096], why[1024];
	const struct enr_module *m = NULL;
	json_error_t jerr;
	json_t *root, *data, *enabled;
	const char *schema;
	struct enr_ctx ctx;
	struct enr_instance *nv;
	void *state;
	struct iglu_key key;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "%s: invalid JSON: %s (line %d)", path, jerr.text, jerr.line);
		return -1;
	}
	schema = enr_json_str(root, "schema");
	data = json_object_get(root, "data");
	if (!json_is_object(root) || schema == NULL || !json_is_object(data)) {
		snprintf(err, errlen, "%s: not a self-describing enrichment configuration "
		    "({\"schema\":\"iglu:...\",\"data\":{...}})", path);
		goto fail;
	}
	if (iglu_key_parse(schema, &key, NULL) < 0 || strcmp(key.format, "jsonschema") != 0) {
		snprintf(err, errlen, "%s: invalid schema URI \"%s\"", path, schema);
		goto fail;
	}
	/* one furrow lacks: refused when enabled, before its schema (which furrow may not be
	 * able to resolve) is looked at */
	for (i = 0; i < ENR_NUNSUPPORTED; i++)
		if (!strcmp(enr_unsupported[i].name, key.name)) {
			if (!json_is_true(json_object_get(data, "enabled"))) {
				json_decref(root);
				return 0;
			}
			snprintf(err, errlen, "%s: the %s enrichment is not supported by furrow: %s "
			    "(disable it or remove the file)", path, key.name, enr_unsupported[i].why);
			goto fail;
		}
	if (resolver != NULL) {   /* NULL only in unit tests: the modules still check */
		json_t *ce = NULL;

		if (iglu_validate(resolver, &key, data, &ce) != 0) {
			/* a disabled configuration whose schema furrow cannot resolve (an enrichment
			 * it does not implement, offline) is skipped rather than refused */
			if (json_object_get(ce, "lookupHistory") != NULL &&
			    json_is_false(json_object_get(data, "enabled"))) {
				json_decref(ce);
				json_decref(root);
				return 0;
			}
			client_error_text(ce, why, sizeof(why));
			json_decref(ce);
			snprintf(err, errlen, "%s: does not validate against %s: %s", path, schema, why);
			goto fail;
		}
	}
	enabled = json_object_get(data, "enabled");
	if (!json_is_boolean(enabled)) {
		snprintf(err, errlen, "%s: \"enabled\" must be true or false", path);
		goto fail;
	}
	if (!json_is_true(enabled)) {
		json_decref(root);
		return 0;
	}
	for (i = 0; i < ENR_NMODULES; i++)
		if (!strcmp(enr_modules[i]->name, key.name))
			m = enr_modules[i];
	if (m == NULL) {
		snprintf(err, errlen, "%s: unknown enrichment %s", path, schema);
		goto fail;
	}
	if (strcmp(m->vendor, key.vendor) != 0 || m->model != key.model) {
		snprintf(err, errlen, "%s: schema %s not supported (furrow reads iglu:%s/%s/jsonschema/%d-*-*)",
		    path, schema, m->vendor, m->name, m->model);
		goto fail;
	}
	for (i = 0; i < e->n && m != &enr_javascript; i++)   /* upstream allows several scripts */
		if (e->v[i].m == m) {
			snprintf(err, errlen, "%s: %s is already configured by %s", path, key.name,
			    e->v[i].file);
			goto fail;
		}
	ctx.conf_path = path;
	ctx.conf_dir = dir;
	ctx.schema_uri = schema;
	ctx.data = data;
	why[0] = '\0';
	state = m->load(&ctx, why, sizeof(why));
	if (state == NULL) {
		snprintf(err, errlen, "%s: %s", path, why[0] ? why : "cannot load");
		goto fail;
	}
	nv = realloc(e->v, (e->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		m->free(state);
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	e->v = nv;
	e->v[e->n].m = m;
	e->v[e->n].state = state;
	e->v[e->n].file = strdup(path);
	e->v[e->n].seq = e->n;
	e->n++;
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

struct enrichments *
enrichments_load(const char *dir, struct iglu_resolver *resolver, char *err, size_t errlen)
{
	struct enrichments *e;
	char *names[ENR_FILES_MAX];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		if (n == ENR_FILES_MAX) {
			snprintf(err, errlen, "%s: more than %d configuration files", dir, ENR_FILES_MAX);
			goto fail_names;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", dir);
			goto fail_names;
		}
		n++;
	}
	closedir(d);
	d = NULL;
	qsort(names, n, sizeof(names[0]), cmp_str);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_names;
	}
	for (i = 0; i < n; i++)
		if (load_one(e, dir, names[i], resolver, err, errlen) < 0) {
			enrichments_free(e);
			goto fail_names;
		}
	for (i = 0; i < n; i++)
		free(names[i]);
	if (e->n > 1)
		qsort(e->v, e->n, sizeof(e->v[0]), cmp_instance);
	return e;
fail_names:
	if (d)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	return NULL;
}

void
enrichments_free(struct enrichments *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		e->v[i].m->free(e->v[i].state);
		free(e->v[i].file);
	}
	free(e->v);
	free(e);
}

int
enrichments_apply(struct enrichments *e, enum enrich_stage stage, struct enrich_event *ev,
    json_t *failures)
{
	size_t i;
	int rc = 0;

	if (e == NULL)
		return 0;
	/* Like upstream, a failing enrichment does not stop the others: every failure is
	 * collected into the one enrichment_failures bad row. A dropped event stops them. */
	for (i = 0; i < e->n; i++) {
		int r;
		if (e->v[i].m->stage != stage)
			continue;
		r = e->v[i].m->apply(e->v[i].state, ev, failures);
		if (r == ENR_DROP)
			return ENRICHMENTS_DROPPED;
		if (r < 0) {
			e->v[i].failures++;
			rc = -1;
		}
	}
	return rc;
}

int
enrichments_emit_pii(const struct enrichments *e)
{
	size_t i;

	for (i = 0; e != NULL && i < e->n; i++)
		if (e->v[i].m == &enr_pii && enr_pii_emits_event(e->v[i].state))
			return 1;
	return 0;
}

int
enrichments_failures(const struct enrichments *e, size_t i, const char **name,
    unsigned long long *failures)
{
	if (e == NULL || i >= e->n)
		return -1;
	*name = e->v[i].m->name;
	*failures = e->v[i].failures;
	return 0;
}
