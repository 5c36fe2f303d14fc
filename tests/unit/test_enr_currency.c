/* Unit tests for currency_conversion_config (enrich/enr_currency.c) against a real local HTTP
 * server (tests/tools/api_server.py) serving Open Exchange Rates' historical API from recorded
 * answers (tests/golden/currency, in OER's response format). The expected amounts were
 * computed with Python's decimal module following scala-forex 3.0 and Joda-Money step by step
 * (new BigDecimal(double), divide(.., 6, HALF_EVEN), the EOD cache, toMoney(HALF_EVEN)); see
 * tests/golden/currency/README. Also: one fetch per day, same-currency rounding, DEVELOPER /
 * ENTERPRISE / USD / JPY bases, and every failure upstream names. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "enr_test.h"

static int port;
static pid_t server;

#define DAY_MS  1699990000000LL     /* 2023-11-14T19:26:40Z */

static char *
conf(const char *base, const char *account, const char *key)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"currency_conversion_config\",\"enabled\":true,"
	    "\"parameters\":{\"accountType\":\"%s\",\"apiKey\":\"%s\",\"baseCurrency\":\"%s\",\"rateAt\":\"EOD_PRIOR\"}}}",
	    account, key, base);
	return buf;
}

struct fixture {
	char *dir;
	struct enrichments *e;
};

static struct fixture
load(const char *text)
{
	struct fixture f;
	char err[1024], url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/oer", port);
	setenv("FURROW_OER_URL", url, 1);
	f.dir = tdir_new();
	f.e = tload_one(f.dir, "cur.json", text, err, sizeof(err));
	ck_assert_msg(f.e != NULL, "%s", err);
	return f;
}

static void
unload(struct fixture *f)
{
	enrichments_free(f->e);
	tdir_rm(f->dir);
}

/* A transaction event: tr_currency, tr_total, tr_tax, tr_shipping, ti_currency, ti_price
 * (NULL: unset), at the collector time ms. */
static struct enrich_event *
event(int64_t ms, const char *trcu, const char *tt, const char *tx, const char *sh,
    const char *ticu, const char *pr)
{
	struct enrich_event *ev = tev_new();

	ev->collector_tstamp_ms = ms;
	if (trcu) tev_set(ev, COL_TR_CURRENCY, trcu);
	if (tt) tev_set(ev, COL_TR_TOTAL, tt);
	if (tx) tev_set(ev, COL_TR_TAX, tx);
	if (sh) tev_set(ev, COL_TR_SHIPPING, sh);
	if (ticu) tev_set(ev, COL_TI_CURRENCY, ticu);
	if (pr) tev_set(ev, COL_TI_PRICE, pr);
	return ev;
}

static int
run(struct fixture *f, struct enrich_event *ev, json_t **fail)
{
	*fail = json_array();
	return enrichments_apply(f->e, ENRICH_STAGE_EARLY, ev, *fail);
}

static long
hits(const char *path)
{
	char cmd[256], out[65536];
	FILE *p;
	size_t n;
	json_t *j;
	long v;

	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/hits", port);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	ck_assert_ptr_nonnull(j = json_loads(out, 0, NULL));
	v = (long)json_integer_value(json_object_get(j, path));
	json_decref(j);
	return v;
}

/* "col,col,col,col" of the four *_base columns. */
static const char *
bases(const struct enrich_event *ev)
{
	static char out[256];

	snprintf(out, sizeof(out), "%s,%s,%s,%s", tev_col(ev, COL_TR_TOTAL_BASE),
	    tev_col(ev, COL_TR_TAX_BASE), tev_col(ev, COL_TR_SHIPPING_BASE), tev_col(ev, COL_TI_PRICE_BASE));
	return out;
}

static const char *
failure_text(json_t *fail, size_t i)
{
	static char out[1024];
	json_t *f = json_array_get(fail, i), *m = json_object_get(f, "message");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "enrichment"), "identifier")),
	    "currency-conversion");
	if (json_object_get(m, "error"))
		snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(m, "error")));
	else
		snprintf(out, sizeof(out), "%s|%s|%s", json_string_value(json_object_get(m, "field")),
		    json_string_value(json_object_get(m, "value")), json_string_value(json_object_get(m, "expectation")));
	return out;
}

