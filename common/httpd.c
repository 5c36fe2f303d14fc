/*
 * httpd: the HTTP/1.x server's connections (see httpd.h): accept, read, frame, answer, time
 * out, evict. The request head is parsed by httpd_parse.c.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "timefmt.h"
#include "tlsctx.h"

#define RBUF_INITIAL   8192
#define RBUF_KEEP      65536          /* a buffer larger than this is shrunk between requests */
#define WBUF_INITIAL   2048
#define LINGER_SECONDS 2
#define LINGER_BYTES   (1u << 20)

enum conn_state {
	CONN_IDLE,        /* waiting for the first byte of a request */
	CONN_HEAD,        /* reading the request line and headers */
	CONN_BODY,        /* reading the body */
	CONN_LINGER,      /* response sent, write side shut, discarding input before close */
	CONN_HELD,        /* request handed over, its answer held until httpd_release */
};

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

struct httpd_conn {
	struct httpd_server *srv;
	struct httpd_conn *next, *prev;
	int fd;
	struct event *ev_read, *ev_write, *ev_timer;
	SSL *ssl;                   /* NULL on a plain listener */
	int ssl_read_wants_write;   /* SSL_read needs the socket writable (handshake) */
	int ssl_write_wants_read;   /* SSL_write needs the socket readable */
	int ssl_dead;               /* fatal TLS error: no close_notify */
	enum conn_state state;
	int closing;                /* close once the write buffer is empty */
	int reading_paused;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, woff, wcap;
	struct httpd_request req;
	int have_head;
	int head_stale;             /* rbuf moved since the head was parsed: views must be redone */
	size_t body_need;           /* Content-Length framing: total body bytes */
	/* chunked decoding, in place: decoded bytes at [head_len, head_len + dec), raw parse at pos */
	enum chunk_state ch;
	size_t ch_left, ch_pos, ch_dec;
	int sent_continue;
	int64_t deadline_ms;        /* when the timer should act */
	int64_t armed_ms;           /* when the timer is set to fire */
	int linger_needed;          /* unread input may follow: linger before closing */
	int64_t req_start_ms;
	size_t lingered;
	/* a held answer (CONN_HELD): staged at wbuf[held_at, wlen), sent from release on */
	size_t held_at;
	int held_staged;            /* an answer was given at hold time */
	int held_head_only, held_minor, held_keep;
	int peer_eof;               /* the client closed its side while held */
	int peer_failed;            /* the connection failed while held: close at release */
	char peer[INET6_ADDRSTRLEN];
};

struct httpd_server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct httpd_config cfg;
	struct httpd_conn *conns;     /* most recently active first ... */
	struct httpd_conn *conns_tail;   /* ... least recently active last */
	struct httpd_conn *free_conns;
	unsigned n_free;
	int stopping;
	int freeing;                /* httpd_server_free: held connections close too */
	int port;
	int paused;
	int nodelay_inherited;      /* accepted sockets get TCP_NODELAY from the listener */
	unsigned n_held;
	struct httpd_stats stats;
	struct buf hdrs;            /* the handler's header scratch, reused */
};

static void conn_close(struct httpd_conn *c);
static void server_resume_accepting(struct httpd_server *s);
static void server_pause_if_full(struct httpd_server *s, const struct httpd_conn *spare);
static void conn_process(struct httpd_conn *c);
static void conn_flush(struct httpd_conn *c);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);

/* The open connections form a list by activity: a connection goes to the front when it is
 * accepted and each time it completes a request, so the back holds those that have done the
 * least for the longest (at a flood of silent or slowloris connections, the attackers). */
static void
conn_list_unlink(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->conns_tail = c->prev;
	c->next = c->prev = NULL;
}

static void
conn_list_push_front(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;

	c->prev = NULL;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	else
		s->conns_tail = c;
	s->conns = c;
}

static void
conn_touch(struct httpd_conn *c)
{
	if (c->srv->conns != c) {
		conn_list_unlink(c);
		conn_list_push_front(c);
	}
}

