/*
 * enrich_adapt: path -> events, the adapter step of enrich's core (step 2 in enrich.c). The
 * Snowplow tracker protocol is here: tp1 (GET /i), tp2 (GET or POST payload_data) and the
 * redirect adapter (/r/tp2) (tracker-protocol.md §1, §6, §7); every other /{vendor}/{version}
 * goes to the webhook adapters of adapt.h (adapt_*.c), whose raw events come back here, or
 * stays adapter_failures (AdapterRegistry: "vendor/version combination is not supported").
 * Each raw event is handed to enrich_event_run (enrich.c).
 */
#include "enrich_impl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "badrow.h"
#include "base64.h"
#include "conv.h"
#include "iglu.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "thrift.h"
#include "utf8.h"

/* ---- adapters (tracker-protocol.md §1, §6, §7) ---- */

/* The payload's body as upstream reads it, new String(body, UTF-8): each malformed sequence
 * becomes U+FFFD. 0, or -1 when memory ran out. */
static int
body_utf8(struct enrich *e, const char **body, size_t *len)
{
	const struct thrift_payload *tp = &e->tp;

	*body = tp->body.s;
	*len = tp->body.len;
	if (utf8_valid_prefix(*body, *len) == *len)
		return 0;
	buf_reset(&e->tmp);
	if (utf8_repair(*body, *len, &e->tmp) == -1 ||
	    (*body = arena_strndup(&e->arena, e->tmp.data, e->tmp.len)) == NULL)
		return -1;
	*len = e->tmp.len;
	return 0;
}

static int
evp_from_qs(struct enrich *e)
{
	size_t i;

	plist_reset(&e->evp);
	for (i = 0; i < e->qs.n; i++)
		if (e->qs.p[i].value && plist_put(&e->evp, e->qs.p[i].name, e->qs.p[i].value, 0) == -1)
			return -1;
	return 0;
}

static size_t
qs_values(const struct enrich *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->qs.n; i++)
		n += e->qs.p[i].value != NULL;
	return n;
}

static int
adapter_tp1(struct enrich *e, struct buf *good, struct buf *bad)
{
	if (qs_values(e) == 0)
		return emit_payload_failure(e, BADROW_ADAPTER, json_pack("[o]", msg_input("querystring",
		    NULL, "empty querystring: not a valid URI redirect")), bad);
	if (evp_from_qs(e) == -1)
		return -1;
	return enrich_event_run(e, good, bad);
}

static int
content_type_ok(const struct tstr *ct)
{
	return strcmp(ct->s, "application/json") == 0 ||
	    strcmp(ct->s, "application/json; charset=utf-8") == 0 ||
	    strcmp(ct->s, "application/json; charset=UTF-8") == 0;
}

#define CT_EXPECT "expected one of application/json, application/json; charset=utf-8, " \
	"application/json; charset=UTF-8"

