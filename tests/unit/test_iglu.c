/* Unit tests for common/iglu: schema keys and criteria (IGLU-CORE), embedded lookups, the
 * wrappers of enriched-event.md §15.5, ClientError shapes (§14.6), cache size and TTL with a
 * fake clock, negative caching, resolver-config parsing and errors (§15.2), repository order
 * (§15.3), and the embedded registry itself: every file in schemas/ is a valid self-describing
 * schema whose `self` matches its path. HTTP registries are tested in
 * tests/integration/iglu_http.sh. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iglu.h"

static const char *
schemas_dir(void)
{
	const char *d = getenv("FURROW_SCHEMAS");

	return d ? d : "schemas";
}

/* ---------- keys ---------- */

static const struct {
	const char *uri;
	const char *code;   /* NULL: valid */
	const char *vendor, *name, *format;
	int m, r, a;
} KEYS[] = {
	{ "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", NULL,
	  "com.snowplowanalytics.snowplow", "web_page", "jsonschema", 1, 0, 0 },
	{ "iglu:com.acme-x_y/a_b-c/jsonschema/12-30-401", NULL, "com.acme-x_y", "a_b-c",
	  "jsonschema", 12, 30, 401 },
	{ "iglu:com.acme/x/thrift/1-0-0", NULL, "com.acme", "x", "thrift", 1, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/0-1-0", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-01-0", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/01-0-0", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1--0", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-0-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-0-a", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x.y/jsonschema/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com acme/x/jsonschema/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:/x/jsonschema/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "com.acme/x/jsonschema/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-0-0/", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
};

START_TEST(key_parse_table)
{
	struct iglu_key k;
	const char *code = "unset";
	int rc = iglu_key_parse(KEYS[_i].uri, &k, &code);
	char out[600];

	if (KEYS[_i].code == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", KEYS[_i].uri, code);
		ck_assert_str_eq(k.vendor, KEYS[_i].vendor);
		ck_assert_str_eq(k.name, KEYS[_i].name);
		ck_assert_str_eq(k.format, KEYS[_i].format);
		ck_assert_int_eq(k.model, KEYS[_i].m);
		ck_assert_int_eq(k.revision, KEYS[_i].r);
		ck_assert_int_eq(k.addition, KEYS[_i].a);
		ck_assert_str_eq(iglu_key_format(&k, out, sizeof(out)), KEYS[_i].uri);
	} else {
		ck_assert_msg(rc == -1, "%s parsed", KEYS[_i].uri);
		ck_assert_str_eq(code, KEYS[_i].code);
	}
}
END_TEST

START_TEST(criteria)
{
	struct iglu_key k;

	ck_assert_int_eq(iglu_key_parse("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
	    &k, NULL), 0);
	ck_assert(iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*"));
	ck_assert(iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-*-*"));
	ck_assert(iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/*-*-*"));
	ck_assert(iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/2-0-*"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/thrift/1-0-*"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/context/jsonschema/1-0-*"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics/contexts/jsonschema/1-0-*"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-01"));
	ck_assert(!iglu_key_matches(&k, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-**"));
}
END_TEST

/* ---------- embedded lookups and validation ---------- */

static struct iglu_key
key(const char *uri)
{
	struct iglu_key k;

	ck_assert_msg(iglu_key_parse(uri, &k, NULL) == 0, "%s", uri);
	return k;
}

static int
validate_text(struct iglu_resolver *r, const char *uri, const char *data, json_t **err)
{
	struct iglu_key k = key(uri);
	json_t *j = json_loads(data, JSON_DECODE_ANY, NULL);
	int rc;

	ck_assert_msg(j != NULL, "%s", data);
	rc = iglu_validate(r, &k, j, err);
	json_decref(j);
	return rc;
}

START_TEST(embedded_wrappers)
{
	char err[256];
	struct iglu_resolver *r = iglu_resolver_new(NULL, schemas_dir(), err, sizeof(err));
	json_t *ce = NULL;
	const char *ctx = "[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{}}]";

	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
	    ctx, &ce), 0);
	ck_assert_ptr_null(ce);
	/* an empty list violates 1-0-0 (minItems 1) but not 1-0-1 */
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
	    "[]", &ce), -1);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ValidationError");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(ce, "dataReports"), 0), "keyword")), "minItems");
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
	    "[]", &ce), 0);
	/* entity URIs with a 0 model pass the wrapper's pattern */
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
	    "[{\"schema\":\"iglu:com.acme/x/jsonschema/0-0-0\",\"data\":1}]", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
	    "[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":1,\"extra\":2}]", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
	    "{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\":1}}", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
	    "{\"schema\":\"not-iglu\",\"data\":{}}", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
	    "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"js-3.0.0\",\"ttm\":\"1\"}]", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-3",
	    "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"js-3.0.0\",\"ttm\":\"1\"}]", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-0",
	    "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":1}]", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-0",
	    "[{\"e\":\"pv\",\"p\":\"web\"}]", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
	    "{\"uri\":\"https://example.com/x?y=1\"}", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
	    "{\"uri\":\"not a uri\"}", &ce), -1);
	json_decref(ce);
	iglu_resolver_free(r);
}
END_TEST

