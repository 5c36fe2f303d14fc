/*
 * utf8: validation, repair with U+FFFD and code-point counting (see utf8.h).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence starting at s (1..4), or 0 if the bytes there are invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t left)
{
	uint8_t c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (left >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;            /* overlong */
		if (c == 0xed && s[1] > 0x9f)
			return 0;            /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x80) {
			uint64_t w;
			/* ASCII runs eight bytes at a time (most of an enriched line) */
			if (i + 8 <= len && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ULL) == 0)) {
				i += 8;
				continue;
			}
			i++;
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

/* How many bytes form the "maximal subpart" of an invalid sequence (Unicode §3.9): the lead
 * byte plus the continuation bytes that could still have been valid. */
static size_t
utf8_invalid_len(const uint8_t *s, size_t left)
{
	uint8_t c = s[0];
	size_t need, i;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need && i < left; i++) {
		if (s[i] < lo || s[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

int
utf8_repair(const char *s, size_t len, struct buf *out)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, run = 0, n;

	while (i < len) {
		n = utf8_seq(u + i, len - i);
		if (n) {
			i += n;
			run += n;
			continue;
		}
		if (run && buf_append(out, s + i - run, run) == -1)
			return -1;
		run = 0;
		if (buf_append(out, "\xef\xbf\xbd", 3) == -1)
			return -1;
		i += utf8_invalid_len(u + i, len - i);
	}
	if (run && buf_append(out, s + len - run, run) == -1)
		return -1;
	return 0;
}

size_t
utf8_codepoints(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xc0) != 0x80 && n++ == max)
			return i;
	return len;
}

int
utf8_append(struct buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, b, n);
}
