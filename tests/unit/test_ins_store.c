/* Unit tests for inspect's store: ingest, column access, the caps, reset, time order. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inspect/ins_badrow.h"
#include "../../inspect/ins_store.h"
#include "ins_test.h"

static struct ins_store *
store(size_t events, size_t bytes)
{
	struct ins_store_limits lim = { events, bytes };
	struct ins_store *s = ins_store_new(&lim);

	ck_assert_ptr_nonnull(s);
	return s;
}

static void
add(struct ins_store *s, int n, int64_t now)
{
	char err[256];
	char *l = ins_test_line(n, COL_APP_ID, "shop", COL_EVENT, "page_view", -1);

	ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), now, err, sizeof(err)), 0);
	free(l);
}

START_TEST(good_columns)
{
	struct ins_store *s = store(100, 1 << 20);
	const struct ins_rec *r;
	const char *v;
	size_t n;

	add(s, 1, 10);
	ck_assert_uint_eq(ins_store_count(s), 1);
	ck_assert_uint_eq(ins_store_count_kind(s, INS_GOOD), 1);
	r = ins_store_get(s, 1);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, INS_GOOD);
	ck_assert_int_eq(r->arrived_ms, 10);
	ck_assert_int_eq(r->tstamp_ms, 1700000000000LL);
	v = ins_rec_col(r, COL_APP_ID, &n);
	ck_assert_int_eq((int)n, 4);
	ck_assert(memcmp(v, "shop", 4) == 0);
	v = ins_rec_col(r, COL_EVENT, &n);
	ck_assert(n == 9 && memcmp(v, "page_view", 9) == 0);
	ins_rec_col(r, COL_TRUE_TSTAMP, &n);
	ck_assert_uint_eq(n, 0);
	v = ins_rec_col(r, COL_EVENT_ID, &n);
	ck_assert(n == 36 && memcmp(v, "9f2b6a3e-1c4d-4e5f-8a7b-000000000001", 36) == 0);
	ck_assert_ptr_null(ins_store_get(s, 2));
	ck_assert_ptr_null(ins_store_get(s, 0));
	ins_store_free(s);
}
END_TEST

START_TEST(good_rejected)
{
	struct ins_store *s = store(100, 1 << 20);
	char err[256], *l;

	ck_assert_int_eq(ins_store_add_good(s, "hello", 5, 0, err, sizeof(err)), -1);
	ck_assert(strstr(err, "no tab") != NULL);
	ck_assert_int_eq(ins_store_add_good(s, "a\tb\tc", 5, 0, err, sizeof(err)), -1);
	ck_assert(strstr(err, "3 columns") != NULL);
	l = ins_test_line(1, COL_COLLECTOR_TSTAMP, "yesterday", -1);
	ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), 0, err, sizeof(err)), -1);
	ck_assert(strstr(err, "collector_tstamp") != NULL);
	free(l);
	/* 132 columns */
	l = ins_test_line(1, -1);
	{
		size_t n = strlen(l);
		char *m = malloc(n + 3);
		memcpy(m, l, n);
		memcpy(m + n, "\tx", 3);
		ck_assert_int_eq(ins_store_add_good(s, m, n + 2, 0, err, sizeof(err)), -1);
		free(m);
	}
	free(l);
	ck_assert_uint_eq(ins_store_counts(s)->rejected_good, 4);
	ck_assert_uint_eq(ins_store_count(s), 0);
	/* a trailing CR is not part of the last column */
	l = ins_test_line(2, COL_TRUE_TSTAMP, "2023-11-14 22:13:21.000", -1);
	{
		size_t n = strlen(l), len;
		const char *v;
		l = realloc(l, n + 2);
		memcpy(l + n, "\r", 2);
		ck_assert_int_eq(ins_store_add_good(s, l, n + 1, 0, err, sizeof(err)), 0);
		v = ins_rec_col(ins_store_get(s, 1), COL_TRUE_TSTAMP, &len);
		ck_assert_uint_eq(len, 23);
		ck_assert(v[22] == '0');
	}
	free(l);
	ins_store_free(s);
}
END_TEST

START_TEST(evict_by_count)
{
	struct ins_store *s = store(5, 1 << 20);
	int i;

	for (i = 1; i <= 12; i++)
		add(s, i, i);
	ck_assert_uint_eq(ins_store_count(s), 5);
	ck_assert_uint_eq(ins_store_counts(s)->evicted_good, 7);
	ck_assert_uint_eq(ins_store_counts(s)->in_good, 12);
	ck_assert_uint_eq(ins_store_first_seq(s), 8);
	ck_assert_uint_eq(ins_store_next_seq(s), 13);
	ck_assert_ptr_null(ins_store_get(s, 7));
	ck_assert_int_eq(ins_store_get(s, 8)->arrived_ms, 8);
	ck_assert_int_eq(ins_store_at(s, 4)->arrived_ms, 12);
	ins_store_free(s);
}
END_TEST

