/*
 * conv: value conversions with Java-compatible edge cases (see conv.h). Each function names the
 * upstream routine whose behaviour it reproduces.
 */
#include "conv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "timefmt.h"
#include "uuid.h"
#include "utf8.h"
#include "pct.h"
#include "swar.h"

/* ---- TSV-safe strings (ConversionUtils.fixTabsNewlines) ---- */

long
conv_tsv_safe(const char *s, size_t len, struct buf *out)
{
	size_t start = out->len, i, run = 0;

	if (buf_reserve(out, len) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f)
			continue;
		if (i > run && buf_append(out, s + run, i - run) == -1)
			return -1;
		if (c == '\t' && buf_append(out, "    ", 4) == -1)
			return -1;
		run = i + 1;
	}
	if (len > run && buf_append(out, s + run, len - run) == -1)
		return -1;
	if (out->data)
		out->data[out->len] = '\0';
	return (long)(out->len - start);
}

long
conv_ua_light(const char *s, size_t len, struct buf *out)
{
	size_t start = out->len, i = 0, j;

	while (i < len) {
		/* the run up to the next tab, CR or LF, 8 bytes a step, copied in one go */
		for (j = i; j + 8 <= len; j += 8) {
			uint64_t w;
			memcpy(&w, s + j, 8);
			if (swar_has_byte(w, '\t') | swar_has_byte(w, '\r') | swar_has_byte(w, '\n'))
				break;
		}
		while (j < len && s[j] != '\t' && s[j] != '\r' && s[j] != '\n')
			j++;
		if (j > i && buf_append(out, s + i, j - i) == -1)
			return -1;
		if (j >= len)
			break;
		if (s[j] == '\t' && buf_append(out, "    ", 4) == -1)
			return -1;
		i = j + 1;
	}
	return (long)(out->len - start);
}

/* ---- numbers (ConversionUtils.stringToJInteger, stringToJBigDecimal) ---- */

static int
is_null_literal(const char *s)
{
	return strcasecmp(s, "null") == 0;
}

int
conv_int64(const char *s, int64_t *v)
{
	const char *p = s;
	int neg = 0;
	uint64_t acc = 0, lim;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (*p == '\0')
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (acc > (lim - (uint64_t)(*p - '0')) / 10)
			return -1;
		acc = acc * 10 + (uint64_t)(*p - '0');
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

int
conv_int32(const char *s, int32_t *v)
{
	int64_t x;

	if (is_null_literal(s))
		return 0;
	/* Integer.parseInt: any number of leading zeros ("028288" is 28288) */
	if (conv_int64(s, &x) == -1 || x < INT32_MIN || x > INT32_MAX)
		return -1;
	*v = (int32_t)x;
	return 1;
}

#define DEC_MAX_DIGITS 4096

int
conv_decimal(const char *s, struct buf *out)
{
	char digits[DEC_MAX_DIGITS + 1];
	size_t nd = 0, i;
	const char *p = s;
	int neg = 0, seen_digit = 0, seen_dot = 0;
	long scale = 0, exp = 0, adjusted;
	char tmp[32];

	if (is_null_literal(s))
		return 0;
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			if (seen_dot)
				return -1;
			seen_dot = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		seen_digit = 1;
		if (seen_dot)
			scale++;
		if (nd == 0 && *p == '0')
			continue;                    /* leading zeros of the unscaled value */
		if (nd >= DEC_MAX_DIGITS)
			return -1;
		digits[nd++] = *p;
	}
	if (!seen_digit)
		return -1;
	if (*p == 'e' || *p == 'E') {
		int eneg = 0, nexp = 0;
		p++;
		if (*p == '+' || *p == '-') {
			eneg = *p == '-';
			p++;
		}
		if (*p == '\0')
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || ++nexp > 9)
				return -1;
			exp = exp * 10 + (*p - '0');
		}
		if (eneg)
			exp = -exp;
	}
	scale -= exp;
	if (nd == 0) {
		digits[nd++] = '0';
		neg = 0;                             /* BigInteger zero has no sign */
	}
	if (scale < 0) {
		/* setScale(0): append zeros to the unscaled value */
		if (digits[0] != '0') {
			if ((size_t)-scale > DEC_MAX_DIGITS - nd)
				return -1;
			memset(digits + nd, '0', (size_t)-scale);
			nd += (size_t)-scale;
		}
		scale = 0;
	}
	adjusted = (long)nd - 1 - scale;
	if (neg && buf_append_byte(out, '-') == -1)
		return -1;
	if (adjusted >= -6) {
		if (scale == 0)
			return buf_append(out, digits, nd) == 0 ? 1 : -1;
		if ((long)nd > scale) {
			if (buf_append(out, digits, nd - (size_t)scale) == -1 ||
			    buf_append_byte(out, '.') == -1 ||
			    buf_append(out, digits + nd - (size_t)scale, (size_t)scale) == -1)
				return -1;
		} else {
			if (buf_append(out, "0.", 2) == -1)
				return -1;
			for (i = 0; i < (size_t)scale - nd; i++)
				if (buf_append_byte(out, '0') == -1)
					return -1;
			if (buf_append(out, digits, nd) == -1)
				return -1;
		}
		return 1;
	}
	/* scientific notation */
	if (buf_append_byte(out, (uint8_t)digits[0]) == -1)
		return -1;
	if (nd > 1 && (buf_append_byte(out, '.') == -1 || buf_append(out, digits + 1, nd - 1) == -1))
		return -1;
	snprintf(tmp, sizeof(tmp), "E%s%ld", adjusted > 0 ? "+" : "", adjusted);
	return buf_append_str(out, tmp) == 0 ? 1 : -1;
}

