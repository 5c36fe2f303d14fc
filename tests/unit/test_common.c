/* Unit tests for the small common/ modules: buf, linereader, timefmt, uuid, utf8, badrow,
 * event, jsonw, pct. (base64 and thrift have their own programs.) */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badrow.h"
#include "buf.h"
#include "event.h"
#include "flagval.h"
#include "jnum.h"
#include "jsonw.h"
#include "linereader.h"
#include "pct.h"
#include "redact.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"

START_TEST(buf_cap_enforced)
{
	struct buf b;

	buf_init(&b, 10);
	ck_assert_int_eq(buf_append(&b, "0123456789", 10), 0);
	ck_assert_int_eq(buf_append_byte(&b, 'x'), -1);
	ck_assert_uint_eq(b.len, 10);
	buf_consume(&b, 4);
	ck_assert_str_eq(b.data, "456789");
	ck_assert_int_eq(buf_printf(&b, "%d", 1234), 0);
	ck_assert_str_eq(b.data, "4567891234");
	ck_assert_int_eq(buf_printf(&b, "x"), -1);
	buf_free(&b);
}
END_TEST

/* buf_append and buf_printf: into the room there is (one pass), past it (growth), past the
 * cap (refused, the buffer as it was: same bytes, NUL after them). */
START_TEST(buf_room_growth_and_refusal)
{
	struct buf b;
	char big[300];
	size_t i;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 0);
	ck_assert_int_eq(buf_append(&b, "", 0), 0);          /* nothing, on an empty buffer */
	ck_assert_int_eq(buf_printf(&b, "%s-%d", "x", 7), 0); /* no room yet: the measuring pass */
	ck_assert_str_eq(b.data, "x-7");
	ck_assert_int_eq(buf_printf(&b, "%d", 42), 0);        /* fits the room */
	ck_assert_str_eq(b.data, "x-742");
	ck_assert_int_eq(buf_printf(&b, "%s", big), 0);       /* does not fit: grows, written once */
	ck_assert_uint_eq(b.len, 5 + sizeof(big) - 1);
	ck_assert_int_eq(memcmp(b.data, "x-742aaa", 8), 0);
	ck_assert_int_eq(b.data[b.len], '\0');
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append_str(&b, "bc"), 0);
	ck_assert_uint_eq(b.len, 5 + sizeof(big) - 1 + 2000);
	ck_assert_int_eq(memcmp(b.data + b.len - 4, "bcbc", 5), 0);
	buf_free(&b);

	buf_init(&b, 8);
	ck_assert_int_eq(buf_append(&b, "12345", 5), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", "6789"), -1);  /* one past the cap */
	ck_assert_str_eq(b.data, "12345");
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(buf_append(&b, "6789", 4), -1);
	ck_assert_str_eq(b.data, "12345");
	ck_assert_int_eq(buf_printf(&b, "%s", "678"), 0);    /* exactly to the cap */
	ck_assert_str_eq(b.data, "12345678");
	ck_assert_int_eq(buf_append(&b, "", 0), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", ""), 0);
	ck_assert_int_eq(buf_append_str(&b, "9"), -1);
	ck_assert_str_eq(b.data, "12345678");
	buf_reset(&b);
	ck_assert_int_eq(buf_printf(&b, "%s", "abcdefghi"), -1);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
}
END_TEST

static int
pipe_with(const char *data, size_t n)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], data, n), (ssize_t)n);
	close(fds[1]);
	return fds[0];
}

START_TEST(linereader_lines_and_limits)
{
	static const char in[] = "a\nbb\r\n\nTOOLONGLINE\nccc\nlast";
	struct linereader lr;
	const char *l;
	size_t n;
	int fd = pipe_with(in, sizeof(in) - 1);

	ck_assert_int_eq(linereader_init(&lr, fd, 5), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_uint_eq(n, 3);                      /* \r left to the caller */
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert_uint_eq(n, 5);
	ck_assert(memcmp(l, "TOOLO", 5) == 0);
	ck_assert_uint_eq(lr.discarded, 11);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "ccc", 3) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 4 && memcmp(l, "last", 4) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fd);
}
END_TEST

