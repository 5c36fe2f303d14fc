/* Unit tests for common/httpd's request parser: framing, limits (414/431/413) and
 * malformed input. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "httpd.h"

static const struct httpd_limits LIM = { 100, 200, 1000 };

static int
parse(const char *s, struct httpd_request *r)
{
	return httpd_parse_head(s, strlen(s), &LIM, r);
}

START_TEST(parse_simple)
{
	struct httpd_request r;
	const char *s = "GET /i?e=pv HTTP/1.1\r\nHost: a.com\r\nX-A:  v v  \r\nx-a: 2\r\n\r\nBODY";

	ck_assert_int_eq(parse(s, &r), 0);
	ck_assert_int_eq((int)r.head_len, (int)(strstr(s, "BODY") - s));
	ck_assert_int_eq((int)r.method_len, 3);
	ck_assert_int_eq(memcmp(r.target, "/i?e=pv", r.target_len), 0);
	ck_assert_int_eq(r.minor, 1);
	ck_assert_int_eq((int)r.n_headers, 3);
	ck_assert_int_eq(memcmp(r.headers[1].name, "X-A", 3), 0);
	ck_assert_int_eq((int)r.headers[1].value_len, 3);
	ck_assert_int_eq(memcmp(r.headers[1].value, "v v", 3), 0);
	ck_assert_int_eq(r.keep_alive, 1);
	ck_assert_int_eq((int)r.content_length, -1);
	ck_assert_ptr_eq(httpd_header_get(&r, "x-a"), &r.headers[1]);
	ck_assert_ptr_null(httpd_header_get(&r, "cookie"));
}
END_TEST

START_TEST(parse_framing)
{
	struct httpd_request r;

	ck_assert_int_eq(parse("POST /a/b HTTP/1.1\r\nContent-Length: 12\r\n\r\n", &r), 0);
	ck_assert_int_eq((int)r.content_length, 12);
	ck_assert_int_eq(parse("POST /a/b HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.chunked, 1);
	ck_assert_int_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.keep_alive, 0);
	ck_assert_int_eq(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.keep_alive, 1);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.keep_alive, 0);
	ck_assert_int_eq(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.expect_continue, 1);
	ck_assert_int_eq(parse("GET / HTTP/1.1\nHost: x\n\n", &r), 0);    /* bare LF */
	ck_assert_int_eq(parse("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", &r), 413);
	ck_assert_int_eq(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r), 413);
	ck_assert_int_eq(parse("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", &r), 0);
}
END_TEST

START_TEST(parse_incomplete_and_limits)
{
	struct httpd_request r;
	char big[512];

	ck_assert_int_eq(parse("GET /i HTTP/1.1", &r), HTTPD_INCOMPLETE);
	ck_assert_int_eq(parse("GET /i HTTP/1.1\r\nHost: x\r\n", &r), HTTPD_INCOMPLETE);
	ck_assert_int_eq(parse("", &r), HTTPD_INCOMPLETE);
	/* request line: 100 bytes allowed, 101 refused, even before its end arrives */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 100 - 9, " HTTP/1.1\r\n\r\n", 14);
	ck_assert_int_eq(parse(big, &r), 0);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 101 - 9, " HTTP/1.1\r\n\r\n", 14);
	ck_assert_int_eq(parse(big, &r), 414);
	memset(big, 'a', 300);
	big[300] = '\0';
	ck_assert_int_eq(parse(big, &r), 414);
	/* header block: 200 bytes allowed */
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'h', 250);
	big[19 + 250] = '\0';
	ck_assert_int_eq(parse(big, &r), 431);
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + 19, 'h', 190 - 5);
	strcpy(big + 19 + 185, "\r\n\r\n");
	ck_assert_int_eq(parse(big, &r), 0);
}
END_TEST

START_TEST(parse_malformed)
{
	static const struct { const char *in; int want; } cases[] = {
		{ "G@T / HTTP/1.1\r\n\r\n", 400 },
		{ " / HTTP/1.1\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/0.9\r\n\r\n", 505 },
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA B: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: v\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: v\x7f\r\n\r\n", 400 },
		{ "GET /\x01 HTTP/1.1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400 },
	};
	struct httpd_request r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(parse(cases[i].in, &r) == cases[i].want, "case %zu: got %d want %d", i,
		    parse(cases[i].in, &r), cases[i].want);
}
END_TEST

START_TEST(too_many_headers)
{
	struct httpd_limits lim = { 100, 100000, 1000 };
	struct httpd_request r;
	char buf[8192];
	size_t o = 0;
	int i;

	o += (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTPD_MAX_HEADERS; i++)
		o += (size_t)sprintf(buf + o, "H%d: v\r\n", i);
	strcpy(buf + o, "\r\n");
	ck_assert_int_eq(httpd_parse_head(buf, strlen(buf), &lim, &r), 0);
	o += (size_t)sprintf(buf + o, "One: more\r\n\r\n");
	ck_assert_int_eq(httpd_parse_head(buf, strlen(buf), &lim, &r), 431);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("httpd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, parse_simple);
	tcase_add_test(tc, parse_framing);
	tcase_add_test(tc, parse_incomplete_and_limits);
	tcase_add_test(tc, parse_malformed);
	tcase_add_test(tc, too_many_headers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
