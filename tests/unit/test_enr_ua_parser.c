/* Unit tests for ua_parser_config: upstream UaParserEnrichmentSpec's contexts (Mobile Safari,
 * Safari, custom rules file, missing rules file), uap-core's own test suites
 * (tests/test_ua.yaml, test_os.yaml, test_device.yaml from the Debian package) run through
 * the parser (the pass rates are printed and must stay at UAP_MIN_PASS_PERCENT), and what makes
 * it fast: the literal prefilter (table-driven, and the same results with and without it on
 * every user agent of the suites), lazy compilation, the rules-file scan against libyaml, the
 * cache and the shared contexts. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "enr_test.h"
#include "../../enrich/enr_ua_literal.h"
#include "../../enrich/enr_ua_parser.h"
#include "../../enrich/enr_ua_rules.h"

#define UAP_DIR "/usr/share/uap-core"
#define UAP_MIN_PASS_PERCENT 100.0

static const char *
regexes_path(void)
{
	const char *e = getenv("FURROW_UAP_REGEXES");

	return e && *e ? e : UAP_DIR "/regexes.yaml";
}

static const char CONF_DEFAULT[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0\","
    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
    "\"enabled\":true,\"parameters\":{}}}";

static char *
context_of(struct enrichments *e, const char *ua)
{
	struct enrich_event *ev = tev_new();
	json_t *failures = json_array();
	char *s;

	tev_set(ev, COL_USERAGENT, ua);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, failures), 0);
	ck_assert_uint_eq(json_array_size(failures), 0);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = json_dumps(json_object_get(json_array_get(ev->derived, 0), "data"), JSON_COMPACT);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev->derived, 0), "schema")),
	    "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0");
	json_decref(failures);
	tev_free(ev);
	return s;
}

START_TEST(upstream_contexts)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e = tload_one(dir, "ua_parser_config.json", CONF_DEFAULT, err, sizeof(err));
	struct enrich_event *ev;
	int i;

	ck_assert_msg(e != NULL, "%s", err);
	for (i = 0; i < 2; i++) {   /* the second round is served by the cache */
		s = context_of(e, "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 "
		    "(KHTML, like Gecko) Version/5.1 Mobile/9B206 Safari/7534.48.3");
		ck_assert_str_eq(s, "{\"useragentFamily\":\"Mobile Safari\",\"useragentMajor\":\"5\","
		    "\"useragentMinor\":\"1\",\"useragentPatch\":null,\"useragentVersion\":\"Mobile Safari 5.1\","
		    "\"osFamily\":\"iOS\",\"osMajor\":\"5\",\"osMinor\":\"1\",\"osPatch\":\"1\",\"osPatchMinor\":null,"
		    "\"osVersion\":\"iOS 5.1.1\",\"deviceFamily\":\"iPhone\"}");
		free(s);
		s = context_of(e, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10) AppleWebKit/600.1.25 "
		    "(KHTML, like Gecko) Version/8.0 Safari/600.1.25");
		ck_assert_str_eq(s, "{\"useragentFamily\":\"Safari\",\"useragentMajor\":\"8\",\"useragentMinor\":\"0\","
		    "\"useragentPatch\":null,\"useragentVersion\":\"Safari 8.0\",\"osFamily\":\"Mac OS X\","
		    "\"osMajor\":\"10\",\"osMinor\":\"10\",\"osPatch\":null,\"osPatchMinor\":null,"
		    "\"osVersion\":\"Mac OS X 10.10\",\"deviceFamily\":\"Mac\"}");
		free(s);
	}
	/* no user agent: no context */
	ev = tev_new();
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_ptr_null(ev->derived);
	tev_free(ev);
	/* an empty one (the header was sent, empty): EnrichmentManager.getUaParser runs on
	 * Option("") and uap-java's Parser.parse("") gives "Other" everywhere (enrich 6.10) */
	ev = tev_new();
	ev->useragent_empty = 1;
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = json_dumps(json_object_get(json_array_get(ev->derived, 0), "data"), JSON_COMPACT);
	ck_assert_str_eq(s, "{\"useragentFamily\":\"Other\",\"useragentMajor\":null,"
	    "\"useragentMinor\":null,\"useragentPatch\":null,\"useragentVersion\":\"Other\","
	    "\"osFamily\":\"Other\",\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,"
	    "\"osPatchMinor\":null,\"osVersion\":\"Other\",\"deviceFamily\":\"Other\"}");
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(custom_rules_file)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e;

	tfile_write(dir, "uap-rules.yml",
	    "user_agent_parsers:\n  - regex: '.*'\n    family_replacement: 'UAP Test Family'\n"
	    "os_parsers:\n  - regex: '.*'\n    os_replacement: 'UAP Test OS'\n"
	    "device_parsers:\n  - regex: '.*'\n    device_replacement: 'UAP Test Device'\n");
	e = tload_one(dir, "ua.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
	    "\"enabled\":true,\"parameters\":{\"uri\":\"file:.\",\"database\":\"uap-rules.yml\"}}}",
	    err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	s = context_of(e, "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X)");
	ck_assert_str_eq(s, "{\"useragentFamily\":\"UAP Test Family\",\"useragentMajor\":null,"
	    "\"useragentMinor\":null,\"useragentPatch\":null,\"useragentVersion\":\"UAP Test Family\","
	    "\"osFamily\":\"UAP Test OS\",\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,"
	    "\"osPatchMinor\":null,\"osVersion\":\"UAP Test OS\",\"deviceFamily\":\"UAP Test Device\"}");
	free(s);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(rules_file_errors)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e;
	static const char conf[] =
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
	    "\"enabled\":true,\"parameters\":{\"uri\":\"file:.\",\"database\":\"rules.yml\"}}}";

	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "ua.json: Failed to initialize ua parser: ["));
	tfile_write(dir, "rules.yml", "user_agent_parsers:\n  - regex: '(unclosed'\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "regex (unclosed"));
	tfile_write(dir, "rules.yml", "user_agent_parsers: [\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "invalid YAML"));
	tfile_write(dir, "rules.yml", "just: a mapping\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "not a uap-core regexes file"));
	tdir_rm(dir);
}
END_TEST

/* ---- the literal prefilter ---- */

/* The requirement of re as "a|b|c" (alternatives in order), "" for none, "ERR" for -1. */
static void
literal_is(const char *re, int caseless, const char *want)
{
	char scratch[1024], got[1024] = "";
	struct ua_literal_set r;
	int i;

	ck_assert_uint_lt(strlen(re), sizeof(scratch));
	if (ua_literal_required(re, caseless, scratch, &r) < 0) {
		ck_assert_msg(!strcmp(want, "ERR"), "%s: malformed, want \"%s\"", re, want);
		return;
	}
	for (i = 0; i < r.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%.*s", i ? "|" : "",
		    (int)r.len[i], r.s[i]);
	ck_assert_msg(!strcmp(got, want), "%s: got \"%s\", want \"%s\"", re, got, want);
}

START_TEST(literal_extraction)
{
	/* runs of literal characters; the longest shortest string wins */
	literal_is("(GeoEvent Server) (\\d+)(?:\\.(\\d+)(?:\\.(\\d+)|)|)", 0, "GeoEvent Server");
	literal_is("com.esri.(earth).phone/(\\d+)", 0, "phone/");
	literal_is("(Firefox)/(\\d+)\\.(\\d+)", 0, "Firefox");
	literal_is("ArcGIS\\.Runtime\\.(Qt)", 0, "ArcGIS.Runtime.");
	literal_is("^(.{0,200})/(\\d+)(?:\\.(\\d+)|) CFNetwork", 0, " CFNetwork");
	/* alternatives: one string from each, or nothing */
	literal_is("(Collector|Explorer|Workforce)-(?:Android|iOS)-(\\d+)", 0, "Collector|Explorer|Workforce");
	literal_is("Opera Mini|OPiOS", 0, "Opera Mini|OPiOS");
	literal_is("(?:Foo|\\d+)Bar", 0, "Bar");
	literal_is("(?:SAMSUNG |)(GT-I9000)", 0, "GT-I9000");
	/* quantifiers: optional items leave the run, repeated ones end it */
	literal_is("Chromex?y", 0, "Chrome");
	literal_is("ab+cd", 0, "ab");
	literal_is("ab*cd", 0, "cd");
	literal_is("ab{0,3}cdef", 0, "cdef");
	literal_is("ab{2}cd", 0, "ab");
	literal_is("(?:Kindle)?Fire", 0, "Fire");
	literal_is("(?:Kindle)*", 0, "");
	literal_is("(?:Kindle){1,2}x", 0, "Kindle");
	literal_is("[Ss]ilk/(\\d+)", 0, "ilk/");
	literal_is("a{,3}Silk", 0, "Silk");    /* a quantifier from PCRE2 10.43 on */
	literal_is("x{ 2 }Silk", 0, "Silk");
	/* case-blind: lower case; escapes of punctuation stand for themselves */
	literal_is("(Nokia)(?:\\-|\\.)SAMSUNG", 1, "nokia|samsung" + 6);
	literal_is("\\(Windows NT\\)", 0, "(Windows NT)");
	/* short strings are useless: no requirement */
	literal_is("a|bc", 0, "");
	literal_is("(\\d+)/", 0, "");
	/* what the scan does not know gives nothing, never something wrong */
	literal_is("(?i)Chrome", 0, "");
	literal_is("\\QChrome\\E", 0, "");
	literal_is("(Chrome)\\1", 0, "");
	literal_is("\\x41BC", 0, "");
	literal_is("[[:alpha:]]Chrome]", 0, "");
	literal_is("(?=Chrome)Chr", 0, "Chr");
	literal_is("(?!Chrome)Safari", 0, "Safari");
	literal_is("(?<name>Chrome)", 0, "Chrome");
	literal_is("Ch\xc3\xa9rome", 0, "rome");
	literal_is("[]x]Chrome", 0, "Chrome");
	/* malformed as far as the scan sees */
	literal_is("(unclosed", 0, "ERR");
	literal_is("closed)", 0, "ERR");
	literal_is("[abc", 0, "ERR");
	literal_is("abc\\", 0, "ERR");
	literal_is("*abc", 0, "ERR");
}
END_TEST

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static char *
parse_str(struct enr_ua_parser *u, int which, const char *ua)
{
	char *out[5], *s;
	int k, rc = enr_ua_parser_parse_one(u, which, ua, strlen(ua), out);

	if (rc < 0)
		return strdup("ERROR");
	ck_assert_int_eq(asprintf(&s, "%s|%s|%s|%s|%s", out[0], out[1] ? out[1] : "-",
	    out[2] ? out[2] : "-", out[3] ? out[3] : "-", out[4] ? out[4] : "-") > 0, 1);
	for (k = 0; k < 5; k++)
		free(out[k]);
	return s;
}

#define PARSE_IS(u, which, ua, want) do { \
	char *got_ = parse_str(u, which, ua); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

START_TEST(prefilter_unicode_caseless)
{
	char *dir = tdir_new(), path[4096], err[512];
	struct enr_ua_parser *u;

	/* with UTF and case-blind, PCRE2 matches k to U+212A KELVIN SIGN and s to U+017F */
	write_file(dir, "r.yaml",
	    "user_agent_parsers:\n"
	    "  - regex: '(kindle)/(\\d+)'\n    regex_flag: 'i'\n"
	    "  - regex: '(Silk)/(\\d+)'\n    regex_flag: 'i'\n"
	    "  - regex: '(Silk)/(\\d+)'\n    family_replacement: 'Exact Silk'\n");
	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	ck_assert_msg((u = enr_ua_parser_load(path, err, sizeof(err))) != NULL, "%s", err);
	PARSE_IS(u, 0, "x KINDLE/3", "KINDLE|3|-|-|-");
	PARSE_IS(u, 0, "x \xe2\x84\xaaindle/3", "\xe2\x84\xaaindle|3|-|-|-");
	PARSE_IS(u, 0, "x \xc5\xbfilk/4", "\xc5\xbfilk|4|-|-|-");
	PARSE_IS(u, 0, "x sILK/5", "sILK|5|-|-|-");
	PARSE_IS(u, 0, "x Kindl/5", "Other|-|-|-|-");
	/* invalid UTF-8 around a match */
	PARSE_IS(u, 0, "\xff\xfe Kindle/6 \xc3", "Kindle|6|-|-|-");
	enr_ua_parser_free(u);
	tdir_rm(dir);
}
END_TEST

START_TEST(lazy_compile)
{
	char *dir = tdir_new(), path[4096], err[512];
	struct enr_ua_parser *u;
	struct enrichments *e;
	struct enrich_event *ev;
	json_t *failures;

	/* "Bar{2,1}" passes the load-time scan; PCRE2 refuses it when a user agent reaches it */
	write_file(dir, "r.yaml",
	    "user_agent_parsers:\n"
	    "  - regex: '(Foo)/(\\d+)'\n"
	    "  - regex: '(Bar{2,1})'\n"
	    "  - regex: '(Qux)/(\\d+)'\n");
	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	ck_assert_msg((u = enr_ua_parser_load(path, err, sizeof(err))) != NULL, "%s", err);
	PARSE_IS(u, 0, "Foo/1 Bar", "Foo|1|-|-|-");        /* matched before */
	PARSE_IS(u, 0, "Qux/2", "Qux|2|-|-|-");            /* skipped by the prefilter */
	PARSE_IS(u, 0, "Bar Qux/2", "ERROR");
	PARSE_IS(u, 0, "Bar Qux/2", "ERROR");              /* and again */
	ck_assert_int_eq(enr_ua_parser_compile_all(u, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "regex (Bar{2,1}): "));
	enr_ua_parser_free(u);

	/* in the enrichment: the event gets a failure */
	e = tload_one(dir, "ua.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
	    "\"enabled\":true,\"parameters\":{\"uri\":\"file:.\",\"database\":\"r.yaml\"}}}",
	    err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	ev = tev_new();
	failures = json_array();
	tev_set(ev, COL_USERAGENT, "Bar");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, failures), -1);
	ck_assert_uint_eq(json_array_size(failures), 1);
	ck_assert_ptr_null(ev->derived);
	json_decref(failures);
	tev_free(ev);
	enrichments_free(e);

	/* the default rules all compile */
	if (access(regexes_path(), R_OK) == 0) {
		ck_assert_msg((u = enr_ua_parser_load(regexes_path(), err, sizeof(err))) != NULL, "%s", err);
		ck_assert_msg(enr_ua_parser_compile_all(u, err, sizeof(err)) == 0, "%s", err);
		enr_ua_parser_free(u);
	}
	tdir_rm(dir);
}
END_TEST

static int
count_cb(void *arg, int which, size_t index, const struct ua_rules_kv *kv, size_t n, char *err,
    size_t errlen)
{
	(void)which; (void)index; (void)kv; (void)n; (void)err; (void)errlen;
	(*(int *)arg)++;
	return 0;
}

/* How the scan takes text: 1 read, 0 left to libyaml, and the same rules as libyaml's. */
static int
scanned(const char *text)
{
	static const char *const names[3] = { "user_agent_parsers", "os_parsers", "device_parsers" };
	char err[512], err2[512];
	struct enr_ua_parser *a, *b;
	unsigned seen;
	int n = 0, rc;
	char *da, *db;

	rc = ua_rules_read(text, strlen(text), UA_RULES_SCAN, names, 3, count_cb, &n, &seen, err,
	    sizeof(err));
	if (rc == UA_RULES_NOT_SCANNED)
		return 0;
	a = enr_ua_parser_load_buf(text, strlen(text), 2, err, sizeof(err));
	b = enr_ua_parser_load_buf(text, strlen(text), 1, err2, sizeof(err2));
	ck_assert_msg((a == NULL) == (b == NULL), "%s: scan %s, libyaml %s", text,
	    a ? "ok" : err, b ? "ok" : err2);
	if (a == NULL) {
		ck_assert_str_eq(err, err2);
		return 1;
	}
	da = enr_ua_parser_dump(a);
	db = enr_ua_parser_dump(b);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
	enr_ua_parser_free(a);
	enr_ua_parser_free(b);
	return 1;
}

START_TEST(rules_scan_vs_libyaml)
{
	char err[512], err2[512];
	struct enr_ua_parser *a, *b;
	char *buf, *da, *db;
	size_t len;

	/* the real file: the scan reads it, with libyaml's result */
	if (access(regexes_path(), R_OK) == 0) {
		ck_assert_ptr_nonnull(buf = enr_read_file(regexes_path(), 64 << 20, &len, err, sizeof(err)));
		ck_assert_msg((a = enr_ua_parser_load_buf(buf, len, 2, err, sizeof(err))) != NULL, "%s", err);
		ck_assert_msg((b = enr_ua_parser_load_buf(buf, len, 1, err2, sizeof(err2))) != NULL, "%s", err2);
		da = enr_ua_parser_dump(a);
		db = enr_ua_parser_dump(b);
		ck_assert_uint_gt(strlen(da), 100000);
		ck_assert_str_eq(da, db);
		free(da);
		free(db);
		enr_ua_parser_free(a);
		enr_ua_parser_free(b);
		free(buf);
	}
	/* the subset */
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a(b)c'\n"), 1);
	ck_assert_int_eq(scanned("# c\nuser_agent_parsers: # c\n\n  # c\n  - regex: 'x''y' # c\n"
	    "    family_replacement: 'F $1'   \n      # c\nos_parsers:\n- regex: 'o'\n  os_replacement: '\tO'\n"
	    "other:\n  - x: 'y'\n"), 1);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'Seznam prohl\xc3\xad\xc5\xbe\x65\xc4\x8d'\n"), 1);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a'\n    regex: 'b'\n    v1_replacement: '1'\n"
	    "    v1_replacement: '2'\n"), 1);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex_flag: 'i'\n"), 1);   /* no regex: same error */
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: '(x'\n"), 1);        /* same compile error */
	ck_assert_int_eq(scanned("os_parsers:\n  - regex: 'x'\n"), 1);                 /* no user_agent_parsers */
	/* outside it: libyaml decides */
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: \"a\"\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: a\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\r\n  - regex: 'a'\r\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a\n    b'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  -  regex: 'a'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a'\n   family_replacement: 'b'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a'\n - regex: 'b'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a'#c\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a'\nuser_agent_parsers:\n  - regex: 'b'\n"), 0);
	ck_assert_int_eq(scanned("---\nuser_agent_parsers:\n  - regex: 'a'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\nos_parsers:\n  - regex: 'a'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a\xc2\x85'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a\x01'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n  - regex: 'a\xc3'\n"), 0);
	ck_assert_int_eq(scanned("user_agent_parsers:\n\t- regex: 'a'\n"), 0);
	ck_assert_int_eq(scanned(""), 0);
	/* a repeated list is an error (it used to overrun the list) */
	a = enr_ua_parser_load_buf("user_agent_parsers:\n  - regex: 'a'\nuser_agent_parsers:\n  - regex: 'b'\n",
	    70, 0, err, sizeof(err));
	ck_assert_ptr_null(a);
	ck_assert_str_eq(err, "user_agent_parsers: appears twice");
}
END_TEST

