/*
 * enrich_sdj: the self-describing JSON of an event (enriched-event.md §8, §14.3 phase 1b): co/cx
 * and ue_pr/ue_px, plain or base64, parsed, checked against their criteria, validated through
 * Iglu (with §15.6 superseding for each entity), then written into the contexts and
 * unstruct_event columns from the tracker's own text, so that numbers keep their form. Each
 * failure is a schema_violations message for phase 1.
 */
#include "enrich_impl.h"

#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "conv.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "utf8.h"

const char *const enrich_crit_text[CRIT_I_N] = {
	[CRIT_I_PAYLOAD_DATA] = CRIT_PAYLOAD_DATA, [CRIT_I_CONTEXTS] = CRIT_CONTEXTS,
	[CRIT_I_UNSTRUCT] = CRIT_UNSTRUCT, [CRIT_I_THRIFT] = CRIT_THRIFT,
};
struct iglu_criterion enrich_crit[CRIT_I_N];

struct entity_ctx {
	struct buf *out;
	int first;
	json_t *ents;          /* the parsed entities (array), or one entity */
	size_t index;
};

int
enrich_crit_init(void)
{
	int i;

	for (i = 0; i < CRIT_I_N; i++)
		if (iglu_criterion_parse(enrich_crit_text[i], &enrich_crit[i]) < 0)
			return -1;
	return 0;
}

/* Write one entity from the tracker's text (so that numbers keep their form), with the schema
 * URI from the parsed entity (superseding may have rewritten it). */
static int
entity_out_cb(const char *s, size_t len, void *arg)
{
	struct entity_ctx *x = arg;
	json_t *ent = json_is_array(x->ents) ? json_array_get(x->ents, x->index) : x->ents;
	const char *uri = json_string_value(json_object_get(ent, "schema")), *dv;
	size_t dl;

	x->index++;
	if (uri == NULL || conv_json_get(s, len, "data", &dv, &dl) == -1)
		return -1;
	if (!x->first)
		buf_append_byte(x->out, ',');
	x->first = 0;
	buf_append_str(x->out, "{\"schema\":");
	jsonw_string(x->out, uri, strlen(uri));
	buf_append_str(x->out, ",\"data\":");
	conv_json_compact(dv, dl, x->out);
	return buf_append_byte(x->out, '}');
}

/* The text of each element of the contexts array, in order (see spans_of). */
struct spans {
	const char **s;
	size_t *n;
	size_t count, cap;
};

static int
span_cb(const char *s, size_t len, void *arg)
{
	struct spans *sp = arg;

	if (sp->count == sp->cap)
		return -1;
	sp->s[sp->count] = s;
	sp->n[sp->count++] = len;
	return 0;
}

/* Fill sp with the spans of the n elements of the array at dv[0..dl) in the arena; 0 when the
 * text has exactly n elements, -1 otherwise (then the spans are not to be trusted). */
static int
spans_of(struct enrich *e, const char *dv, size_t dl, size_t n, struct spans *sp)
{
	sp->count = 0;
	sp->cap = n;
	sp->s = arena_alloc(&e->arena, (n ? n : 1) * sizeof(*sp->s));
	sp->n = arena_alloc(&e->arena, (n ? n : 1) * sizeof(*sp->n));
	if (sp->s == NULL || sp->n == NULL)
		return -1;
	return conv_json_array_each(dv, dl, span_cb, sp) == (long)n ? 0 : -1;
}

void
phase1_msg(struct evctx *c, json_t *m)
{
	if (c->phase1 == NULL)        /* made at the first message: most events have none */
		c->phase1 = json_array();
	json_array_append_new(c->phase1, m);
}

/* text[0..len): the entity's exact JSON text when known (validations are then remembered by
 * it, iglu_validate_superseding_text), or NULL. */
static int
check_entity(struct evctx *c, json_t *ent, const char *text, size_t len)
{
	struct iglu_key key;
	const char *code = NULL, *uri;
	json_t *schema = json_object_get(ent, "schema"), *data = json_object_get(ent, "data");
	json_t *ce = NULL;
	struct iglu_key used;

	if (!json_is_object(ent) || !json_is_string(schema) || data == NULL) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", ent, "error", "INVALID_DATA_PAYLOAD"));
		return -1;
	}
	uri = json_string_value(schema);
	if (iglu_key_parsen(uri, json_string_length(schema), &key, &code) == -1) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", ent, "error", code ? code : "INVALID_IGLUURI"));
		return -1;
	}
	if (c->e->resolver == NULL)
		return 0;
	if (iglu_validate_superseding_text(c->e->resolver, &key, data, text, len, &ce, &used) == -1) {
		phase1_msg(c, json_pack("{s:s,s:o}", "schemaKey", uri, "error", ce ? ce : json_null()));
		return -1;
	}
	if (used.revision != key.revision || used.addition != key.addition) {
		/* §15.6: the entity now names the superseding version; say so in derived_contexts */
		char newuri[IGLU_URI_MAX], ver[40];
		snprintf(ver, sizeof(ver), "%d-%d-%d", used.model, used.revision, used.addition);
		enrich_event_add_derived(&c->ev, json_pack("{s:s,s:{s:s,s:s}}", "schema",
		    VALIDATION_INFO, "data", "originalSchema", uri, "validatedWith", ver));
		iglu_key_format(&used, newuri, sizeof(newuri));
		json_object_set_new(ent, "schema", json_string(newuri));
	}
	return 0;
}

