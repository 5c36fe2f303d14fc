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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

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
	/* SchemaVer.parseFull: m.toInt, so a part up to Integer.MAX_VALUE is a version ... */
	{ "iglu:com.acme/x/jsonschema/2147483647-0-2147483647", NULL, "com.acme", "x", "jsonschema",
	  2147483647, 0, 2147483647 },
	/* ... and one more is a NumberFormatException, i.e. InvalidSchemaVer */
	{ "iglu:com.acme/x/jsonschema/1-0-2147483648", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/1-0-00", "INVALID_SCHEMAVER", NULL, NULL, NULL, 0, 0, 0 },
	/* the vendor class [a-zA-Z0-9-_.]+ admits "..": the resolver refuses to fetch it instead */
	{ "iglu:../x/jsonschema/1-0-0", NULL, "..", "x", "jsonschema", 1, 0, 0 },
	{ "iglu:com.acme/x/json.schema/1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
	{ "iglu:com.acme/x/jsonschema/ 1-0-0", "INVALID_IGLUURI", NULL, NULL, NULL, 0, 0, 0 },
};

START_TEST(key_parse_table)
{
	struct iglu_key k;
	const char *code = "unset";
	int rc = iglu_key_parse(KEYS[_i].uri, &k, &code);
	char out[IGLU_URI_MAX];

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

/* The one parser's other entry points: a length (JSON strings may hold a NUL), furrow's bound on
 * a part, keys built by hand, the path-safety rule, and criteria as IGLU-CORE's
 * SchemaCriterion.criterionRegex reads them. */
START_TEST(key_parser_edges)
{
	static const char nul[] = "iglu:com.acme/x/jsonschema/1-0-0\0junk";
	struct iglu_key k;
	struct iglu_criterion c;
	char uri[600];
	const char *code;

	ck_assert_int_eq(iglu_key_parsen(nul, sizeof(nul) - 1, &k, &code), -1);
	ck_assert_str_eq(code, "INVALID_IGLUURI");
	ck_assert_int_eq(iglu_key_parsen(nul, strlen(nul), &k, &code), 0);
	snprintf(uri, sizeof(uri), "iglu:%0255d/x/jsonschema/1-0-0", 0);
	ck_assert_int_eq(iglu_key_parse(uri, &k, &code), 0);
	ck_assert_uint_eq(strlen(k.vendor), IGLU_PART_MAX);
	snprintf(uri, sizeof(uri), "iglu:%0256d/x/jsonschema/1-0-0", 0);
	ck_assert_int_eq(iglu_key_parse(uri, &k, &code), -1);
	ck_assert_str_eq(code, "INVALID_IGLUURI");

	ck_assert_int_eq(iglu_key_parse("iglu:com.acme/x/jsonschema/1-0-0", &k, NULL), 0);
	ck_assert(iglu_key_valid(&k));
	ck_assert(iglu_key_path_safe(&k));
	strcpy(k.name, "a/b");
	ck_assert(!iglu_key_valid(&k));
	strcpy(k.name, "x");
	k.model = 0;
	ck_assert(!iglu_key_valid(&k));
	ck_assert_int_eq(iglu_key_parse("iglu:.../x/jsonschema/1-0-0", &k, NULL), 0);
	ck_assert(iglu_key_valid(&k));
	ck_assert(!iglu_key_path_safe(&k));
	ck_assert_int_eq(iglu_key_parse("iglu:.acme./x/jsonschema/1-0-0", &k, NULL), 0);
	ck_assert(iglu_key_path_safe(&k));

	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/1-*-*", &c), 0);
	ck_assert_int_eq(c.model, 1);
	ck_assert_int_eq(c.revision, -1);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/*-*-*", &c), 0);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/0-*-*", &c), -1);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/1-0-01", &c), -1);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/1-*", &c), -1);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x/jsonschema/1-**-*", &c), -1);
	ck_assert_int_eq(iglu_criterion_parse("iglu:com.acme/x.y/jsonschema/1-*-*", &c), -1);
	ck_assert_int_eq(iglu_criterion_parse(NULL, &c), -1);
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


/* The tracker entities and events of the embedded registry accept what the published schemas
 * accept and reject what they reject (one or more samples each). */
#define SPV "iglu:com.snowplowanalytics.snowplow/"
#define ECV "iglu:com.snowplowanalytics.snowplow.ecommerce/"
#define MDV "iglu:com.snowplowanalytics.snowplow.media/"
static const struct {
	const char *uri;
	const char *data;
	int valid;
} ENTITIES[] = {
	{ SPV "web_page/jsonschema/1-0-0", "{\"id\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}", 1 },
	{ SPV "web_page/jsonschema/1-0-0", "{\"id\":\"not-a-uuid\"}", 0 },
	{ SPV "web_page/jsonschema/1-0-0", "{\"id\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"x\":1}", 0 },
	{ SPV "client_session/jsonschema/1-0-1", "{\"userId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\","
	  "\"sessionId\":\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":3,\"previousSessionId\":null,"
	  "\"storageMechanism\":\"COOKIE_1\"}", 1 },
	{ SPV "client_session/jsonschema/1-0-1", "{\"userId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\","
	  "\"sessionId\":\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":3,"
	  "\"storageMechanism\":\"COOKIE_1\"}", 0 },
	{ SPV "client_session/jsonschema/1-0-2", "{\"userId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\","
	  "\"sessionId\":\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":3,\"eventIndex\":7,"
	  "\"storageMechanism\":\"LOCAL_STORAGE\",\"firstEventTimestamp\":\"2024-01-02T03:04:05.678Z\"}", 1 },
	{ SPV "client_session/jsonschema/1-0-2", "{\"userId\":\"9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B\","
	  "\"sessionId\":\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":3,"
	  "\"storageMechanism\":\"LOCAL_STORAGE\"}", 0 },
	{ SPV "client_session/jsonschema/1-0-2", "{\"userId\":\"0123456789abcdef\","
	  "\"sessionId\":\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":-1,"
	  "\"storageMechanism\":\"SQLITE\"}", 0 },
	{ SPV "link_click/jsonschema/1-0-1", "{\"targetUrl\":\"https://example.com/\",\"elementClasses\":[\"a\",\"b\"]}", 1 },
	{ SPV "link_click/jsonschema/1-0-1", "{\"targetUrl\":\"\"}", 0 },
	{ SPV "add_to_cart/jsonschema/1-0-0", "{\"sku\":\"A1\",\"quantity\":2,\"unitPrice\":9.99}", 1 },
	{ SPV "add_to_cart/jsonschema/1-0-0", "{\"sku\":\"A1\",\"quantity\":\"2\"}", 0 },
	{ SPV "remove_from_cart/jsonschema/1-0-0", "{\"sku\":\"A1\",\"quantity\":1}", 1 },
	{ SPV "remove_from_cart/jsonschema/1-0-0", "{\"quantity\":1}", 0 },
	{ SPV "change_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elementId\":\"e\",\"nodeName\":\"INPUT\","
	  "\"type\":\"text\",\"value\":\"v\"}", 1 },
	{ SPV "change_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elementId\":\"e\",\"nodeName\":\"DIV\","
	  "\"value\":null}", 0 },
	{ SPV "change_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elementId\":\"e\",\"nodeName\":\"INPUT\","
	  "\"type\":null,\"value\":null}", 0 },
	{ SPV "focus_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elementId\":\"e\",\"nodeName\":\"TEXTAREA\","
	  "\"elementClasses\":null,\"value\":null}", 1 },
	{ SPV "submit_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elements\":[{\"name\":\"n\",\"value\":null,"
	  "\"nodeName\":\"SELECT\"}]}", 1 },
	{ SPV "submit_form/jsonschema/1-0-0", "{\"formId\":\"f\",\"elements\":[{\"name\":\"n\",\"nodeName\":\"SELECT\"}]}", 0 },
	{ SPV "site_search/jsonschema/1-0-0", "{\"terms\":[\"a\"],\"filters\":{\"x\":true,\"y\":\"z\"},\"totalResults\":10}", 1 },
	{ SPV "site_search/jsonschema/1-0-0", "{\"terms\":[]}", 0 },
	{ SPV "site_search/jsonschema/1-0-0", "{\"terms\":[\"a\"],\"filters\":{\"x\":1}}", 0 },
	{ SPV "social_interaction/jsonschema/1-0-0", "{\"action\":\"like\",\"network\":\"fb\"}", 1 },
	{ SPV "social_interaction/jsonschema/1-0-0", "{\"action\":\"like\"}", 0 },
	{ SPV "timing/jsonschema/1-0-0", "{\"category\":\"c\",\"variable\":\"v\",\"timing\":12.5}", 1 },
	{ SPV "timing/jsonschema/1-0-0", "{\"category\":\"c\",\"variable\":\"v\"}", 0 },
	{ SPV "application_error/jsonschema/1-0-1", "{\"programmingLanguage\":\"JAVASCRIPT\",\"message\":\"boom\","
	  "\"lineNumber\":3,\"isFatal\":true}", 1 },
	{ SPV "application_error/jsonschema/1-0-1", "{\"programmingLanguage\":\"COBOL\",\"message\":\"boom\"}", 0 },
	{ SPV "application_error/jsonschema/1-0-2", "{\"programmingLanguage\":\"SWIFT\",\"message\":\"boom\","
	  "\"causeStackTrace\":null}", 1 },
	{ SPV "desktop_context/jsonschema/1-0-0", "{\"osType\":\"Linux\",\"osVersion\":\"6.1\",\"osIs64Bit\":true}", 1 },
	{ SPV "desktop_context/jsonschema/1-0-0", "{\"osType\":\"Linux\"}", 0 },
	{ SPV "geolocation_context/jsonschema/1-0-0", "{\"latitude\":51.5,\"longitude\":-0.1}", 1 },
	{ SPV "geolocation_context/jsonschema/1-0-0", "{\"latitude\":91,\"longitude\":0}", 0 },
	{ SPV "geolocation_context/jsonschema/1-1-0", "{\"latitude\":1,\"longitude\":2,\"speed\":null,"
	  "\"timestamp\":1700000000000}", 1 },
	{ SPV "geolocation_context/jsonschema/1-0-0", "{\"latitude\":1,\"longitude\":2,\"speed\":null}", 0 },
	{ SPV "browser_context/jsonschema/1-0-0", "{\"viewport\":\"1280x720\",\"documentSize\":\"1280x3000\","
	  "\"resolution\":\"1920x1080\",\"colorDepth\":24,\"cookiesEnabled\":true,\"online\":true,"
	  "\"deviceMemory\":8}", 1 },
	{ SPV "browser_context/jsonschema/1-0-0", "{\"viewport\":\"1280x720\",\"documentSize\":\"1280x3000\","
	  "\"resolution\":\"1920x1080\",\"colorDepth\":24,\"cookiesEnabled\":true,\"online\":true,"
	  "\"deviceMemory\":0.5}", 0 },
	{ SPV "browser_context/jsonschema/2-0-0", "{\"viewport\":\"1280x720\",\"documentSize\":\"1280x3000\","
	  "\"resolution\":\"1920x1080\",\"colorDepth\":24,\"cookiesEnabled\":true,\"online\":true,"
	  "\"deviceMemory\":0.5,\"tabId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}", 1 },
	{ SPV "browser_context/jsonschema/2-0-0", "{\"viewport\":\"a-viewport-string-longer-than-20\","
	  "\"documentSize\":\"1\",\"resolution\":\"1\",\"colorDepth\":24,\"cookiesEnabled\":true,\"online\":true}", 0 },
	{ SPV "mobile_context/jsonschema/1-0-2", "{\"osType\":\"ios\",\"osVersion\":\"17\",\"deviceManufacturer\":"
	  "\"Apple\",\"deviceModel\":\"iPhone\",\"networkType\":\"wifi\",\"physicalMemory\":8589934592}", 1 },
	{ SPV "mobile_context/jsonschema/1-0-2", "{\"osType\":\"ios\",\"osVersion\":\"17\",\"deviceManufacturer\":"
	  "\"Apple\",\"deviceModel\":\"iPhone\",\"networkType\":\"5g\"}", 0 },
	{ SPV "media_player/jsonschema/1-0-0", "{\"currentTime\":1.5,\"duration\":null,\"ended\":false,"
	  "\"loop\":false,\"muted\":false,\"paused\":true,\"playbackRate\":1,\"volume\":100}", 1 },
	{ SPV "media_player/jsonschema/1-0-0", "{\"currentTime\":1.5,\"duration\":null,\"ended\":false,"
	  "\"loop\":false,\"muted\":false,\"paused\":true,\"playbackRate\":1,\"volume\":101}", 0 },
	{ SPV "media_player_event/jsonschema/1-0-0", "{\"type\":\"play\",\"label\":null}", 1 },
	{ SPV "media_player_event/jsonschema/1-0-0", "{\"label\":\"x\"}", 0 },
	{ SPV "screen_view/jsonschema/1-0-0", "{\"name\":\"home\"}", 1 },
	{ SPV "screen_view/jsonschema/1-0-0", "{}", 0 },
	{ SPV "application_background/jsonschema/1-0-0", "{\"backgroundIndex\":1}", 1 },
	{ SPV "application_foreground/jsonschema/1-0-0", "{\"foregroundIndex\":-1}", 0 },
	/* ecommerce plugin: money is a multiple of 0.01, exactly */
	{ ECV "product/jsonschema/1-0-0", "{\"id\":\"p1\",\"category\":\"c\",\"price\":19.99,"
	  "\"currency\":\"EUR\",\"quantity\":2}", 1 },
	{ ECV "product/jsonschema/1-0-0", "{\"id\":\"p1\",\"category\":\"c\",\"price\":19.999,"
	  "\"currency\":\"EUR\"}", 0 },
	{ ECV "product/jsonschema/1-0-0", "{\"id\":\"p1\",\"category\":\"c\",\"price\":1,"
	  "\"currency\":\"EURO\"}", 0 },
	{ ECV "cart/jsonschema/1-0-0", "{\"total_value\":0.3,\"currency\":\"USD\",\"cart_id\":null}", 1 },
	{ ECV "cart/jsonschema/1-0-0", "{\"total_value\":-1,\"currency\":\"USD\"}", 0 },
	{ ECV "transaction/jsonschema/1-0-0", "{\"transaction_id\":\"t\",\"revenue\":1234567.89,"
	  "\"currency\":\"GBP\",\"payment_method\":\"card\",\"total_quantity\":3,\"tax\":null}", 1 },
	{ ECV "transaction/jsonschema/1-0-0", "{\"transaction_id\":\"t\",\"revenue\":1,"
	  "\"currency\":\"GBP\",\"payment_method\":\"card\"}", 0 },
	{ ECV "snowplow_ecommerce_action/jsonschema/1-0-2", "{\"type\":\"trns_error\"}", 1 },
	{ ECV "snowplow_ecommerce_action/jsonschema/1-0-1", "{\"type\":\"trns_error\"}", 0 },
	{ ECV "checkout_step/jsonschema/1-0-0", "{\"step\":91}", 0 },
	{ ECV "user/jsonschema/1-0-0", "{\"id\":\"u\",\"is_guest\":true,\"email\":null}", 1 },
	{ ECV "transaction_error/jsonschema/1-0-0", "{\"error_type\":\"fatal\"}", 0 },
	/* media plugin v2 */
	{ MDV "play_event/jsonschema/1-0-0", "{}", 1 },
	{ MDV "play_event/jsonschema/1-0-0", "{\"x\":1}", 0 },
	{ MDV "session/jsonschema/1-0-0", "{\"mediaSessionId\":\"s\",\"startedAt\":\"2024-01-02T03:04:05Z\","
	  "\"timePlayed\":12.5,\"ads\":0}", 1 },
	{ MDV "session/jsonschema/1-0-0", "{\"mediaSessionId\":\"s\",\"startedAt\":\"yesterday\"}", 0 },
	{ MDV "volume_change_event/jsonschema/1-0-0", "{\"newVolume\":50,\"previousVolume\":null}", 1 },
	{ MDV "ad_break/jsonschema/1-0-0", "{\"breakId\":\"b\",\"startTime\":0,\"breakType\":\"midroll\"}", 0 },
	{ SPV "media_player/jsonschema/2-0-0", "{\"currentTime\":3,\"ended\":false,\"paused\":false,"
	  "\"mediaType\":\"video\",\"playbackRate\":1.5}", 1 },
	{ SPV "media_player/jsonschema/2-0-0", "{\"currentTime\":3,\"ended\":false,\"paused\":false,"
	  "\"playbackRate\":17}", 0 },
};

START_TEST(embedded_entities_table)
{
	struct iglu_resolver *r;
	char err[256];
	json_t *ce = NULL;
	int rc;

	r = iglu_resolver_new(NULL, schemas_dir(), err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	rc = validate_text(r, ENTITIES[_i].uri, ENTITIES[_i].data, &ce);
	ck_assert_msg((rc == 0) == ENTITIES[_i].valid, "%s %s: %s", ENTITIES[_i].uri,
	    ENTITIES[_i].data, ce ? json_string_value(json_object_get(ce, "error")) : "valid");
	if (!ENTITIES[_i].valid)
		ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ValidationError");
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
	{
		FILE *f = fopen(path, "r");
		static char text[1 << 16];
		size_t n;

		ck_assert_ptr_nonnull(f);
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		/* loaded as the resolver loads schemas (integers beyond 64 bits allowed) */
		j = jsonschema_json_loadb(text, n, 0, 0, NULL);
	}
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
	ck_assert_int_ge(n_checked, 80);
}
END_TEST

/* ---------- resolver configuration, cache, order ---------- */

static char tmpdir[256];

/* mkdir -p for the parent folders of path (no fork: tests run under load and ASan). */
static void
mkdir_parents(const char *path)
{
	char tmp[1200];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			(void)mkdir(tmp, 0755);
			*p = '/';
		}
}

static void
write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	mkdir_parents(path);
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

static int
rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	if (nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void
teardown_tmp(void)
{
	rm_rf(tmpdir);
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
	{
		char *text = json_dumps(ce, 0);

		ck_assert_ptr_nonnull(strstr(text, "RepoFailure"));
		free(text);
	}
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

/* Issue 11: a schema holding \u0000 in a string loads (Snowplow's circe parser and networknt
 * accept it); before, jansson refused it without JSON_ALLOW_NUL and every event using the
 * schema became a ResolutionError. Data strings with NUL compare by length in enum and
 * pattern. (jansson refuses a NUL inside an object key, in schemas and data alike.) */
START_TEST(schema_with_nul_in_strings)
{
	static const char data_ok[] = "{\"v\":\"x\\u0000y\",\"p\":\"a\\u0000b\"}";
	static const char data_bad[] = "{\"v\":\"x\",\"p\":\"ab\"}";
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/nul/jsonschema/1-0-0");
	json_t *ce = NULL, *d;

	setup_tmp();
	write_file("reg/schemas/com.acme/nul/jsonschema/1-0-0", SELF("com.acme", "nul", "1-0-0")
	    "\"description\":\"NUL \\u0000 here\",\"type\":\"object\",\"properties\":{"
	    "\"v\":{\"enum\":[\"x\\u0000y\",\"z\"]},\"p\":{\"type\":\"string\","
	    "\"pattern\":\"^a\\u0000b$\",\"maxLength\":3}}}");
	r = resolver_with(config("\"cacheSize\":10", LOCAL_REPO));
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	d = json_loadb(data_ok, sizeof(data_ok) - 1, JSON_ALLOW_NUL, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(iglu_validate(r, &k, d, &ce), 0);
	json_decref(d);
	d = json_loadb(data_bad, sizeof(data_bad) - 1, 0, NULL);
	ck_assert_int_eq(iglu_validate(r, &k, d, &ce), -1);
	ck_assert_uint_eq(json_array_size(json_object_get(ce, "dataReports")), 2);
	json_decref(ce);
	json_decref(d);
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

START_TEST(superseding_schema)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/sup/jsonschema/1-0-0"), used;
	json_t *ok = json_loads("{\"a\":\"x\"}", 0, NULL), *bad = json_loads("{\"a\":1}", 0, NULL);
	json_t *ce = NULL;

	setup_tmp();
	write_file("reg/schemas/com.acme/sup/jsonschema/1-0-0",
	    SELF("com.acme", "sup", "1-0-0") "\"$supersededBy\":\"1-0-2\",\"type\":\"object\","
	    "\"properties\":{\"a\":{\"type\":\"integer\"}}}");
	write_file("reg/schemas/com.acme/sup/jsonschema/1-0-2",
	    SELF("com.acme", "sup", "1-0-2") "\"type\":\"object\","
	    "\"properties\":{\"a\":{\"type\":\"string\"}}}");
	r = resolver_with(config("\"cacheSize\":10", LOCAL_REPO));
	/* plain validation uses 1-0-0 as asked */
	ck_assert_int_eq(iglu_validate(r, &k, bad, NULL), 0);
	ck_assert_int_eq(iglu_validate_superseding(r, &k, ok, &ce, &used), 0);
	ck_assert_int_eq(used.addition, 2);
	ck_assert_int_eq(iglu_validate_superseding(r, &k, bad, &ce, &used), -1);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "supersededBy")), "1-0-2");
	json_decref(ce);
	/* a superseding version that does not exist: the original is used */
	write_file("reg/schemas/com.acme/sup2/jsonschema/1-0-0",
	    SELF("com.acme", "sup2", "1-0-0") "\"$supersededBy\":\"1-0-9\",\"type\":\"object\"}");
	k = key("iglu:com.acme/sup2/jsonschema/1-0-0");
	ck_assert_int_eq(iglu_validate_superseding(r, &k, ok, &ce, &used), 0);
	ck_assert_int_eq(used.addition, 0);
	iglu_resolver_free(r);
	json_decref(ok);
	json_decref(bad);
	teardown_tmp();
}
END_TEST

START_TEST(dot_vendor_stays_inside)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:../esc/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	/* reg/schemas is the registry; reg/esc/... lies outside it */
	write_file("reg/schemas/com.acme/x/jsonschema/1-0-0", SELF("com.acme", "x", "1-0-0") "\"type\":\"object\"}");
	write_file("reg/esc/jsonschema/1-0-0", SELF("com.acme", "esc", "1-0-0") "\"type\":\"object\"}");
	r = resolver_with(config("\"cacheSize\":10", LOCAL_REPO));
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ResolutionError");
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


/* ---------- HTTP registries (a local python3 server, tests/tools/iglu_registry.py) ---------- */

static pid_t server_pid;
static int server_port;
static char http_dir[256];

static void
http_start(void)
{
	char portfile[300], cmd[1200];
	const char *root = getenv("FURROW_ROOT");
	char script[512];
	int i;
	FILE *f;

	snprintf(http_dir, sizeof(http_dir), "/tmp/furrow-iglu-http-XXXXXX");
	if (mkdtemp(http_dir) == NULL)
		abort();
	snprintf(cmd, sizeof(cmd), "%s/schemas/com.acme/thing/jsonschema/1-0-0", http_dir);
	mkdir_parents(cmd);
	f = fopen(cmd, "w");
	if (f == NULL)
		abort();
	fputs(SELF("com.acme", "thing", "1-0-0") "\"type\":\"object\",\"required\":[\"id\"]}", f);
	fclose(f);
	/* outside /schemas/: what "iglu:../x/jsonschema/1-0-0" would reach through "/static/" */
	snprintf(cmd, sizeof(cmd), "%s/x/jsonschema/1-0-0", http_dir);
	mkdir_parents(cmd);
	f = fopen(cmd, "w");
	if (f == NULL)
		abort();
	fputs(SELF("..", "x", "1-0-0") "\"type\":\"object\"}", f);
	fclose(f);
	snprintf(portfile, sizeof(portfile), "%s/port", http_dir);
	snprintf(script, sizeof(script), "%s/tests/tools/iglu_registry.py", root ? root : ".");
	server_pid = fork();
	if (server_pid == 0) {
		execlp("python3", "python3", script, http_dir, portfile, (char *)NULL);
		_exit(127);
	}
	/* poll for readiness: the server writes its port once it listens */
	for (i = 0; i < 1000 && server_port == 0; i++) {
		f = fopen(portfile, "r");
		if (f != NULL) {
			if (fscanf(f, "%d", &server_port) != 1)
				server_port = 0;
			fclose(f);
		}
		if (server_port == 0)
			usleep(20000);
	}
	if (server_port == 0) {
		fprintf(stderr, "iglu_registry.py did not start\n");
		abort();
	}
}

static void
http_stop(void)
{
	char cmd[300];

	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	(void)cmd;
	rm_rf(http_dir);
}

static size_t
stats_cb(char *d, size_t sz, size_t n, void *arg)
{
	struct { char b[1024]; size_t len; } *o = arg;
	size_t k = sz * n;

	if (o->len + k < sizeof(o->b)) {
		memcpy(o->b + o->len, d, k);
		o->len += k;
		o->b[o->len] = 0;
	}
	return k;
}

/* How many requests the server received under prefix. */
static int
server_count(const char *prefix)
{
	struct { char b[1024]; size_t len; } out = { "", 0 };
	char url[128];
	CURL *c = curl_easy_init();
	json_t *j;
	int n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats", server_port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stats_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	j = json_loads(out.b, 0, NULL);
	n = (int)json_integer_value(json_object_get(j, prefix));
	json_decref(j);
	return n;
}

static struct iglu_resolver *
http_resolver(const char *prefix, const char *apikey)
{
	char repo[512];

	snprintf(repo, sizeof(repo), "{\"name\":\"HTTP %s\",\"priority\":0,\"vendorPrefixes\":[\"com.acme\"],"
	    "\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:%d/%s/\"%s%s%s}}}", prefix, server_port,
	    prefix, apikey ? ",\"apikey\":\"" : "", apikey ? apikey : "", apikey ? "\"" : "");
	return resolver_with(config("\"cacheSize\":10,\"cacheTtl\":600", repo));
}

static const char *
http_error_of(json_t *ce)
{
	json_t *hist = json_object_get(ce, "lookupHistory");
	size_t i;

	for (i = 0; i < json_array_size(hist); i++) {
		json_t *h = json_array_get(hist, i);

		if (strncmp(json_string_value(json_object_get(h, "repository")), "HTTP ", 5) == 0)
			return json_string_value(json_object_get(json_array_get(
			    json_object_get(h, "errors"), 0), "error"));
	}
	return "none";
}

START_TEST(http_found_and_cached)
{
	struct iglu_resolver *r;
	json_t *ce = NULL;
	int before;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("ok", NULL);
	before = server_count("ok");
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/thing/jsonschema/1-0-0", "{\"id\":1}", &ce), 0);
	ck_assert_int_eq(validate_text(r, "iglu:com.acme/thing/jsonschema/1-0-0", "{}", &ce), -1);
	json_decref(ce);
	ck_assert_int_eq(server_count("ok"), before + 1);   /* fetched once, then cached */
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

/* Issue 10: "iglu:../x/jsonschema/1-0-0" is a key IGLU-CORE accepts, but it must never become a
 * request: "<uri>/schemas/../x/jsonschema/1-0-0" is normalised by curl (and by most servers) to a
 * document outside /schemas/. The control request shows that a plain static registry would
 * serve that document; the resolver reports NotFound without asking. */
static long
http_get_status(const char *path)
{
	struct { char b[1024]; size_t len; } out = { "", 0 };
	char url[256];
	CURL *c = curl_easy_init();
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stats_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

START_TEST(http_dot_vendor_never_requested)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:../x/jsonschema/1-0-0");
	json_t *ce = NULL;
	int before;

	setup_tmp();
	fake_now = 1700000000000LL;
	ck_assert_int_eq(http_get_status("/static/schemas/../x/jsonschema/1-0-0"), 200);
	r = http_resolver("static", NULL);
	before = server_count("static");
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(json_string_value(json_object_get(ce, "error")), "ResolutionError");
	ck_assert_str_eq(http_error_of(ce), "NotFound");
	json_decref(ce);
	ck_assert_int_eq(server_count("static"), before);
	/* the same registry serves a real key */
	k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_int_eq(server_count("static"), before + 1);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_redirect_followed)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("moved", NULL);
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_not_found_cached)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/absent/jsonschema/1-0-0");
	json_t *ce = NULL;
	int before;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("ok", NULL);
	before = server_count("ok");
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(http_error_of(ce), "NotFound");
	json_decref(ce);
	fake_now += 10000;   /* well within cacheTtl: no second request */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	ck_assert_int_eq(server_count("ok"), before + 1);
	fake_now += 600000;  /* past cacheTtl: asked again */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	ck_assert_int_eq(server_count("ok"), before + 2);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_500_repo_failure_with_backoff)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL, *h;
	int before;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("e500", NULL);
	before = server_count("e500");
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(http_error_of(ce), "RepoFailure");
	json_decref(ce);
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));   /* inside the back-off */
	json_decref(ce);
	ck_assert_int_eq(server_count("e500"), before + 1);
	fake_now += 600;                                        /* past 500 ms */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_int_eq(server_count("e500"), before + 2);
	h = json_array_get(json_object_get(ce, "lookupHistory"), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "attempts")), 2);
	json_decref(ce);
	fake_now += 600;                                        /* back-off doubled to 1 s */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	ck_assert_int_eq(server_count("e500"), before + 2);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_403_client_failure)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("e403", NULL);
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(http_error_of(ce), "ClientFailure");
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_garbage_body)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("garbage", NULL);
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(http_error_of(ce), "RepoFailure");
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