/* A line longer than the whole read buffer is cut once and discarded up to its newline. */
START_TEST(linereader_huge_line)
{
	size_t big = 300000, i;
	char *in = malloc(big + 10);
	struct linereader lr;
	const char *l;
	size_t n;
	int fds[2];

	for (i = 0; i < big; i++)
		in[i] = 'x';
	memcpy(in + big, "\nok\n", 4);
	ck_assert_int_eq(pipe(fds), 0);
	if (fork() == 0) {
		ssize_t w;
		size_t off = 0;
		close(fds[0]);
		while (off < big + 4 && (w = write(fds[1], in + off, big + 4 - off)) > 0)
			off += (size_t)w;
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(linereader_init(&lr, fds[0], 1000), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert_uint_eq(n, 1000);
	ck_assert_uint_eq(lr.discarded, big);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 2 && memcmp(l, "ok", 2) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fds[0]);
	free(in);
}
END_TEST

/* Write data into a pipe from a child (it may be larger than the pipe); returns the read end. */
static int
pipe_from_child(const char *data, size_t n)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	if (fork() == 0) {
		ssize_t w;
		size_t off = 0;
		close(fds[0]);
		while (off < n && (w = write(fds[1], data + off, n - off)) > 0)
			off += (size_t)w;
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

/* Two over-long lines in a row, each larger than the read buffer, then two that fit the buffer
 * but not the limit: each is reported once, with its own prefix and its own full length
 * (issue 10: the first one used to be swallowed by the second). */
START_TEST(linereader_toolong_runs)
{
	size_t big = 200000, off = 0, i;
	char *in = malloc(2 * big + 64);
	struct linereader lr;
	const char *l;
	size_t n;
	int fd;

	for (i = 0; i < big; i++)
		in[off++] = 'a';
	in[off++] = '\n';
	for (i = 0; i < big + 7; i++)
		in[off++] = 'b';
	in[off++] = '\n';
	memcpy(in + off, "cccccccc\ndddddd\nok\n", 19);
	off += 19;
	fd = pipe_from_child(in, off);
	ck_assert_int_eq(linereader_init(&lr, fd, 1000), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert_uint_eq(n, 1000);
	ck_assert(l[0] == 'a' && l[999] == 'a');
	ck_assert_uint_eq(lr.discarded, big);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert_uint_eq(n, 1000);
	ck_assert(l[0] == 'b' && l[999] == 'b');
	ck_assert_uint_eq(lr.discarded, big + 7);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 8 && memcmp(l, "cccccccc", 8) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 6 && memcmp(l, "dddddd", 6) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fd);

	/* the same with a small limit: lines that fit the buffer but not the limit */
	fd = pipe_with("cccccccc\ndddddd\nok\n", 19);
	ck_assert_int_eq(linereader_init(&lr, fd, 5), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 5 && memcmp(l, "ccccc", 5) == 0);
	ck_assert_uint_eq(lr.discarded, 8);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 5 && memcmp(l, "ddddd", 5) == 0);
	ck_assert_uint_eq(lr.discarded, 6);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 2 && memcmp(l, "ok", 2) == 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fd);
	free(in);
}
END_TEST

/* A huge over-long line followed at once by one that fits the buffer but not the limit, and an
 * over-long line cut by EOF: one LR_TOOLONG each. */
START_TEST(linereader_toolong_mixed_and_eof)
{
	size_t big = 150000, off = 0, i;
	char *in = malloc(2 * big + 2000);
	struct linereader lr;
	const char *l;
	size_t n;
	int fd;

	for (i = 0; i < big; i++)
		in[off++] = 'x';
	in[off++] = '\n';
	for (i = 0; i < 1500; i++)
		in[off++] = 'y';
	in[off++] = '\n';
	for (i = 0; i < big; i++)
		in[off++] = 'z';          /* no newline: input ends inside it */
	fd = pipe_from_child(in, off);
	ck_assert_int_eq(linereader_init(&lr, fd, 1000), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 1000 && l[0] == 'x');
	ck_assert_uint_eq(lr.discarded, big);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 1000 && l[0] == 'y' && l[999] == 'y');
	ck_assert_uint_eq(lr.discarded, 1500);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 1000 && l[0] == 'z' && l[999] == 'z');
	ck_assert_uint_eq(lr.discarded, big);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fd);
	free(in);
}
END_TEST

/* Stopping on a signal: whole buffered lines, then the unterminated fragment as LR_PARTIAL
 * (never a line), nothing read meanwhile. */
START_TEST(linereader_buffered_partial)
{
	struct linereader lr;
	const char *l;
	size_t n;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(linereader_init(&lr, fds[0], 10), 0);
	ck_assert_int_eq(write(fds[1], "one\ntwo\nthr", 11), 11);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "one", 3) == 0);
	ck_assert_int_eq(write(fds[1], "ee\nfour\n", 8), 8);     /* not read: still in the pipe */
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "two", 3) == 0);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_PARTIAL);
	ck_assert(n == 3 && memcmp(l, "thr", 3) == 0);
	ck_assert_uint_eq(lr.discarded, 3);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);

	/* an over-long line cut short: its prefix, and how much of it was seen */
	ck_assert_int_eq(linereader_init(&lr, fds[0], 4), 0);
	ck_assert_int_eq(write(fds[1], "abcdefghij", 10), 10);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);     /* "ee" */
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);     /* "four" */
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_PARTIAL);
	ck_assert(n == 4 && memcmp(l, "abcd", 4) == 0);
	ck_assert_uint_eq(lr.discarded, 10);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* one_read: a caller that polls a blocking descriptor never blocks in read(2) on the rest of a
 * line (it would not see a signal there). */
