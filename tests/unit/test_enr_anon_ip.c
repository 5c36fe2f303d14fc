/* Unit tests for the anon_ip enrichment: upstream AnonIpEnrichmentSpec's table (IPv4 octets,
 * IPv6 segments, invalid and mapped addresses), configuration errors, and the column. */
#include "enr_test.h"
#include "buf.h"

static const struct {
	const char *ip;
	int         octets, segments;
	const char *want;   /* NULL: unchanged */
} cases[] = {
	{ "0.23.0.20", 1, 1, "0.23.0.x" },
	{ "168.192.102.4", 2, 2, "168.192.x.x" },
	{ "54.242.102.43", 3, 3, "54.x.x.x" },
	{ "94.15.213.171", 4, 4, "x.x.x.x" },
	{ "777.2", 1, 1, "777.2" },
	{ "777.2.23", 4, 4, "x.x.x" },
	{ "999.123.777.2", 3, 3, "999.x.x.x" },
	{ "999.aaa.bbb.c", 3, 3, "999.x.x.x" },
	{ "hello;goodbye", 3, 3, NULL },
	{ ":::::::::::::::", 3, 3, "x:x:x:x:x:x:x:x" },
	{ "::1", 3, 3, "0:0:0:0:0:x:x:x" },
	{ "", 4, 4, "x" },
	{ "4b0c:0:0:0:880c:99a8:4b0:4411", 1, 1, "4b0c:0:0:0:880c:99a8:4b0:x" },
	{ "4b0c::880c:99a8:4b0:4411", 2, 2, "4b0c:0:0:0:880c:99a8:x:x" },
	{ "2605:2700:0:3:0:0:4713:93e3", 3, 3, "2605:2700:0:3:0:x:x:x" },
	{ "2605:2700:0:3::4713:93e3", 4, 4, "2605:2700:0:3:x:x:x:x" },
	{ "2605:2700:0:3::4713:93e3", 4, 5, "2605:2700:0:x:x:x:x:x" },
	{ "2605:2700:0:3::4713:93e3", 4, 6, "2605:2700:x:x:x:x:x:x" },
	{ "2605:2700:0:3::4713:93e3", 4, 7, "2605:x:x:x:x:x:x:x" },
	{ "2605:2700:0:3::4713:93e3", 4, 8, "x:x:x:x:x:x:x:x" },
	{ "2605:2700::4713:93e3", 4, 8, "x:x:x:x:x:x:x:x" },
	{ "2700::4713", 4, 8, "x:x:x:x:x:x:x:x" },
	{ "2700:zzzz::gggg", 4, 6, "2700:zzzz:x:x:x:x:x:x" },
	{ "f334::40cb:152.16.24.142", 4, 2, "f334:0:0:0:0:40cb:x:x" },
	{ "f334::40cb:152.16.24.142", 4, 4, "f334:0:0:0:x:x:x:x" },
	{ "::192.168.0.1", 4, 1, "0:0:0:0:0:0:c0a8:x" },
	{ "::FFFF:152.16.24.123", 2, 4, "::FFFF:152.16.x.x" },
	{ "::FFFF:152.16.24.123", 4, 4, "::FFFF:x.x.x.x" },
	{ "unknown", 2, 2, NULL },
};

START_TEST(upstream_table)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = enr_anon_ip_mask(cases[_i].ip, cases[_i].octets, cases[_i].segments, &b);
	if (cases[_i].want == NULL) {
		ck_assert_int_eq(rc, 1);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(b.data ? b.data : "", cases[_i].want);
	}
	buf_free(&b);
}
END_TEST

static const char CONF[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1\","
    "\"data\":{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\",\"enabled\":true,"
    "\"parameters\":{\"anonOctets\":2,\"anonSegments\":3}}}";

START_TEST(masks_the_column_late)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "anon_ip.json", CONF, err, sizeof(err));
	struct enrich_event *ev = tev_new();

	ck_assert_msg(e != NULL, "%s", err);
	tev_set(ev, COL_USER_IPADDRESS, "203.0.113.7");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL), 0);
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "203.0.113.7");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL), 0);
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "203.0.x.x");
	tev_set(ev, COL_USER_IPADDRESS, "2001:db8::ff00:42:8329");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "2001:db8:0:0:0:x:x:x");
	tev_set(ev, COL_USER_IPADDRESS, NULL);
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_ptr_null(ev->col[COL_USER_IPADDRESS]);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(segments_default_to_octets)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "a.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"anonOctets\":1}}}", err, sizeof(err));
	struct enrich_event *ev = tev_new();

	ck_assert_msg(e != NULL, "%s", err);
	tev_set(ev, COL_USER_IPADDRESS, "2001:db8::1");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "2001:db8:0:0:0:0:0:x");
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(bad_octets_is_a_startup_error)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "a.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"anonOctets\":5}}}", err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "a.json: "));
	ck_assert_ptr_nonnull(strstr(err, "must be 1, 2, 3 or 4"));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_anon_ip");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, upstream_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, masks_the_column_late);
	tcase_add_test(tc, segments_default_to_octets);
	tcase_add_test(tc, bad_octets_is_a_startup_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
