/* Unit tests for es-sink/mapping: the index bodies of sinks.md §2.9 as adapted by furrow. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "../../es-sink/mapping.h"

static int
count_type(json_t *props, const char *type)
{
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach(props, k, v) {
		const char *t = json_string_value(json_object_get(v, "type"));
		if (t && strcmp(t, type) == 0)
			n++;
	}
	return n;
}

START_TEST(good_mapping)
{
	json_t *b = mapping_body(MAPPING_GOOD, 1);
	json_t *p = json_object_get(json_object_get(b, "mappings"), "properties");

	ck_assert_int_eq(json_object_size(p), 81);
	ck_assert_int_eq(count_type(p, "keyword"), 52);
	ck_assert_int_eq(count_type(p, "long"), 13);
	ck_assert_int_eq(count_type(p, "boolean"), 11);
	ck_assert_int_eq(count_type(p, "date"), 4);
	ck_assert_int_eq(count_type(p, "geo_point"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "collector_tstamp"),
	    "format")), "date_optional_time");
	ck_assert_ptr_nonnull(json_object_get(json_object_get(b, "settings"), "analysis"));
	json_decref(b);
	b = mapping_body(MAPPING_GOOD, 0);
	ck_assert_ptr_null(json_object_get(json_object_get(b, "settings"), "analysis"));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(b,
	    "settings"), "index"), "number_of_shards")), 2);
	json_decref(b);
}
END_TEST

START_TEST(bad_mapping)
{
	json_t *b = mapping_body(MAPPING_BAD, 1);
	json_t *data = json_object_get(json_object_get(json_object_get(json_object_get(b, "mappings"),
	    "properties"), "data"), "properties");
	json_t *failure = json_object_get(json_object_get(data, "failure"), "properties");

	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(failure, "messages"),
	    "type")), "nested");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(failure, "timestamp"),
	    "type")), "date");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(data, "payload_str"),
	    "type")), "text");
	json_decref(b);
	b = mapping_body(MAPPING_NONE, 0);
	ck_assert_ptr_null(json_object_get(b, "mappings"));
	json_decref(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("es_mapping");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, good_mapping);
	tcase_add_test(tc, bad_mapping);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