START_TEST(http_apikey_header)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("key", "secret");
	ck_assert_ptr_nonnull(iglu_resolver_lookup(r, &k, &ce));
	iglu_resolver_free(r);
	r = http_resolver("key", "wrong");
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_str_eq(http_error_of(ce), "ClientFailure");
	json_decref(ce);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(http_hanging_registry_times_out)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;
	double t0;
	int before;

	setup_tmp();
	fake_now = 1700000000000LL;
	r = http_resolver("hang", NULL);
	iglu_resolver_set_timeouts(r, 300, 700);
	before = server_count("hang");
	t0 = mono_s();
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	/* the server sleeps 30 s; the 700 ms total timeout ends the request long before (the bound
	 * is loose because the suite may run on a loaded machine) */
	ck_assert_msg(mono_s() - t0 < 10.0, "lookup took %.1f s", mono_s() - t0);
	ck_assert_str_eq(http_error_of(ce), "RepoFailure");
	json_decref(ce);
	/* within the back-off the dead registry is not asked again */
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	json_decref(ce);
	ck_assert_int_eq(server_count("hang"), before + 1);
	iglu_resolver_free(r);
	teardown_tmp();
}
END_TEST

/* A port that refuses connections: bound on loopback but never listening, so no other
 * process on the machine can take it while the test runs. */
