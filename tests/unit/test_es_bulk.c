/* Unit tests for es-sink/bulk: action lines, response classification (sinks.md §2.5), back-off
 * (§2.6), and the SigV4 payload hash of es-sink/esclient. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../es-sink/bulk.h"
#include "../../es-sink/esclient.h"

START_TEST(action_lines)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(bulk_action(&b, "good", "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b"), 0);
	ck_assert_str_eq(b.data,
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}}\n");
	buf_reset(&b);
	ck_assert_int_eq(bulk_action(&b, "bad\"x", NULL), 0);
	ck_assert_str_eq(b.data, "{\"index\":{\"_index\":\"bad\\\"x\"}}\n");
	buf_free(&b);
}
END_TEST

START_TEST(verdicts)
{
	ck_assert_int_eq(bulk_item_verdict(200), BULK_ACCEPTED);
	ck_assert_int_eq(bulk_item_verdict(201), BULK_ACCEPTED);
	ck_assert_int_eq(bulk_item_verdict(409), BULK_ACCEPTED);
	ck_assert_int_eq(bulk_item_verdict(400), BULK_REJECTED);
	ck_assert_int_eq(bulk_item_verdict(429), BULK_RETRY);
	ck_assert_int_eq(bulk_item_verdict(503), BULK_RETRY);
	ck_assert_int_eq(bulk_item_verdict(403), BULK_RETRY);
	ck_assert_int_eq(bulk_item_verdict(404), BULK_RETRY);
	ck_assert_int_eq(bulk_request_outcome(200), BULK_REQ_ITEMS);
	ck_assert_int_eq(bulk_request_outcome(413), BULK_REQ_SPLIT);
	ck_assert_int_eq(bulk_request_outcome(429), BULK_REQ_RETRY);
	ck_assert_int_eq(bulk_request_outcome(500), BULK_REQ_RETRY);
	ck_assert_int_eq(bulk_request_outcome(401), BULK_REQ_RETRY);
	ck_assert_int_eq(bulk_request_outcome(0), BULK_REQ_RETRY);
}
END_TEST

START_TEST(parse_all_ok_fast_path)
{
	static const char es8[] = "{\"errors\":false,\"took\":3,\"items\":[]}";
	static const char es7[] = "{\"took\":3,\"errors\":false,\"items\":[]}";
	struct bulk_item it[3];
	char err[256];

	ck_assert_int_eq(bulk_parse_response(es8, strlen(es8), 3, it, err, sizeof(err)), 0);
	ck_assert_int_eq(it[2].verdict, BULK_ACCEPTED);
	ck_assert_int_eq(bulk_parse_response(es7, strlen(es7), 3, it, err, sizeof(err)), 0);
	ck_assert_int_eq(it[0].verdict, BULK_ACCEPTED);
}
END_TEST

START_TEST(parse_mixed_items)
{
	static const char body[] = "{\"took\":5,\"errors\":true,\"items\":["
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"a\",\"status\":201}},"
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"b\",\"status\":400,\"error\":{\"type\":"
	    "\"document_parsing_exception\",\"reason\":\"[1:20] failed to parse field [x] of type [long]\","
	    "\"caused_by\":{\"type\":\"illegal_argument_exception\",\"reason\":\"For input string: \\\"y\\\"\"}}}},"
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"c\",\"status\":429,\"error\":{\"type\":"
	    "\"es_rejected_execution_exception\",\"reason\":\"rejected execution\"}}},"
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"d\",\"status\":409,\"error\":{\"type\":"
	    "\"version_conflict_engine_exception\",\"reason\":\"exists\"}}},"
	    "{\"index\":{\"_index\":\"good\",\"_id\":\"e\",\"status\":403,\"error\":{\"type\":"
	    "\"cluster_block_exception\",\"reason\":\"blocked\"}}}]}";
	struct bulk_item it[5];
	char err[256];

	ck_assert_int_eq(bulk_parse_response(body, strlen(body), 5, it, err, sizeof(err)), 0);
	ck_assert_int_eq(it[0].verdict, BULK_ACCEPTED);
	ck_assert_int_eq(it[1].verdict, BULK_REJECTED);
	ck_assert_str_eq(it[1].reason, "document_parsing_exception: [1:20] failed to parse field [x] "
	    "of type [long]; caused by: For input string: \"y\"");
	ck_assert_int_eq(it[2].verdict, BULK_RETRY);
	ck_assert_int_eq(it[2].status, 429);
	ck_assert_int_eq(it[3].verdict, BULK_ACCEPTED);
	ck_assert_int_eq(it[3].conflict, 1);
	ck_assert_int_eq(it[4].verdict, BULK_RETRY);
}
END_TEST

START_TEST(parse_failures)
{
	static const char two[] = "{\"took\":1,\"errors\":true,\"items\":[{\"index\":{\"status\":201}},"
	    "{\"index\":{\"status\":201}}]}";
	struct bulk_item it[3];
	char err[256];

	ck_assert_int_eq(bulk_parse_response("<html>", 6, 1, it, err, sizeof(err)), -1);
	ck_assert_int_eq(bulk_parse_response("", 0, 1, it, err, sizeof(err)), -1);
	ck_assert_int_eq(bulk_parse_response(two, strlen(two), 3, it, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "2 items for 3 actions"));
	ck_assert_int_eq(bulk_parse_response("{\"errors\":false", 15, 1, it, err, sizeof(err)), -1);
}
END_TEST

START_TEST(backoff)
{
	unsigned a;
	uint64_t r;

	ck_assert_uint_eq(bulk_backoff_ms(0, 100, 30000, 12345), 0);
	/* the ceiling doubles from base and stops at cap; the value is rnd mod (ceiling + 1) */
	ck_assert_uint_eq(bulk_backoff_ms(1, 100, 30000, UINT64_MAX - 0), UINT64_MAX % 101);
	ck_assert_uint_eq(bulk_backoff_ms(1, 100, 30000, 100), 100);
	ck_assert_uint_eq(bulk_backoff_ms(2, 100, 30000, 200), 200);
	ck_assert_uint_eq(bulk_backoff_ms(3, 100, 30000, 400), 400);
	ck_assert_uint_eq(bulk_backoff_ms(3, 100, 30000, 401), 0);
	ck_assert_uint_eq(bulk_backoff_ms(20, 100, 30000, 30000), 30000);
	ck_assert_uint_eq(bulk_backoff_ms(200, 100, 30000, 30001), 0);
	for (a = 1; a < 100; a++)
		for (r = 0; r < 70000; r += 997)
			ck_assert_uint_le(bulk_backoff_ms(a, 100, 30000, r * 7919), 30000);
}
END_TEST

START_TEST(sha256)
{
	char hex[65];

	esclient_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	esclient_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	esclient_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("es_bulk");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, action_lines);
	tcase_add_test(tc, verdicts);
	tcase_add_test(tc, parse_all_ok_fast_path);
	tcase_add_test(tc, parse_mixed_items);
	tcase_add_test(tc, parse_failures);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, sha256);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
