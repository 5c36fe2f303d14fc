/*
 * jsonschema_format: hand-written recognisers for the draft-04 formats (RFC 3339 date-time and
 * full-date, RFC 5322-ish addr-spec, RFC 1123 hostname, dotted-quad IPv4, RFC 4291 IPv6, the
 * absolute URI as networknt 1.0.76 approximates RFC 3986, RFC 4122 UUID text, and "regex" as a
 * PCRE2 pattern). They are deliberately strict about shape and ranges and never allocate,
 * except "regex", which compiles the pattern.
 */
#include <arpa/inet.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "timefmt.h"

#include "jsonschema_format.h"

static const struct {
	const char *name;
	enum jsonschema_format fmt;
} FORMATS[] = {
	{ "date-time", JSONSCHEMA_FMT_DATE_TIME },
	{ "date", JSONSCHEMA_FMT_DATE },
	{ "email", JSONSCHEMA_FMT_EMAIL },
	{ "hostname", JSONSCHEMA_FMT_HOSTNAME },
	{ "host-name", JSONSCHEMA_FMT_HOSTNAME },
	{ "ipv4", JSONSCHEMA_FMT_IPV4 },
	{ "ip-address", JSONSCHEMA_FMT_IPV4 },
	{ "ipv6", JSONSCHEMA_FMT_IPV6 },
	{ "uri", JSONSCHEMA_FMT_URI },
	{ "uuid", JSONSCHEMA_FMT_UUID },
	{ "regex", JSONSCHEMA_FMT_REGEX },
};

enum jsonschema_format
jsonschema_format_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(FORMATS) / sizeof(FORMATS[0]); i++)
		if (strcmp(FORMATS[i].name, name) == 0)
			return FORMATS[i].fmt;
	return JSONSCHEMA_FMT_NONE;
}

const char *
jsonschema_format_name(enum jsonschema_format f)
{
	size_t i;

	for (i = 0; i < sizeof(FORMATS) / sizeof(FORMATS[0]); i++)
		if (FORMATS[i].fmt == f)
			return FORMATS[i].name;
	return "unknown";
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n decimal digits at s into *v; 0 when any is not a digit. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* RFC 3339 full-date at the start of s: "YYYY-MM-DD" (10 bytes), with a real calendar day. */
static int
full_date(const char *s, size_t len)
{
	int y, m, d;

	if (len < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return 0;
	return timefmt_date_valid(y, m, d);
}

/* RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] ("Z" / ±HH:MM); "t" and "z" allowed. */
static int
date_time(const char *s, size_t len)
{
	size_t i;
	int h, mi, se, oh, om;

	if (!full_date(s, len) || len < 20 || (s[10] != 'T' && s[10] != 't'))
		return 0;
	if (s[13] != ':' || s[16] != ':')
		return 0;
	if (!digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return 0;
	if (h > 23 || mi > 59 || se > 60)
		return 0;
	i = 19;
	if (s[i] == '.') {
		i++;
		if (i >= len || !is_digit((unsigned char)s[i]))
			return 0;
		while (i < len && is_digit((unsigned char)s[i]))
			i++;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		return i + 1 == len;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		if (len - i != 6 || s[i + 3] != ':')
			return 0;
		if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om))
			return 0;
		return oh <= 23 && om <= 59;
	}
	return 0;
}

/* RFC 1123 host name: dot-separated labels of 1..63 letters, digits and hyphens, not starting
 * or ending with a hyphen; at most 253 bytes in all. */
static int
hostname(const char *s, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-')
			return 0;
		if (c == '-' && lab == 0)
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && s[len - 1] != '-';
}

/* Dotted quad, each part 0..255 without leading zeros. */
static int
ipv4(const char *s, size_t len)
{
	size_t i = 0;
	int part, n, v;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		n = 0;
		v = 0;
		while (i < len && is_digit((unsigned char)s[i]) && n < 4) {
			v = v * 10 + (s[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || n > 3 || v > 255 || (n > 1 && s[i - n] == '0'))
			return 0;
	}
	return i == len;
}

static int
ipv6(const char *s, size_t len)
{
	char tmp[64];
	unsigned char out[16];

	if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/*
 * "uri" as networknt 1.0.76 asserts it for draft 4 (JsonMetaSchema's COMMON_BUILTIN_FORMATS, a
 * whole-string match of RFC 3986's grammar approximated by character classes):
 *   ^[A-Za-z][A-Za-z0-9+.-]*:(//([U]*@)?[H]*(:[0-9]*)?)?[P]*([?][Q]*)?([#][Q]*)?
 * with U = unreserved sub-delims % :, H = U minus ':' plus % : [ ], P = U @ /, Q = P ?. So
 * non-ASCII characters are refused, '%' needs no hex digits, brackets only stand in the host,
 * and "a:" is a URI. The test suite checks this recogniser against the regex itself.
 */
enum { URI_U = 1, URI_H = 2, URI_P = 4, URI_Q = 8 };

static unsigned
uri_class(unsigned char c)
{
	if (is_alpha(c) || is_digit(c) || (c && strchr("._~-%!$&'()*+,;=:", c)))
		return URI_U | URI_H | URI_P | URI_Q;
	switch (c) {
	case '[': case ']': return URI_H;
	case '@': case '/': return URI_P | URI_Q;
	case '?':           return URI_Q;
	}
	return 0;
}

static int
uri(const char *s, size_t len)
{
	size_t i, main_end, last_bracket = 0, at = 0, n_at = 0;
	int brackets = 0;

	if (len == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len && s[i] != ':'; i++)
		if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]) &&
		    s[i] != '+' && s[i] != '-' && s[i] != '.')
			return 0;
	if (i == len)
		return 0;
	s += i + 1;
	len -= i + 1;
	/* the part before '?' or '#', then the query (no '#'), then the fragment */
	for (main_end = 0; main_end < len && s[main_end] != '?' && s[main_end] != '#'; main_end++) {
		unsigned k = uri_class((unsigned char)s[main_end]);

		if ((k & URI_P) == 0) {
			if ((k & URI_H) == 0)
				return 0;
			brackets = 1;
			last_bracket = main_end;
		}
	}
	i = main_end;
	if (i < len && s[i] == '?')
		for (i++; i < len && s[i] != '#'; i++)
			if ((uri_class((unsigned char)s[i]) & URI_Q) == 0)
				return 0;
	if (i < len)   /* '#' */
		for (i++; i < len; i++)
			if ((uri_class((unsigned char)s[i]) & URI_Q) == 0)
				return 0;
	if (!brackets)
		return 1;  /* the path alone matches [P]* */
	/* a bracket is only allowed in the authority: "//" then ([U]*@)?[H]* up to it */
	if (main_end < 2 || s[0] != '/' || s[1] != '/')
		return 0;
	for (i = 2; i <= last_bracket; i++) {
		if (s[i] == '/')
			return 0;
		if (s[i] == '@') {
			at = i;
			n_at++;
		}
	}
	if (n_at > 1)
		return 0;
	if (n_at == 1)
		for (i = 2; i < at; i++)
			if ((uri_class((unsigned char)s[i]) & URI_U) == 0)
				return 0;
	return 1;
}