/* Parse, check and validate co/cx (is_ctx) or ue_pr/ue_px; on success set the column. */
static void
extract_sdj(struct evctx *c, int is_ctx, const char *text, size_t len)
{
	struct enrich *e = c->e;
	const char *field = is_ctx ? "contexts" : "unstruct";
	int ci = is_ctx ? CRIT_I_CONTEXTS : CRIT_I_UNSTRUCT;
	struct iglu_key key;
	json_error_t jerr;
	json_t *j, *schema, *data, *ce = NULL;
	const char *code = NULL, *uri, *dv;
	char msg[300];
	size_t dl, i, n = 0, nkeys;
	struct spans sp;
	int bad = 0, exact;

	if (conv_json_depth(text, len, ENRICH_MAX_DEPTH) > ENRICH_MAX_DEPTH) {
		phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value", jstrn(text, len),
		    "error", "invalid json: maximum allowed JSON depth exceeded"));
		return;
	}
	j = jsonschema_json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "invalid json: %s", jerr.text);
		phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value", jstrn(text, len),
		    "error", msg));
		return;
	}
	schema = json_object_get(j, "schema");
	data = json_object_get(j, "data");
	if (!json_is_object(j) || !json_is_string(schema) || data == NULL) {
		phase1_msg(c, json_pack("{s:o,s:s}", "json", j, "error", "INVALID_DATA_PAYLOAD"));
		return;
	}
	uri = json_string_value(schema);
	if (iglu_key_parsen(uri, json_string_length(schema), &key, &code) == -1) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", j, "error", code ? code : "INVALID_IGLUURI"));
		json_decref(j);
		return;
	}
	if (!iglu_criterion_matches(&enrich_crit[ci], &key)) {
		phase1_msg(c, json_pack("{s:s,s:s}", "schemaKey", uri, "schemaCriterion",
		    enrich_crit_text[ci]));
		json_decref(j);
		return;
	}
	/* text is exactly what j was parsed from: the validation may be remembered by it */
	if (e->resolver && iglu_validate_text(e->resolver, &key, data, text, len, &ce) == -1) {
		phase1_msg(c, json_pack("{s:s,s:o}", "schemaKey", uri, "error", ce ? ce : json_null()));
		json_decref(j);
		return;
	}
	if (is_ctx) {
		if (!json_is_array(data)) {
			phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value",
			    jstrn(text, len), "error", "contexts data is not an array"));
			json_decref(j);
			return;
		}
	}
	/* The text of "data" (the column is written from the tracker's text, so that numbers keep
	 * their form). It is known to be what data was parsed from when the object has as many
	 * members written as parsed (no duplicate or escaped "data"): only then are the entities'
	 * texts handed to the validation as theirs. */
	if (conv_json_get_counted(text, len, "data", &dv, &dl, &nkeys) == -1) {
		dv = NULL;
		dl = 0;
	}
	exact = dv != NULL && nkeys == json_object_size(j);
	if (is_ctx) {
		n = json_array_size(data);
		exact = exact && spans_of(e, dv, dl, n, &sp) == 0;
		for (i = 0; i < n; i++)
			if (check_entity(c, json_array_get(data, i), exact ? sp.s[i] : NULL,
			    exact ? sp.n[i] : 0) == -1)
				bad = 1;
	} else {
		bad = check_entity(c, data, exact ? dv : NULL, dl) == -1;
	}
	if (bad || dv == NULL) {
		json_decref(j);
		return;
	}
	buf_reset(&e->col);
	if (is_ctx) {
		struct entity_ctx x = { &e->col, 1, data, 0 };
		if (n > 0) {
			buf_append_str(&e->col, "{\"schema\":\"" CONTEXTS_OUT "\",\"data\":[");
			if (exact)
				for (i = 0; i < n; i++)
					entity_out_cb(sp.s[i], sp.n[i], &x);
			else
				conv_json_array_each(dv, dl, entity_out_cb, &x);
			buf_append_str(&e->col, "]}");
			enrich_event_set(&c->ev, COL_CONTEXTS, e->col.data, e->col.len);
		}
		c->ev.contexts = json_incref(data);
	} else {
		struct entity_ctx x = { &e->col, 1, data, 0 };
		buf_append_str(&e->col, "{\"schema\":\"" UNSTRUCT_OUT "\",\"data\":");
		entity_out_cb(dv, dl, &x);
		buf_append_byte(&e->col, '}');
		enrich_event_set(&c->ev, COL_UNSTRUCT_EVENT, e->col.data, e->col.len);
		c->ev.unstruct = json_incref(data);
	}
	json_decref(j);
}

void
extract_json_param(struct evctx *c, int plain, int b64)
{
	struct enrich *e = c->e;
	const char *v;
	size_t n;

	if (c->val[plain]) {
		v = c->val[plain];
		extract_sdj(c, plain == PK_CO, v, strlen(v));
		return;
	}
	if (c->val[b64] == NULL)
		return;
	v = c->val[b64];
	n = strlen(v);
	buf_reset(&e->tmp);
	if (buf_reserve(&e->tmp, base64_decoded_max(n) + 1) == -1)
		return;
	e->tmp.len = base64_decode_lenient(v, n, (uint8_t *)e->tmp.data);
	e->tmp.data[e->tmp.len] = '\0';
	if (utf8_valid_prefix(e->tmp.data, e->tmp.len) != e->tmp.len) {
		buf_reset(&e->tmp2);
		if (utf8_repair(e->tmp.data, e->tmp.len, &e->tmp2) == -1)
			return;
		buf_reset(&e->tmp);
		buf_append(&e->tmp, e->tmp2.data, e->tmp2.len);
	}
	/* copy: extract_sdj uses tmp/col as scratch */
	{
		char *t = arena_strndup(&e->arena, e->tmp.data ? e->tmp.data : "", e->tmp.len);
		if (t)
			extract_sdj(c, plain == PK_CO, t, e->tmp.len);
	}
}
