/*
 * enrich_bad: enrich's bad rows (enriched-event.md §14): the failure timestamp, the
 * collector_payload_format_violation row, adapter_failures and tracker_protocol_violations rows,
 * the messages they hold, and the JSON forms of the payload and the partial event that rows
 * carry (§14.5), with strings cut to their schemas' maxLength.
 */
#include "enrich_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrow.h"
#include "base64.h"
#include "conv.h"
#include "event.h"
#include "jsonw.h"
#include "utf8.h"
#include "uuid.h"

json_t *
jstr(const char *s)
{
	return s ? jsonw_string_new(s, strlen(s)) : json_null();
}

json_t *
jstrn(const char *s, size_t n)
{
	return s ? jsonw_string_new(s, n) : json_null();
}

/* A JSON string of s[0..n) cut to at most max characters (code points), so that bad rows
 * respect their schemas' maxLength (enriched-event.md §14.5). */
static json_t *
jstrmax(const char *s, size_t n, size_t max)
{
	return s ? jsonw_string_new(s, utf8_cut(s, n, max)) : json_null();
}

static json_t *
jtmax(const struct tstr *t, size_t max)
{
	return jstrmax(t->s, t->len, max);
}

json_t *
jtstr(const struct tstr *t)
{
	return t->s ? jsonw_string_new(t->s, t->len) : json_null();
}

/* The network user id as upstream prints its java.util.UUID: lower case. */
static json_t *
jnuid(const struct tstr *t)
{
	char u[UUID_STR_LEN + 1];

	if (t->s && conv_uuid(t->s, u) == 0)
		return json_string(u);
	return jtstr(t);
}

static json_t *
headers_json(const struct thrift_payload *tp)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < tp->n_headers; i++)
		json_array_append_new(a, jsonw_string_new(tp->headers[i].s, tp->headers[i].len));
	return a;
}

static json_t *
collector_payload_json(struct enrich *e)
{
	const struct thrift_payload *tp = &e->tp;
	json_t *o = json_object(), *qs = json_array(), *h = json_array();
	char ts[TIMEFMT_BUFSZ];
	size_t i;

	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name, *v = e->qs.p[i].value;
		json_array_append_new(qs, json_pack("{s:o,s:o}", "name", jstrmax(n, strlen(n), 512),
		    "value", v ? jstrmax(v, strlen(v), 512) : json_null()));
	}
	for (i = 0; i < tp->n_headers; i++)
		json_array_append_new(h, jtmax(&tp->headers[i], 8192));
	timefmt_joda(tp->timestamp, ts);
	json_object_set_new(o, "vendor", e->vendor ? jstrmax(e->vendor, strlen(e->vendor), 64) :
	    json_null());
	json_object_set_new(o, "version", e->version ? jstrmax(e->version, strlen(e->version), 16) :
	    json_null());
	json_object_set_new(o, "querystring", qs);
	json_object_set_new(o, "contentType", jtmax(&tp->content_type, 256));
	json_object_set_new(o, "body", jtstr(&tp->body));
	json_object_set_new(o, "collector", jtmax(&tp->collector, 32));
	json_object_set_new(o, "encoding", jtstr(&tp->encoding));
	json_object_set_new(o, "hostname", jtstr(&tp->hostname));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "ipAddress", e->ip_len ? jstrmax(e->ip, e->ip_len, 128) :
	    json_null());
	json_object_set_new(o, "useragent", jtmax(&tp->user_agent, 4096));
	json_object_set_new(o, "refererUri", jtstr(&tp->referer_uri));
	json_object_set_new(o, "headers", h);
	json_object_set_new(o, "networkUserId", jnuid(&tp->network_user_id));
	return o;
}

