/*
 * Unit tests for pg-sink's rows: COPY's text format (PostgreSQL docs, COPY "Text Format"),
 * RFC 3339 date-times into UTC, the atomic.events row of an enriched line, the bad_rows row of
 * a bad row, and the classification of PostgreSQL's errors (Appendix A, error codes).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "../../pg-sink/pg_atomic.h"
#include "../../pg-sink/pg_badrows.h"
#include "../../pg-sink/pg_conn.h"
#include "../../pg-sink/pg_copy.h"
#include "../../pg-sink/pg_load.h"

START_TEST(copy_field)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(pgcopy_field(&b, "a\tb\nc\\d\re", 10), 0);
	ck_assert_str_eq(b.data, "a\\tb\\nc\\\\d\\re");
	buf_reset(&b);
	ck_assert_int_eq(pgcopy_field(&b, "plain \"text\" é", strlen("plain \"text\" é")), 0);
	ck_assert_str_eq(b.data, "plain \"text\" é");
	buf_reset(&b);
	ck_assert_int_eq(pgcopy_field(&b, "\\N", 2), 0);     /* not a NULL once escaped */
	ck_assert_str_eq(b.data, "\\\\N");
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(pgcopy_field(&b, "\\\\\\", 3), -1);  /* the cap holds */
	buf_free(&b);
}
END_TEST

#define TS_IS(in, want) do { char o_[PGCOPY_TS_BUFSZ]; \
	ck_assert_msg(pgcopy_timestamp(in, strlen(in), o_) == 0 && strcmp(o_, want) == 0, \
	    "%s: got '%s'", in, o_); } while (0)
#define TS_BAD(in) do { char o_[PGCOPY_TS_BUFSZ]; \
	ck_assert_msg(pgcopy_timestamp(in, strlen(in), o_) == -1, "%s accepted", in); } while (0)

START_TEST(timestamps)
{
	TS_IS("2023-11-14T22:13:20Z", "2023-11-14 22:13:20");
	TS_IS("2023-11-14T22:13:20.123Z", "2023-11-14 22:13:20.123");
	TS_IS("2023-11-14t22:13:20.5z", "2023-11-14 22:13:20.5");
	TS_IS("2023-11-14T23:13:20.123+01:00", "2023-11-14 22:13:20.123");
	TS_IS("2023-12-31T23:30:00-01:00", "2024-01-01 00:30:00");
	TS_IS("2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00");
	TS_IS("2023-11-14T22:13:20.1234564Z", "2023-11-14 22:13:20.123456");   /* rounded to µs */
	TS_IS("2023-11-14T22:13:20.1234565Z", "2023-11-14 22:13:20.123457");
	TS_IS("2024-02-28T23:59:59.9999999Z", "2024-02-29 00:00:00");
	TS_IS("2023-11-14T22:13:20.000000000001Z", "2023-11-14 22:13:20");
	TS_IS("2016-12-31T23:59:60Z", "2017-01-01 00:00:00");                  /* a leap second */
	TS_BAD("2023-11-14 22:13:20Z");
	TS_BAD("2023-11-14T22:13:20");
	TS_BAD("2023-11-14T22:13Z");
	TS_BAD("2023-02-29T00:00:00Z");
	TS_BAD("2023-11-14T24:00:00Z");
	TS_BAD("2023-11-14T22:13:20.Z");
	TS_BAD("2023-11-14T22:13:20+0100");
	TS_BAD("2023-11-14T22:13:20+24:00");
	TS_BAD("0001-01-01T00:30:00+01:00");      /* before year 1 */
	TS_BAD("9999-12-31T23:30:00-01:00");      /* after 9999 */
	TS_BAD("");
	ck_assert_int_eq(pgcopy_date_valid("2024-02-29", 10), 1);
	ck_assert_int_eq(pgcopy_date_valid("2023-02-29", 10), 0);
	ck_assert_int_eq(pgcopy_date_valid("0000-01-01", 10), 0);
	ck_assert_int_eq(pgcopy_date_valid("2023-1-01", 9), 0);
}
END_TEST

