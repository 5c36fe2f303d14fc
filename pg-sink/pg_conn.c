/*
 * pg_conn: libpq in non-blocking mode, errors classified (see pg_conn.h).
 */
#include "pg_conn.h"
#include "metricsd.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"

#define PGCONN_PUT_CHUNK (1 << 20)   /* bytes handed to PQputCopyData at a time */

struct pgconn {
	struct pgconn_opts o;
	PGconn            *pg;
	char               target[512];
	struct metricsd   *md;
	int64_t            failing_since;
	char               last_error[256];
};

void
pgconn_set_metricsd(struct pgconn *c, struct metricsd *md)
{
	c->md = md;
}

struct metricsd *
pgconn_metricsd(const struct pgconn *c)
{
	return c ? c->md : NULL;
}

static int64_t pgc_now_ms(void);

void
pgconn_note(struct pgconn *c, int ok, const char *error)
{
	if (ok) {
		c->failing_since = 0;
		return;
	}
	if (c->failing_since == 0)
		c->failing_since = pgc_now_ms();
	snprintf(c->last_error, sizeof(c->last_error), "%.250s", error ? error : "");
}

int64_t
pgconn_failing_since(const struct pgconn *c, const char **last_error)
{
	if (last_error)
		*last_error = c ? c->last_error : "";
	return c ? c->failing_since : 0;
}

static int64_t
pgc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
pgconn_check_url(const char *url, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL, shown[512];

	if (url == NULL || url[0] == '\0')
		return 0;
	opts = PQconninfoParse(url, &msg);
	if (opts == NULL) {
		if (msg != NULL) {
			size_t n = strlen(msg);
			while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = '\0';
		}
		/* libpq may quote the URI in its message: never show a userinfo from it */
		redact_urls(msg ? msg : "out of memory", shown, sizeof(shown));
		snprintf(err, errlen, "--url: not a libpq connection URI or keyword string: %s",
		    shown);
		PQfreemem(msg);
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			snprintf(err, errlen, "--url: the connection string carries a password, which "
			    "every local user could read from the process list; give it in PGPASSWORD "
			    "or a password file (~/.pgpass, PGPASSFILE) instead");
			PQconninfoFree(opts);
			return -1;
		}
	}
	PQconninfoFree(opts);
	return 0;
}

struct pgconn *
pgconn_new(const struct pgconn_opts *o)
{
	struct pgconn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->o = *o;
	if (c->o.url == NULL)
		c->o.url = "";
	snprintf(c->target, sizeof(c->target), "(not connected)");
	return c;
}

void
pgconn_close(struct pgconn *c)
{
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
}

void
pgconn_free(struct pgconn *c)
{
	if (c == NULL)
		return;
	pgconn_close(c);
	free(c);
}

int
pgconn_connected(const struct pgconn *c)
{
	return c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK;
}

const char *
pgconn_target(const struct pgconn *c)
{
	return c->target;
}

/* ---- errors ---- */

enum pgerr_class
pgconn_classify(const char *st)
{
	if (st == NULL || strlen(st) != 5)
		return PGE_CONN;             /* raised by libpq itself: the connection */
	if (strcmp(st, "23505") == 0)
		return PGE_KEY;
	if (strcmp(st, "42501") == 0)
		return PGE_TRANSIENT;        /* insufficient privilege: the operator may grant it */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)
		return PGE_CONN;             /* connection exception, admin / crash shutdown */
	if (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 || strncmp(st, "54", 2) == 0)
		return PGE_DATA;             /* data exception, integrity, program limit */
	if (strncmp(st, "42", 2) == 0 || strncmp(st, "3F", 2) == 0)
		return PGE_SCHEMA;           /* undefined table / column, invalid schema */
	return PGE_TRANSIENT;            /* 40 (serialization, deadlock), 53 (resources), 55, 57014,
	                                  * 58, XX, ...: try again */
}