START_TEST(developer_account_base_eur)
{
	struct fixture f = load(conf("EUR", "DEVELOPER", "k1"));
	struct enrich_event *ev = event(DAY_MS, "GBP", "12.3", "1.23", "0.5", "JPY", "1500");
	struct enrich_event *ev2 = event(DAY_MS + 3600000, NULL, NULL, NULL, NULL, "KWD", "3.333");
	struct enrich_event *ev3 = event(DAY_MS, "EUR", "10.005", "10.015", NULL, NULL, NULL);
	json_t *fail;

	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_str_eq(tev_col(ev, COL_BASE_CURRENCY), "EUR");
	ck_assert_str_eq(bases(ev), "13.99,1.40,0.57,9.12");
	json_decref(fail);
	ck_assert_int_eq(run(&f, ev2, &fail), 0);
	ck_assert_str_eq(bases(ev2), ",,,9.94");
	json_decref(fail);
	ck_assert_int_eq(run(&f, ev3, &fail), 0);          /* the same currency: rounding only */
	ck_assert_str_eq(bases(ev3), "10.01,10.02,,");
	json_decref(fail);
	ck_assert_int_eq(hits("/oer/historical/2023-11-14.json"), 1);   /* one fetch for the day */
	tev_free(ev);
	tev_free(ev2);
	tev_free(ev3);
	unload(&f);
}
END_TEST

START_TEST(other_bases_and_accounts)
{
	struct fixture usd = load(conf("USD", "DEVELOPER", "k2"));
	struct fixture jpy = load(conf("JPY", "DEVELOPER", "k3"));
	struct fixture ent = load(conf("EUR", "ENTERPRISE", "k4"));
	struct enrich_event *ev = event(DAY_MS, "GBP", "12.3", NULL, NULL, "JPY", "1500");
	struct enrich_event *ev2 = event(DAY_MS, "GBP", "12.3", NULL, NULL, "USD", "-7.5");
	struct enrich_event *ev3 = event(DAY_MS, "GBP", "12.3", NULL, NULL, "USD", "99.99");
	json_t *fail;

	ck_assert_int_eq(run(&usd, ev, &fail), 0);
	ck_assert_str_eq(bases(ev), "15.18,,,9.90");
	json_decref(fail);
	ck_assert_int_eq(run(&jpy, ev2, &fail), 0);        /* JPY has no decimal places */
	ck_assert_str_eq(bases(ev2), "2300,,,-1136");
	ck_assert_str_eq(tev_col(ev2, COL_BASE_CURRENCY), "JPY");
	json_decref(fail);
	ck_assert_int_eq(run(&ent, ev3, &fail), 0);        /* rates in EUR: the &base=EUR answer */
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_str_eq(bases(ev3), "13.99,,,92.13");
	json_decref(fail);
	tev_free(ev);
	tev_free(ev2);
	tev_free(ev3);
	unload(&usd);
	unload(&jpy);
	unload(&ent);
}
END_TEST

