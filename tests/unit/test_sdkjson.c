/* Unit tests for common/sdkjson: the SDK 2.1.0 column classes (sinks.md §1.2-1.5). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "sdkjson.h"

/* A valid line with the four required columns set and col = val (val may contain TABs). */
static char *
line_with(int col, const char *val)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < EVENT_NCOLS; i++) {
		const char *v = "";
		if (i == col)
			v = val;
		else if (i == COL_COLLECTOR_TSTAMP)
			v = "2023-11-14 22:13:20.000";
		else if (i == COL_EVENT_ID)
			v = "9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B";
		else if (i == COL_V_COLLECTOR)
			v = "c";
		else if (i == COL_V_ETL)
			v = "e";
		if (i)
			buf_append_byte(&b, '\t');
		buf_append_str(&b, v);
	}
	return b.data;
}

/* Transform and parse; returns the document (NULL on failure, err then holds the error). */
static json_t *
run(const char *line, struct buf *err)
{
	struct sdkjson_result res;
	struct buf doc;
	json_t *j = NULL;

	buf_init(&doc, 0);
	buf_reset(err);
	if (sdkjson_enriched(line, strlen(line), -1, &doc, &res, err) == 0) {
		j = json_loads(doc.data, 0, NULL);
		ck_assert_ptr_nonnull(j);
	}
	buf_free(&doc);
	return j;
}

static json_t *
col_value(int col, const char *val, struct buf *err)
{
	char *l = line_with(col, val);
	json_t *doc = run(l, err);
	json_t *v = NULL;

	free(l);
	if (doc) {
		v = json_incref(json_object_get(doc, event_cols[col].name));
		json_decref(doc);
	}
	return v;
}

static char *
dumps(json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(v);
	return s;
}

static void
expect(int col, const char *val, const char *json)
{
	struct buf err;
	char *s;

	buf_init(&err, 0);
	s = dumps(col_value(col, val, &err));
	ck_assert_msg(s != NULL, "col %d value '%s': error %s", col, val, err.data);
	ck_assert_str_eq(s, json);
	free(s);
	buf_free(&err);
}

/* The raw document text holds "<name>":<text> (for doubles, whose text jansson would change). */
static void
expect_raw(int col, const char *val, const char *text)
{
	struct sdkjson_result res;
	struct buf doc, err;
	char *l = line_with(col, val), want[256];

	buf_init(&doc, 0);
	buf_init(&err, 0);
	ck_assert_int_eq(sdkjson_enriched(l, strlen(l), -1, &doc, &res, &err), 0);
	snprintf(want, sizeof(want), "\"%s\":%s,", event_cols[col].name, text);
	ck_assert_msg(strstr(doc.data, want) != NULL, "%s not in the document", want);
	buf_free(&doc);
	buf_free(&err);
	free(l);
}

static void
expect_error(int col, const char *val, const char *message)
{
	struct buf err;
	json_t *v, *e;

	buf_init(&err, 0);
	v = col_value(col, val, &err);
	ck_assert_msg(v == NULL, "col %d value '%s' should fail", col, val);
	e = json_loads(err.data, 0, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "RowDecodingError");
	if (message)
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
		    json_object_get(e, "errors"), 0), "message")), message);
	json_decref(e);
	buf_free(&err);
}

START_TEST(strings_and_nulls)
{
	expect(COL_APP_ID, "shop", "\"shop\"");
	expect(COL_APP_ID, "", "null");
	expect(COL_PAGE_TITLE, "a \"q\" \\ é", "\"a \\\"q\\\" \\\\ é\"");
	expect(COL_DOMAIN_SESSIONID, "NOT-A-UUID", "\"NOT-A-UUID\"");   /* a string, not a UUID */
	expect(COL_APP_ID, "bad\xff", "\"bad\xef\xbf\xbd\"");              /* U+FFFD */
}
END_TEST

START_TEST(integers)
{
	expect(COL_TXN_ID, "42", "42");
	expect(COL_TXN_ID, "+007", "7");
	expect(COL_TXN_ID, "-2147483648", "-2147483648");
	expect(COL_TXN_ID, "2147483647", "2147483647");
	expect_error(COL_TXN_ID, "2147483648", "Cannot parse key 'txn_id with value 2147483648 into integer");
	expect_error(COL_TXN_ID, "1.5", NULL);
	expect_error(COL_TXN_ID, "+", NULL);
	expect_error(COL_PAGE_URLPORT, "x", "Cannot parse key 'page_urlport with value x into integer");
}
END_TEST

