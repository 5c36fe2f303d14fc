/*
 * Unit tests for inspect's request parsing and filters. The request shapes are Snowplow Micro
 * 4.5.2's (src/main/scala/.../model.scala: FiltersGood, FiltersBad, EventsRequest) and the
 * matching rules its InMemoryStorage (keepGoodEvent, keepBadEvent, applyFilter).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inspect/ins_query.h"
#include "../../inspect/ins_store.h"
#include "ins_test.h"

#define WEB_PAGE "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
#define GEO "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0"
#define CTX "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\"," \
	"\"data\":[{\"schema\":\"" WEB_PAGE "\",\"data\":{\"id\":\"x\",\"schema\":\"nope\"}}," \
	"{\"data\":{\"latitude\":1,\"longitude\":2},\"schema\":\"" GEO "\"}]}"

static struct ins_store *st;

static void
setup(void)
{
	struct ins_store_limits lim = { 1000, 1 << 24 };
	char err[256];
	char *good[4];
	const char *bad = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/"
	    "jsonschema/1-0-0\",\"data\":{\"processor\":{\"artifact\":\"furrow-enrich\",\"version\":"
	    "\"0.1.0\"},\"failure\":{\"timestamp\":\"2023-11-14T22:15:00Z\",\"vendor\":\"com.acme\","
	    "\"version\":\"v1\",\"messages\":[]},\"payload\":{\"vendor\":\"com.acme\",\"version\":"
	    "\"v1\",\"querystring\":[{\"name\":\"e\",\"value\":\"pv\"},{\"name\":\"aid\",\"value\":"
	    "\"shop\"}],\"timestamp\":\"2023-11-14T22:14:00.000Z\"}}}";
	const char *bad2 = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/"
	    "collector_payload_format_violation/jsonschema/1-0-0\",\"data\":{\"failure\":"
	    "{\"timestamp\":\"2023-11-14T22:16:00Z\",\"message\":{\"error\":\"x\"}},\"payload\":\"AA\"}}";
	int i;

	st = ins_store_new(&lim);
	good[0] = ins_test_line(1, COL_APP_ID, "shop", COL_EVENT, "page_view",
	    COL_EVENT_VENDOR, "com.snowplowanalytics.snowplow", COL_EVENT_NAME, "page_view",
	    COL_EVENT_FORMAT, "jsonschema", COL_EVENT_VERSION, "1-0-0", COL_CONTEXTS, CTX,
	    COL_PAGE_URLPORT, "+0443", COL_BR_COOKIES, "1", COL_GEO_LATITUDE, "51.5",
	    COL_GEO_LONGITUDE, "-0.12", -1);
	good[1] = ins_test_line(2, COL_APP_ID, "Blog", COL_EVENT, "unstruct",
	    COL_COLLECTOR_TSTAMP, "2023-11-14 22:13:30.000",
	    COL_EVENT_VENDOR, "com.acme", COL_EVENT_NAME, "checkout",
	    COL_EVENT_FORMAT, "jsonschema", COL_EVENT_VERSION, "1-0-0", COL_SE_VALUE, "12.50", -1);
	good[2] = ins_test_line(3, COL_EVENT, "struct", COL_COLLECTOR_TSTAMP,
	    "2023-11-14 22:13:40.000", -1);
	good[3] = NULL;
	for (i = 0; good[i]; i++) {
		ck_assert_int_eq(ins_store_add_good(st, good[i], strlen(good[i]), 0, err, sizeof(err)), 0);
		free(good[i]);
	}
	ck_assert_int_eq(ins_store_add_bad(st, bad, strlen(bad), 0, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(ins_store_add_bad(st, bad2, strlen(bad2), 0, 0, err, sizeof(err)), 0);
}

static void
teardown(void)
{
	ins_store_free(st);
}

/* Which of the five records (seq 1..5) q matches, as a string of digits. */
static const char *
matches(const struct ins_query *q)
{
	static char out[8];
	int i, n = 0;

	for (i = 1; i <= 5; i++) {
		int m = ins_query_match(q, ins_store_get(st, (uint64_t)i));
		/* the index and the record always agree */
		ck_assert_int_eq(m, ins_query_match_slot(q, ins_store_slot_seq(st, (uint64_t)i)));
		if (m)
			out[n++] = (char)('0' + i);
	}
	out[n] = '\0';
	return out;
}

