/*
 * pg_conn: pg-sink's one PostgreSQL connection, over libpq in non-blocking mode, so that every
 * wait (connecting, a statement, COPY data that the server is slow to take) can be cut short by
 * a shutdown deadline or a hung server's timeout instead of blocking the process.
 *
 * Errors come back classified (pgerr_class), because what pg-sink does next depends on the
 * class rather than on the message: a lost connection or a busy server is retried with
 * back-off, a value PostgreSQL refuses fails only its row, the unique key of a replayed event
 * switches the batch to the de-duplicating path, a missing table or column makes pg-sink look
 * at the catalog again. The SQLSTATE classes are PostgreSQL's (Appendix A, "PostgreSQL Error
 * Codes").
 *
 * Passwords: --url may be a URI or a keyword string; one that carries a password is refused
 * (pgconn_check_url), so a password only ever comes from PGPASSWORD, a passfile or .pgpass,
 * which libpq reads itself. Nothing here logs the URL; messages name host, port, database and
 * user.
 */
#ifndef PG_CONN_H
#define PG_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum pgerr_class {
	PGE_OK = 0,
	PGE_CONN,        /* no connection, lost, timed out: reconnect and retry */
	PGE_TRANSIENT,   /* the server is busy, short of resources, or refuses for now: retry */
	PGE_DATA,        /* a value or row the database refuses (SQLSTATE classes 22, 23, 54) */
	PGE_KEY,         /* a unique violation (23505): a replay, when it is the events key */
	PGE_SCHEMA,      /* a table, column or type is not as expected (class 42) */
	PGE_ABORTED,     /* stopped by the shutdown deadline */
};

struct pgerr {
	enum pgerr_class cls;
	char             sqlstate[6];
	long             copy_line;   /* "COPY x, line N" in the context: N, else 0 */
	char             msg[1024];   /* "ERROR: ... (SQLSTATE xxxxx)" or a libpq message */
};

struct pgconn_opts {
	const char *url;             /* libpq URI or keyword string; "" for libpq's defaults */
	long        connect_timeout_ms;
	long        timeout_ms;      /* longest wait for any one step of a statement */
	int       (*abort_cb)(void *arg);   /* 1: give up now (shutdown deadline) */
	void       *abort_arg;
};

struct pgconn;

/* Check --url: it must parse, and must not carry a password. Returns 0, or -1 with err set
 * (never echoing a password). */
int pgconn_check_url(const char *url, char *err, size_t errlen);

struct pgconn *pgconn_new(const struct pgconn_opts *o);
/* /metrics and /health (metricsd.h): served while the connection waits on its socket (md may
 * be NULL); and the peer's state as the loader saw it: failing since when (monotonic ms, 0: not),
 * with the last error. */
struct metricsd;
void pgconn_set_metricsd(struct pgconn *c, struct metricsd *md);
struct metricsd *pgconn_metricsd(const struct pgconn *c);
void pgconn_note(struct pgconn *c, int ok, const char *error);
int64_t pgconn_failing_since(const struct pgconn *c, const char **last_error);
void pgconn_free(struct pgconn *c);
/* Connect unless connected. 0, or -1 with e filled. */
int pgconn_connect(struct pgconn *c, struct pgerr *e);
int pgconn_connected(const struct pgconn *c);
/* Drop the connection (the server rolls back what was open). */
void pgconn_close(struct pgconn *c);
/* "host:port/dbname as user" of the connection, for logs. */
const char *pgconn_target(const struct pgconn *c);

/*
 * Run one statement (no COPY). params may be NULL (nparams 0); with params the statement is
 * sent with the extended protocol ($1, $2 ... as text). On success returns 0 and, when rows is
 * not NULL, sets *rows to the affected row count of the command tag (INSERT 0 n: n). When
 * out is not NULL the first column of every result row is appended to it, one per line
 * (NULL as an empty line). -1 with e filled on failure.
 */
int pgconn_exec(struct pgconn *c, const char *sql, int nparams, const char *const *params,
    long *rows, struct buf *out, struct pgerr *e);

/* COPY ... FROM STDIN: start, send data (whole lines), end. pgconn_copy_end gives the row
 * count. After a failed put, call pgconn_copy_end anyway: it collects the server's error. */
int pgconn_copy_begin(struct pgconn *c, const char *sql, struct pgerr *e);
int pgconn_copy_put(struct pgconn *c, const char *data, size_t len, struct pgerr *e);
int pgconn_copy_end(struct pgconn *c, long *rows, struct pgerr *e);

/* The class of a SQLSTATE (exposed for tests). */
enum pgerr_class pgconn_classify(const char *sqlstate);
/* The line number of a COPY error context ("COPY events, line 3, column app_id: ..."), or 0.
 * Only the number is read, so translated messages work too. */
long pgconn_copy_line(const char *context);

#endif