static int
closed_port(int *fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

START_TEST(http_connection_refused)
{
	struct iglu_resolver *r;
	struct iglu_key k = key("iglu:com.acme/thing/jsonschema/1-0-0");
	json_t *ce = NULL;
	char repo[300];
	int fd, port = closed_port(&fd);

	setup_tmp();
	fake_now = 1700000000000LL;
	snprintf(repo, sizeof(repo), "{\"name\":\"HTTP dead\",\"priority\":0,"
	    "\"vendorPrefixes\":[],\"connection\":{\"http\":{\"uri\":\"http://127.0.0.1:%d\"}}}", port);
	r = resolver_with(config("\"cacheSize\":10", repo));
	ck_assert_ptr_null(iglu_resolver_lookup(r, &k, &ce));
	ck_assert_msg(strcmp(http_error_of(ce), "RepoFailure") == 0, "%s",
	    json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(ce, "lookupHistory"), 1), "errors"), 0), "message")));
	json_decref(ce);
	iglu_resolver_free(r);
	close(fd);
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

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, key_parse_table, 0, (int)(sizeof(KEYS) / sizeof(KEYS[0])));
	tcase_add_test(tc, criteria);
	tcase_add_test(tc, key_parser_edges);
	tcase_add_test(tc, embedded_wrappers);
	tcase_add_test(tc, unknown_schema_resolution_error);
	tcase_add_test(tc, dot_vendor_stays_inside);
	tcase_add_test(tc, registry_schemas_are_self_describing);
	tcase_add_loop_test(tc, embedded_entities_table, 0, (int)(sizeof(ENTITIES) / sizeof(ENTITIES[0])));
	tcase_add_test(tc, ttl_and_negative_cache);
	tcase_add_test(tc, ttl_refresh_keeps_compiled);
	tcase_add_test(tc, cache_size_lru);
	tcase_add_test(tc, invalid_schema_gives_schema_issues);
	tcase_add_test(tc, schema_with_nul_in_strings);
	tcase_add_test(tc, iglu_refs_between_schemas);
	tcase_add_test(tc, superseding_schema);
	tcase_add_test(tc, repository_order);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_versions_accepted);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_unchecked_fixture(tc, http_start, http_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, http_found_and_cached);
	tcase_add_test(tc, http_not_found_cached);
	tcase_add_test(tc, http_redirect_followed);
	tcase_add_test(tc, http_dot_vendor_never_requested);
	tcase_add_test(tc, http_500_repo_failure_with_backoff);
	tcase_add_test(tc, http_403_client_failure);
	tcase_add_test(tc, http_garbage_body);
	tcase_add_test(tc, http_apikey_header);
	tcase_add_test(tc, http_hanging_registry_times_out);
	tcase_add_test(tc, http_connection_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
