/*
 * adapt_vendors: the other SaaS webhooks (snowplow/enrich 6.10.0 adapters/registry/
 * {Callrail,HubSpot,Marketo,Olark,Pagerduty,Pingdom,StatusGator,Unbounce,UrbanAirship}
 * Adapter.scala):
 *   /com.callrail/v1            GET, the query string is the call
 *   /com.hubspot/v1             JSON array body, one event per subscription message
 *   /com.marketo/v1             JSON object body, one event
 *   /com.olark/v1               form body data=<JSON>, a transcript or an offline message
 *   /com.pagerduty/v1           JSON body {"messages":[…]}, one event per message
 *   /com.pingdom/v1             GET, message=<JSON> on the query string
 *   /com.statusgator/v1         form body, one status change
 *   /com.unbounce/v1            form body with data.json=<JSON>, one form post
 *   /com.urbanairship.connect/v1  JSON body, no content type, one event
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "conv.h"

#define CT_FORM "application/x-www-form-urlencoded"
#define CT_JSON "application/json"
#define NO_EVENTS "empty body: no events to process"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- CallRail ---- */

int
adapt_callrail_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct ajson *data;
	int rc = 0;

	if (req->qs->n == 0)
		return adapt_fail_input(out, "querystring", NULL, "empty querystring");
	data = adapt_format(req->qs, "first_call answered", "duration", "datetime");
	if (data == NULL || adapt_unstruct(out, "com.callrail-v1", req->qs,
	    "iglu:com.callrail/call_complete/jsonschema/1-0-2", data, "srv") == NULL)
		rc = -1;
	ajson_free(data);
	return rc;
}

/* ---- HubSpot ---- */

static const struct adapt_type hubspot_types[] = {
	{ "contact.creation", "iglu:com.hubspot/contact_creation/jsonschema/1-0-0" },
	{ "contact.deletion", "iglu:com.hubspot/contact_deletion/jsonschema/1-0-0" },
	{ "contact.propertyChange", "iglu:com.hubspot/contact_change/jsonschema/1-0-0" },
	{ "company.creation", "iglu:com.hubspot/company_creation/jsonschema/1-0-0" },
	{ "company.deletion", "iglu:com.hubspot/company_deletion/jsonschema/1-0-0" },
	{ "company.propertyChange", "iglu:com.hubspot/company_change/jsonschema/1-0-0" },
	{ "deal.creation", "iglu:com.hubspot/deal_creation/jsonschema/1-0-0" },
	{ "deal.deletion", "iglu:com.hubspot/deal_deletion/jsonschema/1-0-0" },
	{ "deal.propertyChange", "iglu:com.hubspot/deal_change/jsonschema/1-0-0" },
};

int
adapt_hubspot_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct ajson *arr;
	char err[512];
	size_t i;
	int rc;

	if ((rc = adapt_check_body(req, out, CT_JSON, 0, "empty body: not events to process")) != 0)
		return rc < 0 ? -1 : 0;
	if ((arr = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	if (arr->type != AJ_ARR) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len, "not a json array");
		ajson_free(arr);
		return rc;
	}
	for (i = 0; i < arr->n && rc == 0; i++) {
		struct ajson *ev = arr->m[i].val, *occ;
		const struct ajson *t = adapt_get_string(ev, "subscriptionType", NULL, 0);
		const char *schema = adapt_lookup_schema(out, t ? t->s : NULL, hubspot_types,
		    NELEM(hubspot_types), (long)i);
		int64_t ms;
		char iso[48];
		if (schema == NULL)
			continue;
		/* reformatParameters: occurredAt (ms) as ISO text, subscriptionType removed */
		occ = ajson_get(ev, "occurredAt");
		if (occ && adapt_json_long(occ, &ms) == 0) {
			adapt_iso_ms(ms, iso);
			if (ajson_set(ev, "occurredAt", 10, ajson_str(iso, strlen(iso))) == -1) {
				rc = -1;
				break;
			}
		}
		ajson_del(ev, "subscriptionType");
		if (adapt_unstruct(out, "com.hubspot-v1", req->qs, schema, ev, "srv") == NULL)
			rc = -1;
	}
	if (rc == 0)
		rc = adapt_finish_list(out);
	ajson_free(arr);
	return rc;
}

