/* Unit tests for iab_spiders_and_robots_enrichment with lists written here (the IAB/ABC
 * list format: '|'-separated, '#' comments): upstream IabEnrichmentSpec's three cases, each
 * step of the check, inactive dates against derived_tstamp, custom include/exclude user
 * agents (1-0-1), the derived context, and missing files. */
#include "enr_test.h"

static const char IP_LIST[] =
    "# furrow test robots\n192.168.151.0/24\n10.1.2.3\n\n2001:db8::/32\n";
/* pattern|active|start-of-string|inactive date */
static const char INCLUDE_LIST[] =
    "# browsers\nmozilla|1|1|\nxdroid|1|0|\noldbrowser|0|0|01/01/2030\ngonebrowser|0|0|01/01/2000\n";
/* pattern|active|exceptions|unused|primary impact|start-of-string|inactive date */
static const char EXCLUDE_LIST[] =
    "# robots\n"
    "bot|1|robot-friendly, notabot|0|2|0|\n"
    "spider|1||0|0|1|\n"
    "crawler|0||0|1|0|06/30/2020\n"
    "retired|0||0|1|0|\n"
    "badimpact|1||0|7|0|\n";

static char *g_dir;
static struct enrichments *g_e;

static void
setup(void)
{
	char err[512];

	g_dir = tdir_new();
	tfile_write(g_dir, "ip_exclude_current_cidr.txt", IP_LIST);
	tfile_write(g_dir, "include_current.txt", INCLUDE_LIST);
	tfile_write(g_dir, "exclude_current.txt", EXCLUDE_LIST);
	g_e = tload_one(g_dir, "iab.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-1\","
	    "\"data\":{\"name\":\"iab_spiders_and_robots_enrichment\",\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\","
	    "\"enabled\":true,\"parameters\":{"
	    "\"ipFile\":{\"database\":\"ip_exclude_current_cidr.txt\",\"uri\":\"file:.\"},"
	    "\"excludeUseragentFile\":{\"database\":\"exclude_current.txt\",\"uri\":\"file:.\"},"
	    "\"includeUseragentFile\":{\"database\":\"include_current.txt\",\"uri\":\"file:.\"},"
	    "\"includeUseragents\":[\"Friendly-Monitor\"],\"excludeUseragents\":[\"EvilScraper\"]}}}",
	    err, sizeof(err));
	ck_assert_msg(g_e != NULL, "%s", err);
}

static void
teardown(void)
{
	enrichments_free(g_e);
	tdir_rm(g_dir);
}

