/*
 * Unit tests for pg-sink/pg_schema: JSON Schema -> columns as Snowplow's Postgres Loader 0.3.3
 * derives them with schema-ddl 0.14.1. The cases are those of the loader's TypeSpec.scala
 * (snowplow-incubator/snowplow-postgres-loader, modules/common/src/test/.../shredding/) and of
 * schema-ddl's FlatSchemaSpec.scala (snowplow/schema-ddl 0.14.1, modules/core/src/test/.../
 * migrations/), written as the columns they lead to; the names follow StringUtils.snakeCase.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "iglu.h"
#include "../../pg-sink/pg_schema.h"

/* The columns of schemas (JSON texts, oldest first) as "name TYPE[ NN]; ...". */
static char *
cols_of_n(const char *const *texts, size_t n)
{
	json_t *docs[8];
	struct pgcols c;
	struct buf b;
	char err[256], tb[64];
	size_t i;

	ck_assert_uint_le(n, 8);
	for (i = 0; i < n; i++) {
		docs[i] = json_loads(texts[i], 0, NULL);
		ck_assert_ptr_nonnull(docs[i]);
	}
	buf_init(&b, 0);
	buf_append_str(&b, "");
	if (pgschema_columns((const json_t *const *)docs, n, &c, err, sizeof(err)) == -1) {
		buf_printf(&b, "error: %s", err);
	} else {
		for (i = 0; i < c.n; i++)
			buf_printf(&b, "%s%s %s%s", i ? "; " : "", c.v[i].name,
			    pgschema_type_sql(&c.v[i], tb, sizeof(tb)), c.v[i].notnull ? " NN" : "");
		pgcols_free(&c);
	}
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	return b.data;
}

static char *
cols_of(const char *text)
{
	return cols_of_n(&text, 1);
}

/* One required property "p" with schema prop: TypeSpec calls getDataType on a schema that
 * FlatSchema.withLeaf left alone, which is what a required property is. */
static char *
type_of(const char *prop)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"type\":\"object\",\"properties\":{\"p\":%s},"
	    "\"required\":[\"p\"]}", prop);
	return cols_of(text);
}

#define TYPE_IS(prop, want) do { char *got_ = type_of(prop); \
	ck_assert_msg(strcmp(got_, "p " want) == 0, "%s: got '%s', want 'p %s'", prop, got_, want); \
	free(got_); } while (0)
#define COLS_ARE(schema, want) do { char *got_ = cols_of(schema); \
	ck_assert_msg(strcmp(got_, want) == 0, "got '%s', want '%s'", got_, want); \
	free(got_); } while (0)

START_TEST(type_spec)
{
	/* TypeSpec "getDataType should ..." */
	TYPE_IS("{\"type\":\"string\",\"format\":\"date-time\"}", "TIMESTAMP NN");
	TYPE_IS("{\"type\":\"array\"}", "JSONB NN");
	TYPE_IS("{\"type\":\"integer\"}", "BIGINT NN");
	TYPE_IS("{\"type\":\"integer\",\"maximum\":100}", "INTEGER NN");
	TYPE_IS("{\"type\":\"integer\",\"maximum\":10000000000}", "BIGINT NN");
	TYPE_IS("{\"type\":\"number\"}", "DOUBLE PRECISION NN");
	TYPE_IS("{\"type\":\"boolean\"}", "BOOLEAN NN");
	TYPE_IS("{\"type\":\"string\",\"minLength\":42,\"maxLength\":42}", "CHAR(42) NN");
	TYPE_IS("{\"type\":\"string\",\"format\":\"uuid\"}", "UUID NN");
	TYPE_IS("{\"type\":\"string\",\"maxLength\":42}", "VARCHAR(42) NN");
	TYPE_IS("{\"enum\":[\"xxx\",\"yyy\"]}", "VARCHAR(3) NN");
	TYPE_IS("{\"enum\":[1,2]}", "INTEGER NN");
	TYPE_IS("{\"enum\":[1,2],\"type\":\"integer\"}", "INTEGER NN");
	TYPE_IS("{\"enum\":[12345,\"y\"]}", "JSONB NN");
}
END_TEST