static int
uuid(const char *s, size_t len)
{
	size_t i;

	if (len != 36)
		return 0;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_hex((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* addr-spec: a dot-atom or quoted local part of at most 64 bytes, "@", then a host name or an
 * address literal in brackets. */
static int
email(const char *s, size_t len)
{
	const char *at = NULL;
	size_t i, llen;

	for (i = len; i > 0; i--)
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	if (at == NULL)
		return 0;
	llen = (size_t)(at - s);
	if (llen == 0 || llen > 64)
		return 0;
	if (s[0] == '"') {
		if (llen < 2 || s[llen - 1] != '"')
			return 0;
		for (i = 1; i + 1 < llen; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				i++;
				continue;
			}
			if (c == '"' || c < 0x20)
				return 0;
		}
	} else {
		if (s[0] == '.' || s[llen - 1] == '.')
			return 0;
		for (i = 0; i < llen; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '.' && s[i + 1] == '.')
				return 0;
			if (!is_alpha(c) && !is_digit(c) && c < 0x80 &&
			    (c == 0 || strchr(".!#$%&'*+/=?^_`{|}~-", c) == NULL))
				return 0;
		}
	}
	at++;
	len -= llen + 1;
	if (len >= 2 && at[0] == '[' && at[len - 1] == ']')
		return ipv4(at + 1, len - 2) ||
		    (len > 7 && strncmp(at + 1, "IPv6:", 5) == 0 && ipv6(at + 6, len - 7));
	return hostname(at, len);
}

static int
regex(const char *s, size_t len)
{
	pcre2_code *re;
	int errcode;
	PCRE2_SIZE erroff;

	re = pcre2_compile((PCRE2_SPTR)s, len, PCRE2_UTF | PCRE2_ALT_BSUX, &errcode, &erroff, NULL);
	if (re == NULL)
		return 0;
	pcre2_code_free(re);
	return 1;
}

int
jsonschema_format_check(enum jsonschema_format f, const char *s, size_t len)
{
	switch (f) {
	case JSONSCHEMA_FMT_DATE_TIME: return date_time(s, len);
	case JSONSCHEMA_FMT_DATE:      return len == 10 && full_date(s, len);
	case JSONSCHEMA_FMT_EMAIL:     return email(s, len);
	case JSONSCHEMA_FMT_HOSTNAME:  return hostname(s, len);
	case JSONSCHEMA_FMT_IPV4:      return ipv4(s, len);
	case JSONSCHEMA_FMT_IPV6:      return ipv6(s, len);
	case JSONSCHEMA_FMT_URI:       return uri(s, len);
	case JSONSCHEMA_FMT_UUID:      return uuid(s, len);
	case JSONSCHEMA_FMT_REGEX:     return regex(s, len);
	case JSONSCHEMA_FMT_NONE:      break;
	}
	return 1;
}