START_TEST(linereader_one_read_never_blocks)
{
	struct linereader lr;
	const char *l;
	size_t n;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);                  /* blocking */
	ck_assert_int_eq(linereader_init(&lr, fds[0], 100), 0);
	lr.one_read = 1;
	ck_assert_int_eq(write(fds[1], "a\nb\npar", 7), 7);
	ck_assert_int_eq(linereader_has_line(&lr), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_int_eq(linereader_has_line(&lr), 1);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_int_eq(linereader_has_line(&lr), 0);
	ck_assert_int_eq(write(fds[1], "t", 1), 1);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);  /* read "t" once, no newline */
	ck_assert_int_eq(write(fds[1], "ial\n", 4), 4);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 7 && memcmp(l, "partial", 7) == 0);
	close(fds[1]);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fds[0]);
}
END_TEST

/* Stopping on a signal in the middle of a line: its rest is read, and not a byte more. */
START_TEST(linereader_finish_line_cases)
{
	struct linereader lr;
	const char *l;
	size_t n;
	char rest[16];
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(linereader_init(&lr, fds[0], 100), 0);
	ck_assert_int_eq(linereader_finish_line(&lr, 10), 1);      /* nothing in hand */
	ck_assert_int_eq(write(fds[1], "one\ntw", 6), 6);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert_int_eq(linereader_finish_line(&lr, 50), 0);      /* the writer is slow */
	ck_assert_int_eq(write(fds[1], "o\nthree\n", 8), 8);
	ck_assert_int_eq(linereader_finish_line(&lr, 1000), 1);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "two", 3) == 0);
	ck_assert_uint_eq(linereader_offset(&lr), 8);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);
	ck_assert_int_eq(read(fds[0], rest, sizeof(rest)), 6);     /* left in the pipe */
	ck_assert(memcmp(rest, "three\n", 6) == 0);
	linereader_free(&lr);

	/* the input ends inside the line: it is the last line, a record */
	ck_assert_int_eq(linereader_init(&lr, fds[0], 100), 0);
	ck_assert_int_eq(write(fds[1], "fin", 3), 3);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);
	close(fds[1]);
	ck_assert_int_eq(linereader_finish_line(&lr, 1000), -1);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "fin", 3) == 0);
	linereader_free(&lr);
	close(fds[0]);

	/* an over-long line in hand: discarded to its end, then reported once */
	ck_assert_int_eq(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(linereader_init(&lr, fds[0], 4), 0);
	ck_assert_int_eq(write(fds[1], "abcdefgh", 8), 8);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);
	ck_assert_int_eq(write(fds[1], "ij\nnext\n", 8), 8);
	ck_assert_int_eq(linereader_finish_line(&lr, 1000), 1);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 4 && memcmp(l, "abcd", 4) == 0);
	ck_assert_uint_eq(lr.discarded, 10);
	ck_assert_uint_eq(linereader_offset(&lr), 11);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);
	ck_assert_int_eq(read(fds[0], rest, sizeof(rest)), 5);
	linereader_free(&lr);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(linereader_nonblocking_again)
{
	struct linereader lr;
	const char *l;
	size_t n;
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(linereader_init(&lr, fds[0], 100), 0);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);
	ck_assert_int_eq(write(fds[1], "par", 3), 3);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_AGAIN);
	ck_assert_int_eq(write(fds[1], "tial\n", 5), 5);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 7 && memcmp(l, "partial", 7) == 0);
	close(fds[1]);
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fds[0]);
}
END_TEST

/* What enrich (will it block?) and es-sink (SIGTERM: keep what was read) need, without
 * reaching into the reader. */
START_TEST(linereader_buffered_only)
{
	static const char in[] = "one\ntwo\n0123456789\nthree-unterminated-and-long";
	struct linereader lr;
	const char *l;
	size_t n;
	int fd = pipe_with(in, sizeof(in) - 1);

	ck_assert_int_eq(linereader_init(&lr, fd, 8), 0);
	ck_assert(!linereader_has_line(&lr));
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);   /* reads nothing */
	ck_assert_int_eq(linereader_next(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "one", 3) == 0);
	ck_assert(linereader_has_line(&lr));
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_LINE);
	ck_assert(n == 3 && memcmp(l, "two", 3) == 0);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_TOOLONG);
	ck_assert(n == 8 && memcmp(l, "01234567", 8) == 0);
	ck_assert(!linereader_has_line(&lr));
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_PARTIAL);
	ck_assert(n == 8 && memcmp(l, "three-un", 8) == 0);
	ck_assert_int_eq(linereader_next_buffered(&lr, &l, &n), LR_EOF);
	linereader_free(&lr);
	close(fd);
}
END_TEST

