/* Unit tests for enrich/conv: decimal rendering, integers, booleans, WxH, timestamps, UUIDs,
 * query-string validity and decoding, URI splitting edge cases, header IPs, TSV cleaning and the
 * compact JSON printer. Tables of (input, expected) per function. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/conv.h"
#include "pct.h"
#include "timefmt.h"

START_TEST(decimal_rendering)
{
	static const struct { const char *in, *out; int rc; } t[] = {
		{ "12.50", "12.50", 1 }, { "0.000001", "0.000001", 1 }, { "0.0000001", "1E-7", 1 },
		{ "0.00000012", "1.2E-7", 1 }, { "1E+3", "1000", 1 }, { "1e3", "1000", 1 },
		{ "-0", "0", 1 }, { "007.50", "7.50", 1 }, { "1.5e-3", "0.0015", 1 },
		{ "123.456E+1", "1234.56", 1 }, { "+5", "5", 1 }, { ".5", "0.5", 1 }, { "5.", "5", 1 },
		{ "-12.3E-10", "-1.23E-9", 1 }, { "0.0000000", "0E-7", 1 }, { "100E-2", "1.00", 1 },
		{ "-19.99", "-19.99", 1 }, { "123456789012345678901234567890", "123456789012345678901234567890", 1 },
		{ "2.5E+2", "250", 1 }, { "0", "0", 1 }, { "0.0", "0.0", 1 },
		{ "null", "", 0 }, { "NULL", "", 0 },
		{ "abc", "", -1 }, { "", "", -1 }, { "1.2.3", "", -1 }, { "e5", "", -1 }, { "1e", "", -1 },
		{ "--1", "", -1 }, { "1,5", "", -1 }, { " 1", "", -1 }, { "NaN", "", -1 },
		{ "1e9999999999", "", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct buf b;
		int rc;
		buf_init(&b, 0);
		rc = conv_decimal(t[i].in, &b);
		ck_assert_msg(rc == t[i].rc, "%s: rc %d, expected %d", t[i].in, rc, t[i].rc);
		if (rc == 1)
			ck_assert_msg(strcmp(b.data, t[i].out) == 0, "%s: got %s, expected %s", t[i].in,
			    b.data, t[i].out);
		buf_free(&b);
	}
}
END_TEST

START_TEST(integers_booleans_dimensions)
{
	int32_t v, w, h;

	ck_assert_int_eq(conv_int32("2147483647", &v), 1);
	ck_assert_int_eq(v, 2147483647);
	ck_assert_int_eq(conv_int32("-2147483648", &v), 1);
	ck_assert_int_eq(v, INT32_MIN);
	ck_assert_int_eq(conv_int32("+5", &v), 1);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(conv_int32("2147483648", &v), -1);
	ck_assert_int_eq(conv_int32("null", &v), 0);
	ck_assert_int_eq(conv_int32("Null", &v), 0);
	ck_assert_int_eq(conv_int32("", &v), -1);
	ck_assert_int_eq(conv_int32("1.0", &v), -1);
	ck_assert_int_eq(conv_int32(" 1", &v), -1);
	ck_assert_int_eq(conv_int32("-", &v), -1);
	/* Integer.parseInt takes any number of leading zeros, and a '+' */
	ck_assert_int_eq(conv_int32("028288", &v), 1);
	ck_assert_int_eq(v, 28288);
	ck_assert_int_eq(conv_int32("00000000000000000000000000002147483647", &v), 1);
	ck_assert_int_eq(v, 2147483647);
	ck_assert_int_eq(conv_int32("-0000000000000000000000000002147483648", &v), 1);
	ck_assert_int_eq(v, INT32_MIN);
	ck_assert_int_eq(conv_int32("+0042", &v), 1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(conv_int32("NULL", &v), 0);
	ck_assert_int_eq(conv_int32("0000000000000000000000000002147483648", &v), -1);

	ck_assert_int_eq(conv_bool("1"), 1);
	ck_assert_int_eq(conv_bool("0"), 0);
	ck_assert_int_eq(conv_bool("true"), -1);
	ck_assert_int_eq(conv_bool(""), -1);
	ck_assert_int_eq(conv_bool("01"), -1);

	ck_assert_int_eq(conv_wxh("1920x1080", &w, &h), 0);
	ck_assert_int_eq(w, 1920);
	ck_assert_int_eq(h, 1080);
	ck_assert_int_eq(conv_wxh("0x0", &w, &h), 0);
	ck_assert_int_eq(conv_wxh("1920X1080", &w, &h), -1);
	ck_assert_int_eq(conv_wxh("1920x", &w, &h), -1);
	ck_assert_int_eq(conv_wxh("x1080", &w, &h), -1);
	/* the regex matches, toInt fails: ClientEnrichments' other message */
	ck_assert_int_eq(conv_wxh("99999999999x1", &w, &h), -2);
	ck_assert_int_eq(conv_wxh("0001920x01080", &w, &h), 0);
	ck_assert_int_eq(w, 1920);
	ck_assert_int_eq(conv_wxh("12x34x5", &w, &h), -1);
	ck_assert_int_eq(conv_wxh("-1x5", &w, &h), -1);
	ck_assert_int_eq(conv_wxh("", &w, &h), -1);
}
END_TEST

