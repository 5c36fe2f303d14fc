/* Unit tests for ip_lookups: MaxMind databases written by tests/tools/write-mmdb.pl (Debian's
 * libmaxmind-db-writer-perl) into a temporary directory; the geo_* / ip_* columns for IPv4
 * and IPv6 hits, misses and non-IP values; Java Float.toString rendering; missing and
 * corrupt database files as startup errors. */
#include "enr_test.h"
#include "jnum.h"

static char *g_dir;   /* the databases, written once */

static void
write_dbs(void)
{
	char cmd[4400];

	g_dir = tdir_new();
	snprintf(cmd, sizeof(cmd), "perl '%s/tests/tools/write-mmdb.pl' '%s'", troot(), g_dir);
	ck_assert_msg(system(cmd) == 0, "%s failed (apt-get install libmaxmind-db-writer-perl)", cmd);
}

static char *
conf(const char *dir, const char *which)
{
	static char buf[8192];

	if (!strcmp(which, "all"))
		snprintf(buf, sizeof(buf),
		    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1\","
		    "\"data\":{\"name\":\"ip_lookups\",\"vendor\":\"com.snowplowanalytics.snowplow\",\"enabled\":true,"
		    "\"parameters\":{\"geo\":{\"database\":\"GeoIP2-City.mmdb\",\"uri\":\"file://%s\"},"
		    "\"asn\":{\"database\":\"GeoLite2-ASN.mmdb\",\"uri\":\"file:%s\"},"
		    "\"isp\":{\"database\":\"GeoIP2-ISP.mmdb\",\"uri\":\"file://%s\"},"
		    "\"domain\":{\"database\":\"GeoIP2-Domain.mmdb\",\"uri\":\"file://%s\"},"
		    "\"connectionType\":{\"database\":\"GeoIP2-Connection-Type.mmdb\",\"uri\":\"file://%s/\"}}}}",
		    dir, dir, dir, dir, dir);
	else
		snprintf(buf, sizeof(buf),
		    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0\","
		    "\"data\":{\"name\":\"ip_lookups\",\"vendor\":\"com.snowplowanalytics.snowplow\",\"enabled\":true,"
		    "\"parameters\":{\"geo\":{\"database\":\"%s\",\"uri\":\"file://%s\"}}}}", which, dir);
	return buf;
}

static struct enrich_event *
lookup(struct enrichments *e, const char *ip)
{
	struct enrich_event *ev = tev_new();

	tev_set(ev, COL_USER_IPADDRESS, ip);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL), 0);
	ck_assert_ptr_null(ev->col[COL_GEO_COUNTRY]);   /* ip_lookups runs late */
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL), 0);
	return ev;
}

