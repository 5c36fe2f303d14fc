/* Unit tests for s3-sink/upload's pure parts: outcome classification (sinks.md §3.6), S3 error
 * bodies, jittered back-off bounds and request URLs (§3.7). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "../../s3-sink/upload.h"

START_TEST(classify)
{
	static const struct { long status; const char *code; enum s3upload_status want; } cases[] = {
		{ 200, "", S3UPLOAD_OK },
		{ 204, NULL, S3UPLOAD_OK },
		{ 500, "InternalError", S3UPLOAD_TRANSIENT },
		{ 503, "SlowDown", S3UPLOAD_TRANSIENT },
		{ 502, "", S3UPLOAD_TRANSIENT },
		{ 408, "", S3UPLOAD_TRANSIENT },
		{ 429, "", S3UPLOAD_TRANSIENT },
		{ 400, "RequestTimeout", S3UPLOAD_TRANSIENT },
		{ 403, "SignatureDoesNotMatch", S3UPLOAD_AUTH },
		{ 403, "InvalidAccessKeyId", S3UPLOAD_AUTH },
		{ 403, "AccessDenied", S3UPLOAD_AUTH },
		{ 400, "ExpiredToken", S3UPLOAD_AUTH },
		{ 403, "", S3UPLOAD_AUTH },
		{ 401, NULL, S3UPLOAD_AUTH },
		{ 404, "NoSuchBucket", S3UPLOAD_PERMANENT },
		{ 400, "InvalidDigest", S3UPLOAD_PERMANENT },
		{ 400, "XAmzContentSHA256Mismatch", S3UPLOAD_PERMANENT },
		{ 301, "PermanentRedirect", S3UPLOAD_PERMANENT },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(s3upload_classify(cases[i].status, cases[i].code) == cases[i].want,
		    "%ld %s", cases[i].status, cases[i].code ? cases[i].code : "(null)");
}
END_TEST

START_TEST(error_body)
{
	const char *xml = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch"
	    "</Code><Message>Forbidden</Message><RequestId>1</RequestId></Error>";
	char code[64], msg[64];

	ck_assert_int_eq(s3upload_error_parse(xml, strlen(xml), code, sizeof(code), msg, sizeof(msg)), 0);
	ck_assert_str_eq(code, "SignatureDoesNotMatch");
	ck_assert_str_eq(msg, "Forbidden");
	ck_assert_int_eq(s3upload_error_parse("<html>oops</html>", 17, code, sizeof(code), msg,
	    sizeof(msg)), -1);
	ck_assert_str_eq(code, "");
	/* truncated to the buffer */
	ck_assert_int_eq(s3upload_error_parse(xml, strlen(xml), code, 5, msg, sizeof(msg)), 0);
	ck_assert_str_eq(code, "Sign");
	ck_assert_int_eq(s3upload_error_parse("<Error><Code>x", 14, code, sizeof(code), msg,
	    sizeof(msg)), -1);
}
END_TEST

START_TEST(backoff)
{
	static const uint64_t rnds[] = { 0, 1, 12345, 999999999, UINT64_MAX };
	uint64_t ceiling = 1000, d;
	unsigned a;
	size_t r;

	for (a = 0; a < 40; a++) {
		for (r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
			d = s3upload_backoff_ms(a, 1000, 60000, rnds[r]);
			ck_assert_uint_ge(d, 100);           /* never spins */
			ck_assert_uint_le(d, ceiling);
		}
		ceiling = ceiling * 2 > 60000 ? 60000 : ceiling * 2;
	}
	/* the ceiling is reached and the spread is used */
	ck_assert_uint_eq(s3upload_backoff_ms(30, 1000, 60000, 60000 - 100), 60000);
	ck_assert_uint_eq(s3upload_backoff_ms(0, 1000, 60000, 0), 100);
	ck_assert_uint_le(s3upload_backoff_ms(0, 50, 50, UINT64_MAX), 50);
}
END_TEST

START_TEST(urls)
{
	struct s3upload_config c;
	char url[512];

	memset(&c, 0, sizeof(c));
	c.bucket = "bkt";
	c.endpoint = "http://127.0.0.1:9000/";
	c.path_style = 1;
	ck_assert_int_eq(s3upload_url(&c, "a/b=c/x.gz", NULL, url, sizeof(url)), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:9000/bkt/a/b%3Dc/x.gz");
	ck_assert_int_eq(s3upload_url(&c, "k.gz", "uploads=", url, sizeof(url)), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:9000/bkt/k.gz?uploads=");
	c.path_style = 0;
	ck_assert_int_eq(s3upload_default_endpoint("eu-west-1", url, sizeof(url)), 0);
	ck_assert_str_eq(url, "https://s3.eu-west-1.amazonaws.com");
	c.endpoint = "https://s3.eu-west-1.amazonaws.com";
	ck_assert_int_eq(s3upload_url(&c, "p/k.gz", NULL, url, sizeof(url)), 0);
	ck_assert_str_eq(url, "https://bkt.s3.eu-west-1.amazonaws.com/p/k.gz");
	ck_assert_int_eq(s3upload_url(&c, "p/k.gz", NULL, url, 20), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3_upload");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, classify);
	tcase_add_test(tc, error_body);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, urls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
