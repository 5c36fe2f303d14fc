/*
 * ins_badrow: a bad row's pseudo event, readable summaries and Micro's BadEvent fields (see
 * ins_badrow.h). Field names and shapes: enriched-event.md §14 (BADROWS Failure.scala,
 * Payload.scala); Micro's shapes: snowplow-micro 4.5.2 model.scala (BadEvent), enrich's
 * CollectorPayload / RawEvent case classes as Micro's Routing.scala encodes them.
 */
#include "ins_badrow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "event.h"
#include "fnv.h"
#include "ins_params.h"
#include "ins_store.h"
#include "jsonw.h"
#include "sdkjson.h"
#include "timefmt.h"
#include "uuid.h"
#include "version.h"

#define BADROW_PREFIX "iglu:com.snowplowanalytics.snowplow.badrows/"
#define PSEUDO_MAX_VALUE 65536        /* a longer column value is left out of the pseudo line */

static const char *const badtype_names[INS_BT_COUNT] = {
	[INS_BT_OTHER] = "bad_row",
	[INS_BT_SIZE_VIOLATION] = "size_violation",
	[INS_BT_CPFV] = "collector_payload_format_violation",
	[INS_BT_ADAPTER] = "adapter_failures",
	[INS_BT_TPV] = "tracker_protocol_violations",
	[INS_BT_SCHEMA] = "schema_violations",
	[INS_BT_ENRICHMENT] = "enrichment_failures",
	[INS_BT_GENERIC] = "generic_error",
	[INS_BT_LOADER_PARSING] = "loader_parsing_error",
};

const char *
ins_badtype_name(enum ins_badtype t)
{
	return t < INS_BT_COUNT ? badtype_names[t] : badtype_names[INS_BT_OTHER];
}

static enum ins_badtype
badtype_of(const char *schema)
{
	size_t plen = strlen(BADROW_PREFIX), i;
	const char *name, *slash;

	if (schema == NULL || strncmp(schema, BADROW_PREFIX, plen) != 0)
		return INS_BT_OTHER;
	name = schema + plen;
	if ((slash = strchr(name, '/')) == NULL)
		return INS_BT_OTHER;
	for (i = 1; i < INS_BT_COUNT; i++)
		if (strlen(badtype_names[i]) == (size_t)(slash - name) &&
		    strncmp(name, badtype_names[i], (size_t)(slash - name)) == 0)
			return (enum ins_badtype)i;
	return INS_BT_OTHER;
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- the pseudo event ---- */

struct pseudo {
	char *v[EVENT_NCOLS];
};

static void
pseudo_free(struct pseudo *p)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++) {
		free(p->v[i]);
		p->v[i] = NULL;
	}
}

/* Set column col to s[0..n), tabs and line ends turned into spaces (the TSV rule, §4). */
static void
pseudo_set(struct pseudo *p, int col, const char *s, size_t n)
{
	char *c;
	size_t i;

	if (n > PSEUDO_MAX_VALUE || (c = malloc(n + 1)) == NULL)
		return;
	for (i = 0; i < n; i++)
		c[i] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
	c[n] = '\0';
	free(p->v[col]);
	p->v[col] = c;
}

static void
pseudo_set_str(struct pseudo *p, int col, const char *s)
{
	if (s)
		pseudo_set(p, col, s, strlen(s));
}

static int
pseudo_empty(const struct pseudo *p, int col)
{
	return p->v[col] == NULL || p->v[col][0] == '\0';
}

static void
pseudo_set_ms(struct pseudo *p, int col, int64_t ms)
{
	char t[TIMEFMT_BUFSZ];

	if (timefmt_tsv(ms, t) == 0)
		pseudo_set_str(p, col, t);
}

/* A column of PartiallyEnrichedEvent (§14.5): strings as they are, numbers printed, null empty. */
static void
pseudo_set_json(struct pseudo *p, int col, const json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		pseudo_set(p, col, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		pseudo_set_str(p, col, num);
		break;
	case JSON_REAL:
		sdkjson_double(json_real_value(v), num);
		pseudo_set_str(p, col, num);
		break;
	case JSON_TRUE:
		pseudo_set_str(p, col, "1");
		break;
	case JSON_FALSE:
		pseudo_set_str(p, col, "0");
		break;
	case JSON_OBJECT:
	case JSON_ARRAY: {
		struct buf d;
		buf_init(&d, 0);
		if (jsonw_value(&d, v) == 0)
			pseudo_set(p, col, d.data, d.len);
		buf_free(&d);
		break;
	}
	default:
		break;
	}
}