long
pgconn_copy_line(const char *ctx)
{
	const char *p, *eol;
	long n = 0;

	/* the COPY line is not always the first of the context ("JSON data, line 1: ..." comes
	 * before it for a JSON value) */
	while (ctx != NULL && strncmp(ctx, "COPY ", 5) != 0) {
		ctx = strchr(ctx, '\n');
		if (ctx != NULL)
			ctx++;
	}
	if (ctx == NULL)
		return 0;
	eol = strchr(ctx, '\n');
	if (eol == NULL)
		eol = ctx + strlen(ctx);
	if ((p = strstr(ctx, ", ")) == NULL || p > eol)
		return 0;
	while (p < eol && (*p < '0' || *p > '9'))
		p++;
	while (p < eol && *p >= '0' && *p <= '9' && n < 100000000)
		n = n * 10 + (*p++ - '0');
	return n;
}

static void
pgc_trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* An error raised by libpq (no result): the connection, unless it is still fine. */
static int
pgc_conn_error(struct pgconn *c, const char *what, struct pgerr *e)
{
	const char *m = c->pg ? PQerrorMessage(c->pg) : "";

	memset(e, 0, sizeof(*e));
	e->cls = c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD ? PGE_CONN : PGE_TRANSIENT;
	snprintf(e->msg, sizeof(e->msg), "%s%s%s", what, m[0] ? ": " : "", m);
	pgc_trim(e->msg);
	if (e->cls == PGE_CONN)
		pgconn_close(c);
	return -1;
}

static void
pgc_result_error(struct pgconn *c, const PGresult *res, struct pgerr *e)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *pri = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	char cbuf[240] = "";

	memset(e, 0, sizeof(*e));
	if (pri == NULL)
		pri = PQresultErrorMessage(res);
	e->cls = PQstatus(c->pg) == CONNECTION_BAD ? PGE_CONN : pgconn_classify(st);
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", st ? st : "");
	e->copy_line = pgconn_copy_line(ctx);
	if (ctx != NULL) {
		size_t n = strcspn(ctx, "\n");
		snprintf(cbuf, sizeof(cbuf), "; %.*s%s", (int)(n > 200 ? 200 : n), ctx,
		    n > 200 ? "..." : "");
	}
	snprintf(e->msg, sizeof(e->msg), "%s (SQLSTATE %s)%s", pri, st ? st : "none", cbuf);
	pgc_trim(e->msg);
	if (e->cls == PGE_CONN)
		pgconn_close(c);
}

static int
pgc_abort_check(struct pgconn *c, int64_t deadline, struct pgerr *e)
{
	if (c->o.abort_cb != NULL && c->o.abort_cb(c->o.abort_arg)) {
		memset(e, 0, sizeof(*e));
		e->cls = PGE_ABORTED;
		snprintf(e->msg, sizeof(e->msg), "stopped at the shutdown deadline");
		pgconn_close(c);
		return -1;
	}
	if (pgc_now_ms() >= deadline) {
		memset(e, 0, sizeof(*e));
		e->cls = PGE_CONN;
		snprintf(e->msg, sizeof(e->msg), "no answer from PostgreSQL (%s) within %ld ms",
		    c->target, c->o.timeout_ms);
		pgconn_close(c);
		return -1;
	}
	return 0;
}

/* Wait (at most 100 ms) for the socket; -1 when aborted or past the deadline. */
static int
pgc_wait(struct pgconn *c, short events, int64_t deadline, struct pgerr *e)
{
	struct pollfd p;
	int64_t left = deadline - pgc_now_ms();

	p.fd = PQsocket(c->pg);
	p.events = events;
	p.revents = 0;
	if (p.fd < 0)
		return pgc_conn_error(c, "no socket", e);
	metricsd_poll(c->md, &p, 1, left <= 0 ? 0 : left > 100 ? 100 : (int)left);
	return pgc_abort_check(c, deadline, e);
}

