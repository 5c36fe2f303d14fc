/* Unit tests for enrichments_load / enrichments_apply: configuration errors reported as
 * "<file>: <reason>" (invalid JSON, not self-describing, bad schema URI, schema violations
 * found through the Iglu resolver and furrow's enrichment schemas, unknown and unsupported
 * enrichments, wrong model, duplicates), disabled files skipped, non-JSON files ignored,
 * Mini's default directory loading with validation, and the upstream order of enrichments
 * whatever the file names. */
#include "enr_test.h"
#include "iglu.h"

static struct iglu_resolver *
resolver(void)
{
	char err[512];
	struct iglu_resolver *r = iglu_resolver_new(NULL, troot(), err, sizeof(err));

	ck_assert_msg(r != NULL, "%s", err);
	return r;
}

static void
load_fails(const char *name, const char *text, const char *want)
{
	char *dir = tdir_new(), err[1024];
	struct iglu_resolver *r = resolver();
	struct enrichments *e;
	char prefix[4200];

	tfile_write(dir, name, text);
	e = enrichments_load(dir, r, err, sizeof(err));
	ck_assert_msg(e == NULL, "%s loaded", name);
	snprintf(prefix, sizeof(prefix), "%s/%s: ", dir, name);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "error \"%s\" lacks the file name", err);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	iglu_resolver_free(r);
	tdir_rm(dir);
}

#define ANON(schema, data) "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/" schema "\",\"data\":" data "}"
#define ANON_OK "{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\",\"enabled\":true,\"parameters\":{\"anonOctets\":2}}"

START_TEST(errors_name_the_file)
{
	load_fails("a.json", "{\"schema\": ", "invalid JSON");
	load_fails("a.json", "[1,2]", "not a self-describing enrichment configuration");
	load_fails("a.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0\"}",
	    "not a self-describing enrichment configuration");
	load_fails("a.json", ANON("1-0", ANON_OK), "invalid schema URI");
	load_fails("a.json", ANON("0-1-0", ANON_OK), "invalid schema URI");
	/* schema violations, through the resolver */
	load_fails("a.json", ANON("1-0-1", "{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"anonOctets\":\"two\"}}"), "does not validate against");
	load_fails("a.json", ANON("1-0-1", "{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true}"), "does not validate against");
	load_fails("a.json", ANON("1-0-1", "{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":\"yes\",\"parameters\":{\"anonOctets\":1}}"), "does not validate against");
	load_fails("a.json", ANON("1-0-7", ANON_OK), "schema not found");
	load_fails("ua.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\",\"enabled\":true,"
	    "\"parameters\":{\"uri\":\"file:.\"}}}", "does not validate against");
	load_fails("js.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0\","
	    "\"data\":{\"enabled\":true}}", "does not validate against");
	load_fails("js.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-9\","
	    "\"data\":{\"enabled\":true}}", "schema not found");
}
END_TEST

START_TEST(errors_without_a_resolver)
{
	char *dir = tdir_new(), err[1024];
	struct enrichments *e;

	e = tload_one(dir, "js.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0\","
	    "\"data\":{\"enabled\":true,\"parameters\":{}}}", err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "the yauaa_enrichment_config enrichment is not supported by furrow: "
	    "YAUAA is a Java library"));
	ck_assert_ptr_nonnull(strstr(err, "use ua_parser_config"));
	unlink(strcat(strcat(strcpy(err, dir), "/"), "js.json"));
	e = tload_one(dir, "x.json", "{\"schema\":\"iglu:com.acme/my_enrichment/jsonschema/1-0-0\","
	    "\"data\":{\"enabled\":true}}", err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "x.json: unknown enrichment iglu:com.acme/my_enrichment/jsonschema/1-0-0"));
	unlink(strcat(strcat(strcpy(err, dir), "/"), "x.json"));
	e = tload_one(dir, "r.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/1-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"referer_parser\",\"enabled\":true,"
	    "\"parameters\":{\"internalDomains\":[]}}}", err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "not supported (furrow reads iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-*-*)"));
	unlink(strcat(strcat(strcpy(err, dir), "/"), "r.json"));
	tfile_write(dir, "a.json", ANON("1-0-0", ANON_OK));
	e = tload_one(dir, "b.json", ANON("1-0-1", ANON_OK), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "b.json: anon_ip is already configured by "));
	e = enrichments_load("/nonexistent/furrow-enrichments", NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "/nonexistent/furrow-enrichments: No such file or directory");
	tdir_rm(dir);
}
END_TEST

START_TEST(disabled_and_other_files_are_skipped)
{
	char *dir = tdir_new(), err[1024];
	struct iglu_resolver *r = resolver();
	struct enrichments *e;
	struct enrich_event *ev = tev_new();

	/* disabled: its parameters are not even looked at, but it must still be valid */
	tfile_write(dir, "anon_ip.json", ANON("1-0-0", "{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":false,\"parameters\":{\"anonOctets\":3}}"));
	tfile_write(dir, "js.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0\","
	    "\"data\":{\"enabled\":false}}");
	tfile_write(dir, "README", "not a configuration");
	tfile_write(dir, "notes.json.bak", "{");
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	tev_set(ev, COL_USER_IPADDRESS, "1.2.3.4");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "1.2.3.4");
	enrichments_free(e);
	tev_free(ev);
	iglu_resolver_free(r);
	tdir_rm(dir);
}
END_TEST

