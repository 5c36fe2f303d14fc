/* Unit tests for javascript_script_config (enrich/enr_javascript.c), through the real loader:
 * the cases of enrich's JavascriptScriptEnrichmentSpec (6.10: compile errors, return shapes,
 * getters and setters, throw, params, headers, drop, eraseDerived_contexts, unstruct_event and
 * contexts round trips and their invalid forms), the scripts of Snowplow's documentation
 * (custom-javascript-enrichment/examples and writing; for ... of and Set rewritten in ES5,
 * which is what Duktape runs), the time and memory budgets, and several scripts in order. */
#include <time.h>

#include "base64.h"
#include "enr_test.h"

#define HEAD(v) "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/" v "\"," \
	"\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"javascript_script_config\",\"enabled\":true,"

/* A 1-0-1 configuration for script (base64-encoded here), with config (JSON text or NULL). */
static char *
conf(const char *script, const char *config)
{
	static char buf[65536];
	char *b64 = malloc(base64_encoded_len(strlen(script)) + 1);

	base64_encode((const uint8_t *)script, strlen(script), b64);
	snprintf(buf, sizeof(buf), HEAD("1-0-1") "\"parameters\":{\"script\":\"%s\"%s%s}}}", b64,
	    config ? ",\"config\":" : "", config ? config : "");
	free(b64);
	return buf;
}

struct fixture {
	char *dir;
	struct enrichments *e;
};

static struct fixture
load(const char *script, const char *config)
{
	struct fixture f;
	char err[1024];

	f.dir = tdir_new();
	f.e = tload_one(f.dir, "js.json", conf(script, config), err, sizeof(err));
	ck_assert_msg(f.e != NULL, "%s", err);
	return f;
}

static void
unload(struct fixture *f)
{
	enrichments_free(f->e);
	tdir_rm(f->dir);
}

static void
load_fails(const char *text, const char *want)
{
	char err[1024], *dir = tdir_new();
	struct enrichments *e = tload_one(dir, "js.json", text, err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not contain \"%s\"", err, want);
	tdir_rm(dir);
}

/* Run the late stage; returns enrichments_apply's result, failures in *fail (caller frees). */
static int
run(struct fixture *f, struct enrich_event *ev, json_t **fail)
{
	json_t *failures = json_array();
	int rc = enrichments_apply(f->e, ENRICH_STAGE_LATE, ev, failures);

	*fail = failures;
	return rc;
}

/* The message of the only failure. */
static const char *
failure_msg(json_t *failures)
{
	ck_assert_int_eq(json_array_size(failures), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(failures, 0),
	    "enrichment"), "identifier")), "Javascript enrichment");
	return json_string_value(json_object_get(json_object_get(json_array_get(failures, 0),
	    "message"), "error"));
}