START_TEST(cache_and_shared_contexts)
{
	char err[512], ua[64];
	json_t *conf = json_pack("{s:{}}", "parameters");
	struct enr_ctx ctx = { "ua.json", ".",
	    "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0", conf };
	struct enr_ua_parser *u;
	json_t *c1, *c2, *c3;
	int i;

	/* the module's own load: with its cache and shared contexts */
	u = enr_ua_parser.load(&ctx, err, sizeof(err));
	ck_assert_msg(u != NULL, "%s", err);
	/* a hit gives the same entity; user agents that parse alike share one */
	c1 = enr_ua_parser_context(u, "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
	c2 = enr_ua_parser_context(u, "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
	c3 = enr_ua_parser_context(u, "Mozilla/5.0 (X11; Linux i686; rv:120.0) Gecko/20100101 Firefox/120.0");
	ck_assert_ptr_eq(c1, c2);
	ck_assert_ptr_eq(c1, c3);
	json_decref(c2);
	json_decref(c3);
	/* more user agents than the cache holds: every answer still right */
	for (i = 0; i < 40000; i++) {
		json_t *c, *d;
		snprintf(ua, sizeof(ua), "Mozilla/5.0 Firefox/%d.%d", i % 200, i);
		c = enr_ua_parser_context(u, ua);
		ck_assert_ptr_nonnull(c);
		d = json_object_get(c, "data");
		ck_assert_str_eq(json_string_value(json_object_get(d, "useragentFamily")), "Firefox");
		ck_assert_int_eq(atoi(json_string_value(json_object_get(d, "useragentMajor"))), i % 200);
		ck_assert_int_eq(atoi(json_string_value(json_object_get(d, "useragentMinor"))), i);
		json_decref(c);
	}
	c2 = enr_ua_parser_context(u, "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
	ck_assert(json_equal(c1, c2));
	json_decref(c1);
	json_decref(c2);
	enr_ua_parser.free(u);
	json_decref(conf);
}
END_TEST

/* ---- uap-core's own suites ---- */

static const char *
node_str(yaml_document_t *d, yaml_node_t *m, const char *key, int *present)
{
	yaml_node_pair_t *p;

	*present = 0;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key)) {
			*present = 1;
			if (v->type != YAML_SCALAR_NODE)
				return NULL;
			/* an empty plain scalar is YAML's null */
			if (v->data.scalar.length == 0 && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				return NULL;
			return (const char *)v->data.scalar.value;
		}
	}
	return NULL;
}

static int
same(const char *want, const char *got)
{
	if (want == NULL || got == NULL)
		return want == got;
	return !strcmp(want, got);
}

/* Run one suite; returns the pass percentage and prints the first few failures. */
static double
run_suite(struct enr_ua_parser *u, const char *file, int which, const char *const keys[5],
    int nkeys)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *cases = NULL;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	long total = 0, ok = 0, shown = 0;
	FILE *f = fopen(file, "rb");

	ck_assert_msg(f != NULL, "cannot open %s", file);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	ck_assert_int_eq(yaml_parser_load(&parser, &doc), 1);
	root = yaml_document_get_root_node(&doc);
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
		if (!strcmp((char *)yaml_document_get_node(&doc, p->key)->data.scalar.value, "test_cases"))
			cases = yaml_document_get_node(&doc, p->value);
	ck_assert_ptr_nonnull(cases);
	for (it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
		yaml_node_t *c = yaml_document_get_node(&doc, *it);
		int present, k, good = 1;
		const char *ua = node_str(&doc, c, "user_agent_string", &present);
		char *out[5];

		if (ua == NULL)
			continue;
		total++;
		enr_ua_parser_parse_one(u, which, ua, strlen(ua), out);
		for (k = 0; k < nkeys; k++) {
			const char *want = node_str(&doc, c, keys[k], &present);
			if (present && !same(want, out[k]))
				good = 0;
		}
		if (good)
			ok++;
		else if (shown++ < 5)
			printf("uap-core %s mismatch: %s -> %s|%s|%s|%s|%s\n", file + strlen(UAP_DIR) + 7, ua,
			    out[0], out[1] ? out[1] : "null", out[2] ? out[2] : "null",
			    out[3] ? out[3] : "null", out[4] ? out[4] : "null");
		for (k = 0; k < 5; k++)
			free(out[k]);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	printf("uap-core %s: %ld/%ld passed (%.2f%%)\n", file + strlen(UAP_DIR) + 7, ok, total,
	    total ? 100.0 * (double)ok / (double)total : 0);
	return total ? 100.0 * (double)ok / (double)total : 0;
}

/* The user agents of a suite file, parsed on every list with and without the prefilter. */
static void
same_without_prefilter(struct enr_ua_parser *u, struct enr_ua_parser *plain, const char *file,
    int step)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *cases = NULL;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	FILE *f = fopen(file, "rb");
	long i = 0, n = 0;

	ck_assert_ptr_nonnull(f);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	ck_assert_int_eq(yaml_parser_load(&parser, &doc), 1);
	root = yaml_document_get_root_node(&doc);
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
		if (!strcmp((char *)yaml_document_get_node(&doc, p->key)->data.scalar.value, "test_cases"))
			cases = yaml_document_get_node(&doc, p->value);
	ck_assert_ptr_nonnull(cases);
	for (it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++, i++) {
		int present, which;
		const char *ua = node_str(&doc, yaml_document_get_node(&doc, *it), "user_agent_string",
		    &present);
		if (ua == NULL || i % step)
			continue;
		for (which = 0; which < 3; which++) {
			char *a = parse_str(u, which, ua), *b = parse_str(plain, which, ua);
			ck_assert_msg(!strcmp(a, b), "%s (list %d): %s with the prefilter, %s without", ua,
			    which, a, b);
			free(a);
			free(b);
		}
		n++;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	printf("uap-core %s: %ld user agents alike with and without the prefilter\n",
	    file + strlen(UAP_DIR) + 7, n);
}

START_TEST(prefilter_changes_nothing)
{
	char err[512];
	struct enr_ua_parser *u, *plain;

	if (access(UAP_DIR "/tests/test_ua.yaml", R_OK) != 0) {
		printf("uap-core test suites not installed (apt-get install uap-core): skipped\n");
		return;
	}
	ck_assert_msg((u = enr_ua_parser_load(regexes_path(), err, sizeof(err))) != NULL, "%s", err);
	ck_assert_msg((plain = enr_ua_parser_load(regexes_path(), err, sizeof(err))) != NULL, "%s", err);
	enr_ua_parser_set_prefilter(plain, 0);
	same_without_prefilter(u, plain, UAP_DIR "/tests/test_ua.yaml", 1);
	same_without_prefilter(u, plain, UAP_DIR "/tests/test_os.yaml", 1);
	/* 16,000 device cases: every 8th, to keep the test short (the suite checks them all) */
	same_without_prefilter(u, plain, UAP_DIR "/tests/test_device.yaml", 8);
	enr_ua_parser_free(u);
	enr_ua_parser_free(plain);
}
END_TEST

START_TEST(uap_core_suites)
{
	static const char *const ua_keys[5] = { "family", "major", "minor", "patch", NULL };
	static const char *const os_keys[5] = { "family", "major", "minor", "patch", "patch_minor" };
	static const char *const dev_keys[5] = { "family", "brand", "model", NULL, NULL };
	char err[512];
	struct enr_ua_parser *u;
	double a, b, c;

	if (access(UAP_DIR "/tests/test_ua.yaml", R_OK) != 0) {
		printf("uap-core test suites not installed (apt-get install uap-core): skipped\n");
		return;
	}
	u = enr_ua_parser_load(regexes_path(), err, sizeof(err));
	ck_assert_msg(u != NULL, "%s", err);
	a = run_suite(u, UAP_DIR "/tests/test_ua.yaml", 0, ua_keys, 4);
	b = run_suite(u, UAP_DIR "/tests/test_os.yaml", 1, os_keys, 5);
	c = run_suite(u, UAP_DIR "/tests/test_device.yaml", 2, dev_keys, 3);
	enr_ua_parser_free(u);
	ck_assert_msg(a >= UAP_MIN_PASS_PERCENT, "test_ua.yaml pass rate %.2f%%", a);
	ck_assert_msg(b >= UAP_MIN_PASS_PERCENT, "test_os.yaml pass rate %.2f%%", b);
	ck_assert_msg(c >= UAP_MIN_PASS_PERCENT, "test_device.yaml pass rate %.2f%%", c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_ua_parser");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, upstream_contexts);
	tcase_add_test(tc, custom_rules_file);
	tcase_add_test(tc, rules_file_errors);
	tcase_add_test(tc, literal_extraction);
	tcase_add_test(tc, prefilter_unicode_caseless);
	tcase_add_test(tc, lazy_compile);
	tcase_add_test(tc, rules_scan_vs_libyaml);
	tcase_add_test(tc, cache_and_shared_contexts);
	tcase_add_test(tc, uap_core_suites);
	tcase_add_test(tc, prefilter_changes_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