static const char *
run(enum ins_endpoint ep, const char *qs, const char *body)
{
	static char out[8];
	struct ins_query q;
	struct ins_query_error e;

	ck_assert_msg(ins_query_parse(&q, ep, qs, body, body ? strlen(body) : 0, &e) == 0,
	    "%d %s", e.status, e.text);
	strcpy(out, matches(&q));
	ins_query_free(&q);
	return out;
}

static int
refused(enum ins_endpoint ep, const char *qs, const char *body)
{
	struct ins_query q;
	struct ins_query_error e;
	int rc = ins_query_parse(&q, ep, qs, body, body ? strlen(body) : 0, &e);

	ins_query_free(&q);
	return rc == 0 ? 0 : e.status;
}

/* Micro docs, /micro/good POST: {"event_type":…, "schema":…, "contexts":[…], "limit":…} */
START_TEST(good_filters)
{
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, NULL), "123");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, "{\"event_type\":\"page_view\"}"), "1");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, "{\"event_type\":\"page_vie\"}"), "");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL,
	    "{\"schema\":\"iglu:com.acme/checkout/jsonschema/1-0-0\"}"), "2");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL,
	    "{\"schema\":\"iglu:com.acme/checkout/jsonschema/1-0\"}"), "");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, "{\"contexts\":[\"" WEB_PAGE "\"]}"), "1");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, "{\"contexts\":[\"" WEB_PAGE "\",\"" GEO "\"]}"), "1");
	/* every listed context must be there; a "schema" inside data is not an entity */
	ck_assert_str_eq(run(INS_EP_GOOD, NULL, "{\"contexts\":[\"" WEB_PAGE "\",\"nope\"]}"), "");
	ck_assert_str_eq(run(INS_EP_GOOD, NULL,
	    "{\"event_type\":null,\"schema\":null,\"contexts\":null,\"limit\":null}"), "123");
	/* the same in a query string (furrow) */
	ck_assert_str_eq(run(INS_EP_GOOD, "contexts=" WEB_PAGE "," GEO, NULL), "1");
	ck_assert_str_eq(run(INS_EP_GOOD, "event_type=unstruct&limit=1", NULL), "2");
	ck_assert_str_eq(run(INS_EP_GOOD, "schema=iglu%3Acom.acme%2Fcheckout%2Fjsonschema%2F1-0-0",
	    NULL), "2");
	/* furrow: one event by its id (any case) */
	ck_assert_str_eq(run(INS_EP_GOOD, "event_id=9F2B6A3E-1C4D-4E5F-8A7B-000000000002", NULL), "2");
	ck_assert_str_eq(run(INS_EP_BAD, NULL, "{\"event_id\":\"nope\"}"), "");
	/* the body wins over the query string */
	ck_assert_str_eq(run(INS_EP_GOOD, "event_type=struct", "{\"event_type\":\"unstruct\"}"), "2");
}
END_TEST

/* /micro/bad POST: {"vendor":…, "version":…, "limit":…}; a row without a collector payload
 * passes (InMemoryStorage.keepBadEvent: collectorPayload.forall) */
START_TEST(bad_filters)
{
	ck_assert_str_eq(run(INS_EP_BAD, NULL, NULL), "45");
	ck_assert_str_eq(run(INS_EP_BAD, NULL, "{\"vendor\":\"com.acme\"}"), "45");
	ck_assert_str_eq(run(INS_EP_BAD, NULL, "{\"vendor\":\"com.other\"}"), "5");
	ck_assert_str_eq(run(INS_EP_BAD, NULL, "{\"vendor\":\"com.acme\",\"version\":\"v2\"}"), "5");
	ck_assert_str_eq(run(INS_EP_BAD, "version=v1", NULL), "45");
}
END_TEST

