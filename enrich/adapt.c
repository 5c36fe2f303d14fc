/*
 * adapt: the adapter registry and what upstream's Adapter trait gives every adapter (see
 * adapt.h): failure messages, schema lookup, the unstruct-event parameters, the formatter,
 * form decoding, Joda date handling, cleanupJsonEventValues and camelize.
 * Upstream: snowplow/enrich 6.10.0 adapters/registry/Adapter.scala, utils/JsonUtils.scala,
 * utils/ConversionUtils.scala (parseUrlEncodedForm).
 */
#include "adapt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "jsonw.h"
#include "pct.h"
#include "timefmt.h"
#include "utf8.h"

#define UNSTRUCT_EVENT "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"

/* AdapterRegistry.adapters: (vendor, version) -> adapter. */
static const struct adapt_def adapt_table[] = {
	{ "com.snowplowanalytics.iglu", "v1", adapt_iglu_run },
	{ "com.callrail", "v1", adapt_callrail_run },
	{ "com.amazon.aws.cloudfront", "wd_access_log", adapt_cloudfront_run },
	{ "com.mailchimp", "v1", adapt_mailchimp_run },
	{ "com.mailgun", "v1", adapt_mailgun_run },
	{ "com.google.analytics", "v1", adapt_ga_run },   /* Vendor.GoogleAnalytics */
	{ "com.mandrill", "v1", adapt_mandrill_run },
	{ "com.olark", "v1", adapt_olark_run },
	{ "com.pagerduty", "v1", adapt_pagerduty_run },
	{ "com.pingdom", "v1", adapt_pingdom_run },
	{ "com.sendgrid", "v3", adapt_sendgrid_run },
	{ "com.statusgator", "v1", adapt_statusgator_run },
	{ "com.unbounce", "v1", adapt_unbounce_run },
	{ "com.urbanairship.connect", "v1", adapt_urbanairship_run },
	{ "com.marketo", "v1", adapt_marketo_run },
	{ "com.getvero", "v1", adapt_vero_run },
	{ "com.hubspot", "v1", adapt_hubspot_run },
};

const struct adapt_def *
adapt_find(const char *vendor, const char *version)
{
	size_t i;

	for (i = 0; i < sizeof(adapt_table) / sizeof(adapt_table[0]); i++)
		if (strcmp(adapt_table[i].vendor, vendor) == 0 &&
		    strcmp(adapt_table[i].version, version) == 0)
			return &adapt_table[i];
	return NULL;
}

void
adapt_out_init(struct adapt_out *out)
{
	memset(out, 0, sizeof(*out));
}

static void
event_free(struct adapt_event *ev)
{
	smap_free(&ev->params);
	free(ev->ctx.ip);
	free(ev->ctx.ua);
}

void
adapt_events_clear(struct adapt_out *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		event_free(&out->ev[i]);
	out->n = 0;
}

void
adapt_out_free(struct adapt_out *out)
{
	adapt_events_clear(out);
	free(out->ev);
	json_decref(out->fail);
	adapt_out_init(out);
}

struct adapt_event *
adapt_event_new(struct adapt_out *out)
{
	struct adapt_event *ev;

	if (out->n == out->cap) {
		size_t nc = out->cap ? out->cap * 2 : 4;
		struct adapt_event *ne = realloc(out->ev, nc * sizeof(*ne));
		if (ne == NULL)
			return NULL;
		out->ev = ne;
		out->cap = nc;
	}
	ev = &out->ev[out->n++];
	memset(ev, 0, sizeof(*ev));
	smap_init(&ev->params);
	return ev;
}

/* ---- failures ---- */

/* A JSON string of s cut to max code points (the bad-row schema's maxLength). */
static json_t *
jcut(const char *s, size_t len, size_t max)
{
	return jsonw_string_new(s, max ? utf8_cut(s, len, max) : len);
}

static int
fail_add(struct adapt_out *out, json_t *m)
{
	if (m == NULL)
		return -1;
	if (out->fail == NULL && (out->fail = json_array()) == NULL) {
		json_decref(m);
		return -1;
	}
	return json_array_append_new(out->fail, m);
}

