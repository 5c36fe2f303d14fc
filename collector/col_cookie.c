/*
 * col_cookie: cookie reading, re-rendering, domain choice and Set-Cookie (see col_cookie.h).
 */
#include "col_cookie.h"

#include <string.h>

#include "timefmt.h"

int
col_cookie_origin_next(const char *v, size_t len, size_t *pos, struct col_origin *o)
{
	size_t i = *pos;

	while (i < len) {
		size_t s, e, k, h, he;

		while (i < len && v[i] == ' ')
			i++;
		s = i;
		while (i < len && v[i] != ' ')
			i++;
		e = i;
		if (e == s)
			continue;
		/* scheme "://" */
		for (k = s; k < e && v[k] != ':'; k++)
			;
		if (k == s || k + 3 > e || v[k + 1] != '/' || v[k + 2] != '/')
			continue;
		h = k + 3;
		if (h >= e)
			continue;
		o->scheme = v + s;
		o->scheme_len = k - s;
		o->port = NULL;
		o->port_len = 0;
		if (v[h] == '[') {
			const char *rb = memchr(v + h, ']', e - h);

			if (rb == NULL)
				continue;
			he = (size_t)(rb - v) + 1;
		} else {
			for (he = h; he < e && v[he] != ':' && v[he] != '/'; he++)
				;
		}
		if (he == h)
			continue;
		o->host = v + h;
		o->host_len = he - h;
		if (he < e && v[he] == ':') {
			size_t p = he + 1, pe = p;

			while (pe < e && v[pe] >= '0' && v[pe] <= '9')
				pe++;
			if (pe == p)
				continue;
			o->port = v + p;
			o->port_len = pe - p;
			he = pe;
		}
		if (he < e && v[he] != '/')
			continue;
		*pos = i;
		return 1;
	}
	*pos = i;
	return 0;
}

int
col_cookie_domain_match(const char *host, size_t host_len, const char *domain)
{
	size_t dl = strlen(domain);

	if (host_len == dl)
		return memcmp(host, domain, dl) == 0;
	return host_len > dl && host[host_len - dl - 1] == '.' &&
	    memcmp(host + host_len - dl, domain, dl) == 0;
}

const char *
col_cookie_domain(char *const *domains, size_t n, const char *origin, size_t origin_len,
    const char *fallback)
{
	struct col_origin o;
	size_t i, pos;

	if (origin == NULL)
		return fallback;
	for (i = 0; i < n; i++) {
		pos = 0;
		while (col_cookie_origin_next(origin, origin_len, &pos, &o))
			if (col_cookie_domain_match(o.host, o.host_len, domains[i]))
				return domains[i];
	}
	return fallback;
}

int
col_cookie_find(const char *v, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t s, e, eq;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
			i++;
		s = i;
		while (i < len && v[i] != ';')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		for (eq = s; eq < e && v[eq] != '='; eq++)
			;
		if (eq == e)
			continue;
		{
			size_t ne = eq;

			while (ne > s && (v[ne - 1] == ' ' || v[ne - 1] == '\t'))
				ne--;
			if (ne - s != nl || memcmp(v + s, name, nl) != 0)
				continue;
		}
		eq++;
		while (eq < e && (v[eq] == ' ' || v[eq] == '\t'))
			eq++;
		if (e - eq >= 2 && v[eq] == '"' && v[e - 1] == '"') {
			eq++;
			e--;
		}
		*val = v + eq;
		*vlen = e - eq;
		return 1;
	}
	return 0;
}

/* The bytes of a Cookie header value by class: 0 an RFC 6265 cookie-octet (0x21, 0x23-0x2B,
 * 0x2D-0x3A, 0x3C-0x5B, 0x5D-0x7E), 1 a space, 2 ';', 3 anything else. */
enum { CK_OCTET, CK_SPACE, CK_SEMI, CK_OTHER };
static const unsigned char cookie_class[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

long
col_cookie_rerender(const char *v, size_t len, struct buf *out)
{
	size_t start = out->len, i = 0, pend_empty = 0;
	int first = 1;

	/* Pieces are the ';'-separated runs with spaces removed. Java's split drops trailing
	 * empty pieces, so empty pieces are held back until a non-empty one follows. */
	while (i <= len) {
		size_t s = i, e, spaces = 0;
		int ok = 1;

		for (; i < len; i++) {
			unsigned char k = cookie_class[(unsigned char)v[i]];

			if (k == CK_OCTET)
				continue;
			if (k == CK_SEMI)
				break;
			if (k == CK_SPACE)
				spaces++;
			else
				ok = 0;
		}
		e = i;
		i++;
		if (spaces == e - s) {
			pend_empty++;
			continue;
		}
		/* a non-empty piece follows: the held-back empty pieces were not trailing */
		for (; pend_empty > 0; pend_empty--) {
			if (!first && buf_append_byte(out, ';') == -1)
				return -1;
			first = 0;
		}
		if (!ok)
			continue;          /* a dropped piece vanishes entirely */
		if (!first && buf_append_byte(out, ';') == -1)
			return -1;
		first = 0;
		if (spaces == 0) {
			if (buf_append(out, v + s, e - s) == -1)
				return -1;
			continue;
		}
		/* the runs between the spaces */
		while (s < e) {
			size_t r = s;

			while (r < e && v[r] != ' ')
				r++;
			if (r > s && buf_append(out, v + s, r - s) == -1)
				return -1;
			s = r + 1;
		}
	}
	return (long)(out->len - start);
}

int
col_cookie_set_header(struct buf *out, const char *name, const char *value, size_t vlen,
    const struct col_cookie_attrs *a)
{
	/* the expiry moves once a second (now + the cookie's lifetime): format it then only */
	static char date[TIMEFMT_BUFSZ];
	static time_t date_of = (time_t)-1;

	if (a->expires != date_of || date[0] == '\0') {
		timefmt_http(a->expires, date);
		date_of = a->expires;
	}
	if (buf_append_str(out, "Set-Cookie: ") == -1 || buf_append_str(out, name) == -1 ||
	    buf_append_byte(out, '=') == -1 || buf_append(out, value, vlen) == -1 ||
	    buf_append_str(out, "; Expires=") == -1 || buf_append_str(out, date) == -1)
		return -1;
	if (a->domain && (buf_append_str(out, "; Domain=") == -1 ||
	    buf_append_str(out, a->domain) == -1))
		return -1;
	if (buf_append_str(out, "; Path=/") == -1)
		return -1;
	if (a->same_site && (buf_append_str(out, "; SameSite=") == -1 ||
	    buf_append_str(out, a->same_site) == -1))
		return -1;
	if (a->secure && buf_append_str(out, "; Secure") == -1)
		return -1;
	if (a->http_only && buf_append_str(out, "; HttpOnly") == -1)
		return -1;
	return buf_append_str(out, "\r\n");
}