START_TEST(type_more)
{
	/* the rest of Type.dataTypeSuggestions, in its order */
	TYPE_IS("{\"type\":\"string\",\"format\":\"date\"}", "DATE NN");
	TYPE_IS("{\"type\":[\"string\",\"integer\"]}", "JSONB NN");       /* a union */
	TYPE_IS("{\"type\":[\"integer\",\"number\"]}", "DOUBLE PRECISION NN");
	TYPE_IS("{\"type\":\"integer\",\"enum\":[1,3000000000]}", "BIGINT NN");
	TYPE_IS("{\"enum\":[1,3000000000]}", "BIGINT NN");
	TYPE_IS("{\"type\":\"number\",\"multipleOf\":1}", "INTEGER NN");  /* integerSuggestion first */
	TYPE_IS("{\"type\":\"number\",\"multipleOf\":0.01}", "DOUBLE PRECISION NN");
	TYPE_IS("{\"enum\":[true,false]}", "JSONB NN");   /* isComplexEnum: non-number and boolean */
	TYPE_IS("{\"type\":\"object\"}", "JSONB NN");
	TYPE_IS("{}", "JSONB NN");
	TYPE_IS("{\"type\":\"string\",\"enum\":[\"a\",\"bcd\"]}", "VARCHAR(3) NN");
	TYPE_IS("{\"type\":\"string\",\"enum\":[\"a\",1]}", "JSONB NN");
	TYPE_IS("{\"enum\":[\"\\u00e9\\ud83d\\ude00\"]}", "VARCHAR(3) NN");    /* UTF-16 units */
	/* PostgreSQL's limits, where the loader would fail to create the table */
	TYPE_IS("{\"type\":\"string\",\"maxLength\":0}", "VARCHAR(1) NN");
	TYPE_IS("{\"type\":\"string\",\"maxLength\":100000000}", "VARCHAR NN");
	/* an optional property gets null in its type first (FlatSchema.withLeaf) */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"p\":{\"enum\":[1,2]}}}", "p JSONB");
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"p\":{\"enum\":[\"ab\",null]}}}", "p VARCHAR(2)");
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"integer\"}}}", "p BIGINT");
}
END_TEST

