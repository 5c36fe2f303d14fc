/*
 * pct: percent-encoding (RFC 3986 §2.1), decoded and encoded the one way every stage needs.
 *
 * Decoding is lenient by default, as Java's URLDecoder-based form decoding in the collector and
 * enrich (and Apache's URLEncodedUtils) treat a '%' that is not followed by two hex digits: it
 * stays a literal '%'. The collector's path segments decode strictly instead (PCT_STRICT).
 * Encoding keeps RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) and those the caller
 * names, and writes every other byte as %XX in upper case (AWS SigV4 UriEncode).
 */
#ifndef FURROW_PCT_H
#define FURROW_PCT_H

#include <stddef.h>

#include "buf.h"

#define PCT_PLUS   1u   /* '+' decodes to a space (application/x-www-form-urlencoded) */
#define PCT_STRICT 2u   /* a '%' without two hex digits is an error */
#define PCT_UTF8   4u   /* invalid UTF-8 in the result becomes U+FFFD (utf8_repair) */

/* 0-15 for a hex digit, else -1. */
static inline int
pct_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoded byte at s[*i] (s holds n bytes), advancing *i past what it used: "%XX" with two
 * hex digits, '+' when plus is set, or the byte itself. */
static inline unsigned char
pct_next(const char *s, size_t n, size_t *i, int plus)
{
	unsigned char c = (unsigned char)s[*i];
	int h, l;

	if (c == '%' && *i + 2 < n && (h = pct_hexval(s[*i + 1])) >= 0 &&
	    (l = pct_hexval(s[*i + 2])) >= 0) {
		*i += 3;
		return (unsigned char)(h << 4 | l);
	}
	(*i)++;
	return c == '+' && plus ? ' ' : c;
}

/* Decode s[0..n) onto out with the PCT_ flags. Returns 0; -1 when out's cap is reached; -2 for
 * a malformed escape under PCT_STRICT. On failure out is left as it was. */
int pct_decode(struct buf *out, const char *s, size_t n, unsigned flags);

/* Encode s[0..n) into out (outlen bytes, NUL-terminated), keeping unreserved characters and
 * those in keep. Returns the length, or -1 when out is too small. */
int pct_encode(const char *s, size_t n, const char *keep, char *out, size_t outlen);

#endif
