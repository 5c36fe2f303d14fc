/*
 * enr_pii: pii_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/
 * pii_enrichment_config/2-0-*). Pseudonymises, as upstream's PiiPseudonymizerEnrichment
 * does, with hex(hashFunction(value + salt)):
 *  - "pojo" fields: the named atomic columns (user_id, user_ipaddress, domain_userid, ...);
 *  - "json" fields: in contexts, derived_contexts or unstruct_event, in each entity whose
 *    schema matches schemaCriterion, every string the jsonPath selects (and every string
 *    element of an array it selects). Other values are left alone; a path that selects
 *    nothing changes nothing.
 * With anonymousOnly, only events whose collector headers include SP-Anonymous are touched.
 * JSONPath support: $, .name, ['name'], [n], [*], .*, and ..name (recursive descent);
 * filter and slice expressions are refused at startup.
 *
 * With emitEvent, an event in which something was pseudonymised carries a pii_transformation
 * entity (ev->pii) listing each change, as upstream's PiiModifiedFields encodes it: {"pii":
 * {"pojo": [...], "json": [...]}, "strategy": {"pseudonymize": {"hashFunction": ...}}}, each
 * list newest change first, "pojo" first when there is one; enrich writes it as a second
 * event (--pii). Without emitEvent, or with nothing changed, ev->pii is cleared (upstream
 * sets event.pii every time the enrichment runs).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "enr.h"
#include "enrich.h"
#include "jsonw.h"

#define PII_PATH_MAX_STEPS 32
#define PII_TRANSFORMATION "iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0"

/* pii_enrichment_config's "pojo" field names, in the schema's order. */
static const struct {
	const char *name;
	int         col;
} pii_pojo_fields[] = {
	{ "user_id", COL_USER_ID }, { "user_ipaddress", COL_USER_IPADDRESS },
	{ "user_fingerprint", COL_USER_FINGERPRINT }, { "domain_userid", COL_DOMAIN_USERID },
	{ "network_userid", COL_NETWORK_USERID }, { "ip_organization", COL_IP_ORGANIZATION },
	{ "ip_domain", COL_IP_DOMAIN }, { "tr_orderid", COL_TR_ORDERID },
	{ "ti_orderid", COL_TI_ORDERID }, { "mkt_term", COL_MKT_TERM },
	{ "mkt_content", COL_MKT_CONTENT }, { "se_category", COL_SE_CATEGORY },
	{ "se_action", COL_SE_ACTION }, { "se_label", COL_SE_LABEL },
	{ "se_property", COL_SE_PROPERTY }, { "mkt_clickid", COL_MKT_CLICKID },
	{ "refr_domain_userid", COL_REFR_DOMAIN_USERID }, { "domain_sessionid", COL_DOMAIN_SESSIONID },
};
#define N_POJO (sizeof(pii_pojo_fields) / sizeof(pii_pojo_fields[0]))

enum step_kind { STEP_KEY, STEP_INDEX, STEP_ALL, STEP_DEEP_KEY, STEP_DEEP_ALL };

struct path_step {
	enum step_kind kind;
	char          *key;
	long           index;
};

enum pii_target { PII_CONTEXTS, PII_DERIVED, PII_UNSTRUCT };

struct pii_json {
	enum pii_target  target;
	char            *path_text;       /* the configured jsonPath, for pii_transformation */
	struct iglu_criterion crit;      /* schemaCriterion */
	struct path_step steps[PII_PATH_MAX_STEPS];
	int              n_steps;
};

struct pii {
	int              cols[N_POJO];
	size_t           n_cols;
	struct pii_json *json;
	size_t           n_json;
	char             algo[16];
	char            *salt;
	int              anonymous_only;
	int              emit_event;
};

/* Where the changes of one walk are recorded (emitEvent), or list NULL: not recorded. */
struct pii_rec {
	json_t     *list;
	const char *field;      /* contexts, derived_contexts or unstruct_event */
	const char *path;
	const char *schema;
};

