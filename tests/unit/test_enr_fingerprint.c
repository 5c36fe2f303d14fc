/* Unit tests for event_fingerprint_config: upstream EventFingerprintEnrichmentSpec's cases
 * (order independence, excluded fields, overlapping fields, digest lengths) with digests
 * computed independently, and configuration errors. */
#include "enr_test.h"

static const char *const SE[][2] = {
	{ "e", "se" }, { "se_ac", "action" }, { "se_ca", "category" }, { "se_pr", "property" },
};
static const char *const SE_PERMUTED[][2] = {
	{ "se_ca", "category" }, { "se_ac", "action" }, { "se_pr", "property" }, { "e", "se" },
};

static void
params(struct raw_param *p, const char *const (*kv)[2], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p[i].name = (char *)kv[i][0];
		p[i].value = (char *)kv[i][1];
	}
}

START_TEST(digests_of_the_concatenation)
{
	static const char *const want[][2] = {
		{ "MD5", "d9da320fae80dbf250856b9c17bbd37f" },
		{ "SHA1", "ce3de52b1774f29fa12c7e44aaded6f79e3c7801" },
		{ "SHA256", "9ce3ae5a78989da6ae46bd31ad905056fc2440127ed0b4e81e0a7ab5347bc406" },
		{ "SHA384", "c2b940986193636b2e96a2e2bcf1ac9e28471ecb7d562fbcb43bbfa6d712a52f92df92ad3b2a1c8dc2184e65bceda98c" },
		{ "SHA512", "c657632b4baa9181c0c1f4d856e732b66d1986cae3b67d178dc2ea44e7e692ed605f489f58caf1305329e8e3f653b43e9af3c717e3da2e488a81a284d8a30b70" },
	};
	struct raw_param p[4], q[4];
	char *ex[] = { "stm", "eid" };
	char a[129], b[129];
	size_t i;

	params(p, SE, 4);
	params(q, SE_PERMUTED, 4);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(enr_fingerprint_compute(want[i][0], ex, 2, p, 4, a), 0);
		ck_assert_str_eq(a, want[i][1]);
		ck_assert_int_eq(enr_fingerprint_compute(want[i][0], ex, 2, q, 4, b), 0);
		ck_assert_str_eq(a, b);
	}
}
END_TEST

START_TEST(excluded_and_valueless_parameters_do_not_count)
{
	struct raw_param p[5] = {
		{ "stm", "1000000000000" }, { "eid", "123e4567-e89b-12d3-a456-426655440000" },
		{ "e", "se" }, { "se_ac", "buy" }, { "flag", NULL },
	};
	struct raw_param q[3] = { { "stm", "9999999999999" }, { "e", "se" }, { "se_ac", "buy" } };
	char *ex[] = { "stm", "eid" };
	char a[129], b[129];

	ck_assert_int_eq(enr_fingerprint_compute("MD5", ex, 2, p, 5, a), 0);
	ck_assert_int_eq(enr_fingerprint_compute("MD5", ex, 2, q, 3, b), 0);
	ck_assert_str_eq(a, b);
	/* "e" 0x1f "se" 0x1f "se_ac" 0x1f "buy" 0x1f: 15 bytes */
	ck_assert_str_eq(a, "6829c2021516783f1ef03a9e9736ac77");
}
END_TEST

START_TEST(overlapping_fields_differ)
{
	struct raw_param p[1] = { { "prefix", "suffix" } };
	struct raw_param q[1] = { { "prefixsuffix", "" } };
	char a[129], b[129];

	ck_assert_int_eq(enr_fingerprint_compute("MD5", NULL, 0, p, 1, a), 0);
	ck_assert_int_eq(enr_fingerprint_compute("MD5", NULL, 0, q, 1, b), 0);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(repeated_name_counts_once_with_its_last_value)
{
	struct raw_param p[3] = { { "e", "pv" }, { "e", "se" }, { "se_ac", "buy" } };
	char a[129];

	ck_assert_int_eq(enr_fingerprint_compute("MD5", NULL, 0, p, 3, a), 0);
	ck_assert_str_eq(a, "6829c2021516783f1ef03a9e9736ac77");
}
END_TEST

static const char DEFAULT_DIR_CONF[] = "enrichments/default/event_fingerprint_config.json";

START_TEST(mini_default_sets_the_column)
{
	char *dir = tdir_new(), err[512], path[4096], cmd[8400];
	struct enrichments *e;
	struct enrich_event *ev = tev_new();

	snprintf(path, sizeof(path), "%s/%s", troot(), DEFAULT_DIR_CONF);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/'", path, dir);
	ck_assert_int_eq(system(cmd), 0);
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	tev_param(ev, "e", "se");
	tev_param(ev, "eid", "123e4567-e89b-12d3-a456-426655440000");
	tev_param(ev, "se_ac", "buy");
	tev_param(ev, "stm", "1000000000000");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL), 0);
	ck_assert_str_eq(tev_col(ev, COL_EVENT_FINGERPRINT), "6829c2021516783f1ef03a9e9736ac77");
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(unknown_algorithm_is_a_startup_error)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "f.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1\","
	    "\"data\":{\"name\":\"event_fingerprint_config\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"excludeParameters\":[],\"hashAlgorithm\":\"CRC32\"}}}",
	    err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "[CRC32] is not a supported event fingerprint generation algorithm"));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_fingerprint");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, digests_of_the_concatenation);
	tcase_add_test(tc, excluded_and_valueless_parameters_do_not_count);
	tcase_add_test(tc, overlapping_fields_differ);
	tcase_add_test(tc, repeated_name_counts_once_with_its_last_value);
	tcase_add_test(tc, mini_default_sets_the_column);
	tcase_add_test(tc, unknown_algorithm_is_a_startup_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