static int
adapter_tp2(struct enrich *e, struct buf *good, struct buf *bad)
{
	const struct thrift_payload *tp = &e->tp;
	int has_body = tp->body.s != NULL && tp->body.len > 0;
	json_t *msgs, *j, *schema, *data, *ce = NULL;
	json_error_t jerr;
	struct iglu_key key;
	const char *code = NULL, *body;
	size_t blen, i;
	char msg[300];
	int rc = 0;

	if (!has_body) {
		if (tp->content_type.s)
			return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
			    msg_input("body", NULL, "empty body: not a valid track protocol event")), bad);
		if (qs_values(e) == 0)
			return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o,o]",
			    msg_input("body", NULL, "empty body: not a valid tracker protocol event"),
			    msg_input("querystring", NULL,
			    "empty querystring: not a valid tracker protocol event")), bad);
		if (evp_from_qs(e) == -1)
			return -1;
		return enrich_event_run(e, good, bad);
	}
	if (tp->content_type.s == NULL || !content_type_ok(&tp->content_type))
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("contentType", jtstr(&tp->content_type), CT_EXPECT)), bad);
	if (body_utf8(e, &body, &blen) == -1)
		return -1;
	if (conv_json_depth(body, blen, ENRICH_MAX_DEPTH) > ENRICH_MAX_DEPTH)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:s,s:o,s:s}]",
		    "field", "body", "value", jstrn(body, blen),
		    "error", "invalid json: maximum allowed JSON depth exceeded"), bad);
	j = jsonschema_json_loadb(body, blen, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "invalid json: %s", jerr.text);
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:s,s:o,s:s}]",
		    "field", "body", "value", jstrn(body, blen), "error", msg), bad);
	}
	schema = json_object_get(j, "schema");
	data = json_object_get(j, "data");
	if (!json_is_object(j) || !json_is_string(schema) || data == NULL)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:o,s:s}]",
		    "json", j, "error", "INVALID_DATA_PAYLOAD"), bad);
	if (iglu_key_parsen(json_string_value(schema), json_string_length(schema), &key,
	    &code) == -1) {
		msgs = json_pack("[{s:O,s:s}]", "json", j, "error", code ? code : "INVALID_IGLUURI");
		goto fail;
	}
	if (!iglu_criterion_matches(&enrich_crit[CRIT_I_PAYLOAD_DATA], &key)) {
		msgs = json_pack("[{s:s,s:s}]", "schemaKey", json_string_value(schema),
		    "schemaCriterion", CRIT_PAYLOAD_DATA);
		goto fail;
	}
	if (e->resolver && iglu_validate(e->resolver, &key, data, &ce) == -1) {
		msgs = json_pack("[{s:s,s:o}]", "schemaKey", json_string_value(schema), "error",
		    ce ? ce : json_null());
		goto fail;
	}
	if (!json_is_array(data)) {
		msgs = json_pack("[o]", msg_input("data", NULL, "json is not an array"));
		goto fail;
	}
	if (json_array_size(data) == 0) {
		msgs = json_pack("[o]", msg_input("data", NULL, "empty list of events"));
		goto fail;
	}
	/* every event's values must be strings before any is enriched */
	msgs = json_array();
	for (i = 0; i < json_array_size(data); i++) {
		json_t *ev = json_array_get(data, i), *v;
		const char *k;
		if (!json_is_object(ev)) {
			json_array_append_new(msgs, msg_input("data", NULL, "event is not an object"));
			continue;
		}
		json_object_foreach(ev, k, v) {
			if (json_is_null(v))
				json_array_append_new(msgs, msg_input(k, NULL, "value cannot be null"));
			else if (!json_is_string(v))
				json_array_append_new(msgs, msg_input(k, json_incref(v),
				    "value is not a string"));
		}
	}
	if (json_array_size(msgs) > 0)
		goto fail;
	json_decref(msgs);
	for (i = 0; i < json_array_size(data) && rc == 0; i++) {
		json_t *ev = json_array_get(data, i), *v;
		const char *k;
		size_t q;
		plist_reset(&e->evp);
		json_object_foreach(ev, k, v) {
			if (plist_put(&e->evp, (char *)k, (char *)json_string_value(v), 0) == -1) {
				rc = -1;
				break;
			}
		}
		for (q = 0; q < e->qs.n && rc == 0; q++)
			if (e->qs.p[q].value &&
			    plist_put(&e->evp, e->qs.p[q].name, e->qs.p[q].value, 1) == -1)
				rc = -1;
		if (rc == 0)
			rc = enrich_event_run(e, good, bad);
	}
	json_decref(j);
	return rc;
fail:
	json_decref(j);
	return emit_payload_failure(e, BADROW_TRACKER_PROTO, msgs, bad);
}

