/* Unit tests for collector/col_query: query lookup with form decoding, strict path-segment
 * decoding, and the URI check used by redirects. */
#include <check.h>
#include <string.h>

#include "../../collector/col_query.h"

static int
get(const char *q, const char *name, char *out)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = col_query_get(q, strlen(q), name, &b);
	strcpy(out, b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

START_TEST(query_lookup)
{
	char v[256];

	ck_assert_int_eq(get("e=pv&nuid=abc&x=1", "nuid", v), 1);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(get("u=http%3A%2F%2Fa.com%2F%3Fx%3D1+2", "u", v), 1);
	ck_assert_str_eq(v, "http://a.com/?x=1 2");
	ck_assert_int_eq(get("a=1&n3pc", "n3pc", v), 1);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(get("xnuid=1", "nuid", v), 0);
	ck_assert_int_eq(get("", "nuid", v), 0);
	ck_assert_int_eq(get("&&&", "nuid", v), 0);
	ck_assert_int_eq(get("nuid=1&nuid=2", "nuid", v), 1);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(get("n%75id=enc", "nuid", v), 1);     /* names are decoded too */
	ck_assert_str_eq(v, "enc");
	/* a first byte that decodes to the name's ('%', not '+') is not passed over */
	ck_assert_int_eq(get("a=1&%6Euid=pct", "nuid", v), 1);
	ck_assert_str_eq(v, "pct");
	ck_assert_int_eq(get("+nuid=1&Nuid=2&nuid=3", "nuid", v), 1);
	ck_assert_str_eq(v, "3");
	ck_assert_int_eq(get("a=1&+b=sp", " b", v), 1);
	ck_assert_str_eq(v, "sp");
	ck_assert_int_eq(get("x=1&=empty", "", v), 1);
	ck_assert_str_eq(v, "empty");
	ck_assert_int_eq(get("u=%zz%4", "u", v), 1);            /* malformed escapes kept */
	ck_assert_str_eq(v, "%zz%4");
	ck_assert_int_eq(get("u=%", "u", v), 1);
	ck_assert_str_eq(v, "%");
	ck_assert_int_eq(get("a=1;u=semi", "u", v), 1);
	ck_assert_str_eq(v, "semi");
}
END_TEST

static const char *
host(const char *u, int *ok)
{
	static char h[128];
	const char *p;
	size_t n;

	*ok = col_query_uri_parse(u, strlen(u), &p, &n);
	if (!*ok || p == NULL)
		return NULL;
	memcpy(h, p, n);
	h[n] = '\0';
	return h;
}

START_TEST(uri_check)
{
	int ok;

	ck_assert_str_eq(host("http://example.com/path?a=1#f", &ok), "example.com");
	ck_assert_str_eq(host("https://user:pw@Example.com:8080", &ok), "Example.com");
	ck_assert_str_eq(host("http://[2001:db8::1]:80/", &ok), "2001:db8::1");
	ck_assert_ptr_null(host("/relative/path", &ok));
	ck_assert_int_eq(ok, 1);
	ck_assert_ptr_null(host("http://exa mple.com", &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(host("http://a.com/%zz", &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(host("http://a.com/\r\nX: y", &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(host("http://a.com:8x/", &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(host("1http://a.com/", &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(host("http://[::1/", &ok));
	ck_assert_int_eq(ok, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_query");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, query_lookup);
	tcase_add_test(tc, uri_check);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