START_TEST(doubles)
{
	expect_raw(COL_GEO_LATITUDE, "37.443604", "37.443604");
	expect_raw(COL_SE_VALUE, "40", "40.0");
	expect_raw(COL_TR_TOTAL, "-0.5", "-0.5");
	expect_raw(COL_TR_TOTAL, ".5", "0.5");
	expect_raw(COL_TR_TOTAL, "5.", "5.0");
	expect_raw(COL_TR_TOTAL, "1e3", "1000.0");
	expect_raw(COL_TR_TOTAL, "0.1", "0.1");
	/* circe prints a JsonDouble with Double.toString: scientific outside [1e-3, 1e7) */
	expect_raw(COL_TR_TOTAL, "12345678.9", "1.23456789E7");
	expect_raw(COL_TR_TOTAL, "10000000", "1.0E7");
	expect_raw(COL_TR_TOTAL, "9999999", "9999999.0");
	expect_raw(COL_TR_TOTAL, "0.0005", "5.0E-4");
	expect_raw(COL_TR_TOTAL, "-0", "-0.0");
	expect(COL_TR_TOTAL, "NaN", "null");
	expect(COL_TR_TOTAL, "-Infinity", "null");
	expect_error(COL_TR_TOTAL, "abc", "Cannot parse key 'tr_total with value abc into double");
	expect_error(COL_TR_TOTAL, "1e", NULL);
	expect_error(COL_TR_TOTAL, ".", NULL);
}
END_TEST

START_TEST(booleans)
{
	expect(COL_BR_COOKIES, "1", "true");
	expect(COL_BR_FEATURES_PDF, "0", "false");
	expect_error(COL_BR_COOKIES, "true", "Cannot parse key 'br_cookies with value true into boolean");
	expect_error(COL_DVCE_ISMOBILE, "2", NULL);
}
END_TEST

START_TEST(timestamps)
{
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:05.000", "\"2013-11-26T00:02:05Z\"");
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:25.292", "\"2013-11-26T00:02:25.292Z\"");
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:25.2", "\"2013-11-26T00:02:25.200Z\"");
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:25.1234", "\"2013-11-26T00:02:25.123400Z\"");
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:25.123456789", "\"2013-11-26T00:02:25.123456789Z\"");
	expect(COL_ETL_TSTAMP, "2013-11-26 00:02:25", "\"2013-11-26T00:02:25Z\"");
	expect(COL_ETL_TSTAMP, "2024-02-29 00:00:00.000", "\"2024-02-29T00:00:00Z\"");
	expect_error(COL_ETL_TSTAMP, "2023-02-29 00:00:00.000",
	    "Cannot parse key 'etl_tstamp with value 2023-02-29 00:00:00.000 into datetime");
	expect_error(COL_ETL_TSTAMP, "2013-11-26 00:02", NULL);
	expect_error(COL_ETL_TSTAMP, "2013-11-26 24:00:00", NULL);
	expect_error(COL_ETL_TSTAMP, "2013-11-26 00:00:00.1234567890", NULL);
	expect_error(COL_COLLECTOR_TSTAMP, "", "Field 'collector_tstamp cannot be empty");
}
END_TEST

START_TEST(uuid_and_required)
{
	expect(COL_EVENT_ID, "9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B",
	    "\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"");
	expect_error(COL_EVENT_ID, "9f2b6a3e1c4d4e5f8a7b0c1d2e3f4a5b",
	    "Cannot parse key 'event_id with value 9f2b6a3e1c4d4e5f8a7b0c1d2e3f4a5b into UUID");
	expect_error(COL_EVENT_ID, "", "Field 'event_id cannot be empty");
	expect_error(COL_V_ETL, "", "Field 'v_etl cannot be empty");
}
END_TEST

START_TEST(line_shape)
{
	struct buf err;
	json_t *e;
	char *l;
	size_t n;

	buf_init(&err, 0);
	ck_assert_ptr_null(run("", &err));
	ck_assert_str_eq(err.data, "{\"type\":\"NotTSV\"}");
	ck_assert_ptr_null(run("a\tb\t", &err));
	ck_assert_str_eq(err.data, "{\"type\":\"FieldNumberMismatch\",\"fieldCount\":3}");
	/* 131 fields with a CR at the end: the CR is stripped */
	l = line_with(COL_TRUE_TSTAMP, "");
	n = strlen(l);
	l = realloc(l, n + 2);
	strcpy(l + n, "\r");
	e = run(l, &err);
	ck_assert_ptr_nonnull(e);
	ck_assert(json_is_null(json_object_get(e, "true_tstamp")));
	ck_assert_int_eq(json_object_size(e), 128);
	json_decref(e);
	free(l);
	buf_free(&err);
}
END_TEST

static const char *CTX_WRAP = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[%s]}";

