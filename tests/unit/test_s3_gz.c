/* Unit tests for s3-sink/gz: gzip framing (sinks.md §3.4: one member, '\n' after every record)
 * and salvaging a member cut off after a sync point, as kill -9 leaves it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../s3-sink/gz.h"

/* Read all of fd from offset 0. */
static unsigned char *
slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *p = malloc((size_t)end + 1);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, (size_t)end, 0), end);
	*len = (size_t)end;
	return p;
}

/* Inflate one gzip member; *rest gets the bytes after it. Returns the text (NUL-terminated). */
static char *
gunzip(const unsigned char *in, size_t len, size_t *outlen, size_t *rest)
{
	z_stream zs;
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	int rc;

	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(inflateInit2(&zs, 31), Z_OK);
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	do {
		if (zs.total_out == cap) {
			cap *= 2;
			out = realloc(out, cap);
		}
		zs.next_out = (unsigned char *)out + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		rc = inflate(&zs, Z_NO_FLUSH);
	} while (rc == Z_OK);
	ck_assert_int_eq(rc, Z_STREAM_END);
	*outlen = zs.total_out;
	*rest = zs.avail_in;
	out = realloc(out, *outlen + 1);
	out[*outlen] = '\0';
	inflateEnd(&zs);
	return out;
}

static int
tmpfd(void)
{
	char path[] = "/tmp/test_s3_gz.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ne(fd, -1);
	unlink(path);
	return fd;
}

START_TEST(member_framing)
{
	struct s3gz g;
	char err[128], line[64], *text, *want;
	unsigned char *raw;
	size_t len, tlen, rest, wlen = 0;
	int fd = tmpfd(), i;

	want = malloc(100000);
	ck_assert_int_eq(s3gz_begin(&g, fd, 6, err, sizeof(err)), 0);
	for (i = 0; i < 2000; i++) {
		int n = snprintf(line, sizeof(line), "record\t%d\tx\n", i);

		ck_assert_int_eq(s3gz_write(&g, line, (size_t)n, err, sizeof(err)), 0);
		memcpy(want + wlen, line, (size_t)n);
		wlen += (size_t)n;
		if (i % 300 == 0)
			ck_assert_int_eq(s3gz_sync(&g, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(s3gz_finish(&g, err, sizeof(err)), 0);
	raw = slurp(fd, &len);
	ck_assert_uint_eq(len, g.bytes_out);
	ck_assert_uint_eq(g.bytes_in, wlen);
	ck_assert_int_eq(raw[0], 0x1f);
	ck_assert_int_eq(raw[1], 0x8b);
	text = gunzip(raw, len, &tlen, &rest);
	ck_assert_uint_eq(rest, 0);           /* exactly one member, nothing after it */
	ck_assert_uint_eq(tlen, wlen);
	ck_assert_int_eq(memcmp(text, want, wlen), 0);
	ck_assert_int_eq(text[tlen - 1], '\n');
	free(text);
	free(raw);
	free(want);
	close(fd);
}
END_TEST

/* Write 500 lines and sync, then more lines and half a line without syncing; cut the file at
 * every interesting length and salvage it. */
START_TEST(salvage_truncated)
{
	struct s3gz g;
	char err[128], line[64], *text;
	unsigned char *raw;
	uint64_t records, tail;
	size_t len, synced, cut, tlen, rest;
	int fd = tmpfd(), in, out, i;

	ck_assert_int_eq(s3gz_begin(&g, fd, 6, err, sizeof(err)), 0);
	for (i = 0; i < 500; i++) {
		int n = snprintf(line, sizeof(line), "line-%04d\n", i);

		ck_assert_int_eq(s3gz_write(&g, line, (size_t)n, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(s3gz_sync(&g, err, sizeof(err)), 0);
	synced = (size_t)g.bytes_out;
	for (i = 500; i < 600; i++) {
		int n = snprintf(line, sizeof(line), "line-%04d\n", i);

		ck_assert_int_eq(s3gz_write(&g, line, (size_t)n, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(s3gz_write(&g, "half-a-li", 9, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_sync(&g, err, sizeof(err)), 0);
	s3gz_abandon(&g);
	raw = slurp(fd, &len);
	for (cut = 0; cut <= len; cut += (cut < synced - 4 ? 97 : 1)) {
		in = tmpfd();
		out = tmpfd();
		ck_assert_int_eq(pwrite(in, raw, cut, 0), (ssize_t)cut);
		lseek(in, 0, SEEK_SET);
		ck_assert_int_eq(s3gz_salvage(in, out, 6, &records, &tail, err, sizeof(err)), 0);
		if (cut >= synced)
			ck_assert_uint_ge(records, 500);
		if (cut == len) {
			ck_assert_uint_eq(records, 600);
			ck_assert_uint_eq(tail, 9);
		}
		{
			unsigned char *o;
			size_t olen;

			o = slurp(out, &olen);
			text = gunzip(o, olen, &tlen, &rest);
			ck_assert_uint_eq(tlen, records * 10);    /* whole lines only */
			for (i = 0; i < (int)records; i++) {
				snprintf(line, sizeof(line), "line-%04d\n", i);
				ck_assert_int_eq(memcmp(text + i * 10, line, 10), 0);
			}
			free(text);
			free(o);
		}
		close(in);
		close(out);
	}
	free(raw);
	close(fd);
}
END_TEST

START_TEST(salvage_complete_and_garbage)
{
	struct s3gz g;
	char err[128];
	uint64_t records, tail;
	int fd = tmpfd(), out = tmpfd(), junk = tmpfd();

	ck_assert_int_eq(s3gz_begin(&g, fd, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_write(&g, "a\nb\nc\n", 6, err, sizeof(err)), 0);
	ck_assert_int_eq(s3gz_finish(&g, err, sizeof(err)), 0);
	lseek(fd, 0, SEEK_SET);
	ck_assert_int_eq(s3gz_salvage(fd, out, 6, &records, &tail, err, sizeof(err)), 0);
	ck_assert_uint_eq(records, 3);
	ck_assert_uint_eq(tail, 0);
	ck_assert_int_eq(write(junk, "this is not gzip\n", 17), 17);
	lseek(junk, 0, SEEK_SET);
	ck_assert_int_eq(s3gz_salvage(junk, out, 6, &records, &tail, err, sizeof(err)), 0);
	ck_assert_uint_eq(records, 0);
	close(fd);
	close(out);
	close(junk);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3_gz");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, member_framing);
	tcase_add_test(tc, salvage_truncated);
	tcase_add_test(tc, salvage_complete_and_garbage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
