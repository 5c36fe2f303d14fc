/*
 * ins_http: evhttp with a connection cap, a whole-request deadline and close detection for
 * held requests (see ins_http.h).
 */
#include "ins_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#define HTTP_WRITE_HIGH_WATER 65536

/* What connections share with the server, kept until the last one is gone: evhttp frees its
 * connections' bufferevents lazily (libevent finalizers), possibly after ins_http_free. */
struct shared {
	struct ins_http *h;       /* NULL once the server is freed */
	unsigned live;
};

struct conn {
	struct shared     *sh;
	struct bufferevent *bev;  /* the filter evhttp reads and writes */
	struct event      *deadline;
	struct event      *kick;  /* moves written data on once evhttp enabled writing */
	int                fd;    /* known once the first bytes arrived */
	int                in_request;
};

struct ins_http_watch {
	struct event *ev;
	void (*cb)(void *);
	void *arg;
};

struct ins_http {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;
	struct ins_http_opts o;
	ins_http_handler handler;
	void *arg;
	struct shared *sh;
	struct conn **by_fd;
	size_t by_fd_cap;
	struct ins_http_stats st;
	int paused, stopped, port;
};

static void
by_fd_set(struct ins_http *h, int fd, struct conn *c)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= h->by_fd_cap) {
		size_t ncap = h->by_fd_cap ? h->by_fd_cap : 256;
		struct conn **n;
		while (ncap <= (size_t)fd)
			ncap *= 2;
		if ((n = realloc(h->by_fd, ncap * sizeof(*n))) == NULL)
			return;     /* the deadline of this connection is not stopped early: harmless */
		memset(n + h->by_fd_cap, 0, (ncap - h->by_fd_cap) * sizeof(*n));
		h->by_fd = n;
		h->by_fd_cap = ncap;
	}
	h->by_fd[fd] = c;
}

static struct conn *
by_fd_get(struct ins_http *h, int fd)
{
	if (fd < 0 || (size_t)fd >= h->by_fd_cap)
		return NULL;
	return h->by_fd[fd];
}

static void
listener_update(struct ins_http *h)
{
	if (h->listener == NULL || h->stopped)
		return;
	if (!h->paused && h->st.open >= h->o.max_connections) {
		evconnlistener_disable(h->listener);
		h->paused = 1;
		h->st.paused++;
	} else if (h->paused && h->st.open < h->o.max_connections) {
		evconnlistener_enable(h->listener);
		h->paused = 0;
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->sh->h)
		c->sh->h->st.deadline_closes++;
	/* evhttp's own timeout path: it drops the connection (and frees c) */
	bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/*
 * evhttp writes a response into the bufferevent's output first and enables writing after;
 * a filter only moves output on when data is added while writing is enabled, so without a
 * nudge the response would sit there. Every addition schedules one flush for after the
 * current callback, when evhttp has enabled writing.
 */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
}

static void
out_added_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)b;
	if (info->n_added)
		event_active(c->kick, EV_TIMEOUT, 0);
}

static enum bufferevent_filter_result
conn_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct conn *c = arg;
	struct ins_http *h = c->sh->h;

	(void)mode;
	if (!c->in_request && evbuffer_get_length(src) > 0 && h) {
		struct timeval tv = { (time_t)h->o.request_timeout_s, 0 };
		c->in_request = 1;
		if (c->fd < 0) {
			c->fd = bufferevent_getfd(c->bev);
			by_fd_set(h, c->fd, c);
		}
		if (h->o.request_timeout_s)
			evtimer_add(c->deadline, &tv);
	}
	if (lim < 0)
		evbuffer_add_buffer(dst, src);
	else
		evbuffer_remove_buffer(src, dst, (size_t)lim);
	return BEV_OK;
}

static void
conn_free(void *arg)
{
	struct conn *c = arg;
	struct shared *sh = c->sh;

	if (c->deadline)
		event_free(c->deadline);
	if (c->kick)
		event_free(c->kick);
	sh->live--;
	if (sh->h) {
		if (by_fd_get(sh->h, c->fd) == c)
			sh->h->by_fd[c->fd] = NULL;
		sh->h->st.open--;
		listener_update(sh->h);
	} else if (sh->live == 0) {
		free(sh);
	}
	free(c);
}

