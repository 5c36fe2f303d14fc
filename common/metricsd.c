/*
 * metricsd: /metrics and /health on a stage's own poll loop (see metricsd.h).
 */

#include "metricsd.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "version.h"

struct md_conn {
	int        fd;                 /* -1: free */
	int64_t    deadline_ms;
	uint64_t   seq;                /* last activity, to displace the least recently active */
	char       in[METRICSD_HEAD_MAX];  /* bytes read: the request head, pipelined ones after */
	size_t     in_len;
	size_t     head_len;           /* the head being answered, consumed once it is */
	unsigned   served;             /* requests answered on this connection */
	int        idle;               /* between requests: the idle deadline runs */
	int        writing;
	int        closing;            /* close once the answer is written */
	struct buf out;
	size_t     out_off;
};

struct metricsd {
	int                 lfd;
	int                 port;
	char                prog[64];
	metricsd_render_cb  render;
	metricsd_health_cb  health;
	void               *arg;
	double              start_time;    /* seconds since the epoch */
	int                 request_ms, idle_ms;
	uint64_t            seq;
	struct md_conn      c[METRICSD_MAX_CONN];
	struct buf          body, why;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Split "ADDR:PORT" / "[ADDR]:PORT" into host and port texts. 0 or -1. */
static int
split_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	size_t hl;

	if (spec == NULL || *spec == '\0')
		return -1;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		hl = (size_t)(end - spec - 1);
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || colon == spec || memchr(spec, ':', (size_t)(colon - spec)))
			return -1;
		hl = (size_t)(colon - spec);
		if (hl >= hostlen)
			return -1;
		memcpy(host, spec, hl);
		host[hl] = '\0';
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
		return -1;
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

int
metricsd_check_spec(const char *flag, const char *spec, char *err, size_t errlen)
{
	char host[256], port[8];

	if (split_spec(spec, host, sizeof(host), port, sizeof(port)) == -1) {
		snprintf(err, errlen, "%s: expected ADDR:PORT (e.g. 127.0.0.1:9100, [::1]:9100), "
		    "not '%.200s'", flag, spec ? spec : "");
		return -1;
	}
	return 0;
}

struct metricsd *
metricsd_open(const char *spec, const char *prog, metricsd_render_cb render,
    metricsd_health_cb health, void *arg, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct metricsd *m;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8];
	int fd = -1, one = 1, rc, e = 0;
	size_t i;

	if (split_spec(spec, host, sizeof(host), port, sizeof(port)) == -1) {
		snprintf(err, errlen, "metrics listen address '%.200s': expected ADDR:PORT", spec);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "metrics listen address %.200s: %s", spec, gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "metrics listen address %.200s: %s", spec, strerror(e));
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		close(fd);
		snprintf(err, errlen, "metrics listen address %.200s: out of memory", spec);
		return NULL;
	}
	m->lfd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		m->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(m->prog, sizeof(m->prog), "%s", prog);
	m->render = render;
	m->health = health;
	m->arg = arg;
	m->start_time = metrics_wall_now();
	m->request_ms = METRICSD_TIMEOUT_MS;
	m->idle_ms = METRICSD_IDLE_MS;
	for (i = 0; i < METRICSD_MAX_CONN; i++) {
		m->c[i].fd = -1;
		buf_init(&m->c[i].out, 0);
	}
	buf_init(&m->body, 0);
	buf_init(&m->why, 0);
	return m;
}

static void
conn_close(struct md_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = 0;
	c->head_len = 0;
	c->served = 0;
	c->idle = 0;
	c->writing = 0;
	c->closing = 0;
	c->out_off = 0;
	buf_reset(&c->out);
}

void
metricsd_close(struct metricsd *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < METRICSD_MAX_CONN; i++) {
		conn_close(&m->c[i]);
		buf_free(&m->c[i].out);
	}
	close(m->lfd);
	buf_free(&m->body);
	buf_free(&m->why);
	free(m);
}

int
metricsd_port(const struct metricsd *m)
{
	return m ? m->port : 0;
}

void
metricsd_set_timeouts(struct metricsd *m, int request_ms, int idle_ms)
{
	if (m == NULL)
		return;
	if (request_ms > 0)
		m->request_ms = request_ms;
	if (idle_ms > 0)
		m->idle_ms = idle_ms;
}

