/* Unit tests for s3-sink/keys: partition templates, key layout and normalisation (sinks.md
 * §3.2-3.3), Iglu URI parsing and bad-row schema extraction (§3.8), URL and spool encodings. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../s3-sink/keys.h"

static struct tm
tm_at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm t;

	memset(&t, 0, sizeof(t));
	t.tm_year = y - 1900;
	t.tm_mon = mo - 1;
	t.tm_mday = d;
	t.tm_hour = h;
	t.tm_min = mi;
	t.tm_sec = s;
	return t;
}

static const char *UUID = "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e";

START_TEST(template_checks)
{
	static const struct { const char *t; int flags; int ok; const char *msg; } cases[] = {
		{ "", 0, 1, NULL },
		{ "{yyyy}/{MM}/{dd}/{HH}", 0, 1, NULL },
		{ "date={yyyy}-{MM}-{dd}", 0, 1, NULL },
		{ "{vendor}.{schema}", 0, 0, "Enriched events can only get partitioned by date and time" },
		{ "{model}", 0, 0, "Enriched events" },
		{ "{vendor}.{schema}/model={model}/{format}", S3KEY_ALLOW_SCHEMA, 1, NULL },
		{ "{mm}", S3KEY_ALLOW_SCHEMA, 0, "unknown placeholder {mm}" },
		{ "{name}", S3KEY_ALLOW_SCHEMA, 0, "unknown placeholder {name}" },
		{ "{yyyy", 0, 0, "unbalanced" },
		{ "yyyy}", 0, 0, "unbalanced" },
		{ "a b", 0, 0, "not allowed" },
		{ "a/../b", 0, 0, "'..'" },
		{ "a/..x/b", 0, 1, NULL },
		{ "a%2F", 0, 0, "not allowed" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = s3key_template_check(cases[i].t, cases[i].flags, err, sizeof(err));

		ck_assert_msg((rc == 0) == cases[i].ok, "template %s", cases[i].t);
		if (!cases[i].ok)
			ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: %s", cases[i].t, err);
	}
	ck_assert_int_eq(s3key_prefix_check("pre-", err, sizeof(err)), 0);
	ck_assert_int_eq(s3key_prefix_check("a/b/c-", err, sizeof(err)), 0);
	ck_assert_int_eq(s3key_prefix_check("../x", err, sizeof(err)), -1);
	ck_assert_int_eq(s3key_prefix_check("x y", err, sizeof(err)), -1);
}
END_TEST

START_TEST(expand_and_build)
{
	struct s3key_schema sc;
	struct tm t = tm_at(2023, 11, 14, 22, 13, 20);
	char part[S3KEY_MAX + 1], key[S3KEY_MAX + 1];
	const char *code;

	ck_assert_int_eq(s3key_schema_parse(
	    "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1", 78,
	    &sc, &code), 0);
	/* sinks.md §3.2 examples */
	ck_assert_int_gt(s3key_expand("{vendor}.{schema}", &sc, &t, part, sizeof(part)), 0);
	ck_assert_int_gt(s3key_build(part, "", &t, UUID, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "com.snowplowanalytics.snowplow.badrows.schema_violations/"
	    "2023-11-14-221320-0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz");
	ck_assert_int_gt(s3key_expand("{vendor}.{schema}/model={model}/date={yyyy}-{MM}-{dd}", &sc,
	    &t, part, sizeof(part)), 0);
	ck_assert_int_gt(s3key_build(part, "pre-", &t, UUID, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "com.snowplowanalytics.snowplow.badrows.schema_violations/model=2/"
	    "date=2023-11-14/pre-2023-11-14-221320-0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz");
	/* no partition, and the hour placeholder */
	ck_assert_int_gt(s3key_build("", "", &t, UUID, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "2023-11-14-221320-0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz");
	ck_assert_int_eq(s3key_expand("{HH}h/{format}", &sc, &t, part, sizeof(part)), 14);
	ck_assert_str_eq(part, "22h/jsonschema");
	/* a schema placeholder with no schema cannot be filled */
	ck_assert_int_eq(s3key_expand("{vendor}", NULL, &t, part, sizeof(part)), -1);
	/* out too small */
	ck_assert_int_eq(s3key_expand("{vendor}", &sc, &t, part, 8), -1);
}
END_TEST

START_TEST(normalise)
{
	static const struct { const char *part, *prefix, *want; } cases[] = {
		{ "/a//b/", "", "a/b/X" },
		{ "./a/./b", "", "a/b/X" },
		{ "", "dir/sub/pre-", "dir/sub/pre-X" },
		{ "", "/dir//", "dir/X" },
		{ "p", "./", "p/X" },
		{ "a/../b", "", NULL },
		{ "", "../", NULL },
	};
	struct tm t = tm_at(2024, 1, 2, 3, 4, 5);
	char key[S3KEY_MAX + 1], want[256];
	const char *x = "2024-01-02-030405-0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz";
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = s3key_build(cases[i].part, cases[i].prefix, &t, UUID, key, sizeof(key));
		if (cases[i].want == NULL) {
			ck_assert_msg(rc == -1, "case %zu accepted: %s", i, key);
			continue;
		}
		ck_assert_int_gt(rc, 0);
		snprintf(want, sizeof(want), "%.*s%s", (int)(strlen(cases[i].want) - 1),
		    cases[i].want, x);
		/* the prefix is glued to the time: "pre-X" means "pre-2024..." */
		ck_assert_str_eq(key, want);
	}
}
END_TEST

/* Codes as IGLU-CORE's SchemaKey.fromUri gives them (iglu-scala-core SchemaKey.scala): a version
 * without exactly two dashes fails schemaUriRigidRegex (INVALID_IGLUURI); one with the right
 * shape but not a SchemaVer is INVALID_SCHEMAVER. */
START_TEST(iglu_uris)
{
	static const struct { const char *uri; const char *code; const char *model; } cases[] = {
		{ "iglu:com.acme/ev/jsonschema/1-0-0", NULL, "1" },
		{ "iglu:com.acme/ev_x-1/jsonschema/12-3-45", NULL, "12" },
		{ "iglu:com.acme/ev/jsonschema/0-1-0", "INVALID_SCHEMAVER", NULL },
		{ "iglu:com.acme/ev/jsonschema/1-0", "INVALID_IGLUURI", NULL },
		{ "iglu:com.acme/ev/jsonschema/1-01-0", "INVALID_SCHEMAVER", NULL },
		{ "iglu:com.acme/ev/jsonschema/1-0-0-0", "INVALID_IGLUURI", NULL },
		{ "iglu:com.acme/ev/jsonschema/", "INVALID_IGLUURI", NULL },
		{ "iglu:com.acme/ev/jsonschema/1--0", "INVALID_SCHEMAVER", NULL },
		{ "iglu:com.acme/ev/jsonschema/1-0-2147483647", NULL, "1" },
		{ "iglu:com.acme/ev/jsonschema/1-0-2147483648", "INVALID_SCHEMAVER", NULL },
		{ "iglu:com.acme/ev/1-0-0", "INVALID_IGLUURI", NULL },
		{ "iglu:com acme/ev/jsonschema/1-0-0", "INVALID_IGLUURI", NULL },
		{ "iglu:com.acme/e.v/jsonschema/1-0-0", "INVALID_IGLUURI", NULL },
		{ "iglu:../ev/jsonschema/1-0-0", "INVALID_IGLUURI", NULL },
		{ "http://com.acme/ev/jsonschema/1-0-0", "INVALID_IGLUURI", NULL },
		{ "", "INVALID_IGLUURI", NULL },
	};
	struct s3key_schema s;
	const char *code;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = s3key_schema_parse(cases[i].uri, strlen(cases[i].uri), &s, &code);
		if (cases[i].code == NULL) {
			ck_assert_msg(rc == 0, "%s", cases[i].uri);
			ck_assert_str_eq(s.model, cases[i].model);
		} else {
			ck_assert_msg(rc == -1, "%s accepted", cases[i].uri);
			ck_assert_str_eq(code, cases[i].code);
		}
	}
}
END_TEST

