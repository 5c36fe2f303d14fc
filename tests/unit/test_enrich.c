/* Unit tests for enrich's per-line core (enrich_line): every parameter of the map, every event
 * type, the timestamp rules, cx/ue_px base64 variants, invalid JSON in every JSON parameter,
 * precedence rules, UTF-8 repair and the bad-row types. Raw lines are built with common/thrift
 * exactly as the collector writes them. Schemas come from the source tree's embedded registry
 * plus tests/golden/enrich/iglu (com.acme). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/enrich.h"
#include "base64.h"
#include "event.h"
#include "iglu.h"
#include "jsonw.h"
#include "thrift.h"

static struct iglu_resolver *resolver;

struct result {
	struct buf good, bad;
	char *cols[EVENT_NCOLS];
	int ngood, nbad;
	json_t *row;           /* first bad row */
};

static void
result_free(struct result *r)
{
	buf_free(&r->good);
	buf_free(&r->bad);
	json_decref(r->row);
}

/* Run one payload through enrich; split the first good line into columns. */
static void
run_payload(struct thrift_payload *p, struct result *r)
{
	struct enrich *e = enrich_new(resolver, NULL);
	struct buf raw;
	char *line, *s;
	int i;

	memset(r, 0, sizeof(*r));
	buf_init(&r->good, 0);
	buf_init(&r->bad, 0);
	buf_init(&raw, 0);
	ck_assert_int_eq(thrift_payload_encode(p, &raw), 0);
	line = malloc(base64_encoded_len(raw.len) + 1);
	base64_encode((const uint8_t *)raw.data, raw.len, line);
	enrich_set_clock(e, 1700000100000LL);
	ck_assert_int_eq(enrich_line(e, line, strlen(line), &r->good, &r->bad), 0);
	r->ngood = (int)enrich_counts(e)->good;
	r->nbad = (int)enrich_counts(e)->bad;
	ck_assert_int_eq(r->ngood + r->nbad >= 1, 1);
	if (r->ngood) {
		s = r->good.data;
		for (i = 0; i < EVENT_NCOLS; i++) {
			char *t = strpbrk(s, "\t\n");
			ck_assert_ptr_nonnull(t);
			*t = '\0';
			r->cols[i] = s;
			s = t + 1;
		}
	}
	if (r->nbad) {
		char *nl = strchr(r->bad.data, '\n');
		r->row = json_loadb(r->bad.data, (size_t)(nl - r->bad.data), 0, NULL);
		ck_assert_ptr_nonnull(r->row);
	}
	free(line);
	buf_free(&raw);
	enrich_free(e);
	thrift_payload_free(p);
}

static void
base_payload(struct thrift_payload *p, const char *path, const char *qs)
{
	thrift_payload_init(p);
	thrift_tstr_set(&p->schema, THRIFT_PAYLOAD_SCHEMA, strlen(THRIFT_PAYLOAD_SCHEMA));
	thrift_tstr_set(&p->ip_address, "203.0.113.7", 11);
	p->timestamp = 1700000000000LL;
	p->has_timestamp = 1;
	thrift_tstr_set(&p->encoding, "UTF-8", 5);
	thrift_tstr_set(&p->collector, "c-1", 3);
	thrift_tstr_set(&p->path, path, strlen(path));
	if (qs)
		thrift_tstr_set(&p->querystring, qs, strlen(qs));
}

static void
run_qs(const char *qs, struct result *r)
{
	struct thrift_payload p;

	base_payload(&p, "/i", qs);
	run_payload(&p, r);
}

static const char *
col(struct result *r, const char *name)
{
	int i = event_col_by_name(name);

	ck_assert_int_ge(i, 0);
	ck_assert_msg(r->ngood >= 1, "no good event; bad row: %s", r->bad.data ? r->bad.data : "");
	return r->cols[i];
}

static const char *
bad_type(struct result *r)
{
	const char *s;

	ck_assert_msg(r->nbad >= 1, "expected a bad row, got a good event");
	s = json_string_value(json_object_get(r->row, "schema"));
	return strchr(s, '/') + 1;
}

#define BASE "e=pv&p=web&tv=t-1&"

/* The first data report of a schema_violations row's first message: "path: message". */
static const char *
first_report(struct result *r)
{
	static char out[512];
	json_t *rep;

	ck_assert_msg(r->nbad >= 1, "expected a bad row, got a good event");
	rep = json_array_get(json_object_get(json_object_get(json_array_get(json_object_get(
	    json_object_get(json_object_get(r->row, "data"), "failure"), "messages"), 0), "error"),
	    "dataReports"), 0);
	snprintf(out, sizeof(out), "%s: %s", json_string_value(json_object_get(rep, "path")),
	    json_string_value(json_object_get(rep, "message")));
	return out;
}