/* One tracker parameter into its columns (ins_params), for rows without an enriched event. */
static void
pseudo_param(struct pseudo *p, const char *name, const char *value)
{
	size_t i, n = strlen(value);

	for (i = 0; i < ins_nparams; i++) {
		const struct ins_param *pm = &ins_params[i];
		if (strcmp(pm->name, name) != 0)
			continue;
		switch (pm->conv) {
		case INS_PC_STR:
			pseudo_set(p, pm->col, value, n);
			break;
		case INS_PC_EVENT:
			pseudo_set_str(p, pm->col, ins_event_name_of_code(value));
			break;
		case INS_PC_MS: {
			char *end;
			long long ms = strtoll(value, &end, 10);
			if (*value && *end == '\0')
				pseudo_set_ms(p, pm->col, ms);
			break;
		}
		case INS_PC_WXH: {
			const char *x = strchr(value, 'x');
			if (x) {
				pseudo_set(p, pm->col, value, (size_t)(x - value));
				pseudo_set_str(p, pm->col2, x + 1);
			}
			break;
		}
		case INS_PC_B64JSON: {
			uint8_t *d;
			size_t dn;
			if (n > PSEUDO_MAX_VALUE || (d = malloc(base64_decoded_max(n) + 1)) == NULL)
				break;
			dn = base64_decode_lenient(value, n, d);
			pseudo_set(p, pm->col, (const char *)d, dn);
			free(d);
			break;
		}
		}
		return;
	}
}

/* [{"name":…,"value":…},…] (the badrows NameValuePair form) into columns. */
static void
pseudo_params(struct pseudo *p, const json_t *arr)
{
	size_t i;
	json_t *nv;

	json_array_foreach(arr, i, nv) {
		const char *name = jstr(nv, "name"), *value = jstr(nv, "value");
		if (name && value)
			pseudo_param(p, name, value);
	}
}

/* The first event of a tp2 POST body (payload_data: {"schema":…,"data":[{…}]}). */
static void
pseudo_body(struct pseudo *p, const char *body)
{
	json_t *j = json_loads(body, 0, NULL), *first;
	const char *key;
	json_t *v;

	if (j == NULL)
		return;
	first = json_array_get(json_object_get(j, "data"), 0);
	json_object_foreach(first, key, v)
		if (json_is_string(v))
			pseudo_param(p, key, json_string_value(v));
	json_decref(j);
}

/* A name-based event id for a row that has none, stable across restarts: two FNV-1a hashes
 * of the row (different seeds) in the layout of a v4 UUID. */