int
conv_bool(const char *s)
{
	if (s[0] == '1' && s[1] == '\0')
		return 1;
	if (s[0] == '0' && s[1] == '\0')
		return 0;
	return -1;
}

static int
digits_int32(const char *s, size_t n, int32_t *v)
{
	int64_t acc = 0;
	size_t i;
	int over = 0;

	if (n == 0)
		return -1;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (!over && (acc = acc * 10 + (s[i] - '0')) > INT32_MAX)
			over = 1;
	}
	if (over)
		return -2;     /* digits, but not an int */
	*v = (int32_t)acc;
	return 0;
}

int
conv_wxh(const char *s, int32_t *w, int32_t *h)
{
	const char *x = strchr(s, 'x');
	int rw, rh;

	if (x == NULL)
		return -1;
	rw = digits_int32(s, (size_t)(x - s), w);
	rh = digits_int32(x + 1, strlen(x + 1), h);
	if (rw == -1 || rh == -1)
		return -1;
	return rw == -2 || rh == -2 ? -2 : 0;
}

int
conv_ts(const char *s, int64_t *ms, char out[40])
{
	out[0] = '\0';
	if (conv_int64(s, ms) == -1)
		return -1;
	if (timefmt_tsv(*ms, out) == -1)
		return -2;
	return 0;
}

int
conv_uuid(const char *s, char out[37])
{
	size_t i, n = strlen(s);

	if (!uuid_is_valid(s, n))
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) : s[i];
	out[n] = '\0';
	return 0;
}

int
conv_platform_ok(const char *s)
{
	static const char *const pl[] = { "web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot",
	    "headset" };
	size_t i;

	for (i = 0; i < sizeof(pl) / sizeof(pl[0]); i++)
		if (strcmp(s, pl[i]) == 0)
			return 1;
	return 0;
}

/* ---- java.net.URI character classes ---- */

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Component classes. */
enum { CL_URIC, CL_PATH, CL_USERINFO, CL_REGNAME };

/*
 * For each ASCII character, bit (1 << class) is set when the class allows it unescaped: the
 * unreserved characters (alphanumerics and -_.!~*'()) in every class, plus
 * uric ;/?:@&=+$,[]  path :@&=+$,;/  userinfo ;:&=+$,  reg_name $,;:@&=+
 * (a table rather than strchr calls: check_chars runs on every URL and query string).
 */
