/* Unit tests for collector/col_split: tp2 batch splitting at the boundaries of collector.md
 * §10.2. Events are {"e":"<pad>"} objects of exact sizes so that the budget arithmetic can be
 * checked byte for byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/col_split.h"

/* An event of exactly n bytes of compact JSON: {"e":"xxx"} is 8 + pad bytes. */
static size_t
add_event(char *out, size_t o, size_t n, char fill)
{
	size_t pad = n - 8, i;

	o += (size_t)sprintf(out + o, "{\"e\":\"");
	for (i = 0; i < pad; i++)
		out[o++] = fill;
	o += (size_t)sprintf(out + o, "\"}");
	return o;
}

/* body = {"schema":"s","data":[events]}; returns its length */
static size_t
body_of(char *out, const size_t *sizes, size_t n)
{
	size_t o = 0, i;

	o += (size_t)sprintf(out, "{\"schema\":\"s\",\"data\":[");
	for (i = 0; i < n; i++) {
		if (i)
			out[o++] = ',';
		o = add_event(out, o, sizes[i], (char)('a' + i));
	}
	o += (size_t)sprintf(out + o, "]}");
	out[o] = '\0';
	return o;
}

static size_t
data_len(const size_t *sizes, size_t n)
{
	size_t d = 2, i;

	for (i = 0; i < n; i++)
		d += sizes[i] + (i ? 1 : 0);
	return d;
}

START_TEST(split_budget_boundaries)
{
	static char body[8192];
	size_t sizes[] = { 100, 100, 100, 100 };
	size_t blen = body_of(body, sizes, 4);
	size_t d = data_len(sizes, 4);
	/* W - D = 500 of overhead; R = 500 + B */
	size_t overhead = 500, w = overhead + d;
	struct col_split sp;

	/* B = 202: exactly two events (2 * 101) per batch */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead + 202, &sp), 0);
	ck_assert_ptr_null(sp.error);
	ck_assert_int_eq((int)sp.n_batches, 2);
	ck_assert_int_eq((int)sp.n_too_big, 0);
	ck_assert_int_eq(memcmp(sp.batches[0].json, "{\"schema\":\"s\",\"data\":[{\"e\":\"a", 29), 0);
	ck_assert_ptr_nonnull(strstr(sp.batches[0].json, "\"bbbb"));
	ck_assert_ptr_nonnull(strstr(sp.batches[1].json, "\"cccc"));
	ck_assert_ptr_nonnull(strstr(sp.batches[1].json, "\"dddd"));
	col_split_free(&sp);
	/* B = 201: one byte short of two per batch */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead + 201, &sp), 0);
	ck_assert_int_eq((int)sp.n_batches, 4);
	col_split_free(&sp);
	/* B = 101: an event (s + 1 = 101) still fits alone */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead + 101, &sp), 0);
	ck_assert_int_eq((int)sp.n_batches, 4);
	ck_assert_int_eq((int)sp.n_too_big, 0);
	col_split_free(&sp);
	/* B = 100: every event is too big alone */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead + 100, &sp), 0);
	ck_assert_int_eq((int)sp.n_batches, 0);
	ck_assert_int_eq((int)sp.n_too_big, 4);
	ck_assert_int_eq((int)sp.too_big[2].len, 100);
	ck_assert_int_eq(memcmp(sp.too_big[2].json, "{\"e\":\"ccc", 9), 0);
	col_split_free(&sp);
	/* W - D == R: the envelope alone is too big */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead, &sp), 0);
	ck_assert_str_eq(sp.error, "cannot split this POST request because event without \"data\" "
	    "field is still too big");
	col_split_free(&sp);
	/* W - D == R - 1: budget 1, every event too big */
	ck_assert_int_eq(col_split_body(body, blen, w, overhead + 1, &sp), 0);
	ck_assert_ptr_null(sp.error);
	ck_assert_int_eq((int)sp.n_too_big, 4);
	col_split_free(&sp);
}
END_TEST