static json_t *
ctx_doc(int col, const char *fmt, const char *inner, struct buf *err)
{
	char v[4096];
	char *l;
	json_t *d;

	snprintf(v, sizeof(v), fmt, inner);
	l = line_with(col, v);
	d = run(l, err);
	free(l);
	return d;
}

START_TEST(contexts_flattening)
{
	struct buf err;
	json_t *d;
	char *s;

	buf_init(&err, 0);
	d = ctx_doc(COL_CONTEXTS, CTX_WRAP,
	    "{\"schema\":\"iglu:org.schema/WebPage/jsonschema/1-0-0\",\"data\":{\"a\":1}},"
	    "{\"schema\":\"iglu:org.w3/PerformanceTiming/jsonschema/1-0-0\",\"data\":{\"b\":2}},"
	    "{\"schema\":\"iglu:org.schema/WebPage/jsonschema/1-0-1\",\"data\":{\"a\":3}},"
	    "{\"schema\":\"iglu:com.my-co.x/my-thing-Name/jsonschema/2-0-0\",\"data\":[1]},"
	    "{\"schema\":\"iglu:com.acme/myURL/jsonschema/1-0-0\",\"data\":null}", &err);
	ck_assert_msg(d != NULL, "%s", err.data);
	s = dumps(json_incref(json_object_get(d, "contexts_org_schema_web_page_1")));
	ck_assert_str_eq(s, "[{\"a\":1},{\"a\":3}]");
	free(s);
	ck_assert_ptr_nonnull(json_object_get(d, "contexts_org_w3_performance_timing_1"));
	ck_assert_ptr_nonnull(json_object_get(d, "contexts_com_my_co_x_my_thing_name_2"));
	ck_assert_ptr_nonnull(json_object_get(d, "contexts_com_acme_my_url_1"));
	ck_assert_ptr_null(json_object_get(d, "contexts"));
	json_decref(d);

	/* derived_contexts replaces a custom context with the same key */
	{
		char *l = line_with(COL_CONTEXTS,
		    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\","
		    "\"data\":[{\"schema\":\"iglu:com.acme/URLClick/jsonschema/1-0-0\",\"data\":{\"c\":1}}]}");
		char *p = l;
		int i;
		struct buf b;

		/* put the derived one in column 122 too */
		buf_init(&b, 0);
		for (i = 0; i < COL_DERIVED_CONTEXTS; i++) {
			char *tab = strchr(p, '\t');
			buf_append(&b, p, (size_t)(tab - p) + 1);
			p = tab + 1;
		}
		buf_append_str(&b, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
		    "\"data\":[{\"schema\":\"iglu:com.acme/URLClick/jsonschema/1-0-0\",\"data\":{\"d\":2}}]}");
		buf_append_str(&b, strchr(p, '\t'));
		d = run(b.data, &err);
		ck_assert_msg(d != NULL, "%s", err.data);
		s = dumps(json_incref(json_object_get(d, "contexts_com_acme_urlclick_1")));
		ck_assert_str_eq(s, "[{\"d\":2}]");
		free(s);
		json_decref(d);
		buf_free(&b);
		free(l);
	}
	buf_free(&err);
}
END_TEST

