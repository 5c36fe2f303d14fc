/* Unit tests for common/sinkout, the outputs es-sink and pg-sink share: opening the streams and
 * the errors that name the flag, generic_error bad rows with and without the item-level cut,
 * the spool, a full disk waited out (RLIMIT_FSIZE gives EFBIG the way a full disk gives
 * ENOSPC) with its blocked-since time and /health, a stop while blocked on a log, a broken
 * output, and SIGHUP's reopen. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sig.h"
#include "sinkout.h"
#include "stream.h"
#include "tmpdir_test.h"
#include "timefmt.h"


/* What the module notified, in order. */
static struct {
	int  level;
	char msg[600];
} notes[32];
static size_t nnotes;

static void
note_cb(int level, const char *msg)
{
	if (nnotes < sizeof(notes) / sizeof(notes[0])) {
		notes[nnotes].level = level;
		snprintf(notes[nnotes].msg, sizeof(notes[nnotes].msg), "%s", msg);
		nnotes++;
	}
}

/* The index of the first note at level that contains text, or -1. */
static int
noted(int level, const char *text)
{
	size_t i;

	for (i = 0; i < nnotes; i++)
		if (notes[i].level == level && strstr(notes[i].msg, text))
			return (int)i;
	return -1;
}

static void
setup(void)
{
	tdir_make("sinkout");
	nnotes = 0;
	sig_terminate = 0;
}

static void
teardown(void)
{
	tdir_remove();
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
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
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* A configuration reading an empty file, with --bad in the test's folder. */
static struct sinkout_conf
conf(void)
{
	struct sinkout_conf c;

	memset(&c, 0, sizeof(c));
	write_file(tdir_path("in.tsv"), "");
	c.source = tdir_path("in.tsv");
	c.bad_path = tdir_path("bad.json");
	c.max_line = 1 << 20;
	c.artifact = "furrow-test-sink";
	c.notify = note_cb;
	return c;
}

static void
open_ok(struct sinkout *o, const struct sinkout_conf *c)
{
	char err[1024];
	int rc = sinkout_open(o, c, err, sizeof(err));

	ck_assert_msg(rc == 0, "sinkout_open: %d %s", rc, err);
}

START_TEST(open_errors_name_the_flag)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	char err[1024];

	c.source = tdir_path("missing.tsv");
	ck_assert_int_eq(sinkout_open(&o, &c, err, sizeof(err)), EX_NOINPUT);
	ck_assert_msg(strncmp(err, "--source ", 9) == 0, "%s", err);
	ck_assert_int_eq(sinkout_close(&o), 0);

	c = conf();
	c.bad_path = tdir_path("no/such/dir/bad.json");
	ck_assert_int_eq(sinkout_open(&o, &c, err, sizeof(err)), EX_IOERR);
	ck_assert_msg(strncmp(err, "--bad ", 6) == 0, "%s", err);
	ck_assert_ptr_nonnull(o.in);             /* opened so far: closed by sinkout_close */
	ck_assert_int_eq(sinkout_close(&o), 0);
	ck_assert_ptr_null(o.in);

	c = conf();
	c.spool_path = tdir_path("no/such/dir/spool");
	ck_assert_int_eq(sinkout_open(&o, &c, err, sizeof(err)), EX_IOERR);
	ck_assert_msg(strncmp(err, "--spool ", 8) == 0, "%s", err);
	ck_assert_ptr_nonnull(o.bad);
	ck_assert_int_eq(sinkout_close(&o), 0);
	ck_assert_uint_eq(nnotes, 0);
}
END_TEST

/* A line of n copies of "é" (2 bytes, 1 code point) and a tab. */
static char *
long_line(size_t n, size_t *len)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[2 * n] = '\t';
	*len = 2 * n + 1;
	return s;
}