size_t
metricsd_pollfds(struct metricsd *m, struct pollfd *p, size_t cap)
{
	size_t i, n = 0;

	if (m == NULL || cap == 0)
		return 0;
	p[n].fd = m->lfd;
	p[n].events = POLLIN;
	p[n++].revents = 0;
	for (i = 0; i < METRICSD_MAX_CONN && n < cap; i++) {
		if (m->c[i].fd < 0)
			continue;
		p[n].fd = m->c[i].fd;
		p[n].events = m->c[i].writing ? POLLOUT : POLLIN;
		p[n++].revents = 0;
	}
	return n;
}

/* ---- exposition ---- */

/*
 * The samples are written with appends rather than printf: a scrape renders a hundred lines or
 * more, and vsnprintf (floating point above all) was most of a scrape's CPU time.
 */
static void
put_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof(tmp) - i);
}

/* name{labels} or name, then a space */
static void
put_name(struct buf *b, const char *name, const char *labels)
{
	buf_append_str(b, name);
	if (labels && *labels) {
		buf_append_byte(b, '{');
		buf_append_str(b, labels);
		buf_append_byte(b, '}');
	}
	buf_append_byte(b, ' ');
}

void
metrics_head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_append(b, "# HELP ", 7);
	buf_append_str(b, name);
	buf_append_byte(b, ' ');
	buf_append_str(b, help);
	buf_append(b, "\n# TYPE ", 8);
	buf_append_str(b, name);
	buf_append_byte(b, ' ');
	buf_append_str(b, type);
	buf_append_byte(b, '\n');
}

void
metrics_u64(struct buf *b, const char *name, const char *labels, uint64_t v)
{
	put_name(b, name, labels);
	put_u64(b, v);
	buf_append_byte(b, '\n');
}

void
metrics_f64(struct buf *b, const char *name, const char *labels, double v)
{
	char num[40];

	put_name(b, name, labels);
	if (isnan(v)) {
		buf_append_str(b, "NaN");
	} else if (isinf(v)) {
		buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
	} else if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
		/* whole numbers (counts as gauges, 0, 1): what %.17g prints, without printf */
		if (v < 0)
			buf_append_byte(b, '-');
		put_u64(b, (uint64_t)(v < 0 ? -(int64_t)v : (int64_t)v));
	} else {
		snprintf(num, sizeof(num), "%.17g", v);
		buf_append_str(b, num);
	}
	buf_append_byte(b, '\n');
}

void
metrics_counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	metrics_head(b, name, "counter", help);
	metrics_u64(b, name, NULL, v);
}

void
metrics_gauge(struct buf *b, const char *name, const char *help, double v)
{
	metrics_head(b, name, "gauge", help);
	metrics_f64(b, name, NULL, v);
}

char *
metrics_label_escape(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return out;
	for (; *v && o + 2 < outlen; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
	return out;
}

void
metrics_hist_init(struct metrics_hist *h, const double *bounds, size_t nb)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nb = nb > METRICS_HIST_MAX ? METRICS_HIST_MAX : nb;
	for (i = 0; i < h->nb; i++)
		snprintf(h->le[i], sizeof(h->le[i]), "%g", bounds[i]);
}

void
metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t i;

	for (i = 0; i < h->nb && v > h->bounds[i]; i++)
		;
	h->counts[i]++;
	h->n++;
	h->sum += v;
}

/* name_bucket{labels,le="le"} cum */
static void
put_bucket(struct buf *b, const char *name, const char *labels, const char *le, uint64_t cum)
{
	buf_append_str(b, name);
	buf_append(b, "_bucket{", 8);
	if (*labels) {
		buf_append_str(b, labels);
		buf_append_byte(b, ',');
	}
	buf_append(b, "le=\"", 4);
	buf_append_str(b, le);
	buf_append(b, "\"} ", 3);
	put_u64(b, cum);
	buf_append_byte(b, '\n');
}

void
metrics_hist_render(struct buf *b, const char *name, const char *labels,
    const struct metrics_hist *h)
{
	char sname[160];
	uint64_t cum = 0;
	size_t i;

	if (!labels)
		labels = "";
	for (i = 0; i < h->nb; i++) {
		cum += h->counts[i];
		put_bucket(b, name, labels, h->le[i], cum);
	}
	put_bucket(b, name, labels, "+Inf", h->n);
	snprintf(sname, sizeof(sname), "%s_sum", name);
	metrics_f64(b, sname, labels, h->sum);
	snprintf(sname, sizeof(sname), "%s_count", name);
	metrics_u64(b, sname, labels, h->n);
}

