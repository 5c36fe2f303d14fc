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
	uint64_t   seq;                /* age, to displace the oldest */
	char       head[METRICSD_HEAD_MAX];
	size_t     head_len;
	int        writing;
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
	c->head_len = 0;
	c->writing = 0;
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

/* The answer to the request head in c->head, into c->out. */
static void
respond(struct metricsd *m, struct md_conn *c)
{
	const char *ctype = "text/plain; charset=utf-8", *body;
	int status, head_only, healthy;
	size_t blen;

	switch (metricsd_parse(c->head, c->head_len, &head_only)) {
	case METRICSD_BAD_REQUEST:
		status = 400;
		body = "bad request\n";
		break;
	case METRICSD_BAD_METHOD:
		status = 405;
		body = "method not allowed\n";
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
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n", status,
	    status == 200 ? "OK" : status == 503 ? "Service Unavailable" : status == 400 ?
	    "Bad Request" : status == 405 ? "Method Not Allowed" : "Not Found", ctype, blen);
	if (!head_only)
		buf_append(&c->out, body, blen);
	c->writing = 1;
	c->out_off = 0;
}

static void
conn_read(struct metricsd *m, struct md_conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->head + c->head_len, sizeof(c->head) - 1 - c->head_len);
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
		c->head_len += (size_t)n;
		c->head[c->head_len] = '\0';
		if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n")) {
			respond(m, c);
			return;
		}
		if (c->head_len == sizeof(c->head) - 1) {
			conn_close(c);            /* an over-long head: not a scraper */
			return;
		}
	}
}

static void
conn_write(struct md_conn *c)
{
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
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
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
		c->deadline_ms = mono_ms() + METRICSD_TIMEOUT_MS;
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
				conn_write(c);
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
	int64_t now = mono_ms();
	size_t i;

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
