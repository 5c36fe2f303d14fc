/* Unit tests for common/linelog and common/stream: whole-line appends from several writers, a
 * killed writer's fragment, a full disk (RLIMIT_FSIZE gives EFBIG the way a full disk gives
 * ENOSPC), committed offsets and resuming, over-long records in a row, reclaiming read space;
 * what the record backends (Kafka, Kinesis) share: line forms, read()'s whole lines and the
 * position, partition keys. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linelog.h"
#include "stream.h"
#include "tmpdir_test.h"
#include "stream_impl.h"


static void
setup(void)
{
	tdir_make("stream");
}

static void
teardown(void)
{
	tdir_remove();
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Line i of writer w: "w<w>-<i>-" then filler up to a length that crosses PIPE_BUF and page
 * sizes, then '\n'. */
static size_t
make_line(char *out, int w, int i)
{
	size_t n = (size_t)snprintf(out, 64, "w%d-%d-", w, i);
	size_t want = 100 + (size_t)((i * 7919 + w * 104729) % 9000);

	while (n < want)
		{ out[n] = (char)('a' + (n % 26)); n++; }
	out[n++] = '\n';
	return n;
}

START_TEST(four_writers_whole_lines)
{
	const int writers = 4, lines = 500;
	char *log = tdir_path("shared.log");
	int w, i, status;
	size_t len, off, count[4] = { 0 };
	char *data;

	for (w = 0; w < writers; w++) {
		if (fork() == 0) {
			struct linelog_writer lw;
			char line[10000];
			if (linelog_writer_open(&lw, log) == -1)
				_exit(2);
			for (i = 0; i < lines; i++) {
				size_t n = make_line(line, w, i);
				if (linelog_append(&lw, line, n) == -1)
					_exit(3);
			}
			linelog_writer_close(&lw);
			_exit(0);
		}
	}
	for (w = 0; w < writers; w++) {
		ck_assert_int_ne(wait(&status), -1);
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	data = slurp(log, &len);
	for (off = 0; off < len;) {
		char expect[10000];
		int ww, ii;
		char *nl = memchr(data + off, '\n', len - off);
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(sscanf(data + off, "w%d-%d-", &ww, &ii), 2);
		ck_assert_int_eq((int)make_line(expect, ww, ii), (int)(nl - (data + off) + 1));
		ck_assert_int_eq(memcmp(expect, data + off, (size_t)(nl - (data + off) + 1)), 0);
		ck_assert_int_eq(ii, (int)count[ww]);      /* each writer's lines in order */
		count[ww]++;
		off = (size_t)(nl - data) + 1;
	}
	for (w = 0; w < writers; w++)
		ck_assert_uint_eq(count[w], (size_t)lines);
	free(data);
}
END_TEST

START_TEST(killed_writer_fragment_cut)
{
	char *log = tdir_path("frag.log");
	struct linelog_writer lw;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	size_t len;
	char *data;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "one\ntw", 6), 6);     /* "tw": a writer killed mid-line */
	close(fd);
	ck_assert_int_eq(linelog_writer_open(&lw, log), 0);
	ck_assert_int_eq(linelog_append(&lw, "three\n", 6), 0);
	linelog_writer_close(&lw);
	data = slurp(log, &len);
	ck_assert_str_eq(data, "one\nthree\n");
	free(data);
}
END_TEST

START_TEST(full_disk_blocks_then_resumes)
{
	char *log = tdir_path("full.log");
	struct stream_sink *sink;
	struct rlimit rl;
	char err[256], line[3000];
	size_t len;
	char *data;

	signal(SIGXFSZ, SIG_IGN);
	sink = stream_sink_open(tdir_path("full.log"), 1, err, sizeof(err));
	ck_assert_ptr_nonnull(sink);
	memset(line, 'x', sizeof(line));
	ck_assert_int_eq(stream_sink_put(sink, line, 2000), 0);
	ck_assert_int_eq(stream_sink_flush(sink), STREAM_OK);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = 3000;                  /* room for part of the next line only */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(stream_sink_put(sink, line, 2500), 0);
	ck_assert_int_eq(stream_sink_flush(sink), STREAM_BLOCKED);
	ck_assert_uint_eq(stream_sink_pending(sink), 2501);
	data = slurp(log, &len);
	ck_assert_uint_eq(len, 2001);        /* no half line left behind */
	free(data);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(stream_sink_flush(sink), STREAM_OK);
	data = slurp(log, &len);
	ck_assert_uint_eq(len, 2001 + 2501);
	ck_assert_int_eq(data[len - 1], '\n');
	free(data);
	stream_sink_close(sink);
}
END_TEST