/* ---- Marketo ---- */

static int
marketo_dates(struct ajson *j)
{
	struct buf b;
	size_t i;

	if (j->type != AJ_OBJ)
		return 0;
	adapt_scala_order(j);                         /* obj.toMap.map {...} */
	buf_init(&b, 0);
	for (i = 0; i < j->n; i++) {
		struct ajson *v = j->m[i].val;
		char k[40];
		snprintf(k, sizeof(k), " %.*s ", (int)(j->m[i].klen < 32 ? j->m[i].klen : 32),
		    j->m[i].key);
		if (j->m[i].klen < 32 && strstr(" acquisition_date created_at email_suspended_at "
		    "last_referred_enrollment last_referred_visit updated_at datetime "
		    "last_interesting_moment_date ", k)) {
			struct ajson *n;
			if (v->type != AJ_STR)
				continue;
			buf_reset(&b);
			adapt_joda_datetime(v->s, v->len, &b);
			if ((n = ajson_str(b.data ? b.data : "", b.len)) == NULL) {
				buf_free(&b);
				return -1;
			}
			ajson_free(v);
			j->m[i].val = n;
		} else if (v->type == AJ_OBJ && marketo_dates(v) == -1) {
			buf_free(&b);
			return -1;
		}
	}
	buf_free(&b);
	return 0;
}