START_TEST(contexts_errors)
{
	struct buf err;

	buf_init(&err, 0);
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, "%s", "{not json", &err));
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, "%s",
	    "{\"schema\":\"iglu:com.acme/contexts/jsonschema/1-0-0\",\"data\":[]}", &err));
	ck_assert_ptr_nonnull(strstr(err.data, "Unknown payload: iglu:com.acme/contexts/jsonschema/1-0-0"));
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, "%s",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/2-0-0\",\"data\":[]}", &err));
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, CTX_WRAP, "{\"schema\":\"iglu:a/b/jsonschema/0-0-0\",\"data\":1}", &err));
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, CTX_WRAP, "{\"schema\":\"iglu:a/b/jsonschema/1-0-0\"}", &err));
	ck_assert_ptr_null(ctx_doc(COL_CONTEXTS, "%s",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":{}}", &err));
	ck_assert_ptr_null(ctx_doc(COL_UNSTRUCT_EVENT, "%s",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\",\"data\":[]}", &err));
	buf_free(&err);
}
END_TEST

START_TEST(unstruct)
{
	struct buf err;
	json_t *d;
	char *s;

	buf_init(&err, 0);
	d = ctx_doc(COL_UNSTRUCT_EVENT, "%s",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
	    "\"data\":{\"schema\":\"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1\","
	    "\"data\":{\"targetUrl\":\"http://a\"}}}", &err);
	ck_assert_msg(d != NULL, "%s", err.data);
	s = dumps(json_incref(json_object_get(d, "unstruct_event_com_snowplowanalytics_snowplow_link_click_1")));
	ck_assert_str_eq(s, "{\"targetUrl\":\"http://a\"}");
	free(s);
	ck_assert_ptr_null(json_object_get(d, "unstruct_event"));
	json_decref(d);
	buf_free(&err);
}
END_TEST

START_TEST(geo_location)
{
	struct buf err, b;
	json_t *d;
	char *l = line_with(COL_GEO_LATITUDE, "40"), *p;
	int i;

	buf_init(&err, 0);
	d = run(l, &err);
	ck_assert_ptr_null(json_object_get(d, "geo_location"));    /* longitude missing */
	json_decref(d);
	/* set longitude too */
	buf_init(&b, 0);
	p = l;
	for (i = 0; i < COL_GEO_LONGITUDE; i++) {
		char *tab = strchr(p, '\t');
		buf_append(&b, p, (size_t)(tab - p) + 1);
		p = tab + 1;
	}
	buf_append_str(&b, "-122.4124");
	buf_append_str(&b, strchr(p, '\t'));
	d = run(b.data, &err);
	ck_assert_str_eq(json_string_value(json_object_get(d, "geo_location")), "40.0,-122.4124");
	json_decref(d);
	buf_free(&b);
	buf_free(&err);
	free(l);
}
END_TEST