static const unsigned char uri_class[256] = {   /* non-ASCII: 0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0, 15,  0,  0, 15,  0, 15, 15, 15, 15, 15, 15, 15, 15, 15,  3,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  0, 15,  0,  1,
	11, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  1,  0,  1,  0, 15,
	 0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  0,  0,  0, 15,  0,
};

static int
in_class(int c, int cl)
{
	return c > 0 && c < 128 && (uri_class[c] >> cl & 1);
}

/* A non-ASCII character java.net.URI accepts as "other" (not an ISO control, not a space
 * character). Returns its byte length, or 0 when it is not acceptable. */
static size_t
other_len(const unsigned char *s, size_t left)
{
	size_t n = utf8_valid_prefix((const char *)s, left < 4 ? left : 4);
	uint32_t cp;

	if (s[0] < 0x80 || n == 0)
		return 0;
	if (s[0] < 0xe0) {
		if (n < 2)
			return 0;
		cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		if (cp < 0xa0 || cp == 0xa0)
			return 0;          /* C1 controls and NBSP */
		return 2;
	}
	if (s[0] < 0xf0) {
		if (n < 3)
			return 0;
		cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
		    cp == 0x202f || cp == 0x205f || cp == 0x3000)
			return 0;
		return 3;
	}
	return n < 4 ? 0 : 4;
}

/* Check s[from..to) against a class; returns -1 when fine, else the bad index. A '%' must be
 * followed by two hex digits (*bad_escape set then). */
static long
check_chars(const char *s, size_t from, size_t to, int cl, int *bad_escape)
{
	size_t i = from, n;

	*bad_escape = 0;
	while (i < to) {
		unsigned char c;
		/* the run of plain class characters first ('%', NUL and non-ASCII are never in a
		 * class): this loop is where check_chars spends its time on long parameters */
		const unsigned char *u = (const unsigned char *)s;
		unsigned m = 1u << cl;
		while (i + 8 <= to && (uri_class[u[i]] & uri_class[u[i + 1]] & uri_class[u[i + 2]] &
		    uri_class[u[i + 3]] & uri_class[u[i + 4]] & uri_class[u[i + 5]] &
		    uri_class[u[i + 6]] & uri_class[u[i + 7]] & m))
			i += 8;
		while (i < to && (uri_class[u[i]] & m))
			i++;
		if (i >= to)
			break;
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= to || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
				*bad_escape = 1;
				return (long)i;
			}
			i += 3;
			continue;
		}
		if (c >= 0x80) {
			n = other_len((const unsigned char *)s + i, to - i);
			if (n == 0)
				return (long)i;
			i += n;
			continue;
		}
		if (!in_class(c, cl))
			return (long)i;
		i++;
	}
	return -1;
}

/* ---- query strings (Loader.parseQuerystring) ---- */

long
conv_qs_check(const char *qs, size_t len, size_t *qlen, const char **what)
{
	const char *hash = memchr(qs, '#', len);
	int bad_escape;
	long bad;

	*qlen = hash ? (size_t)(hash - qs) : len;
	bad = check_chars(qs, 0, *qlen, CL_URIC, &bad_escape);
	if (bad < 0 && hash)
		bad = check_chars(qs, *qlen + 1, len, CL_URIC, &bad_escape);
	if (bad >= 0)
		*what = bad_escape ? "Malformed escape pair" : "Illegal character in query";
	return bad;
}

void
conv_qs_split(const char *qs, size_t len,
    void (*cb)(const char *, size_t, const char *, size_t, void *), void *arg)
{
	size_t i = 0, j;

	while (i < len) {
		const char *eq;
		j = swar_find2(qs, i, len, '&', ';');   /* long base64 values 8 bytes a step */
		if (j > i) {
			eq = memchr(qs + i, '=', j - i);
			if (eq)
				cb(qs + i, (size_t)(eq - (qs + i)), eq + 1, (size_t)(qs + j - eq - 1), arg);
			else
				cb(qs + i, j - i, NULL, 0, arg);
		}
		i = j + 1;
	}
}

