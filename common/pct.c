/*
 * pct: percent-decoding and -encoding (see pct.h).
 */
#include "pct.h"

#include <stdint.h>
#include <string.h>

#include "swar.h"
#include "utf8.h"

int
pct_decode(struct buf *out, const char *s, size_t n, unsigned flags)
{
	size_t i, start = out->len;
	unsigned char high = 0, *o;
	int h, l;

	if (buf_reserve(out, n) == -1)     /* decoding never grows the text */
		return -1;
	o = (unsigned char *)out->data + out->len;
	for (i = 0; i < n; i++) {
		unsigned char c;
		size_t run = i;

		/* copy the run of bytes that decode to themselves in one go (8 bytes a step while
		 * none of them is '%' or '+'; a false alarm only ends the fast steps) */
		while (run + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + run, 8);
			if (swar_has_byte(w, '%') | swar_has_byte(w, '+'))
				break;
			if (w & 0x8080808080808080ULL)
				high = 0x80;
			run += 8;
		}
		while (run < n && s[run] != '%' && s[run] != '+')
			high |= (unsigned char)s[run++];
		if (run > i) {
			memcpy(o, s + i, run - i);
			o += run - i;
			i = run;
			if (i >= n)
				break;
		}
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 < n && (h = pct_hexval(s[i + 1])) >= 0 &&
			    (l = pct_hexval(s[i + 2])) >= 0) {
				c = (unsigned char)(h << 4 | l);
				i += 2;
			} else if (flags & PCT_STRICT) {
				out->data[start] = '\0';
				return -2;
			}
		} else if (c == '+' && (flags & PCT_PLUS)) {
			c = ' ';
		}
		high |= c;
		*o++ = c;
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
	if ((flags & PCT_UTF8) && (high & 0x80) &&
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
