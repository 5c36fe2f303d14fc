/*
 * httpd: the HTTP/1.x server the stages share (the collector's front door, iglu-server's API),
 * on plain libevent events. It started as the collector's own server and moved here unchanged.
 *
 * A small purpose-built server rather than evhttp, because the collector must answer 414 for an
 * over-long request line and 431 for an over-large header block (collector.md §10.1, §13), must
 * keep the original spelling and order of every header for the payload (§8), must put a deadline
 * on a whole request so that a client sending one byte per second cannot hold a connection
 * forever, and must not allocate per request on the hot path.
 *
 * The parser (httpd_parse_head, in httpd_parse.c) is a pure function over a byte buffer so that
 * it can be unit tested and fuzzed. The server (httpd.c) owns connections: it reads, frames
 * requests (Content-Length or chunked bodies, Expect: 100-continue, keep-alive and pipelining),
 * hands each complete request to one handler callback, writes the response, and enforces the connection cap, the idle and
 * request timeouts and the size limits. At the cap it keeps accepting: the new connection takes
 * the place of the least recently active one that is idle or still sending its head, so silent
 * or slowloris connections cannot lock other clients out.
 *
 * A server can speak TLS instead (httpd_config.tls): OpenSSL then sits between the socket and
 * the same buffers, limits and timeouts; a TLS handshake is part of the first request's deadline.
 */
#ifndef FURROW_HTTPD_H
#define FURROW_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct event_base;
struct httpd_conn;
struct tlsctx;

#define HTTPD_MAX_HEADERS   128
#define HTTPD_INCOMPLETE    1

struct httpd_header {
	const char *name;
	size_t      name_len;
	const char *value;      /* leading and trailing blanks removed */
	size_t      value_len;
};

struct httpd_limits {
	size_t max_request_line;   /* bytes of the request line without CRLF; longer: 414 */
	size_t max_headers;        /* bytes of the header block after the request line; larger: 431 */
	size_t max_body;           /* request body; larger: 413 */
};

struct httpd_request {
	const char *method;
	size_t      method_len;
	const char *target;         /* raw request-target, e.g. "/i?e=pv" */
	size_t      target_len;
	int         minor;          /* HTTP/1.minor */
	struct httpd_header headers[HTTPD_MAX_HEADERS];
	size_t      n_headers;
	size_t      head_len;       /* request line + headers + empty line, in bytes */
	/* framing, from the headers */
	int64_t     content_length; /* -1: none */
	int         chunked;
	int         keep_alive;
	int         expect_continue;
	/* filled by the server before the handler runs */
	const char *body;
	size_t      body_len;
	int         has_body;       /* Content-Length or chunked was given */
	const char *peer;           /* peer address text, "" if unknown */
	int64_t     time_ms;        /* arrival time, ms since the epoch */
	struct httpd_conn *conn;    /* the connection: the handle of a held answer (httpd_release) */
};

/*
 * Parse the request line and headers at buf[0..len). Returns 0 when the head is complete (req
 * filled, head_len set), HTTPD_INCOMPLETE when more bytes are needed (the limits have been
 * checked on what is there), or an HTTP status for a request that must be refused: 400 (also an
 * HTTP/1.1 request without exactly one valid Host, and a method with lower-case letters), 413
 * (Content-Length over max_body), 414, 431, 501 (unknown transfer coding), 505.
 */
int httpd_parse_head(const char *buf, size_t len, const struct httpd_limits *lim,
    struct httpd_request *req);

/* Case-insensitive header lookup; returns the first occurrence or NULL. */
const struct httpd_header *httpd_header_get(const struct httpd_request *req,
    const char *name);

/* Standard reason phrase for a status code. */
const char *httpd_reason(int status);

/*
 * The handler's answer. headers holds extra "Name: value\r\n" lines; the server adds the status
 * line, Date, Content-Length and Connection.
 *
 * Answering later: a handler that sets hold keeps the connection waiting. The server stages the
 * answer it was given (none when status is 0) without sending it, reads no further request from
 * that connection, and sends it when the holder calls httpd_release(req->conn, ...), possibly
 * with another answer in its place. The collector holds the requests of one event-loop turn
 * until their records are appended to its log with one write (a 200, or a 503 in place when the
 * write failed); a long poll holds a request until its data is there. The request's views
 * (target, headers, body) are valid during the handler only: copy what the answer needs.
 */
struct httpd_response {
	int          status;
	struct buf  *headers;
	const char  *body;
	size_t       body_len;
	int          close;        /* close the connection after this response */
	int          hold;         /* answer later: see httpd_release */
};

typedef void (*httpd_handler_cb)(const struct httpd_request *req,
    struct httpd_response *resp, void *arg);
/* A held request's client closed its side or its connection failed. The hold stands until
 * httpd_release; the answer is most likely lost, so the holder may release at once. */
typedef void (*httpd_gone_cb)(struct httpd_conn *conn, void *arg);

struct httpd_config {
	struct httpd_limits limits;
	unsigned max_connections;
	unsigned request_timeout_s;   /* accept or first byte of a request to its end; then 408 */
	unsigned idle_timeout_s;      /* keep-alive connection between requests */
	httpd_handler_cb handler;
	void *handler_arg;
	httpd_gone_cb gone;           /* optional; called with handler_arg */
	/* Non-NULL: every connection speaks TLS with this context (tlsctx.h), which the caller
	 * keeps alive and may reload. The TLS handshake counts as part of the first request: it
	 * must finish within request_timeout_s like the request itself. */
	struct tlsctx *tls;
};

struct httpd_stats {
	uint64_t connections;         /* accepted */
	uint64_t evicted;             /* idle or slow connections closed to make room (cap, EMFILE) */
	uint64_t timeouts;            /* 408 or idle closes */
	uint64_t parse_errors;        /* 4xx/5xx answered by the server itself */
	uint64_t tls_handshake_errors;   /* TLS handshakes that failed (not timeouts) */
	uint64_t by_status[600];      /* the same, by status code */
	unsigned open;                /* currently open */
};

struct httpd_server;

/* Bind and listen. Returns NULL with a reason in err. */
struct httpd_server *httpd_server_new(struct event_base *base, const char *bind_addr,
    int port, const struct httpd_config *cfg, char *err, size_t errlen);
/* Port actually bound (useful with port 0). */
int httpd_server_port(const struct httpd_server *s);
/* Stop accepting; idle connections are closed, busy ones finish their request and close. */
void httpd_server_stop_accepting(struct httpd_server *s);
/* Number of open connections. */
unsigned httpd_server_open(const struct httpd_server *s);
const struct httpd_stats *httpd_server_stats(const struct httpd_server *s);
/*
 * Send a held request's answer: resp, or with resp NULL the answer staged at hold time. Every
 * hold is released exactly once; the handle is invalid afterwards. Returns 0 when the answer is
 * on its way, HTTPD_GONE when the connection had failed (the answer is dropped, the connection
 * closed), -1 when there is no answer to send (resp NULL, nothing staged: the connection is
 * closed). The connection then reads its next request, which may call the handler at once.
 */
#define HTTPD_GONE 2
int httpd_release(struct httpd_conn *conn, const struct httpd_response *resp);
/* Number of requests held at the moment. */
unsigned httpd_server_held(const struct httpd_server *s);
/* Close every connection and free the server (held ones too: release them first). */
void httpd_server_free(struct httpd_server *s);
/* Count of responses by status class is kept by the handler; the server reports its own. */

#endif
