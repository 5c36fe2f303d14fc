/*
 * ins_render: stored records as Micro's JSON (see ins_render.h).
 */
#include "ins_render.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ins_badrow.h"
#include "ins_params.h"
#include "ins_query.h"
#include "jsonw.h"
#include "sdkjson.h"
#include "timefmt.h"
#include "utf8.h"
#include "version.h"

void
ins_render_init(struct ins_render *rd)
{
	buf_init(&rd->doc, 0);
	buf_init(&rd->err, 0);
	buf_init(&rd->tmp, 0);
}

void
ins_render_free(struct ins_render *rd)
{
	buf_free(&rd->doc);
	buf_free(&rd->err);
	buf_free(&rd->tmp);
}

int
ins_json_str(struct buf *out, const char *s, size_t n)
{
	struct buf fixed;
	int rc;

	if (utf8_valid_prefix(s, n) == n)
		return jsonw_string(out, s, n);
	buf_init(&fixed, 0);
	rc = utf8_repair(s, n, &fixed) == 0 ? jsonw_string(out, fixed.data, fixed.len) : -1;
	buf_free(&fixed);
	return rc;
}

/* A column as a JSON string, or null when empty. */
static int
col_json(struct buf *out, const struct ins_rec *r, int col)
{
	size_t n;
	const char *v = ins_rec_col(r, col, &n);

	return n ? ins_json_str(out, v, n) : buf_append_str(out, "null");
}

/* ---- GoodEvent ---- */

static int
param_value(const struct ins_rec *r, const struct ins_param *p, struct buf *out)
{
	size_t n, n2;
	const char *v = ins_rec_col(r, p->col, &n);
	int64_t ms;
	char tmp[32];

	switch (p->conv) {
	case INS_PC_STR:
		return ins_json_str(out, v, n);
	case INS_PC_EVENT: {
		const char *code = ins_event_code_of_name(v, n);
		return code ? jsonw_string(out, code, strlen(code)) : ins_json_str(out, v, n);
	}
	case INS_PC_MS:
		if (ins_parse_tsv_time(v, n, &ms) == -1)
			return ins_json_str(out, v, n);
		snprintf(tmp, sizeof(tmp), "\"%lld\"", (long long)ms);
		return buf_append_str(out, tmp);
	case INS_PC_WXH: {
		const char *h = ins_rec_col(r, p->col2, &n2);
		char wh[64];
		if (n + n2 + 2 > sizeof(wh))
			return buf_append_str(out, "null");
		snprintf(wh, sizeof(wh), "%.*sx%.*s", (int)n, v, (int)n2, h);
		return ins_json_str(out, wh, strlen(wh));
	}
	default:
		return 0;
	}
}

/* rawEvent, derived from the enriched columns (see ins_render.h). */
static int
raw_event(const struct ins_rec *r, struct buf *out)
{
	char ts[TIMEFMT_BUFSZ];
	size_t i, n;
	int first = 1;

	if (buf_append_str(out, "{\"api\":{\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"version\":\"tp2\"},\"parameters\":{"))
		return -1;
	for (i = 0; i < ins_nparams; i++) {
		const struct ins_param *p = &ins_params[i];
		if (p->conv == INS_PC_B64JSON)
			continue;
		ins_rec_col(r, p->col, &n);
		if (n == 0)
			continue;
		if (p->conv == INS_PC_WXH) {
			size_t n2;
			ins_rec_col(r, p->col2, &n2);
			if (n2 == 0)
				continue;
		}
		if ((!first && buf_append_byte(out, ',')) || buf_append_byte(out, '"') ||
		    buf_append_str(out, p->name) || buf_append_str(out, "\":") || param_value(r, p, out))
			return -1;
		first = 0;
	}
	if (timefmt_joda(r->tstamp_ms, ts) == -1)
		ts[0] = '\0';
	return buf_append_str(out, "},\"contentType\":null,\"source\":{\"name\":") ||
	    col_json(out, r, COL_V_COLLECTOR) ||
	    buf_append_str(out, ",\"encoding\":\"UTF-8\",\"hostname\":null},\"context\":{\"timestamp\":") ||
	    (ts[0] ? buf_printf(out, "\"%s\"", ts) : buf_append_str(out, "null")) ||
	    buf_append_str(out, ",\"ipAddress\":") || col_json(out, r, COL_USER_IPADDRESS) ||
	    buf_append_str(out, ",\"useragent\":") || col_json(out, r, COL_USERAGENT) ||
	    buf_append_str(out, ",\"refererUri\":null,\"headers\":[],\"userId\":") ||
	    col_json(out, r, COL_NETWORK_USERID) || buf_append_str(out, "}}");
}

struct ctx_list {
	struct buf *out;
	int n, failed;
};

static int
ctx_list_cb(const char *uri, size_t n, void *arg)
{
	struct ctx_list *l = arg;

	if ((l->n++ && buf_append_byte(l->out, ',')) || ins_json_str(l->out, uri, n)) {
		l->failed = 1;
		return 1;
	}
	return 0;
}

/* The SDK document of r's columns into rd->doc; 0, or -1 with the SDK's error in rd->err. */
static int
sdk_doc(struct ins_render *rd, const struct ins_rec *r)
{
	struct sdkjson_result res;

	buf_reset(&rd->doc);
	buf_reset(&rd->err);
	return sdkjson_enriched(ins_rec_tsv(r), r->tsv_len, -1, &rd->doc, &res, &rd->err);
}

