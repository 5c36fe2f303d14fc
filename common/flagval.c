/*
 * flagval: range and shape checks for flag values (see flagval.h).
 */
#include "flagval.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "redact.h"

/* The value as shown in a message: cut, and with any URL credentials masked. */
static const char *
flagval_shown(const char *s, char *out, size_t outlen)
{
	char cut[96];

	snprintf(cut, sizeof(cut), "%.64s%s", s, strlen(s) > 64 ? "..." : "");
	return redact_urls(cut, out, outlen);
}

int
flagval_num(const char *flag, const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen)
{
	char *end, shown[128];
	int starts_ok = (s[0] >= '0' && s[0] <= '9') || (min < 0 && s[0] == '-');
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!starts_ok || errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(err, errlen, "%s: expected an integer from %lld to %lld, not '%s'", flag, min,
		    max, flagval_shown(s, shown, sizeof(shown)));
		return -1;
	}
	*out = v;
	return 0;
}

int
flagval_str(const char *flag, const char *s, size_t minlen, size_t maxlen, const char *chars,
    char *err, size_t errlen)
{
	size_t len = strlen(s), i;
	char shown[128];

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int ok;

		if (chars == NULL)
			ok = c >= 0x20 && c != 0x7f;
		else
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    (c != '\0' && strchr(chars, c) != NULL);
		if (!ok) {
			if (chars == NULL)
				snprintf(err, errlen, "%s: control character in '%s'", flag,
				    flagval_shown(s, shown, sizeof(shown)));
			else
				snprintf(err, errlen, "%s: only letters, digits and '%s' allowed, not '%s'",
				    flag, chars, flagval_shown(s, shown, sizeof(shown)));
			return -1;
		}
	}
	if (len < minlen || len > maxlen) {
		snprintf(err, errlen, "%s: expected %zu to %zu bytes, not %zu ('%s')", flag, minlen,
		    maxlen, len, flagval_shown(s, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

int
flagval_size(const char *flag, const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen)
{
	char *end, shown[128];
	long long v;
	int shift = 0;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] >= '0' && s[0] <= '9' && errno == 0 && end != s) {
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		default: break;
		}
		if (*end == '\0' && v <= (LLONG_MAX >> shift)) {
			v <<= shift;
			if (v >= min && v <= max) {
				*out = v;
				return 0;
			}
		}
	}
	snprintf(err, errlen, "%s: expected a size from %lld to %lld (K, M, G: times 1024, 1024^2, "
	    "1024^3), not '%s'", flag, min, max, flagval_shown(s, shown, sizeof(shown)));
	return -1;
}

int
flagval_http_url(const char *flag, const char *s, size_t maxlen, char *err, size_t errlen)
{
	char shown[128];

	if (flagval_str(flag, s, 8, maxlen, NULL, err, errlen) == -1)
		return -1;
	if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
	    strpbrk(s, " \t") != NULL || s[strncmp(s, "https://", 8) == 0 ? 8 : 7] == '\0') {
		snprintf(err, errlen, "%s: expected an http:// or https:// URL, not '%s'", flag,
		    flagval_shown(s, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

void
flagval_xusage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_prog());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EX_USAGE);
}

typedef int flagval_number_fn(const char *, const char *, long long, long long, long long *,
    char *, size_t);

static long long
flagval_xnumber(flagval_number_fn *check, const char *flag, const char *s, long long min,
    long long max)
{
	char err[256];
	long long v;

	if (check(flag, s, min, max, &v, err, sizeof(err)) == -1)
		flagval_xusage("%s", err);
	return v;
}

long long
flagval_xnum(const char *flag, const char *s, long long min, long long max)
{
	return flagval_xnumber(flagval_num, flag, s, min, max);
}

long long
flagval_xsize(const char *flag, const char *s, long long min, long long max)
{
	return flagval_xnumber(flagval_size, flag, s, min, max);
}

char *
flagval_xstr(const char *flag, char *s, size_t minlen, size_t maxlen, const char *chars)
{
	char err[256];

	if (flagval_str(flag, s, minlen, maxlen, chars, err, sizeof(err)) == -1)
		flagval_xusage("%s", err);
	return s;
}
