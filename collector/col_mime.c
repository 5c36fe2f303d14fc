/*
 * col_mime: Content-Type normalisation (see col_mime.h).
 */
#include "col_mime.h"

#include <ctype.h>
#include <string.h>

#define MIME_MAX_PARAMS 16

static int
mime_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

struct span {
	const char *s;
	size_t len;
	int quoted;     /* value was a quoted-string: s/len hold the raw inside, escapes included */
};

static int
append_lower(struct buf *out, const char *s, size_t len)
{
	size_t i;

	if (buf_reserve(out, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		out->data[out->len + i] = (char)tolower((unsigned char)s[i]);
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/* A value as http4s renders it: a token as is, anything else as a quoted-string. */
static int
append_value(struct buf *out, const struct span *v)
{
	size_t i;
	int token = v->len > 0;

	if (!v->quoted) {
		return append_lower(out, v->s, v->len);
	}
	for (i = 0; i < v->len; i++)
		if (!mime_tchar((unsigned char)v->s[i]))
			token = 0;
	if (token)
		return append_lower(out, v->s, v->len);
	if (buf_append_byte(out, '"') == -1)
		return -1;
	for (i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->s[i];

		if (c == '\\' && i + 1 < v->len) {
			c = (unsigned char)v->s[++i];
		}
		if ((c == '"' || c == '\\') && buf_append_byte(out, '\\') == -1)
			return -1;
		if (buf_append_byte(out, (uint8_t)tolower(c)) == -1)
			return -1;
	}
	return buf_append_byte(out, '"');
}

static int
fallback(const char *v, size_t len, struct buf *out)
{
	while (len && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	return append_lower(out, v, len);
}

int
col_mime_normalise(const char *v, size_t len, struct buf *out)
{
	struct span names[MIME_MAX_PARAMS], vals[MIME_MAX_PARAMS];
	size_t i = 0, n = 0, ts, te, ss, se, p;
	int charset = -1;

	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	ts = i;
	while (i < len && mime_tchar((unsigned char)v[i]))
		i++;
	te = i;
	if (te == ts || i >= len || v[i] != '/')
		return fallback(v, len, out);
	ss = ++i;
	while (i < len && mime_tchar((unsigned char)v[i]))
		i++;
	se = i;
	if (se == ss)
		return fallback(v, len, out);
	for (;;) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (v[i] != ';')
			return fallback(v, len, out);
		i++;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == len)
			break;       /* a trailing ';' is tolerated */
		if (n == MIME_MAX_PARAMS)
			return fallback(v, len, out);
		p = i;
		while (i < len && mime_tchar((unsigned char)v[i]))
			i++;
		if (i == p || i >= len || v[i] != '=')
			return fallback(v, len, out);
		names[n].s = v + p;
		names[n].len = i - p;
		names[n].quoted = 0;
		i++;
		if (i < len && v[i] == '"') {
			p = ++i;
			while (i < len && v[i] != '"') {
				if (v[i] == '\\')
					i++;
				i++;
			}
			if (i >= len)
				return fallback(v, len, out);
			vals[n].s = v + p;
			vals[n].len = i - p;
			vals[n].quoted = 1;
			i++;
		} else {
			p = i;
			while (i < len && mime_tchar((unsigned char)v[i]))
				i++;
			if (i == p)
				return fallback(v, len, out);
			vals[n].s = v + p;
			vals[n].len = i - p;
			vals[n].quoted = 0;
		}
		if (names[n].len == 7 && strncasecmp(names[n].s, "charset", 7) == 0)
			charset = (int)n;
		n++;
	}
	if (append_lower(out, v + ts, te - ts) == -1 || buf_append_byte(out, '/') == -1 ||
	    append_lower(out, v + ss, se - ss) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((int)i == charset)
			continue;
		if (buf_append_str(out, "; ") == -1 || append_lower(out, names[i].s, names[i].len) == -1 ||
		    buf_append_byte(out, '=') == -1 || append_value(out, &vals[i]) == -1)
			return -1;
	}
	if (charset >= 0) {
		if (buf_append_str(out, "; charset=") == -1 || append_value(out, &vals[charset]) == -1)
			return -1;
	}
	return 0;
}