/* ---- serving ---- */

void
metrics_common(struct buf *b, const char *prog, double start_time, int healthy)
{
	struct rusage ru;
	char lab[160], esc[80];

	metrics_head(b, "furrow_build_info", "gauge",
	    "Always 1; the labels name the stage and its version");
	snprintf(lab, sizeof(lab), "program=\"%s\",version=\"%s\"",
	    metrics_label_escape(prog, esc, sizeof(esc)), FURROW_VERSION);
	metrics_u64(b, "furrow_build_info", lab, 1);
	metrics_gauge(b, "furrow_healthy",
	    "1 when /health answers 200, 0 when it answers 503", healthy);
	metrics_gauge(b, "process_start_time_seconds",
	    "Start time of the process since unix epoch in seconds", start_time);
	getrusage(RUSAGE_SELF, &ru);
	metrics_head(b, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds");
	metrics_f64(b, "process_cpu_seconds_total", NULL,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

double
metrics_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
metricsd_parse(const char *head, size_t len, int *head_only)
{
	const char *line_end = memchr(head, '\r', len), *nl = memchr(head, '\n', len);
	const char *sp1, *sp2, *path, *q;
	size_t llen, ml, pl;
	int get;

	*head_only = 0;
	if (nl && (line_end == NULL || nl < line_end))
		line_end = nl;
	llen = line_end ? (size_t)(line_end - head) : len;
	sp1 = memchr(head, ' ', llen);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', llen - (size_t)(sp1 + 1 - head)) : NULL;
	if (sp1 == NULL || sp2 == NULL)
		return METRICSD_BAD_REQUEST;
	ml = (size_t)(sp1 - head);
	pl = (size_t)(sp2 - sp1 - 1);
	path = sp1 + 1;
	if ((q = memchr(path, '?', pl)) != NULL)
		pl = (size_t)(q - path);
	get = ml == 3 && memcmp(head, "GET", 3) == 0;
	*head_only = ml == 4 && memcmp(head, "HEAD", 4) == 0;
	if (!get && !*head_only)
		return METRICSD_BAD_METHOD;
	if (pl == 8 && memcmp(path, "/metrics", 8) == 0)
		return METRICSD_METRICS;
	if (pl == 7 && memcmp(path, "/health", 7) == 0)
		return METRICSD_HEALTH;
	return METRICSD_NOT_FOUND;
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* p[0..n) equals the lower-case word w, ignoring case */
static int
word_is(const char *p, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n && w[i]; i++)
		if (lower((unsigned char)p[i]) != w[i])
			return 0;
	return i == n && w[i] == '\0';
}

/* The value v[0..n) of a Connection header holds the token "close". */
static int
has_close(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t a, b;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		b = i;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (word_is(v + a, b - a, "close"))
			return 1;
	}
	return 0;
}

int
metricsd_keep_alive(const char *head, size_t len)
{
	const char *p = head, *end = head + len, *eol;
	size_t ll;

	/* the request line ends with " HTTP/1.1" */
	if ((eol = memchr(p, '\n', len)) == NULL)
		return 0;
	ll = (size_t)(eol - p);
	if (ll && p[ll - 1] == '\r')
		ll--;
	if (ll < 9 || memcmp(p + ll - 9, " HTTP/1.1", 9) != 0)
		return 0;
	for (p = eol + 1; p < end; p = eol + 1) {
		const char *colon, *v, *ve;

		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		ve = eol;
		if (ve > p && ve[-1] == '\r')
			ve--;
		if (ve == p)
			break;                            /* the empty line: end of the head */
		if ((colon = memchr(p, ':', (size_t)(ve - p))) == NULL)
			return 0;                         /* not a header: do not guess */
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (word_is(p, (size_t)(colon - p), "connection") && has_close(v, (size_t)(ve - v)))
			return 0;
		if (word_is(p, (size_t)(colon - p), "transfer-encoding"))
			return 0;                         /* a body: not worth reading */
		if (word_is(p, (size_t)(colon - p), "content-length") &&
		    (ve - v != 1 || *v != '0'))
			return 0;
		if (eol == end)
			break;
	}
	return 1;
}

/* The answer to the request head c->in[0..c->head_len), into c->out; c->closing set when the
 * connection ends with it. */
static void
respond(struct metricsd *m, struct md_conn *c)
{
	const char *ctype = "text/plain; charset=utf-8", *body;
	int status, head_only, healthy;
	size_t blen;

	c->closing = !metricsd_keep_alive(c->in, c->head_len) ||
	    c->served + 1 >= METRICSD_MAX_REQUESTS;
	switch (metricsd_parse(c->in, c->head_len, &head_only)) {
	case METRICSD_BAD_REQUEST:
		status = 400;
		body = "bad request\n";
		c->closing = 1;
		break;
	case METRICSD_BAD_METHOD:
		status = 405;
		body = "method not allowed\n";
		c->closing = 1;
		break;
	case METRICSD_METRICS:
		buf_reset(&m->why);
		healthy = m->health ? m->health(&m->why, m->arg) : 1;
		buf_reset(&m->body);
		if (m->render)
			m->render(&m->body, m->arg);
		metrics_common(&m->body, m->prog, m->start_time, healthy);
		status = 200;
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		body = m->body.data ? m->body.data : "";
		break;
	case METRICSD_HEALTH:
		buf_reset(&m->why);
		healthy = m->health ? m->health(&m->why, m->arg) : 1;
		if (healthy) {
			status = 200;
			body = "OK\n";
		} else {
			status = 503;
			buf_append_byte(&m->why, '\n');
			body = m->why.data ? m->why.data : "unhealthy\n";
		}
		break;
	default:
		status = 404;
		body = "not found\n";
		break;
	}
	blen = body == m->body.data ? m->body.len : strlen(body);
	buf_reset(&c->out);
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nConnection: %s\r\n\r\n", status,
	    status == 200 ? "OK" : status == 503 ? "Service Unavailable" : status == 400 ?
	    "Bad Request" : status == 405 ? "Method Not Allowed" : "Not Found", ctype, blen,
	    c->closing ? "close" : "keep-alive");
	if (!head_only)
		buf_append(&c->out, body, blen);
	c->writing = 1;
	c->out_off = 0;
}

/* The length of the whole head at the start of p[0..n) (up to and with its empty line, CRLF
 * or bare LF), 0 when it has not all arrived. */
static size_t
head_end(const char *p, size_t n)
{
	const char *nl = p, *end = p + n;

	while ((nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL) {
		nl++;
		if (nl < end && *nl == '\n')
			return (size_t)(nl + 1 - p);
		if (nl + 1 < end && nl[0] == '\r' && nl[1] == '\n')
			return (size_t)(nl + 2 - p);
	}
	return 0;
}

/* Answer the next request in c->in when its head is all there: 1 when an answer is now
 * waiting to be written, 0 when more bytes are needed, -1 when the connection is closed. */
static int
next_request(struct metricsd *m, struct md_conn *c)
{
	size_t skip = 0;

	/* empty lines before a request line are ignored (RFC 9112 2.2) */
	while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
		skip++;
	if (skip) {
		memmove(c->in, c->in + skip, c->in_len - skip);
		c->in_len -= skip;
	}
	if ((c->head_len = head_end(c->in, c->in_len)) != 0) {
		respond(m, c);
		return 1;
	}
	if (c->in_len == sizeof(c->in)) {
		conn_close(c);                    /* an over-long head: not a scraper */
		return -1;
	}
	return 0;
}

static void
conn_read(struct metricsd *m, struct md_conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c);
			return;
		}
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (c->idle) {                    /* a new request: its own deadline */
			c->idle = 0;
			c->deadline_ms = mono_ms() + m->request_ms;
		}
		c->in_len += (size_t)n;
		if (next_request(m, c) != 0)
			return;
	}
}