START_TEST(flat_schema_spec)
{
	/* "recognize a JSON schema without properties" and the empty self-describing schema */
	COLS_ARE("{\"type\":\"object\"}", "");
	COLS_ARE("{\"description\":\"Wildcard schema\",\"self\":{\"vendor\":\"com.snowplowanalytics.iglu\","
	    "\"name\":\"anything-a\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"}}", "");
	/* "recognize an object property without 'properties' as primitive" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"nested\":{\"type\":\"object\",\"properties\":"
	    "{\"object_without_properties\":{\"type\":\"object\"}}}}}",
	    "nested.object_without_properties JSONB");
	/* "recognize an array as primitive" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"string\"}}},\"additionalProperties\":false}", "foo JSONB");
	/* "transform [object,string] union type into single primitive" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{"
	    "\"foo\":{\"type\":[\"string\",\"object\"],\"properties\":{\"one\":{\"type\":\"string\"},"
	    "\"two\":{\"type\":\"integer\"}}},"
	    "\"a_field\":{\"type\":[\"string\",\"integer\"]},\"b_field\":{\"type\":\"string\"},"
	    "\"c_field\":{\"type\":[\"integer\",\"number\"]},"
	    "\"d_field\":{\"type\":\"object\",\"properties\":{\"one\":{\"type\":[\"integer\",\"object\"],"
	    "\"properties\":{\"two\":{\"type\":\"string\"},\"three\":{\"type\":\"integer\"}}}}}},"
	    "\"additionalProperties\":false}",
	    "a_field JSONB; b_field VARCHAR(4096); c_field DOUBLE PRECISION; d_field.one JSONB; foo JSONB");
	/* "recognize oneOf with object and string as primitive" and "recognize an oneOf as sum type" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"union\":{\"oneOf\":[{\"type\":\"object\","
	    "\"properties\":{\"object_without_properties\":{\"type\":\"object\"}}},{\"type\":\"string\"}]}}}",
	    "union JSONB");
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"union\":{\"oneOf\":[{\"type\":\"object\","
	    "\"properties\":{\"one\":{\"type\":\"integer\"}}},{\"type\":\"object\",\"properties\":"
	    "{\"two\":{\"type\":\"string\"}}}]}}}", "union JSONB");
	/* "recognize an optional enum field" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"enum_field\":{\"enum\":[\"event\",\"exception\","
	    "\"item\"]},\"nonInteractionHit\":{\"type\":[\"boolean\",\"null\"]}}}",
	    "enum_field VARCHAR(9); non_interaction_hit BOOLEAN");
	/* "recognize a field without type" */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"a_field\":{\"type\":\"string\"},\"b_field\":{}}}",
	    "a_field VARCHAR(4096); b_field JSONB");
	/* "add all required properties and skips not-nested required" */
	COLS_ARE("{\"type\":\"object\",\"required\":[\"foo\"],\"properties\":{\"foo\":{\"type\":\"object\","
	    "\"required\":[\"one\"],\"properties\":{\"one\":{\"type\":\"string\"},\"nonRequiredNested\":"
	    "{\"type\":\"object\",\"required\":[\"nestedRequired\"],\"properties\":{\"nestedRequired\":"
	    "{\"type\":\"integer\"}}}}}}}",
	    "foo.one VARCHAR(4096) NN; foo.non_required_nested.nested_required BIGINT");
	/* "skip properties inside patternProperties" */
	COLS_ARE("{\"type\":\"object\",\"required\":[\"one\"],\"properties\":{\"one\":{\"type\":\"object\","
	    "\"required\":[\"two\"],\"properties\":{\"two\":{\"type\":\"string\"},\"withProps\":{\"type\":"
	    "\"object\",\"patternProperties\":{\".excluded\":{\"type\":\"string\"},\".excluded-with-required\":"
	    "{\"type\":\"object\",\"properties\":{\"also-excluded\":{\"type\":\"integer\"}}}},\"properties\":"
	    "{\"included\":{\"type\":\"integer\"}}}}}}}",
	    "one.two VARCHAR(4096) NN; one.with_props.included BIGINT");
}
END_TEST

START_TEST(extract_properties)
{
	/* FlatSchemaSpec "create correct ordered subschemas from 1-0-0 to 1-0-1 / 1-0-2" */
	const char *v100 = "{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"string\"}},"
	    "\"additionalProperties\":false}";
	const char *v101a = "{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"string\","
	    "\"maxLength\":20},\"a_field\":{\"type\":\"integer\"},\"b_field\":{\"type\":\"integer\"}},"
	    "\"required\":[\"b_field\"],\"additionalProperties\":false}";
	const char *v101b = "{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"string\","
	    "\"maxLength\":20},\"bar\":{\"type\":\"integer\",\"maximum\":4000}},"
	    "\"additionalProperties\":false}";
	const char *v102b = "{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"string\","
	    "\"maxLength\":20},\"bar\":{\"type\":\"integer\",\"maximum\":4000},\"aField\":{\"type\":"
	    "\"integer\"},\"cField\":{\"type\":\"integer\"},\"dField\":{\"type\":\"string\"}},"
	    "\"required\":[\"bar\",\"cField\"],\"additionalProperties\":false}";
	const char *a[2] = { v100, v101a }, *b[3] = { v100, v101b, v102b };
	char *got;

	got = cols_of_n(a, 2);
	ck_assert_str_eq(got, "foo VARCHAR(4096); b_field BIGINT NN; a_field BIGINT");
	free(got);
	/* the types of the origin stay (foo keeps VARCHAR(4096)) */
	got = cols_of_n(b, 3);
	ck_assert_str_eq(got, "foo VARCHAR(4096); bar INTEGER; c_field BIGINT NN; a_field BIGINT; "
	    "d_field VARCHAR(4096)");
	free(got);
}
END_TEST

