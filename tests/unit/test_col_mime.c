/* Unit tests for collector/col_mime: Content-Type normalisation (collector.md §8). */
#include <check.h>
#include <string.h>

#include "../../collector/col_mime.h"

START_TEST(normalise)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "application/json", "application/json" },
		{ "application/json;charset=UTF-8", "application/json; charset=utf-8" },
		{ "Application/JSON; Charset=UTF-8", "application/json; charset=utf-8" },
		{ "  text/plain ;  charset=\"utf-8\"  ", "text/plain; charset=utf-8" },
		{ "multipart/form-data; charset=UTF-8; boundary=XyZ", "multipart/form-data; boundary=xyz; charset=utf-8" },
		{ "text/plain; a=\"b c\"", "text/plain; a=\"b c\"" },
		{ "text/plain; a=\"q\\\"x\"", "text/plain; a=\"q\\\"x\"" },
		{ "text/plain;", "text/plain" },
		{ "image/gif", "image/gif" },
		{ " Weird Type ", "weird type" },              /* unparseable: trimmed, lower-cased */
		{ "text/", "text/" },
		{ "text/plain; charset", "text/plain; charset" },
		{ "text/plain; a=\"unterminated", "text/plain; a=\"unterminated" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b, 0);
		ck_assert_int_eq(col_mime_normalise(cases[i].in, strlen(cases[i].in), &b), 0);
		ck_assert_msg(strcmp(b.data ? b.data : "", cases[i].out) == 0, "'%s' -> '%s', want '%s'",
		    cases[i].in, b.data ? b.data : "", cases[i].out);
		buf_free(&b);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_mime");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, normalise);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