START_TEST(shard_and_result)
{
	struct sdkjson_result res;
	struct buf doc, err;
	char *l = line_with(COL_APP_ID, "x");

	buf_init(&doc, 0);
	buf_init(&err, 0);
	ck_assert_int_eq(sdkjson_enriched(l, strlen(l), COL_COLLECTOR_TSTAMP, &doc, &res, &err), 0);
	ck_assert_str_eq(res.event_id, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b");
	ck_assert_int_eq(res.has_shard, 1);
	ck_assert_int_eq(res.shard_tm.tm_year, 123);
	ck_assert_int_eq(res.shard_tm.tm_mday, 14);
	buf_reset(&doc);
	ck_assert_int_eq(sdkjson_enriched(l, strlen(l), COL_DERIVED_TSTAMP, &doc, &res, &err), 0);
	ck_assert_int_eq(res.has_shard, 0);
	buf_free(&doc);
	buf_free(&err);
	free(l);
}
END_TEST

/*
 * The streaming fast path against the reference transform (jansson trees): the same return,
 * the same document and error bytes, the same result, for every line. A line takes the fast
 * path only when its JSON columns print back unchanged; the rest must fall back unchanged.
 */
static void
same_as_reference(const char *line, size_t len)
{
	struct sdkjson_result r1, r2;
	struct buf d1, d2, e1, e2;
	int rc1, rc2;

	buf_init(&d1, 0);
	buf_init(&d2, 0);
	buf_init(&e1, 0);
	buf_init(&e2, 0);
	buf_append_str(&d1, "prefix");      /* appended to, and left as it was on failure */
	buf_append_str(&d2, "prefix");
	rc1 = sdkjson_enriched(line, len, COL_COLLECTOR_TSTAMP, &d1, &r1, &e1);
	rc2 = sdkjson_enriched_reference(line, len, COL_COLLECTOR_TSTAMP, &d2, &r2, &e2);
	ck_assert_int_eq(rc1, rc2);
	if (d1.len != d2.len || memcmp(d1.data, d2.data, d1.len) != 0) {
		size_t at = 0;

		while (at < d1.len && at < d2.len && d1.data[at] == d2.data[at])
			at++;
		at = at > 40 ? at - 40 : 0;
		ck_abort_msg("documents differ at byte %zu:\n fast: %.120s\n  ref: %.120s", at,
		    d1.data + (at < d1.len ? at : d1.len), d2.data + (at < d2.len ? at : d2.len));
	}
	ck_assert_msg(e1.len == e2.len && (e1.len == 0 || memcmp(e1.data, e2.data, e1.len) == 0),
	    "errors differ: %.200s / %.200s", e1.data ? e1.data : "", e2.data ? e2.data : "");
	if (rc1 == 0) {
		ck_assert_str_eq(r1.event_id, r2.event_id);
		ck_assert_int_eq(r1.has_shard, r2.has_shard);
		ck_assert_int_eq(r1.shard_tm.tm_year, r2.shard_tm.tm_year);
		ck_assert_int_eq(r1.shard_tm.tm_mon, r2.shard_tm.tm_mon);
		ck_assert_int_eq(r1.shard_tm.tm_mday, r2.shard_tm.tm_mday);
		ck_assert_int_eq(r1.shard_tm.tm_hour, r2.shard_tm.tm_hour);
		ck_assert_int_eq(r1.shard_tm.tm_min, r2.shard_tm.tm_min);
		ck_assert_int_eq(r1.shard_tm.tm_sec, r2.shard_tm.tm_sec);
	}
	buf_free(&d1);
	buf_free(&d2);
	buf_free(&e1);
	buf_free(&e2);
}

/* line_with, then column col2 replaced by val2 */
static char *
line_with2(int col, const char *val, int col2, const char *val2)
{
	char *l = line_with(col, val), *p = l, *tab;
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < col2; i++) {
		tab = strchr(p, '\t');
		buf_append(&b, p, (size_t)(tab - p) + 1);
		p = tab + 1;
	}
	buf_append_str(&b, val2);
	tab = strchr(p, '\t');
	if (tab)
		buf_append_str(&b, tab);
	free(l);
	return b.data;
}

#define CTXS(x) "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\"," \
    "\"data\":[" x "]}"
#define UE(x) "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\"," \
    "\"data\":" x "}"
#define ENT(s, d) "{\"schema\":\"iglu:" s "\",\"data\":" d "}"