static int
pgc_flush(struct pgconn *c, int64_t deadline, struct pgerr *e)
{
	int r;

	while ((r = PQflush(c->pg)) == 1) {
		if (pgc_wait(c, POLLIN | POLLOUT, deadline, e) == -1)
			return -1;
		if (!PQconsumeInput(c->pg))
			return pgc_conn_error(c, "reading from PostgreSQL", e);
	}
	return r == 0 ? 0 : pgc_conn_error(c, "writing to PostgreSQL", e);
}

/* The next result, waiting for it; *res NULL when there are no more. */
static int
pgc_result(struct pgconn *c, PGresult **res, int64_t deadline, struct pgerr *e)
{
	while (PQisBusy(c->pg)) {
		if (pgc_wait(c, POLLIN, deadline, e) == -1)
			return -1;
		if (!PQconsumeInput(c->pg))
			return pgc_conn_error(c, "reading from PostgreSQL", e);
	}
	*res = PQgetResult(c->pg);
	return 0;
}

static void
pgc_noticed_cb(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;   /* "relation ... already exists, skipping" and the like */
}

int
pgconn_connect(struct pgconn *c, struct pgerr *e)
{
	const char *kw[] = { "application_name", "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", "client_encoding", NULL };
	const char *val[] = { "furrow-pg-sink", "1", "30", "10", "3", c->o.url, "UTF8", NULL };
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t deadline = pgc_now_ms() + c->o.connect_timeout_ms;

	if (pgconn_connected(c))
		return 0;
	pgconn_close(c);
	/* keywords are applied in order: what the URL sets overrides the keep-alives, and the
	 * client encoding (pg-sink writes UTF-8) overrides the URL */
	c->pg = PQconnectStartParams(kw, val, 1);
	if (c->pg == NULL) {
		memset(e, 0, sizeof(*e));
		e->cls = PGE_TRANSIENT;
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD)
		return pgc_conn_error(c, "connecting", e);
	for (;;) {
		if (st == PGRES_POLLING_OK)
			break;
		if (st == PGRES_POLLING_FAILED)
			return pgc_conn_error(c, "connecting", e);
		if (pgc_wait(c, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline, e) == -1) {
			if (e->cls == PGE_CONN)
				snprintf(e->msg, sizeof(e->msg), "connecting: timed out after %ld ms",
				    c->o.connect_timeout_ms);
			return -1;
		}
		st = PQconnectPoll(c->pg);
	}
	if (PQsetnonblocking(c->pg, 1) != 0)
		return pgc_conn_error(c, "non-blocking mode", e);
	PQsetNoticeProcessor(c->pg, pgc_noticed_cb, NULL);
	snprintf(c->target, sizeof(c->target), "%s:%s/%s as %s", PQhost(c->pg), PQport(c->pg),
	    PQdb(c->pg), PQuser(c->pg));
	return 0;
}

/* Collect every result of the statement in flight. want_copy: stop at PGRES_COPY_IN. */
static int
pgc_finish(struct pgconn *c, int want_copy, long *rows, struct buf *out, int64_t deadline,
    struct pgerr *e)
{
	PGresult *res = NULL;
	int failed = 0;

