/*
 * ins_http: evhttp with a connection cap, a whole-request deadline and close detection for
 * held requests (see ins_http.h).
 *
 * evhttp asks us for each new connection's bufferevent (evhttp_set_bevcb). We make a plain
 * socket bufferevent and a small context for it; once evhttp has wrapped it in its connection
 * (the same loop iteration: the bufferevent's callback argument is then the connection), we
 * own the connection's close callback, which is how the count goes down. An input-buffer
 * callback sees the first bytes of each request, which starts its deadline.
 */
#include "ins_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

struct conn {
	struct ins_http *h;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;    /* known once adopted */
	struct evbuffer_cb_entry *in_entry;
	struct event *deadline, *adopt;
	int fd;
	int in_request;
	void (*hook)(void *);               /* the application's "this connection is going" */
	void *hook_arg;
	struct conn *prev, *next;
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
	struct conn *conns;                 /* every connection evhttp holds */
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
			return;     /* only the deadline of this connection is not stopped early */
		memset(n + h->by_fd_cap, 0, (ncap - h->by_fd_cap) * sizeof(*n));
		h->by_fd = n;
		h->by_fd_cap = ncap;
	}
	h->by_fd[fd] = c;
}

static struct conn *
conn_of(struct ins_http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	int fd = bev ? bufferevent_getfd(bev) : -1;
	struct conn *c;

	if (fd < 0 || (size_t)fd >= h->by_fd_cap)
		return NULL;
	c = h->by_fd[fd];
	return c && c->evcon == evcon ? c : NULL;
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
conn_forget(struct conn *c)
{
	struct ins_http *h = c->h;

	if (c->in_entry)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_entry);
	if (c->fd >= 0 && (size_t)c->fd < h->by_fd_cap && h->by_fd[c->fd] == c)
		h->by_fd[c->fd] = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_free(c->deadline);
	event_free(c->adopt);
	bufferevent_decref(c->bev);         /* our reference: the memory stays ours until here */
	h->st.open--;
	listener_update(h);
	free(c);
}

/* evhttp is freeing the connection: tell whoever holds a request on it, then count it out */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	void (*hook)(void *) = c->hook;

	(void)evcon;
	c->hook = NULL;
	if (hook)
		hook(c->hook_arg);
	conn_forget(c);
}

static void
adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	void *cbarg = NULL;
	int one = 1;

	(void)fd;
	(void)what;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	if (cbarg == NULL) {
		/* evhttp gave up on the connection at once and freed its bufferevent (our
		 * reference keeps the memory) */
		conn_forget(c);
		return;
	}
	c->evcon = cbarg;
	c->fd = bufferevent_getfd(c->bev);
	by_fd_set(c->h, c->fd, c);
	/* answers go out in several writes (streamed arrays): without this, the last segment of
	 * one waits for the client's delayed ACK (40 ms) under Nagle's algorithm */
	if (c->fd >= 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->h->st.deadline_closes++;
	if (c->evcon)
		evhttp_connection_free(c->evcon);      /* calls conn_closed_cb */
}

/* Bytes arrived: the first of a request starts its deadline. */
static void
input_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { (time_t)c->h->o.request_timeout_s, 0 };

	(void)b;
	if (info->n_added && !c->in_request) {
		c->in_request = 1;
		if (c->h->o.request_timeout_s)
			evtimer_add(c->deadline, &tv);
	}
}

/* evhttp asks for the bufferevent of each new connection: ours counts it. */
static struct bufferevent *
conn_new_cb(struct event_base *base, void *arg)
{
	struct ins_http *h = arg;
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->h = h;
	c->fd = -1;
	if ((c->deadline = evtimer_new(base, deadline_cb, c)) == NULL ||
	    (c->adopt = event_new(base, -1, 0, adopt_cb, c)) == NULL ||
	    (c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (c->in_entry = evbuffer_add_cb(bufferevent_get_input(c->bev), input_cb, c)) == NULL) {
		if (c->deadline)
			event_free(c->deadline);
		if (c->adopt)
			event_free(c->adopt);
		if (c->bev)
			bufferevent_free(c->bev);
		free(c);
		return NULL;      /* evhttp makes its own: that connection is not counted */
	}
	/* a reference of our own: if evhttp frees the bufferevent before adopt_cb runs, its
	 * memory (and the callback argument, then NULL) are still there to look at */
	bufferevent_incref(c->bev);
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->st.open++;
	h->st.connections++;
	listener_update(h);
	event_active(c->adopt, EV_TIMEOUT, 0);
	return c->bev;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct ins_http *h = arg;
	struct conn *c = conn_of(h, req);

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

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
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
	errno = 0;
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
	if (h == NULL)
		return;
	/* evhttp_free frees each connection, which calls conn_closed_cb; a connection not
	 * adopted yet (accepted in this very iteration) is forgotten here */
	if (h->http)
		evhttp_free(h->http);
	while (h->conns)
		conn_forget(h->conns);
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

int
ins_http_on_close(struct ins_http *h, struct evhttp_request *req, void (*hook)(void *),
    void *arg)
{
	struct conn *c = conn_of(h, req);

	if (c == NULL)
		return -1;
	c->hook = hook;
	c->hook_arg = arg;
	return 0;
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
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	int fd = bev ? bufferevent_getfd(bev) : -1;
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