#define BADVER "{\"schema\":\"iglu:a/b/c/1-01-0\",\"data\":{}}"
#define BADURI "{\"schema\":\"x\",\"data\":{}}"

START_TEST(badrow_schema)
{
	struct s3key_schema s;
	char err[256];
	const char *ok = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/"
	    "size_violation/jsonschema/1-0-0\",\"data\":{\"payload\":\"x\"}}";

	ck_assert_int_eq(s3key_badrow_schema(ok, strlen(ok), &s, err, sizeof(err)), S3KEY_ROW_OK);
	ck_assert_str_eq(s.vendor, "com.snowplowanalytics.snowplow.badrows");
	ck_assert_str_eq(s.name, "size_violation");
	ck_assert_str_eq(s.format, "jsonschema");
	ck_assert_str_eq(s.version, "1-0-0");
	ck_assert_int_eq(s3key_badrow_schema("not json", 8, &s, err, sizeof(err)),
	    S3KEY_ROW_NOT_JSON);
	ck_assert_int_eq(s3key_badrow_schema("{\"data\":1}", 10, &s, err, sizeof(err)),
	    S3KEY_ROW_NO_SCHEMA);
	ck_assert_str_eq(err, "INVALID_DATA_PAYLOAD");
	ck_assert_int_eq(s3key_badrow_schema("[1]", 3, &s, err, sizeof(err)), S3KEY_ROW_NO_SCHEMA);
	ck_assert_int_eq(s3key_badrow_schema(BADVER, strlen(BADVER), &s, err, sizeof(err)),
	    S3KEY_ROW_NO_SCHEMA);
	ck_assert_str_eq(err, "INVALID_SCHEMAVER");
	ck_assert_int_eq(s3key_badrow_schema(BADURI, strlen(BADURI), &s, err, sizeof(err)),
	    S3KEY_ROW_NO_SCHEMA);
	ck_assert_str_eq(err, "INVALID_IGLUURI");
}
END_TEST

START_TEST(encodings)
{
	char out[256], back[256];

	ck_assert_int_gt(s3key_url_path("a/b=c/x y~.gz", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a/b%3Dc/x%20y~.gz");
	ck_assert_int_eq(s3key_url_path("abcdef", out, 4), -1);
	ck_assert_int_gt(s3key_to_spool_name("a/b=c/x.gz", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a!b=c!x.gz");
	ck_assert_int_gt(s3key_from_spool_name(out, back, sizeof(back)), 0);
	ck_assert_str_eq(back, "a/b=c/x.gz");
	ck_assert_int_eq(s3key_to_spool_name("a!b", out, sizeof(out)), -1);
	ck_assert_int_eq(s3key_from_spool_name("x.part", back, sizeof(back)), -1);
	ck_assert_int_gt(s3key_from_spool_name("..a!x.gz", back, sizeof(back)), 0);
	ck_assert_str_eq(back, "..a/x.gz");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3_keys");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, template_checks);
	tcase_add_test(tc, expand_and_build);
	tcase_add_test(tc, normalise);
	tcase_add_test(tc, iglu_uris);
	tcase_add_test(tc, badrow_schema);
	tcase_add_test(tc, encodings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
