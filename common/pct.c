/*
 * pct: percent-decoding and -encoding (see pct.h).
 */
#include "pct.h"

#include <string.h>

#include "utf8.h"

int
pct_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pct_decode(struct buf *out, const char *s, size_t n, unsigned flags)
{
	size_t i = 0, start = out->len;
	int plus = (flags & PCT_PLUS) != 0, high = 0;

	if (buf_reserve(out, n) == -1)     /* decoding never grows the text */
		return -1;
	while (i < n) {
		unsigned char c;

		if ((flags & PCT_STRICT) && s[i] == '%' &&
		    (i + 2 >= n || pct_hexval(s[i + 1]) < 0 || pct_hexval(s[i + 2]) < 0)) {
			out->len = start;
			out->data[start] = '\0';
			return -2;
		}
		c = pct_next(s, n, &i, plus);
		high |= c >= 0x80;
		out->data[out->len++] = (char)c;
	}
	out->data[out->len] = '\0';
	if ((flags & PCT_UTF8) && high &&
	    utf8_valid_prefix(out->data + start, out->len - start) != out->len - start) {
		struct buf tmp;
		int rc;

		buf_init(&tmp, 0);
		rc = utf8_repair(out->data + start, out->len - start, &tmp);
		out->len = start;
		out->data[start] = '\0';
		if (rc == 0)
			rc = buf_append(out, tmp.data ? tmp.data : "", tmp.len);
		buf_free(&tmp);
		if (rc == -1) {
			out->len = start;
			out->data[start] = '\0';
		}
		return rc;
	}
	return 0;
}

int
pct_encode(const char *s, size_t n, const char *keep, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (c && keep && strchr(keep, c))) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}