int
ins_render_good(struct ins_render *rd, const struct ins_rec *r, struct buf *out)
{
	char tmp[INS_COLVAL_TMP];
	struct ctx_list l = { out, 0, 0 };
	const char *v, *ctx;
	size_t n, cn;

	if (buf_append_str(out, "{\"rawEvent\":") || raw_event(r, out) ||
	    buf_append_str(out, ",\"eventType\":") || col_json(out, r, COL_EVENT) ||
	    buf_append_str(out, ",\"schema\":"))
		return -1;
	ins_colval(r, INS_COL_SCHEMA, tmp, &v, &n);
	if ((n == 4 && memcmp(v, "null", 4) == 0) ? buf_append_str(out, "null") : ins_json_str(out, v, n))
		return -1;
	if (buf_append_str(out, ",\"contexts\":["))
		return -1;
	ctx = ins_rec_col(r, COL_CONTEXTS, &cn);
	ins_contexts_each(ctx, cn, ctx_list_cb, &l);
	if (l.failed || buf_append_str(out, "],\"event\":"))
		return -1;
	if (sdk_doc(rd, r) == 0) {
		if (buf_append(out, rd->doc.data, rd->doc.len))
			return -1;
	} else if (buf_append_str(out, "null,\"parseError\":") ||
	    buf_append(out, rd->err.data, rd->err.len)) {
		return -1;
	}
	return buf_append_str(out, ",\"incomplete\":false}");
}

/* ---- BadEvent ---- */

static json_t *
load_row(const struct ins_rec *r)
{
	return json_loadb(ins_rec_line(r), r->line_len, 0, NULL);
}

int
ins_render_bad(struct ins_render *rd, const struct ins_rec *r, struct buf *out)
{
	json_t *row = load_row(r);
	int rc;

	(void)rd;
	rc = buf_append_byte(out, '{') ||
	    ins_badrow_micro(row, ins_rec_line(r), r->line_len, out) ||
	    buf_append_str(out, ",\"type\":") ||
	    buf_printf(out, "\"%s\"", ins_badtype_name((enum ins_badtype)r->badtype)) ||
	    buf_append_str(out, ",\"badRow\":") || buf_append(out, ins_rec_line(r), r->line_len) ||
	    buf_append_str(out, ",\"summary\":") || ins_badrow_summaries(row, out) ||
	    buf_append_byte(out, '}');
	json_decref(row);
	return rc ? -1 : 0;
}

/* ---- /micro/events ---- */

static const char *
failure_type(enum ins_badtype t)
{
	switch (t) {
	case INS_BT_SCHEMA: return "SchemaViolation";
	case INS_BT_ENRICHMENT: return "EnrichmentFailure";
	case INS_BT_TPV: return "TrackerProtocolViolation";
	case INS_BT_ADAPTER: return "AdapterFailure";
	case INS_BT_CPFV: return "CollectorPayloadFormatViolation";
	case INS_BT_SIZE_VIOLATION: return "SizeViolation";
	default: return ins_badtype_name(t);
	}
}

struct msg_list {
	struct buf *out;
	int n, failed;
};

static void
msg_cb(const char *line, void *arg)
{
	struct msg_list *m = arg;

	if ((m->n++ && buf_append_byte(m->out, ',')) || buf_append_str(m->out, "{\"message\":") ||
	    jsonw_string(m->out, line, strlen(line)) || buf_append_byte(m->out, '}'))
		m->failed = 1;
}

int
ins_render_event(struct ins_render *rd, const struct ins_rec *r, struct buf *out)
{
	struct msg_list m = { out, 0, 0 };
	json_t *row, *data;
	const char *ts, *art, *ver, *schema;
	int rc;

	if (sdk_doc(rd, r) == -1)
		/* cannot happen for a bad row (its pseudo line is checked at ingest); a good event
		 * the SDK refuses shows its id and the reason */
		return buf_append_str(out, "{\"event_id\":") || col_json(out, r, COL_EVENT_ID) ||
		    buf_append_str(out, ",\"parseError\":") ||
		    buf_append(out, rd->err.data, rd->err.len) || buf_append_byte(out, '}');
	if (r->kind == INS_GOOD)
		return buf_append(out, rd->doc.data, rd->doc.len);
	/* the SDK document ends with '}': add the failure entity before it */
	row = load_row(r);
	data = json_object_get(row, "data");
	schema = json_string_value(json_object_get(row, "schema"));
	ts = json_string_value(json_object_get(json_object_get(data, "failure"), "timestamp"));
	art = json_string_value(json_object_get(json_object_get(data, "processor"), "artifact"));
	ver = json_string_value(json_object_get(json_object_get(data, "processor"), "version"));
	rc = buf_append(out, rd->doc.data, rd->doc.len - 1) ||
	    buf_append_str(out, ",\"" INS_FAILURE_KEY "\":[{\"failureType\":") ||
	    buf_printf(out, "\"%s\"", failure_type((enum ins_badtype)r->badtype)) ||
	    buf_append_str(out, ",\"errors\":[");
	if (rc == 0)
		ins_badrow_each_summary(row, msg_cb, &m);
	rc = rc || m.failed || buf_append_str(out, "],\"schema\":") ||
	    (schema ? ins_json_str(out, schema, strlen(schema)) : buf_append_str(out, "null")) ||
	    buf_append_str(out, ",\"data\":") || buf_append(out, ins_rec_line(r), r->line_len) ||
	    buf_append_str(out, ",\"timestamp\":") ||
	    (ts ? ins_json_str(out, ts, strlen(ts)) : buf_append_str(out, "null")) ||
	    buf_append_str(out, ",\"componentName\":") ||
	    (art ? ins_json_str(out, art, strlen(art)) : buf_append_str(out, "null")) ||
	    buf_append_str(out, ",\"componentVersion\":") ||
	    (ver ? ins_json_str(out, ver, strlen(ver)) : buf_append_str(out, "null")) ||
	    buf_append_str(out, "}]}");
	json_decref(row);
	return rc ? -1 : 0;
}