/* tracker-protocol.md §3.2: every simple parameter -> its column */
START_TEST(parameter_map)
{
	static const struct { const char *param, *col, *exp; } t[] = {
		{ "aid=shop", "app_id", "shop" }, { "tna=sp1", "name_tracker", "sp1" },
		{ "cv=my-coll", "v_collector", "my-coll" },
		{ "eid=5A305BF5-0001-4000-8000-00000000000A", "event_id", "5a305bf5-0001-4000-8000-00000000000a" },
		{ "tid=42", "txn_id", "42" }, { "dtm=1700000000001", "dvce_created_tstamp", "2023-11-14 22:13:20.001" },
		{ "stm=1700000000002", "dvce_sent_tstamp", "2023-11-14 22:13:20.002" },
		{ "ttm=1700000000003", "true_tstamp", "2023-11-14 22:13:20.003" },
		{ "tz=Europe%2FLondon", "os_timezone", "Europe/London" }, { "uid=u%201", "user_id", "u 1" },
		{ "duid=d-1", "domain_userid", "d-1" }, { "nuid=n-1", "network_userid", "n-1" },
		{ "tnuid=tn-1", "network_userid", "tn-1" }, { "vid=7", "domain_sessionidx", "7" },
		{ "sid=BE9520E7-1111-4222-8333-444455556666", "domain_sessionid", "be9520e7-1111-4222-8333-444455556666" },
		{ "ip=192.0.2.1,10.0.0.1", "user_ipaddress", "192.0.2.1" },
		{ "ip=192.0.2.2%7Cx", "user_ipaddress", "192.0.2.2" },
		{ "ua=Agent%09X", "useragent", "Agent    X" }, { "fp=123", "user_fingerprint", "123" },
		{ "url=http%3A%2F%2Fa.example%2Fp", "page_url", "http://a.example/p" },
		{ "refr=http%3A%2F%2Fr.example%2F", "page_referrer", "http://r.example/" },
		{ "page=Title+%E2%80%93", "page_title", "Title \xe2\x80\x93" },
		{ "res=1920x1080", "dvce_screenwidth", "1920" }, { "res=1920x1080", "dvce_screenheight", "1080" },
		{ "vp=300x200", "br_viewwidth", "300" }, { "vp=300x200", "br_viewheight", "200" },
		{ "ds=50x60", "doc_width", "50" }, { "ds=50x60", "doc_height", "60" },
		{ "cd=24", "br_colordepth", "24" }, { "cs=UTF-8", "doc_charset", "UTF-8" },
		{ "lang=en-GB", "br_lang", "en-GB" }, { "cookie=1", "br_cookies", "1" },
		{ "f_pdf=1", "br_features_pdf", "1" }, { "f_fla=0", "br_features_flash", "0" },
		{ "f_java=1", "br_features_java", "1" }, { "f_dir=0", "br_features_director", "0" },
		{ "f_qt=1", "br_features_quicktime", "1" }, { "f_realp=0", "br_features_realplayer", "0" },
		{ "f_wma=1", "br_features_windowsmedia", "1" }, { "f_gears=0", "br_features_gears", "0" },
		{ "f_ag=1", "br_features_silverlight", "1" },
		{ "se_ca=c", "se_category", "c" }, { "se_ac=a", "se_action", "a" }, { "se_la=l", "se_label", "l" },
		{ "se_pr=p", "se_property", "p" }, { "se_va=1.50", "se_value", "1.50" },
		{ "ev_ca=c", "se_category", "c" }, { "ev_ac=a", "se_action", "a" }, { "ev_la=l", "se_label", "l" },
		{ "ev_pr=p", "se_property", "p" }, { "ev_va=2E%2B1", "se_value", "20" },
		{ "tr_id=o1", "tr_orderid", "o1" }, { "tr_af=aff", "tr_affiliation", "aff" },
		{ "tr_tt=10.00", "tr_total", "10.00" }, { "tr_tx=0.5", "tr_tax", "0.5" },
		{ "tr_sh=1e-7", "tr_shipping", "1E-7" }, { "tr_ci=City", "tr_city", "City" },
		{ "tr_st=St", "tr_state", "St" }, { "tr_co=UK", "tr_country", "UK" },
		{ "tr_cu=GBP", "tr_currency", "GBP" }, { "ti_id=o1", "ti_orderid", "o1" },
		{ "ti_sk=sku", "ti_sku", "sku" }, { "ti_nm=Name", "ti_name", "Name" }, { "ti_na=Old", "ti_name", "Old" },
		{ "ti_ca=cat", "ti_category", "cat" }, { "ti_pr=9.99", "ti_price", "9.99" },
		{ "ti_qu=3", "ti_quantity", "3" }, { "ti_cu=EUR", "ti_currency", "EUR" },
		{ "pp_mix=-1", "pp_xoffset_min", "-1" }, { "pp_max=2", "pp_xoffset_max", "2" },
		{ "pp_miy=3", "pp_yoffset_min", "3" }, { "pp_may=4", "pp_yoffset_max", "4" },
		{ "vid=null", "domain_sessionidx", "" }, { "se_va=null", "se_value", "" },
		{ "aid=", "app_id", "" }, { "aid=%09%0A", "app_id", "    " }, { "unknown=1", "app_id", "" },
		{ "u=ignored", "app_id", "" },
	};
	char qs[512];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r;
		snprintf(qs, sizeof(qs), BASE "%s", t[i].param);
		run_qs(qs, &r);
		ck_assert_msg(r.ngood == 1, "%s: no good event: %s", t[i].param, r.bad.data);
		ck_assert_msg(strcmp(col(&r, t[i].col), t[i].exp) == 0, "%s: %s = '%s', expected '%s'",
		    t[i].param, t[i].col, col(&r, t[i].col), t[i].exp);
		result_free(&r);
	}
}
END_TEST

