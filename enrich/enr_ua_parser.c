/*
 * enr_ua_parser: ua_parser_config (iglu:com.snowplowanalytics.snowplow/ua_parser_config/
 * 1-0-*). Parses the useragent column with uap-core's regexes.yaml (read with libyaml,
 * matched with PCRE2, JIT-compiled) and adds the derived context
 * iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0, as upstream's
 * UaParserEnrichment does: useragent/os family and version parts, the assembled
 * "useragentVersion" ("Chrome 120.0.6099") and "osVersion", and "deviceFamily".
 *
 * The rules file is `uri` + `database` when the configuration names one, else uap-core's
 * file as Debian installs it (/usr/share/uap-core/regexes.yaml) or $FURROW_UAP_REGEXES.
 * The parse itself follows uap-core's specification: the first matching regex of each list
 * wins, replacements substitute $1..$9, no match gives the family "Other".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "enr.h"
#include "fnv.h"
#include "enr_ua_parser.h"

#define UA_DEFAULT_REGEXES "/usr/share/uap-core/regexes.yaml"
#define UA_CONTEXT_SCHEMA "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
#define UA_CACHE_SLOTS 4096          /* two-way set-associative cache of recent user agents */
#define UA_UA_MAX 8192               /* longer user agents are cut before matching */

enum { UA_UA, UA_OS, UA_DEV, UA_NLISTS };

/* Replacement keys per list, in output order. */
static const char *const ua_repl_keys[UA_NLISTS][5] = {
	{ "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", NULL },
	{ "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
	  "os_v4_replacement" },
	{ "device_replacement", "brand_replacement", "model_replacement", NULL, NULL },
};
static const int ua_nfields[UA_NLISTS] = { 4, 5, 3 };

struct ua_rule {
	pcre2_code *re;
	char       *repl[5];
};

struct ua_list {
	struct ua_rule *v;
	size_t           n;
};

struct ua_cache_slot {
	char   *ua;
	json_t *ctx;
};

struct enr_ua_parser {
	struct ua_list        lists[UA_NLISTS];
	pcre2_match_data      *md;
	char                  *schema_uri;
	struct ua_cache_slot *cache;
};

void
enr_ua_parser_free(struct enr_ua_parser *u)
{
	size_t i, j, k;

	if (u == NULL)
		return;
	for (i = 0; i < UA_NLISTS; i++) {
		for (j = 0; j < u->lists[i].n; j++) {
			pcre2_code_free(u->lists[i].v[j].re);
			for (k = 0; k < 5; k++)
				free(u->lists[i].v[j].repl[k]);
		}
		free(u->lists[i].v);
	}
	pcre2_match_data_free(u->md);
	if (u->cache) {
		for (i = 0; i < UA_CACHE_SLOTS; i++) {
			free(u->cache[i].ua);
			json_decref(u->cache[i].ctx);
		}
		free(u->cache);
	}
	free(u->schema_uri);
	free(u);
}

static const char *
scalar(yaml_document_t *d, yaml_node_t *n)
{
	(void)d;
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
load_list(struct enr_ua_parser *u, int which, yaml_document_t *d, yaml_node_t *seq, char *err,
    size_t errlen)
{
	yaml_node_item_t *it;
	struct ua_list *l = &u->lists[which];
	size_t cap;

	if (seq->type != YAML_SEQUENCE_NODE) {
		snprintf(err, errlen, "a list of parsers is expected");
		return -1;
	}
	cap = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if ((l->v = calloc(cap + 1, sizeof(*l->v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = yaml_document_get_node(d, *it);
		yaml_node_pair_t *p;
		const char *regex = NULL, *flag = NULL;
		struct ua_rule *r = &l->v[l->n];
		uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
		PCRE2_SIZE off;
		int ec, k;

		if (m == NULL || m->type != YAML_MAPPING_NODE) {
			snprintf(err, errlen, "parser %zu: a mapping is expected", l->n);
			return -1;
		}
		for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
			const char *k2 = scalar(d, yaml_document_get_node(d, p->key));
			const char *v = scalar(d, yaml_document_get_node(d, p->value));
			if (k2 == NULL || v == NULL)
				continue;
			if (!strcmp(k2, "regex"))
				regex = v;
			else if (!strcmp(k2, "regex_flag"))
				flag = v;
			else
				for (k = 0; k < ua_nfields[which]; k++)
					if (!strcmp(k2, ua_repl_keys[which][k]) && r->repl[k] == NULL)
						r->repl[k] = strdup(v);
		}
		if (regex == NULL) {
			snprintf(err, errlen, "parser %zu: no regex", l->n);
			return -1;
		}
		if (flag && strchr(flag, 'i'))
			opts |= PCRE2_CASELESS;
		r->re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, opts, &ec, &off, NULL);
		if (r->re == NULL) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "regex %s: %s at offset %zu", regex, (char *)msg, (size_t)off);
			return -1;
		}
		pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
		l->n++;
	}
	return 0;
}