START_TEST(evict_by_bytes)
{
	struct ins_store *s;
	size_t one;
	int i;

	s = store(1000, 1 << 20);
	add(s, 1, 0);
	one = ins_store_bytes(s);
	ins_store_free(s);
	/* room for three and a half */
	s = store(1000, one * 7 / 2);
	for (i = 1; i <= 10; i++) {
		add(s, i, i);
		ck_assert(ins_store_bytes(s) <= one * 7 / 2);
	}
	ck_assert_uint_eq(ins_store_count(s), 3);
	ck_assert_uint_eq(ins_store_counts(s)->evicted_good, 7);
	ins_store_free(s);
	/* a single event larger than the whole store is refused, not stored */
	s = store(1000, one / 2);
	{
		char err[256], *l = ins_test_line(1, -1);
		ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), 0, err, sizeof(err)), -1);
		ck_assert(strstr(err, "--max-bytes") != NULL);
		free(l);
	}
	ck_assert_uint_eq(ins_store_count(s), 0);
	ins_store_free(s);
}
END_TEST

START_TEST(wide_line)
{
	struct ins_store *s = store(10, 1 << 24);
	char err[256], *big = malloc(100001), *l;
	const struct ins_rec *r;
	const char *v;
	size_t n;

	memset(big, 'x', 100000);
	big[100000] = '\0';
	l = ins_test_line(1, COL_PAGE_TITLE, big, COL_EVENT_NAME, "page_view", -1);
	ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), 0, err, sizeof(err)), 0);
	r = ins_store_get(s, 1);
	ck_assert_int_eq(r->wide, 1);
	ins_rec_col(r, COL_PAGE_TITLE, &n);
	ck_assert_uint_eq(n, 100000);
	v = ins_rec_col(r, COL_EVENT_NAME, &n);
	ck_assert(n == 9 && memcmp(v, "page_view", 9) == 0);
	free(l);
	free(big);
	ins_store_free(s);
}
END_TEST

START_TEST(reset_keeps_numbering)
{
	struct ins_store *s = store(100, 1 << 20);
	uint64_t g;

	add(s, 1, 0);
	add(s, 2, 0);
	g = ins_store_generation(s);
	ins_store_reset(s);
	ck_assert(ins_store_generation(s) != g);
	ck_assert_uint_eq(ins_store_count(s), 0);
	ck_assert_uint_eq(ins_store_counts(s)->reset_good, 2);
	ck_assert_uint_eq(ins_store_counts(s)->resets, 1);
	add(s, 3, 0);
	ck_assert_uint_eq(ins_store_first_seq(s), 3);
	ck_assert_ptr_nonnull(ins_store_get(s, 3));
	ck_assert_ptr_null(ins_store_get(s, 1));
	ins_store_free(s);
}
END_TEST

START_TEST(sort_by_time)
{
	struct ins_store *s = store(100, 1 << 20);
	const char *ts[] = { "2023-11-14 22:13:25.000", "2023-11-14 22:13:21.000",
	    "2023-11-14 22:13:23.000", "2023-11-14 22:13:21.000" };
	char err[256];
	int i;

	for (i = 0; i < 4; i++) {
		char id[16], *l;
		snprintf(id, sizeof(id), "a%d", i);
		l = ins_test_line(i, COL_COLLECTOR_TSTAMP, ts[i], COL_APP_ID, id, -1);
		ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), 0, err, sizeof(err)), 0);
		free(l);
	}
	ins_store_sort_by_time(s);
	{
		const char *want[] = { "a1", "a3", "a2", "a0" };
		for (i = 0; i < 4; i++) {
			size_t n;
			const struct ins_rec *r = ins_store_get(s, (uint64_t)i + 1);
			const char *v = ins_rec_col(r, COL_APP_ID, &n);
			ck_assert_uint_eq(r->seq, (uint64_t)i + 1);
			ck_assert(n == 2 && memcmp(v, want[i], 2) == 0);
		}
	}
	ins_store_free(s);
}
END_TEST

/* The same when the ring has wrapped (evictions while loading): sorted in place. */
START_TEST(sort_wrapped)
{
	struct ins_store *s = store(1100, 1 << 26);
	char err[256];
	int i;

	/* the ring starts with 1024 slots: 1100 records with eviction at 1100 make it grow and
	 * 1300 more wrap it */
	for (i = 0; i < 2400; i++) {
		char ts[32], *l;
		snprintf(ts, sizeof(ts), "2023-11-14 22:%02d:%02d.000", (2399 - i) / 60 % 60, (2399 - i) % 60);
		l = ins_test_line(i, COL_COLLECTOR_TSTAMP, ts, -1);
		ck_assert_int_eq(ins_store_add_good(s, l, strlen(l), 0, err, sizeof(err)), 0);
		free(l);
	}
	ck_assert_uint_eq(ins_store_count(s), 1100);
	ins_store_sort_by_time(s);
	for (i = 1; i < 1100; i++) {
		ck_assert(ins_store_at(s, (size_t)i - 1)->tstamp_ms <= ins_store_at(s, (size_t)i)->tstamp_ms);
		ck_assert_uint_eq(ins_store_at(s, (size_t)i)->seq, ins_store_first_seq(s) + (uint64_t)i);
		ck_assert_ptr_eq(ins_store_slot(s, (size_t)i)->r, ins_store_at(s, (size_t)i));
	}
	ins_store_free(s);
}
END_TEST