int
adapt_marketo_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct ajson *j;
	char err[512];
	int rc;

	if ((rc = adapt_check_body(req, out, NULL, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if ((j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	if (j->type != AJ_OBJ)
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len, "not a json object");
	else if (marketo_dates(j) == -1 || adapt_unstruct(out, "com.marketo-v1", req->qs,
	    "iglu:com.marketo/event/jsonschema/2-0-0", j, "srv") == NULL)
		rc = -1;
	ajson_free(j);
	return rc;
}

/* ---- Olark ---- */

/* The form-parsing failure of Olark, StatusGator and Unbounce: "could not parse body: " and
 * the URI message; Olark and Unbounce name the field after the body itself. */
static int
form_fail(const struct adapt_req *req, struct adapt_out *out, int field_is_body,
    const char *err)
{
	char strip[512], msg[600];

	adapt_strip_message(err, strip, sizeof(strip));
	snprintf(msg, sizeof(msg), "could not parse body: %s", strip);
	return field_is_body ? adapt_fail_input_n(out, req->body, req->body_len, req->body,
	    req->body_len, msg) : adapt_fail_input_n(out, "body", 4, req->body, req->body_len, msg);
}

/* OlarkAdapter.toMsec: "sec" or "sec.frac" (Java's split('.'), trailing empty pieces dropped)
 * as "sec" + the first three fraction digits padded with zeros; 0 with the ms, 1 after adding
 * a failure, -1 when memory ran out. */
static int
olark_msec(struct adapt_out *out, const struct ajson *ts, int64_t *ms)
{
	const char *p[2] = { NULL, NULL };
	size_t pl[2] = { 0, 0 }, n = 0, i, st = 0, total = 0, fl;
	struct buf f;
	int rc;

	for (i = 0; i <= ts->len; i++) {
		if (i < ts->len && ts->s[i] != '.')
			continue;
		if (n < 2) {
			p[n] = ts->s + st;
			pl[n] = i - st;
		}
		n++;
		if (i - st > 0)
			total = n;                    /* pieces up to the last non-empty one */
		st = i + 1;
	}
	if (memchr(ts->s, '.', ts->len) == NULL)
		total = 1;                            /* no match: [the string], even "" */
	if (total != 1 && total != 2)
		return adapt_fail_input_n(out, "timestamp", 9, ts->s, ts->len,
		    "unexpected timestamp format") == -1 ? -1 : 1;
	buf_init(&f, 0);
	buf_append(&f, p[0], pl[0]);
	fl = total == 2 ? (pl[1] < 3 ? pl[1] : 3) : 0;
	buf_append(&f, total == 2 ? p[1] : "", fl);
	buf_append(&f, "000", 3 - fl);
	rc = 0;
	if (conv_int64(f.data, ms) == -1 || strlen(f.data) != f.len)
		rc = adapt_fail_input_n(out, "timestamp", 9, f.data, f.len,
		    "cannot be converted to Double") == -1 ? -1 : 1;
	buf_free(&f);
	return rc;
}

/* OlarkAdapter.transformTimestamps: items[*].timestamp strings to ISO text. */
static int
olark_timestamps(struct adapt_out *out, struct ajson *ev)
{
	struct ajson *items = ajson_get(ev, "items");
	size_t i, k;
	int rc;

	if (items == NULL || items->type != AJ_ARR)
		return 0;
	for (i = 0; i < items->n; i++) {
		struct ajson *it = items->m[i].val, *ts = ajson_get(it, "timestamp"), *n;
		char iso[48];
		int64_t ms;
		if (ts == NULL || ts->type != AJ_STR)
			continue;
		if ((rc = olark_msec(out, ts, &ms)) != 0)
			return rc;
		adapt_iso_ms(ms, iso);
		if ((n = ajson_str(iso, strlen(iso))) == NULL)
			return -1;
		for (k = 0; k < it->n; k++)
			if (it->m[k].val == ts) {
				ajson_free(ts);
				it->m[k].val = n;
				break;
			}
	}
	return 0;
}

int
adapt_olark_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const struct adapt_type types[] = {
		{ "transcript", "iglu:com.olark/transcript/jsonschema/1-0-0" },
		{ "offline_message", "iglu:com.olark/offline_message/jsonschema/1-0-0" },
	};
	struct smap form;
	struct smap_ent *d;
	struct ajson *ev = NULL;
	const char *schema;
	char err[512];
	int rc;

	if ((rc = adapt_check_body(req, out, CT_FORM, ADAPT_NONEMPTY | ADAPT_CT_NOVALUE,
	    NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	smap_init(&form);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		rc = form_fail(req, out, 1, err);
		goto done;
	}
	if (rc < 0)
		goto done;
	d = smap_get(&form, "data");
	if (d == NULL || d->v == NULL || d->v[0] == '\0') {
		rc = adapt_fail_input(out, "data", NULL, "missing 'data' field");
		goto done;
	}
	if ((ev = ajson_parse(d->v, strlen(d->v), req->max_depth, err, sizeof(err))) == NULL) {
		rc = adapt_fail_notjson(out, "data", d->v, strlen(d->v), err);
		goto done;
	}
	schema = types[ev->type == AJ_OBJ && ajson_get(ev, "operators") ? 0 : 1].schema;
	if ((rc = olark_timestamps(out, ev)) != 0)
		goto done;
	rc = -1;
	if (adapt_camelize(ev) == 0 &&
	    adapt_unstruct(out, "com.olark-v1", req->qs, schema, ev, "srv") != NULL)
		rc = 0;
done:
	ajson_free(ev);
	smap_free(&form);
	return rc < 0 ? -1 : 0;
}

/* ---- PagerDuty ---- */

static const struct adapt_type pagerduty_types[] = {
	{ "incident.trigger", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.acknowledge", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.unacknowledge", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.resolve", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.assign", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.escalate", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
	{ "incident.delegate", "iglu:com.pagerduty/incident/jsonschema/1-0-0" },
};

/* Java's replaceAll(" 00:00$", "+00:00"): '$' also matches before one final line terminator. */
static struct ajson *
pagerduty_datetime(const struct ajson *v)
{
	static const char *const terms[] = { "", "\n", "\r\n", "\r", "\xc2\x85", "\xe2\x80\xa8",
	    "\xe2\x80\xa9" };
	size_t t;

	for (t = 0; t < NELEM(terms); t++) {
		size_t tl = strlen(terms[t]);
		if (v->len >= 6 + tl && memcmp(v->s + v->len - tl, terms[t], tl) == 0 &&
		    memcmp(v->s + v->len - tl - 6, " 00:00", 6) == 0) {
			struct buf b;
			struct ajson *n;
			buf_init(&b, 0);
			buf_append(&b, v->s, v->len - tl - 6);
			buf_append_str(&b, "+00:00");
			buf_append_str(&b, terms[t]);
			n = ajson_str(b.data, b.len);
			buf_free(&b);
			return n;
		}
	}
	return ajson_copy(v);
}

/* PagerdutyAdapter.reformatParameters: "null" strings to null, "incident." dropped from the
 * type, " 00:00" offsets fixed, nested objects too, each object through a Scala Map. */
static int
pagerduty_reformat(struct ajson *j)
{
	size_t i;

	if (j->type != AJ_OBJ)
		return 0;
	adapt_scala_order(j);
	for (i = 0; i < j->n; i++) {
		struct ajson *v = j->m[i].val, *n = NULL;
		const char *k = j->m[i].key;
		size_t kl = j->m[i].klen;
		if (ajson_is_str(v, "null")) {
			n = ajson_new(AJ_NULL);
		} else if (kl == 4 && memcmp(k, "type", 4) == 0 && v->type == AJ_STR) {
			struct buf b;
			size_t p = 0;
			buf_init(&b, 0);
			while (p < v->len) {
				if (v->len - p >= 9 && memcmp(v->s + p, "incident.", 9) == 0) {
					p += 9;
					continue;
				}
				buf_append_byte(&b, (uint8_t)v->s[p++]);
			}
			n = ajson_str(b.data ? b.data : "", b.len);
			buf_free(&b);
		} else if (((kl == 10 && memcmp(k, "created_on", 10) == 0) ||
		    (kl == 21 && memcmp(k, "last_status_change_on", 21) == 0)) && v->type == AJ_STR) {
			n = pagerduty_datetime(v);
		} else if (v->type == AJ_OBJ) {
			if (pagerduty_reformat(v) == -1)
				return -1;
			continue;
		} else {
			continue;
		}
		if (n == NULL)
			return -1;
		ajson_free(v);
		j->m[i].val = n;
	}
	return 0;
}

int
adapt_pagerduty_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct ajson *j, *msgs;
	char err[512];
	size_t i;
	int rc;

	if ((rc = adapt_check_body(req, out, CT_JSON, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if ((j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	msgs = ajson_get(j, "messages");
	if (msgs == NULL || msgs->type != AJ_ARR) {
		rc = adapt_fail_input_n(out, "messages", 8, req->body, req->body_len,
		    "field `messages` is not an array");
		ajson_free(j);
		return rc;
	}
	for (i = 0; i < msgs->n && rc == 0; i++) {
		struct ajson *ev = msgs->m[i].val;
		const struct ajson *t = adapt_get_string(ev, "type", NULL, 0);
		const char *schema = adapt_lookup_schema(out, t ? t->s : NULL, pagerduty_types,
		    NELEM(pagerduty_types), (long)i);
		if (schema == NULL)
			continue;
		if (pagerduty_reformat(ev) == -1 ||
		    adapt_unstruct(out, "com.pagerduty-v1", req->qs, schema, ev, "srv") == NULL)
			rc = -1;
	}
	if (rc == 0)
		rc = adapt_finish_list(out);
	ajson_free(j);
	return rc;
}

/* ---- Pingdom ---- */

#define PINGDOM_REGEX "\\(u'([^']+)',\\)"

int
adapt_pingdom_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const struct adapt_type types[] = {
		{ "assign", "iglu:com.pingdom/incident_assign/jsonschema/1-0-0" },
		{ "notify_user", "iglu:com.pingdom/incident_notify_user/jsonschema/1-0-0" },
		{ "notify_of_close", "iglu:com.pingdom/incident_notify_of_close/jsonschema/1-0-0" },
	};
	const struct smap *qs = req->qs;
	const struct smap_ent *m;
	struct ajson *ev;
	struct smap rest;
	const char *schema;
	char err[512];
	size_t i;
	int rc = 0;

	if (qs->n == 0)
		return adapt_fail_input(out, "querystring", NULL,
		    "empty querystring: no events to process");
	/* reformatMapParams: a value still wrapped as Python's (u'…',) fails */
	for (i = 0; i < qs->n && rc == 0; i++) {
		const char *v = qs->e[i].v;
		size_t n = v ? strlen(v) : 0;
		if (v && n > 6 && memcmp(v, "(u'", 3) == 0 && memcmp(v + n - 3, "',)", 3) == 0 &&
		    memchr(v + 3, '\'', n - 6) == NULL)
			rc = adapt_fail_input_n(out, qs->e[i].k, qs->e[i].klen, v + 3, n - 6,
			    "should not pass regex " PINGDOM_REGEX);
	}
	if (rc || out->fail)
		return rc;
	m = smap_get(qs, "message");
	if (m == NULL || m->v == NULL) {
		struct buf b;
		size_t *ix = smap_order(qs);
		if (ix == NULL)
			return -1;
		buf_init(&b, 0);
		for (i = 0; i < qs->n; i++)
			buf_printf(&b, "%s%s=%s", i ? "&" : "", qs->e[ix[i]].k,
			    qs->e[ix[i]].v ? qs->e[ix[i]].v : "null");
		rc = adapt_fail_input_n(out, "querystring", 11, b.data ? b.data : "", b.len,
		    "no `message` parameter provided");
		buf_free(&b);
		free(ix);
		return rc;
	}
	if ((ev = ajson_parse(m->v, strlen(m->v), req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "message", m->v, strlen(m->v), err);
	{
		const struct ajson *a = adapt_get_string(ev, "action", NULL, 0);
		schema = adapt_lookup_schema(out, a ? a->s : NULL, types, NELEM(types), -1);
	}
	if (schema) {
		smap_init(&rest);
		rc = smap_add_all(&rest, qs, NULL, NULL);
		rest.hashed = qs->hashed;               /* s - "message" keeps its kind */
		smap_del(&rest, "message");
		if (ev->type == AJ_OBJ)
			ajson_del(ev, "action");
		if (rc == 0 && adapt_unstruct(out, "com.pingdom-v1", &rest, schema, ev, "srv") == NULL)
			rc = -1;
		smap_free(&rest);
	}
	ajson_free(ev);
	return rc;
}

/* ---- StatusGator ---- */

int
adapt_statusgator_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct smap form;
	struct ajson *o = NULL;
	size_t *ix = NULL, i;
	char err[512];
	int rc;

	if ((rc = adapt_check_body(req, out, CT_FORM, ADAPT_NONEMPTY, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	smap_init(&form);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		rc = form_fail(req, out, 0, err);
		goto done;
	}
	rc = -1;
	if ((o = ajson_new(AJ_OBJ)) == NULL || (ix = smap_order(&form)) == NULL)
		goto done;
	for (i = 0; i < form.n; i++) {                   /* bodyMap.asJson: None is null */
		const struct smap_ent *en = &form.e[ix[i]];
		if (ajson_append(o, en->k, en->klen, en->v ? ajson_str(en->v, strlen(en->v)) :
		    ajson_new(AJ_NULL)) == -1)
			goto done;
	}
	if (adapt_camelize(o) == 0 && adapt_unstruct(out, "com.statusgator-v1", req->qs,
	    "iglu:com.statusgator/status_change/jsonschema/1-0-0", o, "srv") != NULL)
		rc = 0;
done:
	free(ix);
	ajson_free(o);
	smap_free(&form);
	return rc < 0 ? -1 : 0;
}

/* ---- Unbounce ---- */

static int
keep_some(const struct smap_ent *en, void *arg)
{
	(void)arg;
	return en->v != NULL;
}

int
adapt_unbounce_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const char *const required[] = { "page_id", "page_name", "variant", "page_url",
	    "data.json" };
	struct smap form, some;
	struct smap_ent *dj;
	struct ajson *o = NULL, *data;
	size_t *ix = NULL, i;
	char err[512], msg[64];
	int rc;

	if ((rc = adapt_check_body(req, out, CT_FORM, ADAPT_NONEMPTY, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	smap_init(&form);
	smap_init(&some);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		rc = form_fail(req, out, 1, err);
		goto done;
	}
	if (rc < 0 || (rc = smap_add_all(&some, &form, keep_some, NULL)) != 0)
		goto done;
	for (i = 0; i < NELEM(required); i++)
		if (smap_get(&some, required[i]) == NULL) {
			snprintf(msg, sizeof(msg), "missing '%s' field in body", required[i]);
			rc = adapt_fail_input(out, required[i], NULL, msg);
			goto done;
		}
	dj = smap_get(&some, "data.json");
	if (dj->v[0] == '\0') {
		rc = adapt_fail_input(out, "data.json", NULL, "empty 'data.json' field in body");
		goto done;
	}
	if ((data = ajson_parse(dj->v, strlen(dj->v), req->max_depth, err, sizeof(err))) == NULL) {
		rc = adapt_fail_notjson(out, "data.json", dj->v, strlen(dj->v), err);
		goto done;
	}
	rc = -1;
	/* ("data.json", parsed) :: (bodyMap - "data.json" - "data.xml") as strings, camelCased */
	if ((o = ajson_new(AJ_OBJ)) == NULL || ajson_set(o, "data.json", 9, data) == -1)
		goto done;
	some.hashed = some.n >= 5;
	if ((ix = smap_order(&some)) == NULL)
		goto done;
	for (i = 0; i < some.n; i++) {
		const struct smap_ent *en = &some.e[ix[i]];
		if (strcmp(en->k, "data.json") == 0 || strcmp(en->k, "data.xml") == 0)
			continue;
		if (ajson_append(o, en->k, en->klen, ajson_str(en->v, strlen(en->v))) == -1)
			goto done;
	}
	if (adapt_camelize(o) == 0 && adapt_unstruct(out, "com.unbounce-v1", req->qs,
	    "iglu:com.unbounce/form_post/jsonschema/1-0-0", o, "srv") != NULL)
		rc = 0;
done:
	free(ix);
	ajson_free(o);
	smap_free(&form);
	smap_free(&some);
	return rc < 0 ? -1 : 0;
}

/* ---- Urban Airship Connect ---- */

static const struct adapt_type urbanairship_types[] = {
	{ "CLOSE", "iglu:com.urbanairship.connect/CLOSE/jsonschema/1-0-0" },
	{ "CUSTOM", "iglu:com.urbanairship.connect/CUSTOM/jsonschema/1-0-0" },
	{ "FIRST_OPEN", "iglu:com.urbanairship.connect/FIRST_OPEN/jsonschema/1-0-0" },
	{ "IN_APP_MESSAGE_DISPLAY",
	  "iglu:com.urbanairship.connect/IN_APP_MESSAGE_DISPLAY/jsonschema/1-0-0" },
	{ "IN_APP_MESSAGE_EXPIRATION",
	  "iglu:com.urbanairship.connect/IN_APP_MESSAGE_EXPIRATION/jsonschema/1-0-0" },
	{ "IN_APP_MESSAGE_RESOLUTION",
	  "iglu:com.urbanairship.connect/IN_APP_MESSAGE_RESOLUTION/jsonschema/1-0-0" },
	{ "LOCATION", "iglu:com.urbanairship.connect/LOCATION/jsonschema/1-0-0" },
	{ "OPEN", "iglu:com.urbanairship.connect/OPEN/jsonschema/1-0-0" },
	{ "PUSH_BODY", "iglu:com.urbanairship.connect/PUSH_BODY/jsonschema/1-0-0" },
	{ "REGION", "iglu:com.urbanairship.connect/REGION/jsonschema/1-0-0" },
	{ "RICH_DELETE", "iglu:com.urbanairship.connect/RICH_DELETE/jsonschema/1-0-0" },
	{ "RICH_DELIVERY", "iglu:com.urbanairship.connect/RICH_DELIVERY/jsonschema/1-0-0" },
	{ "RICH_HEAD", "iglu:com.urbanairship.connect/RICH_HEAD/jsonschema/1-0-0" },
	{ "SEND", "iglu:com.urbanairship.connect/SEND/jsonschema/1-0-0" },
	{ "TAG_CHANGE", "iglu:com.urbanairship.connect/TAG_CHANGE/jsonschema/1-0-0" },
	{ "UNINSTALL", "iglu:com.urbanairship.connect/UNINSTALL/jsonschema/1-0-0" },
};

int
adapt_urbanairship_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const char *const fields[] = { "occurred", "id", "processed" };
	const struct ajson *v[3], *t;
	struct ajson *j;
	char err[512], msg[700];
	const char *schema;
	int64_t ttm = 0, cts = 0;
	size_t i;
	int rc = 0;

	if ((rc = adapt_check_body(req, out, NULL, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if (req->content_type)
		return adapt_fail_input(out, "contentType", req->content_type,
		    "expected no content type");
	if ((j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	for (i = 0; i < NELEM(fields) && rc == 0; i++)
		if ((v[i] = adapt_get_string(j, fields[i], err, sizeof(err))) == NULL) {
			snprintf(msg, sizeof(msg), "could not extract '%s': %s", fields[i], err);
			rc = adapt_fail_input(out, fields[i], NULL, msg);
		}
	t = adapt_get_string(j, "type", NULL, 0);
	schema = adapt_lookup_schema(out, t ? t->s : NULL, urbanairship_types,
	    NELEM(urbanairship_types), -1);
	/* new DateTime(occurred / processed): upstream throws on a date Joda cannot read; here
	 * that is an adapter failure naming the field */
	if (rc == 0 && !out->fail && adapt_iso_parse(v[0]->s, v[0]->len, &ttm, err, sizeof(err)) == -1)
		rc = adapt_fail_input(out, "occurred", v[0]->s, err);
	if (rc == 0 && !out->fail && adapt_iso_parse(v[2]->s, v[2]->len, &cts, err, sizeof(err)) == -1)
		rc = adapt_fail_input(out, "processed", v[2]->s, err);
	if (rc == 0 && !out->fail) {
		struct smap qs;
		struct adapt_event *ev;
		char ttms[32];
		smap_init(&qs);
		snprintf(ttms, sizeof(ttms), "%lld", (long long)ttm);
		rc = smap_add_all(&qs, req->qs, NULL, NULL);
		rc |= smap_put(&qs, "ttm", ttms);
		rc |= smap_put(&qs, "eid", v[1]->s);
		if (rc == 0 && (ev = adapt_unstruct(out, "com.urbanairship.connect-v1", &qs, schema, j,
		    "srv")) != NULL) {
			ev->ctx.has_ts = 1;
			ev->ctx.ts_ms = cts;
		} else {
			rc = -1;
		}
		smap_free(&qs);
	}
	ajson_free(j);
	return rc;
}