START_TEST(bad_rows_cut_items_only)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	size_t len, flen, i;
	char *line = long_line(SINKOUT_PAYLOAD_CUT_CHARS + 500, &len), *data, *nl;
	json_t *rows[2];
	json_error_t jerr;
	int status = 0;

	open_ok(&o, &c);
	ck_assert_int_eq(sinkout_bad(&o, line, len, 0, "a line-level error", &status), 0);
	ck_assert_int_eq(sinkout_bad(&o, line, len, 1, "an item-level error", &status), 0);
	ck_assert_uint_eq(o.bad_rows, 2);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	ck_assert_int_eq(status, 0);
	data = slurp(tdir_path("bad.json"), &flen);
	nl = strchr(data, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(data[flen - 1], '\n');
	ck_assert_ptr_eq(strchr(nl + 1, '\n'), data + flen - 1);   /* two lines */
	rows[0] = json_loadb(data, (size_t)(nl - data), 0, &jerr);
	rows[1] = json_loadb(nl + 1, (size_t)(data + flen - 1 - (nl + 1)), 0, &jerr);
	for (i = 0; i < 2; i++) {
		json_t *d = json_object_get(rows[i], "data");
		const char *payload = json_string_value(json_object_get(d, "payload"));
		const char *err = json_string_value(json_array_get(json_object_get(
		    json_object_get(d, "failure"), "errors"), 0));

		ck_assert_ptr_nonnull(rows[i]);
		ck_assert_str_eq(json_string_value(json_object_get(rows[i], "schema")),
		    "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0");
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "processor"),
		    "artifact")), "furrow-test-sink");
		ck_assert_str_eq(err, i == 0 ? "a line-level error" : "an item-level error");
		if (i == 0) {
			ck_assert_uint_eq(strlen(payload), len);             /* whole */
		} else {
			/* 20000 code points, never half a sequence */
			ck_assert_uint_eq(strlen(payload), 2 * SINKOUT_PAYLOAD_CUT_CHARS);
			ck_assert_int_eq(memcmp(payload, line, strlen(payload)), 0);
		}
		json_decref(rows[i]);
	}
	/* a short line is not cut */
	ck_assert_int_eq(sinkout_bad(&o, "a\tb", 3, 1, "short", &status), 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	ck_assert_int_eq(sinkout_close(&o), 0);
	free(data);
	data = slurp(tdir_path("bad.json"), &flen);
	ck_assert_ptr_nonnull(strstr(data, "\"payload\":\"a\\tb\"}}\n"));
	free(data);
	free(line);
}
END_TEST

START_TEST(spool_takes_lines)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	size_t len;
	char *data;
	int status = 0;

	c.spool_path = tdir_path("spool.tsv");
	open_ok(&o, &c);
	ck_assert_int_eq(sinkout_spool(&o, "one\tline", 8, &status), 0);
	ck_assert_int_eq(sinkout_spool(&o, "two", 3, &status), 0);
	ck_assert_uint_eq(o.spooled, 2);
	ck_assert_uint_eq(o.bad_rows, 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	data = slurp(tdir_path("spool.tsv"), &len);
	ck_assert_str_eq(data, "one\tline\ntwo\n");
	free(data);
	ck_assert_int_eq(sinkout_close(&o), 0);
	ck_assert_int_eq(status, 0);
}
END_TEST

/* The thread that frees the disk: it waits (with a deadline) until the module says it is
 * blocked, keeps what it saw, then lifts the limit. */
static struct {
	struct sinkout *o;
	int64_t         seen_since;
	double          seen_seconds;
	int             seen_health;
	char            why[200];
} freer;

static void *
freer_main(void *arg)
{
	int64_t deadline = timefmt_mono_ms() + 10000;
	struct rlimit rl;
	struct buf why;

	(void)arg;
	while (freer.o->blocked_since == 0 && timefmt_mono_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	freer.seen_since = freer.o->blocked_since;
	freer.seen_seconds = sinkout_blocked_seconds(freer.o, timefmt_mono_ms());
	buf_init(&why, 0);
	freer.seen_health = sinkout_health(freer.o, 0, timefmt_mono_ms(), &why);
	snprintf(freer.why, sizeof(freer.why), "%s", why.data ? why.data : "");
	buf_free(&why);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
	return NULL;
}

static void
limit_file_size(rlim_t bytes)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = bytes ? bytes : rl.rlim_max;    /* 0: lift the limit */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

START_TEST(full_disk_waited_out)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	struct buf why;
	pthread_t t;
	size_t len;
	char *data;
	int status = 0;

	open_ok(&o, &c);
	buf_init(&why, 0);
	ck_assert_int_eq(sinkout_health(&o, 0, timefmt_mono_ms(), &why), 1);
	ck_assert_double_eq(sinkout_blocked_seconds(&o, timefmt_mono_ms()), 0.0);
	limit_file_size(10);
	ck_assert_int_eq(sinkout_bad(&o, "x", 1, 0, "full", &status), 0);
	freer.o = &o;
	ck_assert_int_eq(pthread_create(&t, NULL, freer_main, NULL), 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, 0);
	/* while blocked: since when, for how long, unhealthy past the threshold */
	ck_assert(freer.seen_since > 0);
	ck_assert(freer.seen_seconds >= 0.0);
	ck_assert_int_eq(freer.seen_health, 0);
	ck_assert_msg(strstr(freer.why, "--bad or --spool blocked (full disk) for ") == freer.why,
	    "%s", freer.why);
	/* written again: not blocked any more, both said */
	ck_assert_int_eq(o.blocked_since, 0);
	ck_assert_int_ge(noted(LOG_LVL_WARN, "; not reading more input until it can be written "
	    "(waiting 0s)"), 0);
	ck_assert_int_gt(noted(LOG_LVL_INFO, "output written again after "),
	    noted(LOG_LVL_WARN, "not reading more input"));
	ck_assert_int_eq(sinkout_health(&o, 0, timefmt_mono_ms(), &why), 1);
	data = slurp(tdir_path("bad.json"), &len);
	ck_assert_ptr_nonnull(strstr(data, "\"errors\":[\"full\"]"));
	free(data);
	buf_free(&why);
	ck_assert_int_eq(sinkout_close(&o), 0);
}
END_TEST

