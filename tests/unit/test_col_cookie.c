/* Unit tests for collector/col_cookie: Origin parsing, cookie-domain matching (collector.md
 * §5.2), cookie lookup, Cookie header re-rendering (§5.3) and Set-Cookie rendering. */
#include <check.h>
#include <string.h>

#include "../../collector/col_cookie.h"

static const char *
domain(const char *origin, const char *fallback)
{
	static char *domains[] = { "acme.com", "shop.acme.com", "other.org" };

	return col_cookie_domain(domains, 3, origin, origin ? strlen(origin) : 0, fallback);
}

START_TEST(domain_matching)
{
	ck_assert_int_eq(col_cookie_domain_match("acme.com", 8, "acme.com"), 1);
	ck_assert_int_eq(col_cookie_domain_match("www.acme.com", 12, "acme.com"), 1);
	ck_assert_int_eq(col_cookie_domain_match("notacme.com", 11, "acme.com"), 0);
	ck_assert_int_eq(col_cookie_domain_match("acme.com.evil", 13, "acme.com"), 0);
	ck_assert_int_eq(col_cookie_domain_match(".acme.com", 9, "acme.com"), 1);
	ck_assert_int_eq(col_cookie_domain_match("cme.com", 7, "acme.com"), 0);
	/* first configured domain that matches any Origin host wins, in configured order */
	ck_assert_str_eq(domain("https://www.shop.acme.com", NULL), "acme.com");
	ck_assert_str_eq(domain("http://x.other.org https://y.acme.com", NULL), "acme.com");
	ck_assert_str_eq(domain("http://x.other.org", NULL), "other.org");
	ck_assert_str_eq(domain("https://acme.com:8443", NULL), "acme.com");
	ck_assert_ptr_null(domain("https://nomatch.net", NULL));
	ck_assert_str_eq(domain("https://nomatch.net", "fb.net"), "fb.net");
	ck_assert_str_eq(domain(NULL, "fb.net"), "fb.net");
	ck_assert_str_eq(domain("null", "fb.net"), "fb.net");
	ck_assert_str_eq(domain("acme.com", "fb.net"), "fb.net");    /* no scheme: unusable */
}
END_TEST

START_TEST(origin_parsing)
{
	struct col_origin o;
	const char *v = "null  https://a.example:8080 http://[2001:db8::1]:9 bogus ftp://b/x";
	size_t pos = 0;

	ck_assert_int_eq(col_cookie_origin_next(v, strlen(v), &pos, &o), 1);
	ck_assert_int_eq((int)o.scheme_len, 5);
	ck_assert_int_eq(memcmp(o.host, "a.example", o.host_len), 0);
	ck_assert_int_eq(memcmp(o.port, "8080", o.port_len), 0);
	ck_assert_int_eq(col_cookie_origin_next(v, strlen(v), &pos, &o), 1);
	ck_assert_int_eq((int)o.host_len, 13);
	ck_assert_int_eq(memcmp(o.host, "[2001:db8::1]", 13), 0);
	ck_assert_int_eq(col_cookie_origin_next(v, strlen(v), &pos, &o), 1);
	ck_assert_int_eq(memcmp(o.host, "b", 1), 0);
	ck_assert_ptr_null(o.port);
	ck_assert_int_eq(col_cookie_origin_next(v, strlen(v), &pos, &o), 0);
	pos = 0;
	ck_assert_int_eq(col_cookie_origin_next("https://", 8, &pos, &o), 0);
	pos = 0;
	ck_assert_int_eq(col_cookie_origin_next("https://h:", 10, &pos, &o), 0);
	pos = 0;
	ck_assert_int_eq(col_cookie_origin_next("https://[::1", 12, &pos, &o), 0);
}
END_TEST

static const char *
find(const char *hdr, const char *name)
{
	static char out[256];
	const char *v;
	size_t n;

	if (!col_cookie_find(hdr, strlen(hdr), name, &v, &n))
		return NULL;
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

START_TEST(cookie_lookup)
{
	ck_assert_str_eq(find("sp=abc", "sp"), "abc");
	ck_assert_str_eq(find("a=1; sp=abc; b=2", "sp"), "abc");
	ck_assert_str_eq(find("a=1;sp = \"q\" ;b", "sp"), "q");
	ck_assert_str_eq(find("spx=1; sp=2", "sp"), "2");
	ck_assert_str_eq(find("sp=", "sp"), "");
	ck_assert_str_eq(find("sp=1; sp=2", "sp"), "1");
	ck_assert_ptr_null(find("xsp=1", "sp"));
	ck_assert_ptr_null(find("sp", "sp"));
	ck_assert_ptr_null(find("", "sp"));
}
END_TEST

static const char *
rerender(const char *in, long *n)
{
	static struct buf b;

	buf_free(&b);
	buf_init(&b, 0);
	*n = col_cookie_rerender(in, strlen(in), &b);
	return b.data ? b.data : "";
}

START_TEST(cookie_rerender)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "a=b; c=d", "a=b;c=d" },                    /* spaces removed */
		{ "a=b;;c=d", "a=b;;c=d" },                   /* inner empty pieces survive */
		{ "a=b;c=d;", "a=b;c=d" },                    /* trailing empty piece disappears */
		{ "a=b;c=d;;;", "a=b;c=d" },
		{ ";a=b", ";a=b" },                           /* leading empty piece kept */
		{ "a=b; bad=x\"y; c=d", "a=b;c=d" },          /* '"' is not a cookie-octet */
		{ "a=b;;bad=\\", "a=b;" },                    /* empties before a dropped piece stay */
		{ "a=b, c=d", "" },                           /* ',' is not a cookie-octet */
		{ "x=1,y; z=2", "z=2" },
		{ "a = b", "a=b" },
		{ "", "" },
		{ " ; ", "" },
		{ "\xc3\xa9=1; ok=2", "ok=2" },
		{ "sp=dfdb716e-ecf9-4d00-8b10-44edfbc8a108; cookie=value",
		  "sp=dfdb716e-ecf9-4d00-8b10-44edfbc8a108;cookie=value" },
	};
	size_t i;
	long n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rerender(cases[i].in, &n);

		ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: '%s' -> '%s', want '%s'", i,
		    cases[i].in, got, cases[i].out);
		ck_assert_int_eq(n, (long)strlen(cases[i].out));
	}
}
END_TEST

START_TEST(set_cookie_rendering)
{
	struct buf b;
	struct col_cookie_attrs a = { 1731622400, "acme.com", "None", 1, 1 };

	buf_init(&b, 0);
	ck_assert_int_eq(col_cookie_set_header(&b, "sp", "v", 1, &a), 0);
	ck_assert_str_eq(b.data, "Set-Cookie: sp=v; Expires=Thu, 14 Nov 2024 22:13:20 GMT; "
	    "Domain=acme.com; Path=/; SameSite=None; Secure; HttpOnly\r\n");
	buf_reset(&b);
	a.domain = NULL;
	a.same_site = NULL;
	a.secure = 0;
	a.http_only = 0;
	ck_assert_int_eq(col_cookie_set_header(&b, "sp", "", 0, &a), 0);
	ck_assert_str_eq(b.data, "Set-Cookie: sp=; Expires=Thu, 14 Nov 2024 22:13:20 GMT; Path=/\r\n");
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_cookie");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, domain_matching);
	tcase_add_test(tc, origin_parsing);
	tcase_add_test(tc, cookie_lookup);
	tcase_add_test(tc, cookie_rerender);
	tcase_add_test(tc, set_cookie_rendering);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
