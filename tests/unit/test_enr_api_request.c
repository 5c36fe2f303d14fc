/* Unit tests for api_request_enrichment_config (enrich/enr_api_request.c and enr_cache.c)
 * against a real HTTP server on 127.0.0.1 (tests/tools/api_server.py, started by main): pojo
 * and JSONPath inputs, URL encoding, several outputs from one request, the cache (hits, TTL,
 * the last success answering for a failing lookup), missing inputs, 500, an answer that is not
 * JSON, a timeout, a path with no value, ignoreOnError, basic authentication, POST bodies, and
 * configuration errors. Upstream's cases: enrich's ApiRequestEnrichmentSpec, HttpApiSpec,
 * InputSpec, OutputSpec and CachingEvaluatorSpec. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "enr_test.h"

static int port;
static pid_t server;

#define HEAD "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2\"," \
	"\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\",\"name\":\"api_request_enrichment_config\",\"enabled\":true,"

#define USER_INPUTS "[{\"key\":\"uid\",\"pojo\":{\"field\":\"user_id\"}}," \
	"{\"key\":\"app\",\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/app/jsonschema/1-*-*\",\"jsonPath\":\"$.name\"}}]"
#define RECORD_OUT "[{\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.record\"}}]"

/* A configuration: method, the URI's path and query (after http://127.0.0.1:PORT), timeout,
 * inputs, outputs, cache size and ttl, and extra members of parameters. */
static char *
conf(const char *method, const char *path, int timeout, const char *inputs, const char *outputs,
    int size, int ttl, const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), HEAD "\"parameters\":{\"inputs\":%s,\"api\":{\"http\":{\"method\":\"%s\","
	    "\"uri\":\"http://127.0.0.1:%d%s\",\"timeout\":%d,\"authentication\":{%s}}},"
	    "\"outputs\":%s,\"cache\":{\"size\":%d,\"ttl\":%d}%s}}}", inputs, method, port, path, timeout,
	    extra && strstr(extra, "httpBasic") ? "\"httpBasic\":{\"username\":\"user\",\"password\":\"pass\"}" : "",
	    outputs, size, ttl, extra && !strstr(extra, "httpBasic") ? extra : "");
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
	char err[1024];

	f.dir = tdir_new();
	f.e = tload_one(f.dir, "api.json", text, err, sizeof(err));
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
	struct enrichments *e = tload_one(dir, "api.json", text, err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not contain \"%s\"", err, want);
	tdir_rm(dir);
}

/* An event with user_id uid (NULL: none) and a com.acme/app context named app (NULL: none). */
static struct enrich_event *
event(const char *uid, const char *app)
{
	struct enrich_event *ev = tev_new();

	if (uid)
		tev_set(ev, COL_USER_ID, uid);
	if (app)
		ev->contexts = json_pack("[{s:s,s:{s:s}}]", "schema", "iglu:com.acme/app/jsonschema/1-0-0",
		    "data", "name", app);
	return ev;
}

static int
run(struct fixture *f, struct enrich_event *ev, json_t **fail)
{
	*fail = json_array();
	return enrichments_apply(f->e, ENRICH_STAGE_LATE, ev, *fail);
}

static const char *
failure_msg(json_t *failures, size_t i)
{
	json_t *f = json_array_get(failures, i);

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "enrichment"),
	    "identifier")), "api-request");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "enrichment"),
	    "schemaKey")), "iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2");
	return json_string_value(json_object_get(json_object_get(f, "message"), "error"));
}

/* The server's request count for path. */
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
	j = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	v = (long)json_integer_value(json_object_get(j, path));
	json_decref(j);
	return v;
}