START_TEST(timestamps_uuids_platforms)
{
	char out[40];
	int64_t ms;

	ck_assert_int_eq(conv_ts("1700000000000", &ms, out), 0);
	ck_assert_str_eq(out, "2023-11-14 22:13:20.000");
	ck_assert_int_eq(conv_ts("1700000000123", &ms, out), 0);
	ck_assert_str_eq(out, "2023-11-14 22:13:20.123");
	ck_assert_int_eq(conv_ts("-1", &ms, out), 0);
	ck_assert_str_eq(out, "1969-12-31 23:59:59.999");
	ck_assert_int_eq(conv_ts("0", &ms, out), 0);
	ck_assert_str_eq(out, "1970-01-01 00:00:00.000");
	ck_assert_int_eq(conv_ts("1.5", &ms, out), -1);
	ck_assert_int_eq(conv_ts("", &ms, out), -1);
	ck_assert_int_eq(conv_ts("1e3", &ms, out), -1);
	ck_assert_int_eq(conv_ts("9223372036854775808", &ms, out), -1);
	ck_assert_int_eq(conv_ts("253402300800000", &ms, out), -2);   /* year 10000 */
	ck_assert_int_eq(conv_ts("253402300799999", &ms, out), 0);
	ck_assert_str_eq(out, "9999-12-31 23:59:59.999");

	ck_assert_int_eq(conv_uuid("5A305BF5-0001-4000-8000-00000000000A", out), 0);
	ck_assert_str_eq(out, "5a305bf5-0001-4000-8000-00000000000a");
	ck_assert_int_eq(conv_uuid("5a305bf5000140008000000000000001", out), -1);
	ck_assert_int_eq(conv_uuid("5a305bf5-0001-4000-8000-00000000000g", out), -1);
	ck_assert_int_eq(conv_uuid("", out), -1);

	ck_assert(conv_platform_ok("web"));
	ck_assert(conv_platform_ok("headset"));
	ck_assert(conv_platform_ok("iot"));
	ck_assert(!conv_platform_ok("Web"));
	ck_assert(!conv_platform_ok("tablet"));
	ck_assert(!conv_platform_ok(""));
}
END_TEST

START_TEST(querystring_validity)
{
	static const struct { const char *qs; long bad; int escape; size_t qlen; } t[] = {
		{ "e=pv&p=web", -1, 0, 10 }, { "a=b c", 3, 0, 5 }, { "a=%zz", 2, 1, 5 },
		{ "a=%2", 2, 1, 4 }, { "a=b#frag", -1, 0, 3 }, { "a=\"", 2, 0, 3 }, { "a=<", 2, 0, 3 },
		{ "a=\xc3\xbc", -1, 0, 4 }, { "a=[1]", -1, 0, 5 }, { "a=\x01", 2, 0, 3 },
		{ "a=|", 2, 0, 3 }, { "a={}", 2, 0, 4 }, { "a=\\", 2, 0, 3 }, { "a=^", 2, 0, 3 },
		{ "a=`", 2, 0, 3 }, { "a=b#c#d", 5, 0, 3 }, { "x=%41%42", -1, 0, 8 },
		{ "a=b;c=d&e=/?:@", -1, 0, 14 },
	};
	size_t i, qlen;
	const char *what;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long bad = conv_qs_check(t[i].qs, strlen(t[i].qs), &qlen, &what);
		ck_assert_msg(bad == t[i].bad, "%s: bad at %ld, expected %ld", t[i].qs, bad, t[i].bad);
		ck_assert_msg(qlen == t[i].qlen, "%s: qlen %zu", t[i].qs, qlen);
		if (bad >= 0)
			ck_assert_str_eq(what, t[i].escape ? "Malformed escape pair" :
			    "Illegal character in query");
	}
}
END_TEST