	for (;;) {
		if (pgc_result(c, &res, deadline, e) == -1)
			return -1;
		if (res == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:
			if (rows)
				*rows = atol(PQcmdTuples(res));
			break;
		case PGRES_TUPLES_OK:
			if (rows)
				*rows = PQntuples(res);
			if (out != NULL) {
				int i;
				for (i = 0; i < PQntuples(res); i++)
					if (buf_append_str(out, PQgetisnull(res, i, 0) ? "" :
					    PQgetvalue(res, i, 0)) == -1 || buf_append_byte(out, '\n') == -1)
						failed = 1;
			}
			break;
		case PGRES_COPY_IN:
			PQclear(res);
			if (want_copy && !failed)
				return 0;
			/* not expected here: end it */
			PQputCopyEnd(c->pg, "unexpected COPY");
			continue;
		case PGRES_FATAL_ERROR:
			if (!failed)
				pgc_result_error(c, res, e);
			failed = 1;
			if (c->pg == NULL) {
				PQclear(res);
				return -1;
			}
			break;
		default:
			break;
		}
		PQclear(res);
	}
	if (failed && e->msg[0] == '\0') {
		e->cls = PGE_TRANSIENT;
		snprintf(e->msg, sizeof(e->msg), "out of memory reading a result");
	}
	if (!failed && want_copy) {
		memset(e, 0, sizeof(*e));
		e->cls = PGE_SCHEMA;
		snprintf(e->msg, sizeof(e->msg), "the server did not start COPY");
		return -1;
	}
	return failed ? -1 : 0;
}

int
pgconn_exec(struct pgconn *c, const char *sql, int nparams, const char *const *params,
    long *rows, struct buf *out, struct pgerr *e)
{
	int64_t deadline = pgc_now_ms() + c->o.timeout_ms;
	int ok;

	memset(e, 0, sizeof(*e));
	if (!pgconn_connected(c))
		return pgc_conn_error(c, "not connected", e);
	ok = nparams > 0 ? PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0) :
	    PQsendQuery(c->pg, sql);
	if (!ok)
		return pgc_conn_error(c, "sending a statement", e);
	if (pgc_flush(c, deadline, e) == -1)
		return -1;
	return pgc_finish(c, 0, rows, out, deadline, e);
}

int
pgconn_copy_begin(struct pgconn *c, const char *sql, struct pgerr *e)
{
	int64_t deadline = pgc_now_ms() + c->o.timeout_ms;

	memset(e, 0, sizeof(*e));
	if (!pgconn_connected(c))
		return pgc_conn_error(c, "not connected", e);
	if (!PQsendQuery(c->pg, sql))
		return pgc_conn_error(c, "sending COPY", e);
	if (pgc_flush(c, deadline, e) == -1)
		return -1;
	return pgc_finish(c, 1, NULL, NULL, deadline, e);
}

int
pgconn_copy_put(struct pgconn *c, const char *data, size_t len, struct pgerr *e)
{
	int64_t deadline = pgc_now_ms() + c->o.timeout_ms;

	if (c->pg == NULL)
		return pgc_conn_error(c, "not connected", e);
	while (len > 0) {
		int n = len > PGCONN_PUT_CHUNK ? PGCONN_PUT_CHUNK : (int)len;
		int r = PQputCopyData(c->pg, data, n);

		if (r == -1)
			return pgc_conn_error(c, "sending COPY data", e);
		if (r == 0) {          /* libpq's buffer is full: let the socket drain */
			if (pgc_flush(c, deadline, e) == -1)
				return -1;
			if (pgc_wait(c, POLLOUT, deadline, e) == -1)
				return -1;
			continue;
		}
		data += n;
		len -= (size_t)n;
		deadline = pgc_now_ms() + c->o.timeout_ms;   /* progress */
	}
	return 0;
}

int
pgconn_copy_end(struct pgconn *c, long *rows, struct pgerr *e)
{
	int64_t deadline = pgc_now_ms() + c->o.timeout_ms;
	int r;

	memset(e, 0, sizeof(*e));
	if (c->pg == NULL)
		return pgc_conn_error(c, "not connected", e);
	while ((r = PQputCopyEnd(c->pg, NULL)) == 0)
		if (pgc_flush(c, deadline, e) == -1 || pgc_wait(c, POLLOUT, deadline, e) == -1)
			return -1;
	if (r == -1)
		return pgc_conn_error(c, "ending COPY", e);
	if (pgc_flush(c, deadline, e) == -1)
		return -1;
	return pgc_finish(c, 0, rows, NULL, deadline, e);
}