START_TEST(inputs_outputs_and_one_request)
{
	struct fixture f = load(conf("GET", "/user/{{uid}}?app={{ app }}", 2000, USER_INPUTS,
	    "[{\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.record\"}},"
	    "{\"schema\":\"iglu:com.acme/tags/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.record.tags[*]\"}},"
	    "{\"schema\":\"iglu:com.acme/name/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$..name\"}}]",
	    10, 60, NULL));
	struct enrich_event *ev = event("u-1", "shop");
	json_t *fail;
	char *s;

	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_int_eq(json_array_size(ev->derived), 3);
	s = tderived(ev, 0);
	ck_assert_str_eq(s, "{\"data\":{\"id\":\"u-1\",\"name\":\"User u-1\",\"tags\":[\"a\",\"b\"]},"
	    "\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\"}");
	free(s);
	s = tderived(ev, 1);
	ck_assert_str_eq(s, "{\"data\":[\"a\",\"b\"],\"schema\":\"iglu:com.acme/tags/jsonschema/1-0-0\"}");
	free(s);
	s = tderived(ev, 2);
	ck_assert_str_eq(s, "{\"data\":\"User u-1\",\"schema\":\"iglu:com.acme/name/jsonschema/1-0-0\"}");
	free(s);
	ck_assert_int_eq(hits("/user/u-1"), 1);       /* three outputs, one request */
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

START_TEST(missing_inputs_mean_no_lookup)
{
	struct fixture f = load(conf("GET", "/user/{{uid}}?app={{app}}", 2000, USER_INPUTS, RECORD_OUT, 10, 60, NULL));
	struct fixture g = load(conf("GET", "/user/{{uid}}/{{nokey}}", 2000, USER_INPUTS, RECORD_OUT, 10, 60, NULL));
	struct enrich_event *ev = event(NULL, "shop"), *ev2 = event("u-missing", NULL);
	struct enrich_event *ev3 = event("u-missing", "shop");
	json_t *fail;

	ck_assert_int_eq(run(&f, ev, &fail), 0);       /* user_id null */
	ck_assert_int_eq(json_array_size(fail), 0);
	json_decref(fail);
	ck_assert_int_eq(run(&f, ev2, &fail), 0);      /* no entity matches the criterion */
	json_decref(fail);
	ck_assert_int_eq(run(&g, ev3, &fail), 0);      /* a placeholder without an input */
	ck_assert_int_eq(json_array_size(fail), 0);
	json_decref(fail);
	ck_assert_ptr_null(ev->derived);
	ck_assert_ptr_null(ev2->derived);
	ck_assert_ptr_null(ev3->derived);
	ck_assert_int_eq(hits("/user/u-missing"), 0);
	tev_free(ev);
	tev_free(ev2);
	tev_free(ev3);
	unload(&f);
	unload(&g);
}
END_TEST

/* Values are URL-encoded as Java's URLEncoder does; a JSON input that selects nothing is "". */
START_TEST(url_encoding_and_stringified_json)
{
	struct fixture f = load(conf("GET", "/user/{{uid}}x{{app}}", 2000,
	    "[{\"key\":\"uid\",\"pojo\":{\"field\":\"user_id\"}},"
	    "{\"key\":\"app\",\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/app/jsonschema/1-*-*\",\"jsonPath\":\"$.nothing\"}}]",
	    RECORD_OUT, 10, 60, NULL));
	struct enrich_event *ev = event("a b/\xc3\xa9*~", "shop");
	json_t *fail;

	ck_assert_int_eq(run(&f, ev, &fail), 0);
	ck_assert_int_eq(hits("/user/a+b%2F%C3%A9*%7Ex"), 1);
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

START_TEST(cache_hits_and_ttl)
{
	/* A 3 s TTL: the five lookups below must all fall inside it even on a loaded machine
	 * (with 1 s, a CI run under load saw the entry expire between them). Stored and checked in
	 * whole seconds, so an entry is stale 3 to 4 s after it was stored. */
	struct fixture f = load(conf("GET", "/user/{{uid}}", 2000, USER_INPUTS, RECORD_OUT, 10, 3, NULL));
	struct fixture nocache = load(conf("GET", "/user/{{uid}}", 2000, USER_INPUTS, RECORD_OUT, 0, 60, NULL));
	json_t *first[2] = { NULL, NULL };
	int i;

	for (i = 0; i < 5; i++) {
		struct enrich_event *ev = event(i % 2 ? "c-1" : "c-2", "x");
		json_t *fail, *e;
		ck_assert_int_eq(run(&f, ev, &fail), 0);
		ck_assert_int_eq(json_array_size(ev->derived), 1);
		/* a cached answer gives its context again: the same entity, the right user's */
		e = json_array_get(ev->derived, 0);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "data"), "id")),
		    i % 2 ? "c-1" : "c-2");
		if (first[i % 2] == NULL)
			first[i % 2] = json_incref(e);
		else
			ck_assert_ptr_eq(e, first[i % 2]);
		json_decref(fail);
		tev_free(ev);
	}
	json_decref(first[0]);
	json_decref(first[1]);
	ck_assert_int_eq(hits("/user/c-1"), 1);
	ck_assert_int_eq(hits("/user/c-2"), 1);
	{
		/* past the TTL the next event asks again: poll for it, up to 15 s */
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			struct enrich_event *ev = event("c-1", "x");
			json_t *fail;
			ck_assert_int_eq(run(&f, ev, &fail), 0);
			json_decref(fail);
			tev_free(ev);
			if (hits("/user/c-1") == 2)
				break;
			clock_gettime(CLOCK_MONOTONIC, &t);
			ck_assert_msg(t.tv_sec - t0.tv_sec < 15, "the cached answer never expired");
			usleep(100000);
		}
	}
	for (i = 0; i < 3; i++) {                     /* size 0: every event asks */
		struct enrich_event *ev = event("c-3", "x");
		json_t *fail;
		ck_assert_int_eq(run(&nocache, ev, &fail), 0);
		ck_assert_int_eq(json_array_size(ev->derived), 1);
		json_decref(fail);
		tev_free(ev);
	}
	ck_assert_int_eq(hits("/user/c-3"), 3);
	unload(&f);
	unload(&nocache);
}
END_TEST