START_TEST(failures)
{
	struct fixture f = load(conf("EUR", "DEVELOPER", "k5"));
	struct fixture bad = load(conf("EUR", "DEVELOPER", "invalid"));
	struct fixture garbage = load(conf("EUR", "DEVELOPER", "garbage"));
	struct fixture ent = load(conf("EUR", "ENTERPRISE", "k6"));
	struct enrich_event *ev;
	json_t *fail;

	/* an unknown currency: one failure per amount, no *_base column, base_currency all the same */
	ev = event(DAY_MS, "XYZ", "1", "2", NULL, "GBP", "1");
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_int_eq(json_array_size(fail), 2);
	ck_assert_str_eq(failure_text(fail, 0), "tr_currency|XYZ|Unknown currency 'XYZ'");
	ck_assert_str_eq(bases(ev), ",,,");
	ck_assert_str_eq(tev_col(ev, COL_BASE_CURRENCY), "EUR");
	json_decref(fail);
	tev_free(ev);

	ev = event(DAY_MS, "GBP", "1", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(run(&bad, ev, &fail), -1);
	ck_assert_str_eq(failure_text(fail, 0), "Open Exchange Rates error, type: [OtherErrors], message: [invalid_app_id]");
	json_decref(fail);
	ck_assert_int_eq(run(&garbage, ev, &fail), -1);
	ck_assert_msg(strstr(failure_text(fail, 0), "Open Exchange Rates error, type: [OtherErrors], message: "
	    "[OER response is not JSON: ") == failure_text(fail, 0), "%s", failure_text(fail, 0));
	json_decref(fail);
	tev_free(ev);

	ev = event(DAY_MS + 86400000, "GBP", "1", NULL, NULL, NULL, NULL);     /* no answer recorded */
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_str_eq(failure_text(fail, 0), "Open Exchange Rates error, type: [OtherErrors], message: [not_available]");
	json_decref(fail);
	tev_free(ev);

	ev = event(4102444800000LL, "GBP", "1", NULL, NULL, NULL, NULL);      /* 2100-01-01 */
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_str_eq(failure_text(fail, 0), "Open Exchange Rates error, type: [ResourcesNotAvailable], "
	    "message: [Exchange rate unavailable on the date [2100-01-01T00:00Z[UTC]]]");
	json_decref(fail);
	tev_free(ev);

	ev = event(DAY_MS, "CHF", "1", NULL, NULL, NULL, NULL);               /* not in the EUR answer */
	ck_assert_int_eq(run(&ent, ev, &fail), -1);
	ck_assert_str_eq(failure_text(fail, 0), "Open Exchange Rates error, type: [IllegalCurrency], "
	    "message: [Currency not found in the API, invalid currency CHF]");
	json_decref(fail);
	tev_free(ev);

	ev = event(DAY_MS, "GBP", NULL, NULL, NULL, NULL, "5");             /* nothing to convert */
	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_str_eq(tev_col(ev, COL_BASE_CURRENCY), "EUR");
	json_decref(fail);
	tev_free(ev);
	unload(&f);
	unload(&bad);
	unload(&garbage);
	unload(&ent);
}
END_TEST

START_TEST(service_unreachable_and_configuration)
{
	char err[1024], *dir = tdir_new();
	struct enrichments *e;
	struct enrich_event *ev = event(DAY_MS, "GBP", "1", NULL, NULL, NULL, NULL);
	json_t *fail = json_array();

	setenv("FURROW_OER_URL", "http://127.0.0.1:1/api", 1);
	e = tload_one(dir, "cur.json", conf("EUR", "DEVELOPER", "k"), err, sizeof(err));
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, fail), -1);
	ck_assert_msg(strstr(failure_text(fail, 0), "an error happened while converting the currency: ") != NULL,
	    "%s", failure_text(fail, 0));
	enrichments_free(e);
	unlink(strcat(strcat(strcpy(err, dir), "/"), "cur.json"));
	ck_assert_ptr_null(tload_one(dir, "cur.json", conf("XYZ", "DEVELOPER", "k"), err, sizeof(err)));
	ck_assert_str_eq(err + strlen(err) - strlen("Unknown currency 'XYZ'"), "Unknown currency 'XYZ'");
	/* the endpoint's URL is checked as a flag's: http(s), no blanks */
	unlink(strcat(strcat(strcpy(err, dir), "/"), "cur.json"));
	setenv("FURROW_OER_URL", "ftp://127.0.0.1/api", 1);
	ck_assert_ptr_null(tload_one(dir, "cur.json", conf("EUR", "DEVELOPER", "k"), err, sizeof(err)));
	ck_assert_msg(strstr(err, "FURROW_OER_URL: expected an http:// or https:// URL, not "
	    "'ftp://127.0.0.1/api'") != NULL, "%s", err);
	setenv("FURROW_OER_URL", "http://127.0.0.1:1/api", 1);
	json_decref(fail);
	tev_free(ev);
	tdir_rm(dir);
}
END_TEST

static void
start_server(void)
{
	char docroot[4200];

	snprintf(docroot, sizeof(docroot), "%s/tests/golden/currency", troot());
	server = tapi_server_start(docroot, &port);
}

int
main(void)
{
	Suite *s = suite_create("enr_currency");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	start_server();
	tcase_add_test(tc, developer_account_base_eur);
	tcase_add_test(tc, other_bases_and_accounts);
	tcase_add_test(tc, failures);
	tcase_add_test(tc, service_unreachable_and_configuration);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	return nf == 0 ? 0 : 1;
}