/* Redirect adapter (tracker-protocol.md §7). */
static int
adapter_redirect(struct enrich *e, struct buf *good, struct buf *bad)
{
	const char *u = NULL, *co = NULL, *cx = NULL;
	int has_e = 0, has_p = 0;
	struct buf j;
	size_t i;
	int rc;

	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name, *v = e->qs.p[i].value;
		if (v == NULL)
			continue;
		if (strcmp(n, "u") == 0)
			u = v;
		else if (strcmp(n, "e") == 0)
			has_e = 1;
		else if (strcmp(n, "p") == 0)
			has_p = 1;
		else if (strcmp(n, "co") == 0)
			co = v;
		else if (strcmp(n, "cx") == 0)
			cx = v;
	}
	if (qs_values(e) == 0)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("querystring", NULL, "empty querystring: not a valid URI redirect")), bad);
	if (u == NULL)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("querystring", NULL, "missing `u` parameter: not a valid URI redirect")),
		    bad);
	buf_init(&j, 0);
	buf_append_str(&j, "{\"schema\":\"" URI_REDIRECT "\",\"data\":{\"uri\":");
	jsonw_string(&j, u, strlen(u));
	buf_append_str(&j, "}}");
	plist_reset(&e->evp);
	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name;
		if (e->qs.p[i].value == NULL || strcmp(n, "u") == 0 || strcmp(n, "tv") == 0)
			continue;
		if (has_e && (strcmp(n, "co") == 0 || strcmp(n, "cx") == 0))
			continue;
		plist_put(&e->evp, e->qs.p[i].name, e->qs.p[i].value, 0);
	}
	plist_put(&e->evp, "tv", "r-tp2", 0);
	if (!has_p)
		plist_put(&e->evp, "p", "web", 0);
	if (!has_e) {
		struct buf w;
		buf_init(&w, 0);
		buf_append_str(&w, "{\"schema\":\"" UNSTRUCT_OUT "\",\"data\":");
		buf_append(&w, j.data, j.len);
		buf_append_byte(&w, '}');
		plist_put(&e->evp, "e", "ue", 0);
		plist_put(&e->evp, "ue_pr", arena_strndup(&e->arena, w.data, w.len), 0);
		buf_free(&w);
	} else {
		/* prepend the uri_redirect entity to the contexts */
		struct buf w, dec;
		json_t *chk;
		const char *text = co, *dv;
		size_t tl = co ? strlen(co) : 0, dl;
		buf_init(&w, 0);
		buf_init(&dec, 0);
		if (!co && cx) {
			buf_reserve(&dec, base64_decoded_max(strlen(cx)) + 1);
			dec.len = base64_decode_lenient(cx, strlen(cx), (uint8_t *)dec.data);
			dec.data[dec.len] = '\0';
			text = dec.data;
			tl = dec.len;
		}
		chk = text ? jsonschema_json_loadb(text, tl, 0, 0, NULL) : NULL;
		if (chk && conv_json_get(text, tl, "data", &dv, &dl) == 0 && dl >= 2 &&
		    dv[0] == '[') {
			const char *sv = NULL;
			size_t sl = 0, k = 1;
			conv_json_get(text, tl, "schema", &sv, &sl);
			buf_append_str(&w, "{\"schema\":");
			buf_append(&w, sv, sl);
			buf_append_str(&w, ",\"data\":[");
			buf_append(&w, j.data, j.len);
			/* the existing entities after ours */
			while (k < dl && (dv[k] == ' ' || dv[k] == '\n' || dv[k] == '\t' || dv[k] == '\r'))
				k++;
			if (k < dl && dv[k] != ']')
				buf_append_byte(&w, ',');
			buf_append(&w, dv + 1, dl - 1);
			buf_append_byte(&w, '}');
		} else if (text) {
			buf_append(&w, text, tl);   /* invalid: let phase 1 report it */
		} else {
			buf_append_str(&w, "{\"schema\":\"" CONTEXTS_100 "\",\"data\":[");
			buf_append(&w, j.data, j.len);
			buf_append_str(&w, "]}");
		}
		if (co || !cx) {
			plist_put(&e->evp, "co", arena_strndup(&e->arena, w.data, w.len), 0);
		} else {
			char *enc = malloc(base64_encoded_len(w.len) + 1);
			if (enc) {
				base64url_encode((const uint8_t *)w.data, w.len, enc);
				plist_put(&e->evp, "cx", arena_strndup(&e->arena, enc, strlen(enc)), 0);
				free(enc);
			}
		}
		json_decref(chk);
		buf_free(&w);
		buf_free(&dec);
	}
	buf_free(&j);
	rc = enrich_event_run(e, good, bad);
	return rc;
}

/* ---- webhook adapters (adapt.h) ---- */

/* Replace what the adapter replaced of the payload's context (CollectorPayload.Context): the
 * events that follow see it, as upstream's RawEvent carries its own context. */