START_TEST(all_databases)
{
	char *cdir = tdir_new(), err[512];
	struct enrichments *e;
	struct enrich_event *ev;
	int i;

	write_dbs();
	e = tload_one(cdir, "ip_lookups.json", conf(g_dir, "all"), err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);

	ev = lookup(e, "175.16.199.7");
	ck_assert_str_eq(tev_col(ev, COL_GEO_COUNTRY), "CN");
	ck_assert_str_eq(tev_col(ev, COL_GEO_REGION), "22");
	ck_assert_str_eq(tev_col(ev, COL_GEO_REGION_NAME), "Jilin Sheng");
	ck_assert_str_eq(tev_col(ev, COL_GEO_CITY), "Changchun");
	ck_assert_ptr_null(ev->col[COL_GEO_ZIPCODE]);
	ck_assert_str_eq(tev_col(ev, COL_GEO_LATITUDE), "43.88");
	ck_assert_str_eq(tev_col(ev, COL_GEO_LONGITUDE), "125.3228");
	ck_assert_str_eq(tev_col(ev, COL_GEO_TIMEZONE), "Asia/Harbin");
	ck_assert_str_eq(tev_col(ev, COL_IP_ISP), "Century Link");
	ck_assert_str_eq(tev_col(ev, COL_IP_ORGANIZATION), "Lariat Software");
	ck_assert_str_eq(tev_col(ev, COL_IP_DOMAIN), "shoesfromnowhere.com");
	ck_assert_str_eq(tev_col(ev, COL_IP_NETSPEED), "Dialup");
	ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), "175.16.199.7");
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	{
		char *s = tderived(ev, 0);
		ck_assert_str_eq(s, "{\"data\":{\"number\":64512},"
		    "\"schema\":\"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1\"}");
		free(s);
	}
	tev_free(ev);

	/* the most specific subdivision; a postal code; a negative longitude */
	ev = lookup(e, "81.2.69.170");
	ck_assert_str_eq(tev_col(ev, COL_GEO_COUNTRY), "GB");
	ck_assert_str_eq(tev_col(ev, COL_GEO_REGION), "WBK");
	ck_assert_str_eq(tev_col(ev, COL_GEO_REGION_NAME), "West Berkshire");
	ck_assert_str_eq(tev_col(ev, COL_GEO_ZIPCODE), "SW1A");
	ck_assert_str_eq(tev_col(ev, COL_GEO_LONGITUDE), "-0.0931");
	ck_assert_ptr_null(ev->col[COL_IP_ISP]);
	tev_free(ev);

	/* a record without a location: upstream's 0.0 */
	ev = lookup(e, "203.0.113.9");
	ck_assert_str_eq(tev_col(ev, COL_GEO_COUNTRY), "AU");
	ck_assert_str_eq(tev_col(ev, COL_GEO_LATITUDE), "0.0");
	ck_assert_str_eq(tev_col(ev, COL_GEO_LONGITUDE), "0.0");
	ck_assert_ptr_null(ev->col[COL_GEO_CITY]);
	tev_free(ev);

	ev = lookup(e, "2001:db8:1::42");
	ck_assert_str_eq(tev_col(ev, COL_GEO_COUNTRY), "US");
	ck_assert_str_eq(tev_col(ev, COL_GEO_CITY), "Milton");
	ck_assert_str_eq(tev_col(ev, COL_GEO_LATITUDE), "47.2513");
	tev_free(ev);

	ev = lookup(e, "1.128.0.9");
	ck_assert_str_eq(tev_col(ev, COL_IP_ISP), "Telstra Internet");
	{
		char *s = tderived(ev, 0);
		ck_assert_str_eq(s, "{\"data\":{\"number\":1221,\"organization\":\"Telstra Pty Ltd\"},"
		    "\"schema\":\"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1\"}");
		free(s);
	}
	tev_free(ev);

	ev = lookup(e, "1.0.1.1");
	ck_assert_ptr_null(ev->derived);
	ck_assert_ptr_null(ev->col[COL_GEO_COUNTRY]);
	ck_assert_str_eq(tev_col(ev, COL_IP_NETSPEED), "Cable/DSL");
	tev_free(ev);

	/* misses and values that are not IP literals set nothing */
	static const char *const none[] = { "10.0.0.1", "unknown", "not an ip", "2001:db8:2::1" };
	for (i = 0; i < 4; i++) {
		int c;
		ev = lookup(e, none[i]);
		for (c = COL_GEO_COUNTRY; c <= COL_IP_NETSPEED; c++)
			ck_assert_ptr_null(ev->col[c]);
		ck_assert_ptr_null(ev->col[COL_GEO_TIMEZONE]);
		tev_free(ev);
	}
	ev = tev_new();
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_ptr_null(ev->col[COL_GEO_COUNTRY]);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(cdir);
	tdir_rm(g_dir);
}
END_TEST

START_TEST(database_errors)
{
	char *cdir = tdir_new(), err[512];
	struct enrichments *e;

	e = tload_one(cdir, "ip.json", conf(cdir, "GeoLite2-City.mmdb"), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "ip.json: parameters.geo: database "));
	ck_assert_ptr_nonnull(strstr(err, "GeoLite2-City.mmdb: No such file or directory"));
	tfile_write(cdir, "GeoLite2-City.mmdb", "this is not a MaxMind database\n");
	e = tload_one(cdir, "ip.json", conf(cdir, "GeoLite2-City.mmdb"), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "ip.json: parameters.geo: "));
	ck_assert_ptr_nonnull(strstr(err, "GeoLite2-City.mmdb: "));
	tdir_rm(cdir);
}
END_TEST

START_TEST(java_float_rendering)
{
	static const struct { float f; const char *s; } cases[] = {
		{ 40.0f, "40.0" }, { 37.443604f, "37.443604" }, { -122.3149f, "-122.3149" },
		{ 0.0001f, "1.0E-4" }, { 0.001f, "0.001" }, { 1.0e7f, "1.0E7" }, { 9999999.0f, "9999999.0" },
		{ 125.3228f, "125.3228" }, { 0.0f, "0.0" }, { 1.5e-5f, "1.5E-5" }, { 12345678.0f, "1.2345678E7" },
	};
	char s[JNUM_BUFSZ];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jnum_java_float(cases[i].f, s);
		ck_assert_str_eq(s, cases[i].s);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_ip_lookups");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, all_databases);
	tcase_add_test(tc, database_errors);
	tcase_add_test(tc, java_float_rendering);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