START_TEST(unknown_schema_resolution_error)
{
	char err[256];
	struct iglu_resolver *r = iglu_resolver_new(NULL, schemas_dir(), err, sizeof(err));
	struct iglu_key k = key("iglu:com.acme/nothing/jsonschema/1-0-0");
	json_t *ce = NULL, *h;

	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ResolutionError");
	h = json_array_get(json_object_get(ce, "lookupHistory"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(h, "repository")), "Iglu Client Embedded");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(h, "errors"), 0),
	    "error")), "NotFound");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "attempts")), 1);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(h, "lastAttempt"))), 24);
	json_decref(ce);
	/* cached: the attempt count does not grow (embedded repositories are never retried) */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	h = json_array_get(json_object_get(ce, "lookupHistory"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "attempts")), 1);
	json_decref(ce);
	iglu_resolver_free(r);
}
END_TEST

/* Every file under schemas/ is a valid self-describing schema at the path its self names. */
static int n_checked;

static int
check_schema_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	json_t *j, *self, *issues = NULL;
	char want[1024];
	const char *rel;
	size_t root = strlen(schemas_dir());

	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	j = json_load_file(path, 0, NULL);
	ck_assert_msg(j != NULL, "%s: not JSON", path);
	ck_assert_msg(jsonschema_check_self_describing(j, &issues) == 1, "%s: %s", path,
	    issues ? json_dumps(issues, 0) : "?");
	self = json_object_get(j, "self");
	snprintf(want, sizeof(want), "%s/%s/%s/%s", json_string_value(json_object_get(self, "vendor")),
	    json_string_value(json_object_get(self, "name")),
	    json_string_value(json_object_get(self, "format")),
	    json_string_value(json_object_get(self, "version")));
	rel = path + root;
	while (*rel == '/')
		rel++;
	ck_assert_msg(strcmp(rel, want) == 0, "%s holds %s", path, want);
	ck_assert_str_eq(json_string_value(json_object_get(j, "$schema")),
	    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#");
	json_decref(j);
	n_checked++;
	return 0;
}

START_TEST(registry_schemas_are_self_describing)
{
	n_checked = 0;
	ck_assert_int_eq(nftw(schemas_dir(), check_schema_cb, 16, FTW_PHYS), 0);
	ck_assert_int_ge(n_checked, 14);
}
END_TEST

/* ---------- resolver configuration, cache, order ---------- */

static char tmpdir[256];