/* typed parameters with bad values: one atomic_field_parse_error each, path = parameter */
START_TEST(parameter_errors)
{
	static const char *const t[] = { "eid=x", "tid=1.5", "dtm=abc", "stm=", "ttm=1.0", "vid=x",
	    "sid=nope", "res=1x", "vp=ax1", "ds=", "cookie=2", "f_pdf=true", "se_va=1,5", "tr_tt=x",
	    "ti_pr=", "ti_qu=1e3", "pp_mix=a", "p=tablet", "e=xx", "p=" };
	char qs[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r;
		json_t *rep;
		const char *path;
		size_t plen = strcspn(t[i], "=");
		if (t[i][0] == 'e' && t[i][1] == '=')
			snprintf(qs, sizeof(qs), "p=web&tv=t&%s", t[i]);
		else if (t[i][0] == 'p' && t[i][1] == '=')
			snprintf(qs, sizeof(qs), "e=pv&tv=t&%s", t[i]);
		else
			snprintf(qs, sizeof(qs), BASE "%s", t[i]);
		run_qs(qs, &r);
		ck_assert_msg(r.ngood == 0, "%s: accepted", t[i]);
		ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
		rep = json_array_get(json_object_get(json_object_get(json_array_get(json_object_get(
		    json_object_get(json_object_get(r.row, "data"), "failure"), "messages"), 0), "error"),
		    "dataReports"), 0);
		path = json_string_value(json_object_get(rep, "path"));
		ck_assert_msg(path && strlen(path) == plen && strncmp(path, t[i], plen) == 0,
		    "%s: path %s", t[i], path);
		ck_assert_str_eq(json_string_value(json_object_get(rep, "keyword")),
		    "atomic_field_parse_error");
		result_free(&r);
	}
}
END_TEST

/*
 * Every integer-typed parameter of enrich's Transform table (tid, vid, ti_qu, pp_mix, pp_max,
 * pp_miy, pp_may: CU.stringToJInteger2) is Integer.parseInt of the value, "null" in any case
 * meaning NULL: EnrichmentManagerSpec "emit an EnrichedEvent for valid integer fields" (42,
 * -42, null) and ConversionUtils.stringToJInteger. So tid=028288 is txn_id 28288 (before,
 * tid was kept as text, and null was a bad row).
 */
START_TEST(integer_parameters)
{
	static const char *const fields[][2] = { { "tid", "txn_id" }, { "vid", "domain_sessionidx" },
	    { "ti_qu", "ti_quantity" }, { "pp_mix", "pp_xoffset_min" }, { "pp_max", "pp_xoffset_max" },
	    { "pp_miy", "pp_yoffset_min" }, { "pp_may", "pp_yoffset_max" } };
	static const char *const values[][2] = { { "42", "42" }, { "-42", "-42" }, { "null", "" },
	    { "NULL", "" }, { "Null", "" }, { "028288", "28288" }, { "%2B007", "7" },
	    { "-0000000000000000000000000002147483648", "-2147483648" } };
	static const char *const bad[] = { "1.5", "", "2147483648", "0x54", "6.72E5", "%201" };
	char qs[256];
	size_t i, k;
	struct result r;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
			snprintf(qs, sizeof(qs), BASE "%s=%s", fields[i][0], values[k][0]);
			run_qs(qs, &r);
			ck_assert_msg(strcmp(col(&r, fields[i][1]), values[k][1]) == 0, "%s: %s = '%s'",
			    qs, fields[i][1], col(&r, fields[i][1]));
			result_free(&r);
		}
		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			char want[128];

			snprintf(qs, sizeof(qs), BASE "%s=%s", fields[i][0], bad[k]);
			run_qs(qs, &r);
			snprintf(want, sizeof(want), "%s: Cannot be converted to java.lang.Integer",
			    fields[i][0]);
			ck_assert_str_eq(first_report(&r), want);
			result_free(&r);
		}
	}
	/* ClientEnrichments.extractViewDimensions: the regex's message, or toInt's */
	run_qs(BASE "res=99999999999x1", &r);
	ck_assert_str_eq(first_report(&r), "res: Could not be converted to java.lang.Integer s");
	result_free(&r);
	run_qs(BASE "vp=1x", &r);
	ck_assert_str_eq(first_report(&r), "vp: Does not conform to regex (\\d+)x(\\d+)");
	result_free(&r);
	run_qs(BASE "ds=0800x0600", &r);
	ck_assert_str_eq(col(&r, "doc_width"), "800");
	ck_assert_str_eq(col(&r, "doc_height"), "600");
	result_free(&r);
}
END_TEST

/* An empty User-Agent header stays "" (EnrichmentManager.setUseragent), not null: the partial
 * event of a bad row shows it, and the ua parameter replaces it (empty: null again). txn_id is
 * an Int in the partial event. */