static void
conn_write(struct metricsd *m, struct md_conn *c)
{
	for (;;) {
		while (c->out_off < c->out.len) {
			ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
			    MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					conn_close(c);
				return;
			}
			c->out_off += (size_t)n;
		}
		if (c->closing) {
			shutdown(c->fd, SHUT_WR);
			conn_close(c);
			return;
		}
		/* answered: on to the next request, pipelined or still to come */
		memmove(c->in, c->in + c->head_len, c->in_len - c->head_len);
		c->in_len -= c->head_len;
		c->head_len = 0;
		c->writing = 0;
		c->out_off = 0;
		buf_reset(&c->out);
		c->seq = ++m->seq;
		c->served++;
		if (c->in_len == 0) {
			c->idle = 1;
			c->deadline_ms = mono_ms() + m->idle_ms;
			return;
		}
		c->deadline_ms = mono_ms() + m->request_ms;
		if (next_request(m, c) != 1)
			return;
	}
}

static void
accept_all(struct metricsd *m)
{
	for (;;) {
		struct md_conn *c = NULL;
		size_t i;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;          /* EAGAIN, or EMFILE and the like: try at the next wakeup */
		for (i = 0; i < METRICSD_MAX_CONN; i++) {
			if (m->c[i].fd < 0) {
				c = &m->c[i];
				break;
			}
			if (c == NULL || m->c[i].seq < c->seq)
				c = &m->c[i];
		}
		conn_close(c);                   /* the oldest, when all are taken */
		c->fd = fd;
		c->seq = ++m->seq;
		c->deadline_ms = mono_ms() + m->request_ms;
	}
}

