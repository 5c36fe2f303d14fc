/*
 * tmpdir_test: a temporary directory per test, for the unit tests that write files
 * (test_stream.c, test_sinkout.c): tdir_make in a fixture's setup, tdir_remove in its teardown,
 * tdir_path for a file in it (the last four results stay valid).
 */
#ifndef FURROW_TMPDIR_TEST_H
#define FURROW_TMPDIR_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tdir[256];

/* Make a fresh /tmp/furrow-NAME.XXXXXX. */
static inline void
tdir_make(const char *name)
{
	snprintf(tdir, sizeof(tdir), "/tmp/furrow-%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static inline void
tdir_remove(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	ck_assert_int_eq(system(cmd), 0);
}

static inline char *
tdir_path(const char *name)
{
	static char p[4][300];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tdir, name);
	return p[i];
}

#endif