START_TEST(empty_useragent_and_partial_event)
{
	struct thrift_payload p;
	struct result r;
	json_t *enr;

	base_payload(&p, "/i", "e=xx&p=web&tv=t&tid=0042");
	thrift_tstr_set(&p.user_agent, "", 0);
	run_payload(&p, &r);
	enr = json_object_get(json_object_get(json_object_get(r.row, "data"), "payload"), "enriched");
	ck_assert_str_eq(json_string_value(json_object_get(enr, "useragent")), "");
	ck_assert_int_eq(json_integer_value(json_object_get(enr, "txn_id")), 42);
	result_free(&r);
	base_payload(&p, "/i", "e=xx&p=web&tv=t&ua=");
	thrift_tstr_set(&p.user_agent, "", 0);
	run_payload(&p, &r);
	enr = json_object_get(json_object_get(json_object_get(r.row, "data"), "payload"), "enriched");
	ck_assert(json_is_null(json_object_get(enr, "useragent")));
	result_free(&r);
	base_payload(&p, "/i", "e=xx&p=web&tv=t");
	run_payload(&p, &r);
	enr = json_object_get(json_object_get(json_object_get(r.row, "data"), "payload"), "enriched");
	ck_assert(json_is_null(json_object_get(enr, "useragent")));
	result_free(&r);
}
END_TEST

/* Repeated query-string parameters: one entry each, the last value, at the first one's place
 * (the qs becomes a Map upstream), also past the point where names are hashed; and a tp2
 * POST's query string overrides the body's fields the same way. */
START_TEST(repeated_parameters)
{
	struct buf qs;
	struct result r;
	json_t *params;
	int i, n_aid = 0;
	size_t k;

	buf_init(&qs, 0);
	buf_append_str(&qs, "e=xx&p=web&tv=t&aid=first");
	for (i = 0; i < 3000; i++)
		buf_printf(&qs, "&x%d=%d", i % 1000, i);
	buf_append_str(&qs, "&aid=second&tv=t2");
	run_qs(qs.data, &r);
	params = json_object_get(json_object_get(json_object_get(json_object_get(r.row, "data"),
	    "payload"), "raw"), "parameters");
	ck_assert_uint_eq(json_array_size(params), 4 + 1000);
	for (k = 0; k < json_array_size(params); k++) {
		json_t *pr = json_array_get(params, k);
		const char *name = json_string_value(json_object_get(pr, "name"));

		if (strcmp(name, "aid") == 0) {
			n_aid++;
			ck_assert_uint_eq(k, 3);
			ck_assert_str_eq(json_string_value(json_object_get(pr, "value")), "second");
		}
		if (strcmp(name, "x999") == 0)
			ck_assert_str_eq(json_string_value(json_object_get(pr, "value")), "2999");
	}
	ck_assert_int_eq(n_aid, 1);
	result_free(&r);
	buf_reset(&qs);
	buf_append_str(&qs, "e=pv&p=web&tv=t&aid=first");
	for (i = 0; i < 3000; i++)
		buf_printf(&qs, "&x%d=%d", i % 1000, i);
	buf_append_str(&qs, "&aid=second&tv=t2");
	run_qs(qs.data, &r);
	ck_assert_str_eq(col(&r, "app_id"), "second");
	ck_assert_str_eq(col(&r, "v_tracker"), "t2");
	result_free(&r);
	buf_free(&qs);
}
END_TEST

/* tracker-protocol.md §2 */
START_TEST(event_types)
{
	static const struct { const char *e, *event, *vendor, *name; } t[] = {
		{ "pv", "page_view", "com.snowplowanalytics.snowplow", "page_view" },
		{ "pp", "page_ping", "com.snowplowanalytics.snowplow", "page_ping" },
		{ "se", "struct", "com.google.analytics", "event" },
		{ "ev", "struct", "com.google.analytics", "event" },
		{ "tr", "transaction", "com.snowplowanalytics.snowplow", "transaction" },
		{ "ti", "transaction_item", "com.snowplowanalytics.snowplow", "transaction_item" },
		{ "ue", "unstruct", "", "" },
	};
	char qs[128];
	size_t i;
	struct result r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(qs, sizeof(qs), "e=%s&p=web&tv=t", t[i].e);
		run_qs(qs, &r);
		ck_assert_str_eq(col(&r, "event"), t[i].event);
		ck_assert_str_eq(col(&r, "event_vendor"), t[i].vendor);
		ck_assert_str_eq(col(&r, "event_name"), t[i].name);
		if (*t[i].vendor) {
			ck_assert_str_eq(col(&r, "event_format"), "jsonschema");
			ck_assert_str_eq(col(&r, "event_version"), "1-0-0");
		}
		result_free(&r);
	}
	/* unstruct: the inner event's key */
	run_qs("e=ue&p=web&tv=t&ue_pr=%7B%22schema%22%3A%22iglu%3Acom.snowplowanalytics.snowplow%2F"
	    "unstruct_event%2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%7B%22schema%22%3A%22iglu%3Acom.acme"
	    "%2Fbutton_click%2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%7B%22id%22%3A%22x%22%7D%7D%7D", &r);
	ck_assert_str_eq(col(&r, "event_vendor"), "com.acme");
	ck_assert_str_eq(col(&r, "event_name"), "button_click");
	ck_assert_str_eq(col(&r, "event_version"), "1-0-0");
	ck_assert_str_eq(col(&r, "unstruct_event"), "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/"
	    "unstruct_event/jsonschema/1-0-0\",\"data\":{\"schema\":\"iglu:com.acme/button_click/"
	    "jsonschema/1-0-0\",\"data\":{\"id\":\"x\"}}}");
	result_free(&r);
	/* ad impressions and a missing e have no schema: enrichment_failures */
	run_qs("e=ad&p=web&tv=t", &r);
	ck_assert_str_eq(bad_type(&r), "enrichment_failures/jsonschema/2-0-1");
	result_free(&r);
	run_qs("p=web&tv=t", &r);
	ck_assert_str_eq(bad_type(&r), "enrichment_failures/jsonschema/2-0-1");
	result_free(&r);
}
END_TEST

