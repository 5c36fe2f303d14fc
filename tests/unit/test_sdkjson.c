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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