START_TEST(form_decoding)
{
	static const struct { const char *in, *out; } t[] = {
		{ "a+b%20c", "a b c" }, { "%e2%82%ac", "\xe2\x82\xac" }, { "%FF", "\xef\xbf\xbd" },
		{ "100%", "100%" }, { "%4", "%4" }, { "%41%42", "AB" }, { "", "" },
		{ "%2B", "+" }, { "caf%C3%A9", "caf\xc3\xa9" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct buf b;
		buf_init(&b, 0);
		ck_assert_int_eq(pct_decode(&b, t[i].in, strlen(t[i].in), PCT_PLUS | PCT_UTF8), 0);
		ck_assert_msg(strcmp(b.data ? b.data : "", t[i].out) == 0, "%s -> %s", t[i].in,
		    b.data ? b.data : "");
		buf_free(&b);
	}
}
END_TEST

struct pairs {
	char s[512];
};

static void
pair_cb(const char *n, size_t nl, const char *v, size_t vl, void *arg)
{
	struct pairs *p = arg;
	size_t l = strlen(p->s);

	snprintf(p->s + l, sizeof(p->s) - l, "[%.*s=%s%.*s]", (int)nl, n, v ? "" : "NULL",
	    (int)vl, v ? v : "");
}

START_TEST(querystring_split)
{
	struct pairs p = { "" };

	conv_qs_split("a=1&b&=x;c=3&&d=", 16, pair_cb, &p);
	ck_assert_str_eq(p.s, "[a=1][b=NULL][=x][c=3][d=]");
}
END_TEST

static void
uri_case(const char *in, int rc, const char *norm, const char *scheme, const char *host,
    long port, const char *path, const char *query, const char *frag)
{
	struct conv_uri u;
	struct buf b;
	char err[1024];
	int got;
	const char *n;

	buf_init(&b, 0);
	got = conv_uri_parse(in, strlen(in), &b, &u, err, sizeof(err));
	ck_assert_msg(got == rc, "%s: rc %d (%s)", in, got, err);
	if (rc == 0) {
		n = b.data;
#define PART(name, exp) \
		if (exp == NULL) \
			ck_assert_msg(u.name##_len < 0, "%s: " #name " should be absent", in); \
		else \
			ck_assert_msg(u.name##_len >= 0 && strlen(exp) == (size_t)u.name##_len && \
			    memcmp(n + u.name##_off, exp, (size_t)u.name##_len) == 0, \
			    "%s: " #name " is %.*s, expected %s", in, (int)(u.name##_len < 0 ? 0 : \
			    u.name##_len), n + u.name##_off, exp);
		ck_assert_msg(strcmp(n, norm) == 0, "%s: normalised %s", in, n);
		PART(scheme, scheme);
		PART(host, host);
		PART(path, path);
		PART(query, query);
		PART(frag, frag);
		ck_assert_msg(u.port == port, "%s: port %ld", in, u.port);
	}
	buf_free(&b);
}

START_TEST(uri_splitting)
{
	uri_case("https://example.com/a?b=1#c", 0, "https://example.com/a?b=1#c", "https",
	    "example.com", -1, "/a", "b=1", "c");
	uri_case("http://example.com:8080", 0, "http://example.com:8080", "http", "example.com",
	    8080, "", NULL, NULL);
	uri_case("http://[::1]:9000/x", 0, "http://[::1]:9000/x", "http", "[::1]", 9000, "/x",
	    NULL, NULL);
	uri_case("http://[2001:db8::1]/", 0, "http://[2001:db8::1]/", "http", "[2001:db8::1]", -1,
	    "/", NULL, NULL);
	uri_case("http://user:pw@host.com/", 0, "http://user:pw@host.com/", "http", "host.com", -1,
	    "/", NULL, NULL);
	uri_case("http://a.com/p q", 0, "http://a.com/p%20q", "http", "a.com", -1, "/p%20q", NULL,
	    NULL);
	uri_case("http://a.com/?q=a|b", 0, "http://a.com/?q=a%7Cb", "http", "a.com", -1, "/",
	    "q=a%7Cb", NULL);
	uri_case("http://a.com/\xc3\xbc", 0, "http://a.com/\xc3\xbc", "http", "a.com", -1,
	    "/\xc3\xbc", NULL, NULL);
	uri_case("http://a.com/\xc3\xbc|", 0, "http://a.com/%C3%BC%7C", "http", "a.com", -1,
	    "/%C3%BC%7C", NULL, NULL);
	uri_case("mailto:someone@example.com", 0, "mailto:someone@example.com", "mailto", NULL,
	    -1, NULL, NULL, NULL);
	uri_case("android-app://com.example/path", 0, "android-app://com.example/path",
	    "android-app", "com.example", -1, "/path", NULL, NULL);
	uri_case("/relative/path?x=1", 0, "/relative/path?x=1", NULL, NULL, -1, "/relative/path",
	    "x=1", NULL);
	uri_case("http://a_b.com/", 0, "http://a_b.com/", "http", NULL, -1, "/", NULL, NULL);
	uri_case("http://a.com/%zz", 0, "http://a.com/%25zz", "http", "a.com", -1, "/%25zz", NULL,
	    NULL);
	uri_case("http://a.com/#a#b", 0, "http://a.com/#a%23b", "http", "a.com", -1, "/", NULL,
	    "a%23b");
	uri_case("http://a.com:abc/", 0, "http://a.com:abc/", "http", NULL, -1, "/", NULL, NULL);
	uri_case("http://a.com:/x", 0, "http://a.com:/x", "http", "a.com", -1, "/x", NULL, NULL);
	uri_case("file:///etc/passwd", 0, "file:///etc/passwd", "file", NULL, -1, "/etc/passwd",
	    NULL, NULL);
	uri_case("HTTPS://EXAMPLE.COM/", 0, "HTTPS://EXAMPLE.COM/", "HTTPS", "EXAMPLE.COM", -1, "/",
	    NULL, NULL);
	uri_case(":foo", -1, NULL, NULL, NULL, -1, NULL, NULL, NULL);
	uri_case("1http://a.com/", -1, NULL, NULL, NULL, -1, NULL, NULL, NULL);
	uri_case("http:", -1, NULL, NULL, NULL, -1, NULL, NULL, NULL);
}
END_TEST

static void
ip_case(const char *const *h, size_t n, const char *exp)
{
	size_t hl[8], i;
	char out[64];
	size_t got;

	for (i = 0; i < n; i++)
		hl[i] = strlen(h[i]);
	got = conv_header_ip(h, hl, n, out, sizeof(out));
	if (exp == NULL)
		ck_assert_uint_eq(got, 0);
	else
		ck_assert_msg(got > 0 && strcmp(out, exp) == 0, "got %s, expected %s",
		    got ? out : "(none)", exp);
}

START_TEST(header_ips)
{
	const char *a[] = { "Host: x", "X-Forwarded-For: 198.51.100.1, 10.0.0.1", "Foo: bar" };
	const char *b[] = { "x-forwarded-for: 2001:db8::1, 10.0.0.1" };
	const char *c[] = { "Forwarded: for=192.0.2.60;proto=http" };
	const char *d[] = { "Forwarded: for=192.0.2.60", "Host: x" };     /* forgotten (upstream bug) */
	const char *e[] = { "Forwarded: for=\"[2001:DB8::17]\"" };
	const char *f[] = { "Forwarded: for=192.0.2.60", "X-Forwarded-For: 1.2.3.4" };
	const char *g[] = { "X-Forwarded-For: unknown" };
	const char *h[] = { "X-Forwarded-For: 1.2.3.4.5" };

	ip_case(a, 3, "198.51.100.1");
	ip_case(b, 1, "2001:db8::1");
	ip_case(c, 1, "192.0.2.60");
	ip_case(d, 2, NULL);
	ip_case(e, 1, "2001:db8::17");
	ip_case(f, 2, "1.2.3.4");
	ip_case(g, 1, NULL);
	ip_case(h, 1, "1.2.3.4");
	ip_case(a, 0, NULL);
	ck_assert_uint_eq(conv_ip_token("1.2.3.4, 5.6.7.8", 16), 7);
	ck_assert_uint_eq(conv_ip_token("1.2.3.4|x", 9), 7);
	ck_assert_uint_eq(conv_ip_token("::1 x", 5), 3);
	ck_assert_uint_eq(conv_ip_token("unknown", 7), 7);
}
END_TEST

static void
clean_case(long (*fn)(const char *, size_t, struct buf *), const char *in, size_t n,
    const char *exp)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(fn(in, n, &b), (long)strlen(exp));
	ck_assert_str_eq(b.data ? b.data : "", exp);
	buf_free(&b);
}

START_TEST(tsv_cleaning)
{
	clean_case(conv_tsv_safe, "a\tb\nc\x01" "d\x7f" "e\r", 11, "a    bcde");
	clean_case(conv_tsv_safe, "\n\r", 2, "");
	clean_case(conv_tsv_safe, "caf\xc3\xa9 \xc2\x85", 8, "caf\xc3\xa9 \xc2\x85");  /* C1 kept */
	clean_case(conv_tsv_safe, "a\0b", 3, "ab");
	clean_case(conv_ua_light, "a\tb\r\nc\x01", 7, "a    bc\x01");
	ck_assert_uint_eq(conv_utf16_len("a\xf0\x9f\x98\x80\xc3\xa9", 7), 4);
	ck_assert_uint_eq(conv_utf16_len("abc", 3), 3);
}
END_TEST

static void
compact_case(const char *in, const char *exp)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(conv_json_compact(in, strlen(in), &b), 0);
	ck_assert_str_eq(b.data, exp);
	buf_free(&b);
}

static int
count_cb(const char *s, size_t len, void *arg)
{
	(void)s;
	*(size_t *)arg += len;
	return 0;
}

START_TEST(json_texts)
{
	const char *v;
	size_t n = 0;

	compact_case(" { \"a\" : [1, 2.50 , 1e2, \"x\\/y\\u00e9\\n\"] ,\"b\":{ } } ",
	    "{\"a\":[1,2.50,1e2,\"x/y\xc3\xa9\\n\"],\"b\":{}}");
	compact_case("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
	compact_case("\"\\u0000\\u001F\\\"\\\\\"", "\"\\u0000\\u001f\\\"\\\\\"");
	compact_case("[true, false, null, -0.0]", "[true,false,null,-0.0]");
	compact_case("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"");
	/* circe escapes every ISO control (Printer.onString, Character.isISOControl), raw or
	 * written as an escape by the tracker: DEL and U+0080-U+009F too; U+00A0 is not one */
	compact_case("\"a\x7f b\xc2\x85 c\\u007F d\\u0090 e\\u00a0\"",
	    "\"a\\u007f b\\u0085 c\\u007f d\\u0090 e\xc2\xa0\"");

	ck_assert_int_eq(conv_json_get("{\"schema\":\"s\", \"data\" : [1, {\"a\":2}] }", 36, "data",
	    &v, &n), 0);
	ck_assert_uint_eq(n, 12);
	ck_assert(strncmp(v, "[1, {\"a\":2}]", n) == 0);
	ck_assert_int_eq(conv_json_get("{\"a\":1,\"a\":2}", 13, "a", &v, &n), 0);
	ck_assert(*v == '2');
	ck_assert_int_eq(conv_json_get("[1]", 3, "a", &v, &n), -1);
	n = 0;
	ck_assert_int_eq(conv_json_array_each("[1, \"ab\" ,{}]", 13, count_cb, &n), 3);
	ck_assert_uint_eq(n, 1 + 4 + 2);
	ck_assert_int_eq(conv_json_array_each("[ ]", 3, count_cb, &n), 0);

	ck_assert_int_eq(conv_json_depth("[[[\"[[[[\"]]]", 12, 40), 3);
	ck_assert_int_eq(conv_json_depth("{\"a\":{\"b\":[]}}", 14, 40), 3);
	ck_assert_int_eq(conv_json_depth("1", 1, 40), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enrich_conv");
	TCase *tc = tcase_create("conv");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, decimal_rendering);
	tcase_add_test(tc, integers_booleans_dimensions);
	tcase_add_test(tc, timestamps_uuids_platforms);
	tcase_add_test(tc, querystring_validity);
	tcase_add_test(tc, form_decoding);
	tcase_add_test(tc, querystring_split);
	tcase_add_test(tc, uri_splitting);
	tcase_add_test(tc, header_ips);
	tcase_add_test(tc, tsv_cleaning);
	tcase_add_test(tc, json_texts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