/* enriched-event.md §5: collector, etl, derived timestamps */
START_TEST(timestamp_rules)
{
	struct result r;

	run_qs(BASE "dtm=1700000000000&stm=1700000000500", &r);   /* device clock 0.5 s behind send */
	ck_assert_str_eq(col(&r, "collector_tstamp"), "2023-11-14 22:13:20.000");
	ck_assert_str_eq(col(&r, "etl_tstamp"), "2023-11-14 22:15:00.000");
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2023-11-14 22:13:19.500");
	result_free(&r);
	run_qs(BASE "dtm=1700000000500&stm=1700000000500", &r);   /* not strictly less */
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2023-11-14 22:13:20.000");
	result_free(&r);
	run_qs(BASE "dtm=1700000009000&stm=1700000000500", &r);   /* created after sent */
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2023-11-14 22:13:20.000");
	result_free(&r);
	run_qs(BASE "dtm=1600000000000", &r);                     /* no stm */
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2023-11-14 22:13:20.000");
	result_free(&r);
	run_qs(BASE "stm=1600000000000", &r);                     /* no dtm */
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2023-11-14 22:13:20.000");
	result_free(&r);
	run_qs(BASE "dtm=1&stm=2&ttm=1600000000000", &r);         /* ttm wins */
	ck_assert_str_eq(col(&r, "derived_tstamp"), "2020-09-13 12:26:40.000");
	ck_assert_str_eq(col(&r, "true_tstamp"), "2020-09-13 12:26:40.000");
	result_free(&r);
	run_qs(BASE "url=http%3A%2F%2Fa.example%2F%3F_sp%3Dabc-1.1600000000001.sess", &r);
	ck_assert_str_eq(col(&r, "refr_domain_userid"), "abc-1");
	ck_assert_str_eq(col(&r, "refr_dvce_tstamp"), "2020-09-13 12:26:40.001");
	result_free(&r);
	run_qs(BASE "url=http%3A%2F%2Fa.example%2F%3F_sp%3Dabc-1", &r);
	ck_assert_str_eq(col(&r, "refr_domain_userid"), "abc-1");
	ck_assert_str_eq(col(&r, "refr_dvce_tstamp"), "");
	result_free(&r);
	run_qs(BASE "url=http%3A%2F%2Fa.example%2F%3F_sp%3Dabc.x1", &r);
	ck_assert_str_eq(bad_type(&r), "enrichment_failures/jsonschema/2-0-1");
	result_free(&r);
	{
		struct thrift_payload p;
		base_payload(&p, "/i", BASE "x=1");
		p.timestamp = 253402300800000LL;    /* year 10000 */
		run_payload(&p, &r);
		/* EnrichmentManager.setupEnrichedEvent: an atomic error, not an enrichment failure
		 * (EventEnrichments.formatCollectorTstamp, eventEnrichmentSpecs) */
		ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
		ck_assert_str_eq(first_report(&r), "collector_tstamp: Formatted as 10000-01-01 "
		    "00:00:00.000 is not Redshift-compatible");
		result_free(&r);
	}
	/* EventEnrichments.extractTimestamp quotes Joda's rendering of the time */
	run_qs(BASE "dtm=253402300800000", &r);
	ck_assert_str_eq(first_report(&r), "dtm: Formatting as 10000-01-01 00:00:00.000 is not "
	    "Redshift-compatible");
	result_free(&r);
	run_qs(BASE "ttm=-62167219200001", &r);
	ck_assert_str_eq(first_report(&r), "ttm: Formatting as -0001-12-31 23:59:59.999 is not "
	    "Redshift-compatible");
	result_free(&r);
	/* getDerivedTimestamp has no range check: a derived time before year 0 is printed as is */
	run_qs(BASE "dtm=0&stm=253402300799999", &r);
	ck_assert_str_eq(col(&r, "derived_tstamp"), "-6007-11-14 22:13:20.001");
	result_free(&r);
}
END_TEST

static char *
b64url(const char *s, int pad, int std)
{
	size_t n = strlen(s), i;
	char *out = malloc(base64_encoded_len(n) + 1);

	base64_encode((const uint8_t *)s, n, out);
	for (i = 0; out[i]; i++) {
		if (!std && out[i] == '+')
			out[i] = '-';
		if (!std && out[i] == '/')
			out[i] = '_';
		if (!pad && out[i] == '=')
			out[i] = '\0';
	}
	return out;
}

#define CTX "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":" \
	"[{\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\",\"data\":{\"name\":\"\xc3\xa5?>>\",\"age\":15}}]}"
#define CTX_OUT "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\"," \
	"\"data\":[{\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\",\"data\":{\"name\":\"\xc3\xa5?>>\",\"age\":15}}]}"