static void
pii_free(void *state)
{
	struct pii *p = state;
	size_t i;
	int k;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_json; i++) {
		for (k = 0; k < p->json[i].n_steps; k++)
			free(p->json[i].steps[k].key);
		free(p->json[i].path_text);
	}
	free(p->json);
	free(p->salt);
	free(p);
}

/* Parse a JSONPath into steps. Returns 0 or -1 with err. */
static int
path_parse(const char *s, struct pii_json *j, char *err, size_t errlen)
{
	const char *p = s;

	if (*p++ != '$') {
		snprintf(err, errlen, "jsonPath %s: must start with $", s);
		return -1;
	}
	while (*p) {
		struct path_step *st;
		int deep = 0;

		if (j->n_steps == PII_PATH_MAX_STEPS) {
			snprintf(err, errlen, "jsonPath %s: too many steps", s);
			return -1;
		}
		st = &j->steps[j->n_steps];
		memset(st, 0, sizeof(*st));
		if (p[0] == '.' && p[1] == '.') {
			deep = 1;
			p += 2;
		} else if (*p == '.') {
			p++;
		} else if (*p != '[') {
			goto bad;
		}
		if (*p == '*') {
			st->kind = deep ? STEP_DEEP_ALL : STEP_ALL;
			p++;
		} else if (*p == '[') {
			const char *q;
			if (p[1] == '\'' || p[1] == '"') {
				char quote = p[1];
				q = strchr(p + 2, quote);
				if (q == NULL || q[1] != ']')
					goto bad;
				st->kind = deep ? STEP_DEEP_KEY : STEP_KEY;
				st->key = strndup(p + 2, (size_t)(q - p - 2));
				p = q + 2;
			} else if (p[1] == '*' && p[2] == ']') {
				st->kind = deep ? STEP_DEEP_ALL : STEP_ALL;
				p += 3;
			} else if (isdigit((unsigned char)p[1]) && !deep) {
				char *end;
				st->kind = STEP_INDEX;
				st->index = strtol(p + 1, &end, 10);
				if (*end != ']')
					goto bad;
				p = end + 1;
			} else {
				goto bad;
			}
		} else {
			size_t l = strcspn(p, ".[");
			if (l == 0)
				goto bad;
			st->kind = deep ? STEP_DEEP_KEY : STEP_KEY;
			st->key = strndup(p, l);
			p += l;
		}
		j->n_steps++;
	}
	return 0;
bad:
	snprintf(err, errlen, "jsonPath %s: unsupported or invalid at \"%s\" (furrow supports "
	    "$, .name, ['name'], [n], [*], .* and ..name)", s, p);
	return -1;
}