START_TEST(times)
{
	int64_t ms;

	ck_assert_int_eq(ins_parse_tsv_time("1970-01-01 00:00:00.000", 23, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(ins_parse_tsv_time("2023-11-14 22:13:20.5", 21, &ms), 0);
	ck_assert_int_eq(ms, 1700000000500LL);
	ck_assert_int_eq(ins_parse_tsv_time("2024-02-29 00:00:00", 19, &ms), 0);
	ck_assert_int_eq(ins_parse_tsv_time("2023-02-29 00:00:00", 19, &ms), -1);
	ck_assert_int_eq(ins_parse_tsv_time("2023-11-14T22:13:20", 19, &ms), -1);
	ck_assert_int_eq(ins_parse_tsv_time("2023-11-14 22:13:20.", 20, &ms), -1);
	ck_assert_int_eq(ins_parse_iso_time("2023-11-14T22:13:20Z", 20, &ms), 0);
	ck_assert_int_eq(ms, 1700000000000LL);
	ck_assert_int_eq(ins_parse_iso_time("2023-11-14T23:13:20.123456+01:00", 32, &ms), 0);
	ck_assert_int_eq(ms, 1700000000123LL);
	ck_assert_int_eq(ins_parse_iso_time("2023-11-14T22:13:20", 19, &ms), -1);
	ck_assert_int_eq(ins_parse_iso_time("1969-12-31T23:59:59.999Z", 24, &ms), 0);
	ck_assert_int_eq(ms, -1);
}
END_TEST

/* Every bad row enrich's golden test writes goes in, with its collector payload's vendor. */
START_TEST(bad_rows_golden)
{
	struct ins_store *s = store(1000, 1 << 24);
	FILE *f = fopen("tests/golden/enrich/expected-bad.jsonl", "r");
	char *line = NULL, err[256];
	size_t cap = 0, i, with_vendor = 0;
	ssize_t n;
	int rows = 0;

	ck_assert_ptr_nonnull(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		ck_assert_msg(ins_store_add_bad(s, line, (size_t)n, 0, 1700000000000LL, err,
		    sizeof(err)) == 0, "%s", err);
		rows++;
	}
	free(line);
	fclose(f);
	ck_assert_uint_eq(ins_store_count_kind(s, INS_BAD), (size_t)rows);
	for (i = 0; i < ins_store_count(s); i++) {
		const struct ins_rec *r = ins_store_at(s, i);
		size_t vl;
		ck_assert_int_eq(r->kind, INS_BAD);
		ck_assert(r->badtype != INS_BT_OTHER);
		ins_rec_vendor(r, &vl);
		with_vendor += vl > 0;
		ck_assert(r->tsv_len > 0);
	}
	/* adapter_failures, tracker_protocol_violations, schema_ and enrichment_ have a payload */
	ck_assert_uint_eq(with_vendor, 2 + 7 + 11 + 5);
	ins_store_free(s);
}
END_TEST

START_TEST(bad_rows_rejected)
{
	struct ins_store *s = store(1000, 1 << 24);
	char err[256];

	ck_assert_int_eq(ins_store_add_bad(s, "not json", 8, 0, 0, err, sizeof(err)), -1);
	ck_assert(strstr(err, "not a bad row") != NULL);
	ck_assert_int_eq(ins_store_add_bad(s, "[1,2]", 5, 0, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(ins_store_add_bad(s, "\"s\"", 3, 0, 0, err, sizeof(err)), -1);
	ck_assert_uint_eq(ins_store_counts(s)->rejected_bad, 3);
	/* any JSON object is kept: an unknown type still shows up */
	ck_assert_int_eq(ins_store_add_bad(s, "{\"a\":1}", 7, 0, 1700000000000LL, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ins_store_get(s, 1)->badtype, INS_BT_OTHER);
	ck_assert_int_eq(ins_store_get(s, 1)->tstamp_ms, 1700000000000LL);
	ins_store_free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ins_store");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, good_columns);
	tcase_add_test(tc, good_rejected);
	tcase_add_test(tc, evict_by_count);
	tcase_add_test(tc, evict_by_bytes);
	tcase_add_test(tc, wide_line);
	tcase_add_test(tc, reset_keeps_numbering);
	tcase_add_test(tc, sort_by_time);
	tcase_add_test(tc, sort_wrapped);
	tcase_add_test(tc, times);
	tcase_add_test(tc, bad_rows_golden);
	tcase_add_test(tc, bad_rows_rejected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