/* A lookup that fails after its TTL answers with the last success (CachingEvaluator). */
START_TEST(last_success_answers_for_a_failure)
{
	struct fixture f = load(conf("GET", "/flaky/{{uid}}", 2000, USER_INPUTS, RECORD_OUT, 10, 1, NULL));
	struct enrich_event *ev = event("f-1", "x"), *ev2 = event("f-1", "x");
	json_t *fail;

	ck_assert_int_eq(run(&f, ev, &fail), 0);
	json_decref(fail);
	sleep(3);
	ck_assert_int_eq(run(&f, ev2, &fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_int_eq(json_array_size(ev2->derived), 1);
	ck_assert_int_eq(hits("/flaky/f-1"), 2);
	json_decref(fail);
	tev_free(ev);
	tev_free(ev2);
	unload(&f);
}
END_TEST

START_TEST(failures)
{
	static const struct {
		const char *path, *out, *want;
		int timeout;
	} cases[] = {
		{ "/status/500?u={{uid}}", RECORD_OUT, "Request failed with status 500", 2000 },
		{ "/status/404?u={{uid}}", RECORD_OUT, "Request failed with status 404", 2000 },
		{ "/garbage?u={{uid}}", RECORD_OUT, "Response is not JSON: ", 2000 },
		{ "/slow/3000/{{uid}}", RECORD_OUT, "Request timed out after 300 ms", 300 },
		{ "/user/{{uid}}", "[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.nothing\"}}]",
		  "API Request enrichment:Value not found Error: no values were found by JSON Path [$.nothing] in "
		  "[{\"record\":{\"id\":\"fail\",\"name\":\"User fail\",\"tags\":[\"a\",\"b\"]},\"n\":", 2000 },
		{ "/empty?u={{uid}}", "[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.a[*]\"}}]",
		  "no values were found by JSON Path [$.a[*]] in [{}]", 2000 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f = load(conf("GET", cases[i].path, cases[i].timeout, USER_INPUTS, cases[i].out, 10, 60, NULL));
		struct fixture g = load(conf("GET", cases[i].path, cases[i].timeout, USER_INPUTS, cases[i].out, 10, 60,
		    ",\"ignoreOnError\":true"));
		struct enrich_event *ev = event("fail", "x");
		struct timespec t0, t1;
		json_t *fail;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(run(&f, ev, &fail), -1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ck_assert_msg(strstr(failure_msg(fail, 0), cases[i].want) != NULL, "%s: \"%s\"",
		    cases[i].path, failure_msg(fail, 0));
		ck_assert_msg(t1.tv_sec - t0.tv_sec < 3, "%s took too long", cases[i].path);
		ck_assert_ptr_null(ev->derived);
		json_decref(fail);
		ck_assert_int_eq(run(&g, ev, &fail), 0);     /* ignoreOnError: nothing, no failure */
		ck_assert_int_eq(json_array_size(fail), 0);
		ck_assert_ptr_null(ev->derived);
		json_decref(fail);
		tev_free(ev);
		unload(&f);
		unload(&g);
	}
}
END_TEST

START_TEST(connection_refused)
{
	char text[8192];
	int saved = port;
	struct fixture f;
	struct enrich_event *ev = event("u", "x");
	json_t *fail;

	port = 1;   /* nothing listens on port 1 */
	snprintf(text, sizeof(text), "%s", conf("GET", "/user/{{uid}}", 1000, USER_INPUTS, RECORD_OUT, 10, 60, NULL));
	port = saved;
	f = load(text);
	ck_assert_int_eq(run(&f, ev, &fail), -1);
	ck_assert_msg(strstr(failure_msg(fail, 0), "Request failed: ") != NULL, "%s", failure_msg(fail, 0));
	json_decref(fail);
	tev_free(ev);
	unload(&f);
}
END_TEST

START_TEST(basic_auth_and_post)
{
	struct fixture ok = load(conf("GET", "/auth/{{uid}}", 2000, USER_INPUTS, RECORD_OUT, 10, 60, "httpBasic"));
	struct fixture no = load(conf("GET", "/auth/{{uid}}", 2000, USER_INPUTS, RECORD_OUT, 10, 60, NULL));
	struct fixture post = load(conf("POST", "/echo?u={{uid}}", 2000, USER_INPUTS,
	    "[{\"schema\":\"iglu:com.acme/echo/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$\"}}]", 10, 60, NULL));
	struct fixture put = load(conf("PUT", "/echo?u={{uid}}", 2000, USER_INPUTS,
	    "[{\"schema\":\"iglu:com.acme/echo/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$.method\"}}]", 10, 60, NULL));
	struct enrich_event *ev = event("a-1", "shop");
	json_t *fail;
	char *s;

	ck_assert_int_eq(run(&ok, ev, &fail), 0);
	ck_assert_int_eq(json_array_size(ev->derived), 1);
	json_decref(fail);
	ck_assert_int_eq(run(&no, ev, &fail), -1);
	ck_assert_str_eq(failure_msg(fail, 0), "Request failed with status 401");
	json_decref(fail);
	ck_assert_int_eq(run(&post, ev, &fail), 0);
	s = tderived(ev, 1);
	ck_assert_str_eq(s, "{\"data\":{\"body\":{\"app\":\"shop\",\"uid\":\"a-1\"},\"contentType\":\"application/json\","
	    "\"method\":\"POST\"},\"schema\":\"iglu:com.acme/echo/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);
	ck_assert_int_eq(run(&put, ev, &fail), 0);
	s = tderived(ev, 2);
	ck_assert_str_eq(s, "{\"data\":\"PUT\",\"schema\":\"iglu:com.acme/echo/jsonschema/1-0-0\"}");
	free(s);
	json_decref(fail);
	tev_free(ev);
	unload(&ok);
	unload(&no);
	unload(&post);
	unload(&put);
}
END_TEST

START_TEST(configuration_errors)
{
	load_fails(conf("GET", "/x", 1000, "[{\"key\":\"k\",\"pojo\":{\"field\":\"no_such_column\"}}]", RECORD_OUT, 1, 1, NULL),
	    "pojo field no_such_column is not an atomic field");
	load_fails(conf("GET", "/x", 1000, "[{\"key\":\"k\",\"json\":{\"field\":\"contexts\",\"schemaCriterion\":"
	    "\"iglu:a/b/jsonschema/1-*-*\",\"jsonPath\":\"$.a[\"}}]", RECORD_OUT, 1, 1, NULL),
	    "parameters.inputs[0].json: $.a[: JSONPath");
	load_fails(conf("GET", "/x", 1000, "[]", "[{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"json\":{\"jsonPath\":\"$..\"}}]", 1, 1, NULL),
	    "parameters.outputs[0].json.jsonPath $..: JSONPath");
	load_fails(conf("DELETE", "/x", 1000, "[]", RECORD_OUT, 1, 1, NULL), "GET, POST or PUT");
}
END_TEST

static void
start_server(void)
{
	server = tapi_server_start(NULL, &port);
}

int
main(void)
{
	Suite *s = suite_create("enr_api_request");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	start_server();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, inputs_outputs_and_one_request);
	tcase_add_test(tc, missing_inputs_mean_no_lookup);
	tcase_add_test(tc, url_encoding_and_stringified_json);
	tcase_add_test(tc, cache_hits_and_ttl);
	tcase_add_test(tc, last_success_answers_for_a_failure);
	tcase_add_test(tc, failures);
	tcase_add_test(tc, connection_refused);
	tcase_add_test(tc, basic_auth_and_post);
	tcase_add_test(tc, configuration_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	return nf == 0 ? 0 : 1;
}