static void *
pii_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *params = json_object_get(ctx->data, "parameters");
	const json_t *list = json_object_get(params, "pii");
	const json_t *ps = json_object_get(json_object_get(params, "strategy"), "pseudonymize");
	const char *fn = enr_json_str(ps, "hashFunction"), *salt = enr_json_str(ps, "salt");
	json_t *it, *ao = json_object_get(ctx->data, "anonymousOnly");
	struct pii *p;
	size_t i, k;

	if (!json_is_array(list)) {
		snprintf(err, errlen, "parameters.pii: an array is required");
		return NULL;
	}
	if (fn == NULL || salt == NULL) {
		snprintf(err, errlen, "parameters.strategy.pseudonymize: \"hashFunction\" and \"salt\" "
		    "are required");
		return NULL;
	}
	if (strcmp(fn, "MD2") && strcmp(fn, "MD5") && strcmp(fn, "SHA-1") && strcmp(fn, "SHA-256") &&
	    strcmp(fn, "SHA-384") && strcmp(fn, "SHA-512")) {
		snprintf(err, errlen, "Unknown function %s", fn);
		return NULL;
	}
	if (!enr_digest_supported(fn)) {
		snprintf(err, errlen, "hash function %s is not available from this system's libcrypto",
		    fn);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->json = calloc(json_array_size(list) + 1, sizeof(*p->json))) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->algo, sizeof(p->algo), "%s", fn);
	p->salt = strdup(salt);
	p->anonymous_only = json_is_true(ao);
	p->emit_event = json_is_true(json_object_get(ctx->data, "emitEvent"));
	json_array_foreach(list, i, it) {
		const json_t *pojo = json_object_get(it, "pojo"), *js = json_object_get(it, "json");
		if (pojo != NULL) {
			const char *f = enr_json_str(pojo, "field");
			for (k = 0; f && k < N_POJO && strcmp(pii_pojo_fields[k].name, f); k++)
				;
			if (f == NULL || k == N_POJO) {
				snprintf(err, errlen, "The specified pojo field %s is not supported",
				    f ? f : "(none)");
				goto fail;
			}
			if (p->n_cols < N_POJO)
				p->cols[p->n_cols++] = pii_pojo_fields[k].col;
		} else if (js != NULL) {
			const char *f = enr_json_str(js, "field"), *crit = enr_json_str(js, "schemaCriterion");
			const char *path = enr_json_str(js, "jsonPath");
			struct pii_json *j = &p->json[p->n_json];
			if (f == NULL || crit == NULL || path == NULL) {
				snprintf(err, errlen, "Unable to extract PII JSON: \"field\", "
				    "\"schemaCriterion\" and \"jsonPath\" are required");
				goto fail;
			}
			if (!strcmp(f, "contexts"))
				j->target = PII_CONTEXTS;
			else if (!strcmp(f, "derived_contexts"))
				j->target = PII_DERIVED;
			else if (!strcmp(f, "unstruct_event"))
				j->target = PII_UNSTRUCT;
			else {
				snprintf(err, errlen, "The specified json field %s is not supported", f);
				goto fail;
			}
			if (iglu_criterion_parse(crit, &j->crit) < 0) {
				snprintf(err, errlen, "Could not parse schema criterion %s", crit);
				goto fail;
			}
			p->n_json++;
			j->path_text = strdup(path);
			if (path_parse(path, j, err, errlen) < 0)
				goto fail;
		} else {
			char *s = json_dumps(it, JSON_COMPACT);
			snprintf(err, errlen, "PII Configuration: pii field does not include 'pojo' nor "
			    "'json' fields. Got: [%s]", s ? s : "");
			free(s);
			goto fail;
		}
	}
	return p;
fail:
	pii_free(p);
	return NULL;
}

static int
criterion_matches(const struct pii_json *j, const char *uri)
{
	struct iglu_key k;

	return iglu_key_parse(uri, &k, NULL) == 0 && iglu_criterion_matches(&j->crit, &k);
}

static void
scramble_string(const struct pii *p, json_t *s, int *changed, const struct pii_rec *r)
{
	size_t vl = json_string_length(s), sl = strlen(p->salt);
	char *in = malloc(vl + sl + 1), hex[129];

	if (in == NULL)
		return;
	memcpy(in, json_string_value(s), vl);
	memcpy(in + vl, p->salt, sl);
	if (enr_hex_digest(p->algo, in, vl + sl, hex) > 0) {
		if (r && r->list)   /* JsonModifiedField */
			json_array_append_new(r->list, json_pack("{s:s,s:s%,s:s,s:s,s:s}", "fieldName",
			    r->field, "originalValue", json_string_value(s), vl, "modifiedValue", hex,
			    "jsonPath", r->path, "schema", r->schema));
		json_string_set(s, hex);
		*changed = 1;
	}
	free(in);
}

/* Apply the mapping to one selected node: a string, or the strings of an array. */
static void
scramble_node(const struct pii *p, json_t *n, int *changed, const struct pii_rec *r)
{
	size_t i;
	json_t *e;

	if (json_is_string(n))
		scramble_string(p, n, changed, r);
	else if (json_is_array(n))
		json_array_foreach(n, i, e)
			if (json_is_string(e))
				scramble_string(p, e, changed, r);
}

static void walk(const struct pii *p, const struct pii_json *j, int step, json_t *n, int *changed,
    const struct pii_rec *r);