json_t *
raw_event_json(struct enrich *e, const struct plist *params)
{
	const struct thrift_payload *tp = &e->tp;
	json_t *o = json_object(), *ps = json_array();
	char ts[TIMEFMT_BUFSZ];
	size_t i;

	for (i = 0; i < params->n; i++)
		json_array_append_new(ps, json_pack("{s:o,s:o}", "name", jstr(params->p[i].name),
		    "value", jstr(params->p[i].value)));
	timefmt_joda(tp->timestamp, ts);
	json_object_set_new(o, "vendor", jstr(e->vendor));
	json_object_set_new(o, "version", jstr(e->version));
	json_object_set_new(o, "parameters", ps);
	json_object_set_new(o, "contentType", jtstr(&tp->content_type));
	json_object_set_new(o, "loaderName", jtstr(&tp->collector));
	json_object_set_new(o, "encoding", jtstr(&tp->encoding));
	json_object_set_new(o, "hostname", jtstr(&tp->hostname));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "ipAddress", e->ip_len ? jstrn(e->ip, e->ip_len) : json_null());
	json_object_set_new(o, "useragent", jtstr(&tp->user_agent));
	json_object_set_new(o, "refererUri", jtstr(&tp->referer_uri));
	json_object_set_new(o, "headers", headers_json(tp));
	json_object_set_new(o, "userId", jnuid(&tp->network_user_id));
	return o;
}

json_t *
partial_event_json(const struct enrich_event *ev)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < EVENT_NCOLS; i++) {
		const char *v = ev->col[i];
		json_t *jv;
		if (v == NULL) {
			jv = i == COL_USERAGENT && ev->useragent_empty ? json_string("") : json_null();
		} else if (event_cols[i].type == EVT_INT || event_cols[i].type == EVT_BOOL) {
			jv = json_integer(strtoll(v, NULL, 10));   /* txn_id included: an Int */
		} else if (event_cols[i].type == EVT_FLOAT) {
			jv = json_real(strtod(v, NULL));
		} else {
			jv = jstr(v);
		}
		json_object_set_new(o, event_cols[i].name, jv);
	}
	return o;
}

/* The failure timestamp (Instant form), made only when a bad row needs it. */
const char *
fail_ts(struct enrich *e)
{
	if (e->fail_ts[0] == '\0')
		timefmt_instant(e->etl_ms, e->fail_ts);
	return e->fail_ts;
}

int
emit_row(struct enrich *e, json_t *row, struct buf *bad)
{
	int rc;

	if (row == NULL)
		return -1;
	rc = badrow_write(row, bad);
	if (rc == 0) {
		e->counts.bad++;
		e->counts.bad_by_type[badrow_type_of(json_string_value(json_object_get(row,
		    "schema")))]++;
	}
	json_decref(row);
	return rc;
}

int
emit_cpfv(struct enrich *e, json_t *message, const uint8_t *raw, size_t rawlen, struct buf *bad)
{
	char *b64 = malloc(base64_encoded_len(rawlen) + 1);
	json_t *failure, *payload;

	if (b64 == NULL) {
		json_decref(message);
		return -1;
	}
	base64_encode(raw, rawlen, b64);
	payload = json_string(b64);
	free(b64);
	failure = json_pack("{s:s,s:s,s:o}", "timestamp", fail_ts(e), "loader", "thrift",
	    "message", message);
	return emit_row(e, badrow_new(BADROW_CPFV, ENRICH_ARTIFACT, failure, payload), bad);
}

json_t *
msg_fallback(const char *text)
{
	return json_pack("{s:o}", "error", jstr(text));
}

json_t *
msg_cp_input(const char *field, json_t *value, const char *expectation)
{
	return json_pack("{s:o,s:o,s:o}", "payloadField", jstrmax(field, strlen(field), 64),
	    "value", value ? value : json_null(),
	    "expectation", jstrmax(expectation, strlen(expectation), 256));
}

json_t *
msg_input(const char *field, json_t *value, const char *expectation)
{
	return json_pack("{s:o,s:o,s:o}", "field", jstrmax(field, strlen(field), 64),
	    "value", value ? value : json_null(),
	    "expectation", jstrmax(expectation, strlen(expectation), 256));
}

/* adapter_failures / tracker_protocol_violations: one row per payload. */
int
emit_payload_failure(struct enrich *e, const char *schema, json_t *messages, struct buf *bad)
{
	json_t *failure = json_pack("{s:s,s:o,s:o,s:o}", "timestamp", fail_ts(e),
	    "vendor", jstr(e->vendor), "version", jstr(e->version), "messages", messages);

	return emit_row(e, badrow_new(schema, ENRICH_ARTIFACT, failure, collector_payload_json(e)),
	    bad);
}