START_TEST(split_too_big_does_not_close_batch)
{
	static char body[8192];
	size_t sizes[] = { 100, 500, 100, 100 };
	size_t blen = body_of(body, sizes, 4);
	size_t d = data_len(sizes, 4), overhead = 300;
	struct col_split sp;

	/* B = 303: a, c, d fit three per batch (3 * 101); b (501) is too big alone */
	ck_assert_int_eq(col_split_body(body, blen, overhead + d, overhead + 303, &sp), 0);
	ck_assert_int_eq((int)sp.n_batches, 1);
	ck_assert_int_eq((int)sp.n_too_big, 1);
	ck_assert_int_eq((int)sp.too_big[0].len, 500);
	ck_assert_ptr_nonnull(strstr(sp.batches[0].json, "aaa\"},{\"e\":\"ccc"));
	ck_assert_ptr_nonnull(strstr(sp.batches[0].json, "ccc\"},{\"e\":\"ddd"));
	col_split_free(&sp);
}
END_TEST

START_TEST(split_refusals)
{
	struct col_split sp;
	const char *b;

	ck_assert_int_eq(col_split_body(NULL, 0, 2000, 1000, &sp), 0);
	ck_assert_str_eq(sp.error, "GET requests cannot be split");
	col_split_free(&sp);
	b = "not json";
	ck_assert_int_eq(col_split_body(b, strlen(b), 2000, 1000, &sp), 0);
	ck_assert_int_eq(strncmp(sp.error, "cannot split POST requests which are not json ", 46), 0);
	col_split_free(&sp);
	b = "[1,2]";
	ck_assert_int_eq(col_split_body(b, strlen(b), 2000, 1000, &sp), 0);
	ck_assert_int_eq(strncmp(sp.error, "cannot split POST requests which are not self-describing", 56), 0);
	col_split_free(&sp);
	b = "{\"data\":[]}";
	ck_assert_int_eq(col_split_body(b, strlen(b), 2000, 1000, &sp), 0);
	ck_assert_int_eq(strncmp(sp.error, "cannot split POST requests which are not self-describing", 56), 0);
	col_split_free(&sp);
	b = "{\"schema\":\"s\",\"data\":{\"a\":1}}";
	ck_assert_int_eq(col_split_body(b, strlen(b), 2000, 1000, &sp), 0);
	ck_assert_str_eq(sp.error, "cannot split POST requests which do not contain a data array");
	col_split_free(&sp);
	b = "{\"schema\":\"s\",\"data\":[]}";
	ck_assert_int_eq(col_split_body(b, strlen(b), 1000, 1000, &sp), 0);
	ck_assert_str_eq(sp.error, "cannot split this POST request because event without \"data\" "
	    "field is still too big");               /* never a silent drop */
	ck_assert_int_eq((int)sp.n_batches, 0);
	col_split_free(&sp);
}
END_TEST

START_TEST(split_drops_other_keys_and_keeps_schema)
{
	const char *b = "{\"extra\":true,\"schema\":\"iglu:x/y/jsonschema/1-0-0\",\"data\":[{\"a\":\"\xc3\xa9\"},{\"b\":2}]}";
	struct col_split sp;

	ck_assert_int_eq(col_split_body(b, strlen(b), 1000, 1000, &sp), 0);
	ck_assert_int_eq((int)sp.n_batches, 1);
	ck_assert_str_eq(sp.batches[0].json,
	    "{\"schema\":\"iglu:x/y/jsonschema/1-0-0\",\"data\":[{\"a\":\"\xc3\xa9\"},{\"b\":2}]}");
	col_split_free(&sp);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_split");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, split_budget_boundaries);
	tcase_add_test(tc, split_too_big_does_not_close_batch);
	tcase_add_test(tc, split_refusals);
	tcase_add_test(tc, split_drops_other_keys_and_keeps_schema);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
