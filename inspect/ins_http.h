/*
 * ins_http: inspect's HTTP server: libevent's evhttp with the collector's hardening put back
 * through its knobs and a thin layer around it.
 *
 * evhttp (libevent 2.1) gives header and body size limits and an inactivity timeout; it has no
 * connection cap and no deadline on a whole request, so a client that sends one byte every few
 * seconds could hold a connection for ever. So every connection gets a context
 * (evhttp_set_bevcb) that counts it (the listener pauses at the cap, as the collector's does),
 * starts a deadline when the first byte of a request arrives and stops it when evhttp hands
 * over the complete request, and goes away with evhttp's close callback of the connection,
 * which this module owns (ins_http_on_close passes it on). A request the application holds
 * (the wait primitive) is outside the deadline; ins_http_watch_close tells when its client goes
 * away, since evhttp does not read from a connection while a request is pending.
 */
#ifndef INS_HTTP_H
#define INS_HTTP_H

#include <stddef.h>

struct event_base;
struct evhttp_request;

struct ins_http_opts {
	const char *bind;
	int         port;
	size_t      max_header_bytes;     /* request line + headers; larger: the connection closes */
	size_t      max_body_bytes;       /* larger: 413 */
	unsigned    idle_timeout_s;       /* no byte from a connection for this long: closed */
	unsigned    request_timeout_s;    /* first byte of a request to its end */
	unsigned    max_connections;      /* the listener pauses while this many are open */
};

struct ins_http_stats {
	unsigned long long connections, deadline_closes, paused;
	unsigned open;
};

typedef void (*ins_http_handler)(struct evhttp_request *req, void *arg);

struct ins_http;

/* Bind and listen. Returns NULL with a reason in err. */
struct ins_http *ins_http_new(struct event_base *base, const struct ins_http_opts *o,
    ins_http_handler handler, void *arg, char *err, size_t errlen);
/* Close every connection (their pending requests are freed) and the listener. */
void ins_http_free(struct ins_http *h);
int ins_http_port(const struct ins_http *h);
void ins_http_stop_accepting(struct ins_http *h);
const struct ins_http_stats *ins_http_stats(const struct ins_http *h);

/*
 * Call hook(arg) when evhttp frees req's connection (the request is freed with it: the hook
 * must forget it). One hook per connection; hook NULL removes it. Returns -1 when the
 * connection is not known.
 */
int ins_http_on_close(struct ins_http *h, struct evhttp_request *req, void (*hook)(void *),
    void *arg);

/*
 * Watch req's connection for its client going away while the request is held: cb(arg) runs
 * once when the peer closes. Returns a watch to cancel with ins_http_unwatch (before
 * answering), or NULL when the event backend cannot tell (the request is then answered at its
 * deadline, as any other).
 */
struct event *ins_http_watch_close(struct ins_http *h, struct evhttp_request *req,
    void (*cb)(void *), void *arg);
void ins_http_unwatch(struct event *watch);

#endif
