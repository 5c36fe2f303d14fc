/*
 * col_cookie: the network-user-id cookie rules of collector.md §5 and the Origin parsing they
 * share with CORS (§4.1): reading a cookie by name, re-rendering the Cookie header for the
 * payload (§5.3, SC3 Rfc6265Cookie), choosing the cookie Domain from the Origin hosts (§5.2) and
 * writing Set-Cookie.
 */
#ifndef COL_COOKIE_H
#define COL_COOKIE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* One entry of an Origin header: "scheme://host[:port]". */
struct col_origin {
	const char *scheme;
	size_t      scheme_len;
	const char *host;          /* IPv6 literals keep their brackets */
	size_t      host_len;
	const char *port;          /* NULL when absent */
	size_t      port_len;
};

/* Next usable entry of an Origin value (space-separated, "null" skipped), starting at *pos.
 * Returns 1 and fills o, or 0 when there is none left. */
int col_cookie_origin_next(const char *v, size_t len, size_t *pos, struct col_origin *o);

/* §5.2: the first of domains that equals an Origin host or is a dot-suffix of one; else
 * fallback (may be NULL). origin may be NULL. */
const char *col_cookie_domain(char *const *domains, size_t n, const char *origin,
    size_t origin_len, const char *fallback);

/* 1 if host equals domain or ends with "." + domain. */
int col_cookie_domain_match(const char *host, size_t host_len, const char *domain);

/* Find the value of cookie `name` in one Cookie header value. Returns 1 and sets *val and *vlen
 * (surrounding double quotes removed), or 0. */
int col_cookie_find(const char *v, size_t len, const char *name, const char **val, size_t *vlen);

/* §5.3: append the RFC 6265 re-rendering of a Cookie header value to out. Returns the number of
 * bytes appended (0: leave the header out) or -1 when out is full. */
long col_cookie_rerender(const char *v, size_t len, struct buf *out);

struct col_cookie_attrs {
	time_t      expires;
	const char *domain;        /* NULL: host-only */
	const char *same_site;     /* NULL: omitted */
	int         secure;
	int         http_only;
};

/* Append "Set-Cookie: name=value; Expires=...; Domain=...; Path=/; SameSite=...; Secure;
 * HttpOnly\r\n" to out. Returns 0 or -1. */
int col_cookie_set_header(struct buf *out, const char *name, const char *value, size_t vlen,
    const struct col_cookie_attrs *a);

#endif