/* /micro/events: EventsRequest with filters [{column, values}], validEvents, timeRange */
START_TEST(events_filters)
{
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL, "{\"filters\":[],\"page\":1,\"pageSize\":10}"),
	    "12345");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL, "{\"filters\":[],\"validEvents\":true}"), "123");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL, "{\"filters\":[],\"validEvents\":false}"), "45");
	/* case-insensitive equality, any of the values */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"app_id\",\"values\":[\"SHOP\",\"blog\"]}]}"), "124");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"app_id\",\"values\":[\"sho\"]}]}"), "");
	/* Micro < 4.4 sent one "value" */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"app_id\",\"value\":\"shop\"}]}"), "14");
	/* empty values keep everything; two filters must both hold */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"app_id\",\"values\":[\"\"]},"
	    "{\"column\":\"event\",\"values\":[\"page_view\",\"struct\"]}]}"), "134");
	/* null prints "null" */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"app_id\",\"values\":[\"null\"]}]}"), "35");
	/* typed columns compare as the SDK prints them */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"page_urlport\",\"values\":[\"443\"]}]}"), "1");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"br_cookies\",\"values\":[\"TRUE\"]}]}"), "1");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"se_value\",\"values\":[\"12.5\"]}]}"), "2");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"collector_tstamp\",\"values\":[\"2023-11-14T22:13:30Z\"]}]}"),
	    "2");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"geo_location\",\"values\":[\"51.5,-0.12\"]}]}"), "1");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"schema\",\"values\":[\"iglu:com.acme/checkout/jsonschema/1-0-0\"]}]}"),
	    "2");
	/* unknown columns match nothing; complex ones are ignored (Micro) */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"no_such\",\"values\":[\"x\"]}]}"), "");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"filters\":[{\"column\":\"contexts_com_acme_x_1.a\",\"values\":[\"x\"]}]}"), "12345");
	/* time range: start inclusive, end exclusive, on collector_tstamp (bad rows: their time) */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"timeRange\":{\"start\":\"2023-11-14T22:13:30Z\",\"end\":\"2023-11-14T22:13:40Z\"}}"), "2");
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL,
	    "{\"timeRange\":{\"start\":\"2023-11-14T22:14:00Z\",\"end\":null}}"), "45");
	/* free text */
	ck_assert_str_eq(run(INS_EP_EVENTS, NULL, "{\"search\":\"CHECKOUT\"}"), "2");
	ck_assert_str_eq(run(INS_EP_EVENTS, "search=adapter_failures", NULL), "4");
}
END_TEST

START_TEST(parse_params)
{
	struct ins_query q;
	struct ins_query_error e;

	ck_assert_int_eq(ins_query_parse(&q, INS_EP_ALL, "min_good=3&min_bad=0&wait_ms=2000&settle_ms=50",
	    NULL, 0, &e), 0);
	ck_assert_int_eq(q.waits, 1);
	ck_assert_int_eq(q.min_good, 3);
	ck_assert_int_eq(q.min_bad, 0);
	ck_assert_int_eq(q.min, -1);
	ck_assert_int_eq(q.wait_ms, 2000);
	ck_assert_int_eq(q.settle_ms, 50);
	ins_query_free(&q);
	{
		const char *body = "{\"wait_ms\":100,\"page\":2,\"pageSize\":5,"
		    "\"sorting\":{\"column\":\"app_id\",\"desc\":true}}";
		ck_assert_int_eq(ins_query_parse(&q, INS_EP_EVENTS, "min=2", body, strlen(body), &e), 0);
	}
	ck_assert_int_eq(q.min, 2);
	ck_assert_int_eq(q.wait_ms, 100);
	ck_assert_int_eq(q.page, 2);
	ck_assert_int_eq(q.page_size, 5);
	ck_assert_int_eq(q.sort_col, COL_APP_ID);
	ck_assert_int_eq(q.sort_desc, 1);
	ins_query_free(&q);
	ck_assert_int_eq(ins_query_parse(&q, INS_EP_GOOD, "", "  ", 2, &e), 0);
	ck_assert_int_eq(q.waits, 0);
	ck_assert_int_eq(q.limit, -1);
	ins_query_free(&q);
	/* a negative limit keeps nothing, as List.take(-1) */
	ck_assert_int_eq(ins_query_parse(&q, INS_EP_GOOD, "limit=-1", NULL, 0, &e), 0);
	ck_assert_int_eq(q.limit, 0);
	ins_query_free(&q);
	ck_assert_int_eq(ins_query_parse(&q, INS_EP_STATS, "since=42&wait_ms=10", NULL, 0, &e), 0);
	ck_assert_uint_eq(q.since, 42);
	ins_query_free(&q);
}
END_TEST