static void
append(const char *log, const char *text)
{
	struct linelog_writer lw;

	ck_assert_int_eq(linelog_writer_open(&lw, log), 0);
	ck_assert_int_eq(linelog_append(&lw, text, strlen(text)), 0);
	linelog_writer_close(&lw);
}

static struct stream_source *
open_log(const char *log, const char *group, size_t max_line)
{
	struct stream_source_opts o = { 0 };
	char spec[320], err[256];
	struct stream_source *s;

	o.group = group;
	o.max_line = max_line;
	o.toolong_keep = 4;
	snprintf(spec, sizeof(spec), "log:%s", log);
	s = stream_source_open(spec, &o, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

static enum stream_status
next(struct stream_source *s, struct stream_rec *r, char *text, size_t textlen)
{
	enum stream_status st = stream_source_next(s, r);

	if (st == STREAM_OK || st == STREAM_TOOLONG)
		snprintf(text, textlen, "%.*s", (int)r->len, r->data);
	return st;
}

START_TEST(follow_commit_resume)
{
	char *log = tdir_path("r.log");
	struct stream_source *s;
	struct stream_rec r;
	char t[100], err[200];
	struct pollfd p;

	s = open_log(log, "g1", 100);
	ck_assert_int_eq(stream_source_follows(s), 1);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_AGAIN);
	append(log, "a\nbb\nunfinish");
	/* inotify tells the poller */
	p.fd = stream_source_fd(s);
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "a");
	ck_assert_uint_eq(r.pos, 2);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "bb");
	ck_assert_uint_eq(r.pos, 5);
	/* the unterminated tail is not a record yet */
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_AGAIN);
	ck_assert_int_eq(stream_source_commit(s, 2, err, sizeof(err)), 0);
	stream_source_close(s);
	/* a restarted reader of the group starts after "a" */
	s = open_log(log, "g1", 100);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "bb");
	/* a writer that comes later cuts the fragment; the reader goes back to the line start */
	append(log, "cc\n");
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "cc");
	ck_assert_uint_eq(r.pos, 8);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_AGAIN);
	stream_source_close(s);
	/* another group starts at the beginning */
	s = open_log(log, "g2", 100);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "a");
	stream_source_close(s);
}
END_TEST

START_TEST(toolong_records_in_a_row)
{
	char *log = tdir_path("long.log");
	struct stream_source *s;
	struct stream_rec r;
	char t[100];
	char big[300];
	size_t i, pos;

	/* long(200) long(150) short long-at-end-without-newline */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('A' + i % 26);
	{
		struct linelog_writer lw;
		ck_assert_int_eq(linelog_writer_open(&lw, log), 0);
		big[200] = '\n';
		ck_assert_int_eq(linelog_append(&lw, big, 201), 0);
		big[150] = '\n';
		ck_assert_int_eq(linelog_append(&lw, big, 151), 0);
		ck_assert_int_eq(linelog_append(&lw, "ok\n", 3), 0);
		linelog_writer_close(&lw);
	}
	s = open_log(log, "g", 16);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_TOOLONG);
	ck_assert_str_eq(t, "ABCD");
	ck_assert_uint_eq(r.full_len, 200);
	ck_assert_uint_eq(r.pos, 201);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_TOOLONG);
	ck_assert_uint_eq(r.full_len, 150);
	ck_assert_uint_eq(r.pos, 352);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "ok");
	pos = r.pos;
	ck_assert_uint_eq(pos, 355);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_AGAIN);
	stream_source_close(s);
}
END_TEST

START_TEST(plain_file_reads_to_eof)
{
	char *f = tdir_path("plain.txt");
	struct stream_source_opts o = { 0 };
	struct stream_source *s;
	struct stream_rec r;
	char t[100], err[200];
	int fd = open(f, O_WRONLY | O_CREAT, 0644);

	ck_assert_int_eq(write(fd, "x\nlast", 6), 6);
	close(fd);
	o.max_line = 100;
	s = stream_source_open(f, &o, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(stream_source_follows(s), 0);
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);
	ck_assert_str_eq(t, "x");
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_OK);   /* a finished file's last line */
	ck_assert_str_eq(t, "last");
	ck_assert_int_eq(next(s, &r, t, sizeof(t)), STREAM_EOF);
	ck_assert_int_eq(stream_source_commit(s, r.pos, err, sizeof(err)), 0);
	stream_source_close(s);
	o.group = "g";
	ck_assert_ptr_null(stream_source_open(f, &o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "needs a log"));
}
END_TEST