START_TEST(fast_path_matches_reference)
{
	static const char *data[] = {
		"{\"a\":1}", "{}", "[]", "null", "true", "false", "0", "-1", "123456789012345678",
		"1234567890123456789", "-0", "00", "01", "1.5", "1e3", "-2.50", "1E+2", "\"s\"",
		"{\"a\":\"q\\\"b\\\\s\\/x\"}", "{\"a\":\"\\b\\f\\n\\r\\t\"}", "{\"a\":\"\\u00e9\\u0041\"}",
		"{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"caf\xc3\xa9 \xe2\x80\xa8\"}",
		"{\"a\":\"\x7f\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\x01\"}",
		"{ \"a\" : [ 1 , { \"b\" : null } ] }", "\n{\"a\":1}\r", "{\"a\":1,\"a\":2}",
		"{\"a\":1,\"b\":{\"a\":2}}", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "{\"a\":1,}", "[1,]",
		"{\"a\"}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":1}x", "\"unterminated", "{\"a\":+1}",
		"{\"\":\"\"}", "{\"a\":-}", "[1 2]", "{\"a\" 1}", "{'a':1}",
	};
	static const char *cols[] = {
		CTXS(ENT("org.schema/WebPage/jsonschema/1-0-0", "{\"a\":1}") ","
		    ENT("org.w3/PerformanceTiming/jsonschema/1-0-0", "{\"b\":2}") ","
		    ENT("org.schema/WebPage/jsonschema/1-0-1", "{\"a\":3}") ","
		    ENT("com.my-co.x/my-thing-Name/jsonschema/2-0-0", "[1]") ","
		    ENT("com.acme/myURL/jsonschema/1-0-0", "null")),
		CTXS(""), CTXS(" "), "{}", "[]", "null", "x",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[]}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/2-0-0\",\"data\":[]}",
		"{\"schema\":\"iglu:com.acme/contexts/jsonschema/1-0-0\",\"data\":[]}",
		"{\"data\":[],\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\"}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\"}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":{}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow\\/contexts/jsonschema/1-0-0\",\"data\":[]}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[],\"x\":1}",
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[],\"data\":[]}",
		" " CTXS(ENT("a/b/jsonschema/1-0-0", "1")) " ",
		CTXS(ENT("a/b/jsonschema/1-0-0", "1")) "x",
		CTXS(ENT("a/b/jsonschema/0-0-0", "1")),
		CTXS(ENT("a/b/jsonschema/1-0", "1")),
		CTXS("{\"schema\":\"iglu:a/b/jsonschema/1-0-0\"}"),
		CTXS("{\"data\":1}"),
		CTXS("{\"schema\":1,\"data\":1}"),
		CTXS("{}"),
		CTXS("1"),
		CTXS("{\"data\":1,\"x\":[1,{}],\"schema\":\"iglu:a/b/jsonschema/1-0-0\"}"),
		CTXS("{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"data\":1,\"data\":2}"),
		CTXS("{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"schema\":\"iglu:a/c/jsonschema/1-0-0\",\"data\":1}"),
		CTXS(ENT("a/b/jsonschema/1-0-0", "1") "," ENT("a/c/jsonschema/1-0-0", "2") ","
		    ENT("a/b/jsonschema/1-1-0", "3")),
		CTXS(ENT("a/b/jsonschema/1-0-0", "1") ",,"),
		CTXS(ENT("a/b/jsonschema/1-0-0", "1") ","),
		UE(ENT("com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", "{\"targetUrl\":\"http://a\"}")),
		UE(ENT("a/b/jsonschema/1-0-0", "[1,2]")),
		UE("{\"schema\":\"iglu:a/b/jsonschema/1-0-0\"}"),
		UE("[]"),
		UE("1"),
		"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\"}",
	};
	struct buf v, many;
	char *l;
	size_t i, k;

	buf_init(&v, 0);
	/* every data value in a context, a derived context and an unstructured event */
	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		buf_reset(&v);
		buf_printf(&v, CTXS(ENT("a/b/jsonschema/1-0-0", "%s")), data[i]);
		l = line_with(COL_CONTEXTS, v.data);
		same_as_reference(l, strlen(l));
		free(l);
		l = line_with(COL_DERIVED_CONTEXTS, v.data);
		same_as_reference(l, strlen(l));
		free(l);
		buf_reset(&v);
		buf_printf(&v, UE(ENT("a/b/jsonschema/1-0-0", "%s")), data[i]);
		l = line_with(COL_UNSTRUCT_EVENT, v.data);
		same_as_reference(l, strlen(l));
		free(l);
	}
	/* every column value in each JSON column, and in contexts and derived_contexts at once */
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		l = line_with(COL_CONTEXTS, cols[i]);
		same_as_reference(l, strlen(l));
		free(l);
		l = line_with(COL_DERIVED_CONTEXTS, cols[i]);
		same_as_reference(l, strlen(l));
		free(l);
		l = line_with(COL_UNSTRUCT_EVENT, cols[i]);
		same_as_reference(l, strlen(l));
		free(l);
		for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k += 3) {
			l = line_with2(COL_CONTEXTS, cols[i], COL_DERIVED_CONTEXTS, cols[k]);
			same_as_reference(l, strlen(l));
			free(l);
		}
	}
	/* derived_contexts replacing a custom context of the same key, keys in first-seen order */
	l = line_with2(COL_CONTEXTS, CTXS(ENT("a/b/jsonschema/1-0-0", "1") "," ENT("a/c/jsonschema/1-0-0", "2")
	    "," ENT("a/b/jsonschema/1-0-1", "3") "," ENT("a/d/jsonschema/1-0-0", "4")),
	    COL_DERIVED_CONTEXTS, CTXS(ENT("a/d/jsonschema/1-0-0", "5") "," ENT("a/b/jsonschema/1-2-0", "6")
	    "," ENT("a/d/jsonschema/1-0-0", "7")));
	same_as_reference(l, strlen(l));
	free(l);
	/* nesting around the fast path's depth limit, and more entities than it keeps */
	for (k = 60; k < 70; k++) {
		buf_reset(&v);
		for (i = 0; i < k; i++)
			buf_append_byte(&v, '[');
		for (i = 0; i < k; i++)
			buf_append_byte(&v, ']');
		buf_init(&many, 0);
		buf_printf(&many, CTXS(ENT("a/b/jsonschema/1-0-0", "%s")), v.data);
		l = line_with(COL_CONTEXTS, many.data);
		same_as_reference(l, strlen(l));
		free(l);
		buf_free(&many);
	}
	buf_init(&many, 0);
	buf_append_str(&many, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[");
	for (i = 0; i < 300; i++)
		buf_printf(&many, "%s{\"schema\":\"iglu:a/e%zu/jsonschema/1-0-0\",\"data\":%zu}", i ? "," : "",
		    i % 270, i);
	buf_append_str(&many, "]}");
	l = line_with(COL_CONTEXTS, many.data);
	same_as_reference(l, strlen(l));
	free(l);
	buf_free(&many);
	/* atomic columns: the values the column tests use, and some more */
	{
		static const struct { int col; const char *v; } at[] = {
			{ COL_APP_ID, "a\"b\\c\x01\x1f\xc3\xa9/" }, { COL_APP_ID, "\xff\xfe" },
			{ COL_TXN_ID, "-2147483648" }, { COL_TXN_ID, "+7" }, { COL_TXN_ID, "2147483648" },
			{ COL_TXN_ID, "x" }, { COL_GEO_LATITUDE, "40" }, { COL_GEO_LATITUDE, "NaN" },
			{ COL_GEO_LATITUDE, "1e400" }, { COL_GEO_LATITUDE, "." },
			{ COL_BR_COOKIES, "1" }, { COL_BR_COOKIES, "true" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-11-14 22:13:20" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-11-14 22:13:20.1" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-11-14 22:13:20.123400" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-11-14 22:13:20.000000001" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-11-14T22:13:20.120Z" },
			{ COL_DVCE_CREATED_TSTAMP, "2023-02-29 22:13:20" },
			{ COL_DVCE_CREATED_TSTAMP, "0000-01-01 00:00:00" },
			{ COL_COLLECTOR_TSTAMP, "" }, { COL_COLLECTOR_TSTAMP, "2024-02-29 23:59:59.999" },
			{ COL_EVENT_ID, "not-a-uuid" }, { COL_V_ETL, "" },
		};
		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			l = line_with(at[i].col, at[i].v);
			same_as_reference(l, strlen(l));
			free(l);
		}
		l = line_with2(COL_GEO_LATITUDE, "37.443604", COL_GEO_LONGITUDE, "-122.4124");
		same_as_reference(l, strlen(l));
		free(l);
	}
	/* line shapes */
	same_as_reference("", 0);
	same_as_reference("a\tb", 3);
	l = line_with(COL_APP_ID, "x\r");
	same_as_reference(l, strlen(l));
	free(l);
	/* the golden events es-sink's tests index */
	{
		FILE *f = fopen("tests/golden/es-sink/good.tsv", "r");
		char *gl = NULL;
		size_t cap = 0;
		ssize_t n;
		int lines = 0;

		ck_assert_ptr_nonnull(f);
		while ((n = getline(&gl, &cap, f)) > 0) {
			if (gl[n - 1] == '\n')
				n--;
			same_as_reference(gl, (size_t)n);
			lines++;
		}
		ck_assert_int_gt(lines, 10);
		free(gl);
		fclose(f);
	}
	buf_free(&v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("es_transform");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, strings_and_nulls);
	tcase_add_test(tc, integers);
	tcase_add_test(tc, doubles);
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, timestamps);
	tcase_add_test(tc, uuid_and_required);
	tcase_add_test(tc, line_shape);
	tcase_add_test(tc, contexts_flattening);
	tcase_add_test(tc, contexts_errors);
	tcase_add_test(tc, unstruct);
	tcase_add_test(tc, geo_location);
	tcase_add_test(tc, shard_and_result);
	tcase_add_test(tc, fast_path_matches_reference);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