struct enr_ua_parser *
enr_ua_parser_load(const char *path, char *err, size_t errlen)
{
	static const char *const names[UA_NLISTS] = {
		"user_agent_parsers", "os_parsers", "device_parsers",
	};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	struct enr_ua_parser *u;
	char why[512];
	FILE *f;
	int i, seen = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s: invalid YAML: %s (line %zu)", path,
		    parser.problem ? parser.problem : "?", (size_t)parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		fclose(f);
		enr_ua_parser_free(u);
		return NULL;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%s: not a uap-core regexes file (a mapping is expected)", path);
		goto fail;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(&doc, yaml_document_get_node(&doc, p->key));
		for (i = 0; k && i < UA_NLISTS; i++)
			if (!strcmp(k, names[i])) {
				if (load_list(u, i, &doc, yaml_document_get_node(&doc, p->value), why,
				        sizeof(why)) < 0) {
					snprintf(err, errlen, "%s: %s: %s", path, names[i], why);
					goto fail;
				}
				seen |= 1 << i;
			}
	}
	if (!(seen & 1)) {
		snprintf(err, errlen, "%s: not a uap-core regexes file (no user_agent_parsers)", path);
		goto fail;
	}
	yaml_document_delete(&doc);
	u->md = pcre2_match_data_create(20, NULL);
	return u;
fail:
	yaml_document_delete(&doc);
	enr_ua_parser_free(u);
	return NULL;
}

/* Substitute $1..$9 of the match into repl. */
static char *
substitute(const char *repl, const char *s, PCRE2_SIZE *ov, int rc)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	for (p = repl; *p; p++) {
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
			int g = p[1] - '0';
			if (g < rc && ov[2 * g] != PCRE2_UNSET)
				buf_append(&b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
			p++;
		} else {
			buf_append_byte(&b, (uint8_t)*p);
		}
	}
	if (b.data == NULL)
		return strdup("");
	return b.data;
}

static char *
trimmed_or_null(char *s)
{
	size_t a = 0, l;

	if (s == NULL)
		return NULL;
	while (s[a] == ' ' || s[a] == '\t')
		a++;
	l = strlen(s + a);
	while (l && (s[a + l - 1] == ' ' || s[a + l - 1] == '\t'))
		l--;
	if (l == 0) {
		free(s);
		return NULL;
	}
	memmove(s, s + a, l);
	s[l] = '\0';
	return s;
}