static void
write_file(const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_file(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	unlink(path);
}

static void
setup_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/furrow-iglu-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown_tmp(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

#define SELF(v, n, ver) \
	"{\"$schema\":\"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#\"," \
	"\"self\":{\"vendor\":\"" v "\",\"name\":\"" n "\",\"format\":\"jsonschema\",\"version\":\"" ver "\"},"

static int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static char *
config(const char *cache, const char *repos)
{
	static char text[4096];

	snprintf(text, sizeof(text), "{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/"
	    "jsonschema/1-0-3\",\"data\":{%s,\"repositories\":[%s]}}", cache, repos);
	return text;
}

#define LOCAL_REPO \
	"{\"name\":\"Local\",\"priority\":0,\"vendorPrefixes\":[\"com.acme\"]," \
	"\"connection\":{\"embedded\":{\"path\":\"reg\"}}}"

static struct iglu_resolver *
resolver_with(const char *cfg)
{
	char err[300], path[512];
	struct iglu_resolver *r;

	write_file("resolver.json", cfg);
	snprintf(path, sizeof(path), "%s/resolver.json", tmpdir);
	r = iglu_resolver_new(path, schemas_dir(), err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	iglu_resolver_set_clock(r, fake_clock, NULL);
	return r;
}

START_TEST(ttl_and_negative_cache)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	/* relative embedded path: relative to the resolver file's directory */
	r = resolver_with(config("\"cacheSize\":10,\"cacheTtl\":60", LOCAL_REPO));
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_uint_eq(json_array_size(json_object_get(ce, "lookupHistory")), 2);
	json_decref(ce);
	write_file("reg/schemas/com.acme/thing/jsonschema/1-0-0",
	    SELF("com.acme", "thing", "1-0-0") "\"type\":\"object\",\"required\":[\"id\"]}");
	/* NotFound is cached until cacheTtl */
	fake_now += 59000;
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	fake_now += 2000;
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_ptr_null(ce);
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/thing/jsonschema/1-0-0", "{\"id\":1}", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/thing/jsonschema/1-0-0", "{}", &ce), -1);
	json_decref(ce);
	/* a found schema stays cached until cacheTtl, then is looked up again */
	remove_file("reg/schemas/com.acme/thing/jsonschema/1-0-0");
	fake_now += 30000;
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	fake_now += 31000;
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(ttl_refresh_keeps_compiled)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	const struct jsonschema *a, *b;

	setup_tmp();
	fake_now = 1700000000000LL;
	write_file("reg/schemas/com.acme/thing/jsonschema/1-0-0",
	    SELF("com.acme", "thing", "1-0-0") "\"type\":\"object\"}");
	r = resolver_with(config("\"cacheSize\":10,\"cacheTtl\":1", LOCAL_REPO));
	a = iglu_resolver_lookup(r, &k, NULL);
	fake_now += 5000;
	b = iglu_resolver_lookup(r, &k, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(cache_size_lru)
{
	struct iglu_resolver *r;
	struct iglu_key a = key("iglu:com.acme/a/jsonschema/1-0-0"),
	    b = key("iglu:com.acme/b/jsonschema/1-0-0"), c = key("iglu:com.acme/c/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	write_file("reg/schemas/com.acme/a/jsonschema/1-0-0", SELF("com.acme", "a", "1-0-0") "\"type\":\"object\"}");
	write_file("reg/schemas/com.acme/b/jsonschema/1-0-0", SELF("com.acme", "b", "1-0-0") "\"type\":\"object\"}");
	write_file("reg/schemas/com.acme/c/jsonschema/1-0-0", SELF("com.acme", "c", "1-0-0") "\"type\":\"object\"}");
	r = resolver_with(config("\"cacheSize\":2,\"cacheTtl\":null", LOCAL_REPO));
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &a, NULL));
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &b, NULL));
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &a, NULL));   /* a is now most recent */
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &c, NULL));   /* evicts b */
	remove_file("reg/schemas/com.acme/a/jsonschema/1-0-0");
	remove_file("reg/schemas/com.acme/b/jsonschema/1-0-0");
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &a, NULL));   /* still cached */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &b, &ce));      /* fetched again: gone */
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(invalid_schema_gives_schema_issues)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/broken/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	write_file("reg/schemas/com.acme/broken/jsonschema/1-0-0", "{\"type\":\"object\"}");
	r = resolver_with(config("\"cacheSize\":10", LOCAL_REPO));
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/broken/jsonschema/1-0-0", "{}", &ce), -1);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ValidationError");
	ck_assert_uint_ge(json_array_size(json_object_get(ce, "schemaIssues")), 1);
	json_decref(ce);
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_ptr_nonnull(json_object_get(ce, "schemaIssues"));
	json_decref(ce);
	/* garbage in an embedded registry: RepoFailure */
	write_file("reg/schemas/com.acme/garbage/jsonschema/1-0-0", "{not json");
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/garbage/jsonschema/1-0-0", "{}", &ce), -1);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ResolutionError");
	ck_assert_ptr_nonnull(strstr(json_dumps(ce, 0), "RepoFailure"));
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(iglu_refs_between_schemas)
{
	struct iglu_resolver *r;
	json_t *ce = NULL;

	setup_tmp();
	write_file("reg/schemas/com.acme/inner/jsonschema/1-0-0",
	    SELF("com.acme", "inner", "1-0-0") "\"type\":\"object\",\"required\":[\"id\"]}");
	write_file("reg/schemas/com.acme/outer/jsonschema/1-0-0",
	    SELF("com.acme", "outer", "1-0-0") "\"properties\":{\"in\":"
	    "{\"$ref\":\"iglu:com.acme/inner/jsonschema/1-0-0\"}}}");
	r = resolver_with(config("\"cacheSize\":10", LOCAL_REPO));
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/outer/jsonschema/1-0-0", "{\"in\":{\"id\":1}}", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/outer/jsonschema/1-0-0", "{\"in\":{}}", &ce), -1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(ce, "dataReports"), 0), "path")), "$.in");
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(repository_order)
{
	struct iglu_resolver *r;
	const char *names[8];
	size_t n;

	setup_tmp();
	r = resolver_with(config("\"cacheSize\":10",
	    "{\"name\":\"Central\",\"priority\":0,\"vendorPrefixes\":[\"com.snowplowanalytics\"],"
	    "\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:9/\"}}},"
	    "{\"name\":\"Server\",\"priority\":1,\"vendorPrefixes\":[],"
	    "\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:9/api\",\"apikey\":\"k\"}}},"
	    "{\"name\":\"Acme HTTP\",\"priority\":5,\"vendorPrefixes\":[\"com.acme\"],"
	    "\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:9\"}}},"
	    "{\"name\":\"Acme low\",\"priority\":0,\"vendorPrefixes\":[\"com.ac\"],"
	    "\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:9\"}}},"
	    LOCAL_REPO));
	n = iglu_resolver_order(r, "com.acme", names, 8);
	ck_assert_uint_eq(n, 6);
	/* vendor-matched first (embedded before HTTP, then priority), then the rest */
	ck_assert_str_eq(names[0], "Local");
	ck_assert_str_eq(names[1], "Acme low");
	ck_assert_str_eq(names[2], "Acme HTTP");
	ck_assert_str_eq(names[3], "Iglu Client Embedded");
	ck_assert_str_eq(names[4], "Central");
	ck_assert_str_eq(names[5], "Server");
	n = iglu_resolver_order(r, "com.snowplowanalytics.snowplow", names, 8);
	ck_assert_str_eq(names[0], "Central");
	ck_assert_str_eq(names[1], "Iglu Client Embedded");
	ck_assert_str_eq(names[2], "Local");
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(config_errors)
{
	static const char *const bad[] = {
		"{not json",
		"{\"schema\":\"iglu:com.acme/resolver-config/jsonschema/1-0-0\",\"data\":{\"cacheSize\":1,\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/2-0-0\",\"data\":{\"cacheSize\":1,\"repositories\":[]}}",
		"{\"data\":{\"cacheSize\":1,\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"cacheTtl\":-1,\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-2\",\"data\":{\"cacheSize\":1,\"cacheTtl\":0,\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"cacheTtl\":\"x\",\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0\",\"data\":{\"cacheSize\":1,\"repositories\":[{\"name\":\"a\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"http\":{\"uri\":\"http://x\",\"apikey\":\"k\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"repositories\":[{\"name\":\"a\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"repositories\":[{\"name\":\"a\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"http\":{\"uri\":\"http://x\"},\"embedded\":{\"path\":\"y\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"repositories\":[{\"name\":\"a\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"http\":{\"uri\":\"ftp://x\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"repositories\":[{\"name\":\"a\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"embedded\":{\"path\":\"y\"}}},{\"name\":\"a\",\"priority\":1,\"vendorPrefixes\":[],\"connection\":{\"embedded\":{\"path\":\"z\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":1,\"repositories\":[],\"extra\":1}}",
	};
	size_t i;
	char err[300], path[512];

	setup_tmp();
	snprintf(path, sizeof(path), "%s/resolver.json", tmpdir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct iglu_resolver *r;

		write_file("resolver.json", bad[i]);
		err[0] = 0;
		r = iglu_resolver_new(path, schemas_dir(), err, sizeof(err));
		ck_assert_msg(r == NULL, "config %zu accepted", i);
		ck_assert_msg(err[0] != 0, "config %zu: no message", i);
	}
	ck_assert_ptr_null(iglu_resolver_new("/nonexistent/resolver.json", schemas_dir(), err, sizeof(err)));
	ck_assert_ptr_null(iglu_resolver_new(NULL, "/nonexistent/dir", err, sizeof(err)));
	teardown_tmp();
}
END_TEST

START_TEST(config_versions_accepted)
{
	static const char *const good[] = {
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0\",\"data\":{\"cacheSize\":500,\"repositories\":[{\"name\":\"Iglu Central\",\"priority\":0,\"vendorPrefixes\":[\"com.snowplowanalytics\"],\"connection\":{\"http\":{\"uri\":\"http://iglucentral.com\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1\",\"data\":{\"cacheSize\":500,\"repositories\":[{\"name\":\"S\",\"priority\":1,\"vendorPrefixes\":[],\"connection\":{\"http\":{\"uri\":\"http://iglu:8081/api\",\"apikey\":\"abc\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-2\",\"data\":{\"cacheSize\":500,\"cacheTtl\":600,\"repositories\":[]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":0,\"cacheTtl\":0,\"repositories\":[{\"name\":\"L\",\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"embedded\":{\"path\":\"/tmp\"}}}]}}",
		"{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\",\"data\":{\"cacheSize\":5,\"cacheTtl\":null,\"repositories\":[]}}",
	};
	size_t i;
	char err[300], path[512];

	setup_tmp();
	snprintf(path, sizeof(path), "%s/resolver.json", tmpdir);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct iglu_resolver *r;

		write_file("resolver.json", good[i]);
		r = iglu_resolver_new(path, schemas_dir(), err, sizeof(err));
		ck_assert_msg(r != NULL, "config %zu: %s", i, err);
		iglu_resolver_free(r);
	}
	teardown_tmp();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("iglu");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, key_parse_table, 0, (int)(sizeof(KEYS) / sizeof(KEYS[0])));
	tcase_add_test(tc, criteria);
	tcase_add_test(tc, embedded_wrappers);
	tcase_add_test(tc, unknown_schema_resolution_error);
	tcase_add_test(tc, registry_schemas_are_self_describing);
	tcase_add_test(tc, ttl_and_negative_cache);
	tcase_add_test(tc, ttl_refresh_keeps_compiled);
	tcase_add_test(tc, cache_size_lru);
	tcase_add_test(tc, invalid_schema_gives_schema_issues);
	tcase_add_test(tc, iglu_refs_between_schemas);
	tcase_add_test(tc, repository_order);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_versions_accepted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