/* An enriched line: the four required columns, col = val. */
static char *
line_with(int col, const char *val)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < EVENT_NCOLS; i++) {
		const char *v = "";
		if (i == col)
			v = val;
		else if (i == COL_COLLECTOR_TSTAMP)
			v = "2023-11-14 22:13:20.000";
		else if (i == COL_EVENT_ID)
			v = "9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B";
		else if (i == COL_V_COLLECTOR)
			v = "c";
		else if (i == COL_V_ETL)
			v = "e";
		if (i)
			buf_append_byte(&b, '\t');
		buf_append_str(&b, v);
	}
	return b.data;
}

static int
count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

START_TEST(atomic_row)
{
	struct pgatomic_event ev;
	struct buf row, err;
	char *l = line_with(COL_PAGE_TITLE, "a\\b");

	buf_init(&row, 0);
	buf_init(&err, 0);
	ck_assert_int_eq(pgatomic_row(l, strlen(l), &row, &ev, &err), 0);
	ck_assert_int_eq(count_char(row.data, '\t'), PGATOMIC_NCOLS - 1);
	ck_assert_int_eq(row.data[row.len - 1], '\n');
	ck_assert_ptr_nonnull(strstr(row.data, "\ta\\\\b\t"));           /* escaped */
	ck_assert_ptr_nonnull(strstr(row.data, "\t9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B\t"));
	ck_assert(strncmp(row.data, "\\N\t\\N\t\\N\t2023-11-14 22:13:20.000\t", 33) == 0);
	ck_assert_str_eq(ev.key, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b 2023-11-14 22:13:20");
	ck_assert_uint_eq(ev.json_len[PGATOMIC_CONTEXTS], 0);
	free(l);

	/* one instant, one key, however it is spelled */
	{
		static const char *const spell[] = { "2023-11-14 22:13:20.100", "2023-11-14T22:13:20.1",
		    "2023-11-14 22:13:20.100000000" };
		size_t k;
		for (k = 0; k < 3; k++) {
			struct buf r2;
			char *l2 = line_with(COL_COLLECTOR_TSTAMP, spell[k]);
			buf_init(&r2, 0);
			ck_assert_int_eq(pgatomic_row(l2, strlen(l2), &r2, &ev, &err), 0);
			ck_assert_str_eq(ev.key, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b 2023-11-14 22:13:20.1");
			buf_free(&r2);
			free(l2);
		}
	}

	/* the JSON columns are not columns; pointers to them come back */
	buf_reset(&row);
	l = line_with(COL_CONTEXTS, "{\"schema\":\"x\"}");
	ck_assert_int_eq(pgatomic_row(l, strlen(l), &row, &ev, &err), 0);
	ck_assert_ptr_null(strstr(row.data, "schema"));
	ck_assert_uint_eq(ev.json_len[PGATOMIC_CONTEXTS], 14);
	ck_assert(strncmp(ev.json[PGATOMIC_CONTEXTS], "{\"schema\":\"x\"}", 14) == 0);
	free(l);

	/* the SDK's ParsingError (sinks.md §1.1, §1.3) */
	buf_reset(&row);
	ck_assert_int_eq(pgatomic_row("x", 1, &row, &ev, &err), -1);
	ck_assert_str_eq(err.data, "{\"type\":\"NotTSV\"}");
	ck_assert_uint_eq(row.len, 0);
	buf_reset(&err);
	ck_assert_int_eq(pgatomic_row("a\tb\tc", 5, &row, &ev, &err), -1);
	ck_assert_str_eq(err.data, "{\"type\":\"FieldNumberMismatch\",\"fieldCount\":3}");
	buf_reset(&err);
	l = line_with(COL_EVENT_ID, "not-a-uuid");
	ck_assert_int_eq(pgatomic_row(l, strlen(l), &row, &ev, &err), -1);
	ck_assert_str_eq(err.data, "{\"type\":\"RowDecodingError\",\"errors\":[{\"type\":\"InvalidValue\","
	    "\"key\":\"event_id\",\"value\":\"not-a-uuid\",\"message\":\"Cannot parse key 'event_id with "
	    "value not-a-uuid into UUID\"}]}");
	free(l);
	buf_reset(&err);
	l = line_with(COL_V_ETL, "");
	ck_assert_int_eq(pgatomic_row(l, strlen(l), &row, &ev, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.data, "Field 'v_etl cannot be empty"));
	free(l);
	buf_reset(&err);
	l = line_with(COL_COLLECTOR_TSTAMP, "2023-11-14");
	ck_assert_int_eq(pgatomic_row(l, strlen(l), &row, &ev, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.data, "into datetime"));
	free(l);
	ck_assert_uint_eq(row.len, 0);
	buf_free(&row);
	buf_free(&err);
}
END_TEST

START_TEST(atomic_sql)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(pgatomic_create_sql(&b, "\"atomic\""), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "CREATE TABLE IF NOT EXISTS \"atomic\".events (\n"
	    "  app_id VARCHAR(255),\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "  event_id UUID NOT NULL,\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "  page_url VARCHAR(10000),\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "  true_tstamp TIMESTAMP\n);"));
	ck_assert_ptr_nonnull(strstr(b.data, "ON \"atomic\".events (event_id, collector_tstamp)"));
	ck_assert_ptr_null(strstr(b.data, "contexts"));
	buf_reset(&b);
	ck_assert_int_eq(pgatomic_column_list(&b, ""), 0);
	ck_assert_int_eq(count_char(b.data, ','), PGATOMIC_NCOLS - 1);
	buf_free(&b);
}
END_TEST

START_TEST(bad_rows)
{
	struct buf row;
	char key[PGBAD_KEY_LEN + 1], err[256];
	/* SHA-256 of this line (Python's hashlib): ee2af956cd3fbf8c1a38c7318de63795... */
	const char *l = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/"
	    "jsonschema/1-0-0\",\"data\":{\"processor\":{\"artifact\":\"furrow-es-sink\",\"version\":"
	    "\"0.1.0\"},\"failure\":{\"timestamp\":\"2023-11-14T22:13:21.045Z\",\"errors\":[\"x\\ty\"]},"
	    "\"payload\":\"a\\\\b\"}}";

	buf_init(&row, 0);
	ck_assert_int_eq(pgbad_row(l, strlen(l), &row, key, err, sizeof(err)), 0);
	ck_assert_str_eq(key, "ee2af956-cd3f-bf8c-1a38-c7318de63795");
	/* row_id, schema and its parts, failure time, processor, failure and payload as JSON
	 * (a TAB inside JSON is "\t", which COPY escapes to "\\t") */
	ck_assert_str_eq(row.data, "ee2af956-cd3f-bf8c-1a38-c7318de63795\t"
	    "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0\t"
	    "com.snowplowanalytics.snowplow.badrows\tgeneric_error\tjsonschema\t1-0-0\t"
	    "2023-11-14 22:13:21.045\tfurrow-es-sink\t0.1.0\t"
	    "{\"timestamp\":\"2023-11-14T22:13:21.045Z\",\"errors\":[\"x\\\\ty\"]}\t\"a\\\\\\\\b\"\n");

	/* JSON that is not a bad row: all of it is the payload; "{}" hashes to 44136fa3... */
	buf_reset(&row);
	ck_assert_int_eq(pgbad_row("{}", 2, &row, key, err, sizeof(err)), 0);
	ck_assert_str_eq(row.data, "44136fa3-55b3-678a-1146-ad16f7e8649e\t\\N\t\\N\t\\N\t\\N\t\\N\t"
	    "\\N\t\\N\t\\N\t\\N\t{}\n");
	/* a schema that is not an Iglu URI keeps its text, without parts */
	buf_reset(&row);
	ck_assert_int_eq(pgbad_row("{\"schema\":\"x\",\"data\":1}", 23, &row, key, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(row.data, "\tx\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t1\n"));
	/* not JSON */
	buf_reset(&row);
	ck_assert_int_eq(pgbad_row("not json", 8, &row, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot parse line as JSON"));
	ck_assert_uint_eq(row.len, 0);
	buf_free(&row);
}
END_TEST

START_TEST(errors)
{
	char err[512];

	/* SQLSTATE classes (PostgreSQL, Appendix A) */
	ck_assert_int_eq(pgconn_classify("22001"), PGE_DATA);    /* string_data_right_truncation */
	ck_assert_int_eq(pgconn_classify("22P02"), PGE_DATA);    /* invalid_text_representation */
	ck_assert_int_eq(pgconn_classify("23502"), PGE_DATA);    /* not_null_violation */
	ck_assert_int_eq(pgconn_classify("23505"), PGE_KEY);     /* unique_violation */
	ck_assert_int_eq(pgconn_classify("54000"), PGE_DATA);    /* program_limit_exceeded */
	ck_assert_int_eq(pgconn_classify("08006"), PGE_CONN);    /* connection_failure */
	ck_assert_int_eq(pgconn_classify("57P01"), PGE_CONN);    /* admin_shutdown */
	ck_assert_int_eq(pgconn_classify("53100"), PGE_TRANSIENT);   /* disk_full */
	ck_assert_int_eq(pgconn_classify("40P01"), PGE_TRANSIENT);   /* deadlock_detected */
	ck_assert_int_eq(pgconn_classify("42501"), PGE_TRANSIENT);   /* insufficient_privilege */
	ck_assert_int_eq(pgconn_classify("42P01"), PGE_SCHEMA);  /* undefined_table */
	ck_assert_int_eq(pgconn_classify("42703"), PGE_SCHEMA);  /* undefined_column */
	ck_assert_int_eq(pgconn_classify(NULL), PGE_CONN);
	/* the COPY line in an error context, also below another context line and translated */
	ck_assert_int_eq(pgconn_copy_line("COPY events, line 3, column app_id: \"x\""), 3);
	ck_assert_int_eq(pgconn_copy_line("COPY events, line 12: \"a\tb\""), 12);
	ck_assert_int_eq(pgconn_copy_line("JSON data, line 1: {\"a\":...\n"
	    "COPY bad_rows, line 10, column payload: \"{}\""), 10);
	ck_assert_int_eq(pgconn_copy_line("COPY events, Zeile 7, Spalte app_id: \"x\""), 7);
	ck_assert_int_eq(pgconn_copy_line("PL/pgSQL function f() line 1 at RAISE"), 0);
	ck_assert_int_eq(pgconn_copy_line(NULL), 0);
	/* --url */
	ck_assert_int_eq(pgconn_check_url("", err, sizeof(err)), 0);
	ck_assert_int_eq(pgconn_check_url("postgresql://furrow@db:5432/furrow?sslmode=require", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(pgconn_check_url("host=db dbname=furrow user=furrow", err, sizeof(err)), 0);
	ck_assert_int_eq(pgconn_check_url("postgresql://furrow:hunter2@db/furrow", err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_int_eq(pgconn_check_url("postgresql://db/furrow?password=hunter2", err, sizeof(err)), -1);
	ck_assert_int_eq(pgconn_check_url("host=db password=hunter2", err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_int_eq(pgconn_check_url("postgresql://u:hunter2@[::1/x", err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_int_eq(pgconn_check_url("nokey", err, sizeof(err)), -1);
}
END_TEST

START_TEST(backoff)
{
	unsigned a;
	unsigned long long r;

	ck_assert_uint_eq(pgload_backoff_ms(0, 100, 30000, 12345), 0);
	for (a = 1; a < 40; a++)
		for (r = 0; r < 70000; r += 997) {
			unsigned long ms = pgload_backoff_ms(a, 100, 30000, r * 7919);
			ck_assert_uint_le(ms, a < 10 ? 100UL << (a - 1) : 30000);
			ck_assert_uint_le(ms, 30000);
		}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pg_rows");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, copy_field);
	tcase_add_test(tc, timestamps);
	tcase_add_test(tc, atomic_row);
	tcase_add_test(tc, atomic_sql);
	tcase_add_test(tc, bad_rows);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, backoff);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
