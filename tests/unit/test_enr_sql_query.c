/* Unit tests for sql_query_enrichment_config (enrich/enr_sql_query.c) that need no database:
 * JDBC placeholders as PostgreSQL's (outside literals, identifiers, dollar quotes and comments;
 * ?? as a literal ?), configuration errors, missing inputs (no lookup), and a database that
 * cannot be reached (upstream's two failure messages, or nothing with ignoreOnError). The
 * queries themselves run against a real PostgreSQL in tests/integration/enrich_sql_query.sh. */
#include "enr_test.h"

#define HEAD "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/1-0-1\"," \
	"\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\",\"name\":\"sql_query_enrichment_config\",\"enabled\":true,"

static char *
conf(const char *inputs, const char *db, const char *sql, const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), HEAD "\"parameters\":{\"inputs\":%s,\"database\":%s,\"query\":{\"sql\":\"%s\"},"
	    "\"output\":{\"expectedRows\":\"AT_MOST_ONE\",\"json\":{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\","
	    "\"describes\":\"ALL_ROWS\",\"propertyNames\":\"AS_IS\"}},\"cache\":{\"size\":10,\"ttl\":60}%s}}}",
	    inputs, db, sql, extra);
	return buf;
}

#define PG "{\"postgresql\":{\"host\":\"127.0.0.1\",\"port\":1,\"sslMode\":false,\"username\":\"u\",\"password\":\"secret-pw\",\"database\":\"d\"}}"
#define ONE_INPUT "[{\"placeholder\":1,\"pojo\":{\"field\":\"user_id\"}}]"

START_TEST(placeholders)
{
	static const char *const cases[][3] = {
		{ "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2", "2" },
		{ "SELECT '?', \"?\" FROM t WHERE x = ?", "SELECT '?', \"?\" FROM t WHERE x = $1", "1" },
		{ "SELECT 'it''s ?' -- a ? comment\n, ? /* ? */", "SELECT 'it''s ?' -- a ? comment\n, $1 /* ? */", "1" },
		{ "SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", "1" },
		{ "SELECT $$ ? $$, $tag$ ? $tag$, ?", "SELECT $$ ? $$, $tag$ ? $tag$, $1", "1" },
		{ "SELECT j ?? 'k' FROM t WHERE i = ?", "SELECT j ? 'k' FROM t WHERE i = $1", "1" },
		{ "SELECT 1", "SELECT 1", "0" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		int n;
		buf_init(&b, 0);
		n = enr_sql_convert_placeholders(cases[i][0], &b);
		ck_assert_msg(n == atoi(cases[i][2]), "%s: %d", cases[i][0], n);
		ck_assert_str_eq(b.data ? b.data : "", cases[i][1]);
		buf_free(&b);
	}
	{
		struct buf b;
		buf_init(&b, 0);
		ck_assert_int_eq(enr_sql_convert_placeholders("SELECT 'open", &b), -1);
		buf_free(&b);
	}
}
END_TEST

static void
load_fails(const char *text, const char *want)
{
	char err[1024], *dir = tdir_new();
	struct enrichments *e = tload_one(dir, "sql.json", text, err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not contain \"%s\"", err, want);
	ck_assert_msg(strstr(err, "secret-pw") == NULL, "the password in \"%s\"", err);
	tdir_rm(dir);
}

START_TEST(configuration_errors)
{
	load_fails(conf(ONE_INPUT, "{\"mysql\":{\"host\":\"h\",\"port\":3306,\"sslMode\":false,\"username\":\"u\","
	    "\"password\":\"secret-pw\",\"database\":\"d\"}}", "SELECT 1", ""), "MySQL is not supported by furrow");
	load_fails(conf("[{\"placeholder\":1,\"pojo\":{\"field\":\"nope\"}}]", PG, "SELECT ?", ""),
	    "pojo field nope is not an atomic field");
	load_fails(conf("[{\"placeholder\":1,\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:a/b/jsonschema/1-*-*\","
	    "\"jsonPath\":\"$[\"}}]", PG, "SELECT ?", ""), "parameters.inputs[0].json.jsonPath $[: JSONPath");
	load_fails(conf(ONE_INPUT, PG, "SELECT '?", ""), "unterminated quote");
	load_fails(conf("[{\"placeholder\":0,\"pojo\":{\"field\":\"user_id\"}}]", PG, "SELECT ?", ""), "placeholder");
}
END_TEST

START_TEST(unreachable_database)
{
	char err[1024], *dir = tdir_new(), *dir2 = tdir_new();
	struct enrichments *e = tload_one(dir, "sql.json", conf(ONE_INPUT, PG, "SELECT 1 WHERE ? = 'a'", ""), err, sizeof(err));
	struct enrichments *g = tload_one(dir2, "sql.json", conf(ONE_INPUT, PG, "SELECT 1 WHERE ? = 'a'",
	    ",\"ignoreOnError\":true"), err, sizeof(err));
	struct enrich_event *ev = tev_new(), *none = tev_new();
	json_t *fail = json_array();

	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(g);
	tev_set(ev, COL_USER_ID, "a");
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, none, fail), 0);   /* no input */
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_LATE, ev, fail), -1);
	ck_assert_int_eq(json_array_size(fail), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(fail, 0), "message"), "error")),
	    "Error while executing the sql lookup");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(json_array_get(fail, 1), "message"),
	    "error")), "SQL Query enrichment: cannot connect to 127.0.0.1:1/d: "));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(fail, 1), "enrichment"),
	    "identifier")), "sql-query");
	json_array_clear(fail);
	ck_assert_int_eq(enrichments_apply(g, ENRICH_STAGE_LATE, ev, fail), 0);
	ck_assert_int_eq(json_array_size(fail), 0);
	ck_assert_ptr_null(ev->derived);
	json_decref(fail);
	tev_free(ev);
	tev_free(none);
	enrichments_free(e);
	enrichments_free(g);
	tdir_rm(dir);
	tdir_rm(dir2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_sql_query");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, placeholders);
	tcase_add_test(tc, configuration_errors);
	tcase_add_test(tc, unreachable_database);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
