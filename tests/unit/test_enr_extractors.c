/* Unit tests for cookie_extractor_config and http_header_extractor_config: upstream
 * CookieExtractorEnrichmentSpec and HttpHeaderExtractorEnrichmentSpec, plus a bad pattern. */
#include "enr_test.h"

static const char COOKIE_CONF[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0\","
    "\"data\":{\"name\":\"cookie_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow\","
    "\"enabled\":true,\"parameters\":{\"cookies\":[\"ck1\",\"\",\"ck3\",\"ck4\",\"ck5\"]}}}";

static char *
header_conf(const char *pattern)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"http_header_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\","
	    "\"enabled\":true,\"parameters\":{\"headersPattern\":\"%s\"}}}", pattern);
	return buf;
}

START_TEST(cookies_upstream_example)
{
	static const char *const want[] = {
		"{\"data\":{\"name\":\"ck1\",\"value\":null},\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}",
		"{\"data\":{\"name\":\"\",\"value\":\"cv2\"},\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}",
		"{\"data\":{\"name\":\"ck3\",\"value\":\"\"},\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}",
		"{\"data\":{\"name\":\"ck4\",\"value\":\"cv4\"},\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}",
		"{\"data\":{\"name\":\"ck5\",\"value\":\"cv5\"},\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}",
	};
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "cookie.json", COOKIE_CONF, err, sizeof(err));
	struct enrich_event *ev = tev_new();
	size_t i;

	ck_assert_msg(e != NULL, "%s", err);
	tev_header(ev, "Content-Length: 348");
	tev_header(ev, "cookie: ck1;=cv2;ck3=");
	tev_header(ev, "Cookie:ck4=cv4;ck5=\"cv5\"");
	tev_header(ev, "Cookie: not-interesting-cookie=1234;");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 5);
	for (i = 0; i < 5; i++) {
		char *s = tderived(ev, i);
		ck_assert_str_eq(s, want[i]);
		free(s);
	}
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(headers_by_pattern)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e = tload_one(dir, "h.json", header_conf("X-Forwarded-For"), err, sizeof(err));
	struct enrich_event *ev = tev_new();

	ck_assert_msg(e != NULL, "%s", err);
	tev_header(ev, "X-Forwarded-For: 129.78.138.66, 129.78.64.103");
	tev_header(ev, "X-Forwarded-For-Not: 1");
	tev_header(ev, "Accept: text/html");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"name\":\"X-Forwarded-For\",\"value\":\"129.78.138.66, 129.78.64.103\"},"
	    "\"schema\":\"iglu:org.ietf/http_header/jsonschema/1-0-0\"}");
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(every_header)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e = tload_one(dir, "h.json", header_conf(".*"), err, sizeof(err));
	struct enrich_event *ev = tev_new();

	ck_assert_msg(e != NULL, "%s", err);
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_ptr_null(ev->derived);
	tev_header(ev, "Accept: text/html");
	tev_header(ev, "no colon here");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"name\":\"Accept\",\"value\":\"text/html\"},"
	    "\"schema\":\"iglu:org.ietf/http_header/jsonschema/1-0-0\"}");
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(invalid_utf8_is_repaired)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e = tload_one(dir, "h.json", header_conf("X-.*"), err, sizeof(err));
	struct enrich_event *ev = tev_new();

	ck_assert_msg(e != NULL, "%s", err);
	tfile_write(dir, "cookie.json", COOKIE_CONF);
	enrichments_free(e);
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	tev_header(ev, "X-Raw: a\xff\xfe" "b");
	tev_header(ev, "Cookie: ck1=\xc3(");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 2);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"name\":\"ck1\",\"value\":\"\xef\xbf\xbd(\"},"
	    "\"schema\":\"iglu:org.ietf/http_cookie/jsonschema/1-0-0\"}");
	free(s);
	s = tderived(ev, 1);
	ck_assert_str_eq(s, "{\"data\":{\"name\":\"X-Raw\",\"value\":\"a\xef\xbf\xbd\xef\xbf\xbd""b\"},"
	    "\"schema\":\"iglu:org.ietf/http_header/jsonschema/1-0-0\"}");
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(bad_pattern_is_a_startup_error)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "h.json", header_conf("X-(unclosed"), err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "h.json: parameters.headersPattern: "));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_extractors");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, cookies_upstream_example);
	tcase_add_test(tc, headers_by_pattern);
	tcase_add_test(tc, every_header);
	tcase_add_test(tc, invalid_utf8_is_repaired);
	tcase_add_test(tc, bad_pattern_is_a_startup_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
