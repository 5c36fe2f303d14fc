/*
 * jsonschema_format: hand-written recognisers for the draft-04 formats (RFC 3339 date-time and
 * full-date, RFC 5322-ish addr-spec, RFC 1123 hostname, dotted-quad IPv4, RFC 4291 IPv6, RFC 3986
 * absolute URI, RFC 4122 UUID text, and "regex" as a PCRE2 pattern). They are deliberately
 * strict about shape and ranges and never allocate, except "regex", which compiles the pattern.
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

/* Characters RFC 3986 allows outside percent-encodings, plus non-ASCII bytes (java.net.URI's
 * "other" category, which upstream's validator accepts). */
static int
uri_char(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if (is_alpha(c) || is_digit(c))
		return 1;
	return strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL && c != 0;
}

/* An absolute URI: scheme ":" followed by URI characters and valid %HH escapes; at most one
 * '#'. */
static int
uri(const char *s, size_t len)
{
	size_t i;
	int hashes = 0;

	if (len == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len && s[i] != ':'; i++)
		if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]) &&
		    s[i] != '+' && s[i] != '-' && s[i] != '.')
			return 0;
	if (i + 1 >= len || s[i + 1] == '#')
		return 0;   /* java.net.URI: "Expected scheme-specific part" */
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (c == '#' && ++hashes > 1)
			return 0;
		if (!uri_char(c))
			return 0;
	}
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