static void
walk_deep(const struct pii *p, const struct pii_json *j, int step, json_t *n, int *changed,
    const struct pii_rec *r)
{
	const struct path_step *st = &j->steps[step];
	const char *k;
	json_t *c;
	size_t i;

	/* ..key / ..*: match here, then in every descendant */
	if (json_is_object(n)) {
		json_object_foreach(n, k, c) {
			if (st->kind == STEP_DEEP_ALL || !strcmp(k, st->key))
				walk(p, j, step + 1, c, changed, r);
			walk_deep(p, j, step, c, changed, r);
		}
	} else if (json_is_array(n)) {
		json_array_foreach(n, i, c) {
			if (st->kind == STEP_DEEP_ALL)
				walk(p, j, step + 1, c, changed, r);
			walk_deep(p, j, step, c, changed, r);
		}
	}
}

static void
walk(const struct pii *p, const struct pii_json *j, int step, json_t *n, int *changed,
    const struct pii_rec *r)
{
	const struct path_step *st;
	const char *k;
	json_t *c;
	size_t i;

	if (n == NULL)
		return;
	if (step == j->n_steps) {
		scramble_node(p, n, changed, r);
		return;
	}
	st = &j->steps[step];
	switch (st->kind) {
	case STEP_KEY:
		walk(p, j, step + 1, json_object_get(n, st->key), changed, r);
		break;
	case STEP_INDEX:
		if (json_is_array(n)) {
			long idx = st->index;
			if (idx < 0)
				idx += (long)json_array_size(n);
			walk(p, j, step + 1, json_array_get(n, (size_t)idx), changed, r);
		}
		break;
	case STEP_ALL:
		if (json_is_object(n))
			json_object_foreach(n, k, c)
				walk(p, j, step + 1, c, changed, r);
		else if (json_is_array(n))
			json_array_foreach(n, i, c)
				walk(p, j, step + 1, c, changed, r);
		break;
	case STEP_DEEP_KEY:
	case STEP_DEEP_ALL:
		walk_deep(p, j, step, n, changed, r);
		break;
	}
}

static const char *const pii_field_names[] = {
	[PII_CONTEXTS] = "contexts", [PII_DERIVED] = "derived_contexts",
	[PII_UNSTRUCT] = "unstruct_event",
};

static int
apply_entities(const struct pii *p, enum pii_target t, json_t *entities, json_t *record)
{
	int changed = 0;
	size_t i, k;
	json_t *e;

	json_array_foreach(entities, i, e) {
		const char *schema = json_string_value(json_object_get(e, "schema"));
		int copied = t != PII_DERIVED;
		for (k = 0; k < p->n_json; k++)
			if (p->json[k].target == t && criterion_matches(&p->json[k], schema)) {
				if (!copied) {
					/* derived entities may be shared with an enrichment's cache
					 * (ua_parser): change a copy */
					json_t *c = json_deep_copy(e);
					if (c == NULL || json_array_set_new(entities, i, c) < 0)
						return changed;
					e = c;
					copied = 1;
				}
				{
					struct pii_rec r = { record, pii_field_names[t], p->json[k].path_text,
					    schema };
					walk(p, &p->json[k], 0, json_object_get(e, "data"), &changed, &r);
				}
			}
	}
	return changed;
}

/* The core writes the contexts and unstruct_event columns before the enrichments run; when
 * pseudonymisation changed the entities, write the columns again (enriched-event.md §8). */
static void
rewrite_column(struct enrich_event *ev, int col, const char *wrapper, json_t *data)
{
	json_t *w = json_pack("{s:s,s:O}", "schema", wrapper, "data", data);
	struct buf b;

	buf_init(&b, 0);
	if (w && jsonw_value(&b, w) == 0)
		enrich_event_set(ev, col, b.data, b.len);
	buf_free(&b);
	json_decref(w);
}

/* PiiModifiedFields as upstream's serializers encode it: each list newest first, "pojo"
 * before "json" when it has changes. */
