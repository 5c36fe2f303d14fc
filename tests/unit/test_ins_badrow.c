/*
 * Unit tests for inspect's reading of bad rows: the pseudo event, the readable summaries and
 * the JSON of /micro/bad and /micro/events, over every bad row enrich's golden test writes
 * (tests/golden/enrich/expected-bad.jsonl: all the types of enriched-event.md §14.3).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "../../inspect/ins_badrow.h"
#include "../../inspect/ins_render.h"
#include "../../inspect/ins_store.h"

static struct ins_store *st;

static void
setup(void)
{
	struct ins_store_limits lim = { 1000, 1 << 24 };
	FILE *f = fopen("tests/golden/enrich/expected-bad.jsonl", "r");
	char *line = NULL, err[256];
	size_t cap = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(f);
	st = ins_store_new(&lim);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		ck_assert_int_eq(ins_store_add_bad(st, line, (size_t)n, 0, 1700000000000LL, err,
		    sizeof(err)), 0);
	}
	free(line);
	fclose(f);
}

static void
teardown(void)
{
	ins_store_free(st);
}

struct lines {
	struct buf all;
	int n;
};

static void
collect(const char *line, void *arg)
{
	struct lines *l = arg;

	ck_assert(strlen(line) <= INS_SUMMARY_MAX);
	ck_assert(strchr(line, '\n') == NULL);
	buf_append_str(&l->all, line);
	buf_append_byte(&l->all, '\n');
	l->n++;
}

/* Every summary of every golden row, one per line. */
static char *
all_summaries(void)
{
	struct lines l;
	size_t i;

	buf_init(&l.all, 0);
	for (i = 0; i < ins_store_count(st); i++) {
		const struct ins_rec *r = ins_store_at(st, i);
		json_t *row = json_loadb(ins_rec_line(r), r->line_len, 0, NULL);
		int before = l.n;
		ck_assert_ptr_nonnull(row);
		l.n = before;
		ins_badrow_each_summary(row, collect, &l);
		ck_assert_msg(l.n > before, "no summary for %.200s", ins_rec_line(r));
		json_decref(row);
	}
	return l.all.data;
}

START_TEST(summaries_readable)
{
	char *s = all_summaries();

	/* one line per failure, naming the field or the schema and what was wrong */
	ck_assert_ptr_nonnull(strstr(s, "atomic field p: Not a valid platform\n"));
	ck_assert_ptr_nonnull(strstr(s, "atomic field eid: Not a valid UUID\n"));
	ck_assert_ptr_nonnull(strstr(s, "atomic field page_title: Field is longer than maximum allowed size 2000\n"));
	ck_assert_ptr_nonnull(strstr(s, "contexts is not valid JSON: invalid json: string or '}' expected near 'not'\n"));
	ck_assert_ptr_nonnull(strstr(s, "iglu:com.acme/user/jsonschema/1-0-0 does not match the expected "
	    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*\n"));
	ck_assert_ptr_nonnull(strstr(s, "iglu:com.acme/nope/jsonschema/1-0-0: schema not found"));
	ck_assert_ptr_nonnull(strstr(s, "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4: "
	    "$[0].vid: integer found, string expected\n"));
	ck_assert_ptr_nonnull(strstr(s, "collector payload: networkUserId = 'not-a-uuid': not valid UUID\n"));
	ck_assert_ptr_nonnull(strstr(s, "collector payload: path does not match (/)vendor/version(/) nor is a legacy /i(ce.png) request\n"));
	ck_assert_ptr_nonnull(strstr(s, "vendor/version = 'com.acme/v1': vendor/version combination is not supported\n"));
	ck_assert_ptr_nonnull(strstr(s, "enrichment: v_collector: should be set\n"));
	ck_assert_ptr_nonnull(strstr(s, "not a self-describing JSON: INVALID_SCHEMAVER\n"));
	/* nothing falls back to raw JSON for the known types */
	ck_assert_ptr_null(strstr(s, "{\""));
	free(s);
}
END_TEST

START_TEST(summary_cut)
{
	const char *row = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/"
	    "jsonschema/1-0-0\",\"data\":{\"failure\":{\"errors\":[\"%s\"]}}}";
	char *big = malloc(5000), *text = malloc(6000);
	struct lines l;
	json_t *j;

	memset(big, 'x', 4999);
	big[4999] = '\0';
	snprintf(text, 6000, row, big);
	j = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	buf_init(&l.all, 0);
	l.n = 0;
	ins_badrow_each_summary(j, collect, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_uint_eq(l.all.len, INS_SUMMARY_MAX + 1);
	ck_assert(memcmp(l.all.data + INS_SUMMARY_MAX - 3, "...", 3) == 0);
	buf_free(&l.all);
	json_decref(j);
	free(big);
	free(text);
}
END_TEST

START_TEST(pseudo_events)
{
	size_t i, n;
	int with_app = 0;

	for (i = 0; i < ins_store_count(st); i++) {
		const struct ins_rec *r = ins_store_at(st, i);
		const char *v = ins_rec_col(r, COL_EVENT_ID, &n);
		/* the SDK's required columns are always there */
		ck_assert_uint_eq(n, 36);
		ck_assert(v[14] == '4' || r->badtype == INS_BT_SCHEMA || r->badtype == INS_BT_ENRICHMENT);
		ins_rec_col(r, COL_COLLECTOR_TSTAMP, &n);
		ck_assert_uint_eq(n, 23);
		ins_rec_col(r, COL_V_COLLECTOR, &n);
		ck_assert(n > 0);
		ins_rec_col(r, COL_APP_ID, &n);
		with_app += n > 0;
	}
	/* rows whose payload carries aid show it */
	ck_assert(with_app > 0);
}
END_TEST

START_TEST(render_json)
{
	struct ins_render rd;
	struct buf out;
	size_t i;

	ins_render_init(&rd);
	buf_init(&out, 0);
	for (i = 0; i < ins_store_count(st); i++) {
		const struct ins_rec *r = ins_store_at(st, i);
		json_t *j, *f;

		buf_reset(&out);
		ck_assert_int_eq(ins_render_bad(&rd, r, &out), 0);
		j = json_loads(out.data, 0, NULL);
		ck_assert_msg(j != NULL, "%s", out.data);
		ck_assert(json_is_array(json_object_get(j, "errors")));
		ck_assert_int_eq(json_array_size(json_object_get(j, "errors")), 2);
		ck_assert(json_is_object(json_object_get(j, "badRow")));
		ck_assert(json_array_size(json_object_get(j, "summary")) >= 1);
		ck_assert(json_object_get(j, "collectorPayload") != NULL);
		ck_assert(json_object_get(j, "rawEvent") != NULL);
		json_decref(j);

		buf_reset(&out);
		ck_assert_int_eq(ins_render_event(&rd, r, &out), 0);
		j = json_loads(out.data, 0, NULL);
		ck_assert_msg(j != NULL, "%s", out.data);
		f = json_array_get(json_object_get(j, INS_FAILURE_KEY), 0);
		ck_assert(json_is_object(f));
		ck_assert(json_array_size(json_object_get(f, "errors")) >= 1);
		ck_assert(json_is_object(json_object_get(f, "data")));
		ck_assert(json_is_string(json_object_get(j, "event_id")));
		ck_assert(json_object_get(j, "parseError") == NULL);
		json_decref(j);
	}
	buf_free(&out);
	ins_render_free(&rd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ins_badrow");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, summaries_readable);
	tcase_add_test(tc, summary_cut);
	tcase_add_test(tc, pseudo_events);
	tcase_add_test(tc, render_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
