/* Unit tests for es-sink/badrewrite: the twelve rename/stringify steps of sinks.md §2.2. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../es-sink/badrewrite.h"

static char *
rewrite(const char *in)
{
	struct buf out;
	char err[256];
	char *s;

	buf_init(&out, 0);
	ck_assert_msg(badrewrite_line(in, strlen(in), &out, err, sizeof(err)) == 0, "%s", err);
	s = strdup(out.data);
	buf_free(&out);
	return s;
}

static void
expect(const char *in, const char *want)
{
	char *got = rewrite(in);

	ck_assert_str_eq(got, want);
	free(got);
}

#define GE "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0"

START_TEST(top_level_renames)
{
	/* 1, 2: failure and payload; 5: errors */
	expect("{\"schema\":\"" GE "\",\"data\":{\"processor\":{},\"failure\":{\"timestamp\":\"t\","
	    "\"errors\":[\"e\"]},\"payload\":\"line\"}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"processor\":{},\"failure\":{\"timestamp\":\"t\","
	    "\"errors_list\":[\"e\"]},\"payload_str\":\"line\"}}");
	/* failure as a string / list */
	expect("{\"schema\":\"" GE "\",\"data\":{\"failure\":\"f\"}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"failure_str\":\"f\"}}");
	expect("{\"schema\":\"" GE "\",\"data\":{\"failure\":[{\"error\":\"x\",\"value\":5},"
	    "{\"error\":{\"a\":1},\"value\":\"s\"}]}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"failure_list\":[{\"value\":\"5\",\"error_str\":\"x\"},"
	    "{\"error\":{\"a\":1},\"value\":\"s\"}]}}");
	/* objects and numbers are left alone */
	expect("{\"schema\":\"" GE "\",\"data\":{\"payload\":{\"raw\":{\"parameters\":[{\"name\":\"e\"}]}}}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"payload\":{\"raw\":{\"parameters\":"
	    "\"[{\\\"name\\\":\\\"e\\\"}]\"}}}}");
}
END_TEST

START_TEST(failure_members)
{
	/* 4, 6: error and message strings */
	expect("{\"schema\":\"" GE "\",\"data\":{\"failure\":{\"error\":\"e\",\"message\":\"m\"}}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"failure\":{\"error_str\":\"e\",\"message_str\":\"m\"}}}");
	/* 7-10: messages */
	expect("{\"schema\":\"" GE "\",\"data\":{\"failure\":{\"messages\":[{\"error\":\"e\","
	    "\"json\":{\"a\":1},\"expectedMapping\":null},{\"message\":{\"error\":\"x\"}},"
	    "{\"message\":{\"error\":{\"k\":1}}},\"notobj\"]}}}",
	    "{\"schema\":\"" GE "\",\"data\":{\"failure\":{\"messages\":[{\"json\":\"{\\\"a\\\":1}\","
	    "\"expectedMapping\":\"null\",\"error_str\":\"e\"},{\"message\":{\"error_str\":\"x\"}},"
	    "{\"message\":{\"error\":{\"k\":1}}},\"notobj\"]}}}");
}
END_TEST

START_TEST(not_a_bad_row)
{
	/* vendor must contain "badrows"; other JSON passes unchanged */
	expect("{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"failure\":\"f\"}}",
	    "{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"failure\":\"f\"}}");
	expect("{\"schema\":\"not a uri\",\"data\":{\"failure\":\"f\"}}",
	    "{\"schema\":\"not a uri\",\"data\":{\"failure\":\"f\"}}");
	expect("[1,2]", "[1,2]");
	expect("42", "42");
	/* other top-level members of a bad row are dropped */
	expect("{\"schema\":\"" GE "\",\"data\":{},\"extra\":1}", "{\"schema\":\"" GE "\",\"data\":{}}");
	/* a vendor that merely contains badrows counts (ESL2) */
	expect("{\"schema\":\"iglu:com.acme.badrows/x/jsonschema/1-0-0\",\"data\":{\"payload\":\"p\"}}",
	    "{\"schema\":\"iglu:com.acme.badrows/x/jsonschema/1-0-0\",\"data\":{\"payload_str\":\"p\"}}");
}
END_TEST

START_TEST(not_json)
{
	struct buf out;
	char err[256];

	buf_init(&out, 0);
	ck_assert_int_eq(badrewrite_line("{nope", 5, &out, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot parse line as JSON"));
	ck_assert_int_eq(badrewrite_line("", 0, &out, err, sizeof(err)), -1);
	ck_assert_uint_eq(out.len, 0);
	/* invalid UTF-8 is repaired rather than refused */
	ck_assert_int_eq(badrewrite_line("\"a\xff\"", 4, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "\"a\xef\xbf\xbd\"");
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("es_badrewrite");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, top_level_renames);
	tcase_add_test(tc, failure_members);
	tcase_add_test(tc, not_a_bad_row);
	tcase_add_test(tc, not_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