/* ---- URIs (ConversionUtils.stringToUri / explodeUri, java.net.URI) ---- */

static int
is_scheme_char(int c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* A server-based authority: [userinfo@]host[:port] with a hostname, IPv4 or [IPv6] host. */
static int
parse_server(const char *s, size_t from, size_t to, struct conv_uri *u)
{
	size_t at = from, i, hs, he;
	int bad_escape;
	long port = -1;

	for (i = from; i < to; i++)
		if (s[i] == '@')
			at = i + 1;
	if (at > from && check_chars(s, from, at - 1, CL_USERINFO, &bad_escape) >= 0)
		return -1;
	hs = at;
	if (hs < to && s[hs] == '[') {
		for (i = hs + 1; i < to && s[i] != ']'; i++)
			if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
				return -1;
		if (i >= to || i == hs + 1)
			return -1;
		he = i + 1;
	} else {
		int label_start = 1, last_alpha = 0;
		for (i = hs; i < to && s[i] != ':'; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '.') {
				if (label_start)
					return -1;
				label_start = 1;
				continue;
			}
			if (!is_alnum(c) && !(c == '-' && !label_start))
				return -1;
			if (label_start)
				last_alpha = !(c >= '0' && c <= '9');
			label_start = 0;
		}
		he = i;
		(void)last_alpha;
		if (he == hs)
			return -1;
	}
	if (he < to) {
		if (s[he] != ':')
			return -1;
		if (he + 1 < to) {
			port = 0;
			for (i = he + 1; i < to; i++) {
				if (s[i] < '0' || s[i] > '9' || port > 100000000)
					return -1;
				port = port * 10 + (s[i] - '0');
			}
		}
	}
	u->host_off = (long)hs;
	u->host_len = (long)(he - hs);
	u->port = port;
	return 0;
}

static int
uri_strict(const char *s, size_t n, struct conv_uri *u, char *err, size_t errlen)
{
	size_t i, p = 0, q;
	int bad_escape = 0;
	long bad;
	const char *why = "Illegal character";
	const char *where = "";

	u->scheme_off = u->host_off = u->path_off = u->query_off = u->frag_off = 0;
	u->scheme_len = u->host_len = u->path_len = u->query_len = u->frag_len = -1;
	u->port = -1;
	if (n == 0) {
		snprintf(err, errlen, "Expected scheme-specific part at index 0: ");
		return -1;
	}
	for (i = 0; i < n && !strchr("/?#:", s[i]); i++)
		;
	if (i < n && s[i] == ':') {
		if (i == 0) {
			snprintf(err, errlen, "Expected scheme name at index 0: %.*s", (int)n, s);
			return -1;
		}
		for (q = 0; q < i; q++)
			if (!is_scheme_char((unsigned char)s[q], q == 0)) {
				snprintf(err, errlen, "Illegal character in scheme name at index %zu: %.*s",
				    q, (int)n, s);
				return -1;
			}
		u->scheme_off = 0;
		u->scheme_len = (long)i;
		p = i + 1;
		if (p == n) {
			snprintf(err, errlen, "Expected scheme-specific part at index %zu: %.*s", p,
			    (int)n, s);
			return -1;
		}
		if (s[p] != '/') {
			/* opaque: scheme-specific part up to '#', then the fragment */
			for (q = p; q < n && s[q] != '#'; q++)
				;
			bad = check_chars(s, p, q, CL_URIC, &bad_escape);
			where = " in opaque part";
			if (bad < 0 && q < n) {
				bad = check_chars(s, q + 1, n, CL_URIC, &bad_escape);
				where = " in fragment";
				u->frag_off = (long)q + 1;
				u->frag_len = (long)(n - q - 1);
			}
			if (bad >= 0)
				goto fail;
			return 0;
		}
	}
	/* hierarchical */
	if (p + 1 < n && s[p] == '/' && s[p + 1] == '/') {
		p += 2;
		for (q = p; q < n && !strchr("/?#", s[q]); q++)
			;
		if (q > p) {
			if (parse_server(s, p, q, u) == -1) {
				u->host_len = -1;
				u->port = -1;
				bad = check_chars(s, p, q, CL_REGNAME, &bad_escape);
				where = " in authority";
				if (bad >= 0)
					goto fail;
			}
		} else if (q == n) {
			snprintf(err, errlen, "Expected authority at index %zu: %.*s", p, (int)n, s);
			return -1;
		}
		p = q;
	}
	for (q = p; q < n && s[q] != '?' && s[q] != '#'; q++)
		;
	bad = check_chars(s, p, q, CL_PATH, &bad_escape);
	where = " in path";
	if (bad >= 0)
		goto fail;
	u->path_off = (long)p;
	u->path_len = (long)(q - p);
	p = q;
	if (p < n && s[p] == '?') {
		p++;
		for (q = p; q < n && s[q] != '#'; q++)
			;
		bad = check_chars(s, p, q, CL_URIC, &bad_escape);
		where = " in query";
		if (bad >= 0)
			goto fail;
		u->query_off = (long)p;
		u->query_len = (long)(q - p);
		p = q;
	}
	if (p < n && s[p] == '#') {
		p++;
		bad = check_chars(s, p, n, CL_URIC, &bad_escape);
		where = " in fragment";
		if (bad >= 0)
			goto fail;
		u->frag_off = (long)p;
		u->frag_len = (long)(n - p);
	}
	return 0;
fail:
	if (bad_escape)
		why = "Malformed escape pair";
	snprintf(err, errlen, "%s%s at index %ld: %.*s", why, bad_escape ? "" : where, bad,
	    (int)(n > 2000 ? 2000 : n), s);
	return -1;
}

