/* Unit tests for s3-sink/spool: file names that carry the state, locking, and recovery of an
 * open file left by a killed run (sinks.md §3.6, issue "kill -9 ... no line lost"). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../s3-sink/gz.h"
#include "../../s3-sink/spool.h"

static const char *UUID = "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e";

static char *
mkspool(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test_s3_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void
rmspool(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(names)
{
	struct s3key_schema s, back;
	char name[S3SPOOL_NAME_MAX], uuid[UUID_STR_LEN + 1];
	const char *code;
	int has;

	ck_assert_int_gt(s3spool_part_name(UUID, NULL, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.part");
	ck_assert_int_eq(s3spool_part_parse(name, uuid, &back, &has), 0);
	ck_assert_str_eq(uuid, UUID);
	ck_assert_int_eq(has, 0);
	ck_assert_int_eq(s3key_schema_parse("iglu:com.acme.bad/oops/jsonschema/2-0-1", 39, &s,
	    &code), 0);
	ck_assert_int_gt(s3spool_part_name(UUID, &s, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e~com.acme.bad~oops~jsonschema~2-0-1.part");
	ck_assert_int_eq(s3spool_part_parse(name, uuid, &back, &has), 0);
	ck_assert_int_eq(has, 1);
	ck_assert(s3key_schema_eq(&s, &back));
	ck_assert_str_eq(back.model, "2");
	ck_assert_int_eq(s3spool_part_parse("nope.part", uuid, &back, &has), -1);
	ck_assert_int_eq(s3spool_part_parse("0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e~a~b.part", uuid,
	    &back, &has), -1);
	ck_assert_int_eq(s3spool_part_parse("0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e~a~b~c~1-0.part",
	    uuid, &back, &has), -1);
	ck_assert_int_eq(s3spool_classify(name), S3SPOOL_PART);
	ck_assert_int_eq(s3spool_classify("a!b!2024-01-01-000000-x.gz"), S3SPOOL_CLOSED);
	ck_assert_int_eq(s3spool_classify("x.tmp"), S3SPOOL_TMP);
	ck_assert_int_eq(s3spool_classify(".lock"), S3SPOOL_OTHER);
	ck_assert_int_eq(s3spool_classify("notes.txt"), S3SPOOL_OTHER);
}
END_TEST

START_TEST(lock_and_uuid_lookup)
{
	struct s3spool a, b;
	struct s3spool_entry e[2];
	char err[256], *dir = mkspool();

	ck_assert_int_eq(s3spool_open(&a, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(s3spool_open(&b, dir, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	s3spool_close(&a);
	ck_assert_int_eq(s3spool_open(&b, dir, err, sizeof(err)), 0);
	s3spool_close(&b);
	e[0].name = (char *)"p!2024-01-01-000000-0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz";
	e[0].kind = S3SPOOL_CLOSED;
	e[1].name = (char *)"0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0f.part";
	e[1].kind = S3SPOOL_PART;
	ck_assert_int_eq(s3spool_closed_has_uuid(e, 2, UUID), 1);
	ck_assert_int_eq(s3spool_closed_has_uuid(e, 2, "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0f"), 0);
	rmspool(dir);
}
END_TEST

/* A part written and synced, never finished (the process was killed), is salvaged into a
 * closed file named by its key, with every synced line. */
START_TEST(recover_killed_part)
{
	struct s3spool sp;
	struct s3spool_entry *ents;
	struct s3key_schema s;
	struct s3gz g;
	char err[256], name[S3SPOOL_NAME_MAX], closed[S3SPOOL_NAME_MAX], *dir = mkspool();
	const char *code;
	uint64_t records;
	size_t n, i;
	int fd;

	ck_assert_int_eq(s3spool_open(&sp, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(s3key_schema_parse("iglu:com.acme/ev/jsonschema/3-0-0", 33, &s, &code), 0);
	ck_assert_int_gt(s3spool_part_name(UUID, &s, name, sizeof(name)), 0);
	fd = s3spool_create(&sp, name, err, sizeof(err));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(s3gz_begin(&g, fd, 6, err, sizeof(err)), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(s3gz_write(&g, "{\"schema\":\"x\"}\n", 15, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_sync(&g, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_write(&g, "{\"cut", 5, err, sizeof(err)), 0);
	s3gz_abandon(&g);
	close(fd);
	ck_assert_int_eq(s3spool_list(&sp, &ents, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ents[0].kind, S3SPOOL_PART);
	ents[0].mtime = 1700000000;     /* 2023-11-14 22:13:20 UTC */
	ck_assert_int_eq(s3spool_recover_part(&sp, &ents[0], "{vendor}.{schema}/v={model}", "pre-",
	    6, closed, sizeof(closed), &records, err, sizeof(err)), 0);
	ck_assert_uint_eq(records, 100);
	ck_assert_str_eq(closed, "com.acme.ev!v=3!pre-2023-11-14-221320-"
	    "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e.gz");
	s3spool_list_free(ents, n);
	ck_assert_int_eq(s3spool_list(&sp, &ents, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ents[0].name, closed);
	ck_assert_int_eq(ents[0].kind, S3SPOOL_CLOSED);
	s3spool_list_free(ents, n);
	{
		char path[S3SPOOL_NAME_MAX + 80], buf[4096];
		gzFile z;
		int got;

		snprintf(path, sizeof(path), "%s/%s", dir, closed);
		z = gzopen(path, "rb");
		ck_assert_ptr_nonnull(z);
		got = gzread(z, buf, sizeof(buf));
		ck_assert_int_eq(got, 1500);
		ck_assert_int_eq(buf[1499], '\n');
		gzclose(z);
	}
	/* A part with no whole line disappears without an object. */
	ck_assert_int_gt(s3spool_part_name("0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d01", NULL, name,
	    sizeof(name)), 0);
	fd = s3spool_create(&sp, name, err, sizeof(err));
	ck_assert_int_eq(s3gz_begin(&g, fd, 6, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_write(&g, "partial", 7, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_sync(&g, err, sizeof(err)), 0);
	s3gz_abandon(&g);
	close(fd);
	ck_assert_int_eq(s3spool_list(&sp, &ents, &n, err, sizeof(err)), 0);
	for (i = 0; i < n && ents[i].kind != S3SPOOL_PART; i++)
		;
	ck_assert_uint_lt(i, n);
	ck_assert_int_eq(s3spool_recover_part(&sp, &ents[i], "", "", 6, closed, sizeof(closed),
	    &records, err, sizeof(err)), 0);
	ck_assert_uint_eq(records, 0);
	ck_assert_str_eq(closed, "");
	s3spool_list_free(ents, n);
	ck_assert_int_eq(s3spool_list(&sp, &ents, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	s3spool_list_free(ents, n);
	/* A template needing a schema cannot place a part without one: kept, error. */
	fd = s3spool_create(&sp, name, err, sizeof(err));
	close(fd);
	ck_assert_int_eq(s3spool_list(&sp, &ents, &n, err, sizeof(err)), 0);
	for (i = 0; i < n && ents[i].kind != S3SPOOL_PART; i++)
		;
	ck_assert_int_eq(s3spool_recover_part(&sp, &ents[i], "{vendor}", "", 6, closed,
	    sizeof(closed), &records, err, sizeof(err)), -1);
	s3spool_list_free(ents, n);
	s3spool_close(&sp);
	rmspool(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3_spool");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, names);
	tcase_add_test(tc, lock_and_uuid_lookup);
	tcase_add_test(tc, recover_killed_part);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