/* tracker-protocol.md §4: cx with and without padding, either alphabet, with junk */
START_TEST(base64_variants)
{
	int pad, std;
	char qs[1200];
	struct result r;

	for (pad = 0; pad < 2; pad++)
		for (std = 0; std < 2; std++) {
			char *b = b64url(CTX, pad, std);
			/* percent-encode the characters a query string cannot carry raw */
			char enc[1024], *o = enc;
			const char *c;
			for (c = b; *c; c++) {
				if (*c == '+' || *c == '/' || *c == '=')
					o += sprintf(o, "%%%02X", (unsigned char)*c);
				else
					*o++ = *c;
			}
			*o = '\0';
			snprintf(qs, sizeof(qs), BASE "cx=%s", enc);
			run_qs(qs, &r);
			ck_assert_msg(r.ngood == 1, "pad %d std %d: %s", pad, std, r.bad.data);
			ck_assert_str_eq(col(&r, "contexts"), CTX_OUT);
			result_free(&r);
			free(b);
		}
}
END_TEST

/* invalid JSON in every JSON parameter -> schema_violations (tp2 body -> tracker protocol) */
START_TEST(invalid_json_everywhere)
{
	static const char *const t[] = { "co=%7Bbad", "cx=e2JhZA", "ue_pr=%5B1%2C", "ue_px=W1ss",
	    "co=%22str%22", "ue_pr=%7B%7D", "co=", "cx=" };
	char qs[256];
	size_t i;
	struct result r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(qs, sizeof(qs), "e=ue&p=web&tv=t&%s", t[i]);
		run_qs(qs, &r);
		ck_assert_msg(r.ngood == 0, "%s accepted", t[i]);
		ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
		result_free(&r);
	}
	{
		struct thrift_payload p;
		base_payload(&p, "/com.snowplowanalytics.snowplow/tp2", NULL);
		thrift_tstr_set(&p.content_type, "application/json", 16);
		thrift_tstr_set(&p.body, "{\"schema\":1,", 12);
		run_payload(&p, &r);
		ck_assert_str_eq(bad_type(&r), "tracker_protocol_violations/jsonschema/1-0-1");
		result_free(&r);
	}
}
END_TEST

/* tracker-protocol.md §3.3, enriched-event.md §5 */
START_TEST(precedence)
{
	struct result r;
	struct thrift_payload p;

	run_qs(BASE "se_ca=plain&ev_ca=legacy&ti_nm=new&ti_na=old", &r);
	ck_assert_str_eq(col(&r, "se_category"), "plain");
	ck_assert_str_eq(col(&r, "ti_name"), "new");
	result_free(&r);
	run_qs(BASE "aid=first&aid=last", &r);
	ck_assert_str_eq(col(&r, "app_id"), "last");
	result_free(&r);
	run_qs(BASE "co=%7Bbad&cx=" "e30", &r);     /* co wins, and it is invalid */
	ck_assert_int_eq(r.ngood, 0);
	result_free(&r);

	base_payload(&p, "/i", BASE "nuid=param-nuid");
	thrift_tstr_set(&p.network_user_id, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b", 36);
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "network_userid"), "param-nuid");
	result_free(&r);
	base_payload(&p, "/i", BASE "tnuid=t&nuid=n");
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "network_userid"), "t");
	result_free(&r);
	base_payload(&p, "/i", BASE "x=1");
	thrift_tstr_set(&p.network_user_id, "9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B", 36);
	thrift_tstr_set(&p.referer_uri, "https://ref.example:444/x?y#z", 29);
	thrift_tstr_set(&p.user_agent, "UA\t1\r\n\x01", 7);
	thrift_payload_add_header(&p, "X-Forwarded-For: 198.51.100.9", 29);
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "network_userid"), "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b");
	ck_assert_str_eq(col(&r, "page_url"), "https://ref.example:444/x?y#z");
	ck_assert_str_eq(col(&r, "page_urlport"), "444");
	ck_assert_str_eq(col(&r, "page_referrer"), "");
	ck_assert_str_eq(col(&r, "useragent"), "UA    1\x01");
	ck_assert_str_eq(col(&r, "user_ipaddress"), "198.51.100.9");
	ck_assert_str_eq(col(&r, "v_collector"), "c-1");
	ck_assert_str_eq(col(&r, "v_etl"), "furrow-enrich-" FURROW_VERSION);
	ck_assert_int_eq((int)strlen(col(&r, "event_id")), 36);
	result_free(&r);
	base_payload(&p, "/i", BASE "ua=param&url=https%3A%2F%2Fp.example%2F");
	thrift_tstr_set(&p.referer_uri, "https://ref.example/", 20);
	thrift_tstr_set(&p.user_agent, "header", 6);
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "useragent"), "param");
	ck_assert_str_eq(col(&r, "page_url"), "https://p.example/");
	ck_assert_str_eq(col(&r, "page_urlport"), "443");
	result_free(&r);
}
END_TEST

/* invalid UTF-8 in Thrift strings and decoded parameters becomes U+FFFD */
START_TEST(utf8_repair)
{
	struct result r;
	struct thrift_payload p;

	base_payload(&p, "/i", BASE "page=a%FFb");
	thrift_tstr_set(&p.user_agent, "x\xc3y", 3);
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "page_title"), "a\xef\xbf\xbd" "b");
	ck_assert_str_eq(col(&r, "useragent"), "x\xef\xbf\xbdy");
	result_free(&r);
}
END_TEST