START_TEST(parse_errors)
{
	/* http4s: a body that is not JSON is 400, JSON of the wrong shape 422 */
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "{"), 400);
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "[]"), 422);
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "{\"event_type\":1}"), 422);
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "{\"contexts\":\"x\"}"), 422);
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "{\"limit\":\"3\"}"), 422);
	ck_assert_int_eq(refused(INS_EP_GOOD, NULL, "{\"a\":1,\"a\":2}"), 400);
	ck_assert_int_eq(refused(INS_EP_EVENTS, NULL, "{\"filters\":{}}"), 422);
	ck_assert_int_eq(refused(INS_EP_EVENTS, NULL, "{\"filters\":[{\"values\":[]}]}"), 422);
	ck_assert_int_eq(refused(INS_EP_EVENTS, NULL, "{\"validEvents\":\"yes\"}"), 422);
	ck_assert_int_eq(refused(INS_EP_EVENTS, NULL, "{\"timeRange\":{\"start\":\"today\"}}"), 422);
	ck_assert_int_eq(refused(INS_EP_EVENTS, NULL, "{\"pageSize\":100000}"), 422);
	ck_assert_int_eq(refused(INS_EP_ALL, "min=x", NULL), 400);
	ck_assert_int_eq(refused(INS_EP_ALL, "wait_ms=-5", NULL), 400);
	ck_assert_int_eq(refused(INS_EP_ALL, "min=%zz", NULL), 400);
	ck_assert_int_eq(refused(INS_EP_ALL, "min=%", NULL), 400);
	ck_assert_int_eq(refused(INS_EP_ALL, "a=%00", NULL), 400);
	/* unknown parameters and fields are ignored */
	ck_assert_int_eq(refused(INS_EP_ALL, "x=1&&y", "{\"z\":[1]}"), 0);
}
END_TEST

static int
collect(const char *uri, size_t n, void *arg)
{
	struct buf *b = arg;

	buf_append(b, uri, n);
	buf_append_byte(b, '|');
	return 0;
}

START_TEST(contexts_scanner)
{
	struct buf b;
	const char *weird = "{ \"data\" : [ {\"data\":{\"schema\":[1,{\"a\":\"]\"}]}, \"schema\" : "
	    "\"iglu:a\\/b\"}, 7, {\"schema\":\"iglu:c\"} ], \"schema\":\"x\"}";

	buf_init(&b, 0);
	ck_assert_int_eq(ins_contexts_each(CTX, strlen(CTX), collect, &b), 0);
	ck_assert_str_eq(b.data, WEB_PAGE "|" GEO "|");
	buf_reset(&b);
	ck_assert_int_eq(ins_contexts_each(weird, strlen(weird), collect, &b), 0);
	ck_assert_str_eq(b.data, "iglu:a/b|iglu:c|");
	ck_assert_int_eq(ins_contexts_each("{\"data\":{}}", 11, collect, &b), -1);
	ck_assert_int_eq(ins_contexts_each("{\"data\":[", 9, collect, &b), -1);
	ck_assert_int_eq(ins_contexts_each("nope", 4, collect, &b), -1);
	ck_assert_int_eq(ins_contexts_each("", 0, collect, &b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(key_groups_equal_filters)
{
	struct ins_query a, b;
	struct ins_query_error e;
	struct buf ka, kb;

	buf_init(&ka, 0);
	buf_init(&kb, 0);
	ck_assert_int_eq(ins_query_parse(&a, INS_EP_GOOD, "event_type=x&min=3&wait_ms=10", NULL, 0, &e), 0);
	ck_assert_int_eq(ins_query_parse(&b, INS_EP_GOOD, "min=1", "{\"event_type\":\"x\",\"limit\":2}",
	    strlen("{\"event_type\":\"x\",\"limit\":2}"), &e), 0);
	ins_query_key(&a, &ka);
	ins_query_key(&b, &kb);
	ck_assert_str_eq(ka.data, kb.data);
	ins_query_free(&b);
	buf_reset(&kb);
	ck_assert_int_eq(ins_query_parse(&b, INS_EP_GOOD, "event_type=y", NULL, 0, &e), 0);
	ins_query_key(&b, &kb);
	ck_assert_str_ne(ka.data, kb.data);
	ins_query_free(&a);
	ins_query_free(&b);
	buf_free(&ka);
	buf_free(&kb);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ins_query");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_filters);
	tcase_add_test(tc, bad_filters);
	tcase_add_test(tc, events_filters);
	tcase_add_test(tc, parse_params);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, contexts_scanner);
	tcase_add_test(tc, key_groups_equal_filters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
