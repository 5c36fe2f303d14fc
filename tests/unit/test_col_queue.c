/* Unit tests for collector/col_queue: bounded, line-preserving, non-blocking output over a pipe
 * that fills up, and a FIFO whose reader comes and goes. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../collector/col_queue.h"
#include "base64.h"
#include "sig.h"

static void
run_loop(struct event_base *base, int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static size_t
drain(int fd, char *out, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, out + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

START_TEST(bounded_and_ordered_over_a_full_pipe)
{
	struct event_base *base = event_base_new();
	struct col_queue *q;
	int p[2], i;
	char err[128], rec[700], *got, *want;
	size_t line = base64_encoded_len(sizeof(rec)) + 1, n, total = 0;

	sig_ignore_pipe();
	ck_assert_int_eq(pipe(p), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* an output on the pipe's write end, via its /proc path, as a user would pass a FIFO */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
		q = col_queue_new(base, path, 1, 200 * line, err, sizeof(err));
	}
	ck_assert_ptr_nonnull(q);
	want = malloc(400 * line);
	got = malloc(400 * line);
	for (i = 0; i < 400; i++) {
		memset(rec, 'a' + i % 26, sizeof(rec));
		rec[0] = (char)i;
		if (!col_queue_room(q, line)) {
			/* the pipe (64 KiB) plus the queue bound are full: drain and go on */
			run_loop(base, 10);
			n = drain(p[0], got + total, 400 * line - total);
			total += n;
			run_loop(base, 10);
			ck_assert_int_eq(col_queue_room(q, line), 1);
		}
		ck_assert_int_eq(col_queue_push_base64(q, (uint8_t *)rec, sizeof(rec)), 0);
		base64_encode((uint8_t *)rec, sizeof(rec), want + (size_t)i * line);
		want[(size_t)i * line + line - 1] = '\n';
	}
	while (total < 400 * line) {
		run_loop(base, 10);
		n = drain(p[0], got + total, 400 * line - total);
		if (n == 0 && col_queue_pending(q) == 0)
			break;
		total += n;
	}
	ck_assert_int_eq((int)total, (int)(400 * line));
	ck_assert_int_eq(memcmp(got, want, total), 0);
	ck_assert_int_eq((int)col_queue_pending(q), 0);
	ck_assert_int_eq(col_queue_healthy(q), 1);
	col_queue_free(q);
	free(got);
	free(want);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
}
END_TEST

START_TEST(fifo_reader_absent_then_back)
{
	struct event_base *base = event_base_new();
	char dir[] = "/tmp/colq.XXXXXX", path[64], err[128], buf[256];
	struct col_queue *q;
	int rfd;
	size_t n;

	sig_ignore_pipe();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	q = col_queue_new(base, path, 1, 1 << 20, err, sizeof(err));
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(col_queue_healthy(q), 0);          /* no reader yet */
	ck_assert_int_eq(col_queue_push(q, "one\n", 4), 0);
	run_loop(base, 50);
	ck_assert_int_eq((int)col_queue_pending(q), 4);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(rfd, 0);
	run_loop(base, 400);                                /* the retry timer reopens */
	n = drain(rfd, buf, sizeof(buf));
	ck_assert_int_eq((int)n, 4);
	ck_assert_int_eq(memcmp(buf, "one\n", 4), 0);
	ck_assert_int_eq(col_queue_healthy(q), 1);
	close(rfd);                                         /* the reader goes away */
	ck_assert_int_eq(col_queue_push(q, "two\n", 4), 0);
	run_loop(base, 50);
	ck_assert_int_eq((int)col_queue_pending(q), 4);     /* EPIPE: kept */
	ck_assert_int_eq(col_queue_healthy(q), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	run_loop(base, 400);
	n = drain(rfd, buf, sizeof(buf));
	ck_assert_int_eq((int)n, 4);
	ck_assert_int_eq(memcmp(buf, "two\n", 4), 0);
	close(rfd);
	col_queue_free(q);
	unlink(path);
	rmdir(dir);
	event_base_free(base);
}
END_TEST

/* A record the queue refuses makes it unhealthy even though pending < max (issue 10: the
 * queue only takes a record that fits, so "pending == max" never happened and /sink-health said
 * 200 while trackers got 503). Healthy again once the refused size would fit. */
START_TEST(refusal_is_unhealthy)
{
	struct event_base *base = event_base_new();
	struct col_queue *q;
	char path[64], err[128], fill[65536], big[4096];
	int p[2];
	size_t total = 0;
	ssize_t n;

	sig_ignore_pipe();
	ck_assert_int_eq(pipe(p), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	memset(fill, 'f', sizeof(fill));
	while ((n = write(p[1], fill, sizeof(fill))) > 0)   /* the reader is not reading */
		total += (size_t)n;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	q = col_queue_new(base, path, 1, 10000, err, sizeof(err));
	ck_assert_ptr_nonnull(q);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	ck_assert_int_eq(col_queue_room(q, sizeof(big)), 1);
	ck_assert_int_eq(col_queue_push(q, big, sizeof(big)), 0);
	ck_assert_int_eq(col_queue_room(q, sizeof(big)), 1);
	ck_assert_int_eq(col_queue_push(q, big, sizeof(big)), 0);
	run_loop(base, 20);
	ck_assert_int_eq((int)col_queue_pending(q), 8192);
	ck_assert_int_eq(col_queue_healthy(q), 1);          /* nothing refused yet */
	ck_assert_int_eq(col_queue_room(q, sizeof(big)), 0);    /* 8192 + 4096 > 10000 */
	ck_assert_int_eq(col_queue_healthy(q), 0);
	ck_assert_int_eq(col_queue_room(q, 100), 1);        /* a small one still fits ... */
	ck_assert_int_eq(col_queue_healthy(q), 0);          /* ... but the big one would not */
	/* the reader catches up: the refused size fits again */
	while (total > 0 && (n = read(p[0], fill, sizeof(fill))) > 0)
		total -= (size_t)n;
	run_loop(base, 50);
	while (read(p[0], fill, sizeof(fill)) > 0)
		;
	ck_assert_int_eq((int)col_queue_pending(q), 0);
	ck_assert_int_eq(col_queue_healthy(q), 1);
	col_queue_free(q);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_queue");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, bounded_and_ordered_over_a_full_pipe);
	tcase_add_test(tc, fifo_reader_absent_then_back);
	tcase_add_test(tc, refusal_is_unhealthy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