int
adapt_fail_input_n(struct adapt_out *out, const char *field, size_t flen, const char *value,
    size_t vlen, const char *expectation)
{
	return fail_add(out, json_pack("{s:o,s:o,s:o}", "field", jcut(field, flen, 64),
	    "value", value ? jsonw_string_new(value, vlen) : json_null(),
	    "expectation", jcut(expectation, strlen(expectation), 256)));
}

int
adapt_fail_input(struct adapt_out *out, const char *field, const char *value,
    const char *expectation)
{
	return adapt_fail_input_n(out, field, strlen(field), value, value ? strlen(value) : 0,
	    expectation);
}

int
adapt_fail_notjson(struct adapt_out *out, const char *field, const char *value, size_t vlen,
    const char *error)
{
	return fail_add(out, json_pack("{s:o,s:o,s:s}", "field", jcut(field, strlen(field), 64),
	    "value", value ? jsonw_string_new(value, vlen) : json_null(), "error", error));
}

int
adapt_fail_notiglu(struct adapt_out *out, json_t *json, const char *code)
{
	if (json == NULL)
		json = json_null();
	return fail_add(out, json_pack("{s:o,s:s}", "json", json, "error", code));
}

/* The expected mapping as upstream's Map[String, SchemaKey] prints: literal order up to four
 * entries, hash order beyond. */
static json_t *
mapping_json(const struct adapt_type *map, size_t n)
{
	json_t *o = json_object();
	size_t ix[64], i;
	int32_t hc[64];

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		ix[i] = i;
		hc[i] = scala_string_hash(map[i].type, strlen(map[i].type));
	}
	if (n > 4)
		scala_hash_sort(ix, n, hc);
	for (i = 0; i < n; i++)
		json_object_set_new(o, map[ix[i]].type, json_string(map[ix[i]].schema));
	return o;
}

const char *
adapt_lookup_schema(struct adapt_out *out, const char *type, const struct adapt_type *map,
    size_t n, long index)
{
	char msg[160], at[40] = "";
	size_t i;
	json_t *m;

	if (index >= 0)
		snprintf(at, sizeof(at), " at index %ld", index);
	if (type == NULL) {
		snprintf(msg, sizeof(msg), "cannot determine event type: type parameter not provided%s",
		    at);
	} else {
		for (i = 0; i < n; i++)
			if (strcmp(map[i].type, type) == 0)
				return map[i].schema;
		if (type[0] == '\0')
			snprintf(msg, sizeof(msg),
			    "cannot determine event type: type parameter empty%s", at);
		else
			snprintf(msg, sizeof(msg),
			    "no schema associated with the provided type parameter%s", at);
	}
	m = json_pack("{s:o,s:o,s:s}", "actual", type ? jcut(type, strlen(type), 256) :
	    json_null(), "expectedMapping", mapping_json(map, n), "expectation", msg);
	fail_add(out, m);
	return NULL;
}

/* ---- events ---- */

