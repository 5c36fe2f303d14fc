/*
 * enr_test: helpers shared by the enrichment unit tests (tests/unit/test_enr_*.c). The tests
 * link the real enrich/enrich_event.c (from libenrich.a); this header only builds events,
 * temporary directories and configuration files for them.
 */
#ifndef FURROW_ENR_TEST_H
#define FURROW_ENR_TEST_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../enrich/enr.h"
#include "../../enrich/enrich_event.h"
#include "../../enrich/enrichments.h"
#include "thrift.h"

#define ENR_TEST_UNUSED __attribute__((unused))

ENR_TEST_UNUSED static struct enrich_event *
tev_new(void)
{
	struct enrich_event *ev = calloc(1, sizeof(*ev));
	struct thrift_payload *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(p);
	thrift_payload_init(p);
	ev->payload = p;
	return ev;
}

ENR_TEST_UNUSED static void
tev_free(struct enrich_event *ev)
{
	size_t i;

	for (i = 0; i < EVENT_NCOLS; i++)
		free(ev->col[i]);
	for (i = 0; i < ev->n_params; i++) {
		free(ev->params[i].name);
		free(ev->params[i].value);
	}
	free(ev->params);
	json_decref(ev->contexts);
	json_decref(ev->unstruct);
	json_decref(ev->derived);
	json_decref(ev->pii);
	thrift_payload_free((struct thrift_payload *)ev->payload);
	free((void *)ev->payload);
	free(ev);
}

ENR_TEST_UNUSED static void
tev_set(struct enrich_event *ev, int col, const char *s)
{
	ck_assert_int_eq(enrich_event_set_str(ev, col, s), 0);
}

ENR_TEST_UNUSED static void
tev_header(struct enrich_event *ev, const char *line)
{
	struct thrift_payload *p = (struct thrift_payload *)ev->payload;

	ck_assert_int_eq(thrift_payload_add_header(p, line, strlen(line)), 0);
}

/* value NULL: a parameter without a value. */
ENR_TEST_UNUSED static void
tev_param(struct enrich_event *ev, const char *name, const char *value)
{
	ev->params = realloc(ev->params, (ev->n_params + 1) * sizeof(*ev->params));
	ck_assert_ptr_nonnull(ev->params);
	ev->params[ev->n_params].name = strdup(name);
	ev->params[ev->n_params].value = value ? strdup(value) : NULL;
	ev->n_params++;
}

/* The column, or "" for NULL, for ck_assert_str_eq. */
ENR_TEST_UNUSED static const char *
tev_col(const struct enrich_event *ev, int col)
{
	return ev->col[col] ? ev->col[col] : "";
}

/* A fresh temporary directory (removed by tdir_rm). */
ENR_TEST_UNUSED static char *
tdir_new(void)
{
	char tmpl[] = "/tmp/furrow-enr-test.XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

ENR_TEST_UNUSED static void
tdir_rm(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(dir);
}

ENR_TEST_UNUSED static void
tfile_write(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The repository root: FURROW_ROOT, or the current directory (make runs tests there). */
ENR_TEST_UNUSED static const char *
troot(void)
{
	const char *r = getenv("FURROW_ROOT");

	return r && *r ? r : ".";
}

/*
 * Start tests/tools/api_server.py (serving DOCROOT's files if not NULL) and wait for the port it
 * writes to a file (atomically: it renames it into place). Polls for up to 60 s, since a loaded
 * machine can take seconds to start Python; stops early if the server dies. Exits the test
 * program when the server does not start. Returns the server's pid; *port is its port.
 */
ENR_TEST_UNUSED static pid_t
tapi_server_start(const char *docroot, int *port)
{
	char portfile[] = "/tmp/furrow-api-port.XXXXXX", script[4200];
	int fd = mkstemp(portfile), i, status;
	pid_t pid;
	FILE *f = NULL;

	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	unlink(portfile);
	snprintf(script, sizeof(script), "%s/tests/tools/api_server.py", troot());
	if ((pid = fork()) == 0) {
		execlp("python3", "python3", script, portfile, docroot, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1200 && (f = fopen(portfile, "r")) == NULL; i++) {
		struct timespec ts = { 0, 50000000 };

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&ts, NULL);
	}
	if (f == NULL || fscanf(f, "%d", port) != 1) {
		fprintf(stderr, "api_server.py did not start\n");
		exit(1);
	}
	fclose(f);
	unlink(portfile);
	return pid;
}

/* Load the one configuration text as DIR/name and return the enrichments (or NULL + err). */
ENR_TEST_UNUSED static struct enrichments *
tload_one(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	tfile_write(dir, name, text);
	err[0] = '\0';
	return enrichments_load(dir, NULL, err, errlen);
}

/* The n-th derived entity's data field as compact JSON text (caller frees), or NULL. */
ENR_TEST_UNUSED static char *
tderived(const struct enrich_event *ev, size_t i)
{
	json_t *e = json_array_get(ev->derived, i);

	return e ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

#endif