static void
synth_event_id(const char *line, size_t len, char out[UUID_STR_LEN + 1])
{
	uint64_t a = fnv_bytes(FNV_OFFSET, line, len), b = fnv_bytes(FNV_OFFSET ^ 0x9e3779b97f4a7c15ULL, line, len);

	snprintf(out, UUID_STR_LEN + 1, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	    (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	    (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

static int
pseudo_write(const struct pseudo *p, struct buf *out)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++) {
		if (i && buf_append_byte(out, '\t') == -1)
			return -1;
		if (p->v[i] && buf_append_str(out, p->v[i]) == -1)
			return -1;
	}
	return 0;
}

/* Empty every column the Analytics SDK refuses (its errors name them), so that the pseudo line
 * always converts; the required ones get their fallbacks back. */
static int
pseudo_settle(struct pseudo *p, const char *fallback_id, const char *fallback_ts,
    const char *fallback_etl, struct buf *out)
{
	struct sdkjson_result res;
	struct buf doc, err;
	int round, ok = -1;

	buf_init(&doc, 0);
	buf_init(&err, 0);
	for (round = 0; round < 4; round++) {
		json_t *e, *errs, *x;
		size_t i;

		buf_reset(out);
		buf_reset(&doc);
		buf_reset(&err);
		if (pseudo_write(p, out) == -1)
			break;
		if (sdkjson_enriched(out->data, out->len, -1, &doc, &res, &err) == 0) {
			ok = 0;
			break;
		}
		e = json_loads(err.data, 0, NULL);
		errs = json_object_get(e, "errors");
		json_array_foreach(errs, i, x) {
			const char *key = jstr(x, "key");
			int col = key ? event_col_by_name(key) : -1;
			if (col < 0)
				continue;
			free(p->v[col]);
			p->v[col] = NULL;
			if (col == COL_EVENT_ID)
				pseudo_set_str(p, col, fallback_id);
			else if (col == COL_COLLECTOR_TSTAMP)
				pseudo_set_str(p, col, fallback_ts);
			else if (col == COL_V_COLLECTOR || col == COL_V_ETL)
				pseudo_set_str(p, col, fallback_etl);
		}
		json_decref(e);
	}
	buf_free(&doc);
	buf_free(&err);
	return ok;
}

static void
copy_meta(char *dst, size_t max, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > max)
		n = max;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

static int
joda_ms(const char *s, int64_t *ms)
{
	return s ? ins_parse_iso_time(s, strlen(s), ms) : -1;
}

int
ins_badrow_ingest(const char *line, size_t len, int64_t now_ms, struct buf *pseudo_out,
    struct ins_badrow_meta *meta, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *row, *data, *failure, *payload, *raw = NULL, *enriched = NULL, *proc;
	struct pseudo p;
	char id[UUID_STR_LEN + 1], ts[TIMEFMT_BUFSZ], etl[128];
	int64_t ms;
	int rc = -1;

	row = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (row == NULL || !json_is_object(row)) {
		set_err(err, errlen, "not a bad row (%s)",
		    row ? "a JSON value that is not an object" : jerr.text);
		json_decref(row);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	memset(meta, 0, sizeof(*meta));
	meta->type = badtype_of(jstr(row, "schema"));
	data = json_object_get(row, "data");
	failure = json_object_get(data, "failure");
	payload = json_object_get(data, "payload");
	proc = json_object_get(data, "processor");
	meta->tstamp_ms = now_ms;
	if (joda_ms(jstr(failure, "timestamp"), &ms) == 0)
		meta->tstamp_ms = ms;

	if (json_is_object(payload)) {
		enriched = json_object_get(payload, "enriched");
		raw = json_object_get(payload, "raw");
		if (!json_is_object(raw) && jstr(payload, "vendor") && json_object_get(payload, "querystring"))
			raw = payload;      /* a CollectorPayload (adapter_failures, tracker_protocol_…) */
		else if (!json_is_object(raw))
			raw = NULL;
	}
	if (raw) {
		copy_meta(meta->vendor, INS_BADROW_VENDOR_MAX, jstr(raw, "vendor"));
		copy_meta(meta->version, INS_BADROW_VERSION_MAX, jstr(raw, "version"));
		if (joda_ms(jstr(raw, "timestamp"), &ms) == 0)
			meta->tstamp_ms = ms;
		if (raw == payload) {
			if (jstr(raw, "body"))
				pseudo_body(&p, jstr(raw, "body"));
			pseudo_params(&p, json_object_get(raw, "querystring"));
		} else {
			pseudo_params(&p, json_object_get(raw, "parameters"));
		}
		pseudo_set_str(&p, COL_V_COLLECTOR, jstr(raw, raw == payload ? "collector" : "loaderName"));
		pseudo_set_str(&p, COL_USER_IPADDRESS, jstr(raw, "ipAddress"));
		if (pseudo_empty(&p, COL_USERAGENT))
			pseudo_set_str(&p, COL_USERAGENT, jstr(raw, "useragent"));
		if (pseudo_empty(&p, COL_NETWORK_USERID))
			pseudo_set_str(&p, COL_NETWORK_USERID, jstr(raw, raw == payload ? "networkUserId" : "userId"));
	}
	if (json_is_object(enriched)) {
		int i;
		for (i = 0; i < EVENT_NCOLS; i++) {
			json_t *v = json_object_get(enriched, event_cols[i].name);
			if (v && !json_is_null(v))
				pseudo_set_json(&p, i, v);
		}
		if (!pseudo_empty(&p, COL_COLLECTOR_TSTAMP) &&
		    ins_parse_tsv_time(p.v[COL_COLLECTOR_TSTAMP], strlen(p.v[COL_COLLECTOR_TSTAMP]), &ms) == 0)
			meta->tstamp_ms = ms;
	}
	/* the columns the SDK requires */
	synth_event_id(line, len, id);
	if (pseudo_empty(&p, COL_EVENT_ID))
		pseudo_set_str(&p, COL_EVENT_ID, id);
	if (timefmt_tsv(meta->tstamp_ms, ts) == -1) {
		meta->tstamp_ms = now_ms;
		timefmt_tsv(now_ms, ts);
	}
	pseudo_set_str(&p, COL_COLLECTOR_TSTAMP, ts);
	snprintf(etl, sizeof(etl), "%s-%s", jstr(proc, "artifact") ? jstr(proc, "artifact") : "unknown",
	    jstr(proc, "version") ? jstr(proc, "version") : FURROW_VERSION);
	if (pseudo_empty(&p, COL_V_COLLECTOR))
		pseudo_set_str(&p, COL_V_COLLECTOR, etl);
	if (pseudo_empty(&p, COL_V_ETL))
		pseudo_set_str(&p, COL_V_ETL, etl);
	if (pseudo_settle(&p, id, ts, etl, pseudo_out) == -1) {
		/* cannot happen with the fallbacks above; keep only what is required */
		pseudo_free(&p);
		pseudo_set_str(&p, COL_EVENT_ID, id);
		pseudo_set_str(&p, COL_COLLECTOR_TSTAMP, ts);
		pseudo_set_str(&p, COL_V_COLLECTOR, etl);
		pseudo_set_str(&p, COL_V_ETL, etl);
		buf_reset(pseudo_out);
		if (pseudo_write(&p, pseudo_out) == -1) {
			set_err(err, errlen, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	pseudo_free(&p);
	json_decref(row);
	return rc;
}

/* ---- readable summaries ---- */

struct sum {
	struct buf line;
	void (*fn)(const char *, void *);
	void *arg;
	int n;
};

/* Append printf text to the summary line, keeping it under INS_SUMMARY_MAX. */
static void
sum_add(struct sum *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
sum_add(struct sum *s, const char *fmt, ...)
{
	char tmp[INS_SUMMARY_MAX * 2 + 1];      /* larger than a line, so a cut shows */
	va_list ap;
	size_t room;

	if (s->line.len >= INS_SUMMARY_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	room = INS_SUMMARY_MAX - s->line.len;
	if (strlen(tmp) > room) {
		/* cut on a UTF-8 boundary and mark the cut */
		size_t cut = room > 3 ? room - 3 : 0;
		while (cut > 0 && ((unsigned char)tmp[cut] & 0xc0) == 0x80)
			cut--;
		buf_append(&s->line, tmp, cut);
		buf_append_str(&s->line, "...");
		return;
	}
	buf_append_str(&s->line, tmp);
}

static void
sum_end(struct sum *s)
{
	if (s->line.len && s->n < INS_SUMMARIES_MAX) {
		s->fn(s->line.data, s->arg);
		s->n++;
	}
	buf_reset(&s->line);
}

/* A JSON value as short text: strings bare, the rest compact. */
static void
sum_value(struct sum *s, const json_t *v)
{
	struct buf d;

	if (v == NULL || json_is_null(v)) {
		sum_add(s, "null");
		return;
	}
	if (json_is_string(v)) {
		sum_add(s, "'%s'", json_string_value(v));
		return;
	}
	buf_init(&d, INS_SUMMARY_MAX * 4);     /* more than a summary line holds */
	if (jsonw_value(&d, v) == 0 || d.len)
		sum_add(s, "%.*s", (int)(d.len > INS_SUMMARY_MAX ? INS_SUMMARY_MAX + 1 : d.len), d.data);
	else
		sum_add(s, "?");
	buf_free(&d);
}

/* "iglu:com.acme/x/jsonschema/1-0-0" → the key as written; the atomic schema → "atomic field". */
static int
is_atomic(const char *key)
{
	return key && strcmp(key, "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0") == 0;
}

/* An Iglu ClientError (§14.6) about schemaKey: one line per data report or schema issue. */
static void
sum_client_error(struct sum *s, const char *prefix, const char *key, const json_t *e)
{
	const char *kind = jstr(e, "error");
	const json_t *reports = json_object_get(e, "dataReports");
	const json_t *issues = json_object_get(e, "schemaIssues");
	const json_t *hist = json_object_get(e, "lookupHistory");
	size_t i;
	json_t *r;

	if (kind && strcmp(kind, "ValidationError") == 0 && json_array_size(reports)) {
		json_array_foreach(reports, i, r) {
			const char *path = jstr(r, "path"), *msg = jstr(r, "message");
			if (is_atomic(key))
				sum_add(s, "%satomic field %s: %s", prefix, path ? path : "?",
				    msg ? msg : "invalid");
			else
				sum_add(s, "%s%s: %s%s%s", prefix, key ? key : "?",
				    path && strcmp(path, "$") && msg && strncmp(msg, path, strlen(path)) ?
				    path : "", path && strcmp(path, "$") && msg &&
				    strncmp(msg, path, strlen(path)) ? ": " : "", msg ? msg : "invalid");
			sum_end(s);
		}
		return;
	}
	if (kind && strcmp(kind, "ValidationError") == 0 && json_array_size(issues)) {
		json_array_foreach(issues, i, r) {
			sum_add(s, "%s%s: the schema itself is invalid: %s: %s", prefix, key ? key : "?",
			    jstr(r, "path") ? jstr(r, "path") : "?",
			    jstr(r, "message") ? jstr(r, "message") : "?");
			sum_end(s);
		}
		return;
	}
	if (kind && strcmp(kind, "ResolutionError") == 0) {
		sum_add(s, "%s%s: schema not found", prefix, key ? key : "?");
		if (json_array_size(hist)) {
			const char *sep = " (";
			json_array_foreach(hist, i, r) {
				const json_t *errs = json_object_get(r, "errors");
				const char *what = jstr(json_array_get(errs, 0), "error");
				const char *msg = jstr(json_array_get(errs, 0), "message");
				sum_add(s, "%s%s: %s%s%s", sep, jstr(r, "repository") ? jstr(r, "repository") : "?",
				    what ? what : "?", msg ? " " : "", msg ? msg : "");
				sep = ", ";
			}
			sum_add(s, ")");
		}
		sum_end(s);
		return;
	}
	sum_add(s, "%s%s: ", prefix, key ? key : "?");
	sum_value(s, e);
	sum_end(s);
}

/* One failure message of any of the shapes in §14.3. */
static void
sum_message(struct sum *s, const char *prefix, const json_t *m)
{
	const char *field = jstr(m, "field") ? jstr(m, "field") : jstr(m, "payloadField");
	const char *key = jstr(m, "schemaKey");

	if (json_is_string(m)) {
		sum_add(s, "%s%s", prefix, json_string_value(m));
		sum_end(s);
	} else if (key && json_object_get(m, "error")) {
		sum_client_error(s, prefix, key, json_object_get(m, "error"));
	} else if (key && jstr(m, "schemaCriterion")) {
		sum_add(s, "%s%s does not match the expected %s", prefix, key, jstr(m, "schemaCriterion"));
		sum_end(s);
	} else if (field && jstr(m, "expectation")) {
		sum_add(s, "%s%s", prefix, field);
		if (json_object_get(m, "value") && !json_is_null(json_object_get(m, "value"))) {
			sum_add(s, " = ");
			sum_value(s, json_object_get(m, "value"));
		}
		sum_add(s, ": %s", jstr(m, "expectation"));
		sum_end(s);
	} else if (field && jstr(m, "error")) {
		sum_add(s, "%s%s is not valid JSON: %s", prefix, field, jstr(m, "error"));
		sum_end(s);
	} else if (json_object_get(m, "json") && jstr(m, "error")) {
		sum_add(s, "%snot a self-describing JSON: %s", prefix, jstr(m, "error"));
		sum_end(s);
	} else if (jstr(m, "expectation") && json_object_get(m, "expectedMapping")) {
		sum_add(s, "%s%s: ", prefix, jstr(m, "expectation"));
		sum_value(s, json_object_get(m, "actual"));
		sum_end(s);
	} else if (jstr(m, "error")) {
		sum_add(s, "%s%s", prefix, jstr(m, "error"));
		sum_end(s);
	} else {
		sum_add(s, "%s", prefix);
		sum_value(s, m);
		sum_end(s);
	}
}

void
ins_badrow_each_summary(const json_t *row, void (*fn)(const char *, void *), void *arg)
{
	const json_t *data = json_object_get(row, "data");
	const json_t *f = json_object_get(data, "failure");
	enum ins_badtype t = badtype_of(jstr(row, "schema"));
	struct sum s;
	size_t i;
	json_t *m;

	buf_init(&s.line, INS_SUMMARY_MAX * 2);
	s.fn = fn;
	s.arg = arg;
	s.n = 0;
	switch (t) {
	case INS_BT_SCHEMA:
	case INS_BT_TPV:
	case INS_BT_ADAPTER:
		json_array_foreach(json_object_get(f, "messages"), i, m)
			sum_message(&s, "", m);
		break;
	case INS_BT_ENRICHMENT:
		json_array_foreach(json_object_get(f, "messages"), i, m) {
			const json_t *en = json_object_get(m, "enrichment");
			char prefix[200];
			snprintf(prefix, sizeof(prefix), "%s: ", jstr(en, "identifier") ?
			    jstr(en, "identifier") : "enrichment");
			sum_message(&s, prefix, json_object_get(m, "message"));
		}
		break;
	case INS_BT_CPFV:
		sum_message(&s, "collector payload: ", json_object_get(f, "message"));
		break;
	case INS_BT_SIZE_VIOLATION:
		sum_add(&s, "%lld bytes is more than the maximum of %lld bytes",
		    (long long)json_integer_value(json_object_get(f, "actualSizeBytes")),
		    (long long)json_integer_value(json_object_get(f, "maximumAllowedSizeBytes")));
		if (jstr(f, "expectation"))
			sum_add(&s, ": %s", jstr(f, "expectation"));
		sum_end(&s);
		break;
	case INS_BT_GENERIC:
		json_array_foreach(json_object_get(f, "errors"), i, m)
			sum_message(&s, "", m);
		break;
	default:
		break;
	}
	if (s.n == 0) {
		/* an unknown type or shape: the failure as compact JSON, cut */
		sum_add(&s, "%s: ", t == INS_BT_OTHER && jstr(row, "schema") ? jstr(row, "schema") :
		    ins_badtype_name(t));
		sum_value(&s, f ? f : row);
		sum_end(&s);
	}
	buf_free(&s.line);
}

struct sum_json {
	struct buf *out;
	int n, failed;
};

static void
sum_json_cb(const char *line, void *arg)
{
	struct sum_json *j = arg;

	if ((j->n++ && buf_append_byte(j->out, ',') == -1) ||
	    jsonw_string(j->out, line, strlen(line)) == -1)
		j->failed = 1;
}

int
ins_badrow_summaries(const json_t *row, struct buf *out)
{
	struct sum_json j = { out, 0, 0 };

	if (buf_append_byte(out, '[') == -1)
		return -1;
	ins_badrow_each_summary(row, sum_json_cb, &j);
	if (j.failed || buf_append_byte(out, ']') == -1)
		return -1;
	return 0;
}

/* ---- Micro's BadEvent fields ---- */

static int
put_str_or_null(struct buf *out, const char *s)
{
	if (s == NULL)
		return buf_append_str(out, "null");
	return jsonw_string(out, s, strlen(s));
}

static int
put_json(struct buf *out, const json_t *v)
{
	return v == NULL ? buf_append_str(out, "null") : jsonw_value(out, v);
}

/* source and context of enrich's CollectorPayload from a badrows CollectorPayload or RawEvent */
static int
put_source_context(struct buf *out, const json_t *p, int is_raw)
{
	return buf_append_str(out, "\"source\":{\"name\":") ||
	    put_str_or_null(out, jstr(p, is_raw ? "loaderName" : "collector")) ||
	    buf_append_str(out, ",\"encoding\":") || put_str_or_null(out, jstr(p, "encoding")) ||
	    buf_append_str(out, ",\"hostname\":") || put_str_or_null(out, jstr(p, "hostname")) ||
	    buf_append_str(out, "},\"context\":{\"timestamp\":") ||
	    put_str_or_null(out, jstr(p, "timestamp")) ||
	    buf_append_str(out, ",\"ipAddress\":") || put_str_or_null(out, jstr(p, "ipAddress")) ||
	    buf_append_str(out, ",\"useragent\":") || put_str_or_null(out, jstr(p, "useragent")) ||
	    buf_append_str(out, ",\"refererUri\":") || put_str_or_null(out, jstr(p, "refererUri")) ||
	    buf_append_str(out, ",\"headers\":") ||
	    put_json(out, json_is_array(json_object_get(p, "headers")) ?
	    json_object_get(p, "headers") : NULL) ||
	    buf_append_str(out, ",\"userId\":") ||
	    put_str_or_null(out, jstr(p, is_raw ? "userId" : "networkUserId")) ||
	    buf_append_byte(out, '}');
}

static int
put_api(struct buf *out, const json_t *p)
{
	return buf_append_str(out, "\"api\":{\"vendor\":") || put_str_or_null(out, jstr(p, "vendor")) ||
	    buf_append_str(out, ",\"version\":") || put_str_or_null(out, jstr(p, "version")) ||
	    buf_append_str(out, "},");
}

/* CollectorPayload.querystring as Micro prints NameValuePairs: "name=value" strings. */
static int
put_querystring(struct buf *out, const json_t *arr)
{
	struct buf nv;
	size_t i;
	json_t *x;
	int n = 0;

	if (buf_append_byte(out, '['))
		return -1;
	buf_init(&nv, 0);
	json_array_foreach(arr, i, x) {
		const char *name = jstr(x, "name"), *value = jstr(x, "value");
		buf_reset(&nv);
		if (name == NULL)
			continue;
		if (buf_append_str(&nv, name) || buf_append_byte(&nv, '=') ||
		    (value && buf_append_str(&nv, value)) ||
		    (n++ && buf_append_byte(out, ',')) || jsonw_string(out, nv.data, nv.len)) {
			buf_free(&nv);
			return -1;
		}
	}
	buf_free(&nv);
	return buf_append_byte(out, ']');
}

static int
put_collector_payload(struct buf *out, const json_t *p, int is_raw)
{
	return buf_append_byte(out, '{') || put_api(out, p) ||
	    buf_append_str(out, "\"querystring\":") ||
	    put_querystring(out, json_object_get(p, is_raw ? "parameters" : "querystring")) ||
	    buf_append_str(out, ",\"contentType\":") || put_str_or_null(out, jstr(p, "contentType")) ||
	    buf_append_str(out, ",\"body\":") || put_str_or_null(out, is_raw ? NULL : jstr(p, "body")) ||
	    buf_append_byte(out, ',') || put_source_context(out, p, is_raw) ||
	    buf_append_byte(out, '}');
}

static int
put_raw_event(struct buf *out, const json_t *raw)
{
	size_t i;
	json_t *x;
	int n = 0;

	if (buf_append_byte(out, '{') || put_api(out, raw) || buf_append_str(out, "\"parameters\":{"))
		return -1;
	json_array_foreach(json_object_get(raw, "parameters"), i, x) {
		const char *name = jstr(x, "name");
		if (name == NULL)
			continue;
		if ((n++ && buf_append_byte(out, ',')) || jsonw_string(out, name, strlen(name)) ||
		    buf_append_byte(out, ':') || put_str_or_null(out, jstr(x, "value")))
			return -1;
	}
	return buf_append_str(out, "},\"contentType\":") ||
	    put_str_or_null(out, jstr(raw, "contentType")) || buf_append_byte(out, ',') ||
	    put_source_context(out, raw, 1) || buf_append_byte(out, '}');
}

int
ins_badrow_micro(const json_t *row, const char *line, size_t len, struct buf *out)
{
	const json_t *payload = json_object_get(json_object_get(row, "data"), "payload");
	const json_t *raw = json_object_get(payload, "raw");
	enum ins_badtype t = badtype_of(jstr(row, "schema"));
	const char *first;

	if (buf_append_str(out, "\"collectorPayload\":"))
		return -1;
	if (json_is_object(raw)) {
		if (put_collector_payload(out, raw, 1))
			return -1;
	} else if (json_is_object(payload) && jstr(payload, "vendor")) {
		if (put_collector_payload(out, payload, 0))
			return -1;
	} else if (buf_append_str(out, "null")) {
		return -1;
	}
	if (buf_append_str(out, ",\"rawEvent\":"))
		return -1;
	if (json_is_object(raw) ? put_raw_event(out, raw) : buf_append_str(out, "null"))
		return -1;
	/* errors[] as Micro's EventSink writes them: a sentence, then the bad row as a string */
	if (t == INS_BT_CPFV)
		first = "Can't deserialize Thrift bytes.";
	else if (t == INS_BT_ADAPTER || t == INS_BT_TPV)
		first = "Error while extracting event(s) from collector payload and validating it/them.";
	else
		first = "Error while validating the event.";
	return buf_append_str(out, ",\"errors\":[") || jsonw_string(out, first, strlen(first)) ||
	    buf_append_byte(out, ',') || jsonw_string(out, line, len) ||
	    buf_append_byte(out, ']');
}