static int
accepted(const char *k)
{
	static const char *const keys[] = { "nuid", "aid", "cv", "eid", "ttm", "url" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

static int
keep_accepted(const struct smap_ent *en, void *arg)
{
	(void)arg;
	return strlen(en->k) == en->klen && accepted(en->k);
}

struct adapt_event *
adapt_unstruct(struct adapt_out *out, const char *tracker, const struct smap *qs,
    const char *schema, const struct ajson *data, const char *platform)
{
	struct adapt_event *ev;
	struct smap_ent *p = qs ? smap_get(qs, "p") : NULL;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = buf_append_str(&b, "{\"schema\":\"" UNSTRUCT_EVENT "\",\"data\":{\"schema\":");
	rc |= jsonw_string(&b, schema, strlen(schema));
	rc |= buf_append_str(&b, ",\"data\":");
	rc |= ajson_print(data, &b);
	rc |= buf_append_str(&b, "}}");
	if (rc || (ev = adapt_event_new(out)) == NULL) {
		buf_free(&b);
		return NULL;
	}
	rc = smap_put(&ev->params, "tv", tracker);
	rc |= smap_put(&ev->params, "e", "ue");
	rc |= smap_put(&ev->params, "p", p ? p->v : platform);
	rc |= smap_putn(&ev->params, "ue_pr", 5, b.data, b.len);
	if (qs)
		rc |= smap_add_all(&ev->params, qs, keep_accepted, NULL);
	buf_free(&b);
	return rc ? NULL : ev;
}

/* ---- shared checks ---- */

int
adapt_check_body(const struct adapt_req *req, struct adapt_out *out, const char *ct,
    unsigned flags, const char *body_msg)
{
	char msg[160];

	if (req->body == NULL || ((flags & ADAPT_NONEMPTY) && req->body_len == 0))
		return adapt_fail_input(out, "body", NULL, body_msg) == -1 ? -1 : 1;
	if (ct == NULL)
		return 0;
	if (req->content_type == NULL) {
		snprintf(msg, sizeof(msg), "no content type: expected %s", ct);
		return adapt_fail_input(out, "contentType", NULL, msg) == -1 ? -1 : 1;
	}
	if ((flags & ADAPT_CT_CONTAINS) ? strstr(req->content_type, ct) == NULL :
	    strcmp(req->content_type, ct) != 0) {
		snprintf(msg, sizeof(msg), "expected %s", ct);
		return adapt_fail_input(out, "contentType",
		    (flags & ADAPT_CT_NOVALUE) ? NULL : req->content_type, msg) == -1 ? -1 : 1;
	}
	return 0;
}

const struct ajson *
adapt_get_string(const struct ajson *obj, const char *key, char *msg, size_t msglen)
{
	const struct ajson *v = obj && obj->type == AJ_OBJ ? ajson_get(obj, key) : NULL;
	struct buf b;

	if (v && v->type == AJ_STR)
		return v;
	if (msg == NULL)
		return NULL;
	if (v == NULL) {
		snprintf(msg, msglen, "DecodingFailure at .%s: Missing required field", key);
		return NULL;
	}
	buf_init(&b, 0);
	ajson_print(v, &b);
	snprintf(msg, msglen, "DecodingFailure at .%s: Got value '%s' with wrong type, expecting "
	    "string", key, b.data ? b.data : "");
	buf_free(&b);
	return NULL;
}

int
adapt_finish_list(struct adapt_out *out)
{
	if (out->fail) {
		adapt_events_clear(out);
		return 0;
	}
	if (out->n == 0)
		return adapt_fail_input(out, "", NULL, "empty list of events");
	return 0;
}

void
adapt_strip_message(const char *m, char *out, size_t outlen)
{
	size_t i, o = 0, st, end;
	char t[2048];

	for (i = 0; m[i] && o + 4 < sizeof(t); i++) {
		unsigned char c = (unsigned char)m[i];
		if (c == '\t') {
			memcpy(t + o, "    ", 4);
			o += 4;
		} else if (c >= 0x20 && c != 0x7f) {
			t[o++] = (char)c;
		}
	}
	for (st = 0; st < o && t[st] == ' '; st++)
		;
	for (end = o; end > st && t[end - 1] == ' '; end--)
		;
	snprintf(out, outlen, "%.*s", (int)(end - st), t + st);
}

/* ---- the formatter ---- */

static int
in_list(const char *list, const char *k, size_t klen)
{
	const char *p = list;

	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == klen && memcmp(p, k, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* new java.math.BigInteger(s) then Json.fromBigInt: the canonical decimal, or -1. */
static int
big_integer(const char *s, struct buf *out)
{
	size_t i = 0, st;

	if (s[0] == '-' || s[0] == '+')
		i = 1;
	if (s[i] == '\0')
		return -1;
	for (st = i; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	while (s[st] == '0' && s[st + 1] != '\0')
		st++;
	if (s[0] == '-' && !(s[st] == '0' && s[st + 1] == '\0'))
		buf_append_byte(out, '-');
	return buf_append_str(out, s + st);
}

struct ajson *
adapt_format(const struct smap *params, const char *bools, const char *ints,
    const char *datetimes)
{
	struct ajson *o = ajson_new(AJ_OBJ);
	size_t *ix = smap_order(params), i;
	struct buf b;

	buf_init(&b, 0);
	if (o == NULL || ix == NULL)
		goto fail;
	for (i = 0; i < params->n; i++) {
		const struct smap_ent *en = &params->e[ix[i]];
		struct ajson *v;
		if (in_list("nuid aid cv p", en->k, en->klen))   /* parameters - (nuid, aid, cv, p) */
			continue;
		buf_reset(&b);
		if (en->v == NULL || en->v[0] == '\0')
			v = ajson_new(AJ_NULL);
		else if (in_list(bools, en->k, en->klen) && strcmp(en->v, "true") == 0)
			v = ajson_new(AJ_TRUE);
		else if (in_list(bools, en->k, en->klen) && strcmp(en->v, "false") == 0)
			v = ajson_new(AJ_FALSE);
		else if (!in_list(bools, en->k, en->klen) && in_list(ints, en->k, en->klen) &&
		    big_integer(en->v, &b) == 0)
			v = ajson_num(b.data, b.len);
		else if (!in_list(bools, en->k, en->klen) && !in_list(ints, en->k, en->klen) &&
		    in_list(datetimes, en->k, en->klen)) {
			adapt_joda_datetime(en->v, strlen(en->v), &b);
			v = ajson_str(b.data, b.len);
		} else
			v = ajson_str(en->v, strlen(en->v));
		if (ajson_append(o, en->k, en->klen, v) == -1)
			goto fail;
	}
	free(ix);
	buf_free(&b);
	return o;
fail:
	free(ix);
	buf_free(&b);
	ajson_free(o);
	return NULL;
}

/* ---- form bodies ---- */

struct form_ctx {
	struct smap *m;
	struct buf n, v;
	int err;
};

static void
form_pair_cb(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct form_ctx *c = arg;

	if (nlen == 0 || c->err)
		return;                      /* URLEncodedUtils drops an empty name */
	buf_reset(&c->n);
	buf_reset(&c->v);
	if (pct_decode(&c->n, n, nlen, PCT_PLUS | PCT_UTF8) != 0 ||
	    (v && pct_decode(&c->v, v, vlen, PCT_PLUS | PCT_UTF8) != 0) ||
	    smap_putn(c->m, c->n.data ? c->n.data : "", c->n.len,
	    v ? (c->v.data ? c->v.data : "") : NULL, c->v.len) != 0)
		c->err = 1;
}

int
adapt_form_parse(const char *body, size_t len, struct smap *m, char *err, size_t errlen)
{
	const char *what;
	size_t qlen;
	long bad = conv_qs_check(body, len, &qlen, &what);
	struct form_ctx c;

	if (bad >= 0) {
		/* java.net.URI counts chars of "http://localhost/?" + body */
		size_t ch = 18 + conv_utf16_len(body, (size_t)bad);
		if ((size_t)bad > qlen && strcmp(what, "Illegal character in query") == 0)
			what = "Illegal character in fragment";
		snprintf(err, errlen, "%s at index %zu: http://localhost/?%.*s", what, ch,
		    (int)(len > 100000 ? 100000 : len), body);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.m = m;
	buf_init(&c.n, 0);
	buf_init(&c.v, 0);
	conv_qs_split(body, qlen, form_pair_cb, &c);
	buf_free(&c.n);
	buf_free(&c.v);
	return c.err ? -2 : 0;
}

/* ---- dates ---- */

void
adapt_iso_ms(int64_t ms, char out[48])
{
	char t[TIMEFMT_BUFSZ];

	/* the TSV pattern "yyyy-MM-dd HH:mm:ss.SSS" renders the year the way Joda's pattern does */
	timefmt_tsv(ms, t);
	{
		char *sp = strchr(t, ' ');
		if (sp)
			*sp = 'T';
	}
	snprintf(out, 48, "%sZ", t);
}

/* Digits for one Joda pattern field: 1..max digits (an optional sign for the year). */
static int
joda_field(const char *s, size_t len, size_t *i, int max, int sign, long *v)
{
	size_t k = *i, st;
	int neg = 0;

	if (sign && k < len && (s[k] == '-' || s[k] == '+'))
		neg = s[k++] == '-';
	st = k;
	*v = 0;
	while (k < len && k - st < (size_t)max && s[k] >= '0' && s[k] <= '9')
		*v = *v * 10 + (s[k++] - '0');
	if (k == st)
		return -1;
	if (neg)
		*v = -*v;
	*i = k;
	return 0;
}

static int64_t
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

void
adapt_joda_datetime(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;
	long y, mo, d, h, mi, se;
	char iso[48];

	if (joda_field(s, len, &i, 9, 1, &y) || i >= len || s[i++] != '-' ||
	    joda_field(s, len, &i, 2, 0, &mo) || i >= len || s[i++] != '-' ||
	    joda_field(s, len, &i, 2, 0, &d) || i >= len || s[i++] != ' ' ||
	    joda_field(s, len, &i, 2, 0, &h) || i >= len || s[i++] != ':' ||
	    joda_field(s, len, &i, 2, 0, &mi) || i >= len || s[i++] != ':' ||
	    joda_field(s, len, &i, 2, 0, &se) || i != len ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59 ||
	    !timefmt_date_valid((int)y, (int)mo, (int)d)) {
		buf_append(out, s, len);                /* Joda refused it: the text as it was */
		return;
	}
	adapt_iso_ms((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000, iso);
	buf_append_str(out, iso);
}

/* Between min and max digits at s[*i]: 0 with the value, or -1. */
static int
digits(const char *s, size_t len, size_t *i, size_t min, size_t max, long *v)
{
	size_t st = *i;

	*v = 0;
	while (*i < len && *i - st < max && s[*i] >= '0' && s[*i] <= '9')
		*v = *v * 10 + (s[(*i)++] - '0');
	return *i - st >= min ? 0 : -1;
}

static int
iso_range(const char *s, size_t len, const char *field, long v, long lo, long hi, char *err,
    size_t errlen)
{
	if (v >= lo && v <= hi)
		return 0;
	snprintf(err, errlen, "Cannot parse \"%.*s\": Value %ld for %s must be in the range "
	    "[%ld,%ld]", (int)(len > 200 ? 200 : len), s, v, field, lo, hi);
	return -1;
}

/* FormatUtils.createErrorMessage */
static int
iso_malformed(const char *s, size_t len, size_t at, char *err, size_t errlen)
{
	size_t sample = at + 32;
	const char *dots = "";

	if (len <= sample + 3)
		sample = len;
	else
		dots = "...";
	if (at == 0)
		snprintf(err, errlen, "Invalid format: \"%.*s%s\"", (int)sample, s, dots);
	else if (at >= len)
		snprintf(err, errlen, "Invalid format: \"%.*s%s\" is too short", (int)sample, s, dots);
	else
		snprintf(err, errlen, "Invalid format: \"%.*s%s\" is malformed at \"%.*s%s\"",
		    (int)sample, s, dots, (int)(sample - at), s + at, dots);
	return -1;
}

int
adapt_iso_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen)
{
	long y, mo = 1, d = 1, h = 0, mi = 0, se = 0, frac = 0, off = 0, x, dim;
	size_t i = 0;
	int neg = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (digits(s, len, &i, 1, 9, &y) == -1)
		return iso_malformed(s, len, 0, err, errlen);
	if (neg)
		y = -y;
	if (i < len && s[i] == '-') {
		i++;
		if (digits(s, len, &i, 2, 2, &mo) == -1)
			return iso_malformed(s, len, i, err, errlen);
		if (i < len && s[i] == '-') {
			i++;
			if (digits(s, len, &i, 2, 2, &d) == -1)
				return iso_malformed(s, len, i, err, errlen);
		}
	}
	if (i < len && s[i] == 'T') {
		i++;
		if (digits(s, len, &i, 2, 2, &h) == -1)
			return iso_malformed(s, len, i, err, errlen);
		if (i < len && s[i] == ':') {
			i++;
			if (digits(s, len, &i, 2, 2, &mi) == -1)
				return iso_malformed(s, len, i, err, errlen);
			if (i < len && s[i] == ':') {
				i++;
				if (digits(s, len, &i, 2, 2, &se) == -1)
					return iso_malformed(s, len, i, err, errlen);
				if (i < len && (s[i] == '.' || s[i] == ',')) {
					size_t st = ++i;
					long scale = 100;
					while (i < len && s[i] >= '0' && s[i] <= '9') {
						frac += (s[i++] - '0') * scale;
						scale /= 10;
					}
					if (i == st)
						return iso_malformed(s, len, i, err, errlen);
				}
			}
		}
		if (i < len && s[i] == 'Z') {
			i++;
		} else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int os = s[i++] == '-' ? -1 : 1;
			long oh, om = 0;
			if (digits(s, len, &i, 2, 2, &oh) == -1)
				return iso_malformed(s, len, i, err, errlen);
			if (i < len && s[i] == ':')
				i++;
			if (i < len && digits(s, len, &i, 2, 2, &om) == -1)
				return iso_malformed(s, len, i, err, errlen);
			if (iso_range(s, len, "hourOfDay", oh, 0, 23, err, errlen) ||
			    iso_range(s, len, "minuteOfHour", om, 0, 59, err, errlen))
				return -1;
			off = os * (oh * 60 + om);
		}
	}
	if (i != len)
		return iso_malformed(s, len, i, err, errlen);
	if (iso_range(s, len, "monthOfYear", mo, 1, 12, err, errlen))
		return -1;
	for (dim = 31; dim > 28 && !timefmt_date_valid((int)y, (int)mo, (int)dim); dim--)
		;
	if (iso_range(s, len, "dayOfMonth", d, 1, dim, err, errlen) ||
	    iso_range(s, len, "hourOfDay", h, 0, 23, err, errlen) ||
	    iso_range(s, len, "minuteOfHour", mi, 0, 59, err, errlen) ||
	    iso_range(s, len, "secondOfMinute", se, 0, 59, err, errlen))
		return -1;
	x = y - (mo <= 2);
	{
		long era = (x >= 0 ? x : x - 399) / 400, yoe = x - era * 400;
		long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int64_t days = (int64_t)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
		*ms = ((days * 86400 + h * 3600 + mi * 60 + se) - (int64_t)off * 60) * 1000 + frac;
	}
	return 0;
}

/* ---- numbers ---- */

int
adapt_num_long(const char *lit, size_t len, int64_t *v)
{
	char d[32];
	size_t i = 0, nd = 0;
	long scale = 0, exp = 0;
	int neg = 0, frac = 0;
	uint64_t acc = 0;

	/* value = digits * 10^(exp - fraction digits); significant digits beyond 19 cannot make a
	 * long unless they are trailing zeros, which are folded into the scale */
	if (i < len && lit[i] == '-')
		neg = 1, i++;
	for (; i < len && ((lit[i] >= '0' && lit[i] <= '9') || (lit[i] == '.' && !frac)); i++) {
		if (lit[i] == '.') {
			frac = 1;
			continue;
		}
		if (frac)
			scale--;
		if (nd == 0 && lit[i] == '0')
			continue;                       /* a leading zero */
		if (nd == sizeof(d)) {
			if (lit[i] != '0')
				return -1;
			scale++;                        /* an extra trailing zero */
			continue;
		}
		d[nd++] = lit[i];
	}
	if (i < len && (lit[i] == 'e' || lit[i] == 'E')) {
		int eneg = 0;
		i++;
		if (i < len && (lit[i] == '+' || lit[i] == '-'))
			eneg = lit[i++] == '-';
		for (; i < len && lit[i] >= '0' && lit[i] <= '9'; i++)
			if ((exp = exp * 10 + (lit[i] - '0')) > 100000)
				exp = 100000;
		scale += eneg ? -exp : exp;
	}
	if (i != len)
		return -1;
	while (nd > 0 && d[nd - 1] == '0') {
		nd--;
		scale++;
	}
	if (nd == 0) {
		*v = 0;
		return 0;
	}
	if (scale < 0 || (long)nd + scale > 19)
		return -1;
	for (i = 0; i < nd; i++)
		acc = acc * 10 + (uint64_t)(d[i] - '0');
	while (scale-- > 0)
		acc *= 10;
	if (acc > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

int
adapt_json_long(const struct ajson *j, int64_t *v)
{
	struct ajson *t;
	int rc = -1;

	if (j == NULL || (j->type != AJ_NUM && j->type != AJ_STR))
		return -1;
	if (j->type == AJ_NUM)
		return adapt_num_long(j->s, j->len, v);
	if (j->len == 0 || !(j->s[0] == '-' || (j->s[0] >= '0' && j->s[0] <= '9')) ||
	    j->s[j->len - 1] < '0' || j->s[j->len - 1] > '9')
		return -1;                        /* JsonNumber.fromString takes a bare literal */
	t = ajson_parse(j->s, j->len, 1, NULL, 0);
	if (t && t->type == AJ_NUM)
		rc = adapt_num_long(t->s, t->len, v);
	ajson_free(t);
	return rc;
}

int
adapt_json_int(const struct ajson *j, int32_t *v)
{
	int64_t l;

	if (j == NULL)
		return -1;
	if (j->type != AJ_NUM && j->type != AJ_STR)
		return -1;
	if (j->type == AJ_STR) {                       /* circe decodes numbers from strings too */
		struct ajson *t;
		if (j->len == 0 || !(j->s[0] == '-' || (j->s[0] >= '0' && j->s[0] <= '9')) ||
		    j->s[j->len - 1] < '0' || j->s[j->len - 1] > '9')
			return -1;
		t = ajson_parse(j->s, j->len, 1, NULL, 0);
		int rc = -1;
		if (t && t->type == AJ_NUM && adapt_num_long(t->s, t->len, &l) == 0 &&
		    l >= INT32_MIN && l <= INT32_MAX) {
			*v = (int32_t)l;
			rc = 0;
		}
		ajson_free(t);
		return rc;
	}
	if (adapt_num_long(j->s, j->len, &l) == -1 || l < INT32_MIN || l > INT32_MAX)
		return -1;
	*v = (int32_t)l;
	return 0;
}

/* ---- JSON rewriting ---- */

void
adapt_scala_order(struct ajson *obj)
{
	size_t *ix, i;
	int32_t *hc;
	struct ajson_mem *m;

	if (obj == NULL || obj->type != AJ_OBJ || obj->n <= 4)
		return;
	ix = malloc(obj->n * sizeof(*ix));
	hc = malloc(obj->n * sizeof(*hc));
	m = malloc(obj->n * sizeof(*m));
	if (ix && hc && m) {
		for (i = 0; i < obj->n; i++) {
			ix[i] = i;
			hc[i] = scala_string_hash(obj->m[i].key, obj->m[i].klen);
		}
		scala_hash_sort(ix, obj->n, hc);
		for (i = 0; i < obj->n; i++)
			m[i] = obj->m[ix[i]];
		memcpy(obj->m, m, obj->n * sizeof(*m));
	}
	free(ix);
	free(hc);
	free(m);
}

static int
is_ts_key(const char *const *keys, const char *k, size_t klen)
{
	for (; keys && *keys; keys++)
		if (strlen(*keys) == klen && memcmp(*keys, k, klen) == 0)
			return 1;
	return 0;
}

/* Adapter.toStringField: seconds -> Joda print of new DateTime(seconds * 1000) (a long
 * multiplication, wrapping as the JVM's does). */
static struct ajson *
seconds_to_iso(int64_t sec)
{
	char iso[48];

	adapt_iso_ms((int64_t)((uint64_t)sec * 1000u), iso);
	return ajson_str(iso, strlen(iso));
}

int
adapt_cleanup(struct ajson *j, const char *type_key, const char *type_value,
    const char *const *ts_keys)
{
	size_t i, w;

	if (j->type == AJ_ARR) {
		for (i = 0; i < j->n; i++)
			if (adapt_cleanup(j->m[i].val, type_key, type_value, ts_keys) == -1)
				return -1;
		return 0;
	}
	if (j->type != AJ_OBJ)
		return 0;
	adapt_scala_order(j);                         /* obj.toMap.map {...} */
	for (i = 0; i < j->n; i++) {
		struct ajson *v = j->m[i].val;
		int64_t l;
		if (is_ts_key(ts_keys, j->m[i].key, j->m[i].klen) && v->type == AJ_STR) {
			if (conv_int64(v->s, &l) == 0 && strlen(v->s) == v->len) {
				struct ajson *n = seconds_to_iso(l);
				if (n == NULL)
					return -1;
				ajson_free(v);
				j->m[i].val = n;
			}
		} else if (is_ts_key(ts_keys, j->m[i].key, j->m[i].klen)) {
			if (v->type == AJ_NUM && adapt_num_long(v->s, v->len, &l) == 0) {
				struct ajson *n = seconds_to_iso(l);
				if (n == NULL)
					return -1;
				ajson_free(v);
				j->m[i].val = n;
			}
		} else if (v->type == AJ_OBJ || v->type == AJ_ARR) {
			if (adapt_cleanup(v, type_key, type_value, ts_keys) == -1)
				return -1;
		}
	}
	if (type_key == NULL || type_value == NULL)
		return 0;
	for (i = w = 0; i < j->n; i++) {               /* drop "event": <the event type> */
		if (strlen(type_key) == j->m[i].klen && memcmp(j->m[i].key, type_key, j->m[i].klen)
		    == 0 && ajson_is_str(j->m[i].val, type_value)) {
			free(j->m[i].key);
			ajson_free(j->m[i].val);
			continue;
		}
		j->m[w++] = j->m[i];
	}
	j->n = w;
	return 0;
}

static int
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Adapter.camelCase: the first character lower-cased, then every "[_-](\w)" replaced by the
 * word character capitalised (an ASCII \w; capitalize changes lower-case letters only). An
 * empty key stays empty (upstream's charAt(0) throws). */
static void
camel_case(const char *k, size_t klen, struct buf *out)
{
	size_t i = 0;

	while (i < klen) {
		char c = k[i];
		if (i == 0 && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if ((c == '_' || c == '-') && i + 1 < klen && is_word(k[i + 1])) {
			char w = k[i + 1];
			buf_append_byte(out, (uint8_t)(w >= 'a' && w <= 'z' ? w - 32 : w));
			i += 2;
			continue;
		}
		buf_append_byte(out, (uint8_t)c);
		i++;
	}
}

int
adapt_camelize(struct ajson *j)
{
	size_t i;
	struct buf b;

	if (j->type == AJ_ARR) {
		for (i = 0; i < j->n; i++)
			if (adapt_camelize(j->m[i].val) == -1)
				return -1;
		return 0;
	}
	if (j->type != AJ_OBJ)
		return 0;
	buf_init(&b, 0);
	for (i = 0; i < j->n; i++) {
		char *nk;
		buf_reset(&b);
		camel_case(j->m[i].key, j->m[i].klen, &b);
		if ((nk = malloc(b.len + 1)) == NULL) {
			buf_free(&b);
			return -1;
		}
		memcpy(nk, b.data ? b.data : "", b.len);
		nk[b.len] = '\0';
		free(j->m[i].key);
		j->m[i].key = nk;
		j->m[i].klen = b.len;
		if (adapt_camelize(j->m[i].val) == -1) {
			buf_free(&b);
			return -1;
		}
	}
	buf_free(&b);
	/* Json.obj(list) keeps the order; two keys that camelize alike: the later value, first
	 * position (circe's JsonObject.fromIterable) */
	return ajson_dedup(j);
}