int
enr_ua_parser_parse_one(struct enr_ua_parser *u, int which, const char *ua, size_t len,
    char *out[5])
{
	struct ua_list *l = &u->lists[which];
	size_t i;
	int k, nf = ua_nfields[which];

	for (k = 0; k < 5; k++)
		out[k] = NULL;
	for (i = 0; i < l->n; i++) {
		int rc = pcre2_match(l->v[i].re, (PCRE2_SPTR)ua, len, 0, 0, u->md, NULL);
		PCRE2_SIZE *ov;

		if (rc < 0)
			continue;
		ov = pcre2_get_ovector_pointer(u->md);
		for (k = 0; k < nf; k++) {
			const char *repl = l->v[i].repl[k];
			int g = k + 1;
			if (which == UA_DEV && k > 0)
				g = 1 + (k == 2 ? 0 : 99);   /* brand has no default group; model is $1 */
			if (repl != NULL)
				out[k] = substitute(repl, ua, ov, rc);
			else if (g < rc && ov[2 * g] != PCRE2_UNSET)
				out[k] = strndup(ua + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
			out[k] = trimmed_or_null(out[k]);
		}
		if (which == UA_DEV && out[0] && out[0][0] == '\0') {
			free(out[0]);
			out[0] = NULL;
		}
		if (out[0] == NULL)
			out[0] = strdup("Other");
		return 0;
	}
	out[0] = strdup("Other");
	return 0;
}

static json_t *
jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
make_context(struct enr_ua_parser *u, const char *ua, size_t len)
{
	char *a[5], *o[5], *dv[5];
	struct buf uv, ov;
	json_t *d;
	int k;

	enr_ua_parser_parse_one(u, UA_UA, ua, len, a);
	enr_ua_parser_parse_one(u, UA_OS, ua, len, o);
	enr_ua_parser_parse_one(u, UA_DEV, ua, len, dv);
	buf_init(&uv, 0);
	buf_init(&ov, 0);
	buf_append_str(&uv, a[0]);
	if (a[1])
		buf_printf(&uv, " %s", a[1]);
	for (k = 2; k < 4; k++)
		if (a[k])
			buf_printf(&uv, ".%s", a[k]);
	buf_append_str(&ov, o[0]);
	if (o[1])
		buf_printf(&ov, " %s", o[1]);
	for (k = 2; k < 5; k++)
		if (o[k])
			buf_printf(&ov, ".%s", o[k]);
	d = json_object();
	json_object_set_new(d, "useragentFamily", jstr_or_null(a[0]));
	json_object_set_new(d, "useragentMajor", jstr_or_null(a[1]));
	json_object_set_new(d, "useragentMinor", jstr_or_null(a[2]));
	json_object_set_new(d, "useragentPatch", jstr_or_null(a[3]));
	json_object_set_new(d, "useragentVersion", jstr_or_null(uv.data));
	json_object_set_new(d, "osFamily", jstr_or_null(o[0]));
	json_object_set_new(d, "osMajor", jstr_or_null(o[1]));
	json_object_set_new(d, "osMinor", jstr_or_null(o[2]));
	json_object_set_new(d, "osPatch", jstr_or_null(o[3]));
	json_object_set_new(d, "osPatchMinor", jstr_or_null(o[4]));
	json_object_set_new(d, "osVersion", jstr_or_null(ov.data));
	json_object_set_new(d, "deviceFamily", jstr_or_null(dv[0]));
	buf_free(&uv);
	buf_free(&ov);
	for (k = 0; k < 5; k++) {
		free(a[k]);
		free(o[k]);
		free(dv[k]);
	}
	return json_pack("{s:s,s:o}", "schema", UA_CONTEXT_SCHEMA, "data", d);
}

json_t *
enr_ua_parser_context(struct enr_ua_parser *u, const char *ua)
{
	size_t len = strlen(ua), slot;
	uint64_t h;
	json_t *c;

	if (len > UA_UA_MAX)
		len = UA_UA_MAX;
	if (u->cache == NULL)
		return make_context(u, ua, len);
	h = fnv_bytes(FNV_OFFSET, ua, len);
	/*
	 * Two-way set associative, most recently used first: a direct-mapped cache lost about a
	 * fifth of its hits to collisions with a couple of thousand user agents in rotation.
	 */
	slot = (size_t)(h % (UA_CACHE_SLOTS / 2)) * 2;
	/* shared, not copied: nothing modifies a derived entity in place except the PII
	 * enrichment, which copies an entity before it changes it */
	if (u->cache[slot].ua && !strcmp(u->cache[slot].ua, ua))
		return json_incref(u->cache[slot].ctx);
	if (u->cache[slot + 1].ua && !strcmp(u->cache[slot + 1].ua, ua)) {
		struct ua_cache_slot t = u->cache[slot];
		u->cache[slot] = u->cache[slot + 1];
		u->cache[slot + 1] = t;
		return json_incref(u->cache[slot].ctx);
	}
	if ((c = make_context(u, ua, len)) == NULL)
		return NULL;
	free(u->cache[slot + 1].ua);
	json_decref(u->cache[slot + 1].ctx);
	u->cache[slot + 1] = u->cache[slot];
	u->cache[slot].ua = strdup(ua);
	u->cache[slot].ctx = u->cache[slot].ua ? json_incref(c) : NULL;
	return c;
}

static void *
ua_parser_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const char *uri = enr_json_str(p, "uri"), *db = enr_json_str(p, "database");
	const char *env = getenv("FURROW_UAP_REGEXES");
	char path[4096], why[512];
	struct enr_ua_parser *u;

	if (uri != NULL || db != NULL) {
		if (uri == NULL || db == NULL) {
			snprintf(err, errlen, "parameters: \"uri\" and \"database\" go together");
			return NULL;
		}
		if (enr_asset_path(ctx, uri, db, path, sizeof(path), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "Failed to initialize ua parser: [%s]", why);
			return NULL;
		}
	} else {
		snprintf(path, sizeof(path), "%s", env && *env ? env : UA_DEFAULT_REGEXES);
	}
	if ((u = enr_ua_parser_load(path, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "Failed to initialize ua parser: [%s]", why);
		return NULL;
	}
	u->schema_uri = strdup(ctx->schema_uri);
	u->cache = calloc(UA_CACHE_SLOTS, sizeof(*u->cache));
	return u;
}

static int
ua_parser_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct enr_ua_parser *u = state;
	const char *ua = ev->col[COL_USERAGENT];
	json_t *c;

	if (ua == NULL && !ev->useragent_empty)
		return 0;
	if (ua == NULL)
		ua = "";   /* enrich 6.10: an empty User-Agent gives the all-"Other" context */
	if ((c = enr_ua_parser_context(u, ua)) == NULL) {
		enr_add_failure(failures, u->schema_uri, "ua-parser",
		    json_pack("{s:s,s:s,s:s}", "field", "useragent", "value", ua, "expectation",
		        "could not parse useragent"));
		return -1;
	}
	enrich_event_add_derived(ev, c);
	return 0;
}

static void
ua_parser_free(void *state)
{
	enr_ua_parser_free(state);
}

const struct enr_module enr_ua_parser = {
	"com.snowplowanalytics.snowplow", "ua_parser_config", 1, ENRICH_STAGE_EARLY, 20,
	"ua-parser", ua_parser_load, ua_parser_apply, ua_parser_free,
};