void
metricsd_serve(struct metricsd *m, const struct pollfd *p, size_t n)
{
	int64_t now;
	size_t i, k;

	if (m == NULL)
		return;
	for (k = 0; k < n; k++) {
		if (p[k].revents == 0)
			continue;
		if (p[k].fd == m->lfd) {
			accept_all(m);
			continue;
		}
		for (i = 0; i < METRICSD_MAX_CONN; i++) {
			struct md_conn *c = &m->c[i];
			if (c->fd != p[k].fd)
				continue;
			if (!c->writing)
				conn_read(m, c);
			if (c->fd >= 0 && c->writing)
				conn_write(m, c);
			break;
		}
	}
	now = mono_ms();
	for (i = 0; i < METRICSD_MAX_CONN; i++)
		if (m->c[i].fd >= 0 && now >= m->c[i].deadline_ms)
			conn_close(&m->c[i]);
}

/* The shortest wait: the caller's, or the nearest connection deadline. */
static int
cap_timeout(const struct metricsd *m, int timeout_ms)
{
	int64_t now;
	size_t i;

	if (m == NULL)
		return timeout_ms;
	now = mono_ms();
	for (i = 0; i < METRICSD_MAX_CONN; i++) {
		int64_t left;
		if (m->c[i].fd < 0)
			continue;
		left = m->c[i].deadline_ms - now;
		if (left < 0)
			left = 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = (int)left;
	}
	return timeout_ms;
}

int
metricsd_timeout_ms(const struct metricsd *m)
{
	return cap_timeout(m, -1);
}

static int
poll_common(struct metricsd *m, struct pollfd *fds, size_t n, int timeout_ms,
    const struct timespec *ts, const sigset_t *mask, int use_ppoll)
{
	struct pollfd all[METRICSD_NFDS + 8];
	size_t i, mn;
	int r, own = 0;

	if (n > 8) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		all[i] = fds[i];
	mn = metricsd_pollfds(m, all + n, METRICSD_NFDS);
	if (use_ppoll) {
		struct timespec capped;
		int t = ts ? (int)(ts->tv_sec * 1000 + ts->tv_nsec / 1000000) : -1;
		int c = cap_timeout(m, t);
		if (c != t) {
			capped.tv_sec = c / 1000;
			capped.tv_nsec = (long)(c % 1000) * 1000000L;
			ts = &capped;
		}
		r = ppoll(all, n + mn, ts, mask);
	} else {
		r = poll(all, n + mn, cap_timeout(m, timeout_ms));
	}
	if (r < 0)
		return -1;
	for (i = 0; i < n; i++) {
		fds[i].revents = all[i].revents;
		own += all[i].revents != 0;
	}
	metricsd_serve(m, all + n, mn);
	return own;
}

int
metricsd_poll(struct metricsd *m, struct pollfd *fds, size_t n, int timeout_ms)
{
	if (m == NULL)
		return poll(fds, n, timeout_ms);
	return poll_common(m, fds, n, timeout_ms, NULL, NULL, 0);
}

int
metricsd_ppoll(struct metricsd *m, struct pollfd *fds, size_t n, const struct timespec *ts,
    const sigset_t *mask)
{
	if (m == NULL)
		return ppoll(fds, n, ts, mask);
	return poll_common(m, fds, n, -1, ts, mask, 1);
}
