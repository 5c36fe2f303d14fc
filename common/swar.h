/*
 * swar: byte searches 8 bytes a step ("SIMD within a register"), for the scans that walk long
 * values on hot paths (query strings with base64 payloads, JSON strings, TSV fields).
 */
#ifndef FURROW_SWAR_H
#define FURROW_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES 0x0101010101010101ULL

/* Non-zero when a byte of w may be b: exact when one is; it may say so wrongly only for a byte
 * after one that is, which callers scanning for the first match never look at. */
static inline uint64_t
swar_has_byte(uint64_t w, unsigned char b)
{
	uint64_t y = w ^ (SWAR_ONES * b);

	return (y - SWAR_ONES) & ~y & (SWAR_ONES * 0x80);
}

/* The index of the first byte a or b in s[i..len), or len. */
static inline size_t
swar_find2(const char *s, size_t i, size_t len, unsigned char a, unsigned char b)
{
	for (; i + 8 <= len; i += 8) {
		uint64_t w, m;

		memcpy(&w, s + i, 8);
		m = swar_has_byte(w, a) | swar_has_byte(w, b);
		if (m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the lowest flagged byte is the first match (exact, see swar_has_byte) */
			return i + (size_t)__builtin_ctzll(m) / 8;
#else
			break;
#endif
		}
	}
	while (i < len && (unsigned char)s[i] != a && (unsigned char)s[i] != b)
		i++;
	return i;
}

#endif
