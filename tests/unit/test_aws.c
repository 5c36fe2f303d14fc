/* Unit tests for common/aws: credentials from the environment or a profile file (errors name the
 * file and the line, never a value), the region's order, the back-off rule (Snowplow's
 * collector: random in [min, max], at least two thirds of the last) and which errors throttle. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"

static char path[] = "/tmp/furrow-aws.XXXXXX";

static void
creds_file(const char *text)
{
	int fd;

	strcpy(path, "/tmp/furrow-aws.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
}

static void
clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	/* the chain's last resort is not asked here (tests/integration/kinesis_stream.sh has a
	 * stand-in for it) */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

START_TEST(env_wins)
{
	struct aws_creds c;
	char err[256];

	clear_env();
	creds_file("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.akid, "ENVKEY");
	ck_assert_str_eq(c.secret, "envsecret");
	ck_assert_str_eq(c.token, "envtoken");
	aws_creds_clear(&c);
	ck_assert_str_eq(c.secret, "");
	unlink(path);
}
END_TEST

START_TEST(profiles)
{
	struct aws_creds c;
	char err[256];

	clear_env();
	creds_file("# comment\n[default]\naws_access_key_id=DEF\naws_secret_access_key=defsecret\n\n"
	    "[profile other]\n  aws_access_key_id = OTHER  \naws_secret_access_key = othersecret\n"
	    "aws_session_token = othertoken\n[third]\naws_access_key_id = ONLYKEY\n");
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.akid, "DEF");
	ck_assert_str_eq(c.token, "");
	setenv("AWS_PROFILE", "other", 1);
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.akid, "OTHER");
	ck_assert_str_eq(c.secret, "othersecret");
	ck_assert_str_eq(c.token, "othertoken");
	setenv("AWS_PROFILE", "third", 1);
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "profile third"));
	ck_assert_ptr_null(strstr(err, "ONLYKEY"));
	setenv("AWS_PROFILE", "missing", 1);
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	setenv("AWS_PROFILE", "default", 1);
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no AWS credentials"));
	ck_assert_ptr_nonnull(strstr(err, "instance metadata off (AWS_EC2_METADATA_DISABLED)"));
}
END_TEST

START_TEST(bad_lines)
{
	struct aws_creds c;
	char err[256];

	clear_env();
	creds_file("[default]\naws_access_key_id = K\naws_secret_access_key verysecretvalue\n");
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": line 3: not key = value"));
	ck_assert_ptr_null(strstr(err, "verysecretvalue"));
	unlink(path);
	creds_file("[default\n");
	ck_assert_int_eq(aws_creds_load(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": line 1: a section without ']'"));
	unlink(path);
}
END_TEST

START_TEST(region_order)
{
	unsetenv("FURROW_KINESIS_REGION");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	ck_assert_str_eq(aws_region(NULL), "us-east-1");
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	ck_assert_str_eq(aws_region(NULL), "eu-west-3");
	setenv("AWS_REGION", "eu-west-2", 1);
	ck_assert_str_eq(aws_region(""), "eu-west-2");
	setenv("FURROW_KINESIS_REGION", "eu-west-1", 1);
	ck_assert_str_eq(aws_region(NULL), "eu-west-1");
	ck_assert_str_eq(aws_region("ap-south-1"), "ap-south-1");
}
END_TEST

START_TEST(backoff)
{
	long b = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		long n = aws_next_backoff(b, 100, 1000);
		ck_assert_int_ge(n, 100);
		ck_assert_int_le(n, 1000);
		ck_assert_int_ge(n, b / 3 * 2);
		b = n;
	}
	/* a long last back-off keeps two thirds of itself */
	ck_assert_int_eq(aws_next_backoff(30000, 100, 1000), 20000);
	ck_assert_int_eq(aws_next_backoff(0, 500, 500), 500);
}
END_TEST

START_TEST(throttles)
{
	ck_assert(aws_error_is_throttle("ProvisionedThroughputExceededException"));
	ck_assert(aws_error_is_throttle("LimitExceededException"));
	ck_assert(aws_error_is_throttle("ThrottlingException"));
	ck_assert(!aws_error_is_throttle("ResourceNotFoundException"));
	ck_assert(!aws_error_is_throttle(""));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("aws");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, env_wins);
	tcase_add_test(tc, profiles);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, region_order);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, throttles);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