static int64_t
now_ms(struct httpd_server *s)
{
	struct timeval tv;

	event_base_gettimeofday_cached(s->base, &tv);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Date header value, recomputed once a second. */
static const char *
http_date(void)
{
	static char cached[TIMEFMT_BUFSZ];
	static time_t cached_at = -1;
	time_t t = time(NULL);

	if (t != cached_at) {
		timefmt_http(t, cached);
		cached_at = t;
	}
	return cached;
}

static void
conn_arm_timer(struct httpd_conn *c, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	c->deadline_ms = now_ms(c->srv) + (int64_t)seconds * 1000;
	c->armed_ms = c->deadline_ms;
	evtimer_add(c->ev_timer, &tv);
}

/* The timer is moved lazily: a later deadline only updates deadline_ms, and the timer re-arms
 * for the remainder when it fires early, so most keep-alive requests never touch the timer
 * heap. An earlier deadline re-arms at once. */
static void
conn_set_deadline(struct httpd_conn *c, unsigned seconds)
{
	int64_t d = now_ms(c->srv) + (int64_t)seconds * 1000;

	if (d < c->armed_ms)
		conn_arm_timer(c, seconds);
	else
		c->deadline_ms = d;
}

/*
 * The connection's byte stream: the socket itself, or OpenSSL over it. Both return what recv(2)
 * and send(2) return: n > 0, 0 at the end of the stream, -1 with errno (EAGAIN: wait for the
 * event). TLS may need the other direction first (a handshake record to send before any data can
 * be read, say): that is noted and the matching event waits for it.
 */
static ssize_t
conn_tls_result(struct httpd_conn *c, int n, int writing)
{
	int e = SSL_get_error(c->ssl, n);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (writing)
			c->ssl_write_wants_read = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (!writing) {
			c->ssl_read_wants_write = 1;
			event_add(c->ev_write, NULL);
		}
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;          /* close_notify, or an EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
	case SSL_ERROR_SYSCALL:
		c->ssl_dead = 1;
		if (errno == 0 || errno == EAGAIN)
			errno = ECONNRESET;
		return -1;
	default:
		/* a failed handshake (bad client hello, plain HTTP, unknown CA alert) or a bad record */
		c->ssl_dead = 1;
		if (!SSL_is_init_finished(c->ssl))
			c->srv->stats.tls_handshake_errors++;
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
conn_recv(struct httpd_conn *c, char *p, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return recv(c->fd, p, len, 0);
	if (len > INT32_MAX)
		len = INT32_MAX;
	ERR_clear_error();
	n = SSL_read(c->ssl, p, (int)len);
	return n > 0 ? n : conn_tls_result(c, n, 0);
}

static ssize_t
conn_send(struct httpd_conn *c, const char *p, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return send(c->fd, p, len, MSG_NOSIGNAL);
	if (len > INT32_MAX)
		len = INT32_MAX;
	ERR_clear_error();
	n = SSL_write(c->ssl, p, (int)len);
	return n > 0 ? n : conn_tls_result(c, n, 1);
}

/* Send close_notify once, where TLS still works; never blocks (best effort, like FIN). */
static void
conn_tls_shutdown(struct httpd_conn *c)
{
	if (c->ssl && !c->ssl_dead && SSL_is_init_finished(c->ssl) &&
	    !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
}

static int
wbuf_reserve(struct httpd_conn *c, size_t n)
{
	size_t need, ncap;
	char *p;

	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = c->held_at = 0;
	need = c->wlen + n;
	if (need <= c->wcap)
		return 0;
	ncap = c->wcap ? c->wcap : WBUF_INITIAL;
	while (ncap < need)
		ncap *= 2;
	p = realloc(c->wbuf, ncap);
	if (p == NULL)
		return -1;
	c->wbuf = p;
	c->wcap = ncap;
	return 0;
}

static int
wbuf_add(struct httpd_conn *c, const void *p, size_t n)
{
	if (wbuf_reserve(c, n) == -1)
		return -1;
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

static int
wbuf_str(struct httpd_conn *c, const char *s)
{
	return wbuf_add(c, s, strlen(s));
}

static int
wbuf_num(struct httpd_conn *c, unsigned long long v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return wbuf_add(c, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Serialise a response into the write buffer. */
static int
conn_write_response(struct httpd_conn *c, const struct httpd_response *r, int head_only,
    int minor, int keep_alive)
{
	if (wbuf_str(c, minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ") == -1 ||
	    wbuf_num(c, (unsigned)r->status) == -1 || wbuf_str(c, " ") == -1 ||
	    wbuf_str(c, httpd_reason(r->status)) == -1 ||
	    wbuf_str(c, "\r\nDate: ") == -1 || wbuf_str(c, http_date()) == -1 ||
	    wbuf_str(c, "\r\n") == -1)
		return -1;
	if (r->headers && r->headers->len && wbuf_add(c, r->headers->data, r->headers->len) == -1)
		return -1;
	if (wbuf_str(c, "Content-Length: ") == -1 || wbuf_num(c, r->body_len) == -1 ||
	    wbuf_str(c, "\r\n") == -1)
		return -1;
	if (!keep_alive) {
		if (wbuf_str(c, "Connection: close\r\n") == -1)
			return -1;
	} else if (minor == 0 && wbuf_str(c, "Connection: keep-alive\r\n") == -1) {
		return -1;
	}
	if (wbuf_str(c, "\r\n") == -1)
		return -1;
	if (!head_only && r->body_len && wbuf_add(c, r->body, r->body_len) == -1)
		return -1;
	return 0;
}

/* A response the server makes itself (parse errors, limits, timeouts); always closes. */
static void
conn_error(struct httpd_conn *c, int status)
{
	struct httpd_response r;
	const char *body = httpd_reason(status);

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = body;
	r.body_len = strlen(body);
	c->srv->stats.parse_errors++;
	if (status >= 0 && status < 600)
		c->srv->stats.by_status[status]++;
	if (status == 408)
		c->srv->stats.timeouts++;
	buf_reset(&c->srv->hdrs);
	buf_append_str(&c->srv->hdrs, "Content-Type: text/plain\r\n");
	r.headers = &c->srv->hdrs;
	conn_write_response(c, &r, 0, 1, 0);
	c->closing = 1;
	c->linger_needed = 1;
	c->have_head = 0;
	c->rlen = 0;
	conn_flush(c);
}

static void
conn_pause_reading(struct httpd_conn *c, int pause)
{
	if (pause && !c->reading_paused) {
		event_del(c->ev_read);
		c->reading_paused = 1;
	} else if (!pause && c->reading_paused) {
		event_add(c->ev_read, NULL);
		c->reading_paused = 0;
		if (c->ssl && SSL_has_pending(c->ssl))
			event_active(c->ev_read, EV_READ, 1);
	}
}

/* Start the lingering close: shut our side, discard what the client still sends, for a while. */
static void
conn_linger(struct httpd_conn *c)
{
	conn_tls_shutdown(c);
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->lingered = 0;
	conn_pause_reading(c, 0);
	conn_arm_timer(c, LINGER_SECONDS);
}

static void
conn_flush(struct httpd_conn *c)
{
	/* a held answer stays in the buffer: only the answers before it go out */
	size_t end = c->state == CONN_HELD ? c->held_at : c->wlen;
	ssize_t n;

	while (c->woff < end) {
		n = conn_send(c, c->wbuf + c->woff, end - c->woff);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && c->ssl_write_wants_read) {
			/* TLS must read before it can write: the read event calls back here */
			conn_pause_reading(c, 0);
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(c->ev_write, NULL);
			if (c->state == CONN_HELD)
				return;
			/* do not read further requests while the client does not read answers */
			conn_pause_reading(c, 1);
			if (c->state == CONN_IDLE)
				conn_set_deadline(c, c->srv->cfg.request_timeout_s);
			return;
		}
		conn_close(c);
		return;
	}
	if (!c->ssl_read_wants_write)
		event_del(c->ev_write);
	if (c->state == CONN_HELD)
		return;
	c->woff = c->wlen = 0;
	if (c->closing) {
		if (c->state == CONN_LINGER)
			return;
		if (c->linger_needed || c->rlen > 0)
			conn_linger(c);
		else
			conn_close(c);
		return;
	}
	if (c->reading_paused) {
		conn_pause_reading(c, 0);
		if (c->rlen > 0) {
			conn_process(c);
			return;
		}
	}
	/* shutting down: a connection with nothing in progress is done */
	if (c->srv->stopping && c->state == CONN_IDLE && c->rlen == 0)
		conn_close(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;

	(void)what;
	if (c->ssl_read_wants_write) {
		c->ssl_read_wants_write = 0;
		if (c->woff == c->wlen)
			event_del(c->ev_write);
		if (!c->reading_paused)
			conn_read_cb(fd, EV_READ, c);
		if (c->fd < 0 || c->woff == c->wlen)
			return;
	}
	conn_flush(c);
}

static void
conn_reset_request(struct httpd_conn *c)
{
	c->have_head = 0;
	c->head_stale = 0;
	c->sent_continue = 0;
	c->body_need = 0;
	c->ch = CH_SIZE;
	c->ch_left = c->ch_pos = c->ch_dec = 0;
}

/*
 * Decode chunked data in place. Returns 1 when the body is complete, 0 when more is needed,
 * or an HTTP status on a framing error.
 */
static int
conn_dechunk(struct httpd_conn *c)
{
	const struct httpd_limits *lim = &c->srv->cfg.limits;
	char *base = c->rbuf + c->req.head_len;
	size_t avail = c->rlen - c->req.head_len;

	for (;;) {
		char *nl;
		size_t n;

		switch (c->ch) {
		case CH_SIZE:
			nl = memchr(base + c->ch_pos, '\n', avail - c->ch_pos);
			if (nl == NULL)
				return avail - c->ch_pos > 1024 ? 400 : 0;
			{
				size_t v = 0, digits = 0;
				char *q = base + c->ch_pos;

				while (q < nl) {
					int d;
					if (*q >= '0' && *q <= '9') d = *q - '0';
					else if (*q >= 'a' && *q <= 'f') d = *q - 'a' + 10;
					else if (*q >= 'A' && *q <= 'F') d = *q - 'A' + 10;
					else break;
					if (v > (SIZE_MAX >> 5))
						return 413;
					v = v * 16 + (size_t)d;
					digits++;
					q++;
				}
				if (digits == 0 || (q < nl && *q != ';' && *q != '\r' && *q != ' ' && *q != '\t'))
					return 400;
				if (v > lim->max_body || c->ch_dec + v > lim->max_body)
					return 413;
				c->ch_left = v;
				c->ch_pos = (size_t)(nl + 1 - base);
				c->ch = v ? CH_DATA : CH_TRAILER;
			}
			break;
		case CH_DATA:
			n = avail - c->ch_pos;
			if (n > c->ch_left)
				n = c->ch_left;
			if (n == 0)
				return 0;
			memmove(base + c->ch_dec, base + c->ch_pos, n);
			c->ch_dec += n;
			c->ch_pos += n;
			c->ch_left -= n;
			if (c->ch_left == 0)
				c->ch = CH_DATA_END;
			break;
		case CH_DATA_END:
			if (avail - c->ch_pos < 1)
				return 0;
			if (base[c->ch_pos] == '\r') {
				if (avail - c->ch_pos < 2)
					return 0;
				if (base[c->ch_pos + 1] != '\n')
					return 400;
				c->ch_pos += 2;
			} else if (base[c->ch_pos] == '\n') {
				c->ch_pos += 1;
			} else {
				return 400;
			}
			c->ch = CH_SIZE;
			break;
		case CH_TRAILER:
			nl = memchr(base + c->ch_pos, '\n', avail - c->ch_pos);
			if (nl == NULL)
				return avail - c->ch_pos > lim->max_headers ? 431 : 0;
			if (nl == base + c->ch_pos || (nl == base + c->ch_pos + 1 && nl[-1] == '\r')) {
				c->ch_pos = (size_t)(nl + 1 - base);
				c->ch = CH_DONE;
				return 1;
			}
			c->ch_pos = (size_t)(nl + 1 - base);    /* trailer fields are ignored */
			break;
		case CH_DONE:
			return 1;
		}
	}
}

/* The request's bytes are done with: pipelined bytes move to the front. */
static void
conn_consume(struct httpd_conn *c, size_t consumed)
{
	if (consumed < c->rlen)
		memmove(c->rbuf, c->rbuf + consumed, c->rlen - consumed);
	c->rlen -= consumed;
	conn_reset_request(c);
}

/* The answer is in the write buffer: the connection waits for its next request. */
static void
conn_answered(struct httpd_conn *c, int keep)
{
	struct httpd_server *s = c->srv;

	c->state = CONN_IDLE;
	c->req_start_ms = 0;
	conn_set_deadline(c, s->cfg.idle_timeout_s);
	conn_touch(c);
	server_resume_accepting(s);     /* c could make room now */
	if (!keep)
		c->closing = 1;
}

static void
conn_dispatch(struct httpd_conn *c, size_t consumed)
{
	struct httpd_server *s = c->srv;
	struct httpd_response r;
	int head_only, keep;

	memset(&r, 0, sizeof(r));
	buf_reset(&s->hdrs);
	r.headers = &s->hdrs;
	c->req.peer = c->peer;
	c->req.time_ms = c->req_start_ms ? c->req_start_ms : now_ms(s);
	c->req.conn = c;
	s->cfg.handler(&c->req, &r, s->cfg.handler_arg);
	head_only = c->req.method_len == 4 && memcmp(c->req.method, "HEAD", 4) == 0;
	keep = c->req.keep_alive && !r.close && !s->stopping;
	if (r.hold) {
		/* stage the answer behind those already queued; nothing more is read as a request
		 * until httpd_release */
		if (wbuf_reserve(c, 0) == -1)
			goto fail;
		c->held_at = c->wlen;
		c->held_staged = r.status != 0;
		c->held_head_only = head_only;
		c->held_minor = c->req.minor;
		c->held_keep = c->req.keep_alive && !r.close;
		c->peer_eof = c->peer_failed = 0;
		if (c->held_staged &&
		    conn_write_response(c, &r, head_only, c->req.minor, keep) == -1)
			goto fail;
		conn_consume(c, consumed);
		c->state = CONN_HELD;
		s->n_held++;
		return;
	}
	if (conn_write_response(c, &r, head_only, c->req.minor, keep) == -1)
		goto fail;
	conn_consume(c, consumed);
	conn_answered(c, keep);
	return;
fail:
	conn_close(c);
}

int
httpd_release(struct httpd_conn *c, const struct httpd_response *r)
{
	struct httpd_server *s = c->srv;
	int keep;

	if (c->state != CONN_HELD)
		return -1;       /* not held: a holder's bug, do nothing */
	s->n_held--;
	c->state = CONN_BODY;   /* busy until answered; not CONN_HELD, so a close is a close */
	if (c->peer_failed) {
		conn_close(c);
		return HTTPD_GONE;
	}
	keep = c->held_keep && !c->peer_eof && !s->stopping && !(r && r->close);
	if (r) {
		c->wlen = c->held_at;
		if (conn_write_response(c, r, c->held_head_only, c->held_minor, keep) == -1) {
			conn_close(c);
			return -1;
		}
	} else if (!c->held_staged) {
		conn_close(c);
		return -1;
	}
	/* (a staged keep-alive answer is sent as it is when the connection closes after it: the
	 * client sees the close) */
	if (c->peer_eof)
		c->rlen = 0;     /* the client has closed: what it pipelined is not answered */
	conn_answered(c, keep);
	if (c->rlen > 0 && !c->closing)
		conn_process(c);
	else
		conn_flush(c);
	return 0;
}

unsigned
httpd_server_held(const struct httpd_server *s)
{
	return s->n_held;
}

/* Parse and answer every complete request in the read buffer. */
static void
conn_process(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;
	int rc;

	while (c->rlen > 0 && !c->closing && !c->reading_paused && c->state != CONN_HELD) {
		if (!c->have_head) {
			/* tolerate empty lines before a request line (RFC 9112 §2.2) */
			size_t skip = 0;

			while (skip < c->rlen && (c->rbuf[skip] == '\r' || c->rbuf[skip] == '\n'))
				skip++;
			if (skip) {
				memmove(c->rbuf, c->rbuf + skip, c->rlen - skip);
				c->rlen -= skip;
				if (c->rlen == 0)
					break;
			}
			if (c->state == CONN_IDLE) {
				c->state = CONN_HEAD;
				c->req_start_ms = now_ms(s);
				conn_set_deadline(c, s->cfg.request_timeout_s);
			}
			rc = httpd_parse_head(c->rbuf, c->rlen, &s->cfg.limits, &c->req);
			if (rc == HTTPD_INCOMPLETE)
				break;
			if (rc != 0) {
				conn_error(c, rc);
				return;
			}
			c->have_head = 1;
			c->req.has_body = c->req.chunked || c->req.content_length >= 0;
			c->body_need = c->req.content_length > 0 ? (size_t)c->req.content_length : 0;
			c->state = CONN_BODY;
			server_pause_if_full(s, NULL);     /* c is busy now */
		}
		if (c->head_stale) {
			/* the views into rbuf point into the old allocation: parse the head again */
			c->head_stale = 0;
			if (httpd_parse_head(c->rbuf, c->rlen, &s->cfg.limits, &c->req) != 0) {
				conn_error(c, 500);
				return;
			}
		}
		if (c->req.chunked) {
			rc = conn_dechunk(c);
			if (rc > 1) {
				conn_error(c, rc);
				return;
			}
			if (rc == 0) {
				if (c->req.expect_continue && !c->sent_continue) {
					c->sent_continue = 1;
					wbuf_str(c, "HTTP/1.1 100 Continue\r\n\r\n");
					conn_flush(c);
				}
				break;
			}
			c->req.body = c->rbuf + c->req.head_len;
			c->req.body_len = c->ch_dec;
			conn_dispatch(c, c->req.head_len + c->ch_pos);
		} else {
			if (c->rlen - c->req.head_len < c->body_need) {
				if (c->req.expect_continue && !c->sent_continue) {
					c->sent_continue = 1;
					wbuf_str(c, "HTTP/1.1 100 Continue\r\n\r\n");
					conn_flush(c);
				}
				break;
			}
			c->req.body = c->rbuf + c->req.head_len;
			c->req.body_len = c->body_need;
			conn_dispatch(c, c->req.head_len + c->body_need);
		}
		if (c->fd < 0)
			return;
	}
	if (c->fd < 0)
		return;
	if (c->state == CONN_HELD) {
		conn_flush(c);
		return;
	}
	if (c->state == CONN_IDLE && c->rlen == 0 && c->rcap > RBUF_KEEP) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
	if (c->state == CONN_IDLE && c->rlen == 0 && s->stopping && c->wlen == c->woff)
		c->closing = 1;
	conn_flush(c);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;
	struct httpd_server *s = c->srv;
	const struct httpd_limits *lim = &s->cfg.limits;
	size_t hard;
	ssize_t n;

	(void)what;
	if (c->ssl_write_wants_read) {
		c->ssl_write_wants_read = 0;
		conn_flush(c);
		if (c->fd < 0 || c->reading_paused)
			return;
	}
	if (c->state == CONN_LINGER) {
		/* after close_notify (TLS) or FIN: whatever comes is discarded unread */
		char junk[4096];

		n = recv(fd, junk, sizeof(junk), 0);
		if (n > 0)
			c->lingered += (size_t)n;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
		    c->lingered > LINGER_BYTES)
			conn_close(c);
		return;
	}
	if (c->state == CONN_HELD) {
		/* keep reading only to notice a client that goes away; a request that follows
		 * waits in the buffer for the release, and when the buffer is full, reading stops */
		if (c->rcap - c->rlen < 1024) {
			conn_pause_reading(c, 1);
			return;
		}
		n = conn_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);   /* TLS too */
		if (n > 0) {
			c->rlen += (size_t)n;
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n == 0) {
			c->peer_eof = 1;
			conn_pause_reading(c, 1);
			if (s->cfg.gone)
				s->cfg.gone(c, s->cfg.handler_arg);
			return;
		}
		conn_close(c);     /* held: marks it failed and tells the holder */
		return;
	}
	/* the most a request can occupy: line, headers, body, and chunk framing slack */
	hard = lim->max_request_line + lim->max_headers + lim->max_body + lim->max_body / 2 + 65536;
	if (c->rcap - c->rlen < 4096 && c->rcap < hard) {
		size_t ncap = c->rcap ? c->rcap * 2 : RBUF_INITIAL;
		char *p;

		if (c->have_head && !c->req.chunked && c->req.head_len + c->body_need > ncap)
			ncap = c->req.head_len + c->body_need + 4096;
		if (ncap > hard)
			ncap = hard;
		p = realloc(c->rbuf, ncap);
		if (p == NULL) {
			conn_close(c);
			return;
		}
		if (p != c->rbuf && c->have_head)
			c->head_stale = 1;
		c->rbuf = p;
		c->rcap = ncap;
	}
	if (c->rcap == c->rlen) {
		/* cannot happen within the limits; refuse rather than spin */
		conn_error(c, 413);
		return;
	}
	n = conn_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		/* EOF. A request cut short (head or body incomplete) is answered 400 before the close:
		 * after a half-close the client may still be reading (RFC 9112 §6.3: the message is
		 * incomplete). Nothing of a request received: just close. */
		if (c->state == CONN_HEAD || c->state == CONN_BODY) {
			conn_error(c, 400);
			return;
		}
		conn_close(c);
		return;
	}
	c->rlen += (size_t)n;
	conn_process(c);
	/* OpenSSL may hold decrypted bytes the socket will not signal again: come back for them */
	if (c->ssl && c->fd >= 0 && !c->reading_paused && c->state != CONN_LINGER &&
	    SSL_has_pending(c->ssl))
		event_active(c->ev_read, EV_READ, 1);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;
	int64_t now = now_ms(c->srv), left;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (c->state == CONN_LINGER) {
		conn_close(c);
		return;
	}
	if (c->state == CONN_HELD) {
		/* the holder owns the deadline of a held request */
		conn_arm_timer(c, c->srv->cfg.request_timeout_s ? c->srv->cfg.request_timeout_s : 60);
		return;
	}
	left = c->deadline_ms - now;
	if (left > 0) {
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
		c->armed_ms = c->deadline_ms;
		evtimer_add(c->ev_timer, &tv);
		return;
	}
	if (c->state == CONN_IDLE && c->woff == c->wlen) {
		c->srv->stats.timeouts++;
		conn_close(c);
		return;
	}
	if (c->woff < c->wlen) {
		/* the client does not read its answers */
		c->srv->stats.timeouts++;
		conn_close(c);
		return;
	}
	conn_error(c, 408);
	if (c->fd >= 0)
		conn_arm_timer(c, LINGER_SECONDS);
}

static void
conn_close(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;

	if (c->fd < 0)
		return;
	if (c->state == CONN_HELD && !s->freeing) {
		/* the holder still has the handle: the connection stays until the release */
		event_del(c->ev_read);
		event_del(c->ev_write);
		if (!c->peer_failed) {
			c->peer_failed = 1;
			if (s->cfg.gone && !c->peer_eof)
				s->cfg.gone(c, s->cfg.handler_arg);
		}
		return;
	}
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_timer);
	if (c->ssl) {
		conn_tls_shutdown(c);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	conn_list_unlink(c);
	s->stats.open--;
	/* Never freed here: callers up the stack may still look at c->fd. The structure goes to
	 * the free list for reuse; accept_cb trims the list. */
	if (c->rcap > RBUF_KEEP) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
	c->next = s->free_conns;
	c->prev = NULL;
	s->free_conns = c;
	s->n_free++;
	if (s->stats.open < s->cfg.max_connections)
		server_resume_accepting(s);
}

static void
conn_free(struct httpd_conn *c)
{
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_timer);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/*
 * The connection to close to make room for a new one: the least recently active one that has no
 * request under way or is still sending its head (nothing to answer yet, nothing half-answered).
 * A busy connection (a body arriving, an answer being written) is never chosen. NULL when every
 * connection is busy.
 */
static struct httpd_conn *
conn_victim(struct httpd_server *s, const struct httpd_conn *spare)
{
	struct httpd_conn *c;

	for (c = s->conns_tail; c; c = c->prev)
		if (c != spare && c->woff == c->wlen && (c->state == CONN_IDLE ||
		    c->state == CONN_HEAD || c->state == CONN_LINGER))
			return c;
	return NULL;
}

static int
conn_evict_one(struct httpd_server *s)
{
	struct httpd_conn *c = conn_victim(s, NULL);

	if (c == NULL)
		return -1;
	s->stats.evicted++;
	conn_close(c);
	return 0;
}

/* Accepting pauses only at the cap with every connection busy (but spare); it resumes when one
 * closes or finishes a request (and so could make room). */
static void
server_pause_if_full(struct httpd_server *s, const struct httpd_conn *spare)
{
	if (s->stats.open >= s->cfg.max_connections && !s->paused && s->listener &&
	    conn_victim(s, spare) == NULL) {
		evconnlistener_disable(s->listener);
		s->paused = 1;
	}
}

static void
server_resume_accepting(struct httpd_server *s)
{
	if (s->paused && s->listener && !s->stopping) {
		evconnlistener_enable(s->listener);
		s->paused = 0;
	}
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct httpd_server *s = arg;
	struct httpd_conn *c;
	int one = 1;

	(void)l;
	(void)salen;
	if (s->stopping) {
		close(fd);
		return;
	}
	while (s->n_free > 64) {
		c = s->free_conns;
		s->free_conns = c->next;
		s->n_free--;
		conn_free(c);
	}
	/* the listener hands over non-blocking, close-on-exec sockets, with TCP_NODELAY where it
	 * is inherited from the listening socket (httpd_server_new): one system call less */
	if (!s->nodelay_inherited)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->free_conns) {
		c = s->free_conns;
		s->free_conns = c->next;
		s->n_free--;
		event_assign(c->ev_read, s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
		event_assign(c->ev_write, s->base, fd, EV_WRITE, conn_write_cb, c);
	} else {
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		c->srv = s;
		c->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
		c->ev_write = event_new(s->base, fd, EV_WRITE, conn_write_cb, c);
		c->ev_timer = evtimer_new(s->base, conn_timer_cb, c);
		if (!c->ev_read || !c->ev_write || !c->ev_timer) {
			if (c->ev_read) event_free(c->ev_read);
			if (c->ev_write) event_free(c->ev_write);
			if (c->ev_timer) event_free(c->ev_timer);
			free(c);
			close(fd);
			return;
		}
	}
	c->ssl_read_wants_write = c->ssl_write_wants_read = c->ssl_dead = 0;
	if (s->cfg.tls) {
		/* the handshake runs inside the first SSL_read, under the request deadline below: a
		 * client that never finishes it is timed out (or evicted) like a silent one */
		c->ssl = SSL_new(tlsctx_ssl_ctx(s->cfg.tls));
		if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
			ERR_clear_error();
			SSL_free(c->ssl);
			c->ssl = NULL;
			c->next = s->free_conns;
			s->free_conns = c;
			s->n_free++;
			close(fd);
			return;
		}
		SSL_set_accept_state(c->ssl);
	}
	c->fd = fd;
	c->state = CONN_IDLE;
	c->closing = 0;
	c->linger_needed = 0;
	c->reading_paused = 0;
	c->rlen = 0;
	c->wlen = c->woff = 0;
	c->req_start_ms = 0;
	c->held_at = 0;
	c->peer_eof = c->peer_failed = 0;
	conn_reset_request(c);
	c->peer[0] = '\0';
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, c->peer, sizeof(c->peer));
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], c->peer, sizeof(c->peer));
		else
			inet_ntop(AF_INET6, a6, c->peer, sizeof(c->peer));
	}
	/* at the cap, the new connection takes the place of an idle or slow one */
	if (s->stats.open >= s->cfg.max_connections)
		conn_evict_one(s);
	conn_list_push_front(c);
	s->stats.open++;
	s->stats.connections++;
	event_add(c->ev_read, NULL);
	/* nothing sent yet: the request deadline, not the keep-alive one */
	conn_arm_timer(c, s->cfg.request_timeout_s);
	/* the new one is idle, but it must get its chance to send a request rather than be pushed
	 * out by the next */
	server_pause_if_full(s, c);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct httpd_server *s = arg;

	(void)l;
	/* EMFILE and friends: free a descriptor by closing an idle or slow connection (the
	 * listener tries again at once); when every connection is busy, pause accepting until
	 * one closes */
	if ((errno == EMFILE || errno == ENFILE) && conn_evict_one(s) == 0)
		return;
	if (s->stats.open > 0 && !s->paused) {
		evconnlistener_disable(s->listener);
		s->paused = 1;
	}
}