/* Secrets never reach logs or bad rows: the userinfo of every URL in a text is masked. */
START_TEST(redact_userinfo)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "http://elastic:s3cret@es.local:9200/_bulk", "http://***@es.local:9200/_bulk" },
		{ "https://user@host/x?y=1", "https://***@host/x?y=1" },
		{ "http://host:9200/a@b", "http://host:9200/a@b" },        /* '@' in the path */
		{ "http://host?q=a@b", "http://host?q=a@b" },
		{ "http://host#a@b", "http://host#a@b" },
		{ "no url here", "no url here" },
		{ "", "" },
		{ "POST http://a:b@h1/_bulk: failed; retry http://c:d@h2", "POST http://***@h1/_bulk: failed; retry http://***@h2" },
		{ "http://a:p@ss@host/", "http://***@host/" },              /* the last '@' ends it */
		{ "\"http://u:pw@h\"", "\"http://***@h\"" },
		{ "http://u:pw@", "http://***@" },
		{ "://u:pw@h", "://***@h" },
	};
	char out[256], small[12];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		redact_urls(cases[i].in, out, sizeof(out));
		ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: got %s want %s", i, out,
		    cases[i].want);
	}
	/* truncation never leaves a secret half-copied */
	redact_urls("http://user:secretsecret@h", small, sizeof(small));
	ck_assert_ptr_null(strstr(small, "sec"));
	ck_assert_uint_lt(strlen(small), sizeof(small));
	redact_urls("http://user:secretsecret@h", out, 1);
	ck_assert_str_eq(out, "");
}
END_TEST