START_TEST(pg_sink_rules)
{
	/* pg-sink's own rule: no NOT NULL under an object that may be null */
	COLS_ARE("{\"type\":\"object\",\"required\":[\"a\"],\"properties\":{\"a\":{\"type\":[\"object\","
	    "\"null\"],\"required\":[\"b\"],\"properties\":{\"b\":{\"type\":\"string\"}}}}}",
	    "a.b VARCHAR(4096)");
	/* an object without a type but with properties: its leaves are opened (removeRoots) */
	COLS_ARE("{\"properties\":{\"x\":{\"properties\":{\"y\":{\"type\":\"boolean\"}}}}}", "x.y BOOLEAN");
	/* names: a property with a dot and a nested path collide; the first wins */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"a.b\":{\"type\":\"string\"},\"a\":{\"type\":"
	    "\"object\",\"properties\":{\"b\":{\"type\":\"integer\"}}}}}", "a.b VARCHAR(4096)");
	/* cut to 63 bytes, on a character boundary */
	COLS_ARE("{\"type\":\"object\",\"properties\":{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9x\":{\"type\":\"boolean\"}}}",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa BOOLEAN");
	/* not a schema */
	COLS_ARE("[]", "error: the schema is not a JSON object");
}
END_TEST

static char *
snake(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "");
	ck_assert_int_eq(pgschema_snake(s, strlen(s), &b), 0);
	return b.data;
}

#define SNAKE_IS(in, want) do { char *g_ = snake(in); ck_assert_str_eq(g_, want); free(g_); } while (0)

