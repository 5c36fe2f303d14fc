/* Unit tests for common/props: the librdkafka properties file (kcat -F's format). Errors name
 * the line and never the value. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "props.h"

struct seen {
	char text[2048];
	int n;
	int stop_at;
};

static int
collect_cb(void *arg, unsigned line, const char *name, const char *value)
{
	struct seen *s = arg;
	size_t o = strlen(s->text);

	snprintf(s->text + o, sizeof(s->text) - o, "%u:%s=[%s];", line, name, value);
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static const struct {
	const char *in;
	int rc;
	const char *out;         /* rc 0: the properties seen; rc -1: the error */
} cases[] = {
	{ "", 0, "" },
	{ "a=b", 0, "1:a=[b];" },
	{ "a=b\n", 0, "1:a=[b];" },
	{ "# comment\n! also\n\n   \nbootstrap.servers=h1:9092,h2:9092\n", 0,
	  "5:bootstrap.servers=[h1:9092,h2:9092];" },
	{ "  sasl.username =  furrow\r\n", 0, "1:sasl.username=[furrow];" },
	{ "sasl.password=p=a#ss word \n", 0, "1:sasl.password=[p=a#ss word ];" },
	{ "empty=\n", 0, "1:empty=[];" },
	{ "\tx_y-z.1=v\n", 0, "1:x_y-z.1=[v];" },
	{ "no equals sign\n", -1, "line 1: not name=value" },
	{ "a=1\n=secret\n", -1, "line 2: no property name" },
	{ "bad name=secret\n", -1, "line 1: a property name is letters, digits, '.', '_' and '-'" },
	{ "a\xc3\xa9=secret\n", -1, "line 1: a property name is letters, digits, '.', '_' and '-'" },
};

START_TEST(table)
{
	struct seen s;
	char err[256];
	int rc;

	memset(&s, 0, sizeof(s));
	err[0] = '\0';
	rc = props_parse(cases[_i].in, strlen(cases[_i].in), collect_cb, &s, err, sizeof(err));
	ck_assert_int_eq(rc, cases[_i].rc);
	if (rc == 0)
		ck_assert_str_eq(s.text, cases[_i].out);
	else {
		ck_assert_str_eq(err, cases[_i].out);
		ck_assert_ptr_null(strstr(err, "secret"));
	}
}
END_TEST

START_TEST(callback_stops)
{
	const char *in = "a=1\nb=2\nc=3\n";
	struct seen s;
	char err[64];

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	ck_assert_int_eq(props_parse(in, strlen(in), collect_cb, &s, err, sizeof(err)), 7);
	ck_assert_str_eq(s.text, "1:a=[1];2:b=[2];");
}
END_TEST

START_TEST(nul_and_long_lines)
{
	static const char nul[] = "a=se\0cret\n";
	struct seen s;
	char err[128], *big;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(props_parse(nul, sizeof(nul) - 1, collect_cb, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "line 1: property a: a NUL byte in the value");
	big = malloc(PROPS_LINE_MAX + 16);
	memset(big, 'v', PROPS_LINE_MAX + 8);
	memcpy(big, "k=", 2);
	ck_assert_int_eq(props_parse(big, PROPS_LINE_MAX + 8, collect_cb, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 1: longer than"));
	free(big);
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/furrow-props.XXXXXX", err[256];
	struct seen s;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x=1\ny\n", 6), 6);
	close(fd);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(props_load(path, collect_cb, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": line 2: not name=value"));
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	ck_assert_int_eq(props_load(path, collect_cb, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("props");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, callback_stops);
	tcase_add_test(tc, nul_and_long_lines);
	tcase_add_test(tc, load_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