/* Run the enrichment; returns the context's data as compact sorted JSON, or "" for none. */
static char *
check_at(const char *ua, const char *ip, const char *tstamp, int want_rc)
{
	static char out[512];
	struct enrich_event *ev = tev_new();
	json_t *failures = json_array();
	int rc;

	tev_set(ev, COL_USERAGENT, ua);
	tev_set(ev, COL_USER_IPADDRESS, ip);
	tev_set(ev, COL_DERIVED_TSTAMP, tstamp);
	rc = enrichments_apply(g_e, ENRICH_STAGE_EARLY, ev, failures);
	ck_assert_int_eq(rc, want_rc);
	out[0] = '\0';
	if (rc < 0) {
		char *s = json_dumps(failures, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(out, sizeof(out), "%s", s);
		free(s);
	} else if (ev->derived) {
		json_t *c = json_array_get(ev->derived, 0);
		char *s = json_dumps(json_object_get(c, "data"), JSON_COMPACT | JSON_SORT_KEYS);
		ck_assert_str_eq(json_string_value(json_object_get(c, "schema")),
		    "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0");
		snprintf(out, sizeof(out), "%s", s);
		free(s);
	}
	json_decref(failures);
	tev_free(ev);
	return out;
}

static char *
check(const char *ua, const char *ip)
{
	return check_at(ua, ip, "2024-05-01 12:00:00.000", 0);
}

#define BROWSER "{\"category\":\"BROWSER\",\"primaryImpact\":\"NONE\",\"reason\":\"PASSED_ALL\",\"spiderOrRobot\":false}"
#define ROBOT(cat, reason, impact) \
	"{\"category\":\"" cat "\",\"primaryImpact\":\"" impact "\",\"reason\":\"" reason "\",\"spiderOrRobot\":true}"

START_TEST(upstream_cases)
{
	ck_assert_str_eq(check("Xdroid", "192.168.0.1"), BROWSER);
	ck_assert_str_eq(check("Mozilla/5.0", "192.168.151.21"),
	    ROBOT("SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN"));
	ck_assert_str_eq(check("xonitor", "192.168.0.1"),
	    ROBOT("SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN"));
}
END_TEST

START_TEST(each_step)
{
	/* custom lists come first, before the IP check */
	ck_assert_str_eq(check("friendly-monitor/2", "192.168.151.1"), BROWSER);
	ck_assert_str_eq(check("Mozilla/5.0 EvilScraper", "8.8.8.8"),
	    ROBOT("SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "UNKNOWN"));
	ck_assert_str_eq(check("Mozilla/5.0", "10.1.2.3"), ROBOT("SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN"));
	ck_assert_str_eq(check("Mozilla/5.0", "2001:db8::7"), ROBOT("SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN"));
	/* no user agent: only the IP counts */
	ck_assert_str_eq(check(NULL, "8.8.8.8"), BROWSER);
	ck_assert_str_eq(check("   ", "8.8.8.8"), BROWSER);
	/* start-of-string include: "mozilla" must lead */
	ck_assert_str_eq(check("Something Mozilla/5.0", "8.8.8.8"),
	    ROBOT("SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN"));
	/* exclude entries, their exceptions and impacts */
	ck_assert_str_eq(check("Mozilla/5.0 (compatible; Googlebot/2.1)", "8.8.8.8"),
	    ROBOT("ACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "PAGE_AND_AD_IMPRESSIONS"));
	ck_assert_str_eq(check("Mozilla/5.0 notabot", "8.8.8.8"), BROWSER);
	ck_assert_str_eq(check("Mozilla/5.0 spider", "8.8.8.8"), BROWSER);      /* not at the start */
	ck_assert_str_eq(check("Mozilla/5.0 retired", "8.8.8.8"), BROWSER);     /* inactive, no date */
	/* no IP at all is fine when there is a user agent */
	ck_assert_str_eq(check("xdroid", NULL), BROWSER);
	/* neither: no context */
	ck_assert_str_eq(check(NULL, NULL), "");
	ck_assert_str_eq(check(NULL, "unknown"), "");
}
END_TEST

START_TEST(inactive_dates)
{
	ck_assert_str_eq(check_at("Mozilla/5.0 crawler", "8.8.8.8", "2020-06-29 23:59:59.999", 0),
	    ROBOT("ACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "AD_IMPRESSIONS"));
	ck_assert_str_eq(check_at("Mozilla/5.0 crawler", "8.8.8.8", "2021-01-01 00:00:00.000", 0),
	    ROBOT("INACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "AD_IMPRESSIONS"));
	ck_assert_str_eq(check_at("oldbrowser/1", "8.8.8.8", "2024-01-01 00:00:00.000", 0), BROWSER);
	ck_assert_str_eq(check_at("gonebrowser/1", "8.8.8.8", "2024-01-01 00:00:00.000", 0),
	    ROBOT("SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN"));
	/* no derived_tstamp: upstream skips the check */
	ck_assert_str_eq(check_at("Mozilla/5.0", "8.8.8.8", NULL, 0), "");
}
END_TEST

START_TEST(bad_impact_flag_is_an_enrichment_failure)
{
	ck_assert_str_eq(check_at("Mozilla/5.0 badimpact", "8.8.8.8", "2024-01-01 00:00:00.000", -1),
	    "[{\"enrichment\":{\"identifier\":\"iab-spiders-and-robots\",\"schemaKey\":"
	    "\"iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-1\"},"
	    "\"message\":{\"error\":\"Invalid value of impression flag: '7'\"}}]");
}
END_TEST

START_TEST(missing_list_is_a_startup_error)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e;

	tfile_write(dir, "ip_exclude_current_cidr.txt", IP_LIST);
	tfile_write(dir, "include_current.txt", INCLUDE_LIST);
	e = tload_one(dir, "iab.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"iab_spiders_and_robots_enrichment\",\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\","
	    "\"enabled\":true,\"parameters\":{"
	    "\"ipFile\":{\"database\":\"ip_exclude_current_cidr.txt\",\"uri\":\"file:.\"},"
	    "\"excludeUseragentFile\":{\"database\":\"exclude_current.txt\",\"uri\":\"file:.\"},"
	    "\"includeUseragentFile\":{\"database\":\"include_current.txt\",\"uri\":\"file:.\"}}}}",
	    err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "iab.json: parameters.excludeUseragentFile: database "));
	tfile_write(dir, "exclude_current.txt", EXCLUDE_LIST);
	tfile_write(dir, "ip_exclude_current_cidr.txt", "192.168.0.0/33\n");
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "bad prefix length: 192.168.0.0/33"));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_iab");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, upstream_cases);
	tcase_add_test(tc, each_step);
	tcase_add_test(tc, inactive_dates);
	tcase_add_test(tc, bad_impact_flag_is_an_enrichment_failure);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, missing_list_is_a_startup_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
