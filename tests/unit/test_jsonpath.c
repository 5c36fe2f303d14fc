/* Unit tests for common/jsonpath.c: Goessner's bookstore examples (the ones Gatling's and
 * Jayway's own test suites are built on), the API request enrichment's paths from enrich's
 * ApiRequestEnrichmentSpec and OutputSpec, slices, unions, filters, recursive descent, and
 * compile errors. Each query's matches are printed as a compact JSON array and compared. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"
#include "jsonw.h"

static const char *STORE =
    "{\"store\":{\"book\":["
    "{\"category\":\"reference\",\"author\":\"Nigel Rees\",\"title\":\"Sayings of the Century\",\"price\":8.95},"
    "{\"category\":\"fiction\",\"author\":\"Evelyn Waugh\",\"title\":\"Sword of Honour\",\"price\":12.99},"
    "{\"category\":\"fiction\",\"author\":\"Herman Melville\",\"title\":\"Moby Dick\",\"isbn\":\"0-553-21311-3\",\"price\":8.99},"
    "{\"category\":\"fiction\",\"author\":\"J. R. R. Tolkien\",\"title\":\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\",\"price\":22.99}],"
    "\"bicycle\":{\"color\":\"red\",\"price\":19.95}},\"expensive\":10}";

/* The matches of path over doc as a compact JSON array (static buffer). */
static const char *
q(const char *doc, const char *path)
{
	static char out[8192];
	struct jsonpath_matches m = { NULL, 0, 0 };
	struct jsonpath *p;
	json_t *d = json_loads(doc, JSON_DECODE_ANY, NULL), *arr = json_array();
	char err[256];
	struct buf b;
	size_t i;

	ck_assert_ptr_nonnull(d);
	p = jsonpath_compile(path, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s: %s", path, err);
	ck_assert_int_ge(jsonpath_query(p, d, &m), 0);
	for (i = 0; i < m.n; i++)
		json_array_append(arr, m.v[i]);
	buf_init(&b, 0);
	jsonw_value(&b, arr);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	jsonpath_matches_free(&m);
	jsonpath_free(p);
	json_decref(arr);
	json_decref(d);
	return out;
}

START_TEST(goessner_store)
{
	static const char *const cases[][2] = {
		{ "$.store.book[*].author", "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\",\"J. R. R. Tolkien\"]" },
		{ "$..author", "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\",\"J. R. R. Tolkien\"]" },
		{ "$.store.*", NULL },   /* checked below: two nodes */
		{ "$.store..price", "[8.95,12.99,8.99,22.99,19.95]" },
		{ "$..book[2].title", "[\"Moby Dick\"]" },
		{ "$..book[-1:].title", "[\"The Lord of the Rings\"]" },
		{ "$..book[-1].title", "[\"The Lord of the Rings\"]" },
		{ "$..book[0,1].title", "[\"Sayings of the Century\",\"Sword of Honour\"]" },
		{ "$..book[:2].title", "[\"Sayings of the Century\",\"Sword of Honour\"]" },
		{ "$..book[1:3].price", "[12.99,8.99]" },
		{ "$..book[::2].price", "[8.95,8.99]" },
		{ "$..book[::-1].price", "[22.99,8.99,12.99,8.95]" },
		{ "$..book[?(@.isbn)].title", "[\"Moby Dick\",\"The Lord of the Rings\"]" },
		{ "$..book[?(@.price < 10)].title", "[\"Sayings of the Century\",\"Moby Dick\"]" },
		{ "$..book[?(@.price <= $.expensive)].price", "[8.95,8.99]" },
		{ "$..book[?(@.category == 'fiction' && @.price > 20)].author", "[\"J. R. R. Tolkien\"]" },
		{ "$..book[?(@.category != \"fiction\" || @.price == 8.99)].price", "[8.95,8.99]" },
		{ "$..book[?(!(@.isbn))].price", "[8.95,12.99]" },
		{ "$.store['bicycle']['color']", "[\"red\"]" },
		{ "$.store[\"bicycle\",'book'].color", "[\"red\"]" },
		{ "$['store']['bicycle','nothing']", "[{\"color\":\"red\",\"price\":19.95}]" },
		{ "$.expensive", "[10]" },
		{ "$", NULL },
		{ "$.nothing", "[]" },
		{ "$.store.book.author", "[]" },             /* a name on an array selects nothing */
		{ "$.expensive[0]", "[]" },
		{ "$.store.book[9]", "[]" },
		{ "$..book.length", "[]" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i][1] != NULL)
			ck_assert_msg(strcmp(q(STORE, cases[i][0]), cases[i][1]) == 0, "%s: %s",
			    cases[i][0], q(STORE, cases[i][0]));
	ck_assert_int_eq(strncmp(q(STORE, "$"), "[{\"store\":", 10), 0);
	ck_assert_int_eq(strncmp(q(STORE, "$.store.*"), "[[{\"category\"", 13), 0);
	ck_assert_int_eq(strlen(q(STORE, "$..*")) > 500, 1);
}
END_TEST

/* enrich's ApiRequestEnrichmentSpec / OutputSpec / InputSpec paths. */
START_TEST(enrich_spec_paths)
{
	ck_assert_str_eq(q("{\"record\":{\"name\":\"Fancy User\",\"company\":\"Acme\"}}", "$.record"),
	    "[{\"name\":\"Fancy User\",\"company\":\"Acme\"}]");
	ck_assert_str_eq(q("{\"value\":32}", "$.value"), "[32]");
	ck_assert_str_eq(q("{\"userId\":\"some-fancy-user-session-id\",\"sessionIndex\":1}",
	    "$.userId"), "[\"some-fancy-user-session-id\"]");
	ck_assert_str_eq(q("{\"somekey\":[1,true,\"foo\"]}", "$.somekey[*]"), "[1,true,\"foo\"]");
	ck_assert_str_eq(q("{\"data\":{\"lookupArray\":[{\"x\":1},{\"x\":2}]}}",
	    "$.data.lookupArray[?(@.x >= 2)].x"), "[2]");
	ck_assert_str_eq(q("[1,2,3]", "$[1]"), "[2]");
	ck_assert_str_eq(q("\"scalar\"", "$"), "[\"scalar\"]");
	ck_assert_str_eq(q("{\"a b\":1,\"c.d\":2}", "$['a b']"), "[1]");
	ck_assert_str_eq(q("{\"a b\":1,\"c.d\":2}", "$['c.d']"), "[2]");
	ck_assert_str_eq(q("{\"it's\":3}", "$['it\\'s']"), "[3]");
	ck_assert_str_eq(q("{\"a\":{\"a\":{\"a\":1}}}", "$..a"), "[{\"a\":{\"a\":1}},{\"a\":1},1]");
	ck_assert_str_eq(q("{\"a\":[{\"b\":null},{\"b\":false},{\"c\":1}]}", "$.a[?(@.b == null)]"),
	    "[{\"b\":null}]");
	ck_assert_str_eq(q("{\"a\":[{\"b\":null},{\"b\":false},{\"c\":1}]}", "$.a[?(@.b)]"),
	    "[{\"b\":null},{\"b\":false}]");
	ck_assert_str_eq(q("{\"a\":[{\"b\":\"x\"},{\"b\":1}]}", "$.a[?(@.b != 'x')].b"), "[1]");
	ck_assert_str_eq(q("{\"a\":{\"k\":1}}", "$.a[?(@.k == 1)]"), "[{\"k\":1}]");
	ck_assert_str_eq(q("{\"a\":[[1,2],[3]]}", "$..[0]"), "[[1,2],1,3]");
}
END_TEST

START_TEST(compile_errors)
{
	static const char *const bad[] = {
		"", "store", "$.", "$..", "$[", "$[1", "$['a]", "$[?(@.a == )]", "$[?(@.a", "$[::0]",
		"$[a]", "$.a b", "$[1,'a']", "$[?(1)]", "$[99999999999999999999]", "$[?(@.a =! 1)]",
		"$.a..", "$[?(((((((((((((((((((@.a)))))))))))))))))))]",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jsonpath *p = jsonpath_compile(bad[i], err, sizeof(err));
		ck_assert_msg(p == NULL, "%s compiled", bad[i]);
		ck_assert_msg(strstr(err, "JSONPath") != NULL, "%s: %s", bad[i], err);
	}
	{
		char *longp = malloc(JSONPATH_MAX_LEN + 10);
		memset(longp, 'a', JSONPATH_MAX_LEN + 8);
		longp[0] = '$';
		longp[1] = '.';
		longp[JSONPATH_MAX_LEN + 8] = '\0';
		ck_assert_ptr_null(jsonpath_compile(longp, err, sizeof(err)));
		free(longp);
	}
	{
		struct jsonpath *p = jsonpath_compile("$.a[0]", err, sizeof(err));
		ck_assert_str_eq(jsonpath_text(p), "$.a[0]");
		jsonpath_free(p);
	}
}
END_TEST

/* Matches are borrowed nodes of the document: a caller may change them in place. */
START_TEST(matches_are_the_documents_nodes)
{
	json_t *d = json_loads("{\"a\":[\"x\",\"y\"]}", 0, NULL);
	struct jsonpath_matches m = { NULL, 0, 0 };
	char err[128];
	struct jsonpath *p = jsonpath_compile("$.a[*]", err, sizeof(err));
	char *s;

	ck_assert_int_eq(jsonpath_query(p, d, &m), 2);
	json_string_set(m.v[1], "z");
	s = json_dumps(d, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"a\":[\"x\",\"z\"]}");
	free(s);
	m.n = 0;
	ck_assert_int_eq(jsonpath_query(p, d, &m), 2);
	ck_assert_int_eq(m.n, 2);
	jsonpath_matches_free(&m);
	jsonpath_free(p);
	json_decref(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jsonpath");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, goessner_store);
	tcase_add_test(tc, enrich_spec_paths);
	tcase_add_test(tc, compile_errors);
	tcase_add_test(tc, matches_are_the_documents_nodes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