START_TEST(reclaim_and_late_group)
{
	char *log = tdir_path("big.log");
	struct stream_source_opts o = { 0 };
	struct stream_source *s;
	struct stream_rec r;
	struct stat st;
	char line[1001], spec[320], err[200], t[100];
	int i;
	uint64_t last = 0;

	memset(line, 'z', 1000);
	line[1000] = '\n';
	{
		struct linelog_writer lw;
		ck_assert_int_eq(linelog_writer_open(&lw, log), 0);
		for (i = 0; i < 10000; i++) {
			snprintf(line, 12, "%010d", i);
			line[10] = 'z';
			ck_assert_int_eq(linelog_append(&lw, line, 1001), 0);
		}
		linelog_writer_close(&lw);
	}
	snprintf(spec, sizeof(spec), "log:%s", log);
	o.group = "enrich";
	o.max_line = 2000;
	o.reclaim = 1;
	s = stream_source_open(spec, &o, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < 9000; i++) {
		ck_assert_int_eq(stream_source_next(s, &r), STREAM_OK);
		last = r.pos;
	}
	ck_assert_int_eq(stream_source_commit(s, last, err, sizeof(err)), 0);
	stat(log, &st);
	ck_assert_int_eq(st.st_size, 10010000);
	/* most of what was read no longer takes space (tmpfs and ext4 both punch holes) */
	if ((uint64_t)st.st_blocks * 512 > 3u << 20)
		ck_abort_msg("blocks after reclaim: %lld", (long long)st.st_blocks);
	stream_source_close(s);
	/* a group that comes later starts where the data still is, at a whole line */
	o.group = "late";
	o.reclaim = 0;
	s = stream_source_open(spec, &o, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(stream_source_next(s, &r), STREAM_OK);
	snprintf(t, sizeof(t), "%.10s", r.data);
	ck_assert_str_eq(t, "0000009000");
	stream_source_close(s);
	/* a reader without a group shows the last lines */
	o.group = NULL;
	o.tail_bytes = 2500;
	s = stream_source_open(spec, &o, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(stream_source_next(s, &r), STREAM_OK);
	snprintf(t, sizeof(t), "%.10s", r.data);
	ck_assert_str_eq(t, "0000009998");
	stream_source_close(s);
}
END_TEST

START_TEST(group_names)
{
	ck_assert_int_eq(linelog_group_valid("es-sink-good"), 1);
	ck_assert_int_eq(linelog_group_valid("a.b_c"), 1);
	ck_assert_int_eq(linelog_group_valid(""), 0);
	ck_assert_int_eq(linelog_group_valid(".hidden"), 0);
	ck_assert_int_eq(linelog_group_valid("../x"), 0);
	ck_assert_int_eq(linelog_group_valid("a/b"), 0);
}
END_TEST

/* A stream's name and errors never show URL credentials (GUIDE: secrets never in logs). */
START_TEST(names_mask_credentials)
{
	struct stream_source_opts o = { 0 };
	struct stream_source *src;
	struct stream_sink *snk;
	char spec[400], err[512];

	/* a path that reads like a URL with a password: "DIR/a:" then "/u:s3cr3t@h" */
	snprintf(spec, sizeof(spec), "%s/a:", tdir);
	ck_assert_int_eq(mkdir(spec, 0700), 0);
	snprintf(spec, sizeof(spec), "%s/a://u:s3cr3t@h", tdir);
	snk = stream_sink_open(spec, 1, err, sizeof(err));
	ck_assert_msg(snk != NULL, "%s", err);
	ck_assert_ptr_null(strstr(stream_sink_name(snk), "s3cr3t"));
	ck_assert_ptr_nonnull(strstr(stream_sink_name(snk), "a://***@h"));
	stream_sink_close(snk);
	src = stream_source_open(spec, &o, err, sizeof(err));
	ck_assert_msg(src != NULL, "%s", err);
	ck_assert_ptr_null(strstr(stream_source_name(src), "s3cr3t"));
	stream_source_close(src);
	/* an error about it */
	snprintf(spec, sizeof(spec), "%s/a://u:s3cr3t@missing", tdir);
	ck_assert_ptr_null(stream_source_open(spec, &o, err, sizeof(err)));
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_ptr_nonnull(strstr(err, "***@missing"));
}
END_TEST

START_TEST(record_line_forms)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(stream_line_form(&b, "\x01\x02\x03", 3, 1), 0);
	ck_assert_str_eq(b.data, "AQID\n");
	ck_assert_uint_eq(stream_line_form_len(3, 1), 5);
	ck_assert_int_eq(stream_line_form(&b, "a\nb\nc", 5, 0), 2);
	ck_assert_str_eq(b.data, "AQID\na b c\n");
	ck_assert_uint_eq(stream_line_form_len(5, 0), 6);
	buf_free(&b);
}
END_TEST

START_TEST(record_reads_and_positions)
{
	struct stream_source_opts o = { .max_line = 8, .toolong_keep = 4 };
	struct stream_recs r;
	struct stream_rec rec;
	char out[16];
	size_t n = 0;

	stream_recs_init(&r, &o);
	/* next(): the position counts line forms; a record past max_line keeps keep bytes */
	ck_assert_int_eq(stream_recs_next(&r, &rec, "abc", 3), STREAM_OK);
	ck_assert_uint_eq(rec.pos, 4);
	ck_assert_int_eq(stream_recs_next(&r, &rec, "0123456789", 10), STREAM_TOOLONG);
	ck_assert_uint_eq(rec.len, 4);
	ck_assert_uint_eq(rec.full_len, 10);
	ck_assert_uint_eq(rec.pos, 15);
	/* read(): whole lines, unless a line is longer than an empty buffer */
	r.pos = 0;
	ck_assert_int_eq(stream_recs_drain(&r, out, 10, &n), 1);
	ck_assert_int_eq(stream_recs_form(&r, "abcd", 4), 0);
	ck_assert_int_eq(stream_recs_drain(&r, out, 10, &n), 1);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(stream_recs_form(&r, "e\nfgh", 5), 1);
	ck_assert_int_eq(stream_recs_drain(&r, out, 10, &n), 0);   /* 6 more do not fit: next call */
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(r.pos, 5);
	n = 0;
	ck_assert_int_eq(stream_recs_drain(&r, out, 4, &n), 0);    /* longer than the buffer: parts */
	ck_assert_uint_eq(n, 4);
	n = 0;
	ck_assert_int_eq(stream_recs_drain(&r, out, 4, &n), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r.pos, 11);
	ck_assert_uint_eq(r.newlines, 1);
	ck_assert_int_eq(stream_recs_next_buffered(NULL, &rec), STREAM_EOF);
	stream_recs_free(&r);
}
END_TEST

START_TEST(record_partition_keys)
{
	struct stream_key k;
	char uuid[UUID_STR_LEN + 1], long_key[STREAM_KEY_MAX + 10];
	const char *key;
	size_t len;

	stream_key_init(&k);
	ck_assert_int_eq(stream_key_of(&k, "a\tb", 3, 0, uuid, &key, &len), 0);
	ck_assert_ptr_eq(key, uuid);
	ck_assert_uint_eq(len, UUID_STR_LEN);
	k.column = 1;
	ck_assert_int_eq(stream_key_of(&k, "a\tbc\td", 6, 0, uuid, &key, &len), 0);
	ck_assert_int_eq(strncmp(key, "bc", len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(stream_key_of(&k, "a\t\td", 4, 0, uuid, &key, &len), 0);
	ck_assert_ptr_eq(key, uuid);                              /* an empty column: random */
	ck_assert_int_eq(stream_key_of(&k, "a\tbc", 4, 1, uuid, &key, &len), 0);
	ck_assert_ptr_eq(key, uuid);                              /* binary: no columns */
	memset(long_key, 'x', sizeof(long_key));
	stream_key_set(&k, long_key, sizeof(long_key));
	ck_assert_int_eq(stream_key_of(&k, "a\tbc", 4, 0, uuid, &key, &len), 0);
	ck_assert_uint_eq(len, STREAM_KEY_MAX);
	stream_key_set(&k, NULL, 0);
	ck_assert_int_eq(stream_key_of(&k, "a\tbc", 4, 0, uuid, &key, &len), 0);
	ck_assert_uint_eq(len, 2);
}
END_TEST

int
main(void)
{
	
Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, four_writers_whole_lines);
	tcase_add_test(tc, killed_writer_fragment_cut);
	tcase_add_test(tc, full_disk_blocks_then_resumes);
	tcase_add_test(tc, follow_commit_resume);
	tcase_add_test(tc, toolong_records_in_a_row);
	tcase_add_test(tc, plain_file_reads_to_eof);
	tcase_add_test(tc, reclaim_and_late_group);
	tcase_add_test(tc, group_names);
	tcase_add_test(tc, names_mask_credentials);
	tcase_add_test(tc, record_line_forms);
	tcase_add_test(tc, record_reads_and_positions);
	tcase_add_test(tc, record_partition_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