static void
expect_failure(const char *script, const char *want)
{
	struct fixture f = load(script, NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;

	tev_set(ev, COL_APP_ID, "greatApp");
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_msg(strstr(failure_msg(fail), want) != NULL, "\"%s\" does not contain \"%s\"",
	    failure_msg(fail), want);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}

START_TEST(compile_errors_refused_at_startup)
{
	load_fails(conf("[", NULL), "Error compiling JavaScript function: [SyntaxError");
	load_fails(conf("throw 'at load'", NULL), "Error compiling JavaScript function: [at load]");
	load_fails(conf("var x = 1;", NULL), "defines no function process");
	load_fails(conf("", NULL), "Provided script for JS enrichment is empty");
	load_fails(conf("while (true) {}", NULL), "longer than 1000 ms");
	load_fails(HEAD("1-0-1") "\"parameters\":{\"script\":\"cHJvY2Vzcw==\",\"config\":[1]}}}",
	    "parameters.config: an object is required");
}
END_TEST

START_TEST(return_shapes)
{
	expect_failure("function process(event) { return { foo: \"bar\" } }",
	    "Output of JavaScript function [{\"foo\":\"bar\"}] could be parsed as JSON but is not "
	    "read as an array");
	expect_failure("function process(event) { return [ { foo: \"bar\" } ] }",
	    "Resulting contexts are not self-desribing. Error(s): [error code:[INVALID_DATA_PAYLOAD],"
	    "json:[{\"foo\":\"bar\"}]]");
	expect_failure("function process(event) { return [ { schema: 'iglu:a/b/jsonschema/1-0', data: 1 },"
	    " { schema: 'iglu:a/b/jsonschema/0-1-0', data: 1 } ] }",
	    "[error code:[INVALID_IGLUURI],json:[{\"schema\":\"iglu:a/b/jsonschema/1-0\",\"data\":1}];"
	    "error code:[INVALID_SCHEMAVER],json:");
	expect_failure("function process(event) { return function () {} }",
	    "Could not parse output JSON of Javascript function. Error: [");
	expect_failure("function process(event) { var a = [], b = a; for (var i = 0; i < 50; i++) "
	    "{ b[0] = []; b = b[0]; } return a; }",
	    "Could not parse output JSON of Javascript function. Error: [invalid json: maximum "
	    "allowed JSON depth exceeded]");
}
END_TEST

START_TEST(getters_setters_and_contexts)
{
	struct fixture f = load(
	    "function process(event) {\n"
	    "  event.setApp_id('evenBetterApp');\n"
	    "  event.setTr_total(event.getTr_total() * 2);\n"
	    "  event.setGeo_latitude(null);\n"
	    "  event.page_title = 'via ' + 'property';\n"
	    "  event.setDomain_sessionidx(event.getDomain_sessionidx() + 1);\n"
	    "  event.setMkt_source('tab\\there');\n"
	    "  return [ { schema: 'iglu:com.acme/foo/jsonschema/1-0-0', data: { appId: event.getApp_id(),\n"
	    "             idx: event.domain_sessionidx, ua: event.getUseragent(), t: typeof event.getTr_total() } },\n"
	    "           { schema: 'iglu:com.acme/bar/jsonschema/1-0-0', data: { hello: 'world' }, extra: 1 } ];\n"
	    "}\n", NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	char *s;

	tev_set(ev, COL_APP_ID, "greatApp");
	tev_set(ev, COL_TR_TOTAL, "12.25");
	tev_set(ev, COL_GEO_LATITUDE, "37.443604");
	tev_set(ev, COL_DOMAIN_SESSIONIDX, "3");
	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_str_eq(tev_col(ev, COL_APP_ID), "evenBetterApp");
	ck_assert_str_eq(tev_col(ev, COL_TR_TOTAL), "24.5");
	ck_assert_ptr_null(ev->col[COL_GEO_LATITUDE]);
	ck_assert_str_eq(tev_col(ev, COL_PAGE_TITLE), "via property");
	ck_assert_str_eq(tev_col(ev, COL_DOMAIN_SESSIONIDX), "4");
	ck_assert_str_eq(tev_col(ev, COL_MKT_SOURCE), "tab    here");   /* TSV-safe */
	ck_assert_int_eq(json_array_size(ev->derived), 2);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"appId\":\"evenBetterApp\",\"idx\":4,\"t\":\"number\",\"ua\":null},"
	    "\"schema\":\"iglu:com.acme/foo/jsonschema/1-0-0\"}");
	free(s);
	s = tderived(ev, 1);   /* other members dropped, as upstream's SelfDescribingData */
	ck_assert_str_eq(s, "{\"data\":{\"hello\":\"world\"},\"schema\":\"iglu:com.acme/bar/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

START_TEST(no_return_null_and_empty)
{
	static const char *const scripts[] = {
		"function process(event) { var a = 42 }",
		"function process(event) { return null }",
		"function process(event) { return [ ]; }",
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fixture f = load(scripts[i], NULL);
		struct enrich_event *ev = tev_new();
		json_t *fail;

		ck_assert_int_eq(run(&f, ev, &fail), 0);
		ck_assert_int_eq(json_array_size(fail), 0);
		ck_assert_ptr_null(ev->derived);
		json_decref(fail);
		tev_free(ev);
		unload(&f);
	}
}
END_TEST

START_TEST(throw_is_a_failure)
{
	expect_failure("function process(event) {\n  throw \"Error\"\n}",
	    "Error during execution of JavaScript function: [Error]");
	expect_failure("function process(event) {\n  throw new Error('Oops')\n}",
	    "Error during execution of JavaScript function: [Error: Oops in <eval> at line number 2]");
	expect_failure("function process(event) { return event.nothing.there }",
	    "Error during execution of JavaScript function: [TypeError:");
}
END_TEST

START_TEST(params_and_headers)
{
	struct fixture f = load(
	    "function process(event, params, headers) {\n"
	    "  event.setApp_id(params.nested.foo);\n"
	    "  for (var i = 0; i < headers.length; i++) {\n"
	    "    var jwt = headers[i].match(/X-JWT:(.+)/i);\n"
	    "    if (jwt) event.setUser_id(jwt[1].trim());\n"
	    "  }\n"
	    "}\n", "{\"foo\":\"bar\",\"nested\":{\"foo\":\"newId\"}}");
	struct enrich_event *ev = tev_new();
	json_t *fail;

	tev_header(ev, "Host: example.com");
	tev_header(ev, "x-jwt: someToken ");
	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_str_eq(tev_col(ev, COL_APP_ID), "newId");
	ck_assert_str_eq(tev_col(ev, COL_USER_ID), "someToken");
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

START_TEST(drop_and_erase)
{
	struct fixture f = load("function process(event) { event.drop() }", NULL);
	struct fixture g = load("function process(event) { try { event.drop() } catch (e) {} "
	    "return [] }", NULL);
	struct fixture h = load(
	    "function process(event) {\n"
	    "  var derived = JSON.parse(event.getDerived_contexts());\n"
	    "  event.eraseDerived_contexts();\n"
	    "  derived.data[0].data.deviceBrand = 'test1';\n"
	    "  return derived.data;\n"
	    "}\n", NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	char *s;

	ck_assert_int_eq(run(&f, ev, &fail), ENRICHMENTS_DROPPED);
	json_decref(fail);
	ck_assert_int_eq(run(&g, ev, &fail), 0);   /* caught: not dropped, as with Nashorn */
	json_decref(fail);
	enrich_event_add_derived(ev, json_loads("{\"schema\":\"iglu:nl.basjes/yauaa_context/jsonschema/1-0-4\","
	    "\"data\":{\"deviceBrand\":\"Apple\"}}", 0, NULL));
	enrich_event_add_derived(ev, json_loads("{\"schema\":\"iglu:com.acme/other/jsonschema/1-0-0\","
	    "\"data\":{}}", 0, NULL));
	ck_assert_int_eq(run(&h, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(ev->derived), 2);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"deviceBrand\":\"test1\"},\"schema\":\"iglu:nl.basjes/yauaa_context/jsonschema/1-0-4\"}");
	free(s);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
	unload(&g);
	unload(&h);
}
END_TEST

START_TEST(unstruct_and_contexts_round_trip)
{
	struct fixture f = load(
	    "function process(event) {\n"
	    "  var ue = JSON.parse(event.getUnstruct_event());\n"
	    "  ue.data.schema = 'iglu:modifiedvendor/modifiedname/jsonschema/1-0-0';\n"
	    "  ue.data.data.userId = 'some-modified-user-id';\n"
	    "  event.setUnstruct_event(JSON.stringify(ue));\n"
	    "  var co = JSON.parse(event.getContexts());\n"
	    "  co.data[0].data.userId = 'ctx-user';\n"
	    "  event.setContexts(JSON.stringify(co));\n"
	    "  return [ { schema: 'iglu:com.acme/seen/jsonschema/1-0-0', data: { ue: event.getUnstruct_event() } } ];\n"
	    "}\n", NULL);
	struct fixture same = load(
	    "function process(event) { event.setContexts(event.getContexts()); "
	    "event.setUnstruct_event(event.getUnstruct_event()); }", NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	const char *cs = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1\","
	    "\"data\":{\"userId\":\"some-fancy-user-session-id\",\"sessionIndex\":1}}";

	ev->unstruct = json_loads(cs, 0, NULL);
	ev->contexts = json_pack("[O]", ev->unstruct);
	tev_set(ev, COL_UNSTRUCT_EVENT, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
	    "\"data\":{\"schema\":\"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1\","
	    "\"data\":{\"userId\":\"some-fancy-user-session-id\",\"sessionIndex\":1}}}");
	tev_set(ev, COL_CONTEXTS, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
	    "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1\","
	    "\"data\":{\"userId\":\"some-fancy-user-session-id\",\"sessionIndex\":1}}]}");
	ck_assert_int_eq(run(&same, ev, &fail), 0);
	ck_assert_int_eq(ev->unstruct_updated, 0);     /* the same values: not updated */
	ck_assert_int_eq(ev->contexts_updated, 0);
	json_decref(fail);
	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_int_eq(ev->unstruct_updated, 1);
	ck_assert_int_eq(ev->contexts_updated, 1);
	ck_assert_str_eq(json_string_value(json_object_get(ev->unstruct, "schema")),
	    "iglu:modifiedvendor/modifiedname/jsonschema/1-0-0");
	ck_assert_str_eq(tev_col(ev, COL_UNSTRUCT_EVENT),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
	    "\"data\":{\"schema\":\"iglu:modifiedvendor/modifiedname/jsonschema/1-0-0\","
	    "\"data\":{\"userId\":\"some-modified-user-id\",\"sessionIndex\":1}}}");
	ck_assert_str_eq(tev_col(ev, COL_CONTEXTS),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
	    "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1\","
	    "\"data\":{\"userId\":\"ctx-user\",\"sessionIndex\":1}}]}");
	/* a getter after a setter sees the new value */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(
	    json_array_get(ev->derived, 0), "data"), "ue")), "some-modified-user-id"));
	json_decref(fail);
	tev_free(ev);
	unload(&f);
	unload(&same);
	expect_failure("function process(event) { event.setUnstruct_event(JSON.stringify({foo: 'bar'})); return [] }",
	    "invalid unstruct_event json");
	expect_failure("function process(event) { event.setContexts(JSON.stringify({foo: 'bar'})); return [] }",
	    "invalid contexts json");
	expect_failure("function process(event) { event.setContexts('not json'); }",
	    "invalid contexts json");
}
END_TEST

START_TEST(pii_setter)
{
	struct fixture f = load("function process(event) { event.setPii(JSON.stringify({schema: "
	    "'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: {schema: "
	    "'iglu:com.acme/p/jsonschema/1-0-0', data: {a: 1}}})); return [{schema: "
	    "'iglu:com.acme/echo/jsonschema/1-0-0', data: JSON.parse(event.getPii())}] }", NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	char *s;

	ck_assert_int_eq(run(&f, ev, &fail), 0);
	s = json_dumps(ev->pii, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"data\":{\"a\":1},\"schema\":\"iglu:com.acme/p/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

/* docs/pipeline/enrichments/available-enrichments/custom-javascript-enrichment/examples */
START_TEST(documentation_examples)
{
	struct fixture traffic = load(
	    "const internalIPs = { '1.2.3.4': true, '2.3.4.5': true };\n"
	    "function process(event) {\n"
	    "  const ip = event.getUser_ipaddress();\n"
	    "  const traffic_source = internalIPs[ip] ? 'internal' : 'external';\n"
	    "  return [{\n"
	    "    schema: \"iglu:com.my-company/traffic_source/jsonschema/1-0-0\",\n"
	    "    data: { traffic_source: traffic_source }\n"
	    "  }];\n"
	    "}\n", NULL);
	struct fixture bots = load(
	    "function process(event) {\n"
	    "  const entities = JSON.parse(event.getDerived_contexts());\n"
	    "  if (entities) {\n"
	    "    for (var i = 0; i < entities.data.length; i++) {\n"
	    "      var entity = entities.data[i];\n"
	    "      if (entity.schema.startsWith('iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1') &&\n"
	    "          entity.data.spiderOrRobot) {\n"
	    "        throw \"Filtered a spider/bot event\";\n"
	    "      }\n"
	    "    }\n"
	    "  }\n"
	    "}\n", NULL);
	struct fixture googlebot = load(
	    "const botPattern = /.*Googlebot.*/;\n"
	    "function process(event) {\n"
	    "  const useragent = event.getUseragent();\n"
	    "  if (useragent !== null && botPattern.test(useragent)) {\n"
	    "    throw \"Filtered event produced by Googlebot\";\n"
	    "  }\n"
	    "}\n", NULL);
	struct fixture geo = load(
	    "function process(event) {\n"
	    "  if (event.getGeo_country() === 'US') {\n"
	    "    event.setGeo_latitude(null);\n"
	    "    event.setGeo_longitude(null);\n"
	    "  }\n"
	    "}\n", NULL);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	char *s;

	tev_set(ev, COL_USER_IPADDRESS, "2.3.4.5");
	ck_assert_int_eq(run(&traffic, ev, &fail), 0);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"traffic_source\":\"internal\"},\"schema\":\"iglu:com.my-company/traffic_source/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);

	ck_assert_int_eq(run(&bots, ev, &fail), 0);
	json_decref(fail);
	enrich_event_add_derived(ev, json_loads("{\"schema\":\"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0\","
	    "\"data\":{\"spiderOrRobot\":true,\"category\":\"SPIDER_OR_ROBOT\",\"reason\":\"FAILED_UA_INCLUDE\",\"primaryImpact\":\"UNKNOWN\"}}", 0, NULL));
	ck_assert_int_eq(run(&bots, ev, &fail), -1);
	ck_assert_str_eq(failure_msg(fail), "Error during execution of JavaScript function: [Filtered a spider/bot event]");
	json_decref(fail);

	tev_set(ev, COL_USERAGENT, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
	ck_assert_int_eq(run(&googlebot, ev, &fail), -1);
	ck_assert_str_eq(failure_msg(fail), "Error during execution of JavaScript function: [Filtered event produced by Googlebot]");
	json_decref(fail);

	tev_set(ev, COL_GEO_COUNTRY, "US");
	tev_set(ev, COL_GEO_LATITUDE, "37.4");
	tev_set(ev, COL_GEO_LONGITUDE, "-122.1");
	ck_assert_int_eq(run(&geo, ev, &fail), 0);
	ck_assert_ptr_null(ev->col[COL_GEO_LATITUDE]);
	ck_assert_ptr_null(ev->col[COL_GEO_LONGITUDE]);
	json_decref(fail);
	tev_free(ev);
	unload(&traffic);
	unload(&bots);
	unload(&googlebot);
	unload(&geo);
}
END_TEST

/* A runaway script is a bad row, within the time budget, and the next event runs normally;
 * so is one that exhausts the memory budget. */
/* The result goes through JSON.stringify, as upstream's, and its text is read without
 * jansson's parser when it is the compact text stringify writes (enr_javascript.c's reader),
 * by json_loadb otherwise. Each value here is returned twice: once as it is, once with
 * JSON.stringify replaced by one that indents, so that json_loadb reads it; the outcome (the
 * context's text, member order included, or the failure) must be the same. */
static char *
outcome_of(const char *script, const char *config)
{
	struct fixture f = load(script, config);
	struct enrich_event *ev = tev_new();
	json_t *fail;
	char *text;

	if (run(&f, ev, &fail) == 0) {
		ck_assert_int_eq(json_array_size(fail), 0);
		ck_assert_int_eq(json_array_size(ev->derived), 1);
		text = json_dumps(json_array_get(ev->derived, 0), JSON_COMPACT | JSON_ENCODE_ANY);
	} else {
		const char *m = failure_msg(fail);
		text = malloc(strlen(m) + 7);
		sprintf(text, "FAIL: %s", m);
	}
	json_decref(fail);
	tev_free(ev);
	unload(&f);
	return text;
}

static char *
derived_text_via(const char *data, int indented)
{
	char script[4096];

	snprintf(script, sizeof(script), "%sfunction process(event) {\n"
	    "  return [ { schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: %s } ];\n}\n",
	    indented ? "var s0 = JSON.stringify;\n"
	    "JSON.stringify = function (v) { return s0(v, null, 1); };\n" : "", data);
	return outcome_of(script, NULL);
}

/* The outcome of a process whose JSON.stringify returns text (with a space before it when
 * spaced, which only json_loadb reads). */
static char *
outcome_of_text(const char *text, int spaced)
{
	json_t *cfg = json_pack("{s:s}", "t", text);
	char *c = json_dumps(cfg, JSON_COMPACT), *r;

	r = outcome_of(spaced ?
	    "function process(event, params) {\n"
	    "  JSON.stringify = function () { return ' ' + params.t; }; return 1; }\n" :
	    "function process(event, params) {\n"
	    "  JSON.stringify = function () { return params.t; }; return 1; }\n", c);
	free(c);
	json_decref(cfg);
	return r;
}

START_TEST(result_reader_matches_jansson)
{
	static const char *const data[] = {
		"{ b: 1, a: 'x', '1': 3, '0': [1, , undefined, function () {}, null, true, 1.5, -0, "
		    "1e21, 0.1, NaN, Infinity, -7], s: '\\u00e9\"\\\\\\n\\u0001/\\b\\f\\r\\t\\u001f\\u007f', "
		    "n: { d: { x: [ {}, [] ] } }, u: undefined, f: function () {} }",
		"{ d: new Date(0), e: { toJSON: function () { return 'T' } } }",
		"{ sym: Symbol('x'), arr: [ Symbol('y') ] }",
		"(function () { var o = Object.create(null); o.k = 1; return { o: o }; })()",
		"{ get g() { return 5 }, big: 9007199254740993, neg: -9007199254740991 }",
		"(function () { var o = { a: 1 }; Object.defineProperty(o, 'hidden', { value: 2 }); return o; })()",
		"'just a string'",
		"[ 1, 'two', { three: 3 } ]",
		"{ i64: 9223372036854775295, tiny: 5e-324, e: 1.5e-7, m: -9223372036854775295 }",
		"{ nul: 'a\\u0000b' }",
		"{ 'k\\u0001\"\\\\': 1, '\\u00e9\\u4e2d': '\\u4e2d\\u6587', long: new Array(300).join('k') }",
		"(function () { var o = {}; o[new Array(300).join('k')] = 1; return o; })()",
		"{ a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }",
	};
	static const char *const texts[] = {
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\":1}}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\":1,\"a\":2}}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":\"\\u0041\\ud83d\\ude00\"}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":\"\\ud800\"}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":[01]}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":[1.]}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":[-]}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":[1e400]}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":[tru]}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":\"\\x\"}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":\"open}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{}}] x",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\" :1}}]",
		"[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":\"\xc3\xa9\"}]",
		"",
		"{",
		"[,]",
		"[1,]",
		"null",
		"7",
	};
	size_t i;

	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		char *direct = derived_text_via(data[i], 0), *via = derived_text_via(data[i], 1);
		ck_assert_msg(strcmp(direct, via) == 0, "%s:\n reader %s\n json_loadb %s", data[i],
		    direct, via);
		free(direct);
		free(via);
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *direct = outcome_of_text(texts[i], 0), *via = outcome_of_text(texts[i], 1);
		ck_assert_msg(strcmp(direct, via) == 0, "%s:\n reader %s\n json_loadb %s", texts[i],
		    direct, via);
		free(direct);
		free(via);
	}
	/* a throwing getter in the result is the script's error; a result too large for enrich
	 * is refused before it is parsed */
	expect_failure("function process(event) { return [ { schema: 'iglu:com.acme/x/jsonschema/1-0-0', "
	    "data: { get g() { throw new Error('in a getter') } } } ] }",
	    "Error during execution of JavaScript function: [Error: in a getter");
	expect_failure("function process(event) { var s = new Array(1 << 16).join('x'), a = []; "
	    "for (var i = 0; i < 80; i++) a.push(s); return [ { schema: 'iglu:com.acme/x/jsonschema/1-0-0', "
	    "data: a } ] }",
	    "Could not parse output JSON of Javascript function. Error: [larger than 4194304 bytes]");
}
END_TEST

/* Where the reader differs from json_loadb, which refuses these texts. Duktape keeps a string
 * written with surrogate escapes in CESU-8, which stringify copies: a pair becomes its
 * character (as upstream's UTF-16 strings give), a lone surrogate U+FFFD for each byte that
 * cannot start a sequence. An integer beyond int64 is a real. */
START_TEST(result_surrogates_and_big_integers)
{
	char *s;

	s = derived_text_via("{ over: 1e20, under: -1e20, max: 9223372036854775807 }", 0);
	ck_assert_str_eq(s, "{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"over\":1e20,"
	    "\"under\":-1e20,\"max\":9.2233720368547758e18}}");
	free(s);

	s = derived_text_via("{ e: '\\ud83d\\ude00', lone: 'a\\ud800b', k: { '\\ud83d\\ude00': 1 } }", 0);
	ck_assert_str_eq(s, "{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"e\":\"\xf0\x9f\x98\x80\","
	    "\"lone\":\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\",\"k\":{\"\xf0\x9f\x98\x80\":1}}}");
	free(s);
	s = derived_text_via("{ esc: 'x\\n\\ud83d\\ude00' }", 0);
	ck_assert_str_eq(s, "{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"esc\":\"x\\n\xf0\x9f\x98\x80\"}}");
	free(s);
}
END_TEST

START_TEST(budgets)
{
	struct fixture f = load(
	    "var n = 0;\n"
	    "function process(event) {\n"
	    "  n++;\n"
	    "  if (event.getApp_id() === 'loop') { while (true) { try { for (;;) {} } catch (e) {} } }\n"
	    "  if (event.getApp_id() === 'eat') { var a = []; for (;;) a.push(new Array(100000).join('x') + n++); }\n"
	    "  return [ { schema: 'iglu:com.acme/n/jsonschema/1-0-0', data: { n: n } } ];\n"
	    "}\n", NULL);
	struct enrich_event *ev = tev_new();
	struct timespec t0, t1;
	json_t *fail;
	double secs;

	tev_set(ev, COL_APP_ID, "loop");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs >= 0.9 && secs < 10, "took %f s", secs);
	ck_assert_str_eq(failure_msg(fail), "Error during execution of JavaScript function: "
	    "[RangeError: the script ran longer than 1000 ms (furrow's limit)]");
	json_decref(fail);

	tev_set(ev, COL_APP_ID, "eat");
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_str_eq(failure_msg(fail), "Error during execution of JavaScript function: "
	    "[RangeError: the script needed more than 64 MiB (furrow's limit)]");
	json_decref(fail);

	tev_set(ev, COL_APP_ID, "fine");
	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_int_eq(json_array_size(ev->derived), 1);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

/* Several javascript_script_config files (upstream allows it since 4.1.0) run in file-name
 * order, each seeing the contexts of the ones before. */
START_TEST(several_scripts)
{
	char err[1024], *dir = tdir_new(), *s;
	struct enrichments *e;
	struct enrich_event *ev = tev_new();
	json_t *fail = json_array();

	tfile_write(dir, "b.json", conf("function process(e) { return [{schema: 'iglu:com.acme/b/jsonschema/1-0-0', "
	    "data: {seen: JSON.parse(e.getDerived_contexts()).data.length}}] }", NULL));
	tfile_write(dir, "a.json", conf("function process(e) { return [{schema: 'iglu:com.acme/a/jsonschema/1-0-0', data: {}}] }", NULL));
	e = enrichments_load(dir, NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, ev, fail), 0);
	ck_assert_int_eq(json_array_size(ev->derived), 2);
	s = tderived(ev, 1);
	ck_assert_str_eq(s, "{\"data\":{\"seen\":1},\"schema\":\"iglu:com.acme/b/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

/* The same result text for two events gives the same (shared) entities; another text other
 * ones; a text that fails fails every time. */
START_TEST(same_result_same_entities)
{
	struct fixture f = load("function process(e) {\n"
	    "  if (e.getApp_id() === 'bad') return [{data: 1}];\n"
	    "  return [{schema: 'iglu:com.acme/a/jsonschema/1-0-0', data: {v: e.getApp_id()}},\n"
	    "          {schema: 'iglu:com.acme/b/jsonschema/1-0-0', data: {}}];\n"
	    "}", NULL);
	const char *apps[] = { "x", "x", "y", "x", "bad", "bad" };
	struct enrich_event *ev[6];
	json_t *fail;
	char *t;
	size_t i;

	for (i = 0; i < 6; i++) {
		ev[i] = tev_new();
		tev_set(ev[i], COL_APP_ID, apps[i]);
		ck_assert_int_eq(run(&f, ev[i], &fail), i < 4 ? 0 : -1);
		if (i >= 4)
			ck_assert_ptr_nonnull(strstr(failure_msg(fail), "Resulting contexts are not "
			    "self-desribing"));
		json_decref(fail);
	}
	ck_assert_int_eq(json_array_size(ev[0]->derived), 2);
	ck_assert_ptr_eq(json_array_get(ev[0]->derived, 0), json_array_get(ev[1]->derived, 0));
	ck_assert_ptr_eq(json_array_get(ev[0]->derived, 1), json_array_get(ev[3]->derived, 1));
	ck_assert_ptr_ne(json_array_get(ev[0]->derived, 0), json_array_get(ev[2]->derived, 0));
	t = tderived(ev[1], 0);
	ck_assert_str_eq(t, "{\"data\":{\"v\":\"x\"},\"schema\":\"iglu:com.acme/a/jsonschema/1-0-0\"}");
	free(t);
	t = tderived(ev[2], 0);
	ck_assert_str_eq(t, "{\"data\":{\"v\":\"y\"},\"schema\":\"iglu:com.acme/a/jsonschema/1-0-0\"}");
	free(t);
	for (i = 0; i < 6; i++)
		tev_free(ev[i]);
	unload(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_javascript");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);     /* a hang guard: budgets is slow on a loaded machine */
	tcase_add_test(tc, compile_errors_refused_at_startup);
	tcase_add_test(tc, return_shapes);
	tcase_add_test(tc, getters_setters_and_contexts);
	tcase_add_test(tc, no_return_null_and_empty);
	tcase_add_test(tc, throw_is_a_failure);
	tcase_add_test(tc, params_and_headers);
	tcase_add_test(tc, drop_and_erase);
	tcase_add_test(tc, unstruct_and_contexts_round_trip);
	tcase_add_test(tc, pii_setter);
	tcase_add_test(tc, documentation_examples);
	tcase_add_test(tc, result_reader_matches_jansson);
	tcase_add_test(tc, result_surrogates_and_big_integers);
	tcase_add_test(tc, budgets);
	tcase_add_test(tc, several_scripts);
	tcase_add_test(tc, same_result_same_entities);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