int
conv_uri_parse(const char *s, size_t len, struct buf *norm, struct conv_uri *u,
    char *err, size_t errlen)
{
	char err1[512], err2[512];
	size_t i, n, hashes = 0, auth_from = 0, auth_to = 0;
	int rc;

	buf_reset(norm);
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (buf_append(norm, "%20", 3) == -1)
				return -1;
		} else if (buf_append_byte(norm, (uint8_t)s[i]) == -1) {
			return -1;
		}
	}
	if (uri_strict(norm->data ? norm->data : "", norm->len, u, err1, sizeof(err1)) == 0)
		return 0;
	/* lenient: encode what the strict parser rejects, keep the structure characters (and the
	 * brackets of an IPv6 host) */
	{
		const char *dslash = memmem(s, len, "://", 3);
		if (dslash) {
			auth_from = (size_t)(dslash - s) + 3;
			for (auth_to = auth_from; auth_to < len && !strchr("/?#", s[auth_to]); auth_to++)
				;
		}
	}
	buf_reset(norm);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int enc = 0;
		if ((c == '[' || c == ']') && i >= auth_from && i < auth_to)
			enc = 0;
		else if (c == '%')
			enc = !(i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2]));
		else if (c == '#')
			enc = hashes++ > 0;
		else if (c >= 0x80 || c <= 0x20 || c == 0x7f || strchr("\"<>\\^`{|}[]", c))
			enc = 1;
		if (enc)
			rc = buf_printf(norm, "%%%02X", c);
		else
			rc = buf_append_byte(norm, c);
		if (rc == -1)
			return -1;
	}
	n = norm->len;
	if (uri_strict(norm->data ? norm->data : "", n, u, err2, sizeof(err2)) == 0)
		return 0;
	snprintf(err, errlen, "Provided URI [%.*s] could not be parsed, neither by Java parsing "
	    "(error: [%s]) nor by Scala parsing (error: [%s]).", (int)(len > 2000 ? 2000 : len), s,
	    err1, err2);
	return -1;
}

/* ---- IP from headers (IpAddressExtractor) ---- */

size_t
conv_ip_token(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '|' || s[i] == ' ')
			break;
	return i;
}