/* tp2: POST bodies, the query-string override, one bad row per failed payload */
START_TEST(tp2_post)
{
	static const char body[] = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/"
	    "jsonschema/1-0-4\",\"data\":[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"body\",\"aid\":\"a1\"},"
	    "{\"e\":\"se\",\"p\":\"web\",\"tv\":\"body\",\"se_ca\":\"c\\tx\"},"
	    "{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"body\",\"eid\":\"bad\"}]}";
	struct result r;
	struct thrift_payload p;

	base_payload(&p, "/com.snowplowanalytics.snowplow/tp2", "tv=qs&aid=");
	thrift_tstr_set(&p.content_type, "application/json; charset=UTF-8", 31);
	thrift_tstr_set(&p.body, body, strlen(body));
	run_payload(&p, &r);
	ck_assert_int_eq(r.ngood, 2);
	ck_assert_int_eq(r.nbad, 1);
	ck_assert_str_eq(col(&r, "v_tracker"), "qs");     /* the query string wins */
	ck_assert_str_eq(col(&r, "app_id"), "");          /* even with an empty value */
	ck_assert_ptr_nonnull(memmem(r.good.data, r.good.len, "c    x", 6));
	ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
	result_free(&r);

	/* 1-0-0 does not allow stm: the whole payload is rejected */
	base_payload(&p, "/com.snowplowanalytics.snowplow/tp2", NULL);
	thrift_tstr_set(&p.content_type, "application/json", 16);
	thrift_tstr_set(&p.body, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/"
	    "jsonschema/1-0-0\",\"data\":[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"t\",\"stm\":\"1\"}]}", 121);
	run_payload(&p, &r);
	ck_assert_int_eq(r.ngood, 0);
	ck_assert_str_eq(bad_type(&r), "tracker_protocol_violations/jsonschema/1-0-1");
	result_free(&r);

	/* content type present, no body */
	base_payload(&p, "/com.snowplowanalytics.snowplow/tp2", "e=pv");
	thrift_tstr_set(&p.content_type, "application/json", 16);
	run_payload(&p, &r);
	ck_assert_str_eq(bad_type(&r), "tracker_protocol_violations/jsonschema/1-0-1");
	result_free(&r);

	/* GET on tp2: the query string is the event */
	base_payload(&p, "/com.snowplowanalytics.snowplow/tp2", BASE "aid=g");
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "app_id"), "g");
	result_free(&r);
}
END_TEST

START_TEST(payload_level_failures)
{
	struct result r;
	struct thrift_payload p;

	base_payload(&p, "/com.acme/v1", BASE "x=1");
	run_payload(&p, &r);
	ck_assert_str_eq(bad_type(&r), "adapter_failures/jsonschema/1-0-0");
	result_free(&r);
	base_payload(&p, "/", BASE "x=1");
	run_payload(&p, &r);
	ck_assert_str_eq(bad_type(&r), "collector_payload_format_violation/jsonschema/1-0-0");
	result_free(&r);
	base_payload(&p, "/i", "a=b c");
	run_payload(&p, &r);
	ck_assert_str_eq(bad_type(&r), "collector_payload_format_violation/jsonschema/1-0-0");
	result_free(&r);
	/* several problems: one bad row per message */
	base_payload(&p, "/x/y/z", "a=%");
	thrift_tstr_set(&p.network_user_id, "nope", 4);
	run_payload(&p, &r);
	ck_assert_int_eq(r.nbad, 3);
	result_free(&r);
	/* /ice.png and /i?… are tp1 */
	base_payload(&p, "/ice.png", BASE "aid=ice");
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "app_id"), "ice");
	result_free(&r);
	base_payload(&p, "/com.snowplowanalytics.snowplow/tp1/", BASE "aid=v");
	run_payload(&p, &r);
	ck_assert_str_eq(col(&r, "app_id"), "v");
	result_free(&r);
}
END_TEST

START_TEST(raw_lines)
{
	struct enrich *e = enrich_new(resolver, NULL);
	struct buf good, bad;
	static const char *const lines[] = { "", "\r", "!!!!", "AAAA", "CwBk", "////////////" };
	size_t i;

	buf_init(&good, 0);
	buf_init(&bad, 0);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_int_eq(enrich_line(e, lines[i], strlen(lines[i]), &good, &bad), 0);
	ck_assert_int_eq(enrich_counts(e)->empty, 2);
	ck_assert_int_eq(enrich_counts(e)->lines, 4);
	ck_assert_int_eq(enrich_counts(e)->good, 0);
	ck_assert_int_eq(enrich_counts(e)->bad, 4);
	ck_assert_int_eq(enrich_line_too_long(e, "abcdefghijklmnopqrstuvwxyz", 26, 5000, 100, &bad), 0);
	ck_assert_ptr_nonnull(strstr(bad.data, "\"payload\":\"abcdefghij\""));
	ck_assert_ptr_nonnull(strstr(bad.data, "size_violation"));
	buf_free(&good);
	buf_free(&bad);
	enrich_free(e);
}
END_TEST

START_TEST(redirects)
{
	struct result r;

	{
		struct thrift_payload p;
		base_payload(&p, "/r/tp2", "u=https%3A%2F%2Fx.example%2F&e=pv&cx=" "e30");
		run_payload(&p, &r);
		/* cx {} is not self-describing: the uri_redirect entity cannot be added, phase 1 says so */
		ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
		result_free(&r);
		base_payload(&p, "/r/tp2", "u=https%3A%2F%2Fx.example%2F&e=pv");
		run_payload(&p, &r);
		ck_assert_ptr_nonnull(strstr(col(&r, "contexts"), "uri_redirect"));
		ck_assert_str_eq(col(&r, "v_tracker"), "r-tp2");
		ck_assert_str_eq(col(&r, "platform"), "web");
		result_free(&r);
		base_payload(&p, "/r/tp2", "");
		run_payload(&p, &r);
		ck_assert_str_eq(bad_type(&r), "tracker_protocol_violations/jsonschema/1-0-1");
		result_free(&r);
	}
}
END_TEST