START_TEST(names)
{
	struct iglu_key k;
	char name[PGSCHEMA_IDENT_MAX + 1];

	SNAKE_IS("PascalCase", "pascal_case");
	SNAKE_IS("HTMLParser", "html_parser");
	SNAKE_IS("myURLClick", "my_url_click");
	SNAKE_IS("ABCDefGHIjk", "abc_def_gh_ijk");
	SNAKE_IS("aBC", "a_bc");
	SNAKE_IS("a1B", "a1_b");
	SNAKE_IS("ABC", "abc");
	SNAKE_IS("with-dash", "with_dash");
	SNAKE_IS("already_snake", "already_snake");
	SNAKE_IS("useragentFamily", "useragent_family");
	/* StringUtils.getTableName's own example */
	ck_assert_int_eq(iglu_key_parse("iglu:com.acme/PascalCase/jsonschema/13-0-0", &k, NULL), 0);
	ck_assert_int_eq(pgschema_table_name(&k, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "com_acme_pascal_case_13");
	ck_assert_int_eq(iglu_key_parse("iglu:com.Snow-Plow/button_click/jsonschema/2-1-0", &k, NULL), 0);
	ck_assert_int_eq(pgschema_table_name(&k, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "com_snow_plow_button_click_2");
	ck_assert_int_eq(pgschema_table_name(&k, name, 8), -1);
}
END_TEST

/* The cell of a column of the given property schema for data. */
static char *
cell(const char *prop, const char *data, int *rc)
{
	char text[1024], err[512];
	json_t *doc, *d;
	struct pgcols c;
	struct buf b;

	snprintf(text, sizeof(text), "{\"type\":\"object\",\"properties\":{\"p\":%s}}", prop);
	doc = json_loads(text, 0, NULL);
	d = json_loads(data, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(pgschema_columns((const json_t *const *)&doc, 1, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 1);
	buf_init(&b, 0);
	buf_append_str(&b, "");
	*rc = pgschema_cell(&c.v[0], d, &b, err, sizeof(err));
	if (*rc == -1) {
		buf_reset(&b);
		buf_append_str(&b, err);
	}
	pgcols_free(&c);
	json_decref(doc);
	json_decref(d);
	return b.data;
}

#define CELL_IS(prop, data, want) do { int rc_; char *g_ = cell(prop, data, &rc_); \
	ck_assert_msg(rc_ == 0 && strcmp(g_, want) == 0, "%s %s: got %d '%s'", prop, data, rc_, g_); \
	free(g_); } while (0)
#define CELL_FAILS(prop, data, want) do { int rc_; char *g_ = cell(prop, data, &rc_); \
	ck_assert_msg(rc_ == -1 && strstr(g_, want), "%s %s: got %d '%s'", prop, data, rc_, g_); \
	free(g_); } while (0)

START_TEST(cells)
{
	/* transform.cast, value by value */
	CELL_IS("{\"type\":\"string\"}", "{}", "\\N");
	CELL_IS("{\"type\":\"string\"}", "{\"p\":null}", "\\N");
	CELL_IS("{\"type\":\"string\"}", "{\"p\":\"a\\tb\\nc\\\\d\"}", "a\\tb\\nc\\\\d");
	CELL_IS("{\"type\":\"string\"}", "{\"p\":5}", "5");             /* noSpaces of non-strings */
	CELL_IS("{\"type\":\"string\"}", "{\"p\":{\"a\":[1,true]}}", "{\"a\":[1,true]}");
	CELL_IS("{\"type\":\"boolean\"}", "{\"p\":false}", "f");
	CELL_FAILS("{\"type\":\"boolean\"}", "{\"p\":\"false\"}", "Invalid type BOOLEAN for value \"false\"");
	CELL_IS("{\"type\":\"integer\",\"maximum\":9}", "{\"p\":-7}", "-7");
	CELL_IS("{\"type\":\"integer\",\"maximum\":9}", "{\"p\":3.0}", "3");     /* circe's toInt */
	CELL_FAILS("{\"type\":\"integer\",\"maximum\":9}", "{\"p\":3000000000}", "Invalid type INTEGER");
	CELL_FAILS("{\"type\":\"integer\",\"maximum\":9}", "{\"p\":\"3\"}", "Invalid type INTEGER");
	CELL_IS("{\"type\":\"integer\"}", "{\"p\":9007199254740993}", "9007199254740993");
	CELL_IS("{\"type\":\"number\"}", "{\"p\":0.1}", "0.1");
	CELL_IS("{\"type\":\"number\"}", "{\"p\":12}", "12");
	CELL_IS("{\"type\":\"string\",\"format\":\"date-time\"}", "{\"p\":\"2023-11-14T23:13:20.123+01:00\"}",
	    "2023-11-14 22:13:20.123");
	CELL_FAILS("{\"type\":\"string\",\"format\":\"date-time\"}", "{\"p\":\"yesterday\"}", "TIMESTAMP");
	CELL_IS("{\"type\":\"string\",\"format\":\"date\"}", "{\"p\":\"2024-02-29\"}", "2024-02-29");
	CELL_FAILS("{\"type\":\"string\",\"format\":\"date\"}", "{\"p\":\"2023-02-29\"}", "DATE");
	CELL_IS("{\"type\":\"array\"}", "{\"p\":[\"x\\\\y\",null]}", "[\"x\\\\\\\\y\",null]");
	CELL_IS("{\"type\":\"string\",\"format\":\"uuid\"}", "{\"p\":\"6F9619FF-8B86-D011-B42D-00C04FC964FF\"}",
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pg_schema");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, type_spec);
	tcase_add_test(tc, type_more);
	tcase_add_test(tc, flat_schema_spec);
	tcase_add_test(tc, extract_properties);
	tcase_add_test(tc, pg_sink_rules);
	tcase_add_test(tc, names);
	tcase_add_test(tc, cells);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
