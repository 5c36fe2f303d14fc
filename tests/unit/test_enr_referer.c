/* Unit tests for referer_parser: upstream RefererParserEnrichmentSpec's examples (search
 * term, social, email, internal by page host and by internalDomains, unknown, tabs in the
 * term, custom "referrers"), referer-parser's host/path lookup order, furrow's shipped
 * database, and database errors (missing, corrupt, unknown medium). */
#include "enr_test.h"

static const char TEST_DB[] =
    "{\"search\":{\"Google\":{\"parameters\":[\"q\"],\"domains\":[\"google.com\",\"google.co.uk\"]},"
    "             \"Google Images\":{\"parameters\":[\"q\"],\"domains\":[\"google.com/images\"]}},"
    " \"social\":{\"Facebook\":{\"domains\":[\"facebook.com\"]}},"
    " \"email\":{\"Yahoo! Mail\":{\"domains\":[\"mail.yahoo.net\"]}},"
    " \"chatbot\":{\"ChatGPT\":{\"domains\":[\"chatgpt.com\"]}},"
    " \"paid\":{\"DoubleClick\":{\"domains\":[\"ad.doubleclick.net\"]}}}";

static char *
conf(const char *uri, const char *db, const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1\","
	    "\"data\":{\"name\":\"referer_parser\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"internalDomains\":[\" www.internaldomain.com \"],"
	    "\"uri\":\"%s\",\"database\":\"%s\"%s}}}", uri, db, extra);
	return buf;
}

static struct enrichments *
load_test_db(char **dir, const char *extra)
{
	char err[512];
	struct enrichments *e;

	*dir = tdir_new();
	tfile_write(*dir, "referers.db", TEST_DB);
	e = tload_one(*dir, "referer_parser.json", conf("file:.", "referers.db", extra), err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

/* Set the refr_* URL columns the way the core does from page_referrer. */
static struct enrich_event *
refr(const char *scheme, const char *host, const char *path, const char *query)
{
	struct enrich_event *ev = tev_new();
	char url[2048];

	snprintf(url, sizeof(url), "%s://%s%s%s%s", scheme, host, path, query ? "?" : "", query ? query : "");
	tev_set(ev, COL_PAGE_REFERRER, url);
	tev_set(ev, COL_REFR_URLSCHEME, scheme);
	tev_set(ev, COL_REFR_URLHOST, host);
	tev_set(ev, COL_REFR_URLPATH, path);
	tev_set(ev, COL_REFR_URLQUERY, query);
	tev_set(ev, COL_PAGE_URLHOST, "www.snowplowanalytics.com");
	return ev;
}

static void
check(struct enrichments *e, struct enrich_event *ev, const char *medium, const char *source,
    const char *term)
{
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL), 0);
	ck_assert_str_eq(tev_col(ev, COL_REFR_MEDIUM), medium);
	ck_assert_str_eq(tev_col(ev, COL_REFR_SOURCE), source);
	ck_assert_str_eq(tev_col(ev, COL_REFR_TERM), term);
	tev_free(ev);
}