static int
webhook_context(struct enrich *e, const struct adapt_ctx *c)
{
	struct thrift_payload *tp = &e->tp;
	size_t i;

	if (c->has_ts)
		tp->timestamp = c->ts_ms;
	if (!c->replace)
		return 0;
	e->ip_len = c->ip ? strlen(c->ip) : 0;
	if (e->ip_len >= sizeof(e->ip))
		e->ip_len = sizeof(e->ip) - 1;
	memcpy(e->ip, c->ip ? c->ip : "", e->ip_len);
	e->ip[e->ip_len] = '\0';
	free(tp->user_agent.s);
	tp->user_agent.s = NULL;
	if (c->ua && thrift_tstr_set(&tp->user_agent, c->ua, strlen(c->ua)) == -1)
		return -1;
	free(tp->referer_uri.s);
	tp->referer_uri.s = NULL;
	free(tp->network_user_id.s);
	tp->network_user_id.s = NULL;
	for (i = 0; i < tp->n_headers; i++)
		free(tp->headers[i].s);
	tp->n_headers = 0;
	return 0;
}

static int
adapter_webhook(struct enrich *e, const struct adapt_def *def, struct buf *good,
    struct buf *bad)
{
	const struct thrift_payload *tp = &e->tp;
	struct adapt_req req;
	struct adapt_out out;
	struct smap qs;
	size_t i, k;
	int rc = 0;

	memset(&req, 0, sizeof(req));
	smap_init(&qs);
	adapt_out_init(&out);
	for (i = 0; i < e->qs.n && rc == 0; i++)      /* e->qs is toMap(querystring) already */
		rc = smap_put(&qs, e->qs.p[i].name, e->qs.p[i].value);
	req.vendor = e->vendor;
	req.version = e->version;
	req.qs = &qs;
	req.content_type = tp->content_type.s;
	req.max_depth = ENRICH_MAX_DEPTH;
	if (tp->body.s && body_utf8(e, &req.body, &req.body_len) == -1)
		rc = -1;
	if (rc == 0)
		rc = def->run(&req, &out);
	if (rc == 0 && (out.fail || out.n == 0)) {
		if (out.fail == NULL)   /* every adapter reports why it has no event; never drop one */
			out.fail = json_pack("[o]", msg_input("body", NULL, "empty list of events"));
		rc = emit_payload_failure(e, BADROW_ADAPTER, out.fail, bad);
		out.fail = NULL;
	}
	for (k = 0; k < out.n && rc == 0 && out.fail == NULL; k++) {
		struct adapt_event *ev = &out.ev[k];
		size_t *ix = smap_order(&ev->params);
		if (ix == NULL || webhook_context(e, &ev->ctx) == -1) {
			free(ix);
			rc = -1;
			break;
		}
		plist_reset(&e->evp);
		for (i = 0; i < ev->params.n && rc == 0; i++)
			rc = plist_put(&e->evp, ev->params.e[ix[i]].k, ev->params.e[ix[i]].v, 0);
		free(ix);
		if (rc == 0)
			rc = enrich_event_run(e, good, bad);
	}
	adapt_out_free(&out);
	smap_free(&qs);
	return rc;
}

/* ---- the registry (AdapterRegistry) ---- */

int
enrich_adapt(struct enrich *e, struct buf *good, struct buf *bad)
{
	const struct adapt_def *def;
	char err[256];

	if (strcmp(e->vendor, SNOWPLOW_VENDOR) == 0 && strcmp(e->version, "tp1") == 0)
		return adapter_tp1(e, good, bad);
	if (strcmp(e->vendor, SNOWPLOW_VENDOR) == 0 && strcmp(e->version, "tp2") == 0)
		return adapter_tp2(e, good, bad);
	if (strcmp(e->vendor, "r") == 0 && strcmp(e->version, "tp2") == 0)
		return adapter_redirect(e, good, bad);
	if ((def = adapt_find(e->vendor, e->version)) != NULL)
		return adapter_webhook(e, def, good, bad);
	snprintf(err, sizeof(err), "%.100s/%.100s", e->vendor, e->version);
	return emit_payload_failure(e, BADROW_ADAPTER, json_pack("[o]",
	    msg_input("vendor/version", jstr(err), "vendor/version combination is not supported")),
	    bad);
}