/* enriched-event.md §15.6: a superseded entity is validated with, and renamed to, the newer
 * version, and a validation_info entity says so in derived_contexts */
START_TEST(superseding)
{
	struct result r;

	run_qs("e=ue&p=web&tv=t&ue_pr=%7B%22schema%22%3A%22iglu%3Acom.snowplowanalytics.snowplow%2F"
	    "unstruct_event%2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%7B%22schema%22%3A%22iglu%3Acom.acme"
	    "%2Frenamed%2Fjsonschema%2F1-0-0%22%2C%22data%22%3A%7B%22a%22%3A%22x%22%7D%7D%7D", &r);
	ck_assert_str_eq(col(&r, "event_version"), "1-0-1");
	ck_assert_ptr_nonnull(strstr(col(&r, "unstruct_event"), "iglu:com.acme/renamed/jsonschema/1-0-1"));
	ck_assert_str_eq(col(&r, "derived_contexts"), "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/"
	    "contexts/jsonschema/1-0-1\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.iglu/"
	    "validation_info/jsonschema/1-0-0\",\"data\":{\"originalSchema\":\"iglu:com.acme/renamed/"
	    "jsonschema/1-0-0\",\"validatedWith\":\"1-0-1\"}}]}");
	result_free(&r);
}
END_TEST

/*
 * An integer wider than 64 bits in a context is valid JSON (upstream accepts it; jansson alone
 * does not): it validates as an integer, and the contexts column keeps the tracker's digits.
 */
START_TEST(big_integer)
{
	static const char ctx[] = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/"
	    "jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/"
	    "geolocation_context/jsonschema/1-1-0\",\"data\":{\"latitude\":51.5,\"longitude\":-0.12,"
	    "\"timestamp\":123456789012345678901234567890}}]}";
	char qs[1024], *q;
	const char *p, *v;
	struct result r;

	q = qs + snprintf(qs, sizeof(qs), BASE "co=");
	for (p = ctx; *p; p++)
		q += snprintf(q, 4, "%%%02X", (unsigned char)*p);
	run_qs(qs, &r);
	ck_assert_msg(r.ngood == 1, "bad row: %s", r.bad.data ? r.bad.data : "");
	v = col(&r, "contexts");
	ck_assert_msg(strstr(v, "\"timestamp\":123456789012345678901234567890}") != NULL, "%s", v);
	result_free(&r);

	/* and it is still checked: as a latitude it is beyond the maximum of 90 */
	q = qs + snprintf(qs, sizeof(qs), BASE "co=");
	for (p = ctx; *p; p++) {
		if (strncmp(p, "51.5", 4) == 0) {
			q += snprintf(q, 40, "123456789012345678901234567890");
			p += 3;
		} else {
			q += snprintf(q, 4, "%%%02X", (unsigned char)*p);
		}
	}
	run_qs(qs, &r);
	ck_assert_int_eq(r.ngood, 0);
	ck_assert_str_eq(bad_type(&r), "schema_violations/jsonschema/2-0-1");
	result_free(&r);
}
END_TEST

START_TEST(json_writer)
{
	json_t *j = json_loads("{\"b\":0.1,\"a\":[1,2.5,1e2,true,null,\"\\u00e9\\n\"]}", 0, NULL);
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(jsonw_value(&b, j), 0);
	ck_assert_str_eq(b.data, "{\"b\":0.1,\"a\":[1,2.5,100.0,true,null,\"\xc3\xa9\\n\"]}");
	json_decref(j);
	/* reals as circe prints a JsonDouble: Double.toString */
	j = json_pack("[f,f,f]", 12345678.9, 0.0005, 40.0);
	buf_reset(&b);
	ck_assert_int_eq(jsonw_value(&b, j), 0);
	ck_assert_str_eq(b.data, "[1.23456789E7,5.0E-4,40.0]");
	buf_free(&b);
	json_decref(j);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enrich");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	char err[256];
	int failed;

	resolver = iglu_resolver_new("tests/golden/enrich/resolver.json", "schemas", err, sizeof(err));
	if (resolver == NULL) {
		fprintf(stderr, "test_enrich: resolver: %s (run from the repository root)\n", err);
		return 1;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, parameter_map);
	tcase_add_test(tc, parameter_errors);
	tcase_add_test(tc, integer_parameters);
	tcase_add_test(tc, empty_useragent_and_partial_event);
	tcase_add_test(tc, repeated_parameters);
	tcase_add_test(tc, event_types);
	tcase_add_test(tc, timestamp_rules);
	tcase_add_test(tc, base64_variants);
	tcase_add_test(tc, invalid_json_everywhere);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, utf8_repair);
	tcase_add_test(tc, tp2_post);
	tcase_add_test(tc, payload_level_failures);
	tcase_add_test(tc, raw_lines);
	tcase_add_test(tc, redirects);
	tcase_add_test(tc, superseding);
	tcase_add_test(tc, json_writer);
	tcase_add_test(tc, big_integer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	iglu_resolver_free(resolver);
	return failed ? 1 : 0;
}