START_TEST(upstream_examples)
{
	char *dir;
	struct enrichments *e = load_test_db(&dir, "");

	check(e, refr("http", "www.google.com", "/search", "q=gateway+oracle+cards+denise+linn&hl=en&client=safari"),
	    "search", "Google", "gateway oracle cards denise linn");
	check(e, refr("http", "www.facebook.com", "/l.php", "u=http%3A%2F%2Fwww.psychicbazaar.com&h=yAQHZtXxS&s=1"),
	    "social", "Facebook", "");
	check(e, refr("http", "36ohk6dgmcd1n-c.c.yom.mail.yahoo.net",
	    "/om/api/1.0/openmail.app.invoke/36ohk6dgmcd1n/11/1.0.35/us/en-US/view.html/0", NULL),
	    "email", "Yahoo! Mail", "");
	check(e, refr("https", "www.chatgpt.com", "", NULL), "chatbot", "ChatGPT", "");
	check(e, refr("https", "www.snowplowanalytics.com", "/account/profile", NULL), "internal", "", "");
	check(e, refr("https", "www.internaldomain.com", "/path", NULL), "internal", "", "");
	check(e, refr("http", "www.spyfu.com", "/domain.aspx", "d=3897225171967988459"), "unknown", "", "");
	check(e, refr("http", "www.google.com", "/search",
	    "q=%0Agateway%09oracle%09cards%09denise%09linn&hl=en&client=safari"),
	    "search", "Google", "gateway    oracle    cards    denise    linn");
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(path_and_host_lookup_order)
{
	char *dir;
	struct enrichments *e = load_test_db(&dir, "");

	/* host+first path segment wins over the bare host */
	check(e, refr("https", "www.google.com", "/images/search", "q=cats"), "search", "Google Images", "cats");
	check(e, refr("https", "images.google.co.uk", "/", "q=dogs&q=x"), "search", "Google", "dogs");
	check(e, refr("https", "ad.doubleclick.net", "/x", NULL), "paid", "DoubleClick", "");
	/* not a web URI: nothing is set */
	check(e, refr("ftp", "www.google.com", "/", NULL), "", "", "");
	check(e, refr("android-app", "com.google.android.gm", "", NULL), "unknown", "", "");
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(custom_referrers_win)
{
	char *dir;
	struct enrichments *e = load_test_db(&dir,
	    ",\"referrers\":{\"search\":{\"MyDomain\":{\"domains\":[\"acme.com\"],\"parameters\":[\"s\"]}},"
	    "\"social\":{\"NotGoogle\":{\"domains\":[\"google.co.uk\"]}}}");

	check(e, refr("http", "www.acme.com", "", "whatever&s=anvil"), "search", "MyDomain", "anvil");
	check(e, refr("http", "www.google.co.uk", "/", NULL), "social", "NotGoogle", "");
	check(e, refr("http", "www.google.com", "/search", "q=x"), "search", "Google", "x");
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(shipped_database)
{
	char *dir = tdir_new(), err[512], uri[1024], cwd[512];
	struct enrichments *e;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(uri, sizeof(uri), "file://%s/enrichments/data", troot()[0] == '/' ? troot() : cwd);
	e = tload_one(dir, "r.json", conf(uri, "referers.json", ""), err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	check(e, refr("https", "www.google.de", "/search", "q=furrow+pipes"), "search", "Google", "furrow pipes");
	check(e, refr("https", "www.bing.com", "/search", "q=snowplow"), "search", "Bing", "snowplow");
	check(e, refr("https", "duckduckgo.com", "/", "q=c"), "search", "DuckDuckGo", "c");
	check(e, refr("https", "t.co", "/abc", NULL), "social", "Twitter", "");
	check(e, refr("https", "mail.google.com", "/mail/u/0/", NULL), "email", "Gmail", "");
	check(e, refr("https", "example.org", "/", NULL), "unknown", "", "");
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(database_errors)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e;

	e = tload_one(dir, "r.json", conf("file:.", "missing.json", ""), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "r.json: referer database: database "));
	ck_assert_ptr_nonnull(strstr(err, "missing.json: No such file or directory"));
	tfile_write(dir, "corrupt.db", "{\"search\": {\"Google\": ");
	e = tload_one(dir, "r.json", conf("file:.", "corrupt.db", ""), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "corrupt.db: invalid JSON"));
	tfile_write(dir, "medium.db", "{\"carrier-pigeon\": {}}");
	e = tload_one(dir, "r.json", conf("file:.", "medium.db", ""), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "Unrecognized medium: 'carrier-pigeon'"));
	e = tload_one(dir, "r.json", conf("gopher://x/", "medium.db", ""), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "scheme not supported"));
	e = tload_one(dir, "r.json", conf("file:.", "../etc/passwd", ""), err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "plain file name"));
	tdir_rm(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_referer");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, upstream_examples);
	tcase_add_test(tc, path_and_host_lookup_order);
	tcase_add_test(tc, custom_referrers_win);
	tcase_add_test(tc, shipped_database);
	tcase_add_test(tc, database_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