/* The shared flag checks: every number bounded both ways, strings by length and characters. */
START_TEST(flagval_checks)
{
	char err[256];
	long long v;

	ck_assert_int_eq(flagval_num("--n", "42", 0, 100, &v, err, sizeof(err)), 0);
	ck_assert_int_eq((int)v, 42);
	ck_assert_int_eq(flagval_num("--n", "0", 0, 100, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_num("--n", "100", 0, 100, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_num("--n", "101", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--n: expected an integer from 0 to 100, not '101'");
	ck_assert_int_eq(flagval_num("--n", "-1", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "-1", -5, 100, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_num("--n", " 5", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "+5", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "5s", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "0x10", 0, 100, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_num("--n", "99999999999999999999", 0, 1LL << 62, &v, err,
	    sizeof(err)), -1);

	ck_assert_int_eq(flagval_str("--r", "us-east-1", 1, 64, "-_", err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_str("--r", "us east", 1, 64, "-_", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--r: only letters, digits and '-_' allowed, not 'us east'");
	ck_assert_int_eq(flagval_str("--r", "", 1, 64, "-_", err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_str("--r", "abcde", 1, 4, "-_", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--r: expected 1 to 4 bytes, not 5 ('abcde')");
	ck_assert_int_eq(flagval_str("--p", "any thing; \"ok\"", 0, 64, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_str("--p", "a\r\nSet-Cookie: x", 0, 64, NULL, err, sizeof(err)), -1);

	ck_assert_int_eq(flagval_http_url("--u", "https://h:9200", 100, err, sizeof(err)), 0);
	ck_assert_int_eq(flagval_http_url("--u", "ftp://h", 100, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_http_url("--u", "http://", 100, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_http_url("--u", "http://a b", 100, err, sizeof(err)), -1);
	/* a rejected URL is shown without its credentials */
	ck_assert_int_eq(flagval_http_url("--u", "gopher://u:secret@h", 100, err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "secret"));

	/* sizes: K, M, G are powers of 1024, the bounds apply after multiplying */
	ck_assert_int_eq(flagval_size("--b", "64K", 0, 1LL << 40, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v, 65536);
	ck_assert_int_eq(flagval_size("--b", "1m", 0, 1LL << 40, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v, 1048576);
	ck_assert_int_eq(flagval_size("--b", "4G", 0, 1LL << 40, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v, 4LL << 30);
	ck_assert_int_eq(flagval_size("--b", "100", 0, 1LL << 40, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v, 100);
	ck_assert_int_eq(flagval_size("--b", "2G", 0, 1LL << 30, &v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--b: expected a size from 0 to 1073741824"));
	ck_assert_int_eq(flagval_size("--b", "9999999999999G", 0, 1LL << 62, &v, err, sizeof(err)),
	    -1);                                       /* would overflow once multiplied */
	ck_assert_int_eq(flagval_size("--b", "1KB", 0, 1LL << 40, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_size("--b", "K", 0, 1LL << 40, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_size("--b", "-1K", -5000, 1LL << 40, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(flagval_size("--b", " 1K", 0, 1LL << 40, &v, err, sizeof(err)), -1);
}
END_TEST

START_TEST(timefmt_forms)
{
	char out[TIMEFMT_BUFSZ];

	ck_assert_int_eq(timefmt_tsv(1385424125123LL, out), 0);
	ck_assert_str_eq(out, "2013-11-26 00:02:05.123");
	timefmt_tsv(0, out);
	ck_assert_str_eq(out, "1970-01-01 00:00:00.000");
	timefmt_tsv(-1, out);
	ck_assert_str_eq(out, "1969-12-31 23:59:59.999");
	ck_assert_int_eq(timefmt_tsv(253402300800000LL, out), -1);      /* year 10000 */
	ck_assert_str_eq(out, "10000-01-01 00:00:00.000");
	timefmt_instant(1704164645678LL, out);
	ck_assert_str_eq(out, "2024-01-02T03:04:05.678Z");
	timefmt_instant(1704164645000LL, out);
	ck_assert_str_eq(out, "2024-01-02T03:04:05Z");
	timefmt_joda(1704164645000LL, out);
	ck_assert_str_eq(out, "2024-01-02T03:04:05.000Z");
	timefmt_http(1731622400, out);
	ck_assert_str_eq(out, "Thu, 14 Nov 2024 22:13:20 GMT");
}
END_TEST

/* The one TSV formatter agrees with libc's gmtime in the year range 0..9999; outside it, it
 * renders as Joda's "yyyy-MM-dd HH:mm:ss.SSS" does (at least four year digits, '-' before a
 * negative year: eventEnrichmentSpecs "Formatted as -0030-01-01 00:00:00.000"). */
static void
libc_tsv(int64_t ms, char *out)
{
	int64_t sec = ms / 1000, rem = ms % 1000;
	time_t t;
	struct tm tm;

	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	snprintf(out, TIMEFMT_BUFSZ, "%s%04d-%02d-%02d %02d:%02d:%02d.%03d",
	    tm.tm_year + 1900 < 0 ? "-" : "", abs(tm.tm_year + 1900), tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

START_TEST(timefmt_tsv_everywhere)
{
	static const int64_t fixed[] = { 0, -1, 1, 999, 1000, -999, -1000, -1001, 86399999, 86400000,
	    -86400000, 951782400000LL, 951868799999LL, 4107542400000LL, 1700000000123LL,
	    -62167219200000LL, 253402300799999LL };
	char a[TIMEFMT_BUFSZ], b[TIMEFMT_BUFSZ];
	uint64_t x = 88172645463325252ULL;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ck_assert_int_eq(timefmt_tsv(fixed[i], a), 0);
		libc_tsv(fixed[i], b);
		ck_assert_str_eq(a, b);
	}
	for (i = 0; i < 200000; i++) {
		int64_t ms;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = (int64_t)(x % 316000000000000ULL) - 62200000000000LL;
		ck_assert_int_eq(timefmt_tsv(ms, a), ms >= -62167219200000LL &&
		    ms <= 253402300799999LL ? 0 : -1);
		libc_tsv(ms, b);
		ck_assert_msg(strcmp(a, b) == 0, "%lld: %s vs %s", (long long)ms, a, b);
	}
	ck_assert_int_eq(timefmt_tsv(-62167219200001LL, a), -1);
	ck_assert_str_eq(a, "-0001-12-31 23:59:59.999");
	ck_assert_int_eq(timefmt_tsv(-63113904000000LL, a), -1);
	ck_assert_str_eq(a, "-0030-01-01 00:00:00.000");
	ck_assert_int_eq(timefmt_tsv(INT64_MAX, a), -1);
	ck_assert_str_eq(a, "292278994-08-17 07:12:55.807");
	ck_assert_int_eq(timefmt_tsv(INT64_MIN, a), -1);
	ck_assert_str_eq(a, "-292275055-05-16 16:47:04.192");
}
END_TEST

START_TEST(timefmt_dates)
{
	ck_assert(timefmt_date_valid(2024, 2, 29));
	ck_assert(!timefmt_date_valid(2023, 2, 29));
	ck_assert(timefmt_date_valid(2000, 2, 29));
	ck_assert(!timefmt_date_valid(1900, 2, 29));
	ck_assert(timefmt_date_valid(0, 2, 29));
	ck_assert(!timefmt_date_valid(2024, 4, 31));
	ck_assert(!timefmt_date_valid(2024, 13, 1));
	ck_assert(!timefmt_date_valid(2024, 0, 1));
	ck_assert(!timefmt_date_valid(2024, 1, 0));
	ck_assert(timefmt_date_valid(2024, 12, 31));
}
END_TEST

START_TEST(uuid_v4_shape)
{
	char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1];
	int i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(uuid_v4(a), 0);
		ck_assert(uuid_is_valid(a, strlen(a)));
		ck_assert_int_eq(a[14], '4');
		ck_assert(strchr("89ab", a[19]) != NULL);
	}
	uuid_v4(b);
	ck_assert_str_ne(a, b);
	ck_assert(!uuid_is_valid("not-a-uuid", 10));
	ck_assert(uuid_is_valid("9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B", 36));
	ck_assert(!uuid_is_valid("9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5g", 36));
	ck_assert(!uuid_is_valid("9f2b6a3e11c4d-4e5f-8a7b-0c1d2e3f4a5b", 36));
}
END_TEST

START_TEST(utf8_repair_cases)
{
	static const struct { const char *in; size_t n; const char *out; } v[] = {
		{ "plain", 5, "plain" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },
		{ "\xe2\x82", 2, "\xef\xbf\xbd" },                     /* truncated: one U+FFFD */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },          /* overlong */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b;
		buf_init(&b, 0);
		ck_assert_int_eq(utf8_repair(v[i].in, v[i].n, &b), 0);
		ck_assert_msg(b.len == strlen(v[i].out) && memcmp(b.data, v[i].out, b.len) == 0,
		    "case %zu", i);
		buf_free(&b);
	}
	ck_assert_uint_eq(utf8_valid_prefix("ab\xffz", 4), 2);
	ck_assert_uint_eq(utf8_codepoints("caf\xc3\xa9\xf0\x9f\x98\x80", 9), 5);
}
END_TEST

/* One cut for every bad-row payload: never inside a sequence, max code points kept. */
START_TEST(utf8_cut_cases)
{
	ck_assert_uint_eq(utf8_cut("abc", 3, 2), 2);
	ck_assert_uint_eq(utf8_cut("abc", 3, 3), 3);
	ck_assert_uint_eq(utf8_cut("abc", 3, 0), 0);
	ck_assert_uint_eq(utf8_cut("\xc3\xa9\xf0\x9f\x98\x80z", 7, 1), 2);
	ck_assert_uint_eq(utf8_cut("\xc3\xa9\xf0\x9f\x98\x80z", 7, 2), 6);
	ck_assert_uint_eq(utf8_cut("\xc3\xa9\xf0\x9f\x98\x80z", 7, 9), 7);
	ck_assert_uint_eq(utf8_codepoints("\xc3\xa9\xf0\x9f\x98\x80z", 7), 3);
}
END_TEST

START_TEST(badrow_envelope)
{
	struct buf b;
	json_t *row, *parsed;

	row = badrow_generic_error("furrow-es-sink", "x\xff", 2, "mapper_parsing_exception");
	ck_assert_ptr_nonnull(row);
	buf_init(&b, 0);
	ck_assert_int_eq(badrow_write(row, &b), 0);
	ck_assert(b.data[b.len - 1] == '\n');
	{
		static const char prefix[] = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow."
		    "badrows/generic_error/jsonschema/1-0-0\",\"data\":{\"processor\":{\"artifact\":"
		    "\"furrow-es-sink\",\"version\":\"0.1.0\"},\"failure\":{\"timestamp\":";
		ck_assert(strncmp(b.data, prefix, sizeof(prefix) - 1) == 0);
	}
	parsed = json_loads(b.data, 0, NULL);
	ck_assert_ptr_nonnull(parsed);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(parsed, "data"),
	    "payload")), "x\xef\xbf\xbd");
	json_decref(parsed);
	json_decref(row);
	buf_free(&b);

	row = badrow_size_violation("furrow-collector", 100, 250, "too big", "abc", 3);
	parsed = json_object_get(json_object_get(row, "data"), "failure");
	ck_assert_int_eq(json_integer_value(json_object_get(parsed, "actualSizeBytes")), 250);
	ck_assert_int_eq(json_integer_value(json_object_get(parsed, "maximumAllowedSizeBytes")), 100);
	json_decref(row);
}
END_TEST

/* jsonw prints strings as circe's Printer.noSpaces does (io/circe/Printer.scala, onString):
 * '"' '\' \b \f \n \r \t by name, any other Character.isISOControl char (U+0000-U+001F,
 * U+007F-U+009F) as "\u%04x" with lower-case hex (toHex: nibble + 87), everything else as is.
 * jansson would print U+001F as \u001F and U+007F, U+0085 raw. */
START_TEST(jsonw_escapes_as_circe)
{
	static const struct { const char *in; size_t n; const char *want; } cases[] = {
		{ "", 0, "\"\"" },
		{ "plain", 5, "\"plain\"" },
		{ "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
		{ "\b\f\n\r\t\x01\x1f", 7, "\"\\b\\f\\n\\r\\t\\u0001\\u001f\"" },
		{ "a\0b", 3, "\"a\\u0000b\"" },
		{ "del\x7f", 4, "\"del\\u007f\"" },
		{ "nel\xc2\x85 c1\xc2\x9f nbsp\xc2\xa0", 17, "\"nel\\u0085 c1\\u009f nbsp\xc2\xa0\"" },
		{ "Zo\xc3\xab \xe2\x80\x93 \xf0\x9f\x98\x80", 13, "\"Zo\xc3\xab \xe2\x80\x93 \xf0\x9f\x98\x80\"" },
	};
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		ck_assert_int_eq(jsonw_string(&b, cases[i].in, cases[i].n), 0);
		ck_assert_str_eq(b.data, cases[i].want);
	}
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(jsonw_string(&b, "abcdef", 6), -1);
	buf_free(&b);
}
END_TEST

/* Bad rows are printed by the same writer: key order kept, circe's escaping. */
START_TEST(badrow_printed_as_circe)
{
	json_t *row = badrow_new(BADROW_GENERIC_ERROR, "t", json_pack("{s:s,s:[s]}", "timestamp",
	    "2023-11-14T22:13:20Z", "errors", "bad\x7f\x01"), jsonw_string_new("p\xc2\x80", 3));
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(badrow_write(row, &b), 0);
	ck_assert_str_eq(b.data, "{\"schema\":\"" BADROW_GENERIC_ERROR "\",\"data\":{\"processor\":"
	    "{\"artifact\":\"t\",\"version\":\"" FURROW_VERSION "\"},\"failure\":{\"timestamp\":"
	    "\"2023-11-14T22:13:20Z\",\"errors\":[\"bad\\u007f\\u0001\"]},\"payload\":\"p\\u0080\"}}\n");
	buf_free(&b);
	json_decref(row);
}
END_TEST

START_TEST(jsonw_string_new_repairs)
{
	json_t *j = jsonw_string_new("a\xff" "b\xe2\x80", 5);

	ck_assert_str_eq(json_string_value(j), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	json_decref(j);
	j = jsonw_string_new("ok\0x", 4);
	ck_assert_uint_eq(json_string_length(j), 4);
	json_decref(j);
}
END_TEST

static int
pdec(const char *s, unsigned flags, char *out)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	buf_append_str(&b, "<");
	rc = pct_decode(&b, s, strlen(s), flags);
	strcpy(out, b.data);
	buf_free(&b);
	return rc;
}

/* Lenient (form) decoding keeps a malformed escape literally, as URLEncodedUtils and the
 * collector do; strict decoding (collector path segments) refuses it and leaves out as it was. */
START_TEST(pct_decoding)
{
	char v[64];

	ck_assert_int_eq(pdec("a%2Fb+c%41%e2%80%93", PCT_PLUS, v), 0);
	ck_assert_str_eq(v, "<a/b cA\xe2\x80\x93");
	ck_assert_int_eq(pdec("a+b%2B", 0, v), 0);
	ck_assert_str_eq(v, "<a+b+");
	ck_assert_int_eq(pdec("%zz%4%", PCT_PLUS, v), 0);
	ck_assert_str_eq(v, "<%zz%4%");
	ck_assert_int_eq(pdec("x%ff%C3", PCT_PLUS | PCT_UTF8, v), 0);
	ck_assert_str_eq(v, "<x\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_int_eq(pdec("a%2Fb+c%41", PCT_STRICT, v), 0);
	ck_assert_str_eq(v, "<a/b+cA");
	ck_assert_int_eq(pdec("bad%zz", PCT_STRICT, v), -2);
	ck_assert_str_eq(v, "<");
	ck_assert_int_eq(pdec("bad%4", PCT_STRICT, v), -2);
	ck_assert_int_eq(pdec("bad%", PCT_STRICT, v), -2);
	ck_assert_int_eq(pdec("", PCT_STRICT, v), 0);
	ck_assert_str_eq(v, "<");
}
END_TEST

START_TEST(pct_encoding)
{
	char out[32];

	ck_assert_int_eq(pct_encode("a/b=c x~.-_", 11, "/", out, sizeof(out)), 15);
	ck_assert_str_eq(out, "a/b%3Dc%20x~.-_");
	ck_assert_int_eq(pct_encode("\xe2\x80\x93/", 4, NULL, out, sizeof(out)), 12);
	ck_assert_str_eq(out, "%E2%80%93%2F");
	ck_assert_int_eq(pct_encode("abcdef", 6, NULL, out, 4), -1);
	ck_assert_int_eq(pct_encode("", 0, NULL, out, 1), 0);
}
END_TEST

/* jnum_decimal is the shortest decimal that reads back (what %.{p}e + strtod finds), for
 * doubles of every kind; jnum_java_double prints it as Double.toString does. */
START_TEST(jnum_decimals)
{
	static const struct { double d; const char *java; } cases[] = {
		{ 2.0, "2.0" }, { 0.01, "0.01" }, { 0.1, "0.1" }, { 1e-4, "1.0E-4" }, { 0.001, "0.001" },
		{ 1e7, "1.0E7" }, { 9999999.0, "9999999.0" }, { 123456789.0, "1.23456789E8" },
		{ 1e308, "1.0E308" }, { -19.99, "-19.99" }, { -0.0, "-0.0" }, { 0.0, "0.0" },
		{ 4.9e-324, "4.9E-324" }, { 1.7976931348623157e308, "1.7976931348623157E308" },
		{ 0.30000000000000004, "0.30000000000000004" }, { 1234567.125, "1234567.125" },
	};
	char out[JNUM_BUFSZ], ref[40];
	uint64_t x = 0x9e3779b97f4a7c15ULL, m;
	size_t i;
	int e, prec;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jnum_java_double(cases[i].d, out);
		ck_assert_str_eq(out, cases[i].java);
	}
	for (i = 0; i < 60000; i++) {
		double d;
		char mine[48];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 3) {
		case 0: memcpy(&d, &x, sizeof(d)); break;                 /* any bit pattern */
		case 1: d = (double)(x % 100000000) / 100.0; break;       /* prices */
		default: d = (double)(x % 1000000) * 1e-6; break;
		}
		if (!isfinite(d) || d == 0)
			continue;
		for (prec = 0; prec < 17; prec++) {
			snprintf(ref, sizeof(ref), "%.*e", prec, fabs(d));
			if (strtod(ref, NULL) == fabs(d))
				break;
		}
		ck_assert_int_eq(jnum_decimal(d, &m, &e), 0);
		snprintf(mine, sizeof(mine), "%llue%d", (unsigned long long)m, e);
		ck_assert_msg(strtod(mine, NULL) == fabs(d), "%.17g: %s", d, mine);
		/* as few digits as the %e search found (Java's "d.d" for subnormals aside) */
		ck_assert_msg((int)strlen(mine) - (int)strlen(strchr(mine, 'e')) <= prec + 1 ||
		    fabs(d) < 2.2250738585072014e-308, "%.17g: %s vs %s", d, mine, ref);
	}
}
END_TEST

START_TEST(event_columns)
{
	ck_assert_str_eq(event_cols[COL_APP_ID].name, "app_id");
	ck_assert_str_eq(event_cols[COL_TRUE_TSTAMP].name, "true_tstamp");
	ck_assert_int_eq(COL_TRUE_TSTAMP, 130);
	ck_assert_int_eq(event_col_by_name("event_id"), 6);
	ck_assert_int_eq(event_col_by_name("derived_contexts"), 122);
	ck_assert_int_eq(event_col_by_name("nope"), -1);
	ck_assert_int_eq(event_cols[COL_PAGE_URL].max, 10000);
	ck_assert_int_eq(event_cols[COL_GEO_LATITUDE].type, EVT_FLOAT);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);   /* the randomised time and number checks, under ASan too */

	tcase_add_test(tc, buf_cap_enforced);
	tcase_add_test(tc, buf_room_growth_and_refusal);
	tcase_add_test(tc, linereader_lines_and_limits);
	tcase_add_test(tc, linereader_toolong_runs);
	tcase_add_test(tc, linereader_toolong_mixed_and_eof);
	tcase_add_test(tc, linereader_huge_line);
	tcase_add_test(tc, linereader_nonblocking_again);
	tcase_add_test(tc, linereader_finish_line_cases);
	tcase_add_test(tc, linereader_one_read_never_blocks);
	tcase_add_test(tc, linereader_buffered_only);
	tcase_add_test(tc, linereader_buffered_partial);
	tcase_add_test(tc, redact_userinfo);
	tcase_add_test(tc, flagval_checks);
	tcase_add_test(tc, timefmt_forms);
	tcase_add_test(tc, timefmt_tsv_everywhere);
	tcase_add_test(tc, timefmt_dates);
	tcase_add_test(tc, uuid_v4_shape);
	tcase_add_test(tc, utf8_repair_cases);
	tcase_add_test(tc, utf8_cut_cases);
	tcase_add_test(tc, badrow_envelope);
	tcase_add_test(tc, event_columns);
	tcase_add_test(tc, pct_decoding);
	tcase_add_test(tc, jnum_decimals);
	tcase_add_test(tc, pct_encoding);
	tcase_add_test(tc, jsonw_escapes_as_circe);
	tcase_add_test(tc, badrow_printed_as_circe);
	tcase_add_test(tc, jsonw_string_new_repairs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
