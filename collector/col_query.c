/*
 * col_query: query lookup and a URI check for redirects (see col_query.h).
 */
#include "col_query.h"

#include <stdint.h>
#include <string.h>

#include "pct.h"
#include "swar.h"

/* Does the raw name n[0..nlen) decode to name? Names are compared after form decoding. */
static int
name_eq(const char *n, size_t nlen, const char *name)
{
	size_t i = 0, k = 0, want = strlen(name);

	while (i < nlen)
		if (k >= want || (unsigned char)name[k++] != pct_next(n, nlen, &i, 1))
			return 0;
	return k == want;
}

int
col_query_get(const char *q, size_t len, const char *name, struct buf *out)
{
	size_t i = 0;
	unsigned char first = (unsigned char)name[0];

	while (i <= len) {
		size_t s = i, e, eq;

		i = swar_find2(q, i, len, '&', ';');   /* long values 8 bytes a step */
		e = i;
		i++;
		if (e == s)
			continue;
		/* most names differ in their first byte, which decodes to itself unless it is '%'
		 * or '+': those are passed over without decoding */
		if (first && (unsigned char)q[s] != first && q[s] != '%' && q[s] != '+')
			continue;
		for (eq = s; eq < e && q[eq] != '='; eq++)
			;
		if (!name_eq(q + s, eq - s, name))
			continue;
		if (eq >= e)
			return 1;
		return pct_decode(out, q + eq + 1, e - eq - 1, PCT_PLUS) == -1 ? -1 : 1;
	}
	return 0;
}

/* RFC 3986 unreserved, gen-delims, sub-delims and '%'. */
static int
uri_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

int
col_query_uri_parse(const char *u, size_t len, const char **host, size_t *host_len)
{
	size_t i, k, h, he;

	*host = NULL;
	*host_len = 0;
	for (i = 0; i < len; i++) {
		if (!uri_char((unsigned char)u[i]))
			return 0;
		if (u[i] == '%' && (i + 2 >= len || pct_hexval(u[i + 1]) < 0 || pct_hexval(u[i + 2]) < 0))
			return 0;
	}
	/* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	for (k = 0; k < len && u[k] != ':' && u[k] != '/' && u[k] != '?' && u[k] != '#'; k++)
		;
	if (k < len && u[k] == ':') {
		if (k == 0)
			return 0;
		for (i = 0; i < k; i++) {
			char c = u[i];
			int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

			if (i == 0 ? !alpha : !(alpha || (c >= '0' && c <= '9') || c == '+' ||
			    c == '-' || c == '.'))
				return 0;
		}
		k++;
	} else {
		k = 0;
	}
	if (k + 1 < len && u[k] == '/' && u[k + 1] == '/') {
		size_t as = k + 2, ae = as, at;

		while (ae < len && u[ae] != '/' && u[ae] != '?' && u[ae] != '#')
			ae++;
		h = as;
		for (at = as; at < ae; at++)
			if (u[at] == '@')
				h = at + 1;
		if (h < ae && u[h] == '[') {
			for (he = h; he < ae && u[he] != ']'; he++)
				;
			if (he == ae)
				return 0;
			*host = u + h + 1;
			*host_len = he - h - 1;
			he++;
		} else {
			for (he = h; he < ae && u[he] != ':'; he++)
				if (u[he] == '[' || u[he] == ']')
					return 0;
			*host = u + h;
			*host_len = he - h;
		}
		if (he < ae) {
			if (u[he] != ':')
				return 0;
			for (he++; he < ae; he++)
				if (u[he] < '0' || u[he] > '9')
					return 0;
		}
	}
	return 1;
}