/* Match an address at s (already lower-cased): returns its length and start, or 0. */
static size_t
match_address(const char *s, size_t len, const char **start)
{
	size_t i = 0, j, part, parts;

	if (i < len && s[i] == '"')
		i++;
	if (i < len && s[i] == '[')
		i++;
	*start = s + i;
	/* IPv4 dotted quad */
	j = i;
	for (parts = 0; parts < 4; parts++) {
		for (part = 0; j < len && part < 3 && s[j] >= '0' && s[j] <= '9'; j++, part++)
			;
		if (part == 0)
			break;
		if (parts < 3) {
			if (j >= len || s[j] != '.')
				break;
			j++;
		}
	}
	if (parts == 4)
		return j - i;
	for (j = i; j < len && (is_hex(s[j]) && !(s[j] >= 'A' && s[j] <= 'F') ? 1 :
	    (s[j] == '.' || s[j] == ':')); j++)
		;
	return j - i;
}

size_t
conv_header_ip(const char *const *hdr, const size_t *hlen, size_t n, char *out, size_t outlen)
{
	static const char xff[] = "x-forwarded-for: ", fwd[] = "forwarded: for=";
	char line[512];
	const char *a;
	size_t i, k, l, alen, remembered = 0;

	for (i = 0; i < n; i++) {
		/* neither prefix can match unless the header starts with x or f */
		if (hlen[i] == 0 || ((hdr[i][0] | 0x20) != 'x' && (hdr[i][0] | 0x20) != 'f')) {
			remembered = 0;
			continue;
		}
		l = hlen[i] < sizeof(line) ? hlen[i] : sizeof(line) - 1;
		for (k = 0; k < l; k++) {
			char c = hdr[i][k];
			line[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		line[l] = '\0';
		if (l > sizeof(xff) - 1 && memcmp(line, xff, sizeof(xff) - 1) == 0) {
			alen = match_address(line + sizeof(xff) - 1, l - (sizeof(xff) - 1), &a);
			if (alen > 0) {
				if (alen >= outlen)
					alen = outlen - 1;
				memcpy(out, a, alen);
				out[alen] = '\0';
				return alen;
			}
		}
		if (l > sizeof(fwd) - 1 && memcmp(line, fwd, sizeof(fwd) - 1) == 0) {
			alen = match_address(line + sizeof(fwd) - 1, l - (sizeof(fwd) - 1), &a);
			if (alen > 0) {
				if (alen >= outlen)
					alen = outlen - 1;
				memcpy(out, a, alen);
				out[alen] = '\0';
				remembered = alen;
				continue;
			}
		}
		remembered = 0;
	}
	return remembered;
}

/* ---- JSON texts ---- */

/* The index of the first '"' or '\\' in s[i..len), or len: 8 bytes a step, since most of a
 * JSON text's bytes are inside strings and these walks run several times over every context. */
static size_t
str_stop(const char *s, size_t i, size_t len)
{
	return swar_find2(s, i, len, '"', '\\');
}

/* The index of the closing '"' of the string whose contents start at s[i], or len (or past it,
 * after a final backslash) when it is not closed. */
static size_t
str_close(const char *s, size_t i, size_t len)
{
	for (;;) {
		if (i >= len)
			return i;
		i = str_stop(s, i, len);
		if (i >= len || s[i] == '"')
			return i;
		i += 2;   /* a backslash and the character it escapes */
	}
}

int
conv_json_depth(const char *s, size_t len, int limit)
{
	size_t i;
	int depth = 0, max = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"') {
			i = str_close(s, i + 1, len);
		} else if (c == '{' || c == '[') {
			if (++depth > max) {
				max = depth;
				if (max > limit)
					return max;
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

static size_t
skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* End (exclusive) of the string literal starting at s[i] == '"'. */
static size_t
skip_string(const char *s, size_t i, size_t len)
{
	i = str_close(s, i + 1, len);
	return i < len ? i + 1 : len;
}

/* End of the value starting at s[i]. */
static size_t
skip_value(const char *s, size_t i, size_t len)
{
	int depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return skip_string(s, i, len);
	if (s[i] != '{' && s[i] != '[') {
		for (; i < len; i++)
			switch (s[i]) {
			case ',': case ']': case '}': case ' ': case '\t': case '\r': case '\n': case '\0':
				return i;
			}
		return i;
	}
	for (; i < len; i++) {
		if (s[i] == '"') {
			i = skip_string(s, i, len) - 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return len;
}

static int
hex4(const char *s, size_t i, size_t len, uint32_t *v)
{
	size_t k;

	*v = 0;
	if (i + 4 > len)
		return -1;
	for (k = 0; k < 4; k++) {
		if (!is_hex(s[i + k]))
			return -1;
		*v = *v << 4 | (uint32_t)pct_hexval(s[i + k]);
	}
	return 0;
}

/* Re-escape the string literal at s[i] (a '"'); returns the index after it. */
static size_t
compact_string(const char *s, size_t i, size_t len, struct buf *out, int *rc)
{
	size_t run;

	if (buf_append_byte(out, '"') == -1)
		*rc = -1;
	i++;
	run = i;
	for (;;) {
		unsigned char c;
		int c1;

		/* 8 bytes a step while none may need attention: below 0x20, '"', '\\', 0x7f and
		 * above (a false alarm, only after a byte that does, just ends the step) */
		for (; i + 8 <= len; i += 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if ((swar_has_byte(w, '"') | swar_has_byte(w, '\\') |
			    ((w - SWAR_ONES * 0x20) & ~w) | ((w + SWAR_ONES) | w)) & (SWAR_ONES * 0x80))
				break;
		}
		if (i >= len || s[i] == '"')
			break;
		c = (unsigned char)s[i];
		if (!jsonw_special(c) || c == '"') {   /* '"' ends the loop */
			i++;
			continue;
		}
		c1 = c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f;
		if (c == 0xc2 && !c1) {
			i++;
			continue;
		}
		if (i > run && buf_append(out, s + run, i - run) == -1)
			*rc = -1;
		if (c1) {          /* U+0080-U+009F: an ISO control, escaped by circe */
			jsonw_codepoint(out, (unsigned char)s[i + 1]);
			i += 2;
		} else if (c != '\\') {
			jsonw_codepoint(out, c);
			i++;
		} else if (i + 1 < len) {
			char e = s[i + 1];
			uint32_t cp, lo;
			i += 2;
			switch (e) {
			case 'b': jsonw_codepoint(out, '\b'); break;
			case 'f': jsonw_codepoint(out, '\f'); break;
			case 'n': jsonw_codepoint(out, '\n'); break;
			case 'r': jsonw_codepoint(out, '\r'); break;
			case 't': jsonw_codepoint(out, '\t'); break;
			case 'u':
				if (hex4(s, i, len, &cp) == -1)
					break;
				i += 4;
				if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= len && s[i] == '\\' &&
				    s[i + 1] == 'u' && hex4(s, i + 2, len, &lo) == 0 &&
				    lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				} else if (cp >= 0xd800 && cp <= 0xdfff) {
					cp = 0xfffd;
				}
				jsonw_codepoint(out, cp);
				break;
			default:   /* \" \\ \/ */
				jsonw_codepoint(out, (unsigned char)e);
				break;
			}
		} else {
			i++;
		}
		run = i;
	}
	if (i > run && buf_append(out, s + run, (i < len ? i : len) - run) == -1)
		*rc = -1;
	if (buf_append_byte(out, '"') == -1)
		*rc = -1;
	return i < len ? i + 1 : len;
}

static size_t
compact_value(const char *s, size_t i, size_t len, struct buf *out, int *rc, int depth)
{
	size_t end;

	i = skip_ws(s, i, len);
	if (i >= len || depth > 200) {
		*rc = -1;
		return len;
	}
	if (s[i] == '"')
		return compact_string(s, i, len, out, rc);
	if (s[i] == '{' || s[i] == '[') {
		char close = s[i] == '{' ? '}' : ']';
		int obj = s[i] == '{';
		buf_append_byte(out, (uint8_t)s[i]);
		i = skip_ws(s, i + 1, len);
		if (i < len && s[i] == close) {
			buf_append_byte(out, (uint8_t)close);
			return i + 1;
		}
		while (i < len && *rc == 0) {
			if (obj) {
				i = skip_ws(s, i, len);
				if (i >= len || s[i] != '"') {
					*rc = -1;
					return len;
				}
				i = compact_string(s, i, len, out, rc);
				i = skip_ws(s, i, len);
				if (i >= len || s[i] != ':') {
					*rc = -1;
					return len;
				}
				buf_append_byte(out, ':');
				i++;
			}
			i = compact_value(s, i, len, out, rc, depth + 1);
			i = skip_ws(s, i, len);
			if (i < len && s[i] == ',') {
				buf_append_byte(out, ',');
				i++;
				continue;
			}
			if (i < len && s[i] == close) {
				buf_append_byte(out, (uint8_t)close);
				return i + 1;
			}
			*rc = -1;
			return len;
		}
		return len;
	}
	end = skip_value(s, i, len);
	if (end == i) {
		*rc = -1;
		return len;
	}
	if (buf_append(out, s + i, end - i) == -1)
		*rc = -1;
	return end;
}

int
conv_json_compact(const char *s, size_t len, struct buf *out)
{
	size_t i;
	int rc = 0;

	/* A valid text without whitespace or control bytes (so none between tokens), without a
	 * backslash (so no escape to rewrite) and without 0x7f and above (so no character circe
	 * escapes) is its own compact form: one copy, checked 8 bytes a step. */
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if ((swar_has_byte(w, '\\') | ((w - SWAR_ONES * 0x21) & ~w) | ((w + SWAR_ONES) | w)) &
		    (SWAR_ONES * 0x80))
			break;
	}
	while (i < len && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '\\')
		i++;
	if (i == len && len > 0)
		return buf_append(out, s, len);

	compact_value(s, 0, len, out, &rc, 0);
	return rc;
}

int
conv_json_get(const char *s, size_t len, const char *key, const char **vs, size_t *vlen)
{
	size_t n;

	return conv_json_get_counted(s, len, key, vs, vlen, &n);
}

int
conv_json_get_counted(const char *s, size_t len, const char *key, const char **vs, size_t *vlen,
    size_t *nkeys)
{
	size_t i = skip_ws(s, 0, len), ks, ke, klen = strlen(key), v;
	int found = 0;

	*nkeys = 0;

	if (i >= len || s[i] != '{')
		return -1;
	i++;
	for (;;) {
		i = skip_ws(s, i, len);
		if (i >= len || s[i] != '"')
			break;
		ks = i + 1;
		i = skip_string(s, i, len);
		ke = i - 1;
		i = skip_ws(s, i, len);
		if (i >= len || s[i] != ':')
			break;
		v = skip_ws(s, i + 1, len);
		i = skip_value(s, v, len);
		(*nkeys)++;
		if (ke >= ks && ke - ks == klen && memcmp(s + ks, key, klen) == 0) {
			*vs = s + v;
			*vlen = i - v;
			found = 1;
		}
		i = skip_ws(s, i, len);
		if (i >= len || s[i] != ',')
			break;
		i++;
	}
	return found ? 0 : -1;
}

long
conv_json_array_each(const char *s, size_t len, int (*cb)(const char *, size_t, void *),
    void *arg)
{
	size_t i = skip_ws(s, 0, len), v;
	long n = 0;

	if (i >= len || s[i] != '[')
		return -1;
	i = skip_ws(s, i + 1, len);
	if (i < len && s[i] == ']')
		return 0;
	while (i < len) {
		v = skip_ws(s, i, len);
		i = skip_value(s, v, len);
		if (cb(s + v, i - v, arg) == -1)
			return -1;
		n++;
		i = skip_ws(s, i, len);
		if (i >= len || s[i] != ',')
			break;
		i++;
	}
	return n;
}

size_t
conv_utf16_len(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		n += c >= 0xf0 ? 2 : 1;
	}
	return n;
}