START_TEST(stop_while_blocked_on_a_log)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	char spec[320];
	int status = 0;

	write_file(tdir_path("in.log"), "");
	snprintf(spec, sizeof(spec), "log:%s", tdir_path("in.log"));
	c.source = spec;
	c.group = "g";
	open_ok(&o, &c);
	ck_assert(stream_source_follows(o.in));
	limit_file_size(10);
	ck_assert_int_eq(sinkout_bad(&o, "x", 1, 0, "full", &status), 0);
	sig_terminate = 1;
	/* uncommitted, not failed: the log is read again from there at the next start */
	ck_assert_int_eq(sinkout_flush(&o, &status), -1);
	ck_assert_int_eq(status, 0);
	ck_assert(o.blocked_since > 0);
	ck_assert_int_ge(noted(LOG_LVL_WARN, "not reading more input"), 0);
	ck_assert_int_lt(noted(LOG_LVL_INFO, "output written again"), 0);
	limit_file_size(0);
	sinkout_close(&o);
}
END_TEST

START_TEST(broken_output_fails_with_ioerr)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	int p[2], status = 0;

	/* --bad -: standard output, a pipe nobody reads */
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[0]);
	close(p[1]);
	c.bad_path = "-";
	open_ok(&o, &c);
	ck_assert_int_eq(sinkout_bad(&o, "x", 1, 0, "lost", &status), 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), -1);
	ck_assert_int_eq(status, EX_IOERR);
	ck_assert_int_ge(noted(LOG_LVL_ERROR, "Broken pipe"), 0);
	/* the first failure decides the exit status */
	status = EX_SOFTWARE;
	ck_assert_int_eq(sinkout_flush(&o, &status), -1);
	ck_assert_int_eq(status, EX_SOFTWARE);
	sinkout_close(&o);
}
END_TEST

START_TEST(reopen_after_rotation)
{
	struct sinkout_conf c = conf();
	struct sinkout o;
	size_t len;
	char *data;
	int status = 0;

	c.spool_path = tdir_path("spool.tsv");
	open_ok(&o, &c);
	ck_assert_int_eq(sinkout_bad(&o, "1", 1, 0, "first", &status), 0);
	ck_assert_int_eq(sinkout_spool(&o, "s1", 2, &status), 0);
	/* rotated away; what is queued is written to the old file before the new one opens */
	ck_assert_int_eq(rename(tdir_path("bad.json"), tdir_path("bad.json.1")), 0);
	ck_assert_int_eq(rename(tdir_path("spool.tsv"), tdir_path("spool.tsv.1")), 0);
	sinkout_reopen(&o, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_uint_eq(nnotes, 0);
	ck_assert_int_eq(sinkout_bad(&o, "2", 1, 0, "second", &status), 0);
	ck_assert_int_eq(sinkout_spool(&o, "s2", 2, &status), 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	data = slurp(tdir_path("bad.json.1"), &len);
	ck_assert_ptr_nonnull(strstr(data, "\"first\""));
	ck_assert_ptr_null(strstr(data, "\"second\""));
	free(data);
	data = slurp(tdir_path("bad.json"), &len);
	ck_assert_ptr_nonnull(strstr(data, "\"second\""));
	free(data);
	data = slurp(tdir_path("spool.tsv.1"), &len);
	ck_assert_str_eq(data, "s1\n");
	free(data);
	data = slurp(tdir_path("spool.tsv"), &len);
	ck_assert_str_eq(data, "s2\n");
	free(data);

	/* a path that cannot be opened again: said, and the old file kept (not a failure) */
	ck_assert_int_eq(rename(tdir_path("bad.json"), tdir_path("bad.json.2")), 0);
	ck_assert_int_eq(mkdir(tdir_path("bad.json"), 0700), 0);
	sinkout_reopen(&o, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_ge(noted(LOG_LVL_ERROR, "still writing to the old file"), 0);
	ck_assert_int_eq(sinkout_bad(&o, "3", 1, 0, "third", &status), 0);
	ck_assert_int_eq(sinkout_flush(&o, &status), 0);
	data = slurp(tdir_path("bad.json.2"), &len);
	ck_assert_ptr_nonnull(strstr(data, "\"third\""));
	free(data);
	ck_assert_int_eq(sinkout_close(&o), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sinkout");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_errors_name_the_flag);
	tcase_add_test(tc, bad_rows_cut_items_only);
	tcase_add_test(tc, spool_takes_lines);
	tcase_add_test(tc, full_disk_waited_out);
	tcase_add_test(tc, stop_while_blocked_on_a_log);
	tcase_add_test(tc, broken_output_fails_with_ioerr);
	tcase_add_test(tc, reopen_after_rotation);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