/* evhttp asks for the bufferevent of each new connection: ours counts it. */
static struct bufferevent *
conn_new_cb(struct event_base *base, void *arg)
{
	struct ins_http *h = arg;
	struct bufferevent *under, *bev;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	c->sh = h->sh;
	if ((c->deadline = evtimer_new(base, deadline_cb, c)) == NULL ||
	    (c->kick = event_new(base, -1, 0, kick_cb, c)) == NULL ||
	    (under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (c->deadline)
			event_free(c->deadline);
		if (c->kick)
			event_free(c->kick);
		free(c);
		return NULL;
	}
	/*
	 * Deferred callbacks: a filter moves written data to the socket's buffer at once, so a
	 * synchronous write callback would run inside evhttp before it has set what to call.
	 * The socket's write high-water mark makes the filter hold the rest back until the
	 * client reads: the write callback (our next chunk) waits for a slow client.
	 */
	bufferevent_setwatermark(under, EV_WRITE, 0, HTTP_WRITE_HIGH_WATER);
	bev = bufferevent_filter_new(under, conn_in, NULL, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS, conn_free, c);
	if (bev == NULL) {
		bufferevent_free(under);
		event_free(c->deadline);
		event_free(c->kick);
		free(c);
		return NULL;
	}
	c->bev = bev;
	h->sh->live++;
	h->st.open++;
	h->st.connections++;
	if (evbuffer_add_cb(bufferevent_get_output(bev), out_added_cb, c) == NULL) {
		bufferevent_free(bev);    /* frees under, and c through conn_free */
		return NULL;
	}
	listener_update(h);
	return bev;
}

static int
req_fd(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev ? bufferevent_getfd(bev) : -1;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct ins_http *h = arg;
	struct conn *c = by_fd_get(h, req_fd(req));

	if (c) {
		c->in_request = 0;
		evtimer_del(c->deadline);
	}
	h->handler(req, h->arg);
}

struct ins_http *
ins_http_new(struct event_base *base, const struct ins_http_opts *o, ins_http_handler handler,
    void *arg, char *err, size_t errlen)
{
	struct ins_http *h = calloc(1, sizeof(*h));
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (h == NULL || (h->sh = calloc(1, sizeof(*h->sh))) == NULL) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->sh->h = h;
	h->base = base;
	h->o = *o;
	if (h->o.max_connections == 0)
		h->o.max_connections = 1;
	h->handler = handler;
	h->arg = arg;
	if ((h->http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	evhttp_set_max_headers_size(h->http, (ev_ssize_t)o->max_header_bytes);
	evhttp_set_max_body_size(h->http, (ev_ssize_t)o->max_body_bytes);
	evhttp_set_timeout(h->http, (int)o->idle_timeout_s);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS);
	evhttp_set_bevcb(h->http, conn_new_cb, h);
	evhttp_set_gencb(h->http, request_cb, h);
	if ((bs = evhttp_bind_socket_with_handle(h->http, o->bind, (ev_uint16_t)o->port)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", o->bind, o->port,
		    strerror(errno ? errno : EADDRINUSE));
		goto fail;
	}
	h->listener = evhttp_bound_socket_get_listener(bs);
	if (getsockname(evconnlistener_get_fd(h->listener), (struct sockaddr *)&ss, &sl) == 0)
		h->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return h;
fail:
	ins_http_free(h);
	return NULL;
}

void
ins_http_free(struct ins_http *h)
{
	struct shared *sh;

	if (h == NULL)
		return;
	sh = h->sh;
	if (h->http)
		evhttp_free(h->http);
	sh->h = NULL;
	if (sh->live == 0)
		free(sh);
	free(h->by_fd);
	free(h);
}

int
ins_http_port(const struct ins_http *h)
{
	return h->port;
}

void
ins_http_stop_accepting(struct ins_http *h)
{
	if (h->listener && !h->stopped)
		evconnlistener_disable(h->listener);
	h->stopped = 1;
}

const struct ins_http_stats *
ins_http_stats(const struct ins_http *h)
{
	return &h->st;
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ins_http_watch *w = arg;

	(void)fd;
	(void)what;
	w->cb(w->arg);
}

struct event *
ins_http_watch_close(struct ins_http *h, struct evhttp_request *req, void (*cb)(void *),
    void *arg)
{
	int fd = req_fd(req);
	struct ins_http_watch *w;

	if (fd < 0 || !(event_base_get_features(h->base) & EV_FEATURE_EARLY_CLOSE))
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	if ((w->ev = event_new(h->base, fd, EV_CLOSED, watch_cb, w)) == NULL ||
	    event_add(w->ev, NULL) == -1) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	/* the event's argument is the watch, so the watch can be found again from the event */
	return w->ev;
}

void
ins_http_unwatch(struct event *ev)
{
	struct ins_http_watch *w;

	if (ev == NULL)
		return;
	w = event_get_callback_arg(ev);
	event_free(ev);
	free(w);
}