struct httpd_server *
httpd_server_new(struct event_base *base, const char *bind_addr, int port,
    const struct httpd_config *cfg, char *err, size_t errlen)
{
	struct httpd_server *s;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, bind_addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, bind_addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "%s: not an IPv4 or IPv6 address", bind_addr);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->cfg = *cfg;
	if (s->cfg.max_connections == 0)
		s->cfg.max_connections = 1;
	buf_init(&s->hdrs, 1 << 20);
	s->listener = evconnlistener_new_bind(base, accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&ss, (int)sslen);
	if (s->listener == NULL) {
		snprintf(err, errlen, "%s port %d: %s", bind_addr, port, strerror(errno));
		buf_free(&s->hdrs);
		free(s);
		return NULL;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
#ifdef __linux__
	{
		int one = 1;

		/* Linux copies it to every connection accepted from the socket */
		s->nodelay_inherited = setsockopt(evconnlistener_get_fd(s->listener), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one)) == 0;
	}
#endif
	sslen = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &sslen) == 0)
		s->port = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return s;
}

int
httpd_server_port(const struct httpd_server *s)
{
	return s->port;
}

void
httpd_server_stop_accepting(struct httpd_server *s)
{
	struct httpd_conn *c, *next;

	if (s->stopping)
		return;
	s->stopping = 1;
	if (s->listener) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_IDLE && c->rlen == 0 && c->woff == c->wlen)
			conn_close(c);
	}
}

unsigned
httpd_server_open(const struct httpd_server *s)
{
	return s->stats.open;
}

const struct httpd_stats *
httpd_server_stats(const struct httpd_server *s)
{
	return &s->stats;
}

void
httpd_server_free(struct httpd_server *s)
{
	struct httpd_conn *c;

	if (s == NULL)
		return;
	s->stopping = 1;
	s->freeing = 1;
	while (s->conns)
		conn_close(s->conns);
	while ((c = s->free_conns) != NULL) {
		s->free_conns = c->next;
		conn_free(c);
	}
	if (s->listener)
		evconnlistener_free(s->listener);
	buf_free(&s->hdrs);
	free(s);
}