static json_t *
transformation(const struct pii *p, json_t *pojo, json_t *json)
{
	json_t *lists = json_object(), *out;
	size_t i, n;

	if (json_array_size(pojo) > 0) {
		json_t *r = json_array();
		for (n = json_array_size(pojo), i = n; i-- > 0;)
			json_array_append(r, json_array_get(pojo, i));
		json_object_set_new(lists, "pojo", r);
	}
	if (json_array_size(json) > 0) {
		json_t *r = json_array();
		for (n = json_array_size(json), i = n; i-- > 0;)
			json_array_append(r, json_array_get(json, i));
		json_object_set_new(lists, "json", r);
	}
	out = json_pack("{s:s,s:{s:o,s:{s:{s:s}}}}", "schema", PII_TRANSFORMATION, "data",
	    "pii", lists, "strategy", "pseudonymize", "hashFunction", p->algo);
	return out;
}

static int
pii_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct pii *p = state;
	json_t *pojo = NULL, *json = NULL, *ctx_rec = NULL, *der_rec = NULL;
	size_t i, k;

	(void)failures;
	json_decref(ev->pii);      /* set by each run of the enrichment, as upstream */
	ev->pii = NULL;
	if (p->anonymous_only) {
		int anon = 0;
		for (i = 0; i < enr_n_headers(ev) && !anon; i++) {
			size_t len;
			const char *h = enr_header_at(ev, i, &len);
			anon = len >= 12 && !strncasecmp(h, "sp-anonymous", 12);
		}
		if (!anon)
			return 0;
	}
	if (p->emit_event) {
		pojo = json_array();
		json = json_array();
		ctx_rec = json_array();
		der_rec = json_array();
	}
	for (i = 0; i < p->n_cols; i++) {
		const char *v = ev->col[p->cols[i]];
		size_t vl, sl;
		char *in, hex[129];
		if (v == NULL)
			continue;
		vl = strlen(v);
		sl = strlen(p->salt);
		if ((in = malloc(vl + sl + 1)) == NULL)
			continue;
		memcpy(in, v, vl);
		memcpy(in + vl, p->salt, sl + 1);
		if (enr_hex_digest(p->algo, in, vl + sl, hex) > 0) {
			if (pojo)   /* ScalarModifiedField */
				json_array_append_new(pojo, json_pack("{s:s,s:s,s:s}", "fieldName",
				    event_cols[p->cols[i]].name, "originalValue", v, "modifiedValue", hex));
			enrich_event_set_str(ev, p->cols[i], hex);
		}
		free(in);
	}
	if (ev->contexts && apply_entities(p, PII_CONTEXTS, ev->contexts, ctx_rec) &&
	    json_array_size(ev->contexts) > 0)
		rewrite_column(ev, COL_CONTEXTS, ENRICH_CONTEXTS_SCHEMA, ev->contexts);
	if (ev->derived)
		apply_entities(p, PII_DERIVED, ev->derived, der_rec);
	if (ev->unstruct) {
		const char *schema = json_string_value(json_object_get(ev->unstruct, "schema"));
		struct pii_rec r = { json, "unstruct_event", NULL, schema };
		int changed = 0;
		for (k = 0; k < p->n_json; k++)
			if (p->json[k].target == PII_UNSTRUCT && criterion_matches(&p->json[k], schema)) {
				r.path = p->json[k].path_text;
				walk(p, &p->json[k], 0, json_object_get(ev->unstruct, "data"), &changed, &r);
			}
		if (changed)
			rewrite_column(ev, COL_UNSTRUCT_EVENT, ENRICH_UNSTRUCT_SCHEMA, ev->unstruct);
	}
	if (p->emit_event) {
		/* upstream's order: pojo, unstruct_event, contexts, derived_contexts */
		json_array_extend(json, ctx_rec);
		json_array_extend(json, der_rec);
		if (json_array_size(pojo) + json_array_size(json) > 0)
			ev->pii = transformation(p, pojo, json);
		json_decref(pojo);
		json_decref(json);
		json_decref(ctx_rec);
		json_decref(der_rec);
	}
	return 0;
}

const struct enr_module enr_pii = {
	"com.snowplowanalytics.snowplow.enrichments", "pii_enrichment_config", 2, ENRICH_STAGE_LATE,
	30, "pii", pii_load, pii_apply, pii_free,
};

int
enr_pii_emits_event(const void *state)
{
	const struct pii *p = state;

	return p != NULL && p->emit_event;
}