START_TEST(mini_default_set_validates)
{
	char dir[4200], err[1024];
	struct iglu_resolver *r = resolver();
	struct enrichments *e;
	struct enrich_event *ev = tev_new();
	json_t *failures = json_array();

	snprintf(dir, sizeof(dir), "%s/enrichments/default", troot());
	e = enrichments_load(dir, r, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	tev_set(ev, COL_PAGE_URL, "http://www.example.com/?utm_source=news");
	tev_set(ev, COL_PAGE_URLHOST, "www.example.com");
	tev_set(ev, COL_PAGE_URLQUERY, "utm_source=news");
	tev_set(ev, COL_PAGE_REFERRER, "https://www.google.com/search?q=snowplow");
	tev_set(ev, COL_REFR_URLSCHEME, "https");
	tev_set(ev, COL_REFR_URLHOST, "www.google.com");
	tev_set(ev, COL_REFR_URLPATH, "/search");
	tev_set(ev, COL_REFR_URLQUERY, "q=snowplow");
	tev_set(ev, COL_USERAGENT, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
	tev_param(ev, "e", "pv");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, failures), 0);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, ev, failures), 0);
	ck_assert_str_eq(tev_col(ev, COL_MKT_SOURCE), "news");
	ck_assert_str_eq(tev_col(ev, COL_REFR_MEDIUM), "search");
	ck_assert_str_eq(tev_col(ev, COL_REFR_SOURCE), "Google");
	ck_assert_str_eq(tev_col(ev, COL_REFR_TERM), "snowplow");
	ck_assert_uint_eq(strlen(tev_col(ev, COL_EVENT_FINGERPRINT)), 32);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(ev->derived, 0), "data"),
	    "useragentFamily")), "Chrome");
	json_decref(failures);
	tev_free(ev);
	enrichments_free(e);
	iglu_resolver_free(r);
}
END_TEST

START_TEST(every_enrichment_schema_is_served)
{
	static const char *const keys[] = {
		"com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1",
		"com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1",
		"com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0",
		"com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1",
		"com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1",
		"com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1",
		"com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0",
		"com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
		"com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-1",
		"com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0",
		"com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1",
		"com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/asn/jsonschema/1-0-0",
		"com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1",
		"org.ietf/http_cookie/jsonschema/1-0-0",
		"org.ietf/http_header/jsonschema/1-0-0",
		"com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0",
	};
	struct iglu_resolver *r = resolver();
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char uri[512];
		struct iglu_key k;
		const char *code;
		json_t *ce = NULL;

		snprintf(uri, sizeof(uri), "iglu:%s", keys[i]);
		ck_assert_int_eq(iglu_key_parse(uri, &k, &code), 0);
		ck_assert_msg(iglu_resolver_lookup(r, &k, &ce) != NULL, "%s not served", uri);
	}
	iglu_resolver_free(r);
}
END_TEST

/* Files named against upstream's order must still run in it: IAB before ua_parser (its
 * context comes first), ip_lookups before anon_ip (it sees the full address). */
START_TEST(upstream_order)
{
	char *dir = tdir_new(), err[1024];
	struct enrichments *e;
	struct enrich_event *ev = tev_new();

	tfile_write(dir, "0-anon.json", ANON("1-0-0", ANON_OK));
	tfile_write(dir, "1-headers.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"http_header_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\","
	    "\"enabled\":true,\"parameters\":{\"headersPattern\":\"Host\"}}}");
	tfile_write(dir, "2-cookies.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"cookie_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"cookies\":[\"sp\"]}}}");
	tfile_write(dir, "3-ua.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\",\"enabled\":true,\"parameters\":{}}}");
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	tev_set(ev, COL_USERAGENT, "curl/8.5.0");
	tev_header(ev, "Host: c.example.com");
	tev_header(ev, "Cookie: sp=abc");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 3);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(ev->derived, 0), "schema")), "ua_parser_context"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(ev->derived, 1), "schema")), "http_cookie"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(ev->derived, 2), "schema")), "http_header"));
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

/* The real enrich_event.c (not a copy): setters refuse a column outside the 131, and an empty
 * value clears the column. */
START_TEST(event_setters_are_the_real_ones)
{
	struct enrich_event *ev = tev_new();

	ck_assert_int_eq(enrich_event_set(ev, -1, "x", 1), -1);
	ck_assert_int_eq(enrich_event_set(ev, EVENT_NCOLS, "x", 1), -1);
	ck_assert_int_eq(enrich_event_set_str(ev, COL_APP_ID, "shop"), 0);
	ck_assert_str_eq(tev_col(ev, COL_APP_ID), "shop");
	ck_assert_int_eq(enrich_event_set(ev, COL_APP_ID, "shop", 0), 0);
	ck_assert_ptr_null(ev->col[COL_APP_ID]);
	ck_assert_int_eq(enrich_event_add_derived(ev, NULL), -1);
	tev_free(ev);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_loader");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, errors_name_the_file);
	tcase_add_test(tc, errors_without_a_resolver);
	tcase_add_test(tc, disabled_and_other_files_are_skipped);
	tcase_add_test(tc, mini_default_set_validates);
	tcase_add_test(tc, every_enrichment_schema_is_served);
	tcase_add_test(tc, upstream_order);
	tcase_add_test(tc, event_setters_are_the_real_ones);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
