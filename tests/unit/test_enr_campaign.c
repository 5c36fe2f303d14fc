/* Unit tests for campaign_attribution: upstream CampaignAttributionEnrichmentSpec's cases
 * (default utm_* parameters, custom parameter lists in order of precedence, click ids and
 * their networks, custom click ids) and the Mini default configuration. */
#include "enr_test.h"

#define CONF_HEAD \
	"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1\"," \
	"\"data\":{\"name\":\"campaign_attribution\",\"vendor\":\"com.snowplowanalytics.snowplow\"," \
	"\"enabled\":true,\"parameters\":{\"mapping\":\"static\",\"fields\":"

static const char GOOGLE_FIELDS[] = CONF_HEAD
    "{\"mktMedium\":[\"utm_medium\",\"medium\"],\"mktSource\":[\"utm_source\",\"source\"],"
    "\"mktTerm\":[\"utm_term\"],\"mktContent\":[],\"mktCampaign\":[\"utm _campaign\",\"CID\",\"legacy-campaign!?-`@#$%^&*()=\\\\][}{/.,<>~|\"],"
    "\"mktClickId\":{\"customclid\":\"Custom\",\"gclid\":\"Override\"}}}}}";

static struct enrich_event *
page(const char *query)
{
	struct enrich_event *ev = tev_new();
	char url[2048];

	snprintf(url, sizeof(url), "http://www.example.com/index.html?%s", query);
	tev_set(ev, COL_PAGE_URL, url);
	tev_set(ev, COL_PAGE_URLQUERY, query);
	return ev;
}

static struct enrichments *
load(char **dir, const char *conf)
{
	char err[512];
	struct enrichments *e;

	*dir = tdir_new();
	e = tload_one(*dir, "campaign_attribution.json", conf, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

START_TEST(default_utm_parameters)
{
	char *dir, cmd[8400];
	struct enrichments *e;
	struct enrich_event *ev = page("utm_source=GoogleSearch&utm_medium=cpc&utm_term=native+american+tarot+deck"
	    "&utm_content=39254295088&utm_campaign=uk-tarot--native-american");
	char err[512];

	dir = tdir_new();
	snprintf(cmd, sizeof(cmd), "cp '%s/enrichments/default/campaign_attribution.json' '%s/'", troot(), dir);
	ck_assert_int_eq(system(cmd), 0);
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_MEDIUM), "cpc");
	ck_assert_str_eq(tev_col(ev, COL_MKT_SOURCE), "GoogleSearch");
	ck_assert_str_eq(tev_col(ev, COL_MKT_TERM), "native american tarot deck");
	ck_assert_str_eq(tev_col(ev, COL_MKT_CONTENT), "39254295088");
	ck_assert_str_eq(tev_col(ev, COL_MKT_CAMPAIGN), "uk-tarot--native-american");
	ck_assert_ptr_null(ev->col[COL_MKT_CLICKID]);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(first_configured_parameter_wins)
{
	char *dir;
	struct enrichments *e = load(&dir, GOOGLE_FIELDS);
	struct enrich_event *ev = page("medium=email&utm_medium=cpc&source=newsletter&CID=uk-tarot"
	    "&legacy-campaign!%3F-%60%40%23%24%25%5E%26*()%3D%5C%5D%5B%7D%7B%2F.%2C%3C%3E%7E%7C=x");

	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_MEDIUM), "cpc");
	ck_assert_str_eq(tev_col(ev, COL_MKT_SOURCE), "newsletter");
	ck_assert_str_eq(tev_col(ev, COL_MKT_CAMPAIGN), "uk-tarot");
	ck_assert_ptr_null(ev->col[COL_MKT_TERM]);
	ck_assert_ptr_null(ev->col[COL_MKT_CONTENT]);
	tev_free(ev);
	ev = page("legacy-campaign!%3F-%60%40%23%24%25%5E%26*()%3D%5C%5D%5B%7D%7B%2F.%2C%3C%3E%7E%7C=odd");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_CAMPAIGN), "odd");
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(click_ids_and_networks)
{
	char *dir;
	struct enrichments *e = load(&dir, GOOGLE_FIELDS);
	struct enrich_event *ev = page("msclkid=500&utm_source=bing");

	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_CLICKID), "500");
	ck_assert_str_eq(tev_col(ev, COL_MKT_NETWORK), "Microsoft");
	tev_free(ev);
	ev = page("dclid=d1");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_CLICKID), "d1");
	ck_assert_str_eq(tev_col(ev, COL_MKT_NETWORK), "DoubleClick");
	tev_free(ev);
	ev = page("customclid=c1");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_CLICKID), "c1");
	ck_assert_str_eq(tev_col(ev, COL_MKT_NETWORK), "Custom");
	tev_free(ev);
	/* a configured network replaces a default one */
	ev = page("gclid=g1");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_CLICKID), "g1");
	ck_assert_str_eq(tev_col(ev, COL_MKT_NETWORK), "Override");
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(semicolons_repeats_and_no_page_url)
{
	char *dir;
	struct enrichments *e = load(&dir, GOOGLE_FIELDS);
	struct enrich_event *ev = page("utm_source=a;utm_source=b&utm_term=x%09y");

	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_MKT_SOURCE), "b");
	ck_assert_str_eq(tev_col(ev, COL_MKT_TERM), "x    y");   /* TSV-safe */
	tev_free(ev);
	ev = tev_new();
	tev_set(ev, COL_PAGE_URLQUERY, "utm_source=z");
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_ptr_null(ev->col[COL_MKT_SOURCE]);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(missing_field_list_is_a_startup_error)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "c.json", CONF_HEAD
	    "{\"mktMedium\":[],\"mktSource\":[],\"mktTerm\":[],\"mktContent\":[]}}}}", err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "c.json: parameters.fields.mktCampaign"));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_campaign");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, default_utm_parameters);
	tcase_add_test(tc, first_configured_parameter_wins);
	tcase_add_test(tc, click_ids_and_networks);
	tcase_add_test(tc, semicolons_repeats_and_no_page_url);
	tcase_add_test(tc, missing_field_list_is_a_startup_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
